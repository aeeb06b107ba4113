#!/bin/sh
# The same bin/threadtest as tests/system/threads-sim.sh, in veridian.elf
# under QEMU microvm (where the TLS pointer is the GS base MSR).
. "$top_srcdir/tests/system/qemu-lib.sh"
qemu_user_test threadtest
