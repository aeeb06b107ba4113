/*
 * Threads and the scheduler's mechanism. One CPU today (the run queue is
 * per CPU, and affinity is stored); the kernel is not preemptible, so a
 * thread switch happens only inside sched_*() calls (from syscalls, from
 * kernel_interrupt_exit() after a timer interrupt, or in the idle loop).
 * Which thread runs is the policy's decision (sched_policy.h: real-time
 * FIFO/RR, fair, batch, idle classes); see docs/scheduling.md.
 *
 * Thread states and the functions behind each transition:
 *
 *           sched_make_runnable()        reschedule (rq_pick)
 *   (new) ----------------------> RUNNABLE ----------------> RUNNING
 *                                   ^  ^  <- sched_yield_cpu() -|  |  |
 *   sched_make_runnable(), timeout  |  |                          |  |
 *   BLOCKED <-----------------------|--+-- sched_block[_timeout] -+  |
 *   SLEEPING <-- sched_sleep_until() (woken by its timer) ------------+
 *   ZOMBIE <---- sched_exit() (kernel stack freed by the next thread)
 *   SUSPENDED <-- sched_suspend() (also the state of a new thread);
 *                 left by sched_make_runnable() (thread_resume, kill)
 *
 * A BLOCKED thread may also have its timeout timer armed: it is then on a
 * wait queue (sched_link) and on the timer list (timeout.link) at once, and
 * whichever comes first takes it off the other.
 */
#ifndef VERIDIAN_SCHED_H
#define VERIDIAN_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "veridian/abi.h"
#include "veridian/cap.h"
#include "veridian/hal.h"
#include "veridian/klib.h"
#include "veridian/sched_policy.h"

#define KSTACK_PAGES 16u /* 64 KiB: host code runs on it in veridian-sim */

struct process;
struct endpoint;

/* A queue of blocked threads, ordered by effective rank (sched_rank), FIFO
 * among equals. */
struct waitq {
	struct list threads;
};

/* A kernel timer: fire(kt) runs from sched_timer_expired() (interrupt
 * context, or the idle loop) once the kernel clock reaches deadline. */
struct ktimer {
	struct list link; /* in the timer list, by deadline, while armed */
	uint64_t deadline;
	void (*fire)(struct ktimer *kt);
};

struct thread {
	struct kobj obj; /* KOBJ_THREAD: capabilities to the thread (core/thread.c) */
	int64_t tid;
	enum vr_thread_state state;
	struct process *proc; /* NULL for kernel threads */
	struct hal_context ctx;
	uint64_t kstack_pa;       /* KSTACK_PAGES frames */
	struct list sched_link;   /* wait queue or reap list */
	struct list proc_link;    /* in proc->threads */
	struct list all_link;     /* in the list of all threads */
	struct waitq *waiting_on; /* when BLOCKED */
	struct ktimer timeout;    /* SLEEPING: the wake-up; BLOCKED: an optional timeout */
	struct sched_entity se;   /* policy state; se.link is in the run queue */
	uintptr_t entry_pc, entry_sp, entry_arg; /* first entry to user mode */
	uintptr_t tls;                           /* user TLS base (hal_set_user_tls) */
	/* Life cycle (core/thread.c). A request takes effect at the thread's
	 * next kernel boundary (thread_pending_work), so a thread is never
	 * stopped in the middle of a kernel operation. */
	bool pending; /* one of the two below, or its process killed: a switch to
		       * it calls thread_pending_work (kept off the IPC path) */
	bool suspend_req;
	bool kill_req;
	bool exited;     /* has left its process; exit_status is valid */
	bool reaped;     /* kernel stack freed; the record lives on while capabilities do */
	int join_status; /* thread_join: the status the joined thread left us */
	int kill_status;
	int exit_status;
	uintptr_t ipcbuf_va;    /* its own IPC buffer page (0: the process's first buffer) */
	struct waitq exit_wait; /* thread_join */
	struct {
		uint64_t buf_pa;     /* the thread's IPC buffer page */
		uint64_t tag, badge; /* a pending send (while queued) */
		bool is_call;
		bool regs; /* words in the struct hal_msg_regs frame, not the buffer */
		struct thread *reply_to;  /* a caller waiting for our reply */
		struct thread *replier;   /* the server holding our call (reply_to == us) */
		struct endpoint *sending; /* the endpoint whose senders queue we are on */
		struct endpoint *serving; /* the endpoint we last received from */
		struct waitq reply_wait;  /* where we wait for a reply */
		int64_t result;           /* set by whoever wakes us */
	} ipc;
};

void sched_init(void);

/* Create a thread of `proc` that will enter user mode at pc with sp and
 * arg; it is SUSPENDED until sched_make_runnable(). It inherits the
 * scheduling policy and affinity of the current thread if that is a user
 * thread (so `nice` works like fork-inherit), else it is FAIR nice 0.
 * NULL on ENOMEM. */
struct thread *thread_create_user(struct process *proc, uintptr_t pc, uintptr_t sp, uintptr_t arg);

/* The running thread; written only by core/sched.c. */
extern struct thread *sched_running;

static inline struct thread *sched_current(void)
{
	return sched_running;
}

/* Make a BLOCKED, SLEEPING or new thread runnable: it leaves its wait queue
 * and its timer. Leaving a queue of core/ipc.c that way (not through a
 * rendezvous, which dequeues first with waitq_remove) is reported to
 * ipc_wait_cancelled(). May ask for a preemption at the next preempt point
 * if the policy says the woken thread should run now. */
void sched_make_runnable(struct thread *t);
void sched_yield_cpu(void);

/* Block the current thread on wq until woken. */
void sched_block(struct waitq *wq);

/* The same, with a timeout: at deadline_ns (kernel clock; UINT64_MAX for
 * none) the thread leaves wq and ipc.result becomes VR_ETIMEDOUT. */
void sched_block_timeout(struct waitq *wq, uint64_t deadline_ns);

/* Block the current thread on wq (with a timeout at deadline_ns, or
 * UINT64_MAX) and run `next` (BLOCKED, taken off its queue) directly, on
 * the rest of the current slice: the IPC fast path, where the caller would
 * block anyway and the receiver is the one to run. */
void sched_block_switch(struct waitq *wq, struct thread *next, uint64_t deadline_ns);

/* Move a BLOCKED thread from its wait queue to another (its timeout, if
 * any, stays armed). */
void sched_requeue(struct thread *t, struct waitq *wq);

/* Take a BLOCKED thread off its wait queue without waking it: the caller
 * (a rendezvous) wakes or requeues it next. */
void waitq_remove(struct thread *t);
void sched_wake_all(struct waitq *wq);
void waitq_init(struct waitq *wq);

/* A thread that never ran goes: its kernel stack is freed and the
 * scheduler forgets it; the caller frees the record. */
void sched_discard_new(struct thread *t);

/* The current thread becomes SUSPENDED until sched_make_runnable(). */
void sched_suspend(void);

/* Take a RUNNABLE thread off its run queue: it becomes SUSPENDED. */
void sched_suspend_runnable(struct thread *t);

/* The current thread's user TLS base becomes `tls` (now and whenever it
 * runs again). */
void sched_set_user_tls(uintptr_t tls);

/* Sleep until the kernel clock reaches `deadline_ns`. */
void sched_sleep_until(uint64_t deadline_ns);

/* The current thread ends; its kernel stack is freed after the switch. */
noreturn void sched_exit(void);

/* Timer interrupt: fire expired kernel timers, account the slice. */
void sched_timer_expired(void);

/* Switch threads if the timer or a wake-up asked for it (from
 * kernel_interrupt_exit and the end of every syscall). */
void sched_preempt_point(void);

/* Become the idle thread: never returns. */
noreturn void sched_idle_loop(void);

/* Calls fn for every thread (for ps). */
void sched_for_each_thread(void (*fn)(struct thread *t, void *arg), void *arg);

/* Kernel timers (see struct ktimer). Arming an armed timer moves it. */
void ktimer_init(struct ktimer *kt, void (*fire)(struct ktimer *kt));
void ktimer_arm(struct ktimer *kt, uint64_t deadline_ns);
void ktimer_cancel(struct ktimer *kt);
bool ktimer_armed(const struct ktimer *kt);

/* ---- Policy controls (syscall_sched.c, ipc.c) ---- */

/* Set t's own policy (already validated with sched_policy_valid). The
 * effective one is recomputed by ipc_pi_recompute(), since inheritance may
 * hold it higher. */
void sched_set_policy(struct thread *t, unsigned policy, int prio);

/* Set what t runs at (priority inheritance): moves it in its run queue or
 * wait queue, and asks for a preemption if the current thread dropped. */
void sched_set_effective(struct thread *t, unsigned policy, int prio);

/* CPU time of t including the running slice so far. */
uint64_t sched_cpu_ns(const struct thread *t);

/* Fill the scheduling fields of a ps entry. */
void sched_fill_thread_info(const struct thread *t, struct vr_thread_info *ti);

/* The live thread of process `pid` (its first thread), or NULL. */
struct thread *sched_find_pid(int64_t pid);

/* Invariants: exactly one RUNNING thread (current); each RUNNABLE thread is
 * queued on its CPU's run queue once; BLOCKED threads are on their waitq;
 * SLEEPING ones on the timer list; armed timers sorted by deadline. */
bool sched_check(void);

#endif
