#!/bin/sh
# The GRUB rescue ISO (multiboot2) booted by SeaBIOS on q35.
. "$top_srcdir/tests/system/qemu-lib.sh"
make_iso "$tmp/veridian.iso"
qemu_session -M q35 -cdrom "$tmp/veridian.iso"
check_shell_session
expect_in "$tmp/serial" 'multiboot2 boot' "boot protocol line"
