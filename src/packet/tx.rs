//! The TX half: free frames, the TX ring and the completion ring.
//!
//! Every TX frame is in exactly one place: the free list, a descriptor
//! reserved by `seek` and not yet committed, or the kernel (TX ring, device,
//! completion ring) until `reclaim` takes it back from the completion ring.

use super::config::Plan;
use super::socket::{past_seek, Shared, Socket};
use crate::error::{Error, Result};
use crate::ring::{CompRing, Desc, TxRing};
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The TX half's state (see [`crate::TxSocket`]).
pub struct Tx {
    ring: NonNull<TxRing>,
    comp: NonNull<CompRing>,
    /// Frame addresses ready to send from; capacity is every TX frame.
    free: Vec<u64>,
    /// Ring index of the first descriptor reserved and not yet committed.
    pub(super) first: u32,
    /// The TX descriptors' addresses: `lo + i * frame_size` for the
    /// `frames` frames. Frame `i` starts `tx_metadata_len` bytes before
    /// (the metadata's room; 0 without TX metadata).
    lo: u64,
    frames: u32,
    frame_size: u32,
    /// Longest packet: the frame, or what the interface carries if less.
    max_len: u32,
    /// Zero-copy mode: the driver sends on its own after a wakeup.
    zerocopy: bool,
    /// Multi-buffer: a packet longer than a frame goes out as a chain.
    mb: bool,
    /// Longest packet a chain carries: what the interface carries.
    packet_max: u32,
    area: NonNull<u8>,
    /// TX metadata: its length, the offloads this mode does, timestamps.
    pub(super) meta: super::tx_metadata::TxMeta,
}

// SAFETY: the rings behind `ring` and `comp` are used by this half only (see
// `Shared`), and the frames it writes through `area` are its own.
unsafe impl Send for Tx {}

impl Tx {
    pub(super) fn new(shared: &Arc<Shared>, plan: &Plan) -> Tx {
        let fs = plan.umem.frame_size;
        let meta = super::tx_metadata::TxMeta::new(shared);
        let lo = (plan.first_frame as u64 + plan.rx_frames as u64) * fs as u64 + meta.len as u64;
        let mut free = Vec::with_capacity(plan.tx_frames as usize);
        // Popped from the end: hand out the lowest frames first.
        free.extend((0..plan.tx_frames as u64).rev().map(|i| lo + i * fs as u64));
        let ring = NonNull::new(shared.sock.tx_ptr()).expect("a tx half's socket has a tx ring");
        // SAFETY: nothing else uses the ring yet.
        let packet_max = unsafe { ring.as_ref() }.max_len();
        let max_len = packet_max.min(fs - meta.len);
        Tx {
            ring,
            comp: NonNull::new(shared.sock.comp_ptr()).expect("a socket has a completion ring"),
            free,
            first: 0,
            lo,
            frames: plan.tx_frames,
            frame_size: fs,
            max_len,
            zerocopy: shared.sock.is_zerocopy().unwrap_or(false),
            // In force, not asked for: a socket on a shared umem runs with its
            // first socket's flags.
            mb: shared.sock.bind_flags() & crate::socket::BIND_SG != 0,
            packet_max,
            area: NonNull::new(shared.umem().area()).expect("a umem has an area"),
            meta,
        }
    }
}

impl Tx {
    pub(super) fn area_ptr(&self) -> NonNull<u8> {
        self.area
    }
}

impl Socket<Tx> {
    #[inline(always)]
    pub(super) fn ring(&mut self) -> &mut TxRing {
        // SAFETY: this half alone uses the TX ring (see `Shared`), and
        // `&mut self` keeps that to one call at a time.
        unsafe { self.half.ring.as_mut() }
    }

    /// Takes the frames the kernel has finished sending back into the free
    /// list. Returns how many came back.
    fn reclaim(&mut self) -> u32 {
        let t = &mut self.half;
        let len = t.free.len();
        let room = t.free.capacity() - len;
        // SAFETY: the completion ring is this half's alone; the spare capacity
        // holds `room` writable u64s, which take_to only writes.
        let n = unsafe { t.comp.as_mut().take_to(t.free.as_mut_ptr().add(len), room as u32) };
        // SAFETY: take_to wrote the first n of them.
        unsafe { t.free.set_len(len + n as usize) };
        // The completion ring is shared memory anything mapping it can write:
        // keep only frame starts of this half's own frames, so no write can
        // ever land outside them.
        // Descriptors lie at multiples of the frame size, a power of two
        // (aligned mode), from `lo` on, so an address is one of this half
        // when it lies in `lo..lo + span` and its distance from `lo` has its
        // low bits clear: a mask, not a division per frame. One branch-free pass
        // for the common case (every address good); the repair only if not.
        let (lo, span, low) = (t.lo, t.frames as u64 * t.frame_size as u64, t.frame_size as u64 - 1);
        let bad = t.free[len..]
            .iter()
            .fold(false, |bad, &a| bad | (a.wrapping_sub(lo) >= span) | (a.wrapping_sub(lo) & low != 0));
        if bad {
            let mut kept = len;
            // Only exact frame starts: the kernel completes the addresses it
            // was given, which were frame starts, so any other value was
            // written by someone else; rounding it down could name a frame
            // that is free or in flight already, and hand it out twice.
            for i in len..t.free.len() {
                let a = t.free[i];
                if a.wrapping_sub(lo) < span && a.wrapping_sub(lo) & low == 0 {
                    t.free[kept] = a;
                    kept += 1;
                }
            }
            t.free.truncate(kept);
        }
        if t.meta.ts_pending != 0 {
            // SAFETY: the frames from `len` on came back just now and are
            // this half's; the area is the UMEM's.
            unsafe { t.meta.collect(t.area, &t.free[len..]) };
        }
        n
    }

    /// Reserves one descriptor that carries a free frame, unless one is
    /// reserved already: [`Self::seek_n`]`(1)`.
    pub fn seek(&mut self) -> Result<usize> {
        self.seek_n(1)
    }

    /// Makes at least `count` descriptors with free frames reserved, if it can:
    /// reserves more as the TX ring and the free frames allow, taking back
    /// frames from the completion ring when the free list is short. Returns how
    /// many are reserved and not yet committed: `count` or more when it got
    /// them, fewer (0 too) when the ring or the frames ran out. That is "try
    /// later", not an error; [`crate::PollWaitExt::poll_wait`] waits for room.
    ///
    /// Write the reserved frames with [`Self::peek_at`], publish them in order
    /// with [`Self::commit_n`]. Makes no syscall.
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// # let mut tx = xsk_rs::create_tx_socket_by_name("eth0", 0, None)?;
    /// # let packets: Vec<Vec<u8>> = Vec::new();
    /// // Zero copy: write each packet straight into its frame.
    /// let n = tx.seek_n(packets.len())?.min(packets.len());
    /// for (i, p) in packets[..n].iter().enumerate() {
    ///     tx.peek_at(i, p.len())?.copy_from_slice(p);
    /// }
    /// tx.commit_n(n)?; // the first n reserved, in order
    /// tx.kick()?;
    /// // packets[n..] found no room: try again after tx.poll_wait(..)
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn seek_n(&mut self, count: usize) -> Result<usize> {
        self.shared.sock.check_owner("tx seek")?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let have = self.ring().reserved();
        if have >= count {
            return Ok(have as usize);
        }
        let mut want = count - have;
        if (self.half.free.len() as u32) < want {
            self.reclaim();
        }
        want = want.min(self.half.free.len() as u32);
        let got = self.ring().nb_free(want);
        if got == 0 {
            return Ok(have as usize);
        }
        let idx = self.ring().reserve(got).expect("nb_free said the slots are free");
        if have == 0 {
            self.half.first = idx;
        }
        let t = &mut self.half;
        // SAFETY: this half's ring (see `ring`); borrowed apart from `free`.
        let ring = unsafe { t.ring.as_mut() };
        // The last `got` free frames, last first (as popping them would give
        // them: the lowest frames first), then cut from the list at once.
        let rest = t.free.len() - got as usize;
        let frames = &t.free[rest..];
        in_runs(ring, idx, got, |slots, done, run| {
            let end = frames.len() - done as usize;
            for (i, &addr) in frames[end - run as usize..end].iter().rev().enumerate() {
                // SAFETY: `run` slots from `slots` on (see `in_runs`), reserved
                // just now; the free list is not in the ring.
                unsafe { slots.add(i).write(Desc { addr, len: 0, options: 0 }) };
            }
        });
        t.free.truncate(rest);
        Ok((have + got) as usize)
    }

    /// The first reserved frame, as `len` bytes to write the packet into:
    /// [`Self::peek_at`]`(0, len)`.
    pub fn peek(&mut self, len: usize) -> Result<&mut [u8]> {
        self.peek_at(0, len)
    }

    /// The frame of the `i`-th reserved descriptor, as `len` bytes to write
    /// the packet into; the descriptor's length becomes `len`. Fails when
    /// fewer than `i + 1` are reserved, or `len` is over [`Self::max_len`]
    /// (`Error::TooLong`). The bytes are what the frame last held, not zeroes.
    #[inline]
    pub fn peek_at(&mut self, i: usize, len: usize) -> Result<&mut [u8]> {
        let have = self.ring().reserved();
        if i >= have as usize {
            return Err(past_seek("peek_at", i, have));
        }
        if len > self.half.max_len as usize {
            return Err(self.too_long(len));
        }
        let idx = self.half.first.wrapping_add(i as u32);
        let slot = self.ring().slot(idx);
        // SAFETY: a slot reserved and not submitted, which the kernel does not
        // read; `seek_n` wrote one of this half's frames into it.
        let addr = unsafe { (*slot).addr };
        // The slot is shared memory anything mapping the ring can write: write
        // only into a frame of this half (len <= max_len <= frame size), and
        // mark the slot written only then.
        let t = &self.half;
        let at = addr.wrapping_sub(t.lo);
        if at >= t.frames as u64 * t.frame_size as u64 || at & (t.frame_size as u64 - 1) != 0 {
            return Err(not_a_tx_frame(addr));
        }
        // SAFETY: as above.
        unsafe { (*slot).len = len as u32 };
        // SAFETY: the frame is this half's and reserved, so neither the kernel
        // nor any other descriptor uses it; len <= frame size; the borrow of
        // self keeps it unique until the next call.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.half.area.as_ptr().add(addr as usize), len) })
    }

    /// [`Self::seek`] and [`Self::peek`] at once, as in the `xdp-socket`
    /// crate: `Error::WouldBlock` (`EAGAIN`) when no descriptor could be
    /// reserved (no free frame, or the TX ring is full).
    pub fn seek_and_peek(&mut self, len: usize) -> Result<&mut [u8]> {
        if self.seek()? == 0 {
            return Err(Error::WouldBlock(format!(
                "seek_and_peek on {} queue {}: no free frame or the tx ring is full; wait with poll_wait",
                self.ifname(),
                self.queue_id()
            )));
        }
        self.peek(len)
    }

    /// The whole frame of the `i`-th reserved descriptor ([`Self::max_len`]
    /// bytes), to write a packet whose length is known only afterwards; give
    /// the lengths to [`Self::commit_lens`].
    pub fn buffer_at(&mut self, i: usize) -> Result<&mut [u8]> {
        let max = self.half.max_len as usize;
        self.peek_at(i, max)
    }

    /// Publishes the first reserved descriptor: [`Self::commit_n`]`(1)`.
    pub fn commit(&mut self) -> Result<()> {
        self.commit_n(1)
    }

    /// Publishes the first `n` reserved descriptors to the kernel, in order,
    /// with the lengths their [`Self::peek_at`] gave. Fails, publishing
    /// nothing, when fewer than `n` are reserved or one of them was never
    /// peeked (its length is 0). The kernel sends them after a
    /// [`Self::kick`].
    #[inline]
    pub fn commit_n(&mut self, n: usize) -> Result<()> {
        let have = self.ring().reserved();
        if n > have as usize {
            return Err(past_seek("commit_n", n, have));
        }
        let first = self.half.first;
        let ring = self.ring();
        // One branch-free pass for the common case (every one peeked); the
        // search only if not.
        let mut any_unpeeked = false;
        in_runs(ring, first, n as u32, |slots, _, run| {
            for i in 0..run as usize {
                // SAFETY: `run` reserved slots from `slots` on (see `in_runs`),
                // written by seek_n.
                any_unpeeked |= unsafe { (*slots.add(i)).len } == 0;
            }
        });
        if any_unpeeked {
            // SAFETY: as above.
            let i = (0..n as u32).position(|i| unsafe { (*ring.slot(first.wrapping_add(i))).len } == 0);
            return Err(unpeeked(n, i.unwrap_or_default()));
        }
        self.publish(n as u32);
        Ok(())
    }

    /// Publishes the first `n` reserved descriptors, which `commit_n` or
    /// `commit_lens` checked.
    #[inline(always)]
    fn publish(&mut self, n: u32) {
        self.ring().submit(n);
        self.half.first = self.half.first.wrapping_add(n);
    }

    /// Gives the first `lens.len()` reserved descriptors these lengths and
    /// publishes them (for frames written through [`Self::buffer_at`]).
    /// Fails, publishing nothing, when fewer are reserved, or a length is 0 or
    /// over [`Self::max_len`].
    #[inline]
    pub fn commit_lens(&mut self, lens: &[u32]) -> Result<()> {
        let have = self.ring().reserved();
        if lens.len() > have as usize {
            return Err(past_seek("commit_lens", lens.len(), have));
        }
        // One branch-free pass for the common case (every length good): a
        // wrapping `l - 1` is below `max` exactly when 0 < l <= max.
        let max = self.half.max_len;
        if lens.iter().fold(false, |bad, &l| bad | (l.wrapping_sub(1) >= max)) {
            let i = lens.iter().position(|&l| l == 0 || l > max).unwrap_or_default();
            return Err(self.bad_commit_len(i, lens[i]));
        }
        let first = self.half.first;
        let ring = self.ring();
        in_runs(ring, first, lens.len() as u32, |slots, done, run| {
            for (i, &len) in lens[done as usize..(done + run) as usize].iter().enumerate() {
                // SAFETY: `run` reserved slots from `slots` on (see `in_runs`).
                unsafe { (*slots.add(i)).len = len };
            }
        });
        // Every length is non-zero: nothing for commit_n to check.
        self.publish(lens.len() as u32);
        Ok(())
    }

    /// Wakes the kernel to send what was committed, if it asks for a wakeup
    /// (with need_wakeup off, always). In copy mode it wakes it again while
    /// each wakeup sends more, so everything committed goes out even where a
    /// wakeup sends only 32 (kernels before 6.17). `EAGAIN`, `EBUSY` and
    /// `ENOBUFS` mean "try later" and return `Ok`.
    #[inline]
    pub fn kick(&self) -> Result<()> {
        // SAFETY: reads the flags word and indices of this half's own ring.
        let ring = unsafe { self.half.ring.as_ref() };
        if !ring.needs_wakeup() {
            return Ok(());
        }
        self.shared.sock.kick()?;
        if self.half.zerocopy {
            return Ok(());
        }
        // In copy mode a wakeup sends at most the socket's TX budget, and a
        // kernel before Linux 6.17 (no XDP_MAX_TX_SKB_BUDGET) keeps it at 32:
        // wake it again while it makes progress, so that one kick sends all
        // that was committed, as it does on later kernels in one call.
        let mut left = ring.in_flight();
        while left > 0 {
            self.shared.sock.kick()?;
            let now = ring.in_flight();
            if now >= left {
                break; // no progress (the device is busy): the next kick goes on
            }
            left = now;
        }
        Ok(())
    }

    /// [`Self::commit_n`]`(n)`, then [`Self::kick`].
    pub fn commit_and_kick(&mut self, n: usize) -> Result<()> {
        self.commit_n(n)?;
        self.kick()
    }

    /// The longest packet this half sends: the frame size, or less when the
    /// interface's MTU (plus the Ethernet header) is smaller. On a
    /// multi-buffer socket, what the interface carries (a packet longer
    /// than a frame goes out as a chain; `peek_at` and `buffer_at` still give
    /// one frame, [`Self::frame_len`]).
    pub fn max_len(&self) -> usize {
        if self.half.mb {
            return self.half.packet_max as usize;
        }
        self.half.max_len as usize
    }

    /// The longest packet one frame carries (what `peek_at` takes).
    pub fn frame_len(&self) -> usize {
        self.half.max_len as usize
    }

    /// Frames in the free list, ready to reserve (frames the kernel has
    /// finished with but not yet reported are not counted until reclaimed).
    pub fn free_frames(&self) -> usize {
        self.half.free.len()
    }

    /// Frames reserved by `seek` and not yet committed.
    pub fn reserved_frames(&self) -> usize {
        // SAFETY: reading our own cursor; the ring is this half's.
        unsafe { self.half.ring.as_ref() }.reserved() as usize
    }

    /// Frames handed to the kernel and not yet taken back: on the TX ring,
    /// being sent, or on the completion ring.
    pub fn in_flight_frames(&self) -> usize {
        self.half.frames as usize - self.half.free.len() - self.reserved_frames()
    }

    /// Every frame this half owns: free + reserved + in flight.
    pub fn total_frames(&self) -> usize {
        self.half.frames as usize
    }

    /// Takes back every frame the kernel has finished with (without
    /// reserving any); returns how many came back. `seek` does this itself
    /// when it runs short.
    pub fn reclaim_completed(&mut self) -> usize {
        self.reclaim() as usize
    }

    /// Whether a [`Self::seek`] would reserve a descriptor now: one is
    /// reserved, or a frame is free or completed, and the TX ring has room.
    pub(super) fn room_ready(&self) -> bool {
        // SAFETY: `&self` on a half, which is not Sync: no other call on it
        // runs meanwhile, and no borrow of its rings is out (peek_at's slices
        // borrow the half mutably). Only cached indices change.
        let (ring, comp) = unsafe { (&mut *self.half.ring.as_ptr(), &mut *self.half.comp.as_ptr()) };
        ring.reserved() > 0 || ((!self.half.free.is_empty() || comp.nb_avail(1) > 0) && ring.nb_free(1) > 0)
    }

    /// Waits until [`Self::room_ready`], driving the kernel meanwhile (in
    /// copy mode it sends, and so completes, only when woken). `Ok(false)` at
    /// the deadline.
    pub(super) fn wait_for_room(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut idle = Duration::from_micros(10);
        loop {
            if self.room_ready() {
                return Ok(true);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Ok(false);
            }
            // POLLOUT says the TX ring is under half full, and a poll drives
            // TX in copy mode; the frames come back through the completion
            // ring, which has no event of its own. So poll, then back off
            // from 10 µs to 1 ms between looks.
            self.poll_until(libc::POLLOUT, Some(Instant::now() + idle))?;
            if !self.room_ready() {
                std::thread::sleep(left.map_or(idle, |l| l.min(idle)));
                idle = (idle * 2).min(Duration::from_millis(1));
            }
        }
    }

    /// Refuses a send while a reserved descriptor has been written (peeked,
    /// or lent by `buffer_at`): the send would fill and publish it, under the
    /// caller who still holds its frame. Reserved descriptors never peeked
    /// (a `seek` before `send`, as the seed crate's docs do) are the send's
    /// to use.
    #[inline]
    pub(super) fn check_no_written(&mut self, what: &str) -> Result<()> {
        let (first, have) = (self.half.first, self.ring().reserved());
        if have == 0 {
            return Ok(());
        }
        // SAFETY: reserved slots, written by seek_n.
        let written = (0..have).filter(|&i| unsafe { (*self.ring().slot(first.wrapping_add(i))).len } != 0).count();
        if written == 0 {
            return Ok(());
        }
        Err(Error::Busy(format!(
            "{what} on {} queue {}: {written} reserved descriptor{} written through peek or buffer_at and not \
             committed; commit them (or send nothing until then): a send would publish them",
            self.ifname(),
            self.queue_id(),
            if written == 1 { " is" } else { "s are" }
        )))
    }

    /// [`SendExt::send`](crate::SendExt::send).
    #[inline]
    pub(super) fn send_one(&mut self, data: &[u8], header: Option<&[u8]>) -> Result<bool> {
        let h = header.unwrap_or_default();
        let len = h.len() + data.len();
        if len == 0 || len > self.half.max_len as usize {
            if self.half.mb && len != 0 {
                return self.send_chain(h, data);
            }
            return Err(self.bad_len("send", 0, len));
        }
        self.check_no_written("send")?;
        if self.seek()? == 0 {
            return Ok(false);
        }
        let buf = self.peek(len)?;
        buf[..h.len()].copy_from_slice(h);
        buf[h.len()..].copy_from_slice(data);
        self.commit_and_kick(1)?;
        Ok(true)
    }

    /// Sends `header` then `data`, longer than a frame, as a chain of
    /// frames (multi-buffer): every frame but the last is full and carries
    /// `XDP_PKT_CONTD`. All or nothing: `Ok(false)` when there are not
    /// enough free frames or TX slots for the whole chain now (those reserved
    /// stay reserved and unwritten, for the next send); `Error::TooLong`
    /// when the half has fewer TX frames or TX ring entries than the chain
    /// needs, so there never will be.
    #[cold]
    fn send_chain(&mut self, h: &[u8], data: &[u8]) -> Result<bool> {
        let len = h.len() + data.len();
        // Each frame's packet starts after its TX metadata (if any).
        let fs = (self.half.frame_size - self.half.meta.len) as usize;
        let segs = len.div_ceil(fs);
        if len > self.half.packet_max as usize || segs > MAX_CHAIN {
            return Err(self.too_long(len));
        }
        // A chain that could never find room would be "no room" forever
        // (and a send with no deadline would spin): refuse it.
        let ring = self.ring().size() as usize;
        if segs > self.half.frames as usize || segs > ring {
            return Err(Error::TooLong(format!(
                "packet of {len} bytes on {} queue {}: it takes {segs} frames of {fs} bytes, but this socket has \
                 {} tx frames and a tx ring of {ring} entries; give tx_frames and tx_size at least {segs}",
                self.ifname(),
                self.queue_id(),
                self.half.frames
            )));
        }
        self.check_no_written("send")?;
        if self.seek_n(segs)? < segs {
            return Ok(false);
        }
        let first = self.half.first;
        for i in 0..segs {
            let (lo, hi) = (i * fs, ((i + 1) * fs).min(len));
            let buf = self.peek_at(i, hi - lo)?;
            // The bytes lo..hi of header ++ data.
            let mut at = 0;
            if lo < h.len() {
                let c = h.len().min(hi) - lo;
                buf[..c].copy_from_slice(&h[lo..lo + c]);
                at = c;
            }
            let from = (lo + at) - h.len();
            buf[at..].copy_from_slice(&data[from..from + (hi - lo - at)]);
            if i + 1 < segs {
                let slot = self.ring().slot(first.wrapping_add(i as u32));
                // SAFETY: a slot reserved and not submitted (peek_at checked).
                unsafe { (*slot).options = crate::ring::XDP_PKT_CONTD };
            }
        }
        self.commit_and_kick(segs)?;
        Ok(true)
    }

    /// [`Self::send_one`], waiting until `deadline` (`None`: no limit) for
    /// room; `Ok(false)` when it passed first.
    pub(super) fn send_until(&mut self, data: &[u8], header: Option<&[u8]>, deadline: Option<Instant>) -> Result<bool> {
        loop {
            if self.send_one(data, header)? {
                return Ok(true);
            }
            if !self.wait_for_room(deadline)? {
                return Ok(false);
            }
        }
    }

    /// [`SendExt::send_batch`](crate::SendExt::send_batch) for packets laid end
    /// to end in `data`, the `i`-th
    /// `lens[i]` bytes long (one buffer and one call per batch, for bindings).
    /// `data` shorter than the lengths add up to is an error, naming both.
    pub fn send_packed(&mut self, data: &[u8], lens: &[u32]) -> Result<usize> {
        let total: u64 = lens.iter().map(|&l| l as u64).sum();
        if total > data.len() as u64 {
            return Err(Error::invalid(format!(
                "send_packed: the {} lengths add up to {total} bytes, the buffer has {}",
                lens.len(),
                data.len()
            )));
        }
        let packets = lens.iter().scan(0usize, |off, &len| {
            let p = &data[*off..*off + len as usize];
            *off += len as usize;
            Some(p)
        });
        self.send_all("send_packed", packets)
    }

    /// Sends the leading packets whose lengths are sendable, as many as there
    /// is room for, with one kick. Reserves only descriptors it fills, so a
    /// bad packet leaves nothing reserved behind.
    pub(super) fn send_all<'d>(
        &mut self,
        what: &str,
        packets: impl Iterator<Item = &'d [u8]> + Clone,
    ) -> Result<usize> {
        if self.half.mb {
            // Chains take as many frames as they need: one packet at a time.
            let mut n = 0;
            for p in packets {
                match self.send_one(p, None) {
                    Ok(true) => n += 1,
                    Ok(false) => break,
                    Err(e) if n == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            return Ok(n);
        }
        let max = self.half.max_len as usize;
        let good = packets.clone().take_while(|p| !p.is_empty() && p.len() <= max).count();
        if good == 0 {
            return match packets.clone().next() {
                Some(p) => Err(self.bad_len(what, 0, p.len())),
                None => Ok(0),
            };
        }
        self.check_no_written(what)?;
        let n = self.seek_n(good)?.min(good);
        for (i, p) in packets.take(n).enumerate() {
            self.peek_at(i, p.len())?.copy_from_slice(p);
        }
        if n > 0 {
            self.commit_and_kick(n)?;
        }
        Ok(n)
    }

    /// The error for packet `i` of `what` whose length is 0 or over
    /// [`Self::max_len`]: an empty packet would reserve a descriptor that
    /// `commit_n` refuses, so it is refused before anything is reserved.
    #[cold]
    #[inline(never)]
    pub(super) fn bad_len(&self, what: &str, i: usize, len: usize) -> Error {
        match len {
            0 => Error::invalid(format!("{what}: packet {i} has length 0")),
            _ => self.too_long(len),
        }
    }

    /// The error for `commit_lens`'s length `i`, `len`, 0 or too long.
    #[cold]
    #[inline(never)]
    fn bad_commit_len(&self, i: usize, len: u32) -> Error {
        match len {
            0 => Error::invalid(format!("commit_lens: length {i} is 0")),
            l => self.too_long(l as usize).context(&format!("commit_lens: length {i}")),
        }
    }

    #[cold]
    #[inline(never)]
    fn too_long(&self, len: usize) -> Error {
        Error::TooLong(format!(
            "packet of {len} bytes on {} queue {}: the most a frame here carries is {} bytes (frame size {}, and \
             what the interface's MTU allows)",
            self.ifname(),
            self.queue_id(),
            self.half.max_len,
            self.half.frame_size
        ))
    }
}

/// The most frames one multi-buffer packet takes: the kernel's copy mode
/// refuses a chain of more (`MAX_SKB_FRAGS`, 17, measured: a chain of 19 is
/// counted in `tx_invalid_descs`).
pub(crate) const MAX_CHAIN: usize = 17;

/// Calls `f(slots, done, run)` for each run of the `n` TX ring slots from
/// free-running index `at` on that lies before the entries array's end (at
/// most two: before and after the wrap): `slots` points at `run` consecutive
/// entries, the `done`-th to the `done + run - 1`-th of the `n`. So a loop
/// over them needs neither an index mask nor a reload of the ring's
/// geometry per entry. `n` is at most the ring's size.
#[inline(always)]
fn in_runs(ring: &mut TxRing, at: u32, n: u32, mut f: impl FnMut(*mut Desc, u32, u32)) {
    let size = ring.size();
    let mut done = 0;
    while done < n {
        let idx = at.wrapping_add(done);
        // The size is a power of two: the mask is the slot's place.
        let run = (n - done).min(size - (idx & (size - 1)));
        f(ring.slot(idx), done, run);
        done += run;
    }
}

/// The error for a descriptor `commit_n` found never peeked (cold: see
/// `past_seek`).
#[cold]
#[inline(never)]
fn unpeeked(n: usize, i: usize) -> Error {
    Error::invalid(format!("commit_n {n}: descriptor {i} has no packet; peek it with its length first"))
}

/// The error for a reserved TX slot whose address is not a frame of the TX
/// half (the ring was overwritten).
#[cold]
#[inline(never)]
fn not_a_tx_frame(addr: u64) -> Error {
    Error::invalid(format!(
        "reserved tx descriptor names address {addr:#x}, not a frame of this half: the tx ring was overwritten"
    ))
}
