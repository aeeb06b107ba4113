/*
 * Syscall dispatch: decode the arguments (every check a user can fail
 * lives in the decoder), then invoke. The table is generated from
 * VR_SYSCALLS in abi.h.
 */
#ifndef VERIDIAN_SYSCALL_H
#define VERIDIAN_SYSCALL_H

#include <stdint.h>

struct syscall_args {
	uint64_t a[5];
};

int64_t syscall_dispatch(uint64_t nr, const struct syscall_args *args);

#endif
