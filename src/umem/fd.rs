//! The UMEM's fd, from registration to close: the one state machine of the
//! core, with every transition next to the state it changes.
//!
//! The kernel ties a UMEM to the AF_XDP socket it was registered on, and that
//! socket can be bound once, to one queue, for good: the kernel has no unbind,
//! and the fill and completion rings (mapped from that fd before its bind, the
//! only time they can be) pin it while the UMEM lives. So:
//!
//! * **fresh**: registered, nothing set. The first socket sets the RX/TX ring
//!   sizes it wants (each once per fd), maps its rings, and binds the fd.
//!   A bind that fails leaves the sizes set and the rings parked here; a retry
//!   with other sizes gets a fresh fd (the UMEM is registered anew on it, see
//!   [`Umem::renew`]), so a failed create leaves nothing a later one can trip on.
//! * **bound, in use**: the fd is the first socket's own.
//! * **bound, free**: that socket is gone; the fd stays bound and keeps its
//!   rings, minus the TX descriptors the kernel had not consumed (dropped, as
//!   closing any other socket drops them), and the next socket on the same
//!   queue with the same ring sizes takes it over. Other sockets share the
//!   UMEM on their own fds (`XDP_SHARED_UMEM`), with the bind flags in force
//!   on this one.
//! * **dead**: the kernel unbound the fd because its interface went away
//!   (deleted, or moved to another namespace); no socket can use the UMEM again.
//!
//! Closing the fd (with the UMEM) releases its queue, one RCU grace period
//! later: the process-wide [`Queues`] record lets this process's next bind wait
//! for exactly that, and nothing else.
//!
//! A UMEM shared across queues has one such fd per queue, each with the
//! kernel's buffer pool of that queue ([`Pool`]): the UMEM's own fd for the
//! queue of its first socket, and for any other queue the fd of its first
//! socket, which sets up fill and completion rings of its own and binds with
//! `XDP_SHARED_UMEM` naming the UMEM's fd. Such a pool is born bound, runs
//! the same bound states (its fd parked and taken over as above), and goes
//! with the last socket on its queue, which frees the queue; the UMEM's own
//! fd stays until the UMEM goes.

use super::{map_umem_rings, mmap_offsets, register_fd, set_ring_size, setsockopt, Umem, UmemShared};
use crate::error::{errno, Error, Result};
use crate::fork::{Owner, ProcessFd};
use crate::netdev::{Netdev, NetnsId};
use crate::ring::{CompRing, Desc, FillRing, RxRing, TxRing, WakeupGate};
use crate::socket::{SocketConfig, BIND_COPY, BIND_NEED_WAKEUP, BIND_ZEROCOPY};
use crate::sys;
use std::cell::UnsafeCell;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Where a UMEM's own fd is bound: `(netns, ifindex, queue)`.
pub(crate) type BindKey = (NetnsId, u32, u32);

/// How long a bind keeps retrying `EBUSY` while the queue's holder is known
/// to be going away. The kernel frees a queue one RCU grace period after its
/// socket's last reference closes (measured 12 to 28 ms on an idle 2-core
/// machine); the bound is for a loaded one.
const BIND_BUSY_RETRY: Duration = Duration::from_secs(2);

/// How many recent queue releases the process remembers.
const RELEASED_SLOTS: usize = 8;

/// An AF_XDP socket fd of this process, counted per network namespace so that
/// a busy queue's holder can be told apart from this process's own sockets.
pub(crate) struct XskFd {
    fd: ProcessFd,
    netns: NetnsId,
    owner: Owner,
}

impl XskFd {
    /// `socket(AF_XDP)` in the calling thread's namespace `netns`.
    pub(crate) fn open(netns: NetnsId, ctx: &str) -> Result<XskFd> {
        let fd = ProcessFd::open(|| {
            // SAFETY: plain socket(2); ownership taken right away.
            let raw = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
            if raw < 0 {
                return Err(Error::last_os(format!("{ctx}socket(AF_XDP)")));
            }
            // SAFETY: raw is a fresh fd nobody else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(raw) })
        })?;
        queues().count(netns, 1);
        Ok(XskFd { fd, netns, owner: Owner::current() })
    }

    /// Takes over a caller's AF_XDP socket `fd`, created in `netns`.
    pub(crate) fn adopt(netns: NetnsId, fd: OwnedFd) -> XskFd {
        let fd = ProcessFd::open(|| Ok::<_, std::convert::Infallible>(fd)).unwrap_or_else(|never| match never {});
        queues().count(netns, 1);
        XskFd { fd, netns, owner: Owner::current() }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The process that opened it.
    pub(crate) fn owner(&self) -> Owner {
        self.owner
    }
}

impl Drop for XskFd {
    fn drop(&mut self) {
        if !self.owner.inherited() {
            queues().count(self.netns, -1);
        }
    }
}

/// What this process knows about queues: the ones its UMEMs hold, the ones
/// it released lately, and how many AF_XDP sockets it has per namespace.
/// Plain vectors and an array: a process has a handful of each, and with
/// nothing open they hold no heap memory that a leak checker could report
/// once a C program unloads the library.
pub(crate) struct Queues {
    held: Vec<BindKey>,
    released: [Option<(BindKey, Instant)>; RELEASED_SLOTS],
    ours: Vec<(NetnsId, usize)>,
}

pub(crate) fn queues() -> MutexGuard<'static, Queues> {
    static QUEUES: Mutex<Queues> =
        Mutex::new(Queues { held: Vec::new(), released: [None; RELEASED_SLOTS], ours: Vec::new() });
    // Every update is complete before anything that could panic.
    QUEUES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Who holds a queue that answered a bind with `EBUSY`.
#[derive(Debug, PartialEq, Eq)]
enum Holder {
    /// A UMEM of this process is bound there.
    Us,
    /// Nobody alive: a socket closed lately is still being freed by the kernel.
    Closing,
    /// An AF_XDP socket that is not this process's; `others` of them exist in
    /// the namespace (`None`: the count could not be read).
    Other { others: Option<usize> },
}

impl Queues {
    /// In a forked child: the parent's queues and sockets are not the child's.
    pub(crate) fn forget_inherited(&mut self) {
        std::mem::forget(std::mem::take(&mut self.held));
        std::mem::forget(std::mem::take(&mut self.ours));
        self.released = [None; RELEASED_SLOTS];
    }

    /// Adds `delta` to this process's AF_XDP sockets in `netns`.
    fn count(&mut self, netns: NetnsId, delta: isize) {
        match self.ours.iter().position(|(n, _)| *n == netns) {
            Some(i) => {
                let n = &mut self.ours[i].1;
                *n = n.wrapping_add_signed(delta);
                if *n == 0 {
                    self.ours.swap_remove(i);
                }
            }
            None => self.ours.push((netns, delta.max(0) as usize)),
        }
        if self.ours.is_empty() {
            self.ours = Vec::new();
        }
    }

    fn ours(&self, netns: NetnsId) -> usize {
        self.ours.iter().find(|(n, _)| *n == netns).map_or(0, |(_, c)| *c)
    }

    fn note_held(&mut self, key: BindKey) {
        self.held.push(key);
    }

    /// The fd bound to `key` closed: its queue is on its way out.
    fn note_released(&mut self, key: BindKey) {
        if let Some(i) = self.held.iter().position(|k| *k == key) {
            self.held.swap_remove(i);
        }
        if self.held.is_empty() {
            self.held = Vec::new();
        }
        let slot = self.released.iter_mut().min_by_key(|r| r.map(|(_, t)| t)).expect("RELEASED_SLOTS > 0");
        *slot = Some((key, Instant::now()));
    }

    fn holder(&self, key: BindKey) -> Holder {
        if self.held.contains(&key) {
            return Holder::Us;
        }
        if self.released.iter().flatten().any(|(k, t)| *k == key && t.elapsed() < BIND_BUSY_RETRY) {
            return Holder::Closing;
        }
        let ours = self.ours(key.0);
        match xdp_sockets_in_netns() {
            // Every AF_XDP socket of the namespace is ours, and none of ours
            // holds the queue: its holder has closed and is being freed.
            Some(total) if total <= ours => Holder::Closing,
            Some(total) => Holder::Other { others: Some(total - ours) },
            None => Holder::Other { others: None },
        }
    }
}

/// The number of open AF_XDP sockets in the calling thread's namespace, from
/// the `sockets` column of the XDP line of /proc/thread-self/net/protocols
/// (the kernel counts a socket from creation to release, whoever owns it).
fn xdp_sockets_in_netns() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/thread-self/net/protocols").ok()?;
    let line = text.lines().find(|l| l.split_whitespace().next() == Some("XDP"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Where the UMEM's fd is bound, and with what: later sockets share its
/// bind flags, whatever they ask for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bound {
    pub key: BindKey,
    /// The `BIND_*` flags the fd was bound with.
    pub flags: u32,
    /// What the kernel chose (`XDP_OPTIONS`): zero-copy or copy mode.
    pub zerocopy: bool,
}

impl Bound {
    /// Whether the kernel flags the rings of this UMEM's sockets when it
    /// needs a wakeup. When it does not, the library answers "wakeup needed".
    pub fn need_wakeup(&self) -> bool {
        self.flags & BIND_NEED_WAKEUP != 0
    }
}

/// What has been done to the UMEM's fd. The fd can be set up and bound only
/// once; these fields let later sockets share it correctly.
pub(crate) struct FdState {
    /// RX/TX ring sizes already set on the fd (the kernel lets each be set
    /// once); `None` while unset.
    rx_size: Option<u32>,
    tx_size: Option<u32>,
    /// The fd's RX/TX rings while no socket holds them. They are mapped once,
    /// before the fd's first bind, and handed from socket to socket: kernels
    /// before 6.4 refuse to map the rings of a bound socket (`EBUSY`).
    rx_ring: Option<RxRing>,
    tx_ring: Option<TxRing>,
    /// Where and how the fd is bound, once it is.
    bound: Option<Bound>,
    /// A live socket is using the fd as its own.
    fd_in_use: bool,
    /// The fill and completion rings' need_wakeup gates, flipped at the fd's
    /// bind (the rings themselves may be in use on another thread then).
    gates: (WakeupGate, WakeupGate),
    // Last: the rings above are unmapped before the fd closes.
    fd: XskFd,
}

impl FdState {
    /// The state of a fresh `fd` whose fill and completion rings have `gates`.
    pub(crate) fn new(fd: XskFd, gates: (WakeupGate, WakeupGate)) -> FdState {
        FdState { rx_size: None, tx_size: None, rx_ring: None, tx_ring: None, bound: None, fd_in_use: false, gates, fd }
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd.raw()
    }

    pub(crate) fn bound(&self) -> Option<Bound> {
        self.bound
    }

    /// The fd's first bind succeeded as `bound`: the fill and completion
    /// rings' need_wakeup gates follow the pool's setting from now on (until
    /// then they answered "wakeup needed"), and the queue is this process's.
    fn note_bound(&mut self, bound: Bound) {
        self.gates.0.set_in_force(bound.need_wakeup());
        self.gates.1.set_in_force(bound.need_wakeup());
        self.bound = Some(bound);
        self.fd_in_use = true;
        queues().note_held(bound.key);
    }

    /// Starts over on a fresh fd, for a fd that never bound. The old fd's
    /// parked rings are unmapped before it closes.
    pub(crate) fn renew(&mut self, fd: XskFd, gates: (WakeupGate, WakeupGate)) {
        debug_assert!(self.bound.is_none() && !self.fd_in_use);
        *self = FdState::new(fd, gates);
    }
}

impl Drop for FdState {
    fn drop(&mut self) {
        match self.bound {
            Some(b) if !self.fd.owner().inherited() => queues().note_released(b.key),
            _ => {}
        }
    }
}

/// Which fd a socket uses: its own, or its pool's (the first socket on a
/// queue binds the pool's fd, which stays open as long as the UMEM does).
pub(crate) enum SockFd {
    Own(XskFd),
    Pool(RawFd),
}

impl SockFd {
    pub(crate) fn raw(&self) -> RawFd {
        match self {
            SockFd::Own(f) => f.raw(),
            SockFd::Pool(f) => *f,
        }
    }
}

/// The kernel's buffer pool of a UMEM on one (interface, queue): the fd that
/// first bound there, and the fill and completion rings mapped from it. The
/// UMEM's own fd carries the primary pool (its rings are made with the
/// UMEM); the first socket on any other queue makes that queue's pool on a
/// fresh fd, which sets up its own fill and completion rings and binds with
/// `XDP_SHARED_UMEM` naming the UMEM's fd (Linux 5.10 and later). Later
/// sockets on the queue name the pool's fd and share its pool and rings.
pub(crate) struct Pool {
    // Rings first: they unmap before the fd (in the state) closes. Each sits
    // in its own cell so that a ring pointer handed to the C ABI or to a
    // packet-layer half stays valid while others borrow the pool shared.
    fill: UnsafeCell<FillRing>,
    comp: UnsafeCell<CompRing>,
    state: Mutex<FdState>,
}

// SAFETY: the rings are reached only through `fill_ptr`/`comp_ptr`, whose
// users keep each ring to one thread at a time: safe code through
// `&mut Umem` (one per UMEM), the C ABI by the header's rule, a packet-layer
// half by owning it. The state is behind its mutex.
unsafe impl Sync for Pool {}

impl Pool {
    pub(crate) fn new(fill: FillRing, comp: CompRing, state: FdState) -> Pool {
        Pool { fill: UnsafeCell::new(fill), comp: UnsafeCell::new(comp), state: Mutex::new(state) }
    }

    /// The fd's state; a poisoned lock only means a panic elsewhere, the data is
    /// still consistent because every update is a single assignment.
    fn state(&self) -> MutexGuard<'_, FdState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pool's fill ring; see [`Umem::fill_ptr`] for who may use it when.
    pub(crate) fn fill_ptr(&self) -> *mut FillRing {
        self.fill.get()
    }

    /// The pool's completion ring (as [`Self::fill_ptr`]).
    pub(crate) fn comp_ptr(&self) -> *mut CompRing {
        self.comp.get()
    }

    /// Takes back what a dropped socket had: a socket on the pool's fd parks
    /// its rings here for the next one (the kernel cannot unbind the fd),
    /// with its unsent TX descriptors dropped ([`drop_unsent`]); a socket on
    /// its own fd closes it with its rings.
    pub(crate) fn release(&self, fd: SockFd, rx: Option<RxRing>, mut tx: Option<TxRing>) {
        if let SockFd::Pool(raw) = fd {
            let mut st = self.state();
            if let (Some(tx), Some(b)) = (&mut tx, st.bound) {
                drop_unsent(raw, tx, b);
            }
            (st.rx_ring, st.tx_ring) = (rx, tx);
            st.fd_in_use = false;
        } else {
            // Rings before the fd.
            drop((rx, tx));
            drop(fd);
        }
    }
}

impl UmemShared {
    /// A dropped socket lets go of its pool. A pool on another queue than
    /// the UMEM's own goes with its last socket, as closing the last socket
    /// of a queue does: its fd closes (the kernel frees the queue and that
    /// pool's fill and completion rings, and the frames lent there are the
    /// application's again). It is taken off the list and dropped under the
    /// list's lock, so a socket being created on that queue meanwhile finds
    /// either the live pool or a free queue.
    pub(crate) fn let_go(&self, pool: Arc<Pool>) {
        if Arc::ptr_eq(&pool, &self.primary) {
            return;
        }
        let mut others = self.others();
        // The list's reference and this one: no other socket uses it.
        if Arc::strong_count(&pool) == 2 {
            others.retain(|p| !Arc::ptr_eq(p, &pool));
        }
        drop(pool);
    }
}

/// What a new socket gets from its UMEM.
pub(crate) struct Claim {
    pub fd: SockFd,
    pub rx: Option<RxRing>,
    pub tx: Option<TxRing>,
    /// The bind in force for the socket (its own, or its pool's fd's).
    pub bound: Bound,
    /// The pool it is bound to: its fill and completion rings.
    pub pool: Arc<Pool>,
}

impl Umem {
    /// Gives a socket on `dev` queue `queue_id` its fd and rings, bound: the
    /// fd of the queue's pool the first time (or when that fd is free again
    /// with the same ring sizes), a fresh fd sharing the pool otherwise; on a
    /// queue with no pool yet, a fresh fd that makes one. The UMEM's own fd is
    /// the pool of the queue its first socket binds. On failure the UMEM is as
    /// before, but for ring sizes set on its own fd when that failed to bind,
    /// which a later request with other sizes replaces.
    pub(crate) fn claim(&self, dev: &Netdev, queue_id: u32, cfg: &SocketConfig, ctx: &str) -> Result<Claim> {
        let shared = self.shared();
        let key: BindKey = (dev.netns, dev.ifindex, queue_id);
        let primary = &shared.primary;
        let mut st = primary.state();
        let mut claim = match st.bound {
            None => self.claim_fresh(&mut st, dev, key, cfg, ctx)?,
            Some(b) => {
                // Every pool has the UMEM's mode; need_wakeup may be off on
                // another queue before Linux 6.0 (see `new_pool`), which
                // costs syscalls and is not refused.
                check_inherited_flags(cfg, b, ctx)?;
                if b.key == key {
                    check_alive(&st, b, ctx)?;
                    claim_on(primary, &mut st, b, dev, cfg, ctx)?
                } else {
                    // Lock order: the primary's state, the list, a pool's state.
                    let mut others = shared.others();
                    let found = others.iter().find(|p| p.state().bound.is_some_and(|pb| pb.key == key)).cloned();
                    match found {
                        Some(pool) => {
                            let mut pst = pool.state();
                            let pb = pst.bound.expect("a pool is made bound");
                            check_alive(&pst, pb, ctx)?;
                            claim_on(&pool, &mut pst, pb, dev, cfg, ctx)?
                        }
                        None => {
                            // A new pool's bind names the UMEM's fd.
                            check_alive(&st, b, ctx)?;
                            let claim = new_pool(shared, st.fd(), b, dev, key, cfg, ctx)?;
                            others.push(Arc::clone(&claim.pool));
                            claim
                        }
                    }
                }
            }
        };
        // Every socket on a pool has its need_wakeup (the kernel takes no
        // flags for a shared bind), and rings handed over from an earlier
        // socket get this one's settings afresh.
        let nw = claim.bound.need_wakeup();
        if let Some(rx) = &mut claim.rx {
            rx.set_need_wakeup_in_force(nw);
        }
        if let Some(tx) = &mut claim.tx {
            tx.set_need_wakeup_in_force(nw);
            tx.set_max_len(dev.max_frame_len());
        }
        shared.socket_added();
        Ok(claim)
    }

    /// The first bind of the UMEM's fd.
    fn claim_fresh(
        &self,
        st: &mut FdState,
        dev: &Netdev,
        key: BindKey,
        cfg: &SocketConfig,
        ctx: &str,
    ) -> Result<Claim> {
        let conflicts = |have: Option<u32>, want: u32| have.is_some_and(|h| h != want);
        if conflicts(st.rx_size, cfg.rx_size) || conflicts(st.tx_size, cfg.tx_size) {
            // An earlier attempt set other sizes on this fd and failed to bind.
            if self.shared.adopted {
                // Renewing would close the caller's fd and move the UMEM to
                // one of ours behind its back.
                return Err(Error::Busy(format!(
                    "{ctx}: a socket that failed to bind set rx ring {} and tx ring {} on the caller's umem fd, \
                     and the kernel lets each be set once per fd; ask for those sizes, or register the area on a \
                     fresh AF_XDP fd",
                    st.rx_size.unwrap_or(0),
                    st.tx_size.unwrap_or(0)
                )));
            }
            self.renew(st, ctx)?;
        }
        let mut sizes = (st.rx_size, st.tx_size);
        let set = set_rings(st.fd(), cfg, &mut sizes, ctx);
        (st.rx_size, st.tx_size) = sizes;
        set?;
        set_tx_budget(st.fd(), cfg, ctx)?;
        let (rx, tx) = fd_rings(st, cfg, ctx)?;
        let flags = cfg.bind_flags & crate::socket::KERNEL_BIND_FLAGS;
        if let Err(e) = bind(st.fd(), dev, key.2, flags as u16, 0, ctx) {
            // Still unbound, and the sizes stay set: a retry binds these.
            (st.rx_ring, st.tx_ring) = (rx, tx);
            return Err(e);
        }
        // Bound now, whatever happens next. XDP_OPTIONS (Linux 5.3) cannot
        // fail on a bound AF_XDP socket; if it did, the bind's own request
        // is the best answer.
        let zerocopy = is_zerocopy(st.fd()).unwrap_or(cfg.bind_flags & BIND_ZEROCOPY != 0);
        let bound = Bound { key, flags, zerocopy };
        st.note_bound(bound);
        Ok(Claim { fd: SockFd::Pool(st.fd()), rx, tx, bound, pool: Arc::clone(&self.shared().primary) })
    }

    /// Registers the UMEM anew on a fresh fd, for a fd that was set up by a
    /// socket that then failed to bind (the kernel lets ring sizes be set once
    /// per fd). The fill ring's submitted entries move to the new fill ring;
    /// entries reserved and not yet submitted are forgotten. The completion
    /// ring is empty (nothing was ever sent).
    fn renew(&self, st: &mut FdState, ctx: &str) -> Result<()> {
        debug_assert!(st.bound().is_none() && self.socket_count() == 0);
        let (fd, mut fill, comp) =
            register_fd(&self.shared.area, &self.shared.cfg, self.shared.netns).map_err(|e| e.context(ctx))?;
        // SAFETY: no socket exists (the fd never bound), so the only other
        // users of the rings are this Umem's owner, who is inside the call
        // that borrows it (Rust), or must not use them concurrently with
        // socket creation (the C contract on xsk_rs_socket_create).
        let (old_fill, old_comp) = unsafe { (&mut *self.fill_ptr(), &mut *self.comp_ptr()) };
        old_fill.move_submitted_to(&mut fill);
        let gates = (fill.wakeup_gate(), comp.wakeup_gate());
        *old_fill = fill;
        *old_comp = comp;
        self.shared.fd_number.store(fd.raw(), Ordering::Release);
        st.renew(fd, gates);
        Ok(())
    }
}

/// A socket on a queue whose pool `pool` is bound there (`st` its locked
/// state, `b` its bind): the pool's own fd when it is free again and has the
/// ring sizes asked for (taken over with the rings it keeps), a fresh fd
/// sharing the pool otherwise.
fn claim_on(
    pool: &Arc<Pool>,
    st: &mut FdState,
    b: Bound,
    dev: &Netdev,
    cfg: &SocketConfig,
    ctx: &str,
) -> Result<Claim> {
    if !st.fd_in_use && st.rx_size == nonzero(cfg.rx_size) && st.tx_size == nonzero(cfg.tx_size) {
        // Bound here and free again (its socket was destroyed): take it
        // over with the rings it already has. The budget stays on the fd:
        // set this config's.
        set_tx_budget(st.fd(), cfg, ctx)?;
        let (rx, tx) = fd_rings(st, cfg, ctx)?;
        st.fd_in_use = true;
        return Ok(Claim { fd: SockFd::Pool(st.fd()), rx, tx, bound: b, pool: Arc::clone(pool) });
    }
    let own = XskFd::open(st.fd.netns, &format!("{ctx}: "))?;
    let mut sizes = (None, None);
    set_rings(own.raw(), cfg, &mut sizes, ctx)?;
    set_tx_budget(own.raw(), cfg, ctx)?;
    let (rx, tx) = map_rings(own.raw(), cfg, ctx)?;
    // Shared sockets may not pass mode flags: they have the pool's.
    bind(own.raw(), dev, b.key.2, libc::XDP_SHARED_UMEM, st.fd() as u32, ctx)?;
    Ok(Claim { fd: SockFd::Own(own), rx, tx, bound: b, pool: Arc::clone(pool) })
}

/// The first socket on a queue where the UMEM has no pool: a fresh fd with
/// its own fill and completion rings (sized as the UMEM's), bound with
/// `XDP_SHARED_UMEM` naming the UMEM's fd (`umem_fd`, bound as `b`), becomes
/// that queue's pool. The kernel gives the new pool the UMEM's mode
/// (zero-copy or copy) and, since Linux 6.0, its need_wakeup. On failure
/// nothing stays: the fd closes with its rings.
fn new_pool(
    shared: &UmemShared,
    umem_fd: RawFd,
    b: Bound,
    dev: &Netdev,
    key: BindKey,
    cfg: &SocketConfig,
    ctx: &str,
) -> Result<Claim> {
    let fd = XskFd::open(shared.netns(), &format!("{ctx}: "))?;
    let raw = fd.raw();
    let (fill, comp) = map_umem_rings(raw, &shared.cfg, &format!("{ctx}: "))?;
    let mut sizes = (None, None);
    set_rings(raw, cfg, &mut sizes, ctx)?;
    set_tx_budget(raw, cfg, ctx)?;
    let (rx, tx) = map_rings(raw, cfg, ctx)?;
    bind(raw, dev, key.2, libc::XDP_SHARED_UMEM, umem_fd as u32, ctx)?;
    let zerocopy = is_zerocopy(raw).unwrap_or(b.zerocopy);
    // Before Linux 6.0 ("xsk: Inherit need_wakeup flag for shared sockets")
    // a pool made this way had need_wakeup off whatever the UMEM's.
    let flags = if inherits_need_wakeup() { b.flags } else { b.flags & !BIND_NEED_WAKEUP };
    let bound = Bound { key, flags, zerocopy };
    let gates = (fill.wakeup_gate(), comp.wakeup_gate());
    let mut st = FdState::new(fd, gates);
    (st.rx_size, st.tx_size) = sizes;
    st.note_bound(bound);
    let pool = Arc::new(Pool::new(fill, comp, st));
    Ok(Claim { fd: SockFd::Pool(raw), rx, tx, bound, pool })
}

/// Whether the running kernel gives a pool made on another queue the
/// UMEM's need_wakeup: Linux 6.0 and later (earlier stable kernels may have
/// the fix too; treating them as without it costs syscalls, never a stall).
fn inherits_need_wakeup() -> bool {
    // SAFETY: uname fills a zeroed struct we own.
    let release = unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return false;
        }
        std::ffi::CStr::from_ptr(u.release.as_ptr()).to_string_lossy().into_owned()
    };
    release_at_least(&release, (6, 0))
}

/// Whether a kernel release string ("6.1.0-40-amd64") is `want` or later.
fn release_at_least(release: &str, want: (u32, u32)) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let num = |p: Option<&str>| p.and_then(|s| s.parse::<u32>().ok());
    match (num(parts.next()), num(parts.next())) {
        (Some(major), Some(minor)) => (major, minor) >= want,
        _ => false,
    }
}

/// Drops what a socket on the UMEM's fd, now gone, left on its TX ring and
/// the kernel has not consumed, as closing any other socket does (the kernel
/// frees that socket's TX ring): otherwise the fd keeps them, and the next
/// socket's first kick sends them. Each one is made a descriptor the kernel
/// rejects ([`TxRing::reject_in_flight`]); it counts in the fd's
/// `tx_invalid_descs`, which the next socket on the fd reports.
///
/// In copy mode the kernel consumes TX only in a syscall, so this kicks it
/// until it has taken them all, now: before Linux 6.6 one `sendto` skips
/// every invalid descriptor, since then each skips one (`__xsk_generic_xmit`
/// stops at the first and releases only it), and the consumer index may
/// show the progress only at the next call (`xskq_cons_peek_desc` publishes
/// it when the kernel's cached view runs dry): `n + 2` calls are enough.
/// Should the kernel stop early (interface down, completion ring full), the
/// rest stay rejected and go at the next socket's kicks. In zero-copy mode
/// the driver reads the ring on its own schedule and skips them there.
fn drop_unsent(fd: RawFd, tx: &mut TxRing, bound: Bound) {
    // From the shared indices: a ring handed over through its layout has a
    // local view that stopped following.
    tx.resync();
    let n = tx.reject_in_flight();
    if n == 0 || bound.zerocopy {
        return;
    }
    for _ in 0..n.saturating_add(2) {
        if tx.in_flight() == 0 {
            return;
        }
        // SAFETY: zero-length send with no buffer and no address.
        let rc = unsafe { libc::sendto(fd, std::ptr::null(), 0, libc::MSG_DONTWAIT, std::ptr::null(), 0) };
        if rc < 0 && !matches!(errno(), libc::EAGAIN | libc::EBUSY | libc::ENOBUFS | libc::EINTR) {
            return;
        }
    }
}

/// `Some(size)` for a ring that exists, `None` for one left out (size 0): a
/// ring of 0 is never set on the fd, so it stays free to set later.
fn nonzero(size: u32) -> Option<u32> {
    (size != 0).then_some(size)
}

/// Sets the RX/TX ring sizes `cfg` asks for on `fd`, recording each one set
/// in `sizes` (the kernel lets each ring be set once per fd). A size already
/// set must equal the request; the caller renews the fd otherwise.
fn set_rings(fd: RawFd, cfg: &SocketConfig, sizes: &mut (Option<u32>, Option<u32>), ctx: &str) -> Result<()> {
    for (size, have, opt, name) in
        [(cfg.rx_size, &mut sizes.0, libc::XDP_RX_RING, "rx"), (cfg.tx_size, &mut sizes.1, libc::XDP_TX_RING, "tx")]
    {
        if size == 0 || *have == Some(size) {
            continue;
        }
        debug_assert!(have.is_none(), "a ring size is set once per fd");
        set_ring_size(fd, opt, size, size_of::<Desc>(), &format!("{ctx}: {name}"))?;
        *have = Some(size);
    }
    Ok(())
}

/// Sets the TX budget on `fd`, whose TX ring must be set already (the kernel
/// checks the budget against it; bound or not does not matter). A kernel
/// without the option answers `ENOPROTOOPT`: the default then stays the
/// kernel's, an explicit budget is refused.
fn set_tx_budget(fd: RawFd, cfg: &SocketConfig, ctx: &str) -> Result<()> {
    let Some(b) = cfg.resolved_tx_budget() else { return Ok(()) };
    match setsockopt(fd, sys::XDP_MAX_TX_SKB_BUDGET, &b, &format!("{ctx}: set tx budget {b}")) {
        Err(e) if e.errno() == libc::ENOPROTOOPT => {
            if cfg.tx_budget == 0 {
                return Ok(());
            }
            Err(Error::NotSupported(format!(
                "{ctx}: tx budget {b}: this kernel lacks XDP_MAX_TX_SKB_BUDGET (needs Linux 6.17); \
                 leave tx_budget 0 to run with the kernel's fixed 32 per kick"
            )))
        }
        r => r,
    }
}

/// Maps the RX and TX rings that `cfg` asks for from `fd`, whose ring sizes
/// are set. Call it before `fd` is bound: kernels before 6.4 refuse to map a
/// bound socket's rings (`xsk_mmap` answers EBUSY).
fn map_rings(fd: RawFd, cfg: &SocketConfig, ctx: &str) -> Result<(Option<RxRing>, Option<TxRing>)> {
    let off = mmap_offsets(fd)?;
    let rx = (cfg.rx_size > 0)
        .then(|| RxRing::map(fd, libc::XDP_PGOFF_RX_RING as u64, &off.rx, cfg.rx_size, &format!("{ctx}: rx ring")))
        .transpose()?;
    let tx = (cfg.tx_size > 0)
        .then(|| TxRing::map(fd, libc::XDP_PGOFF_TX_RING as u64, &off.tx, cfg.tx_size, &format!("{ctx}: tx ring")))
        .transpose()?;
    Ok((rx, tx))
}

/// The UMEM's fd's rings for a socket about to use that fd: the ones the fd
/// keeps from an earlier socket (or a failed bind), started afresh, or, the
/// first time, mapped now. The fd's ring sizes equal `cfg`'s.
fn fd_rings(st: &mut FdState, cfg: &SocketConfig, ctx: &str) -> Result<(Option<RxRing>, Option<TxRing>)> {
    let (mut rx, mut tx) = (st.rx_ring.take(), st.tx_ring.take());
    let kept = (cfg.rx_size == 0 || rx.is_some()) && (cfg.tx_size == 0 || tx.is_some());
    if !kept {
        debug_assert!(st.bound.is_none(), "a bound umem fd keeps the rings it was bound with");
        drop((rx, tx));
        return map_rings(st.fd(), cfg, ctx);
    }
    rx.iter_mut().for_each(RxRing::resync);
    tx.iter_mut().for_each(TxRing::resync);
    Ok((rx, tx))
}

/// Refuses a socket that asks for bind flags the UMEM's fd does not have in
/// force: every socket on a UMEM runs with its first socket's (the kernel
/// takes no flags with `XDP_SHARED_UMEM`, and a bound fd cannot be rebound).
/// Asking for less is fine: no mode flag means either mode, and without
/// `BIND_NEED_WAKEUP` the rings report "wakeup needed" regardless. Not for
/// `BIND_SG`: the kernel keeps multi-buffer per UMEM (`xsk_bind` gives every
/// socket its UMEM's), so a socket with an RX ring that did not ask for it
/// would receive chains (`XDP_PKT_CONTD`) it does not expect; refused in
/// both directions. A TX-only socket without it is fine: the kernel sends
/// no chains to it, and it queues none.
fn check_inherited_flags(cfg: &SocketConfig, b: Bound, ctx: &str) -> Result<()> {
    let first = "this umem's first socket";
    let fix = "create the socket on its own umem to choose its own";
    if cfg.bind_flags & BIND_ZEROCOPY != 0 && !b.zerocopy {
        return Err(Error::NotSupported(format!(
            "{ctx}: zero-copy asked for, but {first} runs in copy mode and every socket on a umem shares its \
             mode; {fix}"
        )));
    }
    if cfg.bind_flags & BIND_COPY != 0 && b.zerocopy {
        return Err(Error::invalid(format!(
            "{ctx}: copy mode asked for, but {first} runs in zero-copy mode and every socket on a umem shares \
             its mode; {fix}"
        )));
    }
    if cfg.bind_flags & crate::socket::BIND_SG != 0 && b.flags & crate::socket::BIND_SG == 0 {
        return Err(Error::invalid(format!(
            "{ctx}: multi-buffer (BIND_SG) asked for (socket flags {:#x}), but {first} was bound without it \
             (flags {:#x}) and every socket on a umem shares it; {fix}",
            cfg.bind_flags, b.flags
        )));
    }
    if cfg.bind_flags & crate::socket::BIND_SG == 0 && b.flags & crate::socket::BIND_SG != 0 && cfg.rx_size > 0 {
        return Err(Error::invalid(format!(
            "{ctx}: socket flags {:#x} are without multi-buffer (BIND_SG), but {first} was bound with it (flags \
             {:#x}) and the kernel gives every socket on a umem its multi-buffer: this socket would receive \
             packets longer than a frame as chains; ask for BIND_SG too, or {fix}",
            cfg.bind_flags, b.flags
        )));
    }
    if cfg.bind_flags & BIND_NEED_WAKEUP != 0 && !b.need_wakeup() {
        return Err(Error::invalid(format!(
            "{ctx}: need_wakeup asked for, but {first} was bound without it (flags {:#x}) and every socket on a \
             umem shares it; {fix}",
            b.flags
        )));
    }
    Ok(())
}

/// Fails when the kernel has unbound the UMEM's fd for good: it does so when
/// the fd's interface is deleted or moved to another namespace (even if one
/// of the same name or index appears later). A zero-length non-blocking
/// `recvfrom` asks: it answers `ENXIO` on an unbound AF_XDP socket and has no
/// effect on a bound one in copy mode (in zero-copy mode it may wake the
/// driver's RX, which is harmless).
fn check_alive(st: &FdState, b: Bound, ctx: &str) -> Result<()> {
    // SAFETY: zero-length receive with no buffer and no address.
    let rc = unsafe {
        libc::recvfrom(st.fd(), std::ptr::null_mut(), 0, libc::MSG_DONTWAIT, std::ptr::null_mut(), std::ptr::null_mut())
    };
    if rc < 0 && errno() == libc::ENXIO {
        return Err(Error::NoDevice(format!(
            "{ctx}: this umem was bound to ifindex {} queue {} of an interface that has since been deleted or \
             moved to another network namespace; the kernel unbinds such a socket for good, so the umem can carry \
             no socket any more: destroy its sockets and the umem, and create a new umem",
            b.key.1, b.key.2
        )));
    }
    Ok(())
}

/// Whether a bound socket runs in zero-copy mode (`XDP_OPTIONS`).
pub(crate) fn is_zerocopy(fd: RawFd) -> Result<bool> {
    // SAFETY: xdp_options is one u32.
    let (o, _) = unsafe { super::getsockopt::<libc::xdp_options>(fd, libc::XDP_OPTIONS, "get xdp options")? };
    Ok(o.flags & libc::XDP_OPTIONS_ZEROCOPY != 0)
}

/// `bind(2)`. `EBUSY` is retried only while the queue's holder is known to be
/// going away (a release this process made, or no live AF_XDP socket in the
/// namespace but this process's): the kernel frees a closed socket's queue
/// one RCU grace period later. A queue held by a live socket fails at once,
/// saying whose it is as far as this process can know.
fn bind(fd: RawFd, dev: &Netdev, queue_id: u32, flags: u16, shared_fd: u32, ctx: &str) -> Result<()> {
    let sa = libc::sockaddr_xdp {
        sxdp_family: libc::AF_XDP as u16,
        sxdp_flags: flags,
        sxdp_ifindex: dev.ifindex,
        sxdp_queue_id: queue_id,
        sxdp_shared_umem_fd: shared_fd,
    };
    let key = (dev.netns, dev.ifindex, queue_id);
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        // SAFETY: sa is a valid sockaddr_xdp and the length is its size.
        let rc = unsafe {
            libc::bind(fd, (&sa as *const libc::sockaddr_xdp).cast(), std::mem::size_of_val(&sa) as libc::socklen_t)
        };
        if rc == 0 {
            return Ok(());
        }
        let e = errno();
        if e == libc::EBUSY {
            let holder = queues().holder(key);
            if holder == Holder::Closing && start.elapsed() < BIND_BUSY_RETRY {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
                continue;
            }
            // Whose socket it is, where sock_diag and /proc can tell.
            let who = match holder {
                Holder::Other { .. } => crate::diag::queue_holders(dev.ifindex, queue_id),
                _ => None,
            };
            return Err(Error::Busy(format!(
                "{ctx}: bind: queue {queue_id} of {} is in use {}",
                dev.name,
                match holder {
                    Holder::Us => "by another umem of this process".to_string(),
                    Holder::Closing => format!(
                        "by a socket that was closed but is still not released after {} ms",
                        start.elapsed().as_millis()
                    ),
                    Holder::Other { .. } if who.is_some() => {
                        format!("by an AF_XDP socket of another process: {}", who.unwrap_or_default())
                    }
                    Holder::Other { others: Some(n) } => format!(
                        "by an AF_XDP socket of another process (this network namespace has {n} AF_XDP socket{} that \
                     {} not this process's)",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "is" } else { "are" }
                    ),
                    Holder::Other { others: None } => "by another AF_XDP socket".to_string(),
                }
            )));
        }
        if flags & libc::XDP_ZEROCOPY != 0 && (e == libc::EOPNOTSUPP || e == libc::EINVAL) {
            // The kernel answers EOPNOTSUPP for a device without zero-copy and
            // for XDP_USE_SG where its xdp-zc-max-segs is 1, EINVAL from some
            // drivers' setup: the device's capabilities say which.
            let sg = flags & libc::XDP_USE_SG != 0;
            return Err(Error::NotSupported(match crate::netdev::caps::zerocopy_refusal(&dev.name, sg) {
                Some((what, why)) => {
                    format!("{ctx}: bind: the driver of {} does not support {what}: {why}", dev.name)
                }
                None if e == libc::EOPNOTSUPP => format!(
                    "{ctx}: bind: the driver of {} does not support zero-copy{} AF_XDP; use copy mode",
                    dev.name,
                    if sg { " multi-buffer" } else { "" }
                ),
                None => format!(
                    "{ctx}: bind: zero-copy{} refused by the driver of {} (EINVAL); use copy mode",
                    if sg { " multi-buffer" } else { "" },
                    dev.name
                ),
            }));
        }
        return Err(Error::from_errno(format!("{ctx}: bind"), e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocols_file_counts_xdp_sockets() {
        let before = xdp_sockets_in_netns().expect("an XDP line in /proc/thread-self/net/protocols");
        let netns = crate::netdev::current_netns().unwrap();
        let fd = XskFd::open(netns, "").unwrap();
        // Other tests open sockets in parallel: the count moves, but ours is in it.
        assert!(xdp_sockets_in_netns().unwrap() >= 1, "before {before}");
        assert!(queues().ours(netns) >= 1);
        drop(fd);
    }

    /// A kernel without the option answers ENOPROTOOPT, as any socket answers
    /// an unknown SOL_XDP option: a UDP socket stands in for an old kernel.
    #[test]
    fn tx_budget_on_a_kernel_without_the_option() {
        // SAFETY: plain socket(2); ownership taken right away.
        let fd = unsafe { OwnedFd::from_raw_fd(libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)) };
        let d = SocketConfig::default();
        set_tx_budget(fd.as_raw_fd(), &d, "ctx").expect("the default is quietly left to the kernel");
        let e = set_tx_budget(fd.as_raw_fd(), &SocketConfig { tx_budget: 64, ..d }, "ctx").unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP);
        let m = e.to_string();
        assert!(
            m.starts_with("ctx: tx budget 64: ") && m.contains("lacks XDP_MAX_TX_SKB_BUDGET (needs Linux 6.17)"),
            "{m}"
        );
    }

    #[test]
    fn kernel_releases_compare_by_major_and_minor() {
        for (r, want) in [
            ("6.1.0-40-amd64", true),
            ("6.0.0", true),
            ("5.19.17", false),
            ("5.15.0-91-generic", false),
            ("10.0", true),
            ("6", false),
            ("", false),
        ] {
            assert_eq!(release_at_least(r, (6, 0)), want, "{r}");
        }
        assert!(release_at_least(&std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap(), (5, 10)));
    }

    #[test]
    fn a_release_is_remembered_and_forgotten() {
        let key = ((7, 7), 99, 3);
        let mut q = Queues { held: Vec::new(), released: [None; RELEASED_SLOTS], ours: Vec::new() };
        q.note_held(key);
        assert_eq!(q.holder(key), Holder::Us);
        q.note_released(key);
        assert_eq!(q.holder(key), Holder::Closing);
        assert!(q.held.is_empty());
    }
}
