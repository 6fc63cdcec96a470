//! The single-producer single-consumer rings that AF_XDP shares with the kernel.
//!
//! Each ring is a power-of-two array of entries plus a producer and a consumer
//! index in shared memory. The indices are free-running `u32`s: they only ever
//! increase, wrap at 2^32, and a slot is found by masking (`idx & (size - 1)`).
//! `producer - consumer` (wrapping) is the number of entries in flight.
//!
//! The protocol is the kernel's (`net/xdp/xsk_queue.h`):
//! * a producer writes entries, then store-releases the producer index; the
//!   consumer load-acquires the producer index before it reads those entries;
//! * a consumer reads entries, then store-releases the consumer index; the
//!   producer load-acquires the consumer index before it overwrites those slots.
//!
//! Each side keeps cached copies of both indices so that it touches the peer's
//! cache line only when the cached view runs out. All of that local state sits
//! in one [`CachePadded`] block per ring, so two rings used by two threads never
//! share a line.
//!
//! The same code runs over the kernel's mmap and, in unit tests, over heap memory
//! laid out the same way.
//!
//! # Model checking
//!
//! Built with `RUSTFLAGS="--cfg loom"`, the ring's two primitives, the index
//! atomics and the entry slots (module `sync`), come from
//! [loom](https://docs.rs/loom), and `loom_tests` runs a producer and a consumer
//! thread over one heap ring through all their interleavings and all the values
//! the C11 memory model lets each load see (`LOOM_MAX_PREEMPTIONS` bounds the
//! search for a quicker run). A slot read before the producer's release of it
//! has been acquired, or a slot overwritten before the consumer's release of
//! it, is reported as a causality violation. Everything above the two
//! primitives, all of `Raw`, `Cursor`, `ProdRing` and `ConsRing`, is the code
//! that runs over the kernel's mmap. Run it with
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --lib loom`.

use crate::error::{Error, Result};
use crate::fork::{self, Owner};
use crossbeam_utils::CachePadded;
use std::marker::PhantomData;
use std::mem::size_of;
use std::os::fd::RawFd;
use std::ptr::{self, NonNull};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use sync::{AtomicU32, Ordering, Slot};

/// The primitives the ring is built from: std's atomics and plain memory in
/// normal builds, loom's checked ones in the library's own tests under
/// `--cfg loom` (loom is a dev-dependency; a `--cfg loom` build of the library
/// itself, as integration tests link it, is the normal one).
///
/// In normal builds [`Slot<T>`] is `repr(transparent)` over `UnsafeCell<T>`,
/// which is `repr(transparent)` over `T`: the entries array has the kernel's
/// layout, a slot pointer is the entry's address (`UnsafeCell::raw_get` is a
/// cast), and a copy is one `copy_nonoverlapping`, so the ring compiles to the
/// same code as over a bare `*mut T`. Under loom each slot is a
/// `loom::cell::UnsafeCell` that records every read and write and checks it
/// against the other thread's accesses.
mod sync {
    pub(super) use std::sync::atomic::Ordering;

    #[cfg(all(test, loom))]
    pub(super) use loom::sync::atomic::AtomicU32;
    #[cfg(not(all(test, loom)))]
    pub(super) use std::sync::atomic::AtomicU32;

    #[cfg(all(test, loom))]
    use loom::cell::UnsafeCell;
    #[cfg(not(all(test, loom)))]
    use std::cell::UnsafeCell;

    /// One entry of a ring's entries array.
    #[repr(transparent)]
    pub(super) struct Slot<T>(UnsafeCell<T>);

    impl<T: Copy> Slot<T> {
        #[cfg(test)]
        pub(super) fn new(v: T) -> Self {
            Slot(UnsafeCell::new(v))
        }

        /// Pointer for writing the entry. Under loom this records a write at
        /// this point: callers write through the pointer right away, before
        /// their next atomic operation.
        ///
        /// # Safety
        /// `p` points to a live slot.
        #[inline(always)]
        pub(super) unsafe fn write_ptr(p: *mut Slot<T>) -> *mut T {
            #[cfg(not(all(test, loom)))]
            return UnsafeCell::raw_get(p.cast::<UnsafeCell<T>>());
            #[cfg(all(test, loom))]
            return (*p).0.with_mut(|q| q);
        }

        /// Pointer for reading the entry; under loom, records a read (as above).
        ///
        /// # Safety
        /// `p` points to a live slot.
        #[inline(always)]
        pub(super) unsafe fn read_ptr(p: *mut Slot<T>) -> *const T {
            #[cfg(not(all(test, loom)))]
            return UnsafeCell::raw_get(p.cast::<UnsafeCell<T>>());
            #[cfg(all(test, loom))]
            return (*p).0.with(|q| q);
        }

        /// Copies `n` entries from `src` into the slots from `dst` on.
        ///
        /// # Safety
        /// `dst` has `n` live slots; `src` is aligned and valid for reads of
        /// `n` initialised entries, none of them in those slots.
        #[inline(always)]
        pub(super) unsafe fn copy_in(src: *const T, dst: *mut Slot<T>, n: usize) {
            #[cfg(not(all(test, loom)))]
            std::ptr::copy_nonoverlapping(src, dst.cast::<T>(), n);
            #[cfg(all(test, loom))]
            for i in 0..n {
                Self::write_ptr(dst.add(i)).write(src.add(i).read());
            }
        }

        /// Copies `n` entries out of the slots from `src` on into `dst`.
        ///
        /// # Safety
        /// `src` has `n` live slots; `dst` is aligned and valid for writes of
        /// `n` entries (initialised or not: it is only written), none of them
        /// in those slots.
        #[inline(always)]
        pub(super) unsafe fn copy_out(src: *mut Slot<T>, dst: *mut T, n: usize) {
            #[cfg(not(all(test, loom)))]
            std::ptr::copy_nonoverlapping(src.cast::<T>(), dst, n);
            #[cfg(all(test, loom))]
            for i in 0..n {
                dst.add(i).write(Self::read_ptr(src.add(i)).read());
            }
        }
    }
}

/// One RX or TX ring entry: `struct xdp_desc`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Desc {
    /// Offset of the packet's first byte in the UMEM.
    pub addr: u64,
    /// Packet length in bytes.
    pub len: u32,
    /// `XDP_PKT_CONTD` and friends; 0 for single-buffer packets.
    pub options: u32,
}

const _: () = assert!(size_of::<Desc>() == size_of::<libc::xdp_desc>());

/// [`Desc::options`] bit: the packet goes on in the next descriptor
/// (`XDP_PKT_CONTD`, multi-buffer sockets only, see
/// [`crate::socket::BIND_SG`]). A packet is a chain of descriptors up to and
/// including the first one without it.
pub const XDP_PKT_CONTD: u32 = 1;

impl Desc {
    /// Whether the packet goes on in the next descriptor ([`XDP_PKT_CONTD`]).
    #[inline(always)]
    pub fn is_continued(&self) -> bool {
        self.options & XDP_PKT_CONTD != 0
    }

    /// Sets or clears [`XDP_PKT_CONTD`], keeping the other option bits.
    #[inline(always)]
    pub fn set_continued(&mut self, contd: bool) {
        self.options = (self.options & !XDP_PKT_CONTD) | if contd { XDP_PKT_CONTD } else { 0 };
    }
}

/// How many descriptors the first packet in `descs` takes: up to and
/// including the first one without [`XDP_PKT_CONTD`]. `None` when every one
/// has it (the chain goes on past `descs`, or `descs` is empty).
///
/// ```
/// use xsk_rs::ring::{chain_len, Desc, XDP_PKT_CONTD};
/// let d = |options| Desc { addr: 0, len: 1, options };
/// assert_eq!(chain_len(&[d(XDP_PKT_CONTD), d(XDP_PKT_CONTD), d(0), d(0)]), Some(3));
/// assert_eq!(chain_len(&[d(0)]), Some(1));
/// assert_eq!(chain_len(&[d(XDP_PKT_CONTD)]), None);
/// ```
#[inline]
pub fn chain_len(descs: &[Desc]) -> Option<usize> {
    descs.iter().position(|d| !d.is_continued()).map(|i| i + 1)
}

/// How many descriptors the whole packets at the start of `descs` take: the
/// end of the last chain that ends within them (0 when the first packet does
/// not end there).
#[inline]
pub fn whole_packets_len(descs: &[Desc]) -> usize {
    descs.iter().rposition(|d| !d.is_continued()).map_or(0, |i| i + 1)
}

/// Bit in a ring's `flags` word: the kernel wants a syscall to make progress.
const XDP_RING_NEED_WAKEUP: u32 = libc::XDP_RING_NEED_WAKEUP;

/// Where a ring's memory comes from.
enum Backing {
    /// `mmap` of an AF_XDP socket, by `owner`; unmapped on drop. Tracked for
    /// fork: a child gets zeroed memory in its place (see `crate::fork`).
    Mmap { base: NonNull<libc::c_void>, len: usize, owner: Owner },
    /// Heap memory for tests, aligned for the atomics; shared by the producer
    /// and the consumer side of one test ring.
    #[cfg(test)]
    Heap(Arc<Vec<u64>>),
}

impl Drop for Backing {
    fn drop(&mut self) {
        // Irrefutable outside tests, where Heap does not exist.
        #[cfg_attr(not(test), allow(irrefutable_let_patterns))]
        if let Backing::Mmap { base, len, owner } = *self {
            // Exactly what mmap returned; nothing borrows the ring any more
            // because its owner is being dropped.
            fork::unmap(base.as_ptr(), len, owner);
        }
    }
}

/// Words of [`HEAP_GUARD`] after a heap ring's entries: room for a batch call
/// that overruns the ring to leave a trace.
#[cfg(test)]
const HEAP_GUARD_WORDS: usize = 64;
/// What a heap ring's guard words hold, and no ring entry in the tests does.
#[cfg(test)]
const HEAP_GUARD: u64 = 0x6775_6172_645f_5f21;

/// Whether need_wakeup is in force for a ring: whether the kernel's buffer
/// pool behind it uses `XDP_USE_NEED_WAKEUP`. Only then does the kernel
/// maintain the ring's `XDP_RING_NEED_WAKEUP` bit; otherwise the bit means
/// nothing (some kernels set it at bind, others never), and the ring reports
/// "wakeup needed" always, so that a program that kicks only when told never
/// stalls. The pool's setting comes from the bind of the UMEM's first socket:
/// a later socket sharing the UMEM inherits it whatever flags it passes (on
/// another queue or device only since the kernel's 2022 fix "xsk: inherit
/// need_wakeup flag for shared sockets"; before it, such a socket's pool has
/// need_wakeup off). When in doubt, leave the gate "not in force": that
/// costs syscalls, while a gate wrongly "in force" can stall the program.
///
/// A ring reads its gate on every `needs_wakeup()`; whoever owns the ring
/// keeps a clone ([`ProdRing::wakeup_gate`], [`ConsRing::wakeup_gate`]) and
/// flips it. The flip is one atomic store into a word outside the ring, so it
/// needs no access to the ring itself: it is sound while another thread uses
/// the ring through a `&mut` (the C ABI's fill ring, flipped at the UMEM fd's
/// first bind from code that holds only the `Umem`). A ring starts "not in
/// force".
#[derive(Clone, Debug, Default)]
pub(crate) struct WakeupGate(Arc<AtomicBool>);

impl WakeupGate {
    /// Says whether need_wakeup is in force for the ring(s) reading this gate.
    /// Relaxed: the gate orders nothing; a ring that reads the old value
    /// once more reports "wakeup needed" once more, which costs a syscall.
    pub(crate) fn set_in_force(&self, in_force: bool) {
        self.0.store(in_force, Ordering::Relaxed);
    }

    /// Whether need_wakeup is in force (see [`Self::set_in_force`]).
    #[inline(always)]
    pub(crate) fn in_force(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Pointers into one ring's memory, and the ring's geometry.
struct Raw<T> {
    producer: NonNull<AtomicU32>,
    consumer: NonNull<AtomicU32>,
    /// `None` only for test rings without a flags word.
    flags: Option<NonNull<AtomicU32>>,
    /// Whether the flags word's `XDP_RING_NEED_WAKEUP` bit is in force.
    wakeup: WakeupGate,
    entries: NonNull<Slot<T>>,
    mask: u32,
    size: u32,
    _backing: Backing,
}

/// A ring's shared memory as the kernel maps it: for code that runs the ring
/// protocol itself (libxdp's inline `xsk_ring_*` helpers, say) instead of
/// through [`ProdRing`] / [`ConsRing`]. Valid while the ring object lives.
///
/// Taking it hands the ring over: the ring object's own view (its cached
/// indices, what it has reserved or peeked) no longer follows, so from then on
/// drive the ring only through the layout. The library itself touches a ring
/// handed over this way only where it must read the kernel's state anew (a
/// socket dropped on the UMEM's fd rejects the TX descriptors the kernel has
/// not consumed, reading both indices from this memory).
#[derive(Clone, Copy, Debug)]
pub struct RingLayout {
    /// The producer index (the application's for fill and TX, the kernel's
    /// for RX and completion).
    pub producer: *mut u32,
    /// The consumer index.
    pub consumer: *mut u32,
    /// The flags word (`XDP_RING_NEED_WAKEUP`).
    pub flags: *mut u32,
    /// The first entry: `u64` addresses (fill, completion) or [`Desc`]s (RX, TX).
    pub ring: *mut u8,
    /// Entries, a power of two.
    pub size: u32,
}

impl<T: Copy> Raw<T> {
    fn layout(&self) -> RingLayout {
        RingLayout {
            producer: self.producer.as_ptr().cast(),
            consumer: self.consumer.as_ptr().cast(),
            flags: self.flags.map_or(ptr::null_mut(), |f| f.as_ptr().cast()),
            ring: self.entries.as_ptr().cast(),
            size: self.size,
        }
    }

    /// Maps one ring of `size` entries of `T` from an AF_XDP socket.
    fn map(fd: RawFd, pgoff: u64, off: &libc::xdp_ring_offset, size: u32, what: &str) -> Result<Self> {
        if cfg!(all(test, loom)) {
            // loom's atomics are handles into its model, not the kernel's words.
            return Err(Error::NotSupported(format!("{what}: a --cfg loom build cannot map kernel rings")));
        }
        let len = off.desc as usize + size as usize * size_of::<T>();
        // The ring offsets need more than 32 bits (the completion ring's is
        // 0x180000000), so the call is the one whose offset is 64-bit on
        // every target: glibc's mmap64 (a 32-bit glibc's mmap takes a 32-bit
        // off_t), musl's mmap (its off_t is always 64-bit).
        let pgoff = libc::off64_t::try_from(pgoff)
            .map_err(|_| Error::invalid(format!("{what}: mmap offset {pgoff:#x} exceeds off64_t")))?;
        #[cfg(not(target_env = "gnu"))]
        use libc::mmap;
        #[cfg(target_env = "gnu")]
        use libc::mmap64 as mmap;
        let (base, owner) = fork::map_tracked(len, || {
            // SAFETY: a fresh shared mapping of the socket's ring; the kernel
            // checks that `len` fits the ring it allocated for `pgoff`.
            let base = unsafe {
                mmap(
                    ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_POPULATE,
                    fd,
                    pgoff,
                )
            };
            if base == libc::MAP_FAILED {
                return Err(Error::last_os(format!("{what}: mmap of {size} entries")));
            }
            Ok(base)
        })?;
        let base = NonNull::new(base).expect("mmap returned NULL without failing");
        let at = |o: u64| {
            // SAFETY: every offset the kernel reports lies inside the mapping.
            unsafe { NonNull::new_unchecked(base.as_ptr().cast::<u8>().add(o as usize)) }
        };
        Ok(Raw {
            producer: at(off.producer).cast(),
            consumer: at(off.consumer).cast(),
            flags: Some(at(off.flags).cast()),
            entries: at(off.desc).cast(),
            mask: size - 1,
            size,
            wakeup: WakeupGate::default(),
            _backing: Backing::Mmap { base, len, owner },
        })
    }

    /// A ring over heap memory with the kernel's layout: producer, consumer and
    /// flags on their own cache lines, entries after them. Both indices start
    /// at `start`, every entry at `T::default()`.
    #[cfg(test)]
    fn heap(size: u32, start: u32) -> Self
    where
        T: Default,
    {
        assert!(size.is_power_of_two());
        // loom's atomics and cells are bigger than std's; they still fit.
        assert!(size_of::<AtomicU32>() <= 64 && std::mem::align_of::<AtomicU32>() <= 8);
        assert!(std::mem::align_of::<Slot<T>>() <= 8);
        let header = 3 * 64;
        let words = (header + size as usize * size_of::<Slot<T>>()).div_ceil(8);
        // Guard words after the entries, for tests that check nothing reaches
        // past the ring (`guards_intact`).
        let mut mem = vec![0u64; words + HEAP_GUARD_WORDS];
        mem[words..].fill(HEAP_GUARD);
        let base = mem.as_mut_ptr().cast::<u8>();
        // SAFETY: all offsets are inside `mem`, which the ring keeps alive.
        let at = |o: usize| unsafe { NonNull::new_unchecked(base.add(o)) };
        let entries = at(header).cast::<Slot<T>>();
        // SAFETY: each write is to its own aligned, unused part of `mem`. The
        // values are never dropped in place: std's need no drop, and loom's
        // are handles that its model owns.
        unsafe {
            for (o, v) in [(0, start), (64, start), (128, 0)] {
                at(o).cast::<AtomicU32>().as_ptr().write(AtomicU32::new(v));
            }
            for i in 0..size as usize {
                entries.as_ptr().add(i).write(Slot::new(T::default()));
            }
        }
        Raw {
            producer: at(0).cast(),
            consumer: at(64).cast(),
            flags: Some(at(128).cast()),
            entries,
            mask: size - 1,
            size,
            wakeup: WakeupGate::default(),
            _backing: Backing::Heap(Arc::new(mem)),
        }
    }

    /// Whether the guard words after a heap ring's entries still hold
    /// [`HEAP_GUARD`]: no write reached past the ring.
    #[cfg(all(test, not(loom)))]
    fn guards_intact(&self) -> bool {
        let Backing::Heap(mem) = &self._backing else { panic!("only heap rings have guards") };
        let base = mem.as_ptr() as usize;
        let end = self.entries.as_ptr() as usize + self.size as usize * size_of::<Slot<T>>();
        let first = (end - base).div_ceil(8);
        // SAFETY: the guard words lie inside `mem` (see `heap`), and no ring
        // call writes them (which is what this checks), so plain reads race
        // with nothing.
        (first..first + HEAP_GUARD_WORDS).all(|w| unsafe { mem.as_ptr().add(w).read_volatile() } == HEAP_GUARD)
    }

    /// The same heap ring once more, for the other side of the protocol.
    #[cfg(test)]
    fn share(&self) -> Self {
        let Backing::Heap(mem) = &self._backing else { panic!("only heap rings are shared") };
        Raw {
            producer: self.producer,
            consumer: self.consumer,
            flags: self.flags,
            entries: self.entries,
            mask: self.mask,
            size: self.size,
            wakeup: self.wakeup.clone(),
            _backing: Backing::Heap(Arc::clone(mem)),
        }
    }

    #[inline(always)]
    fn producer(&self) -> &AtomicU32 {
        // SAFETY: points into the backing, which lives as long as self.
        unsafe { self.producer.as_ref() }
    }

    #[inline(always)]
    fn consumer(&self) -> &AtomicU32 {
        // SAFETY: as above.
        unsafe { self.consumer.as_ref() }
    }

    /// Slot for a free-running index. Masking keeps every index inside the ring,
    /// whatever value a caller passes.
    #[inline(always)]
    fn entry(&self, idx: u32) -> *mut Slot<T> {
        // SAFETY: (idx & mask) < size, and the entries array holds size entries.
        unsafe { self.entries.as_ptr().add((idx & self.mask) as usize) }
    }

    /// Pointer for writing the entry at `idx` (masked).
    #[inline(always)]
    fn slot_mut(&self, idx: u32) -> *mut T {
        // SAFETY: entry() is in bounds of the live entries array.
        unsafe { Slot::write_ptr(self.entry(idx)) }
    }

    /// Pointer for reading the entry at `idx` (masked).
    #[inline(always)]
    fn slot_ref(&self, idx: u32) -> *const T {
        // SAFETY: as above.
        unsafe { Slot::read_ptr(self.entry(idx)) }
    }

    /// "Wakeup needed" unless need_wakeup is in force, then the kernel's bit.
    #[inline(always)]
    fn needs_wakeup(&self) -> bool {
        // The kernel sets and clears this bit on its own schedule; a plain
        // (relaxed) read is what the protocol asks for.
        !self.wakeup.in_force()
            || self.flags.is_some_and(|f| {
                // SAFETY: points into the backing.
                unsafe { f.as_ref() }.load(Ordering::Relaxed) & XDP_RING_NEED_WAKEUP != 0
            })
    }

    /// Splits `n <= size` entries from ring index `idx` on into the run
    /// before the ring's end and the run after the wrap: returns the first
    /// run's start slot and length, and the second's length (it starts at
    /// entry 0). Both runs lie in the entries array: `start + first <= size`,
    /// and `rest = n - first` is 0 unless `first = size - start`, so
    /// `rest <= start` when `n <= size`.
    #[inline(always)]
    fn runs(&self, idx: u32, n: u32) -> (usize, usize, usize) {
        debug_assert!(n <= self.size, "a copy of {n} entries into a ring of {}", self.size);
        let start = idx & self.mask;
        let first = n.min(self.size - start);
        (start as usize, first as usize, (n - first) as usize)
    }

    /// Copies `n` entries from `src` into the ring from index `idx` (masked)
    /// on, in at most two runs (before and after the wrap).
    ///
    /// # Safety
    /// `n <= size`; `src` is aligned and valid for reads of `n` initialised
    /// `T`s, none of them inside this ring's entries.
    #[inline(always)]
    unsafe fn copy_in(&self, idx: u32, src: *const T, n: u32) {
        let (start, first, rest) = self.runs(idx, n);
        let base = self.entries.as_ptr();
        // SAFETY: both runs lie in the entries array (`runs`, given n <= size);
        // `src` holds n entries and does not overlap them (the caller's
        // contract).
        unsafe {
            Slot::copy_in(src, base.add(start), first);
            Slot::copy_in(src.add(first), base, rest);
        }
    }

    /// Copies `n` entries out of the ring from index `idx` (masked) on into
    /// `dst`, in at most two runs (before and after the wrap). Only writes
    /// `dst`.
    ///
    /// # Safety
    /// `n <= size`; `dst` is aligned and valid for writes of `n` `T`s (it
    /// need not be initialised), none of them inside this ring's entries.
    #[inline(always)]
    unsafe fn copy_out(&self, idx: u32, dst: *mut T, n: u32) {
        let (start, first, rest) = self.runs(idx, n);
        let base = self.entries.as_ptr();
        // SAFETY: as in `copy_in`, with `dst` valid for n writes.
        unsafe {
            Slot::copy_out(base.add(start), dst, first);
            Slot::copy_out(base, dst.add(first), rest);
        }
    }
}

/// The local side of a ring: our cached view of both indices.
#[derive(Default, Debug)]
struct Cursor {
    /// Producer ring: next index to hand out by `reserve`.
    /// Consumer ring: the end of the ready entries as last seen (the producer
    /// index, when that index is sane; see `ConsRing::avail`).
    cached_prod: u32,
    /// Producer ring: the end of the free space as last seen, so that
    /// `cached_cons - cached_prod` is the free space (the consumer index plus
    /// the ring size, when that index is sane; see `ProdRing::free`).
    /// Consumer ring: next index to hand out by `peek`.
    cached_cons: u32,
    /// The index value we last stored to shared memory (producer index for a
    /// producer ring, consumer index for a consumer ring). Kept here so that
    /// `submit`/`release` never read back our own shared line, and so that they
    /// can refuse to publish entries that were never reserved/peeked.
    published: u32,
}

/// A ring that user space produces into: the fill ring (`u64` frame addresses)
/// and the TX ring ([`Desc`]).
pub struct ProdRing<T> {
    raw: Raw<T>,
    cur: CachePadded<Cursor>,
    /// What `put` checks each entry against: only a TX ring can have one
    /// ([`ProdRing::set_max_len`]).
    limit: Option<Limit<T>>,
    _t: PhantomData<T>,
}

/// A length limit for the entries `put` queues.
struct Limit<T> {
    max: u32,
    /// How many of the `n` entries from `items` on come before the first
    /// longer than `max` (`n` if none is). Reads only those entries, and
    /// nothing when `n` is 0.
    ///
    /// Safety: `items` is valid for reads of `n` entries.
    within: unsafe fn(items: *const T, n: u32, max: u32) -> u32,
}

/// [`Limit::within`] for TX descriptors.
///
/// # Safety
/// `items` is valid for reads of `n` descriptors.
unsafe fn descs_within(items: *const Desc, n: u32, max: u32) -> u32 {
    // SAFETY: the caller's contract.
    let descs = unsafe { std::slice::from_raw_parts(items, n as usize) };
    // One branch-free pass for the common case (every length fits), which
    // the compiler can vectorise; the search only when one does not.
    if !descs.iter().fold(false, |over, d| over | (d.len > max)) {
        return n;
    }
    descs.iter().position(|d| d.len > max).map_or(n, |i| i as u32)
}

/// Why a TX ring's `put` stopped before a descriptor: its `len` is over the
/// ring's limit ([`ProdRing::max_len`]). The `index` descriptors before it
/// were queued; it and those after it were not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("descriptor {index}: len {len} is over the tx ring's limit of {max} bytes; the {index} before it were queued")]
pub struct TooLong {
    /// Its index in the caller's array, which is also how many were queued.
    pub index: u32,
    /// Its length.
    pub len: u32,
    /// The ring's limit.
    pub max: u32,
}

/// Why [`ProdRing::put_packets`] queued nothing and never will for this
/// array: a send loop that retried would spin for ever, as on a full ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PutPacketsError {
    /// A descriptor is longer than the ring's limit (`EMSGSIZE` in C).
    #[error(transparent)]
    TooLong(#[from] TooLong),
    /// The array ends inside its first chain: all `len` descriptors carry
    /// [`XDP_PKT_CONTD`], so no packet ends in it (`EINVAL` in C).
    #[error("all {len} descriptors carry XDP_PKT_CONTD: the array ends inside its first packet's chain, whose last descriptor must not carry it")]
    Unfinished {
        /// The array's length.
        len: u32,
    },
    /// The first chain has more descriptors than the ring has entries, so
    /// it can never be queued whole (`E2BIG` in C).
    #[error("the first packet is a chain of {len} descriptors, more than the tx ring's {size} entries")]
    ChainTooBig {
        /// The chain's length.
        len: u32,
        /// The ring's size.
        size: u32,
    },
}

/// Why [`ConsRing::peek_packets`] took nothing: the first packet's chain is
/// longer than the `max` it was given, so it can never be taken whole with
/// that `max` (`ENOBUFS` in C). Nothing stays peeked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the first packet is a chain of {}{len} descriptors, more than the {max} asked for", if *.ended { "" } else { "at least " })]
pub struct ChainTooLong {
    /// The chain's length (`ended`), or how many of its descriptors are in
    /// the ring so far (its end has not arrived, or the ring is full of it).
    pub len: u32,
    /// Whether the chain's end is in the ring, so `len` is its length.
    pub ended: bool,
    /// The `max` given.
    pub max: u32,
}

/// A ring that user space consumes from: the completion ring (`u64`) and the RX
/// ring ([`Desc`]).
pub struct ConsRing<T> {
    raw: Raw<T>,
    cur: CachePadded<Cursor>,
    _t: PhantomData<T>,
}

/// Fill ring: frame addresses handed to the kernel for RX.
pub type FillRing = ProdRing<u64>;
/// TX ring: packets handed to the kernel for transmission.
pub type TxRing = ProdRing<Desc>;
/// Completion ring: frame addresses the kernel is done transmitting.
pub type CompRing = ConsRing<u64>;
/// RX ring: received packets.
pub type RxRing = ConsRing<Desc>;

// SAFETY: a ring is a single-producer single-consumer endpoint; moving the one
// user-side endpoint to another thread is fine. It is not Sync: every method
// that touches the indices takes &mut self.
unsafe impl<T: Send> Send for ProdRing<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for ConsRing<T> {}

impl<T: Copy> ProdRing<T> {
    fn from_raw(raw: Raw<T>) -> Self {
        let mut r = ProdRing { raw, cur: CachePadded::new(Cursor::default()), limit: None, _t: PhantomData };
        r.resync();
        r
    }

    pub(crate) fn map(fd: RawFd, pgoff: u64, off: &libc::xdp_ring_offset, size: u32, what: &str) -> Result<Self> {
        Raw::map(fd, pgoff, off, size, what).map(Self::from_raw)
    }

    /// Starts the local view afresh from the shared indices, as on a ring just
    /// mapped: entries reserved and never submitted are forgotten. For a
    /// mapping handed from one socket to the next (`umem::FdState`).
    pub(crate) fn resync(&mut self) {
        let prod = self.raw.producer().load(Ordering::Relaxed);
        let cons = self.raw.consumer().load(Ordering::Acquire);
        // Clamped as in `free`, with nothing reserved.
        let free = cons.wrapping_add(self.raw.size).wrapping_sub(prod).min(self.raw.size);
        *self.cur = Cursor { cached_prod: prod, cached_cons: prod.wrapping_add(free), published: prod };
    }

    /// Number of entries in the ring.
    pub fn size(&self) -> u32 {
        self.raw.size
    }

    /// The ring's shared memory, handed over to code that runs the protocol
    /// itself ([`RingLayout`] says what that gives up).
    pub fn layout(&mut self) -> RingLayout {
        self.raw.layout()
    }

    /// Free slots, refreshing the cached consumer index only when the cached
    /// view has fewer than `want`. Never more than the slots not already
    /// reserved, so at most `size` slots are reserved at any time.
    #[inline(always)]
    fn free(&mut self, want: u32) -> u32 {
        let free = self.cur.cached_cons.wrapping_sub(self.cur.cached_prod);
        if free >= want {
            return free;
        }
        // Acquire pairs with the kernel's release of the consumer index: once we
        // see it, the kernel has finished reading the slots it passed.
        let cons = self.raw.consumer().load(Ordering::Acquire);
        // That index is a word in shared memory that anything mapping the ring
        // can write (a stray store, a forked child); like the kernel with the
        // indices user space writes (`xsk_queue.h`), trust it for nothing but
        // a count, and bound the count. A sane index gives
        // 0 <= free <= size - reserved; the `min` keeps any other value there,
        // so no reserve or batch copy can reach past the ring. The fast path
        // above needs no check: the clamped count is what it reads back.
        let free = cons
            .wrapping_add(self.raw.size)
            .wrapping_sub(self.cur.cached_prod)
            .min(self.raw.size.saturating_sub(self.reserved()));
        self.cur.cached_cons = self.cur.cached_prod.wrapping_add(free);
        free
    }

    /// Reserves exactly `n` slots, or none. Returns the first slot's
    /// free-running index; fill the slots through [`Self::slot`], then [`Self::submit`].
    #[inline]
    pub fn reserve(&mut self, n: u32) -> Option<u32> {
        if n == 0 || self.free(n) < n {
            return None;
        }
        let idx = self.cur.cached_prod;
        self.cur.cached_prod = idx.wrapping_add(n);
        Some(idx)
    }

    /// Reserves up to `n` slots that follow one another in ring memory: as
    /// many as are free, but no further than the ring's end (the next call
    /// continues from its start). Returns how many and the first one's
    /// free-running index; [`Self::slot`] of that index points at all of them.
    /// Submit them with [`Self::submit`] as for [`Self::reserve`]. This is
    /// the in-place batch: the caller writes the slots directly, with neither
    /// a copy nor an index mask per entry.
    #[inline]
    pub fn reserve_run(&mut self, n: u32) -> (u32, u32) {
        let idx = self.cur.cached_prod;
        let want = n.min(self.raw.size - (idx & self.raw.mask));
        if want == 0 {
            return (0, idx);
        }
        let got = want.min(self.free(want));
        self.cur.cached_prod = idx.wrapping_add(got);
        (got, idx)
    }

    /// The slot for a free-running index. Any index can be passed: it is
    /// masked into the ring, so the pointer is always inside the entries
    /// array (and so is a run from [`Self::reserve_run`]).
    ///
    /// Which slots to write: those reserved and not yet submitted (from
    /// [`Self::reserve`] or [`Self::reserve_run`] up to [`Self::submit`]).
    /// A slot submitted and not yet consumed belongs to the kernel, which may
    /// read it at any moment: writing it changes or tears the entry the
    /// kernel takes (a wrong frame address, a wrong descriptor). A free slot
    /// (consumed and not reserved again) is harmless to write, but nothing
    /// reads it until it is reserved and written anew. Only a reserved index
    /// tells you which kind a slot is.
    #[inline(always)]
    pub fn slot(&mut self, idx: u32) -> *mut T {
        self.raw.slot_mut(idx)
    }

    /// Writes `value` into the slot at `idx` (masked). Write only slots
    /// reserved and not yet submitted: see [`Self::slot`].
    #[inline(always)]
    pub fn set(&mut self, idx: u32, value: T) {
        // SAFETY: slot_mut() is in bounds and aligned. A slot the kernel is
        // reading (the caller's mistake, see `slot`) gets a wrong entry, but
        // the kernel is no thread of this program, so no data race arises.
        // (The heap rings of unit tests have a thread as their peer; those
        // tests write reserved slots only, and loom checks that they do.)
        unsafe { self.raw.slot_mut(idx).write(value) }
    }

    /// Publishes the next `n` reserved entries to the kernel. Clamped to what
    /// was reserved and not yet submitted, so a wrong `n` never hands the
    /// kernel stale slots.
    #[inline]
    pub fn submit(&mut self, n: u32) -> u32 {
        let pending = self.reserved();
        let n = n.min(pending);
        if n > 0 {
            self.cur.published = self.cur.published.wrapping_add(n);
            // Release orders our entry writes before the new producer index; it
            // pairs with the kernel's acquire of the producer index.
            self.raw.producer().store(self.cur.published, Ordering::Release);
        }
        n
    }

    /// Reserves up to `items.len()` slots, copies `items` in and submits them.
    /// Returns how many were queued: fewer when the ring is nearly full or,
    /// on a TX ring with a length limit, when a descriptor is over it (see
    /// [`ProdRing::set_max_len`]; [`ProdRing::put_checked`] says which), and
    /// 0 while a [`Self::reserve`] is open: the ring publishes in order, so
    /// `put` would hand the kernel those slots, perhaps not yet written.
    #[inline]
    pub fn put(&mut self, items: &[T]) -> u32 {
        let n = u32::try_from(items.len()).unwrap_or(u32::MAX);
        // SAFETY: a slice is aligned, initialised and readable for its length
        // (n may be less). It cannot lie in this ring's entries: those are
        // reachable only through `slot`'s raw pointers, and a slice made from
        // them would promise that nothing writes them while it lives, which
        // the ring does.
        unsafe { self.put_from(items.as_ptr(), n) }
    }

    /// [`Self::put`] from a pointer and a count, for callers that hold no
    /// slice (the C ABI): copies up to `n` entries from `items` in and
    /// submits them. Returns how many were queued, as [`Self::put`] does.
    ///
    /// # Safety
    /// Unless `n` is 0 (then `items` is not used), `items` is aligned and
    /// valid for reads of `n` initialised `T`s, and none of them lies in this
    /// ring's own entries.
    #[inline]
    pub unsafe fn put_from(&mut self, items: *const T, n: u32) -> u32 {
        if self.reserved() != 0 {
            return 0;
        }
        let mut n = n.min(self.free(n));
        // Only a TX ring can have a limit. The size test is a constant: for
        // the fill ring's u64 entries this block is compiled out, so its put
        // pays nothing for the check.
        if size_of::<T>() == size_of::<Desc>() {
            if let Some(limit) = &self.limit {
                // SAFETY: n is at most what the caller passed, so `items`
                // holds n readable entries.
                n = unsafe { (limit.within)(items, n, limit.max) };
            }
        }
        if n == 0 {
            return 0;
        }
        let idx = self.cur.cached_prod;
        // SAFETY: n <= free <= size (`free` bounds it whatever the shared
        // index holds); `items` per our caller's contract.
        unsafe { self.raw.copy_in(idx, items, n) };
        self.cur.cached_prod = idx.wrapping_add(n);
        self.submit(n)
    }

    /// Whether a syscall is needed for the kernel to make progress on this
    /// ring. With need_wakeup in force (the socket, or for a UMEM's rings the
    /// UMEM's first socket, was bound with `XDP_USE_NEED_WAKEUP`): whether
    /// the kernel set `XDP_RING_NEED_WAKEUP`. Otherwise always true: the
    /// kernel then keeps no such bit, and the ring has no other way to know.
    #[inline]
    pub fn needs_wakeup(&self) -> bool {
        self.raw.needs_wakeup()
    }

    /// The gate that says whether need_wakeup is in force for this ring (see
    /// `WakeupGate`); a new ring's says "not in force". Take it while
    /// nothing else uses the ring (right after mapping it), keep it, and flip
    /// it at bind: the flip never touches the ring, so it may race with the
    /// ring's user.
    pub(crate) fn wakeup_gate(&self) -> WakeupGate {
        self.raw.wakeup.clone()
    }

    /// Says whether need_wakeup is in force for this ring, for an owner that
    /// holds the ring exclusively (an RX/TX ring before it is handed out);
    /// otherwise flip a gate from [`Self::wakeup_gate`].
    pub(crate) fn set_need_wakeup_in_force(&mut self, in_force: bool) {
        self.raw.wakeup.set_in_force(in_force);
    }

    /// Free slots, at most `nb`: the cached view when it has `nb`, else a
    /// fresh read of the kernel's consumer index (libxdp's `xsk_prod_nb_free`).
    #[inline]
    pub fn nb_free(&mut self, nb: u32) -> u32 {
        self.free(nb).min(nb)
    }

    /// Slots reserved and not yet submitted.
    #[inline(always)]
    pub fn reserved(&self) -> u32 {
        self.cur.cached_prod.wrapping_sub(self.cur.published)
    }

    /// Entries submitted and not yet consumed by the kernel (at most the ring's
    /// size, whatever the shared consumer index holds).
    pub fn in_flight(&self) -> u32 {
        self.cur.published.wrapping_sub(self.raw.consumer().load(Ordering::Acquire)).min(self.raw.size)
    }

    /// Submits to `to` the entries submitted here and not yet consumed (at
    /// most `to`'s free room), in order: for a ring that is being replaced
    /// by a fresh one before the kernel ever read it.
    pub(crate) fn move_submitted_to(&mut self, to: &mut ProdRing<T>) {
        // The shared producer index, not the local view: the ring may have
        // been handed over through its layout.
        self.resync();
        let n = self.in_flight().min(self.raw.size);
        let first = self.cur.published.wrapping_sub(n);
        // SAFETY: slot_ref() is always in bounds; these entries were written
        // before they were submitted.
        let items: Vec<T> = (0..n).map(|i| unsafe { self.raw.slot_ref(first.wrapping_add(i)).read() }).collect();
        to.put(&items);
    }
}

impl ProdRing<Desc> {
    /// The longest descriptor (`len`, in bytes) that [`Self::put`] queues:
    /// `u32::MAX`, no limit, unless [`Self::set_max_len`] set one.
    #[inline]
    pub fn max_len(&self) -> u32 {
        self.limit.as_ref().map_or(u32::MAX, |l| l.max)
    }

    /// Sets the longest descriptor that the batch calls ([`Self::put`],
    /// [`Self::put_from`], [`Self::put_checked`]) queue: they stop before the
    /// first descriptor whose `len` is over `max`, queue those before it, and
    /// return their count. `u32::MAX` removes the limit. The socket sets it to
    /// what its interface can send: the kernel queues a longer frame, reports
    /// it completed, and the device drops it without a trace in the socket's
    /// statistics. The in-place path ([`Self::reserve`], [`Self::slot`],
    /// [`Self::submit`]) is not checked.
    pub fn set_max_len(&mut self, max: u32) {
        self.limit = (max != u32::MAX).then_some(Limit { max, within: descs_within });
    }

    /// [`Self::put`], saying why it stopped short when a descriptor's length
    /// was the reason: `Ok(queued)` (fewer than `descs.len()` when the ring
    /// is nearly full, 0 while a [`Self::reserve`] is open), or
    /// `Err(TooLong)` for the first descriptor over [`Self::max_len`], after
    /// queueing the ones before it.
    #[inline]
    pub fn put_checked(&mut self, descs: &[Desc]) -> std::result::Result<u32, TooLong> {
        let n = u32::try_from(descs.len()).unwrap_or(u32::MAX);
        // SAFETY: as in `put`.
        unsafe { self.put_checked_from(descs.as_ptr(), n) }
    }

    /// [`Self::put_checked`] from a pointer and a count (the C ABI).
    ///
    /// # Safety
    /// As for [`Self::put_from`].
    #[inline]
    pub unsafe fn put_checked_from(&mut self, descs: *const Desc, n: u32) -> std::result::Result<u32, TooLong> {
        if self.reserved() != 0 {
            return Ok(0);
        }
        // SAFETY: our caller's contract is put_from's.
        let queued = unsafe { self.put_from(descs, n) };
        if queued < n {
            // SAFETY: queued < n, so the entry is one of the n readable ones.
            let len = unsafe { (*descs.add(queued as usize)).len };
            let max = self.max_len();
            if len > max {
                return Err(TooLong { index: queued, len, max });
            }
        }
        Ok(queued)
    }

    /// [`Self::put_checked`] for multi-buffer packets: queues only whole
    /// chains (see [`XDP_PKT_CONTD`]), never part of one, so the kernel never
    /// sees a packet whose end is not yet there. Returns how many
    /// descriptors were queued: fewer when the ring is nearly full (the
    /// chain that does not fit waits whole), 0 while a [`Self::reserve`] is
    /// open or when the ring has no room for the first chain yet.
    ///
    /// Errors, where a retry of the same array could only return 0 for
    /// ever: [`PutPacketsError::TooLong`] for a descriptor over
    /// [`Self::max_len`], after queueing the whole chains before its own;
    /// and, when no packet could be queued, [`PutPacketsError::Unfinished`]
    /// for an array that ends inside its first chain, and
    /// [`PutPacketsError::ChainTooBig`] for a first chain longer than the
    /// ring. (When whole packets come first, they are queued and counted;
    /// the next call, from the bad chain, returns the error.)
    #[inline]
    pub fn put_packets(&mut self, descs: &[Desc]) -> std::result::Result<u32, PutPacketsError> {
        if self.reserved() != 0 {
            return Ok(0);
        }
        let n = u32::try_from(descs.len()).unwrap_or(u32::MAX);
        let room = self.free(n).min(n);
        let max = self.max_len();
        let fit = descs[..room as usize].iter().position(|d| d.len > max);
        let upto = fit.unwrap_or(room as usize);
        let whole = whole_packets_len(&descs[..upto]);
        if whole == 0 && fit.is_none() && n > 0 {
            return self.put_packets_none(descs);
        }
        // SAFETY: as in `put`; `whole` <= descs.len().
        let queued = unsafe { self.put_from(descs.as_ptr(), whole as u32) };
        match fit {
            Some(i) if queued as usize == whole => Err(TooLong { index: i as u32, len: descs[i].len, max }.into()),
            _ => Ok(queued),
        }
    }

    /// `put_packets` when no whole packet fits in the room there is: 0 if
    /// the first chain could fit once the kernel frees room, an error if
    /// it never could.
    #[cold]
    fn put_packets_none(&self, descs: &[Desc]) -> std::result::Result<u32, PutPacketsError> {
        let size = self.raw.size;
        match chain_len(descs) {
            None => Err(PutPacketsError::Unfinished { len: u32::try_from(descs.len()).unwrap_or(u32::MAX) }),
            Some(k) if k > size as usize => {
                Err(PutPacketsError::ChainTooBig { len: u32::try_from(k).unwrap_or(u32::MAX), size })
            }
            Some(_) => Ok(0),
        }
    }

    /// Makes every descriptor submitted and not yet consumed (from the
    /// kernel's consumer index to ours) one that the kernel rejects, and
    /// returns how many: for a ring whose socket is gone while the kernel
    /// keeps the ring (the UMEM's fd, see `umem::fd`), so that the next user
    /// does not send what the last one queued. Entries reserved and not
    /// submitted are left alone: the kernel never sees them, and
    /// [`Self::resync`] forgets them.
    ///
    /// Each one's `len` becomes `u32::MAX`, longer than any frame, which every
    /// kernel's validator rejects (aligned mode: the packet would leave its
    /// chunk; unaligned mode: `len > chunk_size`; net/xdp/xsk_queue.h
    /// `xp_aligned_validate_desc`, `xp_unaligned_validate_desc`). Its `addr`
    /// stays, so a kernel that hands rejected descriptors back on the
    /// completion ring (6.12 and 6.18 do, in copy mode) hands back the frame
    /// its owner queued, not an address outside the UMEM.
    ///
    /// A zero-copy driver may read these slots at any moment. The store is
    /// one aligned 4-byte atomic write into a field no other entry shares,
    /// so a concurrent read sees the whole old descriptor (as if the kernel
    /// had taken it just before this call: it is sent, as it could have been
    /// anyway) or the same address with the rejected length; never a mix that
    /// sends something else. Entries the kernel took past its consumer index
    /// and has not published yet are overwritten too: it never reads them
    /// again, unless it gives them back (a busy device), and then they are
    /// rejected, as wanted.
    pub(crate) fn reject_in_flight(&mut self) -> u32 {
        let n = self.in_flight();
        let first = self.cur.published.wrapping_sub(n);
        for i in 0..n {
            let desc = self.raw.slot_mut(first.wrapping_add(i));
            // SAFETY: `slot_mut` points at a live entry, whose `len` is a
            // u32 and so aligned for an AtomicU32. Nothing in this program
            // touches a submitted entry (`&mut self`); the kernel, the only
            // other reader, is no thread of it.
            let len = unsafe { std::sync::atomic::AtomicU32::from_ptr(ptr::addr_of_mut!((*desc).len)) };
            len.store(u32::MAX, Ordering::Relaxed);
        }
        n
    }
}

impl<T: Copy> ConsRing<T> {
    fn from_raw(raw: Raw<T>) -> Self {
        let mut r = ConsRing { raw, cur: CachePadded::new(Cursor::default()), _t: PhantomData };
        r.resync();
        r
    }

    pub(crate) fn map(fd: RawFd, pgoff: u64, off: &libc::xdp_ring_offset, size: u32, what: &str) -> Result<Self> {
        Raw::map(fd, pgoff, off, size, what).map(Self::from_raw)
    }

    /// Starts the local view afresh from the shared indices, as on a ring just
    /// mapped: entries peeked and never released are handed out again. For a
    /// mapping handed from one socket to the next (`umem::FdState`).
    pub(crate) fn resync(&mut self) {
        let cons = self.raw.consumer().load(Ordering::Relaxed);
        let prod = self.raw.producer().load(Ordering::Acquire);
        // Clamped as in `avail`, with nothing peeked.
        let avail = prod.wrapping_sub(cons).min(self.raw.size);
        *self.cur = Cursor { cached_prod: cons.wrapping_add(avail), cached_cons: cons, published: cons };
    }

    /// Number of entries in the ring.
    pub fn size(&self) -> u32 {
        self.raw.size
    }

    /// The ring's shared memory, handed over to code that runs the protocol
    /// itself ([`RingLayout`] says what that gives up).
    pub fn layout(&mut self) -> RingLayout {
        self.raw.layout()
    }

    /// Entries ready to read, refreshing the cached producer index only when the
    /// cached view has fewer than `want`. Never more than the entries not
    /// already peeked, so at most `size` entries are peeked at any time.
    #[inline(always)]
    fn avail(&mut self, want: u32) -> u32 {
        let avail = self.cur.cached_prod.wrapping_sub(self.cur.cached_cons);
        if avail >= want {
            return avail;
        }
        // Acquire pairs with the kernel's release of the producer index: the
        // entries it covers are fully written once we see it.
        let prod = self.raw.producer().load(Ordering::Acquire);
        // Untrusted, as the consumer index in `ProdRing::free`: a sane index
        // gives 0 <= avail <= size - peeked, and the `min` keeps any other
        // value there, so no peek or batch copy can reach past the ring.
        let avail = prod.wrapping_sub(self.cur.cached_cons).min(self.raw.size.saturating_sub(self.peeked()));
        self.cur.cached_prod = self.cur.cached_cons.wrapping_add(avail);
        avail
    }

    /// Takes up to `n` entries for reading. Returns how many and the first
    /// one's free-running index; read them with [`Self::get`], then [`Self::release`].
    #[inline]
    pub fn peek(&mut self, n: u32) -> (u32, u32) {
        if n == 0 {
            return (0, self.cur.cached_cons);
        }
        let n = n.min(self.avail(n));
        let idx = self.cur.cached_cons;
        self.cur.cached_cons = idx.wrapping_add(n);
        (n, idx)
    }

    /// Takes up to `n` entries that follow one another in ring memory: as many
    /// as are ready, but no further than the ring's end (the next call
    /// continues from its start). Returns how many and the first one's
    /// free-running index; [`Self::slot`] of that index points at all of them.
    /// Release them with [`Self::release`] as for [`Self::peek`].
    #[inline]
    pub fn peek_run(&mut self, n: u32) -> (u32, u32) {
        let idx = self.cur.cached_cons;
        let want = n.min(self.raw.size - (idx & self.raw.mask));
        if want == 0 {
            return (0, idx);
        }
        let got = want.min(self.avail(want));
        self.cur.cached_cons = idx.wrapping_add(got);
        (got, idx)
    }

    /// The slot for a free-running index (masked, so always inside the
    /// entries array, and so is a run from [`Self::peek_run`]). Read only
    /// entries peeked and not yet released: the kernel may be writing any
    /// other slot, so its entry may be stale or torn.
    #[inline(always)]
    pub fn slot(&self, idx: u32) -> *const T {
        self.raw.slot_ref(idx)
    }

    /// Reads the entry at `idx` (masked). Read only entries peeked and not
    /// yet released: see [`Self::slot`].
    #[inline(always)]
    pub fn get(&self, idx: u32) -> T {
        // SAFETY: slot_ref() is in bounds and aligned. An entry the kernel is
        // writing (the caller's mistake) reads stale or torn, but the entries
        // are u64 and Desc, for which every bit pattern is a value, and the
        // kernel is no thread of this program (as in `ProdRing::set`).
        unsafe { self.raw.slot_ref(idx).read() }
    }

    /// Gives the next `n` peeked entries back to the kernel. Clamped to what was
    /// peeked and not yet released.
    #[inline]
    pub fn release(&mut self, n: u32) -> u32 {
        let pending = self.peeked();
        let n = n.min(pending);
        if n > 0 {
            self.cur.published = self.cur.published.wrapping_add(n);
            // Release orders our reads of the entries before the kernel may
            // overwrite them; pairs with the kernel's acquire of the consumer index.
            self.raw.consumer().store(self.cur.published, Ordering::Release);
        }
        n
    }

    /// Un-peeks the last `n` peeked entries so the next peek returns them again.
    /// Clamped to what was peeked and not yet released.
    #[inline]
    pub fn cancel(&mut self, n: u32) -> u32 {
        let pending = self.peeked();
        let n = n.min(pending);
        self.cur.cached_cons = self.cur.cached_cons.wrapping_sub(n);
        n
    }

    /// Copies up to `out.len()` entries out and releases them. Returns how
    /// many, and 0 while a [`Self::peek`] is open: the ring releases in order,
    /// so `take` would give the kernel back those entries, perhaps still in use.
    #[inline]
    pub fn take(&mut self, out: &mut [T]) -> u32 {
        let max = u32::try_from(out.len()).unwrap_or(u32::MAX);
        // SAFETY: a mutable slice is aligned and writable for its length (max
        // may be less), and it cannot alias the entries, which `&mut`
        // promises no one else reads or writes while it lives.
        unsafe { self.take_to(out.as_mut_ptr(), max) }
    }

    /// [`Self::take`] into a pointer and a count, for callers whose buffer
    /// may be uninitialised (the C ABI): copies up to `max` entries out to
    /// `out` and releases them. Returns how many, as [`Self::take`] does.
    /// Only writes `out`, never reads it, and writes only the entries it
    /// returns.
    ///
    /// # Safety
    /// Unless `max` is 0 (then `out` is not used), `out` is aligned and valid
    /// for writes of `max` `T`s (initialised or not), and none of them lies
    /// in this ring's own entries.
    #[inline]
    pub unsafe fn take_to(&mut self, out: *mut T, max: u32) -> u32 {
        if self.peeked() != 0 {
            return 0;
        }
        let (n, idx) = self.peek(max);
        if n == 0 {
            return 0;
        }
        // SAFETY: n <= avail <= size (`avail` bounds it whatever the shared
        // index holds); `out` per our caller's contract.
        unsafe { self.raw.copy_out(idx, out, n) };
        self.release(n)
    }

    /// Whether a syscall is needed for the kernel to make progress on this
    /// ring. With need_wakeup in force (the socket, or for a UMEM's rings the
    /// UMEM's first socket, was bound with `XDP_USE_NEED_WAKEUP`): whether
    /// the kernel set `XDP_RING_NEED_WAKEUP`. Otherwise always true: the
    /// kernel then keeps no such bit, and the ring has no other way to know.
    #[inline]
    pub fn needs_wakeup(&self) -> bool {
        self.raw.needs_wakeup()
    }

    /// The gate that says whether need_wakeup is in force for this ring (see
    /// `WakeupGate`); a new ring's says "not in force". Take it while
    /// nothing else uses the ring (right after mapping it), keep it, and flip
    /// it at bind: the flip never touches the ring, so it may race with the
    /// ring's user.
    pub(crate) fn wakeup_gate(&self) -> WakeupGate {
        self.raw.wakeup.clone()
    }

    /// Says whether need_wakeup is in force for this ring, for an owner that
    /// holds the ring exclusively (an RX/TX ring before it is handed out);
    /// otherwise flip a gate from [`Self::wakeup_gate`].
    pub(crate) fn set_need_wakeup_in_force(&mut self, in_force: bool) {
        self.raw.wakeup.set_in_force(in_force);
    }

    /// Entries ready to peek, at most `nb`: the cached view when it has `nb`,
    /// else a fresh read of the kernel's producer index (libxdp's
    /// `xsk_cons_nb_avail`).
    #[inline]
    pub fn nb_avail(&mut self, nb: u32) -> u32 {
        self.avail(nb).min(nb)
    }

    /// Entries peeked and not yet released.
    #[inline(always)]
    pub fn peeked(&self) -> u32 {
        self.cur.cached_cons.wrapping_sub(self.cur.published)
    }

    /// Entries the kernel has produced that we have not peeked yet (at most the
    /// ring's size less what is peeked, whatever the shared producer index
    /// holds).
    pub fn ready(&self) -> u32 {
        let ready = self.raw.producer().load(Ordering::Acquire).wrapping_sub(self.cur.cached_cons);
        ready.min(self.raw.size.saturating_sub(self.peeked()))
    }
}

impl ConsRing<Desc> {
    /// [`Self::peek`] for multi-buffer packets: takes up to `max` descriptors
    /// that make whole packets (see [`XDP_PKT_CONTD`]), never part of one.
    /// Returns how many descriptors and the first one's free-running index;
    /// walk the packets with [`chain_len`] over [`Self::get`], release them
    /// with [`Self::release`]. `Ok((0, _))` when no whole packet is there
    /// yet.
    ///
    /// [`ChainTooLong`] when the first packet's chain is longer than `max`
    /// (it would never be taken, and RX would stop): nothing is taken; call
    /// again with `max` of at least its `len` (the kernel's chains are at
    /// most 18 descriptors in copy mode, the device's `xdp-zc-max-segs` in
    /// zero-copy mode), or drop the chain with [`Self::peek`] and
    /// [`Self::release`]. Also when the ring, with nothing peeked, is full
    /// of one chain whose end has not arrived (the kernel could never add
    /// it).
    #[inline]
    pub fn peek_packets(&mut self, max: u32) -> std::result::Result<(u32, u32), ChainTooLong> {
        let before = self.peeked();
        let (n, idx) = self.peek(max);
        // Back to the end of the last whole chain: the rest stays for the
        // next call, when its end has arrived.
        let mut keep = n;
        while keep > 0 && self.get(idx.wrapping_add(keep - 1)).is_continued() {
            keep -= 1;
        }
        self.cancel(n - keep);
        if keep == 0 && n > 0 {
            return self.peek_packets_none(n, idx, max, before);
        }
        Ok((keep, idx))
    }

    /// `peek_packets` when the first `n` descriptors (at `idx`, none taken)
    /// all carry [`XDP_PKT_CONTD`]: wait for the chain's end, or say it can
    /// never be taken.
    #[cold]
    fn peek_packets_none(
        &mut self,
        n: u32,
        idx: u32,
        max: u32,
        before: u32,
    ) -> std::result::Result<(u32, u32), ChainTooLong> {
        // Everything ready (unpeeked), at most what the ring holds.
        let ready = self.avail(self.raw.size);
        if n < max && !(before == 0 && ready == self.raw.size) {
            return Ok((0, idx)); // the end is on its way
        }
        // Longer than `max` (or filling the ring): find its end if it is there.
        let end = (n..ready).find(|&i| !self.get(idx.wrapping_add(i)).is_continued());
        Err(match end {
            Some(i) => ChainTooLong { len: i + 1, ended: true, max },
            None => ChainTooLong { len: ready, ended: false, max },
        })
    }
}

#[cfg(all(test, not(loom)))]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Plays the kernel's side of a ring in tests.
    pub(crate) struct Peer<'a, T: Copy> {
        raw: &'a Raw<T>,
    }

    impl<'a, T: Copy> Peer<'a, T> {
        /// Kernel consuming from a producer ring: takes up to n entries.
        fn consume(&self, n: u32) -> Vec<T> {
            let cons = self.raw.consumer().load(Ordering::Relaxed);
            let prod = self.raw.producer().load(Ordering::Acquire);
            let n = n.min(prod.wrapping_sub(cons));
            let out = (0..n).map(|i| unsafe { self.raw.slot_ref(cons.wrapping_add(i)).read() }).collect();
            self.raw.consumer().store(cons.wrapping_add(n), Ordering::Release);
            out
        }
        /// Kernel producing into a consumer ring: writes as many items as fit.
        fn produce(&self, items: &[T]) -> u32 {
            let prod = self.raw.producer().load(Ordering::Relaxed);
            let cons = self.raw.consumer().load(Ordering::Acquire);
            let free = self.raw.size - prod.wrapping_sub(cons);
            let n = free.min(items.len() as u32);
            for i in 0..n {
                unsafe { self.raw.slot_mut(prod.wrapping_add(i)).write(items[i as usize]) };
            }
            self.raw.producer().store(prod.wrapping_add(n), Ordering::Release);
            n
        }
        fn set_flags(&self, v: u32) {
            unsafe { self.raw.flags.unwrap().as_ref() }.store(v, Ordering::Relaxed);
        }
        /// A stray write to the shared producer index.
        fn set_producer(&self, v: u32) {
            self.raw.producer().store(v, Ordering::Release);
        }
        /// A stray write to the shared consumer index.
        fn set_consumer(&self, v: u32) {
            self.raw.consumer().store(v, Ordering::Release);
        }
    }

    fn prod_at<T: Copy + Default>(size: u32, start: u32) -> ProdRing<T> {
        ProdRing::from_raw(Raw::heap(size, start))
    }

    fn cons_at<T: Copy + Default>(size: u32, start: u32) -> ConsRing<T> {
        ConsRing::from_raw(Raw::heap(size, start))
    }

    /// Spans stop at the ring's end and at the free/ready count, hand out
    /// entries in order across the wrap, and the kernel's side sees exactly
    /// what was written in place.
    #[test]
    fn spans_stop_at_the_ring_end_and_carry_on_after_it() {
        // Start 5 slots before the u32 wrap, so indices and ring wrap together.
        let start = u32::MAX - 4;
        let raw = Raw::<u64>::heap(8, start);
        let kernel = raw.share();
        let mut c = ConsRing::from_raw(raw.share());
        let mut p = ProdRing::from_raw(raw);
        let peer_p = Peer { raw: &kernel };
        assert_eq!(p.reserve_run(0), (0, start));
        // start & 7 == 3: five slots to the ring's end.
        let (n, idx) = p.reserve_run(8);
        assert_eq!((n, idx), (5, start));
        let run = p.slot(idx);
        for i in 0..n {
            // SAFETY: the run's n slots are in bounds.
            unsafe { run.add(i as usize).write(100 + i as u64) };
        }
        let (m, idx2) = p.reserve_run(8);
        assert_eq!((m, idx2), (3, start.wrapping_add(5)), "the rest, from the ring's start");
        assert_eq!(p.slot(idx2), p.slot(0), "a new run starts at entry 0");
        for i in 0..m {
            unsafe { p.slot(idx2).add(i as usize).write(200 + i as u64) };
        }
        assert_eq!(p.reserve_run(1).0, 0, "ring full");
        assert_eq!(p.submit(8), 8);
        assert_eq!(peer_p.consume(8), vec![100, 101, 102, 103, 104, 200, 201, 202]);

        // The consumer side, over the same entries (the kernel consumed them,
        // so the consumer ring's producer index says 8 are ready).
        let (n, idx) = c.peek_run(16);
        assert_eq!(n, 5, "stops at the ring's end");
        let got: Vec<u64> = (0..n).map(|i| unsafe { c.slot(idx).add(i as usize).read() }).collect();
        assert_eq!(got, vec![100, 101, 102, 103, 104]);
        assert_eq!(c.peek_run(2), (2, start.wrapping_add(5)), "then from the start, at most n");
        assert_eq!(c.peek_run(8).0, 1);
        assert_eq!(c.peek_run(8).0, 0, "nothing left");
        assert_eq!(c.release(8), 8);
        assert_eq!(c.raw.consumer().load(Ordering::Relaxed), start.wrapping_add(8));
    }

    /// A ring handed to a new user (the UMEM fd's rings, from one socket to
    /// the next) starts from the shared indices: what the last user reserved
    /// and never submitted is forgotten, what it peeked and never released is
    /// handed out again, and published entries stay published.
    #[test]
    fn resync_starts_from_the_shared_indices() {
        let start = u32::MAX - 1;
        let mut p = prod_at::<u64>(8, start);
        assert_eq!(p.reserve(5), Some(start));
        for i in 0..5 {
            // SAFETY: the five reserved slots are in bounds.
            unsafe { p.slot(start.wrapping_add(i)).write(10 + i as u64) };
        }
        assert_eq!(p.submit(2), 2);
        p.resync();
        assert_eq!(p.in_flight(), 2, "submitted entries stay in flight");
        assert_eq!(p.submit(1), 0, "nothing reserved any more");
        assert_eq!(p.reserve(7), None, "two slots still belong to the kernel");
        assert_eq!(p.reserve(6), Some(start.wrapping_add(2)), "reserve carries on after the published entries");
        assert_eq!(Peer { raw: &p.raw }.consume(8), vec![10, 11]);

        let mut c = cons_at::<u64>(8, start);
        assert_eq!(Peer { raw: &c.raw }.produce(&[1, 2, 3, 4]), 4);
        assert_eq!(c.peek(3), (3, start));
        assert_eq!(c.release(1), 1);
        c.resync();
        assert_eq!(c.release(1), 0, "nothing peeked any more");
        let (n, idx) = c.peek(8);
        assert_eq!((n, idx), (3, start.wrapping_add(1)), "the unreleased entries again");
        let got: Vec<u64> = (0..n).map(|i| unsafe { c.slot(idx.wrapping_add(i)).read() }).collect();
        assert_eq!(got, vec![2, 3, 4]);
    }

    /// Only the entries submitted and not consumed get the rejected length;
    /// their address and options, the consumed entries and the reserved ones
    /// stay as they were, and the count is bounded by the ring whatever the
    /// shared consumer index says.
    #[test]
    fn reject_in_flight_touches_only_the_unconsumed_lengths() {
        let d = |i: u64| Desc { addr: i * 4096, len: 60 + i as u32, options: i as u32 };
        let start = u32::MAX - 2;
        let mut tx = prod_at::<Desc>(8, start);
        assert_eq!(tx.put(&(0..6).map(d).collect::<Vec<_>>()), 6);
        let peer = Peer { raw: &tx.raw };
        assert_eq!(peer.consume(2), [d(0), d(1)]);
        let idx = tx.reserve(1).unwrap();
        tx.set(idx, d(6));
        assert_eq!(tx.reject_in_flight(), 4);
        let at = |tx: &ProdRing<Desc>, i: u32| unsafe { tx.raw.slot_ref(start.wrapping_add(i)).read() };
        for i in 0..2 {
            assert_eq!(at(&tx, i), d(i as u64), "consumed entry {i}");
        }
        for i in 2..6 {
            assert_eq!(at(&tx, i), Desc { len: u32::MAX, ..d(i as u64) }, "in-flight entry {i}");
        }
        assert_eq!(at(&tx, 6), d(6), "the reserved entry");
        assert_eq!(tx.reserved(), 1);
        assert_eq!(Peer { raw: &tx.raw }.consume(8).len(), 4, "still published, now rejected");
        assert_eq!(tx.reject_in_flight(), 0);
        Peer { raw: &tx.raw }.set_consumer(start.wrapping_add(100));
        assert!(tx.reject_in_flight() <= 8, "a stray consumer index stays inside the ring");
        assert!(tx.raw.guards_intact());
    }

    #[test]
    fn reserve_is_all_or_nothing() {
        let mut r = prod_at::<u64>(8, 0);
        assert_eq!(r.reserve(9), None);
        assert_eq!(r.reserve(0), None);
        assert_eq!(r.reserve(6), Some(0));
        assert_eq!(r.reserve(3), None, "only 2 left");
        assert_eq!(r.reserve(2), Some(6));
    }

    #[test]
    fn producer_wraps_across_u32_max() {
        let start = u32::MAX - 5;
        let mut r = prod_at::<u64>(8, start);
        for round in 0..10u64 {
            let idx = r.reserve(5).expect("space after kernel consumed");
            for i in 0..5 {
                r.set(idx.wrapping_add(i), round * 100 + i as u64);
            }
            assert_eq!(r.submit(5), 5);
            let got = Peer { raw: &r.raw }.consume(8);
            assert_eq!(got, (0..5).map(|i| round * 100 + i).collect::<Vec<_>>());
        }
        assert!(r.raw.producer().load(Ordering::Relaxed) < start, "index wrapped");
    }

    #[test]
    fn consumer_wraps_across_u32_max() {
        let start = u32::MAX - 2;
        let mut r = cons_at::<Desc>(4, start);
        let mut next = 0u64;
        for _ in 0..20 {
            let batch: Vec<Desc> = (0..3).map(|i| Desc { addr: next + i, len: 60, options: 0 }).collect();
            assert_eq!(Peer { raw: &r.raw }.produce(&batch), 3);
            let (n, idx) = r.peek(8);
            assert_eq!(n, 3);
            for i in 0..n {
                assert_eq!(r.get(idx.wrapping_add(i)).addr, next + i as u64);
            }
            assert_eq!(r.release(n), 3);
            next += 3;
        }
    }

    #[test]
    fn cached_consumer_index_refreshes_only_when_needed() {
        let mut r = prod_at::<u64>(4, 0);
        assert_eq!(r.reserve(4), Some(0));
        r.submit(4);
        assert_eq!(r.reserve(1), None, "ring full");
        Peer { raw: &r.raw }.consume(2);
        // The cached view is stale (0 free); reserve must refresh and see 2.
        assert_eq!(r.reserve(2), Some(4));
        assert_eq!(r.reserve(1), None);
    }

    #[test]
    fn cached_producer_index_refreshes_on_short_view() {
        let mut r = cons_at::<u64>(8, 0);
        Peer { raw: &r.raw }.produce(&[1, 2]);
        assert_eq!(r.peek(1), (1, 0));
        Peer { raw: &r.raw }.produce(&[3, 4, 5]);
        // Cached view has 1 left, 4 asked: refresh sees 4.
        assert_eq!(r.peek(4), (4, 1));
        assert_eq!(r.release(5), 5);
        assert_eq!(r.peek(4), (0, 5));
    }

    #[test]
    fn submit_and_release_are_clamped() {
        let mut p = prod_at::<u64>(8, 0);
        assert_eq!(p.submit(5), 0, "nothing reserved");
        p.reserve(2).unwrap();
        assert_eq!(p.submit(100), 2);
        assert_eq!(p.raw.producer().load(Ordering::Relaxed), 2);

        let mut c = cons_at::<u64>(8, 0);
        Peer { raw: &c.raw }.produce(&[7, 8, 9]);
        assert_eq!(c.release(3), 0, "nothing peeked");
        assert_eq!(c.peek(2).0, 2);
        assert_eq!(c.release(10), 2);
        assert_eq!(c.raw.consumer().load(Ordering::Relaxed), 2);
    }

    #[test]
    fn cancel_returns_entries_to_the_next_peek() {
        let mut c = cons_at::<u64>(8, 0);
        Peer { raw: &c.raw }.produce(&[10, 11, 12, 13]);
        let (n, idx) = c.peek(4);
        assert_eq!((n, idx), (4, 0));
        assert_eq!(c.release(1), 1);
        assert_eq!(c.cancel(10), 3, "only the 3 unreleased are cancelled");
        let (n, idx) = c.peek(4);
        assert_eq!((n, idx), (3, 1));
        assert_eq!(c.get(idx), 11);
    }

    #[test]
    fn slot_masks_any_index() {
        let mut p = prod_at::<u64>(8, 0);
        let base = p.slot(0) as usize;
        for idx in [0u32, 7, 8, 1 << 31, u32::MAX] {
            let s = p.slot(idx) as usize;
            assert!(s >= base && s < base + 8 * 8, "idx {idx} escaped the ring");
        }
    }

    #[test]
    fn batch_put_and_take_wrap_and_go_partial() {
        let mut p = prod_at::<u64>(8, u32::MAX - 3);
        let items: Vec<u64> = (100..112).collect();
        assert_eq!(p.put(&items), 8, "partial: only 8 fit");
        assert_eq!(Peer { raw: &p.raw }.consume(8), (100..108).collect::<Vec<_>>());
        assert_eq!(p.put(&items[8..]), 4);
        assert_eq!(Peer { raw: &p.raw }.consume(8), (108..112).collect::<Vec<_>>());

        let mut c = cons_at::<Desc>(8, u32::MAX - 1);
        let descs: Vec<Desc> = (0..6).map(|i| Desc { addr: i * 4096, len: 64 + i as u32, options: 0 }).collect();
        Peer { raw: &c.raw }.produce(&descs);
        let mut out = [Desc::default(); 4];
        assert_eq!(c.take(&mut out), 4);
        assert_eq!(&out[..], &descs[..4]);
        assert_eq!(c.take(&mut out), 2);
        assert_eq!(&out[..2], &descs[4..]);
        assert_eq!(c.take(&mut out), 0);
    }

    /// A count for a ring op: mostly around the ring size, sometimes any u32.
    fn count(size: u32) -> impl Strategy<Value = u32> {
        prop_oneof![4 => 0..=size + 2, 1 => any::<u32>()]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Reserve(u32),
        Submit(u32),
        Put(u32),
        Peek(u32),
        Release(u32),
        Cancel(u32),
        Take(u32),
    }

    proptest! {
        /// Any u32 index names a slot inside the entries array: the one at
        /// `idx & (size - 1)`, shared by every index congruent to it.
        #[test]
        fn any_index_stays_in_the_ring(shift in 0u32..=12, idx: u32, lap: u32, v: u64) {
            let size = 1u32 << shift;
            let raw = Raw::<u64>::heap(size, 0);
            let mut p = ProdRing::from_raw(raw.share());
            let c = ConsRing::from_raw(raw);
            let base = c.slot(0) as usize;
            let want = base + (idx & (size - 1)) as usize * 8;
            prop_assert_eq!(p.slot(idx) as usize, want);
            prop_assert_eq!(c.slot(idx) as usize, want);
            p.set(idx, v);
            prop_assert_eq!(c.get(idx.wrapping_add(lap.wrapping_mul(size))), v);
        }

        /// Any sequence of ring calls with any counts, on both sides of one
        /// ring, against a model of four counters: reserved, submitted,
        /// peeked, released. Reserve is all-or-nothing, submit/release/
        /// cancel clamp, put/take/peek go partial, and item k (written when
        /// reserved) is read back as k.
        #[test]
        fn ring_calls_match_the_counting_model(
            shift in 0u32..=4,
            start in prop_oneof![any::<u32>(), (u32::MAX - 40)..=u32::MAX],
            ops in prop::collection::vec(
                (0u8..7, count(16)).prop_map(|(k, n)| match k {
                    0 => Op::Reserve(n),
                    1 => Op::Submit(n),
                    2 => Op::Put(n),
                    3 => Op::Peek(n),
                    4 => Op::Release(n),
                    5 => Op::Cancel(n),
                    _ => Op::Take(n),
                }),
                0..60,
            ),
        ) {
            let size = 1u32 << shift;
            let raw = Raw::<u64>::heap(size, start);
            let mut p = ProdRing::from_raw(raw.share());
            let mut c = ConsRing::from_raw(raw);
            // Counts of items since `start`; item k sits at index start + k.
            let (mut reserved, mut submitted, mut peeked, mut released) = (0u64, 0u64, 0u64, 0u64);
            let at = |k: u64| start.wrapping_add(k as u32);
            for op in ops {
                match op {
                    Op::Reserve(n) => {
                        let free = size as u64 - (reserved - released);
                        let got = p.reserve(n);
                        if n > 0 && n as u64 <= free {
                            prop_assert_eq!(got, Some(at(reserved)));
                            for k in reserved..reserved + n as u64 {
                                p.set(at(k), k);
                            }
                            reserved += n as u64;
                        } else {
                            prop_assert_eq!(got, None);
                        }
                    }
                    Op::Submit(n) => {
                        let m = (n as u64).min(reserved - submitted);
                        prop_assert_eq!(p.submit(n) as u64, m);
                        submitted += m;
                    }
                    Op::Put(n) => {
                        let n = n.min(64);
                        let items: Vec<u64> = (reserved..reserved + n as u64).collect();
                        // put refuses while a reserve is open (it would
                        // publish those slots before its own).
                        let m = if reserved != submitted {
                            0
                        } else {
                            (n as u64).min(size as u64 - (reserved - released))
                        };
                        prop_assert_eq!(p.put(&items) as u64, m);
                        reserved += m;
                        submitted += m;
                    }
                    Op::Peek(n) => {
                        let (m, idx) = c.peek(n);
                        let want = (n as u64).min(submitted - peeked);
                        prop_assert_eq!(m as u64, want);
                        if m > 0 {
                            prop_assert_eq!(idx, at(peeked));
                        }
                        for i in 0..m {
                            prop_assert_eq!(c.get(idx.wrapping_add(i)), peeked + i as u64);
                        }
                        peeked += want;
                    }
                    Op::Release(n) => {
                        let m = (n as u64).min(peeked - released);
                        prop_assert_eq!(c.release(n) as u64, m);
                        released += m;
                    }
                    Op::Cancel(n) => {
                        let m = (n as u64).min(peeked - released);
                        prop_assert_eq!(c.cancel(n) as u64, m);
                        peeked -= m;
                    }
                    Op::Take(n) => {
                        let mut out = vec![u64::MAX; n.min(64) as usize];
                        // take refuses while a peek is open (it would
                        // release those entries before its own).
                        let want =
                            if peeked != released { 0 } else { (out.len() as u64).min(submitted - peeked) };
                        prop_assert_eq!(c.take(&mut out) as u64, want);
                        let expect: Vec<u64> = (peeked..peeked + want).collect();
                        prop_assert_eq!(&out[..want as usize], &expect[..]);
                        prop_assert!(out[want as usize..].iter().all(|&v| v == u64::MAX));
                        peeked += want;
                        released += want;
                    }
                }
                prop_assert_eq!(p.raw.producer().load(Ordering::Relaxed), at(submitted));
                prop_assert_eq!(c.raw.consumer().load(Ordering::Relaxed), at(released));
                prop_assert_eq!((p.in_flight() as u64, c.ready() as u64), (submitted - released, submitted - peeked));
            }
        }
    }

    /// A peer index that no correct peer could have written (a stray write,
    /// a forked child) never makes a call hand out or copy more than the ring
    /// holds: batch copies stay inside the entries array, and what is
    /// reserved, or peeked, at any one time never exceeds the ring's size.
    #[test]
    fn corrupt_peer_indices_stay_inside_the_ring() {
        let items: Vec<u64> = (0..24).collect();

        // Producer side. A consumer index 12 ahead of our producer index
        // claims 20 free slots in an 8-entry ring (a copy of 20 from entry 0
        // wraps once and runs 4 entries past the end).
        let raw = Raw::<u64>::heap(8, 0);
        let kernel = raw.share();
        let peer = Peer { raw: &kernel };
        let mut p = ProdRing::from_raw(raw);
        peer.set_consumer(12);
        let n = p.put(&items);
        assert!(kernel.guards_intact(), "put wrote past the ring");
        assert_eq!(n, 8, "put queued more than the ring holds");
        // A consumer index far from the producer's claims nearly 2^32 free.
        peer.set_consumer(u32::MAX / 2);
        assert!(p.nb_free(u32::MAX) <= 8 && p.in_flight() <= 8);
        assert_eq!(p.reserve(9), None, "reserve handed out more than the ring");
        assert_eq!(p.reserve(6), Some(8));
        assert_eq!(p.reserve(3), None, "only 2 slots are not reserved");
        assert_eq!(p.reserve_run(8), (2, 14), "a run never goes past what is not reserved");
        assert_eq!(p.reserve_run(8).0, 0);
        assert_eq!(p.submit(8), 8);
        assert!(kernel.guards_intact());

        // Consumer side. A producer index 20 ahead of our consumer index
        // claims 20 entries ready in an 8-entry ring.
        let raw = Raw::<u64>::heap(8, 0);
        let kernel = raw.share();
        let peer = Peer { raw: &kernel };
        let mut c = ConsRing::from_raw(raw);
        assert_eq!(peer.produce(&items), 8);
        peer.set_producer(20);
        let mut out = [0u64; 24];
        let n = c.take(&mut out);
        assert!(!out.contains(&HEAP_GUARD), "take copied from past the ring");
        assert_eq!(n, 8, "take copied more than the ring holds");
        assert_eq!(&out[..8], &items[..8]);
        peer.set_producer(u32::MAX / 2);
        assert!(c.nb_avail(u32::MAX) <= 8 && c.ready() <= 8);
        assert_eq!(c.peek(20), (8, 8), "peek handed out more than the ring");
        assert_eq!(c.peek(20).0, 0, "the ring's 8 entries are all peeked");
        assert_eq!(c.cancel(3), 3);
        assert_eq!(c.peek_run(20), (3, 13), "a run never goes past what is not peeked");
        assert_eq!(c.release(20), 8);
        assert!(kernel.guards_intact());
    }

    proptest! {
        /// Any ring calls on both sides of one ring, with stray writes of any
        /// value to either shared index in between (absolute, or a few steps
        /// from the other index): no call hands out or copies more than the
        /// ring holds, no run reaches past its end, no copy touches memory
        /// past it, and the counts a caller can see stay within its size.
        #[test]
        fn corrupt_indices_never_reach_past_the_ring(
            shift in 0u32..=4,
            start: u32,
            ops in prop::collection::vec((0u8..11, count(16), any::<u32>()), 0..80),
        ) {
            let size = 1u32 << shift;
            let raw = Raw::<u64>::heap(size, start);
            let kernel = raw.share();
            let peer = Peer { raw: &kernel };
            let mut p = ProdRing::from_raw(raw.share());
            let mut c = ConsRing::from_raw(raw);
            let (lo, hi) = (c.slot(0) as usize, c.slot(0) as usize + size as usize * 8);
            let in_ring = |at: usize, n: u32| lo <= at && at + n as usize * 8 <= hi;
            for (k, n, v) in ops {
                // A value near the other index, or any value.
                let near = |other: u32| if v & 1 == 0 { other.wrapping_add((v >> 1) % 64).wrapping_sub(32) } else { v };
                match k {
                    0 => {
                        if let Some(idx) = p.reserve(n) {
                            prop_assert!(n <= size);
                            (0..n).for_each(|i| p.set(idx.wrapping_add(i), u64::from(i)));
                        }
                    }
                    1 => prop_assert!(p.submit(n) <= size),
                    2 => {
                        let items: Vec<u64> = (0..u64::from(n.min(64))).collect();
                        prop_assert!(p.put(&items) <= size);
                    }
                    3 => {
                        let (got, idx) = p.reserve_run(n);
                        prop_assert!(in_ring(p.slot(idx) as usize, got));
                    }
                    4 => prop_assert!(c.peek(n).0 <= size),
                    5 => prop_assert!(c.release(n) <= size),
                    6 => {
                        let mut out = vec![0u64; n.min(64) as usize];
                        prop_assert!(c.take(&mut out) <= size);
                        prop_assert!(!out.contains(&HEAP_GUARD), "take copied from past the ring");
                    }
                    7 => {
                        let (got, idx) = c.peek_run(n);
                        prop_assert!(in_ring(c.slot(idx) as usize, got));
                    }
                    8 => prop_assert!(c.cancel(n) <= size),
                    9 => peer.set_consumer(near(kernel.producer().load(Ordering::Relaxed))),
                    _ => peer.set_producer(near(kernel.consumer().load(Ordering::Relaxed))),
                }
                prop_assert!(kernel.guards_intact(), "a call wrote past the ring");
                prop_assert!(p.reserved() <= size && c.peeked() <= size);
                prop_assert!(p.in_flight() <= size && c.ready() <= size);
                prop_assert!(p.nb_free(u32::MAX) <= size && c.nb_avail(u32::MAX) <= size);
            }
        }
    }

    /// `peek_packets` takes whole chains and waits for an unfinished one,
    /// but a first chain longer than `max` (or filling the ring, unfinished)
    /// is an error naming its length, not a 0 that reads as "empty" for
    /// ever; nothing stays peeked, and a big enough `max` then takes it.
    #[test]
    fn peek_packets_takes_whole_chains_and_refuses_one_over_max() {
        let d = |i: u64, contd: bool| Desc { addr: i << 12, len: 60, options: if contd { XDP_PKT_CONTD } else { 0 } };
        let mut c = cons_at::<Desc>(8, u32::MAX - 2);
        let peer = Peer { raw: &c.raw.share() };
        // One packet, then a chain of 3 whose end has not arrived.
        assert_eq!(peer.produce(&[d(0, false), d(1, true), d(2, true)]), 3);
        let (n, idx) = c.peek_packets(8).unwrap();
        assert_eq!((n, c.get(idx)), (1, d(0, false)));
        c.release(n);
        assert_eq!(c.peek_packets(8).unwrap().0, 0, "the chain's end is on its way");
        assert_eq!(c.peeked(), 0);
        assert_eq!(peer.produce(&[d(3, false)]), 1);
        // The 3-descriptor chain (now ended) is longer than max 2.
        let e = c.peek_packets(2).unwrap_err();
        assert_eq!(e, ChainTooLong { len: 3, ended: true, max: 2 });
        assert!(e.to_string().contains("chain of 3 descriptors, more than the 2 asked for"), "{e}");
        assert_eq!(c.peeked(), 0, "nothing taken");
        assert_eq!(c.peek_packets(2).unwrap_err(), e, "the same answer each time");
        let (n, idx) = c.peek_packets(3).unwrap();
        assert_eq!((n, c.get(idx.wrapping_add(2))), (3, d(3, false)));
        c.release(n);
        // Over max with its end not there yet: still refused, "at least".
        assert_eq!(peer.produce(&[d(4, true), d(5, true), d(6, true)]), 3);
        assert_eq!(c.peek_packets(2).unwrap_err(), ChainTooLong { len: 3, ended: false, max: 2 });
        assert_eq!(c.peek_packets(64).unwrap().0, 0, "under a big max it waits");
        // The ring full of one unfinished chain can never end.
        assert_eq!(peer.produce(&[d(7, true); 5]), 5);
        assert_eq!(c.peek_packets(64).unwrap_err(), ChainTooLong { len: 8, ended: false, max: 64 });
        assert_eq!(c.peeked(), 0);
    }

    /// `put_packets` queues whole chains only; an array that ends inside
    /// its first chain, or a first chain longer than the ring, is an error,
    /// not a 0 that reads as "full" for ever, while a chain that only waits
    /// for room is 0.
    #[test]
    fn put_packets_refuses_what_could_never_be_queued() {
        let d = |i: u64, contd: bool| Desc { addr: i << 12, len: 60, options: if contd { XDP_PKT_CONTD } else { 0 } };
        let mut p = prod_at::<Desc>(4, u32::MAX - 1);
        let peer = Peer { raw: &p.raw.share() };
        // A packet, then an unfinished chain: the packet is queued.
        assert_eq!(p.put_packets(&[d(0, false), d(1, true)]), Ok(1));
        assert_eq!(p.put_packets(&[d(1, true)]), Err(PutPacketsError::Unfinished { len: 1 }));
        // Unfinished is an error even when the ring has no room.
        assert_eq!(
            p.put_packets(&[d(2, true), d(3, true), d(4, true), d(5, true), d(6, true)]),
            Err(PutPacketsError::Unfinished { len: 5 })
        );
        // A chain of 5 in a ring of 4: never.
        let big = [d(2, true), d(3, true), d(4, true), d(5, true), d(6, false)];
        let e = p.put_packets(&big).unwrap_err();
        assert_eq!(e, PutPacketsError::ChainTooBig { len: 5, size: 4 });
        assert!(e.to_string().contains("chain of 5 descriptors, more than the tx ring's 4 entries"), "{e}");
        // A chain of 4 while one entry is in flight: waits (0), then goes.
        let four = [d(2, true), d(3, true), d(4, true), d(5, false)];
        assert_eq!(p.put_packets(&four), Ok(0));
        assert_eq!(peer.consume(4), [d(0, false)]);
        assert_eq!(p.put_packets(&four), Ok(4));
        assert_eq!(peer.consume(4), four);
        // A descriptor over the limit still says so.
        p.set_max_len(1518);
        let long = Desc { len: 1519, ..d(7, false) };
        assert_eq!(
            p.put_packets(&[long]).unwrap_err(),
            PutPacketsError::TooLong(TooLong { index: 0, len: 1519, max: 1518 })
        );
        assert_eq!(p.put_packets(&[]), Ok(0));
    }

    /// The pointer forms of the batch calls, as the C ABI uses them:
    /// `take_to` fills an uninitialised buffer and writes only the entries it
    /// returns, `put_from` reads only `n` entries, and a count of 0 never
    /// touches the pointer (NULL is fine then).
    #[test]
    fn take_to_and_put_from_touch_only_their_entries() {
        let mut p = prod_at::<Desc>(8, u32::MAX - 2);
        let mut c = cons_at::<Desc>(8, u32::MAX - 2);
        let descs: Vec<Desc> = (0..5).map(|i| Desc { addr: i << 12, len: 60 + i as u32, options: 0 }).collect();
        // SAFETY: a 0 count never reads the pointer.
        assert_eq!(unsafe { p.put_from(std::ptr::null(), 0) }, 0);
        // SAFETY: descs holds 5 readable entries; we pass 3.
        assert_eq!(unsafe { p.put_from(descs.as_ptr(), 3) }, 3);
        assert_eq!(Peer { raw: &p.raw }.consume(8), descs[..3]);
        assert_eq!(Peer { raw: &c.raw }.produce(&descs), 5);

        // SAFETY: a 0 count never writes the pointer.
        assert_eq!(unsafe { c.take_to(std::ptr::null_mut(), 0) }, 0);
        let mut buf = [std::mem::MaybeUninit::<Desc>::uninit(); 4];
        // SAFETY: buf has room for 4 Descs; take_to only writes them.
        let n = unsafe { c.take_to(buf.as_mut_ptr().cast(), 4) };
        assert_eq!(n, 4);
        // SAFETY: take_to initialised the n entries it returned.
        let got: Vec<Desc> = buf[..4].iter().map(|d| unsafe { d.assume_init() }).collect();
        assert_eq!(got, descs[..4]);

        let sentinel = Desc { addr: u64::MAX, len: u32::MAX, options: u32::MAX };
        let mut out = [sentinel; 4];
        // SAFETY: out has room for 4.
        assert_eq!(unsafe { c.take_to(out.as_mut_ptr(), 4) }, 1);
        assert_eq!(out, [descs[4], sentinel, sentinel, sentinel], "only the entry taken is written");
    }

    /// A TX ring with a length limit: the batch calls stop before the first
    /// descriptor over it and queue the ones before; `put_checked` says
    /// which one and why; a full ring or an open reserve is no length
    /// error; the in-place path is not checked; `u32::MAX` lifts the limit.
    #[test]
    fn tx_put_stops_before_a_descriptor_over_the_limit() {
        let d = |addr: u64, len: u32| Desc { addr, len, options: 0 };
        let mut tx = prod_at::<Desc>(8, u32::MAX - 1);
        let kernel = |tx: &ProdRing<Desc>| Peer { raw: &tx.raw }.consume(8);
        assert_eq!(tx.max_len(), u32::MAX, "no limit by default");
        assert_eq!(tx.put(&[d(0, 9000)]), 1);
        assert_eq!(kernel(&tx), [d(0, 9000)]);

        tx.set_max_len(1518);
        assert_eq!(tx.max_len(), 1518);
        let batch = [d(1, 60), d(2, 1518), d(3, 1519), d(4, 60)];
        assert_eq!(tx.put(&batch), 2, "stops before the 1519-byte descriptor");
        assert_eq!(kernel(&tx), batch[..2]);
        assert_eq!(tx.put_checked(&batch[2..]), Err(TooLong { index: 0, len: 1519, max: 1518 }));
        assert_eq!(tx.in_flight(), 0, "nothing queued");
        assert_eq!(tx.put_checked(&batch), Err(TooLong { index: 2, len: 1519, max: 1518 }));
        assert_eq!(kernel(&tx), batch[..2]);
        // SAFETY: batch holds 4 readable descriptors.
        assert_eq!(unsafe { tx.put_from(batch.as_ptr(), 4) }, 2);
        assert_eq!(unsafe { tx.put_checked_from(batch[3..].as_ptr(), 1) }, Ok(1));
        assert_eq!(kernel(&tx), [batch[0], batch[1], batch[3]]);

        // A full ring stops put short without a length error.
        assert_eq!(tx.put(&[d(5, 60); 7]), 7);
        assert_eq!(tx.put_checked(&[d(6, 60), d(7, 60)]), Ok(1));
        assert_eq!(kernel(&tx).len(), 8);
        // An open reserve makes put queue nothing, and that is no length error.
        let idx = tx.reserve(1).unwrap();
        assert_eq!(tx.put_checked(&[d(8, 9000)]), Ok(0));
        // The in-place path is not checked.
        tx.set(idx, d(9, 9000));
        assert_eq!(tx.submit(1), 1);
        assert_eq!(kernel(&tx), [d(9, 9000)]);

        tx.set_max_len(u32::MAX);
        assert_eq!(tx.max_len(), u32::MAX);
        assert_eq!(tx.put_checked(&[d(10, 9000)]), Ok(1), "limit lifted");
        let err = TooLong { index: 2, len: 1519, max: 1518 };
        assert_eq!(
            err.to_string(),
            "descriptor 2: len 1519 is over the tx ring's limit of 1518 bytes; the 2 before it were queued"
        );
    }

    #[test]
    fn needs_wakeup_reads_the_flag() {
        let mut p = prod_at::<u64>(8, 0);
        p.set_need_wakeup_in_force(true);
        assert!(!p.needs_wakeup());
        Peer { raw: &p.raw }.set_flags(XDP_RING_NEED_WAKEUP);
        assert!(p.needs_wakeup());
    }

    /// Until told that need_wakeup is in force, a ring reports "wakeup
    /// needed" whatever its flags word holds (kernels differ in whether they
    /// set the bit at a bind without `XDP_USE_NEED_WAKEUP`); once told, it
    /// reports the kernel's bit. Both ring kinds, and both ways of telling:
    /// the gate (as for a UMEM's fill ring) and the ring (as for RX/TX).
    #[test]
    fn needs_wakeup_is_true_unless_need_wakeup_is_in_force() {
        let p = prod_at::<u64>(8, 0);
        let mut c = cons_at::<Desc>(8, 0);
        let set_flags = |p: &ProdRing<u64>, c: &ConsRing<Desc>, v: u32| {
            Peer { raw: &p.raw }.set_flags(v);
            Peer { raw: &c.raw }.set_flags(v);
        };
        for flags in [0, XDP_RING_NEED_WAKEUP] {
            set_flags(&p, &c, flags);
            assert!(p.needs_wakeup() && c.needs_wakeup(), "a new ring, flags {flags:#x}: wakeup needed");
        }
        let gate = p.wakeup_gate();
        gate.set_in_force(true);
        c.set_need_wakeup_in_force(true);
        assert!(gate.in_force() && c.wakeup_gate().in_force());
        for flags in [0, XDP_RING_NEED_WAKEUP, 0] {
            set_flags(&p, &c, flags);
            assert_eq!((p.needs_wakeup(), c.needs_wakeup()), (flags != 0, flags != 0), "in force, flags {flags:#x}");
        }
        gate.set_in_force(false);
        c.set_need_wakeup_in_force(false);
        assert!(p.needs_wakeup() && c.needs_wakeup(), "no longer in force: wakeup needed, flags 0");
    }

    /// The gate is flipped from another thread while this one uses the ring
    /// through `&mut` (the C ABI's fill ring at the UMEM fd's first bind):
    /// the ring sees the flip without its owner touching the ring.
    #[test]
    fn wakeup_gate_flips_while_the_ring_is_in_use() {
        let mut p = prod_at::<u64>(8, 0);
        let gate = p.wakeup_gate();
        let flipper = std::thread::spawn(move || gate.set_in_force(true));
        let mut rounds = 0u64;
        while p.needs_wakeup() {
            assert!(rounds < 100_000_000, "the ring never saw the gate flip");
            assert_eq!(p.put(&[rounds]), 1);
            assert_eq!(Peer { raw: &p.raw }.consume(1), [rounds]);
            rounds += 1;
        }
        flipper.join().unwrap();
        assert!(p.wakeup_gate().in_force());
    }

    #[test]
    fn spsc_threads_move_every_item_in_order() {
        // A real producer thread against a consumer thread over one ring, both
        // sides running this module's code (the loom model checks the same).
        let raw = Raw::<u64>::heap(64, 0);
        let mut p = ProdRing::from_raw(raw.share());
        let mut c = ConsRing::from_raw(raw);
        let total = 200_000u64;
        let producer = std::thread::spawn(move || {
            let mut next = 0u64;
            while next < total {
                let batch: Vec<u64> = (next..(next + 7).min(total)).collect();
                next += p.put(&batch) as u64;
            }
        });
        let mut expect = 0u64;
        let mut buf = [0u64; 16];
        while expect < total {
            let n = c.take(&mut buf);
            for v in &buf[..n as usize] {
                assert_eq!(*v, expect);
                expect += 1;
            }
        }
        producer.join().unwrap();
    }
}

/// The ring protocol under loom: one thread is the application, the other
/// plays the kernel, and both run this module's `ProdRing`/`ConsRing` over one
/// heap ring. Loom explores their interleavings and, for every atomic load,
/// each value the memory model lets it see; the slots are loom cells, so an
/// entry read before its producer's release was acquired, or overwritten
/// before its consumer's release was acquired, fails the model.
///
/// Every model starts both indices a few steps below `u32::MAX` so that the
/// free-running indices wrap inside it, and checks that each item arrives
/// exactly once, in order, with its value.
///
/// Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --lib loom`.
/// The models are small enough to explore exhaustively: about 8 s for all
/// five in release mode on one core. `LOOM_MAX_PREEMPTIONS=n` bounds how often
/// an execution may switch away from a thread that could have gone on
/// (switches where a side waits on a full or empty ring are always explored);
/// 3 gives a 0.4 s smoke run, and any bound from 10 up already explores
/// everything these models can do (same time as no bound).
///
/// The model can fail: with `submit`'s store weakened from Release to Relaxed
/// (an experiment, reverted), `reserve_slot_submit_vs_peek_get_release` fails
/// with "Causality violation: Concurrent read and write accesses" on the
/// consumer's `get`; `release` weakened likewise fails on the producer's
/// `slot` write. The two `misuse_*` models keep that detection checked.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Explores `f` (exhaustively unless `LOOM_MAX_PREEMPTIONS` is set).
    fn model(f: impl Fn() + Sync + Send + 'static) {
        loom::model::Builder::new().check(f);
    }

    /// Both sides of one heap ring of `size` entries, indices at `start`.
    fn pair<T: Copy + Default>(size: u32, start: u32) -> (ProdRing<T>, ConsRing<T>) {
        let raw = Raw::heap(size, start);
        (ProdRing::from_raw(raw.share()), ConsRing::from_raw(raw))
    }

    fn desc(i: u64) -> Desc {
        Desc { addr: 0x1000 * i + 7, len: 60 + i as u32, options: 0 }
    }

    /// Both indices ended where `n` items put them, nothing in flight.
    fn drained<T: Copy>(p: &ProdRing<T>, c: &ConsRing<T>, start: u32, n: u32) {
        assert_eq!(p.raw.producer().load(Ordering::Relaxed), start.wrapping_add(n));
        assert_eq!(c.raw.consumer().load(Ordering::Relaxed), start.wrapping_add(n));
        assert_eq!((p.in_flight(), c.ready()), (0, 0));
    }

    /// One entry at a time: reserve, write through `slot`, submit against
    /// peek, `get`, release. A 2-entry ring and 3 items: the producer runs
    /// out of cached space and must reload the consumer index; indices wrap.
    #[test]
    fn reserve_slot_submit_vs_peek_get_release() {
        model(|| {
            let start = u32::MAX - 1;
            let (mut p, mut c) = pair::<u64>(2, start);
            let producer = thread::spawn(move || {
                for i in 0..3u64 {
                    let idx = loop {
                        match p.reserve(1) {
                            Some(idx) => break idx,
                            None => thread::yield_now(),
                        }
                    };
                    // SAFETY: reserved, so ours until submitted.
                    unsafe { p.slot(idx).write(100 + i) };
                    assert_eq!(p.submit(1), 1);
                }
                p
            });
            let mut got = Vec::new();
            while got.len() < 3 {
                let (n, idx) = c.peek(1);
                if n == 0 {
                    thread::yield_now();
                    continue;
                }
                got.push(c.get(idx));
                assert_eq!(c.release(1), 1);
            }
            let p = producer.join().unwrap();
            assert_eq!(got, [100, 101, 102]);
            drained(&p, &c, start, 3);
        });
    }

    /// Batches: `put` of up to 3 descriptors (partial when the ring is nearly
    /// full) against `take` of up to 2, on a 4-entry ring, 6 descriptors.
    #[test]
    fn put_vs_take_batches() {
        model(|| {
            let start = u32::MAX - 2;
            let (mut p, mut c) = pair::<Desc>(4, start);
            let producer = thread::spawn(move || {
                let items: Vec<Desc> = (0..6).map(desc).collect();
                let mut sent = 0;
                while sent < items.len() {
                    let n = p.put(&items[sent..(sent + 3).min(items.len())]) as usize;
                    if n == 0 {
                        thread::yield_now();
                    }
                    sent += n;
                }
                p
            });
            let mut got = Vec::new();
            let mut buf = [Desc::default(); 2];
            while got.len() < 6 {
                let n = c.take(&mut buf) as usize;
                if n == 0 {
                    thread::yield_now();
                }
                got.extend_from_slice(&buf[..n]);
            }
            let p = producer.join().unwrap();
            assert_eq!(got, (0..6).map(desc).collect::<Vec<_>>());
            drained(&p, &c, start, 6);
        });
    }

    /// All-or-nothing `reserve(2)` on a 2-entry ring (needs the whole ring, so
    /// the cached consumer index is reloaded every time) with over-asked
    /// `submit`, against a consumer that peeks 2, reads them, releases one,
    /// cancels the other and over-asks `release`: clamping keeps the
    /// indices honest and the cancelled entry comes back on the next peek.
    #[test]
    fn whole_ring_reserve_cancel_and_clamps() {
        model(|| {
            let start = u32::MAX;
            let (mut p, mut c) = pair::<u64>(2, start);
            let producer = thread::spawn(move || {
                assert_eq!(p.submit(1), 0, "nothing reserved: nothing to publish");
                for round in 0..2u64 {
                    let idx = loop {
                        match p.reserve(2) {
                            Some(idx) => break idx,
                            None => thread::yield_now(),
                        }
                    };
                    p.set(idx, 10 * round);
                    p.set(idx.wrapping_add(1), 10 * round + 1);
                    assert_eq!(p.submit(5), 2, "clamped to what was reserved");
                }
                p
            });
            let mut got = Vec::new();
            while got.len() < 4 {
                let (n, idx) = c.peek(2);
                match n {
                    0 => thread::yield_now(),
                    1 => {
                        got.push(c.get(idx));
                        assert_eq!(c.release(3), 1, "clamped to what was peeked");
                    }
                    _ => {
                        assert_eq!(n, 2);
                        let first = c.get(idx);
                        let second = c.get(idx.wrapping_add(1));
                        assert_eq!(second, first + 1);
                        assert_eq!(c.cancel(5), 2, "clamped to what was peeked");
                        let (n, again) = c.peek(2);
                        assert_eq!((n, again), (2, idx), "cancelled entries come back");
                        got.push(c.get(again));
                        assert_eq!(c.cancel(1), 1);
                        assert_eq!(c.release(9), 1, "clamped: one peeked after the cancel");
                    }
                }
            }
            let p = producer.join().unwrap();
            assert_eq!(got, [0, 1, 10, 11]);
            drained(&p, &c, start, 4);
        });
    }

    /// The checker catches a consumer that reads an entry it has not peeked:
    /// the producer may be writing it. Proves the slots are tracked.
    #[test]
    #[should_panic(expected = "Causality violation")]
    fn misuse_reading_an_unpublished_slot_is_caught() {
        model(|| {
            let (mut p, c) = pair::<u64>(2, u32::MAX);
            let producer = thread::spawn(move || {
                let idx = p.reserve(1).unwrap();
                p.set(idx, 1);
                p.submit(1);
            });
            let _ = c.get(u32::MAX);
            producer.join().unwrap();
        });
    }

    /// The checker catches a producer that overwrites an entry it has not
    /// reserved while the consumer may still be reading it.
    #[test]
    #[should_panic(expected = "Causality violation")]
    fn misuse_overwriting_an_unreleased_slot_is_caught() {
        model(|| {
            let (mut p, mut c) = pair::<u64>(2, u32::MAX);
            let idx = p.reserve(1).unwrap();
            p.set(idx, 1);
            p.submit(1);
            let producer = thread::spawn(move || p.set(u32::MAX, 2));
            let (n, idx) = c.peek(1);
            assert_eq!(c.get(idx), 1, "n = {n}");
            c.release(n);
            producer.join().unwrap();
        });
    }
}
