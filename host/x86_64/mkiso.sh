#!/bin/sh
# Build a GRUB rescue ISO (BIOS and UEFI) that boots a veridian.elf by
# multiboot2. Used by `make iso` and by tests/system/iso-*.sh.
# usage: mkiso.sh GRUB_MKRESCUE veridian.elf grub.cfg out.iso
set -eu
mkrescue=$1 elf=$2 cfg=$3 out=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/veridian-iso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/boot/grub"
cp "$elf" "$tmp/root/boot/veridian.elf"
cp "$cfg" "$tmp/root/boot/grub/grub.cfg"
if ! "$mkrescue" -o "$tmp/out.iso" "$tmp/root" >"$tmp/log" 2>&1; then
	cat "$tmp/log" >&2
	echo "mkiso.sh: $mkrescue failed" >&2
	exit 1
fi
mv "$tmp/out.iso" "$out"
