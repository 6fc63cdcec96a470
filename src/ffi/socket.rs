//! C ABI for sockets: `xsk_rs_socket_*`.

use super::handle::{to_box, to_ref, try_box, try_ref};
use super::{
    c_str, config_fields, fail, ffi_guard, fields_tile, init_config, misuse, null_handle, read_config, refuse, status,
    xsk_rs_umem, SizedConfig,
};
use crate::socket::{BusyPoll, Socket, SocketConfig, Stats};
use crate::xdp::XdpMode;
use std::ffi::{c_char, c_int, c_short};

/// An AF_XDP socket bound to one queue of one interface.
/// Created by `xsk_rs_socket_create`, freed by `xsk_rs_socket_destroy`.
pub struct xsk_rs_socket {
    _opaque: [u8; 0],
}

/// Attach the built-in program natively, or in generic (skb) mode when the
/// driver has no native XDP.
pub const XSK_RS_XDP_MODE_AUTO: u32 = 0;
/// Attach the built-in program in generic (skb) mode.
pub const XSK_RS_XDP_MODE_SKB: u32 = 1;
/// Attach the built-in program in native (driver) mode; fails if unsupported.
pub const XSK_RS_XDP_MODE_DRV: u32 = 2;
/// Attach nothing: the caller's own program redirects to the socket, which it
/// inserts in its XSKMAP with `xsk_rs_socket_update_xskmap`.
pub const XSK_RS_XDP_MODE_NONE: u32 = 3;

/// Force copy mode (`XDP_COPY`). On a UMEM whose first socket runs in
/// zero-copy mode, `xsk_rs_socket_create` refuses it with -EINVAL.
pub const XSK_RS_BIND_COPY: u32 = 1 << 1;
/// Force zero-copy mode (`XDP_ZEROCOPY`). `xsk_rs_socket_create` fails with
/// -EOPNOTSUPP where the driver lacks it, and on a UMEM whose first socket
/// runs in copy mode (every socket on a UMEM runs in the first one's mode).
pub const XSK_RS_BIND_ZEROCOPY: u32 = 1 << 2;
/// Let the kernel flag when it needs a wakeup (`XDP_USE_NEED_WAKEUP`), so
/// that `xsk_rs_fill_needs_wakeup` and `xsk_rs_tx_needs_wakeup` answer 1 only
/// when it does; without it they always answer 1. On a UMEM whose first
/// socket was bound without it, `xsk_rs_socket_create` refuses it with -EINVAL.
pub const XSK_RS_BIND_NEED_WAKEUP: u32 = 1 << 3;
/// Multi-buffer (`XDP_USE_SG`, Linux 6.6; `xsk_rs_socket_create` fails with
/// -EOPNOTSUPP naming the release on older kernels): a packet longer than a
/// frame arrives as a chain of descriptors, each but the last carrying
/// `XSK_RS_DESC_CONTD` in `options`, and a chain put on the TX ring is sent
/// as one packet. Walk RX chains with `xsk_rs_rx_peek_packets` and
/// `xsk_rs_desc_chain_len`; queue TX chains with `xsk_rs_tx_put_packets`,
/// which never queues part of one (the kernel would take the next packet as
/// the rest of it). A socket on a UMEM whose first socket was bound without
/// it is refused with -EINVAL.
pub const XSK_RS_BIND_SG: u32 = 1 << 4;
/// Not a kernel flag: accept RX frames that cannot hold what the interface's
/// MTU delivers (frame size less 256 and `frame_headroom`, against MTU plus
/// 18), without multi-buffer: longer packets are dropped by the kernel and
/// counted in `rx_dropped`. Without it (or `XSK_RS_BIND_SG`) such a socket
/// is refused with -EMSGSIZE, naming the MTU, the frame and the fixes.
pub const XSK_RS_BIND_SHORT_FRAMES: u32 = 1 << 16;

/// The smallest non-zero `xsk_rs_socket_config.tx_budget`, and the kernel's
/// own budget when none is set.
pub const XSK_RS_TX_BUDGET_MIN: u32 = 32;

/// Socket configuration. Fill it with `xsk_rs_socket_config_init()`, then change
/// fields. `sz` lets the struct grow in later versions, by the rule of the
/// config structs (see the conventions at the top of this header): fields are
/// only appended, with no implicit padding (any gap is a `reserved` field),
/// and `sz` must be the end of a field this library knows, or a size larger
/// than its struct (a multiple of 4) with every byte past it 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xsk_rs_socket_config {
    /// `sizeof(xsk_rs_socket_config)` as the caller was built with it, set by
    /// `xsk_rs_socket_config_init()`.
    pub sz: usize,
    /// RX ring entries: a power of two, or 0 for no RX ring (default 4096;
    /// 0 is required on a queue that has no RX). At least as many as the
    /// frames lent to the fill ring: when the RX ring is full the kernel
    /// drops the packet (`rx_ring_full`) and keeps its frame for the next
    /// one, so until then that frame is in no ring. `xsk_rs_config_lend`
    /// sizes it.
    pub rx_size: u32,
    /// TX ring entries: a power of two, or 0 for no TX ring (default 4096;
    /// 0 is required on a queue that has no TX). Give a socket that never
    /// sends 0: see `xsk_rs_stats.tx_ring_empty_descs`.
    pub tx_size: u32,
    /// `XSK_RS_BIND_*` flags (default `XSK_RS_BIND_NEED_WAKEUP`). They reach
    /// the kernel only for the UMEM's first socket; a later socket on the
    /// UMEM runs with the first one's (see `xsk_rs_socket_create`).
    pub bind_flags: u32,
    /// `XSK_RS_XDP_MODE_*` (default `XSK_RS_XDP_MODE_AUTO`).
    pub xdp_mode: u32,
    /// Most TX descriptors one kick sends (the kernel's
    /// `XDP_MAX_TX_SKB_BUDGET`, Linux 6.17). It matters in copy mode (the only
    /// mode on veth): each `xsk_rs_socket_kick` (and each poll that drives TX)
    /// sends at most this many descriptors and returns, so with the kernel's
    /// own 32 a batch of 256 takes 8 kicks. No effect in zero-copy mode, where
    /// the driver paces TX.
    ///
    /// 0 (default): the library's default, currently as many as the TX ring
    /// holds; on a kernel without the option it quietly stays the kernel's 32.
    /// Otherwise `XSK_RS_TX_BUDGET_MIN` (32) to `tx_size`, and the socket needs
    /// a TX ring; anything else is refused with -EINVAL, and a kernel without
    /// the option refuses any non-zero value with -EOPNOTSUPP.
    pub tx_budget: u32,
    /// `SO_BUSY_POLL`: how long one receive, send or poll call on the socket
    /// may run the queue's NAPI poll itself, in µs. 0 (default): not set, the
    /// socket keeps the system's `net.core.busy_read`. Older kernels refuse
    /// a value above that without `CAP_NET_ADMIN` (-EPERM, and the message
    /// says so); Linux 6.18 does not. Busy polling
    /// needs a driver with NAPI (on veth: drv mode); README "Busy polling"
    /// says when it pays.
    pub busy_poll_usecs: u32,
    /// `SO_BUSY_POLL_BUDGET`: packets one busy-poll round may process, up to
    /// 65535. 0 (default): not set, the kernel's 8. Raising it needs
    /// `CAP_NET_ADMIN` (-EPERM) and Linux 5.11 (-EOPNOTSUPP before).
    pub busy_poll_budget: u32,
    /// 1: `SO_PREFER_BUSY_POLL`, the application drives the queue's NAPI and
    /// the softirq stays out of its way while it polls (with the device's
    /// IRQ deferral, see README "Busy polling"). 0 (default): not
    /// set. Needs `CAP_NET_ADMIN` (-EPERM) and Linux 5.11 (-EOPNOTSUPP
    /// before); any other value is -EINVAL.
    pub prefer_busy_poll: u32,
}

impl SizedConfig for xsk_rs_socket_config {
    config_fields!(xsk_rs_socket_config {
        rx_size: u32,
        tx_size: u32,
        bind_flags: u32,
        xdp_mode: u32,
        tx_budget: u32,
        busy_poll_usecs: u32,
        busy_poll_budget: u32,
        prefer_busy_poll: u32,
    });
    fn defaults() -> Self {
        let d = SocketConfig::default();
        xsk_rs_socket_config {
            sz: std::mem::size_of::<Self>(),
            rx_size: d.rx_size,
            tx_size: d.tx_size,
            bind_flags: d.bind_flags,
            xdp_mode: d.xdp_mode as u32,
            tx_budget: d.tx_budget,
            busy_poll_usecs: d.busy_poll.usecs,
            busy_poll_budget: d.busy_poll.budget,
            prefer_busy_poll: d.busy_poll.prefer.into(),
        }
    }
}

const _: () = assert!(fields_tile(xsk_rs_socket_config::FIELDS, std::mem::size_of::<xsk_rs_socket_config>()));

impl TryFrom<xsk_rs_socket_config> for SocketConfig {
    type Error = crate::Error;
    fn try_from(c: xsk_rs_socket_config) -> crate::Result<Self> {
        let prefer = match c.prefer_busy_poll {
            0 => false,
            1 => true,
            v => return Err(crate::Error::invalid(format!("config field prefer_busy_poll is {v}; give 0 or 1"))),
        };
        Ok(SocketConfig {
            rx_size: c.rx_size,
            tx_size: c.tx_size,
            bind_flags: c.bind_flags,
            xdp_mode: XdpMode::try_from(c.xdp_mode)?,
            tx_budget: c.tx_budget,
            busy_poll: BusyPoll { usecs: c.busy_poll_usecs, budget: c.busy_poll_budget, prefer },
        })
    }
}

/// The kernel's `XDP_STATISTICS` counters for one socket.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct xsk_rs_stats {
    /// Packets dropped for other reasons: did not fit the frame, or (in copy
    /// mode, together with `rx_fill_ring_empty_descs`) found no frame.
    pub rx_dropped: u64,
    /// Packets dropped because of an invalid fill descriptor.
    pub rx_invalid_descs: u64,
    /// TX descriptors rejected as invalid. On a socket that runs on the
    /// UMEM's fd (`xsk_rs_umem_fd`), this includes the unsent descriptors of
    /// the sockets destroyed on that fd before it (see
    /// `xsk_rs_socket_destroy`). In copy mode, Linux 6.12 and 6.18 hand a
    /// rejected descriptor's address back on the completion ring; 6.1 does not.
    pub tx_invalid_descs: u64,
    /// Packets dropped because the RX ring was full.
    pub rx_ring_full: u64,
    /// Times a packet found the fill ring empty.
    pub rx_fill_ring_empty_descs: u64,
    /// Times the kernel found the TX ring empty. The kernel looks whenever
    /// the socket is woken for TX, and in copy mode every poll does that: a
    /// socket that has a TX ring but only receives counts one here per
    /// `xsk_rs_socket_poll` (the default config has a TX ring). Create it
    /// with `tx_size` 0 if it never sends.
    pub tx_ring_empty_descs: u64,
}

impl From<Stats> for xsk_rs_stats {
    fn from(st: Stats) -> Self {
        xsk_rs_stats {
            rx_dropped: st.rx_dropped,
            rx_invalid_descs: st.rx_invalid_descs,
            tx_invalid_descs: st.tx_invalid_descs,
            rx_ring_full: st.rx_ring_full,
            rx_fill_ring_empty_descs: st.rx_fill_ring_empty_descs,
            tx_ring_empty_descs: st.tx_ring_empty_descs,
        }
    }
}

/// Fills `cfg` with the defaults: RX and TX rings of 4096 (what
/// `xsk_rs_config_lend(NULL, cfg, 4096)` gives, for the default UMEM's 4096
/// frames), bind flags `XSK_RS_BIND_NEED_WAKEUP`, mode
/// `XSK_RS_XDP_MODE_AUTO`, TX budget 0 (the library's default). Call it as
/// `xsk_rs_socket_config_init(&cfg, sizeof(cfg))`: the library writes no more
/// than `sz` bytes, zeroes any bytes past its own struct (fields of a later
/// version, 0 by default) and records `sz` in `cfg->sz`, so a program built
/// against this header keeps working with later libraries, and one built
/// against a later header with this library. Returns 0, or -EINVAL (`cfg`
/// NULL, or `sz` not a struct size: it cuts a field, is smaller than `sz` and
/// one field, is larger than this struct but no multiple of 4, or is larger
/// than 4096), leaving `*cfg` untouched. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_config_init(cfg: *mut xsk_rs_socket_config, sz: usize) -> c_int {
    ffi_guard!({ unsafe { init_config("xsk_rs_socket_config_init", cfg, sz) } })
}

/// Creates an AF_XDP socket on `ifname` queue `queue_id` over `umem`, binds it,
/// and, unless the mode is `XSK_RS_XDP_MODE_NONE` or the socket has no RX ring
/// (`rx_size` 0), steers the queue's packets to it with the library's XDP
/// program (shared by all sockets of this process on the interface, attached by
/// a bpf_link that the kernel removes when the last socket is destroyed or the
/// process exits). A TX-only socket attaches nothing.
///
/// Several processes: where another xsk_rs process attached the built-in
/// program on the interface, this socket joins it rather than failing with
/// -EBUSY. The program is recognised by its name (`xsk_rs_redirect`), its one
/// XSKMAP (`xsk_rs_shared`) and its instructions as the kernel translated
/// them; its XSKMAP is taken and its bpf_link held by id, so it stays attached
/// while any of the processes lives. The mode must be the one attached (or
/// `XSK_RS_XDP_MODE_AUTO`). Each process binds its own queues: a queue another
/// process holds gives -EBUSY naming it ("pid N (comm)") where sock_diag and
/// /proc can tell. Any other program on the interface, even with the same
/// instructions attached through a link of the caller's own, is neither
/// joined nor replaced (-EBUSY with its id and name). Automatic: no flag.
///
/// The interface is looked up in the calling thread's network namespace, which
/// must be the one `umem` was created in, and its MTU is read now:
/// `xsk_rs_tx_put` checks lengths against the MTU at creation and does not see
/// a later change. `out`, `ifname` and `umem` must not be NULL; `cfg` may be
/// NULL for the defaults; `*out` is written only on success. Any thread; not
/// concurrently with `xsk_rs_umem_destroy` of `umem`.
///
/// Queues: `queue_id` must be below the larger of the interface's RX and TX
/// queue counts (its ethtool channels; for a device without them, such as a
/// macvlan, the queues it was created with). A socket with an RX ring needs a
/// queue that has RX, one with a TX ring a queue that has TX: on a queue with
/// only one of them, set the other ring's size to 0.
///
/// Sharing a UMEM: its sockets may be on any queues of any interfaces of its
/// namespace. The first socket binds the UMEM's own fd (`xsk_rs_umem_fd`)
/// with its `bind_flags`, and its queue uses the UMEM's fill and completion
/// rings (`xsk_rs_umem_fill`, `xsk_rs_umem_comp`). The first socket on any
/// other (interface, queue) gives that queue a fill and a completion ring of
/// its own, sized as the UMEM's (the kernel's `XDP_SHARED_UMEM` with a buffer
/// pool per queue, Linux 5.10 and later); every later socket there shares
/// them, and they go with the last socket on that queue (whose destroy then
/// frees the queue, and the frames lent to its fill ring are yours again). `xsk_rs_socket_fill` and `xsk_rs_socket_comp` give any socket the
/// pair of its queue. Frames are the application's across all of them: lend
/// each queue's fill ring frames of its own, and a frame received on one
/// socket may be sent on another. Every socket after the first binds its own
/// fd and runs with the first socket's flags, as the kernel takes none for a
/// shared bind (before Linux 6.0 a queue's own pair has need_wakeup off, and
/// its rings then always report "wakeup needed").
/// Asking for more than those is refused, naming why: `XSK_RS_BIND_ZEROCOPY`
/// when the first socket runs in copy mode is -EOPNOTSUPP;
/// `XSK_RS_BIND_COPY` when it runs in zero-copy mode, or
/// `XSK_RS_BIND_NEED_WAKEUP` when it was bound without it, is -EINVAL. Asking
/// for less (0) is fine. Once the first socket is destroyed, the next socket
/// on the same queue with the same ring sizes takes the UMEM's fd over (see
/// `xsk_rs_socket_destroy`).
///
/// Blocking: a bind that the kernel answers with EBUSY is retried for up to
/// 2 s, but only while the queue's holder is known to be going away: this
/// process released the queue (`xsk_rs_umem_destroy` of the UMEM bound there)
/// less than 2 s ago, or the namespace has no live AF_XDP socket but this
/// process's (the kernel frees a closed socket's queue one RCU grace period
/// later). Otherwise it fails at once with -EBUSY, and the message says whose
/// the queue is: "by another umem of this process", or "by an AF_XDP socket
/// of another process (...)". A queue another process closed a moment ago
/// stays busy for about one RCU grace period (12 to 28 ms measured); when
/// other AF_XDP sockets live in the namespace the library cannot tell that
/// from a live holder, so that -EBUSY can be transient: retry after a moment.
/// Such a retry holds `umem`'s lock, so another create on the same UMEM
/// waits for it. Attaching the library's program is
/// retried for up to 1 s, only after this process itself detached its program
/// from that interface (a child between fork and exec may still hold the old
/// link); it sleeps without the process-wide lock, so creates and destroys on
/// other interfaces go on. A program that is not this process's is never
/// waited for. Nothing else waits: at most about 3 s in all.
///
/// A create that fails leaves the UMEM usable by any later create. If a
/// failed bind left ring sizes on the UMEM's fd and the next create asks for
/// others, the UMEM is registered anew on a fresh fd, so `xsk_rs_umem_fd` can
/// change until the UMEM's first socket binds. Frames already submitted to
/// the fill ring are kept; fill slots reserved and not yet submitted are
/// forgotten, and pointers into them (`xsk_rs_fill_addr`,
/// `xsk_rs_fill_reserve_span`) must not be used. So no other thread may use
/// the UMEM's fill or completion ring while a socket is being created on a
/// UMEM that has had no socket yet. One late failure is the exception: if
/// the bind succeeded and only the insert into the library's XSKMAP failed
/// (out of kernel memory, say), the UMEM's fd stays bound to that queue, as
/// after `xsk_rs_socket_destroy`.
///
/// Returns 0, or:
/// * -EINVAL: a bad config (the message names the field); a queue out of
///   range, or without RX or TX for a ring the config has; a bind flag the
///   UMEM's first socket lacks (see above); a UMEM of another namespace.
/// * -ENODEV: no such interface; or the UMEM's interface was deleted or moved
///   to another namespace since its first socket bound there: the kernel
///   unbound its fd for good, so destroy it (and its sockets) and create a
///   new UMEM.
/// * -EBUSY: the queue is in use (see above); the interface has an XDP
///   program that is not this process's (never replaced); this process's
///   program there runs in another mode than `xdp_mode` asks for.
/// * -EOPNOTSUPP: zero-copy that the driver or the UMEM's first socket does
///   not offer; native mode on a driver without native XDP; an explicit
///   `tx_budget` on a kernel before 6.17.
/// * -EBADFD: `umem` was inherited by fork (see the fork rule in the
///   header's opening comment).
/// * -EMFILE, -ENFILE: out of file descriptors; -ENOMEM (a ring too large
///   for kernels before 6.3, the message says so); -EPERM (no
///   CAP_NET_RAW, or no CAP_BPF/CAP_NET_ADMIN for the program); ...
#[no_mangle]
pub extern "C" fn xsk_rs_socket_create(
    out: *mut *mut xsk_rs_socket,
    ifname: *const c_char,
    queue_id: u32,
    umem: *mut xsk_rs_umem,
    cfg: *const xsk_rs_socket_config,
) -> c_int {
    const F: &str = "xsk_rs_socket_create";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let ifname = match unsafe { c_str(F, "ifname", ifname) } {
            Ok(s) => s,
            Err(e) => return e,
        };
        let Some(umem) = (unsafe { try_ref(umem) }) else { return misuse(F, "umem is NULL") };
        let cfg = match unsafe { read_config(F, cfg) }.map(SocketConfig::try_from) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return fail(F, e),
            Err(e) => return e,
        };
        match Socket::new(ifname, queue_id, umem, &cfg) {
            Ok(s) => {
                unsafe { *out = to_box(s) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Destroys a socket: removes it from the library's XSKMAP (the built-in
/// program stops steering packets to it) and detaches the program if it was
/// this process's last socket on the interface. Its ring handles become
/// invalid. NULL is a no-op. Does not sleep, but may wait for the
/// process-wide lock that another thread's create or destroy holds while it
/// loads, attaches or detaches the program (on a NIC in native mode, a driver
/// reconfiguration); not concurrently with any call
/// on the socket or its rings.
///
/// A socket on its own fd (every socket of a UMEM but the first) is closed,
/// rings and all, which unbinds it. The UMEM's first socket is not: it uses
/// the UMEM's own fd (`xsk_rs_umem_fd`), which the kernel cannot unbind and
/// which the fill and completion ring mappings pin (they can only be made
/// before that fd's bind). Destroying it unmaps nothing of the fill and
/// completion rings and leaves the fd open and bound, with its RX and TX
/// rings: the queue stays held by the UMEM until `xsk_rs_umem_destroy`, which
/// frees it. The next socket created on the same UMEM, same queue and same
/// ring sizes takes the fd over with its rings (RX entries not yet read are
/// handed to it). TX descriptors the kernel has not consumed are not: they
/// are dropped, never sent, as destroying any other socket drops them. The
/// kernel rejects each one (in copy mode before this call returns), and they
/// count in the fd's `tx_invalid_descs`, which the next socket on it reports
/// (`xsk_rs_socket_stats`).
///
/// With `XSK_RS_XDP_MODE_NONE` that fd also stays in your XSKMAP: delete it
/// there (`bpf_map_delete_elem` at the socket's queue id) before destroying
/// the socket, or packets keep landing in an RX ring nobody reads and use up
/// the UMEM's fill ring. To free the queue, destroy the UMEM too.
///
/// In a forked child, destroying an inherited socket frees only the child's
/// memory: it waits on no lock another thread of the parent could have held
/// at fork and touches no kernel object, and the parent's socket
/// keeps working.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_destroy(sock: *mut xsk_rs_socket) {
    ffi_guard!({
        // SAFETY: NULL or a live handle from xsk_rs_socket_create.
        drop(unsafe { try_box(sock) });
    })
}

/// The socket's RX ring, borrowed until the socket is destroyed; NULL when the
/// socket has none (rx_size 0) or `sock` is NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_rx(sock: *mut xsk_rs_socket) -> *mut super::xsk_rs_rx {
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => to_ref(s.rx_ptr()),
            None => null_handle("xsk_rs_socket_rx", std::ptr::null_mut()),
        }
    })
}

/// The socket's TX ring, borrowed until the socket is destroyed; NULL when the
/// socket has none (tx_size 0) or `sock` is NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_tx(sock: *mut xsk_rs_socket) -> *mut super::xsk_rs_tx {
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => to_ref(s.tx_ptr()),
            None => null_handle("xsk_rs_socket_tx", std::ptr::null_mut()),
        }
    })
}

/// The fill ring of the socket's queue, borrowed until the socket is
/// destroyed: the UMEM's own (`xsk_rs_umem_fill`) for a socket on the queue
/// the UMEM's first socket bound, that queue's own otherwise (see sharing in
/// `xsk_rs_socket_create`). Every socket of the UMEM on one queue gives the
/// same ring; one thread at a time may use it. NULL for a NULL `sock`.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_fill(sock: *mut xsk_rs_socket) -> *mut super::xsk_rs_fill {
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => to_ref(s.fill_ptr()),
            None => null_handle("xsk_rs_socket_fill", std::ptr::null_mut()),
        }
    })
}

/// The completion ring of the socket's queue (as `xsk_rs_socket_fill`).
#[no_mangle]
pub extern "C" fn xsk_rs_socket_comp(sock: *mut xsk_rs_socket) -> *mut super::xsk_rs_comp {
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => to_ref(s.comp_ptr()),
            None => null_handle("xsk_rs_socket_comp", std::ptr::null_mut()),
        }
    })
}

/// The socket's fd, for poll/epoll (do not close it); -EINVAL for NULL. The
/// UMEM's first socket has the UMEM's fd (`xsk_rs_umem_fd`).
#[no_mangle]
pub extern "C" fn xsk_rs_socket_fd(sock: *const xsk_rs_socket) -> c_int {
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => s.fd(),
            None => misuse("xsk_rs_socket_fd", "sock is NULL"),
        }
    })
}

/// Wakes the kernel to send what is on the TX ring (`sendto` with
/// `MSG_DONTWAIT`: it never blocks); in copy mode one kick sends at most the
/// socket's TX budget (`tx_budget`). Call it after `xsk_rs_tx_submit` when
/// `xsk_rs_tx_needs_wakeup` is 1 (in copy mode it always is). "Try again" answers (EAGAIN, EBUSY,
/// ENOBUFS, ENETDOWN, EINTR) are not errors. Returns 0, -EINVAL (`sock` NULL,
/// or a socket without a TX ring), -ENODEV (the interface was deleted or moved
/// to another network namespace, and the kernel unbound the socket for good:
/// destroy it and its UMEM and create new ones), -EBADFD (inherited by fork),
/// or another negative errno.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_kick(sock: *mut xsk_rs_socket) -> c_int {
    const F: &str = "xsk_rs_socket_kick";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => status(F, s.kick()),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// `poll(2)` on the socket for `events` (POLLIN, POLLOUT): >0 when ready, 0 on
/// timeout, negative errno on error (-EINTR when interrupted, -EBADFD when
/// inherited by fork). Blocks for up to `timeout_ms` (-1: until ready, 0: not
/// at all). In copy mode a poll also drives TX: see
/// `xsk_rs_stats.tx_ring_empty_descs`.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_poll(sock: *mut xsk_rs_socket, events: c_short, timeout_ms: c_int) -> c_int {
    const F: &str = "xsk_rs_socket_poll";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => s.poll(events, timeout_ms).unwrap_or_else(|e| fail(F, e)),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// Reads the kernel's counters into `*out` (written only on success).
/// Returns 0 or a negative errno; -EINVAL for NULL arguments, -EBADFD when
/// inherited by fork.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_stats(sock: *const xsk_rs_socket, out: *mut xsk_rs_stats) -> c_int {
    const F: &str = "xsk_rs_socket_stats";
    ffi_guard!({
        let Some(s) = (unsafe { try_ref(sock) }) else { return misuse(F, "sock is NULL") };
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        match s.stats() {
            Ok(st) => {
                unsafe { *out = st.into() };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// The XDP mode steering this socket's queue: `XSK_RS_XDP_MODE_SKB` or
/// `XSK_RS_XDP_MODE_DRV` (what `XSK_RS_XDP_MODE_AUTO` settled on), or
/// `XSK_RS_XDP_MODE_NONE` when the library attached nothing (mode NONE, or a
/// TX-only socket). -EINVAL if `sock` is NULL. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_xdp_mode(sock: *const xsk_rs_socket) -> c_int {
    const F: &str = "xsk_rs_socket_xdp_mode";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => s.xdp_mode() as c_int,
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// 1 if the socket runs in zero-copy mode, 0 in copy mode, negative errno on
/// error (-EBADFD when inherited by fork). Every socket on a UMEM runs in the
/// mode of the UMEM's first socket.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_is_zerocopy(sock: *const xsk_rs_socket) -> c_int {
    const F: &str = "xsk_rs_socket_is_zerocopy";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => s.is_zerocopy().map_or_else(|e| fail(F, e), c_int::from),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// Inserts the socket into the caller's XSKMAP `map_fd` at the socket's queue
/// id, for sockets created with `XSK_RS_XDP_MODE_NONE` whose traffic the
/// caller's own XDP program redirects. Returns 0, -EINVAL (not an XSKMAP, the
/// queue id is past its size, or the socket has no RX ring), -EBADF, -EBADFD
/// (inherited by fork), ... Delete the entry yourself before destroying the
/// socket: see `xsk_rs_socket_destroy`.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_update_xskmap(sock: *mut xsk_rs_socket, map_fd: c_int) -> c_int {
    const F: &str = "xsk_rs_socket_update_xskmap";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => status(F, s.update_xskmap(map_fd)),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// The socket's queue id (as given to `xsk_rs_socket_create`); -EINVAL for
/// NULL. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_queue_id(sock: *const xsk_rs_socket) -> c_int {
    const F: &str = "xsk_rs_socket_queue_id";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => to_int(F, "queue id", s.queue_id()),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// The index of the socket's interface (`if_nametoindex` in the namespace it
/// was created in); -EINVAL for NULL. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_ifindex(sock: *const xsk_rs_socket) -> c_int {
    const F: &str = "xsk_rs_socket_ifindex";
    ffi_guard!({
        match unsafe { try_ref(sock) } {
            Some(s) => to_int(F, "ifindex", s.ifindex()),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// The fd of the XSKMAP of the library's XDP program that steers this
/// socket's queue (shared by this process's sockets on the interface; owned
/// by the library: do not close it), e.g. to read it with bpf(2) or to put
/// another socket of your own in it. -ENOENT, with a message, when the library
/// attached nothing (`XSK_RS_XDP_MODE_NONE`, or a socket without an RX ring);
/// -EINVAL for NULL. Valid until the socket is destroyed. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_socket_xskmap_fd(sock: *const xsk_rs_socket) -> c_int {
    const F: &str = "xsk_rs_socket_xskmap_fd";
    ffi_guard!({
        match unsafe { try_ref(sock) }.map(Socket::xskmap_fd) {
            Some(Some(fd)) => fd,
            Some(None) => refuse(
                F,
                "the library attached no XDP program for this socket (mode NONE, or no rx ring), so it has no XSKMAP",
                -libc::ENOENT,
            ),
            None => misuse(F, "sock is NULL"),
        }
    })
}

/// A u32 the kernel keeps below 2^31 as an int, or -EOVERFLOW.
fn to_int(func: &str, what: &str, v: u32) -> c_int {
    c_int::try_from(v).unwrap_or_else(|_| refuse(func, &format!("{what} {v} does not fit an int"), -libc::EOVERFLOW))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::{BIND_COPY, BIND_NEED_WAKEUP, BIND_ZEROCOPY, MIN_TX_BUDGET};

    // cbindgen only emits literal constants, so they are written out above;
    // these tie them to the core's (and so the kernel's) values.
    #[test]
    fn constants_match_the_core() {
        assert_eq!(XSK_RS_XDP_MODE_AUTO, XdpMode::Auto as u32);
        assert_eq!(XSK_RS_XDP_MODE_SKB, XdpMode::Skb as u32);
        assert_eq!(XSK_RS_XDP_MODE_DRV, XdpMode::Drv as u32);
        assert_eq!(XSK_RS_XDP_MODE_NONE, XdpMode::None as u32);
        assert_eq!(XSK_RS_BIND_COPY, BIND_COPY);
        assert_eq!(XSK_RS_BIND_ZEROCOPY, BIND_ZEROCOPY);
        assert_eq!(XSK_RS_BIND_NEED_WAKEUP, BIND_NEED_WAKEUP);
        assert_eq!(XSK_RS_TX_BUDGET_MIN, MIN_TX_BUDGET);
    }

    /// The struct has no padding (every byte is a field the caller sets or
    /// init zeroes), and a caller built before `tx_budget` existed passes a
    /// shorter `sz`: it gets the default budget whatever lies past its struct.
    #[test]
    fn tx_budget_is_appended_and_optional() {
        use super::super::read_config;
        assert_eq!(std::mem::size_of::<xsk_rs_socket_config>(), 40);
        assert_eq!(std::mem::offset_of!(xsk_rs_socket_config, tx_budget), 24);
        let mut old = xsk_rs_socket_config::defaults();
        old.sz = 24;
        old.tx_budget = 7;
        old.busy_poll_usecs = 9;
        let got = unsafe { read_config("t", &old) }.unwrap();
        let cfg = SocketConfig::try_from(got).unwrap();
        assert_eq!(cfg, SocketConfig::default());
        let mut new = xsk_rs_socket_config::defaults();
        new.tx_budget = 64;
        assert_eq!(SocketConfig::try_from(new).unwrap().tx_budget, 64);
        // The busy-poll fields took the old `reserved` word (0: not set) and
        // the ones after it.
        assert_eq!(std::mem::offset_of!(xsk_rs_socket_config, busy_poll_usecs), 28);
        (new.busy_poll_usecs, new.busy_poll_budget, new.prefer_busy_poll) = (20, 64, 1);
        assert_eq!(SocketConfig::try_from(new).unwrap().busy_poll, BusyPoll { usecs: 20, budget: 64, prefer: true });
        new.prefer_busy_poll = 2;
        let e = SocketConfig::try_from(new).unwrap_err();
        assert!(e.to_string().contains("prefer_busy_poll is 2"), "{e}");
    }
}
