/*
 * Capability spaces and address spaces as objects (KOBJ_CSPACE,
 * KOBJ_VSPACE): process_space() gives the holder of a process capability
 * (WRITE) a capability to that process's cspace or address space, through
 * which it can put capabilities into the process (cap_mint_to), take them
 * out (cap_delete_in) and map memory objects into it (mem_map_into,
 * core/syscall_mem.c). A supervisor, loader or pager works this way on a
 * process it created, without the process's cooperation.
 *
 * Rights: process_space needs WRITE and DELEGATE on the process (the space
 * capability it makes is a new original one, with the process
 * capability's rights, which revoking the process capability does not
 * reach: DELEGATE is the right to make such capabilities); cap_mint_to and
 * cap_delete_in need WRITE on the cspace (and DELEGATE on the source, as
 * for cap_mint). The space objects live as long as their process record
 * (core/proc.c) or cspace record (core/cap.c) does; once the process has
 * exited, operations through them fail with VR_ESRCH.
 */
#include "veridian/hal.h"
#include "veridian/klib.h"
#include "veridian/proc.h"
#include "veridian/syscall.h"

static int decode_cspace(uint64_t h, uint32_t rights, struct cspace **out)
{
	struct cap *c;
	int err = decode_cap(h, KOBJ_CSPACE, rights, &c);

	if (err)
		return err;
	*out = container_of(c->obj, struct cspace, obj);
	return (*out)->dead ? VR_ESRCH : VR_OK;
}

int64_t sys_process_space(const struct syscall_args *a)
{
	struct process *self = proc_current(), *p;
	struct kobj *obj;
	struct cap *c;
	cap_handle_t h;
	int err;

	if (a->a[1] != VR_SPACE_CAPS && a->a[1] != VR_SPACE_ADDR)
		return VR_EINVAL;
	err = decode_cap(a->a[0], KOBJ_PROCESS, CAP_WRITE | CAP_DELEGATE, &c);
	if (err)
		return err;
	p = container_of(c->obj, struct process, obj);
	if (p->zombie)
		return VR_ESRCH;
	obj = a->a[1] == VR_SPACE_CAPS ? &p->cs->obj : &p->vs_obj;
	/* an original capability of another object: no more rights than the
	 * process capability had, and outside its derivation tree */
	err = cap_insert(self->cs, obj, c->rights, 0, &h);
	return err ? err : (int64_t)h;
}

int64_t sys_cap_mint_to(const struct syscall_args *a)
{
	struct cspace *dst;
	cap_handle_t out;
	int err;

	if (a->a[1] > UINT32_MAX)
		return VR_ECAP_RANGE;
	if (a->a[2] > UINT32_MAX)
		return VR_EINVAL;
	err = decode_cspace(a->a[0], CAP_WRITE, &dst);
	if (!err)
		err = cap_mint(proc_current()->cs, (cap_handle_t)a->a[1], dst, (uint32_t)a->a[2],
			       a->a[3], a->a[4], hal_clock_ns(), &out);
	return err ? err : (int64_t)out;
}

int64_t sys_cap_delete_in(const struct syscall_args *a)
{
	struct cspace *cs;
	int err = decode_cspace(a->a[0], CAP_WRITE, &cs);

	if (err)
		return err;
	if (a->a[1] > UINT32_MAX)
		return VR_ECAP_RANGE;
	return cap_delete(cs, (cap_handle_t)a->a[1]);
}
