/*
 * xsk_caps: prints what a network interface offers AF_XDP, from
 * xsk_rs_netdev_query (netdev netlink, rtnetlink and bpf(2) underneath).
 *
 *   xsk_caps IFNAME
 *
 * Runs in the network namespace it is started in (ip netns exec NS xsk_caps
 * IFNAME for another). A field the kernel does not report prints as
 * "unknown" with the reason. Exits 0, or 1 with the library's message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xsk_rs.h>

static const struct {
	uint64_t bit;
	const char *name;
} xdp_names[] = {
	{ XSK_RS_XDP_FEATURE_BASIC, "basic" },
	{ XSK_RS_XDP_FEATURE_REDIRECT, "redirect" },
	{ XSK_RS_XDP_FEATURE_NDO_XMIT, "ndo-xmit" },
	{ XSK_RS_XDP_FEATURE_XSK_ZEROCOPY, "xsk-zerocopy" },
	{ XSK_RS_XDP_FEATURE_HW_OFFLOAD, "hw-offload" },
	{ XSK_RS_XDP_FEATURE_RX_SG, "rx-sg" },
	{ XSK_RS_XDP_FEATURE_NDO_XMIT_SG, "ndo-xmit-sg" },
},
  xsk_names[] = {
	  { XSK_RS_XSK_FEATURE_TX_TIMESTAMP, "tx-timestamp" },
	  { XSK_RS_XSK_FEATURE_TX_CHECKSUM, "tx-checksum" },
	  { XSK_RS_XSK_FEATURE_TX_LAUNCH_TIME_FIFO, "tx-launch-time-fifo" },
  };

static void print_flags(const char *what, uint64_t v, int known, const char *why, const void *table, size_t n)
{
	const struct {
		uint64_t bit;
		const char *name;
	} *t = table;
	int any = 0;
	size_t i;

	printf("%-16s ", what);
	if (!known) {
		printf("unknown (%s)\n", why);
		return;
	}
	for (i = 0; i < n; i++)
		if (v & t[i].bit)
			printf("%s%s", any++ ? " " : "", t[i].name);
	printf("%s\n", any ? "" : "none");
}

/* The NAPI id of each queue in one direction: "q0=8193 q1=0". */
static int print_queue_napi(const char *ifname, const char *what, uint32_t count, int is_tx)
{
	uint32_t q, id;
	int rc;

	printf("%-16s", what);
	for (q = 0; q < count; q++) {
		rc = xsk_rs_netdev_queue_napi_id(ifname, q, is_tx, &id);
		if (rc < 0) {
			printf("\n");
			return rc;
		}
		printf(" q%u=%u", q, id);
	}
	printf("\n");
	return 0;
}

static void print_prog(const char *mode, uint32_t id, const char *name, uint32_t ours)
{
	if (id)
		printf("xdp prog %-7s id %u name %s%s\n", mode, id, name[0] ? name : "(unreadable)",
		       ours ? " (xsk_rs built-in)" : "");
}

int main(int argc, char **argv)
{
	static const char *attached[] = { "none", "drv", "skb", "hw", "multi" };
	xsk_rs_netdev_info i;
	uint32_t napis[64], n, k;
	uint64_t kernel, unknown;
	const char *ifname;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s IFNAME\n", argv[0]);
		return 2;
	}
	ifname = argv[1];
	xsk_rs_netdev_info_init(&i, sizeof(i));
	rc = xsk_rs_netdev_query(ifname, &i);
	if (rc < 0) {
		fprintf(stderr, "xsk_caps: %s\n", xsk_rs_last_error());
		return 1;
	}
	printf("interface        %s (ifindex %u)\n", ifname, i.ifindex);
	printf("mtu              %u (frames up to %u bytes)\n", i.mtu, i.mtu + 18);
	printf("queues           rx %u tx %u (max %u)\n", i.rx_queues, i.tx_queues, i.max_queues);
	print_flags("xdp-features", i.xdp_features, !!(i.known & XSK_RS_NETDEV_KNOWN_XDP_FEATURES),
		    "no netdev netlink family: Linux 6.3 or later tells", xdp_names,
		    sizeof(xdp_names) / sizeof(xdp_names[0]));
	if (i.known & XSK_RS_NETDEV_KNOWN_XDP_ZC_MAX_SEGS)
		printf("xdp-zc-max-segs  %u\n", i.xdp_zc_max_segs);
	else
		printf("xdp-zc-max-segs  unknown (reported for zero-copy devices, Linux 6.6 or later)\n");
	print_flags("xsk-features", i.xsk_features, !!(i.known & XSK_RS_NETDEV_KNOWN_XSK_FEATURES),
		    "Linux 6.8 or later tells", xsk_names, sizeof(xsk_names) / sizeof(xsk_names[0]));
	if (i.known & XSK_RS_NETDEV_KNOWN_NAPI_IDS) {
		if (print_queue_napi(ifname, "rx napi ids", i.rx_queues, 0) < 0 ||
		    print_queue_napi(ifname, "tx napi ids", i.tx_queues, 1) < 0 ||
		    xsk_rs_netdev_napi_ids(ifname, napis, 64, &n) < 0) {
			fprintf(stderr, "xsk_caps: %s\n", xsk_rs_last_error());
			return 1;
		}
		printf("napi instances   %u", n);
		for (k = 0; k < n && k < 64; k++)
			printf(" %u", napis[k]);
		printf("\n");
	} else {
		printf("napi ids         unknown (netdev queue-get: Linux 6.8 or later)\n");
	}
	printf("xdp attached     %s\n", i.xdp_attached < 5 ? attached[i.xdp_attached] : "?");
	print_prog("skb", i.skb_prog_id, i.skb_prog_name, i.skb_prog_is_xsk_rs);
	print_prog("drv", i.drv_prog_id, i.drv_prog_name, i.drv_prog_is_xsk_rs);
	print_prog("hw", i.hw_prog_id, i.hw_prog_name, i.hw_prog_is_xsk_rs);
	if (xsk_rs_kernel_features(&kernel, &unknown) < 0) {
		fprintf(stderr, "xsk_caps: %s\n", xsk_rs_last_error());
		return 1;
	}
	for (k = 0; k < 64; k++) {
		uint64_t bit = UINT64_C(1) << k;

		if (xsk_rs_feature_name(bit))
			printf("kernel           %-3s %s (Linux %s)\n",
			       unknown & bit ? "?" : kernel & bit ? "yes" : "no", xsk_rs_feature_name(bit),
			       xsk_rs_feature_since(bit));
	}
	if (unknown)
		printf("kernel           ? could not be probed: %s\n", xsk_rs_last_error());
	return 0;
}
