# fuzz/cap: the capability fuzzer (cap_fuzz.c: core/cap.c against a
# reference model). Not built by plain `make`: it needs clang (libFuzzer)
# and afl-clang-fast (AFL++), which configure does not require.
#   make fuzz-cap          build fuzz/cap/cap-fuzz (libFuzzer + ASan + UBSan)
#                          and fuzz/cap/cap-fuzz-afl (AFL++) in the build dir
#   make fuzz-smoke-cap    replay fuzz/cap/regressions/, then fuzz for
#                          FUZZ_CAP_TIME seconds from the seed corpus
# See fuzz/cap/README.md.
FUZZ_CAP_CC = clang
FUZZ_CAP_AFL_CC = afl-clang-fast
FUZZ_CAP_TIME = 15
FUZZ_CAP_SEED = 1
FUZZ_CAP_MAX_LEN = 512
FUZZ_CAP_SRCS = $(top_srcdir)/fuzz/cap/cap_fuzz.c $(top_srcdir)/tests/cap/cap_hal.c \
	$(top_srcdir)/core/cap.c $(top_srcdir)/core/pmm.c $(top_srcdir)/core/kheap.c \
	$(top_srcdir)/core/klib.c
FUZZ_CAP_DEPS = $(FUZZ_CAP_SRCS) $(top_srcdir)/tests/cap/cap_hal.h \
	$(top_srcdir)/core/include/veridian/cap.h $(top_srcdir)/core/include/veridian/klib.h \
	$(top_srcdir)/core/include/veridian/pmm.h $(top_srcdir)/core/include/veridian/kheap.h \
	$(top_srcdir)/core/include/veridian/abi.h $(top_srcdir)/core/include/veridian/hal.h \
	$(top_builddir)/config.h
FUZZ_CAP_FLAGS = -std=gnu11 -g -O1 $(WARN_CFLAGS) -I$(top_srcdir)/core/include \
	-I$(top_srcdir) -I$(top_builddir)

fuzz/cap/cap-fuzz: $(FUZZ_CAP_DEPS)
	@$(MKDIR_P) fuzz/cap
	$(AM_V_CC)$(FUZZ_CAP_CC) $(FUZZ_CAP_FLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(FUZZ_CAP_SRCS) -o $@

fuzz/cap/cap-fuzz-afl: $(FUZZ_CAP_DEPS)
	@$(MKDIR_P) fuzz/cap
	$(AM_V_CC)$(FUZZ_CAP_AFL_CC) $(FUZZ_CAP_FLAGS) -fsanitize=fuzzer $(FUZZ_CAP_SRCS) -o $@

fuzz-cap: fuzz/cap/cap-fuzz fuzz/cap/cap-fuzz-afl

# The work corpus comes first: libFuzzer writes new inputs to the first
# directory only, so the committed corpus (read-only in distcheck) is left alone.
fuzz-smoke-cap: fuzz/cap/cap-fuzz
	@rm -rf fuzz/cap/work && $(MKDIR_P) fuzz/cap/work/corpus fuzz/cap/work/crashes
	@echo "fuzz-smoke-cap: replaying $(top_srcdir)/fuzz/cap/regressions/"
	./fuzz/cap/cap-fuzz $(top_srcdir)/fuzz/cap/regressions/*
	@echo "fuzz-smoke-cap: -seed=$(FUZZ_CAP_SEED) -max_total_time=$(FUZZ_CAP_TIME)"
	./fuzz/cap/cap-fuzz -seed=$(FUZZ_CAP_SEED) -max_total_time=$(FUZZ_CAP_TIME) \
		-max_len=$(FUZZ_CAP_MAX_LEN) -dict=$(top_srcdir)/fuzz/cap/cap.dict \
		-artifact_prefix=fuzz/cap/work/crashes/ -print_final_stats=1 \
		fuzz/cap/work/corpus $(top_srcdir)/fuzz/cap/corpus

.PHONY: fuzz-cap fuzz-smoke-cap
CLEANFILES += fuzz/cap/cap-fuzz fuzz/cap/cap-fuzz-afl

clean-local: clean-local-fuzz-cap
clean-local-fuzz-cap:
	rm -rf fuzz/cap/work
.PHONY: clean-local-fuzz-cap

EXTRA_DIST += fuzz/cap/README.md fuzz/cap/cap_fuzz.c fuzz/cap/cap.dict \
	$(FUZZ_CAP_CORPUS) $(FUZZ_CAP_REGRESSIONS)
FUZZ_CAP_CORPUS = fuzz/cap/corpus/badges-rights fuzz/cap/corpus/delete-reparent \
	fuzz/cap/corpus/expiry-boundary fuzz/cap/corpus/full-recreate \
	fuzz/cap/corpus/move-revoke fuzz/cap/corpus/revoke-chain
FUZZ_CAP_REGRESSIONS = fuzz/cap/regressions/mutant-badge-zero-refused \
	fuzz/cap/regressions/mutant-child-outlives-parent-expiry \
	fuzz/cap/regressions/mutant-cspace-destroy-leak \
	fuzz/cap/regressions/mutant-delete-reparent-to-grandparent \
	fuzz/cap/regressions/mutant-expiry-at-boundary \
	fuzz/cap/regressions/mutant-lookup-type-before-expiry \
	fuzz/cap/regressions/mutant-revoke-done-at-budget \
	fuzz/cap/regressions/mutant-revoke-over-budget \
	fuzz/cap/regressions/mutant-stale-generation-not-bumped
