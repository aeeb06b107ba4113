#!/bin/sh
# veridian.elf booted by PVH (-kernel) on q35 (SeaBIOS loads it), once with
# the built-in initramfs and once with the same archive given by -initrd.
. "$top_srcdir/tests/system/qemu-lib.sh"
qemu_session -M q35 -kernel "$ELF"
check_shell_session
expect_in "$tmp/serial" 'bytes (built in)' "built-in initramfs used"

initrd=$top_builddir/services/initramfs.cpio
test -f "$initrd" || fail "$initrd has not been built"
rm -f "$tmp/in"
qemu_session -M q35 -kernel "$ELF" -initrd "$initrd" -append "console=ttyS0"
check_shell_session
expect_in "$tmp/serial" 'bytes (boot module)' "-initrd used as the initramfs"
