/*
 * Threads of the runtime. Thread i (0 <= i < VR_THREADS_MAX) owns a fixed
 * span of the process's slot: a guard page, its stack, and one page for
 * its vrt_thread (the TLS block its GS base points at), all one memory
 * object; its IPC buffer is the kernel-mapped page i of the area at
 * VR_SLOT_THREAD_IPCBUF_OFF. A span is reused once its thread is joined.
 */
#include "vrt.h"

#define PG VR_PAGE_SIZE
#define THREAD_AREA_OFF 0xc0000000ull /* 3 GiB into the slot, below the main stack */
#define THREAD_SPAN (32 * PG)         /* guard + stack + TLS page, with room to spare */

_Static_assert(THREAD_AREA_OFF + VR_THREADS_MAX * THREAD_SPAN <=
		       VR_SLOT_STACK_TOP - VR_SLOT_STACK_SIZE,
	       "thread spans end below the main stack");
_Static_assert((1 + VRT_THREAD_STACK_PAGES + 1) * PG <= THREAD_SPAN, "a thread fits its span");

static bool span_used[VR_THREADS_MAX];

/* Claim a free span; threads of this process may race for one. */
static int claim_span(void)
{
	for (int i = 0; i < (int)VR_THREADS_MAX; i++)
		if (!__atomic_exchange_n(&span_used[i], true, __ATOMIC_ACQ_REL))
			return i;
	return -1;
}

static void release_span(int i)
{
	__atomic_store_n(&span_used[i], false, __ATOMIC_RELEASE);
}

static uintptr_t span_base(int i)
{
	return (uintptr_t)vrt_slot_addr(THREAD_AREA_OFF + (uint64_t)i * THREAD_SPAN);
}

/* The new thread enters here with its vrt_thread in rdi and rsp just
 * below it; realign for the ABI and never return. */
__attribute__((used)) static _Noreturn void thread_main(struct vrt_thread *t)
{
	thread_exit(t->fn(t->arg));
}

__asm__(".text\n"
	".type vrt_thread_entry, @function\n"
	"vrt_thread_entry:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call thread_main\n"
	"	ud2\n"
	".size vrt_thread_entry, . - vrt_thread_entry\n");
extern void vrt_thread_entry(void);

long thread_start(struct vrt_thread **out, int (*fn)(void *), void *arg)
{
	int i = claim_span();
	uintptr_t stack, ipcbuf;
	struct vrt_thread *t;
	long mem, h, err;

	if (i < 0)
		return VR_EAGAIN;
	stack = span_base(i) + PG; /* above the guard page */
	ipcbuf = (uintptr_t)vrt_slot_addr(VR_SLOT_THREAD_IPCBUF_OFF + (uint64_t)i * PG);
	err = mem = sys_mem_create(VRT_THREAD_STACK_PAGES + 1);
	if (err < 0)
		goto fail_span;
	err = sys_mem_map((uint32_t)mem, (void *)stack, 0, VRT_THREAD_STACK_PAGES + 1,
			  VR_PROT_READ | VR_PROT_WRITE);
	if (err < 0)
		goto fail_mem;
	t = (struct vrt_thread *)(stack + VRT_THREAD_STACK_PAGES * PG);
	*t = (struct vrt_thread){ .self = t,
				  .ipc = (struct vr_ipc_buffer *)ipcbuf,
				  .mem = (uint32_t)mem,
				  .index = i,
				  .fn = fn,
				  .arg = arg };
	err = h = vr_sys_thread_create((long)vrt_thread_entry, (long)t, (long)t, (long)t,
				       (long)ipcbuf);
	if (err < 0)
		goto fail_map;
	t->handle = (uint32_t)h;
	err = sys_thread_resume(t->handle);
	if (err < 0) {
		sys_thread_kill(t->handle, 0);
		thread_join(t, NULL);
		return err;
	}
	*out = t;
	return 0;
fail_map:
	sys_mem_unmap((void *)stack, VRT_THREAD_STACK_PAGES + 1);
fail_mem:
	sys_cap_delete((uint32_t)mem);
fail_span:
	release_span(i);
	return err;
}

long thread_join(struct vrt_thread *t, int *status)
{
	/* t lives in the memory freed below: take what is needed first */
	uint32_t handle = t->handle, mem = t->mem;
	int i = t->index;
	long err;

	if (i < 0)
		return VR_EINVAL; /* the main thread */
	err = sys_thread_join(handle, status, 0, 0);
	if (err)
		return err;
	sys_cap_delete(handle);
	sys_mem_unmap((void *)(span_base(i) + PG), VRT_THREAD_STACK_PAGES + 1);
	sys_cap_delete(mem);
	release_span(i);
	return 0;
}

_Noreturn void thread_exit(int status)
{
	vr_sys_thread_exit(status, 0, 0, 0, 0);
	__builtin_trap();
}
