#!/bin/sh
# docs/syscalls.md is generated from abi.h: fail when the two drift apart.
. "${top_srcdir:-.}/tests/system/lib.sh"
"$top_srcdir/tools/gen-syscall-docs.sh" > syscall-docs.out || fail "generator failed"
cmp -s syscall-docs.out "$top_srcdir/docs/syscalls.md" || {
	diff -u "$top_srcdir/docs/syscalls.md" syscall-docs.out >&2
	fail "docs/syscalls.md is stale: run tools/gen-syscall-docs.sh > docs/syscalls.md"
}
rm -f syscall-docs.out
echo "docs/syscalls.md matches abi.h"
