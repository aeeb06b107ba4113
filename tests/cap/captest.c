/*
 * captest: capability object types from user space, run in both builds
 * (tests/system/cap-sim.sh, cap-qemu.sh): quota objects (creation, rights,
 * limits, spawning a child under one, which then cannot spend more than
 * its budget and gives it all back when it ends) and process capabilities
 * with fewer rights. Ends with "captest: N checks, N failed".
 *
 *   captest          the checks (the parent)
 *   captest hog      touch pages of a big memory object until the quota
 *                    stops it (the kernel ends it: a fault it cannot resolve)
 *   captest idle     sleep until killed
 *   captest mapped   like given, then read the page the parent mapped into
 *                    its address space and write an answer there
 *   captest selfcap  send a capability to its own (main) thread on the
 *                    endpoint at handle 0, then exit
 *   captest given    wait until a capability appears at handle 0 (put
 *                    there by the parent through its cspace capability),
 *                    then wait on it as a notification
 */
#include "vrt.h"

#define UCHECK_PROGRAM "captest"
#include "../lib/ucheck.h"

#define MS 1000000ull
#define KIB 1024ull
#define HOG_PAGES 4096u       /* 16 MiB: more than the hog's budget */
#define HOG_OFF 0x20000000ull /* where the hog maps it */
#define BUDGET (1024 * KIB)   /* the hog's quota */

static int hog(void)
{
	long m = sys_mem_create(HOG_PAGES);
	volatile char *p = vrt_slot_addr(HOG_OFF);

	if (m < 0 ||
	    sys_mem_map((uint32_t)m, (void *)p, 0, HOG_PAGES, VR_PROT_READ | VR_PROT_WRITE) < 0)
		return 2;
	for (unsigned i = 0; i < HOG_PAGES; i++)
		p[(uint64_t)i * VR_PAGE_SIZE] = 1; /* demand-zero: charged page by page */
	return 3;                                  /* the budget did not stop us */
}

static long spawn_under(const char *args, long q)
{
	struct vr_spawn_caps sc = { .flags = VR_SPAWN_QUOTA, .quota = (uint32_t)q };

	return sys_spawn_caps("bin/captest", 11, args, strlen(args), &sc);
}

static void test_quota_objects(void)
{
	struct vr_quota_info qi, own0, own1;
	struct vr_cap_info ci;
	long q, ro, sub, c, ep = sys_endpoint_create();
	int status;

	CHECK_OK(ep);
	CHECK_OK(sys_quota_info(&own0));
	q = sys_quota_create(-1, BUDGET);
	CHECK_OK(q);
	CHECK_OK(sys_cap_identify((uint32_t)q, &ci));
	CHECK_EQ(ci.type, VR_OBJ_QUOTA);
	CHECK_OK(sys_quota_cap_info((uint32_t)q, &qi));
	CHECK_EQ(qi.limit, BUDGET);
	CHECK_EQ(qi.used, 0);
	CHECK_EQ(qi.available, BUDGET);
	/* the quota's record is charged to its creator */
	CHECK_OK(sys_quota_info(&own1));
	CHECK_EQ(own1.used > own0.used, 1);
	/* a child under it cannot spend more than the budget; all returns */
	c = spawn_under("captest hog", q);
	CHECK_OK(c);
	CHECK_OK(sys_quota_cap_info((uint32_t)q, &qi));
	CHECK_EQ(qi.used > 0 && qi.used <= BUDGET, 1); /* the child's fixed costs */
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, VR_EXIT_FAULT); /* stopped by the quota, not by itself */
	CHECK_OK(sys_quota_cap_info((uint32_t)q, &qi));
	CHECK_EQ(qi.used, 0);
	/* nested quotas: the smaller limit wins */
	sub = sys_quota_create(q, 16 * BUDGET);
	CHECK_OK(sub);
	CHECK_OK(sys_quota_cap_info((uint32_t)sub, &qi));
	CHECK_EQ(qi.available, BUDGET);
	/* limits only go down, and not below what is used */
	CHECK_EQ(sys_quota_cap_set((uint32_t)q, 2 * BUDGET), VR_EINVAL);
	CHECK_OK(sys_quota_cap_set((uint32_t)q, BUDGET / 2));
	CHECK_OK(sys_quota_cap_info((uint32_t)sub, &qi));
	CHECK_EQ(qi.available, BUDGET / 2);
	c = spawn_under("captest idle", sub);
	CHECK_OK(c);
	CHECK_EQ(sys_quota_cap_set((uint32_t)q, 4 * KIB), VR_EINVAL); /* below used */
	/* deleting the capabilities does not end the child's budget */
	CHECK_OK(sys_cap_delete((uint32_t)sub));
	CHECK_OK(sys_quota_cap_info((uint32_t)q, &qi));
	CHECK_EQ(qi.used > 0, 1);
	CHECK_OK(sys_kill((uint32_t)c, 9));
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, 9);
	CHECK_OK(sys_quota_cap_info((uint32_t)q, &qi));
	CHECK_EQ(qi.used, 0);
	/* rights */
	ro = sys_cap_mint((uint32_t)q, VR_CAP_READ, 0, 0);
	CHECK_OK(ro);
	CHECK_OK(sys_quota_cap_info((uint32_t)ro, &qi));
	CHECK_EQ(sys_quota_create(ro, BUDGET), VR_ECAP_RIGHTS);
	CHECK_EQ(sys_quota_cap_set((uint32_t)ro, 8 * KIB), VR_ECAP_RIGHTS);
	CHECK_EQ(spawn_under("captest idle", ro), VR_ECAP_RIGHTS);
	/* bad input */
	CHECK_EQ(sys_quota_cap_info((uint32_t)ep, &qi), VR_ECAP_TYPE);
	CHECK_EQ(sys_quota_create(ep, BUDGET), VR_ECAP_TYPE);
	CHECK_EQ(sys_quota_create(-1, 0), VR_EINVAL);
	CHECK_EQ(sys_quota_cap_info((uint32_t)q, (struct vr_quota_info *)8), VR_EFAULT);
	CHECK_EQ(sys_quota_cap_info(0xfff0, &qi), VR_ECAP_RANGE);
	{
		struct vr_spawn_caps sc = { .flags = 2 };
		CHECK_EQ(sys_spawn_caps("bin/captest", 11, "captest idle", 12, &sc), VR_EINVAL);
	}
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	CHECK_OK(sys_cap_delete((uint32_t)q));
	CHECK_OK(sys_quota_info(&own1));
	CHECK_EQ(own1.used, own0.used); /* every record returned */
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

/* A process capability minted without DELETE may wait but not kill. */
static void test_process_rights(void)
{
	long c = spawn("bin/captest", "captest idle"), ro;
	struct vr_cap_info ci;
	int status;

	CHECK_OK(c);
	CHECK_OK(sys_cap_identify((uint32_t)c, &ci));
	CHECK_EQ(ci.type, VR_OBJ_PROCESS);
	CHECK_EQ(ci.rights, VR_CAP_ALL);
	ro = sys_cap_mint((uint32_t)c, VR_CAP_READ, 0, 0);
	CHECK_OK(ro);
	CHECK_EQ(sys_kill((uint32_t)ro, 1), VR_ECAP_RIGHTS);
	CHECK_OK(sys_kill((uint32_t)c, 5));
	CHECK_OK(sys_wait(ro, &status));
	CHECK_EQ(status, 5);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	CHECK_OK(sys_cap_delete((uint32_t)c));
}

/* The child: its cspace starts empty; the parent puts a notification at
 * handle 0 and signals it. */
static int given(void)
{
	struct vr_cap_info ci;

	while (sys_cap_identify(0, &ci) != 0)
		sys_sleep(MS);
	if (ci.type != VR_OBJ_NOTIFICATION)
		return 2;
	return sys_notify_wait(0, 0) == 0x5a ? 0 : 3;
}

#define MAPPED_OFF 0x30000000ull /* where the parent maps a page into "mapped" */
#define MAGIC 0x5eed5eedull

static int mapped(void)
{
	volatile uint64_t *page = vrt_slot_addr(MAPPED_OFF);
	int err = given();

	if (err)
		return err;
	if (page[0] != MAGIC)
		return 4;
	page[1] = MAGIC + 1;
	return 0;
}

static void test_vspace_objects(void)
{
	long c = spawn("bin/captest", "captest mapped"), vs, cs, ro, m = sys_mem_create(1);
	long n = sys_notification_create();
	volatile uint64_t *mine = vrt_slot_addr(MAPPED_OFF);
	struct vr_map_req req;
	struct vr_cap_info ci;
	int status;

	CHECK_OK(c);
	CHECK_OK(m);
	CHECK_OK(n);
	CHECK_OK(sys_mem_map((uint32_t)m, (void *)mine, 0, 1, VR_PROT_READ | VR_PROT_WRITE));
	mine[0] = MAGIC;
	vs = sys_process_space((uint32_t)c, VR_SPACE_ADDR);
	CHECK_OK(vs);
	CHECK_OK(sys_cap_identify((uint32_t)vs, &ci));
	CHECK_EQ(ci.type, VR_OBJ_VSPACE);
	CHECK_EQ(ci.id, process_pid((uint32_t)c));
	req = (struct vr_map_req){ (uint32_t)m, VR_PROT_READ | VR_PROT_WRITE,
				   VR_SLOT_IMAGE_OFF - VR_PAGE_SIZE, 0, 1 };
	CHECK_EQ(sys_mem_map_into((uint32_t)vs, &req), VR_EINVAL); /* the kernel's area */
	req.slot_offset = VR_SLOT_SIZE;
	CHECK_EQ(sys_mem_map_into((uint32_t)vs, &req), VR_EINVAL);
	CHECK_EQ(sys_mem_map_into((uint32_t)vs, (struct vr_map_req *)8), VR_EFAULT);
	req.slot_offset = MAPPED_OFF;
	ro = sys_cap_mint((uint32_t)vs, VR_CAP_READ, 0, 0);
	CHECK_EQ(sys_mem_map_into((uint32_t)ro, &req), VR_ECAP_RIGHTS);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	CHECK_OK(sys_mem_map_into((uint32_t)vs, &req));
	CHECK_EQ(sys_mem_map_into((uint32_t)vs, &req), VR_EBUSY);
	CHECK_OK(sys_mem_unmap_from((uint32_t)vs, MAPPED_OFF, 1));
	CHECK_EQ(sys_mem_unmap_from((uint32_t)vs, VR_SLOT_TRAP_OFF, 1), VR_EINVAL);
	CHECK_OK(sys_mem_map_into((uint32_t)vs, &req));
	cs = sys_process_space((uint32_t)c, VR_SPACE_CAPS);
	CHECK_EQ(sys_cap_mint_to((uint32_t)cs, (uint32_t)n, VR_CAP_READ | VR_CAP_WRITE, 0, 0), 0);
	CHECK_OK(sys_notify_signal((uint32_t)n, 0x5a));
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, 0);
	CHECK_EQ(mine[1], MAGIC + 1); /* the child wrote to the shared page */
	CHECK_EQ(sys_mem_unmap_from((uint32_t)vs, MAPPED_OFF, 1), VR_ESRCH);
	CHECK_OK(sys_cap_delete((uint32_t)vs));
	CHECK_OK(sys_cap_delete((uint32_t)cs));
	CHECK_OK(sys_mem_unmap((void *)mine, 1));
	CHECK_OK(sys_cap_delete((uint32_t)m));
	CHECK_OK(sys_cap_delete((uint32_t)n));
}

static void test_cspace_objects(void)
{
	long idle = spawn("bin/captest", "captest idle"), c, cs, ro, h;
	long n = sys_notification_create();
	struct vr_cap_info ci;
	int status;

	CHECK_OK(idle);
	CHECK_OK(n);
	CHECK_EQ(sys_process_space((uint32_t)idle, 3), VR_EINVAL);
	CHECK_EQ(sys_process_space((uint32_t)n, VR_SPACE_CAPS), VR_ECAP_TYPE);
	ro = sys_cap_mint((uint32_t)idle, VR_CAP_READ, 0, 0);
	CHECK_EQ(sys_process_space((uint32_t)ro, VR_SPACE_CAPS), VR_ECAP_RIGHTS);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	/* WRITE alone is not enough: the space capability is a new original */
	ro = sys_cap_mint((uint32_t)idle, VR_CAP_READ | VR_CAP_WRITE, 0, 0);
	CHECK_EQ(sys_process_space((uint32_t)ro, VR_SPACE_CAPS), VR_ECAP_RIGHTS);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	/* and it gets no more rights than the process capability had */
	ro = sys_cap_mint((uint32_t)idle, VR_CAP_READ | VR_CAP_WRITE | VR_CAP_DELEGATE, 0, 0);
	cs = sys_process_space((uint32_t)ro, VR_SPACE_CAPS);
	CHECK_OK(cs);
	CHECK_OK(sys_cap_identify((uint32_t)cs, &ci));
	CHECK_EQ(ci.rights, VR_CAP_READ | VR_CAP_WRITE | VR_CAP_DELEGATE);
	CHECK_OK(sys_cap_delete((uint32_t)cs));
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	cs = sys_process_space((uint32_t)idle, VR_SPACE_CAPS);
	CHECK_OK(cs);
	CHECK_OK(sys_cap_identify((uint32_t)cs, &ci));
	CHECK_EQ(ci.type, VR_OBJ_CSPACE);
	/* a capability put in and taken out again leaves a stale handle */
	h = sys_cap_mint_to((uint32_t)cs, (uint32_t)n, VR_CAP_READ, 0, 0);
	CHECK_EQ(h, 0); /* the child's first slot */
	CHECK_EQ(sys_cap_mint_to((uint32_t)cs, 0xfff0, VR_CAP_READ, 0, 0), VR_ECAP_RANGE);
	CHECK_OK(sys_cap_delete_in((uint32_t)cs, (uint32_t)h));
	CHECK_EQ(sys_cap_delete_in((uint32_t)cs, (uint32_t)h), VR_ECAP_STALE);
	/* rights: a read-only cspace capability cannot add or remove */
	ro = sys_cap_mint((uint32_t)cs, VR_CAP_READ, 0, 0);
	CHECK_EQ(sys_cap_mint_to((uint32_t)ro, (uint32_t)n, VR_CAP_READ, 0, 0), VR_ECAP_RIGHTS);
	CHECK_EQ(sys_cap_delete_in((uint32_t)ro, 0), VR_ECAP_RIGHTS);
	CHECK_OK(sys_cap_delete((uint32_t)ro));
	/* the process is gone: its cspace capability is dead */
	CHECK_OK(sys_kill((uint32_t)idle, 9));
	CHECK_OK(wait_child((uint32_t)idle, &status));
	CHECK_EQ(sys_cap_mint_to((uint32_t)cs, (uint32_t)n, VR_CAP_READ, 0, 0), VR_ESRCH);
	CHECK_EQ(sys_cap_delete_in((uint32_t)cs, 0), VR_ESRCH);
	CHECK_OK(sys_cap_delete((uint32_t)cs));
	/* a child with no capabilities is handed one and uses it */
	c = spawn("bin/captest", "captest given");
	CHECK_OK(c);
	cs = sys_process_space((uint32_t)c, VR_SPACE_CAPS);
	CHECK_OK(cs);
	CHECK_EQ(sys_cap_mint_to((uint32_t)cs, (uint32_t)n, VR_CAP_READ | VR_CAP_WRITE, 0, 0), 0);
	CHECK_OK(sys_notify_signal((uint32_t)n, 0x5a));
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_delete((uint32_t)cs));
	CHECK_OK(sys_cap_delete((uint32_t)n));
}

static int selfcap(void)
{
	long me = sys_thread_self();

	if (me < 0)
		return 2;
	ipc_buffer()->caps[0] = (uint32_t)me;
	return sys_ipc_send(0, VR_MSG_TAG(1, 0, 1), 0) != 0;
}

/* A thread capability that outlives its thread (and its process) keeps
 * only the record, which goes with the capability. */
static void test_thread_cap_outlives_thread(void)
{
	long ep = sys_endpoint_create(), c, t;
	struct vr_spawn_caps sc = { .count = 1 };
	struct vr_meminfo before, after;
	struct vr_cap_info ci;
	int status;

	CHECK_OK(ep);
	sc.handles[0] = (uint32_t)ep;
	c = sys_spawn_caps("bin/captest", 11, "captest selfcap", 15, &sc);
	CHECK_OK(c);
	CHECK_EQ(VR_MSG_NCAPS(sys_ipc_recv((uint32_t)ep, 0)), 1);
	t = ipc_buffer()->caps[0];
	CHECK_OK(wait_child((uint32_t)c, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(sys_cap_identify((uint32_t)t, &ci));
	CHECK_EQ(ci.type, VR_OBJ_THREAD);
	CHECK_OK(sys_thread_join((uint32_t)t, &status, 0, 0));
	CHECK_EQ(status, 0);
	CHECK_EQ(sys_thread_suspend((uint32_t)t), VR_ESRCH);
	CHECK_OK(vr_sys_meminfo((long)&before, 0, 0, 0, 0));
	CHECK_OK(sys_cap_delete((uint32_t)t));
	CHECK_OK(vr_sys_meminfo((long)&after, 0, 0, 0, 0));
	CHECK_EQ(before.slab_objects - after.slab_objects, 1); /* the record */
	CHECK_OK(sys_cap_delete((uint32_t)ep));
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hog"))
		return hog();
	if (argc == 2 && !strcmp(argv[1], "given"))
		return given();
	if (argc == 2 && !strcmp(argv[1], "selfcap"))
		return selfcap();
	if (argc == 2 && !strcmp(argv[1], "mapped"))
		return mapped();
	if (argc == 2 && !strcmp(argv[1], "idle")) {
		for (;;)
			sys_sleep(1000 * MS);
	}
	test_quota_objects();
	test_process_rights();
	test_cspace_objects();
	test_vspace_objects();
	test_thread_cap_outlives_thread();
	return ucheck_summary("captest");
}
