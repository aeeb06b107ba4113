#!/bin/sh
# make bench: Veridian's micro-benchmarks and their Linux equivalents, in one
# run on one machine, so that ratios are meaningful on a noisy shared host.
#   1. Linux: getppid, pipe round trip, futex ping-pong, posix_spawn.
#   2. veridian-sim (real time): bin/vbench (null syscall, spawn+exit).
#   3. veridian-sim: start to shell prompt (wall clock, median of 5).
#   4. QEMU microvm, TCG, -icount shift=0,sleep=off: bin/vbench cycles are
#      guest instructions; `vbench tsc` at the first prompt gives the
#      instructions from reset to the prompt.
#   5. QEMU microvm: wall clock from start to the shell prompt.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}" "${QEMU:=qemu-system-x86_64}"
b=$top_builddir
n=${BENCH_ITERATIONS:-200000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== make bench: $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs, $(uname -r)"
"$b/tests/bench/linux-bench" "$n"

printf 'vbench %s\npoweroff\n' "$n" > "$tmp/vbench.script"
"$b/veridian-sim" --time=real --script "$tmp/vbench.script" 2>/dev/null |
	grep '^vbench:' | sed 's/^vbench:/veridian-sim:/'

# Start to prompt: the script powers off at the first prompt, so the whole
# run is start -> prompt -> poweroff (poweroff costs microseconds).
printf 'poweroff\n' > "$tmp/off.script"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
times=""
for i in 1 2 3 4 5; do
	t0=$(ms)
	"$b/veridian-sim" --script "$tmp/off.script" >/dev/null 2>&1
	times="$times $(( $(ms) - t0 ))"
done
echo "veridian-sim: start_to_prompt_ms median=$(echo $times | tr ' ' '\n' | sort -n | sed -n 3p) runs=[$times ]"

if command -v "$QEMU" >/dev/null 2>&1 && [ -f "$b/veridian.elf" ]; then
	qemu() {
		timeout 120 "$QEMU" -M microvm,acpi=off -accel tcg -nodefaults -no-user-config \
			-display none -serial stdio -no-reboot \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$b/veridian.elf" "$@"
	}
	# `vbench tsc` must be typed at once (it reads the TSC as the prompt
	# shows); the benchmark run is typed once the prompt is there, as a
	# burst typed before the UART is set up is partly lost.
	printf 'vbench tsc\npoweroff\n' |
		qemu -icount shift=0,sleep=off 2>/dev/null | tr -d '\r' | grep '^vbench:' |
		sed 's/^vbench:/qemu-icount:/; s/tsc=/reset_to_prompt_guest_instructions=/'
	mkfifo "$tmp/in"
	: >"$tmp/raw"
	(
		i=0
		while ! grep -qF 'veridian$ ' "$tmp/raw" && [ $i -lt 600 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		printf 'vbench 20000\npoweroff\n'
	) >"$tmp/in" &
	qemu -icount shift=0,sleep=off <"$tmp/in" >"$tmp/raw" 2>/dev/null
	wait
	tr -d '\r' <"$tmp/raw" | grep '^vbench:' |
		sed 's/^vbench:/qemu-icount:/; s/cycles_per_op/guest_instructions_per_op/'
	times=""
	for i in 1 2 3; do
		t0=$(ms)
		printf 'poweroff\n' | qemu >/dev/null 2>&1
		times="$times $(( $(ms) - t0 ))"
	done
	echo "qemu-microvm: start_to_prompt_ms median=$(echo $times | tr ' ' '\n' | sort -n | sed -n 2p) runs=[$times ]"
fi
