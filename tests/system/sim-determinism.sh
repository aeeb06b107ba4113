#!/bin/sh
# The same seed and script give byte-identical console output (virtual time).
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' 'echo one' hello ps mem 'fault ud' 'hello a b c' 'true' 'false' ps \
	'echo two' poweroff >"$tmp/script"
run_sim a "$sim" --seed=42 --script "$tmp/script"
expect_status a 0
run_sim b "$sim" --seed=42 --script "$tmp/script"
expect_status b 0
cmp "$tmp/a.out" "$tmp/b.out" || {
	diff "$tmp/a.out" "$tmp/b.out" | head -n 20 >&2
	fail "two runs with seed 42 differ"
}
expect_in "$tmp/a.out" 'two' "the script ran to its end"
expect_in "$tmp/a.err" 'seed 42' "seed printed"
exit 0
