# fuzz/: libFuzzer and AFL++ harnesses of the ELF loader and the cpio
# reader. They need clang, so plain `make` does not build them:
#   make fuzz         libFuzzer builds (fuzz/elf_fuzz, fuzz/cpio_fuzz)
#   make fuzz-smoke   each for FUZZ_TIME seconds from the seed corpus, seed
#                     FUZZ_SEED, after replaying fuzz/regressions/
#   make fuzz-afl     AFL++ builds (fuzz/elf_fuzz_afl, fuzz/cpio_fuzz_afl)
# fuzz/smoke.sh runs fuzz-smoke from `make check` (skips without clang).

FUZZ_CC = clang
FUZZ_AFL_CC = afl-clang-fast
FUZZ_TIME = 10
FUZZ_SEED = 1
FUZZ_CPPFLAGS = -I$(top_srcdir)/core/include -I$(top_srcdir) -I$(top_builddir)
FUZZ_CFLAGS = -std=gnu11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer
FUZZ_SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

FUZZ_HAL = $(top_srcdir)/tests/unit/fake_hal.c
FUZZ_ELF_SRCS = $(top_srcdir)/fuzz/elf_fuzz.c $(FUZZ_HAL) $(top_srcdir)/core/elf.c \
	$(top_srcdir)/core/vm.c $(top_srcdir)/core/pmm.c $(top_srcdir)/core/klib.c
FUZZ_CPIO_SRCS = $(top_srcdir)/fuzz/cpio_fuzz.c $(FUZZ_HAL) $(top_srcdir)/core/cpio.c \
	$(top_srcdir)/core/klib.c
FUZZ_DEPS = $(top_srcdir)/tests/unit/fake_hal.h $(CORE_HDRS:%=$(top_srcdir)/%) config.h

fuzz/elf_fuzz: $(FUZZ_ELF_SRCS) $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $(FUZZ_ELF_SRCS)

fuzz/cpio_fuzz: $(FUZZ_CPIO_SRCS) $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $(FUZZ_CPIO_SRCS)

# afl-clang-fast -fsanitize=fuzzer links AFL++'s libFuzzer-compatible
# driver (libAFLDriver) in place of libFuzzer.
fuzz/elf_fuzz_afl: $(FUZZ_ELF_SRCS) $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_AFL_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $(FUZZ_ELF_SRCS)

fuzz/cpio_fuzz_afl: $(FUZZ_CPIO_SRCS) $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_AFL_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $(FUZZ_CPIO_SRCS)

fuzz: fuzz/elf_fuzz fuzz/cpio_fuzz

fuzz-afl: fuzz/elf_fuzz_afl fuzz/cpio_fuzz_afl

fuzz-smoke: fuzz
	$(SHELL) $(top_srcdir)/fuzz/run-smoke.sh $(top_srcdir)/fuzz fuzz $(FUZZ_TIME) $(FUZZ_SEED)

.PHONY: fuzz fuzz-afl fuzz-smoke

CLEANFILES += fuzz/elf_fuzz fuzz/cpio_fuzz fuzz/elf_fuzz_afl fuzz/cpio_fuzz_afl
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/work fuzz/artifacts fuzz/elf-smoke.log fuzz/cpio-smoke.log \
		fuzz/elf-replay.log fuzz/cpio-replay.log
.PHONY: clean-fuzz

TESTS += fuzz/smoke.sh
EXTRA_DIST += fuzz/README.md fuzz/elf_fuzz.c fuzz/cpio_fuzz.c fuzz/elf.dict fuzz/cpio.dict \
	fuzz/gen-seeds.py fuzz/run-smoke.sh fuzz/smoke.sh fuzz/corpus fuzz/regressions
