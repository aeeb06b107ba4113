/*
 * Channels (channel.h) over the kernel's memory objects and notifications.
 * The sleeping protocol is ring.h's: set the waiting flag, re-check, sleep
 * on the notification; the other side wakes it only if the flag was set.
 * Notifications are sticky, so a wake-up sent between the re-check and the
 * wait is not lost.
 */
#include "channel.h"
#include "vrt.h"

#define CHANNEL_REGION_OFF 0x80000000ull   /* 2 GiB into the slot */
#define CHANNEL_REGION_STRIDE 0x1000000ull /* 16 MiB per channel */

void *channel_map_address(unsigned n)
{
	return (void *)(uintptr_t)(vrt_start_info->slot_base + CHANNEL_REGION_OFF +
				   n * CHANNEL_REGION_STRIDE);
}

long channel_create(struct vr_channel *ch, uint64_t pages, uint32_t entry_size, void *va)
{
	long mem = sys_mem_create(pages), data = -1, space = -1, r;

	if (mem < 0)
		return mem;
	data = sys_notification_create();
	space = sys_notification_create();
	r = data < 0 ? data : space < 0 ? space : 0;
	if (!r)
		r = sys_mem_map((uint32_t)mem, va, 0, pages, VR_PROT_READ | VR_PROT_WRITE);
	if (!r && !ring_init(va, pages * VR_PAGE_SIZE, entry_size))
		r = VR_EINVAL; /* entries larger than the channel */
	if (r) {
		sys_cap_delete((uint32_t)mem);
		if (data >= 0)
			sys_cap_delete((uint32_t)data);
		if (space >= 0)
			sys_cap_delete((uint32_t)space);
		return r;
	}
	*ch = (struct vr_channel){ va, (uint32_t)mem, (uint32_t)data, (uint32_t)space, pages, 0 };
	return 0;
}

long channel_attach(struct vr_channel *ch, uint32_t mem, uint32_t data, uint32_t space,
		    uint64_t pages, void *va)
{
	long r = sys_mem_map(mem, va, 0, pages, VR_PROT_READ | VR_PROT_WRITE);

	if (r)
		return r;
	if (!ring_check(va)) {
		sys_mem_unmap(va, pages);
		return VR_EINVAL; /* not an initialised ring */
	}
	*ch = (struct vr_channel){ va, mem, data, space, pages, 0 };
	return 0;
}

long channel_send(struct vr_channel *ch, const void *entries, size_t n)
{
	const uint8_t *p = entries;
	size_t done = 0;

	while (done < n) {
		size_t k = ring_push(ch->ring, p + done * ch->ring->entry_size, n - done);
		long r;

		done += k;
		if (k && ring_consumer_should_wake(ch->ring)) {
			r = sys_notify_signal(ch->data, 1);
			if (r < 0)
				return r;
		}
		if (done < n && ring_producer_prepare_wait(ch->ring)) {
			ch->sleeps++;
			r = sys_notify_wait(ch->space, 0);
			if (r < 0)
				return r;
		}
	}
	return (long)n;
}

long channel_recv(struct vr_channel *ch, void *out, size_t max)
{
	for (;;) {
		size_t k = ring_pop(ch->ring, out, max);
		long r;

		if (k) {
			if (ring_producer_should_wake(ch->ring)) {
				r = sys_notify_signal(ch->space, 1);
				if (r < 0)
					return r;
			}
			return (long)k;
		}
		if (ring_consumer_prepare_wait(ch->ring)) {
			ch->sleeps++;
			r = sys_notify_wait(ch->data, 0);
			if (r < 0)
				return r;
		}
	}
}

void channel_close(struct vr_channel *ch)
{
	sys_mem_unmap(ch->ring, ch->pages);
	sys_cap_delete(ch->mem);
	sys_cap_delete(ch->data);
	sys_cap_delete(ch->space);
	ch->ring = NULL;
}
