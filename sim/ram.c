/*
 * Simulated physical memory: one memfd, mapped once in the host as the
 * kernel's linear map (hal_physmap_base). The same file is mapped again at
 * user virtual addresses by mmu.c, so user pages and the kernel's view of
 * them are the same bytes, as with real RAM.
 *
 * Every dynamic kernel allocation comes out of this region through core's
 * frame allocator; nothing here mallocs on the kernel's behalf. That keeps
 * the whole machine state in one place (snapshots are a copy of it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/sim.h"

uintptr_t hal_physmap_base;

static struct {
	int fd;
	uint64_t size;
	uint8_t *base;
} ram = { .fd = -1 };

int sim_ram_init(uint64_t size, const char **err)
{
	void *p;

	if (size < SIM_RAM_MIN || size > SIM_RAM_MAX || size % VR_PAGE_SIZE) {
		*err = "size out of range";
		return -1;
	}
	ram.fd = memfd_create("veridian-ram", MFD_CLOEXEC);
	if (ram.fd < 0 || ftruncate(ram.fd, (off_t)size) < 0) {
		*err = strerror(errno);
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, ram.fd, 0);
	if (p == MAP_FAILED) {
		*err = strerror(errno);
		return -1;
	}
	ram.base = p;
	ram.size = size;
	hal_physmap_base = (uintptr_t)p;
	return 0;
}

uint64_t sim_ram_size(void)
{
	return ram.size;
}

int sim_ram_fd(void)
{
	return ram.fd;
}

void *sim_ram_ptr(uint64_t pa, size_t len)
{
	if (pa > ram.size || len > ram.size - pa)
		return NULL;
	return ram.base + pa;
}

/* Read the whole initrd into RAM just below `top`. Returns its physical
 * address, or 0 (never a valid initrd address: the low area is reserved). */
static uint64_t load_initrd(const char *path, uint64_t *size_out)
{
	struct stat st;
	uint64_t pa;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr,
			"veridian-sim: cannot open initrd %s: %s (build it with 'make', "
			"or name one with --initrd=FILE)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if ((uint64_t)st.st_size > ram.size / 2) {
		fprintf(stderr,
			"veridian-sim: initrd %s (%lld bytes) does not fit in half of "
			"the %llu MiB of RAM; use a larger --memory\n",
			path, (long long)st.st_size, (unsigned long long)(ram.size >> 20));
		close(fd);
		return 0;
	}
	pa = (ram.size - (uint64_t)st.st_size) & ~(VR_PAGE_SIZE - 1);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, ram.base + pa + done, (size_t)st.st_size - done);
		if (n <= 0) {
			fprintf(stderr, "veridian-sim: reading initrd %s: %s\n", path,
				n < 0 ? strerror(errno) : "unexpected end of file");
			close(fd);
			return 0;
		}
		done += (size_t)n;
	}
	close(fd);
	*size_out = (uint64_t)st.st_size;
	return pa;
}

int sim_ram_load_boot_info(const char *initrd_path, struct boot_info *bi)
{
	uint64_t size = 0;
	uint64_t pa = load_initrd(initrd_path, &size);

	if (!pa)
		return -1;
	memset(bi, 0, sizeof(*bi));
	bi->initrd_pa = pa;
	bi->initrd_size = size;
	bi->mem[0].base = SIM_RAM_LOW_RESERVED;
	bi->mem[0].size = pa - SIM_RAM_LOW_RESERVED;
	bi->mem_count = 1;
	bi->cmdline = "";
	bi->mmu_1g_pages = SIM_MMU_1G_PAGES;
	return 0;
}
