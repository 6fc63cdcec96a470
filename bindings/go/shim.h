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

/* Layout of xsk_rs_desc, for the test that checks Go's Desc against it. */
size_t xskrs_go_desc_size(void);
size_t xskrs_go_desc_off_addr(void);
size_t xskrs_go_desc_off_len(void);
size_t xskrs_go_desc_off_options(void);

#endif /* XSKRS_GO_SHIM_H */
