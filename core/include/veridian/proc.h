/*
 * Processes: an address space in its own slot, threads, a parent and
 * children, an exit status collected by wait().
 *
 *   proc_spawn() --> ALIVE --(last thread exits: proc_exit())--> ZOMBIE
 *   ZOMBIE --(parent's proc_wait(), or no parent)--> freed
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
 * decoded: each exists and has GRANT) at handles 0..ncaps-1. */
int proc_spawn(struct process *parent, const char *path, const char *args, const cap_handle_t *caps,
	       unsigned ncaps, int64_t *pid);

/* The current process ends with `status` (all its threads). */
noreturn void proc_exit(int status);

/* Terminate a child of `self`: its threads are woken from any wait and
 * the process exits with `status` as soon as one of them runs in the
 * kernel. VR_ESRCH if pid is not a live child. */
int proc_kill(struct process *self, int64_t pid, int status);

/* Called by the scheduler whenever a thread resumes in the kernel and
 * before it enters user mode: exits if its process was killed. */
void proc_exit_if_killed(void);

/* Wait for a child (pid, or -1 for any) to end. Returns its pid and status. */
int proc_wait(struct process *self, int64_t pid, int *status, int64_t *out_pid);

/* Pages mapped into all live processes (for meminfo). */
uint64_t proc_user_pages_total(void);

uintptr_t proc_slot_base(const struct process *p);
struct process *proc_current(void);

/* Invariants: thread count matches the list; a zombie has no threads; a
 * child is on its parent's list; the slot is owned by this process. */
bool proc_check(const struct process *p);
bool proc_check_all(void);

#endif
