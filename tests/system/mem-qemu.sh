#!/bin/sh
# The same bin/memtest as tests/system/mem-sim.sh, in veridian.elf under
# QEMU microvm. Passes only on the poweroff debug-exit status together with
# the memtest summary lines.
. "$top_srcdir/tests/system/qemu-lib.sh"

qemu_shell memtest
n=$(grep -Ec '^memtest: [0-9]+ checks, 0 failed' "$tmp/serial")
[ "$n" -eq 3 ] || { cat "$tmp/log" >&2; fail "memtest reported failures"; }
grep -Eq '^memtest: reclaim: 3 rounds, 0 failures' "$tmp/serial" || {
	cat "$tmp/log" >&2
	fail "memtest: memory not reclaimed"
}
grep -E '^memtest: (round|reclaim)' "$tmp/serial"
