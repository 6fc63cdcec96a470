//! Per-process sharing of the built-in program: one program, one XSKMAP and one
//! link per interface, counted by the sockets that use them. Across processes,
//! the entry of a process that joined another's program (see `join`) holds
//! that process's link and map by id, and no program of its own.
//!
//! The registry is a plain map under a mutex, and references are counted under
//! that lock: creating and closing the kernel objects happens under it too, so
//! two threads can never both attach (the second would get EBUSY from the kernel)
//! or share an entry that is being torn down. Nothing sleeps under it: every
//! create and destroy of the process takes it.

use super::join::{self, Found};
use super::{link, map, obj_info, Link, Program, XdpMode, XskMap};
use crate::error::{Error, Result};
use crate::netdev::{current_netns, Netdev, NetnsId};
use crate::sys;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long an attach keeps retrying EBUSY/EEXIST after this process itself
/// detached from the interface. Closing our link fd detaches at once only if no
/// one else holds the file: a child being spawned by another thread has a copy
/// of every fd until its exec closes the CLOEXEC ones, and the link lives until
/// then. A foreign program is never waited for, and the wait is spent
/// without the registry lock.
const OWN_DETACH_GRACE: Duration = Duration::from_secs(1);
/// How long an attach keeps trying when another process's program comes
/// and goes under it: attached when this process's create failed, gone (or
/// its link not yet visible) when it looked. Each turn takes a few syscalls.
const JOIN_RACE: Duration = Duration::from_secs(2);
/// How many recent detaches the registry remembers for that grace period.
const RELEASED_SLOTS: usize = 8;

/// An interface as the registry knows it: interface indexes are per namespace,
/// and threads of one process may sit in different namespaces.
type Key = (NetnsId, u32);

/// This process's program on one interface.
struct Entry {
    key: Key,
    /// Tells this entry apart from a later one under the same key.
    serial: u64,
    /// Live `Attachment`s that point here.
    refs: usize,
    mode: XdpMode,
    // Dropped in this order: the link first (the kernel detaches the program),
    // then the program and the map, which the link no longer uses.
    link: Link,
    /// `None` for a program joined from another process: its link holds it.
    _prog: Option<Program>,
    map: XskMap,
    /// The sockets bound to each queue, oldest first; the map slot points at
    /// the last. A socket leaving the slot hands it back to the newest one
    /// still there, so sockets sharing a queue never strand each other.
    slots: HashMap<u32, Vec<RawFd>>,
}

impl Registry {
    /// In a forked child: the parent's programs are not the child's (their
    /// link fds are /dev/null there, see `crate::fork`); it starts afresh,
    /// and its inherited attachments find no entry.
    pub(crate) fn forget_inherited(&mut self) {
        std::mem::forget(std::mem::take(&mut self.entries));
        self.released = Default::default();
    }

    /// Records a program now attached (or joined) on `key`, with one
    /// reference: the attachment returned.
    fn add(&mut self, key: Key, ifname: &str, link: Link, prog: Option<Program>, map: XskMap) -> Attachment {
        let serial = self.next_serial;
        self.next_serial += 1;
        let entry = Entry { key, serial, refs: 1, mode: link.mode(), link, _prog: prog, map, slots: HashMap::new() };
        let attachment = Attachment::of(key, ifname, &entry);
        self.entries.push(entry);
        attachment
    }

    fn live(&mut self, key: Key) -> Option<&mut Entry> {
        self.entries.iter_mut().rev().find(|e| e.key == key)
    }

    fn recently_released(&self, key: Key) -> bool {
        self.released.iter().flatten().any(|(k, t)| *k == key && t.elapsed() < OWN_DETACH_GRACE)
    }

    /// Records that this process just closed its program on `key`, in the slot
    /// of the oldest record (an expired one is as good as a free one).
    fn note_released(&mut self, key: Key) {
        let slot = self.released.iter_mut().min_by_key(|r| r.map(|(_, t)| t)).expect("RELEASED_SLOTS > 0");
        *slot = Some((key, Instant::now()));
    }

    fn forget_released(&mut self, key: Key) {
        for r in &mut self.released {
            if matches!(r, Some((k, _)) if *k == key) {
                *r = None;
            }
        }
    }
}

impl Entry {
    /// False once the kernel has detached the link by itself, which it does when
    /// the device goes away (with its namespace, say). A namespace's identity (an
    /// inode number) and an ifindex can then be handed out again, so such an
    /// entry must not be shared with a new device that happens to get its key.
    fn attached(&self) -> bool {
        let mut info = sys::bpf_link_info_xdp::default();
        // SAFETY: a zeroed plain-data prefix of bpf_link_info.
        match unsafe { obj_info(self.link.fd().as_raw_fd(), &mut info) } {
            Ok(()) => info.xdp_ifindex != 0,
            // Cannot tell (not expected for a link fd we own): assume attached.
            Err(_) => true,
        }
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    next_serial: u64,
    /// The entries still referenced, oldest first; per key only the last one is
    /// live, earlier ones have lost their device and wait for their last
    /// `Attachment`. Plain vectors: a process has a handful of interfaces, and
    /// with nothing attached they hold no memory that leak checkers could flag.
    entries: Vec<Entry>,
    /// When this process last closed its program on its most recent
    /// interfaces. A fixed array, not a vector: it outlives every socket, and
    /// heap memory here would be reported as lost once a C program dlcloses
    /// the library. Older records only lose the grace period's retries.
    released: [Option<(Key, Instant)>; RELEASED_SLOTS],
}

/// The lock is taken only to create or drop an attachment, never on packet paths.
/// A panic while it is held (there is no code path that panics there, but a
/// poisoned lock must not wedge a C program for good) leaves the counts intact,
/// so poisoning is ignored.
pub(crate) fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// A counted reference to this process's redirect program on one interface.
///
/// Sockets of the process on the same interface share one program and one XSKMAP
/// sized for every queue the device can have. Dropping the last reference closes
/// link, program and map, and the kernel detaches the program.
#[derive(Debug)]
pub(crate) struct Attachment {
    key: Key,
    serial: u64,
    ifname: String,
    /// The shared map's fd. It stays open while this reference exists: the entry
    /// is dropped only after `refs` reaches zero, which needs this value's Drop.
    map_fd: RawFd,
    /// The map's slots: queues `0..map_slots`.
    map_slots: u32,
    mode: XdpMode,
}

impl Attachment {
    /// Attach this process's redirect program to `dev` in `mode` (Auto/Skb/Drv,
    /// never None), or share the one this process already has there, or join
    /// the one another xsk_rs process attached there (in a mode `mode` takes). Sockets on
    /// one interface share one program + one XskMap sized `dev.max_queues`,
    /// the most queues the device can ever have.
    ///
    /// Must be called from a thread in the namespace `dev` was looked up in, as
    /// the kernel resolves the ifindex in the caller's namespace.
    pub(crate) fn acquire(dev: &Netdev, mode: XdpMode) -> Result<Attachment> {
        if mode == XdpMode::None {
            return Err(Error::invalid(format!("interface {}: XDP mode none attaches no program", dev.name)));
        }
        if current_netns()? != dev.netns {
            return Err(Error::invalid(format!(
                "interface {} was looked up in another network namespace than the calling \
                 thread's; look it up again from this thread",
                dev.name
            )));
        }
        let key = (dev.netns, dev.ifindex);
        // Created on the first pass that finds nothing to share, and kept
        // across retries.
        let mut fresh: Option<(XskMap, Program)> = None;
        let started = Instant::now();
        loop {
            let mut reg = registry();
            if let Some(live) = reg.live(key) {
                if live.attached() {
                    if mode != XdpMode::Auto && mode != live.mode {
                        return Err(Error::Busy(format!(
                            "interface {}: this process already has its XDP program there in {} mode, \
                             {} mode was asked for (all sockets on one interface share one program)",
                            dev.name, live.mode, mode
                        )));
                    }
                    live.refs += 1;
                    return Ok(Attachment::of(key, &dev.name, live));
                }
            }

            // Nothing usable yet: create all three. On any failure, what was
            // created so far is closed by the `?` returns, leaving the
            // interface as it was.
            let (map, prog) = match fresh.take() {
                Some(objs) => objs,
                None => {
                    let map = XskMap::create_named(dev.max_queues, XskMap::SHARED_NAME)?;
                    let prog = Program::redirect_for(&map, mode)?;
                    (map, prog)
                }
            };
            match link::attach_named(&prog, dev.ifindex, &dev.name, mode) {
                Ok(link) => {
                    // Auto fell back to generic XDP with the program for
                    // native: swap in the one without frags (see
                    // Program::redirect_for). Should the swap fail, the
                    // frags program works there too, only slower.
                    let prog = match link.mode() == XdpMode::Skb && prog.has_frags() {
                        true => match Program::redirect_for(&map, XdpMode::Skb) {
                            Ok(plain) if link.update(&plain).is_ok() => plain,
                            _ => prog,
                        },
                        false => prog,
                    };
                    reg.forget_released(key);
                    return Ok(reg.add(key, &dev.name, link, Some(prog), map));
                }
                // Our own link may still be going away (OWN_DETACH_GRACE).
                // Wait without the lock: it serialises every create and
                // destroy of the process. Another thread may attach here in
                // the meantime; the next pass then shares its program.
                Err(Error::Busy(_)) if started.elapsed() < OWN_DETACH_GRACE && reg.recently_released(key) => {
                    drop(reg);
                    fresh = Some((map, prog));
                    std::thread::sleep(Duration::from_millis(2));
                }
                // Somebody's program is there: another xsk_rs process's is
                // joined. Looked for without the lock, as it may wait.
                Err(Error::Busy(busy)) => {
                    drop(reg);
                    fresh = Some((map, prog));
                    let racing = started.elapsed() < JOIN_RACE;
                    match join::join(dev, mode) {
                        Ok(Found::Joined { link, map }) => {
                            let mut reg = registry();
                            // Another thread of ours may have joined first.
                            if let Some(live) = reg.live(key).filter(|e| e.attached()) {
                                live.refs += 1;
                                return Ok(Attachment::of(key, &dev.name, live));
                            }
                            return Ok(reg.add(key, &dev.name, link, None, map));
                        }
                        // Its users went meanwhile: attach afresh.
                        Ok(Found::Nothing) if racing => {}
                        // Its link is being created or torn down.
                        Ok(Found::NoLink { .. }) if racing => std::thread::sleep(Duration::from_millis(1)),
                        Ok(Found::NoLink { prog_id }) => {
                            return Err(Error::Busy(format!(
                                "interface {}: xsk_rs's XDP program (id {prog_id}) is attached there, but no bpf \
                                 link holds it (someone attached it through netlink), so it cannot be joined; \
                                 xsk_rs will not replace it",
                                dev.name
                            )))
                        }
                        Ok(Found::Nothing) => return Err(Error::Busy(busy)),
                        Err(e @ Error::Busy(_)) => return Err(e),
                        Err(e) => return Err(Error::Busy(format!("{busy} (whose it is cannot be told: {e})"))),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn of(key: Key, ifname: &str, e: &Entry) -> Attachment {
        Attachment {
            key,
            serial: e.serial,
            ifname: ifname.to_string(),
            map_fd: e.map.fd().as_raw_fd(),
            map_slots: e.map.max_entries(),
            mode: e.mode,
        }
    }

    /// Points `queue_id` of the shared map at the bound AF_XDP socket `xsk_fd`.
    /// The map has a slot for every queue the device can have (see
    /// [`Netdev::max_queues`]), so a queue that passed [`Netdev::check_queue`]
    /// always fits.
    pub(crate) fn insert(&self, queue_id: u32, xsk_fd: RawFd) -> Result<()> {
        if queue_id >= self.map_slots {
            // A map has a slot for every queue the device can have: this
            // happens only to a joined map, which another process sized.
            return Err(Error::from_errno(
                format!(
                    "queue {queue_id} of {}: the XSKMAP of the XDP program there has {} slots",
                    self.ifname, self.map_slots
                ),
                libc::E2BIG,
            ));
        }
        let mut reg = registry();
        map::update(self.map_fd, queue_id, xsk_fd, &format!("the XSKMAP of {}", self.ifname))?;
        if let Some(e) = self.entry(&mut reg) {
            let fds = e.slots.entry(queue_id).or_default();
            fds.retain(|&fd| fd != xsk_fd);
            fds.push(xsk_fd);
        }
        Ok(())
    }

    /// Takes `xsk_fd` out of `queue_id`. If the slot pointed at it, the slot
    /// goes back to the newest socket still on the queue, or is emptied.
    /// Best effort: closing a socket removes it from the map anyway, but the
    /// first socket on a UMEM is the UMEM's fd, which stays open.
    pub(crate) fn remove(&self, queue_id: u32, xsk_fd: RawFd) {
        let mut reg = registry();
        let Some(e) = self.entry(&mut reg) else { return };
        let Some(fds) = e.slots.get_mut(&queue_id) else { return };
        let was_current = fds.last() == Some(&xsk_fd);
        fds.retain(|&fd| fd != xsk_fd);
        if !was_current {
            return;
        }
        let what = format!("the XSKMAP of {}", self.ifname);
        match fds.last() {
            // Every fd listed belongs to a live socket: each removes itself
            // here before it closes.
            Some(&next) => {
                let _ = map::update(self.map_fd, queue_id, next, &what);
            }
            None => {
                e.slots.remove(&queue_id);
                let _ = map::delete(self.map_fd, queue_id, &self.ifname);
            }
        }
    }

    fn entry<'r>(&self, reg: &'r mut Registry) -> Option<&'r mut Entry> {
        reg.entries.iter_mut().find(|e| e.serial == self.serial)
    }

    /// Shares the program this process has attached on `ifindex` of the
    /// calling thread's namespace, if it has one still attached.
    pub(crate) fn find(ifindex: u32) -> Result<Option<Attachment>> {
        let key = (current_netns()?, ifindex);
        let mut reg = registry();
        let Some(live) = reg.live(key).filter(|e| e.attached()) else { return Ok(None) };
        live.refs += 1;
        let name = link::ifname(ifindex).unwrap_or_else(|| format!("ifindex {ifindex}"));
        Ok(Some(Attachment::of(key, &name, live)))
    }

    /// Detaches the program from its interface now, while references (this
    /// one, sockets') may remain: they keep a defunct link, and the next
    /// acquire on the interface attaches a fresh program.
    ///
    /// A program joined from another xsk_rs process is not this process's to
    /// detach: that would stop the other process's sockets too (`Busy`). It
    /// goes when its last process lets go of it.
    pub(crate) fn detach(&self) -> Result<()> {
        let mut reg = registry();
        match self.entry(&mut reg) {
            Some(e) if e.attached() && e._prog.is_none() => Err(Error::Busy(format!(
                "detach the XDP program of ifindex {}: it was attached by another xsk_rs process and joined by \
                 this one, which may not detach it for both; it goes when the last process using it lets go",
                self.key.1
            ))),
            Some(e) if e.attached() => e.link.detach(),
            _ => Ok(()),
        }
    }

    /// The interface's index.
    pub(crate) fn ifindex(&self) -> u32 {
        self.key.1
    }

    /// The mode really attached: `Skb` or `Drv`.
    pub(crate) fn mode(&self) -> XdpMode {
        self.mode
    }

    /// The shared map's fd: valid while this attachment lives.
    pub(crate) fn map_fd(&self) -> RawFd {
        self.map_fd
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut reg = registry();
        let Some(pos) = reg.entries.iter().position(|e| e.serial == self.serial) else { return };
        reg.entries[pos].refs -= 1;
        if reg.entries[pos].refs == 0 {
            // Closing under the lock: a concurrent acquire must not find the
            // entry after the link is gone, nor create a second link before the
            // first is closed (the kernel would refuse it with EBUSY).
            let own = reg.entries[pos]._prog.is_some();
            drop(reg.entries.remove(pos));
            if reg.entries.is_empty() {
                reg.entries = Vec::new();
            }
            // Only a link of our own lingers in the kernel for a moment; a
            // joined program stays with its other process, and waiting for it
            // to go would only delay the next join.
            if own {
                reg.note_released(self.key);
            }
        }
    }
}

/// A duplicate of the live link fd for `dev`, as a child caught between fork
/// and exec would hold it.
#[cfg(test)]
pub(super) fn dup_link_fd(dev: &Netdev) -> std::os::fd::OwnedFd {
    let reg = registry();
    let key = (dev.netns, dev.ifindex);
    let e = reg.entries.iter().rev().find(|e| e.key == key).expect("an entry");
    e.link.fd().try_clone_to_owned().expect("dup link fd")
}

/// Entries (live or waiting for their last reference) this process has for `dev`.
#[cfg(test)]
pub(super) fn entries_for(dev: &Netdev) -> usize {
    let key = (dev.netns, dev.ifindex);
    registry().entries.iter().filter(|e| e.key == key).count()
}
