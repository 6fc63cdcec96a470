/*
 * compat_unaligned: a UMEM in unaligned mode, written against libxdp's API.
 *
 *   compat_unaligned IFNAME skb|drv COUNT LEN
 *
 * 512 chunks of 3000 bytes (a size only unaligned mode allows) with
 * XDP_UMEM_UNALIGNED_CHUNK_FLAG; 500 of them lent at addresses 40 bytes past
 * each chunk's start (any address will do in this mode). Received
 * descriptors carry the data's offset in their top 16 bits: extract_addr
 * must give back the lent address, extract_offset the kernel's headroom
 * (256), and get_data(add_offset_to_addr(addr)) the frame, checked byte for
 * byte. Each frame goes back out with its MACs swapped, its descriptor's
 * address passed to TX as it came (offset and all, which TX accepts in this
 * mode); its completion's base address is lent again.
 */
#define _GNU_SOURCE
#include "common.h"

#define CHUNKS 512
#define CHUNK 3000
#define SHIFT 40 /* where in its chunk each lent buffer starts */
#define LENT 500
#define RING 512
#define BATCH 64

static struct xsk_ring_prod fq, tx;
static struct xsk_ring_cons cq, rx;

static int lent_addr(__u64 base)
{
	return base % CHUNK == SHIFT && base / CHUNK < LENT;
}

int main(int argc, char **argv)
{
	const size_t size = (size_t)CHUNKS * CHUNK;
	unsigned count, len, got = 0, sent = 0, done = 0, offsets_ok = 0, comp_offsets = 0;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint64_t deadline;
	uint8_t *area;
	__u32 idx = 0;
	int rc;

	prog_name = "compat_unaligned";
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFNAME skb|drv COUNT LEN\n", argv[0]);
		return 2;
	}
	const struct xsk_umem_config uc = {
		.fill_size = 2 * RING,
		.comp_size = RING,
		.frame_size = CHUNK,
		.frame_headroom = 0,
		.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	const struct xsk_socket_config sc = {
		.rx_size = RING,
		.tx_size = RING,
		.libxdp_flags = 0,
		.xdp_flags = mode_flags(argv[2]),
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	count = number(argv[3], 100000);
	len = number(argv[4], CHUNK - 256 - SHIFT);
	area = area_map(size);

	/* In aligned mode a chunk of 3000 bytes is refused. */
	{
		struct xsk_umem_config aligned = uc;
		struct xsk_ring_prod f;
		struct xsk_ring_cons c;
		struct xsk_umem *u = NULL;

		aligned.flags = 0;
		rc = xsk_umem__create(&u, area, size, &f, &c, &aligned);
		result("3000-byte frames without the unaligned flag: %d", rc);
		if (!rc)
			xsk_umem__delete(u);
	}
	rc = xsk_umem__create(&umem, area, size, &fq, &cq, &uc);
	if (rc)
		die("creating the UMEM: %s", strerror(-rc));
	rc = xsk_socket__create(&xsk, argv[1], 0, umem, &rx, &tx, &sc);
	if (rc)
		die("creating the socket on %s: %s", argv[1], strerror(-rc));

	if (xsk_ring_prod__reserve(&fq, LENT, &idx) != LENT)
		die("no room to lend %u buffers", LENT);
	for (__u32 i = 0; i < LENT; i++)
		*xsk_ring_prod__fill_addr(&fq, idx + i) = (__u64)i * CHUNK + SHIFT;
	xsk_ring_prod__submit(&fq, LENT);
	result("the helpers: extract_addr %llu, extract_offset %llu, add_offset_to_addr %llu",
	       (unsigned long long)xsk_umem__extract_addr((256ULL << XSK_UNALIGNED_BUF_OFFSET_SHIFT) | 3040),
	       (unsigned long long)xsk_umem__extract_offset((256ULL << XSK_UNALIGNED_BUF_OFFSET_SHIFT) | 3040),
	       (unsigned long long)xsk_umem__add_offset_to_addr((256ULL << XSK_UNALIGNED_BUF_OFFSET_SHIFT) | 3040));

	ready("ready");
	deadline = now_ms() + WAIT_MS;
	while (done < count && now_ms() < deadline) {
		__u32 tidx = 0, fidx = 0, n;

		n = xsk_ring_cons__peek(&cq, BATCH, &idx);
		if (n) {
			if (xsk_ring_prod__reserve(&fq, n, &fidx) != n)
				die("the fill ring has no room for %u buffers", n);
			for (__u32 i = 0; i < n; i++) {
				__u64 addr = *xsk_ring_cons__comp_addr(&cq, idx + i);

				comp_offsets += xsk_umem__extract_offset(addr) == 256;
				CHECK(lent_addr(xsk_umem__extract_addr(addr)), "completion of %#llx, never lent",
				      (unsigned long long)addr);
				*xsk_ring_prod__fill_addr(&fq, fidx + i) = xsk_umem__extract_addr(addr);
			}
			xsk_ring_prod__submit(&fq, n);
			xsk_ring_cons__release(&cq, n);
			done += n;
		}
		n = xsk_ring_cons__peek(&rx, BATCH, &idx);
		if (!n) {
			if (sent > done)
				kick_tx(xsk);
			else
				wait_rx(xsk, &fq, 100);
			continue;
		}
		if (xsk_ring_prod__reserve(&tx, n, &tidx) != n)
			die("the TX ring has no room for %u frames", n);
		for (__u32 i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
			struct xdp_desc *t = xsk_ring_prod__tx_desc(&tx, tidx + i);
			uint8_t *f = xsk_umem__get_data(area, xsk_umem__add_offset_to_addr(d->addr));

			offsets_ok += lent_addr(xsk_umem__extract_addr(d->addr)) &&
				      xsk_umem__extract_offset(d->addr) == 256;
			CHECK(frame_is(f, d->len, got, len), "frame %u: %u bytes at %#llx, not test frame %u", got,
			      d->len, (unsigned long long)d->addr, got);
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
	result("received %u (%u at a lent base with offset 256), forwarded %u, completed %u (%u with the offset) "
	       "of %u",
	       got, offsets_ok, sent, done, comp_offsets, count);
	print_stats("unaligned", xsk);

	xsk_socket__delete(xsk);
	result("umem delete: %d", xsk_umem__delete(umem));
	munmap(area, size);
	return finish();
}
