//! UMEM: the packet buffer area shared with the kernel, cut into equal frames,
//! registered on an AF_XDP socket together with its fill and completion rings.
//!
//! The kernel ties a UMEM to the socket it was registered on. That socket's fd
//! (the UMEM's fd) becomes the first socket bound to a queue; later sockets share
//! the UMEM by naming that fd at bind time (`XDP_SHARED_UMEM`), on the same
//! queue or, with fill and completion rings of their queue's own, on any
//! other queue or interface. [`Umem`] keeps the fd, the area, each queue's
//! fill and completion rings, and the record of what each fd has been bound
//! to (`fd.rs`).

mod fd;
pub mod tx_metadata;

pub(crate) use fd::{is_zerocopy, queues, Bound, Claim, Pool, Queues, SockFd};
use fd::{FdState, XskFd};

use crate::error::{Error, Result};
use crate::fork::{self, Owner};
use crate::netdev::NetnsId;
use crate::ring::{CompRing, FillRing};
use std::mem::size_of;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// `XDP_UMEM_UNALIGNED_CHUNK_FLAG`: frames may start anywhere; RX/TX addresses
/// carry an offset in their top 16 bits.
pub const UMEM_UNALIGNED_CHUNKS: u32 = libc::XDP_UMEM_UNALIGNED_CHUNK_FLAG;
/// `XDP_UMEM_TX_SW_CSUM` (Linux 6.8): in copy mode the kernel computes a
/// requested TX checksum in software at once, whatever the device offers.
/// Needs [`UmemConfig::tx_metadata_len`].
pub const UMEM_TX_SW_CSUM: u32 = libc::XDP_UMEM_TX_SW_CSUM;
const KNOWN_FLAGS: u32 = UMEM_UNALIGNED_CHUNKS | UMEM_TX_SW_CSUM;

/// Smallest frame the kernel accepts (`XDP_UMEM_MIN_CHUNK_SIZE`).
pub const MIN_FRAME_SIZE: u32 = 2048;
/// Headroom the kernel reserves in every frame for XDP (`XDP_PACKET_HEADROOM`).
pub const XDP_PACKET_HEADROOM: u32 = 256;

/// UMEM geometry and ring sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UmemConfig {
    /// Number of frames. With a caller's area, 0 means "as many as fit".
    pub frame_count: u32,
    /// Bytes per frame: a power of two from 2048 to the page size (aligned mode),
    /// or any size in that range with [`UMEM_UNALIGNED_CHUNKS`].
    pub frame_size: u32,
    /// Bytes left free in every received frame, after the kernel's own
    /// [`XDP_PACKET_HEADROOM`]: in aligned mode a received packet starts
    /// `XDP_PACKET_HEADROOM + frame_headroom` bytes into its frame (that is
    /// `desc.addr % frame_size`), and a packet longer than
    /// `frame_size - XDP_PACKET_HEADROOM - frame_headroom` is dropped (counted
    /// in `rx_dropped`).
    pub frame_headroom: u32,
    /// Fill ring entries (power of two). Lend the kernel at most half this
    /// many frames at once: why is the lending rule on the C config's
    /// [`fill_size`](crate::ffi::xsk_rs_umem_config::fill_size), the one
    /// place it is written. [`UmemConfig::lending`] sizes it for a number of
    /// frames.
    pub fill_size: u32,
    /// Completion ring entries (power of two).
    pub comp_size: u32,
    /// 0, or [`UMEM_UNALIGNED_CHUNKS`] and/or [`UMEM_TX_SW_CSUM`].
    pub flags: u32,
    /// Bytes of TX metadata in front of every TX packet (Linux 6.8): 0 (none,
    /// the default), or a multiple of 8 from
    /// [`tx_metadata::TX_METADATA_LEN`] (24) to 248. With it, every TX
    /// descriptor's address must lie at least this far into its frame, and
    /// one with [`tx_metadata::XDP_TX_METADATA`] in its options carries the
    /// [`tx_metadata::TxMetadata`] there ([`Umem::tx_metadata_mut`]). A
    /// kernel before 6.8, which would ignore it, gets `EOPNOTSUPP`.
    pub tx_metadata_len: u32,
}

/// Frames in a default UMEM; the default rings let every one of them be lent
/// at once ([`UmemConfig::lending`], [`crate::socket::SocketConfig::lending`]).
pub const DEFAULT_FRAMES: u32 = 4096;

impl Default for UmemConfig {
    /// [`DEFAULT_FRAMES`] frames of 4096 bytes with the rings of
    /// [`UmemConfig::lending`]: a fill ring of 8192, a completion ring of 4096.
    fn default() -> Self {
        UmemConfig::lending(DEFAULT_FRAMES).expect("the default frame count is lendable")
    }
}

/// The ring size that holds `frames` entries: the next power of two.
pub(crate) fn ring_for(frames: u32) -> Result<u32> {
    frames
        .checked_next_power_of_two()
        .filter(|&n| frames > 0 && n <= MAX_LEND.next_power_of_two())
        .ok_or_else(|| Error::invalid(format!("cannot size rings to lend {frames} frames: lend 1 to {MAX_LEND}")))
}

/// The most frames [`UmemConfig::lending`] sizes rings for: its fill ring of
/// twice that many 8-byte entries is then 8 GiB.
pub const MAX_LEND: u32 = 1 << 29;

impl UmemConfig {
    /// A UMEM of `frames` frames of 4096 bytes whose rings let every frame be
    /// lent to the kernel at once: a fill ring twice `frames` (the kernel may
    /// need the spare half, see [`UmemConfig::fill_size`]) and a completion
    /// ring of `frames`, each rounded up to a power of two. Pair it with
    /// [`crate::socket::SocketConfig::lending`] for the socket's rings.
    pub fn lending(frames: u32) -> Result<UmemConfig> {
        let ring = ring_for(frames)?;
        Ok(UmemConfig {
            frame_count: frames,
            frame_size: 4096,
            frame_headroom: 0,
            fill_size: ring * 2,
            comp_size: ring,
            flags: 0,
            tx_metadata_len: 0,
        })
    }
}

pub(crate) fn page_size() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u32
    } else {
        4096
    }
}

/// Checks that a ring size is a power of two, naming the ring on failure.
pub(crate) fn check_ring_size(what: &str, size: u32, zero_ok: bool) -> Result<()> {
    if (size == 0 && zero_ok) || size.is_power_of_two() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{what} size {size} is not a power of two{}",
        if zero_ok { " (0 leaves the ring out)" } else { "" }
    )))
}

impl UmemConfig {
    /// Checks every field against what the kernel will accept, so that a bad
    /// value is reported by name instead of as a bare EINVAL from setsockopt.
    pub fn validate(&self) -> Result<()> {
        if self.flags & !KNOWN_FLAGS != 0 {
            return Err(Error::invalid(format!(
                "umem flags {:#x}: unknown bits {:#x} (known: UNALIGNED_CHUNKS {:#x}, TX_SW_CSUM {:#x})",
                self.flags,
                self.flags & !KNOWN_FLAGS,
                UMEM_UNALIGNED_CHUNKS,
                UMEM_TX_SW_CSUM
            )));
        }
        let tml = self.tx_metadata_len;
        if tml != 0
            && (tml % 8 != 0 || !(tx_metadata::TX_METADATA_LEN..=tx_metadata::MAX_TX_METADATA_LEN).contains(&tml))
        {
            return Err(Error::invalid(format!(
                "tx_metadata_len {tml}: give 0 or a multiple of 8 from {} (struct xsk_tx_metadata) to {}",
                tx_metadata::TX_METADATA_LEN,
                tx_metadata::MAX_TX_METADATA_LEN
            )));
        }
        if self.flags & UMEM_TX_SW_CSUM != 0 && tml == 0 {
            return Err(Error::invalid(format!(
                "umem flags {:#x}: TX_SW_CSUM without tx_metadata_len (checksums are requested in the tx metadata)",
                self.flags
            )));
        }
        let page = page_size();
        let fs = self.frame_size;
        let unaligned = self.flags & UMEM_UNALIGNED_CHUNKS != 0;
        if fs < MIN_FRAME_SIZE || fs > page || (!unaligned && !fs.is_power_of_two()) {
            return Err(Error::invalid(format!(
                "frame size {fs} is not supported: use a power of two from {MIN_FRAME_SIZE} to {page} \
                 (or any size in that range with unaligned chunks)"
            )));
        }
        if self.frame_headroom >= fs - XDP_PACKET_HEADROOM {
            return Err(Error::invalid(format!(
                "frame headroom {} too large for frame size {fs}: the kernel keeps {XDP_PACKET_HEADROOM} bytes, \
                 so headroom must be below {}",
                self.frame_headroom,
                fs - XDP_PACKET_HEADROOM
            )));
        }
        if tml != 0 && tml >= fs {
            return Err(Error::invalid(format!("tx_metadata_len {tml} leaves no room in a frame of {fs}")));
        }
        check_ring_size("fill ring", self.fill_size, false)?;
        check_ring_size("completion ring", self.comp_size, false)?;
        Ok(())
    }

    fn area_len(&self) -> Result<usize> {
        (self.frame_count as u64)
            .checked_mul(self.frame_size as u64)
            .filter(|&n| n > 0)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "frame count {} x frame size {} is not a usable area size",
                    self.frame_count, self.frame_size
                ))
            })
    }
}

/// What backs a UMEM area the library maps ([`Umem::with_pages`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pages {
    /// Ordinary pages of the base page size.
    #[default]
    Base,
    /// Huge pages of the default size from the kernel's pool
    /// (`vm.nr_hugepages`); too few free is `ENOMEM`, naming the sysctl.
    Huge,
    /// Huge pages when the pool has enough free, ordinary pages otherwise
    /// (also on a kernel without huge pages).
    HugeOrBase,
}

/// The packet buffer area.
struct Area {
    base: NonNull<u8>,
    /// The registered length, `frame_count * frame_size`: what the kernel
    /// and the frame accessors see.
    len: usize,
    /// The length of our own mapping: `len`, or `len` rounded up to the huge
    /// page size for a hugetlb area (munmap of hugetlb memory takes only
    /// whole huge pages). Equal to `len` for a caller's area.
    map_len: usize,
    /// Mapped by us (unmapped on drop; `None` when lent by the caller), in
    /// the process that did.
    owned: Option<Owner>,
    /// Mapped by us in hugetlb pages.
    huge: bool,
}

// SAFETY: an Area is an address range and a flag; this code never reads or
// writes through `base` (it only hands the pointer out and unmaps it once, on
// drop), so moving or sharing the value across threads cannot race.
unsafe impl Send for Area {}
// SAFETY: as above.
unsafe impl Sync for Area {}

impl Area {
    /// Maps `len` bytes of private anonymous memory, pre-faulted and tracked
    /// for fork; with `huge`, of `huge`-byte hugetlb pages of the default
    /// size (`MAP_HUGETLB` without a size flag), `len` rounded up to whole
    /// pages.
    fn map(len: usize, huge: Option<usize>) -> Result<Area> {
        let map_len = match huge {
            None => len,
            Some(h) => len.checked_next_multiple_of(h).ok_or_else(|| {
                Error::invalid(format!("umem area of {len} bytes cannot be rounded up to huge pages"))
            })?,
        };
        let flags = libc::MAP_PRIVATE
            | libc::MAP_ANONYMOUS
            | libc::MAP_POPULATE
            | if huge.is_some() { libc::MAP_HUGETLB } else { 0 };
        let (base, owner) = fork::map_tracked(map_len, || {
            // SAFETY: anonymous private mapping; failure is checked.
            let base =
                unsafe { libc::mmap(std::ptr::null_mut(), map_len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
            if base == libc::MAP_FAILED {
                let errno = crate::error::errno();
                return Err(match huge {
                    None => Error::from_errno(format!("mmap umem area of {len} bytes"), errno),
                    Some(h) if errno == libc::ENOMEM => no_huge_pages(len, map_len, h),
                    Some(h) => Error::from_errno(huge_what(len, map_len, h), errno),
                });
            }
            // A forked child gets zeroed memory here instead of a copy: the
            // kernel would otherwise copy every pinned page of the area at
            // fork. Set before any fork can see the mapping. On hugetlb
            // memory the range must be whole huge pages (map_len is), and
            // the advice is checked: the copy of a pinned hugetlb area would
            // take as many huge pages again, and without them fork fails.
            // SAFETY: advice on our own fresh mapping.
            let rc = unsafe { libc::madvise(base, map_len, libc::MADV_DONTFORK) };
            if let (Some(h), true) = (huge, rc != 0) {
                let e = Error::last_os(format!("{}: madvise MADV_DONTFORK", huge_what(len, map_len, h)));
                // SAFETY: our own mapping, not yet tracked or handed out.
                unsafe { libc::munmap(base, map_len) };
                return Err(e);
            }
            Ok(base)
        })?;
        let base = NonNull::new(base.cast()).expect("mmap gave NULL");
        Ok(Area { base, len, map_len, owned: Some(owner), huge: huge.is_some() })
    }
}

impl Drop for Area {
    fn drop(&mut self) {
        if let Some(owner) = self.owned {
            // Our own mmap; the last user is gone.
            fork::unmap(self.base.as_ptr().cast(), self.map_len, owner);
        }
    }
}

/// The default huge page size (`Hugepagesize` in /proc/meminfo), the one
/// `MAP_HUGETLB` without a size flag uses and `vm.nr_hugepages` reserves.
fn huge_page_size() -> Result<usize> {
    match meminfo("Hugepagesize") {
        Some(kb) if kb > 0 && (kb as usize).is_power_of_two() => Ok(kb as usize * 1024),
        Some(kb) => Err(Error::NotSupported(format!(
            "umem with huge pages: /proc/meminfo gives a huge page size of {kb} kB, not a power of two"
        ))),
        None => Err(Error::NotSupported(
            "umem with huge pages: /proc/meminfo names no Hugepagesize (kernel without CONFIG_HUGETLB_PAGE, \
             or no /proc)"
                .into(),
        )),
    }
}

/// A number field of /proc/meminfo, without its unit.
fn meminfo(field: &str) -> Option<u64> {
    meminfo_field(&std::fs::read_to_string("/proc/meminfo").ok()?, field)
}

/// The number of the line `field: <n> [kB]` in meminfo's text.
fn meminfo_field(text: &str, field: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok())
}

fn huge_what(len: usize, map_len: usize, huge: usize) -> String {
    format!("mmap umem area of {len} bytes as {} huge pages of {} kB", map_len / huge, huge >> 10)
}

/// The ENOMEM of a hugetlb mmap: the default pool has fewer free pages than
/// the area needs (`MAP_HUGETLB` takes its pages from the pool reserved by
/// `vm.nr_hugepages`, or from `vm.nr_overcommit_hugepages`).
fn no_huge_pages(len: usize, map_len: usize, huge: usize) -> Error {
    let pages = (map_len / huge) as u64;
    let what = huge_what(len, map_len, huge);
    let counts = (meminfo("HugePages_Total"), meminfo("HugePages_Free"), meminfo("HugePages_Rsvd"));
    let msg = match counts {
        (Some(total), Some(free), Some(rsvd)) => {
            let avail = free.saturating_sub(rsvd);
            let counts = format!("HugePages_Total {total}, HugePages_Free {free}, HugePages_Rsvd {rsvd}");
            if avail >= pages {
                // Freed since, or the limit is not the pool's (a hugetlb
                // cgroup's, say).
                format!(
                    "{what}: the kernel had no huge pages to give, though the area needs {pages} and \
                     {avail} are available now ({counts}); check vm.nr_hugepages (/proc/sys/vm/nr_hugepages) \
                     and any hugetlb cgroup limit"
                )
            } else {
                format!(
                    "{what}: not enough free huge pages: the area needs {pages} and {avail} are available \
                     ({counts}); reserve more with `sysctl vm.nr_hugepages={}` (/proc/sys/vm/nr_hugepages)",
                    total + pages - avail
                )
            }
        }
        _ => format!(
            "{what}: not enough free huge pages: the area needs {pages}; reserve them with \
             `sysctl vm.nr_hugepages=N` (/proc/sys/vm/nr_hugepages)"
        ),
    };
    Error::from_errno(
        format!(
            "{msg}; or let the umem fall back to ordinary pages (Rust: Pages::HugeOrBase; C: \
             XSK_RS_UMEM_HUGE_PAGES_FALLBACK, or huge_page_fallback in the socket config)"
        ),
        libc::ENOMEM,
    )
}

/// The parts of a UMEM that sockets keep alive: fd, area, geometry.
pub(crate) struct UmemShared {
    // The pools first: they hold the fds, and the mappings they keep go
    // before the fds and the area (each mapping holds its socket on its own;
    // this is for order).
    /// The pool on the UMEM's own fd: the queue its first socket bound.
    primary: Arc<Pool>,
    /// Pools on other queues or interfaces, each on the fd of the first
    /// socket that bound there (`XDP_SHARED_UMEM` with its own fill and
    /// completion rings), in the order they were made.
    others: Mutex<Vec<Arc<Pool>>>,
    /// The UMEM's fd is the caller's ([`Umem::with_fd`]): never replaced.
    adopted: bool,
    /// Namespace the fd was created in: the kernel resolves a bind's ifindex
    /// there, so sockets must look their interface up in the same one.
    netns: NetnsId,
    area: Area,
    cfg: UmemConfig,
    sockets: AtomicUsize,
    owner: Owner,
    /// The fd's number, readable without the state's lock (which a forked
    /// child must never wait for); changed only by `renew`, under the lock.
    fd_number: AtomicI32,
}

impl UmemShared {
    /// The process that created the UMEM: the only one that can use it.
    pub(crate) fn owner(&self) -> Owner {
        self.owner
    }

    pub(crate) fn netns(&self) -> NetnsId {
        self.netns
    }

    /// The pools on other queues; a poisoned lock only means a panic
    /// elsewhere, the list is consistent because every update is one push.
    fn others(&self) -> MutexGuard<'_, Vec<Arc<Pool>>> {
        self.others.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn socket_added(&self) {
        self.sockets.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn socket_removed(&self) {
        self.sockets.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A registered UMEM with its fill and completion rings.
///
/// Its sockets may sit on any queue of any interface of its network
/// namespace. Those on the queue its first socket bound use the UMEM's own
/// fill and completion rings ([`Umem::fill`], [`Umem::comp`]); the first
/// socket on any other queue gets that queue a pair of its own, sized as the
/// UMEM's, which every later socket there shares ([`Umem::rings_for`]) and
/// which goes with the last of them (the queue is free again, and the frames
/// lent to that fill ring are the application's). Each pair is the kernel's
/// buffer pool for that queue. Frames are the
/// application's across all of them: a frame received on one socket may be
/// sent on another, or lent to another queue's fill ring.
pub struct Umem {
    shared: Arc<UmemShared>,
}

impl Umem {
    /// Maps a fresh area of `frame_count * frame_size` bytes (pre-faulted) and
    /// registers it: it faults in every page and the kernel pins them, so the
    /// call takes time in proportion to the area's size. In a forked child the
    /// area is zeroed memory of the child's own (see the C header's fork rule).
    pub fn new(cfg: &UmemConfig) -> Result<Umem> {
        cfg.validate()?;
        let area = Area::map(cfg.area_len()?, None)?;
        Self::register(area, *cfg)
    }

    /// As [`Umem::new`], with the area in huge pages of the default size
    /// (`Hugepagesize` in /proc/meminfo; `mmap` with `MAP_HUGETLB` and
    /// `MAP_POPULATE`): fewer TLB misses when the application touches frames
    /// all over a large area.
    ///
    /// The mapping is `frame_count * frame_size` rounded up to whole huge
    /// pages; the UMEM registered, and [`Umem::size`], stay
    /// `frame_count * frame_size`, so choose a frame count that fills whole
    /// huge pages (512 frames of 4096 bytes per 2 MiB page) to waste nothing.
    /// Frames are still at most the base page size, as
    /// [`UmemConfig::validate`] checks: huge pages change how the area is
    /// backed, not the frame geometry.
    ///
    /// The pages come from the kernel's huge page pool, which is empty unless
    /// someone reserved pages (`sysctl vm.nr_hugepages=N`, as root). With too
    /// few free pages the call fails with `ENOMEM` and a message that says how
    /// many pages the area needs and how many are free; a kernel without
    /// huge pages gives `EOPNOTSUPP`. The pages go back to the pool a moment
    /// after the UMEM and its last socket are dropped: the kernel unpins them
    /// from a work queue, after an RCU grace period. A forked child gets
    /// ordinary zeroed memory over the whole mapping instead (see the C
    /// header's fork rule): no huge pages are copied or taken at fork.
    ///
    /// ```no_run
    /// use xsk_rs::umem::{Umem, UmemConfig};
    /// // 1024 frames of 4096 bytes: exactly two 2 MiB pages.
    /// let umem = Umem::with_huge_pages(&UmemConfig::lending(1024)?)?;
    /// assert_eq!(umem.size(), 1024 * 4096);
    /// # Ok::<(), xsk_rs::Error>(())
    /// ```
    pub fn with_huge_pages(cfg: &UmemConfig) -> Result<Umem> {
        Self::with_pages(cfg, Pages::Huge)
    }

    /// As [`Umem::new`] ([`Pages::Base`]), [`Umem::with_huge_pages`]
    /// ([`Pages::Huge`]), or huge pages where the pool has enough free and
    /// ordinary pages otherwise ([`Pages::HugeOrBase`]: the fallback for a
    /// machine where nobody reserved any; [`Umem::huge_pages`] tells which
    /// it got).
    ///
    /// ```no_run
    /// use xsk_rs::umem::{Pages, Umem, UmemConfig};
    /// let umem = Umem::with_pages(&UmemConfig::lending(1024)?, Pages::HugeOrBase)?;
    /// println!("in huge pages: {}", umem.huge_pages());
    /// # Ok::<(), xsk_rs::Error>(())
    /// ```
    pub fn with_pages(cfg: &UmemConfig, pages: Pages) -> Result<Umem> {
        cfg.validate()?;
        let len = cfg.area_len()?;
        let area = match pages {
            Pages::Base => Area::map(len, None)?,
            Pages::Huge => Area::map(len, Some(huge_page_size()?))?,
            // ENOMEM: too few free pages in the pool; EOPNOTSUPP: a kernel
            // without hugetlb. Anything else is a real failure.
            Pages::HugeOrBase => match huge_page_size().and_then(|h| Area::map(len, Some(h))) {
                Err(e) if matches!(e.errno(), libc::ENOMEM | libc::EOPNOTSUPP) => Area::map(len, None)?,
                r => r?,
            },
        };
        Self::register(area, *cfg)
    }

    /// Whether the area is in huge pages (a [`Umem::with_huge_pages`], or a
    /// [`Pages::HugeOrBase`] UMEM that found them free). `false` for a
    /// caller's area, whatever backs it.
    pub fn huge_pages(&self) -> bool {
        self.shared.area.huge
    }

    /// Registers a caller's area. `cfg.frame_count == 0` means as many frames as
    /// fit in `size`; otherwise those frames must fit.
    ///
    /// # Safety
    /// `area` must be valid for reads and writes of `size` bytes, page-aligned,
    /// and stay mapped until this UMEM and every socket on it are dropped. The
    /// caller keeps ownership: nothing here unmaps it.
    pub unsafe fn with_area(area: *mut u8, size: u64, cfg: &UmemConfig) -> Result<Umem> {
        let (area, cfg) = Self::caller_area(area, size, cfg)?;
        Self::register(area, cfg)
    }

    /// Checks a caller's area against `cfg` and settles the frame count.
    fn caller_area(area: *mut u8, size: u64, cfg: &UmemConfig) -> Result<(Area, UmemConfig)> {
        let base = NonNull::new(area).ok_or_else(|| Error::invalid("umem area is NULL"))?;
        let page = page_size() as usize;
        if (area as usize) % page != 0 {
            return Err(Error::invalid(format!("umem area {area:p} is not aligned to the {page}-byte page size")));
        }
        let mut cfg = *cfg;
        cfg.validate()?;
        let fits = size / cfg.frame_size as u64;
        if cfg.frame_count == 0 {
            cfg.frame_count = u32::try_from(fits).unwrap_or(u32::MAX);
        }
        if cfg.frame_count == 0 || cfg.frame_count as u64 > fits {
            return Err(Error::invalid(format!(
                "umem area of {size} bytes holds {fits} frames of {}, config asks for {}",
                cfg.frame_size, cfg.frame_count
            )));
        }
        let len = cfg.area_len()?;
        Ok((Area { base, len, map_len: len, owned: None, huge: false }, cfg))
    }

    /// Registers a caller's area, as [`Umem::with_area`], on the caller's
    /// AF_XDP socket `fd` instead of one of its own (libxdp's
    /// `xsk_umem__create_with_fd`): that socket becomes the UMEM's fd, and
    /// the UMEM's first socket binds it. It must be an AF_XDP socket with no
    /// UMEM yet. The UMEM belongs to the network namespace the fd was
    /// created in, which may differ from the calling thread's: create its
    /// sockets from a thread in that namespace. On failure the fd comes back
    /// with the error (a UMEM may have been registered on it by then, which
    /// the kernel does not undo).
    ///
    /// # Safety
    /// As for [`Umem::with_area`].
    pub unsafe fn with_fd(
        fd: OwnedFd,
        area: *mut u8,
        size: u64,
        cfg: &UmemConfig,
    ) -> std::result::Result<Umem, (Error, OwnedFd)> {
        let raw = fd.into_raw_fd();
        // SAFETY: `raw` came from an OwnedFd just now; on failure it goes
        // back into one.
        Self::with_raw_fd(raw, area, size, cfg).map_err(|e| (e, OwnedFd::from_raw_fd(raw)))
    }

    /// [`Umem::with_fd`] on a raw fd, which the UMEM owns only once it is
    /// made: until then nothing here closes it, whatever fails (or panics).
    ///
    /// # Safety
    /// As for [`Umem::with_area`]; `raw` is an fd the caller may give away.
    pub(crate) unsafe fn with_raw_fd(raw: RawFd, area: *mut u8, size: u64, cfg: &UmemConfig) -> Result<Umem> {
        // SAFETY: SO_DOMAIN is one int.
        let mut domain: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        let rc = libc::getsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            (&mut domain as *mut libc::c_int).cast(),
            &mut len,
        );
        if rc != 0 {
            return Err(Error::last_os(format!("umem on fd {raw}: read its socket domain (SO_DOMAIN)")));
        }
        if domain != libc::AF_XDP {
            return Err(Error::invalid(format!(
                "umem on fd {raw}: not an AF_XDP socket (domain {domain}); create it with socket(AF_XDP, SOCK_RAW, 0)"
            )));
        }
        let netns = crate::netdev::socket_netns(raw)?;
        let (area, cfg) = Self::caller_area(area, size, cfg)?;
        let (fill, comp) = setup_fd(raw, &area, &cfg)?;
        // SAFETY: every fallible step is behind us; the UMEM owns it now.
        let fd = XskFd::adopt(netns, OwnedFd::from_raw_fd(raw));
        Ok(Self::assemble(fd, netns, area, cfg, fill, comp, true))
    }

    fn register(area: Area, cfg: UmemConfig) -> Result<Umem> {
        let netns = crate::netdev::current_netns()?;
        let (fd, fill, comp) = register_fd(&area, &cfg, netns)?;
        Ok(Self::assemble(fd, netns, area, cfg, fill, comp, false))
    }

    fn assemble(
        fd: XskFd,
        netns: NetnsId,
        area: Area,
        cfg: UmemConfig,
        fill: FillRing,
        comp: CompRing,
        adopted: bool,
    ) -> Umem {
        let raw = fd.raw();
        let gates = (fill.wakeup_gate(), comp.wakeup_gate());
        let shared = UmemShared {
            primary: Arc::new(Pool::new(fill, comp, FdState::new(fd, gates))),
            others: Mutex::new(Vec::new()),
            adopted,
            netns,
            area,
            cfg,
            sockets: AtomicUsize::new(0),
            owner: Owner::current(),
            fd_number: AtomicI32::new(raw),
        };
        Umem { shared: Arc::new(shared) }
    }

    pub(crate) fn shared(&self) -> &Arc<UmemShared> {
        &self.shared
    }

    /// Start of the area.
    pub fn area(&self) -> *mut u8 {
        self.shared.area.base.as_ptr()
    }

    /// Registered size in bytes (`frame_count * frame_size`).
    pub fn size(&self) -> u64 {
        self.shared.area.len as u64
    }

    pub fn frame_size(&self) -> u32 {
        self.shared.cfg.frame_size
    }

    pub fn frame_count(&self) -> u32 {
        self.shared.cfg.frame_count
    }

    pub fn frame_headroom(&self) -> u32 {
        self.shared.cfg.frame_headroom
    }

    /// Bytes of TX metadata in front of each TX packet
    /// ([`UmemConfig::tx_metadata_len`]; 0: none).
    pub fn tx_metadata_len(&self) -> u32 {
        self.shared.cfg.tx_metadata_len
    }

    /// The [`tx_metadata::TxMetadata`] in front of the TX packet at ring
    /// address `addr`: the first 24 of the `tx_metadata_len` bytes before
    /// it. `None` when the UMEM has no TX metadata, or those bytes do not
    /// lie in `addr`'s frame (aligned mode) or the area. Write the request
    /// there, then set [`tx_metadata::XDP_TX_METADATA`] in the
    /// descriptor's options; after the frame comes back on the completion
    /// ring, read the completion ([`tx_metadata::TxMetadata::tx_timestamp`]).
    ///
    /// ```no_run
    /// use xsk_rs::umem::{tx_metadata::{TxMetadata, XDP_TX_METADATA}, Umem, UmemConfig};
    /// let cfg = UmemConfig { tx_metadata_len: 24, ..UmemConfig::default() };
    /// let umem = Umem::new(&cfg)?;
    /// let addr = 24; // the packet of frame 0, just after its metadata
    /// // SAFETY: frame 0 is not in the kernel's hands.
    /// let meta = unsafe { umem.tx_metadata_mut(addr) }.expect("metadata room");
    /// *meta = TxMetadata::new();
    /// meta.request_checksum(34, 6);
    /// let desc = xsk_rs::ring::Desc { addr, len: 60, options: XDP_TX_METADATA };
    /// # let _ = desc;
    /// # Ok::<(), xsk_rs::Error>(())
    /// ```
    ///
    /// # Safety
    /// As for [`Umem::frame_mut`]: the frame is the application's now.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn tx_metadata_mut(&self, addr: u64) -> Option<&mut tx_metadata::TxMetadata> {
        let tml = self.shared.cfg.tx_metadata_len as u64;
        if tml == 0 {
            return None;
        }
        let unaligned = self.shared.cfg.flags & UMEM_UNALIGNED_CHUNKS != 0;
        let at = if unaligned { add_offset_to_addr(addr) } else { addr };
        let meta = at.checked_sub(tml)?;
        if !unaligned && meta / self.shared.cfg.frame_size as u64 != at / self.shared.cfg.frame_size as u64 {
            return None;
        }
        let off = self.offset_of(meta)?;
        let len = size_of::<tx_metadata::TxMetadata>();
        if len > self.shared.area.len - off || off % 8 != 0 {
            return None;
        }
        Some(&mut *self.area().add(off).cast::<tx_metadata::TxMetadata>())
    }

    /// The UMEM's AF_XDP fd (the first socket on this UMEM binds it). It
    /// changes only when a socket fails to bind it and a later one asks for
    /// other ring sizes: the UMEM is then registered anew on a fresh fd
    /// (frames submitted to the fill ring move with it).
    pub fn fd(&self) -> RawFd {
        self.shared.fd_number.load(Ordering::Acquire)
    }

    /// Address of frame `i` (aligned layout: `i * frame_size`).
    pub fn frame_addr(&self, i: u32) -> u64 {
        i as u64 * self.shared.cfg.frame_size as u64
    }

    /// The address of the frame that ring address `addr` lies in: in aligned
    /// mode `addr - addr % frame_size`; in unaligned mode the chunk's base
    /// address, [`extract_addr`] (the offset in the top 16 bits dropped).
    pub fn frame_start(&self, addr: u64) -> u64 {
        if self.shared.cfg.flags & UMEM_UNALIGNED_CHUNKS != 0 {
            extract_addr(addr)
        } else {
            addr - addr % self.shared.cfg.frame_size as u64
        }
    }

    /// Offset in the area that a ring address refers to (unaligned mode packs an
    /// offset into the top 16 bits), if it lies inside the area.
    pub fn offset_of(&self, addr: u64) -> Option<usize> {
        let off = if self.shared.cfg.flags & UMEM_UNALIGNED_CHUNKS != 0 { add_offset_to_addr(addr) } else { addr };
        (off < self.size()).then_some(off as usize)
    }

    /// Pointer to the byte at ring address `addr`, or `None` outside the area.
    pub fn data_ptr(&self, addr: u64) -> Option<NonNull<u8>> {
        let off = self.offset_of(addr)?;
        // SAFETY: off < len, so the result is inside the area.
        Some(unsafe { NonNull::new_unchecked(self.area().add(off)) })
    }

    /// The `len` bytes at `addr`, if they lie inside the area.
    ///
    /// # Safety
    /// The frame must belong to the application at this moment (taken from the RX
    /// or completion ring, or never given to the kernel), so that the kernel is
    /// not writing it.
    pub unsafe fn frame(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let off = self.offset_of(addr)?;
        (len <= self.shared.area.len - off).then(|| std::slice::from_raw_parts(self.area().add(off), len))
    }

    /// Mutable view of the `len` bytes at `addr`, if inside the area.
    ///
    /// # Safety
    /// As for [`Umem::frame`], and no other reference to those bytes may exist.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn frame_mut(&self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let off = self.offset_of(addr)?;
        (len <= self.shared.area.len - off).then(|| std::slice::from_raw_parts_mut(self.area().add(off), len))
    }

    /// The fill ring of the queue the UMEM's first socket bound (before
    /// that bind, of the queue it will bind).
    pub fn fill(&mut self) -> &mut FillRing {
        self.rings().0
    }

    /// The completion ring of that queue.
    pub fn comp(&mut self) -> &mut CompRing {
        self.rings().1
    }

    /// Both rings at once (they are used from one thread, or split across two).
    pub fn rings(&mut self) -> (&mut FillRing, &mut CompRing) {
        // SAFETY: `&mut self` is the only way safe code reaches a pool's
        // rings, and there is one Umem per UmemShared.
        unsafe { (&mut *self.shared.primary.fill_ptr(), &mut *self.shared.primary.comp_ptr()) }
    }

    /// The fill and completion rings that `sock` uses: the UMEM's own
    /// ([`Umem::rings`]) for a socket on the queue of the UMEM's first
    /// socket, its queue's pair for one elsewhere (shared by every socket of
    /// this UMEM on that queue). `EINVAL` for a socket of another UMEM.
    ///
    /// ```no_run
    /// use xsk_rs::socket::{Socket, SocketConfig};
    /// use xsk_rs::umem::{Umem, UmemConfig};
    /// let mut umem = Umem::new(&UmemConfig::default())?;
    /// let cfg = SocketConfig::lending(2048)?;
    /// let a = Socket::new("veth0", 0, &umem, &cfg)?;
    /// let b = Socket::new("veth2", 0, &umem, &cfg)?; // another interface
    /// // Lend the first 2048 frames to a's queue, the rest to b's.
    /// umem.fill().put(&(0..2048u32).map(|i| i as u64 * 4096).collect::<Vec<_>>());
    /// let (fill_b, _comp_b) = umem.rings_for(&b)?;
    /// fill_b.put(&(2048..4096u32).map(|i| i as u64 * 4096).collect::<Vec<_>>());
    /// # drop(a);
    /// # Ok::<(), xsk_rs::Error>(())
    /// ```
    pub fn rings_for(&mut self, sock: &crate::socket::Socket) -> Result<(&mut FillRing, &mut CompRing)> {
        let pool = sock.pool_of(&self.shared).ok_or_else(|| {
            Error::invalid(format!(
                "rings for the socket on {} queue {}: it was created on another umem",
                sock.ifname(),
                sock.queue_id()
            ))
        })?;
        // SAFETY: as in `rings`; the pool belongs to this UMEM.
        Ok(unsafe { (&mut *pool.fill_ptr(), &mut *pool.comp_ptr()) })
    }

    /// The fill ring for the C ABI, which lets one thread use it while others
    /// call `&self` methods (the rings are not `Sync`; the C caller keeps each
    /// one to a thread at a time, as the header says). Valid while `self` is.
    pub(crate) fn fill_ptr(&self) -> *mut FillRing {
        self.shared.primary.fill_ptr()
    }

    /// The completion ring for the C ABI (as [`Self::fill_ptr`]).
    pub(crate) fn comp_ptr(&self) -> *mut CompRing {
        self.shared.primary.comp_ptr()
    }

    /// Sockets currently created on this UMEM.
    pub fn socket_count(&self) -> usize {
        self.shared.sockets.load(Ordering::Acquire)
    }

    /// Fails with `EBUSY` while sockets still use this UMEM. The C ABI calls it
    /// before destroying; Rust users can drop a Umem at any time (sockets keep
    /// the fd and area alive).
    pub fn ensure_unused(&self) -> Result<()> {
        match self.socket_count() {
            0 => Ok(()),
            n => Err(Error::Busy(format!(
                "umem is still used by {n} socket{}; destroy {} first",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            ))),
        }
    }
}

/// Unaligned mode: the base address of a ring address (its low 48 bits).
pub fn extract_addr(addr: u64) -> u64 {
    addr & libc::XSK_UNALIGNED_BUF_ADDR_MASK
}

/// Unaligned mode: the offset a ring address carries in its top 16 bits.
pub fn extract_offset(addr: u64) -> u64 {
    addr >> libc::XSK_UNALIGNED_BUF_OFFSET_SHIFT
}

/// Unaligned mode: the area offset a ring address refers to (base plus offset).
pub fn add_offset_to_addr(addr: u64) -> u64 {
    extract_addr(addr) + extract_offset(addr)
}

/// Opens an AF_XDP fd, registers `area` on it and sets up and maps its fill
/// and completion rings.
fn register_fd(area: &Area, cfg: &UmemConfig, netns: NetnsId) -> Result<(XskFd, FillRing, CompRing)> {
    let fd = XskFd::open(netns, "")?;
    let (fill, comp) = setup_fd(fd.raw(), area, cfg)?;
    Ok((fd, fill, comp))
}

/// Registers `area` on the AF_XDP socket `raw` and sets up and maps its fill
/// and completion rings.
fn setup_fd(raw: RawFd, area: &Area, cfg: &UmemConfig) -> Result<(FillRing, CompRing)> {
    let mut flags = cfg.flags;
    if cfg.tx_metadata_len != 0 {
        // Before 6.8 the kernel ignores the field without a word: refuse
        // rather than register a UMEM whose descriptors would be misread.
        let what = format!("umem with tx_metadata_len {}", cfg.tx_metadata_len);
        crate::features::Feature::TxMetadata.require(&what)?;
        flags |= crate::features::tx_metadata_reg()?.unwrap_or(0);
    }
    if cfg.flags & UMEM_TX_SW_CSUM != 0 {
        crate::features::Feature::TxSwChecksum.require("umem flag TX_SW_CSUM")?;
    }
    // The whole struct, tx_metadata_len included: with a shorter optlen the
    // kernel reads only the v1 prefix and silently drops `flags`.
    let reg = libc::xdp_umem_reg {
        addr: area.base.as_ptr() as u64,
        len: area.len as u64,
        chunk_size: cfg.frame_size,
        headroom: cfg.frame_headroom,
        flags,
        tx_metadata_len: cfg.tx_metadata_len,
    };
    setsockopt(raw, libc::XDP_UMEM_REG, &reg, "register umem")?;
    map_umem_rings(raw, cfg, "")
}

/// Sets up and maps the fill and completion rings of `cfg`'s sizes on the
/// AF_XDP socket `raw`: the UMEM's own fd, or a socket that makes a pool of
/// its own on another queue (before its bind, as the kernel requires).
/// `ctx` prefixes the messages.
pub(crate) fn map_umem_rings(raw: RawFd, cfg: &UmemConfig, ctx: &str) -> Result<(FillRing, CompRing)> {
    set_ring_size(raw, libc::XDP_UMEM_FILL_RING, cfg.fill_size, size_of::<u64>(), &format!("{ctx}fill"))?;
    let what = format!("{ctx}completion");
    set_ring_size(raw, libc::XDP_UMEM_COMPLETION_RING, cfg.comp_size, size_of::<u64>(), &what)?;
    let off = mmap_offsets(raw)?;
    let fill = FillRing::map(raw, libc::XDP_UMEM_PGOFF_FILL_RING, &off.fr, cfg.fill_size, &format!("{ctx}fill ring"))?;
    let what = format!("{ctx}completion ring");
    let comp = CompRing::map(raw, libc::XDP_UMEM_PGOFF_COMPLETION_RING, &off.cr, cfg.comp_size, &what)?;
    Ok((fill, comp))
}

/// `setsockopt(SOL_XDP, opt, value)`.
pub(crate) fn setsockopt<T>(fd: RawFd, opt: libc::c_int, value: &T, what: &str) -> Result<()> {
    // SAFETY: value is a live T and the length is its size.
    let rc = unsafe {
        libc::setsockopt(fd, libc::SOL_XDP, opt, (value as *const T).cast(), size_of::<T>() as libc::socklen_t)
    };
    if rc != 0 {
        return Err(Error::last_os(what));
    }
    Ok(())
}

/// Sets the size of the `name` ring (`XDP_*_RING`) on `fd`: `size` entries of
/// `entry_size` bytes. Kernels before 6.3 allocate a ring as physically
/// contiguous pages, so a large ring (4 MiB or more with 4 KiB pages: 2^18
/// RX/TX or 2^19 fill/completion entries), or a smaller one in fragmented
/// memory, fails there with ENOMEM; the message says so.
pub(crate) fn set_ring_size(fd: RawFd, opt: libc::c_int, size: u32, entry_size: usize, name: &str) -> Result<()> {
    let what = format!("set {name} ring size {size}");
    match setsockopt(fd, opt, &size, &what) {
        Err(e) if e.errno() == libc::ENOMEM => Err(Error::from_errno(
            format!(
                "{what}: the kernel could not allocate its {} KiB of entries and header (kernels before 6.3 \
                 need a ring in physically contiguous pages, 4 MiB at most; use a smaller ring)",
                (size as usize * entry_size) >> 10
            ),
            libc::ENOMEM,
        )),
        r => r,
    }
}

/// `getsockopt(SOL_XDP, opt)` into a zeroed T; returns T and the length the
/// kernel wrote (older kernels write a shorter prefix of some structs).
///
/// # Safety
/// T must be a plain-integer kernel struct for which all-zero bytes are valid.
pub(crate) unsafe fn getsockopt<T>(fd: RawFd, opt: libc::c_int, what: &str) -> Result<(T, usize)> {
    let mut value: T = std::mem::zeroed();
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: value is a live T and len its size; the kernel writes at most len.
    let rc = libc::getsockopt(fd, libc::SOL_XDP, opt, (&mut value as *mut T).cast(), &mut len);
    if rc != 0 {
        return Err(Error::last_os(what));
    }
    Ok((value, len as usize))
}

pub(crate) fn mmap_offsets(fd: RawFd) -> Result<libc::xdp_mmap_offsets> {
    // SAFETY: xdp_mmap_offsets is plain integers.
    let (off, len) =
        unsafe { getsockopt::<libc::xdp_mmap_offsets>(fd, libc::XDP_MMAP_OFFSETS, "get ring mmap offsets")? };
    if len < size_of::<libc::xdp_mmap_offsets>() {
        return Err(Error::NotSupported(
            "kernel reports ring offsets without a flags word (pre-5.4); need_wakeup rings are required".into(),
        ));
    }
    Ok(off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(cfg: UmemConfig) -> String {
        let e = cfg.validate().unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
        e.to_string()
    }

    #[test]
    fn defaults_are_valid() {
        let d = UmemConfig::default();
        assert_eq!((d.frame_count, d.frame_size, d.fill_size, d.comp_size), (4096, 4096, 8192, 4096));
        d.validate().unwrap();
        UmemConfig { frame_size: 2048, ..d }.validate().unwrap();
    }

    #[test]
    fn lending_sizes_the_rings_for_every_frame() {
        let c = UmemConfig::lending(1000).unwrap();
        assert_eq!((c.frame_count, c.fill_size, c.comp_size), (1000, 2048, 1024));
        c.validate().unwrap();
        let c = UmemConfig::lending(1).unwrap();
        assert_eq!((c.fill_size, c.comp_size), (2, 1));
        assert!(UmemConfig::lending(MAX_LEND).is_ok());
        for bad in [0, MAX_LEND + 1, u32::MAX] {
            let e = UmemConfig::lending(bad).unwrap_err();
            assert!(e.to_string().contains(&format!("lend {bad} frames")), "{e}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let d = UmemConfig::default();
        assert!(err(UmemConfig { frame_size: 3000, ..d }).contains("frame size 3000"));
        assert!(err(UmemConfig { frame_size: 1024, ..d }).contains("frame size 1024"));
        assert!(err(UmemConfig { frame_size: 8192, ..d }).contains("frame size 8192"));
        assert!(err(UmemConfig { frame_headroom: 3840, ..d }).contains("headroom 3840"));
        assert!(err(UmemConfig { fill_size: 1000, ..d }).contains("fill ring size 1000"));
        assert!(err(UmemConfig { comp_size: 0, ..d }).contains("completion ring size 0"));
        assert!(err(UmemConfig { flags: 0x80, ..d }).contains("unknown bits 0x80"));
        UmemConfig { frame_headroom: 3839, ..d }.validate().unwrap();
    }

    #[test]
    fn unaligned_allows_any_size_in_range() {
        let d = UmemConfig { flags: UMEM_UNALIGNED_CHUNKS, frame_size: 3000, ..Default::default() };
        d.validate().unwrap();
    }

    #[test]
    fn unaligned_address_helpers() {
        let a = (0x123u64 << 48) | 0x4000;
        assert_eq!((extract_addr(a), extract_offset(a), add_offset_to_addr(a)), (0x4000, 0x123, 0x4123));
    }

    #[test]
    fn meminfo_fields_are_read_by_exact_name() {
        let text = "HugePages_Total:       4\nHugePages_Free:        3\nHugePages_Rsvd:        0\n\
                    Hugepagesize:       2048 kB\nHugetlb:            8192 kB\n";
        assert_eq!(meminfo_field(text, "Hugepagesize"), Some(2048));
        assert_eq!(meminfo_field(text, "Hugetlb"), Some(8192));
        assert_eq!(meminfo_field(text, "HugePages_Free"), Some(3));
        // A prefix of a name is not the name.
        assert_eq!(meminfo_field(text, "HugePages"), None);
        assert_eq!(meminfo_field(text, "Huge"), None);
        assert_eq!(meminfo_field(text, "MemTotal"), None);
    }

    #[test]
    fn area_size_overflow_is_rejected() {
        let c = UmemConfig { frame_count: 0, ..Default::default() };
        assert!(c.area_len().is_err());
    }
}
