# Helpers for the veridian-sim system tests (sourced after lib.sh).
# run_sim NAME ARGS...: runs veridian-sim with a 60 s limit; stdout in
# $tmp/NAME.out, stderr in $tmp/NAME.err, exit status in $status.
. "$top_srcdir/tests/system/lib.sh"

sim="$top_builddir/veridian-sim"
[ -x "$sim" ] || fail "$sim not built"
[ -f "$top_builddir/services/initramfs.cpio" ] || fail "services/initramfs.cpio not built"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sim-test.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT

run_sim() {
	name=$1
	shift
	status=0
	timeout "${SIM_TIMEOUT:-60}" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null ||
		status=$?
	[ "$status" -ne 124 ] || fail "$name: timed out (${SIM_TIMEOUT:-60} s)"
}

# expect_status NAME WANT
expect_status() {
	[ "$status" -eq "$2" ] || {
		echo "---- $1 stdout ----" >&2; tail -n 30 "$tmp/$1.out" >&2
		echo "---- $1 stderr ----" >&2; tail -n 30 "$tmp/$1.err" >&2
		fail "$1: exit status $status, expected $2"
	}
}

# sim_user_test PROGRAM [ARGS...]: run a user test program of the initramfs
# at the shell and pass only if it reports "PROGRAM: N checks, 0 failed"
# and the kernel powers off with status 0.
sim_user_test() {
	prog=$1
	printf '%s\n' "$*" poweroff >"$tmp/script"
	run_sim "$prog" "$sim" --script "$tmp/script"
	expect_status "$prog" 0
	grep -Eq "^$prog: [0-9]+ checks, 0 failed\$" "$tmp/$prog.out" || {
		grep "$prog" "$tmp/$prog.out" >&2
		fail "$prog reported failures"
	}
	grep -E "^$prog:" "$tmp/$prog.out"
}
