#!/bin/sh
# The same bin/schedtest as tests/system/sched-sim.sh, in veridian.elf under
# QEMU microvm (clock checks are lower bounds there: real time). Passes only
# on the poweroff debug-exit status together with the summary line.
. "$top_srcdir/tests/system/qemu-lib.sh"

qemu_shell schedtest top
grep -Eq '^schedtest: [0-9]+ checks, 0 failed$' "$tmp/serial" || {
	cat "$tmp/log" >&2
	fail "schedtest reported failures"
}
grep -E '^schedtest:' "$tmp/serial"
