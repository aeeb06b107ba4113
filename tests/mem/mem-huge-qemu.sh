#!/bin/sh
# Huge pages in veridian.elf under QEMU microvm. With QEMU's default TCG
# CPU (qemu64, no 1 GiB pages) the kernel must report 4 KiB and 2 MiB
# leaves only; with qemu64,+pdpe1gb (CPUID 0x80000001 EDX bit 26) also
# 1 GiB, and a 1 GiB object (2.25 GiB of RAM, so an aligned free GiB
# exists) is then mapped with one 1 GiB leaf. (The same object on an MMU
# without 1 GiB pages gets 2 MiB leaves: tests/unit/test-mem.c, and the
# veridian-sim side in tests/mem/mem-huge-sim.sh.) Zeroing 1 GiB under TCG
# takes a while, hence the long session timeout. Each session passes only
# on the poweroff debug-exit status.
. "$top_srcdir/tests/system/qemu-lib.sh"

# session CPU MEMORY INPUT EXPECTED-LINE...
session() {
	cpu=$1 mem=$2
	SHELL_INPUT=$3
	shift 3
	qemu_session -M microvm,acpi=off -m "$mem" -cpu "$cpu" -kernel "$ELF" >"$tmp/log"
	test "$qemu_status" -eq 124 && { cat "$tmp/log"; fail "QEMU (-cpu $cpu) timed out"; }
	for line in "$@"; do
		grep -qxF "$line" "$tmp/serial" || {
			cat "$tmp/log" >&2
			fail "-cpu $cpu: no line '$line'"
		}
	done
	grep -Eq '^memtest: [0-9]+ checks, [1-9]' "$tmp/serial" && fail "-cpu $cpu: failures"
	test "$qemu_status" -eq 1 || fail "QEMU (-cpu $cpu) exit status $qemu_status, expected 1"
	grep -E '^memtest' "$tmp/serial"
	rm -f "$tmp/in"
}

SESSION_TIMEOUT=${SESSION_TIMEOUT:-60}
session qemu64 128M 'memtest pagesizes\npoweroff\n' 'memtest: page sizes: 4K 2M'
SESSION_TIMEOUT=300
session qemu64,+pdpe1gb 2304M 'memtest pagesizes\nmemtest huge1g\npoweroff\n' \
	'memtest: page sizes: 4K 2M 1G' 'memtest: huge1g: one 1 GiB leaf' \
	'memtest: 8 checks, 0 failed'
