#!/bin/sh
# A user program that loops forever without a syscall does not hang
# veridian-sim: the watchdog warns once and preempts it, the shell keeps
# running, and poweroff still works.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' 'spin &' 'echo alive' poweroff >"$tmp/script"
run_sim spin "$sim" --script "$tmp/script"
expect_status spin 0
grep -qx 'alive' "$tmp/spin.out" || fail "the shell did not answer while spin ran"
expect_in "$tmp/spin.err" 'veridian-sim: watchdog: user thread' "watchdog warning"
[ "$(grep -c 'watchdog' "$tmp/spin.err")" -eq 1 ] || fail "the watchdog warned more than once"
exit 0
