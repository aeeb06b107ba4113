#!/bin/sh
# core/ is freestanding C11: it may include only the compiler's freestanding
# headers, its own headers (core/include) and the generated config.h.
. "${top_srcdir:-.}/tests/system/lib.sh"

allowed='^(stddef|stdint|stdbool|stdarg|limits|stdalign|stdnoreturn|float|iso646|stdatomic)\.h$'
bad=0
for f in $(find "$top_srcdir/core" -name '*.[ch]'); do
	# angle-bracket includes: the compiler's freestanding headers only
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f"); do
		echo "$h" | grep -Eq "$allowed" && continue
		echo "$f includes <$h>, which is not a freestanding header (core's own: \"veridian/...\")" >&2
		bad=1
	done
	# quoted includes: core's own headers ("veridian/x.h") or config.h
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		[ "$h" = config.h ] && continue
		case "$h" in
		veridian/*) [ -f "$top_srcdir/core/include/$h" ] && continue ;;
		esac
		echo "$f includes \"$h\", which is not a core header" >&2
		bad=1
	done
	if grep -Eq '\b(g_[a-z_]+|uv_[a-z_]+|SDL_[A-Za-z]+)\(' "$f"; then
		echo "$f calls GLib, libuv or SDL: those belong in host/linux, sim/, drivers-sim/" >&2
		bad=1
	fi
done
[ "$bad" = 0 ] || fail "core/ is not freestanding"
echo "core/ includes only freestanding and core headers"
