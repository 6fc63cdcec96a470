//! C ABI for the packet layer (`src/packet/`): `xsk_rs_txsock_*`,
//! `xsk_rs_rxsock_*`, `xsk_rs_bisock_create` and `xsk_rs_xdp_config`.
//!
//! A socket comes in halves: `xsk_rs_txsock` is a [`crate::TxSocket`], `xsk_rs_rxsock`
//! an [`crate::RxSocket`] (mapped once, in `handle.rs`). Each half owns its rings and
//! frames, so a call takes `&mut` to it: the header allows one thread at a
//! time on a half, and the two halves of a bi socket on two threads at once.
//! Every function checks its pointers, calls the half's Rust method and
//! converts the result; the frame bookkeeping lives in `src/packet/`.

use super::handle::{to_box, try_box, try_mut};
use super::{
    c_str, config_fields, fail, ffi_guard, fields_tile, init_config, misuse, read_config, set_last_error, status,
    xsk_rs_stats, SizedConfig,
};
use crate::error::{Error, Result};
use crate::packet::{self, Direction, PollWaitExt, SendExt, XdpConfig};
use crate::xdp::XdpMode;
use std::ffi::{c_char, c_int, c_void};
use std::time::Duration;

/// The sending half of a packet-layer socket: a TX ring, a completion ring
/// and the frames it sends from, managed inside (no frame address reaches
/// the caller). Created by `xsk_rs_txsock_create` or `xsk_rs_bisock_create`,
/// freed by `xsk_rs_txsock_destroy`. One thread at a time may call it.
pub struct xsk_rs_txsock {
    _opaque: [u8; 0],
}

/// The receiving half of a packet-layer socket: an RX ring, a fill ring and
/// the frames it receives into, all lent to the kernel and given back inside.
/// Created by `xsk_rs_rxsock_create` or `xsk_rs_bisock_create`, freed by
/// `xsk_rs_rxsock_destroy`. One thread at a time may call it.
pub struct xsk_rs_rxsock {
    _opaque: [u8; 0],
}

/// A packet: one to send (`xsk_rs_txsock_send_batch`), or one received and
/// read in place (`xsk_rs_rxsock_peek`, `xsk_rs_rxsock_recv_batch`,
/// `xsk_rs_rxsock_recv_packet`), where `data` points into the socket's
/// frames and stays valid until the packet is released. On a multi-buffer
/// socket a received one is one frame of a packet: see `options`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xsk_rs_pkt {
    /// The packet's first byte.
    pub data: *const u8,
    /// Its length in bytes.
    pub len: u32,
    /// Received: `XSK_RS_DESC_CONTD` when the packet goes on in the next
    /// entry (multi-buffer sockets only: the packet is this frame and the
    /// following ones up to and including the first without it); 0
    /// otherwise. Ignored when sending. (It fills what was padding: the
    /// struct's size is unchanged.)
    pub options: u32,
}

const _: () = assert!(std::mem::size_of::<xsk_rs_pkt>() == if cfg!(target_pointer_width = "64") { 16 } else { 12 });

/// A frame to write a packet into (`xsk_rs_txsock_alloc`): `len` bytes from
/// `data` (its capacity, `xsk_rs_txsock_max_len`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xsk_rs_buf {
    /// The frame's first byte.
    pub data: *mut u8,
    /// Bytes that may be written.
    pub len: u32,
}

/// How to create a packet-layer socket. Fill it with
/// `xsk_rs_xdp_config_init()`, then change fields; a field left 0 takes its
/// default where the field says so. `sz` lets the struct grow in later
/// versions, by the rule of the config structs (see the conventions at the
/// top of this header).
///
/// The ring sizes follow from the frame counts; set them only to make a ring
/// larger. A geometry that could strand frames (an RX ring smaller than
/// `rx_frames`, a fill ring smaller than twice `rx_frames`, a completion ring
/// smaller than `tx_frames`) is refused at creation with -EINVAL, naming the
/// rule.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xsk_rs_xdp_config {
    /// `sizeof(xsk_rs_xdp_config)` as the caller was built with it, set by
    /// `xsk_rs_xdp_config_init()`.
    pub sz: usize,
    /// Frames the RX half owns, all lent to the kernel to receive into: 1 to
    /// 2^29, or 0 for the default (4096). Ignored without an RX half.
    pub rx_frames: u32,
    /// Frames the TX half owns to send from: 1 to 2^29, or 0 for the default
    /// (4096). Ignored without a TX half.
    pub tx_frames: u32,
    /// Bytes per frame, and so the longest packet: a power of two from 2048
    /// to the page size, or 0 for the default (4096).
    pub frame_size: u32,
    /// Bytes kept free before each received packet, after the kernel's own
    /// 256 (default 0).
    pub frame_headroom: u32,
    /// RX ring entries, a power of two; 0 (default): `rx_frames` rounded up
    /// to a power of two. Never fewer than `rx_frames`.
    pub rx_size: u32,
    /// TX ring entries, a power of two; 0 (default): `tx_frames` rounded up
    /// to a power of two.
    pub tx_size: u32,
    /// Fill ring entries, a power of two; 0 (default): twice the RX ring.
    /// Never fewer than twice `rx_frames` (the lending rule of
    /// `xsk_rs_umem_config.fill_size`).
    pub fill_size: u32,
    /// Completion ring entries, a power of two; 0 (default): `tx_frames`
    /// rounded up to a power of two. Never fewer than `tx_frames`.
    pub comp_size: u32,
    /// `XSK_RS_XDP_MODE_*`, as for `xsk_rs_socket_config.xdp_mode` (default
    /// `XSK_RS_XDP_MODE_AUTO`). An RX half is steered by the library's XDP
    /// program unless this is `XSK_RS_XDP_MODE_NONE`; a TX-only socket
    /// attaches nothing.
    pub xdp_mode: u32,
    /// -1 (default): the kernel's choice, zero-copy where the driver has it;
    /// 0: copy mode (`XDP_COPY`); 1: zero-copy mode (`XDP_ZEROCOPY`; creation
    /// fails with -EOPNOTSUPP where the driver lacks it, e.g. veth). Any
    /// other value is -EINVAL.
    pub zero_copy: i32,
    /// 1 (default): `XDP_USE_NEED_WAKEUP`, so `xsk_rs_txsock_kick` and the
    /// receive calls make a syscall only when the kernel asks; 0: without it
    /// (every kick is a syscall). Any other value is -EINVAL.
    pub need_wakeup: i32,
    /// 1: the UMEM lives in huge pages (`MAP_HUGETLB`, the default huge page
    /// size); creation fails with -ENOMEM, naming `vm.nr_hugepages`, when too
    /// few are free. 0 (default): ordinary pages. Any other value is -EINVAL.
    pub huge_page: u32,
    /// Most TX descriptors one kick sends in copy mode: 0 (default) for the
    /// whole TX ring, else as `xsk_rs_socket_config.tx_budget`.
    pub tx_budget: u32,
    /// 1 with `huge_page` 1: ordinary pages when too few huge pages are free
    /// (or the kernel has none), instead of -ENOMEM. 0 (default): no
    /// fallback. 1 without `huge_page` or any other value is -EINVAL.
    pub huge_page_fallback: u32,
    /// `SO_BUSY_POLL` in µs on each half's socket, as
    /// `xsk_rs_socket_config.busy_poll_usecs` (default 0: not set).
    pub busy_poll_usecs: u32,
    /// `SO_BUSY_POLL_BUDGET`, as `xsk_rs_socket_config.busy_poll_budget`
    /// (default 0: not set).
    pub busy_poll_budget: u32,
    /// 1: `SO_PREFER_BUSY_POLL`, as `xsk_rs_socket_config.prefer_busy_poll`
    /// (default 0: not set).
    pub prefer_busy_poll: u32,
    /// TX metadata (default 0, none): `XSK_RS_TX_METADATA` gives every TX
    /// frame 24 bytes of metadata in front of its packet (Linux 6.8;
    /// -EOPNOTSUPP naming 6.8 before), so that `xsk_rs_txsock_send_opts` can
    /// ask for a checksum or a completion timestamp; the longest packet is
    /// 24 bytes shorter. Add `XSK_RS_TX_SW_CSUM` for checksums computed in
    /// software at once in copy mode (`XDP_UMEM_TX_SW_CSUM`, Linux 6.8).
    /// Other bits are -EINVAL.
    pub tx_metadata: u32,
    /// 1: multi-buffer (jumbo frames; `XDP_USE_SG`, Linux 6.6, -EOPNOTSUPP
    /// naming the release before that). A packet longer than a frame
    /// arrives over several frames: `xsk_rs_rxsock_recv` gathers it into
    /// the caller's buffer and `xsk_rs_rxsock_recv_packet` shows its
    /// segments in place; `xsk_rs_txsock_send` sends a packet longer than a
    /// frame over several, all or nothing (one needing more frames than
    /// `tx_frames` or more entries than the TX ring is -EMSGSIZE, naming the
    /// numbers); `xsk_rs_rxsock_recv_packed` gathers each packet into one.
    /// `xsk_rs_rxsock_recv_batch` hands out frames, whole packets only,
    /// each but a packet's last marked `XSK_RS_DESC_CONTD` in
    /// `xsk_rs_pkt.options` (-ENOBUFS for a packet of more than `max`
    /// frames); `seek` and `peek` see one frame at a time. 0 (default): one
    /// frame per packet, and an RX half whose frame (less 256 bytes and
    /// `frame_headroom`) cannot hold the interface's MTU plus 18 is refused
    /// with -EMSGSIZE, naming the fixes (larger frames, this, or
    /// `short_frames`). Any other value is -EINVAL.
    pub multi_buffer: u32,
    /// 1: accept an RX half whose frame cannot hold what the interface's MTU
    /// delivers, without multi-buffer (`XSK_RS_BIND_SHORT_FRAMES`): the
    /// kernel drops every longer packet, counted only in `rx_dropped`. 0
    /// (default): such a socket is refused with -EMSGSIZE. Any other value
    /// is -EINVAL.
    pub short_frames: u32,
}

/// `xsk_rs_xdp_config.tx_metadata`: TX metadata in front of every TX packet.
pub const XSK_RS_TX_METADATA: u32 = 1 << 0;
/// `xsk_rs_xdp_config.tx_metadata`: with `XSK_RS_TX_METADATA`, checksums in
/// software in copy mode (`XDP_UMEM_TX_SW_CSUM`).
pub const XSK_RS_TX_SW_CSUM: u32 = 1 << 1;

impl SizedConfig for xsk_rs_xdp_config {
    config_fields!(xsk_rs_xdp_config {
        rx_frames: u32,
        tx_frames: u32,
        frame_size: u32,
        frame_headroom: u32,
        rx_size: u32,
        tx_size: u32,
        fill_size: u32,
        comp_size: u32,
        xdp_mode: u32,
        zero_copy: i32,
        need_wakeup: i32,
        huge_page: u32,
        tx_budget: u32,
        huge_page_fallback: u32,
        busy_poll_usecs: u32,
        busy_poll_budget: u32,
        prefer_busy_poll: u32,
        tx_metadata: u32,
        multi_buffer: u32,
        short_frames: u32,
    });
    fn defaults() -> Self {
        xsk_rs_xdp_config {
            sz: std::mem::size_of::<Self>(),
            rx_frames: crate::umem::DEFAULT_FRAMES,
            tx_frames: crate::umem::DEFAULT_FRAMES,
            frame_size: crate::umem::UmemConfig::default().frame_size,
            frame_headroom: 0,
            rx_size: 0,
            tx_size: 0,
            fill_size: 0,
            comp_size: 0,
            xdp_mode: XdpMode::default() as u32,
            zero_copy: -1,
            need_wakeup: 1,
            huge_page: 0,
            tx_budget: 0,
            huge_page_fallback: 0,
            busy_poll_usecs: 0,
            busy_poll_budget: 0,
            prefer_busy_poll: 0,
            tx_metadata: 0,
            multi_buffer: 0,
            short_frames: 0,
        }
    }
}

const _: () = assert!(fields_tile(xsk_rs_xdp_config::FIELDS, std::mem::size_of::<xsk_rs_xdp_config>()));

impl TryFrom<xsk_rs_xdp_config> for XdpConfig {
    type Error = Error;
    fn try_from(c: xsk_rs_xdp_config) -> Result<Self> {
        let flag = |name: &str, v: i64, none: Option<i64>| -> Result<Option<bool>> {
            match v {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                v if Some(v) == none => Ok(None),
                v => Err(Error::invalid(format!(
                    "config field {name} is {v}; give {}0 or 1",
                    if none.is_some() { "-1, " } else { "" }
                ))),
            }
        };
        if c.tx_metadata & !(XSK_RS_TX_METADATA | XSK_RS_TX_SW_CSUM) != 0 {
            return Err(Error::invalid(format!(
                "config field tx_metadata is {:#x}; give 0 or XSK_RS_TX_METADATA (1), with XSK_RS_TX_SW_CSUM (2)",
                c.tx_metadata
            )));
        }
        let or_default = |v: u32| (v != 0).then_some(v);
        Ok(XdpConfig {
            zero_copy: flag("zero_copy", c.zero_copy.into(), Some(-1))?,
            huge_page: flag("huge_page", c.huge_page.into(), None)?,
            need_wakeup: flag("need_wakeup", c.need_wakeup.into(), None)?,
            frame_size: or_default(c.frame_size),
            frame_headroom: Some(c.frame_headroom),
            rx_frames: or_default(c.rx_frames),
            tx_frames: or_default(c.tx_frames),
            rx_size: or_default(c.rx_size),
            tx_size: or_default(c.tx_size),
            fill_size: or_default(c.fill_size),
            comp_size: or_default(c.comp_size),
            xdp_mode: Some(XdpMode::try_from(c.xdp_mode)?),
            tx_budget: or_default(c.tx_budget),
            huge_page_fallback: flag("huge_page_fallback", c.huge_page_fallback.into(), None)?,
            busy_poll_usecs: or_default(c.busy_poll_usecs),
            busy_poll_budget: or_default(c.busy_poll_budget),
            prefer_busy_poll: flag("prefer_busy_poll", c.prefer_busy_poll.into(), None)?,
            tx_metadata: Some(c.tx_metadata & XSK_RS_TX_METADATA != 0),
            tx_sw_csum: Some(c.tx_metadata & XSK_RS_TX_SW_CSUM != 0),
            multi_buffer: flag("multi_buffer", c.multi_buffer.into(), None)?,
            short_frames: flag("short_frames", c.short_frames.into(), None)?,
        })
    }
}

/// Fills `cfg` with the defaults: 4096 RX and 4096 TX frames of 4096 bytes,
/// no headroom, ring sizes 0 (derived from the frames: RX, TX and completion
/// rings of 4096, a fill ring of 8192), `XSK_RS_XDP_MODE_AUTO`, `zero_copy`
/// -1 (the kernel's choice), `need_wakeup` 1, `huge_page` 0, `tx_budget` 0.
/// Call it as `xsk_rs_xdp_config_init(&cfg, sizeof(cfg))`: the library writes
/// no more than `sz` bytes, zeroes any bytes past its own struct and records
/// `sz` in `cfg->sz`, as `xsk_rs_socket_config_init` does. Returns 0, or
/// -EINVAL (`cfg` NULL, or `sz` not a struct size: it cuts a field, is
/// smaller than `sz` and one field, is larger than this struct but no
/// multiple of 4, or is larger than 4096), leaving `*cfg` untouched. Any
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_xdp_config_init(cfg: *mut xsk_rs_xdp_config, sz: usize) -> c_int {
    ffi_guard!({ unsafe { init_config("xsk_rs_xdp_config_init", cfg, sz) } })
}

/// Reads the arguments every create shares: the interface name and the config.
///
/// # Safety
/// `ifname` is NULL or a NUL-terminated string; `cfg` is NULL or a config of
/// at least `cfg->sz` readable bytes.
unsafe fn create_args<'a>(
    func: &str,
    ifname: *const c_char,
    cfg: *const xsk_rs_xdp_config,
) -> std::result::Result<(&'a str, XdpConfig), c_int> {
    let ifname = c_str(func, "ifname", ifname)?;
    match read_config(func, cfg)?.try_into() {
        Ok(c) => Ok((ifname, c)),
        Err(e) => Err(fail(func, e)),
    }
}

/// Creates a socket that only sends, on queue `queue` of the interface
/// `ifname` (looked up in the calling thread's network namespace). It
/// attaches no XDP program: nothing is steered to a socket without an RX
/// ring. `ifname` and `out` must not be NULL; `cfg` may be NULL for the
/// defaults (its RX fields are ignored). On success `*out` is the caller's,
/// to free with `xsk_rs_txsock_destroy`; on failure nothing is written and
/// nothing is left behind (no socket, UMEM or program).
///
/// Blocking: as `xsk_rs_socket_create` (the UMEM's frames are faulted in, a
/// queue being released is waited for), at most about 3 s. Any thread.
///
/// Returns 0, or -EINVAL (NULL `ifname` or `out`, a bad config or geometry:
/// the message names the field or rule; a queue out of range), -ENODEV (no
/// such interface), -EBUSY (the queue is in use), -EOPNOTSUPP (zero-copy the
/// driver lacks, huge pages), -EPERM, -ENOMEM, ... as `xsk_rs_socket_create`.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_create(
    ifname: *const c_char,
    queue: u32,
    cfg: *const xsk_rs_xdp_config,
    out: *mut *mut xsk_rs_txsock,
) -> c_int {
    const F: &str = "xsk_rs_txsock_create";
    ffi_guard!({
        let (ifname, cfg) = match unsafe { create_args(F, ifname, cfg) } {
            Ok(a) => a,
            Err(e) => return e,
        };
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        match packet::create_tx_socket_by_name(ifname, queue, Some(cfg)) {
            Ok(tx) => {
                unsafe { out.write(to_box(tx)) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Creates a socket that only receives, on queue `queue` of `ifname`, lends
/// the kernel all its frames, and (unless `cfg->xdp_mode` is
/// `XSK_RS_XDP_MODE_NONE`) steers the queue to it with the library's XDP
/// program, detached when the process's last socket on the interface goes or
/// the process dies. `cfg` may be NULL (its TX fields are ignored);
/// otherwise as `xsk_rs_txsock_create`, also in what it returns; -EBUSY also
/// when the interface carries another program. Free it with
/// `xsk_rs_rxsock_destroy`.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_create(
    ifname: *const c_char,
    queue: u32,
    cfg: *const xsk_rs_xdp_config,
    out: *mut *mut xsk_rs_rxsock,
) -> c_int {
    const F: &str = "xsk_rs_rxsock_create";
    ffi_guard!({
        let (ifname, cfg) = match unsafe { create_args(F, ifname, cfg) } {
            Ok(a) => a,
            Err(e) => return e,
        };
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        match packet::create_rx_socket_by_name(ifname, queue, Some(cfg)) {
            Ok(rx) => {
                unsafe { out.write(to_box(rx)) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Creates one socket that sends and receives on queue `queue` of `ifname`,
/// split into its two halves over one UMEM: each half owns its own frames
/// (`cfg->tx_frames`, `cfg->rx_frames`) and may run on its own thread, at
/// the same time as the other, with no lock. `tx_out` and `rx_out` must not
/// be NULL; both are written on success only. The socket, its UMEM and the
/// steering go when both halves are destroyed, in either order. Otherwise as
/// `xsk_rs_rxsock_create`.
#[no_mangle]
pub extern "C" fn xsk_rs_bisock_create(
    ifname: *const c_char,
    queue: u32,
    cfg: *const xsk_rs_xdp_config,
    tx_out: *mut *mut xsk_rs_txsock,
    rx_out: *mut *mut xsk_rs_rxsock,
) -> c_int {
    const F: &str = "xsk_rs_bisock_create";
    ffi_guard!({
        let (ifname, cfg) = match unsafe { create_args(F, ifname, cfg) } {
            Ok(a) => a,
            Err(e) => return e,
        };
        if tx_out.is_null() {
            return misuse(F, "tx_out is NULL");
        }
        if rx_out.is_null() {
            return misuse(F, "rx_out is NULL");
        }
        match packet::create_socket_by_name(ifname, queue, Direction::Both, Some(cfg)) {
            Ok((Some(tx), Some(rx))) => {
                unsafe {
                    tx_out.write(to_box(tx));
                    rx_out.write(to_box(rx));
                }
                0
            }
            Ok(_) => unreachable!("a bi socket has both halves"),
            Err(e) => fail(F, e),
        }
    })
}

/// Destroys the sending half. Frames still reserved or in flight are
/// dropped with it. When the RX half of a bi socket is gone too, the socket
/// closes and its UMEM is freed. NULL is a no-op. Not concurrently with any
/// call on `tx`; the other half may be in use on another thread meanwhile.
/// Like `xsk_rs_socket_destroy`, it may wait for the process-wide lock.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_destroy(tx: *mut xsk_rs_txsock) {
    ffi_guard!({
        // SAFETY: NULL or a live handle from a create.
        drop(unsafe { try_box(tx) });
    })
}

/// Destroys the receiving half; packets found and not yet released are
/// dropped with it, and pointers to them become invalid. When the TX half of
/// a bi socket is gone too, the socket closes (detaching the library's XDP
/// program if it was this process's last socket on the interface) and its
/// UMEM is freed. NULL is a no-op. As `xsk_rs_txsock_destroy`.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_destroy(rx: *mut xsk_rs_rxsock) {
    ffi_guard!({
        // SAFETY: NULL or a live handle from a create.
        drop(unsafe { try_box(rx) });
    })
}

/// The largest count an int return carries.
const COUNT_MAX: u32 = c_int::MAX as u32;

/// A count of descriptors, packets or frames as the call's int.
#[inline(always)]
fn count(n: usize) -> c_int {
    n.min(COUNT_MAX as usize) as c_int
}

/// A `Result<usize>` count as the call's int.
#[inline(always)]
fn counted(func: &str, r: Result<usize>) -> c_int {
    match r {
        Ok(n) => count(n),
        Err(e) => fail(func, e),
    }
}

/// A `timeout_ms` as poll(2) takes it: negative waits without limit.
fn timeout(ms: c_int) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// `n` entries from `p`, or an empty slice for `n` 0 (when `p` may be NULL).
///
/// # Safety
/// `p` is non-NULL with `n` readable entries, or `n` is 0.
unsafe fn slice<'a, T>(p: *const T, n: usize) -> &'a [T] {
    if n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p, n)
    }
}

/// `n` writable entries from `p`, or an empty slice for `n` 0.
///
/// # Safety
/// `p` is non-NULL with `n` writable entries, or `n` is 0.
unsafe fn slice_mut<'a, T>(p: *mut T, n: usize) -> &'a mut [T] {
    if n == 0 {
        &mut []
    } else {
        std::slice::from_raw_parts_mut(p, n)
    }
}

// ---- TX: descriptors (seek -> peek -> commit -> kick) ----

/// Reserves TX descriptors that each carry a free frame, until `n` are
/// reserved and not yet committed, if it can: takes back frames the kernel
/// has finished sending when it runs short. Returns how many are reserved
/// now (`n` or more when it got them, counting any reserved before; fewer,
/// 0 too, when the TX ring or the frames ran out: "try later", not an error;
/// `xsk_rs_txsock_wait` waits for room). Write them with
/// `xsk_rs_txsock_peek`, publish them with `xsk_rs_txsock_commit`. -EINVAL
/// for a NULL `tx`. No syscall, no lock; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_seek(tx: *mut xsk_rs_txsock, n: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_seek";
    ffi_guard!({
        match unsafe { try_mut(tx) } {
            Some(t) => counted(F, t.seek_n(n.min(COUNT_MAX) as usize)),
            None => misuse(F, "tx is NULL"),
        }
    })
}

/// The frame of the `i`-th reserved descriptor (0 is the first not yet
/// committed), as `len` bytes to write the packet into: `*data` points at
/// them (the bytes are what the frame last held, not zeroes), and the
/// descriptor's length becomes `len`. The frame stays the caller's to write
/// until `xsk_rs_txsock_commit` publishes it; peek it again to change its
/// length. Returns 0; -EINVAL (NULL `tx` or `data`, or `i` past what
/// `xsk_rs_txsock_seek` reserved) or -EMSGSIZE (`len` over
/// `xsk_rs_txsock_max_len`), with `*data` untouched. No syscall; `tx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_peek(tx: *mut xsk_rs_txsock, i: u32, len: u32, data: *mut *mut u8) -> c_int {
    const F: &str = "xsk_rs_txsock_peek";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if data.is_null() {
            return misuse(F, "data is NULL");
        }
        match t.peek_at(i as usize, len as usize) {
            Ok(buf) => {
                unsafe { data.write(buf.as_mut_ptr()) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Publishes the first `n` reserved descriptors to the kernel, in order,
/// with the lengths their `xsk_rs_txsock_peek` gave; the kernel sends them
/// after `xsk_rs_txsock_kick`. Returns 0, or -EINVAL, publishing nothing:
/// NULL `tx`, fewer than `n` reserved, or one of them never peeked (length
/// 0). No syscall; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_commit(tx: *mut xsk_rs_txsock, n: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_commit";
    ffi_guard!({
        match unsafe { try_mut(tx) } {
            Some(t) => status(F, t.commit_n(n as usize)),
            None => misuse(F, "tx is NULL"),
        }
    })
}

/// Wakes the kernel to send what was committed, if it asks to be woken
/// (always in copy mode; with `need_wakeup` 0, every call is a syscall).
/// "Try again" answers are not errors. Returns 0, -EINVAL for a NULL `tx`,
/// -ENODEV (the interface went away), -EBADFD (inherited by fork) or another
/// negative errno. Never blocks; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_kick(tx: *mut xsk_rs_txsock) -> c_int {
    const F: &str = "xsk_rs_txsock_kick";
    ffi_guard!({
        match unsafe { try_mut(tx) } {
            Some(t) => status(F, t.kick()),
            None => misuse(F, "tx is NULL"),
        }
    })
}

// ---- TX: allocate, write, submit ----

/// Gives up to `n` free frames to write packets into, in `bufs[0..count)`:
/// `data` and `len` (the capacity, `xsk_rs_txsock_max_len`). It reserves
/// descriptors as `xsk_rs_txsock_seek(tx, n)` does, and the frames are those
/// of the first reserved ones (so a second alloc before a submit gives the
/// same frames first). Returns how many, at most `n`; 0 when no frame or TX
/// slot is free (not an error). Send them with `xsk_rs_txsock_submit`.
/// Frames allocated and not yet submitted stay the caller's: until they are
/// submitted, `xsk_rs_txsock_send`, `_send_batch` and `_send_packed` on this
/// half refuse with -EBUSY (they would publish them). -EINVAL for a NULL
/// `tx`, or a NULL `bufs` with `n` above 0; `bufs` is written only on
/// success; -EBADFD in a forked child that inherited `tx`. No syscall;
/// `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_alloc(tx: *mut xsk_rs_txsock, bufs: *mut xsk_rs_buf, n: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_alloc";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if bufs.is_null() && n > 0 {
            return misuse(F, "bufs is NULL");
        }
        let n = n.min(COUNT_MAX) as usize;
        let got = match t.seek_n(n) {
            Ok(got) => got.min(n),
            Err(e) => return fail(F, e),
        };
        // SAFETY: the caller passes room for n entries; got <= n.
        let bufs = unsafe { slice_mut(bufs, got) };
        for (i, b) in bufs.iter_mut().enumerate() {
            // Cannot fail: i is below what seek reserved, and the length is
            // the most a frame carries.
            match t.buffer_at(i) {
                Ok(f) => *b = xsk_rs_buf { data: f.as_mut_ptr(), len: f.len() as u32 },
                Err(e) => return fail(F, e),
            }
        }
        count(got)
    })
}

/// Sends the first `n` frames `xsk_rs_txsock_alloc` gave, the `i`-th
/// `lens[i]` bytes long: publishes them in order and kicks the kernel.
/// Returns 0, or -EINVAL, publishing nothing (NULL `tx`, a NULL `lens` with
/// `n` above 0, more than were allocated, or a length of 0), -EMSGSIZE (a
/// length over `xsk_rs_txsock_max_len`; nothing published), or the kick's
/// negative errno (the packets were published: kick again). `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_submit(tx: *mut xsk_rs_txsock, lens: *const u32, n: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_submit";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if lens.is_null() && n > 0 {
            return misuse(F, "lens is NULL");
        }
        // SAFETY: the caller passes n readable lengths.
        let lens = unsafe { slice(lens, n as usize) };
        status(F, t.commit_lens(lens).and_then(|()| t.kick()))
    })
}

// ---- TX: copy in ----

/// Copies the `len` bytes at `data` into a free frame and sends it (commit
/// and kick). Returns 1 when queued; 0 when there was no room (no free frame
/// or a full TX ring: not an error; `xsk_rs_txsock_wait` waits for room);
/// -EMSGSIZE for `len` over `xsk_rs_txsock_max_len`; -EBUSY while frames
/// from `xsk_rs_txsock_alloc` or `xsk_rs_txsock_peek` are not yet submitted or
/// committed (the send would publish them under the caller; a `seek` never
/// peeked is the send's to use); -EINVAL for a NULL `tx`, a NULL `data` or a
/// `len` of 0; the kick's negative errno (the packet was queued). `data` is
/// the caller's, only read during the call. `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_send(tx: *mut xsk_rs_txsock, data: *const c_void, len: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_send";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if data.is_null() {
            return misuse(F, "data is NULL");
        }
        // SAFETY: the caller passes len readable bytes.
        let data = unsafe { slice(data.cast::<u8>(), len as usize) };
        match t.send(data, None) {
            Ok(sent) => c_int::from(sent),
            Err(e) => fail(F, e),
        }
    })
}

/// A packet of the caller's, checked: `data` is non-NULL or `len` 0.
#[repr(transparent)]
struct CheckedPkt(xsk_rs_pkt);

impl AsRef<[u8]> for CheckedPkt {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: built only by `xsk_rs_txsock_send_batch` after checking the
        // pointer; the caller passes `len` readable bytes at it.
        unsafe { slice(self.0.data, self.0.len as usize) }
    }
}

/// Sends the packets `pkts[0..n)` in order, each copied into its own frame,
/// with one kick for all. Returns how many were queued: fewer than `n` when
/// room ran out (0 is "no room", not an error). A packet over
/// `xsk_rs_txsock_max_len`, or of length 0, stops the batch before it, with
/// a message; when it is the first the call returns -EMSGSIZE or -EINVAL.
/// -EBUSY, queueing nothing, as for `xsk_rs_txsock_send`. -EINVAL
/// also for a NULL `tx`, a NULL `pkts` with `n` above 0, or a packet whose
/// `data` is NULL (checked before anything is queued). `pkts` and the bytes
/// are the caller's, only read during the call. `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_send_batch(tx: *mut xsk_rs_txsock, pkts: *const xsk_rs_pkt, n: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_send_batch";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if pkts.is_null() && n > 0 {
            return misuse(F, "pkts is NULL");
        }
        // SAFETY: the caller passes n readable packets.
        let pkts = unsafe { slice(pkts, n.min(COUNT_MAX) as usize) };
        if let Some(i) = pkts.iter().position(|p| p.data.is_null()) {
            return misuse(F, &format!("pkts[{i}].data is NULL"));
        }
        // SAFETY: CheckedPkt is a transparent xsk_rs_pkt, and every pointer
        // was checked above.
        let pkts = unsafe { std::slice::from_raw_parts(pkts.as_ptr().cast::<CheckedPkt>(), pkts.len()) };
        let r = t.send_batch(pkts);
        if let Ok(sent) = r {
            stopped_at(F, sent, pkts.iter().map(|p| p.0.len), t.max_len());
        }
        counted(F, r)
    })
}

/// Sends `n` packets laid end to end in `data` (`size` bytes), the `i`-th
/// `lens[i]` bytes long, each in its own frame, with one kick for all (one
/// buffer and one call per batch, for bindings). Returns how many were
/// queued, as `xsk_rs_txsock_send_batch` (a length of 0 or over
/// `xsk_rs_txsock_max_len` stops the batch; -EBUSY as there). -EINVAL for a NULL `tx`, a NULL
/// `data` with `size` above 0, a `size` above `SSIZE_MAX`, a NULL `lens` with
/// `n` above 0, or lengths that add up to more than `size` (nothing queued).
/// `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_send_packed(
    tx: *mut xsk_rs_txsock,
    data: *const c_void,
    size: usize,
    lens: *const u32,
    n: u32,
) -> c_int {
    const F: &str = "xsk_rs_txsock_send_packed";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if data.is_null() && size > 0 {
            return misuse(F, "data is NULL");
        }
        if size > isize::MAX as usize {
            return misuse(F, &format!("size {size} is larger than any buffer"));
        }
        if lens.is_null() && n > 0 {
            return misuse(F, "lens is NULL");
        }
        // SAFETY: the caller passes size readable bytes and n lengths.
        let (data, lens) = unsafe { (slice(data.cast::<u8>(), size), slice(lens, n.min(COUNT_MAX) as usize)) };
        let r = t.send_packed(data, lens);
        if let Ok(sent) = r {
            stopped_at(F, sent, lens.iter().copied(), t.max_len());
        }
        counted(F, r)
    })
}

/// After a batch send queued `sent` packets: when it stopped before a packet
/// of a length it never sends (0, or over `max`), says so, as `xsk_rs_tx_put`
/// does; a batch cut short by room alone leaves no message.
#[inline(always)]
fn stopped_at(func: &str, sent: usize, mut lens: impl Iterator<Item = u32>, max: usize) {
    match lens.nth(sent) {
        Some(len) if len == 0 || len as usize > max => stopped(func, sent, len, max),
        _ => {}
    }
}

#[cold]
fn stopped(func: &str, i: usize, len: u32, max: usize) {
    set_last_error(format!(
        "{func}: packet {i} is {len} bytes; a packet has 1 to {max} bytes here (the frame, and what the \
         interface's MTU allows); queued the {i} before it"
    ));
}

/// Waits until a descriptor with a free frame can be reserved (one is
/// reserved already, or a frame is free or completed and the TX ring has
/// room), driving the kernel's sending meanwhile so that sent frames come
/// back. Returns 1 when there is room, 0 when `timeout_ms` passed first
/// (never earlier; signals do not end the wait), -EINVAL for a NULL `tx`,
/// or a negative errno from poll(2). `timeout_ms` 0 only looks; negative
/// waits without limit. Blocks; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_wait(tx: *mut xsk_rs_txsock, timeout_ms: c_int) -> c_int {
    const F: &str = "xsk_rs_txsock_wait";
    ffi_guard!({
        match unsafe { try_mut(tx) } {
            Some(t) => t.poll_wait(timeout(timeout_ms)).map_or_else(|e| fail(F, e), c_int::from),
            None => misuse(F, "tx is NULL"),
        }
    })
}

// ---- RX ----

/// Finds received packets, until `n` are found and not yet committed, if
/// that many arrived. Returns how many are found now (counting any found
/// before; fewer than `n`, 0 too, when fewer arrived: not an error;
/// `xsk_rs_rxsock_wait` waits for packets). Read them with
/// `xsk_rs_rxsock_peek`, give their frames back with `xsk_rs_rxsock_commit`.
/// -EINVAL for a NULL `rx`. Makes a syscall only when nothing arrived and
/// the kernel asks to be woken for the fill ring; `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_seek(rx: *mut xsk_rs_rxsock, n: u32) -> c_int {
    const F: &str = "xsk_rs_rxsock_seek";
    ffi_guard!({
        match unsafe { try_mut(rx) } {
            Some(r) => counted(F, r.seek_n(n.min(COUNT_MAX) as usize)),
            None => misuse(F, "rx is NULL"),
        }
    })
}

/// The `i`-th packet found and not yet committed (0 is the oldest), read in
/// place: `pkt->data` points into the socket's frame, owned by the library
/// and valid until that packet is committed (or released) or `rx` is
/// destroyed. Returns 0, or -EINVAL (NULL `rx` or `pkt`, or `i` past what
/// `xsk_rs_rxsock_seek` found), with `*pkt` untouched. `pkt->options` is
/// `XSK_RS_DESC_CONTD` when the packet goes on in the `i + 1`-th
/// (multi-buffer sockets only). No syscall; `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_peek(rx: *mut xsk_rs_rxsock, i: u32, pkt: *mut xsk_rs_pkt) -> c_int {
    const F: &str = "xsk_rs_rxsock_peek";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut(rx) }) else { return misuse(F, "rx is NULL") };
        if pkt.is_null() {
            return misuse(F, "pkt is NULL");
        }
        let options = match r.is_continued(i as usize) {
            Ok(c) => u32::from(c) * crate::ring::XDP_PKT_CONTD,
            Err(e) => return fail(F, e),
        };
        match r.peek_at(i as usize) {
            Ok(p) => {
                unsafe { pkt.write(xsk_rs_pkt { data: p.as_ptr(), len: p.len() as u32, options }) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Gives the frames of the first `n` packets found back to the kernel, which
/// receives into them again; pointers to those packets become invalid.
/// Returns 0, or -EINVAL, giving back nothing: NULL `rx`, or fewer than `n`
/// found. No syscall; `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_commit(rx: *mut xsk_rs_rxsock, n: u32) -> c_int {
    const F: &str = "xsk_rs_rxsock_commit";
    ffi_guard!({
        match unsafe { try_mut(rx) } {
            Some(r) => status(F, r.commit_n(n as usize)),
            None => misuse(F, "rx is NULL"),
        }
    })
}

/// Up to `max` received packets read in place (zero copy), into
/// `pkts[0..count)`, oldest first: `xsk_rs_rxsock_seek(rx, max)`, then
/// `xsk_rs_rxsock_peek` of each. On a multi-buffer socket the entries are
/// frames, and only whole packets are handed out: a packet longer than a
/// frame takes several entries, each but its last with `XSK_RS_DESC_CONTD`
/// in `options`; the call never stops inside a packet (it returns fewer),
/// and a first packet of more than `max` frames is -ENOBUFS. The bytes are the library's and stay valid
/// until `xsk_rs_rxsock_release` gives them back; until then a second call
/// returns the same packets first. Returns how many, 0 when nothing arrived
/// (not an error). -EINVAL for a NULL `rx`, or a NULL `pkts` with `max`
/// above 0 (`pkts` untouched), or for a received descriptor outside the RX
/// frames (the RX ring was overwritten; the entries before it are written).
/// -EBADFD in a forked child that inherited `rx`. `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_recv_batch(rx: *mut xsk_rs_rxsock, pkts: *mut xsk_rs_pkt, max: u32) -> c_int {
    const F: &str = "xsk_rs_rxsock_recv_batch";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut(rx) }) else { return misuse(F, "rx is NULL") };
        if pkts.is_null() && max > 0 {
            return misuse(F, "pkts is NULL");
        }
        let max = max.min(COUNT_MAX) as usize;
        let n = match r.seek_whole(max) {
            Ok(n) => n,
            Err(e) => return fail(F, e),
        };
        // SAFETY: the caller passes room for max entries; n <= max.
        let out = unsafe { slice_mut(pkts, n) };
        // found_packets checks each descriptor as it hands it out: a failure
        // (an RX ring overwritten behind the kernel's back) leaves the
        // entries before it written.
        match r.found_packets(n, |i, data, len, options| out[i] = xsk_rs_pkt { data, len, options }) {
            Ok(()) => count(n),
            Err(e) => fail(F, e),
        }
    })
}

/// The next received packet in place, as its segments: one per frame it
/// spans (more than one only on a multi-buffer socket, `multi_buffer` 1, for
/// a packet longer than a frame), written to `segs[0..]` in order. Returns
/// how many segments (> 0), 0 when no whole packet arrived (not an error).
/// The bytes stay valid until `xsk_rs_rxsock_release(rx, count)` gives all
/// its frames back together. -ENOBUFS with a message naming how many it
/// needs when `max_segs` is too few (the packet stays for the next call),
/// -EBUSY while packets found earlier are held (as `xsk_rs_rxsock_recv`),
/// -EINVAL for a NULL `rx` or `segs`. `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_recv_packet(rx: *mut xsk_rs_rxsock, segs: *mut xsk_rs_pkt, max_segs: u32) -> c_int {
    const F: &str = "xsk_rs_rxsock_recv_packet";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut(rx) }) else { return misuse(F, "rx is NULL") };
        if segs.is_null() {
            return misuse(F, "segs is NULL");
        }
        let n = match r.seek_packet(max_segs as usize) {
            Ok(n) => n,
            Err(e) => return fail(F, e),
        };
        // SAFETY: the caller passes room for max_segs entries; n <= max_segs.
        let out = unsafe { slice_mut(segs, n) };
        match r.found_packets(n, |i, data, len, options| out[i] = xsk_rs_pkt { data, len, options }) {
            Ok(()) => count(n),
            Err(e) => fail(F, e),
        }
    })
}

/// Gives back the first `n` packets found (by `xsk_rs_rxsock_recv_batch` or
/// `xsk_rs_rxsock_seek`): the same as `xsk_rs_rxsock_commit`, under the name
/// that pairs with recv_batch. Returns 0 or -EINVAL (giving back nothing).
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_release(rx: *mut xsk_rs_rxsock, n: u32) -> c_int {
    const F: &str = "xsk_rs_rxsock_release";
    ffi_guard!({
        match unsafe { try_mut(rx) } {
            Some(r) => status(F, r.commit_n(n as usize)),
            None => misuse(F, "rx is NULL"),
        }
    })
}

/// Copies the next received packet into `buf` and gives its frame back.
/// Returns the packet's length (> 0; when it is over `cap`, only `cap` bytes
/// were copied), 0 when nothing arrived (not an error), -EBUSY while packets
/// found by `xsk_rs_rxsock_seek` or `xsk_rs_rxsock_recv_batch` are not yet
/// committed or released (their pointers stay valid until then, so they are
/// not taken), or -EINVAL for a NULL `rx`, or a NULL `buf` with `cap` above 0
/// (`buf` NULL with `cap` 0 drops the packet and returns its length). `rx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_recv(rx: *mut xsk_rs_rxsock, buf: *mut c_void, cap: u32) -> c_int {
    const F: &str = "xsk_rs_rxsock_recv";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut(rx) }) else { return misuse(F, "rx is NULL") };
        if buf.is_null() && cap > 0 {
            return misuse(F, "buf is NULL");
        }
        // SAFETY: the caller passes cap writable bytes.
        let buf = unsafe { slice_mut(buf.cast::<u8>(), cap as usize) };
        if let Err(e) = r.check_none_held("copying receive") {
            return fail(F, e);
        }
        match r.recv(buf) {
            Ok(Some(len)) => count(len),
            Ok(None) => 0,
            Err(e) => fail(F, e),
        }
    })
}

/// Copies up to `max` received packets end to end into `buf` (`size`
/// bytes), the `i`-th's length into `lens[i]`, and gives their frames back.
/// Returns how many (0 when nothing arrived). It stops before a packet that
/// does not fit in what is left of `buf`, which stays for the next call,
/// unless it is the first: that one is copied cut to `size` bytes, and its
/// `lens[0]` is its full length. -EBUSY while packets found by seek or
/// recv_batch are not yet committed or released (as `xsk_rs_rxsock_recv`).
/// -EINVAL for a NULL `rx`, a NULL `buf` with `size` above 0, a `size` above
/// `SSIZE_MAX`, or a NULL `lens` with `max` above 0. `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_recv_packed(
    rx: *mut xsk_rs_rxsock,
    buf: *mut c_void,
    size: usize,
    lens: *mut u32,
    max: u32,
) -> c_int {
    const F: &str = "xsk_rs_rxsock_recv_packed";
    ffi_guard!({
        let Some(r) = (unsafe { try_mut(rx) }) else { return misuse(F, "rx is NULL") };
        if buf.is_null() && size > 0 {
            return misuse(F, "buf is NULL");
        }
        if size > isize::MAX as usize {
            return misuse(F, &format!("size {size} is larger than any buffer"));
        }
        if lens.is_null() && max > 0 {
            return misuse(F, "lens is NULL");
        }
        // SAFETY: the caller passes size writable bytes and room for max lengths.
        let (buf, lens) = unsafe { (slice_mut(buf.cast::<u8>(), size), slice_mut(lens, max.min(COUNT_MAX) as usize)) };
        if let Err(e) = r.check_none_held("copying receive") {
            return fail(F, e);
        }
        counted(F, r.recv_packed(buf, lens))
    })
}

/// Waits until a packet has arrived (or one is found and not yet
/// committed). Returns 1 when one is ready, 0 when `timeout_ms` passed first
/// (never earlier; signals do not end the wait), -EINVAL for a NULL `rx`, or
/// a negative errno from poll(2). `timeout_ms` 0 only looks; negative waits
/// without limit. Blocks; `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_wait(rx: *mut xsk_rs_rxsock, timeout_ms: c_int) -> c_int {
    const F: &str = "xsk_rs_rxsock_wait";
    ffi_guard!({
        match unsafe { try_mut(rx) } {
            Some(r) => r.poll_wait(timeout(timeout_ms)).map_or_else(|e| fail(F, e), c_int::from),
            None => misuse(F, "rx is NULL"),
        }
    })
}

// ---- Both halves ----
//
// The getters take a const handle but still count as calls on the half: one
// thread at a time, the half's own.

/// The socket's fd, for poll/epoll (shared by both halves of a bi socket;
/// owned by the library: do not close it). -EINVAL for a NULL `tx`. `tx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_fd(tx: *const xsk_rs_txsock) -> c_int {
    ffi_guard!({ half(tx.cast_mut(), "xsk_rs_txsock_fd", |t| t.fd()) })
}

/// The socket's fd, as `xsk_rs_txsock_fd`.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_fd(rx: *const xsk_rs_rxsock) -> c_int {
    ffi_guard!({ half(rx.cast_mut(), "xsk_rs_rxsock_fd", |r| r.fd()) })
}

/// Reads the kernel's counters for the socket (shared by both halves) into
/// `*out`, written only on success. Returns 0, -EINVAL (NULL `tx` or `out`),
/// -EBADFD (inherited by fork) or another negative errno. `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_stats(tx: *const xsk_rs_txsock, out: *mut xsk_rs_stats) -> c_int {
    const F: &str = "xsk_rs_txsock_stats";
    ffi_guard!({
        match unsafe { try_mut(tx.cast_mut()) } {
            Some(t) => write_stats(F, t.stats(), out),
            None => misuse(F, "tx is NULL"),
        }
    })
}

/// The socket's counters, as `xsk_rs_txsock_stats`.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_stats(rx: *const xsk_rs_rxsock, out: *mut xsk_rs_stats) -> c_int {
    const F: &str = "xsk_rs_rxsock_stats";
    ffi_guard!({
        match unsafe { try_mut(rx.cast_mut()) } {
            Some(r) => write_stats(F, r.stats(), out),
            None => misuse(F, "rx is NULL"),
        }
    })
}

fn write_stats(func: &str, st: Result<crate::socket::Stats>, out: *mut xsk_rs_stats) -> c_int {
    if out.is_null() {
        return misuse(func, "out is NULL");
    }
    match st {
        Ok(st) => {
            unsafe { out.write(st.into()) };
            0
        }
        Err(e) => fail(func, e),
    }
}

/// TX frames free to reserve now (frames the kernel has finished sending
/// count once `xsk_rs_txsock_seek` or `xsk_rs_txsock_wait` takes them back).
/// With `xsk_rs_txsock_reserved_frames` and `xsk_rs_txsock_in_flight_frames`,
/// every TX frame: free + reserved + in flight = `tx_frames`. -EINVAL for a NULL
/// `tx`. No syscall; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_free_frames(tx: *const xsk_rs_txsock) -> c_int {
    ffi_guard!({ half(tx.cast_mut(), "xsk_rs_txsock_free_frames", |t| count(t.free_frames())) })
}

/// TX frames reserved by `xsk_rs_txsock_seek` or `xsk_rs_txsock_alloc` and
/// not yet committed or submitted (a later seek, alloc or send uses them
/// first). -EINVAL for a NULL `tx`. No syscall; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_reserved_frames(tx: *const xsk_rs_txsock) -> c_int {
    ffi_guard!({ half(tx.cast_mut(), "xsk_rs_txsock_reserved_frames", |t| count(t.reserved_frames())) })
}

/// TX frames handed to the kernel and not yet taken back: on the TX ring,
/// being sent, or on the completion ring. -EINVAL for a NULL `tx`. No
/// syscall; `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_in_flight_frames(tx: *const xsk_rs_txsock) -> c_int {
    ffi_guard!({ half(tx.cast_mut(), "xsk_rs_txsock_in_flight_frames", |t| count(t.in_flight_frames())) })
}

/// The longest packet the TX half sends: the frame size, or less when the
/// interface's MTU (read at creation) plus 18 bytes of Ethernet header and
/// VLAN tag is smaller. On a multi-buffer socket (`multi_buffer` 1), the MTU
/// plus 18 (`xsk_rs_txsock_send` sends a longer packet as a chain of frames,
/// at most 17), while `peek` and `alloc` still give one frame.
/// -EINVAL for a NULL `tx`. `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_max_len(tx: *const xsk_rs_txsock) -> c_int {
    ffi_guard!({ half(tx.cast_mut(), "xsk_rs_txsock_max_len", |t| count(t.max_len())) })
}

/// RX frames neither lent to the kernel nor held by the caller (normally 0:
/// every free frame is lent at once). free + held + in flight =
/// `rx_frames`. -EINVAL for a NULL `rx`. No syscall; `rx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_free_frames(rx: *const xsk_rs_rxsock) -> c_int {
    ffi_guard!({ half(rx.cast_mut(), "xsk_rs_rxsock_free_frames", |r| count(r.free_frames())) })
}

/// RX frames lent to the kernel: on the fill ring, being received into, or
/// on the RX ring not yet found. -EINVAL for a NULL `rx`. No syscall; `rx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_in_flight_frames(rx: *const xsk_rs_rxsock) -> c_int {
    ffi_guard!({ half(rx.cast_mut(), "xsk_rs_rxsock_in_flight_frames", |r| count(r.in_flight_frames())) })
}

/// RX frames holding packets found (by seek or recv_batch) and not yet
/// committed or released. -EINVAL for a NULL `rx`. No syscall; `rx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_held_frames(rx: *const xsk_rs_rxsock) -> c_int {
    ffi_guard!({ half(rx.cast_mut(), "xsk_rs_rxsock_held_frames", |r| count(r.held_frames())) })
}

/// The XDP mode steering the socket's queue: `XSK_RS_XDP_MODE_SKB` or
/// `XSK_RS_XDP_MODE_DRV`, or `XSK_RS_XDP_MODE_NONE` when the library
/// attached nothing (a TX-only socket, or mode NONE), as
/// `xsk_rs_socket_xdp_mode`. -EINVAL for a NULL `tx`. `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_xdp_mode(tx: *const xsk_rs_txsock) -> c_int {
    ffi_guard!({ half(tx.cast_mut(), "xsk_rs_txsock_xdp_mode", |t| t.xdp_mode() as c_int) })
}

/// The XDP mode, as `xsk_rs_txsock_xdp_mode`.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_xdp_mode(rx: *const xsk_rs_rxsock) -> c_int {
    ffi_guard!({ half(rx.cast_mut(), "xsk_rs_rxsock_xdp_mode", |r| r.xdp_mode() as c_int) })
}

/// 1 if the socket runs in zero-copy mode, 0 in copy mode; -EINVAL for a
/// NULL `tx`, -EBADFD (inherited by fork) or another negative errno. `tx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_is_zerocopy(tx: *const xsk_rs_txsock) -> c_int {
    const F: &str = "xsk_rs_txsock_is_zerocopy";
    ffi_guard!({ half(tx.cast_mut(), F, |t| t.is_zerocopy().map_or_else(|e| fail(F, e), c_int::from)) })
}

/// Zero-copy or not, as `xsk_rs_txsock_is_zerocopy`.
#[no_mangle]
pub extern "C" fn xsk_rs_rxsock_is_zerocopy(rx: *const xsk_rs_rxsock) -> c_int {
    const F: &str = "xsk_rs_rxsock_is_zerocopy";
    ffi_guard!({ half(rx.cast_mut(), F, |r| r.is_zerocopy().map_or_else(|e| fail(F, e), c_int::from)) })
}

/// A half's handle, and how a NULL one is named in a message.
trait Half: super::handle::CastableMut {
    const NULL: &'static str;
}

impl Half for xsk_rs_txsock {
    const NULL: &'static str = "tx is NULL";
}

impl Half for xsk_rs_rxsock {
    const NULL: &'static str = "rx is NULL";
}

/// `f` of the half behind `p`, or -EINVAL for NULL. The `&mut` is sound by
/// the header's one-thread-at-a-time rule for a half.
#[inline(always)]
fn half<C: Half>(p: *mut C, func: &str, f: impl FnOnce(&mut C::RustType) -> c_int) -> c_int {
    match unsafe { try_mut(p) } {
        Some(h) => f(h),
        None => misuse(func, C::NULL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The struct has no padding, and init's defaults read back as
    /// `XdpConfig::default()` resolves.
    #[test]
    fn config_defaults_are_the_rust_defaults() {
        assert_eq!(std::mem::size_of::<xsk_rs_xdp_config>(), 88);
        // huge_page_fallback took the old `reserved` word (0: no fallback); the new fields follow.
        assert_eq!(std::mem::offset_of!(xsk_rs_xdp_config, huge_page_fallback), 60);
        let c = XdpConfig::try_from(xsk_rs_xdp_config::defaults()).unwrap();
        let d = XdpConfig::default();
        for dir in [Direction::Tx, Direction::Rx, Direction::Both] {
            assert_eq!(c.plan(dir).unwrap(), d.plan(dir).unwrap(), "{dir:?}");
        }
        // 0 is the default for the frames and sizes too.
        let zeros = xsk_rs_xdp_config { rx_frames: 0, tx_frames: 0, frame_size: 0, ..xsk_rs_xdp_config::defaults() };
        assert_eq!(
            XdpConfig::try_from(zeros).unwrap().plan(Direction::Both).unwrap(),
            d.plan(Direction::Both).unwrap()
        );
    }

    #[test]
    fn config_flags_are_checked() {
        let d = xsk_rs_xdp_config::defaults();
        let ok = |c: xsk_rs_xdp_config| XdpConfig::try_from(c).unwrap();
        let bad = |c: xsk_rs_xdp_config| XdpConfig::try_from(c).unwrap_err().to_string();
        assert_eq!(ok(xsk_rs_xdp_config { zero_copy: 0, ..d }).zero_copy, Some(false));
        assert_eq!(ok(xsk_rs_xdp_config { zero_copy: 1, ..d }).zero_copy, Some(true));
        assert_eq!(ok(xsk_rs_xdp_config { need_wakeup: 0, ..d }).need_wakeup, Some(false));
        assert!(bad(xsk_rs_xdp_config { zero_copy: 2, ..d }).contains("zero_copy is 2"));
        assert!(bad(xsk_rs_xdp_config { need_wakeup: -1, ..d }).contains("need_wakeup is -1"));
        assert!(bad(xsk_rs_xdp_config { huge_page: 7, ..d }).contains("huge_page is 7"));
        assert!(bad(xsk_rs_xdp_config { xdp_mode: 9, ..d }).contains("XDP mode 9"));
        assert!(bad(xsk_rs_xdp_config { huge_page_fallback: 2, ..d }).contains("huge_page_fallback is 2"));
        assert!(bad(xsk_rs_xdp_config { prefer_busy_poll: 3, ..d }).contains("prefer_busy_poll is 3"));
        let c = ok(xsk_rs_xdp_config {
            huge_page: 1,
            huge_page_fallback: 1,
            busy_poll_usecs: 20,
            busy_poll_budget: 64,
            prefer_busy_poll: 1,
            ..d
        });
        let plan = c.plan(Direction::Both).unwrap();
        assert_eq!(plan.pages, crate::umem::Pages::HugeOrBase);
        assert_eq!(plan.sock.busy_poll, crate::socket::BusyPoll { usecs: 20, budget: 64, prefer: true });
        let lone = ok(xsk_rs_xdp_config { huge_page_fallback: 1, ..d }).plan(Direction::Both).unwrap_err();
        assert!(lone.to_string().contains("huge_page_fallback without huge_page"), "{lone}");
        assert!(bad(xsk_rs_xdp_config { tx_metadata: 4, ..d }).contains("tx_metadata is 0x4"));
        assert!(bad(xsk_rs_xdp_config { multi_buffer: 2, ..d }).contains("multi_buffer is 2"));
        assert!(bad(xsk_rs_xdp_config { short_frames: 2, ..d }).contains("short_frames is 2"));
        assert_eq!(ok(xsk_rs_xdp_config { short_frames: 1, ..d }).short_frames, Some(true));
        // short_frames took the old `reserved` word: the struct's last 4 bytes.
        assert_eq!(std::mem::offset_of!(xsk_rs_xdp_config, short_frames), 84);
        let p = ok(xsk_rs_xdp_config { short_frames: 1, ..d }).plan(Direction::Rx).unwrap();
        assert_ne!(p.sock.bind_flags & crate::socket::BIND_SHORT_FRAMES, 0);
    }
}
