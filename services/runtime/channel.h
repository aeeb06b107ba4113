/*
 * Channels: the zero-copy asynchronous tier of IPC. A channel is a ring of
 * fixed-size entries (ring.h) in a memory object that both processes map,
 * plus two notifications: `data` (the producer wakes a sleeping consumer)
 * and `space` (the consumer wakes a producer held back by a full ring).
 * The kernel only provides the pieces (memory objects, notifications,
 * capabilities to pass them); sending and receiving make no syscall unless
 * a side has to sleep or wake the other, so a batch of entries costs at
 * most one wake-up.
 *
 * Setup: the producer calls channel_create() and passes the three
 * capabilities (channel_caps) to the consumer — at spawn or in an IPC
 * message — which calls channel_attach() with them.
 */
#ifndef VRT_CHANNEL_H
#define VRT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

struct vr_channel {
	struct vr_ring *ring; /* where this process mapped the memory object */
	uint32_t mem;         /* capability to the memory object */
	uint32_t data;        /* notification: entries were added */
	uint32_t space;       /* notification: entries were taken */
	uint64_t pages;
	uint64_t sleeps; /* times this side had to wait (statistics) */
};

/* Where channel n is mapped in this process's slot (a region the image,
 * stack and runtime never use). */
void *channel_map_address(unsigned n);

/* Create a channel of `pages` pages for entries of `entry_size` bytes,
 * mapped at `va`; the caller is the producer. Returns 0 or a vr_error (and
 * then nothing is left allocated). */
long channel_create(struct vr_channel *ch, uint64_t pages, uint32_t entry_size, void *va);

/* Join a channel as the consumer from the three capabilities the producer
 * passed (memory object, data and space notifications), mapping it at va. */
long channel_attach(struct vr_channel *ch, uint32_t mem, uint32_t data, uint32_t space,
		    uint64_t pages, void *va);

/* Send n entries, waiting while the ring is full (back-pressure). Returns
 * n or a vr_error. */
long channel_send(struct vr_channel *ch, const void *entries, size_t n);

/* Receive up to max entries, waiting while the ring is empty. Returns the
 * number received (>= 1) or a vr_error. */
long channel_recv(struct vr_channel *ch, void *out, size_t max);

/* Unmap and delete this side's capabilities. */
void channel_close(struct vr_channel *ch);

#endif
