#!/bin/sh
# Smoke run of the capability fuzzer: build it with clang, replay every file
# in fuzz/cap/regressions/, then fuzz for a few seconds from the seed corpus
# with a fixed seed (make fuzz-smoke-cap prints it). Skips only when clang
# is not installed; any mismatch with the reference model, sanitizer report
# or leak fails the test.
: "${top_builddir:=.}"
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz-smoke-cap: clang not found, skipping"
	exit 77
fi
# Run from the build dir; keep the test short (the make target defaults to 15 s).
exec ${MAKE:-make} -C "$top_builddir" fuzz-smoke-cap FUZZ_CAP_TIME="${FUZZ_CAP_TIME:-5}"
