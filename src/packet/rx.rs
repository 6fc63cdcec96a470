//! The RX half: the RX ring and the fill ring.
//!
//! Every RX frame is lent to the kernel (fill ring, being received into, RX
//! ring) or held by the user between `seek` and `commit`; `commit` lends it
//! again at once. The fill ring has room for twice the frames (the lending
//! rule), so a frame never waits; the spare list holds any that did not fit.

use super::config::Plan;
use super::socket::{deadline, past_seek, Shared, Socket};
use crate::error::{Error, Result};
use crate::ring::{Desc, FillRing, RxRing};
use crate::umem::UMEM_UNALIGNED_CHUNKS;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// The RX half's state (see [`crate::RxSocket`]).
pub struct Rx {
    ring: NonNull<RxRing>,
    fill: NonNull<FillRing>,
    /// Ring index of the first entry found by seek and not yet committed.
    first: u32,
    /// Frames not lent to the kernel and not held by the user: empty unless
    /// the fill ring was short of room.
    spare: Vec<u64>,
    frames: u32,
    frame_size: u32,
    area: NonNull<u8>,
    /// The RX frames are bytes `rx_lo..rx_lo + rx_span` of the area.
    rx_lo: u64,
    rx_span: u64,
    /// Multi-buffer: a packet may take several descriptors.
    mb: bool,
}

// SAFETY: the rings behind `ring` and `fill` are used by this half only (see
// `Shared`), and the frames it reads through `area` are ones the kernel has
// handed to it.
unsafe impl Send for Rx {}

impl Rx {
    pub(super) fn new(shared: &Arc<Shared>, plan: &Plan) -> Rx {
        debug_assert_eq!(plan.umem.flags & UMEM_UNALIGNED_CHUNKS, 0);
        let fs = plan.umem.frame_size as u64;
        let rx_lo = plan.first_frame as u64 * fs;
        let mut rx = Rx {
            ring: NonNull::new(shared.sock.rx_ptr()).expect("an rx half's socket has an rx ring"),
            fill: NonNull::new(shared.sock.fill_ptr()).expect("a socket has a fill ring"),
            first: 0,
            spare: (0..plan.rx_frames as u64).map(|i| rx_lo + i * fs).collect(),
            frames: plan.rx_frames,
            frame_size: plan.umem.frame_size,
            area: NonNull::new(shared.umem().area()).expect("a umem has an area"),
            rx_lo,
            rx_span: plan.rx_frames as u64 * fs,
            // In force, not asked for: a socket on a shared umem runs with its
            // first socket's flags, so it may receive chains without asking.
            mb: shared.sock.bind_flags() & crate::socket::BIND_SG != 0,
        };
        rx.lend_spare();
        rx
    }

    /// Lends the spare frames to the fill ring, as many as fit.
    fn lend_spare(&mut self) {
        if self.spare.is_empty() {
            return;
        }
        // SAFETY: the fill ring is this half's alone.
        let n = unsafe { self.fill.as_mut() }.put(&self.spare) as usize;
        self.spare.drain(..n);
    }
}

impl Socket<Rx> {
    #[inline(always)]
    fn ring(&mut self) -> &mut RxRing {
        // SAFETY: this half alone uses the RX ring (see `Shared`), and
        // `&mut self` keeps that to one call at a time.
        unsafe { self.half.ring.as_mut() }
    }

    /// Finds one received packet, unless one is found already:
    /// [`Self::seek_n`]`(1)`.
    pub fn seek(&mut self) -> Result<usize> {
        self.seek_n(1)
    }

    /// Makes at least `count` received packets ready to read, if that many
    /// have arrived. Returns how many are found and not yet committed: fewer
    /// than `count` (0 too) when fewer arrived, which is not an error;
    /// [`crate::PollWaitExt::poll_wait`] waits for packets. Read them with
    /// [`Self::peek_at`], give their frames back with [`Self::commit_n`].
    ///
    /// Makes a syscall only when nothing arrived and the kernel asks to be
    /// woken to take frames from the fill ring.
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// # let mut rx = xsk_rs::create_rx_socket_by_name("eth0", 0, None)?;
    /// let n = rx.seek_n(32)?;
    /// for i in 0..n {
    ///     let pkt = rx.peek_at(i)?; // in place, until committed
    ///     println!("{} bytes", pkt.len());
    /// }
    /// rx.commit_n(n)?; // the frames go back to the kernel
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn seek_n(&mut self, count: usize) -> Result<usize> {
        self.shared.sock.check_owner("rx seek")?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let have = self.ring().peeked();
        if have >= count {
            return Ok(have as usize);
        }
        let (got, idx) = self.ring().peek(count - have);
        if have == 0 {
            self.half.first = idx;
        }
        if have + got == 0 {
            self.half.lend_spare();
            self.kick()?;
        }
        Ok((have + got) as usize)
    }

    /// The first packet found: [`Self::peek_at`]`(0)`.
    pub fn peek(&mut self) -> Result<&[u8]> {
        self.peek_at(0)
    }

    /// The `i`-th packet found by seek and not yet committed. Fails when fewer
    /// than `i + 1` were found.
    #[inline]
    pub fn peek_at(&mut self, i: usize) -> Result<&[u8]> {
        let d = self.desc(i)?;
        self.packet(d)
    }

    /// Whether the `i`-th packet found goes on in the next (`XDP_PKT_CONTD`,
    /// multi-buffer sockets only): it is one frame of a packet that spans
    /// it and the following ones up to and including the first not
    /// continued. Fails when fewer than `i + 1` were found.
    pub fn is_continued(&mut self, i: usize) -> Result<bool> {
        Ok(self.desc(i)?.is_continued())
    }

    /// Hands the first `n` packets found to `each` (index, first byte,
    /// length, `XDP_PKT_CONTD` bit of the options), for the C ABI's `recv_batch`, checking each (read once) lies
    /// in this half's frames: an overwritten descriptor fails the call, after
    /// `each` saw the ones before it. `n` at most [`Self::held_frames`].
    #[inline]
    pub(crate) fn found_packets(&mut self, n: usize, mut each: impl FnMut(usize, *const u8, u32, u32)) -> Result<()> {
        let have = self.ring().peeked();
        if n > have as usize {
            return Err(past_seek("found_packets", n, have));
        }
        let (first, lo, span, base) = (self.half.first, self.half.rx_lo, self.half.rx_span, self.half.area.as_ptr());
        let ring = self.ring();
        for i in 0..n {
            let d = ring.get(first.wrapping_add(i as u32));
            let rel = d.addr.wrapping_sub(lo);
            if rel >= span || rel + d.len as u64 > span {
                return Err(outside_umem(d, lo, span));
            }
            // SAFETY: this very copy of the entry lies in this half's frames,
            // inside the area; the frames are the caller's until commit.
            each(i, unsafe { base.add(d.addr as usize) }, d.len, d.options & crate::ring::XDP_PKT_CONTD);
        }
        Ok(())
    }

    /// [`Self::seek`] and [`Self::peek`] at once, as in the `xdp-socket`
    /// crate: `Error::WouldBlock` (`EAGAIN`) when nothing arrived.
    pub fn seek_and_peek(&mut self) -> Result<&[u8]> {
        if self.seek()? == 0 {
            return Err(Error::WouldBlock(format!(
                "seek_and_peek on {} queue {}: nothing received; wait with poll_wait",
                self.ifname(),
                self.queue_id()
            )));
        }
        self.peek()
    }

    /// Wakes the kernel to take frames from the fill ring, if it asks (a
    /// zero-copy driver may; with need_wakeup off, always). [`Self::seek_n`]
    /// does this itself when it finds nothing.
    pub fn kick(&self) -> Result<()> {
        // SAFETY: reads the flags word of this half's own fill ring.
        if unsafe { self.half.fill.as_ref() }.needs_wakeup() {
            self.shared.sock.wake_rx()?;
        }
        Ok(())
    }

    /// [`Self::commit_n`]`(n)`, then [`Self::kick`].
    pub fn commit_and_kick(&mut self, n: usize) -> Result<()> {
        self.commit_n(n)?;
        self.kick()
    }

    #[inline(always)]
    fn desc(&mut self, i: usize) -> Result<Desc> {
        let have = self.ring().peeked();
        if i >= have as usize {
            return Err(past_seek("peek_at", i, have));
        }
        let idx = self.half.first.wrapping_add(i as u32);
        Ok(self.ring().get(idx))
    }

    /// The bytes of a received descriptor, checked to lie in the area (the
    /// ring is shared memory; a stray write must not send a read elsewhere).
    #[inline(always)]
    fn packet(&self, d: Desc) -> Result<&[u8]> {
        let (lo, span) = (self.half.rx_lo, self.half.rx_span);
        let rel = d.addr.wrapping_sub(lo);
        if rel >= span || rel + d.len as u64 > span {
            return Err(outside_umem(d, lo, span));
        }
        // SAFETY: inside the area; the frame is the user's until commit, which
        // needs `&mut self` and so ends this borrow first.
        Ok(unsafe { std::slice::from_raw_parts(self.half.area.as_ptr().add(d.addr as usize), d.len as usize) })
    }

    /// Gives the first found packet's frame back: [`Self::commit_n`]`(1)`.
    pub fn commit(&mut self) -> Result<()> {
        self.commit_n(1)
    }

    /// Gives the first `n` found packets' frames back to the kernel (the fill
    /// ring) and frees their RX ring entries. Fails, giving back nothing, when
    /// fewer than `n` were found.
    #[inline]
    pub fn commit_n(&mut self, n: usize) -> Result<()> {
        let have = self.ring().peeked();
        if n > have as usize {
            return Err(past_seek("commit_n", n, have));
        }
        let n = n as u32;
        // Frames start at multiples of the frame size, a power of two (aligned
        // mode), so masking an address inside a frame gives the frame's start.
        let frame = !(self.half.frame_size as u64 - 1);
        if self.outside_rx_frames(n) {
            return self.commit_checked(n, frame);
        }
        let r = &mut self.half;
        // SAFETY: the RX and fill rings are this half's alone (see `Shared`),
        // and `&mut self` keeps that to this call.
        let (ring, fill) = unsafe { (r.ring.as_ref(), r.fill.as_mut()) };
        // Straight from the RX ring into the fill ring: the lending rule
        // leaves the fill ring room for every frame, so all of them fit, and
        // any that do not (its shared index overwritten) wait in `spare`.
        let lend = fill.nb_free(n);
        if let Some(idx) = fill.reserve(lend) {
            let (rx_size, fill_size) = (ring.size(), fill.size());
            let mut done = 0;
            // In runs that stop at either ring's end, through pointers to
            // the slots (no index mask, nor a reload of the rings' geometry,
            // per entry).
            while done < lend {
                let (from, to) = (r.first.wrapping_add(done), idx.wrapping_add(done));
                let run = (lend - done).min(rx_size - (from & (rx_size - 1))).min(fill_size - (to & (fill_size - 1)));
                let (src, dst) = (ring.slot(from), fill.slot(to));
                for i in 0..run as usize {
                    // SAFETY: both rings' slots are masked pointers into
                    // their entries arrays (power-of-two sizes), which hold
                    // `run` more entries before their ends; the RX entries
                    // were peeked, the fill slots reserved, and neither array
                    // is the other's.
                    unsafe { *dst.add(i) = (*src.add(i)).addr & frame };
                }
                done += run;
            }
            fill.submit(lend);
        }
        for i in lend..n {
            r.spare.push(ring.get(r.first.wrapping_add(i)).addr & frame);
        }
        self.ring().release(n);
        self.half.first = self.half.first.wrapping_add(n);
        Ok(())
    }

    /// Whether one of the first `n` found descriptors names an address
    /// outside this half's frames: the RX ring is shared memory anything
    /// mapping it can write. One branch-free pass.
    #[inline(always)]
    fn outside_rx_frames(&mut self, n: u32) -> bool {
        let (first, lo, span) = (self.half.first, self.half.rx_lo, self.half.rx_span);
        let ring = self.ring();
        (0..n).fold(false, |bad, i| bad | (ring.get(first.wrapping_add(i)).addr.wrapping_sub(lo) >= span))
    }

    /// [`Self::commit_n`] when a descriptor was overwritten: gives back the
    /// frames of this half only (a frame of the TX half lent to the fill ring
    /// would be written by the kernel while the TX half sends from it), and
    /// loses the others' count rather than lending anything twice.
    #[cold]
    fn commit_checked(&mut self, n: u32, frame: u64) -> Result<()> {
        let (first, lo, span) = (self.half.first, self.half.rx_lo, self.half.rx_span);
        for i in 0..n {
            let a = self.ring().get(first.wrapping_add(i)).addr;
            if a.wrapping_sub(lo) < span {
                self.half.spare.push(a & frame);
            }
        }
        self.ring().release(n);
        self.half.first = first.wrapping_add(n);
        self.half.lend_spare();
        Ok(())
    }

    /// Refuses `what` while packets found by seek are held. The copying
    /// receives take found packets first, which in Rust is sound (no slice of
    /// them outlives the `&mut self` call); the C ABI, whose `recv_batch`
    /// pointers stay valid until `release`, refuses them with this instead.
    pub(crate) fn check_none_held(&mut self, what: &str) -> Result<()> {
        match self.ring().peeked() {
            0 => Ok(()),
            n => Err(Error::Busy(format!(
                "{what} on {} queue {}: {n} packet{} found and not yet committed (by seek, recv_batch or a \
                 receive that failed part way); commit or release them first",
                self.ifname(),
                self.queue_id(),
                if n == 1 { " is" } else { "s are" }
            ))),
        }
    }

    /// Copies the next received packet into `buf` and gives its frame back.
    /// `Ok(Some(len))` with the packet's length (when it is longer than
    /// `buf`, only `buf.len()` bytes were copied), `Ok(None)` when nothing
    /// arrived.
    ///
    /// On a multi-buffer socket ([`crate::XdpConfig::multi_buffer`]) the
    /// packet may span several frames: all of them are copied, in order, and
    /// given back.
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        if self.half.mb {
            return self.recv_gather(buf);
        }
        if self.seek()? == 0 {
            return Ok(None);
        }
        let pkt = self.peek()?;
        let len = pkt.len();
        let n = len.min(buf.len());
        buf[..n].copy_from_slice(&pkt[..n]);
        self.commit()?;
        Ok(Some(len))
    }

    /// Un-finds every packet found and not yet committed, so the next seek
    /// finds them again.
    fn unfind_all(&mut self) {
        let n = self.ring().peeked();
        self.ring().cancel(n);
    }

    /// Finds the frames of the next whole received packet and holds them, as
    /// [`Self::seek_n`] does: returns how many (one per frame it spans; more
    /// than one only on a multi-buffer socket), 0 when no whole packet has
    /// arrived. Read its segments with [`Self::peek_at`]`(0..n)`, give them
    /// back together with [`Self::commit_n`]`(n)`. This is
    /// [`Self::recv_packet`] for a caller that keeps the frames past a
    /// borrow (the C ABI's `xsk_rs_rxsock_recv_packet`).
    ///
    /// Refused (`EBUSY`) while frames found earlier are held; `ENOBUFS`,
    /// naming how many frames it spans, when that is more than `max_segs`
    /// (the packet stays for the next call).
    pub fn seek_packet(&mut self, max_segs: usize) -> Result<usize> {
        self.check_none_held("recv_packet")?;
        let n = self.seek_chain()? as usize;
        if n > max_segs {
            self.unfind_all();
            return Err(Error::from_errno(
                format!("the next packet spans {n} frames; segs has room for {max_segs}"),
                libc::ENOBUFS,
            ));
        }
        Ok(n)
    }

    /// How many of the descriptors found (at most `max`, finding more as
    /// needed) make whole packets: on a multi-buffer socket it stops after
    /// the last chain that ends within them, never inside one, and un-finds
    /// what this call found past it. `ENOBUFS` when the first chain is
    /// longer than `max` frames.
    pub(crate) fn seek_whole(&mut self, max: usize) -> Result<usize> {
        let before = self.ring().peeked() as usize;
        let found = self.seek_n(max)?;
        let n = found.min(max);
        if !self.half.mb {
            return Ok(n);
        }
        let first = self.half.first;
        let ring = self.ring();
        let whole = (0..n as u32)
            .rev()
            .find(|&i| !ring.get(first.wrapping_add(i)).is_continued())
            .map_or(0, |i| i as usize + 1);
        // Un-find what this call found past the whole chains (the last ones
        // found), so the tail of a chain is not left held.
        let ours = found.saturating_sub(before).min(found - whole);
        self.ring().cancel(ours as u32);
        if whole == 0 && n == max && max > 0 {
            return Err(Error::from_errno(
                format!(
                    "recv_batch on {} queue {}: the next packet spans more than {max} frames (multi-buffer); give \
                     room for more",
                    self.ifname(),
                    self.queue_id()
                ),
                libc::ENOBUFS,
            ));
        }
        Ok(whole)
    }

    /// [`Self::recv`] on a multi-buffer socket.
    fn recv_gather(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        match self.recv_packet()? {
            None => Ok(None),
            Some(p) => {
                let len = p.len();
                p.gather(buf);
                Ok(Some(len))
            }
        }
    }

    /// Finds the descriptors of the first packet found and not yet
    /// committed: how many (1 unless a multi-buffer packet spans several
    /// frames), or 0 when no whole packet has arrived.
    pub(crate) fn seek_chain(&mut self) -> Result<u32> {
        let before = self.ring().peeked();
        let mut have = self.seek_n(1)? as u32;
        let mut i = 0;
        loop {
            let first = self.half.first;
            while i < have {
                if !self.ring().get(first.wrapping_add(i)).is_continued() {
                    return Ok(i + 1);
                }
                i += 1;
            }
            // The chain goes on past what is found: find more.
            let more = self.seek_n(have as usize + 1)? as u32;
            if more == have {
                // Un-find what this call found: the chain's end comes later.
                self.ring().cancel(have.saturating_sub(before));
                return Ok(0);
            }
            have = more;
        }
    }

    /// The next received packet, in place: its segments (one per frame it
    /// spans; one unless it is a multi-buffer packet longer than a frame)
    /// and a gather into a buffer. Dropping it gives all its frames back.
    /// `Ok(None)` when no whole packet has arrived.
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// let cfg = xsk_rs::XdpConfig { multi_buffer: Some(true), frame_size: Some(2048), ..Default::default() };
    /// let mut rx = xsk_rs::create_rx_socket_by_name("eth0", 0, Some(cfg))?;
    /// if let Some(pkt) = rx.recv_packet()? {
    ///     println!("{} bytes in {} frames", pkt.len(), pkt.segments().count());
    ///     let mut buf = vec![0u8; pkt.len()];
    ///     pkt.gather(&mut buf);
    /// } // its frames go back here
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_packet(&mut self) -> Result<Option<RxPacket<'_>>> {
        let n = self.seek_chain()?;
        if n == 0 {
            return Ok(None);
        }
        let mut len = 0usize;
        for i in 0..n {
            let d = self.desc(i as usize)?;
            len += self.packet(d)?.len();
        }
        Ok(Some(RxPacket { rx: self, segs: n, len }))
    }

    /// [`Self::recv`], waiting up to `timeout` (`None`: no limit) for a
    /// packet: `Ok(None)` when it passed with none.
    pub fn recv_timeout(&mut self, buf: &mut [u8], timeout: Option<Duration>) -> Result<Option<usize>> {
        let deadline = deadline(timeout);
        loop {
            if let Some(n) = self.recv(buf)? {
                return Ok(Some(n));
            }
            if !self.wait_readable(deadline)? {
                return Ok(None);
            }
        }
    }

    /// Up to `max` received packets, read in place (zero copy): the batch
    /// borrows the socket, and dropping it gives every frame back. An empty
    /// batch when nothing arrived. Packets found by an earlier
    /// [`Self::seek_n`] and not yet committed come first, and go back with
    /// the batch.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use xsk_rs::PollWaitExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let mut rx = xsk_rs::create_rx_socket_by_name("eth0", 0, None)?;
    /// while rx.poll_wait(Some(Duration::from_secs(1)))? {
    ///     let batch = rx.recv_batch(64)?;
    ///     for pkt in &batch {
    ///         println!("{} bytes", pkt.len());
    ///     }
    /// } // each batch gives its frames back as it drops
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// On a multi-buffer socket ([`crate::XdpConfig::multi_buffer`]) the
    /// batch holds frames, not packets: a packet longer than a frame takes
    /// several, in order, each but the last marked
    /// [`RxBatch::is_continued`]. The batch holds whole packets only (it
    /// never stops inside one), and a packet of more than `max` frames is an
    /// error (`ENOBUFS`), not an empty batch.
    pub fn recv_batch(&mut self, max: usize) -> Result<RxBatch<'_>> {
        let n = self.seek_whole(max)?;
        Ok(RxBatch { rx: self, len: n })
    }

    /// Copies up to `lens.len()` received packets end to end into `buf`,
    /// the `i`-th's length into `lens[i]`, and gives their frames back.
    /// Returns how many: it stops before a packet that does not fit in what
    /// is left of `buf` (that packet stays for the next call, unless it is
    /// the first, which is copied truncated: its length says so).
    ///
    /// On a multi-buffer socket a packet spanning several frames is gathered
    /// into one packed packet (its segments end to end, one length).
    pub fn recv_packed(&mut self, buf: &mut [u8], lens: &mut [u32]) -> Result<usize> {
        if self.half.mb {
            return self.recv_packed_chains(buf, lens);
        }
        let before = self.ring().peeked();
        let found = self.seek_n(lens.len())?;
        let n = found.min(lens.len());
        let mut off = 0usize;
        let mut got = 0usize;
        for (i, slot) in lens[..n].iter_mut().enumerate() {
            let d = self.desc(i)?;
            let len = d.len as usize;
            if off + len > buf.len() && got > 0 {
                break;
            }
            let pkt = self.packet(d)?;
            let c = len.min(buf.len() - off);
            buf[off..off + c].copy_from_slice(&pkt[..c]);
            *slot = d.len;
            off += c;
            got += 1;
        }
        self.commit_n(got)?;
        // Un-find what this call found and did not take (the last ones
        // found), so a packet that did not fit is not left held.
        let ours = (found - before as usize).min(self.ring().peeked() as usize);
        self.ring().cancel(ours as u32);
        Ok(got)
    }

    /// [`Self::recv_packed`] on a multi-buffer socket: one whole chain at a
    /// time.
    fn recv_packed_chains(&mut self, buf: &mut [u8], lens: &mut [u32]) -> Result<usize> {
        // Found before this call, and not yet given back by it: the chains
        // it takes are the first found, so these go first.
        let mut before = self.ring().peeked() as usize;
        let (mut off, mut got) = (0usize, 0usize);
        while got < lens.len() {
            let n = self.seek_chain()? as usize;
            if n == 0 {
                break;
            }
            let mut len = 0usize;
            for i in 0..n {
                len += self.desc(i)?.len as usize;
            }
            if off + len > buf.len() && got > 0 {
                break;
            }
            let mut at = off;
            for i in 0..n {
                let d = self.desc(i)?;
                let pkt = self.packet(d)?;
                let c = pkt.len().min(buf.len() - at);
                buf[at..at + c].copy_from_slice(&pkt[..c]);
                at += c;
            }
            lens[got] = u32::try_from(len).unwrap_or(u32::MAX);
            off = at;
            got += 1;
            self.commit_n(n)?;
            before = before.saturating_sub(n);
        }
        // Un-find what this call found and did not take.
        let ours = (self.ring().peeked() as usize).saturating_sub(before);
        self.ring().cancel(ours as u32);
        Ok(got)
    }

    /// Inserts this socket into a caller-owned XSKMAP at its queue id, for a
    /// socket created with `xdp_mode: Some(XdpMode::None)`.
    pub fn update_xskmap(&self, map_fd: std::os::fd::RawFd) -> Result<()> {
        self.shared.sock.update_xskmap(map_fd)
    }

    /// Frames neither lent to the kernel nor held by the user (normally 0:
    /// every free frame is lent at once).
    pub fn free_frames(&self) -> usize {
        self.half.spare.len()
    }

    /// Frames found by seek and not yet committed.
    pub fn held_frames(&self) -> usize {
        // SAFETY: reading our own cursor; the ring is this half's.
        unsafe { self.half.ring.as_ref() }.peeked() as usize
    }

    /// Frames lent to the kernel: on the fill ring, being received into, or
    /// on the RX ring not yet found by seek.
    pub fn in_flight_frames(&self) -> usize {
        self.half.frames as usize - self.half.spare.len() - self.held_frames()
    }

    /// Every frame this half owns: free + held + in flight.
    pub fn total_frames(&self) -> usize {
        self.half.frames as usize
    }

    /// Whether a packet is waiting to be found by seek (or found already).
    pub(super) fn readable(&self) -> bool {
        // SAFETY: `&self` on a half, which is not Sync: no other call on it
        // runs meanwhile, and no borrow of its ring is out. Only the cached
        // producer index changes.
        let ring = unsafe { &mut *self.half.ring.as_ptr() };
        ring.peeked() > 0 || ring.nb_avail(1) > 0
    }

    /// Waits until [`Self::readable`]; `Ok(false)` at the deadline.
    pub(super) fn wait_readable(&self, deadline: Option<std::time::Instant>) -> Result<bool> {
        loop {
            if self.readable() {
                return Ok(true);
            }
            if !self.poll_until(libc::POLLIN, deadline)? {
                return Ok(self.readable());
            }
        }
    }
}

/// The error for a received descriptor outside the RX half's frames (cold:
/// see `past_seek`).
#[cold]
#[inline(never)]
fn outside_umem(d: Desc, rx_lo: u64, rx_span: u64) -> Error {
    Error::invalid(format!(
        "received descriptor addr {:#x} len {} lies outside the rx frames (bytes {rx_lo}..{} of the umem): the \
         rx ring was overwritten",
        d.addr,
        d.len,
        rx_lo + rx_span
    ))
}

/// One received packet read in place, from
/// [`RxSocket::recv_packet`](crate::RxSocket::recv_packet): its segments,
/// one per frame. Dropping it gives every frame back to the kernel.
pub struct RxPacket<'a> {
    rx: &'a mut Socket<Rx>,
    segs: u32,
    len: usize,
}

impl RxPacket<'_> {
    /// The packet's length: all its segments.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty (never, for a packet the kernel delivered).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its segments, in order: the bytes in each frame it spans.
    pub fn segments(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let (ring, first) = (self.rx.half.ring, self.rx.half.first);
        (0..self.segs).filter_map(move |i| {
            // SAFETY: the ring is this half's; reading entries found by seek.
            let d = unsafe { ring.as_ref() }.get(first.wrapping_add(i));
            self.rx.packet(d).ok()
        })
    }

    /// Copies the packet into `buf`, segment after segment; returns how many
    /// bytes were copied (less than [`Self::len`] when `buf` is shorter).
    pub fn gather(&self, buf: &mut [u8]) -> usize {
        let mut off = 0;
        for seg in self.segments() {
            let c = seg.len().min(buf.len() - off);
            buf[off..off + c].copy_from_slice(&seg[..c]);
            off += c;
            if off == buf.len() {
                break;
            }
        }
        off
    }
}

impl Drop for RxPacket<'_> {
    fn drop(&mut self) {
        // Cannot fail: segs descriptors were found and none committed since.
        let _ = self.rx.commit_n(self.segs as usize);
    }
}

/// Received packets read in place, from [`RxSocket::recv_batch`](crate::RxSocket::recv_batch).
/// Dropping it gives every frame back to the kernel.
pub struct RxBatch<'a> {
    rx: &'a mut Socket<Rx>,
    len: usize,
}

impl<'a> RxBatch<'a> {
    /// How many packets.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing arrived.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th packet, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        // SAFETY: the ring is this half's; reading an entry found by seek.
        let d = unsafe { self.rx.half.ring.as_ref() }.get(self.rx.half.first.wrapping_add(i as u32));
        self.rx.packet(d).ok()
    }

    /// Whether the `i`-th frame's packet goes on in the next frame
    /// (`XDP_PKT_CONTD`, multi-buffer sockets only): the packet is this
    /// frame and the following ones up to and including the first not
    /// continued. `false` past the end.
    pub fn is_continued(&self, i: usize) -> bool {
        if i >= self.len {
            return false;
        }
        // SAFETY: the ring is this half's; reading an entry found by seek.
        unsafe { self.rx.half.ring.as_ref() }.get(self.rx.half.first.wrapping_add(i as u32)).is_continued()
    }

    /// The packets, in arrival order.
    pub fn iter(&self) -> RxBatchIter<'_, 'a> {
        RxBatchIter { batch: self, i: 0 }
    }
}

impl Drop for RxBatch<'_> {
    fn drop(&mut self) {
        // Cannot fail: len packets were found and none committed since.
        let _ = self.rx.commit_n(self.len);
    }
}

impl<'b, 'a> IntoIterator for &'b RxBatch<'a> {
    type Item = &'b [u8];
    type IntoIter = RxBatchIter<'b, 'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an [`RxBatch`]'s packets.
pub struct RxBatchIter<'b, 'a> {
    batch: &'b RxBatch<'a>,
    i: usize,
}

impl<'b> Iterator for RxBatchIter<'b, '_> {
    type Item = &'b [u8];

    fn next(&mut self) -> Option<&'b [u8]> {
        let p = self.batch.get(self.i)?;
        self.i += 1;
        Some(p)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.batch.len - self.i;
        (left, Some(left))
    }
}
