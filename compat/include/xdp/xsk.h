/*
 * xdp/xsk.h: libxdp's AF_XDP API on top of xsk_rs (libxsk_rs-compat).
 *
 * A program written for libxdp's <xdp/xsk.h> builds unchanged against this
 * header: compile it with $(pkg-config --cflags --libs xsk_rs-compat) in
 * place of libxdp's flags. Every name, struct field, constant and return
 * convention below is libxdp's (its 1.5 header, a superset of 1.3 and 1.4:
 * the _opts calls and xsk_umem__create_with_fd included); the code is
 * xsk_rs's, written from the kernel's AF_XDP ABI. The header is installed
 * in a directory of its own (include/xsk_rs-compat/xdp/), so it is found
 * only through that pkg-config file and never shadows a real libxdp.
 *
 * The rings are the kernel's: struct xsk_ring_prod / xsk_ring_cons point
 * straight into the memory the kernel maps for each ring, and the inline
 * functions below drive it with no call into a library, as libxdp's do. Only
 * creation and deletion go through libxsk_rs's C ABI.
 *
 * Where xsk_rs behaves differently from libxdp, xsk_rs's behaviour stays:
 *  - The XDP program is xsk_rs's built-in redirect program, attached by a
 *    bpf_link: the kernel removes it when the last socket using it is
 *    deleted or the process exits, even by SIGKILL. libxdp's stays attached
 *    after a crash (and after xsk_setup_xdp_prog until someone detaches it).
 *    No bpffs, BPF object file or dispatcher is involved, and a program
 *    someone else attached is never replaced: socket creation fails with
 *    -EBUSY instead. That includes another process's: where libxdp lets a
 *    second process join the first one's program on an interface, here
 *    only one process at a time steers an interface (another can use
 *    XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD with a program of its own).
 *  - xdp_flags without a mode (libxdp: native) attaches natively where the
 *    driver can and falls back to generic (skb) mode where it cannot.
 *    XDP_FLAGS_DRV_MODE asks for native only and fails without it, as in
 *    libxdp; XDP_FLAGS_HW_MODE (offload) is refused with -EOPNOTSUPP.
 *  - Failures print nothing (libxdp prints warnings on stderr): the
 *    thread's last message, with context, is xsk_rs_last_error() from
 *    <xsk_rs.h> (pkg-config xsk_rs-compat gives its -I and -l too).
 *  - Deleting the first socket of a UMEM leaves its queue bound until the
 *    UMEM is deleted (the kernel cannot unbind the UMEM's fd), in both; here
 *    a new socket on that queue takes the binding over, where libxdp's
 *    bind fails. See xsk_rs_socket_destroy in <xsk_rs.h>.
 *  - In copy mode one wakeup (sendto) sends the whole TX ring on Linux 6.17
 *    and later (XDP_MAX_TX_SKB_BUDGET set to the TX ring's size); with
 *    libxdp the kernel sends 32 descriptors a wakeup.
 *  - Not supported: multi-buffer packets (XDP_USE_SG: -EOPNOTSUPP), TX
 *    metadata (xsk_umem_opts.tx_metadata_len other than 0: -EOPNOTSUPP),
 *    UMEM flags other than XDP_UMEM_UNALIGNED_CHUNK_FLAG (-EINVAL). In
 *    unaligned mode the UMEM covers size / frame_size whole chunks (libxdp
 *    registers all of size).
 *
 * Threads: as with libxdp, each ring is single-producer single-consumer
 * and belongs to one thread at a time; the inline functions take no lock.
 * Unlike libxdp, creating and deleting sockets on one UMEM from several
 * threads at once is safe.
 */
#ifndef XSK_RS_COMPAT_XDP_XSK_H
#define XSK_RS_COMPAT_XDP_XSK_H
/* libxdp's include guards, so that its header (or libbpf's old bpf/xsk.h,
 * which used the first) is skipped if it is also reached. */
#define __LIBBPF_XSK_H
#define __LIBXDP_XSK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>

/* libxdp's header includes libbpf's, and programs come to rely on it. Where
 * libbpf's headers are installed they are included here too (a program that
 * calls libbpf still links it itself); define XSK_RS_COMPAT_NO_LIBBPF to
 * leave them out. Nothing below needs them. */
#if !defined(XSK_RS_COMPAT_NO_LIBBPF) && defined(__has_include)
#if __has_include(<bpf/libbpf.h>)
#include <bpf/libbpf.h>
#endif
#endif

/* Flags the UAPI headers of older kernels lack. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The ring functions are inline and always inlined, as libxdp's are. In C99
 * and later they are inline definitions, and libxsk_rs-compat also exports
 * each one as a symbol (for debuggers and language bindings that cannot
 * inline C); elsewhere (gnu89, C++) they are static inline.
 */
#if defined(__GNUC_STDC_INLINE__)
#define XSK_RS_COMPAT_INLINE inline __attribute__((__always_inline__))
#elif defined(__GNUC_GNU_INLINE__)
#define XSK_RS_COMPAT_INLINE static inline __attribute__((__always_inline__))
#else
#define XSK_RS_COMPAT_INLINE static inline
#endif
/* libxdp's name for the same, which some programs use for their own helpers. */
#ifndef XDP_ALWAYS_INLINE
#define XDP_ALWAYS_INLINE XSK_RS_COMPAT_INLINE
#endif

/*
 * A ring as the application sees it. The kernel shares producer, consumer,
 * flags and the entries (ring) with the application; cached_prod and
 * cached_cons are the application's private copies of the two indices, so
 * that the shared ones are read only when the private ones run out:
 *  - producer rings (fill, TX): cached_prod is the next index to reserve;
 *    cached_cons is the kernel's consumer index as last read plus size, so
 *    that cached_cons - cached_prod is the number of free entries;
 *  - consumer rings (completion, RX): cached_cons is the next index to peek,
 *    cached_prod the kernel's producer index as last read.
 * Indices run freely over 32 bits; an entry's slot is index & mask. The
 * fields are libxdp's, in libxdp's order; use the functions below rather
 * than the fields.
 */
#define DEFINE_XSK_RING(name) \
	struct name {         \
		__u32 cached_prod; \
		__u32 cached_cons; \
		__u32 mask;        \
		__u32 size;        \
		__u32 *producer;   \
		__u32 *consumer;   \
		void *ring;        \
		__u32 *flags;      \
	}

DEFINE_XSK_RING(xsk_ring_prod);
DEFINE_XSK_RING(xsk_ring_cons);

/* A registered UMEM, and a socket bound to a queue. Opaque. */
struct xsk_umem;
struct xsk_socket;

/*
 * Memory ordering (the kernel's net/xdp/xsk_queue.h contract). Each side
 * writes only its own index. A producer fills entries and then publishes
 * them with a release store of the producer index; a consumer reads that
 * index with an acquire load before it reads the entries. A consumer that
 * is done with entries publishes so with a release store of the consumer
 * index; the producer reads that index with an acquire load before it
 * overwrites the slots. The application's own index is read plainly: only
 * it ever writes that one.
 */

/* The fill ring's slot for index idx (from xsk_ring_prod__reserve). */
XSK_RS_COMPAT_INLINE __u64 *xsk_ring_prod__fill_addr(struct xsk_ring_prod *fill, __u32 idx)
{
	/* Masked: any idx names a slot inside the ring. */
	return (__u64 *)fill->ring + (idx & fill->mask);
}

/* The completion ring's entry for index idx (from xsk_ring_cons__peek). */
XSK_RS_COMPAT_INLINE const __u64 *xsk_ring_cons__comp_addr(const struct xsk_ring_cons *comp, __u32 idx)
{
	return (const __u64 *)comp->ring + (idx & comp->mask);
}

/* The TX ring's descriptor for index idx (from xsk_ring_prod__reserve). */
XSK_RS_COMPAT_INLINE struct xdp_desc *xsk_ring_prod__tx_desc(struct xsk_ring_prod *tx, __u32 idx)
{
	return (struct xdp_desc *)tx->ring + (idx & tx->mask);
}

/* The RX ring's descriptor for index idx (from xsk_ring_cons__peek). */
XSK_RS_COMPAT_INLINE const struct xdp_desc *xsk_ring_cons__rx_desc(const struct xsk_ring_cons *rx, __u32 idx)
{
	return (const struct xdp_desc *)rx->ring + (idx & rx->mask);
}

/*
 * Non-zero when the kernel asks to be woken for this ring (fill: poll or
 * recvfrom; TX: sendto). Always 0 on a socket bound without
 * XDP_USE_NEED_WAKEUP, where the kernel never sets the flag.
 */
XSK_RS_COMPAT_INLINE int xsk_ring_prod__needs_wakeup(const struct xsk_ring_prod *r)
{
	/* The kernel sets and clears the flag at any time: one untorn read. */
	return (int)(__atomic_load_n(r->flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP);
}

/*
 * Free entries of a producer ring: the cached count when it is at least nb,
 * else the count after reading the kernel's consumer index again (which may
 * still be below nb).
 */
XSK_RS_COMPAT_INLINE __u32 xsk_prod_nb_free(struct xsk_ring_prod *r, __u32 nb)
{
	__u32 free_now = r->cached_cons - r->cached_prod;

	if (free_now >= nb)
		return free_now;
	/* Acquire: pairs with the kernel's release of the consumer index after
	 * it read the entries, so the slots before it may be overwritten. The
	 * size is added once here, so the hot path above is one subtraction. */
	r->cached_cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE) + r->size;
	return r->cached_cons - r->cached_prod;
}

/*
 * Entries a consumer ring holds, at most nb: the cached count when there is
 * any, else the count after reading the kernel's producer index again.
 */
XSK_RS_COMPAT_INLINE __u32 xsk_cons_nb_avail(struct xsk_ring_cons *r, __u32 nb)
{
	__u32 avail = r->cached_prod - r->cached_cons;

	if (avail == 0) {
		/* Acquire: pairs with the kernel's release of the producer index
		 * after it wrote the entries, which may now be read. */
		r->cached_prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
		avail = r->cached_prod - r->cached_cons;
	}
	return avail < nb ? avail : nb;
}

/*
 * Reserves nb entries of a producer ring: returns nb and sets *idx to the
 * first, or returns 0 (nothing reserved, *idx untouched) when fewer than nb
 * are free. Fill them (fill_addr / tx_desc), then submit.
 */
XSK_RS_COMPAT_INLINE __u32 xsk_ring_prod__reserve(struct xsk_ring_prod *prod, __u32 nb, __u32 *idx)
{
	if (xsk_prod_nb_free(prod, nb) < nb)
		return 0;
	*idx = prod->cached_prod;
	prod->cached_prod += nb;
	return nb;
}

/* Hands the kernel the next nb reserved entries, in order. */
XSK_RS_COMPAT_INLINE void xsk_ring_prod__submit(struct xsk_ring_prod *prod, __u32 nb)
{
	/* Release: the entries' contents are visible to the kernel before the
	 * index that covers them. */
	__atomic_store_n(prod->producer, *prod->producer + nb, __ATOMIC_RELEASE);
}

/*
 * Takes up to nb entries from a consumer ring: returns how many (0 when it
 * is empty) and sets *idx to the first when there are any. Read them
 * (comp_addr / rx_desc), then release them, or cancel to see them again.
 */
XSK_RS_COMPAT_INLINE __u32 xsk_ring_cons__peek(struct xsk_ring_cons *cons, __u32 nb, __u32 *idx)
{
	__u32 n = xsk_cons_nb_avail(cons, nb);

	if (n) {
		*idx = cons->cached_cons;
		cons->cached_cons += n;
	}
	return n;
}

/* Gives back the last nb peeked and not yet released entries, to be peeked again. */
XSK_RS_COMPAT_INLINE void xsk_ring_cons__cancel(struct xsk_ring_cons *cons, __u32 nb)
{
	cons->cached_cons -= nb;
}

/* Tells the kernel that the next nb peeked entries are done with. */
XSK_RS_COMPAT_INLINE void xsk_ring_cons__release(struct xsk_ring_cons *cons, __u32 nb)
{
	/* Release: every read of the entries happens before the kernel may
	 * reuse their slots. */
	__atomic_store_n(cons->consumer, *cons->consumer + nb, __ATOMIC_RELEASE);
}

/* The byte at UMEM offset addr of the area the UMEM was created on. */
XSK_RS_COMPAT_INLINE void *xsk_umem__get_data(void *umem_area, __u64 addr)
{
	return (char *)umem_area + addr;
}

/* Unaligned mode: the chunk's base address, the low 48 bits of a ring address. */
XSK_RS_COMPAT_INLINE __u64 xsk_umem__extract_addr(__u64 addr)
{
	return addr & XSK_UNALIGNED_BUF_ADDR_MASK;
}

/* Unaligned mode: the data's offset from the base, the top 16 bits of a ring address. */
XSK_RS_COMPAT_INLINE __u64 xsk_umem__extract_offset(__u64 addr)
{
	return addr >> XSK_UNALIGNED_BUF_OFFSET_SHIFT;
}

/* Unaligned mode: the UMEM offset a ring address refers to (base + offset). */
XSK_RS_COMPAT_INLINE __u64 xsk_umem__add_offset_to_addr(__u64 addr)
{
	return xsk_umem__extract_addr(addr) + xsk_umem__extract_offset(addr);
}

/* The UMEM's AF_XDP fd (its first socket's too); -EINVAL for NULL. Do not close it. */
int xsk_umem__fd(const struct xsk_umem *umem);
/* The socket's fd, for poll, sendto, recvfrom and getsockopt(XDP_STATISTICS);
 * -EINVAL for NULL. Do not close it. */
int xsk_socket__fd(const struct xsk_socket *xsk);

#define XSK_RING_CONS__DEFAULT_NUM_DESCS 2048
#define XSK_RING_PROD__DEFAULT_NUM_DESCS 2048
#define XSK_UMEM__DEFAULT_FRAME_SHIFT 12 /* 4096-byte frames */
#define XSK_UMEM__DEFAULT_FRAME_SIZE (1 << XSK_UMEM__DEFAULT_FRAME_SHIFT)
#define XSK_UMEM__DEFAULT_FRAME_HEADROOM 0
#define XSK_UMEM__DEFAULT_FLAGS 0
#define XSK_UMEM__DEFAULT_TX_METADATA_LEN 0

/*
 * UMEM geometry. A field left 0 takes its default (fill and completion
 * rings XSK_RING_PROD/CONS__DEFAULT_NUM_DESCS, frames
 * XSK_UMEM__DEFAULT_FRAME_SIZE); a NULL config is all defaults. Ring sizes
 * are powers of two. frame_size: a power of two from 2048 to the page size,
 * or with XDP_UMEM_UNALIGNED_CHUNK_FLAG in flags any size in that range.
 * frame_headroom: bytes the kernel leaves free before received data, after
 * its own XDP_PACKET_HEADROOM (256).
 */
struct xsk_umem_config {
	__u32 fill_size;
	__u32 comp_size;
	__u32 frame_size;
	__u32 frame_headroom;
	__u32 flags;
};

/*
 * Options of xsk_umem__create_opts. Set sz to sizeof(struct xsk_umem_opts)
 * (libbpf's opts convention: DECLARE_LIBXDP_OPTS or LIBBPF_OPTS do it);
 * fields past sz take their defaults, and bytes past the last field this
 * library knows must be 0. Every field may be left 0:
 *  fd    an AF_XDP socket of the caller's to register the UMEM on (it is
 *        the UMEM's from then on, closed by xsk_umem__delete); 0 or less:
 *        a new one;
 *  size  bytes of the area (required: 0 is -EINVAL);
 *  fill_size .. flags  as in struct xsk_umem_config;
 *  tx_metadata_len  must be 0 (-EOPNOTSUPP otherwise).
 */
struct xsk_umem_opts {
	size_t sz;
	int fd;
	__u64 size;
	__u32 fill_size;
	__u32 comp_size;
	__u32 frame_size;
	__u32 frame_headroom;
	__u32 flags;
	__u32 tx_metadata_len;
	size_t : 0;
};
#define xsk_umem_opts__last_field tx_metadata_len

/*
 * Attaches the built-in redirect program to interface ifindex (or takes a
 * new reference to the one this process already has there) and, if
 * xsks_map_fd is not NULL, stores in it an fd of the program's XSKMAP (the
 * caller's to close), for xsk_socket__update_xskmap on sockets created with
 * XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD. Native mode where the driver has it,
 * else generic. The program stays until xdp_multiprog__detach (see
 * <xdp/libxdp.h>) or the process exits. Returns 0, -EINVAL (no such
 * ifindex), -EBUSY (someone else's program is attached), or another
 * negative errno.
 */
int xsk_setup_xdp_prog(int ifindex, int *xsks_map_fd);

/*
 * Inserts the socket into the XSKMAP xsks_map_fd at its queue id. Returns 0,
 * -EINVAL (no XSKMAP, the queue id past its size, or a socket without an RX
 * ring), -EBADF, ... Delete the entry before deleting the socket.
 */
int xsk_socket__update_xskmap(struct xsk_socket *xsk, int xsks_map_fd);

/* For xsk_socket_config.libxdp_flags (libbpf_flags is the same field):
 * attach no program; the caller's own steers packets to the socket, which
 * it inserts with xsk_socket__update_xskmap. */
#define XSK_LIBBPF_FLAGS__INHIBIT_PROG_LOAD (1 << 0)
#define XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD (1 << 0)

/*
 * Socket configuration; NULL is all defaults.
 *  rx_size, tx_size  ring entries, powers of two; 0: the default
 *                    (XSK_RING_CONS/PROD__DEFAULT_NUM_DESCS). A ring is
 *                    created only when its struct is passed to the create.
 *  libxdp_flags      0 or XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; other bits
 *                    are -EINVAL.
 *  xdp_flags         XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE, or neither
 *                    (native, falling back to generic); others are ignored
 *                    but XDP_FLAGS_HW_MODE (-EOPNOTSUPP).
 *  bind_flags        XDP_COPY, XDP_ZEROCOPY, XDP_USE_NEED_WAKEUP, for a
 *                    UMEM's first socket; later sockets run with the first
 *                    one's, as the kernel binds them (their bind_flags are
 *                    not used). XDP_USE_SG: -EOPNOTSUPP.
 */
struct xsk_socket_config {
	__u32 rx_size;
	__u32 tx_size;
	union {
		__u32 libbpf_flags;
		__u32 libxdp_flags;
	};
	__u32 xdp_flags;
	__u16 bind_flags;
};

/*
 * Options of xsk_socket__create_opts (sz as for struct xsk_umem_opts).
 * rx and tx: the rings to create, at least one. fill and comp: both or
 * neither, as for xsk_socket__create_shared; neither means the UMEM's own
 * (xsk_socket__create). The other fields as in struct xsk_socket_config.
 */
struct xsk_socket_opts {
	size_t sz;
	struct xsk_ring_cons *rx;
	struct xsk_ring_prod *tx;
	struct xsk_ring_prod *fill;
	struct xsk_ring_cons *comp;
	__u32 rx_size;
	__u32 tx_size;
	__u32 libxdp_flags;
	__u32 xdp_flags;
	__u16 bind_flags;
	size_t : 0;
};
#define xsk_socket_opts__last_field bind_flags

/*
 * Registers size bytes at umem_area (page-aligned; in aligned mode a whole
 * number of frames) as a UMEM on a new AF_XDP socket, creates its fill and
 * completion rings and describes them in *fill and *comp. The area stays
 * the caller's; it must stay mapped until xsk_umem__delete. The kernel pins
 * its pages. Returns 0 and sets *umem, or -EFAULT (a NULL pointer), -EINVAL
 * (config, alignment), -ENOMEM, -EPERM, ...
 */
int xsk_umem__create(struct xsk_umem **umem, void *umem_area, __u64 size, struct xsk_ring_prod *fill,
		     struct xsk_ring_cons *comp, const struct xsk_umem_config *config);
/*
 * As xsk_umem__create, on the caller's AF_XDP socket fd (a new one when
 * fd <= 0), which then belongs to the UMEM and is closed by
 * xsk_umem__delete. On failure the fd stays the caller's (libxdp closes it).
 */
int xsk_umem__create_with_fd(struct xsk_umem **umem, int fd, void *umem_area, __u64 size,
			     struct xsk_ring_prod *fill, struct xsk_ring_cons *comp,
			     const struct xsk_umem_config *config);
/* As xsk_umem__create_with_fd, configured by opts; returns the UMEM, or NULL with errno set. */
struct xsk_umem *xsk_umem__create_opts(void *umem_area, struct xsk_ring_prod *fill, struct xsk_ring_cons *comp,
				       struct xsk_umem_opts *opts);

/*
 * Creates an AF_XDP socket on ifname's queue queue_id over umem, with an RX
 * ring (rx not NULL), a TX ring (tx not NULL) or both, binds it and, unless
 * config's libxdp_flags has XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, steers the
 * queue to it with the built-in program (shared by every socket of this
 * process on the interface). The UMEM's first socket uses the UMEM's fill
 * and completion rings from xsk_umem__create; a later one must be on an
 * (interface, queue) that already has a socket of this UMEM, whose rings it
 * shares (else -EFAULT: use xsk_socket__create_shared). Returns 0 and sets
 * *xsk, or -EFAULT (a NULL pointer), -EINVAL (config, queue out of range),
 * -ENODEV (no such interface), -EBUSY (queue in use, or someone else's XDP
 * program), -EOPNOTSUPP, -EPERM, ...
 */
int xsk_socket__create(struct xsk_socket **xsk, const char *ifname, __u32 queue_id, struct xsk_umem *umem,
		       struct xsk_ring_cons *rx, struct xsk_ring_prod *tx, const struct xsk_socket_config *config);
/*
 * As xsk_socket__create, for sharing a UMEM across queues and interfaces.
 * On an (interface, queue) where this UMEM has no socket yet, *fill and
 * *comp are set up to describe that queue's fill and completion rings (the
 * UMEM's own for its first socket); every socket there shares them. On one
 * where it has, fill and comp are not used and the existing rings are
 * shared (keep using the structs the first socket there got).
 */
int xsk_socket__create_shared(struct xsk_socket **xsk_ptr, const char *ifname, __u32 queue_id,
			      struct xsk_umem *umem, struct xsk_ring_cons *rx, struct xsk_ring_prod *tx,
			      struct xsk_ring_prod *fill, struct xsk_ring_cons *comp,
			      const struct xsk_socket_config *config);
/* As xsk_socket__create_shared, configured by opts; returns the socket, or NULL with errno set. */
struct xsk_socket *xsk_socket__create_opts(const char *ifname, __u32 queue_id, struct xsk_umem *umem,
					   struct xsk_socket_opts *opts);

/* Deletes the UMEM: 0, or -EBUSY (and nothing deleted) while a socket uses it. NULL: 0. */
int xsk_umem__delete(struct xsk_umem *umem);
/* Deletes the socket (its rings' structs become invalid) and, with its last
 * socket on the interface, the built-in program. NULL is a no-op. */
void xsk_socket__delete(struct xsk_socket *xsk);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* XSK_RS_COMPAT_XDP_XSK_H */
