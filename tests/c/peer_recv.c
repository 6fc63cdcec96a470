/*
 * peer_recv: receives numbered test frames (EtherType 0x88B5, the layout that
 * peer_send.c sends and xsk_bench's txonly generates) on an interface with an
 * AF_PACKET socket, in the caller's network namespace, and checks every byte.
 * tests/reach/bench.sh uses it as the far end of xsk_bench txonly and l2fwd.
 *
 *   peer_recv [-l LEN] [-p seq|fixed] [-x] [-t TIMEOUT_MS] [-w LINGER_MS] IFNAME COUNT
 *
 *   -l LEN         every frame must be LEN bytes long (default: any length >= 18)
 *   -p seq         payload byte 18 + i = (seq * 131 + i * 7 + 1) & 0xff, as
 *                  peer_send writes it (default)
 *   -p fixed       payload byte 18 + i = (i * 7 + 1) & 0xff, as xsk_bench
 *                  txonly writes it (peer_send's pattern for sequence 0)
 *   -x             expect the MACs swapped (dst 02:58:53:4b:00:01, src ..:02),
 *                  as xsk_bench l2fwd sends frames back; default dst ..:02,
 *                  src ..:01
 *   -t TIMEOUT_MS  give up this long after start-up (default 10000)
 *   -w LINGER_MS   after COUNT frames, keep listening this long and count any
 *                  further test frame as extra (default 0)
 *
 * Frames this host sends itself (PACKET_OUTGOING) and other EtherTypes are
 * ignored. Frame k (from 0) must carry the big-endian sequence number k in
 * bytes 14..17: the sender's order, nothing lost, nothing repeated. Prints
 * "ready" on stderr once the socket is bound, the first few mismatches on
 * stderr, and one result line on stdout:
 *
 *   peer_recv: frames=N expected=COUNT bad=N extra=N kernel_drops=N
 *
 * (kernel_drops: frames the AF_PACKET socket itself lost, PACKET_STATISTICS).
 * Exits 0 only when exactly COUNT frames arrived and all were as expected;
 * 1 otherwise; 2 for bad usage or an interface it cannot open.
 */
#define _GNU_SOURCE /* getopt, clock_gettime, setns with -std=c11 */
#include "harness.h"

#include <stdbool.h>

#define MAX_REPORTS 10 /* mismatches described on stderr */

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-l LEN] [-p seq|fixed] [-x] [-t TIMEOUT_MS] [-w LINGER_MS] IFNAME COUNT\n",
		argv0);
	return 2;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

/* Why frame number k (len bytes at p) is not what was expected, or NULL. */
static const char *check(const uint8_t *p, size_t len, unsigned long k, unsigned long want_len, bool fixed,
			 bool swapped, char *why, size_t why_sz)
{
	uint32_t seq;

	if (len < TEST_HDR_LEN || (want_len && len != want_len)) {
		snprintf(why, why_sz, "length %zu, expected %lu", len, want_len ? want_len : (unsigned long)TEST_HDR_LEN);
		return why;
	}
	if (memcmp(p, swapped ? src_mac : dst_mac, 6) || memcmp(p + 6, swapped ? dst_mac : src_mac, 6)) {
		snprintf(why, why_sz, "MACs %02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x%s", p[6],
			 p[7], p[8], p[9], p[10], p[11], p[0], p[1], p[2], p[3], p[4], p[5],
			 swapped ? " (expected swapped)" : "");
		return why;
	}
	seq = frame_seq(p);
	if (seq != (uint32_t)k) {
		snprintf(why, why_sz, "sequence %u, expected %lu", seq, k);
		return why;
	}
	for (size_t i = 0; i + TEST_HDR_LEN < len; i++) {
		uint8_t want = (uint8_t)((fixed ? 0 : seq * 131u) + i * 7u + 1u);

		if (p[TEST_HDR_LEN + i] != want) {
			snprintf(why, why_sz, "byte %zu is 0x%02x, expected 0x%02x", TEST_HDR_LEN + i, p[TEST_HDR_LEN + i],
				 want);
			return why;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long want_len = 0, count, timeout_ms = 10000, linger_ms = 0, frames = 0, bad = 0, extra = 0;
	bool fixed = false, swapped = false;
	static uint8_t buf[65536];
	struct tpacket_stats tps;
	socklen_t tps_len = sizeof(tps);
	uint64_t deadline;
	int opt, fd;

	while ((opt = getopt(argc, argv, "l:p:xt:w:")) != -1) {
		switch (opt) {
		case 'l':
			if (!parse_num(optarg, 65535, &want_len) || want_len < 18)
				return usage(argv[0]);
			break;
		case 'p':
			if (!strcmp(optarg, "fixed"))
				fixed = true;
			else if (!strcmp(optarg, "seq"))
				fixed = false;
			else
				return usage(argv[0]);
			break;
		case 'x':
			swapped = true;
			break;
		case 't':
			if (!parse_num(optarg, 86400000, &timeout_ms))
				return usage(argv[0]);
			break;
		case 'w':
			if (!parse_num(optarg, 86400000, &linger_ms))
				return usage(argv[0]);
			break;
		default:
			return usage(argv[0]);
		}
	}
	if (argc - optind != 2 || !parse_num(argv[optind + 1], 0xffffffffUL, &count) || count == 0)
		return usage(argv[0]);

	harness_name = "peer_recv";
	/* Room for a whole burst: the senders do not wait for us. */
	fd = peer_open(argv[optind], 64 << 20);
	fprintf(stderr, "ready\n");
	fflush(stderr);

	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct sockaddr_ll from;
		socklen_t from_len = sizeof(from);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ms(), left = deadline > t ? deadline - t : 0;
		char why[160];
		ssize_t len;
		int rc;

		if (left == 0)
			break;
		rc = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (rc < 0 && errno != EINTR) {
			perror("peer_recv: poll");
			return 1;
		}
		if (rc <= 0)
			continue;
		/* MSG_TRUNC: the real length, even of a frame larger than buf. */
		len = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			perror("peer_recv: recvfrom");
			return 1;
		}
		if (from.sll_pkttype == PACKET_OUTGOING || len < 14 || buf[12] != (TEST_ETHERTYPE >> 8) ||
		    buf[13] != (TEST_ETHERTYPE & 0xff))
			continue;
		if (frames == count) {
			if (extra++ < MAX_REPORTS)
				fprintf(stderr, "peer_recv: extra frame after %lu, %zd bytes\n", count, len);
			continue;
		}
		if ((size_t)len > sizeof(buf)) {
			snprintf(why, sizeof(why), "length %zd, larger than %zu", len, sizeof(buf));
		} else if (!check(buf, (size_t)len, frames, want_len, fixed, swapped, why, sizeof(why))) {
			why[0] = 0;
		}
		if (why[0] && bad++ < MAX_REPORTS)
			fprintf(stderr, "peer_recv: frame %lu: %s\n", frames, why);
		if (++frames == count) {
			/* Done: linger for extras, or stop now. */
			if (!linger_ms)
				break;
			deadline = now_ms() + linger_ms;
		}
	}

	memset(&tps, 0, sizeof(tps));
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &tps, &tps_len) != 0) {
		perror("peer_recv: PACKET_STATISTICS");
		return 1;
	}
	close(fd);
	printf("peer_recv: frames=%lu expected=%lu bad=%lu extra=%lu kernel_drops=%u\n", frames, count, bad, extra,
	       tps.tp_drops);
	return frames == count && !bad && !extra ? 0 : 1;
}
