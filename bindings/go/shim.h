/*
 * shim.h: small C helpers for the Go binding (package xskrs).
 *
 * xsk_rs_last_error() is thread-local, and a goroutine may move to another OS
 * thread between two cgo calls; another goroutine's failure may also overwrite
 * the message on the first thread in between. So every fallible call goes
 * through a helper here that makes the call and, on failure, copies the
 * message in the same C call (on the same thread). The copy is malloc'ed; Go
 * frees it. Results come back by value, so no Go pointer crosses into C and
 * the success path allocates nothing.
 */
#ifndef XSKRS_GO_SHIM_H
#define XSKRS_GO_SHIM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <xsk_rs.h>

/* rc: the library's return value (negative errno on failure); handle: the
 * created object for the _create helpers; msg: NULL, or on failure a malloc'ed
 * copy of xsk_rs_last_error() that the caller frees. */
struct xskrs_go_ret {
	int rc;
	void *handle;
	char *msg;
};

struct xskrs_go_stats_ret {
	struct xskrs_go_ret r;
	xsk_rs_stats st;
};

/* xsk_rs_config_lend on configs fresh from their *_config_init: the sizes
 * for `frames` in u and s (the defaults elsewhere), or the failure in r. */
struct xskrs_go_lend_ret {
	struct xskrs_go_ret r;
	xsk_rs_umem_config u;
	xsk_rs_socket_config s;
};

struct xskrs_go_ret xskrs_go_umem_create(xsk_rs_umem_config cfg);
struct xskrs_go_ret xskrs_go_umem_destroy(xsk_rs_umem *umem);
struct xskrs_go_ret xskrs_go_socket_create(const char *ifname, uint32_t queue, xsk_rs_umem *umem,
					   xsk_rs_socket_config cfg);
struct xskrs_go_ret xskrs_go_socket_kick(xsk_rs_socket *sock);
struct xskrs_go_ret xskrs_go_socket_poll(xsk_rs_socket *sock, short events, int timeout_ms);
struct xskrs_go_ret xskrs_go_socket_is_zerocopy(const xsk_rs_socket *sock);
struct xskrs_go_ret xskrs_go_socket_xdp_mode(const xsk_rs_socket *sock);
struct xskrs_go_ret xskrs_go_socket_update_xskmap(xsk_rs_socket *sock, int map_fd);
struct xskrs_go_stats_ret xskrs_go_socket_stats(const xsk_rs_socket *sock);
struct xskrs_go_lend_ret xskrs_go_config_lend(uint32_t frames);

/* The ring calls the package uses: a count or flag in rc, or a negative errno
 * with its message when the library refuses the call. */
struct xskrs_go_ret xskrs_go_fill_put(xsk_rs_fill *r, const uint64_t *addrs, uint32_t n);
struct xskrs_go_ret xskrs_go_comp_take(xsk_rs_comp *r, uint64_t *addrs, uint32_t max);
struct xskrs_go_ret xskrs_go_rx_take(xsk_rs_rx *r, xsk_rs_desc *descs, uint32_t max);
struct xskrs_go_ret xskrs_go_tx_put(xsk_rs_tx *r, const xsk_rs_desc *descs, uint32_t n);
struct xskrs_go_ret xskrs_go_fill_needs_wakeup(const xsk_rs_fill *r);
struct xskrs_go_ret xskrs_go_tx_needs_wakeup(const xsk_rs_tx *r);
struct xskrs_go_ret xskrs_go_fill_nb_free(xsk_rs_fill *r, uint32_t nb);
struct xskrs_go_ret xskrs_go_tx_nb_free(xsk_rs_tx *r, uint32_t nb);
struct xskrs_go_ret xskrs_go_comp_nb_avail(xsk_rs_comp *r, uint32_t nb);
struct xskrs_go_ret xskrs_go_rx_nb_avail(xsk_rs_rx *r, uint32_t nb);

/* Socket getters that can fail: an int in rc, or a negative errno with its message. */
struct xskrs_go_ret xskrs_go_socket_ifindex(const xsk_rs_socket *sock);
struct xskrs_go_ret xskrs_go_socket_xskmap_fd(const xsk_rs_socket *sock);

/* The packet layer: xsk_rs_txsock / xsk_rs_rxsock (the halves of a socket
 * whose UMEM frames the library manages). Struct tags, not typedef names, so
 * the shim does not depend on how cbindgen spells the typedefs. */

/* A bi socket's two halves: tx in r.handle, rx in rx. */
struct xskrs_go_bi_ret {
	struct xskrs_go_ret r;
	void *rx;
};

struct xskrs_go_ret xskrs_go_txsock_create(const char *ifname, uint32_t queue, struct xsk_rs_xdp_config cfg);
struct xskrs_go_ret xskrs_go_rxsock_create(const char *ifname, uint32_t queue, struct xsk_rs_xdp_config cfg);
struct xskrs_go_bi_ret xskrs_go_bisock_create(const char *ifname, uint32_t queue, struct xsk_rs_xdp_config cfg);

struct xskrs_go_ret xskrs_go_txsock_send(struct xsk_rs_txsock *tx, const void *data, uint32_t len);
struct xskrs_go_ret xskrs_go_txsock_send_opts(struct xsk_rs_txsock *tx, const void *data, uint32_t len, uint64_t flags,
					     uint16_t csum_start, uint16_t csum_offset, uint64_t launch_time);
struct xskrs_go_ret xskrs_go_txsock_timestamps(struct xsk_rs_txsock *tx, uint64_t *out, uint32_t cap);
struct xskrs_go_ret xskrs_go_txsock_send_packed(struct xsk_rs_txsock *tx, const void *data, size_t size,
						const uint32_t *lens, uint32_t n);
/* The TX half's readiness check for a wait, in one call and never blocking:
 * 1 when a send would find room now. Otherwise it kicks the kernel (in copy
 * mode the kernel sends, and so completes frames, only when woken) and looks
 * again: 1 or 0, or a negative errno. */
struct xskrs_go_ret xskrs_go_txsock_ready(struct xsk_rs_txsock *tx);

/* The RX half's readiness check: 1 when more than `held` packets are found
 * (xsk_rs_rxsock_seek(rx, held + 1), which also wakes the kernel when the
 * fill ring asks for it), else 0, or a negative errno. Never blocks. */
struct xskrs_go_ret xskrs_go_rxsock_ready(struct xsk_rs_rxsock *rx, uint32_t held);
struct xskrs_go_ret xskrs_go_rxsock_recv_batch(struct xsk_rs_rxsock *rx, struct xsk_rs_pkt *pkts, uint32_t max);
struct xskrs_go_ret xskrs_go_rxsock_release(struct xsk_rs_rxsock *rx, uint32_t n);
struct xskrs_go_ret xskrs_go_rxsock_recv(struct xsk_rs_rxsock *rx, void *buf, uint32_t cap);

struct xskrs_go_stats_ret xskrs_go_txsock_stats(const struct xsk_rs_txsock *tx);
struct xskrs_go_stats_ret xskrs_go_rxsock_stats(const struct xsk_rs_rxsock *rx);
struct xskrs_go_ret xskrs_go_txsock_is_zerocopy(const struct xsk_rs_txsock *tx);
struct xskrs_go_ret xskrs_go_rxsock_is_zerocopy(const struct xsk_rs_rxsock *rx);
struct xskrs_go_ret xskrs_go_txsock_xdp_mode(const struct xsk_rs_txsock *tx);
struct xskrs_go_ret xskrs_go_rxsock_xdp_mode(const struct xsk_rs_rxsock *rx);

/* Layout of xsk_rs_desc, for the test that checks Go's Desc against it. */
size_t xskrs_go_desc_size(void);
size_t xskrs_go_desc_off_addr(void);
size_t xskrs_go_desc_off_len(void);
size_t xskrs_go_desc_off_options(void);

/* xsk_rs_netdev_query into a fresh xsk_rs_netdev_info, and the interface's
 * NAPI ids (xsk_rs_netdev_napi_ids) into ids[0..cap]. */
struct xskrs_go_netdev_ret {
	struct xskrs_go_ret r;
	xsk_rs_netdev_info info;
};
struct xskrs_go_netdev_ret xskrs_go_netdev_query(const char *ifname);
struct xskrs_go_ret xskrs_go_netdev_queue_napi_id(const char *ifname, uint32_t queue, int is_tx, uint32_t *out);
struct xskrs_go_ret xskrs_go_kernel_features(uint64_t *available, uint64_t *unknown);
struct xskrs_go_ret xskrs_go_netdev_napi_ids(const char *ifname, uint32_t *ids, uint32_t cap, uint32_t *count);

/* xsk_rs_irq_defer_create with a config fresh from its init, the values
 * given by the set bits; the handle in .handle. The other irq_defer calls
 * with their message. */
struct xskrs_go_ret xskrs_go_irq_defer_create(const char *ifname, uint32_t set, uint32_t defer_hard_irqs,
					      uint64_t gro_flush_timeout_ns, uint64_t irq_suspend_timeout_ns, uint32_t via);
struct xskrs_go_ret xskrs_go_irq_defer_via(xsk_rs_irq_defer *h);
struct xskrs_go_ret xskrs_go_irq_defer_napi_count(xsk_rs_irq_defer *h);
struct xskrs_go_ret xskrs_go_irq_defer_restore(xsk_rs_irq_defer *h);

#endif /* XSKRS_GO_SHIM_H */
