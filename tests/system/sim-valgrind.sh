#!/bin/sh
# veridian-sim runs a shell session under memcheck without errors: every
# stack switch is registered, and kernel allocations live in simulated RAM.
# threadtest covers threads (their stacks and TLS blocks live in memory
# objects), captest capability objects. memtest covers resumable user
# faults (demand-zero, copy-on-write, stack growth by push and call): the
# kernel fixes the mapping and the faulting instruction is retried with the
# registers of the signal context. That
# needs two Valgrind options (docs/debugging.md):
#   --vex-iropt-register-updates=allregs-at-mem-access  every register is
#       exact in the context of a fault (by default only rsp, rbp and rip are)
#   --vex-guest-chase=no  the pc of a fault is that of the faulting
#       instruction, never of a jmp or call Valgrind followed into its block
. "$top_srcdir/tests/system/sim-lib.sh"

case ${VALGRIND:-no} in
no | '') skip "valgrind not found by configure" ;;
esac
# ASan's shadow memory and Valgrind's cannot share one process: an ASan
# build (configure --enable-sanitizers) is checked by the other sim tests.
if nm "$sim" 2>/dev/null | grep -q __asan_init; then
	skip "veridian-sim is built with AddressSanitizer: Valgrind cannot run it"
fi
printf '%s\n' 'echo hi' hello ps mem 'fault null' 'fault ro' memtest threadtest captest \
	'echo done' poweroff >"$tmp/script"
# about 20 s alone; allow for a loaded 2-core machine running other tests
SIM_TIMEOUT=240
run_sim vg "$VALGRIND" -q --error-exitcode=1 \
	--vex-iropt-register-updates=allregs-at-mem-access --vex-guest-chase=no \
	--suppressions="$top_srcdir/sim/valgrind.supp" "$sim" --script "$tmp/script"
expect_status vg 0
expect_in "$tmp/vg.out" 'done' "the script ran to its end"
expect_in "$tmp/vg.out" 'memtest: reclaim: 3 rounds, 0 failures' "memtest passes"
n=$(grep -c 'memtest: [0-9]* checks, 0 failed' "$tmp/vg.out")
[ "$n" -eq 3 ] || fail "memtest: $n of 3 rounds passed all checks"
grep -Eq '^threadtest: [0-9]+ checks, 0 failed$' "$tmp/vg.out" || fail "threadtest failed"
grep -Eq '^captest: [0-9]+ checks, 0 failed$' "$tmp/vg.out" || fail "captest failed"
expect_in "$tmp/vg.out" 'power off (status 0' "kernel power off message"
if grep -q '^==[0-9]*==' "$tmp/vg.err"; then
	cat "$tmp/vg.err" >&2
	fail "valgrind reported something"
fi
exit 0
