#!/bin/sh
# gdb in veridian-sim stops in USER code: a software breakpoint in the
# shell's cmd_echo (slot 1: base 0x200100000000, image at +0x400000) shows
# the program's own frames and arguments, and a backtrace taken in the
# kernel's syscall path continues through sim_trap_entry into the shell.
#
# The breakpoint is set once the shell's pages are mirrored (the first
# syscall from slot 1): before that its address is not mapped, and gdb
# leaves such a breakpoint pending. Hardware breakpoints (hbreak) are not
# tested: many VMs (this project's CI machines among them) give gdb no
# debug registers ("No hardware breakpoint support in the target").
. "$top_srcdir/tests/system/lib.sh"
: "${GDB:=gdb}"
command -v "$GDB" >/dev/null 2>&1 || skip "gdb not found"
sh_elf="$top_builddir/services/shell/sh"
[ -f "$sh_elf" ] || fail "$sh_elf not built"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gdb-sim-user.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'echo hi\npoweroff\n' >"$tmp/script"
# entry.S keeps the user stack pointer in the top word of the kernel stack
from_shell='(*(unsigned long *)(sim_cpu.kstack_top - 8) >> 32) == 0x2001'
timeout 60 "$GDB" -q -batch -nx \
	-ex "add-symbol-file $sh_elf -o 0x200100400000" \
	-ex "break sim_syscall if $from_shell" -ex run -ex 'bt 8' -ex 'delete 1' \
	-ex 'break cmd_echo' -ex continue -ex 'bt 3' -ex 'print argv[1]' -ex kill \
	--args "$top_builddir/veridian-sim" --script "$tmp/script" >"$tmp/out" 2>&1
cat "$tmp/out"
expect_in "$tmp/out" 'Breakpoint 1, sim_syscall (' "a stop in a syscall of the shell"
grep -q '^#[0-9].* in main () at .*shell/sh\.c' "$tmp/out" ||
	fail "the kernel's backtrace does not reach the shell's main() through sim_trap_entry"
expect_in "$tmp/out" 'Breakpoint 2, cmd_echo (' "the user-code breakpoint in cmd_echo"
expect_in "$tmp/out" 'in run_line (' "cmd_echo's caller in the backtrace"
grep -q '^\$1 = 0x[0-9a-f]* .*"hi"$' "$tmp/out" || fail 'print argv[1] does not show "hi"'
exit 0
