/*
 * The socket: xsk_socket__create and its variants, the delete, the fd
 * getter and xsk_socket__update_xskmap, over xsk_rs_socket_create.
 *
 * The fill and completion rings belong to an (interface, queue) of the UMEM,
 * not to a socket (the kernel's XDP_SHARED_UMEM rule): the UMEM's own pair
 * serves the queue its first socket binds; every other queue gets a pair of
 * its own from xsk_rs when the UMEM's first socket there is created, and
 * every later socket there shares it. struct compat_queue counts the
 * sockets of one queue, as libxdp's context does.
 */
#include "internal.h"

#include <net/if.h>
#include <stdlib.h>

/* libxdp's socket settings, after defaults. */
struct socket_settings {
	__u32 rx_size, tx_size, libxdp_flags, xdp_flags;
	__u16 bind_flags;
};

static struct compat_queue *queue_find(struct xsk_umem *umem, int ifindex, __u32 queue_id)
{
	struct compat_queue *q;

	for (q = umem->queues; q; q = q->next)
		if (q->ifindex == ifindex && q->queue_id == queue_id)
			return q;
	return NULL;
}

static void queue_unlink(struct xsk_umem *umem, struct compat_queue *q)
{
	struct compat_queue **p;

	for (p = &umem->queues; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			return;
		}
}

/* xsk_rs's socket config for libxdp's settings. */
static int rs_config(struct xsk_rs_socket_config *cfg, const struct socket_settings *s, bool rx, bool tx,
		     bool first)
{
	int rc = xsk_rs_socket_config_init(cfg, sizeof(*cfg));

	if (rc)
		return rc;
	if (s->libxdp_flags & ~(__u32)XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD)
		return -EINVAL;
	if (s->bind_flags & XDP_USE_SG)
		return -EOPNOTSUPP; /* multi-buffer packets */
	if (s->bind_flags & ~(XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP))
		return -EINVAL;
	cfg->rx_size = rx ? s->rx_size : 0;
	cfg->tx_size = tx ? s->tx_size : 0;
	/* The kernel takes bind flags only from the bind that registers the
	 * UMEM's fd; a shared bind runs with those. libxdp passes a later
	 * socket's flags nowhere, so neither does this. */
	cfg->bind_flags = first ? s->bind_flags : 0;
	/* libxdp binds whatever the frame size, and the kernel drops what does
	 * not fit (rx_dropped); xsk_rs refuses such an RX socket unless told. */
	cfg->bind_flags |= XSK_RS_BIND_SHORT_FRAMES;
	/* libxdp's xdp_flags without a mode mean native; xsk_rs's AUTO is
	 * native with the generic fallback. The flags that are not modes
	 * (UPDATE_IF_NOEXIST, REPLACE) are what xsk_rs does anyway: it never
	 * replaces a program. */
	if (s->libxdp_flags & XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD)
		cfg->xdp_mode = XSK_RS_XDP_MODE_NONE;
	else if (s->xdp_flags & XDP_FLAGS_SKB_MODE)
		cfg->xdp_mode = XSK_RS_XDP_MODE_SKB;
	else if (s->xdp_flags & XDP_FLAGS_DRV_MODE)
		cfg->xdp_mode = XSK_RS_XDP_MODE_DRV;
	else if (s->xdp_flags & XDP_FLAGS_HW_MODE)
		return -EOPNOTSUPP;
	else
		cfg->xdp_mode = XSK_RS_XDP_MODE_AUTO;
	return 0;
}

/*
 * Follows the UMEM's own fill and completion rings after a create on a UMEM
 * whose fd never bound: xsk_rs registers such a UMEM anew (with new rings)
 * when a create asks for other RX/TX sizes than a failed one set, and it
 * does so before the bind, so the rings can move even when the create then
 * fails. The structs given to xsk_umem__create are described afresh then.
 */
static int follow_own_rings(struct xsk_umem *umem)
{
	struct xsk_rs_ring_layout lf, lc;
	int rc;

	rc = xsk_rs_fill_layout(xsk_rs_umem_fill(umem->rs), &lf);
	if (!rc)
		rc = xsk_rs_comp_layout(xsk_rs_umem_comp(umem->rs), &lc);
	if (rc || (lf.ring == umem->own_fill_ring && lc.ring == umem->own_comp_ring))
		return rc;
	umem->own_fill_ring = lf.ring;
	umem->own_comp_ring = lc.ring;
	if (umem->fill_save) {
		compat_prod_from_layout(umem->fill_save, &lf);
		compat_cons_from_layout(umem->comp_save, &lc);
	}
	return 0;
}

/*
 * Describes the new queue's fill and completion rings in *fill and *comp.
 * The UMEM's own pair may already be described in the structs given to
 * xsk_umem__create (with frames on the fill ring, cached indices and all):
 * other structs then take that description over, as libxdp copies it.
 */
static int describe_queue_rings(struct xsk_umem *umem, struct xsk_rs_socket *rs, struct xsk_ring_prod *fill,
				struct xsk_ring_cons *comp)
{
	struct xsk_rs_fill *sf = xsk_rs_socket_fill(rs);
	struct xsk_rs_comp *sc = xsk_rs_socket_comp(rs);
	struct xsk_rs_ring_layout lf, lc;
	int rc;

	rc = xsk_rs_fill_layout(sf, &lf);
	if (!rc)
		rc = xsk_rs_comp_layout(sc, &lc);
	if (rc)
		return rc;
	if (sf != xsk_rs_umem_fill(umem->rs)) {
		/* A queue of its own: new rings. */
		compat_prod_from_layout(fill, &lf);
		compat_cons_from_layout(comp, &lc);
		return 0;
	}
	if (umem->fill_save) {
		if (fill != umem->fill_save)
			*fill = *umem->fill_save;
		if (comp != umem->comp_save)
			*comp = *umem->comp_save;
	} else {
		compat_prod_from_layout(fill, &lf);
		compat_cons_from_layout(comp, &lc);
	}
	return 0;
}

static int describe_socket_rings(struct xsk_rs_socket *rs, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx)
{
	struct xsk_rs_ring_layout l;
	int rc;

	if (rx) {
		rc = xsk_rs_rx_layout(xsk_rs_socket_rx(rs), &l);
		if (rc)
			return rc;
		compat_cons_from_layout(rx, &l);
	}
	if (tx) {
		rc = xsk_rs_tx_layout(xsk_rs_socket_tx(rs), &l);
		if (rc)
			return rc;
		compat_prod_from_layout(tx, &l);
	}
	return 0;
}

static int socket_create(struct xsk_socket **out, const char *ifname, __u32 queue_id, struct xsk_umem *umem,
			 struct xsk_ring_cons *rx, struct xsk_ring_prod *tx, struct xsk_ring_prod *fill,
			 struct xsk_ring_cons *comp, struct socket_settings s)
{
	struct xsk_rs_socket_config cfg;
	struct compat_queue *q, *new_q = NULL;
	struct xsk_socket *xsk;
	int ifindex, rc;

	if (!out || !ifname || !umem || (!rx && !tx) || (!fill != !comp))
		return -EFAULT;
	if (!s.rx_size)
		s.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
	if (!s.tx_size)
		s.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	xsk = calloc(1, sizeof(*xsk));
	if (!xsk)
		return -ENOMEM;

	pthread_mutex_lock(&umem->lock);
	rc = rs_config(&cfg, &s, rx, tx, !umem->bound);
	if (rc)
		goto out;
	q = queue_find(umem, ifindex, queue_id);
	if (!q) {
		/* A queue new to the UMEM needs structs for its rings: the
		 * caller's, or before the first socket xsk_umem__create's. */
		if (!fill) {
			fill = umem->fill_save;
			comp = umem->comp_save;
		}
		rc = -EFAULT;
		if (!fill)
			goto out;
		rc = -ENOMEM;
		new_q = calloc(1, sizeof(*new_q));
		if (!new_q)
			goto out;
	}
	rc = xsk_rs_socket_create(&xsk->rs, ifname, queue_id, umem->rs, &cfg);
	if (!umem->bound) {
		/* Whether or not it bound: the UMEM's own rings may have moved. */
		int moved = follow_own_rings(umem);

		if (!rc && moved) {
			xsk_rs_socket_destroy(xsk->rs);
			rc = moved;
		}
	}
	if (rc)
		goto out;
	rc = describe_socket_rings(xsk->rs, rx, tx);
	if (!rc && new_q)
		rc = describe_queue_rings(umem, xsk->rs, fill, comp);
	if (rc) {
		xsk_rs_socket_destroy(xsk->rs);
		goto out;
	}
	if (new_q) {
		new_q->ifindex = ifindex;
		new_q->queue_id = queue_id;
		new_q->next = umem->queues;
		umem->queues = new_q;
		q = new_q;
		new_q = NULL;
	}
	q->sockets++;
	umem->sockets++;
	umem->bound = true;
	/* libxdp's rule: xsk_umem__create's structs serve the first socket only. */
	umem->fill_save = NULL;
	umem->comp_save = NULL;
	xsk->umem = umem;
	xsk->queue = q;
	*out = xsk;
	xsk = NULL;
out:
	pthread_mutex_unlock(&umem->lock);
	free(new_q);
	free(xsk);
	return rc;
}

static struct socket_settings settings_of(const struct xsk_socket_config *c)
{
	struct socket_settings s = { 0 };

	if (c) {
		s.rx_size = c->rx_size;
		s.tx_size = c->tx_size;
		s.libxdp_flags = c->libxdp_flags;
		s.xdp_flags = c->xdp_flags;
		s.bind_flags = c->bind_flags;
	}
	return s;
}

int xsk_socket__create(struct xsk_socket **xsk, const char *ifname, __u32 queue_id, struct xsk_umem *umem,
		       struct xsk_ring_cons *rx, struct xsk_ring_prod *tx, const struct xsk_socket_config *config)
{
	return socket_create(xsk, ifname, queue_id, umem, rx, tx, NULL, NULL, settings_of(config));
}

int xsk_socket__create_shared(struct xsk_socket **xsk_ptr, const char *ifname, __u32 queue_id,
			      struct xsk_umem *umem, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx,
			      struct xsk_ring_prod *fill, struct xsk_ring_cons *comp,
			      const struct xsk_socket_config *config)
{
	return socket_create(xsk_ptr, ifname, queue_id, umem, rx, tx, fill, comp, settings_of(config));
}

struct xsk_socket *xsk_socket__create_opts(const char *ifname, __u32 queue_id, struct xsk_umem *umem,
					   struct xsk_socket_opts *opts)
{
	struct socket_settings s = { 0 };
	struct xsk_socket *xsk = NULL;
	int rc;

	if (!compat_opts_valid(opts, COMPAT_OPTS_END(xsk_socket_opts, xsk_socket_opts__last_field)))
		return compat_null_errno(-EINVAL);
	s.rx_size = COMPAT_OPTS_GET(opts, rx_size, 0);
	s.tx_size = COMPAT_OPTS_GET(opts, tx_size, 0);
	s.libxdp_flags = COMPAT_OPTS_GET(opts, libxdp_flags, 0);
	s.xdp_flags = COMPAT_OPTS_GET(opts, xdp_flags, 0);
	s.bind_flags = COMPAT_OPTS_GET(opts, bind_flags, 0);
	rc = socket_create(&xsk, ifname, queue_id, umem, COMPAT_OPTS_GET(opts, rx, NULL),
			   COMPAT_OPTS_GET(opts, tx, NULL), COMPAT_OPTS_GET(opts, fill, NULL),
			   COMPAT_OPTS_GET(opts, comp, NULL), s);
	return rc ? compat_null_errno(rc) : xsk;
}

void xsk_socket__delete(struct xsk_socket *xsk)
{
	struct xsk_umem *umem;

	if (!xsk)
		return;
	umem = xsk->umem;
	pthread_mutex_lock(&umem->lock);
	xsk_rs_socket_destroy(xsk->rs);
	if (--xsk->queue->sockets == 0) {
		queue_unlink(umem, xsk->queue);
		free(xsk->queue);
	}
	umem->sockets--;
	pthread_mutex_unlock(&umem->lock);
	free(xsk);
}

int xsk_socket__fd(const struct xsk_socket *xsk)
{
	return xsk ? xsk_rs_socket_fd(xsk->rs) : -EINVAL;
}

int xsk_socket__update_xskmap(struct xsk_socket *xsk, int xsks_map_fd)
{
	return xsk ? xsk_rs_socket_update_xskmap(xsk->rs, xsks_map_fd) : -EINVAL;
}
