/*
 * ELF64 parsing and loading. The parser trusts nothing in the file: every
 * offset and size is checked for overflow and range before use, segments
 * must not overlap (at page granularity, since pages carry permissions) and
 * no segment may be both writable and executable.
 */
#include "veridian/abi.h"
#include "veridian/elf.h"
#include "veridian/klib.h"
#include "veridian/pmm.h"

#define EI_NIDENT 16
#define ET_DYN 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_TLS 7
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

struct elf64_ehdr {
	unsigned char e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

static int reject(const char **why, const char *reason)
{
	*why = reason;
	return VR_ENOEXEC;
}

static int check_header(const struct elf64_ehdr *eh, size_t size, const char **why)
{
	static const unsigned char magic[4] = { 0x7f, 'E', 'L', 'F' };

	if (size < sizeof(*eh))
		return reject(why, "file shorter than an ELF header");
	if (memcmp(eh->e_ident, magic, 4) != 0)
		return reject(why, "not an ELF file (bad magic)");
	if (eh->e_ident[4] != 2)
		return reject(why, "not a 64-bit ELF file");
	if (eh->e_ident[5] != 1)
		return reject(why, "not little-endian");
	if (eh->e_ident[6] != 1 || eh->e_version != 1)
		return reject(why, "unknown ELF version");
	if (eh->e_machine != EM_X86_64)
		return reject(why, "not an x86-64 executable");
	if (eh->e_type != ET_DYN)
		return reject(why, "not position-independent (need ET_DYN, link with -static-pie)");
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return reject(why, "unexpected program header size");
	if (eh->e_phnum == 0)
		return reject(why, "no program headers");
	if (eh->e_phoff > size || (size - eh->e_phoff) / sizeof(struct elf64_phdr) < eh->e_phnum)
		return reject(why, "program headers extend past the end of the file");
	return VR_OK;
}

static unsigned prot_of(uint32_t flags)
{
	return (flags & PF_R ? VM_READ : 0) | (flags & PF_W ? VM_WRITE : 0) |
	       (flags & PF_X ? VM_EXEC : 0);
}

static int check_load(const struct elf64_phdr *ph, size_t size, const char **why)
{
	if (ph->p_filesz > ph->p_memsz)
		return reject(why, "segment file size exceeds its memory size");
	if (ph->p_offset > size || size - ph->p_offset < ph->p_filesz)
		return reject(why, "segment extends past the end of the file");
	if (ph->p_memsz == 0)
		return reject(why, "empty loadable segment");
	if (ph->p_vaddr >= ELF_MAX_SPAN || ELF_MAX_SPAN - ph->p_vaddr < ph->p_memsz)
		return reject(why, "segment outside the 1 GiB image window");
	if (ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)))
		return reject(why, "segment alignment is not a power of two");
	if ((ph->p_vaddr - ph->p_offset) % PAGE_SIZE)
		return reject(why, "segment address and file offset disagree modulo the page size");
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		return reject(why, "segment is both writable and executable");
	return VR_OK;
}

/* Segments are sorted by address by the time they are added: page ranges
 * must not overlap the previous one. */
static int add_segment(struct elf_image *img, const struct elf64_phdr *ph, const char **why)
{
	struct elf_segment *s;

	if (img->nsegments == ELF_MAX_SEGMENTS)
		return reject(why, "too many loadable segments");
	if (img->nsegments) {
		const struct elf_segment *prev = &img->seg[img->nsegments - 1];
		if (ALIGN_DOWN(ph->p_vaddr, PAGE_SIZE) <
		    ALIGN_UP(prev->vaddr + prev->memsz, PAGE_SIZE))
			return reject(why, "loadable segments overlap or are out of order");
	}
	s = &img->seg[img->nsegments++];
	*s = (struct elf_segment){ ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz,
				   prot_of(ph->p_flags) };
	img->span = ALIGN_UP(ph->p_vaddr + ph->p_memsz, PAGE_SIZE);
	return VR_OK;
}

static int check_entry(const struct elf_image *img, uint64_t entry, const char **why)
{
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct elf_segment *s = &img->seg[i];
		if (entry >= s->vaddr && entry - s->vaddr < s->memsz)
			return s->prot & VM_EXEC ? VR_OK
						 : reject(why, "entry point is not executable");
	}
	return reject(why, "entry point outside every loadable segment");
}

int elf_parse(const void *data, size_t size, struct elf_image *img, const char **why)
{
	struct elf64_ehdr eh;
	int err;

	*img = (struct elf_image){ 0 };
	*why = "";
	if (!data || size < sizeof(eh))
		return reject(why, "file shorter than an ELF header");
	/* Copy headers out: the file may sit at any alignment (cpio newc
	 * aligns data to 4 bytes only). */
	memcpy(&eh, data, sizeof(eh));
	err = check_header(&eh, size, why);
	if (err)
		return err;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, (const char *)data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return reject(why,
				      "needs a dynamic linker (PT_INTERP); link with -static-pie");
		if (ph.p_type == PT_TLS)
			return reject(why, "thread-local storage segments are not supported yet");
		if (ph.p_type != PT_LOAD)
			continue;
		err = check_load(&ph, size, why);
		if (!err)
			err = add_segment(img, &ph, why);
		if (err)
			return err;
	}
	if (!img->nsegments)
		return reject(why, "no loadable segments");
	err = check_entry(img, eh.e_entry, why);
	img->entry = eh.e_entry;
	return err;
}

/* Map one segment page by page, copying the file bytes that fall in each.
 * *done: the image offset below which every page is the loader's (segments
 * come sorted, so that is where an unload must stop). */
static int load_segment(struct vm_space *vs, uintptr_t base, const char *file,
			const struct elf_segment *s, uint64_t *done)
{
	uint64_t first = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
	uint64_t end = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);

	for (uint64_t page = first; page < end; page += PAGE_SIZE) {
		uint64_t pa = pmm_alloc(1, 1);
		uint64_t lo = MAX(page, s->vaddr), hi = MIN(page + PAGE_SIZE, s->vaddr + s->filesz);
		int err;

		if (!pa)
			return VR_ENOMEM;
		if (hi > lo)
			memcpy((char *)phys_to_virt(pa) + (lo - page),
			       file + s->offset + (lo - s->vaddr), hi - lo);
		err = vm_map(vs, base + page, pa, s->prot, true);
		if (err) {
			pmm_free(pa, 1);
			return err;
		}
		*done = page + PAGE_SIZE;
	}
	return VR_OK;
}

/* Unmap the pages the loader mapped (below `done`), and only those: a page
 * that was in the way (VR_EBUSY) belongs to someone else. */
static void unload(struct vm_space *vs, uintptr_t base, const struct elf_image *img, uint64_t done)
{
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct elf_segment *s = &img->seg[i];
		for (uint64_t p = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
		     p < s->vaddr + s->memsz && p < done; p += PAGE_SIZE)
			vm_unmap(vs, base + p);
	}
}

int elf_load(struct vm_space *vs, uintptr_t base, const void *data, const struct elf_image *img)
{
	uint64_t done = 0;

	KASSERT(IS_ALIGNED(base, PAGE_SIZE));
	for (unsigned i = 0; i < img->nsegments; i++) {
		int err = load_segment(vs, base, data, &img->seg[i], &done);
		if (err) {
			unload(vs, base, img, done);
			return err;
		}
	}
	return VR_OK;
}
