/*
 * What the rooms of libxsk_rs-compat share: the objects behind libxdp's
 * opaque handles, the mapping of libxdp's rings onto xsk_rs's ring layouts,
 * libbpf's opts convention and libxdp's error-pointer convention.
 *
 * The library is built on libxsk_rs's public C ABI only (<xsk_rs.h>). Every
 * function is hidden unless compat.map exports it: only libxdp's names leave
 * the library.
 */
#ifndef XSK_RS_COMPAT_INTERNAL_H
#define XSK_RS_COMPAT_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <xsk_rs.h>
#include <xdp/xsk.h>
#include <xdp/libxdp.h>

/* Internal functions stay inside the library (and are called directly, not
 * through the PLT). */
#pragma GCC visibility push(hidden)

/*
 * The fill and completion rings of one (interface, queue) of a UMEM, and the
 * caller's structs that describe them. libxdp calls this a context: every
 * socket of the UMEM on that queue shares it, and it goes with the last.
 */
struct compat_queue {
	struct compat_queue *next;
	int ifindex;
	__u32 queue_id;
	unsigned sockets;
};

struct xsk_umem {
	struct xsk_rs_umem *rs;
	/* The caller's structs given to xsk_umem__create, until its first
	 * socket takes them (libxdp's rule: after that, a socket on a new
	 * queue needs fill and completion structs of its own). */
	struct xsk_ring_prod *fill_save;
	struct xsk_ring_cons *comp_save;
	/* The UMEM's own fill and completion ring memory as last described:
	 * a first socket whose create failed can make xsk_rs register the UMEM
	 * anew, with new rings, which fill_save/comp_save then follow. */
	void *own_fill_ring, *own_comp_ring;
	/* Guards everything below (and the re-description above): sockets on
	 * one UMEM may be created and deleted from several threads. */
	pthread_mutex_t lock;
	unsigned sockets;
	/* A socket has bound the UMEM's fd: later binds share it, and the
	 * kernel takes no bind flags for those. */
	bool bound;
	struct compat_queue *queues;
};

struct xsk_socket {
	struct xsk_rs_socket *rs;
	struct xsk_umem *umem;
	struct compat_queue *queue;
};

/* One handle on this process's built-in program on an interface. */
struct xdp_multiprog {
	struct xsk_rs_prog *prog;
	int ifindex;
};

/* ---- rings ---------------------------------------------------------------- */

/* Points a libxdp ring struct at the kernel's ring that layout describes,
 * with its cached indices at the ring's current state. */
void compat_prod_from_layout(struct xsk_ring_prod *r, const struct xsk_rs_ring_layout *l);
void compat_cons_from_layout(struct xsk_ring_cons *r, const struct xsk_rs_ring_layout *l);

/* ---- the opts convention (libbpf's: sz first, unknown tail all zero) ------- */

/* opts is acceptable: NULL, or sz at least one size_t, with every byte
 * between known (the end of the last field this library knows) and sz zero. */
bool compat_opts_valid(const void *opts, size_t known);

/* The opts field, or def when opts is NULL or its sz ends before the field. */
#define COMPAT_OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field))
#define COMPAT_OPTS_GET(opts, field, def) (COMPAT_OPTS_HAS(opts, field) ? (opts)->field : (def))
#define COMPAT_OPTS_END(type, field) (offsetof(struct type, field) + sizeof(((struct type *)0)->field))

/* ---- errors ---------------------------------------------------------------- */

/* libxdp's legacy error pointers: a negative errno cast to a pointer. */
#define COMPAT_MAX_ERRNO 4095
static inline void *compat_err_ptr(long err)
{
	return (void *)err;
}
static inline bool compat_is_err_or_null(const void *p)
{
	return !p || (unsigned long)p >= (unsigned long)-COMPAT_MAX_ERRNO;
}

/* For the calls that return NULL and set errno: err is a negative errno. */
static inline void *compat_null_errno(int err)
{
	errno = -err;
	return NULL;
}

#pragma GCC visibility pop

#endif
