/*
 * compat_tx: sending, written against libxdp's API.
 *
 *   compat_tx IFNAME skb|drv COUNT LEN
 *
 * A UMEM with the default geometry (config NULL: 4096-byte frames, rings of
 * 2048) over 1024 frames, a TX-only socket with a TX ring of 256. Sends
 * COUNT test frames of LEN bytes (peer_recv checks them on the other end),
 * in batches of up to 64 through reserve, tx_desc, submit and a sendto when
 * needs_wakeup asks, taking completions with peek, comp_addr and release;
 * then one descriptor outside the UMEM, which the kernel must count in
 * tx_invalid_descs. Every completed address must be one that was sent.
 */
#define _GNU_SOURCE
#include "common.h"

#define NUM_FRAMES 1024
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define TX_SIZE 256
#define BATCH 64

static struct xsk_ring_prod fq, tx;
static struct xsk_ring_cons cq;
static unsigned char in_flight[NUM_FRAMES + 1];

/* Takes what the completion ring holds; returns how many. */
static unsigned complete(void)
{
	__u32 idx = 0, n = xsk_ring_cons__peek(&cq, BATCH, &idx);

	for (__u32 i = 0; i < n; i++) {
		__u64 addr = *xsk_ring_cons__comp_addr(&cq, idx + i);
		__u64 frame = addr / FRAME_SIZE;

		if (CHECK(addr % FRAME_SIZE == 0 && frame <= NUM_FRAMES && in_flight[frame],
			  "completion of address %llu, which is not in flight", (unsigned long long)addr))
			in_flight[frame] = 0;
	}
	xsk_ring_cons__release(&cq, n);
	return n;
}

int main(int argc, char **argv)
{
	const size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	unsigned count, len, sent = 0, done = 0, kicks_asked = 0;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint64_t deadline;
	uint8_t *area;
	int rc;

	prog_name = "compat_tx";
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFNAME skb|drv COUNT LEN\n", argv[0]);
		return 2;
	}
	const struct xsk_socket_config sc = {
		.rx_size = 0,
		.tx_size = TX_SIZE,
		.libxdp_flags = 0,
		.xdp_flags = mode_flags(argv[2]),
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	count = number(argv[3], NUM_FRAMES);
	len = number(argv[4], 1500);
	if (len < 60)
		die("LEN must be 60..1500");
	area = area_map(size);

	rc = xsk_umem__create(&umem, area, size, &fq, &cq, NULL);
	if (rc)
		die("creating the UMEM: %s", strerror(-rc));
	result("umem: default fill ring %u, completion ring %u", fq.size, cq.size);
	rc = xsk_socket__create(&xsk, argv[1], 0, umem, NULL, &tx, &sc);
	if (rc)
		die("creating the socket on %s: %s", argv[1], strerror(-rc));
	result("socket: tx ring %u entries, %u free", tx.size, xsk_prod_nb_free(&tx, TX_SIZE));

	for (unsigned i = 0; i < count; i++)
		make_frame(area + (size_t)i * FRAME_SIZE, i, len);

	deadline = now_ms() + WAIT_MS;
	while (done < count && now_ms() < deadline) {
		unsigned want = count - sent < BATCH ? count - sent : BATCH;
		__u32 idx = 0, n = want ? xsk_ring_prod__reserve(&tx, want, &idx) : 0;

		for (__u32 i = 0; i < n; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx + i);

			d->addr = (__u64)(sent + i) * FRAME_SIZE;
			d->len = len;
			d->options = 0;
			in_flight[sent + i] = 1;
		}
		if (n)
			xsk_ring_prod__submit(&tx, n);
		sent += n;
		if (xsk_ring_prod__needs_wakeup(&tx)) {
			kicks_asked = 1;
			kick_tx(xsk);
		}
		done += complete();
		if (!n && done < sent)
			sleep_ms(1);
	}
	result("sent %u of %u frames, %u completed, the kernel asked for a wakeup: %s", sent, count, done,
	       kicks_asked ? "yes" : "no");

	/* A descriptor beyond the UMEM: rejected, counted in tx_invalid_descs. */
	{
		__u32 idx = 0;

		if (xsk_ring_prod__reserve(&tx, 1, &idx) != 1)
			die("no room for the invalid descriptor");
		xsk_ring_prod__tx_desc(&tx, idx)->addr = size;
		xsk_ring_prod__tx_desc(&tx, idx)->len = 60;
		xsk_ring_prod__tx_desc(&tx, idx)->options = 0;
		in_flight[NUM_FRAMES] = 1;
		xsk_ring_prod__submit(&tx, 1);
		deadline = now_ms() + WAIT_MS;
		while (stats_of(xsk).tx_invalid_descs < 1 && now_ms() < deadline) {
			kick_tx(xsk);
			sleep_ms(1);
		}
		/* Linux 6.12 and later hand its address back; 6.1 does not. */
		result("the invalid descriptor's address came back on the completion ring: %s",
		       complete() == 1 && !in_flight[NUM_FRAMES] ? "yes" : "no");
	}
	print_stats("after the invalid descriptor", xsk);

	xsk_socket__delete(xsk);
	result("umem delete: %d", xsk_umem__delete(umem));
	munmap(area, size);
	return finish();
}
