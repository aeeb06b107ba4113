#!/bin/sh
# make check: build the IPC fuzzer with clang and run `make fuzz-smoke-ipc`
# for a few seconds (FUZZ_IPC_TIME, default 5) with seed $VERIDIAN_SEED
# (default 1). Skips (77) only when clang cannot link libFuzzer binaries.
: "${top_builddir:=.}"
cc=${FUZZ_IPC_CC:-clang}
tmp=${TMPDIR:-/tmp}/veridian-ipcfuzzprobe.$$

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "$cc not found: IPC fuzz smoke test skipped"
	exit 77
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
	>"$tmp.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp" "$tmp.c" >/dev/null 2>&1; then
	rm -f "$tmp" "$tmp.c"
	echo "$cc cannot link libFuzzer binaries: IPC fuzz smoke test skipped"
	exit 77
fi
rm -f "$tmp" "$tmp.c"
MAKEFLAGS= MFLAGS= exec ${MAKE:-make} -C "$top_builddir" fuzz-smoke-ipc \
	FUZZ_IPC_TIME="${FUZZ_IPC_TIME:-5}" FUZZ_IPC_SEED="${VERIDIAN_SEED:-1}"
