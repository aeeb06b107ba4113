#!/bin/sh
# veridian-sim runs a shell session under memcheck without errors: every
# stack switch is registered, and kernel allocations live in simulated RAM.
. "$top_srcdir/tests/system/sim-lib.sh"

case ${VALGRIND:-no} in
no | '') skip "valgrind not found by configure" ;;
esac
# ASan's shadow memory and Valgrind's cannot share one process: an ASan
# build (configure --enable-sanitizers) is checked by the other sim tests.
if nm "$sim" 2>/dev/null | grep -q __asan_init; then
	skip "veridian-sim is built with AddressSanitizer: Valgrind cannot run it"
fi
printf '%s\n' 'echo hi' hello ps mem 'fault null' 'fault ro' 'echo done' poweroff >"$tmp/script"
run_sim vg "$VALGRIND" -q --error-exitcode=1 \
	--suppressions="$top_srcdir/sim/valgrind.supp" "$sim" --script "$tmp/script"
expect_status vg 0
expect_in "$tmp/vg.out" 'done' "the script ran to its end"
expect_in "$tmp/vg.out" 'power off (status 0' "kernel power off message"
if grep -q '^==[0-9]*==' "$tmp/vg.err"; then
	cat "$tmp/vg.err" >&2
	fail "valgrind reported something"
fi
exit 0
