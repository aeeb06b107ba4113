#!/bin/sh
# A kernel-mode exception prints vector, name, error code, the general
# registers, rip, rsp, rflags, cr2 and cr3 on the serial console, then halts
# (under QEMU with isa-debug-exit: exit status 255). Uses the tiny
# host/x86_64/exception-test.elf kernel, which faults on request.
. "$top_srcdir/tests/system/qemu-lib.sh"
KERNEL=$top_builddir/host/x86_64/exception-test.elf
test -f "$KERNEL" || fail "$KERNEL has not been built"

# boot_fault FAULT: run the test kernel, output in $tmp/serial.
boot_fault() {
	timeout "$SESSION_TIMEOUT" "$QEMU" -M microvm,acpi=off -accel tcg -nodefaults \
		-no-user-config -display none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$KERNEL" -append "$1" </dev/null 2>&1 | tr -d '\r' >"$tmp/serial"
	# The pipeline's status is tr's; QEMU's is recorded by the marker
	# check below (a panic exit happens only after the dump).
	echo "---- $1 ----"
	cat "$tmp/serial"
	for reg in rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15 \
		rip rsp rflags cr2 cr3; do
		grep -Eq "(^| )$reg +0x[0-9a-f]{16}" "$tmp/serial" ||
			fail "$1: register $reg missing"
	done
}

expect_status() {
	timeout "$SESSION_TIMEOUT" "$QEMU" -M microvm,acpi=off -accel tcg -nodefaults \
		-no-user-config -display none -serial null -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$KERNEL" -append "$1" </dev/null
	status=$?
	test "$status" -eq "$2" || fail "$1: QEMU exit status $status, expected $2"
}

boot_fault kpf
expect_in "$tmp/serial" 'KERNEL EXCEPTION vector 14 (page fault) error code 0x0000000000000002' \
	"page fault header (write, not present)"
expect_in "$tmp/serial" 'cr2 0x00000dead0000000' "faulting address in cr2"
expect_status kpf 255

boot_fault kud
expect_in "$tmp/serial" 'KERNEL EXCEPTION vector 6 (invalid opcode)' "invalid opcode header"

boot_fault kgp
expect_in "$tmp/serial" 'KERNEL EXCEPTION vector 13 (general protection)' "#GP header"

# Without a fault request it powers off cleanly: status (0 << 1) | 1.
expect_status none 1
