/*
 * The rings: libxdp's ring structs described from xsk_rs's ring layouts,
 * and the exported copies of the inline ring functions of <xdp/xsk.h>.
 */
#include "internal.h"

/*
 * A producer ring (fill, TX) as the application drives it: it publishes
 * from the kernel's producer index on, and the kernel has freed every slot
 * up to its consumer index plus the ring's size (cached_cons runs one ring
 * ahead, see xsk_prod_nb_free). Reading both indices now picks up whatever
 * was already submitted on this ring, by an earlier struct or by xsk_rs.
 */
void compat_prod_from_layout(struct xsk_ring_prod *r, const struct xsk_rs_ring_layout *l)
{
	r->size = l->size;
	r->mask = l->size - 1;
	r->producer = l->producer;
	r->consumer = l->consumer;
	r->flags = l->flags;
	r->ring = l->ring;
	r->cached_prod = __atomic_load_n(l->producer, __ATOMIC_RELAXED);
	r->cached_cons = __atomic_load_n(l->consumer, __ATOMIC_ACQUIRE) + l->size;
}

/* A consumer ring (completion, RX): nothing is cached as available yet;
 * the first peek reads the kernel's producer index. */
void compat_cons_from_layout(struct xsk_ring_cons *r, const struct xsk_rs_ring_layout *l)
{
	r->size = l->size;
	r->mask = l->size - 1;
	r->producer = l->producer;
	r->consumer = l->consumer;
	r->flags = l->flags;
	r->ring = l->ring;
	r->cached_cons = __atomic_load_n(l->consumer, __ATOMIC_RELAXED);
	r->cached_prod = r->cached_cons;
}

/*
 * External definitions of the inline functions: in C99, an extern
 * declaration in the translation unit that sees an inline definition makes
 * this unit emit it, so the library exports each one (libxdp does too).
 * Programs inline the header's copy and never call these.
 */
extern inline __u64 *xsk_ring_prod__fill_addr(struct xsk_ring_prod *fill, __u32 idx);
extern inline const __u64 *xsk_ring_cons__comp_addr(const struct xsk_ring_cons *comp, __u32 idx);
extern inline struct xdp_desc *xsk_ring_prod__tx_desc(struct xsk_ring_prod *tx, __u32 idx);
extern inline const struct xdp_desc *xsk_ring_cons__rx_desc(const struct xsk_ring_cons *rx, __u32 idx);
extern inline int xsk_ring_prod__needs_wakeup(const struct xsk_ring_prod *r);
extern inline __u32 xsk_prod_nb_free(struct xsk_ring_prod *r, __u32 nb);
extern inline __u32 xsk_cons_nb_avail(struct xsk_ring_cons *r, __u32 nb);
extern inline __u32 xsk_ring_prod__reserve(struct xsk_ring_prod *prod, __u32 nb, __u32 *idx);
extern inline void xsk_ring_prod__submit(struct xsk_ring_prod *prod, __u32 nb);
extern inline __u32 xsk_ring_cons__peek(struct xsk_ring_cons *cons, __u32 nb, __u32 *idx);
extern inline void xsk_ring_cons__cancel(struct xsk_ring_cons *cons, __u32 nb);
extern inline void xsk_ring_cons__release(struct xsk_ring_cons *cons, __u32 nb);
extern inline void *xsk_umem__get_data(void *umem_area, __u64 addr);
extern inline __u64 xsk_umem__extract_addr(__u64 addr);
extern inline __u64 xsk_umem__extract_offset(__u64 addr);
extern inline __u64 xsk_umem__add_offset_to_addr(__u64 addr);
