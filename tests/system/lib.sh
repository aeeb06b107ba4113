# Shared helpers for system tests (sourced). Tests exit 0 (pass), 1 (fail),
# 77 (skip: a tool is missing).
: "${top_srcdir:=.}" "${top_builddir:=.}"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# expect_in FILE PATTERN DESCRIPTION: grep -F for a marker in a log.
expect_in() {
	grep -qF -- "$2" "$1" || {
		echo "---- $1 ----" >&2
		tail -n 40 "$1" >&2
		fail "$3: '$2' not found in $1"
	}
}
