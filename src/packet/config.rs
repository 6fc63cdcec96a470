//! What a packet-layer socket is made of: [`XdpConfig`], and the geometry it
//! resolves to (UMEM, rings, and which frames each half owns), checked so that
//! no frame can be stranded.

use crate::error::{Error, Result};
use crate::socket::{BusyPoll, SocketConfig, BIND_COPY, BIND_NEED_WAKEUP, BIND_SG, BIND_SHORT_FRAMES, BIND_ZEROCOPY};
use crate::umem::tx_metadata::TX_METADATA_LEN;
use crate::umem::{Pages, UmemConfig, DEFAULT_FRAMES, MAX_LEND};
use crate::xdp::XdpMode;

/// Which halves of a socket to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Send only: a [`crate::TxSocket`].
    Tx,
    /// Receive only: a [`crate::RxSocket`].
    Rx,
    /// Both, over one AF_XDP socket and one UMEM.
    Both,
}

impl Direction {
    pub(crate) fn has_tx(self) -> bool {
        matches!(self, Direction::Tx | Direction::Both)
    }

    pub(crate) fn has_rx(self) -> bool {
        matches!(self, Direction::Rx | Direction::Both)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Direction::Tx => "tx",
            Direction::Rx => "rx",
            Direction::Both => "bi",
        }
    }
}

/// How to create a packet-layer socket. Every field is optional: `None` takes
/// the default, and `XdpConfig::default()` (or passing `None` for the whole
/// config) gives a working socket. Build one as
/// `XdpConfig { rx_frames: Some(1024), ..Default::default() }`.
///
/// The ring sizes follow from the frame counts; set them only to make a ring
/// larger. A geometry that could strand frames (a frame the kernel holds in no
/// ring, or one that cannot be lent) is refused at creation, naming the rule.
///
/// ```no_run
/// use xsk_rs::{create_bi_socket_by_name, xdp::XdpMode, XdpConfig};
///
/// # fn main() -> std::io::Result<()> {
/// // 512 frames each way, native XDP, 2048-byte frames.
/// let config = XdpConfig {
///     rx_frames: Some(512),
///     tx_frames: Some(512),
///     frame_size: Some(2048),
///     xdp_mode: Some(XdpMode::Drv),
///     ..Default::default()
/// };
/// let (tx, rx) = create_bi_socket_by_name("eth0", 0, Some(config))?;
///
/// // An RX ring smaller than the RX frames could strand frames: refused.
/// let bad = XdpConfig { rx_frames: Some(512), rx_size: Some(256), ..Default::default() };
/// # drop((tx, rx));
/// let err = create_bi_socket_by_name("eth0", 0, Some(bad)).unwrap_err();
/// assert_eq!(err.errno(), libc::EINVAL); // "... rx ring of 256 entries is smaller than the 512 rx frames ..."
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpConfig {
    /// `Some(true)`: zero-copy mode (`XDP_ZEROCOPY`; creation fails where the
    /// driver lacks it, e.g. veth). `Some(false)`: copy mode (`XDP_COPY`).
    /// `None`: the kernel's choice, zero-copy where the driver has it.
    pub zero_copy: Option<bool>,
    /// `Some(true)`: the UMEM lives in huge pages (`MAP_HUGETLB`); creation
    /// fails, naming `vm.nr_hugepages`, when not enough are reserved.
    /// `None`/`Some(false)`: ordinary pages.
    pub huge_page: Option<bool>,
    /// `Some(true)` with `huge_page`: ordinary pages when too few huge pages
    /// are free (or the kernel has none), instead of failing
    /// ([`Pages::HugeOrBase`]). Without `huge_page` it is refused.
    pub huge_page_fallback: Option<bool>,
    /// `XDP_USE_NEED_WAKEUP` (default `Some(true)`): the kernel says when it
    /// needs a syscall, and [`crate::TxSocket::kick`] makes one only then.
    pub need_wakeup: Option<bool>,
    /// Bytes per frame, and so the longest packet: a power of two from 2048
    /// to the page size (default 4096).
    pub frame_size: Option<u32>,
    /// Bytes kept free before each received packet, after the kernel's own
    /// 256 (default 0).
    pub frame_headroom: Option<u32>,
    /// Frames the RX half owns, all lent to the kernel to receive into
    /// (default 4096). Ignored without an RX half.
    pub rx_frames: Option<u32>,
    /// Frames the TX half owns to send from (default 4096). Ignored without
    /// a TX half.
    pub tx_frames: Option<u32>,
    /// RX ring entries (default: `rx_frames` rounded up to a power of two;
    /// never fewer than `rx_frames`).
    pub rx_size: Option<u32>,
    /// TX ring entries (default: `tx_frames` rounded up to a power of two).
    pub tx_size: Option<u32>,
    /// Fill ring entries (default: twice the RX ring; never fewer than twice
    /// `rx_frames`, the lending rule of [`UmemConfig::fill_size`]).
    pub fill_size: Option<u32>,
    /// Completion ring entries (default: `tx_frames` rounded up to a power of
    /// two; never fewer than `tx_frames`).
    pub comp_size: Option<u32>,
    /// Which XDP program steers the queue to an RX half (default
    /// [`XdpMode::Auto`]; [`XdpMode::None`] attaches nothing, see
    /// [`crate::RxSocket::update_xskmap`]).
    pub xdp_mode: Option<XdpMode>,
    /// Most TX descriptors one kick sends in copy mode (default: the whole TX
    /// ring; see [`SocketConfig::tx_budget`]).
    pub tx_budget: Option<u32>,
    /// `SO_BUSY_POLL` on each half's socket, in µs (default: not set, the
    /// system's `net.core.busy_read`); see [`BusyPoll::usecs`].
    pub busy_poll_usecs: Option<u32>,
    /// `SO_BUSY_POLL_BUDGET` (default: not set, the kernel's 8); see
    /// [`BusyPoll::budget`].
    pub busy_poll_budget: Option<u32>,
    /// `SO_PREFER_BUSY_POLL` (default: not set); see [`BusyPoll::prefer`].
    pub prefer_busy_poll: Option<bool>,
    /// `Some(true)`: every TX frame carries TX metadata in front of its
    /// packet (24 bytes, `tx_metadata_len`; Linux 6.8, `EOPNOTSUPP` before),
    /// so that [`crate::TxSocket::send_with`] can ask for a checksum or a
    /// completion timestamp. The longest packet is 24 bytes shorter. Default
    /// off: plain sends cost the same either way.
    pub tx_metadata: Option<bool>,
    /// `Some(true)`: with `tx_metadata`, copy mode computes requested
    /// checksums in software at once (`XDP_UMEM_TX_SW_CSUM`, Linux 6.8),
    /// instead of leaving them to the device.
    pub tx_sw_csum: Option<bool>,
    /// `Some(true)`: multi-buffer (jumbo frames, Linux 6.6; `EOPNOTSUPP`
    /// naming the release before that). A packet longer than a frame arrives
    /// over several frames and is received as one: [`crate::RxSocket::recv`]
    /// gathers it into the caller's buffer, [`crate::RxSocket::recv_packet`]
    /// shows its segments in place; a packet longer than a frame is sent over
    /// several ([`crate::SendExt::send`]), all or nothing; such a packet
    /// needs as many TX frames and TX ring entries as it spans, and one
    /// needing more than the TX half has is refused (`EMSGSIZE`, naming the
    /// numbers). [`crate::RxSocket::recv_packed`] gathers each packet into
    /// one. The descriptor calls (`seek_n`, `peek_at`) see one frame at a
    /// time; [`crate::RxSocket::recv_batch`] holds whole packets only, as
    /// frames, each but a packet's last marked
    /// [`crate::RxBatch::is_continued`].
    ///
    /// Default `None`/`Some(false)`: one frame per packet. An RX half whose
    /// frame cannot hold what the interface's MTU delivers is then refused
    /// at creation (`EMSGSIZE`), naming the fixes: larger frames, this, or
    /// [`Self::short_frames`].
    pub multi_buffer: Option<bool>,
    /// `Some(true)`: accept an RX half whose frame cannot hold what the
    /// interface's MTU delivers, without multi-buffer
    /// ([`crate::socket::BIND_SHORT_FRAMES`]): the kernel drops every longer
    /// packet, counted only in `rx_dropped`. Default: such a socket is
    /// refused at creation (`EMSGSIZE`).
    pub short_frames: Option<bool>,
}

/// An [`XdpConfig`] resolved: the core's configs, and the frames of each half
/// (the RX half owns frames `0..rx_frames`, the TX half the next `tx_frames`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub umem: UmemConfig,
    pub sock: SocketConfig,
    pub rx_frames: u32,
    pub tx_frames: u32,
    pub pages: Pages,
    /// Index of the socket's first frame in the UMEM: its RX frames are the
    /// `rx_frames` from there, its TX frames the `tx_frames` after them (0
    /// on a UMEM of its own).
    pub first_frame: u32,
}

/// The ring size for a half without that direction: the kernel wants both
/// UMEM rings even on a one-way socket, and a tiny one costs nothing.
const UNUSED_RING: u32 = 16;

/// The next power of two at or above `n` (for n in 1..=MAX_LEND).
fn pow2(what: &str, n: u32) -> Result<u32> {
    if n == 0 || n > MAX_LEND {
        return Err(Error::invalid(format!("{what} {n}: give 1 to {MAX_LEND}")));
    }
    Ok(n.next_power_of_two())
}

impl XdpConfig {
    /// Resolves the defaults and checks the geometry for `direction`.
    pub(crate) fn plan(&self, direction: Direction) -> Result<Plan> {
        let rx_frames = if direction.has_rx() { self.rx_frames.unwrap_or(DEFAULT_FRAMES) } else { 0 };
        let tx_frames = if direction.has_tx() { self.tx_frames.unwrap_or(DEFAULT_FRAMES) } else { 0 };
        let rx_ring = if direction.has_rx() { pow2("rx_frames", rx_frames)? } else { 0 };
        let tx_ring = if direction.has_tx() { pow2("tx_frames", tx_frames)? } else { 0 };

        let rx_size = if direction.has_rx() { self.rx_size.unwrap_or(rx_ring) } else { 0 };
        let tx_size = if direction.has_tx() { self.tx_size.unwrap_or(tx_ring) } else { 0 };
        let fill_size = if direction.has_rx() { self.fill_size.unwrap_or(rx_ring * 2) } else { UNUSED_RING };
        let comp_size = if direction.has_tx() { self.comp_size.unwrap_or(tx_ring) } else { UNUSED_RING };
        if direction.has_rx() && rx_size < rx_frames {
            return Err(Error::invalid(format!(
                "rx ring of {rx_size} entries is smaller than the {rx_frames} rx frames: when the ring is full the \
                 kernel drops packets and keeps their frames in no ring; leave rx_size unset or give at least \
                 {rx_frames}"
            )));
        }
        if direction.has_rx() && (fill_size as u64) < 2 * rx_frames as u64 {
            return Err(Error::invalid(format!(
                "fill ring of {fill_size} entries cannot take all {rx_frames} rx frames: the kernel may need \
                 twice the frames lent (the lending rule); leave fill_size unset or give at least {}",
                2 * rx_frames as u64
            )));
        }
        if direction.has_tx() && comp_size < tx_frames {
            return Err(Error::invalid(format!(
                "completion ring of {comp_size} entries is smaller than the {tx_frames} tx frames: when it is \
                 full the kernel stops sending; leave comp_size unset or give at least {tx_frames}"
            )));
        }

        let mut bind_flags = 0;
        if self.need_wakeup.unwrap_or(true) {
            bind_flags |= BIND_NEED_WAKEUP;
        }
        if self.multi_buffer == Some(true) {
            bind_flags |= BIND_SG;
        }
        if self.short_frames == Some(true) {
            bind_flags |= BIND_SHORT_FRAMES;
        }
        match self.zero_copy {
            Some(true) => bind_flags |= BIND_ZEROCOPY,
            Some(false) => bind_flags |= BIND_COPY,
            None => {}
        }
        let frame_count = rx_frames.checked_add(tx_frames).ok_or_else(|| {
            Error::invalid(format!("rx_frames {rx_frames} + tx_frames {tx_frames} is more frames than a umem holds"))
        })?;
        let umem = UmemConfig {
            frame_count,
            frame_size: self.frame_size.unwrap_or(4096),
            frame_headroom: self.frame_headroom.unwrap_or(0),
            fill_size,
            comp_size,
            flags: if self.tx_sw_csum.unwrap_or(false) { crate::umem::UMEM_TX_SW_CSUM } else { 0 },
            tx_metadata_len: if self.tx_metadata.unwrap_or(false) { TX_METADATA_LEN } else { 0 },
        };
        umem.validate()?;
        let sock = SocketConfig {
            rx_size,
            tx_size,
            bind_flags,
            xdp_mode: self.xdp_mode.unwrap_or_default(),
            tx_budget: self.tx_budget.unwrap_or(0),
            busy_poll: BusyPoll {
                usecs: self.busy_poll_usecs.unwrap_or(0),
                budget: self.busy_poll_budget.unwrap_or(0),
                prefer: self.prefer_busy_poll.unwrap_or(false),
            },
        };
        sock.validate()?;
        let pages = match (self.huge_page.unwrap_or(false), self.huge_page_fallback.unwrap_or(false)) {
            (false, false) => Pages::Base,
            (true, false) => Pages::Huge,
            (true, true) => Pages::HugeOrBase,
            (false, true) => {
                return Err(Error::invalid(
                    "huge_page_fallback without huge_page: the fallback is to ordinary pages, which a umem \
                     without huge_page has already",
                ))
            }
        };
        Ok(Plan { umem, sock, rx_frames, tx_frames, pages, first_frame: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lend_every_frame() {
        let p = XdpConfig::default().plan(Direction::Both).unwrap();
        assert_eq!((p.rx_frames, p.tx_frames, p.umem.frame_count), (4096, 4096, 8192));
        assert_eq!((p.sock.rx_size, p.sock.tx_size, p.umem.fill_size, p.umem.comp_size), (4096, 4096, 8192, 4096));
        assert_eq!(p.sock.bind_flags, BIND_NEED_WAKEUP);
        let p = XdpConfig::default().plan(Direction::Tx).unwrap();
        assert_eq!((p.rx_frames, p.tx_frames, p.sock.rx_size, p.umem.fill_size), (0, 4096, 0, UNUSED_RING));
        let p = XdpConfig { rx_frames: Some(1000), ..Default::default() }.plan(Direction::Rx).unwrap();
        assert_eq!((p.sock.rx_size, p.umem.fill_size, p.sock.tx_size, p.umem.comp_size), (1024, 2048, 0, UNUSED_RING));
    }

    #[test]
    fn stranding_geometries_are_refused_by_name() {
        let err = |c: XdpConfig, d| c.plan(d).unwrap_err().to_string();
        let c = XdpConfig { rx_frames: Some(512), ..Default::default() };
        assert!(err(XdpConfig { rx_size: Some(256), ..c }, Direction::Rx).contains("rx ring of 256 entries"));
        assert!(err(XdpConfig { fill_size: Some(512), ..c }, Direction::Rx).contains("at least 1024"));
        let c = XdpConfig { tx_frames: Some(512), ..Default::default() };
        assert!(err(XdpConfig { comp_size: Some(256), ..c }, Direction::Tx).contains("completion ring of 256"));
        assert!(err(XdpConfig { tx_frames: Some(0), ..c }, Direction::Tx).contains("tx_frames 0"));
        assert!(err(XdpConfig { frame_size: Some(3000), ..c }, Direction::Tx).contains("frame size 3000"));
        // A smaller TX ring than frames strands nothing: frames wait in the free list.
        XdpConfig { tx_size: Some(64), ..c }.plan(Direction::Tx).unwrap();
        // Frames of a missing half are ignored.
        XdpConfig { rx_frames: Some(0), ..c }.plan(Direction::Tx).unwrap();
        let p = XdpConfig { zero_copy: Some(false), need_wakeup: Some(false), ..c }.plan(Direction::Tx).unwrap();
        assert_eq!(p.sock.bind_flags, BIND_COPY);
        let p = XdpConfig { short_frames: Some(true), multi_buffer: Some(true), ..c }.plan(Direction::Rx).unwrap();
        assert_eq!(p.sock.bind_flags, BIND_NEED_WAKEUP | BIND_SG | BIND_SHORT_FRAMES);
    }
}
