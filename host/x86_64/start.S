/*
 * Boot entry of veridian.elf: the multiboot2 header, the PVH ELF note, the
 * two 32-bit entry points and the shared path into long mode.
 *
 * Both protocols enter here in 32-bit protected mode with paging off and
 * interrupts off; neither gives us a stack. We
 *   1. read the TSC (boot cost measurements start here),
 *   2. remember the protocol (eax) and its info pointer (ebx),
 *   3. zero .bss (the boot stack and page tables live there),
 *   4. check for long mode and NX (core sets NX in its page tables),
 *   5. identity-map [0, 4 GiB) with 2 MiB pages in PML4[0] (supervisor only;
 *      3-4 GiB, the MMIO hole with the LAPIC, uncached),
 *   6. enable PAE, SSE state (CR4.OSFXSR: user code may use SSE), EFER.LME
 *      and EFER.NXE, paging and write protection, load our GDT, far-jump to
 *      64-bit code and call x86_boot_main(magic, info) on the boot stack.
 * There is deliberately no multiboot v1 header: QEMU would prefer it to PVH.
 */
#include "x86.h"

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define PVH_MAGIC_MARKER 0 /* x86_boot_main tells PVH by this "magic" */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define BOOT_STACK_SIZE 16384

	/* Multiboot2 header: 8-byte aligned within the first 32 KiB of the
	 * file. The linker script puts this section first. No tags but the
	 * end tag: GRUB loads the ELF segments and enters at e_entry. */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.short 0, 0 /* end tag: type 0, flags 0, size 8 */
	.long 8
mb2_header_end:

	/* PVH: QEMU and Xen find the 32-bit entry in this note (its own
	 * PT_NOTE segment, see kernel.ld). For ELF64 QEMU reads the
	 * descriptor as 64 bits, so it is a .quad. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4 /* namesz: "Xen\0" */
	.long 8 /* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_entry
	.balign 4

	.section .text.boot, "ax"
	.code32

	/* PVH entry: ebx = physical address of struct hvm_start_info. */
	.globl pvh_entry
pvh_entry:
	mov $PVH_MAGIC_MARKER, %eax
	jmp boot32

	/* Multiboot2 entry (ELF e_entry): eax = 0x36d76289, ebx = info. */
	.globl mb2_entry
mb2_entry:
boot32:
	cli
	cld
	mov %eax, %esi
	rdtsc
	mov %eax, x86_boot_tsc
	mov %edx, x86_boot_tsc + 4
	mov %esi, boot_magic
	mov %ebx, boot_info_pa

	/* Zero .bss; x86_boot_tsc and the two above are in .data. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	mov $boot_stack_top, %esp

	call check_cpu
	call build_page_tables

	mov %cr4, %eax
	or $((1 << 5) | (1 << 9) | (1 << 10)), %eax /* PAE, OSFXSR, OSXMMEXCPT */
	mov %eax, %cr4
	mov $x86_boot_pml4, %eax
	mov %eax, %cr3
	mov $X86_MSR_EFER, %ecx
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax /* LME, NXE */
	wrmsr
	mov %cr0, %eax
	and $~((1 << 2) | (1 << 3)), %eax /* no EM, no TS: SSE usable */
	or $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax /* PG WP NE MP PE */
	mov %eax, %cr0
	lgdt gdt_pointer
	ljmp $X86_SEL_KCODE, $long_mode

	/* Long mode and NX are required; say so on COM1 rather than
	 * triple-faulting later. */
check_cpu:
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jz no_long_mode
	test $(1 << 20), %edx
	jz no_long_mode
	ret
no_long_mode:
	mov $msg_no_long_mode, %esi
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %ah
	mov $0x3fd, %dx
2:	inb %dx, %al
	test $0x20, %al
	jz 2b
	mov $0x3f8, %dx
	mov %ah, %al
	outb %al, %dx
	jmp 1b
3:	cli
	hlt
	jmp 3b

	/* PML4[0] -> PDPT[0..3] -> 4 page directories of 512 2 MiB pages. */
build_page_tables:
	mov $boot_pdpt, %eax
	or $3, %eax /* present, writable */
	mov %eax, x86_boot_pml4
	mov $boot_pd, %eax
	or $3, %eax
	xor %ecx, %ecx
1:	mov %eax, boot_pdpt(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jb 1b
	mov $0x83, %eax /* present, writable, 2 MiB page */
	xor %ecx, %ecx
2:	mov %eax, %edx
	cmp $1536, %ecx /* 3 GiB and up: MMIO, cache disabled */
	jb 3f
	or $0x18, %edx /* PCD | PWT */
3:	mov %edx, boot_pd(, %ecx, 8)
	add $0x200000, %eax
	inc %ecx
	cmp $2048, %ecx
	jb 2b
	ret

	.code64
long_mode:
	mov $X86_SEL_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp
	mov boot_magic, %edi
	mov boot_info_pa, %esi
	call x86_boot_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
msg_no_long_mode:
	.asciz "veridian: this CPU lacks long mode or NX; cannot boot\r\n"

	.section .data
	.balign 8
	.globl x86_boot_tsc
x86_boot_tsc:
	.quad 0
boot_magic:
	.long 0
boot_info_pa:
	.long 0

	/* The GDT, in the order SYSRET needs (see x86.h). The TSS
	 * descriptor (two slots) is written by cpu.c before ltr. */
	.balign 16
	.globl x86_gdt
x86_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff /* 0x10 kernel data */
	.quad 0x00cff2000000ffff /* 0x18 user data */
	.quad 0x00affa000000ffff /* 0x20 user code, 64-bit */
	.quad 0, 0               /* 0x28 TSS */
x86_gdt_end:
gdt_pointer:
	.short x86_gdt_end - x86_gdt - 1
	.quad x86_gdt

	.section .bss
	.balign 4096
	.globl x86_boot_pml4
x86_boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
