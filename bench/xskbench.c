/*
 * xskbench: one AF_XDP packet loop, compiled once per library so that libxdp
 * and xsk_rs do exactly the same work (bench/run.sh builds and runs it).
 *
 *   xskbench rxdrop|txonly|l2fwd|setup -i IFNAME -m skb|drv [-q QUEUE]
 *            [-b BATCH] [-w WARMUP_S] [-d SECONDS] [-n PACKETS] [-s LEN] [-c]
 *            [-H] [-S] [-u BUSY_POLL_USECS] [-g BUSY_POLL_BUDGET] [-P]
 *
 * The backend header (backend_libxdp.h, backend_xsk_rs.h or
 * backend_xsk_rs_pkt.h, chosen by -DXSKBENCH_LIBXDP / -DXSKBENCH_API_PKT;
 * -DXSKBENCH_LIBXDP -DXSKBENCH_COMPAT is the libxdp text built against
 * xsk_rs-compat, libxdp's API on xsk_rs)
 * supplies struct bk, bk_close, bk_stats and, for the ring builds,
 * bk_open_umem/_socket and the ring steps the loops are written in:
 *   rx_begin(b, max) -> n   rx_at(b, i)        rx_end(b, n)
 *   comp_begin(b, max) -> n comp_at(b, i)      comp_end(b, n)
 *   fill_begin(b, n) -> <=n fill_set(b, i, a)  fill_end(b, n) -> placed
 *   tx_begin(b, n) -> <=n   tx_set(b, i, a, l) tx_end(b, n) -> placed
 * For libxdp these are its inline peek/reserve/submit/release; xsk_rs has a
 * span flavour (in-place runs of entries, which stop at the ring's end, so
 * *_begin may grant fewer than asked), a batch flavour (take/put with arrays,
 * where *_end may place fewer than n) and a per-descriptor flavour (the
 * reserve/peek steps as library calls). The ring loops below
 * are the only code that moves packets, and they are the same text for all
 * four ring builds.
 *
 * The fifth build (-DXSKBENCH_API_PKT) is xsk_rs's packet layer, which hands
 * out packets and frames, never ring entries: it has loops of its own, each
 * the packet layer's natural way to do the scenario's work (see "The packet
 * layer's loops"), with the same counting, timing and output.
 *
 * Geometry (both libraries): 4096 frames of 4096 bytes, fill and completion
 * rings of 2048, RX and TX rings of 2048, need_wakeup, copy mode (veth has no
 * zero-copy), the library's own XDP program in the given mode. Receiving
 * scenarios lend 1024 frames (half the fill ring, so handing a frame back
 * never finds the fill ring full).
 *
 * rxdrop  every received frame goes back to the fill ring
 * txonly  frames written once at start (LEN bytes, a destination MAC no host
 *         has, so the peer drops them at once); the loop reclaims completions
 *         and sends BATCH at a time; counts completed frames
 * l2fwd   receive, swap the MACs, send back out; completions refill the fill
 *         ring; counts forwarded frames
 * setup   time from before UMEM creation until the first packet is received
 *         (something must be sending to IFNAME); prints the phases
 *
 * -S (ring builds; rxdrop and txonly): multi-buffer, for jumbo frames. The
 * socket is bound with XDP_USE_SG; txonly sends LEN bytes (up to 17 frames)
 * as a chain of frames, every one full but the last, each chain after the
 * last (a chain may straddle two submits: the kernel waits for its end);
 * rxdrop counts packets (descriptors without XDP_PKT_CONTD) and bytes.
 * pkts then counts packets, not frames, and the rate line gains "sg":1,
 * "len" (rxdrop: the mean received), "bytes" and "gbps" (Ethernet frame
 * bytes, no preamble or FCS). The
 * libxdp build asks libxdp for the same bind flags; its default program has
 * no frags section, so whether it attaches is the kernel's answer.
 *
 * -c records busy time the way DPDK's testpmd does with --record-core-cycles
 * (bench/dpdk_run.py compares the two): the time stamp counter is read before
 * each pass of the loop and again at its end, and the difference is added to
 * a total when the pass moved a packet or a completion; passes that found
 * nothing to do are not counted. The rate line then gains busy_ns (the total
 * over the whole loop, warm-up included, as testpmd's is), loop_pkts (the
 * packets counted over the same loop), polls and busy_polls (passes, and
 * those that moved something), tsc_mhz, and cpu_s (this process's CPU time
 * over the measured interval). The loops are compiled twice, so without -c
 * they carry none of it (callgrind counts the same instructions as before).
 * A loop added here brackets each pass with REC_START / REC_END, so that its
 * -c figures mean the same.
 *
 * -u, -g and -P set SO_BUSY_POLL, SO_BUSY_POLL_BUDGET and SO_PREFER_BUSY_POLL
 * on the socket (libxdp: setsockopt on xsk_socket__fd after it is created;
 * xsk_rs: its socket config). With -u the ring loops call recvfrom on every
 * pass that found nothing, as xdpsock -B does, since the kernel busy-polls
 * only from a syscall (recvfrom, sendto, poll) and a copy-mode fill ring
 * never asks for a wakeup; the rate line then gains the settings and the
 * socket's SO_INCOMING_NAPI_ID (0: the kernel found no NAPI to poll).
 *
 * Timing: a WARMUP (default 1 s) then SECONDS (default 2) measured by
 * ITIMER_REAL, so the loop makes no clock call; or, with -n, run until
 * PACKETS were counted (what callgrind runs use: receiving scenarios then
 * first wait 200 ms for the peer to fill the RX ring with the lent frames, so
 * that PACKETS <= 1024 are processed without an empty poll). Output: one JSON line on
 * stdout, {"kind":"rate"|"setup", ...}. Exit 0, 1 on failure (message on
 * stderr), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/if_xdp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
/* Multi-buffer (Linux 6.6), which Debian 12's kernel headers predate. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

#define BENCH_FRAMES 4096u
#define BENCH_FRAME_SIZE 4096u
#define BENCH_FILL_SIZE 2048u
#define BENCH_COMP_SIZE 2048u
#define BENCH_RING_SIZE 2048u
#define BENCH_LEND (BENCH_FILL_SIZE / 2)
#define BENCH_BATCH_MAX 1024u

/* -H: the UMEM area in huge pages (read by the backends' bk_open_umem). */
static bool bk_huge_pages;
/* -S: multi-buffer, bound with XDP_USE_SG (read by the ring backends' bk_open_socket). */
static bool bk_sg;

/* -u, -g, -P: busy polling on the socket (read by bk_open_socket). */
static struct {
	uint32_t usecs, budget;
	bool prefer;
} bk_busy_poll;

static bool busy_poll_asked(void)
{
	return bk_busy_poll.usecs || bk_busy_poll.budget || bk_busy_poll.prefer;
}

#if defined(XSKBENCH_LIBXDP)
#include "backend_libxdp.h"
#elif defined(XSKBENCH_API_PKT)
#include "backend_xsk_rs_pkt.h"
#else
#include "backend_xsk_rs.h"
#endif

enum scenario { RXDROP, TXONLY, L2FWD, SETUP };
static const char *const scenario_names[] = { "rxdrop", "txonly", "l2fwd", "setup" };

struct opts {
	enum scenario scenario;
	const char *ifname;
	uint32_t queue;
	bool drv;
	uint32_t batch;
	uint32_t len;
	double warmup, secs;
	uint64_t packets;
	bool busy;
};

/* The loop's count and the timer's snapshots of it; -S loops count bytes too. */
static volatile uint64_t counted, counted_bytes;
static volatile sig_atomic_t stop, phase;
static uint64_t snap_count[2], snap_bytes[2];
static struct timespec snap_time[2];

/* -c: busy ticks, passes of the loop and those that moved something, and the
 * tick counter and this process's CPU time at the two snapshots. */
static uint64_t busy_ticks, polls, busy_polls;
static uint64_t snap_ticks[2];
static struct timespec snap_cpu[2];

/* testpmd's rte_rdtsc(): the TSC read without a fence. Elsewhere nanoseconds. */
static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
#endif
}

static void snapshot_clocks(int i)
{
	clock_gettime(CLOCK_MONOTONIC, &snap_time[i]);
	snap_ticks[i] = ticks();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &snap_cpu[i]);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (phase < 2) {
		snap_count[phase] = counted;
		snap_bytes[phase] = counted_bytes;
		snapshot_clocks(phase);
		phase++;
	}
	if (phase == 2)
		stop = 1;
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static double secs_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int usage(const char *why)
{
	fprintf(stderr,
		"xskbench: %s\n"
		"usage: xskbench rxdrop|txonly|l2fwd|setup -i IFNAME -m skb|drv [-q QUEUE] [-b BATCH]\n"
		"                [-w WARMUP_S] [-d SECONDS] [-n PACKETS] [-s LEN] [-c] [-H] [-S]\n",
		why);
	return 2;
}

/* A number (strtod: decimal, hex or with a fraction) in [min, max] with
 * nothing after it, or false. */
static bool parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A whole number in [min, max] (max at most 2^53, exact in a double). */
static bool parse_int(const char *s, double min, double max, uint64_t *out)
{
	double v;

	if (!parse_num(s, min, max, &v) || v != (double)(uint64_t)v)
		return false;
	*out = (uint64_t)v;
	return true;
}

static int parse(int argc, char **argv, struct opts *o)
{
	uint64_t v;

	int c;

	*o = (struct opts){ .batch = 64, .len = 64, .warmup = 1.0, .secs = 2.0 };
	if (argc < 2)
		return usage("no scenario");
	for (c = 0; c < 4 && strcmp(argv[1], scenario_names[c]); c++)
		;
	if (c == 4)
		return usage("scenario must be rxdrop, txonly, l2fwd or setup");
	o->scenario = (enum scenario)c;
	optind = 2;
	while ((c = getopt(argc, argv, "i:q:m:b:w:d:n:s:cHSu:g:P")) != -1) {
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'H': bk_huge_pages = true; break;
		case 'S': bk_sg = true; break;
		case 'P': bk_busy_poll.prefer = true; break;
		case 'u':
			if (!parse_int(optarg, 0, INT32_MAX, &v))
				return usage("-u takes microseconds");
			bk_busy_poll.usecs = (uint32_t)v;
			break;
		case 'g':
			if (!parse_int(optarg, 0, 65535, &v))
				return usage("-g takes a budget of 0..65535");
			bk_busy_poll.budget = (uint32_t)v;
			break;
		case 'q':
			if (!parse_int(optarg, 0, UINT32_MAX, &v))
				return usage("-q takes a queue id");
			o->queue = (uint32_t)v;
			break;
		case 'm':
			if (strcmp(optarg, "drv") && strcmp(optarg, "skb"))
				return usage("-m takes skb or drv");
			o->drv = !strcmp(optarg, "drv");
			break;
		case 'b':
			if (!parse_int(optarg, 1, BENCH_BATCH_MAX, &v))
				return usage("-b takes 1..1024");
			o->batch = (uint32_t)v;
			break;
		case 'w':
			if (!parse_num(optarg, 0, 3600, &o->warmup))
				return usage("-w takes 0..3600 seconds");
			break;
		case 'd':
			if (!parse_num(optarg, 0.001, 3600, &o->secs))
				return usage("-d takes 0.001..3600 seconds");
			break;
		case 'n':
			if (!parse_int(optarg, 1, 1e15, &o->packets))
				return usage("-n takes a packet count");
			break;
		case 's':
			/* With -S, up to 17 frames: the kernel's limit for a chain in copy mode. */
			if (!parse_int(optarg, 60, 17.0 * BENCH_FRAME_SIZE, &v))
				return usage("-s takes 60..4096 (60..69632 with -S)");
			o->len = (uint32_t)v;
			break;
		case 'c': o->busy = true; break;
		default: return usage("unknown option");
		}
	}
	if (!o->ifname)
		return usage("-i IFNAME is required");
	if (o->len > BENCH_FRAME_SIZE && !bk_sg)
		return usage("-s over 4096 needs -S");
#ifdef XSKBENCH_API_PKT
	if (bk_sg)
		return usage("-S is for the ring builds");
#endif
	if (bk_sg && o->scenario != RXDROP && o->scenario != TXONLY)
		return usage("-S is for rxdrop and txonly");
	return 0;
}

static uint64_t loop_limit(const struct opts *o)
{
	return o->packets ? o->packets : UINT64_MAX;
}

/* One frame as txonly sends it: a header no host answers (the peer drops the
 * frame at once), then a pattern that differs per frame f. */
static void write_frame(uint8_t *p, uint32_t len, uint32_t f)
{
	static const uint8_t head[14] = {
		0x02, 0x58, 0x53, 0x4b, 0xbe, 0x02, /* no host has this MAC: the peer drops */
		0x02, 0x58, 0x53, 0x4b, 0xbe, 0x01, 0x88, 0xb5,
	};

	memcpy(p, head, sizeof(head));
	for (uint32_t i = sizeof(head); i < len; i++)
		p[i] = (uint8_t)(i * 7 + f);
}

/* The loops take rec (-c) as a constant: each is inlined into bench_loop
 * twice, and the copy without -c has none of the recording. */
#define LOOP static inline __attribute__((always_inline)) void

/* -c: the pass's start, its end (counted when it moved something), and the
 * totals published when the loop ends. */
#define REC_START(rec) const uint64_t t0_ = (rec) ? ticks() : 0
#define REC_END(rec, moved)                                     \
	do {                                                    \
		if (rec) {                                      \
			n_polls++;                              \
			if (moved) {                            \
				n_busy++;                       \
				n_ticks += ticks() - t0_;       \
			}                                       \
		}                                               \
	} while (0)
#define REC_PUBLISH(rec)                                        \
	do {                                                    \
		if (rec) {                                      \
			polls = n_polls;                        \
			busy_polls = n_busy;                    \
			busy_ticks = n_ticks;                   \
		}                                               \
	} while (0)

#ifndef XSKBENCH_API_PKT
/* ---- the ring loops (libxdp and xsk_rs's ring-level builds) ------------- */

/* A kick: sendto for TX, recvfrom for a fill ring that asks for a wakeup. */
static inline void kick_tx(struct bk *b)
{
	if (tx_needs_wakeup(b))
		sendto(bk_fd(b), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static inline void kick_fill(struct bk *b)
{
	if (bk_busy_poll.usecs || fill_needs_wakeup(b))
		recvfrom(bk_fd(b), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/* Hands the n addresses at(src, i) to the fill ring, however many rounds the
 * ring takes (with this geometry it always has room). */
#define FILL_FROM(b, n, AT)                                             \
	do {                                                            \
		uint32_t done_ = 0;                                     \
		while (done_ < (n)) {                                   \
			uint32_t f_ = fill_begin((b), (n) - done_);     \
			if (!f_) {                                      \
				kick_fill(b);                           \
				continue;                               \
			}                                               \
			for (uint32_t i_ = 0; i_ < f_; i_++)            \
				fill_set((b), i_, AT(done_ + i_));      \
			done_ += fill_end((b), f_);                     \
		}                                                       \
	} while (0)

LOOP rxdrop(struct bk *b, const struct opts *o, const bool rec)
{
	const uint64_t limit = loop_limit(o);
	uint64_t n_total = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	while (!stop && n_total < limit) {
		REC_START(rec);
		uint32_t n = rx_begin(b, o->batch);

		if (!n) {
			kick_fill(b);
			REC_END(rec, false);
			continue;
		}
#define RX_ADDR(i) (rx_at(b, (i))->addr)
		FILL_FROM(b, n, RX_ADDR);
#undef RX_ADDR
		rx_end(b, n);
		n_total += n;
		counted = n_total;
		REC_END(rec, true);
	}
	REC_PUBLISH(rec);
}

LOOP txonly(struct bk *b, const struct opts *o, const bool rec)
{
	static uint64_t free_frames[BENCH_FRAMES];
	const uint64_t limit = loop_limit(o);
	uint32_t nfree = 0;
	uint64_t done = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	for (uint32_t i = 0; i < BENCH_FRAMES; i++)
		free_frames[nfree++] = (uint64_t)(BENCH_FRAMES - 1 - i) * BENCH_FRAME_SIZE;
	while (!stop && done < limit) {
		REC_START(rec);
		uint32_t c = comp_begin(b, o->batch);

		for (uint32_t i = 0; i < c; i++)
			free_frames[nfree++] = comp_at(b, i);
		comp_end(b, c);
		done += c;
		counted = done;

		uint32_t n = nfree < o->batch ? nfree : o->batch;

		uint32_t t = n ? tx_begin(b, n) : 0;

		for (uint32_t i = 0; i < t; i++)
			tx_set(b, i, free_frames[nfree - 1 - i], o->len);
		if (t)
			nfree -= tx_end(b, t);
		kick_tx(b);
		REC_END(rec, c || t);
	}
	REC_PUBLISH(rec);
}

static void swap_macs(uint8_t *p)
{
	uint8_t tmp[6];

	memcpy(tmp, p, 6);
	memcpy(p, p + 6, 6);
	memcpy(p + 6, tmp, 6);
}

/*
 * With -n (the callgrind runs) a packet's work includes taking its frame back
 * from the completion ring: once PACKETS were forwarded, the loop receives no
 * more and runs until every forwarded frame has completed. Otherwise the
 * count would depend on how many completions the kernel happened to deliver
 * before the last packet: a library whose kernel side sends fewer
 * descriptors per wakeup (libxdp: the kernel's 32; xsk_rs: its TX budget)
 * leaves more of that work outside the loop.
 */
LOOP l2fwd(struct bk *b, const struct opts *o, const bool rec)
{
	const uint64_t limit = loop_limit(o);
	uint8_t *area = bk_area(b);
	uint64_t done = 0, completed = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	while (!stop && (done < limit || (o->packets && completed < done))) {
		REC_START(rec);
		uint32_t c = comp_begin(b, o->batch);

		if (c) {
#define COMP_ADDR(i) comp_at(b, (i))
			FILL_FROM(b, c, COMP_ADDR);
#undef COMP_ADDR
			comp_end(b, c);
			completed += c;
		}

		uint32_t n = done < limit ? rx_begin(b, o->batch) : 0, sent = 0;

		while (sent < n) {
			uint32_t t = tx_begin(b, n - sent);

			if (!t) {
				sendto(bk_fd(b), NULL, 0, MSG_DONTWAIT, NULL, 0);
				continue;
			}
			for (uint32_t i = 0; i < t; i++) {
				const struct xdp_desc *d = rx_at(b, sent + i);

				swap_macs(area + d->addr);
				tx_set(b, i, d->addr, d->len);
			}
			sent += tx_end(b, t);
		}
		done += n;
		counted = done;
		if (n)
			rx_end(b, n);
		else if (done < limit)
			kick_fill(b);
		kick_tx(b);
		REC_END(rec, c || n);
	}
	REC_PUBLISH(rec);
}

/*
 * -S: rxdrop and txonly for packets chained over frames. Separate loops, so
 * that the plain ones (and their callgrind counts) stay as they are.
 */
LOOP rxdrop_sg(struct bk *b, const struct opts *o, const bool rec)
{
	const uint64_t limit = loop_limit(o);
	uint64_t pkts = 0, bytes = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	while (!stop && pkts < limit) {
		REC_START(rec);
		uint32_t n = rx_begin(b, o->batch);

		if (!n) {
			kick_fill(b);
			REC_END(rec, false);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			const struct xdp_desc *d = rx_at(b, i);

			bytes += d->len;
			pkts += !(d->options & XDP_PKT_CONTD);
		}
#define RX_ADDR(i) (rx_at(b, (i))->addr)
		FILL_FROM(b, n, RX_ADDR);
#undef RX_ADDR
		rx_end(b, n);
		counted_bytes = bytes;
		counted = pkts;
		REC_END(rec, true);
	}
	REC_PUBLISH(rec);
}

/* Descriptor j of the endless stream is segment j % segs of a packet: full
 * frames, then the rest; all but the last carry XDP_PKT_CONTD. A packet
 * counts once all its frames completed. */
LOOP txonly_sg(struct bk *b, const struct opts *o, const bool rec)
{
	static uint64_t free_frames[BENCH_FRAMES];
	const uint64_t limit = loop_limit(o);
	const uint32_t segs = (o->len + BENCH_FRAME_SIZE - 1) / BENCH_FRAME_SIZE;
	const uint32_t last = o->len - (segs - 1) * BENCH_FRAME_SIZE;
	uint32_t nfree = 0, seg = 0;
	uint64_t frames_done = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	for (uint32_t i = 0; i < BENCH_FRAMES; i++)
		free_frames[nfree++] = (uint64_t)(BENCH_FRAMES - 1 - i) * BENCH_FRAME_SIZE;
	while (!stop && frames_done / segs < limit) {
		REC_START(rec);
		uint32_t c = comp_begin(b, o->batch);

		for (uint32_t i = 0; i < c; i++)
			free_frames[nfree++] = comp_at(b, i);
		comp_end(b, c);
		frames_done += c;
		counted_bytes = frames_done / segs * o->len;
		counted = frames_done / segs;

		uint32_t n = nfree < o->batch ? nfree : o->batch;
		uint32_t t = n ? tx_begin(b, n) : 0;

		for (uint32_t i = 0; i < t; i++) {
			uint32_t s = (seg + i) % segs;

			tx_set(b, i, free_frames[nfree - 1 - i], s + 1 < segs ? BENCH_FRAME_SIZE : last);
			if (s + 1 < segs)
				tx_contd(b, i);
		}
		if (t) {
			uint32_t placed = tx_end(b, t);

			nfree -= placed;
			seg = (seg + placed) % segs;
		}
		kick_tx(b);
		REC_END(rec, c || t);
	}
	REC_PUBLISH(rec);
}

#else
/* ---- the packet layer's loops (-DXSKBENCH_API_PKT) ----------------------
 *
 * Same counting and stopping as the ring loops. The packet layer lends,
 * takes back and kicks inside its calls:
 * rxdrop  xsk_rs_rxsock_recv_batch (which, when nothing arrived, wakes the
 *         kernel for the fill ring if it asks), then _release, which lends
 *         the frames to the kernel again
 * txonly  _alloc (which takes back completed frames when it runs short) and
 *         _submit with the lengths (commit + kick). Every TX frame was
 *         written once before the loop (prime_frames), and a frame keeps
 *         what was last written into it, so the loop writes nothing, as in
 *         the ring builds. Counts frames the kernel gave back of those sent
 *         in the loop (sent less in flight; the primed ones come back first).
 * l2fwd   _recv_batch; each packet copied into a TX frame from _alloc with
 *         its MACs swapped; _submit; _release. The two halves own separate
 *         frames, so the packet layer cannot send a received frame in place:
 *         the copy is this layer's cost, paid here as an application would.
 */
LOOP rxdrop(struct bk *b, const struct opts *o, const bool rec)
{
	const uint64_t limit = loop_limit(o);
	uint64_t n_total = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	while (!stop && n_total < limit) {
		REC_START(rec);
		uint32_t n = bk_count(xsk_rs_rxsock_recv_batch(b->rx, b->pkts, o->batch));

		if (!n) {
			REC_END(rec, false);
			continue;
		}
		bk_count(xsk_rs_rxsock_release(b->rx, n));
		n_total += n;
		counted = n_total;
		REC_END(rec, true);
	}
	REC_PUBLISH(rec);
}

LOOP txonly(struct bk *b, const struct opts *o, const bool rec)
{
	const uint64_t limit = loop_limit(o);
	uint64_t sent = 0, done = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	for (uint32_t i = 0; i < o->batch; i++)
		b->lens[i] = o->len;
	while (!stop && done < limit) {
		REC_START(rec);
		uint32_t n = bk_count(xsk_rs_txsock_alloc(b->tx, b->bufs, o->batch));
		uint64_t flight, before = done;

		if (n) {
			bk_count(xsk_rs_txsock_submit(b->tx, b->lens, n));
			sent += n;
		} else {
			/* No room: the kernel may still hold sent frames for a kick. */
			bk_count(xsk_rs_txsock_kick(b->tx));
		}
		flight = bk_count(xsk_rs_txsock_in_flight_frames(b->tx));
		done = sent > flight ? sent - flight : 0;
		counted = done;
		/* Moved: frames sent, or completions the kernel gave back (alloc
		 * takes them inside; in_flight shows them). */
		REC_END(rec, n || done != before);
	}
	REC_PUBLISH(rec);
}

/* Copies a received packet into a TX frame with its MACs swapped. */
static inline void copy_swapped(uint8_t *d, const uint8_t *s, uint32_t len)
{
	if (len < 12) {
		memcpy(d, s, len);
		return;
	}
	memcpy(d, s + 6, 6);
	memcpy(d + 6, s, 6);
	memcpy(d + 12, s + 12, len - 12);
}

LOOP l2fwd(struct bk *b, const struct opts *o, const bool rec)
{
	const uint64_t limit = loop_limit(o);
	uint64_t done = 0, n_polls = 0, n_busy = 0, n_ticks = 0;

	while (!stop && done < limit) {
		REC_START(rec);
		uint32_t n = bk_count(xsk_rs_rxsock_recv_batch(b->rx, b->pkts, o->batch)), sent = 0;

		while (sent < n) {
			uint32_t t = bk_count(xsk_rs_txsock_alloc(b->tx, b->bufs, n - sent));

			if (!t) {
				bk_count(xsk_rs_txsock_kick(b->tx));
				continue;
			}
			for (uint32_t i = 0; i < t; i++) {
				const struct xsk_rs_pkt *p = &b->pkts[sent + i];
				uint32_t len = p->len < b->bufs[i].len ? p->len : b->bufs[i].len;

				copy_swapped(b->bufs[i].data, p->data, len);
				b->lens[i] = len;
			}
			bk_count(xsk_rs_txsock_submit(b->tx, b->lens, t));
			sent += t;
		}
		done += n;
		counted = done;
		if (n)
			bk_count(xsk_rs_rxsock_release(b->rx, n));
		/* Completions are taken back inside alloc, which runs only when
		 * something arrived: a pass moved something iff it received. */
		REC_END(rec, n);
	}
	REC_PUBLISH(rec);
}
#endif

/* The packet loop: callgrind runs count instructions from here down
 * (--toggle-collect=bench_loop). */
__attribute__((noinline)) void bench_loop(struct bk *b, const struct opts *o)
{
#ifndef XSKBENCH_API_PKT
	if (bk_sg) { /* parse() allows only rxdrop and txonly */
		if (o->scenario == RXDROP)
			o->busy ? rxdrop_sg(b, o, true) : rxdrop_sg(b, o, false);
		else
			o->busy ? txonly_sg(b, o, true) : txonly_sg(b, o, false);
		return;
	}
#endif
	switch (o->scenario) {
	case RXDROP: o->busy ? rxdrop(b, o, true) : rxdrop(b, o, false); break;
	case TXONLY: o->busy ? txonly(b, o, true) : txonly(b, o, false); break;
	case L2FWD: o->busy ? l2fwd(b, o, true) : l2fwd(b, o, false); break;
	case SETUP: break;
	}
}

#ifndef XSKBENCH_API_PKT
static void write_frames(struct bk *b, uint32_t len)
{
	uint8_t *area = bk_area(b);

	/* -S: a packet longer than a frame fills whole frames (the chain's segments). */
	if (len > BENCH_FRAME_SIZE)
		len = BENCH_FRAME_SIZE;
	for (uint32_t f = 0; f < BENCH_FRAMES; f++)
		write_frame(area + (size_t)f * BENCH_FRAME_SIZE, len, f);
}

static int lend_frames(struct bk *b)
{
	uint32_t n = BENCH_LEND, idx = 0;

	while (idx < n) {
		uint32_t f = fill_begin(b, n - idx);

		if (!f)
			return -1;
		for (uint32_t i = 0; i < f; i++)
			fill_set(b, i, (uint64_t)(idx + i) * BENCH_FRAME_SIZE);
		idx += fill_end(b, f);
	}
	return 0;
}

static double ms_since(const struct timespec *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return secs_between(a, &now) * 1e3;
}

static int run_setup(const struct opts *o)
{
	struct bk b;
	char err[512];
	struct timespec t0;
	double umem_ms, socket_ms, total_ms;
	struct pollfd pfd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (bk_open_umem(&b, err, sizeof(err))) {
		fprintf(stderr, "xskbench: %s\n", err);
		return 1;
	}
	umem_ms = ms_since(&t0);
	if (lend_frames(&b)) {
		fprintf(stderr, "xskbench: fill ring refused the first frames\n");
		bk_close(&b);
		return 1;
	}
	if (bk_open_socket(&b, o->ifname, o->queue, o->drv, err, sizeof(err))) {
		fprintf(stderr, "xskbench: %s\n", err);
		return 1;
	}
	socket_ms = ms_since(&t0) - umem_ms;
	pfd = (struct pollfd){ .fd = bk_fd(&b), .events = POLLIN };
	for (;;) {
		uint32_t n = rx_begin(&b, 1);

		if (n) {
			rx_end(&b, n);
			break;
		}
		if (ms_since(&t0) > 5000) {
			fprintf(stderr, "xskbench: setup: no packet within 5 s\n");
			bk_close(&b);
			return 1;
		}
		poll(&pfd, 1, 1);
	}
	total_ms = ms_since(&t0);
	printf("{\"kind\":\"setup\",\"lib\":\"%s\",\"api\":\"%s\",\"mode\":\"%s\",\"pages\":\"%s\",\"ms\":%.3f,"
	       "\"umem_ms\":%.3f,\"socket_ms\":%.3f}\n",
	       BENCH_LIB, BENCH_API, o->drv ? "drv" : "skb", bk_huge_pages ? "huge" : "base", total_ms, umem_ms,
	       socket_ms);
	bk_close(&b);
	return 0;
}

/* The UMEM, its frames written (txonly) or lent (the others), the socket.
 * The fill ring is the UMEM's: frames are lent before the socket is bound,
 * so the first packets find them. */
static int bench_open(struct bk *b, const struct opts *o, char *err, size_t errlen)
{
	if (bk_open_umem(b, err, errlen))
		return -1;
	if (o->scenario == TXONLY)
		write_frames(b, o->len);
	else if (lend_frames(b)) {
		snprintf(err, errlen, "fill ring refused the first frames");
		bk_close(b);
		return -1;
	}
	return bk_open_socket(b, o->ifname, o->queue, o->drv, err, errlen);
}
#else
static int run_setup(const struct opts *o)
{
	(void)o;
	return usage("setup is measured by the ring builds");
}

/* Writes every TX frame once (write_frame's bytes) and sends it, so that the
 * loop finds the frames written; outside the measured loop, as write_frames
 * is for the ring builds. */
static int prime_frames(struct bk *b, uint32_t len)
{
	uint32_t n = 0;

	while (n < BENCH_PKT_TX_FRAMES) {
		uint32_t want = BENCH_PKT_TX_FRAMES - n < BENCH_BATCH_MAX ? BENCH_PKT_TX_FRAMES - n : BENCH_BATCH_MAX;
		int got = xsk_rs_txsock_alloc(b->tx, b->bufs, want), rc;

		if (got <= 0)
			return got;
		for (int i = 0; i < got; i++) {
			write_frame(b->bufs[i].data, len, n + (uint32_t)i);
			b->lens[i] = len;
		}
		rc = xsk_rs_txsock_submit(b->tx, b->lens, (uint32_t)got);
		if (rc < 0)
			return rc;
		n += (uint32_t)got;
	}
	return 0;
}

/* The halves the scenario uses (rxdrop: RX, txonly: TX, l2fwd: both), the
 * TX frames written for txonly. */
static int bench_open(struct bk *b, const struct opts *o, char *err, size_t errlen)
{
	int rc;

	if (bk_open(b, o->ifname, o->queue, o->drv, o->scenario != RXDROP, o->scenario != TXONLY, err, errlen))
		return -1;
	if (o->scenario == TXONLY && (rc = prime_frames(b, o->len)) < 0) {
		snprintf(err, errlen, "writing the tx frames: %s (%s)", xsk_rs_strerror(rc), xsk_rs_last_error());
		bk_close(b);
		return -1;
	}
	return 0;
}
#endif

int main(int argc, char **argv)
{
	struct opts o;
	struct bk b;
	char err[512];
	struct xdp_statistics st = { 0 };
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.scenario == SETUP)
		return run_setup(&o);
	if (bench_open(&b, &o, err, sizeof(err))) {
		fprintf(stderr, "xskbench: %s\n", err);
		return 1;
	}
	fprintf(stderr, "ready\n");
	if (!o.packets) {
		struct itimerval warm = { .it_value = { .tv_sec = (time_t)o.warmup,
							 .tv_usec = (suseconds_t)((o.warmup - (double)(time_t)o.warmup) * 1e6) } };
		struct itimerval run = { .it_interval = { .tv_sec = (time_t)o.secs,
							  .tv_usec = (suseconds_t)((o.secs - (double)(time_t)o.secs) * 1e6) } };

		signal(SIGALRM, on_alarm);
		run.it_value = warm.it_value;
		if (!run.it_value.tv_sec && !run.it_value.tv_usec)
			run.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &run, NULL);
	} else {
		/* Instruction counts (callgrind) want a loop that never spins on an
		 * empty ring: let the peer fill the RX ring with every lent frame
		 * first (-n then should not exceed BENCH_LEND). */
		if (o.scenario != TXONLY)
			usleep(200 * 1000);
		snapshot_clocks(0);
	}
	bench_loop(&b, &o);
	if (o.packets) {
		snap_count[1] = counted;
		snap_bytes[1] = counted_bytes;
		snapshot_clocks(1);
	} else if (phase < 2) {
		fprintf(stderr, "xskbench: interrupted before the measurement ended\n");
		bk_close(&b);
		return 1;
	}
	bk_stats(&b, &st);
	{
		double secs = secs_between(&snap_time[0], &snap_time[1]);
		uint64_t pkts = snap_count[1] - snap_count[0];

		printf("{\"kind\":\"rate\",\"scenario\":\"%s\",\"mode\":\"%s\",\"batch\":%" PRIu32
		       ",\"lib\":\"%s\",\"api\":\"%s\",\"mpps\":%.4f,\"pkts\":%" PRIu64 ",\"secs\":%.3f"
		       ",\"rx_dropped\":%llu,\"rx_ring_full\":%llu,\"rx_fill_ring_empty_descs\":%llu"
		       ",\"tx_ring_empty_descs\":%llu",
		       scenario_names[o.scenario], o.drv ? "drv" : "skb", o.batch, BENCH_LIB, BENCH_API,
		       secs > 0 ? (double)pkts / secs / 1e6 : 0.0, pkts, secs, (unsigned long long)st.rx_dropped,
		       (unsigned long long)st.rx_ring_full, (unsigned long long)st.rx_fill_ring_empty_descs,
		       (unsigned long long)st.tx_ring_empty_descs);
		if (bk_sg) {
			uint64_t bytes = snap_bytes[1] - snap_bytes[0];

			/* len: txonly's packet length; rxdrop's mean over the interval. */
			printf(",\"sg\":1,\"len\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"gbps\":%.4f",
			       o.scenario == TXONLY ? (uint64_t)o.len : pkts ? bytes / pkts : 0, bytes,
			       secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0);
		}
		if (o.busy) {
			/* Ticks per nanosecond from the two snapshots, which read
			 * the counter and the clock together. */
			double tpns = secs > 0 ? (double)(snap_ticks[1] - snap_ticks[0]) / (secs * 1e9) : 0.0;

			printf(",\"busy_ns\":%.0f,\"loop_pkts\":%" PRIu64 ",\"polls\":%" PRIu64
			       ",\"busy_polls\":%" PRIu64 ",\"tsc_mhz\":%.1f,\"cpu_s\":%.4f",
			       tpns > 0 ? (double)busy_ticks / tpns : 0.0, (uint64_t)counted, polls, busy_polls,
			       tpns * 1e3, secs_between(&snap_cpu[0], &snap_cpu[1]));
		}
		if (busy_poll_asked()) {
			unsigned int napi_id = 0;
			socklen_t len = sizeof(napi_id);

			if (getsockopt(bk_fd(&b), SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi_id, &len))
				napi_id = 0;
			printf(",\"busy_poll_usecs\":%" PRIu32 ",\"busy_poll_budget\":%" PRIu32
			       ",\"prefer_busy_poll\":%d,\"napi_id\":%u",
			       bk_busy_poll.usecs, bk_busy_poll.budget, bk_busy_poll.prefer ? 1 : 0, napi_id);
		}
		printf("}\n");
	}
	bk_close(&b);
	return 0;
}
