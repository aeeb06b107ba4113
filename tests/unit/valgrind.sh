#!/bin/sh
# Runs every unit test program under Valgrind memcheck: any error, or a
# leak, fails. Skips (77) when Valgrind is absent or the programs were built
# with ASan (the two do not mix).
: "${top_builddir:=.}"
: "${VALGRIND:=valgrind}"

if [ "$VALGRIND" = no ] || ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "valgrind not found: skipped"
	exit 77
fi

status=0
for t in klib pmm kheap vm elf cpio; do
	prog="$top_builddir/tests/unit/test-$t"
	if [ ! -x "$prog" ]; then
		echo "missing $prog (make check builds it)"
		exit 1
	fi
	if nm "$prog" 2>/dev/null | grep -q __asan_init; then
		echo "built with sanitizers: Valgrind skipped"
		exit 77
	fi
	echo "== valgrind test-$t"
	if ! "$VALGRIND" -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$prog" >"test-$t.valgrind.out" 2>&1; then
		cat "test-$t.valgrind.out"
		echo "FAIL: test-$t under valgrind"
		status=1
	fi
	rm -f "test-$t.valgrind.out"
done
exit $status
