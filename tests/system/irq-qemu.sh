#!/bin/sh
# IRQ sources and I/O ports in veridian.elf under QEMU (microvm and q35):
# the same bin/irqtest as tests/system/irq-sim.sh drives the machine's
# i8254 PIT through the IOAPIC (ISA IRQ 0 on pin 2). Passes only on the
# poweroff debug-exit status together with the irqtest summary lines.
. "$top_srcdir/tests/system/qemu-lib.sh"

for machine in microvm,acpi=off q35; do
	SHELL_INPUT='dev irqtest 200\npoweroff\n'
	qemu_session -M "$machine" -kernel "$ELF" >"$tmp/log"
	test "$qemu_status" -eq 124 && { cat "$tmp/log"; fail "$machine: QEMU timed out"; }
	grep -Eq '^irqtest: [0-9]+ checks, 0 failed$' "$tmp/serial" || {
		cat "$tmp/log" >&2
		fail "$machine: irqtest reported failures"
	}
	grep -Eq '^irqtest: 200 interrupts in [0-9]+ ns \(period 999847 ns\)$' "$tmp/serial" ||
		fail "$machine: no interrupt count"
	test "$qemu_status" -eq 1 || fail "$machine: QEMU exit status $qemu_status, expected 1"
	echo "$machine: $(grep -E '^irqtest: [0-9]+ (interrupts|checks)' "$tmp/serial" | tr '\n' ' ')"
	rm -f "$tmp/in" "$tmp/raw" "$tmp/serial"
done
