/*
 * compat_shared: one UMEM across two interfaces, written against libxdp's
 * API.
 *
 *   compat_shared IF1 IF2 skb|drv COUNT
 *
 * Three sockets on one UMEM of 2048 frames:
 *   s1  IF1 queue 0, RX only: the UMEM's first socket, on its own fill and
 *       completion rings (xsk_socket__create);
 *   s2  IF2 queue 0, RX and TX: a new (interface, queue), so fill and
 *       completion rings of its own (xsk_socket__create_shared, fq2/cq2);
 *   s3  IF1 queue 0 again, TX only: a queue the UMEM has, so it shares s1's
 *       fill and completion rings (xsk_socket__create, which would fail on
 *       a new queue).
 * s1 and s3 load no program (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD): IF1 is
 * steered by xsk_setup_xdp_prog's program, s1 put into its map with
 * xsk_socket__update_xskmap, and detached at the end through
 * xdp_multiprog__*. (Two sockets of one queue that both load libxdp's
 * program crash libxdp 1.3.1 when the second is deleted: both delete the
 * queue's program, a use after free. xsk_rs-compat has no such limit, but
 * the test must run on both.)
 * Flow A: frames of 100 bytes arriving on IF1 (s1) leave through IF2 (s2);
 * their completions arrive on cq2 and the frames go back to s1's fill ring.
 * Flow B: frames of 200 bytes arriving on IF2 (s2) leave through IF1 (s3);
 * completions on the UMEM's cq1, frames back to fq2. Each flow carries COUNT
 * frames, each checked here, and peer_recv checks them on the far side;
 * every frame is accounted for at the end. The UMEM stays busy until its
 * last socket is deleted.
 */
#define _GNU_SOURCE
#include "common.h"

#define NUM_FRAMES 2048
#define FRAME_SIZE 4096
#define RING 512
#define LENT 512
#define BATCH 64
#define LEN_A 100
#define LEN_B 200

static struct xsk_ring_prod fq1, fq2, tx2, tx3;
static struct xsk_ring_cons cq1, cq2, rx1, rx2;
static uint8_t *area;

/* Moves frames from one socket's RX to another's TX; returns how many. */
static unsigned forward(struct xsk_ring_cons *rx, struct xsk_ring_prod *tx, struct xsk_socket *out, unsigned *got,
			unsigned len)
{
	__u32 idx = 0, tidx = 0, n = xsk_ring_cons__peek(rx, BATCH, &idx);

	if (!n)
		return 0;
	if (xsk_ring_prod__reserve(tx, n, &tidx) != n)
		die("a TX ring has no room for %u frames", n);
	for (__u32 i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(rx, idx + i);
		struct xdp_desc *t = xsk_ring_prod__tx_desc(tx, tidx + i);

		CHECK(frame_is(xsk_umem__get_data(area, d->addr), d->len, *got, len),
		      "flow of %u-byte frames: frame %u is %u bytes, not test frame %u", len, *got, d->len, *got);
		(*got)++;
		*t = *d;
	}
	xsk_ring_prod__submit(tx, n);
	xsk_ring_cons__release(rx, n);
	if (xsk_ring_prod__needs_wakeup(tx))
		kick_tx(out);
	return n;
}

/* Takes completions and hands their frames to a fill ring; returns how many. */
static unsigned recycle(struct xsk_ring_cons *cq, struct xsk_ring_prod *fq)
{
	__u32 idx = 0, fidx = 0, n = xsk_ring_cons__peek(cq, BATCH, &idx);

	if (!n)
		return 0;
	if (xsk_ring_prod__reserve(fq, n, &fidx) != n)
		die("a fill ring has no room for %u frames", n);
	for (__u32 i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(fq, fidx + i) = *xsk_ring_cons__comp_addr(cq, idx + i);
	xsk_ring_prod__submit(fq, n);
	xsk_ring_cons__release(cq, n);
	return n;
}

int main(int argc, char **argv)
{
	const size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	unsigned count, got_a = 0, got_b = 0, sent_a = 0, sent_b = 0, done_a = 0, done_b = 0;
	struct xsk_socket *s1, *s2, *s3;
	struct xdp_multiprog *mp;
	struct xsk_umem *umem;
	int map_fd = -1;
	uint64_t deadline;
	int rc;

	prog_name = "compat_shared";
	if (argc != 5) {
		fprintf(stderr, "usage: %s IF1 IF2 skb|drv COUNT\n", argv[0]);
		return 2;
	}
	const struct xsk_umem_config uc = {
		.fill_size = 2 * RING,
		.comp_size = RING,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	const struct xsk_socket_config sc = {
		.rx_size = RING,
		.tx_size = RING,
		.libxdp_flags = 0,
		.xdp_flags = mode_flags(argv[3]),
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xsk_socket_config inhibit = sc;

	inhibit.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	count = number(argv[4], LENT);
	area = area_map(size);

	rc = xsk_umem__create(&umem, area, size, &fq1, &cq1, &uc);
	if (rc)
		die("creating the UMEM: %s", strerror(-rc));
	rc = xsk_setup_xdp_prog((int)if_nametoindex(argv[1]), &map_fd);
	if (rc)
		die("xsk_setup_xdp_prog on %s: %s", argv[1], strerror(-rc));
	rc = xsk_socket__create(&s1, argv[1], 0, umem, &rx1, NULL, &inhibit);
	if (rc)
		die("s1 on %s: %s", argv[1], strerror(-rc));
	rc = xsk_socket__update_xskmap(s1, map_fd);
	if (rc)
		die("s1 into the map: %s", strerror(-rc));
	/* A new queue without rings of its own: refused. */
	rc = xsk_socket__create(&s2, argv[2], 0, umem, &rx2, &tx2, &sc);
	result("xsk_socket__create on a second interface: %d", rc);
	if (!rc)
		die("it should have failed");
	rc = xsk_socket__create_shared(&s2, argv[2], 0, umem, &rx2, &tx2, &fq2, &cq2, &sc);
	if (rc)
		die("s2 on %s: %s", argv[2], strerror(-rc));
	rc = xsk_socket__create(&s3, argv[1], 0, umem, NULL, &tx3, &inhibit);
	if (rc)
		die("s3 on %s: %s", argv[1], strerror(-rc));
	result("s2 has fill and completion rings of its own: %s; s3 has a TX ring of its own: %s",
	       fq2.ring != fq1.ring && cq2.ring != cq1.ring && fq2.size == fq1.size ? "yes" : "no",
	       tx3.ring != tx2.ring ? "yes" : "no");
	result("fds: s1 on the umem's: %s, s2 and s3 on their own: %s",
	       xsk_socket__fd(s1) == xsk_umem__fd(umem) ? "yes" : "no",
	       xsk_socket__fd(s2) != xsk_umem__fd(umem) && xsk_socket__fd(s3) != xsk_socket__fd(s2) ? "yes" : "no");

	lend(&fq1, 0, LENT, FRAME_SIZE);
	lend(&fq2, LENT, LENT, FRAME_SIZE);
	ready("ready");

	deadline = now_ms() + WAIT_MS;
	while ((done_a < count || done_b < count) && now_ms() < deadline) {
		unsigned moved = 0, n;

		n = recycle(&cq2, &fq1); /* flow A's completions: s2 sent IF1's frames */
		done_a += n;
		moved += n;
		n = recycle(&cq1, &fq2); /* flow B's: s3 sent IF2's frames */
		done_b += n;
		moved += n;
		n = forward(&rx1, &tx2, s2, &got_a, LEN_A);
		sent_a += n;
		moved += n;
		n = forward(&rx2, &tx3, s3, &got_b, LEN_B);
		sent_b += n;
		moved += n;
		if (!moved) {
			if (sent_a > done_a)
				kick_tx(s2);
			if (sent_b > done_b)
				kick_tx(s3);
			if (sent_a == done_a && sent_b == done_b)
				wait_rx(s1, &fq1, 10);
		}
	}
	result("flow A (IF1 -> IF2): received %u, sent %u, completed %u of %u", got_a, sent_a, done_a, count);
	result("flow B (IF2 -> IF1): received %u, sent %u, completed %u of %u", got_b, sent_b, done_b, count);
	/* What the fill rings hold, read from the kernel's indices, against
	 * what the program's own counts say they should. */
	result("frames lent at the end: IF1 %u, IF2 %u (of %u each; counted %u, %u)",
	       __atomic_load_n(fq1.producer, __ATOMIC_ACQUIRE) - __atomic_load_n(fq1.consumer, __ATOMIC_ACQUIRE),
	       __atomic_load_n(fq2.producer, __ATOMIC_ACQUIRE) - __atomic_load_n(fq2.consumer, __ATOMIC_ACQUIRE), LENT,
	       LENT - got_a + done_a, LENT - got_b + done_b);
	print_stats("s1", s1);
	print_stats("s2", s2);
	print_stats("s3", s3);

	xsk_socket__delete(s3);
	result("umem delete with two sockets left: %d", xsk_umem__delete(umem));
	xsk_socket__delete(s2);
	result("s1's map entry deleted: %d", own_map_delete(map_fd, 0));
	xsk_socket__delete(s1);
	close(map_fd);
	result("umem delete: %d", xsk_umem__delete(umem));
	mp = xdp_multiprog__get_from_ifindex((int)if_nametoindex(argv[1]));
	result("IF1's program: %ld, detach: %d", libxdp_get_error(mp), libxdp_get_error(mp) ? 0 : xdp_multiprog__detach(mp));
	xdp_multiprog__close(mp);
	munmap(area, size);
	return finish();
}
