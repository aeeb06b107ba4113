# examples/: programs a newcomer reads first. Built exactly like the
# services/ programs (USER_* flags from services/local.mk) and put into the
# initramfs under bin/, named after the program (bin/example).
noinst_PROGRAMS += examples/example
examples_example_SOURCES = examples/hello-syscalls.c
examples_example_CPPFLAGS = $(USER_CPPFLAGS)
examples_example_CFLAGS = $(USER_CFLAGS)
examples_example_LDFLAGS = $(USER_LINKFLAGS)
examples_example_LDADD = $(USER_LIBS)
INITRAMFS_FILES += examples/example

noinst_PROGRAMS += examples/echo-server
examples_echo_server_SOURCES = examples/echo-server.c
examples_echo_server_CPPFLAGS = $(USER_CPPFLAGS)
examples_echo_server_CFLAGS = $(USER_CFLAGS)
examples_echo_server_LDFLAGS = $(USER_LINKFLAGS)
examples_echo_server_LDADD = $(USER_LIBS)
INITRAMFS_FILES += examples/echo-server

EXTRA_DIST += examples/README.md
