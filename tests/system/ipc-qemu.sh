#!/bin/sh
# Capabilities, IPC and reclaim across processes in veridian.elf under QEMU microvm:
# the same bin/ipctest as tests/system/ipc-sim.sh. Passes only on the
# poweroff debug-exit status together with the ipctest summary line.
. "$top_srcdir/tests/system/qemu-lib.sh"

qemu_shell ipctest reclaimtest echo-server 'chantest 20000 3'
grep -Eq '^ipctest: [0-9]+ checks, 0 failed$' "$tmp/serial" || {
	cat "$tmp/log" >&2
	fail "ipctest reported failures"
}
grep -Eq '^reclaimtest: [0-9]+ rounds, free pages before ([0-9]+) after \1, 0 failures$' \
	"$tmp/serial" || { cat "$tmp/log" >&2; fail "reclaimtest: memory not reclaimed"; }
expect_in "$tmp/serial" 'got "HELLO, CAPABILITIES"' "examples/echo-server"
grep -Eq '^chantest: 20000 entries, seed 3, producer waited [0-9]+ times, consumer ok$' \
	"$tmp/serial" || { cat "$tmp/log" >&2; fail "channel: entries lost"; }
grep -E '^(ipctest|reclaimtest|chantest):' "$tmp/serial"
