/*
 * From boot protocol to kernel_main(): translate the PVH start info or the
 * multiboot2 information into a struct boot_info, bring up the CPU tables,
 * the console and the timer, and start the kernel.
 *
 * Usable RAM is every "available" (E820 type 1) range of the loader's map,
 * clipped to [1 MiB, 4 GiB) (the identity map of start.S ends at 4 GiB; the
 * first MiB holds firmware data), shrunk to whole pages, minus every range
 * still in use: the kernel image, the initrd, and the loader's structures.
 * Everything the kernel keeps (the command line) is copied into the image
 * first, so the loader's structures are only excluded to be safe.
 */
#include <veridian/abi.h>
#include <veridian/hal.h>
#include <veridian/klib.h>

#include "x86.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define PVH_BOOT_MARKER 0 /* what start.S passes as magic for PVH */
#define PVH_START_MAGIC 0x336ec578
#define E820_RAM 1

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6

#define RAM_FLOOR 0x100000ull
#define RAM_CEILING 0x100000000ull
#define RESERVED_MAX 16

/* Xen's public arch-x86/hvm/start_info.h layout (PVH boot ABI). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;
};

struct mb2_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

struct range {
	uint64_t start, end;
};

static struct boot_info boot_info;
static char cmdline[512];
static struct range reserved[RESERVED_MAX];
static unsigned reserved_count;
static const char *protocol = "?";
static bool initrd_is_module;

static noreturn void boot_fatal(const char *msg)
{
	x86_puts("veridian: boot failed: ");
	x86_puts(msg);
	x86_puts("\n");
	hal_panic_halt();
}

static void *phys(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static void reserve(uint64_t start, uint64_t len)
{
	if (len == 0)
		return;
	if (reserved_count == RESERVED_MAX)
		boot_fatal("too many reserved ranges (RESERVED_MAX)");
	reserved[reserved_count].start = ALIGN_DOWN(start, VR_PAGE_SIZE);
	reserved[reserved_count].end = ALIGN_UP(start + len, VR_PAGE_SIZE);
	reserved_count++;
}

static void emit_ram(uint64_t start, uint64_t end)
{
	struct boot_mem_region *r;

	if (boot_info.mem_count == BOOT_MEM_MAX) {
		x86_puts("veridian: more than BOOT_MEM_MAX RAM ranges; ignoring the rest\n");
		return;
	}
	r = &boot_info.mem[boot_info.mem_count++];
	r->base = start;
	r->size = end - start;
}

/* Emit [start, end) minus reserved ranges idx.. (splitting around them). */
static void carve(uint64_t start, uint64_t end, unsigned idx)
{
	for (; idx < reserved_count; idx++) {
		const struct range *r = &reserved[idx];

		if (r->end <= start || r->start >= end)
			continue;
		if (r->start > start)
			carve(start, r->start, idx + 1);
		start = r->end;
		if (start >= end)
			return;
	}
	if (start < end)
		emit_ram(start, end);
}

/* One available range of the loader's memory map. */
static void add_ram(uint64_t base, uint64_t len)
{
	uint64_t start = ALIGN_UP(MAX(base, RAM_FLOOR), VR_PAGE_SIZE);
	uint64_t end = ALIGN_DOWN(MIN(base + len, RAM_CEILING), VR_PAGE_SIZE);

	if (base + len < base || start >= end)
		return;
	carve(start, end, 0);
}

/* Copy a command line of at most `max` bytes (it need not be terminated
 * within them). */
static void set_cmdline(const char *s, size_t max)
{
	kstrlcpy(cmdline, s, MIN(sizeof(cmdline), max + 1));
}

/* Boot information is data from the loader: anything it points at must lie
 * in the identity map, or reading it would fault before anything could
 * report it. */
static const void *phys_range(uint64_t pa, uint64_t len, const char *what)
{
	if (pa + len < pa || pa + len > RAM_CEILING) {
		x86_puts("veridian: boot information out of range: ");
		boot_fatal(what);
	}
	return phys(pa);
}

static void parse_pvh(uint32_t info_pa)
{
	const struct hvm_start_info *si = phys(info_pa);
	const struct hvm_memmap_entry *map;

	protocol = "PVH";
	if (si->magic != PVH_START_MAGIC)
		boot_fatal("PVH entry without hvm_start_info magic");
	reserve(info_pa, sizeof(*si));
	if (si->cmdline_paddr) {
		set_cmdline(phys_range(si->cmdline_paddr, 1, "command line"),
			    RAM_CEILING - si->cmdline_paddr);
		reserve(si->cmdline_paddr, kstrlen(cmdline) + 1);
	}
	if (si->nr_modules) {
		const struct hvm_modlist_entry *mod =
			phys_range(si->modlist_paddr, si->nr_modules * sizeof(*mod), "module list");

		phys_range(mod->paddr, mod->size, "initrd module");
		reserve(si->modlist_paddr, si->nr_modules * sizeof(*mod));
		boot_info.initrd_pa = mod->paddr;
		boot_info.initrd_size = mod->size;
		reserve(mod->paddr, mod->size);
		initrd_is_module = true;
	}
	if (si->version < 1 || !si->memmap_paddr)
		boot_fatal("PVH start info has no memory map (version 0 is not supported)");
	map = phys_range(si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*map),
			 "memory map");
	reserve(si->memmap_paddr, si->memmap_entries * sizeof(*map));
	/* RAM is added last, once every reserved range is known. */
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (map[i].type == E820_RAM)
			add_ram(map[i].addr, map[i].size);
}

static const struct mb2_tag *mb2_next(const struct mb2_tag *t)
{
	return (const struct mb2_tag *)((uintptr_t)t + ALIGN_UP(t->size, 8));
}

static void mb2_take_module(const struct mb2_module *m)
{
	if (m->tag.size < sizeof(*m) || m->mod_end < m->mod_start)
		boot_fatal("malformed multiboot2 module tag");
	phys_range(m->mod_start, m->mod_end - m->mod_start, "multiboot2 module");
	if (initrd_is_module) {
		x86_puts("veridian: more than one multiboot2 module; using the first\n");
		return;
	}
	boot_info.initrd_pa = m->mod_start;
	boot_info.initrd_size = m->mod_end - m->mod_start;
	reserve(m->mod_start, boot_info.initrd_size);
	initrd_is_module = true;
}

/* Every tag lies inside the information block and is at least a header:
 * a size of 0 would loop forever, a large one would read past the end. */
static void mb2_check_tag(const struct mb2_tag *t, const struct mb2_tag *end)
{
	if ((uintptr_t)end - (uintptr_t)t < sizeof(*t) || t->size < sizeof(*t) ||
	    t->size > (uintptr_t)end - (uintptr_t)t)
		boot_fatal("malformed multiboot2 information (tag size)");
}

static void parse_mb2(uint32_t info_pa)
{
	uint32_t total = *(const uint32_t *)phys_range(info_pa, 8, "multiboot2 information");
	const struct mb2_tag *t, *end;
	const struct mb2_mmap *mmap = NULL;

	protocol = "multiboot2";
	if (total < 16)
		boot_fatal("malformed multiboot2 information (total size)");
	end = (const struct mb2_tag *)((uintptr_t)phys_range(info_pa, total,
							     "multiboot2 information") +
				       total);
	reserve(info_pa, total);
	for (t = phys(info_pa + 8); t < end; t = mb2_next(t)) {
		mb2_check_tag(t, end);
		if (t->type == MB2_TAG_END)
			break;
		if (t->type == MB2_TAG_CMDLINE)
			set_cmdline((const char *)(t + 1), t->size - sizeof(*t));
		else if (t->type == MB2_TAG_MODULE)
			mb2_take_module((const struct mb2_module *)t);
		else if (t->type == MB2_TAG_MMAP)
			mmap = (const struct mb2_mmap *)t;
	}
	if (!mmap)
		boot_fatal("multiboot2 information has no memory map tag");
	if (mmap->entry_size < sizeof(struct mb2_mmap_entry) || mmap->tag.size < sizeof(*mmap))
		boot_fatal("malformed multiboot2 memory map (entry size)");
	for (uint32_t off = sizeof(*mmap); off + sizeof(struct mb2_mmap_entry) <= mmap->tag.size;
	     off += mmap->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)((uintptr_t)mmap + off);

		if (e->type == E820_RAM)
			add_ram(e->addr, e->len);
	}
}

/* The initramfs linked into the image, when the loader gave none. */
static void use_embedded_initrd(void)
{
	boot_info.initrd_pa = (uintptr_t)x86_initrd_start;
	boot_info.initrd_size = (uintptr_t)(x86_initrd_end - x86_initrd_start);
}

/* 1 GiB pages (PDPTE.PS): CPUID 0x80000001 EDX bit 26 ("Page1GB"). QEMU's
 * default TCG CPU lacks it; -cpu qemu64,+pdpe1gb or -cpu max has it. */
static uint32_t has_1g_pages(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, &a, &b, &c, &d);
	if (a < 0x80000001)
		return 0;
	cpuid(0x80000001, &a, &b, &c, &d);
	return (d >> 26) & 1;
}

static void report_boot(void)
{
	uint64_t pages = 0;

	for (uint32_t i = 0; i < boot_info.mem_count; i++)
		pages += boot_info.mem[i].size / VR_PAGE_SIZE;
	x86_puts("veridian.elf: ");
	x86_puts(protocol);
	x86_puts(" boot, ");
	x86_put_dec(pages * VR_PAGE_SIZE >> 20);
	x86_puts(" MiB usable in ");
	x86_put_dec(boot_info.mem_count);
	x86_puts(" ranges, initrd ");
	x86_put_dec(boot_info.initrd_size);
	x86_puts(initrd_is_module ? " bytes (boot module)\n" : " bytes (built in)\n");
	if (x86_cmdline_has("boottime")) {
		x86_puts("veridian: kernel_main after ");
		x86_put_dec(rdtsc() - x86_boot_tsc);
		x86_puts(" tsc ticks from kernel entry\n");
	}
}

bool x86_cmdline_has(const char *opt)
{
	size_t n = kstrlen(opt);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, opt, n) && (p[n] == ' ' || p[n] == '\0'))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

/*
 * Called by start.S in long mode on the boot stack, interrupts off, with the
 * value of eax at entry (multiboot2 magic, or PVH_BOOT_MARKER) and ebx.
 * Never returns: kernel_main() turns this stack into the idle thread's.
 */
noreturn void x86_boot_main(uint32_t magic, uint32_t info_pa)
{
	x86_serial_init();
	x86_cpu_init(); /* first: a fault while parsing the loader's data is then reported */
	reserve((uintptr_t)x86_kernel_start, (uintptr_t)(x86_kernel_end - x86_kernel_start));
	if (magic == MB2_BOOTLOADER_MAGIC)
		parse_mb2(info_pa);
	else if (magic == PVH_BOOT_MARKER)
		parse_pvh(info_pa);
	else
		boot_fatal(
			"entered by an unknown boot protocol (eax is neither PVH nor multiboot2)");
	if (!initrd_is_module)
		use_embedded_initrd();
	boot_info.cmdline = cmdline;
	boot_info.mmu_1g_pages = has_1g_pages();
	if (boot_info.mem_count == 0)
		boot_fatal("no usable RAM between 1 MiB and 4 GiB");
	x86_timer_init();
	hal_physmap_base = 0;
	report_boot();
	kernel_main(&boot_info);
}
