#!/usr/bin/env python3
"""Writes the hand-made seed inputs of fuzz/corpus/ (run from fuzz/).

The seeds are committed; this script documents how they were made and
regenerates them: small static-pie-shaped ELF64 images (valid and a few
near-misses) and cpio newc archives.
"""
import os
import struct

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_NOTE, PT_GNU_STACK = 1, 4, 0x6474E551
R, W, X = 4, 2, 1


def elf(segs, entry, size):
    """segs: (type, flags, offset, vaddr, filesz, memsz, align)."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    out = bytearray(size)
    out[0:64] = EHDR.pack(ident, 3, 62, 1, entry, 64, 0, 0, 64, 56, len(segs), 64, 0, 0)
    for i, (t, f, off, va, fs, ms, al) in enumerate(segs):
        out[64 + 56 * i:64 + 56 * (i + 1)] = PHDR.pack(t, f, off, va, va, fs, ms, al)
    for i in range(64 + 56 * len(segs), size):
        out[i] = (i * 13 + 5) & 0xFF
    return bytes(out)


def cpio(entries, trailer=True):
    out = bytearray()
    if trailer:
        entries = entries + [("TRAILER!!!", 0, b"")]
    for name, mode, data in entries:
        n = name.encode() + b"\0"
        out += b"070701" + b"".join(b"%08X" % v for v in
                                    (1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0))
        out += n
        out += bytes(-len(out) % 4)
        out += data
        out += bytes(-len(out) % 4)
    return bytes(out)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    text = (PT_LOAD, R | X, 0, 0, 0x300, 0x300, 0x1000)
    write("corpus/elf/minimal.elf", elf([text], 0x100, 0x300))
    write("corpus/elf/three-segments.elf", elf([
        text,
        (PT_NOTE, R, 0x200, 0x200, 0x20, 0x20, 4),
        (PT_LOAD, R, 0x400, 0x1400, 0x40, 0x40, 0x1000),
        (PT_LOAD, R | W, 0x480, 0x2480, 0x40, 0x3000, 0x1000),
        (PT_GNU_STACK, R | W, 0, 0, 0, 0, 16),
    ], 0x100, 0x500))
    write("corpus/elf/big-bss.elf", elf([
        text, (PT_LOAD, R | W, 0x300, 0x1300, 0x10, 0x80000, 0x1000)], 0x100, 0x320))
    write("corpus/elf/huge-span.elf", elf([
        text, (PT_LOAD, R | W, 0x300, 0x3ff00300, 0x10, 0x100, 0x1000)], 0x100, 0x320))
    write("corpus/elf/wx.elf", elf([(PT_LOAD, R | W | X, 0, 0, 0x300, 0x300, 0x1000)],
                                   0x100, 0x300))
    write("corpus/elf/interp.elf", elf([(3, R, 0x200, 0x200, 0x10, 0x10, 1), text],
                                       0x100, 0x300))
    write("corpus/cpio/initrd.cpio", cpio([
        ("bin", 0o40755, b""),
        ("bin/init", 0o100755, elf([text], 0x100, 0x300)),
        ("./etc/motd", 0o100644, b"hello, world\n"),
        ("empty", 0o100644, b""),
    ]))
    write("corpus/cpio/one-file.cpio", cpio([("a", 0o100644, b"x")]))
    write("corpus/cpio/empty.cpio", cpio([]))
    write("corpus/cpio/no-trailer.cpio", cpio([("a", 0o100644, b"abc")], trailer=False))


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()
