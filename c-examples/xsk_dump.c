/*
 * xsk_dump: captures the packets of one interface queue into a pcap file,
 * with nanosecond timestamps.
 *
 *   xsk_dump -i IFNAME [-q QUEUE] [-m auto|skb|drv] -w FILE|- [-s SNAPLEN]
 *            [-c COUNT] [-d SECONDS] [-U]
 *
 * The file is classic pcap (magic 0xa1b23c4d: nanosecond resolution, version
 * 2.4, LINKTYPE_ETHERNET), which tcpdump -r and tshark -r read. Capture stops
 * after COUNT packets, after SECONDS, or on SIGINT/SIGTERM; in every case the
 * records already taken are written out whole before exit. "ready" goes to
 * stderr once the socket is bound, and a last line on stderr says how much was
 * captured and what the kernel's counters say was dropped.
 *
 * How it works: one AF_XDP socket with an RX ring only on QUEUE of IFNAME,
 * which attaches xsk_rs's XDP program there. Note that this program redirects
 * the queue's packets to the socket, so while xsk_dump runs they do not reach
 * the kernel's network stack: it is a capture that takes the traffic, not a
 * passive tap. Every frame of the UMEM is lent to the kernel up front, and the
 * fill ring has room for twice as many, so handing a batch back with fill_put
 * never comes up short (see main) and the kernel always has frames to receive
 * into. The loop takes a batch with rx_take, stamps it with CLOCK_REALTIME,
 * copies it into stdio's buffer (fwrite) and gives the frames straight back.
 * When the RX ring is empty it sleeps in poll() for at most POLL_MS, so a
 * duration limit or a signal is noticed quickly without spinning.
 *
 * Exit status: 0 on success, 1 when something failed (the message names it,
 * with xsk_rs_last_error() for library calls), 2 for bad usage.
 */
#define _GNU_SOURCE /* getopt, sigaction, clock_gettime with -std=c11 */

#include <xsk_rs.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FRAMES 4096
#define FRAME_SIZE 4096
#define RX_RING FRAMES
#define BATCH 64
#define POLL_MS 100
#define DEFAULT_SNAPLEN 262144 /* tcpdump's default */
#define OUT_BUFFER (1 << 20)

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define LINKTYPE_ETHERNET 1

/* pcap file header and record header; written in host byte order, which
 * readers recognise from the magic. */
struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_header {
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t incl_len;
	uint32_t orig_len;
};

static volatile sig_atomic_t stop;

/* What XSK_RS_XDP_MODE_AUTO settled on, for the summary. */
static const char *mode_string(int mode)
{
	switch (mode) {
	case XSK_RS_XDP_MODE_SKB:
		return "skb";
	case XSK_RS_XDP_MODE_DRV:
		return "drv";
	case XSK_RS_XDP_MODE_NONE:
		return "none";
	default:
		return "unknown";
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: xsk_dump -i IFNAME [-q QUEUE] [-m auto|skb|drv] -w FILE|- [-s SNAPLEN] [-c COUNT]\n"
		"                [-d SECONDS] [-U]\n"
		"  -i  interface to capture on\n"
		"  -q  its queue (default 0)\n"
		"  -m  XDP mode of the redirect program (default auto)\n"
		"  -w  pcap file to write, - for stdout\n"
		"  -s  bytes kept of each packet, 1..%u (default and 0: %u)\n"
		"  -c  stop after COUNT packets\n"
		"  -d  stop after SECONDS (may be fractional)\n"
		"  -U  flush the file after every batch (for a live pipe into tcpdump -r -)\n"
		"SIGINT or SIGTERM stop the capture too; the file is complete either way.\n",
		DEFAULT_SNAPLEN, DEFAULT_SNAPLEN);
	return 2;
}

/* A whole number in [min, max], or -1 (with a message) for anything else. */
static long long parse_uint(const char *opt, const char *s, unsigned long long min, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '-' || end == s || *end || errno || v < min || v > max) {
		fprintf(stderr, "xsk_dump: %s wants a number from %llu to %llu, not '%s'\n", opt, min, max, s);
		return -1;
	}
	return (long long)v;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes n bytes to out, or reports why not. Errors may also surface only at
 * the flush, which finish_output checks. */
static int put(FILE *out, const char *name, const void *p, size_t n)
{
	if (fwrite(p, 1, n, out) == n)
		return 0;
	fprintf(stderr, "xsk_dump: writing %s: %s\n", name, strerror(errno));
	return -1;
}

/* Flushes and closes out; reports a failure unless one was reported already. */
static int finish_output(FILE *out, const char *name, int reported)
{
	int rc = 0;

	if (fflush(out) != 0 || ferror(out)) {
		if (!reported)
			fprintf(stderr, "xsk_dump: writing %s: %s\n", name, strerror(errno ? errno : EIO));
		rc = -1;
	}
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		if (!reported)
			fprintf(stderr, "xsk_dump: closing %s: %s\n", name, strerror(errno));
		rc = -1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *path = NULL, *mode_name = "auto";
	uint32_t mode = XSK_RS_XDP_MODE_AUTO, queue = 0, snaplen = DEFAULT_SNAPLEN;
	uint64_t count = 0, packets = 0, wire_bytes = 0, file_bytes = 0;
	double seconds = 0, start, elapsed, deadline = 0;
	int flush_each = 0, failed = 0, write_failed = 0, opt;
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	xsk_rs_umem *umem = NULL;
	xsk_rs_socket *sock = NULL;
	xsk_rs_fill *fill;
	xsk_rs_rx *rx;
	xsk_rs_stats st;
	struct sigaction sa;
	const char *out_name;
	FILE *out;
	long long v;

	while ((opt = getopt(argc, argv, "i:q:m:w:s:c:d:Uh")) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'q':
			if ((v = parse_uint("-q", optarg, 0, UINT32_MAX)) < 0)
				return 2;
			queue = (uint32_t)v;
			break;
		case 'm':
			mode_name = optarg;
			if (!strcmp(optarg, "auto"))
				mode = XSK_RS_XDP_MODE_AUTO;
			else if (!strcmp(optarg, "skb"))
				mode = XSK_RS_XDP_MODE_SKB;
			else if (!strcmp(optarg, "drv"))
				mode = XSK_RS_XDP_MODE_DRV;
			else {
				fprintf(stderr, "xsk_dump: -m takes auto, skb or drv, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'w':
			path = optarg;
			break;
		case 's':
			if ((v = parse_uint("-s", optarg, 0, DEFAULT_SNAPLEN)) < 0)
				return 2;
			snaplen = v ? (uint32_t)v : DEFAULT_SNAPLEN;
			break;
		case 'c':
			if ((v = parse_uint("-c", optarg, 1, UINT64_MAX >> 1)) < 0)
				return 2;
			count = (uint64_t)v;
			break;
		case 'd': {
			char *end;

			errno = 0;
			seconds = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(seconds > 0) || seconds > 1e9) {
				fprintf(stderr, "xsk_dump: -d wants a positive number of seconds, not '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'U':
			flush_each = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || !ifname || !path)
		return usage();

	/* No SA_RESTART: a signal cuts poll() short, so it is seen at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A reader that goes away is a write error (EPIPE), reported like any other. */
	signal(SIGPIPE, SIG_IGN);

	/* The kernel publishes how far it has read the fill ring lazily, so a
	 * frame already back on the RX ring may still count as in the fill ring
	 * (see fill_size in xsk_rs.h): with twice as many fill slots as frames,
	 * fill_put never comes up short. The RX ring holds every frame, so the
	 * kernel finds no free frame before it finds a full RX ring. */
	xsk_rs_umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = FRAMES;
	ucfg.frame_size = FRAME_SIZE;
	ucfg.fill_size = 2 * FRAMES;
	if (xsk_rs_umem_create(&umem, &ucfg) != 0) {
		fprintf(stderr, "xsk_dump: creating the UMEM: %s\n", xsk_rs_last_error());
		return 1;
	}
	xsk_rs_socket_config_init(&scfg, sizeof(scfg));
	scfg.rx_size = RX_RING;
	scfg.tx_size = 0;
	scfg.xdp_mode = mode;
	if (xsk_rs_socket_create(&sock, ifname, queue, umem, &scfg) != 0) {
		fprintf(stderr, "xsk_dump: capturing on %s queue %u (XDP mode %s): %s\n", ifname, queue, mode_name,
			xsk_rs_last_error());
		xsk_rs_umem_destroy(umem);
		return 1;
	}
	fill = xsk_rs_umem_fill(umem);
	rx = xsk_rs_socket_rx(sock);
	for (uint32_t i = 0; i < FRAMES; i++) {
		uint64_t a = (uint64_t)i * FRAME_SIZE;

		if (xsk_rs_fill_put(fill, &a, 1) != 1) {
			fprintf(stderr, "xsk_dump: filling the fill ring: %s\n", xsk_rs_last_error());
			failed = 1;
			goto out_socket;
		}
	}

	if (!strcmp(path, "-")) {
		out = stdout;
		out_name = "stdout";
	} else {
		out = fopen(path, "wb");
		out_name = path;
		if (!out) {
			fprintf(stderr, "xsk_dump: opening %s: %s\n", path, strerror(errno));
			failed = 1;
			goto out_socket;
		}
	}
	setvbuf(out, NULL, _IOFBF, OUT_BUFFER);
	{
		struct pcap_file_header fh = {
			.magic = PCAP_MAGIC_NSEC,
			.version_major = 2,
			.version_minor = 4,
			.thiszone = 0,
			.sigfigs = 0,
			.snaplen = snaplen,
			.linktype = LINKTYPE_ETHERNET,
		};

		if (put(out, out_name, &fh, sizeof(fh)) != 0) {
			failed = write_failed = 1;
			goto out_file;
		}
		file_bytes = sizeof(fh);
		if (flush_each && fflush(out) != 0) {
			fprintf(stderr, "xsk_dump: writing %s: %s\n", out_name, strerror(errno));
			failed = write_failed = 1;
			goto out_file;
		}
	}

	fprintf(stderr, "ready\n");
	fflush(stderr);
	start = mono_now();
	if (seconds > 0)
		deadline = start + seconds;

	/* After a stop (signal or deadline) what is already on the RX ring is
	 * still taken, at most a ring's worth, without waiting for more. */
	for (uint32_t draining = 0, drained = 0; count == 0 || packets < count;) {
		xsk_rs_desc descs[BATCH];
		uint64_t addrs[BATCH];
		struct timespec ts;
		int n, i;

		if (!draining && (stop || (deadline > 0 && mono_now() >= deadline)))
			draining = 1;
		if (draining && drained >= RX_RING)
			break;
		n = xsk_rs_rx_take(rx, descs, BATCH);
		if (n < 0) { /* misuse: a count is never negative */
			fprintf(stderr, "xsk_dump: %s\n", xsk_rs_last_error());
			failed = 1;
			break;
		}
		if (draining)
			drained += (uint32_t)n;
		if (n == 0) {
			int timeout = POLL_MS, rc;

			if (draining)
				break;
			if (deadline > 0) {
				double left = deadline - mono_now();

				if (left * 1000 < timeout)
					timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
			}
			rc = xsk_rs_socket_poll(sock, POLLIN, timeout);
			if (rc < 0 && rc != -EINTR) {
				fprintf(stderr, "xsk_dump: poll: %s\n", xsk_rs_last_error());
				failed = 1;
				break;
			}
			continue;
		}
		/* One timestamp for the whole batch: when it left the RX ring. */
		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < n; i++) {
			const uint8_t *data = xsk_rs_umem_data(umem, descs[i].addr);
			struct pcap_record_header rh;

			addrs[i] = xsk_rs_umem_frame_start(umem, descs[i].addr);
			if (failed || (count && packets == count))
				continue; /* past the limit: only hand the frame back */
			if (!data) {
				fprintf(stderr, "xsk_dump: RX descriptor address %#llx is outside the UMEM\n",
					(unsigned long long)descs[i].addr);
				failed = 1;
				continue;
			}
			rh.ts_sec = (uint32_t)ts.tv_sec;
			rh.ts_nsec = (uint32_t)ts.tv_nsec;
			rh.orig_len = descs[i].len;
			rh.incl_len = descs[i].len < snaplen ? descs[i].len : snaplen;
			if (put(out, out_name, &rh, sizeof(rh)) != 0 || put(out, out_name, data, rh.incl_len) != 0) {
				failed = write_failed = 1;
				continue;
			}
			packets++;
			wire_bytes += rh.orig_len;
			file_bytes += sizeof(rh) + rh.incl_len;
		}
		if (xsk_rs_fill_put(fill, addrs, (uint32_t)n) != n) {
			fprintf(stderr, "xsk_dump: fill ring has no room for frames it lent out: %s\n",
				xsk_rs_last_error());
			failed = 1;
		}
		/* Under steady traffic the loop never reaches the poll() above; a
		 * driver that wants a wakeup to take the new fill entries gets one. */
		if (xsk_rs_fill_needs_wakeup(fill) > 0)
			xsk_rs_socket_poll(sock, POLLIN, 0);
		if (!failed && flush_each && fflush(out) != 0) {
			fprintf(stderr, "xsk_dump: writing %s: %s\n", out_name, strerror(errno));
			failed = write_failed = 1;
		}
		if (failed)
			break;
	}

	elapsed = mono_now() - start;
	if (finish_output(out, out_name, write_failed) != 0)
		failed = write_failed = 1;
	/* The counters say whether the kernel lost packets before they reached
	 * the RX ring; a user needs that to trust the file. */
	if (xsk_rs_socket_stats(sock, &st) != 0) {
		fprintf(stderr, "xsk_dump: reading the socket's counters: %s\n", xsk_rs_last_error());
		failed = 1;
	} else {
		uint64_t lost = st.rx_dropped + st.rx_ring_full + st.rx_invalid_descs;
		const char *verdict = write_failed ? "the file is INCOMPLETE (write error)"
				      : lost	     ? "the kernel DROPPED packets: the capture is incomplete"
						     : "no drops";

		fprintf(stderr,
			"xsk_dump: captured %llu packets (%llu bytes on the wire) on %s queue %u (XDP mode %s) in %.3f s, "
			"%llu bytes of pcap for %s; kernel: rx_dropped=%llu rx_ring_full=%llu rx_invalid_descs=%llu "
			"rx_fill_ring_empty_descs=%llu; %s\n",
			(unsigned long long)packets, (unsigned long long)wire_bytes, ifname, queue,
			mode_string(xsk_rs_socket_xdp_mode(sock)), elapsed,
			(unsigned long long)file_bytes, out_name, (unsigned long long)st.rx_dropped,
			(unsigned long long)st.rx_ring_full, (unsigned long long)st.rx_invalid_descs,
			(unsigned long long)st.rx_fill_ring_empty_descs, verdict);
	}
	goto out_socket;
out_file:
	/* The header could not be written. */
	finish_output(out, out_name, 1);
	fprintf(stderr, "xsk_dump: %s is incomplete\n", out_name);
out_socket:
	xsk_rs_socket_destroy(sock);
	if (xsk_rs_umem_destroy(umem) != 0) {
		fprintf(stderr, "xsk_dump: destroying the UMEM: %s\n", xsk_rs_last_error());
		failed = 1;
	}
	return failed ? 1 : 0;
}
