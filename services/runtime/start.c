/*
 * Process entry and self-relocation.
 *
 * The kernel loads every process at a different address (its slot base +
 * VR_SLOT_IMAGE_OFF) and runs no dynamic linker, so a program fixes up its
 * own absolute pointers: the static-pie link leaves only R_X86_64_RELATIVE
 * entries in DT_RELA (address = load base + addend). Until they are applied,
 * code here may use only PC-relative addressing (hidden symbols, string
 * literals) and locals, never a global holding a pointer.
 */
#include "vrt.h"

/* ELF64 dynamic-section subset (no host <elf.h> in freestanding code). */
struct elf64_dyn {
	int64_t d_tag;
	uint64_t d_val;
};

struct elf64_rela {
	uint64_t r_offset;
	uint64_t r_info;
	int64_t r_addend;
};

enum {
	DT_NULL = 0,
	DT_PLTRELSZ = 2,
	DT_RELA = 7,
	DT_RELASZ = 8,
	DT_RELAENT = 9,
	DT_REL = 17,
	DT_TEXTREL = 22,
	DT_JMPREL = 23,
	DT_RELR = 36,
	R_X86_64_RELATIVE = 8,
};

/*
 * Provided by the linker. Explicitly hidden: an extern with default
 * visibility is reached through a GOT entry (clang does so even in PIE
 * code), and that entry is itself one of the relocations not yet applied.
 */
#define VRT_HIDDEN __attribute__((visibility("hidden")))
extern VRT_HIDDEN const struct elf64_dyn _DYNAMIC[];
extern VRT_HIDDEN const char __ehdr_start[];

extern VRT_HIDDEN int main(int argc, char **argv);
extern VRT_HIDDEN uint64_t vrt_trap_entry;

const struct vr_start_info *vrt_start_info;
uint64_t vrt_trap_entry;
static struct vrt_thread vrt_main_thread; /* the main thread's TLS block */

/*
 * The kernel enters here with the vr_start_info pointer in rdi and an
 * unspecified stack alignment; realign and call vrt_start (which never
 * returns). ud2 faults the process should it ever return.
 */
__asm__(".text\n"
	".globl _start\n"
	".hidden _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call vrt_start\n"
	"	ud2\n"
	".size _start, . - _start\n");

/* Writes msg through the trap before globals are usable, then exits 127. */
static _Noreturn void early_die(uint64_t trap, const char *msg)
{
	long (*fn)(long, long, long, long, long, long) =
		(long (*)(long, long, long, long, long, long))trap;
	size_t len = 0;

	while (msg[len])
		len++;
	fn(VR_SYS_console_write, (long)msg, (long)len, 0, 0, 0);
	fn(VR_SYS_exit, 127, 0, 0, 0, 0);
	__builtin_trap();
}

/*
 * Applies this image's relocations for load address base. Returns NULL, or
 * a message naming what it refused: anything but RELATIVE would need a
 * symbol lookup this runtime does not do.
 */
static const char *relocate(uintptr_t base)
{
	const struct elf64_rela *rela = NULL;
	uint64_t relasz = 0, relaent = sizeof(*rela);

	for (const struct elf64_dyn *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_RELA)
			rela = (const struct elf64_rela *)(base + d->d_val);
		else if (d->d_tag == DT_RELASZ)
			relasz = d->d_val;
		else if (d->d_tag == DT_RELAENT)
			relaent = d->d_val;
		else if (d->d_tag == DT_REL || d->d_tag == DT_RELR || d->d_tag == DT_TEXTREL ||
			 (d->d_tag == DT_PLTRELSZ && d->d_val) ||
			 (d->d_tag == DT_JMPREL && d->d_val))
			return "vrt: unsupported dynamic relocation table (only RELA/RELATIVE)\n";
	}
	if (relaent != sizeof(*rela))
		return "vrt: unexpected DT_RELAENT\n";
	for (uint64_t i = 0; rela && i < relasz / relaent; i++) {
		if ((rela[i].r_info & 0xffffffffu) != R_X86_64_RELATIVE)
			return "vrt: unsupported relocation type (only R_X86_64_RELATIVE)\n";
		*(uint64_t *)(base + rela[i].r_offset) = base + (uint64_t)rela[i].r_addend;
	}
	return NULL;
}

/*
 * C entry: si is the kernel's read-only start page. A bad magic means there
 * is no trap entry to report through, so the process faults instead.
 */
__attribute__((used, noreturn)) void vrt_start(const struct vr_start_info *si)
{
	uint64_t trap;
	const char *err;

	if (!si || si->magic != VR_START_MAGIC)
		__builtin_trap();
	trap = si->trap_entry;
	/* The linker places the ELF header at link address 0 of a PIE. */
	err = relocate((uintptr_t)__ehdr_start);
	if (err)
		early_die(trap, err);
	/* Loads of relocated globals must not be hoisted above the fix-ups. */
	__asm__ volatile("" ::: "memory");
	vrt_trap_entry = trap;
	vrt_start_info = si;
	vrt_main_thread = (struct vrt_thread){ .self = &vrt_main_thread,
					       .ipc = (struct vr_ipc_buffer *)si->ipc_buffer,
					       .handle = VR_CAP_INVALID,
					       .mem = VR_CAP_INVALID,
					       .index = -1 };
	if (vr_sys_thread_set_tls((long)&vrt_main_thread, 0, 0, 0, 0))
		early_die(trap, "cannot set the main thread's TLS\n");
	exit(main((int)si->argc, (char **)(uintptr_t)si->argv));
}
