/*
 * xsk_demo: moves frames from one xsk_rs socket to another across a veth pair
 * and reports the rates once a second.
 *
 *   xsk_demo [-d SECONDS] [-m skb|drv|auto] [-s FRAME_LEN] NS_TX IF_TX NS_RX IF_RX
 *
 * IF_TX (in network namespace NS_TX) and IF_RX (in NS_RX) are the two ends of a
 * veth pair; c-examples/demo.sh sets them up. One thread does everything: it
 * enters NS_RX to create the receiving socket (which attaches xsk_rs's XDP
 * program to IF_RX) and NS_TX to create the sending one (TX only, so no XDP
 * program there). Sockets keep the namespace they were created in, so the
 * loop then drives both from wherever the thread happens to be.
 *
 * The loop uses the batch calls: tx_put/comp_take on the sender,
 * rx_take/fill_put on the receiver, keeping the fill ring topped up so the
 * kernel never runs out of frames to receive into.
 */
#define _GNU_SOURCE /* setns, getopt, sigaction */

#include <xsk_rs.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE 0x88B5 /* IEEE local experimental: nothing else on the veth uses it */
#define BATCH 64
#define FRAMES 4096
#define FRAME_SIZE 2048
#define RING 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "xsk_demo: %s: %s\n", what, xsk_rs_last_error());
	exit(1);
}

static void enter_netns(const char *ns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "xsk_demo: entering network namespace %s: %s\n", ns, strerror(errno));
		exit(1);
	}
	close(fd);
}

/* A UMEM of FRAMES frames and a socket on queue 0 of ifname, for RX or TX. */
static void open_socket(const char *ifname, uint32_t mode, int rx, xsk_rs_umem **umem, xsk_rs_socket **sock)
{
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	char what[128];

	xsk_rs_umem_config_init(&ucfg);
	ucfg.frame_count = FRAMES;
	ucfg.frame_size = FRAME_SIZE;
	/* The ring a side hands its frames back through holds all of them, so a
	 * put there never comes up short: fill on the receiver, comp on the sender. */
	ucfg.fill_size = rx ? FRAMES : RING;
	ucfg.comp_size = rx ? RING : FRAMES;
	if (xsk_rs_umem_create(umem, &ucfg) != 0)
		die("umem_create");
	xsk_rs_socket_config_init(&scfg);
	scfg.rx_size = rx ? RING : 0;
	scfg.tx_size = rx ? 0 : RING;
	scfg.xdp_mode = rx ? mode : XSK_RS_XDP_MODE_NONE; /* a sender needs no XDP program */
	snprintf(what, sizeof(what), "socket_create on %s", ifname);
	if (xsk_rs_socket_create(sock, ifname, 0, *umem, &scfg) != 0)
		die(what);
}

static void print_stats(const char *prefix, const xsk_rs_stats *s)
{
	printf("%sdropped %llu, rx ring full %llu, fill ring empty %llu, invalid %llu\n", prefix,
	       (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_ring_full,
	       (unsigned long long)s->rx_fill_ring_empty_descs, (unsigned long long)s->rx_invalid_descs);
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-d SECONDS] [-m skb|drv|auto] [-s FRAME_LEN] NS_TX IF_TX NS_RX IF_RX\n"
		"  -d  how long to run (default 5)\n"
		"  -m  XDP mode of the receiving side (default auto)\n"
		"  -s  frame length, 60..1500 (default 64)\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	const char *mode_name = "auto";
	uint32_t mode = XSK_RS_XDP_MODE_AUTO, frame_len = 64, seconds = 5;
	xsk_rs_umem *tx_umem, *rx_umem;
	xsk_rs_socket *tx_sock, *rx_sock;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	uint64_t free_tx[FRAMES];
	uint32_t n_free_tx = 0;
	uint64_t sent = 0, completed = 0, received = 0, foreign = 0, gaps = 0, next_seq = 0;
	uint64_t last_sent = 0, last_received = 0;
	double start, tick, end;
	struct sigaction sa;
	xsk_rs_stats st;
	int opt;

	while ((opt = getopt(argc, argv, "d:m:s:h")) != -1) {
		switch (opt) {
		case 'd':
			seconds = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			mode_name = optarg;
			if (!strcmp(optarg, "skb"))
				mode = XSK_RS_XDP_MODE_SKB;
			else if (!strcmp(optarg, "drv"))
				mode = XSK_RS_XDP_MODE_DRV;
			else if (!strcmp(optarg, "auto"))
				mode = XSK_RS_XDP_MODE_AUTO;
			else {
				fprintf(stderr, "xsk_demo: -m takes skb, drv or auto\n");
				return 2;
			}
			break;
		case 's':
			frame_len = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			return usage(argv[0]);
		}
	}
	if (argc - optind != 4 || seconds == 0 || frame_len < 60 || frame_len > 1500)
		return usage(argv[0]);
	const char *ns_tx = argv[optind], *if_tx = argv[optind + 1];
	const char *ns_rx = argv[optind + 2], *if_rx = argv[optind + 3];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	printf("xsk_demo: libxsk_rs %s: %s/%s -> %s/%s, %u-byte frames, XDP mode %s, %u s\n", xsk_rs_version(),
	       ns_tx, if_tx, ns_rx, if_rx, frame_len, mode_name, seconds);

	enter_netns(ns_rx);
	open_socket(if_rx, mode, 1, &rx_umem, &rx_sock);
	enter_netns(ns_tx);
	open_socket(if_tx, mode, 0, &tx_umem, &tx_sock);
	fill = xsk_rs_umem_fill(rx_umem);
	rx = xsk_rs_socket_rx(rx_sock);
	comp = xsk_rs_umem_comp(tx_umem);
	tx = xsk_rs_socket_tx(tx_sock);

	/* Receiver: lend the kernel every frame to receive into. */
	for (uint32_t i = 0; i < FRAMES; i++) {
		uint64_t a = (uint64_t)i * FRAME_SIZE;

		if (xsk_rs_fill_put(fill, &a, 1) != 1)
			die("fill_put");
	}
	/* Sender: write every frame once; only the sequence number changes per send. */
	for (uint32_t i = 0; i < FRAMES; i++) {
		uint8_t *f = xsk_rs_umem_data(tx_umem, (uint64_t)i * FRAME_SIZE);
		static const uint8_t macs[12] = { 0x02, 0x58, 0x53, 0x4b, 0x00, 0x02,
						  0x02, 0x58, 0x53, 0x4b, 0x00, 0x01 };
		uint16_t et = htons(ETHERTYPE);

		memcpy(f, macs, 12);
		memcpy(f + 12, &et, 2);
		for (uint32_t b = 18; b < frame_len; b++)
			f[b] = (uint8_t)b;
		free_tx[n_free_tx++] = (uint64_t)i * FRAME_SIZE;
	}

	start = tick = now_s();
	end = start + seconds;
	while (!stop) {
		xsk_rs_desc descs[BATCH];
		uint64_t addrs[BATCH];
		double t;
		uint32_t n, i;

		/* TX: reclaim finished frames, then queue a batch and kick. */
		n = xsk_rs_comp_take(comp, addrs, BATCH);
		memcpy(free_tx + n_free_tx, addrs, n * sizeof(addrs[0]));
		n_free_tx += n;
		completed += n;
		n = n_free_tx < BATCH ? n_free_tx : BATCH;
		for (i = 0; i < n; i++) {
			uint64_t a = free_tx[n_free_tx - 1 - i];
			uint32_t seq = htonl((uint32_t)(sent + i));

			memcpy((uint8_t *)xsk_rs_umem_data(tx_umem, a) + 14, &seq, 4);
			descs[i].addr = a;
			descs[i].len = frame_len;
			descs[i].options = 0;
		}
		n = xsk_rs_tx_put(tx, descs, n);
		n_free_tx -= n;
		sent += n;
		/* Copy mode always wants the kick: it is the sendto() that transmits. */
		if (xsk_rs_tx_needs_wakeup(tx)) {
			int rc = xsk_rs_socket_kick(tx_sock);

			if (rc != 0 && rc != -EAGAIN && rc != -EBUSY && rc != -ENOBUFS)
				die("kick");
		}

		/* RX: take what arrived, check it, and hand the frames straight back. */
		n = xsk_rs_rx_take(rx, descs, BATCH);
		for (i = 0; i < n; i++) {
			const uint8_t *p = xsk_rs_umem_data(rx_umem, descs[i].addr);
			uint32_t seq;

			if (!p || descs[i].len < 18 || p[12] != (ETHERTYPE >> 8) || p[13] != (ETHERTYPE & 0xff)) {
				foreign++;
			} else {
				memcpy(&seq, p + 14, 4);
				seq = ntohl(seq);
				if (seq != (uint32_t)next_seq)
					gaps++; /* a drop or a reordering */
				next_seq = (uint64_t)seq + 1;
			}
			addrs[i] = descs[i].addr - descs[i].addr % FRAME_SIZE;
		}
		received += n;
		/* Straight back to the fill ring, which has room for every frame. */
		if (xsk_rs_fill_put(fill, addrs, n) != n)
			die("fill_put");
		if (xsk_rs_fill_needs_wakeup(fill))
			xsk_rs_socket_poll(rx_sock, POLLIN, 0);

		t = now_s();
		if (t - tick >= 1.0 || t >= end) {
			double dt = t - tick;

			if (xsk_rs_socket_stats(rx_sock, &st) != 0)
				die("socket_stats");
			printf("%5.1fs  tx %10.0f pps  rx %10.0f pps  | rx socket: ", t - start,
			       (double)(sent - last_sent) / dt, (double)(received - last_received) / dt);
			print_stats("", &st);
			fflush(stdout);
			last_sent = sent;
			last_received = received;
			tick = t;
		}
		if (t >= end)
			break;
	}

	/* Let the last frames land before counting losses. */
	for (double until = now_s() + 0.2; now_s() < until;) {
		xsk_rs_desc descs[BATCH];
		uint64_t addrs[BATCH];

		completed += xsk_rs_comp_take(comp, addrs, BATCH);
		received += xsk_rs_rx_take(rx, descs, BATCH);
		xsk_rs_socket_kick(tx_sock);
	}
	if (xsk_rs_socket_stats(rx_sock, &st) != 0)
		die("socket_stats");
	end = now_s() - start;
	printf("summary: %.1f s, sent %llu (%.0f pps), completed %llu, received %llu (%.0f pps), lost %llu (%.2f%%), "
	       "sequence gaps %llu, foreign %llu\n",
	       end, (unsigned long long)sent, (double)sent / end, (unsigned long long)completed,
	       (unsigned long long)received, (double)received / end,
	       (unsigned long long)(sent > received ? sent - received : 0),
	       sent ? 100.0 * (double)(sent > received ? sent - received : 0) / (double)sent : 0.0,
	       (unsigned long long)gaps, (unsigned long long)foreign);
	print_stats("summary: rx socket: ", &st);

	xsk_rs_socket_destroy(tx_sock);
	xsk_rs_socket_destroy(rx_sock);
	if (xsk_rs_umem_destroy(tx_umem) != 0 || xsk_rs_umem_destroy(rx_umem) != 0)
		die("umem_destroy");
	return received > 0 ? 0 : 1;
}
