/*
 * packet_test: the packet layer's C ABI (xsk_rs_txsock, xsk_rs_rxsock,
 * xsk_rs_bisock_create) with real packets.
 *
 *   packet_test NS_A IF_A NS_B IF_B skb|drv
 *
 * The xsk_rs sockets live on IF_A (in NS_A); an AF_PACKET socket on IF_B (in
 * NS_B) is the peer, as in abi_test.c. Every way in is checked byte by byte
 * against the test frames of harness.h:
 *
 *   TX   send, send_batch, send_packed, alloc + submit, seek + peek + commit +
 *        kick; too-long packets; a full TX (IF_A down: the kernel takes
 *        nothing) answers "no room" (0), never an error, and wait honours its
 *        timeout; every frame comes back once IF_A is up again.
 *   RX   recv (also cut short), recv_batch + release, recv_packed, seek + peek
 *        + commit; wait honours its timeout.
 *   bi   an echo: what the peer sends comes back through recv_batch and
 *        send_batch or alloc + submit; the socket (and the XDP program) lives
 *        until both halves are destroyed, in either order.
 *
 * Frame accounting holds throughout: TX free + reserved + in flight, and RX
 * free + held + in flight, equal the frames each half was given.
 *
 * Built by tests/c/run.sh with -std=c11 -Wall -Wextra -Werror -pedantic
 * against the installed header, and run plain, with ASan+UBSan and under
 * valgrind. The last line is "packet_test: N passed, M failed".
 */
#define _GNU_SOURCE /* setns, popen */

#include "harness.h"

#define FRAMES 64      /* per half */
#define FSIZE 2048
#define VETH_MAX (1500 + 18) /* veth's MTU plus the Ethernet header and a VLAN tag */
#define TIMEOUT_MS 200 /* the waits that must time out */
#define SLACK_MS slack_ms() /* ... and may overrun by this much */
#define BURST 32       /* half the RX frames: the fill ring never runs dry */

static struct {
	const char *ns_a, *if_a, *ns_b, *if_b;
	uint32_t mode;    /* XSK_RS_XDP_MODE_SKB or _DRV */
	int expect_state; /* what ip shows while an RX half is up */
	int peer;         /* AF_PACKET socket on if_b */
} ctx;

/* ---- fixtures ----------------------------------------------------------- */

static void small_cfg(xsk_rs_xdp_config *c)
{
	xsk_rs_xdp_config_init(c, sizeof(*c));
	c->rx_frames = FRAMES;
	c->tx_frames = FRAMES;
	c->frame_size = FSIZE;
	c->xdp_mode = ctx.mode;
}

/*
 * The creates, retrying while the queue is busy: the kernel releases a
 * closed socket's queue a moment later (see abi_test.c's create_socket).
 */
enum { TX_ONLY, RX_ONLY, BOTH };

static int up(int which, xsk_rs_txsock **tx, xsk_rs_rxsock **rx)
{
	uint64_t deadline = now_ms() + 2000;
	xsk_rs_xdp_config c;
	int rc;

	small_cfg(&c);
	do {
		if (which == TX_ONLY)
			rc = xsk_rs_txsock_create(ctx.if_a, 0, &c, tx);
		else if (which == RX_ONLY)
			rc = xsk_rs_rxsock_create(ctx.if_a, 0, &c, rx);
		else
			rc = xsk_rs_bisock_create(ctx.if_a, 0, &c, tx, rx);
	} while (rc == -EBUSY && now_ms() < deadline && (sleep_ms(5), 1));
	return CHECK(rc == 0, "create %s (rc %d%s%s)", which == TX_ONLY ? "txsock" : which == RX_ONLY ? "rxsock" : "bisock",
		     rc, rc ? ": " : "", rc ? errmsg() : "");
}

/* `ip link set dev IF_A up|down`, in NS_A. */
static int link_set(const char *state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip -n '%s' link set dev '%s' %s", ctx.ns_a, ctx.if_a, state);
	return CHECK(system(cmd) == 0, "%s", cmd);
}

/* The peer receives exactly frames first..first+n-1, in order and byte-exact. */
static void peer_gets(uint32_t first, uint32_t n, const char *what)
{
	uint8_t buf[MAX_FRAME];
	uint32_t i, ok = 0;
	int len = 0;

	for (i = 0; i < n; i++) {
		len = peer_recv(ctx.peer, buf, WAIT_MS);
		if (len < 0)
			break;
		ok += frame_matches(buf, (uint32_t)len, first + i);
	}
	CHECK(ok == n, "%s: the peer received frames %u..%u byte-exact (%u of %u%s)", what, first, first + n - 1, ok,
	      n, len < 0 ? ", then nothing" : "");
}

static void peer_burst(uint32_t first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!peer_send(ctx.peer, first + i))
			CHECK(0, "peer send %u: %s", first + i, strerror(errno));
}

/* TX frames reserved and not yet committed; seek(0) answers the same. */
static int tx_reserved(xsk_rs_txsock *tx)
{
	int r = xsk_rs_txsock_reserved_frames(tx);
	CHECK(r == xsk_rs_txsock_seek(tx, 0), "reserved_frames %d == seek(0) %d", r, xsk_rs_txsock_seek(tx, 0));
	return r;
}

static void tx_accounting(xsk_rs_txsock *tx, const char *when)
{
	int f = xsk_rs_txsock_free_frames(tx), r = tx_reserved(tx), i = xsk_rs_txsock_in_flight_frames(tx);

	CHECK(f >= 0 && r >= 0 && i >= 0 && f + r + i == FRAMES, "%s: TX free %d + reserved %d + in flight %d == %d",
	      when, f, r, i, FRAMES);
}

static void rx_accounting(xsk_rs_rxsock *rx, const char *when)
{
	int f = xsk_rs_rxsock_free_frames(rx), h = xsk_rs_rxsock_held_frames(rx),
	    i = xsk_rs_rxsock_in_flight_frames(rx);

	CHECK(f >= 0 && h >= 0 && i >= 0 && f + h + i == FRAMES, "%s: RX free %d + held %d + in flight %d == %d", when,
	      f, h, i, FRAMES);
}

/*
 * Takes back every TX frame: seek reclaims what the kernel completed, so once
 * all are back it reserves all FRAMES. (They stay reserved, to be reused by
 * the next send.) 1 when they all came back within WAIT_MS.
 */
static int tx_all_back(xsk_rs_txsock *tx)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	int n;

	while ((n = xsk_rs_txsock_seek(tx, FRAMES)) >= 0 && n < FRAMES && now_ms() < deadline)
		xsk_rs_txsock_wait(tx, 10);
	return n == FRAMES;
}

/* 50 ms, or XSK_RS_TEST_SLACK_MS (run.sh sets more under valgrind, whose
 * start-up and translation of each new path take longer than that). */
static uint64_t slack_ms(void)
{
	const char *v = getenv("XSK_RS_TEST_SLACK_MS");

	return v && *v ? strtoull(v, NULL, 10) : 50;
}

/* A wait that must time out: returns 0 after timeout_ms, give or take SLACK_MS. */
static void wait_times_out(int rc, uint64_t t0, const char *what)
{
	uint64_t took = now_ms() - t0;

	CHECK(rc == 0 && took >= TIMEOUT_MS && took <= TIMEOUT_MS + SLACK_MS,
	      "%s(%d) with nothing ready -> %d after %llu ms (want 0 after %d..%d ms)", what, TIMEOUT_MS, rc,
	      (unsigned long long)took, TIMEOUT_MS, (int)(TIMEOUT_MS + SLACK_MS));
}

/* ---- tests -------------------------------------------------------------- */

static void test_config(void)
{
	xsk_rs_xdp_config c;

	section("config");
	memset(&c, 0xa5, sizeof(c));
	CHECK_RC(xsk_rs_xdp_config_init(&c, sizeof(c)), 0);
	CHECK(c.sz == sizeof(c) && c.rx_frames == 4096 && c.tx_frames == 4096 && c.frame_size == 4096 &&
		      c.frame_headroom == 0 && c.rx_size == 0 && c.tx_size == 0 && c.fill_size == 0 && c.comp_size == 0 &&
		      c.xdp_mode == XSK_RS_XDP_MODE_AUTO && c.zero_copy == -1 && c.need_wakeup == 1 && c.huge_page == 0 &&
		      c.tx_budget == 0 && c.tx_metadata == 0 && c.multi_buffer == 0,
	      "xdp_config_init: 4096 frames of 4096 each way, sizes derived (0), auto, kernel's zero-copy choice, "
	      "need_wakeup");
}

static void test_tx(void)
{
	uint8_t frame[MAX_FRAME], packed[16 * MAX_FRAME], big[VETH_MAX + 1];
	uint32_t lens[16], seq = 0, i;
	xsk_rs_txsock *tx = NULL;
	xsk_rs_pkt pkts[16];
	xsk_rs_buf bufs[17];
	size_t off = 0;
	int n;

	section("tx: send, send_batch, send_packed, alloc + submit, seek + peek + commit");
	if (!up(TX_ONLY, &tx, NULL))
		return;
	peer_drain(ctx.peer);
	CHECK(xsk_rs_txsock_xdp_mode(tx) == (int)XSK_RS_XDP_MODE_NONE, "a TX-only socket attaches nothing (mode %d)",
	      xsk_rs_txsock_xdp_mode(tx));
	CHECK(xsk_rs_txsock_is_zerocopy(tx) == 0, "copy mode on veth");
	CHECK(xsk_rs_txsock_fd(tx) >= 0, "fd %d", xsk_rs_txsock_fd(tx));
	CHECK(xsk_rs_txsock_max_len(tx) == VETH_MAX, "max_len %d == MTU 1500 + 18", xsk_rs_txsock_max_len(tx));
	CHECK(xsk_rs_txsock_free_frames(tx) == FRAMES && xsk_rs_txsock_in_flight_frames(tx) == 0,
	      "all %d frames free at first", FRAMES);

	/* send: one packet, copied in, committed and kicked */
	for (i = 0; i < 8; i++, seq++) {
		make_frame(frame, seq, frame_len(seq));
		CHECK_RC(xsk_rs_txsock_send(tx, frame, frame_len(seq)), 1);
	}
	peer_gets(0, 8, "send");

	/* send_batch: 16 packets, one kick */
	for (i = 0; i < 16; i++) {
		make_frame(packed + i * MAX_FRAME, seq + i, frame_len(seq + i));
		pkts[i] = (xsk_rs_pkt){ .data = packed + i * MAX_FRAME, .len = frame_len(seq + i) };
	}
	CHECK_RC(xsk_rs_txsock_send_batch(tx, pkts, 16), 16);
	peer_gets(seq, 16, "send_batch");
	seq += 16;

	/* send_packed: 16 packets end to end */
	for (i = 0, off = 0; i < 16; i++) {
		lens[i] = frame_len(seq + i);
		make_frame(packed + off, seq + i, lens[i]);
		off += lens[i];
	}
	CHECK_RC(xsk_rs_txsock_send_packed(tx, packed, off, lens, 16), 16);
	peer_gets(seq, 16, "send_packed");
	seq += 16;

	/* alloc + submit: frames written in place */
	n = xsk_rs_txsock_alloc(tx, bufs, 16);
	CHECK(n == 16, "alloc(16) -> %d", n);
	for (i = 0; i < 16 && (int)i < n; i++) {
		CHECK(bufs[i].data && bufs[i].len == VETH_MAX, "buf %u: %u bytes to write", i, bufs[i].len);
		lens[i] = frame_len(seq + i);
		make_frame(bufs[i].data, seq + i, lens[i]);
	}
	tx_accounting(tx, "after alloc");
	CHECK(tx_reserved(tx) == 16, "alloc reserved 16");
	/* a send would fill and publish a frame the caller holds: refused */
	make_frame(frame, 999, 60);
	CHECK_RC(xsk_rs_txsock_send(tx, frame, 60), -EBUSY);
	pkts[0].data = frame;
	pkts[0].len = 60;
	CHECK_RC(xsk_rs_txsock_send_batch(tx, pkts, 1), -EBUSY);
	CHECK(tx_reserved(tx) == 16, "still 16 reserved after the refusals");
	CHECK_RC(xsk_rs_txsock_submit(tx, lens, 16), 0);
	peer_gets(seq, 16, "alloc + submit");
	seq += 16;

	/* seek + peek + commit + kick */
	n = xsk_rs_txsock_seek(tx, 8);
	CHECK(n == 8, "seek(8) -> %d", n);
	for (i = 0; i < 8; i++) {
		uint8_t *data = NULL;

		CHECK_RC(xsk_rs_txsock_peek(tx, i, frame_len(seq + i), &data), 0);
		if (data)
			make_frame(data, seq + i, frame_len(seq + i));
	}
	CHECK_RC(xsk_rs_txsock_commit(tx, 5), 0);
	CHECK(tx_reserved(tx) == 3, "3 left reserved after commit(5)");
	CHECK_RC(xsk_rs_txsock_commit(tx, 3), 0);
	CHECK_RC(xsk_rs_txsock_kick(tx), 0);
	peer_gets(seq, 8, "seek + peek + commit + kick");
	seq += 8;

	/* too long: refused before anything is queued; in a batch, after the ones before it */
	memset(big, 0, sizeof(big));
	make_frame(big, seq, MAX_FRAME);
	CHECK_RC(xsk_rs_txsock_send(tx, big, VETH_MAX + 1), -EMSGSIZE);
	pkts[0] = (xsk_rs_pkt){ .data = big, .len = VETH_MAX + 1 };
	CHECK_RC(xsk_rs_txsock_send_batch(tx, pkts, 1), -EMSGSIZE);
	make_frame(frame, seq, frame_len(seq));
	pkts[0] = (xsk_rs_pkt){ .data = frame, .len = frame_len(seq) };
	pkts[1] = (xsk_rs_pkt){ .data = big, .len = VETH_MAX + 1 };
	CHECK_RC(xsk_rs_txsock_send_batch(tx, pkts, 2), 1);
	CHECK(strstr(xsk_rs_last_error(), "bytes") != NULL, "the batch that stopped says why: %s", errmsg());
	peer_gets(seq, 1, "send_batch stops before a too-long packet");
	seq++;

	/* every frame comes back */
	CHECK(tx_all_back(tx), "every TX frame came back from the kernel (seek(%d) -> %d)", FRAMES, tx_reserved(tx));
	tx_accounting(tx, "the end");
	xsk_rs_txsock_destroy(tx);
}

/* IF_A down: the kernel takes nothing from the TX ring, so the frames run out. */
static void test_tx_full(void)
{
	uint8_t frame[MAX_FRAME];
	xsk_rs_txsock *tx = NULL;
	xsk_rs_pkt pkt;
	xsk_rs_buf buf;
	uint32_t sent = 0;
	uint64_t t0;
	int rc = 1;

	section("tx: full, then room again");
	if (!up(TX_ONLY, &tx, NULL))
		return;
	peer_drain(ctx.peer);
	if (!link_set("down")) {
		xsk_rs_txsock_destroy(tx);
		return;
	}
	while (sent < 2 * FRAMES) {
		make_frame(frame, sent, frame_len(sent));
		rc = xsk_rs_txsock_send(tx, frame, frame_len(sent));
		if (rc != 1)
			break;
		sent++;
	}
	CHECK(rc == 0 && sent == FRAMES, "send queued %u of %d frames, then answered %d (0: no room, not an error)",
	      sent, FRAMES, rc);
	make_frame(frame, sent, frame_len(sent));
	pkt = (xsk_rs_pkt){ .data = frame, .len = frame_len(sent) };
	CHECK_RC(xsk_rs_txsock_send_batch(tx, &pkt, 1), 0);
	CHECK_RC(xsk_rs_txsock_alloc(tx, &buf, 1), 0);
	CHECK_RC(xsk_rs_txsock_seek(tx, 1), 0);
	CHECK(xsk_rs_txsock_free_frames(tx) == 0 && xsk_rs_txsock_in_flight_frames(tx) == FRAMES,
	      "all %d frames in flight (free %d, in flight %d)", FRAMES, xsk_rs_txsock_free_frames(tx),
	      xsk_rs_txsock_in_flight_frames(tx));
	t0 = now_ms();
	wait_times_out(xsk_rs_txsock_wait(tx, TIMEOUT_MS), t0, "txsock_wait");
	t0 = now_ms();
	rc = xsk_rs_txsock_wait(tx, 0);
	CHECK(rc == 0 && now_ms() - t0 < SLACK_MS, "txsock_wait(0) only looks: %d", rc);

	link_set("up");
	t0 = now_ms();
	rc = xsk_rs_txsock_wait(tx, WAIT_MS);
	CHECK(rc == 1, "room again once %s is up: wait -> %d after %llu ms", ctx.if_a, rc,
	      (unsigned long long)(now_ms() - t0));
	peer_gets(0, FRAMES, "the frames queued while the link was down");
	CHECK(tx_all_back(tx), "every TX frame came back");
	tx_accounting(tx, "the end");
	xsk_rs_txsock_destroy(tx);
}

/* Waits until at least `want` packets are found; returns how many. */
static int rx_found(xsk_rs_rxsock *rx, uint32_t want)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	int n;

	while ((n = xsk_rs_rxsock_seek(rx, want)) >= 0 && (uint32_t)n < want && now_ms() < deadline)
		xsk_rs_rxsock_wait(rx, 10);
	return n;
}

/* Waits until a burst has arrived without finding (holding) any of it: a
 * packet ready, then a moment for the rest (veth delivers a burst at once). */
static void rx_arrived(xsk_rs_rxsock *rx)
{
	CHECK(xsk_rs_rxsock_wait(rx, WAIT_MS) == 1, "a packet arrived");
	usleep(50 * 1000);
}

static void test_rx(void)
{
	uint8_t buf[16 * MAX_FRAME];
	xsk_rs_rxsock *rx = NULL;
	xsk_rs_stats st;
	xsk_rs_pkt pkts[BURST];
	uint32_t lens[16], seq, got, ok, i;
	uint64_t t0, deadline;
	int n, state;

	section("rx: recv, recv_batch + release, recv_packed, seek + peek + commit");
	if (!up(RX_ONLY, NULL, &rx))
		return;
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == ctx.expect_state, "the XDP program is attached (ip shows %s)", xdp_state_name(state));
	CHECK(xsk_rs_rxsock_xdp_mode(rx) == (int)ctx.mode, "xdp_mode %d", xsk_rs_rxsock_xdp_mode(rx));
	CHECK(xsk_rs_rxsock_is_zerocopy(rx) == 0, "copy mode on veth");
	CHECK(xsk_rs_rxsock_in_flight_frames(rx) == FRAMES, "all %d frames lent to the kernel", FRAMES);
	rx_accounting(rx, "at first");

	/* nothing yet */
	CHECK_RC(xsk_rs_rxsock_recv(rx, buf, sizeof(buf)), 0);
	CHECK_RC(xsk_rs_rxsock_recv_batch(rx, pkts, BURST), 0);
	CHECK_RC(xsk_rs_rxsock_seek(rx, 8), 0);
	t0 = now_ms();
	wait_times_out(xsk_rs_rxsock_wait(rx, TIMEOUT_MS), t0, "rxsock_wait");

	/* recv: copied out, frame given back */
	seq = 0;
	peer_burst(seq, 8);
	CHECK_RC(xsk_rs_rxsock_wait(rx, WAIT_MS), 1);
	for (got = ok = 0, deadline = now_ms() + WAIT_MS; got < 8 && now_ms() < deadline;) {
		n = xsk_rs_rxsock_recv(rx, buf, sizeof(buf));
		if (n < 0)
			break;
		if (n == 0) {
			xsk_rs_rxsock_wait(rx, 10);
			continue;
		}
		ok += frame_matches(buf, (uint32_t)n, seq + got);
		got++;
	}
	CHECK(got == 8 && ok == 8, "recv: %u of 8 frames, %u byte-exact", got, ok);
	seq += 8;

	/* recv_batch + release: read in place */
	peer_burst(seq, 16);
	n = rx_found(rx, 16);
	CHECK(n == 16, "16 frames found (%d)", n);
	n = xsk_rs_rxsock_recv_batch(rx, pkts, BURST);
	CHECK(n == 16, "recv_batch -> %d", n);
	for (i = ok = 0; (int)i < n; i++)
		ok += frame_matches(pkts[i].data, pkts[i].len, seq + i);
	CHECK(ok == 16, "recv_batch: %u of 16 byte-exact in place", ok);
	CHECK(xsk_rs_rxsock_held_frames(rx) == 16, "16 frames held until release (%d)", xsk_rs_rxsock_held_frames(rx));
	rx_accounting(rx, "holding a batch");
	/* a copying receive would give back a held frame: refused until release */
	CHECK_RC(xsk_rs_rxsock_recv(rx, buf, sizeof(buf)), -EBUSY);
	CHECK_RC(xsk_rs_rxsock_recv_packed(rx, buf, sizeof(buf), lens, 16), -EBUSY);
	CHECK(frame_matches(pkts[0].data, pkts[0].len, seq), "recv_batch's first packet intact after the refusals");
	CHECK(xsk_rs_rxsock_held_frames(rx) == 16, "still 16 held (%d)", xsk_rs_rxsock_held_frames(rx));
	CHECK_RC(xsk_rs_rxsock_release(rx, 10), 0);
	CHECK(xsk_rs_rxsock_held_frames(rx) == 6, "6 held after release(10)");
	n = xsk_rs_rxsock_recv_batch(rx, pkts, BURST);
	CHECK(n == 6 && frame_matches(pkts[0].data, pkts[0].len, seq + 10),
	      "recv_batch again: the 6 not released, oldest first (%d)", n);
	CHECK_RC(xsk_rs_rxsock_release(rx, 6), 0);
	seq += 16;

	/* recv_packed: end to end */
	peer_burst(seq, 16);
	rx_arrived(rx); /* not found (held): the copying receives refuse held packets */
	n = xsk_rs_rxsock_recv_packed(rx, buf, sizeof(buf), lens, 16);
	CHECK(n == 16, "recv_packed -> %d", n);
	{
		size_t off = 0;

		for (i = ok = 0; (int)i < n; i++) {
			ok += frame_matches(buf + off, lens[i], seq + i);
			off += lens[i];
		}
	}
	CHECK(ok == 16, "recv_packed: %u of 16 byte-exact", ok);
	seq += 16;

	/* seek + peek + commit */
	peer_burst(seq, 8);
	n = rx_found(rx, 8);
	CHECK(n == 8, "seek(8) -> %d", n);
	for (i = ok = 0; (int)i < n; i++) {
		xsk_rs_pkt p = { 0 };

		if (xsk_rs_rxsock_peek(rx, i, &p) == 0)
			ok += frame_matches(p.data, p.len, seq + i);
	}
	CHECK(ok == 8, "peek: %u of 8 byte-exact", ok);
	CHECK_RC(xsk_rs_rxsock_peek(rx, 8, &pkts[0]), -EINVAL);
	CHECK_RC(xsk_rs_rxsock_commit(rx, 9), -EINVAL);
	CHECK(xsk_rs_rxsock_held_frames(rx) == 8, "a refused commit gives nothing back");
	CHECK_RC(xsk_rs_rxsock_commit(rx, 8), 0);
	CHECK(xsk_rs_rxsock_held_frames(rx) == 0, "commit(8) gave them back");
	seq += 8;

	/* recv into a buffer shorter than the frame: its length, and the bytes that fit */
	peer_burst(seq, 1);
	rx_arrived(rx);
	{
		uint8_t want[MAX_FRAME];

		make_frame(want, seq, frame_len(seq));
		n = xsk_rs_rxsock_recv(rx, buf, 20);
		CHECK(n == (int)frame_len(seq) && !memcmp(buf, want, 20),
		      "recv into 20 bytes: the frame's length %d, its first 20 bytes", n);
	}
	seq++;

	/* the frames given back receive again: more than FRAMES in all by now */
	for (uint32_t round = 0; round < 3; round++) {
		peer_burst(seq, BURST);
		rx_found(rx, BURST);
		n = xsk_rs_rxsock_recv_batch(rx, pkts, BURST);
		for (i = ok = 0; (int)i < n; i++)
			ok += frame_matches(pkts[i].data, pkts[i].len, seq + i);
		CHECK(n == BURST && ok == BURST, "round %u: %d frames, %u byte-exact", round, n, ok);
		xsk_rs_rxsock_release(rx, (uint32_t)(n > 0 ? n : 0));
		seq += BURST;
	}
	CHECK(seq > FRAMES, "%u frames received into %d", seq, FRAMES);
	rx_accounting(rx, "the end");
	CHECK(xsk_rs_rxsock_held_frames(rx) == 0 && xsk_rs_rxsock_in_flight_frames(rx) == FRAMES,
	      "every frame lent again");
	CHECK_RC(xsk_rs_rxsock_stats(rx, &st), 0);
	CHECK(st.rx_dropped == 0 && st.rx_ring_full == 0 && st.rx_invalid_descs == 0,
	      "no drops (rx_dropped %llu, ring_full %llu, invalid %llu)", (unsigned long long)st.rx_dropped,
	      (unsigned long long)st.rx_ring_full, (unsigned long long)st.rx_invalid_descs);
	xsk_rs_rxsock_destroy(rx);
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == XDP_NONE, "destroying the RX half detached the program (ip shows %s)", xdp_state_name(state));
}

/*
 * Echoes `count` frames from seq `first`: the peer sends BURST at a time, the
 * RX half reads them in place and the TX half sends them back, through
 * send_batch or alloc + submit; the peer reads them back.
 */
static void echo(xsk_rs_txsock *tx, xsk_rs_rxsock *rx, uint32_t first, uint32_t count, int use_alloc)
{
	uint32_t done = 0, bad_send = 0;

	while (done < count) {
		uint32_t burst = count - done < BURST ? count - done : BURST, echoed = 0;
		uint64_t deadline = now_ms() + WAIT_MS;

		peer_burst(first + done, burst);
		while (echoed < burst && now_ms() < deadline) {
			xsk_rs_pkt pkts[BURST];
			int n = xsk_rs_rxsock_recv_batch(rx, pkts, burst - echoed), sent = 0;

			if (n <= 0) {
				xsk_rs_rxsock_wait(rx, 10);
				continue;
			}
			while (sent < n && now_ms() < deadline) {
				int k;

				if (use_alloc) {
					xsk_rs_buf bufs[BURST];
					uint32_t lens[BURST];

					k = xsk_rs_txsock_alloc(tx, bufs, (uint32_t)(n - sent));
					for (int i = 0; i < k; i++) {
						memcpy(bufs[i].data, pkts[sent + i].data, pkts[sent + i].len);
						lens[i] = pkts[sent + i].len;
					}
					if (k > 0 && xsk_rs_txsock_submit(tx, lens, (uint32_t)k) != 0)
						k = -1;
				} else {
					/* A received packet is a packet to send: same struct. */
					k = xsk_rs_txsock_send_batch(tx, pkts + sent, (uint32_t)(n - sent));
				}
				if (k < 0) {
					bad_send++;
					break;
				}
				if (k == 0)
					xsk_rs_txsock_wait(tx, 10);
				sent += k;
			}
			xsk_rs_rxsock_release(rx, (uint32_t)n);
			echoed += (uint32_t)sent;
		}
		peer_gets(first + done, burst, use_alloc ? "echo by alloc + submit" : "echo by send_batch");
		done += burst;
		if (echoed < burst || bad_send)
			break;
	}
	CHECK(done == count && bad_send == 0, "echoed %u of %u frames (%u send errors)", done, count, bad_send);
}

static void test_bi(void)
{
	xsk_rs_txsock *tx = NULL;
	xsk_rs_rxsock *rx = NULL;
	int state;

	section("bi: echo, and the halves' lifetimes");
	if (!up(BOTH, &tx, &rx))
		return;
	peer_drain(ctx.peer);
	CHECK(xsk_rs_txsock_fd(tx) >= 0 && xsk_rs_txsock_fd(tx) == xsk_rs_rxsock_fd(rx), "one socket: fd %d and %d",
	      xsk_rs_txsock_fd(tx), xsk_rs_rxsock_fd(rx));
	CHECK(xsk_rs_txsock_xdp_mode(tx) == (int)ctx.mode && xsk_rs_rxsock_xdp_mode(rx) == (int)ctx.mode,
	      "both halves report the XDP mode");
	echo(tx, rx, 0, 4 * BURST + 5, 0);
	echo(tx, rx, 1000, 4 * BURST + 5, 1);
	CHECK(tx_all_back(tx), "every TX frame came back");
	tx_accounting(tx, "tx half at the end");
	rx_accounting(rx, "rx half at the end");

	/* The TX half goes first: the socket and its steering stay for the RX half. */
	xsk_rs_txsock_destroy(tx);
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == ctx.expect_state, "with the TX half gone the program stays (ip shows %s)", xdp_state_name(state));
	peer_burst(2000, 4);
	CHECK(rx_found(rx, 4) == 4, "the RX half still receives");
	CHECK_RC(xsk_rs_rxsock_commit(rx, 4), 0);
	xsk_rs_rxsock_destroy(rx);
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == XDP_NONE, "with both halves gone the program is detached (ip shows %s)", xdp_state_name(state));

	/* The other order. */
	if (!up(BOTH, &tx, &rx))
		return;
	xsk_rs_rxsock_destroy(rx);
	peer_drain(ctx.peer);
	{
		uint8_t frame[MAX_FRAME];

		make_frame(frame, 3000, frame_len(3000));
		CHECK_RC(xsk_rs_txsock_send(tx, frame, frame_len(3000)), 1);
		peer_gets(3000, 1, "the TX half sends with the RX half gone");
	}
	xsk_rs_txsock_destroy(tx);
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == XDP_NONE, "then nothing is left (ip shows %s)", xdp_state_name(state));
}

int main(int argc, char **argv)
{
	int fd_a, fd_b;

	harness_name = "packet_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pair_args(argc, argv, &ctx.ns_a, &ctx.if_a, &ctx.ns_b, &ctx.if_b, &ctx.mode, NULL))
		return 2;
	ctx.expect_state = !strcmp(argv[5], "skb") ? XDP_GENERIC : XDP_NATIVE;
	fd_a = open_netns(ctx.ns_a);
	fd_b = open_netns(ctx.ns_b);
	enter_netns(fd_b, ctx.ns_b);
	ctx.peer = peer_open(ctx.if_b, PEER_RCVBUF);
	enter_netns(fd_a, ctx.ns_a);
	printf("packet_test: libxsk_rs %s, %s/%s <-> %s/%s, XDP mode %s\n", xsk_rs_version(), ctx.ns_a, ctx.if_a,
	       ctx.ns_b, ctx.if_b, argv[5]);

	test_config();
	test_tx();
	test_tx_full();
	test_rx();
	test_bi();

	close(ctx.peer);
	close(fd_a);
	close(fd_b);
	printf("packet_test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
