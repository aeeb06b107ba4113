/*
 * ELF loader for user programs: ELF64, x86-64, position-independent
 * (ET_DYN, static-pie), loaded at a base chosen by the kernel. Relocation
 * is the program's own business (its runtime self-relocates).
 *
 * elf_parse() is the decoder: it checks everything a malformed file can get
 * wrong and explains the first problem; elf_load() cannot fail on a parsed
 * image except for lack of memory.
 */
#ifndef VERIDIAN_ELF_H
#define VERIDIAN_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "veridian/vm.h"

#define ELF_MAX_SEGMENTS 8
#define ELF_MAX_SPAN 0x40000000ull /* an image spans at most 1 GiB */

struct elf_segment {
	uint64_t vaddr; /* offset from the load base */
	uint64_t memsz;
	uint64_t offset; /* in the file */
	uint64_t filesz;
	unsigned prot; /* VM_READ | VM_WRITE | VM_EXEC */
};

struct elf_image {
	uint64_t entry; /* offset from the load base */
	uint64_t span;  /* bytes from the base to the end of the last page */
	unsigned nsegments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/* Validate an ELF file and describe it. Returns VR_OK or VR_ENOEXEC with
 * *why set to a static sentence naming the problem. */
int elf_parse(const void *data, size_t size, struct elf_image *img, const char **why);

/* Map the segments of a parsed image at `base` (page-aligned) in `vs`:
 * fresh zeroed frames, file bytes copied in, permissions per segment.
 * VR_ENOMEM/VR_EBUSY leave nothing mapped. */
int elf_load(struct vm_space *vs, uintptr_t base, const void *data, const struct elf_image *img);

#endif
