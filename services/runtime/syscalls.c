/*
 * Syscall stubs, generated from VR_SYSCALLS in <veridian/abi.h> so the
 * runtime cannot drift from the kernel's list.
 */
#include "vrt.h"

extern __attribute__((visibility("hidden"))) uint64_t vrt_trap_entry; /* start.c */

typedef long (*vrt_trap_fn)(long nr, long a0, long a1, long a2, long a3, long a4);

/* Valid only after _start has run (vrt_trap_entry set). */
long vr_syscall(long nr, long a0, long a1, long a2, long a3, long a4)
{
	return ((vrt_trap_fn)vrt_trap_entry)(nr, a0, a1, a2, a3, a4);
}

#define VRT_SYSCALL_STUB(nr, name, args, ret)                           \
	long vr_sys_##name(long a0, long a1, long a2, long a3, long a4) \
	{                                                               \
		return vr_syscall(VR_SYS_##name, a0, a1, a2, a3, a4);   \
	}
VR_SYSCALLS(VRT_SYSCALL_STUB)
#undef VRT_SYSCALL_STUB

#define VRT_SYSCALL_NAME(nr, name, args, ret) [nr] = #name,
static const char *const syscall_names[VR_SYS_COUNT] = { VR_SYSCALLS(VRT_SYSCALL_NAME) };
#undef VRT_SYSCALL_NAME

const char *vr_syscall_name(long nr)
{
	if (nr < 0 || nr >= VR_SYS_COUNT || !syscall_names[nr])
		return "?";
	return syscall_names[nr];
}

_Noreturn void exit(int status)
{
	vr_sys_exit(status, 0, 0, 0, 0);
	/* The kernel never returns from exit; fault rather than run on. */
	__builtin_trap();
}

long spawn(const char *path, const char *args)
{
	return sys_spawn(path, strlen(path), args, strlen(args));
}

long process_pid(uint32_t p)
{
	struct vr_cap_info ci;
	long err = sys_cap_identify(p, &ci);

	if (err)
		return err;
	return ci.type == VR_OBJ_PROCESS ? (long)ci.id : VR_ECAP_TYPE;
}

long wait_child(uint32_t p, int *status)
{
	long pid = sys_wait(p, status);

	if (pid < 0)
		return pid;
	sys_cap_delete(p);
	return 0;
}
