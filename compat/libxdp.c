/*
 * libxdp's conventions: error pointers and messages (libxdp_get_error,
 * libxdp_strerror) and libbpf's opts structs.
 */
#include "internal.h"

#include <stdio.h>

long libxdp_get_error(const void *ptr)
{
	if (!compat_is_err_or_null(ptr))
		return 0;
	if (ptr)
		errno = (int)-(long)ptr;
	return -errno;
}

int libxdp_strerror(int err, char *buf, size_t size)
{
	const char *msg;
	char tmp[128];
	int n;

	if (!buf || !size) {
		errno = EINVAL;
		return -EINVAL;
	}
	if (err < 0)
		err = -err;
	/* xsk_rs's panic code is no errno; xsk_rs_strerror names it. */
	if (err == XSK_RS_ERR_PANIC)
		msg = xsk_rs_strerror(-err);
	else
		msg = strerror_r(err, tmp, sizeof(tmp));
	n = snprintf(buf, size, "%s", msg);
	if (n < 0 || (size_t)n >= size) {
		errno = ERANGE;
		return -ERANGE;
	}
	return 0;
}

bool compat_opts_valid(const void *opts, size_t known)
{
	const unsigned char *p = opts;
	size_t sz;

	if (!opts)
		return true;
	memcpy(&sz, p, sizeof(sz));
	if (sz < sizeof(size_t))
		return false;
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}
