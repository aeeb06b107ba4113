#!/bin/sh
# Usage: run-smoke.sh SRCDIR BINDIR SECONDS SEED MAX_LEN
# The IPC fuzzer's smoke run (make fuzz-smoke-ipc): replay every input of
# SRCDIR/regressions/, then fuzz for SECONDS from SRCDIR/corpus with the
# dictionary and SEED. New corpus entries go to BINDIR/work/corpus (the
# source tree stays read-only), crashes to BINDIR/work/crashes/. Prints
# execs/s.
#
# SRCDIR/regressions/KNOWN lists open kernel bugs: each line names a
# regression input and the panic text it produces until the bug is fixed.
# Those inputs are replayed and reported (a fixed one is reported too, so
# that its line can go), and a crash during fuzzing whose output contains
# one of those panic texts is reported as the known bug, not as a failure.
set -u
src=$1 bin=$2 secs=$3 seed=$4 maxlen=$5
prog=$bin/ipc-fuzz
known=$src/regressions/KNOWN
status=0

is_known() { # file: is it listed in KNOWN?
	[ -f "$known" ] && grep -q "^$(basename "$1") " "$known"
}

known_text() { # log file: the KNOWN panic text it contains, if any
	[ -f "$known" ] || return 1
	while read -r name text; do
		case $name in '#'* | '') continue ;; esac
		if grep -qF -- "$text" "$1"; then
			echo "$text ($name)"
			return 0
		fi
	done <"$known"
	return 1
}

mkdir -p "$bin/work/corpus" "$bin/work/crashes"
for f in "$src"/regressions/*; do
	case $(basename "$f") in KNOWN | *.md) continue ;; esac
	if "$prog" -runs=1 "$f" >"$bin/work/replay.log" 2>&1; then
		if is_known "$f"; then
			echo "NOTE: $(basename "$f") no longer crashes: the bug is fixed," \
				"drop its line from $known"
		fi
		continue
	fi
	if is_known "$f" && known_text "$bin/work/replay.log" >/dev/null; then
		echo "KNOWN BUG still open: $(basename "$f"): $(known_text "$bin/work/replay.log")"
		continue
	fi
	tail -n 40 "$bin/work/replay.log"
	echo "FAIL: regression input $(basename "$f") crashes (IPC_FUZZ_TRACE=1 $prog $f)"
	status=1
done
[ $status = 0 ] || exit $status

echo "fuzz-smoke-ipc: ${secs}s, seed $seed (reproduce: make fuzz-smoke-ipc FUZZ_IPC_SEED=$seed)"
# A crash on a KNOWN bug ends a libFuzzer run: start again (next seed, same
# work corpus) until the time is used up, so the smoke run still explores.
end=$(($(date +%s) + secs))
execs=0 rate=0 cov="" restarts=0
while left=$((end - $(date +%s))) && [ "$left" -gt 0 ]; do
	if "$prog" -seed="$seed" -max_total_time="$left" -timeout=10 -max_len="$maxlen" \
		-print_final_stats=1 -dict="$src/ipc.dict" -artifact_prefix="$bin/work/crashes/" \
		"$bin/work/corpus" "$src/corpus" >"$bin/work/fuzz.log" 2>&1; then
		crashed=no
	elif k=$(known_text "$bin/work/fuzz.log"); then
		crashed=known
		echo "KNOWN BUG hit while fuzzing (seed $seed): $k; input in $bin/work/crashes/"
	else
		tail -n 60 "$bin/work/fuzz.log"
		echo "FAIL: the IPC fuzzer found a crash (seed $seed); input in $bin/work/crashes/"
		echo "      (IPC_FUZZ_TRACE=1 $prog FILE shows it; see fuzz/ipc/README.md)"
		exit 1
	fi
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bin/work/fuzz.log")
	r=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$bin/work/fuzz.log")
	c=$(grep -o 'cov: [0-9]*' "$bin/work/fuzz.log" | tail -n 1)
	execs=$((execs + ${n:-0}))
	[ "${r:-0}" -gt "$rate" ] && rate=$r
	cov=${c:-$cov}
	[ $crashed = no ] && break
	restarts=$((restarts + 1))
	[ $restarts -ge 50 ] && break
	seed=$((seed + 1))
done
echo "   ipc: $execs execs, $rate execs/s (best run), ${cov:-cov: ?}," \
	"$restarts restart(s) after known bugs"
exit 0
