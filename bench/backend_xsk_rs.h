/*
 * The xsk_rs side of xskbench, in three flavours chosen at compile time:
 *   XSKBENCH_API_SPAN   xsk_rs_*_reserve_span / *_peek_span: one call per
 *                       batch for a run of entries read and written in place,
 *                       then submit / release
 *   XSKBENCH_API_BATCH  xsk_rs_fill_put / rx_take / tx_put / comp_take: one
 *                       call per batch, descriptors copied to or from arrays
 *   otherwise           reserve / peek, one accessor call per descriptor
 *                       (xsk_rs_fill_addr, _rx_desc, ...), submit / release:
 *                       libxdp's pattern, but every step is a library call
 * See xskbench.c for the contract.
 */
#ifndef XSKBENCH_BACKEND_XSK_RS_H
#define XSKBENCH_BACKEND_XSK_RS_H

#include <xsk_rs.h>

#define BENCH_LIB "xsk_rs"

struct bk {
	xsk_rs_umem *umem;
	xsk_rs_socket *xsk;
	xsk_rs_fill *fq;
	xsk_rs_comp *cq;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	uint8_t *area;
#if defined(XSKBENCH_API_SPAN)
	uint64_t *fqs;
	const uint64_t *cqs;
	const xsk_rs_desc *rxs;
	xsk_rs_desc *txs;
#elif defined(XSKBENCH_API_BATCH)
	uint64_t fqa[BENCH_BATCH_MAX];
	uint64_t cqa[BENCH_BATCH_MAX];
	xsk_rs_desc rxd[BENCH_BATCH_MAX];
	xsk_rs_desc txd[BENCH_BATCH_MAX];
#else
	uint32_t fq_idx, tx_idx, cq_idx, rx_idx;
#endif
};

_Static_assert(sizeof(xsk_rs_desc) == sizeof(struct xdp_desc), "xsk_rs_desc is struct xdp_desc");

static void bk_close(struct bk *b)
{
	xsk_rs_socket_destroy(b->xsk);
	xsk_rs_umem_destroy(b->umem);
	b->xsk = NULL;
	b->umem = NULL;
}

static int bk_fail(struct bk *b, char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s: %s (%s)", what, xsk_rs_strerror(rc), xsk_rs_last_error());
	bk_close(b);
	return -1;
}

/* Phase 1: UMEM (the library maps the area). */
static int bk_open_umem(struct bk *b, char *err, size_t errlen)
{
	xsk_rs_umem_config ucfg;
	int rc;

	memset(b, 0, sizeof(*b));
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = BENCH_FRAMES;
	ucfg.frame_size = BENCH_FRAME_SIZE;
	ucfg.fill_size = BENCH_FILL_SIZE;
	ucfg.comp_size = BENCH_COMP_SIZE;
	if (bk_huge_pages)
		ucfg.flags |= XSK_RS_UMEM_HUGE_PAGES;
	rc = xsk_rs_umem_create(&b->umem, &ucfg);
	if (rc)
		return bk_fail(b, err, errlen, "xsk_rs_umem_create", rc);
	b->fq = xsk_rs_umem_fill(b->umem);
	b->cq = xsk_rs_umem_comp(b->umem);
	b->area = xsk_rs_umem_area(b->umem);
	return 0;
}

/* Phase 2: socket, bound, with the library's program attached. */
static int bk_open_socket(struct bk *b, const char *ifname, uint32_t queue, bool drv, char *err, size_t errlen)
{
	xsk_rs_socket_config scfg;
	int rc;

	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.rx_size = BENCH_RING_SIZE;
	scfg.tx_size = BENCH_RING_SIZE;
	scfg.bind_flags = XSK_RS_BIND_NEED_WAKEUP | (bk_sg ? XSK_RS_BIND_SG : 0);
	scfg.xdp_mode = drv ? XSK_RS_XDP_MODE_DRV : XSK_RS_XDP_MODE_SKB;
	scfg.busy_poll_usecs = bk_busy_poll.usecs;
	scfg.busy_poll_budget = bk_busy_poll.budget;
	scfg.prefer_busy_poll = bk_busy_poll.prefer;
	rc = xsk_rs_socket_create(&b->xsk, ifname, queue, b->umem, &scfg);
	if (rc)
		return bk_fail(b, err, errlen, "xsk_rs_socket_create", rc);
	b->rx = xsk_rs_socket_rx(b->xsk);
	b->tx = xsk_rs_socket_tx(b->xsk);
	return 0;
}

static uint8_t *bk_area(struct bk *b) { return b->area; }
static int bk_fd(struct bk *b) { return xsk_rs_socket_fd(b->xsk); }

static int bk_stats(struct bk *b, struct xdp_statistics *st)
{
	xsk_rs_stats s;
	int rc = xsk_rs_socket_stats(b->xsk, &s);

	if (rc)
		return rc;
	st->rx_dropped = s.rx_dropped;
	st->rx_invalid_descs = s.rx_invalid_descs;
	st->tx_invalid_descs = s.tx_invalid_descs;
	st->rx_ring_full = s.rx_ring_full;
	st->rx_fill_ring_empty_descs = s.rx_fill_ring_empty_descs;
	st->tx_ring_empty_descs = s.tx_ring_empty_descs;
	return 0;
}

/*
 * A ring call's result: a count or flag >= 0, or a negative errno for misuse
 * (NULL handle or argument, or a put/take while a reserve/peek is open). The
 * handles here are always valid, so misuse is a bug in the bench: stop at
 * once rather than count a negative as 4 billion packets.
 */
static void bk_misuse(int rc)
{
	fprintf(stderr, "xskbench: ring call refused: %s (%s)\n", xsk_rs_strerror(rc), xsk_rs_last_error());
	abort();
}

static inline uint32_t bk_count(int rc)
{
	if (__builtin_expect(rc < 0, 0))
		bk_misuse(rc);
	return (uint32_t)rc;
}

static inline bool fill_needs_wakeup(struct bk *b) { return bk_count(xsk_rs_fill_needs_wakeup(b->fq)) != 0; }
static inline bool tx_needs_wakeup(struct bk *b) { return bk_count(xsk_rs_tx_needs_wakeup(b->tx)) != 0; }

#if defined(XSKBENCH_API_SPAN)
#define BENCH_API "span"

/* A span stops at the ring's end: *_begin may grant fewer than asked, and the
 * loops carry on with the rest. */
static inline uint32_t rx_begin(struct bk *b, uint32_t max)
{
	return bk_count(xsk_rs_rx_peek_span(b->rx, max, &b->rxs));
}
static inline const struct xdp_desc *rx_at(struct bk *b, uint32_t i) { return (const struct xdp_desc *)&b->rxs[i]; }
static inline void rx_end(struct bk *b, uint32_t n) { bk_count(xsk_rs_rx_release(b->rx, n)); }

static inline uint32_t comp_begin(struct bk *b, uint32_t max) { return bk_count(xsk_rs_comp_peek_span(b->cq, max, &b->cqs)); }
static inline uint64_t comp_at(struct bk *b, uint32_t i) { return b->cqs[i]; }
static inline void comp_end(struct bk *b, uint32_t n) { bk_count(xsk_rs_comp_release(b->cq, n)); }

static inline uint32_t fill_begin(struct bk *b, uint32_t n) { return bk_count(xsk_rs_fill_reserve_span(b->fq, n, &b->fqs)); }
static inline void fill_set(struct bk *b, uint32_t i, uint64_t addr) { b->fqs[i] = addr; }
static inline uint32_t fill_end(struct bk *b, uint32_t n) { return bk_count(xsk_rs_fill_submit(b->fq, n)); }

static inline uint32_t tx_begin(struct bk *b, uint32_t n) { return bk_count(xsk_rs_tx_reserve_span(b->tx, n, &b->txs)); }
static inline void tx_set(struct bk *b, uint32_t i, uint64_t addr, uint32_t len)
{
	b->txs[i].addr = addr;
	b->txs[i].len = len;
	b->txs[i].options = 0;
}
static inline void tx_contd(struct bk *b, uint32_t i) { b->txs[i].options = XSK_RS_DESC_CONTD; }
static inline uint32_t tx_end(struct bk *b, uint32_t n) { return bk_count(xsk_rs_tx_submit(b->tx, n)); }

#elif defined(XSKBENCH_API_BATCH)
#define BENCH_API "batch"

static inline uint32_t rx_begin(struct bk *b, uint32_t max) { return bk_count(xsk_rs_rx_take(b->rx, b->rxd, max)); }
static inline const struct xdp_desc *rx_at(struct bk *b, uint32_t i) { return (const struct xdp_desc *)&b->rxd[i]; }
static inline void rx_end(struct bk *b, uint32_t n) { (void)b, (void)n; }

static inline uint32_t comp_begin(struct bk *b, uint32_t max) { return bk_count(xsk_rs_comp_take(b->cq, b->cqa, max)); }
static inline uint64_t comp_at(struct bk *b, uint32_t i) { return b->cqa[i]; }
static inline void comp_end(struct bk *b, uint32_t n) { (void)b, (void)n; }

/* put may place fewer than n (ring nearly full); the loop resubmits the rest. */
static inline uint32_t fill_begin(struct bk *b, uint32_t n) { (void)b; return n; }
static inline void fill_set(struct bk *b, uint32_t i, uint64_t addr) { b->fqa[i] = addr; }
static inline uint32_t fill_end(struct bk *b, uint32_t n) { return bk_count(xsk_rs_fill_put(b->fq, b->fqa, n)); }

static inline uint32_t tx_begin(struct bk *b, uint32_t n) { (void)b; return n; }
static inline void tx_set(struct bk *b, uint32_t i, uint64_t addr, uint32_t len)
{
	b->txd[i].addr = addr;
	b->txd[i].len = len;
	b->txd[i].options = 0;
}
/* tx_put may place part of a chain: -S sends chains with the span and desc builds. */
static inline void tx_contd(struct bk *b, uint32_t i) { b->txd[i].options = XSK_RS_DESC_CONTD; }
static inline uint32_t tx_end(struct bk *b, uint32_t n) { return bk_count(xsk_rs_tx_put(b->tx, b->txd, n)); }

#else
#define BENCH_API "desc"

static inline uint32_t rx_begin(struct bk *b, uint32_t max) { return bk_count(xsk_rs_rx_peek(b->rx, max, &b->rx_idx)); }
static inline const struct xdp_desc *rx_at(struct bk *b, uint32_t i)
{
	return (const struct xdp_desc *)xsk_rs_rx_desc(b->rx, b->rx_idx + i);
}
static inline void rx_end(struct bk *b, uint32_t n) { bk_count(xsk_rs_rx_release(b->rx, n)); }

static inline uint32_t comp_begin(struct bk *b, uint32_t max) { return bk_count(xsk_rs_comp_peek(b->cq, max, &b->cq_idx)); }
static inline uint64_t comp_at(struct bk *b, uint32_t i) { return *xsk_rs_comp_addr(b->cq, b->cq_idx + i); }
static inline void comp_end(struct bk *b, uint32_t n) { bk_count(xsk_rs_comp_release(b->cq, n)); }

static inline uint32_t fill_begin(struct bk *b, uint32_t n) { return bk_count(xsk_rs_fill_reserve(b->fq, n, &b->fq_idx)); }
static inline void fill_set(struct bk *b, uint32_t i, uint64_t addr) { *xsk_rs_fill_addr(b->fq, b->fq_idx + i) = addr; }
static inline uint32_t fill_end(struct bk *b, uint32_t n) { return bk_count(xsk_rs_fill_submit(b->fq, n)); }

static inline uint32_t tx_begin(struct bk *b, uint32_t n) { return bk_count(xsk_rs_tx_reserve(b->tx, n, &b->tx_idx)); }
static inline void tx_set(struct bk *b, uint32_t i, uint64_t addr, uint32_t len)
{
	xsk_rs_desc *d = xsk_rs_tx_desc(b->tx, b->tx_idx + i);

	d->addr = addr;
	d->len = len;
	d->options = 0;
}
static inline void tx_contd(struct bk *b, uint32_t i) { xsk_rs_tx_desc(b->tx, b->tx_idx + i)->options = XSK_RS_DESC_CONTD; }
static inline uint32_t tx_end(struct bk *b, uint32_t n) { return bk_count(xsk_rs_tx_submit(b->tx, n)); }
#endif

#endif
