/*
 * chantest: a channel (services/runtime/channel.h) between two processes.
 * The producer creates a one-page channel (so the ring fills often and
 * back-pressure is exercised), starts `chantest consume N` with the three
 * capabilities, and sends N sequence-numbered entries in batches of random
 * size (seeded). The consumer checks that every entry arrives once, in
 * order, and exits 0 only if so. Prints
 * "chantest: N entries, seed S, producer waited W times, consumer ok".
 *
 * Usage: chantest [N [SEED]]          (producer)
 *        chantest consume N [PAGES]   (started by the producer or vbench)
 */
#include "channel.h"
#include "vrt.h"

struct entry {
	uint64_t seq;
	uint64_t check; /* ~seq */
};

static unsigned long rng(unsigned long *s)
{
	*s = *s * 6364136223846793005ul + 1442695040888963407ul;
	return *s >> 33;
}

static int consume(long n, long pages)
{
	struct vr_channel ch;
	struct entry buf[64];
	long got = 0, r = channel_attach(&ch, 0, 1, 2, (uint64_t)pages, channel_map_address(0));

	if (r) {
		printf("chantest: attach: %s\n", vr_strerror(r));
		return 2;
	}
	while (got < n) {
		r = channel_recv(&ch, buf, 64);
		if (r < 0) {
			printf("chantest: recv: %s\n", vr_strerror(r));
			return 3;
		}
		for (long i = 0; i < r; i++) {
			if (buf[i].seq != (uint64_t)(got + i) || buf[i].check != ~buf[i].seq) {
				printf("chantest: entry %ld is %lu\n", got + i,
				       (unsigned long)buf[i].seq);
				return 1;
			}
		}
		got += r;
	}
	channel_close(&ch);
	return 0;
}

int main(int argc, char **argv)
{
	long n = 100000, seed = 1, pid, pages = 1;
	struct vr_channel ch;
	struct vr_spawn_caps sc = { .count = 3 };
	struct entry batch[64];
	char args[64];
	unsigned long rs;
	int status = -1;
	long r;

	if (argc > 2 && strcmp(argv[1], "consume") == 0) {
		if (!vrt_parse_long(argv[2], &n) || (argc > 3 && !vrt_parse_long(argv[3], &pages)))
			return 2;
		return consume(n, pages);
	}
	if ((argc > 1 && !vrt_parse_long(argv[1], &n)) ||
	    (argc > 2 && !vrt_parse_long(argv[2], &seed))) {
		printf("usage: chantest [N [SEED]]\n");
		return 2;
	}
	rs = (unsigned long)seed;
	r = channel_create(&ch, (uint64_t)pages, sizeof(struct entry), channel_map_address(0));
	if (r) {
		printf("chantest: create: %s\n", vr_strerror(r));
		return 1;
	}
	sc.handles[0] = ch.mem;
	sc.handles[1] = ch.data;
	sc.handles[2] = ch.space;
	snprintf(args, sizeof(args), "chantest consume %ld %ld", n, pages);
	pid = sys_spawn_caps("bin/chantest", 12, args, strlen(args), &sc);
	if (pid < 0) {
		printf("chantest: spawn: %s\n", vr_strerror(pid));
		return 1;
	}
	for (long sent = 0; sent < n;) {
		long k = 1 + (long)(rng(&rs) % 64);
		if (k > n - sent)
			k = n - sent;
		for (long i = 0; i < k; i++)
			batch[i] = (struct entry){ (uint64_t)(sent + i), ~(uint64_t)(sent + i) };
		r = channel_send(&ch, batch, (size_t)k);
		if (r != k) {
			printf("chantest: send: %s\n", vr_strerror(r));
			return 1;
		}
		sent += k;
	}
	wait_child(pid, &status);
	printf("chantest: %ld entries, seed %ld, producer waited %lu times, consumer %s\n", n, seed,
	       (unsigned long)ch.sleeps, status == 0 ? "ok" : "FAILED");
	channel_close(&ch);
	return status == 0 ? 0 : 1;
}
