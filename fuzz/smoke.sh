#!/bin/sh
# make check: build the libFuzzer harnesses and run `make fuzz-smoke` for a
# few seconds each (FUZZ_TIME, default 4). Skips (77) when clang cannot
# build a libFuzzer binary here.
: "${top_builddir:=.}"
cc=${FUZZ_CC:-clang}
tmp=${TMPDIR:-/tmp}/veridian-fuzzprobe.$$

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "$cc not found: fuzz smoke test skipped"
	exit 77
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
	>"$tmp.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp" "$tmp.c" >/dev/null 2>&1; then
	rm -f "$tmp" "$tmp.c"
	echo "$cc cannot link libFuzzer binaries: fuzz smoke test skipped"
	exit 77
fi
rm -f "$tmp" "$tmp.c"
MAKEFLAGS= MFLAGS= exec ${MAKE:-make} -C "$top_builddir" fuzz-smoke FUZZ_TIME="${FUZZ_TIME:-4}" \
	FUZZ_SEED="${VERIDIAN_SEED:-1}"
