/*
 * memtest: memory objects, mappings, demand-zero, copy-on-write, shared
 * memory, fault handlers (a user-level pager), quotas and reclaim, from
 * user space. Run in both builds by tests/system/mem-sim.sh and
 * mem-qemu.sh.
 *
 *   memtest            the driver: runs `memtest all` in a child ROUNDS
 *                      times and checks that frames, slab objects, memory
 *                      objects and page tables are back to their counts
 *                      before each round; prints
 *                      "memtest: reclaim: N rounds, free pages before B after A, ..."
 *   memtest all        every check below; prints "memtest: N checks, M failed"
 *   memtest pagesizes  prints the leaf sizes the MMU maps ("memtest: page sizes: 4K 2M")
 *   memtest huge1g     a 1 GiB object (needs > 1 GiB of free RAM): one 1 GiB
 *                      leaf where the MMU has them, 2 MiB leaves elsewhere;
 *                      prints "memtest: huge1g: ..." and the check summary
 *   memtest MODE ...   child roles (shared, cow, pager, quota, protect, deep,
 *                      private, cut, hugecut), which report through their
 *                      exit status or their faults.
 */
#include "vrt.h"

#define MAP_OFF 0x10000000ull /* where tests map objects: 256 MiB into the slot */
#define PG VR_PAGE_SIZE
#define ROUNDS 3
#define HUGE_PAGES (VR_MEM_PAGE_2M / PG) /* 4 KiB pages in a 2 MiB page */
#define GIB_OFF 0x40000000ull            /* a 1 GiB-aligned offset in the slot */
#define RW (VR_PROT_READ | VR_PROT_WRITE)

static int checks, failures;

static void check(bool ok, const char *what, long detail)
{
	checks++;
	if (!ok) {
		failures++;
		printf("memtest: FAIL %s (%ld: %s)\n", what, detail,
		       detail < 0 ? vr_strerror(detail) : "");
	}
}

static void meminfo(struct vr_meminfo *m)
{
	sys_meminfo(m);
}

static char *at(uint64_t page)
{
	return vrt_slot_addr(MAP_OFF + page * PG);
}

/* Spawn `memtest MODE` with the given capabilities: a process capability
 * handle (0 is one), or an error. */
static long spawn_mode(const char *mode, const uint32_t *caps, uint32_t ncaps)
{
	struct vr_spawn_caps sc = { .count = ncaps };
	char args[64];

	for (uint32_t i = 0; i < ncaps; i++)
		sc.handles[i] = caps[i];
	snprintf(args, sizeof(args), "memtest %s", mode);
	return sys_spawn_caps("bin/memtest", 11, args, strlen(args), &sc);
}

static int reap(long pid)
{
	int status = -1;
	long r = wait_child((uint32_t)pid, &status);

	check(r == 0, "wait", r);
	return status;
}

/* Pages are allocated on first touch, read as zero, and go back when the
 * last capability and mapping go. */
static void test_demand_zero(void)
{
	struct vr_meminfo m0, m1, m2;
	long h;

	meminfo(&m0);
	h = sys_mem_create(16);
	check(h >= 0, "create", h);
	check(sys_mem_map((uint32_t)h, at(0), 0, 16, VR_PROT_READ | VR_PROT_WRITE) == 0, "map", 0);
	meminfo(&m1);
	check(m1.object_pages == m0.object_pages, "nothing allocated at map time",
	      (long)(m1.object_pages - m0.object_pages));
	check(at(3)[100] == 0 && at(9)[4095] == 0, "demand-zero reads zero", 0);
	at(5)[7] = 42;
	meminfo(&m2);
	check(m2.object_pages == m0.object_pages + 3, "three pages touched",
	      (long)(m2.object_pages - m0.object_pages));
	check(at(5)[7] == 42, "write sticks", at(5)[7]);
	check(sys_mem_unmap(at(0), 16) == 0, "unmap", 0);
	meminfo(&m2);
	check(m2.object_pages == m0.object_pages + 3, "object keeps its pages after unmap", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 16, VR_PROT_READ) == 0, "map again", 0);
	check(at(5)[7] == 42, "contents survive unmap", at(5)[7]);
	check(sys_cap_delete((uint32_t)h) == 0, "delete cap", 0);
	check(at(5)[7] == 42, "a mapping keeps the object alive", at(5)[7]);
	check(sys_mem_unmap(at(0), 16) == 0, "unmap last", 0);
	meminfo(&m2);
	check(m2.object_pages == m0.object_pages && m2.mem_objects == m0.mem_objects,
	      "object freed with its last user", (long)(m2.object_pages - m0.object_pages));
}

/* Every error a caller can provoke. */
static void test_errors(void)
{
	long h = sys_mem_create(4), ep = sys_endpoint_create(), ro;
	const unsigned rw = VR_PROT_READ | VR_PROT_WRITE;

	check(h >= 0 && ep >= 0, "create", h);
	check(sys_mem_create(0) == VR_EINVAL, "create 0 pages", 0);
	check(sys_mem_create(VR_MEM_MAX_PAGES + 1ull) == VR_EINVAL, "create too big", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 4, rw | VR_PROT_EXEC) == VR_EINVAL, "W+X", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 4, VR_PROT_WRITE) == VR_EINVAL, "no READ", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 4, 0x80) == VR_EINVAL, "unknown prot bit", 0);
	check(sys_mem_map((uint32_t)h, at(0) + 1, 0, 4, rw) == VR_EINVAL, "misaligned", 0);
	check(sys_mem_map((uint32_t)h, at(0), 1, 4, rw) == VR_EINVAL, "past the object", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 0, rw) == VR_EINVAL, "zero pages", 0);
	check(sys_mem_map((uint32_t)h, vrt_slot_addr(VR_SLOT_SIZE - PG), 0, 2, rw) == VR_EINVAL,
	      "past the slot", 0);
	check(sys_mem_map((uint32_t)h,
			  (void *)(uintptr_t)(vrt_start_info->slot_base + VR_SLOT_SIZE), 0, 1,
			  rw) == VR_EINVAL,
	      "another process's slot", 0);
	check(sys_mem_map((uint32_t)h, vrt_slot_addr(VR_SLOT_IMAGE_OFF), 0, 1, rw) == VR_EBUSY,
	      "over the image", 0);
	check(sys_mem_map((uint32_t)ep, at(0), 0, 1, rw) == VR_ECAP_TYPE, "endpoint", 0);
	check(sys_mem_map(0xfff0, at(0), 0, 1, rw) < 0, "bad handle", 0);
	ro = sys_cap_mint((uint32_t)h, VR_CAP_READ | VR_CAP_DELEGATE, 0, 0);
	check(ro >= 0, "mint read-only", ro);
	check(sys_mem_map((uint32_t)ro, at(0), 0, 4, rw) == VR_ECAP_RIGHTS, "write via RO cap", 0);
	check(sys_mem_map((uint32_t)ro, at(0), 0, 4, VR_PROT_READ | VR_PROT_EXEC) == VR_ECAP_RIGHTS,
	      "exec via RO cap", 0);
	check(sys_mem_map((uint32_t)ro, at(0), 0, 4, VR_PROT_READ) == 0, "read via RO cap", 0);
	check(sys_mem_protect(at(0), rw) == VR_ECAP_RIGHTS, "protect beyond the cap", 0);
	check(sys_mem_protect(at(1), VR_PROT_READ) == VR_ENOENT, "protect mid-mapping", 0);
	check(sys_mem_map((uint32_t)h, at(2), 0, 4, rw) == VR_EBUSY, "overlap", 0);
	check(sys_mem_unmap(at(100), 1) == VR_ENOENT, "unmap nothing", 0);
	check(sys_mem_unmap(at(0), 0) == VR_EINVAL, "unmap 0 pages", 0);
	check(vr_sys_mem_protect_range((long)at(2), 4, VR_PROT_READ, 0, 0) == VR_ENOENT,
	      "protect a range with a hole", 0);
	check(vr_sys_mem_protect_range((long)at(0), 2, VR_PROT_WRITE, 0, 0) == VR_EINVAL,
	      "protect a range without READ", 0);
	check(vr_sys_mem_protect_range((long)at(0), 0, VR_PROT_READ, 0, 0) == VR_EINVAL,
	      "protect 0 pages", 0);
	check(sys_mem_unmap(at(0), 4) == 0, "unmap", 0);
	check(vr_sys_mem_create_huge(100, (long)VR_MEM_PAGE_2M, 0, 0, 0) == VR_EINVAL,
	      "huge object not a whole number of huge pages", 0);
	check(vr_sys_mem_create_huge(HUGE_PAGES, (long)PG, 0, 0, 0) == VR_EINVAL,
	      "huge object of 4 KiB pages", 0);
	check(vr_sys_mem_create_huge(0, (long)VR_MEM_PAGE_2M, 0, 0, 0) == VR_EINVAL,
	      "huge object of 0 pages", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 4, rw | VR_MAP_PRIVATE | VR_MAP_NOFILL) ==
		      VR_EINVAL,
	      "private and nofill", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 4, rw | 0x400) == VR_EINVAL, "unknown map flag",
	      0);
	check(sys_mem_copy((uint32_t)ep) == VR_ECAP_TYPE, "copy an endpoint", 0);
	check(sys_thread_set_fault_ep((uint32_t)h) == VR_ECAP_TYPE, "fault ep of wrong type", 0);
	check(sys_cap_delete((uint32_t)ro) == 0 && sys_cap_delete((uint32_t)h) == 0 &&
		      sys_cap_delete((uint32_t)ep) == 0,
	      "delete", 0);
}

/* A copy shares frames until either side writes. */
static void test_cow(void)
{
	struct vr_meminfo m0, m1;
	long a = sys_mem_create(4), b;
	const unsigned rw = VR_PROT_READ | VR_PROT_WRITE;

	check(a >= 0, "create", a);
	check(sys_mem_map((uint32_t)a, at(0), 0, 4, rw) == 0, "map a", 0);
	for (int i = 0; i < 4; i++)
		at(i)[0] = (char)('a' + i);
	meminfo(&m0);
	b = sys_mem_copy((uint32_t)a);
	check(b >= 0, "copy", b);
	check(sys_mem_map((uint32_t)b, at(8), 0, 4, rw) == 0, "map b", 0);
	meminfo(&m1);
	check(m1.shared_frames == m0.shared_frames + 4, "four frames shared",
	      (long)(m1.shared_frames - m0.shared_frames));
	check(at(8)[0] == 'a' && at(11)[0] == 'd', "copy reads the original", at(8)[0]);
	at(8)[0] = 'X'; /* b's page 0 gets its own frame */
	at(1)[0] = 'Y'; /* a's page 1 too */
	check(at(0)[0] == 'a' && at(9)[0] == 'b', "writes stay on their side", at(0)[0]);
	check(at(8)[0] == 'X' && at(1)[0] == 'Y', "writes stick", 0);
	meminfo(&m1);
	check(m1.shared_frames == m0.shared_frames + 2, "two frames still shared",
	      (long)(m1.shared_frames - m0.shared_frames));
	check(m1.object_pages == m0.object_pages + 2, "two copies made",
	      (long)(m1.object_pages - m0.object_pages));
	check(sys_mem_unmap(at(8), 4) == 0 && sys_cap_delete((uint32_t)b) == 0, "drop b", 0);
	meminfo(&m1);
	check(m1.shared_frames == m0.shared_frames, "nothing shared once b is gone", 0);
	at(2)[0] = 'Z'; /* refs back to 1: the write fault just upgrades */
	check(at(2)[0] == 'Z', "write after the copy went", 0);
	check(sys_mem_unmap(at(0), 4) == 0 && sys_cap_delete((uint32_t)a) == 0, "drop a", 0);
}

/* Shared memory with a child (the capability passed at spawn), and a
 * copy-on-write copy given to a child: the child's writes stay its own. */
static void test_shared_and_cow_children(void)
{
	long m = sys_mem_create(2), c;
	uint32_t caps[1];

	check(m >= 0, "create", m);
	check(sys_mem_map((uint32_t)m, at(0), 0, 2, VR_PROT_READ | VR_PROT_WRITE) == 0, "map", 0);
	strlcpy(at(1), "from parent", 64);
	caps[0] = (uint32_t)m;
	check(reap(spawn_mode("shared", caps, 1)) == 0, "shared child", 0);
	check(strcmp(at(0), "from child") == 0, "child's write is seen", 0);
	c = sys_mem_copy((uint32_t)m);
	check(c >= 0, "copy", c);
	caps[0] = (uint32_t)c;
	check(reap(spawn_mode("cow", caps, 1)) == 0, "cow child", 0);
	check(strcmp(at(0), "from child") == 0, "the copy's write is not seen", 0);
	check(sys_cap_delete((uint32_t)c) == 0, "delete copy", 0);
	check(sys_mem_unmap(at(0), 2) == 0 && sys_cap_delete((uint32_t)m) == 0, "drop", 0);
}

/* A user-level pager: the child maps an object NOFILL with us as its fault
 * handler; we fill the page it touched through our own mapping and resume
 * it; then we refuse a fault outside any mapping and it dies with 139. */
static void test_pager(void)
{
	long ep = sys_endpoint_create(), m = sys_mem_create(4), pid, tag;
	struct vr_ipc_buffer *b = ipc_buffer();
	uint32_t caps[2];
	uint64_t addr;

	check(ep >= 0 && m >= 0, "create", ep);
	check(sys_mem_map((uint32_t)m, at(0), 0, 4, VR_PROT_READ | VR_PROT_WRITE) == 0, "map", 0);
	caps[0] = (uint32_t)ep;
	caps[1] = (uint32_t)m;
	pid = spawn_mode("pager", caps, 2);
	check(pid >= 0, "spawn pager child", pid);
	tag = sys_ipc_recv((uint32_t)ep, 0);
	check(VR_MSG_LABEL(tag) == VR_FAULT_LABEL && VR_MSG_NWORDS(tag) == VR_FAULT_WORDS,
	      "fault message", tag);
	addr = b->words[VR_FAULT_W_ADDR];
	check(b->words[VR_FAULT_W_KIND] == 0 && !(b->words[VR_FAULT_W_ACCESS] & 1),
	      "a read page fault", (long)b->words[VR_FAULT_W_ACCESS]);
	check((addr & 0xffffffffull) / PG == MAP_OFF / PG + 2, "in the page touched",
	      (long)(addr & 0xffffffffull));
	strlcpy(at(2) + 123, "paged in", 64);
	check(sys_ipc_reply(VR_MSG_TAG(VR_FAULT_RESUME, 0, 0)) == 0, "resume", 0);
	tag = sys_ipc_recv((uint32_t)ep, 0);
	check(VR_MSG_LABEL(tag) == VR_FAULT_LABEL && b->words[VR_FAULT_W_ACCESS] & 1,
	      "second fault: a write", tag);
	check(sys_ipc_reply(VR_MSG_TAG(VR_FAULT_KILL, 0, 0)) == 0, "kill verdict", 0);
	check(reap(pid) == VR_EXIT_FAULT, "pager child killed by its handler", 0);
	check(sys_mem_unmap(at(0), 4) == 0 && sys_cap_delete((uint32_t)m) == 0 &&
		      sys_cap_delete((uint32_t)ep) == 0,
	      "drop", 0);
}

/* A child that exhausts its quota: creation fails with VR_ENOMEM, touching
 * pages beyond it ends the child (139), and we carry on. */
static void test_quota(void)
{
	struct vr_quota_info q = { 0 };

	check(sys_quota_info(&q) == 0 && q.used > 0 && q.available > 0, "quota info", (long)q.used);
	check(sys_quota_set(q.used + (64ull << 20)) == 0, "lower our own quota", 0);
	check(sys_quota_set(q.used + (64ull << 20) + 1) == VR_EINVAL, "a quota cannot grow", 0);
	check(sys_quota_set(q.used / 2) == VR_EINVAL, "nor go below what is used", 0);
	check(reap(spawn_mode("quota", NULL, 0)) == VR_EXIT_FAULT, "quota child ends at its limit",
	      0);
	check(sys_quota_info(&q) == 0, "quota info after", 0);
}

/* mem_protect in a child: writing after protect(READ) is fatal. */
static void test_protect(void)
{
	check(reap(spawn_mode("protect", NULL, 0)) == VR_EXIT_FAULT, "write after protect", 0);
}

/* The stack is demand-zero below its first pages: a deep recursion works. */
static void test_deep_stack(void)
{
	check(reap(spawn_mode("deep", NULL, 0)) == 0, "deep stack", 0);
}

/* A huge object: backed at once (object pages +1024), shown by two 2 MiB
 * leaves once touched, every page reads back; unmapping and deleting it
 * gives every frame back. */
static void test_huge(void)
{
	struct vr_meminfo m0, m1;
	long h;

	meminfo(&m0);
	h = vr_sys_mem_create_huge(2 * HUGE_PAGES, (long)VR_MEM_PAGE_2M, 0, 0, 0);
	check(h >= 0, "create huge", h);
	meminfo(&m1);
	check(m1.object_pages == m0.object_pages + 2 * HUGE_PAGES, "huge object backed at once",
	      (long)(m1.object_pages - m0.object_pages));
	check(m1.huge_objects == m0.huge_objects + 1, "huge object counted", 0);
	check(sys_mem_map((uint32_t)h, at(0), 0, 2 * HUGE_PAGES, RW) == 0, "map huge", 0);
	for (uint64_t p = 0; p < 2 * HUGE_PAGES; p++) {
		at(p)[0] = (char)p;
		at(p)[PG - 1] = (char)~p;
	}
	meminfo(&m1);
	check(m1.leaves_2m == m0.leaves_2m + 2, "two 2 MiB leaves",
	      (long)(m1.leaves_2m - m0.leaves_2m));
	check(m1.object_pages == m0.object_pages + 2 * HUGE_PAGES, "touching allocates nothing", 0);
	for (uint64_t p = 0; p < 2 * HUGE_PAGES; p++)
		if (at(p)[0] != (char)p || at(p)[PG - 1] != (char)~p) {
			check(false, "huge page reads back", (long)p);
			break;
		}
	check(sys_mem_unmap(at(0), 2 * HUGE_PAGES) == 0 && sys_cap_delete((uint32_t)h) == 0,
	      "drop huge", 0);
	meminfo(&m1);
	check(m1.leaves_2m == m0.leaves_2m && m1.huge_objects == m0.huge_objects &&
		      m1.object_pages == m0.object_pages,
	      "huge leaves and object gone", (long)(m1.object_pages - m0.object_pages));
	check(m1.free_pages + (m1.table_pages - m0.table_pages) == m0.free_pages,
	      "every frame of the huge object back", (long)(m0.free_pages - m1.free_pages));
}

/* Private mappings: writable through a read-only capability, isolated
 * from the object, from each other and from another process's; their
 * copies go with the mappings. */
static void test_private(void)
{
	struct vr_meminfo m0, m1;
	long m = sys_mem_create(4), ro;
	uint32_t caps[1];

	check(m >= 0, "create", m);
	check(sys_mem_map((uint32_t)m, at(0), 0, 4, RW) == 0, "map shared", 0);
	strlcpy(at(0), "object", 64);
	ro = sys_cap_mint((uint32_t)m, VR_CAP_READ | VR_CAP_GRANT, 0, 0);
	check(ro >= 0, "mint read-only", ro);
	meminfo(&m0);
	check(sys_mem_map((uint32_t)ro, at(8), 0, 4, RW | VR_MAP_PRIVATE) == 0,
	      "private writable mapping via a read-only cap", 0);
	check(sys_mem_map((uint32_t)ro, at(16), 0, 4, RW | VR_MAP_PRIVATE) == 0,
	      "second private mapping", 0);
	check(sys_mem_map((uint32_t)ro, at(24), 0, 4, RW) == VR_ECAP_RIGHTS,
	      "shared writable mapping via a read-only cap", 0);
	check(strcmp(at(8), "object") == 0 && strcmp(at(16), "object") == 0,
	      "private mappings read the object", 0);
	strlcpy(at(8), "first", 64);
	strlcpy(at(16), "second", 64);
	check(strcmp(at(0), "object") == 0, "the object never sees private writes", 0);
	check(strcmp(at(8), "first") == 0 && strcmp(at(16), "second") == 0,
	      "private mappings are isolated from each other", 0);
	caps[0] = (uint32_t)ro;
	check(reap(spawn_mode("private", caps, 1)) == 0, "private child", 0);
	check(strcmp(at(0), "object") == 0 && strcmp(at(8), "first") == 0,
	      "another process's private writes are not seen", 0);
	meminfo(&m1);
	check(m1.mem_objects == m0.mem_objects + 2, "one copy per private mapping",
	      (long)(m1.mem_objects - m0.mem_objects));
	check(sys_mem_unmap(at(9), 2) == 0, "cut a private mapping", 0);
	check(strcmp(at(8), "first") == 0, "its first piece keeps its copy", 0);
	check(sys_mem_unmap(at(8), 12) == 0, "unmap the private mappings", 0);
	meminfo(&m1);
	check(m1.mem_objects == m0.mem_objects && m1.object_pages == m0.object_pages,
	      "private copies reclaimed on unmap", (long)(m1.object_pages - m0.object_pages));
	check(sys_mem_unmap(at(0), 4) == 0 && sys_cap_delete((uint32_t)ro) == 0 &&
		      sys_cap_delete((uint32_t)m) == 0,
	      "drop", 0);
}

/* Spawn child `mode` with us as its fault handler (handle 0; `cap`, if
 * not VR_CAP_INVALID, at handle 1) and expect one page fault at page
 * `page` of MAP_OFF with the given access; the child dies with 139. */
static void expect_fault(const char *mode, uint32_t cap, uint64_t page, bool write)
{
	long ep = sys_endpoint_create(), pid, tag;
	struct vr_ipc_buffer *b = ipc_buffer();
	uint32_t caps[2] = { (uint32_t)ep, cap };
	uint64_t addr;

	check(ep >= 0, "endpoint", ep);
	pid = spawn_mode(mode, caps, cap == VR_CAP_INVALID ? 1 : 2);
	check(pid >= 0, mode, pid);
	/* a child that fails early exits without faulting: do not wait forever */
	tag = vr_sys_ipc_recv(ep, VR_IPC_TIMEOUT, 10000000000, 0, 0);
	addr = b->words[VR_FAULT_W_ADDR] & 0xffffffffull;
	check(VR_MSG_LABEL(tag) == VR_FAULT_LABEL && b->words[VR_FAULT_W_KIND] == 0, mode, tag);
	check(tag >= 0 && addr / PG == MAP_OFF / PG + page, "fault in the expected page",
	      (long)addr);
	check(tag >= 0 && !!(b->words[VR_FAULT_W_ACCESS] & 1) == write, "fault access",
	      (long)b->words[VR_FAULT_W_ACCESS]);
	if (tag >= 0)
		check(sys_ipc_reply(VR_MSG_TAG(VR_FAULT_KILL, 0, 0)) == 0, "kill verdict", 0);
	check(reap(pid) == VR_EXIT_FAULT, mode, 0);
	check(sys_cap_delete((uint32_t)ep) == 0, "delete endpoint", 0);
}

/* Partial unmap and protect, in children that then touch the part taken
 * away: the fault names exactly that page. */
static void test_partial(void)
{
	expect_fault("cuthole", VR_CAP_INVALID, 3, false);
	expect_fault("cutro", VR_CAP_INVALID, 6, true);
	expect_fault("hugecut", VR_CAP_INVALID, 105, false);
}

static int run_all(void)
{
	test_demand_zero();
	test_errors();
	test_cow();
	test_shared_and_cow_children();
	test_pager();
	test_quota();
	test_protect();
	test_deep_stack();
	test_huge();
	test_private();
	test_partial();
	printf("memtest: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

/* ---- Child roles: exit 0 on success ---- */

static int child_shared(void)
{
	if (sys_mem_map(0, at(0), 0, 2, VR_PROT_READ | VR_PROT_WRITE))
		return 1;
	if (strcmp(at(1), "from parent"))
		return 2;
	strlcpy(at(0), "from child", 64);
	return 0;
}

static int child_cow(void)
{
	if (sys_mem_map(0, at(0), 0, 2, VR_PROT_READ | VR_PROT_WRITE))
		return 1;
	if (strcmp(at(0), "from child") || strcmp(at(1), "from parent"))
		return 2;
	strlcpy(at(0), "changed by the copy", 64);
	return strcmp(at(0), "changed by the copy") ? 3 : 0;
}

static int child_pager(void)
{
	if (sys_thread_set_fault_ep(0))
		return 1;
	if (sys_mem_map(1, at(0), 0, 4, VR_PROT_READ | VR_PROT_WRITE | VR_MAP_NOFILL))
		return 2;
	if (strcmp(at(2) + 123, "paged in"))
		return 3;
	*(volatile char *)vrt_slot_addr(MAP_OFF - PG) = 1; /* no mapping: the pager kills us */
	return 4;
}

static int child_quota(void)
{
	struct vr_quota_info q = { 0 };
	long h;

	if (sys_quota_info(&q) || sys_quota_set(q.used + 64 * 1024))
		return 1;
	if (sys_mem_create(VR_MEM_MAX_PAGES) != VR_ENOMEM)
		return 2; /* its page array alone is 2 MiB */
	h = sys_mem_create(64);
	if (h < 0 || sys_mem_map((uint32_t)h, at(0), 0, 64, VR_PROT_READ | VR_PROT_WRITE))
		return 3;
	if (sys_mem_copy((uint32_t)h) < 0)
		return 4; /* nothing resident yet: a copy is cheap */
	for (int i = 0; i < 64; i++)
		at((uint64_t)i)[0] = 1; /* dies here once the quota is spent */
	return 5;
}

static int child_protect(void)
{
	long h = sys_mem_create(1);

	if (h < 0 || sys_mem_map((uint32_t)h, at(0), 0, 1, VR_PROT_READ | VR_PROT_WRITE))
		return 1;
	at(0)[0] = 1;
	if (sys_mem_protect(at(0), VR_PROT_READ) || at(0)[0] != 1)
		return 2;
	at(0)[0] = 2;
	return 3;
}

static int child_private(void)
{
	if (sys_mem_map(0, at(0), 0, 4, RW | VR_MAP_PRIVATE) ||
	    sys_mem_map(0, at(8), 0, 4, VR_PROT_READ))
		return 1;
	if (strcmp(at(0), "object"))
		return 2;
	strlcpy(at(0), "child", 64);
	return strcmp(at(0), "child") || strcmp(at(8), "object") ? 3 : 0;
}

/* 8 pages holding 1..8; [2, 4) unmapped, [5, 7) read-only: every page
 * left reads back and the writable ones take writes. 0 if so. */
static int cut_setup(void)
{
	static const int readable[] = { 0, 1, 4, 5, 6, 7 }, writable[] = { 0, 1, 4, 7 };
	long h = sys_mem_create(8);

	if (sys_thread_set_fault_ep(0) || h < 0 || sys_mem_map((uint32_t)h, at(0), 0, 8, RW))
		return 10;
	for (int p = 0; p < 8; p++)
		at((uint64_t)p)[0] = (char)(p + 1);
	if (sys_mem_unmap(at(2), 2) || vr_sys_mem_protect_range((long)at(5), 2, VR_PROT_READ, 0, 0))
		return 11;
	for (size_t i = 0; i < sizeof(readable) / sizeof(readable[0]); i++)
		if (at((uint64_t)readable[i])[0] != readable[i] + 1)
			return 12;
	for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
		at((uint64_t)writable[i])[1] = 1;
	return 0;
}

static int child_cuthole(void)
{
	int err = cut_setup();

	return err ? err : *(volatile char *)at(3); /* unmapped: the handler kills us */
}

static int child_cutro(void)
{
	int err = cut_setup();

	if (err)
		return err;
	*(volatile char *)at(6) = 1; /* read-only: the handler kills us */
	return 13;
}

/* A 2 MiB page cut in the middle: the rest still reads back, the 2 MiB
 * leaf is gone (split), the cut pages fault. */
static int child_hugecut(void)
{
	struct vr_meminfo m0, m1;
	long h = vr_sys_mem_create_huge(HUGE_PAGES, (long)VR_MEM_PAGE_2M, 0, 0, 0);

	if (sys_thread_set_fault_ep(0) || h < 0 ||
	    sys_mem_map((uint32_t)h, at(0), 0, HUGE_PAGES, RW))
		return 10;
	meminfo(&m0);
	for (uint64_t p = 0; p < HUGE_PAGES; p++)
		at(p)[0] = (char)(p + 1);
	meminfo(&m1);
	if (m1.leaves_2m != m0.leaves_2m + 1)
		return 11;
	if (sys_mem_unmap(at(100), 10))
		return 12;
	meminfo(&m1);
	if (m1.leaves_2m != m0.leaves_2m)
		return 13;
	if (at(99)[0] != (char)100 || at(110)[0] != (char)111 || at(511)[0] != (char)512)
		return 14;
	return *(volatile char *)at(105);
}

/* 48 frames of 4 KiB: deeper than the stack's eager pages. */
static int recurse(int depth)
{
	volatile char buf[4000];

	buf[0] = (char)depth;
	buf[sizeof(buf) - 1] = (char)depth;
	if (depth == 0)
		return 0;
	return recurse(depth - 1) + buf[0] - depth;
}

static int child_deep(void)
{
	return recurse(48) == 0 ? 0 : 1;
}

/* Pages of the 1 GiB object that run_huge1g writes and reads back: every
 * eighth, and those around the cut (each first touch of a page costs
 * veridian-sim a host page fault, tens of microseconds here). */
static bool huge1g_touched(uint64_t p, uint64_t cut)
{
	return p % 8 == 0 || (p + 1 >= cut && p <= cut + 1);
}

/* A 1 GiB object mapped at a 1 GiB-aligned address: one 1 GiB leaf if
 * the MMU has them, else 512 2 MiB leaves; a one-page cut splits it; all
 * its frames come back. Needs an aligned free GiB (RAM > 2 GiB). */
static int run_huge1g(void)
{
	struct vr_meminfo m0, m1;
	const uint64_t n = VR_MEM_MAX_PAGES, cut = (5 * VR_MEM_PAGE_2M + 3 * PG) / PG;
	char *base = vrt_slot_addr(GIB_OFF);
	bool has_1g;
	long h;

	meminfo(&m0);
	has_1g = m0.page_sizes & VR_MEM_PAGE_1G;
	h = vr_sys_mem_create_huge((long)n, (long)VR_MEM_PAGE_1G, 0, 0, 0);
	check(h >= 0, "create a 1 GiB object", h);
	check(h >= 0 && sys_mem_map((uint32_t)h, base, 0, n, RW) == 0, "map it", 0);
	if (failures)
		goto out;
	for (uint64_t p = 0; p < n; p++)
		if (huge1g_touched(p, cut))
			base[p * PG + (p & 0xfff)] = (char)(p * 7 + 1);
	meminfo(&m1);
	if (has_1g)
		check(m1.leaves_1g == m0.leaves_1g + 1, "one 1 GiB leaf",
		      (long)(m1.leaves_1g - m0.leaves_1g));
	else
		check(m1.leaves_2m == m0.leaves_2m + 512, "512 2 MiB leaves",
		      (long)(m1.leaves_2m - m0.leaves_2m));
	printf("memtest: huge1g: %s\n",
	       has_1g ? "one 1 GiB leaf" : "512 2 MiB leaves (the MMU has no 1 GiB pages)");
	for (uint64_t p = 0; p < n; p++)
		if (huge1g_touched(p, cut) && base[p * PG + (p & 0xfff)] != (char)(p * 7 + 1)) {
			check(false, "1 GiB object reads back", (long)p);
			break;
		}
	check(sys_mem_unmap(base + cut * PG, 1) == 0, "cut one page", 0);
	meminfo(&m1);
	check(m1.leaves_1g == m0.leaves_1g && m1.leaves_2m == m0.leaves_2m + 511,
	      "the cut splits down to 4 KiB leaves around it", (long)(m1.leaves_2m - m0.leaves_2m));
	check(base[(cut - 1) * PG + ((cut - 1) & 0xfff)] == (char)((cut - 1) * 7 + 1) &&
		      base[(cut + 1) * PG + ((cut + 1) & 0xfff)] == (char)((cut + 1) * 7 + 1),
	      "pages beside the cut still mapped", 0);
	check(sys_mem_unmap(base, n) == 0 && sys_cap_delete((uint32_t)h) == 0, "drop", 0);
	meminfo(&m1);
	check(m1.object_pages == m0.object_pages && m1.leaves_2m == m0.leaves_2m &&
		      m1.free_pages + (m1.table_pages - m0.table_pages) == m0.free_pages,
	      "every frame of the 1 GiB object back", (long)(m0.free_pages - m1.free_pages));
out:
	printf("memtest: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}

/* The leaf sizes the kernel says the MMU maps, as "4K 2M" or "4K 2M 1G". */
static int run_pagesizes(void)
{
	struct vr_meminfo m;

	meminfo(&m);
	printf("memtest: page sizes:%s%s%s\n", m.page_sizes & VR_MEM_PAGE_4K ? " 4K" : "",
	       m.page_sizes & VR_MEM_PAGE_2M ? " 2M" : "",
	       m.page_sizes & VR_MEM_PAGE_1G ? " 1G" : "");
	return 0;
}

/* Run `memtest all` in a child ROUNDS times; the counters must come back. */
static int driver(void)
{
	struct vr_meminfo b, a;
	int bad = 0;

	for (int r = 0; r < ROUNDS; r++) {
		long pid;
		int status;

		meminfo(&b);
		pid = spawn_mode("all", NULL, 0);
		status = pid >= 0 ? reap(pid) : -1;
		meminfo(&a);
		bad += status != 0;
		bad += a.free_pages != b.free_pages || a.slab_objects != b.slab_objects ||
		       a.mem_objects != b.mem_objects || a.table_pages != b.table_pages;
		printf("memtest: round %d: status %d, free pages %lu -> %lu, slab objects %lu -> "
		       "%lu, objects %lu -> %lu, tables %lu -> %lu\n",
		       r, status, (unsigned long)b.free_pages, (unsigned long)a.free_pages,
		       (unsigned long)b.slab_objects, (unsigned long)a.slab_objects,
		       (unsigned long)b.mem_objects, (unsigned long)a.mem_objects,
		       (unsigned long)b.table_pages, (unsigned long)a.table_pages);
	}
	printf("memtest: reclaim: %d rounds, %d failures\n", ROUNDS, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} modes[] = {
		{ "all", run_all },
		{ "shared", child_shared },
		{ "cow", child_cow },
		{ "pager", child_pager },
		{ "quota", child_quota },
		{ "protect", child_protect },
		{ "deep", child_deep },
		{ "private", child_private },
		{ "cuthole", child_cuthole },
		{ "cutro", child_cutro },
		{ "hugecut", child_hugecut },
		{ "huge1g", run_huge1g },
		{ "pagesizes", run_pagesizes },
	};

	if (argc < 2)
		return driver();
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn();
	printf("memtest: unknown mode %s\n", argv[1]);
	return 2;
}
