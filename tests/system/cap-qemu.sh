#!/bin/sh
# The same bin/captest as tests/system/cap-sim.sh, in veridian.elf under
# QEMU microvm.
. "$top_srcdir/tests/system/qemu-lib.sh"
qemu_user_test captest
