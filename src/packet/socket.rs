//! `Socket<D>`: one half of a packet-layer socket, and what both halves share.

use super::config::Plan;
use super::rx::Rx;
use super::shared_umem::SharedUmemInner;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::socket::{Socket as XskSocket, Stats};
use crate::umem::Umem;
use crate::xdp::XdpMode;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One half of an AF_XDP socket: [`TxSocket`] sends, [`RxSocket`] receives.
///
/// A half owns its two rings (TX and completion, or RX and fill) and its own
/// frames, so it needs no lock; it is `Send` but not `Sync`: move it to the
/// thread that uses it. The socket, its UMEM and (for an RX half) the XDP
/// program's steering go when both halves are dropped.
pub struct Socket<D> {
    pub(super) shared: Arc<Shared>,
    pub(super) half: D,
}

/// The sending half.
pub type TxSocket = Socket<Tx>;
/// The receiving half.
pub type RxSocket = Socket<Rx>;

/// The AF_XDP socket and its UMEM, shared by the halves.
pub(crate) struct Shared {
    // The socket first: it must go before its UMEM.
    pub(super) sock: XskSocket,
    umem: Hold,
}

/// The UMEM a socket's frames are in.
enum Hold {
    /// Its own, made with it.
    Own(Umem),
    /// A [`SharedUmem`]'s, where the socket owns a range of frames.
    Shared(Arc<SharedUmemInner>),
}

// SAFETY: the halves reach the four rings only through the raw pointers each
// was given at `split` (TX + completion to the TX half, RX + fill to the RX
// half), so no ring is ever used from two threads. Through `&Shared` they
// call only `&self` methods of the socket and UMEM (kick, wake, poll, stats,
// options, the area's address and geometry), which touch no ring and are
// plain syscalls on the fd or reads of values fixed at creation.
unsafe impl Sync for Shared {}
// SAFETY: as above; the socket and UMEM are Send themselves, the cells that
// make them !Sync hold rings used by one half each.
unsafe impl Send for Shared {}

impl Shared {
    pub(super) fn create(ifname: &str, queue: u32, plan: &Plan) -> Result<Shared> {
        let umem = Umem::with_pages(&plan.umem, plan.pages)?;
        let sock = XskSocket::new(ifname, queue, &umem, &plan.sock)?;
        Ok(Shared { sock, umem: Hold::Own(umem) })
    }

    /// A socket on `on`'s UMEM, whose frames `plan.first_frame..` it owns.
    pub(super) fn create_on(on: &Arc<SharedUmemInner>, ifname: &str, queue: u32, plan: &Plan) -> Result<Shared> {
        let sock = XskSocket::new(ifname, queue, on.umem(), &plan.sock)?;
        Ok(Shared { sock, umem: Hold::Shared(Arc::clone(on)) })
    }

    pub(super) fn umem(&self) -> &Umem {
        match &self.umem {
            Hold::Own(u) => u,
            Hold::Shared(s) => s.umem(),
        }
    }
}

/// Splits a created socket into the halves its plan asks for.
pub(super) fn split(shared: Shared, plan: &Plan) -> (Option<Socket<Tx>>, Option<Socket<Rx>>) {
    let shared = Arc::new(shared);
    let tx = (plan.tx_frames > 0).then(|| Socket { half: Tx::new(&shared, plan), shared: Arc::clone(&shared) });
    let rx = (plan.rx_frames > 0).then(|| Socket { half: Rx::new(&shared, plan), shared: Arc::clone(&shared) });
    (tx, rx)
}

impl<D> Socket<D> {
    /// The socket's fd, for poll/epoll or an async runtime (both halves share
    /// it). Do not close it.
    pub fn fd(&self) -> RawFd {
        self.shared.sock.fd()
    }

    /// The kernel's counters for the socket (shared by both halves).
    pub fn stats(&self) -> Result<Stats> {
        self.shared.sock.stats()
    }

    /// Whether the socket runs in zero-copy mode.
    pub fn is_zerocopy(&self) -> Result<bool> {
        self.shared.sock.is_zerocopy()
    }

    /// The mode the built-in XDP program runs in (`Skb` or `Drv`), or
    /// `XdpMode::None` when nothing was attached (a TX-only socket, or
    /// `xdp_mode: Some(XdpMode::None)`).
    pub fn xdp_mode(&self) -> XdpMode {
        self.shared.sock.xdp_mode()
    }

    /// The interface's name.
    pub fn ifname(&self) -> &str {
        self.shared.sock.ifname()
    }

    /// The interface's index.
    pub fn ifindex(&self) -> u32 {
        self.shared.sock.ifindex()
    }

    /// The queue the socket is bound to.
    pub fn queue_id(&self) -> u32 {
        self.shared.sock.queue_id()
    }

    /// The bytes in each frame.
    pub fn frame_size(&self) -> usize {
        self.shared.umem().frame_size() as usize
    }

    /// `poll(2)` on the fd for `events` until `deadline` (`None`: no limit),
    /// across signals. `Ok(true)` when an event came, `Ok(false)` at the deadline.
    pub(super) fn poll_until(&self, events: i16, deadline: Option<Instant>) -> Result<bool> {
        loop {
            let ms = match deadline {
                None => -1,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    None => 0,
                    // Round up, so the wait never ends before the deadline.
                    Some(left) => i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX),
                },
            };
            match self.shared.sock.poll(events, ms) {
                Ok(0) if ms == 0 => return Ok(false),
                Ok(0) => continue,
                Ok(_) => return Ok(true),
                Err(e) if e.errno() == libc::EINTR => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl<D> AsRawFd for Socket<D> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd()
    }
}

impl<D> AsFd for Socket<D> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd stays open while the shared socket lives, which is at
        // least as long as `self`.
        unsafe { BorrowedFd::borrow_raw(self.fd()) }
    }
}

impl<D> std::fmt::Debug for Socket<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(std::any::type_name::<D>().rsplit("::").next().unwrap_or("Socket"))
            .field("ifname", &self.ifname())
            .field("queue_id", &self.queue_id())
            .field("fd", &self.fd())
            .finish()
    }
}

/// The deadline `timeout` from now (`None`: none).
pub(super) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now().checked_add(t).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 32)))
}

/// The error for an index past what `seek` found. Cold and never inlined,
/// like every error the hot calls build, so that their fast paths stay small
/// enough to inline.
#[cold]
#[inline(never)]
pub(super) fn past_seek(what: &str, i: usize, have: u32) -> Error {
    Error::invalid(format!(
        "{what} {i}: only {have} descriptor{} found by seek and not yet committed; call seek_n first",
        if have == 1 { "" } else { "s" }
    ))
}
