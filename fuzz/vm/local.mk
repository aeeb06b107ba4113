# fuzz/vm: the memory fuzzer (vm_fuzz.c: core/mem.c, vm.c, pmm.c, quota.c
# and cap.c against a reference model of every translation). Not built by
# plain `make`: it needs clang (libFuzzer) and afl-clang-fast (AFL++).
#   make fuzz-vm          build fuzz/vm/vm-fuzz (libFuzzer + ASan + UBSan)
#                         and fuzz/vm/vm-fuzz-afl (AFL++)
#   make fuzz-smoke-vm    replay fuzz/vm/regressions/, then fuzz for
#                         FUZZ_VM_TIME seconds from the seed corpus
# See fuzz/vm/README.md.
FUZZ_VM_CC = clang
FUZZ_VM_AFL_CC = afl-clang-fast
FUZZ_VM_TIME = 15
FUZZ_VM_SEED = 1
FUZZ_VM_MAX_LEN = 600
FUZZ_VM_SRCS = $(top_srcdir)/fuzz/vm/vm_fuzz.c $(top_srcdir)/tests/unit/fake_hal.c \
	$(top_srcdir)/core/mem.c $(top_srcdir)/core/vm.c $(top_srcdir)/core/quota.c \
	$(top_srcdir)/core/cap.c $(top_srcdir)/core/pmm.c $(top_srcdir)/core/kheap.c \
	$(top_srcdir)/core/klib.c
FUZZ_VM_DEPS = $(FUZZ_VM_SRCS) $(top_srcdir)/tests/unit/fake_hal.h $(CORE_HDRS) \
	$(top_builddir)/config.h
FUZZ_VM_FLAGS = -std=gnu11 -g -O1 $(WARN_CFLAGS) -I$(top_srcdir)/core/include \
	-I$(top_srcdir) -I$(top_builddir)

fuzz/vm/vm-fuzz: $(FUZZ_VM_DEPS)
	@$(MKDIR_P) fuzz/vm
	$(AM_V_CC)$(FUZZ_VM_CC) $(FUZZ_VM_FLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(FUZZ_VM_SRCS) -o $@

fuzz/vm/vm-fuzz-afl: $(FUZZ_VM_DEPS)
	@$(MKDIR_P) fuzz/vm
	$(AM_V_CC)$(FUZZ_VM_AFL_CC) $(FUZZ_VM_FLAGS) -fsanitize=fuzzer $(FUZZ_VM_SRCS) -o $@

fuzz-vm: fuzz/vm/vm-fuzz fuzz/vm/vm-fuzz-afl

# The work corpus comes first: libFuzzer writes new inputs to the first
# directory only, so the committed corpus (read-only in distcheck) is left alone.
fuzz-smoke-vm: fuzz/vm/vm-fuzz
	@rm -rf fuzz/vm/work && $(MKDIR_P) fuzz/vm/work/corpus fuzz/vm/work/crashes
	@echo "fuzz-smoke-vm: replaying $(top_srcdir)/fuzz/vm/regressions/"
	./fuzz/vm/vm-fuzz $(top_srcdir)/fuzz/vm/regressions/*
	@echo "fuzz-smoke-vm: -seed=$(FUZZ_VM_SEED) -max_total_time=$(FUZZ_VM_TIME)"
	./fuzz/vm/vm-fuzz -seed=$(FUZZ_VM_SEED) -max_total_time=$(FUZZ_VM_TIME) \
		-max_len=$(FUZZ_VM_MAX_LEN) -dict=$(top_srcdir)/fuzz/vm/vm.dict \
		-artifact_prefix=fuzz/vm/work/crashes/ -print_final_stats=1 \
		fuzz/vm/work/corpus $(top_srcdir)/fuzz/vm/corpus

.PHONY: fuzz-vm fuzz-smoke-vm
CLEANFILES += fuzz/vm/vm-fuzz fuzz/vm/vm-fuzz-afl

clean-local: clean-local-fuzz-vm
clean-local-fuzz-vm:
	rm -rf fuzz/vm/work
.PHONY: clean-local-fuzz-vm

TESTS += fuzz/vm/fuzz-smoke-vm.sh
EXTRA_DIST += fuzz/vm/README.md fuzz/vm/vm_fuzz.c fuzz/vm/vm.dict fuzz/vm/fuzz-smoke-vm.sh \
	fuzz/vm/gen-seeds.py $(FUZZ_VM_CORPUS) $(FUZZ_VM_REGRESSIONS)
FUZZ_VM_CORPUS = fuzz/vm/corpus/demand-zero fuzz/vm/corpus/cow-chain \
	fuzz/vm/corpus/shared-two-spaces fuzz/vm/corpus/protect-unmap fuzz/vm/corpus/huge-cut \
	fuzz/vm/corpus/huge-shared fuzz/vm/corpus/private fuzz/vm/corpus/multi-range
FUZZ_VM_REGRESSIONS = fuzz/vm/regressions/cow-copy-of-copy \
	fuzz/vm/regressions/huge-cow-write-back
