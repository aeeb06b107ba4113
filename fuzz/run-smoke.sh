#!/bin/sh
# Usage: run-smoke.sh FUZZ_SRCDIR BINDIR SECONDS SEED
# Replays every input of FUZZ_SRCDIR/regressions/<harness>/, then runs each
# libFuzzer harness for SECONDS from its seed corpus with its dictionary and
# the given SEED. New corpus entries go to BINDIR/work/<harness> (the source
# tree stays read-only), crashes to BINDIR/artifacts/. Prints execs/s.
set -u
src=$1 bin=$2 secs=$3 seed=$4
status=0

for h in elf cpio; do
	prog="$bin/${h}_fuzz"
	regs=$(find "$src/regressions/$h" -type f ! -name '*.md' 2>/dev/null | sort)
	if [ -n "$regs" ]; then
		echo "== $h: replaying $(echo "$regs" | wc -l) regression input(s)"
		# shellcheck disable=SC2086
		if ! "$prog" -runs=1 $regs >"$bin/$h-replay.log" 2>&1; then
			cat "$bin/$h-replay.log"
			echo "FAIL: $h regression input crashes again"
			status=1
			continue
		fi
	fi
	mkdir -p "$bin/work/$h" "$bin/artifacts"
	echo "== $h: fuzzing ${secs}s, seed $seed (reproduce: make fuzz-smoke FUZZ_SEED=$seed)"
	if ! "$prog" -seed="$seed" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-dict="$src/$h.dict" -artifact_prefix="$bin/artifacts/$h-" \
		"$bin/work/$h" "$src/corpus/$h" >"$bin/$h-smoke.log" 2>&1; then
		tail -n 60 "$bin/$h-smoke.log"
		echo "FAIL: $h harness found a crash; input in $bin/artifacts/ (see fuzz/README.md)"
		status=1
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bin/$h-smoke.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$bin/$h-smoke.log")
	cov=$(grep -o 'cov: [0-9]*' "$bin/$h-smoke.log" | tail -n 1)
	echo "   $h: $execs execs, $rate execs/s, $cov"
done
exit $status
