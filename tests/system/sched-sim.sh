#!/bin/sh
# Scheduling classes, priority inheritance, IPC timeouts and timer
# notifications in veridian-sim: bin/schedtest checks them from user space,
# with exact virtual-time figures, and reports "N checks, 0 failed". The
# shell's ps, top, nice and sched builtins show and set the classes.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' schedtest 'nice 5 schedtest spin 3' 'sched fifo 20 schedtest spin 3' \
	'sched rr 0 schedtest' ps top poweroff >"$tmp/script"
run_sim sched "$sim" --script "$tmp/script"
expect_status sched 0
grep -Eq '^schedtest: [0-9]+ checks, 0 failed$' "$tmp/sched.out" || {
	grep 'schedtest' "$tmp/sched.out" >&2
	fail "schedtest reported failures"
}
grep -q 'sh: rr 0: invalid argument' "$tmp/sched.out" || fail "sched rr 0 was not refused"
grep -Eq '^ +[0-9]+ +[0-9]+ +[0-9]+ +running +sh +[0-9]+  fair 0 ' "$tmp/sched.out" ||
	fail "ps: no class and priority for the shell"
grep -Eq '^ +PID +NAME +CLASS PRIO +STATE +CPU\(ms\)' "$tmp/sched.out" || fail "top: no header"
grep -E '^schedtest:' "$tmp/sched.out"
