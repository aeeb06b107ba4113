#!/bin/sh
# Capability object types in veridian-sim: bin/captest checks quota
# objects (a child spawned under a budget is stopped by it and gives it all
# back) and process capabilities with fewer rights; it reports
# "N checks, 0 failed".
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' captest poweroff >"$tmp/script"
run_sim threads "$sim" --script "$tmp/script"
expect_status threads 0
grep -Eq '^captest: [0-9]+ checks, 0 failed$' "$tmp/threads.out" || {
	grep 'captest' "$tmp/threads.out" >&2
	fail "captest reported failures"
}
grep -E '^captest:' "$tmp/threads.out"
