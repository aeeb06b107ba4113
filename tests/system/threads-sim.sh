#!/bin/sh
# Threads in veridian-sim: bin/threadtest checks creation, TLS, per-thread
# IPC buffers, suspend/resume/kill/join, process exit with threads and the
# reclaim of a process killed with threads in every state; it reports
# "N checks, 0 failed". ps shows every thread of a process.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' threadtest ps poweroff >"$tmp/script"
run_sim threads "$sim" --script "$tmp/script"
expect_status threads 0
grep -Eq '^threadtest: [0-9]+ checks, 0 failed$' "$tmp/threads.out" || {
	grep 'threadtest' "$tmp/threads.out" >&2
	fail "threadtest reported failures"
}
grep -E '^threadtest:' "$tmp/threads.out"
