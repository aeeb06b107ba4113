#!/bin/sh
# Capabilities, IPC and reclaim across processes in veridian-sim: bin/ipctest (with
# its server bin/ipcsrv) checks every operation and error path from user
# space and reports "N checks, 0 failed".
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' ipctest reclaimtest echo-server 'chantest 100000 3' poweroff >"$tmp/script"
run_sim ipc "$sim" --script "$tmp/script"
expect_status ipc 0
grep -Eq '^ipctest: [0-9]+ checks, 0 failed$' "$tmp/ipc.out" || {
	grep 'ipctest' "$tmp/ipc.out" >&2
	fail "ipctest reported failures"
}
grep -Eq '^reclaimtest: [0-9]+ rounds, free pages before ([0-9]+) after \1, 0 failures$' \
	"$tmp/ipc.out" || { grep reclaimtest "$tmp/ipc.out" >&2; fail "reclaimtest: memory not reclaimed"; }
expect_in "$tmp/ipc.out" 'got "HELLO, CAPABILITIES"' "examples/echo-server"
grep -Eq '^chantest: 100000 entries, seed 3, producer waited [1-9][0-9]* times, consumer ok$' \
	"$tmp/ipc.out" || { grep chantest "$tmp/ipc.out" >&2; fail "channel: entries lost or no back-pressure"; }
grep -E '^(ipctest|reclaimtest|chantest):' "$tmp/ipc.out"
