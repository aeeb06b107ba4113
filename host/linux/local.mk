# host/linux: veridian-sim, the kernel (core/libcore-sim.a) as a Linux
# process on the simulated machine of sim/ with the device models of
# drivers-sim/. Those two folders contribute SIM_SOURCES and
# DRIVERS_SIM_SOURCES to this one program.
noinst_PROGRAMS += veridian-sim
veridian_sim_SOURCES = \
	host/linux/cpu.h \
	host/linux/main.c \
	host/linux/platform.c \
	host/linux/context.c \
	host/linux/trap.c \
	host/linux/entry.S \
	$(SIM_SOURCES) \
	$(DRIVERS_SIM_SOURCES)
veridian_sim_CPPFLAGS = $(HOST_CPPFLAGS) $(GLIB_CFLAGS) $(LIBUV_CFLAGS) \
	-DSIM_DEFAULT_INITRD='"$(abs_top_builddir)/services/initramfs.cpio"'
veridian_sim_CFLAGS = $(HOST_CFLAGS) -O2 -g -fno-omit-frame-pointer
veridian_sim_LDFLAGS = $(SAN_CFLAGS)
veridian_sim_LDADD = core/libcore-sim.a $(GLIB_LIBS) $(LIBUV_LIBS)

SIM_TESTS = \
	tests/system/sim-options.sh \
	tests/system/sim-shell.sh \
	tests/system/sim-determinism.sh \
	tests/system/sim-spin.sh \
	tests/system/sim-valgrind.sh \
	tests/system/gdb-sim-user.sh
TESTS += $(SIM_TESTS)
EXTRA_DIST += host/linux/README.md $(SIM_TESTS) tests/system/sim-lib.sh
