#!/bin/sh
# veridian-sim on a pseudo-terminal: raw mode while it runs, and the
# terminal restored after poweroff, SIGTERM and SIGINT (tests/system/sim-tty.py).
. "$top_srcdir/tests/system/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (needed for the pty driver)"
timeout 120 python3 "$top_srcdir/tests/system/sim-tty.py" "$top_builddir/veridian-sim" ||
	fail "terminal handling"
