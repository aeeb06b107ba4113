#!/bin/sh
# docs/debugging.md's QEMU gdb-stub session works: attach to veridian.elf,
# break in kernel_syscall with a hardware breakpoint, see the backtrace.
. "$top_srcdir/tests/system/lib.sh"
: "${GDB:=gdb}" "${QEMU:=qemu-system-x86_64}"
command -v "$GDB" >/dev/null 2>&1 || skip "gdb not found"
command -v "$QEMU" >/dev/null 2>&1 || skip "qemu-system-x86_64 not found"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gdb-qemu.XXXXXX")
trap 'kill $qpid 2>/dev/null; rm -rf "$tmp"' EXIT
sock=$tmp/gdb.sock
# Type only once the shell prompts: bytes that reach the UART before the
# kernel has set it up are lost (the FIFO is reset at init).
{
	i=0
	while ! grep -qF 'veridian$ ' "$tmp/serial" 2>/dev/null && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	printf 'echo hi\npoweroff\n'
} | timeout 120 "$QEMU" -M microvm,acpi=off -accel tcg -nodefaults \
	-no-user-config -display none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$top_builddir/veridian.elf" \
	-chardev socket,path="$sock",server=on,wait=off,id=gdb0 -gdb chardev:gdb0 -S \
	>"$tmp/serial" 2>&1 &
qpid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
timeout 120 "$GDB" -q -batch -ex "target remote $sock" -ex 'hbreak kernel_syscall' \
	-ex continue -ex 'bt 3' -ex 'delete' -ex detach "$top_builddir/veridian.elf" \
	>"$tmp/out" 2>&1
wait $qpid
status=$?
cat "$tmp/out"
expect_in "$tmp/out" 'kernel_syscall (nr=' "hardware breakpoint in kernel_syscall"
expect_in "$tmp/out" 'x86_syscall_entry' "the syscall entry in the backtrace"
expect_in "$tmp/serial" 'power off (status 0' "the kernel ran on to poweroff"
[ "$status" -eq 1 ] || fail "QEMU exit status $status, expected 1"
