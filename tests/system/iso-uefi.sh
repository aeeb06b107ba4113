#!/bin/sh
# The GRUB rescue ISO (multiboot2) booted by OVMF (UEFI) on q35. GRUB EFI
# still enters veridian.elf in 32-bit protected mode (no EFI boot-services
# tag is requested).
. "$top_srcdir/tests/system/qemu-lib.sh"
ovmf=
for f in /usr/share/ovmf/OVMF.fd /usr/share/OVMF/OVMF.fd /usr/share/qemu/OVMF.fd; do
	test -f "$f" && ovmf=$f && break
done
test -n "$ovmf" || skip "OVMF firmware not found (apt-get install ovmf)"
test -d /usr/lib/grub/x86_64-efi || skip "GRUB EFI modules (grub-efi-amd64-bin) not installed"
make_iso "$tmp/veridian.iso"
qemu_session -M q35 -bios "$ovmf" -cdrom "$tmp/veridian.iso"
check_shell_session
expect_in "$tmp/serial" 'multiboot2 boot' "boot protocol line"
