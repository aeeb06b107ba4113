#!/bin/sh
# veridian.elf booted by PVH (-kernel) on QEMU's microvm machine, with the
# initramfs built into the image; a shell session on the serial console.
. "$top_srcdir/tests/system/qemu-lib.sh"
qemu_session -M microvm,acpi=off -kernel "$ELF"
check_shell_session
expect_in "$tmp/serial" 'PVH boot' "boot protocol line"
