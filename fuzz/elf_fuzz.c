/*
 * Fuzz harness for the ELF decoder and loader (core/elf.c): elf_parse() on
 * the input; if it accepts, elf_load() into a fresh address space over the
 * fake HAL, then check that the user sees exactly the file's bytes and
 * zeros, that the space is consistent, and that destroying it gives back
 * every frame. Any violation aborts (a crash for the fuzzer).
 *
 * One source for libFuzzer (clang -fsanitize=fuzzer) and AFL++
 * (afl-clang-fast -fsanitize=fuzzer links AFL++'s libFuzzer-compatible
 * driver). See fuzz/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veridian/abi.h>
#include <veridian/elf.h>
#include <veridian/klib.h>
#include <veridian/pmm.h>
#include <veridian/vm.h>

#include "tests/unit/fake_hal.h"

#define RAM_BYTES (1u << 20) /* small: big images hit ENOMEM fast, and that path is tested */
#define BASE (VR_SLOT_BASE + VR_SLOT_IMAGE_OFF)
#define VERIFY_MAX (64u << 10) /* bytes per segment compared after a load */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static noreturn void broken(const char *what)
{
	fprintf(stderr, "elf_fuzz: %s\n", what);
	abort();
}

/* The loaded segment reads back as its file bytes, then zeros. */
static void verify_segment(const struct vm_space *vs, const uint8_t *file,
			   const struct elf_segment *s)
{
	static uint8_t buf[4096];
	uint64_t n = MIN(s->memsz, VERIFY_MAX);

	for (uint64_t at = 0; at < n; at += sizeof(buf)) {
		size_t chunk = (size_t)MIN(sizeof(buf), n - at);
		if (vm_copy_from_user(vs, buf, BASE + s->vaddr + at, chunk) != VR_OK)
			broken("a loaded segment is not readable");
		for (size_t i = 0; i < chunk; i++) {
			uint8_t want = at + i < s->filesz ? file[s->offset + at + i] : 0;
			if (buf[i] != want)
				broken("a loaded byte differs from the file (or bss is not zero)");
		}
	}
}

static void load_and_check(const uint8_t *data, const struct elf_image *img)
{
	struct vm_space vs;
	int err;

	if (vm_space_init(&vs) != VR_OK)
		broken("no memory for an empty address space");
	err = elf_load(&vs, BASE, data, img);
	if (err == VR_OK) {
		for (unsigned i = 0; i < img->nsegments; i++)
			verify_segment(&vs, data, &img->seg[i]);
	} else if (err != VR_ENOMEM) {
		broken("elf_load failed with something other than ENOMEM");
	} else if (vs.mapped_pages || vs.owned_pages) {
		broken("elf_load failed but left pages mapped");
	}
	if (!vm_space_check(&vs))
		broken("vm_space_check failed after elf_load");
	vm_space_destroy(&vs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct pmm_stats before, after;
	struct elf_image img;
	const char *why = NULL;

	if (!ready) {
		if (!fake_hal_init(RAM_BYTES))
			broken("cannot allocate the fake RAM");
		ready = true;
	}
	/* A fresh allocator per input: runs do not depend on each other. */
	if (pmm_init(&fake_hal.bi) != VR_OK)
		broken("pmm_init failed");
	pmm_get_stats(&before);
	if (elf_parse(data, size, &img, &why) != VR_OK) {
		if (!why || !*why)
			broken("elf_parse rejected without a reason");
		return 0;
	}
	load_and_check(data, &img);
	pmm_get_stats(&after);
	if (after.free_pages != before.free_pages || !pmm_check())
		broken("frames leaked by elf_load + vm_space_destroy");
	return 0;
}
