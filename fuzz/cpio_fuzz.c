/*
 * Fuzz harness for the cpio newc reader (core/cpio.c): walk the input with
 * cpio_next() until the trailer or an error, checking that every entry lies
 * inside the input; then cpio_find() the first regular file the walk saw
 * and check it finds that same entry, and look up a name that is absent.
 * Any violation aborts (a crash for the fuzzer).
 *
 * One source for libFuzzer and AFL++ (see fuzz/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veridian/abi.h>
#include <veridian/cpio.h>
#include <veridian/klib.h>

#include "tests/unit/fake_hal.h"

#define MODE_TYPE 0170000u
#define MODE_REG 0100000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static noreturn void broken(const char *what)
{
	fprintf(stderr, "cpio_fuzz: %s\n", what);
	abort();
}

static void check_entry(const uint8_t *data, size_t size, const struct cpio_entry *e)
{
	const uint8_t *name = (const uint8_t *)e->name, *d = e->data;

	if (name < data || e->namelen >= size || name + e->namelen >= data + size)
		broken("entry name outside the archive");
	if (name[e->namelen] != '\0' || memchr(name, 0, e->namelen))
		broken("entry name not terminated where its size says");
	if (d < data || d > data + size || e->size > (size_t)(data + size - d))
		broken("entry data outside the archive");
	if ((uintptr_t)(d - data) % 4)
		broken("entry data not 4-byte aligned in the archive");
}

/* The name cpio_find() matches for an archive name ("./" dropped). */
static const char *lookup_name(const char *name)
{
	return name[0] == '.' && name[1] == '/' ? name + 2 : name;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpio_entry e, first = { 0 }, found;
	size_t off = 0, prev = 0;
	int r;

	while ((r = cpio_next(data, size, &off, &e)) == 1) {
		check_entry(data, size, &e);
		if (off <= prev || off > size)
			broken("cpio_next did not advance inside the archive");
		prev = off;
		if (!first.name && (e.mode & MODE_TYPE) == MODE_REG)
			first = e;
	}
	if (r != 0 && r != VR_EINVAL)
		broken("cpio_next returned an unknown code");
	if (r == 0 && off > size)
		broken("trailer left the offset past the end");
	r = cpio_find(data, size, "\x01no such file", &found);
	if (r != VR_ENOENT && r != VR_EINVAL)
		broken("cpio_find found a name that is not there");
	if (first.name) {
		r = cpio_find(data, size, lookup_name(first.name), &found);
		if (r != VR_OK || found.data != first.data || found.size != first.size)
			broken("cpio_find disagrees with the walk about the first file");
	}
	return 0;
}
