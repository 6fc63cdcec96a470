//! What a forked child inherits from the library, and the rule that keeps it
//! from hurting its parent.
//!
//! fork(2) copies every fd and every mapping. Left alone, a child's copies
//! would keep the parent's sockets bound and its program attached after the
//! parent has closed them (a copy of an AF_XDP fd, of a ring mapping, or of a
//! bpf link fd holds the kernel object), and a child that used its copies
//! would consume the parent's shared rings and change its XSKMAP.
//!
//! The rule: **a child never uses what it inherits.** The library registers a
//! `pthread_atfork` child handler that, in the child, points every fd that
//! holds such a kernel object ([`ProcessFd`]) at `/dev/null`, and replaces
//! every ring mapping and library-owned UMEM area ([`map_tracked`]) with
//! private zeroed memory at the same address. Every inherited object
//! remembers the process that created it ([`Owner`]): in the child, calls on
//! it fail with `EBADFD` ([`Owner::check`]), ring calls see zeroed rings (at
//! most the entries a ring had already counted before the fork come out, as
//! zeroes), and dropping it frees the child's memory without waiting on a
//! lock another thread of the parent could have held, or touching a kernel
//! object. The child can create UMEMs and sockets of its own. The parent is
//! unaffected: its fds and mappings are its own.
//!
//! A child started by `posix_spawn` or `vfork` (as `std::process::Command`
//! does) runs no atfork handler, but holds its copies only until its `exec`
//! closes them (every fd here is `O_CLOEXEC`, and exec drops all mappings).

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

/// The process that created an object: the fork generation it was created
/// in (pids are not unique enough: a child forked into a new pid namespace
/// can have its parent's pid), and that process's pid for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    generation: u64,
    pid: u32,
}

/// How many forks lie between the first process that used the library and
/// this one: 0 until the library is first used, then 1, incremented by the
/// child handler. A compare with it is [`Owner::check`]'s whole cost.
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn generation() -> u64 {
    match GENERATION.load(Ordering::Relaxed) {
        0 => {
            install();
            GENERATION.load(Ordering::Relaxed)
        }
        g => g,
    }
}

impl Owner {
    /// The calling process.
    pub(crate) fn current() -> Owner {
        // SAFETY: getpid has no preconditions.
        Owner { generation: generation(), pid: unsafe { libc::getpid() } as u32 }
    }

    /// True in a child that inherited the object by fork.
    pub(crate) fn inherited(self) -> bool {
        self.generation != generation()
    }

    /// Refuses `what` on an object this process inherited.
    pub(crate) fn check(self, what: &str) -> Result<()> {
        if !self.inherited() {
            return Ok(());
        }
        Err(Error::Inherited(format!(
            "{what}: this object was created by process {} and inherited by fork; a forked child cannot use \
             the parent's umems and sockets (their fds and rings are closed in the child): create its own",
            self.pid
        )))
    }
}

/// What the child handler neutralises: fds and mappings, by value.
struct Tracked {
    fds: Vec<RawFd>,
    maps: Vec<(usize, usize)>,
}

static TRACKED: Mutex<Tracked> = Mutex::new(Tracked { fds: Vec::new(), maps: Vec::new() });

fn tracked() -> MutexGuard<'static, Tracked> {
    TRACKED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The library's process-wide locks, taken by `prepare` in the order the
/// library nests them (registry, queues, this list), held across fork, and
/// let go by `parent` or `child` (all three run on the forking thread). So
/// the child finds every one of them free and consistent.
struct Held {
    registry: MutexGuard<'static, crate::xdp::Registry>,
    queues: MutexGuard<'static, crate::umem::Queues>,
    tracked: MutexGuard<'static, Tracked>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

extern "C" fn prepare() {
    let registry = crate::xdp::registry();
    let queues = crate::umem::queues();
    let tracked = tracked();
    HELD.with(|h| *h.borrow_mut() = Some(Held { registry, queues, tracked }));
}

extern "C" fn parent() {
    HELD.with(|h| h.borrow_mut().take());
}

/// Runs in the child, single-threaded, before fork returns there. Only
/// async-signal-safe calls (open, dup2, mmap, close) and plain memory.
extern "C" fn child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    let Some(Held { mut registry, mut queues, tracked: mut t }) = HELD.with(|h| h.borrow_mut().take()) else {
        return;
    };
    // The parent's programs and queues are not the child's.
    registry.forget_inherited();
    queues.forget_inherited();
    // SAFETY: a NUL-terminated path; the fd is closed below.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    for &fd in &t.fds {
        if null >= 0 {
            // SAFETY: fd is open (tracked fds are untracked before they close);
            // dup3 keeps its number, and O_CLOEXEC as every library fd has.
            unsafe { libc::dup3(null, fd, libc::O_CLOEXEC) };
        }
    }
    if null >= 0 {
        // SAFETY: our own fd.
        unsafe { libc::close(null) };
    }
    for &(addr, len) in &t.maps {
        // SAFETY: replaces exactly a mapping the library made (tracked
        // mappings are untracked before they are unmapped) with private
        // zeroed memory, so the child keeps no reference to the kernel's
        // ring and later accesses or munmap of the range stay valid.
        // A hugetlb UMEM area is tracked with its whole mapped length, a
        // multiple of the huge page size at a huge-page-aligned address, so
        // ordinary pages fit it exactly. Its range is empty here
        // (MADV_DONTFORK), and were it not, MAP_FIXED would replace whole
        // huge pages, never split one (which hugetlb refuses with EINVAL).
        unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
    }
    // The child's own objects start a new list; the inherited ones are
    // never untracked (Drop skips it for an inherited owner). Forgotten, not
    // freed: no allocator call in the child handler.
    std::mem::forget(std::mem::take(&mut t.fds));
    std::mem::forget(std::mem::take(&mut t.maps));
}

/// Registers the fork handlers once, and records the pid.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: three handlers with the signature pthread_atfork expects,
        // living as long as this library (glibc unregisters them when a
        // dlopened library is closed).
        unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        GENERATION.store(1, Ordering::Relaxed);
    });
}

/// An fd that holds a kernel object a child must not keep alive (an AF_XDP
/// socket, a bpf link): a fork gives the child `/dev/null` in its place.
#[derive(Debug)]
pub(crate) struct ProcessFd {
    fd: Option<OwnedFd>,
    owner: Owner,
}

impl ProcessFd {
    /// Creates an fd with `open` and tracks it, both under the lock that a
    /// fork takes, so that no child is born between the two.
    pub(crate) fn open<E>(open: impl FnOnce() -> std::result::Result<OwnedFd, E>) -> std::result::Result<Self, E> {
        let owner = Owner::current();
        let mut t = tracked();
        let fd = open()?;
        t.fds.push(fd.as_raw_fd());
        Ok(ProcessFd { fd: Some(fd), owner })
    }
}

impl AsRawFd for ProcessFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_ref().expect("open until dropped").as_raw_fd()
    }
}

impl AsFd for ProcessFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_ref().expect("open until dropped").as_fd()
    }
}

impl Drop for ProcessFd {
    fn drop(&mut self) {
        let fd = self.fd.take().expect("open until dropped");
        if self.owner.inherited() {
            // /dev/null by now; the number is not on the child's list.
            return drop(fd);
        }
        // Untrack and close under the lock, so that no fork sees the number
        // tracked after it closed (and maybe was reused).
        let mut t = tracked();
        if let Some(i) = t.fds.iter().position(|&f| f == fd.as_raw_fd()) {
            t.fds.swap_remove(i);
        }
        drop(fd);
        if t.fds.is_empty() {
            t.fds = Vec::new();
        }
    }
}

/// Makes a mapping with `map` (which returns its address, or an error) of
/// `len` bytes and tracks it, both under the lock that a fork takes, so that
/// no child is born with it untracked: a fork replaces it with zeroed memory
/// in the child. Returns the address and its owner; [`unmap`] takes both.
pub(crate) fn map_tracked<E>(
    len: usize,
    map: impl FnOnce() -> std::result::Result<*mut libc::c_void, E>,
) -> std::result::Result<(*mut libc::c_void, Owner), E> {
    let owner = Owner::current();
    let mut t = tracked();
    let addr = map()?;
    t.maps.push((addr as usize, len));
    Ok((addr, owner))
}

/// Unmaps a mapping tracked by [`map_tracked`], with the length it was
/// tracked with (in a child that inherited it: the zeroed replacement).
pub(crate) fn unmap(addr: *mut libc::c_void, len: usize, owner: Owner) {
    let unmap = || {
        // SAFETY: the caller's own mapping of len bytes at addr.
        unsafe { libc::munmap(addr, len) };
    };
    if owner.inherited() {
        return unmap();
    }
    let mut t = tracked();
    if let Some(i) = t.maps.iter().position(|&(a, _)| a == addr as usize) {
        t.maps.swap_remove(i);
    }
    unmap();
    if t.maps.is_empty() {
        t.maps = Vec::new();
    }
}
