/*
 * abi_test: drives libxsk_rs through its C ABI only, with real packets.
 *
 *   abi_test NS_A IF_A NS_B IF_B skb|drv|auto
 *
 * IF_A (in network namespace NS_A) and IF_B (in NS_B) are the two ends of a
 * veth pair. The xsk_rs sockets are created on IF_A; an AF_PACKET socket on
 * IF_B is the peer. The process is single-threaded and moves between the
 * namespaces with setns(): a socket keeps the namespace it was created in, so
 * the peer is opened while in NS_B and everything xsk_rs while in NS_A.
 *
 * Built by tests/c/run.sh with -std=c11 -Wall -Wextra -Werror -pedantic
 * against the installed header and pkg-config file. The last line is
 * "abi_test: N passed, M failed"; the exit status is non-zero on any failure.
 */
#define _GNU_SOURCE /* setns, popen, MAP_ANONYMOUS */

#include "harness.h"

#include <sys/mman.h>

#define NFRAMES 64

/* ---- shared state ------------------------------------------------------- */

static struct {
	const char *ns_a, *if_a, *ns_b, *if_b;
	uint32_t mode;     /* XSK_RS_XDP_MODE_* */
	int expect_state;  /* what ip should show while a socket is up */
	int peer;          /* AF_PACKET socket on if_b */
} ctx;

struct fixture {
	xsk_rs_umem *umem;
	xsk_rs_socket *sock;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	uint32_t fsize;
};

/*
 * socket_create, retrying while the queue is busy. Closing an AF_XDP socket
 * releases its claim on the queue from a kernel work item, so a bind right
 * after the previous socket on the same queue was destroyed can fail with
 * EBUSY for a moment. The tests create socket after socket on queue 0.
 */
static int create_socket(xsk_rs_socket **out, const char *ifname, uint32_t q, xsk_rs_umem *umem,
			 const xsk_rs_socket_config *cfg)
{
	uint64_t deadline = now_ms() + 2000;
	unsigned retries = 0;
	int rc;

	while ((rc = xsk_rs_socket_create(out, ifname, q, umem, cfg)) == -EBUSY && now_ms() < deadline) {
		retries++;
		sleep_ms(5);
	}
	if (retries)
		printf("  note: %s queue %u was busy, socket_create retried %u times (rc %d)\n", ifname, q, retries,
		       rc);
	return rc;
}

/*
 * A UMEM (cfg NULL: defaults) and a socket on if_a queue 0 in ctx.mode, with
 * RX and TX rings of `ring` entries (0: the defaults).
 */
static int fixture_up(struct fixture *f, const xsk_rs_umem_config *ucfg, uint32_t ring)
{
	xsk_rs_socket_config scfg;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = xsk_rs_umem_create(&f->umem, ucfg);
	if (!CHECK(rc == 0 && f->umem, "umem_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return 0;
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = ctx.mode;
	if (ring)
		scfg.rx_size = scfg.tx_size = ring;
	rc = create_socket(&f->sock, ctx.if_a, 0, f->umem, &scfg);
	if (!CHECK(rc == 0 && f->sock, "socket_create on %s queue 0 (rc %d%s%s)", ctx.if_a, rc, rc ? ": " : "",
		   rc ? errmsg() : "")) {
		xsk_rs_umem_destroy(f->umem);
		f->umem = NULL;
		return 0;
	}
	f->fill = xsk_rs_umem_fill(f->umem);
	f->comp = xsk_rs_umem_comp(f->umem);
	f->rx = xsk_rs_socket_rx(f->sock);
	f->tx = xsk_rs_socket_tx(f->sock);
	f->fsize = xsk_rs_umem_frame_size(f->umem);
	return CHECK(f->fill && f->comp && f->rx && f->tx, "all four ring handles are non-NULL");
}

static void fixture_down(struct fixture *f)
{
	xsk_rs_socket_destroy(f->sock);
	if (f->umem)
		CHECK_RC(xsk_rs_umem_destroy(f->umem), 0);
	memset(f, 0, sizeof(*f));
}

/* Kicks TX; the kernel's "try again" answers are not failures. */
static int kick(xsk_rs_socket *s)
{
	int rc = xsk_rs_socket_kick(s);

	if (rc == 0 || rc == -EAGAIN || rc == -EBUSY || rc == -ENOBUFS)
		return 1;
	printf("  kick failed: %d: %s\n", rc, errmsg());
	return 0;
}

static uint64_t frame_base(uint64_t addr, uint32_t fsize)
{
	return addr - addr % fsize;
}

/* The peer receives test frames 0..n-1, byte-exact and in order. */
static void peer_gets_in_order(uint32_t n)
{
	uint8_t buf[MAX_FRAME];
	uint32_t i;

	for (i = 0; i < n; i++) {
		int len = peer_recv(ctx.peer, buf, WAIT_MS);

		if (len < 0) {
			printf("  frame %u did not arrive at the peer\n", i);
			break;
		}
		if (frame_seq(buf) != i || !frame_matches(buf, (uint32_t)len, i)) {
			printf("  peer frame %u: got seq %u len %d (want len %u)\n", i, frame_seq(buf), len,
			       frame_len(i));
			break;
		}
	}
	CHECK(i == n, "peer received %u/%u frames byte-exact and in order", i, n);
}

/* ---- (0) basics --------------------------------------------------------- */

static void test_basics(void)
{
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	const char *v = xsk_rs_version();
	const char *e = xsk_rs_strerror(-EINVAL);

	section("basics");
	CHECK(v && *v, "xsk_rs_version() = \"%s\"", v ? v : "(null)");
	/* The header's version is the library's: both come from Cargo.toml, the
	 * macros when build.rs wrote the header, the string when the library was
	 * built. run.sh builds this test against the library it installed. */
	{
		char joined[64];
		unsigned major, minor, patch;

		snprintf(joined, sizeof(joined), "%d.%d.%d", XSK_RS_VERSION_MAJOR, XSK_RS_VERSION_MINOR,
			 XSK_RS_VERSION_PATCH);
		CHECK(v && !strcmp(v, XSK_RS_VERSION_STRING), "xsk_rs_version() \"%s\" == XSK_RS_VERSION_STRING \"%s\"",
		      v ? v : "(null)", XSK_RS_VERSION_STRING);
		CHECK(!strcmp(joined, XSK_RS_VERSION_STRING),
		      "XSK_RS_VERSION_MAJOR.MINOR.PATCH \"%s\" == XSK_RS_VERSION_STRING \"%s\"", joined,
		      XSK_RS_VERSION_STRING);
		CHECK(v && sscanf(v, "%u.%u.%u", &major, &minor, &patch) == 3 && major == XSK_RS_VERSION_MAJOR &&
			      minor == XSK_RS_VERSION_MINOR && patch == XSK_RS_VERSION_PATCH,
		      "xsk_rs_version()'s numbers are the macros' (%d.%d.%d)", XSK_RS_VERSION_MAJOR,
		      XSK_RS_VERSION_MINOR, XSK_RS_VERSION_PATCH);
#if !XSK_RS_VERSION_AT_LEAST(XSK_RS_VERSION_MAJOR, XSK_RS_VERSION_MINOR, XSK_RS_VERSION_PATCH) || \
	XSK_RS_VERSION_AT_LEAST(XSK_RS_VERSION_MAJOR, XSK_RS_VERSION_MINOR, XSK_RS_VERSION_PATCH + 1) || \
	XSK_RS_VERSION_AT_LEAST(XSK_RS_VERSION_MAJOR, XSK_RS_VERSION_MINOR + 1, 0) || \
	XSK_RS_VERSION_AT_LEAST(XSK_RS_VERSION_MAJOR + 1, 0, 0) || !XSK_RS_VERSION_AT_LEAST(0, 0, 0)
		CHECK(0, "XSK_RS_VERSION_AT_LEAST orders the header's own version wrongly in #if");
#else
		CHECK(1, "XSK_RS_VERSION_AT_LEAST in #if: at least itself and 0.0.0, not a later patch, minor or major");
#endif
		CHECK(XSK_RS_VERSION_AT_LEAST(0, 3, 99) && !XSK_RS_VERSION_AT_LEAST(99, 0, 0),
		      "XSK_RS_VERSION_AT_LEAST as an expression: at least 0.3.99, not 99.0.0");
	}
	CHECK(e && *e, "xsk_rs_strerror(-EINVAL) = \"%s\"", e ? e : "(null)");
	e = xsk_rs_strerror(-ENODEV);
	CHECK(e && *e, "xsk_rs_strerror(-ENODEV) = \"%s\"", e ? e : "(null)");

	memset(&ucfg, 0xa5, sizeof(ucfg));
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	CHECK(ucfg.sz == sizeof(ucfg), "umem_config_init sets sz = sizeof (%zu)", ucfg.sz);
	CHECK(ucfg.frame_count == 4096 && ucfg.frame_size == 4096 && ucfg.frame_headroom == 0 &&
		      ucfg.fill_size == 8192 && ucfg.comp_size == 4096 && ucfg.flags == 0,
	      "umem defaults: 4096 frames of 4096, headroom 0, fill 8192, comp 4096 (got %u %u %u %u %u, flags %u)",
	      ucfg.frame_count, ucfg.frame_size, ucfg.frame_headroom, ucfg.fill_size, ucfg.comp_size, ucfg.flags);
	memset(&scfg, 0xa5, sizeof(scfg));
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	CHECK(scfg.sz == sizeof(scfg), "socket_config_init sets sz = sizeof (%zu)", scfg.sz);
	CHECK_RC(xsk_rs_umem_config_init(NULL, sizeof(ucfg)), -EINVAL);
	CHECK_RC(xsk_rs_socket_config_init(&scfg, 3), -EINVAL);
	CHECK(scfg.sz == sizeof(scfg), "a refused init leaves the struct alone");
	CHECK(scfg.rx_size == 4096 && scfg.tx_size == 4096 && scfg.xdp_mode == XSK_RS_XDP_MODE_AUTO &&
		      scfg.bind_flags == XSK_RS_BIND_NEED_WAKEUP,
	      "socket defaults: rings 4096, mode AUTO, bind NEED_WAKEUP (got %u %u %u %u)", scfg.rx_size,
	      scfg.tx_size, scfg.xdp_mode, scfg.bind_flags);
	CHECK(XSK_RS_BIND_COPY == 2 && XSK_RS_BIND_ZEROCOPY == 4 && XSK_RS_BIND_NEED_WAKEUP == 8,
	      "bind flags equal the kernel's XDP_COPY/XDP_ZEROCOPY/XDP_USE_NEED_WAKEUP");
	CHECK(sizeof(xsk_rs_desc) == 16, "xsk_rs_desc has the kernel's xdp_desc layout (16 bytes)");
}

/* ---- (e) misuse --------------------------------------------------------- */

static void test_misuse(void)
{
	static char sentinel_storage;
	xsk_rs_umem *const umem_sentinel = (xsk_rs_umem *)(void *)&sentinel_storage;
	xsk_rs_socket *const sock_sentinel = (xsk_rs_socket *)(void *)&sentinel_storage;
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	xsk_rs_umem *umem = NULL, *u;
	xsk_rs_socket *sock = NULL, *s;
	xsk_rs_desc d[4];
	uint64_t addrs[4] = { 0 };
	uint32_t idx = 12345;
	const char *msg;
	int rc;

	section("misuse");
	/* NULL out-params */
	CHECK_RC(xsk_rs_umem_create(NULL, NULL), -EINVAL);
	msg = xsk_rs_last_error();
	CHECK(msg && *msg, "last_error after NULL out-param: \"%s\"", msg ? msg : "(null)");
	rc = xsk_rs_umem_create(&umem, NULL);
	if (!CHECK(rc == 0 && umem, "umem_create with defaults (rc %d)", rc))
		return;
	CHECK(xsk_rs_umem_frame_size(umem) == 4096 && xsk_rs_umem_frame_count(umem) == 4096 &&
		      xsk_rs_umem_size(umem) == 4096ull * 4096,
	      "default umem geometry: 4096 x 4096 = %llu bytes", (unsigned long long)xsk_rs_umem_size(umem));
	CHECK(xsk_rs_umem_area(umem) != NULL && xsk_rs_umem_data(umem, 0) == xsk_rs_umem_area(umem),
	      "umem_data(0) is the start of the area");
	CHECK(xsk_rs_umem_data(umem, 4096 * 3 + 17) == (char *)xsk_rs_umem_area(umem) + 4096 * 3 + 17,
	      "umem_data(addr) is area + addr");
	CHECK(xsk_rs_umem_data(umem, xsk_rs_umem_size(umem)) == NULL, "umem_data(size) is NULL (out of range)");
	CHECK(xsk_rs_umem_data(umem, UINT64_MAX) == NULL, "umem_data(UINT64_MAX) is NULL");
	CHECK(xsk_rs_umem_fd(umem) >= 0, "umem_fd >= 0");

	s = sock_sentinel;
	CHECK_RC(xsk_rs_socket_create(NULL, ctx.if_a, 0, umem, NULL), -EINVAL);
	CHECK_RC(xsk_rs_socket_create(&s, NULL, 0, umem, NULL), -EINVAL);
	CHECK_RC(xsk_rs_socket_create(&s, ctx.if_a, 0, NULL, NULL), -EINVAL);
	u = umem_sentinel;
	CHECK_RC(xsk_rs_umem_create_with_area(&u, NULL, 1 << 20, NULL), -EINVAL);
	CHECK_RC(xsk_rs_umem_create_with_area(NULL, xsk_rs_umem_area(umem), 1 << 20, NULL), -EINVAL);

	/* unknown interface: ENODEV, and the message names it */
	rc = xsk_rs_socket_create(&s, "xskrs-nosuch0", 0, umem, NULL);
	msg = xsk_rs_last_error();
	CHECK(rc == -ENODEV, "unknown interface -> -ENODEV (got %d)", rc);
	CHECK(msg && strstr(msg, "xskrs-nosuch0"), "message names the interface: \"%s\"", msg ? msg : "(null)");

	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = ctx.mode;
	/* queue out of range (the veth has one queue) */
	rc = xsk_rs_socket_create(&s, ctx.if_a, 1000, umem, &scfg);
	CHECK(rc == -EINVAL, "queue 1000 -> -EINVAL (got %d: %s)", rc, errmsg());
	/* ring sizes must be powers of two */
	scfg.rx_size = 1000;
	CHECK_RC(xsk_rs_socket_create(&s, ctx.if_a, 0, umem, &scfg), -EINVAL);
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = ctx.mode;
	scfg.tx_size = 3;
	CHECK_RC(xsk_rs_socket_create(&s, ctx.if_a, 0, umem, &scfg), -EINVAL);
	/* unknown bind flag, unknown mode */
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = ctx.mode;
	scfg.bind_flags = XSK_RS_BIND_NEED_WAKEUP | 0x100;
	CHECK_RC(xsk_rs_socket_create(&s, ctx.if_a, 0, umem, &scfg), -EINVAL);
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = 7;
	CHECK_RC(xsk_rs_socket_create(&s, ctx.if_a, 0, umem, &scfg), -EINVAL);
	CHECK(s == sock_sentinel, "failed socket_create left the out-param alone");

	/* UMEM geometry */
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_size = 3000;
	CHECK_RC(xsk_rs_umem_create(&u, &ucfg), -EINVAL);
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.fill_size = 1000;
	CHECK_RC(xsk_rs_umem_create(&u, &ucfg), -EINVAL);
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.comp_size = 0;
	CHECK_RC(xsk_rs_umem_create(&u, &ucfg), -EINVAL);
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = 0;
	CHECK_RC(xsk_rs_umem_create(&u, &ucfg), -EINVAL);
	CHECK(u == umem_sentinel, "failed umem_create left the out-param alone");

	/* NULL ring handles: misuse, -EINVAL (never 0, which means "empty" or "no"), or NULL */
	CHECK(xsk_rs_fill_reserve(NULL, 1, &idx) == -EINVAL && xsk_rs_tx_reserve(NULL, 1, &idx) == -EINVAL &&
		      xsk_rs_comp_peek(NULL, 1, &idx) == -EINVAL && xsk_rs_rx_peek(NULL, 1, &idx) == -EINVAL,
	      "reserve/peek on NULL rings return -EINVAL");
	CHECK(idx == 12345, "reserve/peek on NULL rings leave idx alone");
	CHECK(xsk_rs_fill_addr(NULL, 0) == NULL && xsk_rs_tx_desc(NULL, 0) == NULL && xsk_rs_comp_addr(NULL, 0) == NULL &&
		      xsk_rs_rx_desc(NULL, 0) == NULL,
	      "accessors on NULL rings return NULL");
	CHECK(xsk_rs_fill_submit(NULL, 1) == -EINVAL && xsk_rs_tx_submit(NULL, 1) == -EINVAL &&
		      xsk_rs_comp_release(NULL, 1) == -EINVAL && xsk_rs_comp_cancel(NULL, 1) == -EINVAL &&
		      xsk_rs_rx_release(NULL, 1) == -EINVAL && xsk_rs_rx_cancel(NULL, 1) == -EINVAL,
	      "submit/release/cancel on NULL rings return -EINVAL");
	CHECK(xsk_rs_fill_needs_wakeup(NULL) == -EINVAL && xsk_rs_tx_needs_wakeup(NULL) == -EINVAL,
	      "needs_wakeup on NULL rings is -EINVAL, not \"no wakeup\"");
	CHECK(xsk_rs_fill_put(NULL, addrs, 4) == -EINVAL && xsk_rs_tx_put(NULL, d, 4) == -EINVAL &&
		      xsk_rs_comp_take(NULL, addrs, 4) == -EINVAL && xsk_rs_rx_take(NULL, d, 4) == -EINVAL,
	      "batch calls on NULL rings return -EINVAL");
	CHECK(xsk_rs_umem_fill(NULL) == NULL && xsk_rs_umem_comp(NULL) == NULL && xsk_rs_socket_rx(NULL) == NULL &&
		      xsk_rs_socket_tx(NULL) == NULL,
	      "ring getters on NULL owners return NULL");

	/* destroy(NULL) */
	xsk_rs_socket_destroy(NULL);
	CHECK_RC(xsk_rs_umem_destroy(NULL), 0);

	/* a TX-only socket: no RX ring, and all-or-nothing reserve */
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = XSK_RS_XDP_MODE_NONE;
	scfg.rx_size = 0;
	scfg.tx_size = 32;
	rc = create_socket(&sock, ctx.if_a, 0, umem, &scfg);
	if (CHECK(rc == 0 && sock, "TX-only socket, mode NONE (rc %d%s%s)", rc, rc ? ": " : "",
		  rc ? errmsg() : "")) {
		xsk_rs_tx *tx = xsk_rs_socket_tx(sock);
		xsk_rs_fill *fill = xsk_rs_umem_fill(umem);
		uint32_t i0 = 0, i1 = 0;

		CHECK(xsk_rs_socket_rx(sock) == NULL, "socket_rx is NULL when rx_size was 0");
		CHECK(xsk_rs_socket_fd(sock) >= 0, "socket_fd >= 0");
		CHECK(xsk_rs_socket_is_zerocopy(sock) == 0, "veth runs in copy mode: is_zerocopy == 0");
		CHECK(xdp_state(ctx.ns_a, ctx.if_a) == XDP_NONE, "mode NONE attached no XDP program");
		CHECK(xsk_rs_socket_xdp_mode(sock) == XSK_RS_XDP_MODE_NONE, "socket_xdp_mode -> NONE");
		CHECK(xsk_rs_socket_poll(sock, POLLIN, 0) == 0, "poll(POLLIN, 0) on an idle socket times out");
		CHECK(xsk_rs_socket_stats(sock, NULL) == -EINVAL, "socket_stats(sock, NULL) -> -EINVAL");
		CHECK(xsk_rs_socket_update_xskmap(sock, -1) < 0, "update_xskmap with fd -1 fails");
		CHECK(RING_COUNT(xsk_rs_tx_reserve(tx, 33, &i0)) == 0,
		      "tx_reserve(33) on a 32-entry ring -> 0 (all or nothing)");
		CHECK(RING_COUNT(xsk_rs_tx_reserve(tx, 32, &i0)) == 32, "tx_reserve(32) -> 32");
		CHECK(RING_COUNT(xsk_rs_tx_reserve(tx, 1, &i1)) == 0, "tx_reserve(1) on the full ring -> 0");
		CHECK(xsk_rs_tx_desc(tx, i0) == xsk_rs_tx_desc(tx, i0 + 32), "tx_desc masks the index");
		CHECK(RING_COUNT(xsk_rs_fill_reserve(fill, 8193, &i0)) == 0,
		      "fill_reserve(8193) on the default 8192-entry ring -> 0");
		CHECK(xsk_rs_fill_addr(fill, 5) == xsk_rs_fill_addr(fill, 5 + 8192), "fill_addr masks the index");
		CHECK(RING_COUNT(xsk_rs_comp_peek(xsk_rs_umem_comp(umem), 8, &i0)) == 0,
		      "comp_peek on an empty ring -> 0");
		/* Empty, not misuse: 0 and no message, told apart from the -EINVAL above. */
		xsk_rs_socket_fd(NULL);
		msg = xsk_rs_last_error();
		CHECK(RING_COUNT(xsk_rs_comp_take(xsk_rs_umem_comp(umem), addrs, 4)) == 0 &&
			      !strcmp(xsk_rs_last_error(), "xsk_rs_socket_fd: sock is NULL"),
		      "comp_take on an empty ring -> 0, the last error untouched (\"%s\")", msg);

		/* The UMEM belongs to the socket until the socket is gone. */
		rc = xsk_rs_umem_destroy(umem);
		msg = xsk_rs_last_error();
		CHECK(rc == -EBUSY, "umem_destroy while a socket uses it -> -EBUSY (got %d)", rc);
		CHECK(msg && *msg, "with a message: \"%s\"", msg ? msg : "(null)");
		CHECK(xsk_rs_umem_frame_count(umem) == 4096, "the UMEM survives the refused destroy");
		xsk_rs_socket_destroy(sock);
	}
	CHECK_RC(xsk_rs_umem_destroy(umem), 0);
}

/* ---- (a) RX, per-descriptor API ----------------------------------------- */

static void test_rx_per_desc(void)
{
	struct fixture f;
	uint32_t idx, i, n, got = 0, bad = 0, other = 0, nfill = 1024;
	uint64_t deadline;
	int cancel_ok = -1, state;

	section("rx, per-descriptor API");
	if (!fixture_up(&f, NULL, 0))
		return;
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == ctx.expect_state, "XDP program attached in %s mode (ip shows %s)",
	      xdp_state_name(ctx.expect_state), xdp_state_name(state));
	CHECK(xsk_rs_socket_is_zerocopy(f.sock) == 0, "veth runs in copy mode: is_zerocopy == 0");
	CHECK(xsk_rs_socket_xdp_mode(f.sock) ==
		      (ctx.expect_state == XDP_NATIVE ? XSK_RS_XDP_MODE_DRV : XSK_RS_XDP_MODE_SKB),
	      "socket_xdp_mode names the mode in effect (got %d)", xsk_rs_socket_xdp_mode(f.sock));
	CHECK(xsk_rs_socket_xdp_mode(NULL) == -EINVAL, "socket_xdp_mode(NULL) -> -EINVAL");

	/* Give the kernel frames to write into: the first 1024 of the UMEM. */
	n = RING_COUNT(xsk_rs_fill_reserve(f.fill, nfill, &idx));
	if (!CHECK(n == nfill, "fill_reserve(%u) -> %u", nfill, n))
		goto out;
	for (i = 0; i < nfill; i++)
		*xsk_rs_fill_addr(f.fill, idx + i) = (uint64_t)i * f.fsize;
	RING_COUNT(xsk_rs_fill_submit(f.fill, nfill));

	for (i = 0; i < NFRAMES; i++)
		if (!peer_send(ctx.peer, i))
			CHECK(0, "peer send %u: %s", i, strerror(errno));

	deadline = now_ms() + WAIT_MS;
	while (got < NFRAMES && now_ms() < deadline) {
		uint64_t recycle[16];

		n = RING_COUNT(xsk_rs_rx_peek(f.rx, 16, &idx));
		if (n == 0) {
			xsk_rs_socket_poll(f.sock, POLLIN, 100);
			continue;
		}
		/* rx_cancel hands peeked entries back: the next peek sees them again. */
		if (cancel_ok < 0) {
			uint32_t idx2 = 0, again;

			RING_COUNT(xsk_rs_rx_cancel(f.rx, n));
			again = RING_COUNT(xsk_rs_rx_peek(f.rx, 16, &idx2));
			cancel_ok = again >= n && idx2 == idx;
			n = again;
			idx = idx2;
		}
		for (i = 0; i < n; i++) {
			const xsk_rs_desc *d = xsk_rs_rx_desc(f.rx, idx + i);
			const uint8_t *p = d ? xsk_rs_umem_data(f.umem, d->addr) : NULL;

			if (!p || d->addr + d->len > xsk_rs_umem_size(f.umem)) {
				bad++;
			} else if (!is_test_frame(p, d->len)) {
				other++;
			} else if (frame_seq(p) != got || !frame_matches(p, d->len, got) || d->options != 0) {
				if (bad++ < 5)
					printf("  frame %u: got seq %u len %u options %u (want len %u)\n", got,
					       frame_seq(p), d->len, d->options, frame_len(got));
				got = frame_seq(p) + 1;
			} else {
				got++;
			}
			recycle[i] = d ? frame_base(d->addr, f.fsize) : 0;
		}
		RING_COUNT(xsk_rs_rx_release(f.rx, n));
		/* Put the frames back on the fill ring, as a real receiver does. */
		if (RING_COUNT(xsk_rs_fill_reserve(f.fill, n, &idx)) == n) {
			for (i = 0; i < n; i++)
				*xsk_rs_fill_addr(f.fill, idx + i) = recycle[i];
			RING_COUNT(xsk_rs_fill_submit(f.fill, n));
		} else {
			bad++;
		}
	}
	CHECK(got == NFRAMES && bad == 0, "%u numbered frames (60..1500 bytes) received byte-exact and in order "
	      "(got %u, %u bad, %u non-test)", NFRAMES, got, bad, other);
	CHECK(cancel_ok == 1, "rx_cancel returns peeked entries to the ring");
	CHECK(RING_COUNT(xsk_rs_rx_peek(f.rx, 16, &idx)) == 0, "nothing else arrived");
out:
	fixture_down(&f);
}

/* ---- (b) TX, per-descriptor API ----------------------------------------- */

static void test_tx_per_desc(void)
{
	struct fixture f;
	uint8_t seen[NFRAMES] = { 0 };
	uint32_t idx, i, sent = 0, done = 0, dup = 0, stray = 0;
	uint64_t base, deadline;
	int kicks_ok = 1, cancel_ok = -1;

	section("tx, per-descriptor API");
	if (!fixture_up(&f, NULL, 0))
		return;
	peer_drain(ctx.peer);
	/* TX frames live in the upper half of the UMEM, one per frame. */
	base = (uint64_t)(xsk_rs_umem_frame_count(f.umem) / 2) * f.fsize;
	for (i = 0; i < NFRAMES; i++)
		make_frame(xsk_rs_umem_data(f.umem, base + (uint64_t)i * f.fsize), i, frame_len(i));

	deadline = now_ms() + WAIT_MS;
	while ((sent < NFRAMES || done < NFRAMES) && now_ms() < deadline) {
		uint32_t n = NFRAMES - sent < 16 ? NFRAMES - sent : 16;

		if (n && RING_COUNT(xsk_rs_tx_reserve(f.tx, n, &idx)) == n) {
			for (i = 0; i < n; i++) {
				xsk_rs_desc *d = xsk_rs_tx_desc(f.tx, idx + i);

				d->addr = base + (uint64_t)(sent + i) * f.fsize;
				d->len = frame_len(sent + i);
				d->options = 0;
			}
			RING_COUNT(xsk_rs_tx_submit(f.tx, n));
			sent += n;
			if (sent == n)
				CHECK(RING_COUNT(xsk_rs_tx_needs_wakeup(f.tx)) != 0, "copy mode: tx needs_wakeup is set");
		}
		if (RING_COUNT(xsk_rs_tx_needs_wakeup(f.tx)))
			kicks_ok &= kick(f.sock);
		n = RING_COUNT(xsk_rs_comp_peek(f.comp, 64, &idx));
		if (n && cancel_ok < 0) {
			uint32_t idx2 = 0, again;

			/* comp_cancel hands peeked entries back, like rx_cancel. */
			RING_COUNT(xsk_rs_comp_cancel(f.comp, n));
			again = RING_COUNT(xsk_rs_comp_peek(f.comp, 64, &idx2));
			cancel_ok = again >= n && idx2 == idx;
			n = again;
			idx = idx2;
		}
		for (i = 0; i < n; i++) {
			uint64_t a = *xsk_rs_comp_addr(f.comp, idx + i);
			uint64_t k = (a - base) / f.fsize;

			if (a < base || (a - base) % f.fsize || k >= NFRAMES)
				stray++;
			else if (seen[k]++)
				dup++;
		}
		RING_COUNT(xsk_rs_comp_release(f.comp, n));
		done += n;
		if (!n && sent == NFRAMES)
			xsk_rs_socket_poll(f.sock, POLLOUT, 10);
	}
	CHECK(kicks_ok, "every kick succeeded");
	CHECK(sent == NFRAMES && done == NFRAMES && dup == 0 && stray == 0,
	      "all %u TX addresses came back on the completion ring (sent %u, completed %u, %u duplicate, %u stray)",
	      NFRAMES, sent, done, dup, stray);
	CHECK(cancel_ok == 1, "comp_cancel returns peeked entries to the ring");

	peer_gets_in_order(NFRAMES);
	fixture_down(&f);
}

/* ---- (c) the batch API, small rings that wrap --------------------------- */

#define B_FRAMES 256  /* UMEM frames */
#define B_FSIZE 2048  /* smallest frame the kernel allows */
#define B_RING 64     /* every ring */
#define B_ROUND 16    /* RX frames per round */
#define B_TX 128      /* TX frames: twice the ring */

/*
 * xsk_rs_tx_put stops before a descriptor longer than the interface sends
 * (MTU 1500 + 18: the kernel would complete it and the device drop it
 * unseen), queues the ones before it and says why.
 */
static void test_tx_too_long(void)
{
	struct fixture f;
	xsk_rs_desc d[3];
	uint32_t i;
	int n;

	section("tx_put refuses a frame longer than the interface sends");
	if (!fixture_up(&f, NULL, 0))
		return;
	for (i = 0; i < 3; i++) {
		d[i].addr = (uint64_t)i * f.fsize;
		d[i].len = i == 1 ? 1519 : 1518;
		d[i].options = 0;
	}
	n = xsk_rs_tx_put(f.tx, d, 3);
	CHECK(n == 1, "tx_put of 1518, 1519, 1518 bytes queues 1 (got %d)", n);
	CHECK(strstr(xsk_rs_last_error(), "descriptor 1 is 1519 bytes, more than the 1518") != NULL,
	      "and says why: %s", xsk_rs_last_error());
	fixture_down(&f);
}

static void test_batch(void)
{
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	xsk_rs_umem *umem = NULL;
	xsk_rs_socket *sock = NULL;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	uint64_t addrs[B_RING];
	xsk_rs_desc descs[B_TX];
	uint8_t seen[B_TX] = { 0 };
	uint32_t i, n, got = 0, bad = 0, sent = 0, done = 0, stray = 0, partial = 0, refill_ok = 1;
	uint64_t size = (uint64_t)B_FRAMES * B_FSIZE, deadline;
	void *area;
	int rc, kicks_ok = 1;

	section("batch API (caller's area, 64-entry rings that wrap)");
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(area != MAP_FAILED, "mmap %llu bytes for the UMEM", (unsigned long long)size))
		return;
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = B_FRAMES;
	ucfg.frame_size = B_FSIZE;
	ucfg.fill_size = ucfg.comp_size = B_RING;
	rc = xsk_rs_umem_create_with_area(&umem, area, size, &ucfg);
	if (!CHECK(rc == 0 && umem, "umem_create_with_area (rc %d%s%s)", rc, rc ? ": " : "",
		   rc ? errmsg() : ""))
		goto unmap;
	CHECK(xsk_rs_umem_area(umem) == area && xsk_rs_umem_size(umem) == size &&
		      xsk_rs_umem_frame_size(umem) == B_FSIZE && xsk_rs_umem_frame_count(umem) == B_FRAMES,
	      "the UMEM is the caller's area with the configured geometry");
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.xdp_mode = ctx.mode;
	scfg.rx_size = scfg.tx_size = B_RING;
	rc = create_socket(&sock, ctx.if_a, 0, umem, &scfg);
	if (!CHECK(rc == 0 && sock, "socket_create with 64-entry rings (rc %d%s%s)", rc, rc ? ": " : "",
		   rc ? errmsg() : ""))
		goto destroy_umem;
	fill = xsk_rs_umem_fill(umem);
	comp = xsk_rs_umem_comp(umem);
	rx = xsk_rs_socket_rx(sock);
	tx = xsk_rs_socket_tx(sock);

	/* RX: frames 0..63 go on the fill ring; a 65th does not fit. */
	for (i = 0; i < B_RING; i++)
		addrs[i] = (uint64_t)i * B_FSIZE;
	CHECK(RING_COUNT(xsk_rs_fill_put(fill, addrs, B_RING)) == B_RING,
	      "fill_put(64) on an empty 64-entry ring -> 64");
	CHECK(RING_COUNT(xsk_rs_fill_put(fill, addrs, 1)) == 0, "fill_put on a full ring -> 0");

	for (uint32_t round = 0; round < NFRAMES / B_ROUND; round++) {
		uint32_t want = (round + 1) * B_ROUND;

		for (i = round * B_ROUND; i < want; i++)
			peer_send(ctx.peer, i);
		deadline = now_ms() + WAIT_MS;
		while (got < want && now_ms() < deadline) {
			xsk_rs_desc d[B_RING];

			n = RING_COUNT(xsk_rs_rx_take(rx, d, B_RING));
			if (!n) {
				xsk_rs_socket_poll(sock, POLLIN, 100);
				continue;
			}
			for (i = 0; i < n; i++) {
				const uint8_t *p = xsk_rs_umem_data(umem, d[i].addr);

				if (!p || !is_test_frame(p, d[i].len) || frame_seq(p) != got ||
				    !frame_matches(p, d[i].len, got))
					bad++;
				got++;
				addrs[i] = frame_base(d[i].addr, B_FSIZE);
			}
			refill_ok &= RING_COUNT(xsk_rs_fill_put(fill, addrs, n)) == n;
		}
	}
	CHECK(got == NFRAMES && bad == 0, "rx_take: %u frames byte-exact and in order over 4 rounds (got %u, %u bad)",
	      NFRAMES, got, bad);
	CHECK(refill_ok, "fill_put recycled every received frame");

	/* TX: 128 frames through a 64-entry ring, so tx_put is partial at first. */
	peer_drain(ctx.peer);
	for (i = 0; i < B_TX; i++) {
		descs[i].addr = (uint64_t)(B_RING + i) * B_FSIZE;
		descs[i].len = frame_len(i);
		descs[i].options = 0;
		make_frame(xsk_rs_umem_data(umem, descs[i].addr), i, descs[i].len);
	}
	deadline = now_ms() + WAIT_MS;
	while ((sent < B_TX || done < B_TX) && now_ms() < deadline) {
		uint64_t c[B_RING];

		if (sent < B_TX) {
			n = RING_COUNT(xsk_rs_tx_put(tx, descs + sent, B_TX - sent));
			if (n < B_TX - sent)
				partial++;
			sent += n;
		}
		kicks_ok &= kick(sock);
		n = RING_COUNT(xsk_rs_comp_take(comp, c, B_RING));
		for (i = 0; i < n; i++) {
			uint64_t k = c[i] / B_FSIZE - B_RING;

			if (c[i] % B_FSIZE || c[i] < (uint64_t)B_RING * B_FSIZE || k >= B_TX || seen[k]++)
				stray++;
		}
		done += n;
		if (!n)
			xsk_rs_socket_poll(sock, POLLOUT, 10);
	}
	CHECK(partial > 0, "tx_put on a nearly full ring moved part of the batch");
	CHECK(kicks_ok, "every kick succeeded");
	CHECK(sent == B_TX && done == B_TX && stray == 0,
	      "comp_take returned every one of %u addresses once (sent %u, completed %u, %u stray)", B_TX, sent,
	      done, stray);
	peer_gets_in_order(B_TX);

	xsk_rs_socket_destroy(sock);
destroy_umem:
	CHECK_RC(xsk_rs_umem_destroy(umem), 0);
unmap:
	munmap(area, size);
}

/* ---- (g) span calls, in place across the rings' ends -------------------- */

#define S_RING 64       /* every ring */
#define S_FSIZE 2048    /* UMEM frame size */
#define S_UMEM 256      /* UMEM frames */
#define S_LENT 32       /* RX frames lent: half the fill ring, as the header asks */
#define S_ROUND 20      /* frames per round: fewer than are lent, so none is dropped */
#define S_FRAMES 260    /* frames each way: 13 rounds, four times past each ring's end */
#define S_TX_FIRST 64   /* TX frames: UMEM frames 64..127, one per seq modulo 64 */

/*
 * How many entries the span calls ask for, in turn: all there are, and counts
 * that end a span before, at and past the ring's end.
 */
static uint32_t span_ask(uint32_t call)
{
	static const uint32_t asks[] = { UINT32_MAX, 7, 16, 1, 40 };

	return asks[call % (sizeof(asks) / sizeof(asks[0]))];
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* One ring's spans, as the test counts them. */
struct spans {
	const char *ring;
	uint32_t at;    /* entries through the ring so far: its free-running index */
	uint32_t calls; /* span calls */
	uint32_t cut;   /* spans that the ring's end cut short of what was asked and there */
	uint32_t wrong; /* spans of the wrong length or place */
};

/*
 * A span call returned `got` entries at p, of `asked`, with `there` entries
 * known to be free or ready; the ring's entries start at base. It must hold
 * exactly min(asked, there, the entries before the ring's end) and start
 * where the last span ended: after a span up to the end, at entry 0.
 */
static int span_ok(struct spans *s, uint32_t got, const void *p, const void *base, size_t entry, uint32_t asked,
		   uint32_t there)
{
	uint32_t slot = s->at % S_RING, room = S_RING - slot;
	uint32_t want = min_u32(min_u32(asked, there), room);
	const char *at = (const char *)base + (size_t)slot * entry;

	s->calls++;
	if (got != want || (got && (const char *)p != at)) {
		if (s->wrong++ < 5)
			printf("  %s span %u: asked %u with %u there at slot %u: got %u at slot %lld (want %u)\n",
			       s->ring, s->calls, asked, there, slot, got,
			       got ? ((long long)(intptr_t)p - (long long)(intptr_t)base) / (long long)entry : -1LL,
			       want);
		return 0;
	}
	s->cut += room < min_u32(asked, there);
	s->at += got;
	return 1;
}

/*
 * Lends addrs[0..n) to the kernel through fill spans, each asking for all
 * that is left. With at most half the fill ring lent all of it is free (the
 * kernel's late consumer index holds at most the other half), so each span
 * holds what is left or what lies before the ring's end.
 */
static int lend_by_spans(xsk_rs_fill *fill, struct spans *s, const uint64_t *addrs, uint32_t n)
{
	const uint64_t *base = xsk_rs_fill_addr(fill, 0);

	while (n) {
		uint64_t *slots = NULL;
		uint32_t got = RING_COUNT(xsk_rs_fill_reserve_span(fill, n, &slots));

		if (!span_ok(s, got, slots, base, sizeof(*base), n, n))
			return 0;
		memcpy(slots, addrs, got * sizeof(*addrs));
		RING_COUNT(xsk_rs_fill_submit(fill, got));
		addrs += got;
		n -= got;
	}
	return 1;
}

/* Completions ready once `want` are or WAIT_MS passed, kicking TX meanwhile. */
static uint32_t comp_wait(struct fixture *f, uint32_t want, int *kicks_ok)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	uint32_t idx, n;

	for (;;) {
		n = RING_COUNT(xsk_rs_comp_peek(f->comp, UINT32_MAX, &idx));
		RING_COUNT(xsk_rs_comp_cancel(f->comp, n));
		if (n >= want || now_ms() >= deadline)
			return n;
		if (RING_COUNT(xsk_rs_tx_needs_wakeup(f->tx)))
			*kicks_ok &= kick(f->sock);
		sleep_ms(1);
	}
}

static int span_fixture_up(struct fixture *f)
{
	xsk_rs_umem_config ucfg;

	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = S_UMEM;
	ucfg.frame_size = S_FSIZE;
	ucfg.fill_size = ucfg.comp_size = S_RING;
	return fixture_up(f, &ucfg, S_RING);
}

/*
 * RX through spans only: frames 0..31 lent with fill_reserve_span, and every
 * received frame lent again the same way, span by span. The peer sends 260
 * frames in rounds of 20; once a round is on the RX ring it is read in place
 * with rx_peek_span, asking for counts that vary. Every span's length and
 * place is known exactly, so each is checked, as is every frame's seq and
 * bytes and that it landed in a frame that was lent.
 */
static void test_span_rx(void)
{
	struct spans rs = { .ring = "rx" }, fs = { .ring = "fill" };
	const xsk_rs_desc *base, *e;
	uint64_t addrs[S_LENT];
	uint8_t lent[S_LENT];
	uint32_t i, sent = 0, got = 0, bad = 0, nlent = 0;
	struct fixture f;
	int ok;

	section("span calls: rx (fill_reserve_span, rx_peek_span), 64-entry rings that wrap");
	if (!span_fixture_up(&f))
		return;
	base = xsk_rs_rx_desc(f.rx, 0);
	for (i = 0; i < S_LENT; i++) {
		addrs[i] = (uint64_t)i * S_FSIZE;
		lent[i] = 1;
	}
	ok = lend_by_spans(f.fill, &fs, addrs, S_LENT);
	while (ok && sent < S_FRAMES) {
		uint32_t left = S_ROUND, ready;

		for (i = 0; i < S_ROUND; i++, sent++)
			if (!peer_send(ctx.peer, sent))
				CHECK(0, "peer send %u: %s", sent, strerror(errno));
		/* The whole round first, so that every span's length is known. */
		ready = rx_ready(f.rx, f.sock, S_ROUND, WAIT_MS);
		if (ready != S_ROUND) {
			CHECK(0, "round %u: %u frames ready (want %u)", sent / S_ROUND, ready, S_ROUND);
			break;
		}
		while (ok && left) {
			uint32_t ask = span_ask(rs.calls), n;

			e = NULL;
			n = RING_COUNT(xsk_rs_rx_peek_span(f.rx, ask, &e));
			if (!(ok = span_ok(&rs, n, e, base, sizeof(*base), ask, left)))
				break;
			for (i = 0; i < n; i++, got++) {
				const xsk_rs_desc *d = &e[i];
				const uint8_t *p = xsk_rs_umem_data(f.umem, d->addr);
				uint64_t k = d->addr / S_FSIZE;

				if (k >= S_LENT || !lent[k] || !p || d->addr % S_FSIZE + d->len > S_FSIZE || d->options ||
				    !frame_matches(p, d->len, got)) {
					if (bad++ < 5)
						printf("  frame %u: addr %llu len %u options %u seq %u (want len %u in a lent frame)\n",
						       got, (unsigned long long)d->addr, d->len, d->options,
						       p ? frame_seq(p) : 0, frame_len(got));
				}
				addrs[i] = frame_base(d->addr, S_FSIZE);
			}
			RING_COUNT(xsk_rs_rx_release(f.rx, n));
			left -= n;
			for (i = 0; i < n; i++) {
				if (addrs[i] / S_FSIZE < S_LENT)
					lent[addrs[i] / S_FSIZE] = 0;
			}
			/* Lend them again; lent[] marks them once they are on the fill ring. */
			ok = lend_by_spans(f.fill, &fs, addrs, n);
			for (i = 0; i < n; i++) {
				if (addrs[i] / S_FSIZE < S_LENT)
					lent[addrs[i] / S_FSIZE] = 1;
			}
		}
	}
	CHECK(got == S_FRAMES && bad == 0,
	      "rx_peek_span: %u frames (60..1500 bytes) read in place byte-exact and in order, each in a lent frame "
	      "(got %u, %u bad)", S_FRAMES, got, bad);
	CHECK(ok && rs.wrong == 0,
	      "%u rx spans: each as long as asked, ready or up to the ring's end, and where the last one ended",
	      rs.calls);
	CHECK(rs.cut >= 2, "%u rx spans cut short by the ring's end, each followed by one from entry 0", rs.cut);
	CHECK(fs.wrong == 0 && fs.cut >= 2,
	      "fill_reserve_span: %u spans of the right length and place (%u wrong), %u cut short by the ring's end",
	      fs.calls, fs.wrong, fs.cut);
	for (i = 0; i < S_LENT; i++)
		nlent += lent[i];
	CHECK(nlent == S_LENT, "all %u frames are lent again (%u)", S_LENT, nlent);
	e = (const xsk_rs_desc *)(uintptr_t)0xdeadbeefu;
	CHECK(RING_COUNT(xsk_rs_rx_peek_span(f.rx, UINT32_MAX, &e)) == 0 &&
		      e == (const xsk_rs_desc *)(uintptr_t)0xdeadbeefu,
	      "nothing else arrived; rx_peek_span on the empty ring leaves *entries alone");
	fixture_down(&f);
}

/* The UMEM address of TX frame `seq`. */
static uint64_t span_tx_addr(uint32_t seq)
{
	return (uint64_t)(S_TX_FIRST + seq % S_RING) * S_FSIZE;
}

/*
 * TX through spans only: 260 frames in rounds of 20, each written in place
 * into tx_reserve_span runs asking for counts that vary, submitted and
 * kicked; once the round has completed its addresses are read in place with
 * comp_peek_span. Every span's length and place is checked, the completions
 * must come back in the order sent, and the peer must receive every frame
 * byte-exact and in order.
 */
static void test_span_tx(void)
{
	struct spans ts = { .ring = "tx" }, cs = { .ring = "comp" };
	const xsk_rs_desc *tbase;
	const uint64_t *cbase, *e;
	uint32_t i, sent = 0, done = 0, bad = 0;
	struct fixture f;
	int ok = 1, kicks_ok = 1;

	section("span calls: tx (tx_reserve_span, comp_peek_span), 64-entry rings that wrap");
	if (!span_fixture_up(&f))
		return;
	peer_drain(ctx.peer);
	tbase = xsk_rs_tx_desc(f.tx, 0);
	cbase = xsk_rs_comp_addr(f.comp, 0);
	while (ok && sent < S_FRAMES) {
		uint32_t left = S_ROUND, ready;

		/* Each round starts on an empty TX ring. */
		while (ok && left) {
			uint32_t ask = min_u32(span_ask(ts.calls), left), n;
			xsk_rs_desc *slots = NULL;

			n = RING_COUNT(xsk_rs_tx_reserve_span(f.tx, ask, &slots));
			if (!(ok = span_ok(&ts, n, slots, tbase, sizeof(*tbase), ask, S_RING - (S_ROUND - left))))
				break;
			for (i = 0; i < n; i++, sent++) {
				slots[i].addr = span_tx_addr(sent);
				slots[i].len = frame_len(sent);
				slots[i].options = 0;
				make_frame(xsk_rs_umem_data(f.umem, slots[i].addr), sent, slots[i].len);
			}
			RING_COUNT(xsk_rs_tx_submit(f.tx, n));
			left -= n;
		}
		if (!ok)
			break;
		ready = comp_wait(&f, S_ROUND, &kicks_ok);
		if (ready != S_ROUND) {
			CHECK(0, "round %u: %u completions (want %u)", sent / S_ROUND, ready, S_ROUND);
			break;
		}
		for (left = S_ROUND; ok && left;) {
			uint32_t ask = span_ask(cs.calls), n;

			e = NULL;
			n = RING_COUNT(xsk_rs_comp_peek_span(f.comp, ask, &e));
			if (!(ok = span_ok(&cs, n, e, cbase, sizeof(*cbase), ask, left)))
				break;
			for (i = 0; i < n; i++, done++) {
				if (e[i] != span_tx_addr(done) && bad++ < 5)
					printf("  completion %u: addr %llu (want %llu)\n", done, (unsigned long long)e[i],
					       (unsigned long long)span_tx_addr(done));
			}
			RING_COUNT(xsk_rs_comp_release(f.comp, n));
			left -= n;
		}
	}
	CHECK(kicks_ok, "every kick succeeded");
	CHECK(sent == S_FRAMES && done == S_FRAMES && bad == 0,
	      "comp_peek_span: the %u addresses read in place, in the order sent (sent %u, completed %u, %u wrong)",
	      S_FRAMES, sent, done, bad);
	CHECK(ok && ts.wrong == 0 && cs.wrong == 0,
	      "%u tx and %u comp spans: each as long as asked, free or ready, or up to the ring's end, and where "
	      "the last one ended", ts.calls, cs.calls);
	CHECK(ts.cut >= 2 && cs.cut >= 2,
	      "the ring's end cut %u tx and %u comp spans short, each followed by one from entry 0", ts.cut, cs.cut);
	e = (const uint64_t *)(uintptr_t)0xdeadbeefu;
	CHECK(RING_COUNT(xsk_rs_comp_peek_span(f.comp, UINT32_MAX, &e)) == 0 &&
		      e == (const uint64_t *)(uintptr_t)0xdeadbeefu,
	      "no completion left over; comp_peek_span on the empty ring leaves *entries alone");
	peer_gets_in_order(S_FRAMES);
	fixture_down(&f);
}

/* ---- (d) statistics ----------------------------------------------------- */

static int stats_sane(const xsk_rs_stats *s)
{
	const uint64_t lim = 1u << 20; /* far above anything these tests provoke */

	return s->rx_dropped < lim && s->rx_invalid_descs < lim && s->tx_invalid_descs < lim &&
	       s->rx_ring_full < lim && s->rx_fill_ring_empty_descs < lim && s->tx_ring_empty_descs < lim;
}

static void print_stats(const xsk_rs_stats *s)
{
	printf("       rx_dropped %llu rx_invalid %llu tx_invalid %llu rx_ring_full %llu fill_empty %llu tx_empty %llu\n",
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_invalid_descs,
	       (unsigned long long)s->tx_invalid_descs, (unsigned long long)s->rx_ring_full,
	       (unsigned long long)s->rx_fill_ring_empty_descs, (unsigned long long)s->tx_ring_empty_descs);
}

static void test_stats(void)
{
	struct fixture f;
	xsk_rs_stats st, before;
	uint64_t addrs[64], deadline;
	xsk_rs_desc d[64];
	uint32_t i, idx, got = 0;
	int rc;

	section("stats");
	if (!fixture_up(&f, NULL, 0))
		return;
	memset(&st, 0xff, sizeof(st));
	rc = xsk_rs_socket_stats(f.sock, &st);
	CHECK(rc == 0, "socket_stats -> 0 (got %d)", rc);
	CHECK(st.rx_dropped == 0 && st.rx_invalid_descs == 0 && st.tx_invalid_descs == 0 && st.rx_ring_full == 0,
	      "a fresh socket has dropped and rejected nothing");
	print_stats(&st);
	CHECK(stats_sane(&st), "counters are plausible");

	/* Frames that arrive while the fill ring is empty are dropped and counted. */
	for (i = 0; i < 4; i++)
		peer_send(ctx.peer, i);
	deadline = now_ms() + WAIT_MS;
	do {
		sleep_ms(20);
		xsk_rs_socket_stats(f.sock, &st);
	} while (st.rx_dropped + st.rx_fill_ring_empty_descs < 4 && now_ms() < deadline);
	print_stats(&st);
	CHECK(st.rx_dropped >= 4, "4 frames with an empty fill ring -> rx_dropped >= 4 (got %llu)",
	      (unsigned long long)st.rx_dropped);
	CHECK(RING_COUNT(xsk_rs_rx_take(f.rx, d, 64)) == 0, "and none of them was delivered");

	/* With frames on the fill ring, delivery works and nothing more is dropped. */
	before = st;
	for (i = 0; i < 64; i++)
		addrs[i] = (uint64_t)i * f.fsize;
	RING_COUNT(xsk_rs_fill_put(f.fill, addrs, 64));
	for (i = 0; i < 8; i++)
		peer_send(ctx.peer, i);
	deadline = now_ms() + WAIT_MS;
	while (got < 8 && now_ms() < deadline) {
		uint32_t n = RING_COUNT(xsk_rs_rx_take(f.rx, d, 64));

		got += n;
		if (!n)
			xsk_rs_socket_poll(f.sock, POLLIN, 100);
	}
	CHECK(got == 8, "8 frames delivered once the fill ring has frames (got %u)", got);
	xsk_rs_socket_stats(f.sock, &st);
	CHECK(st.rx_dropped == before.rx_dropped && st.rx_invalid_descs == 0, "no further drops");

	/* A TX descriptor outside the UMEM is rejected by the kernel and counted. */
	if (RING_COUNT(xsk_rs_tx_reserve(f.tx, 1, &idx)) == 1) {
		xsk_rs_desc *t = xsk_rs_tx_desc(f.tx, idx);

		t->addr = xsk_rs_umem_size(f.umem);
		t->len = 60;
		t->options = 0;
		RING_COUNT(xsk_rs_tx_submit(f.tx, 1));
	}
	deadline = now_ms() + WAIT_MS;
	do {
		kick(f.sock);
		sleep_ms(10);
		xsk_rs_socket_stats(f.sock, &st);
	} while (st.tx_invalid_descs == 0 && now_ms() < deadline);
	print_stats(&st);
	CHECK(st.tx_invalid_descs == 1, "a TX descriptor past the UMEM -> tx_invalid_descs == 1 (got %llu)",
	      (unsigned long long)st.tx_invalid_descs);
	/* Kernels differ: older ones skip an invalid descriptor silently, newer
	 * ones also hand its address back on the completion ring. */
	i = RING_COUNT(xsk_rs_comp_take(f.comp, addrs, 64));
	CHECK(i == 0 || (i == 1 && addrs[0] == xsk_rs_umem_size(f.umem)),
	      "its completion, if any, is that descriptor's address (%u completions)", i);
	CHECK(stats_sane(&st), "counters are plausible");
	fixture_down(&f);
	peer_drain(ctx.peer);
}

/* ---- (f) nothing left behind -------------------------------------------- */

static void test_nothing_left(void)
{
	int state;

	section("cleanup");
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == XDP_NONE, "no XDP program left on %s after destroying everything (ip shows %s)", ctx.if_a,
	      xdp_state_name(state));
}

int main(int argc, char **argv)
{
	int fd_a, fd_b;

	harness_name = "abi_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 6) {
		fprintf(stderr, "usage: %s NS_A IF_A NS_B IF_B skb|drv|auto\n", argv[0]);
		return 2;
	}
	ctx.ns_a = argv[1];
	ctx.if_a = argv[2];
	ctx.ns_b = argv[3];
	ctx.if_b = argv[4];
	if (!strcmp(argv[5], "skb")) {
		ctx.mode = XSK_RS_XDP_MODE_SKB;
		ctx.expect_state = XDP_GENERIC;
	} else if (!strcmp(argv[5], "drv")) {
		ctx.mode = XSK_RS_XDP_MODE_DRV;
		ctx.expect_state = XDP_NATIVE;
	} else if (!strcmp(argv[5], "auto")) {
		ctx.mode = XSK_RS_XDP_MODE_AUTO;
		ctx.expect_state = XDP_NATIVE; /* veth supports native XDP */
	} else {
		fprintf(stderr, "abi_test: unknown XDP mode '%s' (skb, drv or auto)\n", argv[5]);
		return 2;
	}

	fd_a = open_netns(ctx.ns_a);
	fd_b = open_netns(ctx.ns_b);
	enter_netns(fd_b, ctx.ns_b);
	ctx.peer = peer_open(ctx.if_b, PEER_RCVBUF);
	enter_netns(fd_a, ctx.ns_a);
	printf("abi_test: libxsk_rs %s, %s/%s <-> %s/%s, XDP mode %s\n", xsk_rs_version(), ctx.ns_a, ctx.if_a,
	       ctx.ns_b, ctx.if_b, argv[5]);

	test_basics();
	test_misuse();
	test_rx_per_desc();
	test_tx_per_desc();
	test_tx_too_long();
	test_batch();
	test_span_rx();
	test_span_tx();
	test_stats();
	test_nothing_left();

	close(ctx.peer);
	close(fd_a);
	close(fd_b);
	printf("abi_test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
