#!/bin/sh
# Command-line handling of veridian-sim: --help, usage errors (status 2 with
# a message), a missing initrd, and the exit status of an exhausted script.
. "$top_srcdir/tests/system/sim-lib.sh"

run_sim help "$sim" --help
expect_status help 0
for o in --memory --initrd --seed --time --script --strict-isolation; do
	expect_in "$tmp/help.out" "$o" "--help describes $o"
done

# usage_error NAME PATTERN ARGS...: exit status 2 and PATTERN on stderr.
usage_error() {
	n=$1 pat=$2
	shift 2
	run_sim "$n" "$sim" "$@"
	expect_status "$n" 2
	expect_in "$tmp/$n.err" "$pat" "message for $*"
}
usage_error unknown 'Unknown option' --no-such-option
usage_error mem-junk 'not a size' --memory=lots
usage_error mem-small 'too small' --memory=1M
usage_error mem-large 'too large' --memory=100G
usage_error mem-page 'page size' --memory=9000001
usage_error time 'virtual' --time=sometimes
usage_error seed 'not an unsigned number' --seed=x1
usage_error extra 'unexpected argument' stray

run_sim noinitrd "$sim" --initrd="$tmp/none.cpio" --script /dev/null
expect_status noinitrd 1
expect_in "$tmp/noinitrd.err" 'cannot open initrd' "missing initrd message"

printf 'poweroff\n' >"$tmp/p7"
run_sim small "$sim" --memory=16M --script "$tmp/p7"
expect_status small 0
expect_in "$tmp/small.out" 'veridian$ ' "boots in 16M"

printf 'echo last\n' >"$tmp/short"
run_sim short "$sim" --script "$tmp/short"
expect_status short 3
expect_in "$tmp/short.err" 'input script is exhausted' "exhausted script message"
exit 0
