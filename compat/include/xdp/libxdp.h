/*
 * xdp/libxdp.h: the part of libxdp's program API that AF_XDP programs use
 * for errors and clean-up, on top of xsk_rs (libxsk_rs-compat).
 *
 * Only these five functions: libxdp_get_error, libxdp_strerror,
 * xdp_multiprog__get_from_ifindex, xdp_multiprog__detach and
 * xdp_multiprog__close. The multiprog functions act on what this library
 * attached in this process (the built-in redirect program of
 * xsk_socket__create and xsk_setup_xdp_prog), never on a program someone
 * else attached: for an interface without one of ours,
 * xdp_multiprog__get_from_ifindex answers -ENOENT as libxdp does for an
 * interface without any. Programs that load, attach or inspect XDP programs
 * of their own (xdp_program__*) need the real libxdp.
 *
 * The built-in program is attached by a bpf_link, so the kernel also
 * removes it when the last socket using it is deleted or the process exits;
 * xdp_multiprog__detach removes it at once, even while sockets use it.
 */
#ifndef XSK_RS_COMPAT_XDP_LIBXDP_H
#define XSK_RS_COMPAT_XDP_LIBXDP_H
/* libxdp's include guard: its own header is skipped if it is also reached. */
#define __LIBXDP_LIBXDP_H

#include <stddef.h>
#include <stdio.h>
#include <linux/bpf.h>

/* As in <xdp/xsk.h>: libbpf's headers, which libxdp's includes, where they
 * are installed, unless XSK_RS_COMPAT_NO_LIBBPF is defined. */
#if !defined(XSK_RS_COMPAT_NO_LIBBPF) && defined(__has_include)
#if __has_include(<bpf/libbpf.h>) && __has_include(<bpf/bpf.h>)
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The XDP programs attached to one interface, as far as this library
 * attached them. Opaque; from xdp_multiprog__get_from_ifindex, freed by
 * xdp_multiprog__close. */
struct xdp_multiprog;

/*
 * The error a pointer returned by this API stands for: 0 for a valid
 * pointer; for an error pointer (xdp_multiprog__get_from_ifindex encodes a
 * negative errno in the pointer, as libxdp does) that errno, also stored
 * in errno; for NULL, -errno.
 */
long libxdp_get_error(const void *ptr);

/*
 * Writes the description of error err (negative or positive errno) into
 * buf, at most size bytes with the terminating NUL. Returns 0; as libxdp
 * does (through libbpf_strerror and the XSI strerror_r), a positive ERANGE
 * when the text was cut short and a positive EINVAL for a number that is no
 * errno ("Unknown error N"); -EINVAL, with errno set, for buf NULL or size 0.
 */
int libxdp_strerror(int err, char *buf, size_t size);

/*
 * The program this process's xsk_rs attached to ifindex (by a socket
 * created here or by xsk_setup_xdp_prog), as a new handle to close with
 * xdp_multiprog__close. When there is none, an error pointer (decode it
 * with libxdp_get_error: -ENOENT), never NULL, with errno set.
 */
struct xdp_multiprog *xdp_multiprog__get_from_ifindex(int ifindex);

/*
 * Detaches the handle's program from its interface now, even while
 * sockets use it (they stay valid and receive nothing more through it), and
 * drops the references xsk_setup_xdp_prog took there. Returns 0 or a
 * negative errno (errno set too); -EINVAL for NULL or an error pointer.
 */
int xdp_multiprog__detach(struct xdp_multiprog *mp);

/* Frees the handle (the program stays attached unless detached). NULL and error pointers are no-ops. */
void xdp_multiprog__close(struct xdp_multiprog *mp);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* XSK_RS_COMPAT_XDP_LIBXDP_H */
