/*
 * Syscall dispatch: decode the arguments (every check a user can fail
 * lives in the decoder), then invoke. The table is generated from
 * VR_SYSCALLS in abi.h.
 */
#ifndef VERIDIAN_SYSCALL_H
#define VERIDIAN_SYSCALL_H

#include <stdint.h>

#include "veridian/abi.h"
#include "veridian/cap.h"
#include "veridian/klib.h"

struct syscall_args {
	uint64_t a[5];
};

/* A user copy whose range the decoder has already checked, with no wait in
 * between: the kernel is not preemptible, so no other thread of the caller
 * can have changed its mappings and a failure here is a kernel bug. A
 * syscall that blocks between its check and its copy must handle the
 * copy's error instead (another thread may unmap the buffer meanwhile). */
#define COPY_CHECKED(copy) KASSERT((copy) == VR_OK)

int64_t syscall_dispatch(uint64_t nr, const struct syscall_args *args);

struct cap;

/* Decode a user-supplied handle in the caller's cspace: a capability of
 * `type` (KOBJ_NONE: any) with all of `rights`, not expired. The errors are
 * cap_lookup()'s; a value wider than 32 bits is VR_ECAP_RANGE. */
int decode_cap(uint64_t h, enum kobj_type type, uint32_t rights, struct cap **out);

struct quota;

/* Decode a quota capability with `rights` (core/syscall_quota.c). */
int decode_quota(uint64_t h, uint32_t rights, struct quota **out);

/* One handler per syscall of VR_SYSCALLS, named sys_NAME. Each subsystem
 * defines its own handlers in its own file (syscall.c for processes and
 * the console, and so on); the dispatch table in syscall.c is generated
 * from the same list, so a syscall without a handler fails to link. */
#define SYSCALL_DECL(nr, name, args, ret) int64_t sys_##name(const struct syscall_args *a);
VR_SYSCALLS(SYSCALL_DECL)
#undef SYSCALL_DECL

#endif
