#!/bin/sh
# Smoke run of the memory fuzzer: build it with clang, replay every file in
# fuzz/vm/regressions/, then fuzz for a few seconds from the seed corpus
# with a fixed seed. Skips only when clang is not installed; any mismatch
# with the reference model, sanitizer report or leak fails the test.
: "${top_builddir:=.}"
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz-smoke-vm: clang not found, skipping"
	exit 77
fi
exec ${MAKE:-make} -C "$top_builddir" fuzz-smoke-vm FUZZ_VM_TIME="${FUZZ_VM_TIME:-5}"
