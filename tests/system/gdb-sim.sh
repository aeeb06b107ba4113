#!/bin/sh
# docs/debugging.md's veridian-sim gdb session works: break in the kernel's
# syscall handler, see the trap path in the backtrace and the arguments.
. "$top_srcdir/tests/system/lib.sh"
: "${GDB:=gdb}"
command -v "$GDB" >/dev/null 2>&1 || skip "gdb not found"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gdb-sim.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'echo hi\npoweroff\n' >"$tmp/script"
timeout 60 "$GDB" -q -batch -ex 'break kernel_syscall' -ex run -ex 'bt 4' -ex 'print nr' \
	-ex kill --args "$top_builddir/veridian-sim" --script "$tmp/script" >"$tmp/out" 2>&1
cat "$tmp/out"
expect_in "$tmp/out" 'Breakpoint 1, kernel_syscall (nr=' "breakpoint in kernel_syscall"
expect_in "$tmp/out" 'sim_trap_entry' "the trap entry in the backtrace"
grep -q '^\$1 = [0-9]' "$tmp/out" || fail "print nr"
