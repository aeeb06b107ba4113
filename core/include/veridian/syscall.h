/*
 * Syscall dispatch: decode the arguments (every check a user can fail
 * lives in the decoder), then invoke. The table is generated from
 * VR_SYSCALLS in abi.h.
 */
#ifndef VERIDIAN_SYSCALL_H
#define VERIDIAN_SYSCALL_H

#include <stdint.h>

#include "veridian/abi.h"
#include "veridian/klib.h"

struct syscall_args {
	uint64_t a[5];
};

/* A user copy whose range the decoder has already checked. A process has
 * one thread and cannot change its mappings while that thread is in a
 * syscall, so a failure here is a kernel bug. */
#define COPY_CHECKED(copy) KASSERT((copy) == VR_OK)

int64_t syscall_dispatch(uint64_t nr, const struct syscall_args *args);

/* One handler per syscall of VR_SYSCALLS, named sys_NAME. Each subsystem
 * defines its own handlers in its own file (syscall.c for processes and
 * the console, and so on); the dispatch table in syscall.c is generated
 * from the same list, so a syscall without a handler fails to link. */
#define SYSCALL_DECL(nr, name, args, ret) int64_t sys_##name(const struct syscall_args *a);
VR_SYSCALLS(SYSCALL_DECL)
#undef SYSCALL_DECL

#endif
