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
