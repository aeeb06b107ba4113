# tests/: unit tests (tests/unit/local.mk) and system tests (tests/system/).
# Each host's fragment adds its own system tests; the ones here check the
# tree's structure.
include tests/unit/local.mk

TESTS += tests/system/core-freestanding.sh tests/system/core-sources.sh \
	tests/system/syscall-docs.sh
EXTRA_DIST += tests/README.md tests/system/core-freestanding.sh tests/system/core-sources.sh \
	tests/system/lib.sh tests/system/syscall-docs.sh

# docs/debugging.md's gdb sessions, run for real.
TESTS += tests/system/gdb-sim.sh tests/system/gdb-qemu.sh
EXTRA_DIST += tests/system/gdb-sim.sh tests/system/gdb-qemu.sh

# The terminal is raw while veridian-sim runs and restored on every exit.
TESTS += tests/system/sim-tty.sh
EXTRA_DIST += tests/system/sim-tty.sh tests/system/sim-tty.py

# Every C file is as clang-format leaves it (make format fixes it).
TESTS += tests/system/style.sh
EXTRA_DIST += tests/system/style.sh
