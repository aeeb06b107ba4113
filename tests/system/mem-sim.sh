#!/bin/sh
# Memory objects, demand-zero, copy-on-write, shared memory, a user-level
# pager, quotas and reclaim in veridian-sim: bin/memtest runs every check
# in a child three times and compares the memory counters around each run.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' memtest mem poweroff >"$tmp/script"
run_sim mem "$sim" --script "$tmp/script"
expect_status mem 0
n=$(grep -Ec '^memtest: [0-9]+ checks, 0 failed$' "$tmp/mem.out")
[ "$n" -eq 3 ] || { grep memtest "$tmp/mem.out" >&2; fail "memtest reported failures"; }
grep -Eq '^memtest: reclaim: 3 rounds, 0 failures$' "$tmp/mem.out" || {
	grep memtest "$tmp/mem.out" >&2
	fail "memtest: memory not reclaimed"
}
grep -E '^memtest: (round|reclaim)' "$tmp/mem.out"
