/*
 * The XDP program: xsk_setup_xdp_prog and the xdp_multiprog__* subset of
 * <xdp/libxdp.h>, over xsk_rs_prog_*. Only this process's built-in redirect
 * program is ever reached.
 *
 * xsk_setup_xdp_prog leaves the program attached after it returns, as
 * libxdp does: the reference it takes is kept here until
 * xdp_multiprog__detach on that interface (or the process exits, when the
 * kernel drops the bpf_link).
 */
#include "internal.h"

#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>

struct setup_ref {
	struct setup_ref *next;
	struct xsk_rs_prog *prog;
	int ifindex;
};

static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static struct setup_ref *setup_refs;

int xsk_setup_xdp_prog(int ifindex, int *xsks_map_fd)
{
	char ifname[IF_NAMESIZE];
	struct setup_ref *ref;
	int rc, map_fd = -1;

	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, ifname))
		return -EINVAL;
	ref = calloc(1, sizeof(*ref));
	if (!ref)
		return -ENOMEM;
	rc = xsk_rs_prog_create(&ref->prog, ifname, XSK_RS_XDP_MODE_AUTO);
	if (rc) {
		free(ref);
		return rc;
	}
	if (xsks_map_fd) {
		/* The caller's own fd, which it may close; the library's stays. */
		rc = xsk_rs_prog_xskmap_fd(ref->prog);
		if (rc >= 0)
			map_fd = fcntl(rc, F_DUPFD_CLOEXEC, 0);
		if (rc < 0 || map_fd < 0) {
			rc = rc < 0 ? rc : -errno;
			xsk_rs_prog_destroy(ref->prog);
			free(ref);
			return rc;
		}
		*xsks_map_fd = map_fd;
	}
	ref->ifindex = ifindex;
	pthread_mutex_lock(&setup_lock);
	ref->next = setup_refs;
	setup_refs = ref;
	pthread_mutex_unlock(&setup_lock);
	return 0;
}

/* Drops the references xsk_setup_xdp_prog took on ifindex. */
static void setup_refs_drop(int ifindex)
{
	struct setup_ref **p, *ref, *gone = NULL;

	pthread_mutex_lock(&setup_lock);
	for (p = &setup_refs; (ref = *p);) {
		if (ref->ifindex == ifindex) {
			*p = ref->next;
			ref->next = gone;
			gone = ref;
		} else {
			p = &ref->next;
		}
	}
	pthread_mutex_unlock(&setup_lock);
	while ((ref = gone)) {
		gone = ref->next;
		xsk_rs_prog_destroy(ref->prog);
		free(ref);
	}
}

struct xdp_multiprog *xdp_multiprog__get_from_ifindex(int ifindex)
{
	struct xdp_multiprog *mp;
	int rc;

	mp = calloc(1, sizeof(*mp));
	if (!mp) {
		errno = ENOMEM;
		return compat_err_ptr(-ENOMEM);
	}
	rc = xsk_rs_prog_find(&mp->prog, ifindex);
	if (rc) {
		free(mp);
		errno = -rc;
		return compat_err_ptr(rc);
	}
	mp->ifindex = ifindex;
	return mp;
}

int xdp_multiprog__detach(struct xdp_multiprog *mp)
{
	int rc;

	if (compat_is_err_or_null(mp)) {
		errno = EINVAL;
		return -EINVAL;
	}
	rc = xsk_rs_prog_detach(mp->prog);
	if (rc) {
		errno = -rc;
		return rc;
	}
	setup_refs_drop(mp->ifindex);
	return 0;
}

void xdp_multiprog__close(struct xdp_multiprog *mp)
{
	if (compat_is_err_or_null(mp))
		return;
	xsk_rs_prog_destroy(mp->prog);
	free(mp);
}
