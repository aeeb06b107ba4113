/*
 * Threads and the scheduler. One CPU; the kernel is not preemptible, so a
 * thread switch happens only inside sched_*() calls (from syscalls, from
 * kernel_interrupt_exit() after a timer interrupt, or in the idle loop).
 *
 * Thread states and the functions behind each transition:
 *
 *           sched_make_runnable()        sched_switch (pick)
 *   (new) ----------------------> RUNNABLE ----------------> RUNNING
 *                                   ^  ^  <---- sched_yield_cpu() --|  |  |
 *             sched_wake_one/all()  |  |                          |  |
 *   BLOCKED <-----------------------|--+------ sched_block() -----+  |
 *   SLEEPING <-- sched_sleep_until() (woken by the timer) -----------+
 *   ZOMBIE <---- sched_exit() (kernel stack freed by the next thread)
 *
 * The scheduling policy here is round-robin with a fixed time slice; the
 * scheduling classes of the design come later (see docs/scheduling.md).
 */
#ifndef VERIDIAN_SCHED_H
#define VERIDIAN_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include <veridian/abi.h>
#include <veridian/hal.h>
#include <veridian/klib.h>

#define KSTACK_PAGES 16u             /* 64 KiB: host code runs on it in veridian-sim */
#define SCHED_SLICE_NS 10000000ull   /* 10 ms */

struct process;

/* A queue of blocked threads. */
struct waitq {
	struct list threads;
};

struct thread {
	int64_t tid;
	enum vr_thread_state state;
	struct process *proc;        /* NULL for kernel threads */
	struct hal_context ctx;
	uint64_t kstack_pa;          /* KSTACK_PAGES frames */
	struct list sched_link;      /* run queue, wait queue or sleep list */
	struct list proc_link;       /* in proc->threads */
	struct list all_link;        /* in the list of all threads */
	struct waitq *waiting_on;    /* when BLOCKED */
	uint64_t wake_at;            /* when SLEEPING */
	uintptr_t entry_pc, entry_sp, entry_arg; /* first entry to user mode */
	uint8_t prio;                /* wait queues serve higher first */
	struct {
		uint64_t buf_pa;           /* the thread's IPC buffer page */
		uint64_t tag, badge;       /* a pending send (while queued) */
		bool is_call;
		struct thread *reply_to;   /* a caller waiting for our reply */
		struct waitq reply_wait;   /* where we wait for a reply */
		int64_t result;            /* set by whoever wakes us */
	} ipc;
};

#define THREAD_PRIO_DEFAULT 100

void sched_init(void);

/* Create a thread of `proc` that will enter user mode at pc with sp and
 * arg; it is not runnable until sched_make_runnable(). NULL on ENOMEM. */
struct thread *thread_create_user(struct process *proc, uintptr_t pc, uintptr_t sp,
				  uintptr_t arg);

struct thread *sched_current(void);
void sched_make_runnable(struct thread *t);
void sched_yield_cpu(void);

/* Block the current thread on wq until woken. Wait queues are ordered by
 * priority, FIFO among equals. */
void sched_block(struct waitq *wq);

/* Block the current thread on wq and run `next` (BLOCKED, taken off its
 * queue) directly, on the rest of the current slice: the IPC fast path,
 * where the caller would block anyway and the receiver is the one to run. */
void sched_block_switch(struct waitq *wq, struct thread *next);

/* Move a BLOCKED thread from its wait queue to another. */
void sched_requeue(struct thread *t, struct waitq *wq);
void sched_wake_all(struct waitq *wq);
void waitq_init(struct waitq *wq);

/* Sleep until the kernel clock reaches `deadline_ns`. */
void sched_sleep_until(uint64_t deadline_ns);

/* The current thread ends; its kernel stack is freed after the switch. */
noreturn void sched_exit(void);

/* Timer interrupt: wake sleepers, account the slice. */
void sched_timer_expired(void);

/* Switch threads if the timer asked for it (from kernel_interrupt_exit). */
void sched_preempt_point(void);

/* Become the idle thread: never returns. */
noreturn void sched_idle_loop(void);

/* Calls fn for every thread (for ps). */
void sched_for_each_thread(void (*fn)(struct thread *t, void *arg), void *arg);

/* Invariants: exactly one RUNNING thread (current); each RUNNABLE thread is
 * on the run queue once; BLOCKED threads are on their waitq; SLEEPING on
 * the sleep list in deadline order. */
bool sched_check(void);

#endif
