/*
 * xsk_rs_netdev_query and friends from C, on the veth pair run.sh made,
 * checked against what `ip -d link show` reports: the MTU and queue counts,
 * the program attached (id, name, mode), veth's xdp-features before and
 * after native XDP runs on its peer, its NAPI instances, and the zero-copy
 * refusal that names the missing feature.
 *
 *   netdev_test NS_A IF_A NS_B IF_B skb|drv
 */
#define _GNU_SOURCE /* setns, popen */

#include "harness.h"

static struct {
	const char *ns_a, *if_a, *ns_b, *if_b;
	int fd_a, fd_b;
	uint32_t mode;
} ctx;

/* `ip -n NS -d link show dev IF`, whole, into buf. */
static void ip_link(const char *ns, const char *ifname, char *buf, size_t cap)
{
	char cmd[256];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip -n %s -d link show dev %s", ns, ifname);
	p = popen(cmd, "r");
	if (!p) {
		fprintf(stderr, "netdev_test: popen %s: %s\n", cmd, strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, cap - 1, p);
	buf[n] = 0;
	pclose(p);
}

/* The number after the word `key` in ip's output, or -1. */
static long ip_number(const char *out, const char *key)
{
	char pat[64];
	const char *at;

	snprintf(pat, sizeof(pat), " %s ", key);
	at = strstr(out, pat);
	return at ? strtol(at + strlen(pat), NULL, 10) : -1;
}

/* ip's "prog/xdp id N name NAME": the id (or 0) and the name. */
static uint32_t ip_prog(const char *out, char *name, size_t cap)
{
	const char *at = strstr(out, "prog/xdp id ");
	unsigned id = 0;
	char n[64] = "";

	if (at)
		sscanf(at, "prog/xdp id %u name %63s", &id, n);
	snprintf(name, cap, "%s", n);
	return id;
}

static xsk_rs_netdev_info query(const char *ifname)
{
	xsk_rs_netdev_info info;
	int rc;

	xsk_rs_netdev_info_init(&info, sizeof(info));
	rc = xsk_rs_netdev_query(ifname, &info);
	CHECK(rc == 0, "xsk_rs_netdev_query(%s) -> %d %s", ifname, rc, rc ? errmsg() : "");
	return info;
}

#define VETH_FEATURES (XSK_RS_XDP_FEATURE_BASIC | XSK_RS_XDP_FEATURE_REDIRECT | XSK_RS_XDP_FEATURE_RX_SG)
#define PEER_DRV_FEATURES (VETH_FEATURES | XSK_RS_XDP_FEATURE_NDO_XMIT | XSK_RS_XDP_FEATURE_NDO_XMIT_SG)

static void test_plain(void)
{
	char out[8192], name[64];
	xsk_rs_netdev_info i;

	section("nothing attached: rtnetlink fields against ip -d link");
	i = query(ctx.if_a);
	ip_link(ctx.ns_a, ctx.if_a, out, sizeof(out));
	CHECK(i.ifindex == if_nametoindex(ctx.if_a), "ifindex %u", i.ifindex);
	CHECK((long)i.mtu == ip_number(out, "mtu"), "mtu %u as ip says", i.mtu);
	CHECK((long)i.max_queues == ip_number(out, "numrxqueues") && i.rx_queues == 1 && i.tx_queues == 1,
	      "queues %u/%u of %u (ip: numrxqueues %ld)", i.rx_queues, i.tx_queues, i.max_queues,
	      ip_number(out, "numrxqueues"));
	CHECK(i.xdp_attached == XSK_RS_XDP_ATTACHED_NONE && i.skb_prog_id == 0 && i.drv_prog_id == 0 &&
		      ip_prog(out, name, sizeof(name)) == 0,
	      "no program, as ip says");
	if (!kernel_at_least(6, 3)) {
		CHECK(!(i.known & XSK_RS_NETDEV_KNOWN_XDP_FEATURES) && i.xdp_features == 0,
		      "no netdev family: xdp_features unknown");
		return;
	}
	CHECK(i.known & XSK_RS_NETDEV_KNOWN_XDP_FEATURES, "xdp_features known");
	CHECK(i.xdp_features == VETH_FEATURES, "veth: basic, redirect, rx-sg (%#llx)",
	      (unsigned long long)i.xdp_features);
	CHECK(!(i.known & XSK_RS_NETDEV_KNOWN_XDP_ZC_MAX_SEGS), "no zero-copy: no xdp_zc_max_segs");
	if (kernel_at_least(6, 8))
		CHECK((i.known & XSK_RS_NETDEV_KNOWN_XSK_FEATURES) && i.xsk_features == 0 &&
			      (i.known & XSK_RS_NETDEV_KNOWN_NAPI_IDS),
		      "6.8+: xsk_features known and empty, NAPI ids known");
}

static void test_attached(void)
{
	char out[8192], name[64];
	xsk_rs_netdev_info i, peer;
	xsk_rs_prog *p = NULL;
	uint32_t id, napis[4], n = 0xdeadbeefu;
	int drv = ctx.mode == XSK_RS_XDP_MODE_DRV;

	section("the built-in program attached: id and name as ip shows them");
	if (!CHECK(xsk_rs_prog_create(&p, ctx.if_a, (int)ctx.mode) == 0, "attach the built-in program (%s)", errmsg()))
		return;
	i = query(ctx.if_a);
	ip_link(ctx.ns_a, ctx.if_a, out, sizeof(out));
	id = ip_prog(out, name, sizeof(name));
	CHECK(id != 0 && !strcmp(name, "xsk_rs_redirect"), "ip: prog/xdp id %u name %s", id, name);
	if (drv)
		CHECK(i.xdp_attached == XSK_RS_XDP_ATTACHED_DRV && i.drv_prog_id == id && i.skb_prog_id == 0 &&
			      !strcmp(i.drv_prog_name, "xsk_rs_redirect") && i.drv_prog_is_xsk_rs == 1,
		      "drv: id %u name %s ours %u", i.drv_prog_id, i.drv_prog_name, i.drv_prog_is_xsk_rs);
	else
		CHECK(i.xdp_attached == XSK_RS_XDP_ATTACHED_SKB && i.skb_prog_id == id && i.drv_prog_id == 0 &&
			      !strcmp(i.skb_prog_name, "xsk_rs_redirect") && i.skb_prog_is_xsk_rs == 1,
		      "skb: id %u name %s ours %u", i.skb_prog_id, i.skb_prog_name, i.skb_prog_is_xsk_rs);

	if (kernel_at_least(6, 3)) {
		/* veth's peer may redirect into it once it runs NAPI: native XDP only. */
		enter_netns(ctx.fd_b, ctx.ns_b);
		peer = query(ctx.if_b);
		enter_netns(ctx.fd_a, ctx.ns_a);
		CHECK(peer.xdp_features == (drv ? PEER_DRV_FEATURES : VETH_FEATURES),
		      "peer's xdp_features %#llx: ndo-xmit %s", (unsigned long long)peer.xdp_features,
		      drv ? "with our drv program" : "not for skb mode");
	}
	if (kernel_at_least(6, 8)) {
		CHECK(xsk_rs_netdev_napi_ids(ctx.if_a, napis, 4, &n) == 0 && n == (drv ? 1u : 0u) &&
			      (!drv || napis[0] != 0),
		      "NAPI instances: %u (%s)", n, drv ? "one per RX queue in drv mode" : "none in skb mode");
	}
	xsk_rs_prog_destroy(p);
}

static void test_zerocopy_refused(void)
{
	xsk_rs_umem_config uc;
	xsk_rs_socket_config sc;
	xsk_rs_umem *u = NULL;
	xsk_rs_socket *s = NULL;
	int rc;

	section("zero-copy on veth: the refusal names the missing feature");
	xsk_rs_umem_config_init(&uc, sizeof(uc));
	xsk_rs_socket_config_init(&sc, sizeof(sc));
	sc.bind_flags = XSK_RS_BIND_ZEROCOPY;
	sc.xdp_mode = ctx.mode;
	if (!CHECK(xsk_rs_umem_create(&u, &uc) == 0, "umem (%s)", errmsg()))
		return;
	rc = xsk_rs_socket_create(&s, ctx.if_a, 0, u, &sc);
	CHECK(rc == -EOPNOTSUPP, "zero-copy socket -> %d", rc);
	if (kernel_at_least(6, 3))
		CHECK(strstr(xsk_rs_last_error(), "lacks xsk-zerocopy in its xdp-features") != NULL, "message: %s",
		      xsk_rs_last_error());
	xsk_rs_socket_destroy(s);
	xsk_rs_umem_destroy(u);
}

int main(int argc, char **argv)
{
	harness_name = "netdev_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pair_args(argc, argv, &ctx.ns_a, &ctx.if_a, &ctx.ns_b, &ctx.if_b, &ctx.mode, NULL))
		return 2;
	ctx.fd_a = open_netns(ctx.ns_a);
	ctx.fd_b = open_netns(ctx.ns_b);
	enter_netns(ctx.fd_a, ctx.ns_a);
	printf("netdev_test: libxsk_rs %s, %s/%s <-> %s/%s, XDP mode %s\n", xsk_rs_version(), ctx.ns_a, ctx.if_a,
	       ctx.ns_b, ctx.if_b, argv[5]);

	test_plain();
	test_attached();
	test_zerocopy_refused();

	close(ctx.fd_a);
	close(ctx.fd_b);
	printf("netdev_test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
