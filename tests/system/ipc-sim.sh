#!/bin/sh
# Capabilities and IPC across processes in veridian-sim: bin/ipctest (with
# its server bin/ipcsrv) checks every operation and error path from user
# space and reports "N checks, 0 failed".
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' ipctest poweroff >"$tmp/script"
run_sim ipc "$sim" --script "$tmp/script"
expect_status ipc 0
grep -Eq '^ipctest: [0-9]+ checks, 0 failed$' "$tmp/ipc.out" || {
	grep 'ipctest' "$tmp/ipc.out" >&2
	fail "ipctest reported failures"
}
grep 'ipctest:' "$tmp/ipc.out"
