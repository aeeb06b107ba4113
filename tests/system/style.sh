#!/bin/sh
# Formatting is a tool's job: every C source and header is as clang-format
# (with the checked-in .clang-format) leaves it. To fix: make format.
. "${top_srcdir:-.}/tests/system/lib.sh"
command -v clang-format >/dev/null 2>&1 || skip "clang-format not found"
files=$(find "$top_srcdir" \( -name 'build*' -o -name '_build' -o -name '.git' -o -name '_inst' \) -prune -o \
	\( -name '*.c' -o -name '*.h' \) ! -name config.h ! -name programs.h -print)
bad=0
for f in $files; do
	if ! clang-format --style=file:"$top_srcdir/.clang-format" --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f" >&2
		bad=1
	fi
done
[ "$bad" = 0 ] || fail "run 'make format' (clang-format -i) on the files above"
echo "$(echo "$files" | wc -w) files formatted"
