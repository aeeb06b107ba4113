/*
 * cpio newc reader. Every field is validated: hex digits only, name and
 * data within the archive, the name NUL-terminated where its size says.
 */
#include "veridian/abi.h"
#include "veridian/cpio.h"
#include "veridian/klib.h"

#define CPIO_HDR_SIZE 110
#define CPIO_FIELDS 13
#define CPIO_MODE_TYPE 0170000u
#define CPIO_MODE_REG 0100000u

enum {
	F_INO,
	F_MODE,
	F_UID,
	F_GID,
	F_NLINK,
	F_MTIME,
	F_FILESIZE,
	F_DEVMAJ,
	F_DEVMIN,
	F_RDEVMAJ,
	F_RDEVMIN,
	F_NAMESIZE,
	F_CHECK
};

static int hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return VR_EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return VR_OK;
}

int cpio_next(const void *archive, size_t size, size_t *offset, struct cpio_entry *e)
{
	const char *base = archive, *h;
	uint32_t f[CPIO_FIELDS];
	size_t off = *offset, name_at, data_at;

	if (off > size || size - off < CPIO_HDR_SIZE)
		return VR_EINVAL;
	h = base + off;
	if (memcmp(h, "070701", 6) != 0 && memcmp(h, "070702", 6) != 0)
		return VR_EINVAL;
	for (int i = 0; i < CPIO_FIELDS; i++)
		if (hex8(h + 6 + 8 * i, &f[i]))
			return VR_EINVAL;
	name_at = off + CPIO_HDR_SIZE;
	if (f[F_NAMESIZE] == 0 || size - name_at < f[F_NAMESIZE])
		return VR_EINVAL;
	if (base[name_at + f[F_NAMESIZE] - 1] != '\0')
		return VR_EINVAL;
	data_at = ALIGN_UP(name_at + f[F_NAMESIZE], (size_t)4);
	if (data_at > size || size - data_at < f[F_FILESIZE])
		return VR_EINVAL;
	e->name = base + name_at;
	e->namelen = f[F_NAMESIZE] - 1;
	e->data = base + data_at;
	e->size = f[F_FILESIZE];
	e->mode = f[F_MODE];
	if (kstrnlen(e->name, e->namelen + 1) != e->namelen)
		return VR_EINVAL; /* embedded NUL */
	*offset = MIN(ALIGN_UP(data_at + f[F_FILESIZE], (size_t)4), size);
	if (kstrcmp(e->name, "TRAILER!!!") == 0)
		return 0;
	return 1;
}

int cpio_find(const void *archive, size_t size, const char *name, struct cpio_entry *e)
{
	size_t off = 0;
	int r;

	while ((r = cpio_next(archive, size, &off, e)) == 1) {
		const char *n = e->name;
		if (n[0] == '.' && n[1] == '/')
			n += 2;
		if ((e->mode & CPIO_MODE_TYPE) == CPIO_MODE_REG && kstrcmp(n, name) == 0)
			return VR_OK;
	}
	return r == 0 ? VR_ENOENT : r;
}
