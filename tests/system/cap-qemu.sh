#!/bin/sh
# The same bin/captest as tests/system/cap-sim.sh, in veridian.elf under
# QEMU microvm. Passes only on the poweroff debug-exit status together with
# the summary line.
. "$top_srcdir/tests/system/qemu-lib.sh"

SHELL_INPUT='captest\npoweroff\n'
qemu_session -M microvm,acpi=off -kernel "$ELF" >"$tmp/log"
test "$qemu_status" -eq 124 && { cat "$tmp/log"; fail "QEMU timed out"; }
grep -Eq '^captest: [0-9]+ checks, 0 failed$' "$tmp/serial" || {
	cat "$tmp/log" >&2
	fail "captest reported failures"
}
expect_in "$tmp/serial" 'power off (status 0' "power-off message"
test "$qemu_status" -eq 1 || fail "QEMU exit status $qemu_status, expected 1 (poweroff 0)"
grep -E '^captest:' "$tmp/serial"
