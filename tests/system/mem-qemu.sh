#!/bin/sh
# The same bin/memtest as tests/system/mem-sim.sh, in veridian.elf under
# QEMU microvm. Passes only on the poweroff debug-exit status together with
# the memtest summary lines.
. "$top_srcdir/tests/system/qemu-lib.sh"

SHELL_INPUT='memtest\npoweroff\n'
qemu_session -M microvm,acpi=off -kernel "$ELF" >"$tmp/log"
test "$qemu_status" -eq 124 && { cat "$tmp/log"; fail "QEMU timed out"; }
n=$(grep -Ec '^memtest: [0-9]+ checks, 0 failed' "$tmp/serial")
[ "$n" -eq 3 ] || { cat "$tmp/log" >&2; fail "memtest reported failures"; }
grep -Eq '^memtest: reclaim: 3 rounds, 0 failures' "$tmp/serial" || {
	cat "$tmp/log" >&2
	fail "memtest: memory not reclaimed"
}
expect_in "$tmp/serial" 'power off (status 0' "power-off message"
test "$qemu_status" -eq 1 || fail "QEMU exit status $qemu_status, expected 1 (poweroff 0)"
grep -E '^memtest: (round|reclaim)' "$tmp/serial"
