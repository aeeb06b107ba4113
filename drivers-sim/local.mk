# drivers-sim/: device models of veridian-sim. Linked into veridian-sim
# (host/linux/local.mk).
DRIVERS_SIM_SOURCES = \
	drivers-sim/console.h \
	drivers-sim/console.c \
	drivers-sim/pit.h \
	drivers-sim/pit.c

EXTRA_DIST += drivers-sim/README.md
