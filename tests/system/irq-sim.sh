#!/bin/sh
# IRQ sources and I/O ports in veridian-sim: bin/irqtest, a user-space
# driver of the simulated i8254 PIT, run through the shell's `dev` prefix
# (which passes it the device capabilities), checks every error path and
# counts interrupts. In virtual time the PIT's edges are exact: 20 periods
# of 1193 PIT ticks end at ceil(20 * 1193 * 1e9 / 1193182) ns, so the
# elapsed time is checked to the nanosecond; and the run is reproducible.
. "$top_srcdir/tests/system/sim-lib.sh"

printf '%s\n' 'dev irqtest' irqtest 'dev irqtest 200' poweroff >"$tmp/script"
run_sim irq "$sim" --script "$tmp/script"
expect_status irq 0
test "$(grep -Ec '^irqtest: [0-9]+ checks, 0 failed$' "$tmp/irq.out")" -eq 2 || {
	grep irqtest "$tmp/irq.out" >&2
	fail "irqtest reported failures"
}
expect_in "$tmp/irq.out" 'irqtest: 20 interrupts in 19996950 ns (period 999847 ns)' \
	"20 PIT periods, exact in virtual time"
expect_in "$tmp/irq.out" 'irqtest: 200 interrupts in 199969494 ns (period 999847 ns)' \
	"200 PIT periods, exact in virtual time"
# Without `dev` the program has no device capabilities: its first check fails.
grep -Eq '^irqtest: FAIL line [0-9]+: sys_cap_identify\(VR_DEVCAP_IRQ_CONTROL' "$tmp/irq.out" ||
	fail "irqtest without dev got the device capabilities"
grep -E '^irqtest: [0-9]+ (interrupts|checks)' "$tmp/irq.out"
