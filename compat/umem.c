/*
 * The UMEM: xsk_umem__create and its variants, the fd getter and the delete,
 * over xsk_rs_umem_create_with_area / _create_with_fd. The area is always
 * the caller's, as in libxdp.
 */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>

/* libxdp's geometry after defaults (a 0 field takes its default). */
struct umem_geometry {
	__u32 fill_size, comp_size, frame_size, frame_headroom, flags;
};

static void geometry_defaults(struct umem_geometry *g)
{
	if (!g->fill_size)
		g->fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
	if (!g->comp_size)
		g->comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
	if (!g->frame_size)
		g->frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE;
}

/* The UMEM on fd (> 0: the caller's AF_XDP socket) or on a new socket. */
static int umem_create(struct xsk_umem **out, int fd, void *area, __u64 size, struct xsk_ring_prod *fill,
		       struct xsk_ring_cons *comp, struct umem_geometry g)
{
	struct xsk_rs_umem_config cfg;
	struct xsk_rs_ring_layout lf, lc;
	struct xsk_umem *umem;
	bool unaligned;
	int rc;

	if (!out || !area || !fill || !comp)
		return -EFAULT;
	geometry_defaults(&g);
	/* Only libxdp's unaligned-chunks flag has a counterpart (TX checksum
	 * offload and metadata do not). */
	if (g.flags & ~(__u32)XDP_UMEM_UNALIGNED_CHUNK_FLAG)
		return -EINVAL;
	unaligned = g.flags & XDP_UMEM_UNALIGNED_CHUNK_FLAG;
	/* The kernel takes the area in whole chunks in aligned mode; a
	 * remainder there is its -EINVAL, which xsk_rs would round away. */
	if (!size || (!unaligned && size % g.frame_size) || size / g.frame_size > UINT32_MAX)
		return -EINVAL;

	rc = xsk_rs_umem_config_init(&cfg, sizeof(cfg));
	if (rc)
		return rc;
	cfg.frame_count = (uint32_t)(size / g.frame_size);
	cfg.frame_size = g.frame_size;
	cfg.frame_headroom = g.frame_headroom;
	cfg.fill_size = g.fill_size;
	cfg.comp_size = g.comp_size;
	cfg.flags = unaligned ? XSK_RS_UMEM_UNALIGNED_CHUNKS : 0;

	umem = calloc(1, sizeof(*umem));
	if (!umem)
		return -ENOMEM;
	/* Everything that can fail before the UMEM takes a caller's fd. */
	rc = pthread_mutex_init(&umem->lock, NULL);
	if (rc) {
		free(umem);
		return -rc;
	}
	if (fd > 0)
		rc = xsk_rs_umem_create_with_fd(&umem->rs, fd, area, size, &cfg);
	else
		rc = xsk_rs_umem_create_with_area(&umem->rs, area, size, &cfg);
	if (!rc)
		rc = xsk_rs_fill_layout(xsk_rs_umem_fill(umem->rs), &lf);
	if (!rc)
		rc = xsk_rs_comp_layout(xsk_rs_umem_comp(umem->rs), &lc);
	if (rc) {
		/* The layouts never fail on live rings; were they to, the
		 * UMEM (and a caller's fd with it) would go. */
		if (umem->rs)
			xsk_rs_umem_destroy(umem->rs);
		pthread_mutex_destroy(&umem->lock);
		free(umem);
		return rc;
	}
	compat_prod_from_layout(fill, &lf);
	compat_cons_from_layout(comp, &lc);
	umem->fill_save = fill;
	umem->comp_save = comp;
	umem->own_fill_ring = lf.ring;
	umem->own_comp_ring = lc.ring;
	*out = umem;
	return 0;
}

static struct umem_geometry geometry_of(const struct xsk_umem_config *c)
{
	struct umem_geometry g = { 0 };

	if (c) {
		g.fill_size = c->fill_size;
		g.comp_size = c->comp_size;
		g.frame_size = c->frame_size;
		g.frame_headroom = c->frame_headroom;
		g.flags = c->flags;
	}
	return g;
}

int xsk_umem__create(struct xsk_umem **umem, void *umem_area, __u64 size, struct xsk_ring_prod *fill,
		     struct xsk_ring_cons *comp, const struct xsk_umem_config *config)
{
	return umem_create(umem, 0, umem_area, size, fill, comp, geometry_of(config));
}

int xsk_umem__create_with_fd(struct xsk_umem **umem, int fd, void *umem_area, __u64 size,
			     struct xsk_ring_prod *fill, struct xsk_ring_cons *comp,
			     const struct xsk_umem_config *config)
{
	return umem_create(umem, fd, umem_area, size, fill, comp, geometry_of(config));
}

struct xsk_umem *xsk_umem__create_opts(void *umem_area, struct xsk_ring_prod *fill, struct xsk_ring_cons *comp,
				       struct xsk_umem_opts *opts)
{
	struct umem_geometry g = { 0 };
	struct xsk_umem *umem = NULL;
	int rc;

	if (!umem_area || !fill || !comp)
		return compat_null_errno(-EFAULT);
	if (!compat_opts_valid(opts, COMPAT_OPTS_END(xsk_umem_opts, xsk_umem_opts__last_field)))
		return compat_null_errno(-EINVAL);
	if (COMPAT_OPTS_GET(opts, tx_metadata_len, 0))
		return compat_null_errno(-EOPNOTSUPP);
	g.fill_size = COMPAT_OPTS_GET(opts, fill_size, 0);
	g.comp_size = COMPAT_OPTS_GET(opts, comp_size, 0);
	g.frame_size = COMPAT_OPTS_GET(opts, frame_size, 0);
	g.frame_headroom = COMPAT_OPTS_GET(opts, frame_headroom, 0);
	g.flags = COMPAT_OPTS_GET(opts, flags, 0);
	rc = umem_create(&umem, COMPAT_OPTS_GET(opts, fd, 0), umem_area, COMPAT_OPTS_GET(opts, size, 0), fill, comp,
			 g);
	return rc ? compat_null_errno(rc) : umem;
}

int xsk_umem__fd(const struct xsk_umem *umem)
{
	return umem ? xsk_rs_umem_fd(umem->rs) : -EINVAL;
}

int xsk_umem__delete(struct xsk_umem *umem)
{
	int rc;

	if (!umem)
		return 0;
	pthread_mutex_lock(&umem->lock);
	if (umem->sockets) {
		pthread_mutex_unlock(&umem->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&umem->lock);
	rc = xsk_rs_umem_destroy(umem->rs);
	if (rc)
		return rc;
	pthread_mutex_destroy(&umem->lock);
	free(umem);
	return 0;
}
