/*
 * A single-producer, single-consumer ring of fixed-size entries in memory
 * shared by two processes: the data path of a channel (channel.h). It
 * makes no syscall, so it is unit-tested on the host (tests/unit/test-ring).
 *
 * Layout: struct vr_ring, then `capacity` entries of `entry_size` bytes.
 * head and tail are free-running counters (capacity is a power of two):
 * the producer alone writes head, the consumer alone writes tail; entries
 * in [tail, head) are full. Release/acquire ordering publishes an entry's
 * bytes before the head that covers them (and frees a slot before the tail).
 *
 * Wake-ups: a side about to sleep sets its *_waiting flag, re-checks the
 * ring, then sleeps; the other side, after moving its counter, clears the
 * flag and wakes it if it was set. So a batch costs at most one wake-up.
 */
#ifndef VRT_RING_H
#define VRT_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vr_ring {
	_Atomic uint32_t head;             /* written by the producer */
	_Atomic uint32_t consumer_waiting; /* set by the consumer before it sleeps */
	uint8_t pad0[56];                  /* keep the two sides on separate cache lines */
	_Atomic uint32_t tail;             /* written by the consumer */
	_Atomic uint32_t producer_waiting; /* set by the producer before it sleeps */
	uint8_t pad1[56];
	uint32_t capacity;   /* entries, a power of two */
	uint32_t entry_size; /* bytes, a multiple of 8 */
	uint8_t pad2[56];
	_Alignas(64) uint8_t data[];
};

/* Initialise a ring in `bytes` of memory for entries of entry_size bytes
 * (rounded up to 8). Returns the capacity, or 0 if it does not fit. */
uint32_t ring_init(struct vr_ring *r, size_t bytes, uint32_t entry_size);

/* Push up to n entries (a batch); returns how many fit. */
size_t ring_push(struct vr_ring *r, const void *entries, size_t n);

/* Pop up to n entries; returns how many there were. */
size_t ring_pop(struct vr_ring *r, void *out, size_t n);

size_t ring_count(struct vr_ring *r);

/* The sleeping protocol. prepare_wait sets the caller's flag and returns
 * true if it may sleep (the ring is still empty / full after setting it).
 * A side that moved its counter calls *_should_wake: true (and the flag
 * cleared) if the peer was sleeping and needs a signal. */
bool ring_consumer_prepare_wait(struct vr_ring *r);
bool ring_producer_prepare_wait(struct vr_ring *r);
bool ring_consumer_should_wake(struct vr_ring *r); /* called by the producer */
bool ring_producer_should_wake(struct vr_ring *r); /* called by the consumer */

/* Invariants: capacity a power of two; 0 <= head - tail <= capacity. */
bool ring_check(struct vr_ring *r);

#endif
