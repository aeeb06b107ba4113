#!/bin/sh
# Both builds compile the identical list of core/ source files: compare the
# members of the two core archives, and check both programs link them.
. "${top_srcdir:-.}/tests/system/lib.sh"

sim=$top_builddir/core/libcore-sim.a
x86=$top_builddir/core/libcore-x86.a
[ -f "$sim" ] && [ -f "$x86" ] || fail "core archives not built"
ar t "$sim" | sed -E 's/^(core_)?libcore_sim_a-//' | sort > core-sources.sim
ar t "$x86" | sed -E 's/^(core_)?libcore_x86_a-//' | sort > core-sources.x86
cmp -s core-sources.sim core-sources.x86 || {
	diff core-sources.sim core-sources.x86 >&2
	fail "veridian-sim and veridian.elf compile different core/ sources"
}
n=$(wc -l < core-sources.sim)
[ "$n" -gt 0 ] || fail "no core objects"
# Every core source file in the tree is in the list (nothing built only once).
for f in "$top_srcdir"/core/*.c; do
	b=$(basename "$f" .c).o
	grep -qx "$b" core-sources.sim || fail "$f is not compiled into the core archives"
done
for prog in veridian-sim veridian.elf; do
	[ -f "$top_builddir/$prog" ] || fail "$prog not built"
	nm "$top_builddir/$prog" | grep -q ' T kernel_main$' || fail "$prog does not contain core's kernel_main"
done
rm -f core-sources.sim core-sources.x86
echo "both builds compile the same $n core/ sources"
