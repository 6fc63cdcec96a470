/*
 * libxdp's conventions: error pointers and messages (libxdp_get_error,
 * libxdp_strerror) and libbpf's opts structs.
 */
#include "internal.h"


long libxdp_get_error(const void *ptr)
{
	if (!compat_is_err_or_null(ptr))
		return 0;
	if (ptr)
		errno = (int)-(long)ptr;
	return -errno;
}

/*
 * libxdp answers through libbpf_strerror, which returns what the XSI
 * strerror_r returns, positive: 0, ERANGE when the text was cut, EINVAL
 * for a number that names no error (the text then says "Unknown error N").
 * glibc's GNU strerror_r tells the last case apart by writing into buf.
 */
int libxdp_strerror(int err, char *buf, size_t size)
{
	const char *msg;
	size_t len;

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
		msg = strerror_r(err, buf, size);
	if (msg == buf)
		return EINVAL;
	len = strlen(msg);
	if (len >= size) {
		memcpy(buf, msg, size - 1);
		buf[size - 1] = 0;
		return ERANGE;
	}
	memcpy(buf, msg, len + 1);
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
