/*
 * The platform of the IPC fuzz harness: a fake HAL that runs the real
 * kernel (all of core/) inside the fuzzer process, with real kernel threads.
 *
 * Every hal_context is a stack of its own and hal_context_switch() is a
 * hand-written switch of the callee-saved registers (x86_64), annotated for
 * AddressSanitizer as a fiber switch; swapcontext() would cost a host
 * system call per switch. The boot context runs kernel_main() and becomes
 * the idle thread; hal_idle() calls ipch_idle() (the harness), which may
 * hand control back to the host (the fuzzer's own stack) with
 * ipch_to_host() until the next input arrives.
 *
 * "User mode" is harness code: hal_user_enter() calls ipch_user_main() on
 * the thread's kernel stack, and that code makes syscalls by calling
 * kernel_syscall() exactly as a trap entry would. Physical RAM is one
 * host buffer; the initrd sits inside it, below the frames given to the
 * kernel.
 */
#ifndef VERIDIAN_FUZZ_IPC_HAL_H
#define VERIDIAN_FUZZ_IPC_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include <veridian/hal.h>

struct ipch_machine {
	uint64_t clock_ns;
	uint64_t timer_deadline; /* UINT64_MAX: disarmed */
	uint64_t active_pml4;    /* last hal_vm_activate() */
	uintptr_t kstack_top;    /* last hal_set_kernel_stack() */
	uintptr_t user_tls;      /* last hal_set_user_tls(): the running thread's TLS base */
	uint64_t context_switches;
	bool echo; /* copy console output to stderr */
};

extern struct ipch_machine ipch;

/* Allocate `ram_bytes` of physical memory, copy the initrd into it and run
 * kernel_main() until the kernel first calls ipch_to_host(). Host side
 * only; once per process. */
void ipch_boot(size_t ram_bytes, const void *initrd, size_t initrd_size);

/* Host side: resume the kernel where ipch_to_host() left it; returns at
 * the next ipch_to_host(). */
void ipch_run(void);

/* Kernel side (the idle thread, in hal_idle): switch back to the host.
 * Returns when the host calls ipch_run() again. */
void ipch_to_host(void);

/* Where the user programs of ipch_build_initrd() enter (image offset). */
#define IPCH_ELF_ENTRY 120u

/* Build a cpio initrd in `out` (at least 2 KiB) holding bin/init and
 * bin/<prog> (each a minimal static-pie ELF that nothing executes: the
 * kernel loads it and hal_user_enter() runs harness code instead).
 * Returns its size. */
size_t ipch_build_initrd(uint8_t *out, const char *prog);

/* The last console output (at most 4 KiB, NUL-terminated), for reports. */
const char *ipch_console_tail(void);

/* Implemented by the harness. */
void ipch_idle(void);                                                    /* hal_idle() */
noreturn void ipch_user_main(uintptr_t pc, uintptr_t sp, uintptr_t arg); /* hal_user_enter() */
noreturn void ipch_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
