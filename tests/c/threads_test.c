/*
 * threads_test.c: the header's threading contract, exercised from C. First,
 * one socket on IF_A is driven by three threads at once, as the header allows:
 *
 *   rx thread     fill + RX rings; sleeps in xsk_rs_socket_poll(POLLIN)
 *   tx thread     TX + completion rings; xsk_rs_socket_kick after each batch
 *   watch thread  xsk_rs_socket_stats, xsk_rs_socket_fd/_xdp_mode, the UMEM
 *                 getters and xsk_rs_umem_data, over and over
 *
 * while a peer thread in NS_B feeds IF_B with numbered frames (paced by what
 * the rx thread has taken, so the fill ring never runs dry) and the main
 * thread reads back every frame the tx thread sent (which paces itself by
 * what main has read, so the peer's socket buffer never overflows). Every frame is checked
 * byte by byte and in order, in both directions, and at the end every XDP
 * statistics counter but tx_ring_empty_descs must be 0.
 *
 * Then the same traffic through the packet layer: a bi socket
 * (xsk_rs_bisock_create) whose RX half runs on one thread (recv_batch,
 * release, rxsock_wait) and whose TX half on another (send_batch and alloc +
 * submit, txsock_wait), with no lock between them, as the header allows.
 *
 * Threads record their results; only the main thread runs CHECKs.
 *
 * Usage: threads_test NS_A IF_A NS_B IF_B skb|drv   (as root; tests/c/run.sh)
 */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#define FRAMES 4096
#define FSIZE 4096
#define RING 2048
#define LEND 1024 /* half the fill ring, as the header advises */
#define COUNT 20000 /* frames each way */
#define BATCH 64
#define AHEAD 512 /* frames the peer may send ahead of what rx took */
#define PCOUNT 5000 /* frames each way through the bi socket */
#define PFRAMES 1024 /* frames of each half: twice AHEAD */

struct run {
	xsk_rs_umem *umem;
	xsk_rs_socket *sock;
	xsk_rs_txsock *ptx; /* the bi socket's halves */
	xsk_rs_rxsock *prx;
	unsigned count; /* frames each way */
	int peer;
	atomic_uint rx_taken; /* frames the rx thread has taken so far */
	atomic_uint peer_got; /* frames the main thread has read back at the peer */
	atomic_int rx_ready; /* the rx thread has lent its frames to the fill ring */
	atomic_int done;
	/* results, read by main after the joins */
	unsigned rx_bad, rx_first_bad, rx_got, rx_fill_short, rx_errors;
	unsigned tx_sent, tx_completed, tx_bad_comp, tx_errors;
	unsigned peer_sent;
	unsigned long watch_rounds, watch_bad;
};

static void *rx_thread(void *arg)
{
	struct run *r = arg;
	xsk_rs_fill *fill = xsk_rs_umem_fill(r->umem);
	xsk_rs_rx *rx = xsk_rs_socket_rx(r->sock);
	uint64_t deadline = now_ms() + 4 * WAIT_MS;
	uint64_t addrs[BATCH];
	xsk_rs_desc d[BATCH];

	for (uint32_t i = 0; i < LEND; i += BATCH) {
		for (uint32_t j = 0; j < BATCH; j++)
			addrs[j] = (uint64_t)(i + j) * FSIZE;
		if (xsk_rs_fill_put(fill, addrs, BATCH) != BATCH)
			r->rx_fill_short++; /* a negative errno too */
	}
	atomic_store(&r->rx_ready, 1);
	while (r->rx_got < COUNT && now_ms() < deadline) {
		int got = xsk_rs_rx_take(rx, d, BATCH);
		uint32_t n = got > 0 ? (uint32_t)got : 0;

		if (got < 0) {
			r->rx_errors++;
			break;
		}
		if (n == 0) {
			if (xsk_rs_socket_poll(r->sock, POLLIN, 100) < 0)
				r->rx_errors++;
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *f = xsk_rs_umem_data(r->umem, d[i].addr);
			uint32_t seq = r->rx_got + i;

			if (!f || d[i].len != frame_len(seq) || !frame_matches(f, d[i].len, seq)) {
				if (!r->rx_bad++)
					r->rx_first_bad = seq;
			}
			addrs[i] = d[i].addr - d[i].addr % FSIZE;
		}
		if (xsk_rs_fill_put(fill, addrs, n) != got)
			r->rx_fill_short++;
		r->rx_got += n;
		atomic_store(&r->rx_taken, r->rx_got);
	}
	return NULL;
}

static void *tx_thread(void *arg)
{
	struct run *r = arg;
	xsk_rs_tx *tx = xsk_rs_socket_tx(r->sock);
	xsk_rs_comp *comp = xsk_rs_umem_comp(r->umem);
	uint64_t deadline = now_ms() + 4 * WAIT_MS;
	uint64_t free_frames[FRAMES - LEND], done[BATCH];
	uint32_t nfree = 0;
	xsk_rs_desc d[BATCH];

	/* Frames [LEND, FRAMES) are TX's own. */
	for (uint32_t i = LEND; i < FRAMES; i++)
		free_frames[nfree++] = (uint64_t)i * FSIZE;
	while (r->tx_completed < COUNT && now_ms() < deadline) {
		uint32_t n = 0, c;
		int rc;

		/* Stay AHEAD frames ahead of the reader: the peer's socket buffer
		 * would drop what it cannot hold. */
		while (n < BATCH && nfree > 0 && r->tx_sent + n < COUNT &&
		       r->tx_sent + n - atomic_load(&r->peer_got) < AHEAD) {
			uint32_t seq = r->tx_sent + n, len = frame_len(seq);
			uint64_t addr = free_frames[--nfree];

			make_frame(xsk_rs_umem_data(r->umem, addr), seq, len);
			d[n++] = (xsk_rs_desc){ .addr = addr, .len = len };
		}
		if (n > 0) {
			uint32_t put;

			if ((rc = xsk_rs_tx_put(tx, d, n)) < 0) {
				r->tx_errors++;
				break;
			}
			put = (uint32_t)rc;
			/* What did not fit goes back to the pool, last first. */
			for (uint32_t i = n; i > put; i--)
				free_frames[nfree++] = d[i - 1].addr;
			r->tx_sent += put;
		}
		if ((rc = xsk_rs_tx_needs_wakeup(tx)) < 0 || (rc > 0 && xsk_rs_socket_kick(r->sock) < 0))
			r->tx_errors++;
		if ((rc = xsk_rs_comp_take(comp, done, BATCH)) < 0) {
			r->tx_errors++;
			break;
		}
		c = (uint32_t)rc;
		for (uint32_t i = 0; i < c; i++) {
			if (done[i] < (uint64_t)LEND * FSIZE || done[i] >= (uint64_t)FRAMES * FSIZE || done[i] % FSIZE)
				r->tx_bad_comp++;
			else
				free_frames[nfree++] = done[i];
		}
		r->tx_completed += c;
		if (c == 0 && n == 0)
			sleep_ms(1);
	}
	return NULL;
}

static void *watch_thread(void *arg)
{
	struct run *r = arg;

	while (!atomic_load(&r->done)) {
		xsk_rs_stats st;

		if (xsk_rs_socket_stats(r->sock, &st) != 0 || xsk_rs_socket_fd(r->sock) < 0 ||
		    xsk_rs_socket_xdp_mode(r->sock) < 0 || xsk_rs_umem_frame_size(r->umem) != FSIZE ||
		    xsk_rs_umem_frame_count(r->umem) != FRAMES || !xsk_rs_umem_area(r->umem) ||
		    xsk_rs_umem_data(r->umem, (uint64_t)(FRAMES - 1) * FSIZE) == NULL ||
		    xsk_rs_umem_fill(r->umem) == NULL || xsk_rs_socket_tx(r->sock) == NULL)
			r->watch_bad++;
		r->watch_rounds++;
		sleep_ms(1);
	}
	return NULL;
}

static void *peer_thread(void *arg)
{
	struct run *r = arg;
	uint64_t deadline = now_ms() + 4 * WAIT_MS;

	/* Before the fill ring has frames, every frame would be dropped. */
	while (!atomic_load(&r->rx_ready) && now_ms() < deadline)
		sleep_ms(1);
	while (r->peer_sent < r->count && now_ms() < deadline) {
		if (r->peer_sent - atomic_load(&r->rx_taken) >= AHEAD) {
			sleep_ms(1);
			continue;
		}
		if (!peer_send(r->peer, r->peer_sent))
			break;
		r->peer_sent++;
	}
	return NULL;
}

/* Reads the tx thread's frames at the peer, in order; returns how many matched. */
static unsigned peer_read_back(struct run *r, unsigned *first_bad)
{
	uint8_t buf[MAX_FRAME];
	unsigned good = 0;

	for (uint32_t seq = 0; seq < r->count; seq++) {
		/* peer_recv skips the peer thread's own frames (outgoing). */
		int n = peer_recv(r->peer, buf, WAIT_MS);

		if (n < 0)
			break;
		if ((uint32_t)n == frame_len(seq) && frame_matches(buf, (uint32_t)n, seq))
			good++;
		else if (*first_bad == r->count)
			*first_bad = seq;
		atomic_store(&r->peer_got, seq + 1);
	}
	return good;
}

/* ---- the packet layer: a bi socket's halves on two threads -------------- */

static void *pkt_rx_thread(void *arg)
{
	struct run *r = arg;
	uint64_t deadline = now_ms() + 4 * WAIT_MS;
	xsk_rs_pkt pkts[BATCH];

	while (r->rx_got < r->count && now_ms() < deadline) {
		int got = xsk_rs_rxsock_recv_batch(r->prx, pkts, BATCH);

		if (got < 0) {
			r->rx_errors++;
			break;
		}
		if (got == 0) {
			if (xsk_rs_rxsock_wait(r->prx, 100) < 0)
				r->rx_errors++;
			continue;
		}
		for (int i = 0; i < got; i++) {
			uint32_t seq = r->rx_got + (uint32_t)i;

			if (pkts[i].len != frame_len(seq) || !frame_matches(pkts[i].data, pkts[i].len, seq)) {
				if (!r->rx_bad++)
					r->rx_first_bad = seq;
			}
		}
		if (xsk_rs_rxsock_release(r->prx, (uint32_t)got) != 0)
			r->rx_errors++;
		r->rx_got += (uint32_t)got;
		atomic_store(&r->rx_taken, r->rx_got);
	}
	return NULL;
}

/* Sends frames r->tx_sent.. : odd batches by send_batch, even ones by alloc + submit. */
static void *pkt_tx_thread(void *arg)
{
	static uint8_t frames[BATCH][MAX_FRAME];
	struct run *r = arg;
	uint64_t deadline = now_ms() + 4 * WAIT_MS;
	unsigned round = 0;

	while (r->tx_sent < r->count && now_ms() < deadline) {
		uint32_t n = 0;
		int rc;

		while (n < BATCH && r->tx_sent + n < r->count && r->tx_sent + n - atomic_load(&r->peer_got) < AHEAD)
			n++;
		if (n == 0) {
			sleep_ms(1);
			continue;
		}
		if (round++ % 2) {
			xsk_rs_pkt pkts[BATCH];

			for (uint32_t i = 0; i < n; i++) {
				uint32_t seq = r->tx_sent + i;

				make_frame(frames[i], seq, frame_len(seq));
				pkts[i] = (xsk_rs_pkt){ .data = frames[i], .len = frame_len(seq) };
			}
			rc = xsk_rs_txsock_send_batch(r->ptx, pkts, n);
		} else {
			xsk_rs_buf bufs[BATCH];
			uint32_t lens[BATCH];

			rc = xsk_rs_txsock_alloc(r->ptx, bufs, n);
			for (int i = 0; i < rc; i++) {
				uint32_t seq = r->tx_sent + (uint32_t)i;

				lens[i] = frame_len(seq);
				make_frame(bufs[i].data, seq, lens[i]);
			}
			if (rc > 0 && xsk_rs_txsock_submit(r->ptx, lens, (uint32_t)rc) != 0)
				rc = -1;
		}
		if (rc < 0) {
			r->tx_errors++;
			break;
		}
		r->tx_sent += (uint32_t)rc;
		/* No room: wait for the kernel to give frames back. */
		if (rc == 0 && xsk_rs_txsock_wait(r->ptx, 100) < 0)
			r->tx_errors++;
	}
	return NULL;
}

/* The bi socket's halves on two threads, the peer on a third, main reading back. */
static void packet_layer(const char *ifname, uint32_t mode, int peer)
{
	struct run r = { .peer = peer, .count = PCOUNT };
	pthread_t t_rx, t_tx, t_peer;
	unsigned back, back_bad = PCOUNT;
	xsk_rs_xdp_config cfg;
	xsk_rs_stats st = { 0 };
	uint64_t t0;
	int f, h, i;

	xsk_rs_xdp_config_init(&cfg, sizeof(cfg));
	cfg.rx_frames = cfg.tx_frames = PFRAMES;
	cfg.frame_size = 2048;
	cfg.xdp_mode = mode;
	CHECK_RC(xsk_rs_bisock_create(ifname, 0, &cfg, &r.ptx, &r.prx), 0);
	if (!r.ptx)
		return;
	peer_drain(r.peer);
	atomic_store(&r.rx_ready, 1); /* the RX half lent all its frames at creation */

	t0 = now_ms();
	pthread_create(&t_rx, NULL, pkt_rx_thread, &r);
	pthread_create(&t_tx, NULL, pkt_tx_thread, &r);
	pthread_create(&t_peer, NULL, peer_thread, &r);
	back = peer_read_back(&r, &back_bad);
	pthread_join(t_peer, NULL);
	pthread_join(t_tx, NULL);
	pthread_join(t_rx, NULL);
	printf("threads_test: bi socket, %u frames each way in %llu ms\n", PCOUNT,
	       (unsigned long long)(now_ms() - t0));

	CHECK(r.peer_sent == PCOUNT, "bi: the peer sent %u of %u frames", r.peer_sent, PCOUNT);
	CHECK(r.rx_got == PCOUNT && r.rx_errors == 0, "bi: the RX half's thread received %u of %u (%u errors)",
	      r.rx_got, PCOUNT, r.rx_errors);
	CHECK(r.rx_bad == 0, "bi: every received frame in order and byte-exact (%u bad, first seq %u)", r.rx_bad,
	      r.rx_first_bad);
	CHECK(r.tx_sent == PCOUNT && r.tx_errors == 0, "bi: the TX half's thread sent %u of %u (%u errors)", r.tx_sent,
	      PCOUNT, r.tx_errors);
	CHECK(back == PCOUNT, "bi: the peer read back %u of %u in order and byte-exact (first bad %u)", back, PCOUNT,
	      back_bad);
	/* The halves came to main through the joins. */
	f = xsk_rs_rxsock_free_frames(r.prx);
	h = xsk_rs_rxsock_held_frames(r.prx);
	i = xsk_rs_rxsock_in_flight_frames(r.prx);
	CHECK(f + h + i == PFRAMES && h == 0, "bi: RX free %d + held %d + in flight %d == %d", f, h, i, PFRAMES);
	f = xsk_rs_txsock_free_frames(r.ptx);
	h = xsk_rs_txsock_seek(r.ptx, 0);
	i = xsk_rs_txsock_in_flight_frames(r.ptx);
	CHECK(f + h + i == PFRAMES && h == 0, "bi: TX free %d + reserved %d + in flight %d == %d", f, h, i, PFRAMES);
	CHECK_RC(xsk_rs_rxsock_stats(r.prx, &st), 0);
	CHECK(st.rx_dropped == 0 && st.rx_invalid_descs == 0 && st.tx_invalid_descs == 0 && st.rx_ring_full == 0,
	      "bi: no drops and no invalid descriptors (rx_dropped %llu, rx_invalid %llu, tx_invalid %llu, ring_full "
	      "%llu)",
	      (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_invalid_descs,
	      (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.rx_ring_full);
	xsk_rs_txsock_destroy(r.ptx);
	xsk_rs_rxsock_destroy(r.prx);
}

int main(int argc, char **argv)
{
	struct run r = { .peer = -1, .count = COUNT };
	xsk_rs_socket_config scfg;
	xsk_rs_umem_config ucfg;
	pthread_t t_rx, t_tx, t_watch, t_peer;
	unsigned back, back_bad = COUNT;
	xsk_rs_stats st = { 0 };
	const char *ns_a, *if_a, *ns_b, *if_b;
	uint32_t mode;
	uint64_t t0;
	int fd_a, fd_b;

	harness_name = "threads_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pair_args(argc, argv, &ns_a, &if_a, &ns_b, &if_b, &mode, NULL))
		return 2;
	fd_a = open_netns(ns_a);
	fd_b = open_netns(ns_b);
	enter_netns(fd_b, ns_b);
	r.peer = peer_open(if_b, PEER_RCVBUF);
	enter_netns(fd_a, ns_a);

	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = FRAMES;
	ucfg.frame_size = FSIZE;
	ucfg.fill_size = RING;
	ucfg.comp_size = RING;
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.rx_size = RING;
	scfg.tx_size = RING;
	scfg.xdp_mode = mode;
	CHECK_RC(xsk_rs_umem_create(&r.umem, &ucfg), 0);
	if (r.umem)
		CHECK_RC(xsk_rs_socket_create(&r.sock, if_a, 0, r.umem, &scfg), 0);
	if (!r.sock)
		goto out;
	peer_drain(r.peer);

	t0 = now_ms();
	pthread_create(&t_watch, NULL, watch_thread, &r);
	pthread_create(&t_rx, NULL, rx_thread, &r);
	pthread_create(&t_tx, NULL, tx_thread, &r);
	pthread_create(&t_peer, NULL, peer_thread, &r);
	back = peer_read_back(&r, &back_bad);
	pthread_join(t_peer, NULL);
	pthread_join(t_tx, NULL);
	pthread_join(t_rx, NULL);
	atomic_store(&r.done, 1);
	pthread_join(t_watch, NULL);
	printf("threads_test: %s mode, %u frames each way in %llu ms; watch thread made %lu rounds\n", argv[5],
	       COUNT, (unsigned long long)(now_ms() - t0), r.watch_rounds);

	CHECK(r.rx_fill_short == 0, "every fill_put queued all its frames (%u short)", r.rx_fill_short);
	CHECK(r.peer_sent == COUNT, "the peer sent %u of %u frames", r.peer_sent, COUNT);
	CHECK(r.rx_got == COUNT && r.rx_errors == 0, "rx thread took %u of %u frames (%u poll errors)", r.rx_got,
	      COUNT, r.rx_errors);
	CHECK(r.rx_bad == 0, "every received frame in order and byte-exact (%u bad, first seq %u)", r.rx_bad,
	      r.rx_first_bad);
	CHECK(r.tx_sent == COUNT && r.tx_completed == COUNT && r.tx_errors == 0,
	      "tx thread sent %u and got %u completions of %u (%u kick errors)", r.tx_sent, r.tx_completed, COUNT,
	      r.tx_errors);
	CHECK(r.tx_bad_comp == 0, "every completion is a TX frame (%u not)", r.tx_bad_comp);
	CHECK(back == COUNT, "the peer read back %u of %u sent frames in order and byte-exact (first bad %u)", back,
	      COUNT, back_bad);
	CHECK(r.watch_rounds > 0 && r.watch_bad == 0, "the watch thread's %lu rounds all answered (%lu did not)",
	      r.watch_rounds, r.watch_bad);
	CHECK_RC(xsk_rs_socket_stats(r.sock, &st), 0);
	CHECK(st.rx_dropped == 0 && st.rx_invalid_descs == 0 && st.tx_invalid_descs == 0 && st.rx_ring_full == 0 &&
		      st.rx_fill_ring_empty_descs == 0,
	      "no drops and no invalid descriptors (rx_dropped %llu, rx_invalid %llu, tx_invalid %llu, ring_full %llu, "
	      "fill_empty %llu)",
	      (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_invalid_descs,
	      (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.rx_ring_full,
	      (unsigned long long)st.rx_fill_ring_empty_descs);
out:
	xsk_rs_socket_destroy(r.sock);
	CHECK_RC(xsk_rs_umem_destroy(r.umem), 0);
	packet_layer(if_a, scfg.xdp_mode, r.peer);
	close(r.peer);
	close(fd_a);
	close(fd_b);
	printf("threads_test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
