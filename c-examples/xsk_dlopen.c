/*
 * xsk_dlopen: sends frames from one xsk_rs socket to another across a veth
 * pair, using libxsk_rs only through dlopen()/dlsym(): the binary has no
 * link-time dependency on the library (readelf -d lists no libxsk_rs).
 *
 *   xsk_dlopen [-m auto|skb|drv] NS_TX IF_TX NS_RX IF_RX [COUNT]
 *
 * IF_TX (in network namespace NS_TX, i.e. /run/netns/NS_TX) and IF_RX (in
 * NS_RX) are the two ends of a veth pair. COUNT frames (default 1000) in the
 * test layout (EtherType 0x88B5, big-endian sequence number at 14, byte 18+i =
 * seq*131 + i*7 + 1) with lengths from 60 to 1500 go from IF_TX to IF_RX, and
 * every one that arrives is checked byte for byte. Exit status 0 only when all
 * COUNT arrived intact and everything was torn down cleanly; 1 otherwise
 * (also when the library cannot be loaded or lacks a function); 2 for usage.
 *
 * How it works: dlopen("libxsk_rs.so.0") finds the library the way the
 * dynamic loader finds any (LD_LIBRARY_PATH, the ld.so cache, ...). xsk_rs.h
 * is included for its types and constants only. Every function comes from
 * dlsym() into a pointer of the type the header declares: the api table below
 * names each one once, and the compiler checks each pointer's type against the
 * header's prototype in an unevaluated sizeof, which references no symbol. One
 * thread enters NS_RX to create the receiving UMEM and socket (attaching
 * xsk_rs's XDP program to IF_RX) and NS_TX for a TX-only socket, which
 * attaches nothing. Sockets keep the namespace they were created in, so the
 * loop then drives both: tx_put/comp_take and a kick on the sender,
 * rx_take/fill_put on the receiver, with at most WINDOW frames in flight so
 * the RX ring never overflows.
 */
#define _GNU_SOURCE /* setns, getopt, dlinfo */

#include <xsk_rs.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIBNAME "libxsk_rs.so.0"
#define FRAMES 4096
#define FRAME_SIZE 2048
#define RING 2048
#define BATCH 64
#define WINDOW 512 /* frames sent but not yet received; well below the RX ring */
#define MAX_COUNT 10000000
#define IDLE_LIMIT_S 5.0 /* give up when nothing moves for this long */
#define ETHERTYPE 0x88B5
#define MIN_LEN 60
#define MAX_LEN 1500

/* The functions this program uses, as the header declares them. */
static struct {
	const char *(*version)(void);
	const char *(*last_error)(void);
	int (*umem_config_init)(struct xsk_rs_umem_config *cfg, size_t sz);
	int (*umem_create)(struct xsk_rs_umem **out, const struct xsk_rs_umem_config *cfg);
	int (*umem_destroy)(struct xsk_rs_umem *umem);
	void *(*umem_data)(const struct xsk_rs_umem *umem, uint64_t addr);
	struct xsk_rs_fill *(*umem_fill)(struct xsk_rs_umem *umem);
	struct xsk_rs_comp *(*umem_comp)(struct xsk_rs_umem *umem);
	int (*socket_config_init)(struct xsk_rs_socket_config *cfg, size_t sz);
	int (*socket_create)(struct xsk_rs_socket **out, const char *ifname, uint32_t queue_id,
			     struct xsk_rs_umem *umem, const struct xsk_rs_socket_config *cfg);
	void (*socket_destroy)(struct xsk_rs_socket *sock);
	struct xsk_rs_rx *(*socket_rx)(struct xsk_rs_socket *sock);
	struct xsk_rs_tx *(*socket_tx)(struct xsk_rs_socket *sock);
	int (*socket_kick)(struct xsk_rs_socket *sock);
	int (*socket_poll)(struct xsk_rs_socket *sock, short events, int timeout_ms);
	int (*socket_stats)(const struct xsk_rs_socket *sock, struct xsk_rs_stats *out);
	int (*socket_xdp_mode)(const struct xsk_rs_socket *sock);
	int (*fill_put)(struct xsk_rs_fill *r, const uint64_t *addrs, uint32_t n);
	int (*tx_put)(struct xsk_rs_tx *r, const struct xsk_rs_desc *descs, uint32_t n);
	int (*tx_needs_wakeup)(const struct xsk_rs_tx *r);
	int (*comp_take)(struct xsk_rs_comp *r, uint64_t *addrs, uint32_t max);
	int (*rx_take)(struct xsk_rs_rx *r, struct xsk_rs_desc *descs, uint32_t max);
} api;

/* POSIX dlsym hands functions back as void *; they are copied into the typed
 * pointers with memcpy, which needs the two to have the same size. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers must fit in void *");

/* One entry per function: its exported name and where its pointer goes. The
 * sizeof is never evaluated, but it does not compile (-Werror) unless the
 * header's xsk_rs_NAME can be assigned to api.NAME, i.e. the types match. */
#define FN(name) { "xsk_rs_" #name, &api.name, sizeof(api.name = xsk_rs_##name) }
static const struct {
	const char *symbol;
	void *slot;
	size_t checked;
} symbols[] = {
	FN(version),		FN(last_error),	    FN(umem_config_init), FN(umem_create),
	FN(umem_destroy),	FN(umem_data),	    FN(umem_fill),	  FN(umem_comp),
	FN(socket_config_init), FN(socket_create),  FN(socket_destroy),	  FN(socket_rx),
	FN(socket_tx),		FN(socket_kick),    FN(socket_poll),	  FN(socket_stats),
	FN(socket_xdp_mode),	FN(fill_put),	    FN(tx_put),		  FN(tx_needs_wakeup),
	FN(comp_take),		FN(rx_take),
};
#undef FN

static void *load_library(void)
{
	void *lib = dlopen(LIBNAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		fprintf(stderr, "xsk_dlopen: dlopen: %s\n", dlerror());
		return NULL;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *p;
		const char *err;

		dlerror(); /* clear, so that a NULL below is told apart from an error */
		p = dlsym(lib, symbols[i].symbol);
		err = dlerror();
		if (err || !p) {
			fprintf(stderr, "xsk_dlopen: %s has no %s: %s\n", LIBNAME, symbols[i].symbol,
				err ? err : "symbol is NULL");
			dlclose(lib);
			return NULL;
		}
		memcpy(symbols[i].slot, &p, sizeof(p));
	}
	return lib;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int enter_netns(const char *ns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "xsk_dlopen: entering network namespace %s: %s\n", ns, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Frame seq's length, so that one run covers many lengths. */
static uint32_t frame_len(uint32_t seq)
{
	return MIN_LEN + (seq * 97u) % (MAX_LEN - MIN_LEN + 1);
}

static void write_frame(uint8_t *f, uint32_t seq)
{
	static const uint8_t hdr[14] = { 0x02, 0x58, 0x53, 0x4b, 0x00, 0x02, 0x02,
					 0x58, 0x53, 0x4b, 0x00, 0x01, ETHERTYPE >> 8, ETHERTYPE & 0xff };
	uint32_t len = frame_len(seq);

	memcpy(f, hdr, sizeof(hdr));
	f[14] = (uint8_t)(seq >> 24);
	f[15] = (uint8_t)(seq >> 16);
	f[16] = (uint8_t)(seq >> 8);
	f[17] = (uint8_t)seq;
	for (uint32_t i = 0; i < len - 18; i++)
		f[18 + i] = (uint8_t)(seq * 131u + i * 7u + 1u);
}

/* The sequence number of a received frame of ours, or -1 if it is someone
 * else's (another EtherType), or -2 if it is ours but wrong anywhere. */
static long long check_frame(const uint8_t *p, uint32_t len, uint32_t count)
{
	uint8_t want[MAX_LEN];
	uint32_t seq;

	if (len < 14 || p[12] != (ETHERTYPE >> 8) || p[13] != (ETHERTYPE & 0xff))
		return -1;
	if (len < 18)
		return -2;
	seq = (uint32_t)p[14] << 24 | (uint32_t)p[15] << 16 | (uint32_t)p[16] << 8 | p[17];
	if (seq >= count || len != frame_len(seq))
		return -2;
	write_frame(want, seq);
	return memcmp(p, want, len) ? -2 : (long long)seq;
}

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

static int usage(void)
{
	fprintf(stderr,
		"usage: xsk_dlopen [-m auto|skb|drv] NS_TX IF_TX NS_RX IF_RX [COUNT]\n"
		"  -m     XDP mode of the receiving side (default auto)\n"
		"  COUNT  frames to send, 1..%d (default 1000)\n"
		"Loads " LIBNAME " with dlopen(): set LD_LIBRARY_PATH if it is not in the loader's path.\n",
		MAX_COUNT);
	return 2;
}

int main(int argc, char **argv)
{
	char mode_desc[32];
	uint32_t mode = XSK_RS_XDP_MODE_AUTO, count = 1000;
	xsk_rs_umem *tx_umem = NULL, *rx_umem = NULL;
	xsk_rs_socket *tx_sock = NULL, *rx_sock = NULL;
	xsk_rs_umem_config ucfg;
	xsk_rs_socket_config scfg;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
	xsk_rs_stats st;
	struct link_map *map;
	static uint64_t free_tx[FRAMES];
	uint32_t n_free_tx = 0, sent = 0, intact = 0, corrupt = 0, duplicate = 0, foreign = 0, reordered = 0;
	uint32_t next_seq = 0;
	uint8_t *seen = NULL;
	double start, last_progress;
	int opt, ok = 0;
	void *lib;

	while ((opt = getopt(argc, argv, "m:h")) != -1) {
		switch (opt) {
		case 'm':
			if (!strcmp(optarg, "auto"))
				mode = XSK_RS_XDP_MODE_AUTO;
			else if (!strcmp(optarg, "skb"))
				mode = XSK_RS_XDP_MODE_SKB;
			else if (!strcmp(optarg, "drv"))
				mode = XSK_RS_XDP_MODE_DRV;
			else
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 4 && argc - optind != 5)
		return usage();
	if (argc - optind == 5) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(argv[optind + 4], &end, 10);
		if (argv[optind + 4][0] == '-' || end == argv[optind + 4] || *end || errno || v < 1 || v > MAX_COUNT)
			return usage();
		count = (uint32_t)v;
	}
	const char *ns_tx = argv[optind], *if_tx = argv[optind + 1];
	const char *ns_rx = argv[optind + 2], *if_rx = argv[optind + 3];

	lib = load_library();
	if (!lib)
		return 1;
	if (dlinfo(lib, RTLD_DI_LINKMAP, &map) == 0)
		printf("xsk_dlopen: loaded libxsk_rs %s from %s\n", api.version(), map->l_name);
	else
		printf("xsk_dlopen: loaded libxsk_rs %s\n", api.version());
	fflush(stdout);

	seen = calloc(count, 1);
	if (!seen) {
		fprintf(stderr, "xsk_dlopen: out of memory\n");
		goto out;
	}

	/* Receiver in NS_RX. The kernel publishes how far it has read the fill
	 * ring lazily, so a frame already back on the RX ring may still count as
	 * in the fill ring (see fill_size in xsk_rs.h): with twice as many fill
	 * slots as frames, fill_put never comes up short. */
	if (enter_netns(ns_rx) != 0)
		goto out;
	api.umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = FRAMES;
	ucfg.frame_size = FRAME_SIZE;
	ucfg.fill_size = 2 * FRAMES;
	if (api.umem_create(&rx_umem, &ucfg) != 0) {
		fprintf(stderr, "xsk_dlopen: umem_create in %s: %s\n", ns_rx, api.last_error());
		goto out;
	}
	api.socket_config_init(&scfg, sizeof(scfg));
	scfg.tx_size = 0;
	scfg.xdp_mode = mode;
	if (api.socket_create(&rx_sock, if_rx, 0, rx_umem, &scfg) != 0) {
		fprintf(stderr, "xsk_dlopen: socket_create on %s/%s: %s\n", ns_rx, if_rx, api.last_error());
		goto out;
	}
	/* Sender in NS_TX: TX only, so no XDP program; the completion ring holds
	 * every frame. */
	if (enter_netns(ns_tx) != 0)
		goto out;
	api.umem_config_init(&ucfg, sizeof(ucfg));
	ucfg.frame_count = FRAMES;
	ucfg.frame_size = FRAME_SIZE;
	ucfg.comp_size = FRAMES;
	if (api.umem_create(&tx_umem, &ucfg) != 0) {
		fprintf(stderr, "xsk_dlopen: umem_create in %s: %s\n", ns_tx, api.last_error());
		goto out;
	}
	api.socket_config_init(&scfg, sizeof(scfg));
	scfg.rx_size = 0;
	scfg.xdp_mode = XSK_RS_XDP_MODE_NONE;
	if (api.socket_create(&tx_sock, if_tx, 0, tx_umem, &scfg) != 0) {
		fprintf(stderr, "xsk_dlopen: socket_create on %s/%s: %s\n", ns_tx, if_tx, api.last_error());
		goto out;
	}
	fill = api.umem_fill(rx_umem);
	comp = api.umem_comp(tx_umem);
	rx = api.socket_rx(rx_sock);
	tx = api.socket_tx(tx_sock);

	for (uint32_t i = 0; i < FRAMES; i++) {
		uint64_t a = (uint64_t)i * FRAME_SIZE;

		if (api.fill_put(fill, &a, 1) != 1) {
			fprintf(stderr, "xsk_dlopen: fill_put: %s\n", api.last_error());
			goto out;
		}
		free_tx[n_free_tx++] = a;
	}

	start = last_progress = now_s();
	while (intact + corrupt < count) {
		xsk_rs_desc descs[BATCH];
		uint64_t addrs[BATCH];
		uint32_t n, i, received = intact + corrupt;
		int moved = 0, rc;

		/* TX: reclaim sent frames, then queue what the window allows. The
		 * ring calls return a count, or a negative errno for misuse. */
		if ((rc = api.comp_take(comp, addrs, BATCH)) < 0)
			goto misuse;
		n = (uint32_t)rc;
		memcpy(free_tx + n_free_tx, addrs, n * sizeof(addrs[0]));
		n_free_tx += n;
		n = count - sent;
		if (n > BATCH)
			n = BATCH;
		if (n > n_free_tx)
			n = n_free_tx;
		if (n > WINDOW - (sent - received))
			n = WINDOW - (sent - received);
		for (i = 0; i < n; i++) {
			uint64_t a = free_tx[n_free_tx - 1 - i];

			write_frame(api.umem_data(tx_umem, a), sent + i);
			descs[i] = (xsk_rs_desc){ .addr = a, .len = frame_len(sent + i), .options = 0 };
		}
		if ((rc = api.tx_put(tx, descs, n)) < 0)
			goto misuse;
		n = (uint32_t)rc;
		n_free_tx -= n;
		sent += n;
		moved |= n > 0;
		/* Copy mode always wants the kick: its sendto() is what transmits. */
		if (sent > 0 && api.tx_needs_wakeup(tx) != 0) {
			rc = api.socket_kick(tx_sock);
			if (rc != 0) {
				fprintf(stderr, "xsk_dlopen: kick: %s\n", api.last_error());
				goto out;
			}
		}

		/* RX: check everything that arrived and give the frames back. */
		if ((rc = api.rx_take(rx, descs, BATCH)) < 0)
			goto misuse;
		n = (uint32_t)rc;
		for (i = 0; i < n; i++) {
			const uint8_t *p = api.umem_data(rx_umem, descs[i].addr);
			long long seq = p ? check_frame(p, descs[i].len, count) : -2;

			if (seq == -1) {
				foreign++;
			} else if (seq < 0) {
				corrupt++;
			} else if (seen[seq]) {
				duplicate++;
			} else {
				seen[seq] = 1;
				intact++;
				if ((uint32_t)seq != next_seq)
					reordered++;
				next_seq = (uint32_t)seq + 1;
			}
			addrs[i] = descs[i].addr - descs[i].addr % FRAME_SIZE;
		}
		if (api.fill_put(fill, addrs, n) != (int)n) {
			fprintf(stderr, "xsk_dlopen: fill_put: %s\n", api.last_error());
			goto out;
		}
		moved |= n > 0;

		if (moved) {
			last_progress = now_s();
		} else if (now_s() - last_progress > IDLE_LIMIT_S) {
			fprintf(stderr, "xsk_dlopen: nothing arrived for %.0f s; giving up\n", IDLE_LIMIT_S);
			break;
		} else if (sent == count || sent - (intact + corrupt) >= WINDOW) {
			/* Only waiting for the receiver now. */
			rc = api.socket_poll(rx_sock, POLLIN, 10);
			if (rc < 0) {
				fprintf(stderr, "xsk_dlopen: poll: %s\n", api.last_error());
				goto out;
			}
		}
	}
	if (api.socket_stats(rx_sock, &st) != 0) {
		fprintf(stderr, "xsk_dlopen: socket_stats: %s\n", api.last_error());
		goto out;
	}
	/* With -m auto, say what it settled on. */
	if (mode == XSK_RS_XDP_MODE_AUTO)
		snprintf(mode_desc, sizeof(mode_desc), "auto (%s)", mode_string(api.socket_xdp_mode(rx_sock)));
	else
		snprintf(mode_desc, sizeof(mode_desc), "%s", mode_string(api.socket_xdp_mode(rx_sock)));
	printf("xsk_dlopen: %s/%s -> %s/%s, XDP mode %s: sent %u, received %u intact, %u corrupt, %u duplicate, "
	       "%u missing, %u foreign, %u out of order in %.3f s; rx_dropped=%llu rx_ring_full=%llu\n",
	       ns_tx, if_tx, ns_rx, if_rx, mode_desc, sent, intact, corrupt, duplicate, count - intact, foreign,
	       reordered, now_s() - start, (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_ring_full);
	ok = intact == count && corrupt == 0 && duplicate == 0;
	goto out;

misuse: /* a ring call refused its arguments: a bug here */
	fprintf(stderr, "xsk_dlopen: %s\n", api.last_error());
out:
	if (lib) {
		api.socket_destroy(tx_sock);
		api.socket_destroy(rx_sock);
		if (api.umem_destroy(tx_umem) != 0 || api.umem_destroy(rx_umem) != 0) {
			fprintf(stderr, "xsk_dlopen: umem_destroy: %s\n", api.last_error());
			ok = 0;
		}
		if (dlclose(lib) != 0) {
			fprintf(stderr, "xsk_dlopen: dlclose: %s\n", dlerror());
			ok = 0;
		}
	}
	free(seen);
	return ok ? 0 : 1;
}
