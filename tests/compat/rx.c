/*
 * compat_rx: receiving, written against libxdp's API.
 *
 *   compat_rx IFNAME skb|drv COUNT LEN
 *
 * A UMEM of 4096 frames of 2048 bytes with 512 bytes of headroom, so frames
 * longer than 2048 - 256 - 512 are dropped; 1024 frames lent before the
 * socket exists; an RX-only socket with an RX ring of 64 on queue 0.
 * Phase 1 (after "ready"): the runner sends 3 frames of 1400 bytes, then
 * COUNT (at most 64) test frames of LEN bytes; each is checked byte for
 * byte, and the long ones must show as rx_dropped. Phase 2 (after
 * "ready2"): the runner sends 100 frames that nobody reads until they have
 * all arrived: 64 fill the RX ring, 36 count as rx_ring_full; then the 64
 * are checked. Uses reserve, fill_addr, submit, nb_free, peek, nb_avail,
 * rx_desc, cancel, release, needs_wakeup, get_data, both fd getters, and
 * xsk_umem__delete's -EBUSY.
 *
 * Built with -DCOMPAT_OPTS, it creates the UMEM and the socket with
 * xsk_umem__create_opts and xsk_socket__create_opts (libxdp 1.5); its
 * results must be those of the plain build.
 */
#define _GNU_SOURCE
#include "common.h"

#define NUM_FRAMES 4096
#define FRAME_SIZE 2048
#define HEADROOM 512
#define RX_SIZE 64
#define LENT 1024
#define LONG_FRAMES 3
#define PHASE2 100

static struct xsk_ring_prod fq;
static struct xsk_ring_cons cq, rx;

/* Receives n frames (sequence numbers first.., length len, seq counting
 * from 0 in this phase) and hands their frames back. */
static void receive(struct xsk_socket *xsk, void *area, unsigned n, unsigned len, int try_cancel)
{
	unsigned got = 0;
	uint64_t deadline = now_ms() + WAIT_MS;

	while (got < n && now_ms() < deadline) {
		__u32 idx = 0, idx2 = 0, fidx = 0, k;

		if (!xsk_cons_nb_avail(&rx, 64)) {
			wait_rx(xsk, &fq, 100);
			continue;
		}
		k = xsk_ring_cons__peek(&rx, 64, &idx);
		if (try_cancel && k >= 2) {
			/* Give back all but the first and peek them again: the
			 * second peek starts right after the first entry. */
			xsk_ring_cons__cancel(&rx, k - 1);
			k = 1 + xsk_ring_cons__peek(&rx, 64, &idx2);
			CHECK(idx2 == idx + 1, "peek after cancel starts at %u, expected %u", idx2, idx + 1);
			result("cancel: peeked again from the next entry");
			try_cancel = 0;
		}
		if (xsk_ring_prod__reserve(&fq, k, &fidx) != k)
			die("the fill ring has no room for %u frames", k);
		for (__u32 i = 0; i < k; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
			const uint8_t *f = xsk_umem__get_data(area, d->addr);

			CHECK(d->addr % FRAME_SIZE == 256 + HEADROOM, "frame %u at offset %llu of its frame", got,
			      (unsigned long long)(d->addr % FRAME_SIZE));
			CHECK(frame_is(f, d->len, got, len), "frame %u: %u bytes, sequence %u, not test frame %u", got,
			      d->len, d->len >= TEST_HDR_LEN ? frame_seq(f) : 0, got);
			*xsk_ring_prod__fill_addr(&fq, fidx + i) = d->addr - d->addr % FRAME_SIZE;
			got++;
		}
		xsk_ring_prod__submit(&fq, k);
		xsk_ring_cons__release(&rx, k);
	}
	result("received %u of %u frames of %u bytes", got, n, len);
}

int main(int argc, char **argv)
{
	const size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	unsigned count, len;
	__u32 flags;
	void *area;
	int rc;

	prog_name = "compat_rx";
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFNAME skb|drv COUNT LEN\n", argv[0]);
		return 2;
	}
	flags = mode_flags(argv[2]);
	count = number(argv[3], RX_SIZE);
	len = number(argv[4], FRAME_SIZE - 256 - HEADROOM);
	area = area_map(size);

#ifdef COMPAT_OPTS
	struct xsk_umem_opts uo = {
		.sz = sizeof(uo),
		.size = size,
		.fill_size = 2048,
		.comp_size = 2048,
		.frame_size = FRAME_SIZE,
		.frame_headroom = HEADROOM,
	};
	umem = xsk_umem__create_opts(area, &fq, &cq, &uo);
	rc = umem ? 0 : -errno;
#else
	const struct xsk_umem_config uc = {
		.fill_size = 2048,
		.comp_size = 2048,
		.frame_size = FRAME_SIZE,
		.frame_headroom = HEADROOM,
		.flags = 0,
	};
	rc = xsk_umem__create(&umem, area, size, &fq, &cq, &uc);
#endif
	if (rc)
		die("creating the UMEM: %s", strerror(-rc));
	result("umem: fd %s, fill ring %u entries with %u free, completion ring %u entries",
	       xsk_umem__fd(umem) >= 0 ? "valid" : "invalid", fq.size, xsk_prod_nb_free(&fq, 1), cq.size);

	/* The fill ring works before any socket exists. */
	lend(&fq, 0, LENT, FRAME_SIZE);
	result("lent %u frames: %u free, %u free when asked for more", LENT, xsk_prod_nb_free(&fq, LENT),
	       xsk_prod_nb_free(&fq, LENT + 1));

#ifdef COMPAT_OPTS
	struct xsk_socket_opts so = {
		.sz = sizeof(so),
		.rx = &rx,
		.rx_size = RX_SIZE,
		.xdp_flags = flags,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	xsk = xsk_socket__create_opts(argv[1], 0, umem, &so);
	rc = xsk ? 0 : -errno;
#else
	const struct xsk_socket_config sc = {
		.rx_size = RX_SIZE,
		.tx_size = 0,
		.libxdp_flags = 0,
		.xdp_flags = flags,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	rc = xsk_socket__create(&xsk, argv[1], 0, umem, &rx, NULL, &sc);
#endif
	if (rc)
		die("creating the socket on %s: %s", argv[1], strerror(-rc));
	result("socket: rx ring %u entries, on the umem's fd: %s, umem delete while in use: %d", rx.size,
	       xsk_socket__fd(xsk) == xsk_umem__fd(umem) ? "yes" : "no", xsk_umem__delete(umem));

	ready("ready");
	receive(xsk, area, count, len, 1);
	print_stats("phase 1", xsk);

	ready("ready2");
	{
		uint64_t deadline = now_ms() + WAIT_MS;
		__u32 avail = 0;

		/* Nothing is read until every frame is in the ring or counted. */
		while (now_ms() < deadline) {
			avail = xsk_cons_nb_avail(&rx, RX_SIZE);
			if (avail + stats_of(xsk).rx_ring_full >= PHASE2)
				break;
			sleep_ms(10);
		}
		result("phase 2: %u frames waiting in the RX ring", avail);
	}
	print_stats("phase 2 before reading", xsk);
	receive(xsk, area, RX_SIZE, len, 0);

	xsk_socket__delete(xsk);
	rc = xsk_umem__delete(umem);
	result("umem delete after the socket: %d", rc);
	munmap(area, size);
	return finish();
}
