/*
 * The initramfs built into the image (services/initramfs.cpio, found through
 * the assembler include path -Wa,-I$(top_builddir)). Used when the boot
 * loader passes no module (QEMU -initrd, GRUB module2).
 */
	.section .rodata.initrd, "a"
	.balign 4096
	.globl x86_initrd_start, x86_initrd_end
x86_initrd_start:
	.incbin "services/initramfs.cpio"
x86_initrd_end:

	.section .note.GNU-stack, "", @progbits
