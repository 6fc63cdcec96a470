/*
 * The libxdp side of xskbench: libxdp's xsk.h (Debian libxdp-dev), its inline
 * ring functions, its default program. See xskbench.c for the contract.
 *
 * Built with -DXSKBENCH_COMPAT and xsk_rs-compat's flags, the same text runs
 * on xsk_rs's libxdp compatibility layer (its xdp/xsk.h and inline
 * functions, xsk_rs's built-in program): lib xsk_rs, api compat.
 */
#ifndef XSKBENCH_BACKEND_LIBXDP_H
#define XSKBENCH_BACKEND_LIBXDP_H

#include <linux/if_link.h>
#include <net/if.h>
#include <xdp/xsk.h>

#ifdef XSKBENCH_COMPAT
#define BENCH_LIB "xsk_rs"
#define BENCH_API "compat"
#else
#define BENCH_LIB "libxdp"
#define BENCH_API "inline"
#endif

struct bk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	uint32_t fq_idx, tx_idx, cq_idx, rx_idx;
};

static void bk_close(struct bk *b)
{
	if (b->xsk)
		xsk_socket__delete(b->xsk);
	if (b->umem)
		xsk_umem__delete(b->umem);
	if (b->area)
		munmap(b->area, (size_t)BENCH_FRAMES * BENCH_FRAME_SIZE);
	memset(b, 0, sizeof(*b));
}

static int bk_fail(struct bk *b, char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s: %s", what, strerror(rc < 0 ? -rc : rc));
	bk_close(b);
	return -1;
}

/* Phase 1: UMEM (the application's area, registered with the kernel). */
static int bk_open_umem(struct bk *b, char *err, size_t errlen)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = BENCH_FILL_SIZE,
		.comp_size = BENCH_COMP_SIZE,
		.frame_size = BENCH_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	size_t size = (size_t)BENCH_FRAMES * BENCH_FRAME_SIZE;
	int rc;

	memset(b, 0, sizeof(*b));
	b->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (bk_huge_pages ? MAP_HUGETLB : 0), -1, 0);
	if (b->area == MAP_FAILED) {
		b->area = NULL;
		return bk_fail(b, err, errlen, "mmap", errno);
	}
	rc = xsk_umem__create(&b->umem, b->area, size, &b->fq, &b->cq, &ucfg);
	if (rc)
		return bk_fail(b, err, errlen, "xsk_umem__create", rc);
	return 0;
}

/* Phase 2: socket, bound, with libxdp's default program attached. */
static int bk_open_socket(struct bk *b, const char *ifname, uint32_t queue, bool drv, char *err, size_t errlen)
{
	const struct xsk_socket_config scfg = {
		.rx_size = BENCH_RING_SIZE,
		.tx_size = BENCH_RING_SIZE,
		.libxdp_flags = 0,
		.xdp_flags = drv ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE,
		.bind_flags = XDP_USE_NEED_WAKEUP | (bk_sg ? XDP_USE_SG : 0),
	};
	int rc = xsk_socket__create(&b->xsk, ifname, queue, b->umem, &b->rx, &b->tx, &scfg);

	if (rc)
		return bk_fail(b, err, errlen, "xsk_socket__create", rc);
	/* Busy polling (-u, -g, -P): libxdp has no option for it; xdpsock sets
	 * the socket options on the socket's fd, as here. */
	if (busy_poll_asked()) {
		const struct { int opt; int val; const char *name; } o[] = {
			{ SO_PREFER_BUSY_POLL, bk_busy_poll.prefer, "SO_PREFER_BUSY_POLL" },
			{ SO_BUSY_POLL, (int)bk_busy_poll.usecs, "SO_BUSY_POLL" },
			{ SO_BUSY_POLL_BUDGET, (int)bk_busy_poll.budget, "SO_BUSY_POLL_BUDGET" },
		};

		for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++)
			if (setsockopt(xsk_socket__fd(b->xsk), SOL_SOCKET, o[i].opt, &o[i].val, sizeof(o[i].val)))
				return bk_fail(b, err, errlen, o[i].name, -errno);
	}
	return 0;
}

static uint8_t *bk_area(struct bk *b) { return b->area; }
static int bk_fd(struct bk *b) { return xsk_socket__fd(b->xsk); }

/* The kernel's counters for the final line; libxdp has no stats call of its own. */
static int bk_stats(struct bk *b, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	return getsockopt(xsk_socket__fd(b->xsk), SOL_XDP, XDP_STATISTICS, st, &len) ? -errno : 0;
}

static inline uint32_t rx_begin(struct bk *b, uint32_t max) { return xsk_ring_cons__peek(&b->rx, max, &b->rx_idx); }
static inline const struct xdp_desc *rx_at(struct bk *b, uint32_t i) { return xsk_ring_cons__rx_desc(&b->rx, b->rx_idx + i); }
static inline void rx_end(struct bk *b, uint32_t n) { xsk_ring_cons__release(&b->rx, n); }

static inline uint32_t comp_begin(struct bk *b, uint32_t max) { return xsk_ring_cons__peek(&b->cq, max, &b->cq_idx); }
static inline uint64_t comp_at(struct bk *b, uint32_t i) { return *xsk_ring_cons__comp_addr(&b->cq, b->cq_idx + i); }
static inline void comp_end(struct bk *b, uint32_t n) { xsk_ring_cons__release(&b->cq, n); }

static inline uint32_t fill_begin(struct bk *b, uint32_t n) { return xsk_ring_prod__reserve(&b->fq, n, &b->fq_idx); }
static inline void fill_set(struct bk *b, uint32_t i, uint64_t addr) { *xsk_ring_prod__fill_addr(&b->fq, b->fq_idx + i) = addr; }
static inline uint32_t fill_end(struct bk *b, uint32_t n) { xsk_ring_prod__submit(&b->fq, n); return n; }
static inline bool fill_needs_wakeup(struct bk *b) { return xsk_ring_prod__needs_wakeup(&b->fq); }

static inline uint32_t tx_begin(struct bk *b, uint32_t n) { return xsk_ring_prod__reserve(&b->tx, n, &b->tx_idx); }
static inline void tx_set(struct bk *b, uint32_t i, uint64_t addr, uint32_t len)
{
	struct xdp_desc *d = xsk_ring_prod__tx_desc(&b->tx, b->tx_idx + i);

	d->addr = addr;
	d->len = len;
	d->options = 0;
}
/* -S: the descriptor tx_set just wrote continues in the next (XDP_PKT_CONTD). */
static inline void tx_contd(struct bk *b, uint32_t i) { xsk_ring_prod__tx_desc(&b->tx, b->tx_idx + i)->options = XDP_PKT_CONTD; }
static inline uint32_t tx_end(struct bk *b, uint32_t n) { xsk_ring_prod__submit(&b->tx, n); return n; }
static inline bool tx_needs_wakeup(struct bk *b) { return xsk_ring_prod__needs_wakeup(&b->tx); }

#endif
