# sim/: the simulated machine (RAM, MMU and host mirror, clock, PRNG).
# Linked into veridian-sim (host/linux/local.mk).
SIM_SOURCES = \
	sim/sim.h \
	sim/ram.c \
	sim/mmu.c \
	sim/clock.c \
	sim/rng.c \
	sim/irq.h \
	sim/irq.c

EXTRA_DIST += sim/README.md sim/valgrind.supp
