# fuzz/ipc: the IPC fuzzer (ipc_fuzz.c): all of core/ (CORE_SOURCES) over
# the fake HAL of ipc_hal.c, which runs kernel threads for real. Not built
# by plain `make`: it needs clang (libFuzzer) and afl-clang-fast (AFL++).
#   make fuzz-ipc          fuzz/ipc/ipc-fuzz (libFuzzer + ASan + UBSan) and
#                          fuzz/ipc/ipc-fuzz-afl (AFL++)
#   make fuzz-smoke-ipc    replay fuzz/ipc/regressions/, then fuzz for
#                          FUZZ_IPC_TIME seconds from the seed corpus
# fuzz/ipc/smoke.sh runs fuzz-smoke-ipc from `make check`. See fuzz/ipc/README.md.
FUZZ_IPC_CC = clang
FUZZ_IPC_AFL_CC = afl-clang-fast
FUZZ_IPC_TIME = 15
FUZZ_IPC_SEED = 1
FUZZ_IPC_MAX_LEN = 1603
FUZZ_IPC_HARNESS = $(top_srcdir)/fuzz/ipc/ipc_fuzz.c $(top_srcdir)/fuzz/ipc/ipc_check.c \
	$(top_srcdir)/fuzz/ipc/ipc_hal.c
FUZZ_IPC_SRCS = $(FUZZ_IPC_HARNESS) $(CORE_SOURCES:%=$(top_srcdir)/%)
FUZZ_IPC_DEPS = $(FUZZ_IPC_SRCS) $(top_srcdir)/fuzz/ipc/ipc_fuzz.h \
	$(top_srcdir)/fuzz/ipc/ipc_hal.h $(CORE_HDRS:%=$(top_srcdir)/%) $(top_builddir)/config.h
FUZZ_IPC_FLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN_CFLAGS) \
	-fsanitize-coverage-ignorelist=$(top_srcdir)/fuzz/ipc/coverage-ignore.txt \
	-I$(top_srcdir)/core/include -I$(top_srcdir) -I$(top_builddir)

fuzz/ipc/ipc-fuzz: $(FUZZ_IPC_DEPS)
	@$(MKDIR_P) fuzz/ipc
	$(AM_V_CC)$(FUZZ_IPC_CC) $(FUZZ_IPC_FLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(FUZZ_IPC_SRCS) -o $@

fuzz/ipc/ipc-fuzz-afl: $(FUZZ_IPC_DEPS)
	@$(MKDIR_P) fuzz/ipc
	$(AM_V_CC)$(FUZZ_IPC_AFL_CC) $(FUZZ_IPC_FLAGS) -fsanitize=fuzzer $(FUZZ_IPC_SRCS) -o $@

fuzz-ipc: fuzz/ipc/ipc-fuzz fuzz/ipc/ipc-fuzz-afl

fuzz-smoke-ipc: fuzz/ipc/ipc-fuzz
	$(SHELL) $(top_srcdir)/fuzz/ipc/run-smoke.sh $(top_srcdir)/fuzz/ipc fuzz/ipc \
		$(FUZZ_IPC_TIME) $(FUZZ_IPC_SEED) $(FUZZ_IPC_MAX_LEN)

.PHONY: fuzz-ipc fuzz-smoke-ipc
CLEANFILES += fuzz/ipc/ipc-fuzz fuzz/ipc/ipc-fuzz-afl

clean-local: clean-local-fuzz-ipc
clean-local-fuzz-ipc:
	rm -rf fuzz/ipc/work
.PHONY: clean-local-fuzz-ipc

TESTS += fuzz/ipc/smoke.sh
EXTRA_DIST += fuzz/ipc/README.md fuzz/ipc/ipc_fuzz.c fuzz/ipc/ipc_check.c fuzz/ipc/ipc_hal.c \
	fuzz/ipc/ipc_fuzz.h fuzz/ipc/ipc_hal.h fuzz/ipc/ipc.dict fuzz/ipc/coverage-ignore.txt \
	fuzz/ipc/gen-corpus.py \
	fuzz/ipc/run-smoke.sh fuzz/ipc/smoke.sh fuzz/ipc/corpus fuzz/ipc/regressions
