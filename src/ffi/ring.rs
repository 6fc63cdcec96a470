//! C ABI for the four rings: `xsk_rs_fill_*`, `xsk_rs_tx_*`, `xsk_rs_comp_*`,
//! `xsk_rs_rx_*`. These are the hot path: no locks, no syscalls, and every index
//! is masked into its ring, so no argument can reach outside it.
//!
//! The signatures are written out one by one (cbindgen reads them); the bodies
//! share the generic helpers at the bottom.

use super::handle::{try_mut, try_ref};
use super::{ffi_guard, misuse, null_handle, refuse, set_last_error};
use crate::ring::{ConsRing, Desc, ProdRing, PutPacketsError, RingLayout, TooLong};
use std::ffi::{c_int, c_void};

/// A packet descriptor on the RX and TX rings; the layout of the kernel's
/// `struct xdp_desc`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct xsk_rs_desc {
    /// UMEM address of the packet's first byte (see `xsk_rs_umem_data`).
    pub addr: u64,
    /// Packet length in bytes.
    pub len: u32,
    /// 0 for single-buffer packets.
    pub options: u32,
}

const _: () = assert!(std::mem::size_of::<xsk_rs_desc>() == std::mem::size_of::<Desc>());
const _: () = assert!(std::mem::align_of::<xsk_rs_desc>() == std::mem::align_of::<Desc>());
const _: () = assert!(std::mem::offset_of!(xsk_rs_desc, addr) == std::mem::offset_of!(Desc, addr));
const _: () = assert!(std::mem::offset_of!(xsk_rs_desc, len) == std::mem::offset_of!(Desc, len));
const _: () = assert!(std::mem::offset_of!(xsk_rs_desc, options) == std::mem::offset_of!(Desc, options));

// The one place where descriptors change type between C and the ring: the
// asserts above make the two layouts one.
fn desc_in(p: *const xsk_rs_desc) -> *const Desc {
    p.cast()
}
fn desc_out(p: *mut xsk_rs_desc) -> *mut Desc {
    p.cast()
}
fn desc_slot(p: *mut Desc) -> *mut xsk_rs_desc {
    p.cast()
}
fn desc_entry(p: *const Desc) -> *const xsk_rs_desc {
    p.cast()
}
fn desc_span_out(p: *mut *mut xsk_rs_desc) -> *mut *mut Desc {
    p.cast()
}
fn desc_span_in(p: *mut *const xsk_rs_desc) -> *mut *const Desc {
    p.cast()
}

/// `xsk_rs_desc.options` bit (`XDP_PKT_CONTD`, multi-buffer sockets only):
/// the packet goes on in the next descriptor. A packet is the descriptors up
/// to and including the first one without it.
pub const XSK_RS_DESC_CONTD: u32 = 1;
const _: () = assert!(XSK_RS_DESC_CONTD == crate::ring::XDP_PKT_CONTD);

/// The fill ring of a UMEM (application produces frame addresses for RX).
/// Borrowed from its UMEM. Single producer: one thread at a time may use it.
pub struct xsk_rs_fill {
    _opaque: [u8; 0],
}

/// The completion ring of a UMEM (application consumes addresses of sent frames).
/// Borrowed from its UMEM. Single consumer: one thread at a time may use it.
pub struct xsk_rs_comp {
    _opaque: [u8; 0],
}

/// The RX ring of a socket (application consumes received packets).
/// Borrowed from its socket. Single consumer: one thread at a time may use it.
pub struct xsk_rs_rx {
    _opaque: [u8; 0],
}

/// The TX ring of a socket (application produces packets to send).
/// Borrowed from its socket. Single producer: one thread at a time may use it.
///
/// A descriptor the kernel rejects (`len` 0 or beyond the frame, a buffer
/// outside the UMEM or across a frame boundary in aligned mode) is counted in
/// `tx_invalid_descs`. Linux 6.12 and later (as measured; 6.1 does not) also
/// return its address on the completion ring. On 6.1 the frame never comes
/// back that way and a zero-length descriptor is sent as valid: check
/// descriptors before queuing them.
pub struct xsk_rs_tx {
    _opaque: [u8; 0],
}

/// Reserves exactly `n` fill slots, or none: returns `n` and writes the first
/// slot's index to `*idx`, or returns 0 (the ring has fewer than `n` free
/// slots, or `n` is 0) and leaves `*idx` alone. -EINVAL for a NULL argument or
/// `n` above INT_MAX. Write addresses with `xsk_rs_fill_addr(r, *idx + i)`,
/// then `xsk_rs_fill_submit(r, n)`.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_reserve(r: *mut xsk_rs_fill, n: u32, idx: *mut u32) -> c_int {
    ffi_guard!({ reserve("xsk_rs_fill_reserve", unsafe { try_mut(r) }, n, idx) })
}

/// The fill slot for index `idx` (masked into the ring, so never out of
/// bounds); NULL only for a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_addr(r: *mut xsk_rs_fill, idx: u32) -> *mut u64 {
    ffi_guard!({ prod_slot("xsk_rs_fill_addr", unsafe { try_mut(r) }, idx) })
}

/// Hands the next `n` reserved fill slots to the kernel and returns how many
/// it handed: `n`, or fewer when `n` is more than was reserved and not yet
/// submitted (all of those, with a message in `xsk_rs_last_error()`).
/// -EINVAL for a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_submit(r: *mut xsk_rs_fill, n: u32) -> c_int {
    ffi_guard!({ submit("xsk_rs_fill_submit", unsafe { try_mut(r) }, n) })
}

/// 1 if the kernel wants a wakeup (`poll` or `recvfrom`) to take fill entries,
/// 0 if not; -EINVAL for a NULL ring. It is also 1 whenever need_wakeup is
/// not in force for the UMEM: before its first socket binds, and when that
/// socket was bound without `XSK_RS_BIND_NEED_WAKEUP`. So waking the kernel
/// only when this says 1 works on every kernel.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_needs_wakeup(r: *const xsk_rs_fill) -> c_int {
    ffi_guard!({ prod_wakeup("xsk_rs_fill_needs_wakeup", unsafe { try_ref(r) }) })
}

/// Reserves exactly `n` TX slots, or none (as `xsk_rs_fill_reserve`: `n`, 0,
/// or -EINVAL). Fill each descriptor with `xsk_rs_tx_desc(r, *idx + i)`, then
/// `xsk_rs_tx_submit(r, n)`.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_reserve(r: *mut xsk_rs_tx, n: u32, idx: *mut u32) -> c_int {
    ffi_guard!({ reserve("xsk_rs_tx_reserve", unsafe { try_mut(r) }, n, idx) })
}

/// The TX descriptor slot for index `idx` (masked into the ring); NULL only for
/// a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_desc(r: *mut xsk_rs_tx, idx: u32) -> *mut xsk_rs_desc {
    ffi_guard!({ desc_slot(prod_slot("xsk_rs_tx_desc", unsafe { try_mut(r) }, idx)) })
}

/// Hands the next `n` reserved TX descriptors to the kernel and returns how
/// many (as `xsk_rs_fill_submit`: fewer than `n`, with a message, when `n` is
/// more than was reserved; -EINVAL for a NULL ring). In copy mode, follow with
/// `xsk_rs_socket_kick`.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_submit(r: *mut xsk_rs_tx, n: u32) -> c_int {
    ffi_guard!({ submit("xsk_rs_tx_submit", unsafe { try_mut(r) }, n) })
}

/// 1 if the kernel wants `xsk_rs_socket_kick` to send what was submitted, 0 if
/// not; -EINVAL for a NULL ring. It is also 1 whenever need_wakeup is not in
/// force for the socket: when the UMEM's first socket was bound without
/// `XSK_RS_BIND_NEED_WAKEUP` (every socket on a UMEM has the first one's). So
/// kicking only when this says 1 works on every kernel.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_needs_wakeup(r: *const xsk_rs_tx) -> c_int {
    ffi_guard!({ prod_wakeup("xsk_rs_tx_needs_wakeup", unsafe { try_ref(r) }) })
}

/// Takes up to `n` completed frame addresses: returns how many (0 when none
/// are ready or `n` is 0) and, when more than 0, writes the first index to
/// `*idx`. -EINVAL for a NULL argument. Read them with `xsk_rs_comp_addr`,
/// then `xsk_rs_comp_release`.
#[no_mangle]
pub extern "C" fn xsk_rs_comp_peek(r: *mut xsk_rs_comp, n: u32, idx: *mut u32) -> c_int {
    ffi_guard!({ peek("xsk_rs_comp_peek", unsafe { try_mut(r) }, n, idx) })
}

/// The completion entry at index `idx` (masked into the ring); NULL only for a
/// NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_comp_addr(r: *const xsk_rs_comp, idx: u32) -> *const u64 {
    ffi_guard!({ cons_slot("xsk_rs_comp_addr", unsafe { try_ref(r) }, idx) })
}

/// Gives the next `n` peeked completion entries back to the kernel and
/// returns how many: `n`, or fewer when `n` is more than was peeked and not
/// yet released (all of those, with a message). -EINVAL for a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_comp_release(r: *mut xsk_rs_comp, n: u32) -> c_int {
    ffi_guard!({ release("xsk_rs_comp_release", unsafe { try_mut(r) }, n) })
}

/// Un-peeks the last `n` peeked, unreleased completion entries, so that the
/// next peek returns them again, and returns how many (fewer than `n`, with a
/// message, when fewer are held). -EINVAL for a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_comp_cancel(r: *mut xsk_rs_comp, n: u32) -> c_int {
    ffi_guard!({ cancel("xsk_rs_comp_cancel", unsafe { try_mut(r) }, n) })
}

/// Takes up to `n` received descriptors (as `xsk_rs_comp_peek`: a count, or
/// -EINVAL). Read them with `xsk_rs_rx_desc`, then `xsk_rs_rx_release`.
#[no_mangle]
pub extern "C" fn xsk_rs_rx_peek(r: *mut xsk_rs_rx, n: u32, idx: *mut u32) -> c_int {
    ffi_guard!({ peek("xsk_rs_rx_peek", unsafe { try_mut(r) }, n, idx) })
}

/// The RX descriptor at index `idx` (masked into the ring); NULL only for a
/// NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_rx_desc(r: *const xsk_rs_rx, idx: u32) -> *const xsk_rs_desc {
    ffi_guard!({ desc_entry(cons_slot("xsk_rs_rx_desc", unsafe { try_ref(r) }, idx)) })
}

/// Gives the next `n` peeked RX descriptors back to the kernel and returns how
/// many (as `xsk_rs_comp_release`). The frames themselves stay the
/// application's until it puts them on the fill or TX ring.
#[no_mangle]
pub extern "C" fn xsk_rs_rx_release(r: *mut xsk_rs_rx, n: u32) -> c_int {
    ffi_guard!({ release("xsk_rs_rx_release", unsafe { try_mut(r) }, n) })
}

/// Un-peeks the last `n` peeked, unreleased RX descriptors and returns how
/// many (as `xsk_rs_comp_cancel`).
#[no_mangle]
pub extern "C" fn xsk_rs_rx_cancel(r: *mut xsk_rs_rx, n: u32) -> c_int {
    ffi_guard!({ cancel("xsk_rs_rx_cancel", unsafe { try_mut(r) }, n) })
}

/// Takes up to `max` received descriptors that make whole packets (as
/// `xsk_rs_rx_peek`, but never part of a multi-buffer chain: a chain whose
/// end has not arrived, or that is longer than what is left of `max` after
/// whole packets before it, stays for the next call). Returns how many
/// descriptors, 0 when no whole packet is there yet. Walk them with
/// `xsk_rs_desc_chain_len`, release them with `xsk_rs_rx_release`.
///
/// -ENOBUFS, with a message naming the chain's length, when the *first*
/// packet's chain is longer than `max` (it could never be taken, and a loop
/// that read 0 as "empty" would stop receiving for good); nothing is taken.
/// Call again with `max` of at least that length (the kernel's chains are at
/// most 18 descriptors in copy mode, the device's `xdp-zc-max-segs` in
/// zero-copy mode), or drop the chain with `xsk_rs_rx_peek` and
/// `xsk_rs_rx_release`. Also -ENOBUFS when the ring, with nothing peeked, is
/// full of one chain whose end has not arrived. -EINVAL for a NULL argument.
#[no_mangle]
pub extern "C" fn xsk_rs_rx_peek_packets(r: *mut xsk_rs_rx, max: u32, idx: *mut u32) -> c_int {
    const F: &str = "xsk_rs_rx_peek_packets";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut::<xsk_rs_rx>(r) }) else { return misuse(F, "handle is NULL") };
        if idx.is_null() {
            return misuse(F, "idx is NULL");
        }
        match r.peek_packets(up_to(max)) {
            Ok((got, first)) => {
                if got > 0 {
                    // SAFETY: idx checked non-NULL.
                    unsafe { idx.write(first) };
                }
                count(got)
            }
            Err(e) => chain_too_long(F, e),
        }
    })
}

#[cold]
fn chain_too_long(func: &str, e: crate::ring::ChainTooLong) -> c_int {
    set_last_error(format!(
        "{func}: {e}; peek with a max of at least {}, or drop it with xsk_rs_rx_peek and xsk_rs_rx_release",
        if e.ended { e.len } else { e.len.saturating_add(1) }
    ));
    -libc::ENOBUFS
}

/// How many of the `n` descriptors at `descs` the first packet takes: up to
/// and including the first without `XSK_RS_DESC_CONTD`. 0 when all `n` carry
/// it (the chain goes on past them) or `n` is 0; -EINVAL for a NULL `descs`
/// with `n` above 0. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_desc_chain_len(descs: *const xsk_rs_desc, n: u32) -> c_int {
    const F: &str = "xsk_rs_desc_chain_len";
    ffi_guard!({
        if n == 0 {
            return 0;
        }
        if descs.is_null() {
            return misuse(F, "descs is NULL");
        }
        // SAFETY: the caller passes n readable descriptors.
        let d = unsafe { std::slice::from_raw_parts(desc_in(descs), up_to(n) as usize) };
        count(crate::ring::chain_len(d).unwrap_or(0) as u32)
    })
}

/// `xsk_rs_tx_put` for multi-buffer chains: copies in and submits only whole
/// packets (chains ending in a descriptor without `XSK_RS_DESC_CONTD`),
/// never part of one, so a chain that does not fit waits whole. Returns how
/// many descriptors were queued: 0 only when the ring has no room for the
/// first chain yet (retry after the kernel completes some).
///
/// Errors, each with a message, for arrays a retry could never queue:
/// -EMSGSIZE when the first descriptor is longer than the interface sends
/// (as `xsk_rs_tx_put`; a later one stops the put before its chain, and the
/// count of the whole packets before it is returned); -EINVAL when the
/// array ends inside its first chain (every descriptor from the first
/// carries `XSK_RS_DESC_CONTD`; an array whose whole packets come first
/// queues them, and the next call from the unfinished chain fails); -E2BIG
/// when the first chain has more descriptors than the TX ring has entries.
/// -EINVAL also for a NULL ring, NULL `descs` with `n` above 0, or while a
/// `xsk_rs_tx_reserve` is not yet submitted.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_put_packets(r: *mut xsk_rs_tx, descs: *const xsk_rs_desc, n: u32) -> c_int {
    const F: &str = "xsk_rs_tx_put_packets";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut::<xsk_rs_tx>(r) }) else { return misuse(F, "handle is NULL") };
        if n == 0 {
            return 0;
        }
        if descs.is_null() {
            return misuse(F, "array is NULL");
        }
        // SAFETY: the caller passes n readable descriptors, not in the ring.
        let d = unsafe { std::slice::from_raw_parts(desc_in(descs), up_to(n) as usize) };
        match r.put_packets(d) {
            Ok(done) => put_count(F, r, done),
            Err(e) => put_packets_error(F, d, e),
        }
    })
}

#[cold]
fn put_packets_error(func: &str, d: &[Desc], e: PutPacketsError) -> c_int {
    match e {
        PutPacketsError::TooLong(e) => {
            let queued = crate::ring::whole_packets_len(&d[..e.index as usize]) as u32;
            set_last_error(format!(
                "{func}: descriptor {} is {} bytes, more than the {} the interface sends (its MTU plus 18 bytes \
                 of Ethernet header and VLAN tag); queued the {queued} descriptors of the whole packets before \
                 its packet",
                e.index, e.len, e.max
            ));
            if queued == 0 {
                return -libc::EMSGSIZE;
            }
            count(queued)
        }
        PutPacketsError::Unfinished { len } => {
            set_last_error(format!(
                "{func}: all {len} descriptors carry XSK_RS_DESC_CONTD, so the array ends inside its first \
                 packet: clear the flag on each packet's last descriptor"
            ));
            -libc::EINVAL
        }
        PutPacketsError::ChainTooBig { len, size } => {
            set_last_error(format!(
                "{func}: the first packet is a chain of {len} descriptors, more than the tx ring's {size} entries, \
                 so it can never be queued whole"
            ));
            -libc::E2BIG
        }
    }
}

/// Puts up to `n` frame addresses from `addrs` on the fill ring in one call
/// (reserve + copy + submit). Returns how many were queued: fewer than `n`
/// when the ring is nearly full, 0 when it is full or `n` is 0. -EINVAL, with
/// a message, for a NULL argument or while a `xsk_rs_fill_reserve` is not yet
/// submitted (the ring publishes in order).
#[no_mangle]
pub extern "C" fn xsk_rs_fill_put(r: *mut xsk_rs_fill, addrs: *const u64, n: u32) -> c_int {
    ffi_guard!({ put("xsk_rs_fill_put", unsafe { try_mut(r) }, addrs, n) })
}

/// Puts up to `n` descriptors from `descs` on the TX ring in one call. Returns
/// how many were queued (as `xsk_rs_fill_put`; -EINVAL while a
/// `xsk_rs_tx_reserve` is not yet submitted). In copy mode, follow with
/// `xsk_rs_socket_kick`.
///
/// It stops before the first descriptor longer than the interface sends (its
/// MTU, read when the socket was created, plus 18 bytes of Ethernet header
/// and VLAN tag: a double-tagged QinQ frame of a full MTU is refused), queues
/// the ones before it, returns their count and leaves a message naming it;
/// when that descriptor is the first, it returns -EMSGSIZE (so a send loop
/// never mistakes it for a full ring). `xsk_rs_tx_max_len` gives the limit. The kernel itself would take such a frame, report it
/// completed and count nothing, and the device would drop it. The
/// reserve/submit and span paths do not check lengths.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_put(r: *mut xsk_rs_tx, descs: *const xsk_rs_desc, n: u32) -> c_int {
    ffi_guard!({ tx_put("xsk_rs_tx_put", unsafe { try_mut(r) }, desc_in(descs), n) })
}

/// Copies up to `max` completed frame addresses into `addrs` and releases them
/// in one call (peek + copy + release). Returns how many, 0 when none are
/// ready or `max` is 0; -EINVAL, with a message, for a NULL argument or while
/// a `xsk_rs_comp_peek` is not yet released (the ring releases in order).
#[no_mangle]
pub extern "C" fn xsk_rs_comp_take(r: *mut xsk_rs_comp, addrs: *mut u64, max: u32) -> c_int {
    ffi_guard!({ take("xsk_rs_comp_take", unsafe { try_mut(r) }, addrs, max) })
}

/// Copies up to `max` received descriptors into `descs` and releases them in
/// one call. Returns how many (as `xsk_rs_comp_take`; -EINVAL while a
/// `xsk_rs_rx_peek` is not yet released). The frames stay the application's.
#[no_mangle]
pub extern "C" fn xsk_rs_rx_take(r: *mut xsk_rs_rx, descs: *mut xsk_rs_desc, max: u32) -> c_int {
    ffi_guard!({ take("xsk_rs_rx_take", unsafe { try_mut(r) }, desc_out(descs), max) })
}

/// Reserves up to `n` fill slots that follow one another in memory, for
/// writing in place: as many as are free, but no further than the ring's end
/// (the next call continues from its start). Returns how many and points
/// `*slots` at the first; 0 (and `*slots` untouched) when the ring is full or
/// `n` is 0; -EINVAL for a NULL argument. Write `(*slots)[0]` ..
/// `(*slots)[count-1]`, then `xsk_rs_fill_submit(r, count)`. The batch path
/// without copies or per-entry calls. A span shorter than `n` does not mean
/// the ring is full: at the ring's end, call again for the rest. Until
/// submitted, a span counts as a reserve: `xsk_rs_fill_put` refuses, as it
/// does while a reserve is open.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_reserve_span(r: *mut xsk_rs_fill, n: u32, slots: *mut *mut u64) -> c_int {
    ffi_guard!({ reserve_span("xsk_rs_fill_reserve_span", unsafe { try_mut(r) }, n, slots) })
}

/// Reserves up to `n` TX descriptors that follow one another in memory (as
/// `xsk_rs_fill_reserve_span`); fill `(*slots)[0..count)`, then
/// `xsk_rs_tx_submit(r, count)`.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_reserve_span(r: *mut xsk_rs_tx, n: u32, slots: *mut *mut xsk_rs_desc) -> c_int {
    ffi_guard!({ reserve_span("xsk_rs_tx_reserve_span", unsafe { try_mut(r) }, n, desc_span_out(slots)) })
}

/// Takes up to `n` completed frame addresses that follow one another in
/// memory, for reading in place: as many as are ready, but no further than the
/// ring's end. Returns how many and points `*entries` at the first; 0 (and
/// `*entries` untouched) when none are ready or `n` is 0; -EINVAL for a NULL
/// argument. Read `(*entries)[0..count)`, then `xsk_rs_comp_release(r, count)`
/// (or `xsk_rs_comp_cancel` to read them again later). A span shorter than `n`
/// does not mean the ring is empty: at the ring's end, call again for the
/// rest. Until released, a span counts as a peek: `xsk_rs_comp_take` refuses.
#[no_mangle]
pub extern "C" fn xsk_rs_comp_peek_span(r: *mut xsk_rs_comp, n: u32, entries: *mut *const u64) -> c_int {
    ffi_guard!({ peek_span("xsk_rs_comp_peek_span", unsafe { try_mut(r) }, n, entries) })
}

/// Takes up to `n` received descriptors that follow one another in memory (as
/// `xsk_rs_comp_peek_span`); read `(*entries)[0..count)`, then
/// `xsk_rs_rx_release(r, count)`.
#[no_mangle]
pub extern "C" fn xsk_rs_rx_peek_span(r: *mut xsk_rs_rx, n: u32, entries: *mut *const xsk_rs_desc) -> c_int {
    ffi_guard!({ peek_span("xsk_rs_rx_peek_span", unsafe { try_mut(r) }, n, desc_span_in(entries)) })
}

/// Entries in the fill ring (a power of two); 0 for a NULL ring. A call on
/// the ring: one thread at a time, as for the others.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_size(r: *const xsk_rs_fill) -> u32 {
    ffi_guard!({ ring_size("xsk_rs_fill_size", unsafe { try_ref(r) }.map(ProdRing::size)) })
}

/// Entries in the completion ring; 0 for a NULL ring (as `xsk_rs_fill_size`).
#[no_mangle]
pub extern "C" fn xsk_rs_comp_size(r: *const xsk_rs_comp) -> u32 {
    ffi_guard!({ ring_size("xsk_rs_comp_size", unsafe { try_ref(r) }.map(ConsRing::size)) })
}

/// Entries in the RX ring; 0 for a NULL ring (as `xsk_rs_fill_size`).
#[no_mangle]
pub extern "C" fn xsk_rs_rx_size(r: *const xsk_rs_rx) -> u32 {
    ffi_guard!({ ring_size("xsk_rs_rx_size", unsafe { try_ref(r) }.map(ConsRing::size)) })
}

/// Entries in the TX ring; 0 for a NULL ring (as `xsk_rs_fill_size`).
#[no_mangle]
pub extern "C" fn xsk_rs_tx_size(r: *const xsk_rs_tx) -> u32 {
    ffi_guard!({ ring_size("xsk_rs_tx_size", unsafe { try_ref(r) }.map(ProdRing::size)) })
}

/// The longest descriptor `len` that `xsk_rs_tx_put` queues: the interface's
/// MTU when the socket was created, plus 18 bytes of Ethernet header and VLAN
/// tag (`UINT32_MAX` when the interface reported no MTU). Check it yourself
/// on the reserve/submit and span paths, which do not. 0 for a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_max_len(r: *const xsk_rs_tx) -> u32 {
    ffi_guard!({ ring_size("xsk_rs_tx_max_len", unsafe { try_ref(r) }.map(ProdRing::max_len)) })
}

/// Free fill slots, at most `nb` (libxdp's `xsk_prod_nb_free`): answered
/// from the cached view when it has `nb` free, else after one read of the
/// kernel's consumer index. Reserves nothing. -EINVAL for a NULL ring. A
/// count above INT_MAX is asked as INT_MAX.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_nb_free(r: *mut xsk_rs_fill, nb: u32) -> c_int {
    ffi_guard!({ nb_free("xsk_rs_fill_nb_free", unsafe { try_mut(r) }, nb) })
}

/// Free TX slots, at most `nb` (as `xsk_rs_fill_nb_free`).
#[no_mangle]
pub extern "C" fn xsk_rs_tx_nb_free(r: *mut xsk_rs_tx, nb: u32) -> c_int {
    ffi_guard!({ nb_free("xsk_rs_tx_nb_free", unsafe { try_mut(r) }, nb) })
}

/// Completed addresses ready to peek, at most `nb` (libxdp's
/// `xsk_cons_nb_avail`): answered from the cached view when it has `nb`, else
/// after one read of the kernel's producer index. Takes nothing. -EINVAL for
/// a NULL ring.
#[no_mangle]
pub extern "C" fn xsk_rs_comp_nb_avail(r: *mut xsk_rs_comp, nb: u32) -> c_int {
    ffi_guard!({ nb_avail("xsk_rs_comp_nb_avail", unsafe { try_mut(r) }, nb) })
}

/// Received descriptors ready to peek, at most `nb` (as
/// `xsk_rs_comp_nb_avail`).
#[no_mangle]
pub extern "C" fn xsk_rs_rx_nb_avail(r: *mut xsk_rs_rx, nb: u32) -> c_int {
    ffi_guard!({ nb_avail("xsk_rs_rx_nb_avail", unsafe { try_mut(r) }, nb) })
}

/// A ring's shared memory as the kernel maps it, for code that runs the ring
/// protocol itself (the libxdp compatibility layer's inline `xsk_ring_*`
/// helpers, say). Filled by `xsk_rs_fill_layout` and its siblings.
///
/// Taking it hands the ring over: the library's own calls on that ring handle
/// keep cached indices of their own that no longer follow, so from then on
/// drive the ring only through these pointers (one thread at a time, as
/// always). They stay valid while the ring's owner lives (the UMEM for its
/// fill and completion rings, the socket for its RX and TX rings), with one
/// exception: a UMEM whose fd never bound (its first socket failed to bind,
/// and a later create asked for other RX/TX sizes) is registered anew on a
/// fresh fd, with new fill and completion rings; take their layouts again
/// after each `xsk_rs_socket_create` that could be that one.
#[repr(C)]
pub struct xsk_rs_ring_layout {
    /// The producer index: the application's for fill and TX, the kernel's
    /// for RX and completion. Load the peer's index with acquire semantics
    /// and store your own with release semantics.
    pub producer: *mut u32,
    /// The consumer index.
    pub consumer: *mut u32,
    /// The flags word (`XDP_RING_NEED_WAKEUP`).
    pub flags: *mut u32,
    /// The first of `size` entries: `uint64_t` addresses (fill, completion)
    /// or `xsk_rs_desc`s (RX, TX). Index with `idx & (size - 1)`.
    pub ring: *mut c_void,
    /// Entries, a power of two.
    pub size: u32,
}

/// Writes the fill ring's layout to `*out` (see `xsk_rs_ring_layout`, which
/// says what taking it gives up). 0, or -EINVAL for a NULL argument.
#[no_mangle]
pub extern "C" fn xsk_rs_fill_layout(r: *mut xsk_rs_fill, out: *mut xsk_rs_ring_layout) -> c_int {
    ffi_guard!({ layout("xsk_rs_fill_layout", unsafe { try_mut(r) }.map(ProdRing::layout), out) })
}

/// The completion ring's layout (as `xsk_rs_fill_layout`).
#[no_mangle]
pub extern "C" fn xsk_rs_comp_layout(r: *mut xsk_rs_comp, out: *mut xsk_rs_ring_layout) -> c_int {
    ffi_guard!({ layout("xsk_rs_comp_layout", unsafe { try_mut(r) }.map(ConsRing::layout), out) })
}

/// The RX ring's layout (as `xsk_rs_fill_layout`).
#[no_mangle]
pub extern "C" fn xsk_rs_rx_layout(r: *mut xsk_rs_rx, out: *mut xsk_rs_ring_layout) -> c_int {
    ffi_guard!({ layout("xsk_rs_rx_layout", unsafe { try_mut(r) }.map(ConsRing::layout), out) })
}

/// The TX ring's layout (as `xsk_rs_fill_layout`).
#[no_mangle]
pub extern "C" fn xsk_rs_tx_layout(r: *mut xsk_rs_tx, out: *mut xsk_rs_ring_layout) -> c_int {
    ffi_guard!({ layout("xsk_rs_tx_layout", unsafe { try_mut(r) }.map(ProdRing::layout), out) })
}

fn layout(func: &str, l: Option<RingLayout>, out: *mut xsk_rs_ring_layout) -> c_int {
    let Some(l) = l else { return misuse(func, "ring is NULL") };
    if out.is_null() {
        return misuse(func, "out is NULL");
    }
    let c = xsk_rs_ring_layout {
        producer: l.producer,
        consumer: l.consumer,
        flags: l.flags,
        ring: l.ring.cast(),
        size: l.size,
    };
    // SAFETY: out is non-NULL and, by the header's contract, points at a
    // writable xsk_rs_ring_layout.
    unsafe { out.write(c) };
    0
}

// Shared bodies. They get the ring behind the handle from `handle::try_mut` or
// `try_ref`: None for NULL, the only invalid handle we can detect.
//
// Every count they return is at most `n`, and `n` is first capped at INT_MAX
// (`up_to`), so a count always fits the int and never looks like an error.

/// The largest count an int return carries.
const COUNT_MAX: u32 = c_int::MAX as u32;

/// `n` for a call that does "up to `n`": no more than a count can say.
#[inline(always)]
fn up_to(n: u32) -> u32 {
    n.min(COUNT_MAX)
}

/// A count of at most `up_to(n)` as the call's return value.
#[inline(always)]
fn count(n: u32) -> c_int {
    debug_assert!(n <= COUNT_MAX);
    n as c_int
}

#[inline(always)]
fn reserve<T: Copy>(func: &str, r: Option<&mut ProdRing<T>>, n: u32, idx: *mut u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if idx.is_null() {
        return misuse(func, "idx is NULL");
    }
    if n > COUNT_MAX {
        return too_many(func, n);
    }
    match r.reserve(n) {
        Some(i) => {
            // SAFETY: idx checked non-NULL.
            unsafe { idx.write(i) };
            count(n)
        }
        None => 0,
    }
}

/// An exact `n` that the int return could not report.
#[cold]
fn too_many(func: &str, n: u32) -> c_int {
    misuse(func, &format!("n {n} is more than INT_MAX"))
}

#[inline(always)]
fn prod_slot<T: Copy>(func: &str, r: Option<&mut ProdRing<T>>, idx: u32) -> *mut T {
    match r {
        Some(r) => r.slot(idx),
        None => null_handle(func, std::ptr::null_mut()),
    }
}

#[inline(always)]
fn submit<T: Copy>(func: &str, r: Option<&mut ProdRing<T>>, n: u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    let done = r.submit(up_to(n));
    if done < n {
        clamped(func, n, done, "reserved and not yet submitted", "submitted");
    }
    count(done)
}

/// Records that a submit/release/cancel of `n` was clamped to `done`: a `n`
/// larger than the caller holds is a bug in the caller worth a message, even
/// though the call did what it could. Off the hot path.
#[cold]
fn clamped(func: &str, n: u32, done: u32, held: &str, verb: &str) {
    refuse(func, &format!("n {n} is more than the {done} {held}; {verb} {done}"), ())
}

/// Explains a put/take that the ring refused because a reserve/peek is open
/// (it publishes in order, so the batch call would hand over the open entries
/// instead of its own). Off the hot path: only after the ring returned 0.
#[cold]
fn open_batch(func: &str, open: u32, held: &str, verb: &str) -> c_int {
    misuse(func, &format!("{open} entries {held}; {verb} them first"))
}

#[inline(always)]
fn prod_wakeup<T: Copy>(func: &str, r: Option<&ProdRing<T>>) -> c_int {
    match r {
        Some(r) => c_int::from(r.needs_wakeup()),
        None => misuse(func, "handle is NULL"),
    }
}

#[inline(always)]
fn put<T: Copy>(func: &str, r: Option<&mut ProdRing<T>>, items: *const T, n: u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if n == 0 {
        return 0;
    }
    if items.is_null() {
        return misuse(func, "array is NULL");
    }
    // SAFETY: the caller passes n readable entries, outside the ring; we
    // read at most up_to(n).
    let done = unsafe { r.put_from(items, up_to(n)) };
    put_count(func, r, done)
}

/// `put` for the TX ring, which stops before a descriptor longer than the
/// interface can send and says so.
#[inline(always)]
fn tx_put(func: &str, r: Option<&mut ProdRing<Desc>>, descs: *const Desc, n: u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if n == 0 {
        return 0;
    }
    if descs.is_null() {
        return misuse(func, "array is NULL");
    }
    // SAFETY: as in `put`.
    match unsafe { r.put_checked_from(descs, up_to(n)) } {
        Ok(done) => put_count(func, r, done),
        Err(e) => too_long(func, e),
    }
}

/// A put's return value: `done`, or the reason it queued nothing.
#[inline(always)]
fn put_count<T: Copy>(func: &str, r: &ProdRing<T>, done: u32) -> c_int {
    if done == 0 && r.reserved() != 0 {
        return open_batch(func, r.reserved(), "reserved and not yet submitted", "submit");
    }
    count(done)
}

/// Records why a TX put stopped short and returns how many it queued, or
/// `-EMSGSIZE` when that is none: a count of 0 would read as "ring full" and
/// a send loop would retry the same descriptor for ever.
#[cold]
fn too_long(func: &str, e: TooLong) -> c_int {
    set_last_error(format!(
        "{func}: descriptor {} is {} bytes, more than the {} the interface sends (its MTU plus 18 bytes of \
         Ethernet header and VLAN tag); queued the {} before it",
        e.index, e.len, e.max, e.index
    ));
    if e.index == 0 {
        return -libc::EMSGSIZE;
    }
    count(e.index)
}

#[inline(always)]
fn peek<T: Copy>(func: &str, r: Option<&mut ConsRing<T>>, n: u32, idx: *mut u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if idx.is_null() {
        return misuse(func, "idx is NULL");
    }
    let (got, first) = r.peek(up_to(n));
    if got > 0 {
        // SAFETY: idx checked non-NULL.
        unsafe { idx.write(first) };
    }
    count(got)
}

#[inline(always)]
fn cons_slot<T: Copy>(func: &str, r: Option<&ConsRing<T>>, idx: u32) -> *const T {
    match r {
        Some(r) => r.slot(idx),
        None => null_handle(func, std::ptr::null()),
    }
}

#[inline(always)]
fn release<T: Copy>(func: &str, r: Option<&mut ConsRing<T>>, n: u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    let done = r.release(up_to(n));
    if done < n {
        clamped(func, n, done, "peeked and not yet released", "released");
    }
    count(done)
}

#[inline(always)]
fn cancel<T: Copy>(func: &str, r: Option<&mut ConsRing<T>>, n: u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    let done = r.cancel(up_to(n));
    if done < n {
        clamped(func, n, done, "peeked and not yet released", "cancelled");
    }
    count(done)
}

#[inline(always)]
fn take<T: Copy>(func: &str, r: Option<&mut ConsRing<T>>, out: *mut T, max: u32) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if max == 0 {
        return 0;
    }
    if out.is_null() {
        return misuse(func, "array is NULL");
    }
    // SAFETY: the caller passes room for max entries, outside the ring; we
    // write at most up_to(max) and never read them.
    let done = unsafe { r.take_to(out, up_to(max)) };
    if done == 0 && r.peeked() != 0 {
        return open_batch(func, r.peeked(), "peeked and not yet released", "release or cancel");
    }
    count(done)
}

#[inline(always)]
fn reserve_span<T: Copy>(func: &str, r: Option<&mut ProdRing<T>>, n: u32, slots: *mut *mut T) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if slots.is_null() {
        return misuse(func, "slots is NULL");
    }
    let (got, first) = r.reserve_run(up_to(n));
    if got > 0 {
        // SAFETY: slots checked non-NULL. The got entries from slot(first) on
        // lie before the ring's end, so the caller's run stays in bounds.
        unsafe { slots.write(r.slot(first)) };
    }
    count(got)
}

#[inline(always)]
fn peek_span<T: Copy>(func: &str, r: Option<&mut ConsRing<T>>, n: u32, entries: *mut *const T) -> c_int {
    let Some(r) = r else { return misuse(func, "handle is NULL") };
    if entries.is_null() {
        return misuse(func, "entries is NULL");
    }
    let (got, first) = r.peek_run(up_to(n));
    if got > 0 {
        // SAFETY: entries checked non-NULL; the run ends before the ring's end.
        unsafe { entries.write(r.slot(first)) };
    }
    count(got)
}

#[inline(always)]
fn ring_size(func: &str, size: Option<u32>) -> u32 {
    size.unwrap_or_else(|| null_handle(func, 0))
}

#[inline(always)]
fn nb_free<T: Copy>(func: &str, r: Option<&mut ProdRing<T>>, nb: u32) -> c_int {
    match r {
        Some(r) => count(r.nb_free(up_to(nb))),
        None => misuse(func, "handle is NULL"),
    }
}

#[inline(always)]
fn nb_avail<T: Copy>(func: &str, r: Option<&mut ConsRing<T>>, nb: u32) -> c_int {
    match r {
        Some(r) => count(r.nb_avail(up_to(nb))),
        None => misuse(func, "handle is NULL"),
    }
}
