//! Sending with TX metadata: a checksum offload request or a completion
//! timestamp per packet ([`TxSocket::send_with`]), on a socket created with
//! [`crate::XdpConfig::tx_metadata`].
//!
//! The TX half's descriptors then point `tx_metadata_len` bytes into their
//! frames (the kernel wants that room in front of every TX packet of such a
//! UMEM); a plain send leaves the options 0 and the kernel reads no metadata.

use super::socket::{Shared, TxSocket};
use crate::error::{Error, Result};
use crate::netdev::Capabilities;
use crate::umem::tx_metadata::{Offloads, TxMetadata, TXMD_TIMESTAMP, XDP_TX_METADATA};
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::Arc;

/// What to ask of the kernel and driver for one packet
/// ([`TxSocket::send_with`]).
///
/// ```no_run
/// use xsk_rs::{create_tx_socket_by_name, TxOptions, XdpConfig};
/// # fn main() -> std::io::Result<()> {
/// let cfg = XdpConfig { tx_metadata: Some(true), ..Default::default() };
/// let mut tx = create_tx_socket_by_name("veth0", 0, Some(cfg))?;
/// # let frame = [0u8; 60];
/// // A UDP/IPv4 frame (14 + 20 bytes of headers) whose checksum field holds
/// // the pseudo-header sum: the kernel or the device finishes it.
/// let opts = TxOptions { checksum: Some((34, 6)), timestamp: true, ..Default::default() };
/// tx.send_with(&frame, None, &opts)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxOptions {
    /// `(csum_start, csum_offset)`: the L4 checksum over the bytes from
    /// `csum_start` (counted from the packet's first byte) to the end, stored
    /// at `csum_start + csum_offset`. The field must hold the pseudo-header
    /// sum, not inverted ([`crate::umem::tx_metadata::pseudo_header_sum_ipv4`]), as for
    /// any `CHECKSUM_PARTIAL` packet.
    pub checksum: Option<(u16, u16)>,
    /// A completion timestamp, collected by [`TxSocket::take_timestamps`]
    /// (copy mode: a software `CLOCK_TAI` time, taken when the kernel is
    /// done with the packet).
    pub timestamp: bool,
    /// A launch time in the device clock's nanoseconds: only in zero-copy
    /// mode on a device whose `xsk-features` has `tx-launch-time-fifo`;
    /// elsewhere `EOPNOTSUPP` (see [`crate::umem::tx_metadata::offloads`]).
    pub launch_time: Option<u64>,
}

impl TxOptions {
    /// The request these options make.
    pub fn metadata(&self) -> TxMetadata {
        let mut m = TxMetadata::new();
        if let Some((start, offset)) = self.checksum {
            m.request_checksum(start, offset);
        }
        if self.timestamp {
            m.request_timestamp();
        }
        if let Some(t) = self.launch_time {
            m.request_launch_time(t);
        }
        m
    }
}

/// A TX half's metadata state.
pub(crate) struct TxMeta {
    /// `tx_metadata_len` of the UMEM: 0 without metadata.
    pub len: u32,
    /// The `TXMD_*` offloads this socket's mode (and, in zero-copy mode, its
    /// device) carries out.
    offloads: Offloads,
    /// Packets sent with a timestamp request and not yet completed.
    pub ts_pending: u32,
    /// Completion timestamps, in completion order.
    timestamps: VecDeque<u64>,
}

impl TxMeta {
    pub(super) fn new(shared: &Arc<Shared>) -> TxMeta {
        let len = shared.umem().tx_metadata_len();
        let zerocopy = shared.sock.is_zerocopy().unwrap_or(true);
        // In zero-copy mode the driver carries out the requests and silently
        // ignores those it lacks: only what its xsk-features list is accepted
        // (none when the kernel does not say). Asked once, at creation, and
        // only for a zero-copy socket with metadata.
        let driver = (zerocopy && len > 0)
            .then(|| Capabilities::query(shared.sock.ifname()).ok()?.xsk_features.map(|f| f.0))
            .flatten();
        TxMeta { len, offloads: Offloads { zerocopy, driver }, ts_pending: 0, timestamps: VecDeque::new() }
    }

    /// Takes the timestamps of the frames at descriptor addresses `addrs`,
    /// just completed, that asked for one, and clears their requests.
    ///
    /// # Safety
    /// The frames are this half's and back from the kernel; `area` is the
    /// UMEM's.
    pub(super) unsafe fn collect(&mut self, area: NonNull<u8>, addrs: &[u64]) {
        for &a in addrs {
            let m = &mut *area.as_ptr().add((a - self.len as u64) as usize).cast::<TxMetadata>();
            if m.flags & TXMD_TIMESTAMP != 0 {
                self.timestamps.push_back(m.tx_timestamp());
                m.flags = 0;
                self.ts_pending = self.ts_pending.saturating_sub(1);
            }
        }
    }
}

impl TxSocket {
    /// As [`crate::SendExt::send`], with a request to the kernel and driver
    /// in the packet's TX metadata: `Ok(true)` queued, `Ok(false)` no room.
    ///
    /// `EINVAL` on a socket created without
    /// [`crate::XdpConfig::tx_metadata`], or for a checksum field past the
    /// packet's end; `EOPNOTSUPP` for what this socket's mode cannot do
    /// ([`Self::tx_offloads`]): copy mode does checksums and completion
    /// timestamps, no launch time; zero-copy mode what the device's
    /// `xsk-features` list (the driver would ignore the rest, silently), with
    /// a message naming what it lacks.
    pub fn send_with(&mut self, data: &[u8], header: Option<&[u8]>, opts: &TxOptions) -> Result<bool> {
        let h = header.unwrap_or_default();
        let len = h.len() + data.len();
        if len == 0 || len > self.max_len() {
            return Err(self.bad_len("send_with", 0, len));
        }
        let meta = opts.metadata();
        if self.half.meta.len == 0 {
            return Err(Error::invalid(format!(
                "send_with on {} queue {}: the socket has no tx metadata; create it with tx_metadata",
                self.ifname(),
                self.queue_id()
            )));
        }
        meta.check(len as u32, self.half.meta.offloads, &|| {
            format!("send_with on {} queue {}", self.ifname(), self.queue_id())
        })?;
        self.check_no_written("send_with")?;
        if self.seek()? == 0 {
            return Ok(false);
        }
        let buf = self.peek(len)?;
        buf[..h.len()].copy_from_slice(h);
        buf[h.len()..].copy_from_slice(data);
        // The metadata goes right in front of the packet, in the same frame:
        // derive its place from the buffer `peek` validated (one of this
        // half's frames, `off` bytes into it), never from the slot's `addr`
        // again, which anything mapping the TX ring can rewrite meanwhile.
        let pkt = buf.as_mut_ptr();
        let off = self.half.meta.len as usize;
        let area = self.half.area_ptr().as_ptr();
        // `peek` hands out only packets `off` bytes into a frame of the area
        // (frames lie at multiples of the frame size, a power of two), so
        // this holds; checked, as the write's bounds rest on it.
        let into = (pkt as usize).wrapping_sub(area as usize);
        let frame = self.frame_size();
        if into < off || (into - off) & (frame - 1) != 0 {
            return Err(Error::invalid(format!(
                "send_with on {} queue {}: the packet buffer is {into} bytes into the umem, not {off} bytes (the \
                 tx metadata's room) past the start of a {frame}-byte frame",
                self.ifname(),
                self.queue_id()
            )));
        }
        let first = self.half.first;
        let slot = self.ring().slot(first);
        // SAFETY: `pkt - off` is the start of the validated frame (checked to
        // lie in the area above), and the metadata's `off` >= 24 bytes lie in
        // front of the packet in that frame. The slot is reserved and not
        // yet submitted: the kernel reads neither it nor the frame.
        unsafe {
            pkt.sub(off).cast::<TxMetadata>().write_unaligned(meta);
            (*slot).options = XDP_TX_METADATA;
        }
        if opts.timestamp {
            self.half.meta.ts_pending += 1;
        }
        self.commit_and_kick(1)?;
        Ok(true)
    }

    /// The `TXMD_*` offloads ([`crate::umem::tx_metadata`]) that [`Self::send_with`]
    /// accepts on this socket; 0 without TX metadata.
    pub fn tx_offloads(&self) -> u64 {
        if self.half.meta.len == 0 {
            0
        } else {
            self.half.meta.offloads.bits()
        }
    }

    /// Moves the completion timestamps of packets sent with
    /// [`TxOptions::timestamp`] that the kernel has finished with into
    /// `out`, as many as fit, in the order they were sent (first taking back
    /// completed frames); returns how many. The rest, and those of packets
    /// still in flight, come with later calls.
    pub fn take_timestamps(&mut self, out: &mut [u64]) -> usize {
        self.reclaim_completed();
        let ts = &mut self.half.meta.timestamps;
        let n = ts.len().min(out.len());
        for (o, t) in out.iter_mut().zip(ts.drain(..n)) {
            *o = t;
        }
        n
    }

    /// Packets sent with a timestamp request whose timestamp has not been
    /// collected yet.
    pub fn pending_timestamps(&self) -> usize {
        self.half.meta.ts_pending as usize
    }
}
