#!/bin/sh
# veridian-sim boots to the real shell, answers the basic commands from a
# script and powers off with status 0.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' help 'echo hi' uname ps mem nosuchcmd poweroff >"$tmp/script"
run_sim shell "$sim" --script "$tmp/script"
expect_status shell 0
out="$tmp/shell.out"
expect_in "$out" 'veridian$ ' "shell prompt"
expect_in "$out" 'poweroff' "help lists builtins"
grep -qx 'hi' "$out" || fail "echo hi: no line 'hi'"
expect_in "$out" 'veridian-sim' "uname names the build"
expect_in "$out" 'linux-host' "uname names the hypervisor"
expect_in "$out" 'PID' "ps header"
grep -Eq '^ +[0-9]+ +[0-9]+ +[0-9]+ +running +sh' "$out" || fail "ps: the shell is not listed as running"
expect_in "$out" 'free' "mem output"
grep -q 'nosuchcmd.*not found' "$out" || fail "unknown command not reported"
expect_in "$out" 'power off (status 0' "kernel power off message"
expect_in "$tmp/shell.err" 'veridian-sim: seed 1' "seed printed"
exit 0
