/*
 * The xsk_rs packet layer's side of xskbench (-DXSKBENCH_API_PKT): sockets
 * from xsk_rs_{rx,tx,bi}sock_create, which own their UMEM and frames, driven
 * only through the packet layer's C ABI (xsk_rs_rxsock_* / xsk_rs_txsock_*).
 * No ring, frame address or UMEM offset reaches this file, so the ring steps
 * of the other backends have no equivalent here: xskbench.c has loops of its
 * own for this build (see there), and this header supplies the opening,
 * closing and counters.
 *
 * Geometry, as near the others' as the packet layer allows: frames of 4096
 * bytes; an RX half of 1024 frames (all lent to the kernel, as the others
 * lend 1024) with RX and fill rings of 2048; a TX half of 2048 frames with TX
 * and completion rings of 2048 (the packet layer wants a completion ring that
 * holds every TX frame, so 2048 frames rather than the others' 4096: their
 * TX ring holds 2048 in flight either way). need_wakeup, the kernel's choice
 * of copy or zero-copy (copy on veth), the library's program in the given
 * mode. rxdrop opens an RX socket, txonly a TX socket, l2fwd a bi socket.
 */
#ifndef XSKBENCH_BACKEND_XSK_RS_PKT_H
#define XSKBENCH_BACKEND_XSK_RS_PKT_H

#include <xsk_rs.h>

#define BENCH_LIB "xsk_rs"
#define BENCH_API "pkt"
#define BENCH_PKT_RX_FRAMES 1024u
#define BENCH_PKT_TX_FRAMES 2048u

struct bk {
	struct xsk_rs_txsock *tx;
	struct xsk_rs_rxsock *rx;
	struct xsk_rs_pkt pkts[BENCH_BATCH_MAX];
	struct xsk_rs_buf bufs[BENCH_BATCH_MAX];
	uint32_t lens[BENCH_BATCH_MAX];
};

/* The socket's fd (SO_INCOMING_NAPI_ID): the RX half's, else the TX half's. */
static int bk_fd(struct bk *b) { return b->rx ? xsk_rs_rxsock_fd(b->rx) : xsk_rs_txsock_fd(b->tx); }

static void bk_close(struct bk *b)
{
	xsk_rs_txsock_destroy(b->tx);
	xsk_rs_rxsock_destroy(b->rx);
	b->tx = NULL;
	b->rx = NULL;
}

/* Opens the halves asked for: an RX socket, a TX socket or a bi socket. */
static int bk_open(struct bk *b, const char *ifname, uint32_t queue, bool drv, bool want_tx, bool want_rx, char *err,
		   size_t errlen)
{
	struct xsk_rs_xdp_config cfg;
	const char *what;
	int rc;

	b->tx = NULL;
	b->rx = NULL;
	xsk_rs_xdp_config_init(&cfg, sizeof(cfg));
	cfg.rx_frames = BENCH_PKT_RX_FRAMES;
	cfg.tx_frames = BENCH_PKT_TX_FRAMES;
	cfg.frame_size = BENCH_FRAME_SIZE;
	cfg.rx_size = BENCH_RING_SIZE;
	cfg.tx_size = BENCH_RING_SIZE;
	cfg.fill_size = BENCH_FILL_SIZE;
	cfg.comp_size = BENCH_COMP_SIZE;
	cfg.xdp_mode = drv ? XSK_RS_XDP_MODE_DRV : XSK_RS_XDP_MODE_SKB;
	cfg.busy_poll_usecs = bk_busy_poll.usecs;
	cfg.busy_poll_budget = bk_busy_poll.budget;
	cfg.prefer_busy_poll = bk_busy_poll.prefer;
	if (want_tx && want_rx) {
		what = "xsk_rs_bisock_create";
		rc = xsk_rs_bisock_create(ifname, queue, &cfg, &b->tx, &b->rx);
	} else if (want_tx) {
		what = "xsk_rs_txsock_create";
		rc = xsk_rs_txsock_create(ifname, queue, &cfg, &b->tx);
	} else {
		what = "xsk_rs_rxsock_create";
		rc = xsk_rs_rxsock_create(ifname, queue, &cfg, &b->rx);
	}
	if (rc) {
		snprintf(err, errlen, "%s: %s (%s)", what, xsk_rs_strerror(rc), xsk_rs_last_error());
		bk_close(b);
		return -1;
	}
	return 0;
}

static int bk_stats(struct bk *b, struct xdp_statistics *st)
{
	xsk_rs_stats s;
	int rc = b->rx ? xsk_rs_rxsock_stats(b->rx, &s) : xsk_rs_txsock_stats(b->tx, &s);

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
 * A packet-layer call's result: a count >= 0, or a negative errno. The
 * handles and arguments here are always valid, so an error is a bug in the
 * bench (or a socket gone bad): stop at once rather than count a negative as
 * 4 billion packets.
 */
static void bk_failed(int rc)
{
	fprintf(stderr, "xskbench: packet-layer call failed: %s (%s)\n", xsk_rs_strerror(rc), xsk_rs_last_error());
	abort();
}

static inline uint32_t bk_count(int rc)
{
	if (__builtin_expect(rc < 0, 0))
		bk_failed(rc);
	return (uint32_t)rc;
}

#endif
