/*
 * xsk_bench: measures AF_XDP through libxsk_rs on one queue of one interface,
 * in the manner of the kernel's xdpsock sample.
 *
 *   xsk_bench MODE -i IFNAME [-q QUEUE] [-m auto|skb|drv] [-c | -z] [-W] [-p]
 *             [-a batch|desc] [-b BATCH] [-B BUDGET] [-f 2048|4096]
 *             [-s PKT_SIZE] [-d SECONDS] [-n COUNT]
 *
 * MODE is one of
 *   rxdrop  receive and drop: every frame goes straight back to the fill ring
 *   txonly  send generated frames as fast as the kernel takes them
 *   l2fwd   receive, swap destination and source MAC, send the frame back out
 *           of the same socket; frames return to the fill ring once completed
 *
 *   -i IFNAME   interface, looked up in the network namespace xsk_bench runs in
 *   -q QUEUE    queue id (default 0)
 *   -m MODE     XDP mode of the built-in program: auto (default), skb or drv;
 *               txonly attaches no program (its socket has no RX ring);
 *               the summary's xdp= is the mode in effect (skb, drv or none)
 *   -c / -z     force copy / zero-copy binding (default: the kernel chooses)
 *   -W          no need_wakeup: kick TX after every submission, never look at
 *               the wakeup flags (default: need_wakeup on)
 *   -p          wait in poll(2) for the rings instead of spinning
 *   -a API      ring calls used: batch (default; xsk_rs_fill_put, rx_take,
 *               tx_put, comp_take) or desc (reserve/peek, one slot accessor
 *               per descriptor, submit/release)
 *   -b BATCH    descriptors per ring operation, 1..2048 (default 64)
 *   -B BUDGET   TX descriptors one kick sends in copy mode (the socket's
 *               tx_budget, XDP_MAX_TX_SKB_BUDGET, Linux 6.17): 32..2048, or 0
 *               (default) for the library's default; the kernel's own is 32
 *   -f SIZE     UMEM frame size, 2048 or 4096 (default 4096)
 *   -s LEN      txonly packet length, 60..frame size (default 64)
 *   -d SECONDS  run this long; 0 (default) runs until SIGINT/SIGTERM
 *   -n COUNT    stop after COUNT packets received (rxdrop, l2fwd) or sent
 *               (txonly); txonly and l2fwd then wait for the completion of
 *               every frame they sent. With -d, the duration is a limit.
 *   -h          this help
 *
 * Output (stdout): once a second a line
 *   stats: t=SECS rx_pps=N tx_pps=N rx_pkts=N tx_pkts=N rx_dropped=N
 *          rx_invalid_descs=N tx_invalid_descs=N rx_ring_full=N
 *          rx_fill_ring_empty_descs=N tx_ring_empty_descs=N
 * (rates over the last interval, packet counts and the kernel's XDP_STATISTICS
 * counters since the start), and at the end one line
 *   summary: mode=.. ifname=.. queue=.. xdp=.. bind=copy|zerocopy api=..
 *            secs=S.mmm rx_pkts=N tx_pkts=N rx_pps=N tx_pps=N <the six counters>
 * tx_pkts counts completed frames (the kernel has finished with them), not
 * submitted ones. Once the socket is bound and the fill ring stocked, "ready"
 * goes to stderr. Exit status: 0; 1 when a call fails (the message names the
 * call and carries xsk_rs_last_error()) or when -n COUNT was not reached;
 * 2 for bad usage.
 *
 * How it works. One thread, one socket, one UMEM of 4096 frames, RX and TX
 * rings of 2048, a completion ring of 4096 and a fill ring of 8192, so that
 * handing a frame back never finds the ring full (setup() says why 8192).
 *   rxdrop: all frames start on the fill ring; each received batch is handed
 *           back to the fill ring in one operation.
 *   txonly: every frame is written once at start: dst 02:58:53:4b:00:02,
 *           src 02:58:53:4b:00:01, EtherType 0x88B5, then bytes 18 + i =
 *           (i * 7 + 1) & 0xff (tests/c/peer_send.c's pattern for sequence 0).
 *           Per packet only bytes 14..17 change: the big-endian sequence
 *           number, counting from 0. The loop reclaims completed frames onto a
 *           free stack, puts up to BATCH descriptors on the TX ring, and kicks.
 *   l2fwd:  all frames start on the fill ring; a received batch is sent back
 *           as it is but for the swapped MACs; completed frames go back to the
 *           fill ring. If the TX ring has no room for a received batch, the
 *           desc path cancels its RX peek and the batch path keeps the batch
 *           pending, and both retry on the next turn.
 * With need_wakeup (the default) a syscall is made only when the kernel asks
 * for one: TX is kicked (sendto) when xsk_rs_tx_needs_wakeup() is set, which
 * in copy mode is always; an empty RX turn pokes the kernel with a zero
 * timeout poll when the fill ring needs a wakeup. Statistics are read once
 * per report, the clock is read once per loop turn (vDSO, no syscall).
 */
#define _GNU_SOURCE /* getopt, sigaction, clock_gettime with -std=c11 */

#include <xsk_rs.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FRAMES 4096	    /* UMEM frames; also the completion ring size */
#define FILL (2 * FRAMES)   /* fill ring entries: see setup() */
#define RING 2048	    /* RX and TX ring entries */
#define POLL_MS 100	    /* -p: longest wait, so reports and the clock stay live */
#define DRAIN_NS 1000000000 /* at the end, wait this long at most for completions */

enum mode { RXDROP, TXONLY, L2FWD };
static const char *const mode_names[] = { "rxdrop", "txonly", "l2fwd" };
/* Indexed by XSK_RS_XDP_MODE_*. */
static const char *const xdp_names[] = { "auto", "skb", "drv", "none" };

struct opts {
	enum mode mode;
	const char *ifname;
	uint32_t queue;
	uint32_t xdp_mode;
	bool copy, zerocopy, need_wakeup, use_poll, desc_api;
	uint32_t batch, tx_budget, frame_size, pkt_size;
	uint64_t duration_s, count; /* 0: no limit */
};

struct bench {
	struct opts o;
	xsk_rs_umem *umem;
	xsk_rs_socket *sock;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	uint8_t *area;
	uint64_t frame_mask; /* clears a ring address's offset within its frame */
	uint64_t rx_pkts;    /* received and handled */
	uint64_t tx_subm;    /* put on the TX ring */
	uint64_t tx_done;    /* completed by the kernel */
	uint64_t *spare;    /* frames we hold, FRAMES entries: txonly's free */
	uint32_t n_spare;   /* stack; the others' frames the fill ring turned away */
	xsk_rs_desc *descs; /* batch scratch, BATCH entries */
	uint64_t *addrs;    /* address scratch, FRAMES entries */
	uint32_t n_pend;    /* l2fwd batch path: descs[pend_off..] await TX room */
	uint32_t pend_off;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A library call failed: say which, with the library's own message. */
static void die(const char *what, int rc)
{
	const char *msg = xsk_rs_last_error();

	fprintf(stderr, "xsk_bench: %s: %s\n", what, *msg ? msg : xsk_rs_strerror(rc));
	exit(1);
}

/*
 * A ring call's result: a count or flag (>= 0), or a negative errno for
 * misuse (a NULL handle or argument, a put/take while a reserve/peek is
 * open). The handles here are always valid, so misuse is a bug: say which
 * call, and stop, rather than count a negative as 4 billion entries.
 */
static uint32_t ring_count(int rc, const char *call)
{
	if (rc < 0)
		die(call, rc);
	return (uint32_t)rc;
}

#define RING_OK(call) ring_count((call), #call)

/* Bad usage: the reason and a pointer to -h, or (why NULL) the full help. */
static int usage(const char *argv0, const char *why)
{
	if (why) {
		fprintf(stderr, "xsk_bench: %s (%s -h for help)\n", why, argv0);
		return 2;
	}
	fprintf(stderr,
		"usage: %s rxdrop|txonly|l2fwd -i IFNAME [-q QUEUE] [-m auto|skb|drv] [-c|-z] [-W] [-p]\n"
		"       [-a batch|desc] [-b BATCH] [-B BUDGET] [-f 2048|4096] [-s PKT_SIZE] [-d SECONDS]\n"
		"       [-n COUNT]\n"
		"  -i IFNAME   interface (in the current network namespace)\n"
		"  -q QUEUE    queue id (default 0)\n"
		"  -m MODE     XDP mode auto, skb or drv (default auto; txonly attaches none)\n"
		"  -c, -z      force copy or zero-copy (default: the kernel chooses)\n"
		"  -W          need_wakeup off (default on)\n"
		"  -p          wait in poll() instead of spinning\n"
		"  -a API      batch (default: fill_put/rx_take/tx_put/comp_take) or desc\n"
		"              (reserve/peek, per-descriptor accessors, submit/release)\n"
		"  -b BATCH    descriptors per ring operation, 1..%u (default 64)\n"
		"  -B BUDGET   TX descriptors per kick in copy mode, %u..%u, or 0 for the\n"
		"              library's default (default 0; needs Linux 6.17)\n"
		"  -f SIZE     frame size 2048 or 4096 (default 4096)\n"
		"  -s LEN      txonly packet length, 60..frame size (default 64)\n"
		"  -d SECONDS  duration, 0 = until Ctrl-C (default 0)\n"
		"  -n COUNT    stop after COUNT packets received (rxdrop, l2fwd) or sent (txonly)\n"
		"Prints a stats: line each second and a summary: line at the end (stdout),\n"
		"\"ready\" on stderr once bound.\n",
		argv0, RING, XSK_RS_TX_BUDGET_MIN, RING);
	return 2;
}

/* A whole decimal number in [min, max], or false. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Options into *o: 0, 2 (bad usage, reported), or -1 (help printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	uint64_t v;
	int opt;

	memset(o, 0, sizeof(*o));
	o->xdp_mode = XSK_RS_XDP_MODE_AUTO;
	o->need_wakeup = true;
	o->batch = 64;
	o->frame_size = 4096;
	o->pkt_size = 64;

	if (argc < 2)
		return usage(argv[0], NULL);
	if (!strcmp(argv[1], "-h")) {
		usage(argv[0], NULL);
		return -1;
	}
	if (!strcmp(argv[1], "rxdrop"))
		o->mode = RXDROP;
	else if (!strcmp(argv[1], "txonly"))
		o->mode = TXONLY;
	else if (!strcmp(argv[1], "l2fwd"))
		o->mode = L2FWD;
	else
		return usage(argv[0], "mode must be rxdrop, txonly or l2fwd");

	optind = 2;
	while ((opt = getopt(argc, argv, "i:q:m:czWpa:b:B:f:s:d:n:h")) != -1) {
		switch (opt) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'q':
			if (!parse_u64(optarg, 0, UINT32_MAX, &v))
				return usage(argv[0], "-q takes a queue id");
			o->queue = (uint32_t)v;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				o->xdp_mode = XSK_RS_XDP_MODE_AUTO;
			else if (!strcmp(optarg, "skb"))
				o->xdp_mode = XSK_RS_XDP_MODE_SKB;
			else if (!strcmp(optarg, "drv"))
				o->xdp_mode = XSK_RS_XDP_MODE_DRV;
			else
				return usage(argv[0], "-m takes auto, skb or drv");
			break;
		case 'c':
			o->copy = true;
			break;
		case 'z':
			o->zerocopy = true;
			break;
		case 'W':
			o->need_wakeup = false;
			break;
		case 'p':
			o->use_poll = true;
			break;
		case 'a':
			if (!strcmp(optarg, "desc"))
				o->desc_api = true;
			else if (!strcmp(optarg, "batch"))
				o->desc_api = false;
			else
				return usage(argv[0], "-a takes batch or desc");
			break;
		case 'b':
			if (!parse_u64(optarg, 1, RING, &v))
				return usage(argv[0], "-b takes 1..2048");
			o->batch = (uint32_t)v;
			break;
		case 'B':
			if (!parse_u64(optarg, 0, RING, &v) || (v != 0 && v < XSK_RS_TX_BUDGET_MIN))
				return usage(argv[0], "-B takes 0 or 32..2048");
			o->tx_budget = (uint32_t)v;
			break;
		case 'f':
			if (!parse_u64(optarg, 2048, 4096, &v) || (v != 2048 && v != 4096))
				return usage(argv[0], "-f takes 2048 or 4096");
			o->frame_size = (uint32_t)v;
			break;
		case 's':
			if (!parse_u64(optarg, 60, 4096, &v))
				return usage(argv[0], "-s takes 60..frame size");
			o->pkt_size = (uint32_t)v;
			break;
		case 'd':
			if (!parse_u64(optarg, 0, 100000000, &o->duration_s))
				return usage(argv[0], "-d takes whole seconds");
			break;
		case 'n':
			if (!parse_u64(optarg, 1, UINT64_MAX, &o->count))
				return usage(argv[0], "-n takes a count of at least 1");
			break;
		case 'h':
			usage(argv[0], NULL);
			return -1;
		default: /* getopt has said what is wrong */
			return usage(argv[0], "bad option");
		}
	}
	if (optind != argc)
		return usage(argv[0], "unexpected argument");
	if (!o->ifname)
		return usage(argv[0], "-i IFNAME is required");
	if (o->copy && o->zerocopy)
		return usage(argv[0], "-c and -z exclude each other");
	if (o->pkt_size > o->frame_size)
		return usage(argv[0], "-s must not exceed the frame size (-f)");
	return 0;
}

static void setup(struct bench *b)
{
	const struct opts *o = &b->o;
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	char what[160];
	int rc;

	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = FRAMES;
	ucfg.frame_size = o->frame_size;
	/*
	 * The kernel publishes its fill ring consumer index lazily: it takes
	 * everything it saw produced into a private cache and writes the index
	 * back only when that cache runs dry. Up to FRAMES entries it has already
	 * used can thus still look occupied, next to up to FRAMES we put back,
	 * so a ring of 2 * FRAMES never turns a recycled frame away. (Should a
	 * kernel ever do otherwise, such frames wait in spare[] and are retried.)
	 * Completions the kernel can only produce for frames we gave it, and it
	 * sees our releases at once: FRAMES entries are enough there.
	 */
	ucfg.fill_size = FILL;
	ucfg.comp_size = FRAMES;
	rc = xsk_rs_umem_create(&b->umem, &ucfg);
	if (rc < 0)
		die("cannot create the UMEM", rc);

	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.rx_size = o->mode == TXONLY ? 0 : RING;
	scfg.tx_size = o->mode == RXDROP ? 0 : RING;
	/* txonly's socket has no RX ring, so the library attaches no program. */
	scfg.xdp_mode = o->xdp_mode;
	/* Not for rxdrop, which has no TX ring to budget. */
	scfg.tx_budget = o->mode == RXDROP ? 0 : o->tx_budget;
	scfg.bind_flags = (o->need_wakeup ? XSK_RS_BIND_NEED_WAKEUP : 0) | (o->copy ? XSK_RS_BIND_COPY : 0) |
			  (o->zerocopy ? XSK_RS_BIND_ZEROCOPY : 0);
	snprintf(what, sizeof(what), "cannot open a socket on %s queue %" PRIu32, o->ifname, o->queue);
	rc = xsk_rs_socket_create(&b->sock, o->ifname, o->queue, b->umem, &scfg);
	if (rc < 0)
		die(what, rc);

	b->fill = xsk_rs_umem_fill(b->umem);
	b->comp = xsk_rs_umem_comp(b->umem);
	b->rx = xsk_rs_socket_rx(b->sock);
	b->tx = xsk_rs_socket_tx(b->sock);
	b->area = xsk_rs_umem_area(b->umem);
	b->frame_mask = ~(uint64_t)(o->frame_size - 1);
	b->descs = calloc(o->batch, sizeof(*b->descs));
	b->addrs = calloc(FRAMES, sizeof(*b->addrs));
	b->spare = calloc(FRAMES, sizeof(*b->spare));
	if (!b->descs || !b->addrs || !b->spare) {
		fprintf(stderr, "xsk_bench: out of memory\n");
		exit(1);
	}

	if (o->mode == TXONLY) {
		static const uint8_t hdr[14] = { 0x02, 0x58, 0x53, 0x4b, 0x00, 0x02, 0x02,
						 0x58, 0x53, 0x4b, 0x00, 0x01, 0x88, 0xB5 };

		/* Frames are written once; the loop only stamps the sequence. */
		for (uint32_t f = 0; f < FRAMES; f++) {
			uint64_t addr = (uint64_t)f * o->frame_size;
			uint8_t *p = b->area + addr;

			memcpy(p, hdr, sizeof(hdr));
			memset(p + 14, 0, 4);
			for (uint32_t i = 0; i + 18 < o->pkt_size; i++)
				p[18 + i] = (uint8_t)(i * 7u + 1u);
			b->spare[b->n_spare++] = addr;
		}
	} else {
		/* Lend the kernel every frame to receive into; the fill ring holds them all. */
		for (uint32_t f = 0; f < FRAMES; f++)
			b->addrs[f] = (uint64_t)f * o->frame_size;
		if (RING_OK(xsk_rs_fill_put(b->fill, b->addrs, FRAMES)) != FRAMES) { /* FILL > FRAMES */
			fprintf(stderr, "xsk_bench: the fill ring took fewer than %d frames\n", FRAMES);
			exit(1);
		}
	}
}

/* Poke the kernel to send what is on the TX ring, when it wants that. */
static void kick_tx(struct bench *b)
{
	int rc;

	if (b->tx_subm == b->tx_done || (b->o.need_wakeup && !RING_OK(xsk_rs_tx_needs_wakeup(b->tx))))
		return;
	rc = xsk_rs_socket_kick(b->sock);
	if (rc < 0)
		die("TX kick failed", rc);
}

/* An empty RX turn: in need_wakeup mode the kernel may want a poke to look at
 * the fill ring again (zero-copy drivers do; copy mode never asks). */
static void rx_idle(struct bench *b)
{
	int rc;

	if (!b->o.need_wakeup || b->o.use_poll || !RING_OK(xsk_rs_fill_needs_wakeup(b->fill)))
		return;
	rc = xsk_rs_socket_poll(b->sock, POLLIN, 0);
	if (rc < 0 && rc != -EINTR)
		die("poll failed", rc);
}

/* Frames back to the fill ring; those it has no room for wait in spare[]. */
static void give_fill(struct bench *b, const uint64_t *addrs, uint32_t n)
{
	uint32_t idx, put = 0;

	if (b->o.desc_api) {
		if (RING_OK(xsk_rs_fill_reserve(b->fill, n, &idx)) == n) {
			for (uint32_t i = 0; i < n; i++)
				*xsk_rs_fill_addr(b->fill, idx + i) = addrs[i];
			RING_OK(xsk_rs_fill_submit(b->fill, n));
			put = n;
		}
	} else {
		put = RING_OK(xsk_rs_fill_put(b->fill, addrs, n));
	}
	/* addrs may lie in spare[] itself (retry_spare): memmove. */
	memmove(b->spare + b->n_spare, addrs + put, (size_t)(n - put) * sizeof(*addrs));
	b->n_spare += n - put;
}

/* Offer the fill ring a batch of the frames it turned away before. */
static void retry_spare(struct bench *b)
{
	uint32_t k = b->n_spare < b->o.batch ? b->n_spare : b->o.batch;

	b->n_spare -= k;
	give_fill(b, b->spare + b->n_spare, k);
}

static uint32_t rx_budget(const struct bench *b)
{
	uint64_t left = b->o.count ? b->o.count - b->rx_pkts : UINT64_MAX;

	return left < b->o.batch ? (uint32_t)left : b->o.batch;
}

/* rxdrop: received frames straight back to the fill ring. */
static void rxdrop_turn(struct bench *b)
{
	uint32_t want = rx_budget(b), n, idx, fidx;

	if (b->n_spare)
		retry_spare(b);
	if (!want)
		return;
	if (b->o.desc_api) {
		n = RING_OK(xsk_rs_rx_peek(b->rx, want, &idx));
		if (!n) {
			rx_idle(b);
			return;
		}
		if (RING_OK(xsk_rs_fill_reserve(b->fill, n, &fidx)) == n) {
			for (uint32_t i = 0; i < n; i++)
				*xsk_rs_fill_addr(b->fill, fidx + i) =
					xsk_rs_rx_desc(b->rx, idx + i)->addr & b->frame_mask;
			RING_OK(xsk_rs_fill_submit(b->fill, n));
		} else {
			for (uint32_t i = 0; i < n; i++)
				b->spare[b->n_spare++] = xsk_rs_rx_desc(b->rx, idx + i)->addr & b->frame_mask;
		}
		RING_OK(xsk_rs_rx_release(b->rx, n));
	} else {
		n = RING_OK(xsk_rs_rx_take(b->rx, b->descs, want));
		if (!n) {
			rx_idle(b);
			return;
		}
		for (uint32_t i = 0; i < n; i++)
			b->addrs[i] = b->descs[i].addr & b->frame_mask;
		give_fill(b, b->addrs, n);
	}
	b->rx_pkts += n;
}

/* Completed TX frames: onto the free stack (txonly) or the fill ring (l2fwd). */
static void reclaim(struct bench *b)
{
	uint64_t *dst = b->o.mode == TXONLY ? b->spare + b->n_spare : b->addrs;
	uint32_t n, idx;

	if (b->tx_subm == b->tx_done)
		return;
	if (b->o.desc_api) {
		n = RING_OK(xsk_rs_comp_peek(b->comp, b->o.batch, &idx));
		for (uint32_t i = 0; i < n; i++)
			dst[i] = *xsk_rs_comp_addr(b->comp, idx + i) & b->frame_mask;
		RING_OK(xsk_rs_comp_release(b->comp, n));
	} else {
		n = RING_OK(xsk_rs_comp_take(b->comp, dst, b->o.batch));
		for (uint32_t i = 0; i < n; i++)
			dst[i] &= b->frame_mask;
	}
	if (!n)
		return;
	b->tx_done += n;
	if (b->o.mode == TXONLY)
		b->n_spare += n;
	else
		give_fill(b, b->addrs, n);
}

/* txonly: up to BATCH fresh frames on the TX ring, each stamped with its sequence. */
static void txonly_turn(struct bench *b)
{
	uint64_t left = b->o.count ? b->o.count - b->tx_subm : UINT64_MAX;
	uint32_t n = b->o.batch, idx;

	reclaim(b);
	if (n > b->n_spare)
		n = b->n_spare;
	if (n > left)
		n = (uint32_t)left;
	if (n) {
		if (b->o.desc_api) {
			if (RING_OK(xsk_rs_tx_reserve(b->tx, n, &idx)) != n) {
				n = 0; /* ring full: kick below, try again next turn */
			} else {
				for (uint32_t i = 0; i < n; i++) {
					xsk_rs_desc *d = xsk_rs_tx_desc(b->tx, idx + i);
					uint64_t addr = b->spare[--b->n_spare];
					uint32_t seq = (uint32_t)(b->tx_subm + i);
					uint8_t *p = b->area + addr;

					p[14] = (uint8_t)(seq >> 24);
					p[15] = (uint8_t)(seq >> 16);
					p[16] = (uint8_t)(seq >> 8);
					p[17] = (uint8_t)seq;
					d->addr = addr;
					d->len = b->o.pkt_size;
					d->options = 0;
				}
				RING_OK(xsk_rs_tx_submit(b->tx, n));
			}
		} else {
			for (uint32_t i = 0; i < n; i++) {
				uint64_t addr = b->spare[b->n_spare - 1 - i];
				uint32_t seq = (uint32_t)(b->tx_subm + i);
				uint8_t *p = b->area + addr;

				p[14] = (uint8_t)(seq >> 24);
				p[15] = (uint8_t)(seq >> 16);
				p[16] = (uint8_t)(seq >> 8);
				p[17] = (uint8_t)seq;
				b->descs[i].addr = addr;
				b->descs[i].len = b->o.pkt_size;
				b->descs[i].options = 0;
			}
			/* Frames the ring did not take stay on top of the free stack and
			 * get their sequence stamped again next turn. */
			n = RING_OK(xsk_rs_tx_put(b->tx, b->descs, n));
			b->n_spare -= n;
		}
		b->tx_subm += n;
	}
	kick_tx(b);
}

static inline void swap_macs(uint8_t *p)
{
	uint8_t t[6];

	memcpy(t, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, t, 6);
}

/* l2fwd: received frames back out with their MACs swapped. */
static void l2fwd_turn(struct bench *b)
{
	uint32_t n, idx, tidx;

	reclaim(b);
	if (b->n_spare)
		retry_spare(b);
	if (b->o.desc_api) {
		uint32_t want = rx_budget(b);

		n = want ? RING_OK(xsk_rs_rx_peek(b->rx, want, &idx)) : 0;
		if (!n) {
			if (want)
				rx_idle(b);
		} else if (RING_OK(xsk_rs_tx_reserve(b->tx, n, &tidx)) != n) {
			RING_OK(xsk_rs_rx_cancel(b->rx, n)); /* no TX room yet: take them again next turn */
		} else {
			for (uint32_t i = 0; i < n; i++) {
				const xsk_rs_desc *r = xsk_rs_rx_desc(b->rx, idx + i);
				xsk_rs_desc *t = xsk_rs_tx_desc(b->tx, tidx + i);

				swap_macs(b->area + r->addr);
				t->addr = r->addr;
				t->len = r->len;
				t->options = 0;
			}
			RING_OK(xsk_rs_tx_submit(b->tx, n));
			RING_OK(xsk_rs_rx_release(b->rx, n));
			b->rx_pkts += n;
			b->tx_subm += n;
		}
	} else {
		if (!b->n_pend) {
			uint32_t want = rx_budget(b);

			n = want ? RING_OK(xsk_rs_rx_take(b->rx, b->descs, want)) : 0;
			if (!n && want)
				rx_idle(b);
			for (uint32_t i = 0; i < n; i++) {
				swap_macs(b->area + b->descs[i].addr);
				b->descs[i].options = 0;
			}
			b->rx_pkts += n;
			b->n_pend = n;
			b->pend_off = 0;
		}
		if (b->n_pend) {
			n = RING_OK(xsk_rs_tx_put(b->tx, b->descs + b->pend_off, b->n_pend));
			b->pend_off += n;
			b->n_pend -= n;
			b->tx_subm += n;
		}
	}
	kick_tx(b);
}

static void read_stats(struct bench *b, xsk_rs_stats *st)
{
	int rc = xsk_rs_socket_stats(b->sock, st);

	if (rc < 0)
		die("reading the socket statistics failed", rc);
}

static void print_counters(const xsk_rs_stats *st)
{
	printf(" rx_dropped=%" PRIu64 " rx_invalid_descs=%" PRIu64 " tx_invalid_descs=%" PRIu64
	       " rx_ring_full=%" PRIu64 " rx_fill_ring_empty_descs=%" PRIu64 " tx_ring_empty_descs=%" PRIu64 "\n",
	       st->rx_dropped, st->rx_invalid_descs, st->tx_invalid_descs, st->rx_ring_full,
	       st->rx_fill_ring_empty_descs, st->tx_ring_empty_descs);
}

static uint64_t rate(uint64_t pkts, uint64_t ns)
{
	return ns ? (uint64_t)((double)pkts * 1e9 / (double)ns + 0.5) : 0;
}

/* Is the run's work complete (-n reached, everything sent completed)? */
static bool count_reached(const struct bench *b)
{
	const struct opts *o = &b->o;

	if (!o->count)
		return false;
	switch (o->mode) {
	case RXDROP:
		return b->rx_pkts >= o->count;
	case TXONLY:
		return b->tx_done >= o->count;
	case L2FWD:
		return b->rx_pkts >= o->count && b->tx_done >= o->count;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct bench b;
	struct sigaction sa;
	xsk_rs_stats st;
	uint64_t start, next_report, end_at, t, last_t, last_rx = 0, last_tx = 0;
	short events;
	int rc, zc, xm, status = 0;

	memset(&b, 0, sizeof(b));
	rc = parse_args(argc, argv, &b.o);
	if (rc)
		return rc < 0 ? 0 : rc; /* -1: help was asked for */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends a poll() early */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	setup(&b);
	zc = xsk_rs_socket_is_zerocopy(b.sock);
	if (zc < 0)
		die("asking for the bind mode failed", zc);
	/* What auto settled on; none for txonly. */
	xm = xsk_rs_socket_xdp_mode(b.sock);
	if (xm < 0 || xm > XSK_RS_XDP_MODE_NONE)
		die("asking for the XDP mode failed", xm);
	fprintf(stderr,
		"xsk_bench: libxsk_rs %s, %s on %s queue %" PRIu32 ", xdp %s, %s, need_wakeup %s, %s, api %s, "
		"batch %" PRIu32 ", tx budget %" PRIu32 "%s, frame %" PRIu32 ", packet %" PRIu32 "\n",
		xsk_rs_version(), mode_names[b.o.mode], b.o.ifname, b.o.queue,
		xdp_names[xm], zc ? "zero-copy" : "copy",
		b.o.need_wakeup ? "on" : "off", b.o.use_poll ? "poll" : "busy loop", b.o.desc_api ? "desc" : "batch",
		b.o.batch, b.o.tx_budget, b.o.tx_budget ? "" : " (the library's default)", b.o.frame_size,
		b.o.pkt_size);
	fprintf(stderr, "ready\n");
	fflush(stderr);

	events = b.o.mode == TXONLY ? POLLOUT : POLLIN;
	start = last_t = now_ns();
	next_report = start + 1000000000u;
	end_at = b.o.duration_s ? start + b.o.duration_s * 1000000000u : UINT64_MAX;
	for (;;) {
		if (b.o.use_poll) {
			/* With TX work in flight, do not sleep on RX: completions raise no event. */
			int ms = b.o.mode == L2FWD && b.tx_subm != b.tx_done ? 0 : POLL_MS;

			rc = xsk_rs_socket_poll(b.sock, events, ms);
			if (rc < 0 && rc != -EINTR)
				die("poll failed", rc);
		}
		switch (b.o.mode) {
		case RXDROP:
			rxdrop_turn(&b);
			break;
		case TXONLY:
			txonly_turn(&b);
			break;
		case L2FWD:
			l2fwd_turn(&b);
			break;
		}
		if (stop || count_reached(&b))
			break;
		t = now_ns();
		if (t >= end_at)
			break;
		if (t >= next_report) {
			read_stats(&b, &st);
			printf("stats: t=%.3f rx_pps=%" PRIu64 " tx_pps=%" PRIu64 " rx_pkts=%" PRIu64 " tx_pkts=%" PRIu64,
			       (double)(t - start) / 1e9, rate(b.rx_pkts - last_rx, t - last_t),
			       rate(b.tx_done - last_tx, t - last_t), b.rx_pkts, b.tx_done);
			print_counters(&st);
			fflush(stdout);
			last_rx = b.rx_pkts;
			last_tx = b.tx_done;
			last_t = t;
			while (next_report <= t)
				next_report += 1000000000u;
		}
	}

	/* Frames on the TX ring still belong to the kernel: let it finish them. */
	for (uint64_t until = now_ns() + DRAIN_NS; b.tx_subm != b.tx_done && now_ns() < until;) {
		reclaim(&b);
		kick_tx(&b);
	}
	t = now_ns();
	read_stats(&b, &st);
	printf("summary: mode=%s ifname=%s queue=%" PRIu32 " xdp=%s bind=%s api=%s secs=%.3f rx_pkts=%" PRIu64
	       " tx_pkts=%" PRIu64 " rx_pps=%" PRIu64 " tx_pps=%" PRIu64,
	       mode_names[b.o.mode], b.o.ifname, b.o.queue, xdp_names[xm],
	       zc ? "zerocopy" : "copy", b.o.desc_api ? "desc" : "batch", (double)(t - start) / 1e9, b.rx_pkts,
	       b.tx_done, rate(b.rx_pkts, t - start), rate(b.tx_done, t - start));
	print_counters(&st);
	fflush(stdout);

	if (b.tx_subm != b.tx_done) {
		fprintf(stderr, "xsk_bench: %" PRIu64 " of %" PRIu64 " sent frames never completed\n",
			b.tx_subm - b.tx_done, b.tx_subm);
		status = 1;
	}
	if (b.o.count && !count_reached(&b)) {
		fprintf(stderr, "xsk_bench: stopped after %" PRIu64 " of %" PRIu64 " packets\n",
			b.o.mode == TXONLY ? b.tx_done : b.rx_pkts, b.o.count);
		status = 1;
	}

	xsk_rs_socket_destroy(b.sock);
	rc = xsk_rs_umem_destroy(b.umem);
	if (rc < 0)
		die("destroying the UMEM failed", rc);
	free(b.descs);
	free(b.addrs);
	free(b.spare);
	return status;
}
