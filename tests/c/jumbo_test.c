/*
 * jumbo_test: multi-buffer (jumbo frames) through the C ABI, with real
 * packets over a veth pair whose ends carry MTU 9000.
 *
 *   jumbo_test NS_A IF_A NS_B IF_B skb|drv
 *
 * run.sh makes that pair for this test alone (the other tests expect MTU
 * 1500). The xsk_rs sockets live on IF_A; an AF_PACKET socket on IF_B is the
 * peer, sending and receiving 9000- and 9014-byte test frames (tests/c/frame.h
 * layout) mixed with small ones. Checked byte by byte:
 *
 *   chains   xsk_rs_desc_chain_len on descriptor arrays.
 *   rings    a UMEM and a socket bound with XSK_RS_BIND_SG, 2 KiB and 4 KiB
 *            frames: RX through xsk_rs_rx_peek_packets (whole chains only;
 *            each segment a full frame but the last), TX through
 *            xsk_rs_tx_put_packets (chains of 2048- and 3000-byte segments;
 *            a put that would end inside a chain is -EINVAL); a peek whose
 *            max is below a chain's length is -ENOBUFS naming it. Every
 *            descriptor's frame goes back to the fill ring or comes back on
 *            the completion ring, once.
 *   packets  xsk_rs_xdp_config.multi_buffer: recv_packet shows the segments
 *            in place and release gives them back together; recv gathers;
 *            send sends a 9014-byte packet as a chain; too few segments is
 *            -ENOBUFS and the packet stays; free + held + in flight always
 *            equals the frames. Without multi_buffer, 2 KiB frames on MTU
 *            9000 are refused with -EMSGSIZE naming the MTU.
 *
 * Built by tests/c/run.sh with -std=c11 -Wall -Wextra -Werror -pedantic
 * against the installed header, and run plain, with ASan+UBSan and under
 * valgrind. The last line is "jumbo_test: N passed, M failed".
 */
#define _GNU_SOURCE /* setns, popen */

#include "harness.h"

#define MTU 9000
#define JUMBO_MAX (MTU + 14) /* the longest untagged frame */
#define HEADROOM 256         /* XDP_PACKET_HEADROOM: copy mode's RX data starts this far into a frame */
#define RING_FRAMES 512      /* ring tests: 0..255 RX, 256..511 TX */
#define PKT_FRAMES 64        /* packet tests: per half */

static struct {
	const char *ns_a, *if_a, *ns_b, *if_b;
	uint32_t mode;
	int peer;
} ctx;

/* The length of jumbo test packet `seq`: mostly jumbo, every third small. */
static uint32_t jumbo_len(uint32_t seq)
{
	switch (seq % 6) {
	case 1:
		return 60 + seq % 100;
	case 4:
		return 1500;
	case 3:
		return JUMBO_MAX;
	default:
		return MTU;
	}
}

static int jumbo_matches(const uint8_t *f, uint32_t len, uint32_t seq)
{
	static uint8_t want[JUMBO_MAX];

	if (len != jumbo_len(seq))
		return 0;
	make_frame(want, seq, len);
	return memcmp(f, want, len) == 0;
}

static void peer_send_jumbo(uint32_t first, uint32_t n)
{
	static uint8_t buf[JUMBO_MAX];

	for (uint32_t s = first; s < first + n; s++) {
		make_frame(buf, s, jumbo_len(s));
		if (send(ctx.peer, buf, jumbo_len(s), 0) != (ssize_t)jumbo_len(s))
			CHECK(0, "peer send %u (%u bytes): %s", s, jumbo_len(s), strerror(errno));
	}
}

/* The peer receives jumbo test packets first..first+n-1, in order and byte-exact. */
static void peer_gets_jumbo(uint32_t first, uint32_t n, const char *what)
{
	static uint8_t buf[JUMBO_MAX + 1];
	uint32_t i, ok = 0;
	int len = 0;

	for (i = 0; i < n; i++) {
		len = peer_recv_cap(ctx.peer, buf, JUMBO_MAX, WAIT_MS);
		if (len < 0)
			break;
		if (jumbo_matches(buf, (uint32_t)len, first + i))
			ok++;
		else
			printf("  peer: packet %u: got seq %u, %d bytes (want %u)\n", first + i, frame_seq(buf), len,
			       jumbo_len(first + i));
	}
	CHECK(ok == n, "%s: the peer received packets %u..%u byte-exact and in order (%u of %u%s)", what, first,
	      first + n - 1, ok, n, len < 0 ? ", then nothing" : "");
}

/* ---- chains ------------------------------------------------------------- */

static void test_chain_len(void)
{
	xsk_rs_desc d[5] = {
		{ .addr = 0, .len = 2048, .options = XSK_RS_DESC_CONTD },
		{ .addr = 2048, .len = 2048, .options = XSK_RS_DESC_CONTD },
		{ .addr = 4096, .len = 100, .options = 0 },
		{ .addr = 6144, .len = 60, .options = 0 },
		{ .addr = 8192, .len = 60, .options = XSK_RS_DESC_CONTD },
	};

	section("xsk_rs_desc_chain_len");
	CHECK(xsk_rs_desc_chain_len(d, 5) == 3, "a chain of three, then more: 3");
	CHECK(xsk_rs_desc_chain_len(d + 3, 2) == 1, "a single descriptor: 1");
	CHECK(xsk_rs_desc_chain_len(d + 4, 1) == 0, "a chain that goes on past the array: 0");
	CHECK(xsk_rs_desc_chain_len(d, 2) == 0, "the first two of a chain of three: 0");
	CHECK(xsk_rs_desc_chain_len(d, 0) == 0, "no descriptors: 0");
	CHECK_RC(xsk_rs_desc_chain_len(NULL, 1), -EINVAL);
}

/* ---- rings -------------------------------------------------------------- */

struct end {
	xsk_rs_umem *umem;
	xsk_rs_socket *sock;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	uint32_t fsize;
	uint64_t free_tx[RING_FRAMES / 2]; /* TX frames not in flight */
	uint32_t nfree;
};

static int end_up(struct end *e, uint32_t fsize)
{
	uint64_t deadline = now_ms() + 2000, addrs[RING_FRAMES / 2];
	xsk_rs_umem_config uc;
	xsk_rs_socket_config sc;
	int rc;

	memset(e, 0, sizeof(*e));
	xsk_rs_umem_config_init(&uc, sizeof(uc));
	uc.frame_count = RING_FRAMES;
	uc.frame_size = fsize;
	uc.fill_size = RING_FRAMES;
	uc.comp_size = RING_FRAMES;
	rc = xsk_rs_umem_create(&e->umem, &uc);
	if (!CHECK(rc == 0, "umem of %u frames of %u (rc %d%s%s)", RING_FRAMES, fsize, rc, rc ? ": " : "",
		   rc ? errmsg() : ""))
		return 0;
	xsk_rs_socket_config_init(&sc, sizeof(sc));
	sc.rx_size = sc.tx_size = RING_FRAMES;
	sc.bind_flags = XSK_RS_BIND_NEED_WAKEUP | XSK_RS_BIND_SG;
	sc.xdp_mode = ctx.mode;
	/* The kernel releases a closed socket's queue a moment later. */
	while ((rc = xsk_rs_socket_create(&e->sock, ctx.if_a, 0, e->umem, &sc)) == -EBUSY && now_ms() < deadline)
		sleep_ms(5);
	if (!CHECK(rc == 0, "socket with XSK_RS_BIND_SG on %s, MTU %d, %u-byte frames (rc %d%s%s)", ctx.if_a, MTU,
		   fsize, rc, rc ? ": " : "", rc ? errmsg() : "")) {
		xsk_rs_umem_destroy(e->umem);
		e->umem = NULL;
		return 0;
	}
	e->fill = xsk_rs_umem_fill(e->umem);
	e->comp = xsk_rs_umem_comp(e->umem);
	e->rx = xsk_rs_socket_rx(e->sock);
	e->tx = xsk_rs_socket_tx(e->sock);
	e->fsize = fsize;
	for (uint32_t i = 0; i < RING_FRAMES / 2; i++) {
		addrs[i] = (uint64_t)i * fsize;
		e->free_tx[i] = (uint64_t)(RING_FRAMES / 2 + i) * fsize;
	}
	e->nfree = RING_FRAMES / 2;
	return CHECK(RING_COUNT(xsk_rs_fill_put(e->fill, addrs, RING_FRAMES / 2)) == RING_FRAMES / 2,
		     "all %u RX frames on the fill ring", RING_FRAMES / 2);
}

static void end_down(struct end *e)
{
	xsk_rs_socket_destroy(e->sock);
	if (e->umem)
		CHECK_RC(xsk_rs_umem_destroy(e->umem), 0);
	memset(e, 0, sizeof(*e));
}

static void ring_rx(uint32_t fsize)
{
	static uint8_t pkt[JUMBO_MAX];
	const uint32_t n = 24, room = fsize - HEADROOM;
	uint32_t got = 0, good = 0, segs_ok = 0, descs = 0, refilled = 0;
	uint64_t deadline;
	xsk_rs_stats st;
	struct end e;

	printf("ring RX, %u-byte frames (%u bytes of packet each)\n", fsize, room);
	if (!end_up(&e, fsize))
		return;
	peer_send_jumbo(0, n);
	/* Packet 0 is 9000 bytes: a chain of ceil(9000 / room) descriptors. A
	 * max below that is -ENOBUFS naming the length, not a 0 that reads as
	 * "empty" for ever; nothing is taken. */
	{
		uint32_t idx = 0, segs = (MTU + room - 1) / room;
		char want[64];
		int c = 0;

		snprintf(want, sizeof(want), "chain of %u descriptors, more than the 2", segs);
		deadline = now_ms() + WAIT_MS;
		while ((c = xsk_rs_rx_peek_packets(e.rx, 2, &idx)) == 0 && now_ms() < deadline)
			xsk_rs_socket_poll(e.sock, POLLIN, 20);
		CHECK(c == -ENOBUFS && strstr(errmsg(), want), "rx_peek_packets max 2 on a %u-descriptor chain: %d (%s)",
		      segs, c, errmsg());
	}
	deadline = now_ms() + WAIT_MS;
	while (got < n && now_ms() < deadline) {
		uint32_t idx, k, at = 0;
		uint64_t addrs[RING_FRAMES / 2];
		int c = xsk_rs_rx_peek_packets(e.rx, 64, &idx);

		if (c <= 0) {
			CHECK(c == 0, "rx_peek_packets -> %d: %s", c, errmsg());
			xsk_rs_socket_poll(e.sock, POLLIN, 20);
			continue;
		}
		k = (uint32_t)c;
		while (at < k) {
			xsk_rs_desc chain[20];
			uint32_t len = 0, left = k - at, take = left < 20 ? left : 20, i;
			int cl;

			for (i = 0; i < take; i++)
				chain[i] = *xsk_rs_rx_desc(e.rx, idx + at + i);
			cl = xsk_rs_desc_chain_len(chain, take);
			if (!CHECK(cl > 0, "peek_packets took whole chains (chain_len %d at %u of %u)", cl, at, k))
				break;
			for (i = 0; i < (uint32_t)cl; i++) {
				const uint8_t *p = xsk_rs_umem_data(e.umem, chain[i].addr);

				if (p && len + chain[i].len <= sizeof(pkt))
					memcpy(pkt + len, p, chain[i].len);
				len += chain[i].len;
				/* Every segment but the last fills its frame. */
				if (i + 1 < (uint32_t)cl && chain[i].len != room)
					printf("  packet %u: segment %u is %u bytes, not %u\n", got, i, chain[i].len, room);
				addrs[at + i] = xsk_rs_umem_frame_start(e.umem, chain[i].addr);
			}
			if (is_test_frame(pkt, len)) {
				uint32_t want_segs = (jumbo_len(got) + room - 1) / room;
				int full = 1;

				for (i = 0; i + 1 < (uint32_t)cl; i++)
					full &= chain[i].len == room;
				good += jumbo_matches(pkt, len, got);
				segs_ok += (uint32_t)cl == want_segs && full;
				if ((uint32_t)cl != want_segs)
					printf("  packet %u (%u bytes): %d segments, want %u\n", got, len, cl, want_segs);
				got++;
			}
			at += (uint32_t)cl;
		}
		descs += k;
		RING_COUNT(xsk_rs_rx_release(e.rx, k));
		refilled += RING_COUNT(xsk_rs_fill_put(e.fill, addrs, k));
	}
	CHECK(got == n && good == n, "%u of %u packets (9000, 9014 and small) arrived, %u byte-exact", got, n, good);
	CHECK(segs_ok == n, "%u of %u arrived as ceil(len / %u) segments, each full but the last", segs_ok, n, room);
	CHECK(refilled == descs && descs > n, "all %u descriptors' frames went back to the fill ring (%u)", descs,
	      refilled);
	CHECK(xsk_rs_socket_stats(e.sock, &st) == 0 && st.rx_dropped == 0 && st.rx_invalid_descs == 0,
	      "rx_dropped %llu, rx_invalid_descs %llu", (unsigned long long)st.rx_dropped,
	      (unsigned long long)st.rx_invalid_descs);
	end_down(&e);
}

/* Writes `len` bytes of pkt into free TX frames, `seg` bytes each, as a chain at d. */
static uint32_t chain_out(struct end *e, const uint8_t *pkt, uint32_t len, uint32_t seg, xsk_rs_desc *d)
{
	uint32_t n = 0;

	for (uint32_t off = 0; off < len; off += seg, n++) {
		uint32_t l = len - off < seg ? len - off : seg;

		d[n].addr = e->free_tx[--e->nfree];
		d[n].len = l;
		d[n].options = off + l < len ? XSK_RS_DESC_CONTD : 0;
		memcpy(xsk_rs_umem_data(e->umem, d[n].addr), pkt + off, l);
	}
	return n;
}

static void ring_tx(uint32_t fsize, uint32_t seg)
{
	static uint8_t pkt[JUMBO_MAX];
	xsk_rs_desc d[RING_FRAMES / 2];
	uint32_t n = 0, nd = 0, queued = 0, back = 0, dup = 0;
	const uint32_t npkts = 24;
	uint8_t seen[RING_FRAMES] = { 0 };
	uint64_t deadline;
	xsk_rs_stats st;
	struct end e;
	int rc;

	printf("ring TX, %u-byte frames, chains of %u-byte segments\n", fsize, seg);
	if (!end_up(&e, fsize))
		return;
	for (n = 0; n < npkts; n++) {
		make_frame(pkt, 1000 + n, jumbo_len(1000 + n));
		nd += chain_out(&e, pkt, jumbo_len(1000 + n), seg, d + nd);
	}
	/* A put that ends inside a chain queues nothing and says so, never a 0
	 * that reads as "ring full" (packet 1001 is 9000 bytes: 3 or 5 descriptors). */
	rc = xsk_rs_tx_put_packets(e.tx, d + 1, 2);
	CHECK(rc == -EINVAL && strstr(errmsg(), "all 2 descriptors carry XSK_RS_DESC_CONTD"),
	      "put_packets of the first 2 descriptors of a chain: -EINVAL (%d: %s)", rc, errmsg());
	deadline = now_ms() + WAIT_MS;
	while ((queued < nd || back < nd) && now_ms() < deadline) {
		uint64_t addrs[64];
		int c;

		if (queued < nd) {
			/* At most 64 descriptors a put: several puts, each of whole chains. */
			uint32_t want = nd - queued < 64 ? nd - queued : 64;

			rc = xsk_rs_tx_put_packets(e.tx, d + queued, want);
			if (rc > 0) {
				CHECK(xsk_rs_desc_chain_len(d + queued + rc - 1, 1) == 1,
				      "put_packets queued %d descriptors, ending a packet", rc);
				queued += (uint32_t)rc;
			}
		}
		xsk_rs_socket_kick(e.sock);
		c = xsk_rs_comp_take(e.comp, addrs, 64);
		for (int i = 0; i < c; i++) {
			uint64_t f = addrs[i] / fsize;

			if (f < RING_FRAMES / 2 || f >= RING_FRAMES || seen[f]++ || e.nfree >= RING_FRAMES / 2)
				dup++;
			else
				e.free_tx[e.nfree++] = addrs[i];
		}
		back += c > 0 ? (uint32_t)c : 0;
		if (c <= 0)
			xsk_rs_socket_poll(e.sock, POLLOUT, 5);
	}
	CHECK(queued == nd, "%u packets as %u descriptors queued", npkts, queued);
	CHECK(back == nd && dup == 0 && e.nfree == RING_FRAMES / 2,
	      "every TX frame came back on the completion ring once (%u of %u, %u twice or foreign)", back, nd, dup);
	peer_gets_jumbo(1000, npkts, "ring TX");
	CHECK(xsk_rs_socket_stats(e.sock, &st) == 0 && st.tx_invalid_descs == 0, "tx_invalid_descs %llu",
	      (unsigned long long)st.tx_invalid_descs);
	end_down(&e);
}

/* ---- packets ------------------------------------------------------------ */

static int pkt_up(xsk_rs_txsock **tx, xsk_rs_rxsock **rx, uint32_t fsize, uint32_t multi_buffer)
{
	uint64_t deadline = now_ms() + 2000;
	xsk_rs_xdp_config c;
	int rc;

	xsk_rs_xdp_config_init(&c, sizeof(c));
	c.rx_frames = c.tx_frames = PKT_FRAMES;
	c.frame_size = fsize;
	c.xdp_mode = ctx.mode;
	c.multi_buffer = multi_buffer;
	while ((rc = xsk_rs_bisock_create(ctx.if_a, 0, &c, tx, rx)) == -EBUSY && now_ms() < deadline)
		sleep_ms(5);
	return rc;
}

static void rx_accounting(xsk_rs_rxsock *rx, int held_want, const char *when)
{
	int f = xsk_rs_rxsock_free_frames(rx), h = xsk_rs_rxsock_held_frames(rx),
	    i = xsk_rs_rxsock_in_flight_frames(rx);

	CHECK(f + h + i == PKT_FRAMES && h == held_want, "%s: RX free %d + held %d + in flight %d == %d, held %d", when,
	      f, h, i, PKT_FRAMES, held_want);
}

static void test_packets(void)
{
	static uint8_t buf[JUMBO_MAX + 100], pkt[JUMBO_MAX];
	const uint32_t fsize = 2048, room = fsize - HEADROOM;
	xsk_rs_txsock *tx = NULL;
	xsk_rs_rxsock *rx = NULL;
	xsk_rs_pkt segs[17];
	uint32_t seq, good = 0, total_segs = 0;
	uint64_t deadline;
	int rc, n;

	section("packet layer, 2048-byte frames, multi_buffer 1");
	rc = pkt_up(&tx, &rx, fsize, 0);
	CHECK(rc == -EMSGSIZE && strstr(errmsg(), "9000") && strstr(errmsg(), "multi"),
	      "without multi_buffer, 2 KiB frames on MTU 9000 -> %d: %s", rc, errmsg());
	if (rc == 0) {
		xsk_rs_txsock_destroy(tx);
		xsk_rs_rxsock_destroy(rx);
	}
	{
		/* short_frames accepts the drops instead. */
		xsk_rs_xdp_config c;

		xsk_rs_xdp_config_init(&c, sizeof(c));
		c.rx_frames = PKT_FRAMES;
		c.frame_size = fsize;
		c.xdp_mode = ctx.mode;
		c.short_frames = 1;
		deadline = now_ms() + 2000;
		while ((rc = xsk_rs_rxsock_create(ctx.if_a, 0, &c, &rx)) == -EBUSY && now_ms() < deadline)
			sleep_ms(5);
		CHECK(rc == 0, "without multi_buffer, with short_frames 1: created (rc %d%s%s)", rc, rc ? ": " : "",
		      rc ? errmsg() : "");
		xsk_rs_rxsock_destroy(rx);
		rx = NULL;
	}
	rc = pkt_up(&tx, &rx, fsize, 1);
	if (!CHECK(rc == 0, "bisock with multi_buffer (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return;
	CHECK(xsk_rs_txsock_max_len(tx) == MTU + 18, "max_len %d: the MTU plus 18", xsk_rs_txsock_max_len(tx));
	rx_accounting(rx, 0, "at start");

	/* recv_packet: the segments in place, given back together. */
	peer_send_jumbo(0, 6);
	deadline = now_ms() + WAIT_MS;
	for (seq = 0; seq < 6 && now_ms() < deadline;) {
		uint32_t len = 0;

		n = xsk_rs_rxsock_recv_packet(rx, segs, 17);
		if (n == 0) {
			xsk_rs_rxsock_wait(rx, 20);
			continue;
		}
		if (!CHECK(n > 0, "recv_packet -> %d: %s", n, errmsg()))
			break;
		for (int i = 0; i < n; i++) {
			memcpy(pkt + len, segs[i].data, segs[i].len);
			len += segs[i].len;
		}
		if (!is_test_frame(pkt, len)) {
			xsk_rs_rxsock_release(rx, (uint32_t)n);
			continue;
		}
		if (seq == 0)
			rx_accounting(rx, n, "a 9000-byte packet held");
		good += jumbo_matches(pkt, len, seq) && (uint32_t)n == (len + room - 1) / room;
		total_segs += (uint32_t)n;
		CHECK_RC(xsk_rs_rxsock_release(rx, (uint32_t)n), 0);
		seq++;
	}
	CHECK(seq == 6 && good == 6, "recv_packet: %u packets, %u byte-exact in ceil(len / %u) segments (%u in all)",
	      seq, good, room, total_segs);
	rx_accounting(rx, 0, "after release");

	/* Too few segments: -ENOBUFS, and the packet stays. */
	peer_send_jumbo(0, 1);
	n = 0;
	deadline = now_ms() + WAIT_MS;
	while (now_ms() < deadline && (n = xsk_rs_rxsock_recv_packet(rx, segs, 2)) == 0)
		xsk_rs_rxsock_wait(rx, 20);
	CHECK(n == -ENOBUFS && strstr(errmsg(), "6"), "recv_packet with 2 segments for a 6-frame packet -> %d: %s", n,
	      errmsg());
	rc = xsk_rs_rxsock_recv(rx, buf, sizeof(buf));
	CHECK(rc == MTU && jumbo_matches(buf, (uint32_t)rc, 0), "then recv gathers it: %d bytes, byte-exact", rc);

	/* recv: gathered into one buffer, small and jumbo alike; cut short when it does not fit. */
	peer_send_jumbo(100, 12);
	good = 0;
	deadline = now_ms() + WAIT_MS;
	for (seq = 100; seq < 112 && now_ms() < deadline;) {
		uint32_t cap = seq == 105 ? 5000 : (uint32_t)sizeof(buf);

		rc = xsk_rs_rxsock_recv(rx, buf, cap);
		if (rc == 0) {
			xsk_rs_rxsock_wait(rx, 20);
			continue;
		}
		if (rc < 0 || !is_test_frame(buf, (uint32_t)rc))
			continue;
		if (seq == 105) {
			make_frame(pkt, seq, jumbo_len(seq));
			good += (uint32_t)rc == JUMBO_MAX && memcmp(buf, pkt, 5000) == 0;
		} else {
			good += jumbo_matches(buf, (uint32_t)rc, seq);
		}
		seq++;
	}
	CHECK(seq == 112 && good == 12, "recv: %u packets, %u byte-exact (one cut to 5000 of %d bytes)", seq - 100,
	      good, JUMBO_MAX);
	rx_accounting(rx, 0, "after recv");

	/* recv_batch: whole packets only, each frame but a packet's last marked XSK_RS_DESC_CONTD. */
	{
		xsk_rs_pkt pk[10];
		uint32_t len = 0, ends_ok = 1;

		peer_send_jumbo(300, 6); /* frames: 6, 1, 6, 6, 1, 6 */
		n = 0;
		deadline = now_ms() + WAIT_MS;
		while (now_ms() < deadline && (n = xsk_rs_rxsock_recv_batch(rx, pk, 4)) == 0)
			xsk_rs_rxsock_wait(rx, 20);
		CHECK(n == -ENOBUFS && strstr(errmsg(), "more than 4 frames"),
		      "recv_batch of 4 for a 6-frame packet -> %d: %s", n, errmsg());
		rx_accounting(rx, 0, "after a refused recv_batch");
		sleep_ms(200); /* all of them in: then a batch of 10 must stop between packets */
		good = 0;
		for (seq = 300; seq < 306 && now_ms() < deadline;) {
			n = xsk_rs_rxsock_recv_batch(rx, pk, 10);
			if (n == 0) {
				xsk_rs_rxsock_wait(rx, 20);
				continue;
			}
			if (!CHECK(n > 0, "recv_batch -> %d: %s", n, errmsg()))
				break;
			ends_ok &= !(pk[n - 1].options & XSK_RS_DESC_CONTD);
			for (int i = 0; i < n; i++) {
				memcpy(pkt + len, pk[i].data, pk[i].len);
				len += pk[i].len;
				if (pk[i].options & XSK_RS_DESC_CONTD)
					continue;
				if (is_test_frame(pkt, len))
					good += jumbo_matches(pkt, len, seq++);
				len = 0;
			}
			CHECK_RC(xsk_rs_rxsock_release(rx, (uint32_t)n), 0);
		}
		CHECK(seq == 306 && good == 6 && ends_ok && len == 0,
		      "recv_batch: %u packets, %u byte-exact from their frames, every batch ending a packet (%u)",
		      seq - 300, good, ends_ok);
		rx_accounting(rx, 0, "after recv_batch");
	}

	/* send: a packet longer than a frame goes out as a chain. */
	peer_drain(ctx.peer);
	good = 0;
	for (seq = 200; seq < 212; seq++) {
		make_frame(pkt, seq, jumbo_len(seq));
		deadline = now_ms() + WAIT_MS;
		while ((rc = xsk_rs_txsock_send(tx, pkt, jumbo_len(seq))) == 0 && now_ms() < deadline)
			xsk_rs_txsock_wait(tx, 20);
		good += rc == 1;
	}
	CHECK(good == 12, "send: %u of 12 queued", good);
	peer_gets_jumbo(200, 12, "send");
	CHECK_RC(xsk_rs_txsock_send(tx, buf, MTU + 19), -EMSGSIZE);
	/* seek takes back what the kernel completed; once every frame is back it reserves them all. */
	deadline = now_ms() + WAIT_MS;
	while ((rc = xsk_rs_txsock_seek(tx, PKT_FRAMES)) >= 0 && rc < PKT_FRAMES && now_ms() < deadline)
		xsk_rs_txsock_wait(tx, 10);
	{
		int f = xsk_rs_txsock_free_frames(tx), r = xsk_rs_txsock_reserved_frames(tx),
		    i = xsk_rs_txsock_in_flight_frames(tx);

		CHECK(i == 0 && f + r == PKT_FRAMES, "every TX frame back: free %d + reserved %d + in flight %d == %d",
		      f, r, i, PKT_FRAMES);
	}
	xsk_rs_txsock_destroy(tx);
	xsk_rs_rxsock_destroy(rx);
}

int main(int argc, char **argv)
{
	int fd_a, fd_b, mtu_ok;
	char cmd[256];

	harness_name = "jumbo_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pair_args(argc, argv, &ctx.ns_a, &ctx.if_a, &ctx.ns_b, &ctx.if_b, &ctx.mode, NULL))
		return 2;
	printf("jumbo_test: libxsk_rs %s, %s/%s <-> %s/%s, XDP mode %s\n", xsk_rs_version(), ctx.ns_a, ctx.if_a,
	       ctx.ns_b, ctx.if_b, argv[5]);
	if (!kernel_at_least(6, 6)) {
		fprintf(stderr, "jumbo_test: multi-buffer AF_XDP needs Linux 6.6\n");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "ip -n '%s' link show dev '%s' | grep -q ' mtu %d ' && ip -n '%s' link show dev '%s' | grep -q ' mtu %d '",
		 ctx.ns_a, ctx.if_a, MTU, ctx.ns_b, ctx.if_b, MTU);
	mtu_ok = system(cmd) == 0;
	if (!mtu_ok) {
		fprintf(stderr, "jumbo_test: %s and %s must carry MTU %d\n", ctx.if_a, ctx.if_b, MTU);
		return 2;
	}
	fd_a = open_netns(ctx.ns_a);
	fd_b = open_netns(ctx.ns_b);
	enter_netns(fd_b, ctx.ns_b);
	ctx.peer = peer_open(ctx.if_b, PEER_RCVBUF);
	enter_netns(fd_a, ctx.ns_a);

	test_chain_len();
	section("rings, XSK_RS_BIND_SG");
	ring_rx(2048);
	ring_rx(4096);
	ring_tx(2048, 2048);
	ring_tx(4096, 3000);
	test_packets();

	close(ctx.peer);
	close(fd_a);
	close(fd_b);
	printf("jumbo_test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
