#!/usr/bin/env python3
"""Write the seed corpus and regressions of fuzz/vm (6-byte operations:
op, a, b, c, d, e; see vm_fuzz.c). Run from the source tree:
    python3 fuzz/vm/gen-seeds.py"""
import os

CREATE, MAP, UNMAP, PROTECT, COPY, DELETE, READ, WRITE = range(8)
# map's 4th byte: count in the low nibble, protection in bits 4-5, private in bit 6
RW, R, RX, PRIVATE = 0x10, 0x00, 0x20, 0x40
# map's 5th byte: first page in bits 0-5, +512 pages in bit 6, whole object in bit 7
HIGH, WHOLE = 0x40, 0x80
HUGE = 1  # create's 3rd byte: a 2 MiB-page object
PROT_RO, PROT_WHOLE = 0x40, 0x80  # protect's 5th byte (with the count's high bits)


def op(code, a=0, b=0, c=0, d=0, e=0):
    return bytes([code, a, b, c, d, e])


def rng(code, space, page, count, e=0):
    """unmap/protect of `count` pages from `page` (both < 1024)."""
    n = count - 1
    return op(code, space, page & 0xff, n & 0xff, page >> 8, (n >> 8) | e)


def access(code, space, page, val=0, off=0):
    return op(code, space, page & 0xff, val, off, page >> 8)


SEEDS = {
    "corpus/demand-zero": [op(CREATE, 0, 3), op(MAP, 0, 0, 0, RW | 4, 0), access(READ, 0, 1),
                           access(WRITE, 0, 2, 7), access(READ, 0, 2), rng(UNMAP, 0, 0, 3),
                           op(DELETE, 0)],
    "corpus/cow-chain": [op(CREATE, 0, 3), op(MAP, 0, 0, 0, RW | 4, 0), access(WRITE, 0, 0, 5),
                         op(COPY, 0, 1), op(MAP, 1, 1, 0, RW | 4, 0), access(WRITE, 1, 0, 9),
                         access(READ, 0, 0), access(WRITE, 0, 1, 3), op(COPY, 1, 2),
                         op(MAP, 2, 2, 8, RW | 4, 0), access(WRITE, 2, 8, 11), op(DELETE, 1)],
    "corpus/shared-two-spaces": [op(CREATE, 3, 7), op(MAP, 3, 0, 4, RW | 8, 0),
                                 op(MAP, 3, 1, 4, R | 8, 0), access(WRITE, 0, 5, 21),
                                 access(READ, 1, 5), access(WRITE, 1, 5, 1), op(DELETE, 3),
                                 rng(UNMAP, 0, 4, 8)],
    "corpus/protect-unmap": [op(CREATE, 1, 1), op(MAP, 1, 2, 10, RW | 2, 0),
                             access(WRITE, 2, 10, 4), rng(PROTECT, 2, 10, 1, PROT_WHOLE | PROT_RO),
                             access(WRITE, 2, 10, 6), rng(PROTECT, 2, 10, 1, PROT_WHOLE),
                             access(WRITE, 2, 11, 8), rng(UNMAP, 2, 10, 1), rng(UNMAP, 2, 10, 2)],
    # a 2 MiB object mapped whole at an aligned page, touched (one huge
    # leaf), cut in the middle, protected in part, copied and written
    "corpus/huge-cut": [op(CREATE, 4, 0, HUGE), op(MAP, 4, 0, 0, RW, WHOLE),
                        access(WRITE, 0, 3, 9), access(READ, 0, 500), rng(UNMAP, 0, 100, 10),
                        access(READ, 0, 99), access(READ, 0, 105), access(WRITE, 0, 110, 2),
                        rng(PROTECT, 0, 200, 20, PROT_RO), access(WRITE, 0, 210, 4),
                        op(COPY, 4, 5), access(WRITE, 0, 300, 6), rng(UNMAP, 0, 0, 512)],
    # the same object mapped whole in two spaces and at a misaligned page
    "corpus/huge-shared": [op(CREATE, 2, 0, HUGE), op(MAP, 2, 1, 0, RW, WHOLE | HIGH),
                           access(WRITE, 1, 512 + 7, 3), op(MAP, 2, 2, 0, R | 8, 5),
                           access(READ, 2, 2), op(COPY, 2, 3), op(MAP, 3, 0, 0, RW, WHOLE),
                           access(READ, 0, 7), access(WRITE, 0, 7, 5), access(READ, 1, 519),
                           rng(PROTECT, 1, 512, 512, PROT_RO), access(READ, 1, 600),
                           op(DELETE, 2), rng(UNMAP, 1, 0, 1024)],
    # private mappings: snapshot, isolation, cut, reclaim
    "corpus/private": [op(CREATE, 0, 5), op(MAP, 0, 0, 0, RW | 6, 0), access(WRITE, 0, 1, 7),
                       op(MAP, 0, 1, 0, RW | PRIVATE | 6, 0), access(READ, 1, 1),
                       access(WRITE, 1, 1, 9), access(READ, 0, 1), op(MAP, 0, 1, 16, R | PRIVATE | 6, 0),
                       access(WRITE, 1, 16, 3), rng(PROTECT, 1, 16, 6),
                       access(WRITE, 1, 17, 5), rng(UNMAP, 1, 2, 2), access(READ, 1, 1),
                       op(DELETE, 0), rng(UNMAP, 1, 0, 32)],
    # a 2 MiB object and its copy: the copy's write breaks one page, then a
    # write to that page of the original (its frame alone again, the run's
    # others still shared) needs a writable leaf: 4 KiB, not the read-only
    # huge leaf the run would get (which looped for ever)
    "regressions/huge-cow-write-back": [op(CREATE, 0, 0, HUGE), op(MAP, 0, 0, 0, RW, WHOLE),
                                        access(WRITE, 0, 7, 1), op(COPY, 0, 1),
                                        op(MAP, 1, 1, 0, RW, WHOLE), access(WRITE, 1, 7, 2),
                                        access(WRITE, 0, 7, 3), access(READ, 0, 8),
                                        access(WRITE, 0, 7, 5), access(READ, 1, 7)],
    # one unmap and one protect across several mappings and holes
    "corpus/multi-range": [op(CREATE, 0, 4), op(CREATE, 1, 4), op(MAP, 0, 0, 0, RW | 4, 0),
                           op(MAP, 1, 0, 6, RW | 4, 0), op(MAP, 0, 0, 12, R | 3, 1),
                           rng(PROTECT, 0, 1, 8, PROT_RO), rng(PROTECT, 0, 2, 8, PROT_RO),
                           access(WRITE, 0, 2, 1), access(WRITE, 0, 7, 1),
                           rng(UNMAP, 0, 3, 11), access(READ, 0, 2), access(READ, 0, 14)],
    # a copy of a copy, written on every side, then the middle one dropped
    "regressions/cow-copy-of-copy": [op(CREATE, 0, 2), op(MAP, 0, 0, 0, RW | 2, 0),
                                     access(WRITE, 0, 0, 3), op(COPY, 0, 1), op(COPY, 1, 2),
                                     op(MAP, 2, 1, 0, RW | 2, 0), access(WRITE, 1, 0, 5),
                                     op(DELETE, 1), access(WRITE, 0, 0, 7), access(READ, 1, 0)],
}

here = os.path.dirname(os.path.abspath(__file__))
for name, ops in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(b"".join(ops))
