/*
 * compat_inhibit: sockets that load no program (XSK_LIBXDP_FLAGS__
 * INHIBIT_PROG_LOAD), steered by another one, written against libxdp's API.
 *
 *   compat_inhibit IFNAME skb|drv COUNT LEN
 *
 * Phase 1 ("ready"): the program's own XDP program (common.h: raw bpf(2),
 * an XSKMAP and a counter, attached by a bpf_link) steers queue 0 to a
 * socket created with the flag and inserted with xsk_socket__update_xskmap.
 * COUNT frames arrive, checked byte for byte, and the program's counter
 * must have seen each. Its map entry is deleted, then the socket, then the
 * program detached.
 * Phase 2 ("ready2"): xsk_setup_xdp_prog attaches the library's program and
 * hands out its XSKMAP; a socket with the flag, on a new UMEM (libxdp binds
 * no second socket to a UMEM's fd once its first is gone), goes into it; COUNT
 * frames arrive. After the socket is deleted the program is still there:
 * xdp_multiprog__get_from_ifindex finds it and xdp_multiprog__detach
 * removes it; then get_from_ifindex reports -ENOENT (libxdp_get_error,
 * libxdp_strerror).
 */
#define _GNU_SOURCE
#include "common.h"

#define NUM_FRAMES 1024
#define FRAME_SIZE 4096
#define RING 256
#define LENT 256

static struct xsk_ring_prod fq;
static struct xsk_ring_cons cq, rx;

static unsigned receive(struct xsk_socket *xsk, void *area, unsigned n, unsigned len)
{
	unsigned got = 0;
	uint64_t deadline = now_ms() + WAIT_MS;

	while (got < n && now_ms() < deadline) {
		__u32 idx = 0, fidx = 0, k = xsk_ring_cons__peek(&rx, 64, &idx);

		if (!k) {
			wait_rx(xsk, &fq, 100);
			continue;
		}
		if (xsk_ring_prod__reserve(&fq, k, &fidx) != k)
			die("the fill ring has no room for %u frames", k);
		for (__u32 i = 0; i < k; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);

			CHECK(frame_is(xsk_umem__get_data(area, d->addr), d->len, got, len),
			      "frame %u: %u bytes, not test frame %u", got, d->len, got);
			*xsk_ring_prod__fill_addr(&fq, fidx + i) = d->addr - d->addr % FRAME_SIZE;
			got++;
		}
		xsk_ring_prod__submit(&fq, k);
		xsk_ring_cons__release(&rx, k);
	}
	return got;
}

/* A UMEM with the default geometry, LENT frames lent. */
static struct xsk_umem *new_umem(void *area, size_t size)
{
	struct xsk_umem *umem;
	int rc;

	/* libxdp describes a new fill ring without resetting cached_prod: a
	 * struct used before must start from zero again. */
	memset(&fq, 0, sizeof(fq));
	memset(&cq, 0, sizeof(cq));
	rc = xsk_umem__create(&umem, area, size, &fq, &cq, NULL);

	if (rc)
		die("creating the UMEM: %s", strerror(-rc));
	lend(&fq, 0, LENT, FRAME_SIZE);
	return umem;
}

/* The kernel frees a closed socket's queue one RCU grace period later, and
 * libxdp does not wait for it: retry a bind refused with EBUSY for up to 2 s. */
static int create_retrying(struct xsk_socket **xsk, const char *ifname, struct xsk_umem *umem,
			   const struct xsk_socket_config *sc)
{
	uint64_t deadline = now_ms() + 2000;
	int rc;

	while ((rc = xsk_socket__create(xsk, ifname, 0, umem, &rx, NULL, sc)) == -EBUSY && now_ms() < deadline)
		sleep_ms(20);
	return rc;
}

int main(int argc, char **argv)
{
	const size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xdp_multiprog *mp;
	struct own_prog own;
	unsigned count, len, got;
	char msg[128];
	int ifindex, rc, map_fd = -1;
	long err;
	void *area;

	prog_name = "compat_inhibit";
	if (argc != 5) {
		fprintf(stderr, "usage: %s IFNAME skb|drv COUNT LEN\n", argv[0]);
		return 2;
	}
	const struct xsk_socket_config sc = {
		.rx_size = RING,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = mode_flags(argv[2]),
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	count = number(argv[3], RING);
	len = number(argv[4], 1500);
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex)
		die("no interface %s", argv[1]);
	area = area_map(size);
	umem = new_umem(area, size);

	/* ---- phase 1: the program's own XDP program ---- */
	rc = own_prog_attach(&own, ifindex, sc.xdp_flags);
	if (rc)
		die("attaching the test's own program: %s", strerror(-rc));
	rc = create_retrying(&xsk, argv[1], umem, &sc);
	if (rc)
		die("creating the socket: %s", strerror(-rc));
	rc = xsk_socket__update_xskmap(xsk, own.xskmap);
	result("phase 1: update_xskmap into the test's own map: %d", rc);
	ready("ready");
	got = receive(xsk, area, count, len);
	result("phase 1: received %u of %u; the test's own program counted %lld", got, count,
	       own_prog_count(&own));
	print_stats("phase 1", xsk);
	result("phase 1: map entry deleted: %d", own_map_delete(own.xskmap, 0));
	xsk_socket__delete(xsk);
	result("phase 1: umem delete: %d", xsk_umem__delete(umem));
	own_prog_close(&own);

	/* ---- phase 2: xsk_setup_xdp_prog's program ---- */
	rc = xsk_setup_xdp_prog(ifindex, &map_fd);
	result("phase 2: xsk_setup_xdp_prog: %d, map fd %s", rc, map_fd >= 0 ? "valid" : "invalid");
	if (rc)
		die("xsk_setup_xdp_prog: %s", strerror(-rc));
	/* A new UMEM: libxdp cannot bind a second socket on the UMEM's fd once
	 * its first socket is gone (xsk_rs can; see the README). */
	umem = new_umem(area, size);
	rc = create_retrying(&xsk, argv[1], umem, &sc);
	if (rc)
		die("creating the second socket: %s", strerror(-rc));
	result("phase 2: update_xskmap into the library's map: %d", xsk_socket__update_xskmap(xsk, map_fd));
	ready("ready2");
	got = receive(xsk, area, count, len);
	result("phase 2: received %u of %u", got, count);
	print_stats("phase 2", xsk);
	xsk_socket__delete(xsk);
	close(map_fd);

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	result("after the socket: get_from_ifindex: %ld", err);
	if (!err) {
		result("detach: %d", xdp_multiprog__detach(mp));
		xdp_multiprog__close(mp);
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	libxdp_strerror((int)err, msg, sizeof(msg));
	result("after the detach: get_from_ifindex: %ld (%s)", err, msg);
	xdp_multiprog__close(mp);
	rc = libxdp_strerror(-EBUSY, msg, 8);
	result("libxdp_strerror(-EBUSY) into 8 bytes: %d (%s)", rc, msg);
	rc = libxdp_strerror(1234, msg, sizeof(msg));
	result("libxdp_strerror(1234): %d (%s)", rc, msg);

	result("umem delete: %d", xsk_umem__delete(umem));
	munmap(area, size);
	return finish();
}
