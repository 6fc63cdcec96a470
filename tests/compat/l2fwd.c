/*
 * compat_l2fwd: receive, swap the MACs, send back, written against
 * libxdp's API.
 *
 *   compat_l2fwd IFNAME skb|drv COUNT LEN
 *
 * 2048 frames of 4096 bytes; 512 lent through the fill ring struct given to
 * xsk_umem__create before the socket exists; the socket (RX and TX rings of
 * 512) is created with xsk_socket__create_shared and other fill and
 * completion structs, which must take over the first ones' state (libxdp
 * copies it). Each of COUNT frames (peer_send's, LEN bytes) is checked,
 * sent back out with its MACs swapped from the frame it arrived in
 * (peer_recv -x checks them), and its frame goes back to the fill ring when
 * its completion arrives. At the end every frame is back in the fill ring.
 *
 * Built with -DCOMPAT_OPTS, the UMEM is registered on an AF_XDP socket of
 * the program's own (xsk_umem__create_with_fd, libxdp 1.4) and the socket
 * made with xsk_socket__create_opts and the other structs (libxdp 1.5); its
 * results must be those of the plain build.
 */
#define _GNU_SOURCE
#include "common.h"

#define NUM_FRAMES 2048
#define FRAME_SIZE 4096
#define RING 512
#define LENT 512
#define BATCH 64

static struct xsk_ring_prod fq0, fq, tx;
static struct xsk_ring_cons cq0, cq, rx;

int main(int argc, char **argv)
{
	const size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	unsigned count, len, got = 0, sent = 0, done = 0, lent;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint64_t deadline;
	uint8_t *area;
	int rc;

	prog_name = "compat_l2fwd";
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFNAME skb|drv COUNT LEN\n", argv[0]);
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
		.xdp_flags = mode_flags(argv[2]),
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	count = number(argv[3], 100000);
	len = number(argv[4], 1500);
	area = area_map(size);

#ifdef COMPAT_OPTS
	{
		int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket(AF_XDP): %s", strerror(errno));
		rc = xsk_umem__create_with_fd(&umem, fd, area, size, &fq0, &cq0, &uc);
		if (!rc)
			result("umem: on the caller's fd: %s", xsk_umem__fd(umem) == fd ? "yes" : "no");
	}
#else
	rc = xsk_umem__create(&umem, area, size, &fq0, &cq0, &uc);
	if (!rc)
		result("umem: on the caller's fd: yes");
#endif
	if (rc)
		die("creating the UMEM: %s", strerror(-rc));
	lend(&fq0, 0, LENT, FRAME_SIZE);
	lent = LENT;

#ifdef COMPAT_OPTS
	struct xsk_socket_opts so = {
		.sz = sizeof(so),
		.rx = &rx,
		.tx = &tx,
		.fill = &fq,
		.comp = &cq,
		.rx_size = sc.rx_size,
		.tx_size = sc.tx_size,
		.xdp_flags = sc.xdp_flags,
		.bind_flags = sc.bind_flags,
	};
	xsk = xsk_socket__create_opts(argv[1], 0, umem, &so);
	rc = xsk ? 0 : -errno;
#else
	rc = xsk_socket__create_shared(&xsk, argv[1], 0, umem, &rx, &tx, &fq, &cq, &sc);
#endif
	if (rc)
		die("creating the socket on %s: %s", argv[1], strerror(-rc));
	result("the other fill struct took the first one's over: %s (%u reserved, %u free)",
	       fq.ring == fq0.ring && fq.cached_prod == fq0.cached_prod && cq.ring == cq0.ring ? "yes" : "no",
	       fq.cached_prod, xsk_prod_nb_free(&fq, 1));

	ready("ready");
	deadline = now_ms() + WAIT_MS;
	while (done < count && now_ms() < deadline) {
		__u32 idx = 0, tidx = 0, n;

		/* Completions first: their frames go back to the fill ring. */
		n = xsk_ring_cons__peek(&cq, BATCH, &idx);
		if (n) {
			__u32 fidx = 0;

			if (xsk_ring_prod__reserve(&fq, n, &fidx) != n)
				die("the fill ring has no room for %u frames", n);
			for (__u32 i = 0; i < n; i++)
				*xsk_ring_prod__fill_addr(&fq, fidx + i) = *xsk_ring_cons__comp_addr(&cq, idx + i);
			xsk_ring_prod__submit(&fq, n);
			xsk_ring_cons__release(&cq, n);
			done += n;
			lent += n;
		}
		n = xsk_ring_cons__peek(&rx, BATCH, &idx);
		if (!n) {
			if (sent > done && xsk_ring_prod__needs_wakeup(&tx))
				kick_tx(xsk);
			else if (!n && sent == done)
				wait_rx(xsk, &fq, 100);
			continue;
		}
		lent -= n;
		/* TX has room for every frame received: at most RING are out. */
		if (xsk_ring_prod__reserve(&tx, n, &tidx) != n)
			die("the TX ring has no room for %u frames", n);
		for (__u32 i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
			struct xdp_desc *t = xsk_ring_prod__tx_desc(&tx, tidx + i);
			uint8_t *f = xsk_umem__get_data(area, d->addr);

			CHECK(frame_is(f, d->len, got, len), "frame %u: %u bytes, not test frame %u", got, d->len, got);
			swap_macs(f);
			t->addr = d->addr;
			t->len = d->len;
			t->options = 0;
			got++;
		}
		xsk_ring_prod__submit(&tx, n);
		xsk_ring_cons__release(&rx, n);
		sent += n;
		if (xsk_ring_prod__needs_wakeup(&tx))
			kick_tx(xsk);
	}
	result("received %u, forwarded %u, completed %u of %u; frames lent at the end %u of %u", got, sent, done,
	       count, lent, LENT);
	print_stats("l2fwd", xsk);

	xsk_socket__delete(xsk);
	result("umem delete: %d", xsk_umem__delete(umem));
	munmap(area, size);
	return finish();
}
