# Helpers for the veridian.elf system tests (sourced by qemu-*.sh and
# iso-*.sh). A session boots the kernel under QEMU, waits for the shell
# prompt, types SHELL_INPUT on the serial line, and passes only if QEMU
# exits with the isa-debug-exit status that `poweroff` (status 0) gives,
# (0 << 1) | 1 = 1, and the serial log holds every expected marker.
# A triple fault with -no-reboot exits 0, a panic 255: neither passes.
. "$top_srcdir/tests/system/lib.sh"

: "${QEMU:=qemu-system-x86_64}"
test "$QEMU" != no && command -v "$QEMU" >/dev/null 2>&1 || skip "qemu-system-x86_64 not found"
command -v timeout >/dev/null 2>&1 || skip "timeout (coreutils) not found"
ELF=$top_builddir/veridian.elf
test -f "$ELF" || fail "$ELF has not been built"

SESSION_TIMEOUT=${SESSION_TIMEOUT:-50}
SHELL_INPUT='help\necho hi\nuname -a\nps\nmem\nfault null\nfault ud\nnosuchcmd\n'
SHELL_INPUT="${SHELL_INPUT}echo still alive\\npoweroff\\n"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/veridian-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# qemu_session QEMU-ARGS...: boot, type the commands once the prompt shows,
# leave the serial output (without \r) in $tmp/serial and QEMU's exit status
# in $qemu_status. Input waits for the prompt so that firmware and GRUB
# cannot swallow it.
qemu_session() {
	mkfifo "$tmp/in"
	: >"$tmp/raw"
	(
		i=0
		limit=$((SESSION_TIMEOUT * 10))
		while ! grep -qF 'veridian$ ' "$tmp/raw" && test $i -lt $limit; do
			sleep 0.1
			i=$((i + 1))
		done
		printf "$SHELL_INPUT"
	) >"$tmp/in" &
	feeder=$!
	timeout "$SESSION_TIMEOUT" "$QEMU" -accel tcg -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" <"$tmp/in" >"$tmp/raw" 2>&1
	qemu_status=$?
	kill "$feeder" 2>/dev/null
	wait "$feeder" 2>/dev/null
	tr -d '\r' <"$tmp/raw" >"$tmp/serial"
	echo "---- serial output (QEMU exit status $qemu_status) ----"
	cat "$tmp/serial"
	echo "----"
}

# check_shell_session: the markers of SHELL_INPUT's commands.
check_shell_session() {
	s=$tmp/serial
	test "$qemu_status" -eq 124 && fail "QEMU timed out after ${SESSION_TIMEOUT}s"
	expect_in "$s" 'veridian$ ' "shell prompt"
	grep -qx 'hi' "$s" || fail "echo hi: no line 'hi'"
	expect_in "$s" 'veridian.elf' "uname build name"
	expect_in "$s" 'hypervisor=TCGTCGTCGTCG' "uname hypervisor signature"
	expect_in "$s" 'fault: write to address 0' "fault null ran"
	expect_in "$s" 'fault: execute ud2' "fault ud ran"
	test "$(grep -c 'exited with status 139' "$s")" -ge 2 ||
		fail "a faulting program was not killed with status 139 (twice)"
	expect_in "$s" 'sh: nosuchcmd: command not found' "error for an unknown command"
	grep -qx 'still alive' "$s" || fail "the shell did not keep going after the faults"
	expect_in "$s" 'power off (status 0' "power-off message"
	test "$qemu_status" -eq 1 ||
		fail "QEMU exit status $qemu_status, expected 1 (isa-debug-exit, poweroff 0)"
}

# make_iso OUT: the GRUB rescue image, or skip if its tools are missing.
make_iso() {
	test -n "${GRUB_MKRESCUE:-}" && test "$GRUB_MKRESCUE" != no ||
		GRUB_MKRESCUE=$(command -v grub-mkrescue) || skip "grub-mkrescue not found"
	command -v xorriso >/dev/null 2>&1 || skip "xorriso not found (grub-mkrescue needs it)"
	command -v mformat >/dev/null 2>&1 ||
		skip "mtools not found (grub-mkrescue needs it for EFI)"
	test -d /usr/lib/grub/i386-pc || skip "GRUB BIOS modules (grub-pc-bin) not installed"
	sh "$top_srcdir/host/x86_64/mkiso.sh" "$GRUB_MKRESCUE" "$ELF" \
		"$top_srcdir/host/x86_64/grub.cfg" "$1" || fail "building the GRUB ISO failed"
}

# qemu_shell LINE...: boot veridian.elf under QEMU microvm, type each line
# at the shell and then `poweroff`; fail unless the kernel powered off with
# status 0. The serial output is in $tmp/serial, the session in $tmp/log.
qemu_shell() {
	SHELL_INPUT=""
	for line in "$@"; do
		SHELL_INPUT="$SHELL_INPUT$line\\n"
	done
	SHELL_INPUT="${SHELL_INPUT}poweroff\\n"
	qemu_session -M microvm,acpi=off -kernel "$ELF" >"$tmp/log"
	test "$qemu_status" -eq 124 && { cat "$tmp/log"; fail "QEMU timed out"; }
	grep -qF 'power off (status 0' "$tmp/serial" && test "$qemu_status" -eq 1 || {
		cat "$tmp/log" >&2
		fail "no power off with status 0 (QEMU exit status $qemu_status, expected 1)"
	}
}

# qemu_user_test PROGRAM [ARGS...]: the same as sim_user_test (sim-lib.sh),
# in veridian.elf under QEMU microvm.
qemu_user_test() {
	prog=$1
	qemu_shell "$*"
	grep -Eq "^$prog: [0-9]+ checks, 0 failed\$" "$tmp/serial" || {
		cat "$tmp/log" >&2
		fail "$prog reported failures"
	}
	grep -E "^$prog:" "$tmp/serial"
}
