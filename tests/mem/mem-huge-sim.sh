#!/bin/sh
# A 1 GiB memory object in veridian-sim (2.25 GiB of simulated RAM, so an
# aligned free GiB exists): its mapping is one 1 GiB leaf (the simulated
# MMU has them), a one-page cut splits it, and every frame comes back.
# It takes about 10 s on the shared machine: the kernel zeroes 1 GiB of the
# RAM memfd, one host page fault per 4 KiB.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' 'memtest huge1g' poweroff >"$tmp/script"
run_sim huge "$sim" --memory 2304M --script "$tmp/script"
expect_status huge 0
grep -Eq '^memtest: huge1g: one 1 GiB leaf$' "$tmp/huge.out" || {
	grep memtest "$tmp/huge.out" >&2
	fail "no 1 GiB leaf"
}
grep -Eq '^memtest: [0-9]+ checks, 0 failed$' "$tmp/huge.out" || {
	grep memtest "$tmp/huge.out" >&2
	fail "memtest huge1g reported failures"
}
grep -E '^memtest' "$tmp/huge.out"
