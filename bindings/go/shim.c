/*
 * shim.c: the C helpers declared in shim.h (see there for why they exist).
 * cgo compiles this file with the package's pkg-config flags.
 */
#define _POSIX_C_SOURCE 200809L /* strdup with -std=c11 */

#include "shim.h"

#include <string.h>

/* Wraps rc and, when it is a failure, this thread's message. */
static struct xskrs_go_ret result(int rc, void *handle)
{
	struct xskrs_go_ret r = { rc, handle, NULL };

	if (rc < 0)
		r.msg = strdup(xsk_rs_last_error()); /* NULL if out of memory: Go then uses strerror */
	return r;
}

struct xskrs_go_ret xskrs_go_umem_create(xsk_rs_umem_config cfg)
{
	xsk_rs_umem *umem = NULL;
	int rc = xsk_rs_umem_create(&umem, &cfg);

	return result(rc, rc == 0 ? umem : NULL);
}

struct xskrs_go_lend_ret xskrs_go_config_lend(uint32_t frames)
{
	struct xskrs_go_lend_ret ret;

	memset(&ret, 0, sizeof(ret));
	xsk_rs_umem_config_init(&ret.u, sizeof(ret.u)); /* cannot fail: valid, our size */
	xsk_rs_socket_config_init(&ret.s, sizeof(ret.s));
	ret.r = result(xsk_rs_config_lend(&ret.u, &ret.s, frames), NULL);
	return ret;
}

struct xskrs_go_ret xskrs_go_umem_destroy(xsk_rs_umem *umem)
{
	return result(xsk_rs_umem_destroy(umem), NULL);
}

struct xskrs_go_ret xskrs_go_socket_create(const char *ifname, uint32_t queue, xsk_rs_umem *umem,
					   xsk_rs_socket_config cfg)
{
	xsk_rs_socket *sock = NULL;
	int rc = xsk_rs_socket_create(&sock, ifname, queue, umem, &cfg);

	return result(rc, rc == 0 ? sock : NULL);
}

struct xskrs_go_ret xskrs_go_socket_kick(xsk_rs_socket *sock)
{
	return result(xsk_rs_socket_kick(sock), NULL);
}

struct xskrs_go_ret xskrs_go_socket_poll(xsk_rs_socket *sock, short events, int timeout_ms)
{
	return result(xsk_rs_socket_poll(sock, events, timeout_ms), NULL);
}

struct xskrs_go_ret xskrs_go_socket_is_zerocopy(const xsk_rs_socket *sock)
{
	return result(xsk_rs_socket_is_zerocopy(sock), NULL);
}

struct xskrs_go_ret xskrs_go_socket_xdp_mode(const xsk_rs_socket *sock)
{
	return result(xsk_rs_socket_xdp_mode(sock), NULL);
}

struct xskrs_go_ret xskrs_go_socket_update_xskmap(xsk_rs_socket *sock, int map_fd)
{
	return result(xsk_rs_socket_update_xskmap(sock, map_fd), NULL);
}

struct xskrs_go_stats_ret xskrs_go_socket_stats(const xsk_rs_socket *sock)
{
	struct xskrs_go_stats_ret r;

	memset(&r, 0, sizeof(r));
	r.r = result(xsk_rs_socket_stats(sock, &r.st), NULL);
	return r;
}

struct xskrs_go_ret xskrs_go_fill_put(xsk_rs_fill *r, const uint64_t *addrs, uint32_t n)
{
	return result(xsk_rs_fill_put(r, addrs, n), NULL);
}

struct xskrs_go_ret xskrs_go_comp_take(xsk_rs_comp *r, uint64_t *addrs, uint32_t max)
{
	return result(xsk_rs_comp_take(r, addrs, max), NULL);
}

struct xskrs_go_ret xskrs_go_rx_take(xsk_rs_rx *r, xsk_rs_desc *descs, uint32_t max)
{
	return result(xsk_rs_rx_take(r, descs, max), NULL);
}

struct xskrs_go_ret xskrs_go_tx_put(xsk_rs_tx *r, const xsk_rs_desc *descs, uint32_t n)
{
	return result(xsk_rs_tx_put(r, descs, n), NULL);
}

struct xskrs_go_ret xskrs_go_fill_needs_wakeup(const xsk_rs_fill *r)
{
	return result(xsk_rs_fill_needs_wakeup(r), NULL);
}

struct xskrs_go_ret xskrs_go_tx_needs_wakeup(const xsk_rs_tx *r)
{
	return result(xsk_rs_tx_needs_wakeup(r), NULL);
}

struct xskrs_go_ret xskrs_go_fill_nb_free(xsk_rs_fill *r, uint32_t nb)
{
	return result(xsk_rs_fill_nb_free(r, nb), NULL);
}

struct xskrs_go_ret xskrs_go_tx_nb_free(xsk_rs_tx *r, uint32_t nb)
{
	return result(xsk_rs_tx_nb_free(r, nb), NULL);
}

struct xskrs_go_ret xskrs_go_comp_nb_avail(xsk_rs_comp *r, uint32_t nb)
{
	return result(xsk_rs_comp_nb_avail(r, nb), NULL);
}

struct xskrs_go_ret xskrs_go_rx_nb_avail(xsk_rs_rx *r, uint32_t nb)
{
	return result(xsk_rs_rx_nb_avail(r, nb), NULL);
}

struct xskrs_go_ret xskrs_go_socket_ifindex(const xsk_rs_socket *sock)
{
	return result(xsk_rs_socket_ifindex(sock), NULL);
}

struct xskrs_go_ret xskrs_go_socket_xskmap_fd(const xsk_rs_socket *sock)
{
	return result(xsk_rs_socket_xskmap_fd(sock), NULL);
}

struct xskrs_go_ret xskrs_go_txsock_create(const char *ifname, uint32_t queue, struct xsk_rs_xdp_config cfg)
{
	struct xsk_rs_txsock *tx = NULL;
	int rc = xsk_rs_txsock_create(ifname, queue, &cfg, &tx);

	return result(rc, rc == 0 ? tx : NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_create(const char *ifname, uint32_t queue, struct xsk_rs_xdp_config cfg)
{
	struct xsk_rs_rxsock *rx = NULL;
	int rc = xsk_rs_rxsock_create(ifname, queue, &cfg, &rx);

	return result(rc, rc == 0 ? rx : NULL);
}

struct xskrs_go_bi_ret xskrs_go_bisock_create(const char *ifname, uint32_t queue, struct xsk_rs_xdp_config cfg)
{
	struct xsk_rs_txsock *tx = NULL;
	struct xsk_rs_rxsock *rx = NULL;
	int rc = xsk_rs_bisock_create(ifname, queue, &cfg, &tx, &rx);
	struct xskrs_go_bi_ret r;

	r.r = result(rc, rc == 0 ? tx : NULL);
	r.rx = rc == 0 ? rx : NULL;
	return r;
}

struct xskrs_go_ret xskrs_go_txsock_send(struct xsk_rs_txsock *tx, const void *data, uint32_t len)
{
	return result(xsk_rs_txsock_send(tx, data, len), NULL);
}

struct xskrs_go_ret xskrs_go_txsock_send_opts(struct xsk_rs_txsock *tx, const void *data, uint32_t len, uint64_t flags,
					     uint16_t csum_start, uint16_t csum_offset, uint64_t launch_time)
{
	return result(xsk_rs_txsock_send_opts(tx, data, len, flags, csum_start, csum_offset, launch_time), NULL);
}

struct xskrs_go_ret xskrs_go_txsock_timestamps(struct xsk_rs_txsock *tx, uint64_t *out, uint32_t cap)
{
	return result(xsk_rs_txsock_timestamps(tx, out, cap), NULL);
}

struct xskrs_go_ret xskrs_go_txsock_send_packed(struct xsk_rs_txsock *tx, const void *data, size_t size,
						const uint32_t *lens, uint32_t n)
{
	return result(xsk_rs_txsock_send_packed(tx, data, size, lens, n), NULL);
}

struct xskrs_go_ret xskrs_go_txsock_ready(struct xsk_rs_txsock *tx)
{
	int rc = xsk_rs_txsock_wait(tx, 0);

	if (rc != 0)
		return result(rc, NULL);
	rc = xsk_rs_txsock_kick(tx);
	if (rc < 0)
		return result(rc, NULL);
	return result(xsk_rs_txsock_wait(tx, 0), NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_ready(struct xsk_rs_rxsock *rx, uint32_t held)
{
	int rc = xsk_rs_rxsock_seek(rx, held + 1);

	return result(rc < 0 ? rc : (uint32_t)rc > held, NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_recv(struct xsk_rs_rxsock *rx, void *buf, uint32_t cap)
{
	return result(xsk_rs_rxsock_recv(rx, buf, cap), NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_recv_batch(struct xsk_rs_rxsock *rx, struct xsk_rs_pkt *pkts, uint32_t max)
{
	return result(xsk_rs_rxsock_recv_batch(rx, pkts, max), NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_release(struct xsk_rs_rxsock *rx, uint32_t n)
{
	return result(xsk_rs_rxsock_release(rx, n), NULL);
}

struct xskrs_go_stats_ret xskrs_go_txsock_stats(const struct xsk_rs_txsock *tx)
{
	struct xskrs_go_stats_ret r;

	memset(&r, 0, sizeof(r));
	r.r = result(xsk_rs_txsock_stats(tx, &r.st), NULL);
	return r;
}

struct xskrs_go_stats_ret xskrs_go_rxsock_stats(const struct xsk_rs_rxsock *rx)
{
	struct xskrs_go_stats_ret r;

	memset(&r, 0, sizeof(r));
	r.r = result(xsk_rs_rxsock_stats(rx, &r.st), NULL);
	return r;
}

struct xskrs_go_ret xskrs_go_txsock_is_zerocopy(const struct xsk_rs_txsock *tx)
{
	return result(xsk_rs_txsock_is_zerocopy(tx), NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_is_zerocopy(const struct xsk_rs_rxsock *rx)
{
	return result(xsk_rs_rxsock_is_zerocopy(rx), NULL);
}

struct xskrs_go_ret xskrs_go_txsock_xdp_mode(const struct xsk_rs_txsock *tx)
{
	return result(xsk_rs_txsock_xdp_mode(tx), NULL);
}

struct xskrs_go_ret xskrs_go_rxsock_xdp_mode(const struct xsk_rs_rxsock *rx)
{
	return result(xsk_rs_rxsock_xdp_mode(rx), NULL);
}

size_t xskrs_go_desc_size(void)
{
	return sizeof(xsk_rs_desc);
}

size_t xskrs_go_desc_off_addr(void)
{
	return offsetof(xsk_rs_desc, addr);
}

size_t xskrs_go_desc_off_len(void)
{
	return offsetof(xsk_rs_desc, len);
}

size_t xskrs_go_desc_off_options(void)
{
	return offsetof(xsk_rs_desc, options);
}

struct xskrs_go_netdev_ret xskrs_go_netdev_query(const char *ifname)
{
	struct xskrs_go_netdev_ret r;

	memset(&r, 0, sizeof(r));
	xsk_rs_netdev_info_init(&r.info, sizeof(r.info));
	r.r = result(xsk_rs_netdev_query(ifname, &r.info), NULL);
	return r;
}

struct xskrs_go_ret xskrs_go_netdev_queue_napi_id(const char *ifname, uint32_t queue, int is_tx, uint32_t *out)
{
	return result(xsk_rs_netdev_queue_napi_id(ifname, queue, is_tx, out), NULL);
}

struct xskrs_go_ret xskrs_go_netdev_napi_ids(const char *ifname, uint32_t *ids, uint32_t cap, uint32_t *count)
{
	return result(xsk_rs_netdev_napi_ids(ifname, ids, cap, count), NULL);
}

struct xskrs_go_ret xskrs_go_kernel_features(uint64_t *available, uint64_t *unknown)
{
	return result(xsk_rs_kernel_features(available, unknown), NULL);
}

struct xskrs_go_ret xskrs_go_irq_defer_create(const char *ifname, uint32_t set, uint32_t defer_hard_irqs,
					      uint64_t gro_flush_timeout_ns, uint64_t irq_suspend_timeout_ns, uint32_t via)
{
	xsk_rs_irq_defer_config c;
	xsk_rs_irq_defer *h = NULL;
	int rc;

	xsk_rs_irq_defer_config_init(&c, sizeof(c));
	c.set = set;
	c.defer_hard_irqs = defer_hard_irqs;
	c.gro_flush_timeout_ns = gro_flush_timeout_ns;
	c.irq_suspend_timeout_ns = irq_suspend_timeout_ns;
	c.via = via;
	rc = xsk_rs_irq_defer_create(ifname, &c, &h);
	return result(rc, rc == 0 ? h : NULL);
}

struct xskrs_go_ret xskrs_go_irq_defer_via(xsk_rs_irq_defer *h)
{
	return result(xsk_rs_irq_defer_via(h), NULL);
}

struct xskrs_go_ret xskrs_go_irq_defer_napi_count(xsk_rs_irq_defer *h)
{
	return result(xsk_rs_irq_defer_napi_count(h), NULL);
}

struct xskrs_go_ret xskrs_go_irq_defer_restore(xsk_rs_irq_defer *h)
{
	return result(xsk_rs_irq_defer_restore(h), NULL);
}
