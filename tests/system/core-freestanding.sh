#!/bin/sh
# core/ is freestanding C11: it may include only the compiler's freestanding
# headers, its own headers (core/include) and the generated config.h.
. "${top_srcdir:-.}/tests/system/lib.sh"

allowed='^(stddef|stdint|stdbool|stdarg|limits|stdalign|stdnoreturn|float|iso646|stdatomic)\.h$'
bad=0
for f in $(find "$top_srcdir/core" -name '*.[ch]'); do
	# angle-bracket includes: freestanding headers or <veridian/...>
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f"); do
		case "$h" in
		veridian/*) [ -f "$top_srcdir/core/include/$h" ] && continue ;;
		*) echo "$h" | grep -Eq "$allowed" && continue ;;
		esac
		echo "$f includes <$h>, which is not a freestanding or core header" >&2
		bad=1
	done
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		[ "$h" = config.h ] && continue
		echo "$f includes \"$h\": core/ uses <veridian/...> for its headers" >&2
		bad=1
	done
	if grep -Eq '\b(g_[a-z_]+|uv_[a-z_]+|SDL_[A-Za-z]+)\(' "$f"; then
		echo "$f calls GLib, libuv or SDL: those belong in host/linux, sim/, drivers-sim/" >&2
		bad=1
	fi
done
[ "$bad" = 0 ] || fail "core/ is not freestanding"
echo "core/ includes only freestanding and core headers"
