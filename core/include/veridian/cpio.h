/*
 * Reader for cpio "newc" archives (the initramfs format): magic "070701",
 * 13 eight-digit hex fields, the NUL-terminated name padded to 4 bytes,
 * then the data padded to 4 bytes; "TRAILER!!!" ends the archive.
 */
#ifndef VERIDIAN_CPIO_H
#define VERIDIAN_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio_entry {
	const char *name; /* NUL-terminated, inside the archive */
	size_t namelen;   /* without the NUL */
	const void *data;
	size_t size;
	uint32_t mode;
};

/* Decode the entry at *offset and advance *offset past it. Returns 1 with
 * *e filled, 0 at the trailer, VR_EINVAL for a malformed archive. */
int cpio_next(const void *archive, size_t size, size_t *offset, struct cpio_entry *e);

/* Find a regular file by exact name ("bin/init"; a leading "./" in the
 * archive is ignored). VR_ENOENT if absent, VR_EINVAL if malformed. */
int cpio_find(const void *archive, size_t size, const char *name, struct cpio_entry *e);

#endif
