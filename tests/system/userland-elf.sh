#!/bin/sh
# The user programs and the initramfs, checked without a kernel:
#  - every bin/ program in services/initramfs.cpio is a static-pie ELF
#    (type DYN, no INTERP, no DT_NEEDED), has no writable+executable segment
#    and a non-executable stack, carries only R_X86_64_RELATIVE relocations
#    (all the runtime's _start can apply) and uses no SSE/AVX register
#    (veridian-sim does not save FP state when it preempts user code);
#  - the archive holds the programs the other tests rely on, and every name
#    is exactly "bin/NAME" (no "./" prefix: the kernel looks names up as is).
# Other fragments may add programs (INITRAMFS_FILES); they are checked too.
# Exit 0 pass, 1 fail, 77 skip (binutils absent).
set -u
: "${top_builddir:=.}"
CPIO=${CPIO:-cpio}
READELF=${READELF:-readelf}
OBJDUMP=${OBJDUMP:-objdump}
archive=$top_builddir/services/initramfs.cpio
required="bin/example bin/false bin/fault bin/hello bin/init bin/sh bin/spin bin/true"

command -v "$READELF" >/dev/null 2>&1 || { echo "SKIP: $READELF not found"; exit 77; }
command -v "$CPIO" >/dev/null 2>&1 || { echo "SKIP: $CPIO not found"; exit 77; }
[ -f "$archive" ] || { echo "FAIL: $archive not built"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

names=$("$CPIO" -t --quiet < "$archive" | LC_ALL=C sort) || bad "cannot list $archive"
for n in $required; do
	echo "$names" | grep -qx "$n" || bad "archive lacks $n"
done
for n in $names; do
	echo "$n" | grep -qx 'bin/[A-Za-z0-9_.-]*' || bad "archive name '$n' is not bin/NAME"
done
abs=$(cd "$(dirname "$archive")" && pwd)/${archive##*/}
(cd "$tmp" && "$CPIO" -i -d --quiet < "$abs") ||
	bad "cannot extract $archive"

for f in "$tmp"/bin/*; do
	n=bin/${f##*/}
	"$READELF" -hW "$f" | grep -q 'Type: *DYN' || bad "$n: not a position-independent (DYN) ELF"
	ph=$("$READELF" -lW "$f")
	echo "$ph" | grep -q 'INTERP' && bad "$n: has an interpreter (PT_INTERP)"
	echo "$ph" | grep -E '^ *LOAD' | grep -q 'RWE' && bad "$n: writable+executable LOAD segment"
	echo "$ph" | grep -E '^ *GNU_STACK' | grep -q 'RW ' || bad "$n: stack is not RW (no -z noexecstack?)"
	"$READELF" -dW "$f" | grep -q '(NEEDED)' && bad "$n: needs a shared library"
	others=$("$READELF" -rW "$f" | grep -E '^[0-9a-f]{8,}' | grep -v 'R_X86_64_RELATIVE')
	[ -z "$others" ] || bad "$n: relocations other than R_X86_64_RELATIVE: $others"
	if command -v "$OBJDUMP" >/dev/null 2>&1; then
		"$OBJDUMP" -d "$f" | grep -qE '%[xyz]mm[0-9]' && bad "$n: uses SSE/AVX registers"
	fi
done

[ "$fail" = 0 ] && echo "PASS:" $names "are static-pie, W^X, RELATIVE-only"
exit "$fail"
