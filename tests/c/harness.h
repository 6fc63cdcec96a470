/*
 * harness.h: what the C tests and their peer tools share (abi_test.c,
 * hostile_test.c, threads_test.c, peer_send.c, peer_recv.c): counted checks,
 * the test frame layout of tests/common/mod.rs, moving between network
 * namespaces, the AF_PACKET peer on the other end of the veth pair, waiting
 * for the RX ring, and the XDP attachment as ip(8) reports it. Header-only
 * (static inline), so each test stays one translation unit built with the
 * strict flags of tests/c/run.sh.
 *
 * The including file defines _GNU_SOURCE first and sets `harness_name` for
 * diagnostics.
 */
#ifndef XSK_RS_TEST_HARNESS_H
#define XSK_RS_TEST_HARNESS_H

#include <xsk_rs.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"

/* The test program's name, for messages that exit early. */
static const char *harness_name;

/* ---- reporting ---------------------------------------------------------- */

static unsigned passed, failed;

__attribute__((format(printf, 4, 5))) static inline int check_at(const char *file, int line, int ok,
								   const char *fmt, ...)
{
	va_list ap;

	printf("  %s  ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf("  [%s:%d]", file, line);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
	return ok;
}

/* One counted check; evaluates to whether it held. */
#define CHECK(cond, ...) check_at(__FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__)

/* A fallible xsk_rs call must return exactly `want` (0 or a negative errno). */
#define CHECK_RC(call, want)                                                             \
	do {                                                                             \
		int rc_ = (call);                                                        \
		check_at(__FILE__, __LINE__, rc_ == (want), "%s == %s (got %d%s%s)", #call, #want, \
			 rc_, rc_ ? ": " : "", rc_ ? errmsg() : "");          \
	} while (0)

static inline void section(const char *name)
{
	printf("%s\n", name);
	fflush(stdout);
}

/* The thread's last error message, printable even if the library has none. */
static inline const char *errmsg(void)
{
	const char *m = xsk_rs_last_error();

	return m ? m : "(no message)";
}

/*
 * A ring call's count or flag (>= 0) as uint32_t. A negative return is the
 * call refusing its arguments (misuse): a failed check, and 0. For the
 * fixtures, whose calls must never be refused; single-threaded callers only.
 */
static inline uint32_t ring_count_at(const char *file, int line, int rc, const char *call)
{
	if (rc >= 0)
		return (uint32_t)rc;
	check_at(file, line, 0, "%s refused: %d: %s", call, rc, errmsg());
	return 0;
}

#define RING_COUNT(call) ring_count_at(__FILE__, __LINE__, (call), #call)

/* 1 when the running kernel is at least major.minor (uname's release, e.g. 6.1.0-50-cloud-amd64). */
static inline int kernel_at_least(unsigned major, unsigned minor)
{
	struct utsname u;
	unsigned ma = 0, mi = 0;

	if (uname(&u) != 0 || sscanf(u.release, "%u.%u", &ma, &mi) != 2) {
		fprintf(stderr, "cannot read the kernel version from uname\n");
		exit(2);
	}
	return ma > major || (ma == major && mi >= minor);
}


/* ---- test frames (frame.h has the layout) ------------------------------- */

#define MAX_FRAME 1500
#define WAIT_MS 5000
#define PEER_RCVBUF (8 << 20) /* the tests' peer: room for their bursts */

/* Lengths spread over 60..1500, both ends included. */
static inline uint32_t frame_len(uint32_t seq)
{
	if (seq % 16 == 1)
		return MAX_FRAME;
	return 60 + (seq * 367u) % (MAX_FRAME - 60);
}

static inline int is_test_frame(const uint8_t *f, uint32_t len)
{
	return len >= TEST_HDR_LEN && f[12] == (TEST_ETHERTYPE >> 8) && f[13] == (TEST_ETHERTYPE & 0xff);
}

/* True when f[0..len) is exactly test frame `seq`. */
static inline int frame_matches(const uint8_t *f, uint32_t len, uint32_t seq)
{
	uint8_t want[MAX_FRAME];

	if (len != frame_len(seq))
		return 0;
	make_frame(want, seq, len);
	return memcmp(f, want, len) == 0;
}

/* ---- namespaces and the AF_PACKET peer ---------------------------------- */

static inline int open_netns(const char *ns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: open %s: %s\n", harness_name, path, strerror(errno));
		exit(2);
	}
	return fd;
}

static inline void enter_netns(int fd, const char *ns)
{
	if (setns(fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "%s: setns %s: %s\n", harness_name, ns, strerror(errno));
		exit(2);
	}
}

/*
 * An AF_PACKET socket bound to `ifname` in the calling thread's namespace, with
 * a receive buffer of `rcvbuf` bytes (the tests send whole bursts before
 * reading them back). Exits with 2 and a message when that is impossible.
 */
static inline int peer_open(const char *ifname, int rcvbuf)
{
	struct sockaddr_ll sll;
	unsigned ifindex = if_nametoindex(ifname);
	int fd;

	if (!ifindex) {
		fprintf(stderr, "%s: peer interface %s: %s\n", harness_name, ifname, strerror(errno));
		exit(2);
	}
	/* Protocol 0: nothing is queued until bind() picks the interface. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: AF_PACKET socket: %s\n", harness_name, strerror(errno));
		exit(2);
	}
	/* SO_RCVBUFFORCE passes the rmem_max limit, with CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0) {
		fprintf(stderr, "%s: SO_RCVBUF %d: %s\n", harness_name, rcvbuf, strerror(errno));
		exit(2);
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "%s: bind AF_PACKET to %s: %s\n", harness_name, ifname, strerror(errno));
		exit(2);
	}
	return fd;
}

static inline int peer_send(int fd, uint32_t seq)
{
	uint8_t buf[MAX_FRAME];
	uint32_t len = frame_len(seq);

	make_frame(buf, seq, len);
	return send(fd, buf, len, 0) == (ssize_t)len;
}

/*
 * The next incoming test frame into buf (cut to cap bytes), or -1 after
 * timeout_ms. Skips frames sent from this host (an ETH_P_ALL
 * socket sees them as PACKET_OUTGOING) and anything that is not a test frame.
 */
static inline int peer_recv_cap(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	uint8_t big[65536];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t alen = sizeof(from);
		uint64_t t = now_ms();
		ssize_t n;

		if (t >= deadline)
			return -1;
		if (poll(&pfd, 1, (int)(deadline - t)) <= 0)
			continue;
		n = recvfrom(fd, big, sizeof(big), MSG_DONTWAIT, (struct sockaddr *)&from, &alen);
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING || !is_test_frame(big, (uint32_t)n))
			continue;
		if ((size_t)n > cap)
			n = (ssize_t)cap;
		memcpy(buf, big, (size_t)n);
		return (int)n;
	}
}

/* peer_recv_cap for frames of the standard MTU: into buf (MAX_FRAME bytes). */
static inline int peer_recv(int fd, uint8_t *buf, int timeout_ms)
{
	return peer_recv_cap(fd, buf, MAX_FRAME, timeout_ms);
}

/*
 * The veth pair a test runs on, from argv: NS_A IF_A NS_B IF_B skb|drv.
 * Returns 0, or 2 after printing the usage (and `more`, a further usage
 * line, unless NULL).
 */
static inline int pair_args(int argc, char **argv, const char **ns_a, const char **if_a, const char **ns_b,
			    const char **if_b, uint32_t *mode, const char *more)
{
	if (argc != 6 || (strcmp(argv[5], "skb") && strcmp(argv[5], "drv"))) {
		fprintf(stderr, "usage: %s NS_A IF_A NS_B IF_B skb|drv\n", argv[0]);
		if (more)
			fprintf(stderr, "       %s %s\n", argv[0], more);
		return 2;
	}
	*ns_a = argv[1];
	*if_a = argv[2];
	*ns_b = argv[3];
	*if_b = argv[4];
	*mode = strcmp(argv[5], "drv") ? XSK_RS_XDP_MODE_SKB : XSK_RS_XDP_MODE_DRV;
	return 0;
}

/* Drops whatever the peer has queued (left over from an earlier test). */
static inline void peer_drain(int fd)
{
	uint8_t buf[MAX_FRAME];

	while (peer_recv(fd, buf, 50) >= 0)
		;
}

/* ---- waiting on the RX ring ---------------------------------------------- */

/*
 * Entries ready on the RX ring once there are `want`, or when ms have passed.
 * Counted with peek and cancel, so nothing is taken.
 */
static inline uint32_t rx_ready(xsk_rs_rx *rx, xsk_rs_socket *sock, uint32_t want, unsigned ms)
{
	uint64_t deadline = now_ms() + ms;
	uint32_t idx, n;

	for (;;) {
		n = RING_COUNT(xsk_rs_rx_peek(rx, UINT32_MAX, &idx));
		RING_COUNT(xsk_rs_rx_cancel(rx, n));
		if (n >= want || now_ms() >= deadline)
			return n;
		/* poll() returns at once while anything is ready: then just wait a little. */
		if (n)
			sleep_ms(1);
		else
			xsk_rs_socket_poll(sock, POLLIN, 20);
	}
}

/* ---- XDP attachment, as ip(8) reports it -------------------------------- */

enum { XDP_NONE, XDP_GENERIC, XDP_NATIVE, XDP_OTHER, XDP_UNKNOWN };

static inline const char *xdp_state_name(int s)
{
	static const char *const names[] = { "none", "generic (skb)", "native (drv)", "other", "unknown" };

	return names[s];
}

static inline int xdp_state(const char *ns, const char *ifname)
{
	char cmd[512], word[128];
	int state = XDP_NONE;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip -n '%s' -d link show dev '%s' 2>/dev/null", ns, ifname);
	p = popen(cmd, "r");
	if (!p)
		return XDP_UNKNOWN;
	while (fscanf(p, "%127s", word) == 1) {
		if (!strcmp(word, "xdpgeneric") || !strcmp(word, "prog/xdpgeneric"))
			state = XDP_GENERIC;
		else if ((!strcmp(word, "xdp") || !strcmp(word, "xdpdrv") || !strcmp(word, "prog/xdp") ||
			  !strcmp(word, "prog/xdpdrv")) && state == XDP_NONE)
			state = XDP_NATIVE;
		else if (!strncmp(word, "xdp", 3) && strlen(word) > 3 && state == XDP_NONE)
			state = XDP_OTHER;
	}
	if (pclose(p) != 0)
		return XDP_UNKNOWN;
	return state;
}

#endif /* XSK_RS_TEST_HARNESS_H */
