/*
 * Processes and threads: an address space in its own slot, its threads, a
 * parent and children, an exit status collected by wait(). Both are kernel
 * objects (KOBJ_PROCESS, KOBJ_THREAD) that capabilities name.
 *
 *   proc_spawn() --> ALIVE --(its last thread exits)--> ZOMBIE
 *   ZOMBIE --(parent's proc_wait(), or no parent)--> REAPED (pid gone)
 *   REAPED --(no capability names it or its address space)--> freed
 *
 * A thread: thread_create() --> SUSPENDED --thread_resume()--> runs ...
 * --(thread_exit(), or a kill at its next kernel boundary)--> exited; its
 * kernel stack is freed by the next thread to run (reaped); its record
 * goes when no capability names it (core/thread.c).
 */
#ifndef VERIDIAN_PROC_H
#define VERIDIAN_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "veridian/abi.h"
#include "veridian/cap.h"
#include "veridian/hal.h"
#include "veridian/quota.h"
#include "veridian/sched.h"
#include "veridian/vm.h"

struct process {
	struct kobj obj;    /* KOBJ_PROCESS */
	struct kobj vs_obj; /* KOBJ_VSPACE: capabilities to its address space */
	int64_t pid;
	char name[16];
	struct process *parent; /* NULL once the parent is gone */
	unsigned slot;          /* address-space slot index */
	struct vm_space vs;
	struct cspace *cs; /* the process's capabilities */
	struct list threads;
	unsigned nthreads;
	struct list children;
	struct list sibling_link; /* in parent->children */
	struct list all_link;
	bool zombie;
	bool reaped; /* waited for: only capabilities keep the record */
	bool killed; /* exits with kill_status at its next kernel boundary */
	int kill_status;
	int exit_status;
	struct waitq child_exit; /* the parent waits here for children */
	struct quota *quota;     /* pays for everything the process makes (quota.h) */
	uint64_t charged;        /* bytes charged for the process itself */
	cap_handle_t fault_ep;   /* unresolved faults are calls here; VR_CAP_INVALID */
};

/* Pages of the stack populated at spawn; the rest is demand-zero. Kept at
 * 64 KiB because veridian-sim returns from an interrupt through 24 bytes
 * below the user's stack pointer, written by the host (docs/memory.md). */
#define PROC_STACK_EAGER_PAGES 16u

#define PROC_CSPACE_SLOTS 256u

void proc_init(const void *initrd, size_t initrd_size);

/* Start the program at `path` in the initrd with argument text `args`
 * (space-separated, argv[0] first). parent may be NULL (init). The child
 * gets a capability derived from each of the parent's `caps` (already
 * decoded: each exists and has GRANT) at handles 0..ncaps-1. Its quota is
 * created under `under` (NULL: the parent's, or the root for init). The parent
 * gets a capability to the child (all rights) at *out_cap (unless parent
 * is NULL). */
int proc_spawn(struct process *parent, const char *path, const char *args, const cap_handle_t *caps,
	       unsigned ncaps, struct quota *under, cap_handle_t *out_cap);

/* The current process ends with `status`: its other threads exit at their
 * next kernel boundary and the last one out tears the process down. */
noreturn void proc_exit(int status);

/* Terminate `p`: its threads are woken from any wait (and from suspension)
 * and the process exits with `status` as soon as each has run in the
 * kernel. VR_ESRCH if it has already exited. Killing the caller's own
 * process does not return. */
int proc_kill(struct process *p, int status);

/* Wait for a child (pid, or -1 for any) to end. Returns its pid and status. */
int proc_wait(struct process *self, int64_t pid, int *status, int64_t *out_pid);

/* The id identify reports for a process (pid) or thread (tid); else 0. */
int64_t kobj_id(const struct kobj *obj);

/* Pages mapped into all live processes (for meminfo). */
uint64_t proc_user_pages_total(void);

uintptr_t proc_slot_base(const struct process *p);
struct process *proc_current(void);

/* Invariants: thread count matches the list; a zombie has no threads; a
 * child is on its parent's list; the slot is owned by this process. */
bool proc_check(const struct process *p);
bool proc_check_all(void);

/* ---- Threads (core/thread.c) ---- */

/* Register the thread object type (from proc_init: thread_self can name
 * any thread, not only those thread_create made). */
void thread_init(void);

/* Make a SUSPENDED thread of `p` (see abi.h for the arguments, already
 * checked to lie in p's slot) with its IPC buffer mapped at ipcbuf_va.
 * Charged to p's quota. VR_EAGAIN at VR_THREADS_MAX threads; VR_EBUSY if
 * the buffer page is in use; VR_ENOMEM. */
int thread_create(struct process *p, uintptr_t entry, uintptr_t sp, uintptr_t arg, uintptr_t tls,
		  uintptr_t ipcbuf_va, struct thread **out);

/* Undo thread_create() for a thread that never ran and that no capability
 * names (its creator's cspace was full). */
void thread_discard(struct thread *t);

/* The current thread ends with `status`; the process ends with it if it
 * was the last thread (with the kill status if the process was killed). */
noreturn void thread_exit(int status);

/* Exited, or killed and on its way out: the decoders of suspend and
 * resume refuse it (VR_ESRCH), kill refuses an exited one. */
bool thread_dying(const struct thread *t);

/* Suspension takes effect when the thread next passes a switch point in
 * the kernel (at once for a thread waiting to run, or the caller itself):
 * it stops there, in whatever kernel operation it was in, until resumed.
 * Resume undoes it or starts a new thread. */
int thread_suspend(struct thread *t);
int thread_resume(struct thread *t);

/* End `t` with `status` at its next kernel boundary (waking it from any
 * wait or suspension). Killing the caller does not return. */
int thread_kill(struct thread *t, int status);

/* Wait until `t` has exited (at most until deadline_ns on the kernel
 * clock; UINT64_MAX: no limit) and return its exit status. VR_EINVAL for
 * the caller itself; VR_EAGAIN if `nonblock` and it still runs. */
int thread_join(struct thread *t, bool nonblock, uint64_t deadline_ns, int *status);

/* Wake `t` from whatever it waits for (a wait returns VR_ECLOSED) or from
 * suspension, so it reaches a kernel boundary and sees a kill. */
void thread_interrupt(struct thread *t);

/* The last thread of `p` has exited: release everything the process holds
 * and make it a zombie with `status` (core/proc.c, for thread_exit). */
void proc_teardown(struct process *p, int status);

/* Called whenever a thread resumes in the kernel and before it enters user
 * mode: exits if it or its process was killed, suspends if asked to. */
void thread_pending_work(void);

/* The scheduler freed the exited thread's kernel stack. */
void thread_reaped(struct thread *t);

/* Invariants of a thread object: an exited thread is on no process's list
 * and has no IPC buffer of its own; a reaped one is named by capabilities. */
bool thread_obj_check(const struct thread *t);

#endif
