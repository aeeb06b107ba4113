#!/usr/bin/env python3
"""Write the seed corpus and regressions of fuzz/vm (6-byte operations:
op, a, b, c, d, e; see vm_fuzz.c). Run from the source tree:
    python3 fuzz/vm/gen-seeds.py"""
import os

CREATE, MAP, UNMAP, PROTECT, COPY, DELETE, READ, WRITE = range(8)
RW, R, RX = 0x10, 0x00, 0x20  # prot selector in the high nibble of the map's 4th byte


def op(code, a=0, b=0, c=0, d=0, e=0):
    return bytes([code, a, b, c, d, e])


SEEDS = {
    "corpus/demand-zero": [op(CREATE, 0, 3), op(MAP, 0, 0, 0, RW | 4, 0), op(READ, 0, 1),
                           op(WRITE, 0, 2, 7), op(READ, 0, 2), op(UNMAP, 0, 0, 3),
                           op(DELETE, 0)],
    "corpus/cow-chain": [op(CREATE, 0, 3), op(MAP, 0, 0, 0, RW | 4, 0), op(WRITE, 0, 0, 5),
                         op(COPY, 0, 1), op(MAP, 1, 1, 0, RW | 4, 0), op(WRITE, 1, 0, 9),
                         op(READ, 0, 0), op(WRITE, 0, 1, 3), op(COPY, 1, 2),
                         op(MAP, 2, 2, 8, RW | 4, 0), op(WRITE, 2, 8, 11), op(DELETE, 1)],
    "corpus/shared-two-spaces": [op(CREATE, 3, 7), op(MAP, 3, 0, 4, RW | 8, 0),
                                 op(MAP, 3, 1, 4, R | 8, 0), op(WRITE, 0, 5, 21),
                                 op(READ, 1, 5), op(WRITE, 1, 5, 1), op(DELETE, 3),
                                 op(UNMAP, 0, 4, 8)],
    "corpus/protect-unmap": [op(CREATE, 1, 1), op(MAP, 1, 2, 10, RW | 2, 0),
                             op(WRITE, 2, 10, 4), op(PROTECT, 2, 10, 1), op(WRITE, 2, 10, 6),
                             op(PROTECT, 2, 10, 0), op(WRITE, 2, 11, 8), op(UNMAP, 2, 10, 1),
                             op(UNMAP, 2, 10, 2)],
    # a copy of a copy, written on every side, then the middle one dropped
    "regressions/cow-copy-of-copy": [op(CREATE, 0, 2), op(MAP, 0, 0, 0, RW | 2, 0),
                                     op(WRITE, 0, 0, 3), op(COPY, 0, 1), op(COPY, 1, 2),
                                     op(MAP, 2, 1, 0, RW | 2, 0), op(WRITE, 1, 0, 5),
                                     op(DELETE, 1), op(WRITE, 0, 0, 7), op(READ, 1, 0)],
}

here = os.path.dirname(os.path.abspath(__file__))
for name, ops in SEEDS.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(b"".join(ops))
