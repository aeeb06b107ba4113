/*
 * Shared between the IPC fuzz harness's driver (ipc_fuzz.c) and its
 * invariant walks (ipc_check.c).
 */
#ifndef VERIDIAN_FUZZ_IPC_FUZZ_H
#define VERIDIAN_FUZZ_IPC_FUZZ_H

#include <stdbool.h>
#include <stdint.h>

#include <veridian/proc.h>

#define IPCF_MAX_PROCS 64u

/* The live processes (with a thread) and the zombies reachable from them
 * and from `root` through children lists. Returns the count. */
unsigned ipcf_processes(struct process *root, struct process **out, unsigned max);

/* Does any process other than `root` still have a thread? Sets
 * *first_wake to the earliest time one of those threads is woken by a timer
 * (sleep or timeout; UINT64_MAX if none is). */
bool ipcf_others_alive(struct process *root, uint64_t *first_wake);

/* The fewest free capability slots of any live process, as of the last
 * ipcf_check_all(). */
extern uint32_t ipcf_min_free_slots;

/* Every cross-object invariant after a step: sched_check, proc_check_all,
 * pmm_check, kheap_check; thread_obj_check of every user thread (a live
 * one in a live process); proc_check and cspace_check of every live
 * process and zombie; and for every object named by a capability: its
 * ncaps equals the capabilities naming it in all live cspaces, and
 * endpoint_check / notification_check / thread_obj_check / proc_check
 * (exited threads and reaped processes live on through capabilities).
 * `deep` adds vm_space_check of every live process. Fails the run
 * (ipch_fail) with the broken invariant's name. */
void ipcf_check_all(struct process *root, bool deep);

#endif
