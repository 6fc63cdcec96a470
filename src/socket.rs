//! Socket: an AF_XDP socket bound to one queue of one interface, with its RX
//! and/or TX ring, and (unless the caller brings its own) the process's shared
//! redirect program steering that queue's packets to it.

use crate::error::{errno, Error, Result};
use crate::fork::Owner;
use crate::netdev::Netdev;
use crate::ring::{CompRing, FillRing, RxRing, TxRing};
use crate::umem::{
    check_ring_size, getsockopt, is_zerocopy, ring_for, Bound, Claim, Pool, SockFd, Umem, UmemShared, DEFAULT_FRAMES,
};
use crate::xdp::{self, Attachment, XdpMode};
use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// `XDP_COPY`: force copy mode.
pub const BIND_COPY: u32 = libc::XDP_COPY as u32;
/// `XDP_ZEROCOPY`: force zero-copy mode (fails where the driver lacks it).
pub const BIND_ZEROCOPY: u32 = libc::XDP_ZEROCOPY as u32;
/// `XDP_USE_NEED_WAKEUP`: the kernel says when it needs a syscall to progress.
pub const BIND_NEED_WAKEUP: u32 = libc::XDP_USE_NEED_WAKEUP as u32;
/// `XDP_USE_SG`: multi-buffer (Linux 6.6). A packet longer than a frame
/// arrives as a chain of descriptors, each but the last marked
/// [`crate::ring::XDP_PKT_CONTD`], and a chain on the TX ring is sent as one
/// packet (see [`crate::ring::chain_len`], [`crate::ring::ProdRing::put_packets`]).
/// Without it, a packet longer than a frame is dropped (`rx_dropped`), which is
/// why an RX socket whose frames are shorter than the interface's MTU is
/// refused unless it asks for this or for [`BIND_SHORT_FRAMES`]. The built-in
/// program accepts fragmented packets on kernels that have this flag (see
/// [`crate::xdp::Program::redirect`]).
pub const BIND_SG: u32 = libc::XDP_USE_SG as u32;
/// Not a kernel flag (the kernel's are 16 bits): accept RX frames shorter than
/// what the interface's MTU can deliver, without multi-buffer. Longer packets
/// are then dropped by the kernel and counted in [`Stats::rx_dropped`].
pub const BIND_SHORT_FRAMES: u32 = 1 << 16;
const KNOWN_BIND_FLAGS: u32 = BIND_COPY | BIND_ZEROCOPY | BIND_NEED_WAKEUP | BIND_SG | BIND_SHORT_FRAMES;
/// The bind flags that go to the kernel.
pub(crate) const KERNEL_BIND_FLAGS: u32 = BIND_COPY | BIND_ZEROCOPY | BIND_NEED_WAKEUP | BIND_SG;

/// The smallest TX budget the kernel takes, and the one it uses when none is
/// set (`TX_BATCH_SIZE` in net/xdp/xsk.c).
pub const MIN_TX_BUDGET: u32 = 32;

/// Socket ring sizes, bind flags, XDP program mode and TX budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketConfig {
    /// RX ring entries: a power of two, or 0 for a TX-only socket. At least as
    /// many as the frames lent to the fill ring: when the RX ring is full the
    /// kernel drops the packet (`rx_ring_full`) and keeps its frame for the next
    /// one, so until then that frame is in no ring.
    pub rx_size: u32,
    /// TX ring entries: a power of two, or 0 for an RX-only socket.
    pub tx_size: u32,
    /// `BIND_*` flags.
    pub bind_flags: u32,
    /// Which XDP program steers packets to the socket.
    pub xdp_mode: XdpMode,
    /// Most TX descriptors one kick sends (`XDP_MAX_TX_SKB_BUDGET`, Linux
    /// 6.17). It matters in copy mode (the only mode on veth), where each
    /// [`Socket::kick`] (and each poll that drives TX) sends at most this many
    /// descriptors and returns: with the kernel's own 32, a batch of 256 takes
    /// 8 syscalls. In zero-copy mode the driver paces TX and this has no effect.
    ///
    /// 0 means the library's default: the whole TX ring, the most the kernel
    /// allows (`bench/tx_budget.sh` found nothing faster); on a kernel without the option that
    /// default quietly stays the kernel's 32. Any other value must lie in
    /// [`MIN_TX_BUDGET`]`..=tx_size` and needs a TX ring; a kernel without the
    /// option refuses it (`NotSupported`).
    pub tx_budget: u32,
    /// Busy polling for this socket (`SO_BUSY_POLL`, `SO_PREFER_BUSY_POLL`,
    /// `SO_BUSY_POLL_BUDGET`), set on it at creation; the default sets
    /// nothing and leaves the system's `net.core.busy_read`.
    pub busy_poll: BusyPoll,
}

/// Busy polling of one socket: a receive, send or poll call on it runs the
/// device queue's NAPI poll in the calling thread, instead of waiting for the
/// interrupt and softirq to do it. Each field left at its zero is not set.
///
/// It needs a NAPI context to poll, which the kernel learns from the packets
/// the socket receives (or, in zero-copy mode, from the queue): a driver
/// without NAPI (or veth in skb mode) gives busy polling nothing to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusyPoll {
    /// `SO_BUSY_POLL`: how long one call may busy-poll, in microseconds. The
    /// socket starts with `net.core.busy_read`. Older kernels refuse a value
    /// above the socket's current one without `CAP_NET_ADMIN` (`EPERM`, and
    /// the message says so); Linux 6.18 takes any value from anyone.
    pub usecs: u32,
    /// `SO_BUSY_POLL_BUDGET`: packets one busy-poll round may process (the
    /// kernel's default is 8), at most 65535. Raising it needs
    /// `CAP_NET_ADMIN`, and Linux 5.11.
    pub budget: u32,
    /// `SO_PREFER_BUSY_POLL`: the application drives the queue's NAPI, and
    /// the softirq stays out of its way while it keeps polling (with the
    /// device's `napi_defer_hard_irqs` and `gro_flush_timeout` set: README
    /// "Busy polling"). Needs `CAP_NET_ADMIN`, and Linux 5.11.
    pub prefer: bool,
}

impl BusyPoll {
    /// Whether anything is asked for.
    pub fn is_set(&self) -> bool {
        *self != BusyPoll::default()
    }

    /// Checks the budget's range.
    pub fn validate(&self) -> Result<()> {
        if self.budget > u16::MAX as u32 {
            return Err(Error::invalid(format!(
                "busy poll budget {} is above the kernel's most, {}",
                self.budget,
                u16::MAX
            )));
        }
        Ok(())
    }
}

impl Default for SocketConfig {
    /// The rings of [`SocketConfig::lending`] for a default UMEM's
    /// [`DEFAULT_FRAMES`] (RX and TX of 4096), `BIND_NEED_WAKEUP`, mode
    /// `Auto`, the default TX budget.
    fn default() -> Self {
        SocketConfig::lending(DEFAULT_FRAMES).expect("the default frame count is lendable")
    }
}

impl SocketConfig {
    /// A socket whose RX and TX rings each hold `frames` frames (rounded up to
    /// a power of two), so that every frame of a UMEM sized with
    /// [`crate::umem::UmemConfig::lending`] can be lent to the fill ring, or
    /// be on the TX ring, at once; the other fields are the defaults.
    pub fn lending(frames: u32) -> Result<SocketConfig> {
        let ring = ring_for(frames)?;
        Ok(SocketConfig {
            rx_size: ring,
            tx_size: ring,
            bind_flags: BIND_NEED_WAKEUP,
            xdp_mode: XdpMode::Auto,
            tx_budget: 0,
            busy_poll: BusyPoll::default(),
        })
    }

    /// Checks ring sizes, flags, TX budget and busy polling, naming the bad
    /// value.
    pub fn validate(&self) -> Result<()> {
        self.busy_poll.validate()?;
        check_ring_size("rx ring", self.rx_size, true)?;
        check_ring_size("tx ring", self.tx_size, true)?;
        if self.rx_size == 0 && self.tx_size == 0 {
            return Err(Error::invalid("rx and tx ring sizes are both 0: a socket needs at least one ring"));
        }
        let f = self.bind_flags;
        if f & !KNOWN_BIND_FLAGS != 0 {
            return Err(Error::invalid(format!(
                "bind flags {f:#x}: unknown bits {:#x} (known: COPY {BIND_COPY:#x}, ZEROCOPY {BIND_ZEROCOPY:#x}, \
                 NEED_WAKEUP {BIND_NEED_WAKEUP:#x}, SG {BIND_SG:#x}, SHORT_FRAMES {BIND_SHORT_FRAMES:#x})",
                f & !KNOWN_BIND_FLAGS
            )));
        }
        if f & BIND_COPY != 0 && f & BIND_ZEROCOPY != 0 {
            return Err(Error::invalid(format!("bind flags {f:#x}: COPY and ZEROCOPY exclude each other")));
        }
        let b = self.tx_budget;
        if b != 0 && self.tx_size == 0 {
            return Err(Error::invalid(format!("tx budget {b}: the socket has no tx ring (tx_size 0); leave it 0")));
        }
        if b != 0 && !(MIN_TX_BUDGET..=self.tx_size).contains(&b) {
            return Err(Error::invalid(format!(
                "tx budget {b} is outside {MIN_TX_BUDGET}..={} (the tx ring size), or 0 for the default",
                self.tx_size
            )));
        }
        Ok(())
    }

    /// The TX budget the socket asks the kernel for: `tx_budget`, or for 0
    /// the TX ring's size. `None` when it asks for
    /// none: no TX ring, or a default on a ring smaller than [`MIN_TX_BUDGET`]
    /// (the kernel takes no budget above the ring, and its own 32 already
    /// covers such a ring).
    pub fn resolved_tx_budget(&self) -> Option<u32> {
        if self.tx_budget != 0 {
            return Some(self.tx_budget);
        }
        (self.tx_size >= MIN_TX_BUDGET).then_some(self.tx_size)
    }
}

/// The kernel's `XDP_STATISTICS` counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Dropped for other reasons: the frame could not hold the packet, or (in
    /// copy mode, together with `rx_fill_ring_empty_descs`) there was no frame.
    pub rx_dropped: u64,
    /// Dropped because of an invalid fill descriptor.
    pub rx_invalid_descs: u64,
    /// TX descriptors the kernel rejected. On a socket that runs on its
    /// pool's fd (the first socket on its queue, or one that took the fd over),
    /// this includes the unsent descriptors of the sockets dropped on that fd
    /// before it (see [`Socket`]). In copy mode, Linux 6.12 and 6.18 hand a
    /// rejected descriptor's address back on the completion ring; 6.1 does
    /// not.
    pub tx_invalid_descs: u64,
    /// Dropped because the RX ring was full.
    pub rx_ring_full: u64,
    /// Times the fill ring was empty when a packet arrived.
    pub rx_fill_ring_empty_descs: u64,
    /// Times the TX ring was empty when the kernel looked. The kernel looks
    /// whenever the socket is woken for TX, and in copy mode every `poll`
    /// does that: a socket that has a TX ring and only receives (the default
    /// config has both rings) counts one here per poll. Create it with
    /// `tx_size: 0` if it never sends.
    pub tx_ring_empty_descs: u64,
}

/// An AF_XDP socket bound to `(interface, queue)`.
///
/// Dropping it removes it from the built-in program's XSKMAP and detaches the
/// program with the process's last socket on the interface. A UMEM's first
/// socket runs on the UMEM's own fd, and the first socket on any other queue
/// on the fd of that queue's pool (see [`Umem`]); the kernel cannot unbind
/// either: dropping such a socket leaves its fd bound, so the queue stays held
/// until the [`Umem`] and every socket on it are gone, and the next socket on
/// the same queue with the same ring sizes takes the fd over (RX entries not
/// yet read included). Its
/// TX descriptors the kernel has not consumed are dropped, never sent, as
/// closing any other socket drops them: the kernel rejects each one (in copy
/// mode before the drop returns), and they count in the `tx_invalid_descs`
/// that the next socket on the fd reports ([`Stats::tx_invalid_descs`]). With
/// [`XdpMode::None`], delete its entry from your own XSKMAP before dropping it.
pub struct Socket {
    // Each ring in its own cell (which also keeps the Option's tag outside
    // it), so that the C ABI can hand out a ring pointer that stays valid while
    // other calls borrow the Socket shared (see `rx_ptr`).
    rx: Option<UnsafeCell<RxRing>>,
    tx: Option<UnsafeCell<TxRing>>,
    fd: SockFd,
    xdp: Option<Attachment>,
    /// The buffer pool of its queue: its fill and completion rings. Dropped
    /// by hand, under the UMEM's list of pools (see `Drop`).
    pool: ManuallyDrop<Arc<Pool>>,
    umem: Arc<UmemShared>,
    dev: Netdev,
    queue_id: u32,
    bound: Bound,
    owner: Owner,
    /// The last `SO_BUSY_POLL_BUDGET` set through this socket (0: none): the
    /// kernel has no getsockopt for it.
    busy_poll_budget: AtomicU32,
}

impl Socket {
    /// Creates a socket on `ifname` queue `queue_id` over `umem`, binds it, and
    /// (mode other than `None`, and an RX ring) steers the queue to it with the
    /// built-in program. A TX-only socket attaches nothing: there is nothing to
    /// redirect into.
    ///
    /// The interface is looked up in the calling thread's network namespace.
    /// Sockets sharing one UMEM may sit on any queues and interfaces there
    /// (see [`Umem`] and [`Umem::rings_for`] for their fill and completion
    /// rings), and run with the first socket's bind flags (the kernel binds a shared socket
    /// with none of its own): asking for zero-copy, copy mode or need_wakeup
    /// that the first socket's bind does not have is refused, naming why;
    /// asking for less is fine ([`Socket::bind_flags`] tells what is in force).
    ///
    /// It may wait: a bind the kernel finds busy is retried for up to 2 s, but
    /// only while the queue's holder is known to be going away, and attaching
    /// the built-in program for up to 1 s after this process detached it from
    /// the interface. The C header's `xsk_rs_socket_create` has the exact
    /// rules, and what a failed create leaves behind.
    pub fn new(ifname: &str, queue_id: u32, umem: &Umem, cfg: &SocketConfig) -> Result<Socket> {
        umem.shared().owner().check(&format!("socket on {ifname} queue {queue_id}"))?;
        cfg.validate()?;
        let dev = Netdev::lookup(ifname)?;
        dev.check_queue(queue_id, cfg.rx_size > 0, cfg.tx_size > 0)?;
        let ctx = format!("socket on {ifname} queue {queue_id}");
        if cfg.bind_flags & BIND_SG != 0 {
            crate::features::Feature::MultiBuffer.require(&ctx)?;
        }
        check_frame_fits(&dev, umem, cfg, &ctx)?;
        let shared = Arc::clone(umem.shared());
        if shared.netns() != dev.netns {
            // The UMEM's fd would resolve the ifindex in its own namespace, where
            // it may name a different device.
            return Err(Error::invalid(format!(
                "{ctx}: the umem was created in another network namespace than {ifname}; \
                 create the umem on a thread in the interface's namespace"
            )));
        }

        // Steer first: if the interface carries a foreign program, fail before
        // anything is bound.
        let xdp = match cfg.xdp_mode {
            XdpMode::None => None,
            _ if cfg.rx_size == 0 => None,
            mode => Some(Attachment::acquire(&dev, mode)?),
        };
        let Claim { fd, rx, tx, bound, pool } = umem.claim(&dev, queue_id, cfg, &ctx)?;
        // From here on, Drop undoes everything.
        let (rx, tx) = (rx.map(UnsafeCell::new), tx.map(UnsafeCell::new));
        let pool = ManuallyDrop::new(pool);
        let sock = Socket {
            rx,
            tx,
            fd,
            xdp,
            pool,
            umem: shared,
            dev,
            queue_id,
            bound,
            owner: Owner::current(),
            busy_poll_budget: AtomicU32::new(0),
        };
        if cfg.busy_poll.is_set() {
            sock.set_busy_poll(&cfg.busy_poll)?;
        }
        if let Some(x) = &sock.xdp {
            x.insert(queue_id, sock.fd())?;
        }
        Ok(sock)
    }

    /// The socket's fd (for poll/epoll; do not close it).
    pub fn fd(&self) -> RawFd {
        self.fd.raw()
    }

    /// The RX ring, if the socket has one.
    pub fn rx(&mut self) -> Option<&mut RxRing> {
        self.rx.as_mut().map(UnsafeCell::get_mut)
    }

    /// The TX ring, if the socket has one.
    pub fn tx(&mut self) -> Option<&mut TxRing> {
        self.tx.as_mut().map(UnsafeCell::get_mut)
    }

    /// Both rings at once.
    pub fn rings(&mut self) -> (Option<&mut RxRing>, Option<&mut TxRing>) {
        (self.rx.as_mut().map(UnsafeCell::get_mut), self.tx.as_mut().map(UnsafeCell::get_mut))
    }

    /// The RX ring for the C ABI, or NULL: one thread may use it while others
    /// call `&self` methods such as kick and poll (the rings are not `Sync`;
    /// the C caller keeps each one to a thread at a time, as the header says).
    /// Valid while `self` is.
    pub(crate) fn rx_ptr(&self) -> *mut RxRing {
        self.rx.as_ref().map_or(std::ptr::null_mut(), UnsafeCell::get)
    }

    /// The TX ring for the C ABI, or NULL (as [`Self::rx_ptr`]).
    pub(crate) fn tx_ptr(&self) -> *mut TxRing {
        self.tx.as_ref().map_or(std::ptr::null_mut(), UnsafeCell::get)
    }

    /// The fill ring of the socket's queue for the C ABI (shared by the
    /// UMEM's sockets on that queue; one thread at a time, as the header
    /// says). Valid while `self` is.
    pub(crate) fn fill_ptr(&self) -> *mut FillRing {
        self.pool.fill_ptr()
    }

    /// The completion ring of the socket's queue for the C ABI (as
    /// [`Self::fill_ptr`]).
    pub(crate) fn comp_ptr(&self) -> *mut CompRing {
        self.pool.comp_ptr()
    }

    /// The socket's pool, if the socket is on the UMEM `umem`.
    pub(crate) fn pool_of(&self, umem: &Arc<UmemShared>) -> Option<&Pool> {
        Arc::ptr_eq(&self.umem, umem).then_some(&*self.pool)
    }

    pub fn ifname(&self) -> &str {
        &self.dev.name
    }

    pub fn ifindex(&self) -> u32 {
        self.dev.ifindex
    }

    pub fn queue_id(&self) -> u32 {
        self.queue_id
    }

    /// The fd of the built-in program's XSKMAP that steers this socket's
    /// queue (shared by this process's sockets on the interface; do not
    /// close it), or `None` when the library attached nothing.
    pub fn xskmap_fd(&self) -> Option<RawFd> {
        self.xdp.as_ref().map(Attachment::map_fd)
    }

    /// The mode the built-in program really runs in (`Skb` or `Drv`), or `None`.
    pub fn xdp_mode(&self) -> XdpMode {
        self.xdp.as_ref().map_or(XdpMode::None, |x| x.mode())
    }

    /// Tells the kernel to process the TX ring (`sendto` with `MSG_DONTWAIT`);
    /// in copy mode it sends at most the socket's TX budget ([`SocketConfig::tx_budget`]).
    /// `EAGAIN`, `EBUSY`, `ENOBUFS` and `ENETDOWN` mean "try again later" and are
    /// not errors. A socket without a TX ring is refused: the kernel answers it
    /// with `ENOBUFS`, which would otherwise pass for "try again" forever.
    pub fn kick(&self) -> Result<()> {
        self.owner.check("kick tx")?;
        if self.tx.is_none() {
            return Err(Error::invalid(format!(
                "kick tx on {} queue {}: the socket has no tx ring (created with tx_size 0)",
                self.dev.name, self.queue_id
            )));
        }
        // SAFETY: zero-length send with no buffer and no address.
        let rc = unsafe { libc::sendto(self.fd(), std::ptr::null(), 0, libc::MSG_DONTWAIT, std::ptr::null(), 0) };
        if rc >= 0 {
            return Ok(());
        }
        match errno() {
            libc::EAGAIN | libc::EBUSY | libc::ENOBUFS | libc::ENETDOWN | libc::EINTR => Ok(()),
            libc::ENXIO => Err(self.gone("kick tx")),
            e => Err(Error::from_errno(format!("kick tx on {} queue {}", self.dev.name, self.queue_id), e)),
        }
    }

    /// Tells the kernel to take frames from the fill ring (`recvfrom` with
    /// `MSG_DONTWAIT`, as libxdp's samples do when the fill ring
    /// [needs a wakeup](crate::ring::ProdRing::needs_wakeup)). "Try again"
    /// answers are not errors, as for [`Socket::kick`].
    pub fn wake_rx(&self) -> Result<()> {
        self.owner.check("wake rx")?;
        // SAFETY: zero-length receive with no buffer and no address.
        let rc = unsafe {
            libc::recvfrom(
                self.fd(),
                std::ptr::null_mut(),
                0,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc >= 0 {
            return Ok(());
        }
        match errno() {
            libc::EAGAIN | libc::EBUSY | libc::ENOBUFS | libc::ENETDOWN | libc::EINTR => Ok(()),
            libc::ENXIO => Err(self.gone("wake rx")),
            e => Err(Error::from_errno(format!("wake rx on {} queue {}", self.dev.name, self.queue_id), e)),
        }
    }

    /// Refuses `what` in a forked child that inherited the socket (its rings
    /// there are zeroed memory; see `crate::fork`).
    #[inline]
    pub(crate) fn check_owner(&self, what: &str) -> Result<()> {
        self.owner.check(what)
    }

    /// The error for a socket the kernel has unbound for good (`ENXIO`): its
    /// interface was deleted or moved to another network namespace.
    fn gone(&self, what: &str) -> Error {
        Error::NoDevice(format!(
            "{what} on {} queue {}: the interface was deleted or moved to another network namespace, and the \
             kernel unbound the socket for good; destroy it and its umem and create new ones",
            self.dev.name, self.queue_id
        ))
    }

    /// `poll(2)` on the socket: `Ok(n > 0)` when ready, `Ok(0)` on timeout.
    pub fn poll(&self, events: i16, timeout_ms: i32) -> Result<i32> {
        self.owner.check("poll")?;
        let mut pfd = libc::pollfd { fd: self.fd(), events, revents: 0 };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if rc < 0 {
            return Err(Error::from_errno(format!("poll {} queue {}", self.dev.name, self.queue_id), errno()));
        }
        Ok(rc)
    }

    /// The kernel's counters. Kernels older than 5.9 report only the first
    /// three; the rest read 0.
    pub fn stats(&self) -> Result<Stats> {
        self.owner.check("get statistics")?;
        // SAFETY: xdp_statistics is plain integers.
        let (s, _) = unsafe { getsockopt::<libc::xdp_statistics>(self.fd(), libc::XDP_STATISTICS, "get statistics")? };
        Ok(Stats {
            rx_dropped: s.rx_dropped,
            rx_invalid_descs: s.rx_invalid_descs,
            tx_invalid_descs: s.tx_invalid_descs,
            rx_ring_full: s.rx_ring_full,
            rx_fill_ring_empty_descs: s.rx_fill_ring_empty_descs,
            tx_ring_empty_descs: s.tx_ring_empty_descs,
        })
    }

    /// Whether the socket runs in zero-copy mode (`XDP_OPTIONS`).
    pub fn is_zerocopy(&self) -> Result<bool> {
        self.owner.check("get xdp options")?;
        is_zerocopy(self.fd())
    }

    /// The `BIND_*` flags in force for the socket: its own for the first
    /// socket on a UMEM, the first socket's for every later one.
    pub fn bind_flags(&self) -> u32 {
        self.bound.flags
    }

    /// Sets the socket's busy polling: each field of `bp` that is not zero
    /// (for `prefer`, true); the others keep their values. `EOPNOTSUPP`
    /// (naming Linux 5.11) for a budget or preference on a kernel without
    /// them; `EPERM`, saying which capability or sysctl it takes, when the
    /// kernel refuses the caller.
    pub fn set_busy_poll(&self, bp: &BusyPoll) -> Result<()> {
        self.owner.check("set busy poll")?;
        bp.validate()?;
        let ctx = format!("busy poll on {} queue {}", self.dev.name, self.queue_id);
        if bp.prefer || bp.budget != 0 {
            crate::features::Feature::PreferBusyPoll.require(&ctx)?;
        }
        let set = |opt: libc::c_int, name: &str, v: u32, eperm: &dyn Fn() -> String| -> Result<()> {
            let v = v as libc::c_int;
            // SAFETY: v is a live c_int and the length is its size.
            let rc = unsafe {
                libc::setsockopt(
                    self.fd(),
                    libc::SOL_SOCKET,
                    opt,
                    (&v as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            match (rc, errno()) {
                (0, _) => Ok(()),
                (_, libc::EPERM) => Err(Error::from_errno(format!("{ctx}: set {name} {v}: {}", eperm()), libc::EPERM)),
                (_, e) => Err(Error::from_errno(format!("{ctx}: set {name} {v}"), e)),
            }
        };
        if bp.usecs != 0 {
            let now = self.busy_poll()?.usecs;
            set(libc::SO_BUSY_POLL, "SO_BUSY_POLL", bp.usecs, &|| {
                format!(
                    "a value above the socket's {now} µs (net.core.busy_read) needs CAP_NET_ADMIN; run with it, \
                     or raise the default with `sysctl net.core.busy_read={}`",
                    bp.usecs
                )
            })?;
        }
        if bp.budget != 0 {
            let now = self.busy_poll()?.budget;
            set(libc::SO_BUSY_POLL_BUDGET, "SO_BUSY_POLL_BUDGET", bp.budget, &|| {
                format!("a budget above the socket's {now} needs CAP_NET_ADMIN")
            })?;
            self.busy_poll_budget.store(bp.budget, Ordering::Relaxed);
        }
        if bp.prefer {
            set(libc::SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL", 1, &|| {
                "preferring busy polling needs CAP_NET_ADMIN".into()
            })?;
        }
        Ok(())
    }

    /// The socket's busy polling: `SO_BUSY_POLL` in µs and
    /// `SO_PREFER_BUSY_POLL` as the kernel holds them (`getsockopt`; the
    /// latter reads false on a kernel before 5.11), and the budget last set
    /// through this socket (0: none, the kernel's 8), since the kernel has no
    /// getsockopt for `SO_BUSY_POLL_BUDGET`.
    pub fn busy_poll(&self) -> Result<BusyPoll> {
        self.owner.check("get busy poll")?;
        let get = |opt: libc::c_int, name: &str| -> Result<u32> {
            let mut v: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: v and len are live and len is v's size.
            let rc = unsafe {
                libc::getsockopt(self.fd(), libc::SOL_SOCKET, opt, (&mut v as *mut libc::c_int).cast(), &mut len)
            };
            match (rc, errno()) {
                (0, _) => Ok(v as u32),
                (_, libc::ENOPROTOOPT) if opt != libc::SO_BUSY_POLL => Ok(0),
                (_, e) => Err(Error::from_errno(
                    format!("busy poll on {} queue {}: get {name}", self.dev.name, self.queue_id),
                    e,
                )),
            }
        };
        Ok(BusyPoll {
            usecs: get(libc::SO_BUSY_POLL, "SO_BUSY_POLL")?,
            budget: self.busy_poll_budget.load(Ordering::Relaxed),
            prefer: get(libc::SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL")? != 0,
        })
    }

    /// Inserts this socket into a caller-owned XSKMAP at its queue id (for
    /// sockets created with `XdpMode::None`). Refused for a socket without an
    /// RX ring: packets redirected to it would have nowhere to go.
    pub fn update_xskmap(&self, map_fd: RawFd) -> Result<()> {
        self.owner.check("update xskmap")?;
        if self.rx.is_none() {
            return Err(Error::invalid(format!(
                "update xskmap: socket on {} queue {} has no rx ring; only sockets created with rx_size > 0 \
                 can receive redirected packets",
                self.dev.name, self.queue_id
            )));
        }
        xdp::update_xskmap(map_fd, self.queue_id, self.fd())
    }
}

/// Refuses an RX socket without multi-buffer whose frames cannot hold the
/// longest frame the interface delivers (its MTU plus the Ethernet and VLAN
/// headers): the kernel would drop every longer packet, counted only in
/// `rx_dropped`. [`BIND_SHORT_FRAMES`] accepts that.
fn check_frame_fits(dev: &Netdev, umem: &Umem, cfg: &SocketConfig, ctx: &str) -> Result<()> {
    if cfg.rx_size == 0 || cfg.bind_flags & (BIND_SG | BIND_SHORT_FRAMES) != 0 {
        return Ok(());
    }
    let room = umem.frame_size().saturating_sub(crate::umem::XDP_PACKET_HEADROOM + umem.frame_headroom());
    let need = dev.max_frame_len();
    if room >= need {
        return Ok(());
    }
    Err(Error::TooLong(format!(
        "{ctx}: the interface's MTU {} delivers frames of up to {need} bytes (with the Ethernet and VLAN \
         headers), but a frame of {} bytes holds {room} after the {} bytes of headroom, and the kernel would drop \
         every longer packet; use larger frames, or multi-buffer (BIND_SG, Linux 6.6), or accept the drops with \
         BIND_SHORT_FRAMES",
        dev.mtu,
        umem.frame_size(),
        crate::umem::XDP_PACKET_HEADROOM + umem.frame_headroom()
    )))
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.owner.inherited() {
            // A forked child's copy: its fd and rings are inert there (see
            // `crate::fork`); free them without touching the parent's XSKMAP
            // or the UMEM's state, whose lock another thread of the parent
            // may have held at fork. The count is an atomic: the child can
            // then destroy the UMEM it inherited too.
            self.umem.socket_removed();
            // SAFETY: the field is not used again.
            unsafe { ManuallyDrop::drop(&mut self.pool) };
            return;
        }
        if let Some(x) = &self.xdp {
            x.remove(self.queue_id, self.fd());
        }
        let fd = std::mem::replace(&mut self.fd, SockFd::Pool(-1));
        self.pool.release(fd, self.rx.take().map(UnsafeCell::into_inner), self.tx.take().map(UnsafeCell::into_inner));
        // SAFETY: the field is not used again.
        let pool = unsafe { ManuallyDrop::take(&mut self.pool) };
        self.umem.let_go(pool);
        self.umem.socket_removed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let d = SocketConfig::default();
        assert_eq!(
            (d.rx_size, d.tx_size, d.bind_flags, d.xdp_mode, d.tx_budget),
            (4096, 4096, BIND_NEED_WAKEUP, XdpMode::Auto, 0)
        );
        d.validate().unwrap();
        assert_eq!(d.resolved_tx_budget(), Some(4096));
        assert_eq!(SocketConfig::lending(3000).unwrap(), SocketConfig { rx_size: 4096, tx_size: 4096, ..d });
        assert_eq!((BIND_COPY, BIND_ZEROCOPY, BIND_NEED_WAKEUP), (2, 4, 8));
    }

    #[test]
    fn bad_configs_are_named() {
        let d = SocketConfig { rx_size: 2048, tx_size: 2048, ..SocketConfig::default() };
        let msg = |c: SocketConfig| {
            let e = c.validate().unwrap_err();
            assert_eq!(e.errno(), libc::EINVAL);
            e.to_string()
        };
        assert!(msg(SocketConfig { rx_size: 1000, ..d }).contains("rx ring size 1000"));
        assert!(msg(SocketConfig { tx_size: 3, ..d }).contains("tx ring size 3"));
        assert!(msg(SocketConfig { rx_size: 0, tx_size: 0, ..d }).contains("both 0"));
        assert!(msg(SocketConfig { bind_flags: 0x100, ..d }).contains("unknown bits 0x100"));
        assert!(msg(SocketConfig { bind_flags: BIND_COPY | BIND_ZEROCOPY, ..d }).contains("exclude"));
        SocketConfig { rx_size: 0, ..d }.validate().unwrap();
        SocketConfig { tx_size: 0, bind_flags: 0, ..d }.validate().unwrap();
        assert!(msg(SocketConfig { tx_budget: 31, ..d }).contains("tx budget 31 is outside 32..=2048"));
        assert!(msg(SocketConfig { tx_budget: 2049, ..d }).contains("tx budget 2049 is outside 32..=2048"));
        assert!(msg(SocketConfig { tx_size: 64, tx_budget: 128, ..d }).contains("tx budget 128 is outside 32..=64"));
        assert!(
            msg(SocketConfig { tx_size: 0, tx_budget: 64, ..d }).contains("tx budget 64: the socket has no tx ring")
        );
        // A small ring takes no explicit budget at all: the kernel's range is empty.
        assert!(msg(SocketConfig { tx_size: 16, tx_budget: 32, ..d }).contains("tx budget 32 is outside 32..=16"));
        for b in [32, 33, 100, 2048] {
            SocketConfig { tx_budget: b, ..d }.validate().unwrap();
        }
    }

    #[test]
    fn tx_budget_resolution() {
        let d = SocketConfig::default();
        let r = |tx_size, tx_budget| SocketConfig { tx_size, tx_budget, ..d }.resolved_tx_budget();
        assert_eq!(r(2048, 100), Some(100));
        assert_eq!(r(512, 0), Some(512));
        assert_eq!(r(32, 0), Some(32));
        // Below the kernel's minimum the default asks for nothing; without a
        // TX ring there is nothing to ask.
        assert_eq!(r(16, 0), None);
        assert_eq!(r(0, 0), None);
    }
}
