/*
 * SPSC ring (ring.h). Memory order: the producer writes entry bytes, then
 * stores head with release; the consumer loads head with acquire before
 * reading entries, and stores tail with release after copying them out;
 * the producer loads tail with acquire before reusing a slot. The waiting
 * flags use sequentially consistent operations: "set flag, re-check
 * counter" on one side against "move counter, check flag" on the other
 * must not both miss (the classic lost-wake-up race).
 */
#include "ring.h"

void *memcpy(void *dst, const void *src, size_t n);

uint32_t ring_init(struct vr_ring *r, size_t bytes, uint32_t entry_size)
{
	uint32_t cap = 1;

	entry_size = (entry_size + 7u) & ~7u;
	if (!entry_size || bytes < sizeof(*r) + entry_size)
		return 0;
	while ((size_t)cap * 2 * entry_size <= bytes - sizeof(*r))
		cap *= 2;
	atomic_store(&r->head, 0);
	atomic_store(&r->tail, 0);
	atomic_store(&r->consumer_waiting, 0);
	atomic_store(&r->producer_waiting, 0);
	r->capacity = cap;
	r->entry_size = entry_size;
	return cap;
}

static uint8_t *slot(struct vr_ring *r, uint32_t index)
{
	return r->data + (size_t)(index & (r->capacity - 1)) * r->entry_size;
}

size_t ring_push(struct vr_ring *r, const void *entries, size_t n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t space = r->capacity - (head - tail), i;
	const uint8_t *src = entries;

	if (n > space)
		n = space;
	for (i = 0; i < n; i++)
		memcpy(slot(r, head + (uint32_t)i), src + i * r->entry_size, r->entry_size);
	atomic_store_explicit(&r->head, head + (uint32_t)n, memory_order_release);
	return n;
}

size_t ring_pop(struct vr_ring *r, void *out, size_t n)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t avail = head - tail, i;
	uint8_t *dst = out;

	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++)
		memcpy(dst + i * r->entry_size, slot(r, tail + (uint32_t)i), r->entry_size);
	atomic_store_explicit(&r->tail, tail + (uint32_t)n, memory_order_release);
	return n;
}

size_t ring_count(struct vr_ring *r)
{
	return atomic_load(&r->head) - atomic_load(&r->tail);
}

bool ring_consumer_prepare_wait(struct vr_ring *r)
{
	atomic_store(&r->consumer_waiting, 1);
	if (ring_count(r) == 0)
		return true;
	atomic_store(&r->consumer_waiting, 0);
	return false;
}

bool ring_producer_prepare_wait(struct vr_ring *r)
{
	atomic_store(&r->producer_waiting, 1);
	if (ring_count(r) == r->capacity)
		return true;
	atomic_store(&r->producer_waiting, 0);
	return false;
}

bool ring_consumer_should_wake(struct vr_ring *r)
{
	return atomic_exchange(&r->consumer_waiting, 0) != 0;
}

bool ring_producer_should_wake(struct vr_ring *r)
{
	return atomic_exchange(&r->producer_waiting, 0) != 0;
}

bool ring_check(struct vr_ring *r)
{
	uint32_t used = atomic_load(&r->head) - atomic_load(&r->tail);

	return r->capacity && !(r->capacity & (r->capacity - 1)) && r->entry_size &&
	       !(r->entry_size & 7u) && used <= r->capacity;
}
