//! C ABI for UMEMs: `xsk_rs_umem_*`.

use super::handle::{to_box, to_ref, try_box, try_ref};
use super::{
    config_fields, fail, ffi_guard, fields_tile, init_config, misuse, null_handle, read_config, set_last_error,
    xsk_rs_socket_config, SizedConfig,
};
use crate::socket::SocketConfig;
use crate::umem::{self, Umem, UmemConfig};
use std::ffi::{c_int, c_void};

/// A registered UMEM: packet buffer area, fill ring and completion ring.
/// Created by `xsk_rs_umem_create*`, freed by `xsk_rs_umem_destroy`.
pub struct xsk_rs_umem {
    _opaque: [u8; 0],
}

/// Frames may start at any byte; ring addresses carry an offset in bits 48-63
/// (`XDP_UMEM_UNALIGNED_CHUNK_FLAG`). For `xsk_rs_umem_config.flags`.
pub const XSK_RS_UMEM_UNALIGNED_CHUNKS: u32 = 1 << 0;

/// In copy mode the kernel computes a requested TX checksum in software at
/// once, whatever the device offers (`XDP_UMEM_TX_SW_CSUM`, Linux 6.8;
/// -EOPNOTSUPP before). Needs `tx_metadata_len`. For
/// `xsk_rs_umem_config.flags`.
pub const XSK_RS_UMEM_TX_SW_CSUM: u32 = 1 << 1;
const _: () = assert!(XSK_RS_UMEM_TX_SW_CSUM == umem::UMEM_TX_SW_CSUM);

/// (A library bit, above the kernel's UMEM flags.) The area in huge pages of the default size (`MAP_HUGETLB`, from the pool
/// `vm.nr_hugepages` reserves): fewer TLB misses, and a faster set-up (one
/// page to fault in and pin per 2 MiB). `xsk_rs_umem_create` fails with
/// -ENOMEM, saying how many pages the area needs and how to reserve them,
/// when too few are free. Only for a library-owned area
/// (`xsk_rs_umem_create`). For `xsk_rs_umem_config.flags`.
pub const XSK_RS_UMEM_HUGE_PAGES: u32 = 1 << 16;

/// With `XSK_RS_UMEM_HUGE_PAGES`: ordinary pages when too few huge pages are
/// free (or the kernel has none), instead of -ENOMEM. For
/// `xsk_rs_umem_config.flags`.
pub const XSK_RS_UMEM_HUGE_PAGES_FALLBACK: u32 = 1 << 17;

const PAGE_FLAGS: u32 = XSK_RS_UMEM_HUGE_PAGES | XSK_RS_UMEM_HUGE_PAGES_FALLBACK;

/// Which pages the flags of a config for `func` ask for: refuses the huge
/// page flags where the caller brings the area (`own_area` false), and the
/// fallback without huge pages.
fn pages_of(func: &str, flags: u32, own_area: bool) -> Result<umem::Pages, c_int> {
    let bad = |why: &str| Err(misuse(func, &format!("umem flags {flags:#x}: {why}")));
    match (flags & XSK_RS_UMEM_HUGE_PAGES != 0, flags & XSK_RS_UMEM_HUGE_PAGES_FALLBACK != 0) {
        (false, false) => Ok(umem::Pages::Base),
        _ if !own_area => bad("huge page flags are for xsk_rs_umem_create; the caller's area has its own pages"),
        (false, true) => bad("XSK_RS_UMEM_HUGE_PAGES_FALLBACK without XSK_RS_UMEM_HUGE_PAGES"),
        (true, false) => Ok(umem::Pages::Huge),
        (true, true) => Ok(umem::Pages::HugeOrBase),
    }
}

/// UMEM configuration. Fill it with `xsk_rs_umem_config_init()`, then change
/// fields. `sz` lets the struct grow in later versions without breaking built
/// programs, by the rule of the config structs (see the conventions at the
/// top of this header): fields are only appended, with no implicit padding
/// (any gap is a `reserved` field), and `sz` must be the end of a field this
/// library knows, or a size larger than its struct (a multiple of 4) with
/// every byte past it 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xsk_rs_umem_config {
    /// `sizeof(xsk_rs_umem_config)` as the caller was built with it, set by
    /// `xsk_rs_umem_config_init()`.
    pub sz: usize,
    /// Number of frames (default 4096). With `xsk_rs_umem_create_with_area`,
    /// 0 means as many as fit in the area.
    pub frame_count: u32,
    /// Bytes per frame: a power of two from 2048 to the page size, so 2048 or
    /// 4096 with 4 KiB pages (default 4096); with
    /// `XSK_RS_UMEM_UNALIGNED_CHUNKS` any size from 2048 to the page size.
    pub frame_size: u32,
    /// Bytes left free before received data in each frame (default 0); must be
    /// below `frame_size - 256`. The kernel keeps 256 bytes
    /// (`XDP_PACKET_HEADROOM`) in front of these: in aligned mode received data
    /// starts `256 + frame_headroom` bytes into its frame (`addr % frame_size`),
    /// and longer packets than `frame_size - 256 - frame_headroom` are dropped
    /// (counted in `rx_dropped`).
    pub frame_headroom: u32,
    /// Fill ring entries, a power of two (default 8192).
    ///
    /// The lending rule: lend the kernel at most half this many frames at
    /// once (a frame is lent from the fill call that hands it over until it
    /// comes back on the RX ring). The kernel publishes how far it has
    /// consumed the fill ring at the end of each receive batch, just after
    /// the RX entries, so a frame handed back the moment it arrives can find
    /// a full ring still full; the spare half guarantees room (xdpsock sizes
    /// its fill ring the same way). `xsk_rs_config_lend` sizes this ring, the
    /// completion ring and a socket's rings for a number of frames; the
    /// defaults let all 4096 default frames be lent at once.
    pub fill_size: u32,
    /// Completion ring entries, a power of two (default 4096).
    pub comp_size: u32,
    /// `XSK_RS_UMEM_*` flags: `XSK_RS_UMEM_UNALIGNED_CHUNKS`,
    /// `XSK_RS_UMEM_TX_SW_CSUM`, and for `xsk_rs_umem_create`
    /// `XSK_RS_UMEM_HUGE_PAGES` and `XSK_RS_UMEM_HUGE_PAGES_FALLBACK`
    /// (default 0).
    pub flags: u32,
    /// Bytes of TX metadata (`struct xsk_tx_metadata`, see
    /// `xsk_rs_tx_metadata_request`) in front of every TX packet, Linux 6.8
    /// and later: 0 (default, none) or a multiple of 8 from 24 to 248. With
    /// it every TX descriptor's address must lie at least this many bytes
    /// into its frame (the kernel counts others in `tx_invalid_descs`). On a
    /// kernel before 6.8, which would ignore it, creation fails with
    /// -EOPNOTSUPP naming 6.8.
    pub tx_metadata_len: u32,
    /// Must be 0 (`xsk_rs_umem_config_init` sets it): it keeps the struct
    /// free of padding.
    pub reserved: u32,
}

impl SizedConfig for xsk_rs_umem_config {
    config_fields!(xsk_rs_umem_config {
        frame_count: u32,
        frame_size: u32,
        frame_headroom: u32,
        fill_size: u32,
        comp_size: u32,
        flags: u32,
        tx_metadata_len: u32,
        reserved: u32,
    });
    fn defaults() -> Self {
        let d = UmemConfig::default();
        xsk_rs_umem_config {
            sz: std::mem::size_of::<Self>(),
            frame_count: d.frame_count,
            frame_size: d.frame_size,
            frame_headroom: d.frame_headroom,
            fill_size: d.fill_size,
            comp_size: d.comp_size,
            flags: d.flags,
            tx_metadata_len: d.tx_metadata_len,
            reserved: 0,
        }
    }
}

const _: () = assert!(fields_tile(xsk_rs_umem_config::FIELDS, std::mem::size_of::<xsk_rs_umem_config>()));

impl TryFrom<xsk_rs_umem_config> for UmemConfig {
    type Error = crate::Error;
    fn try_from(c: xsk_rs_umem_config) -> crate::Result<Self> {
        if c.reserved != 0 {
            return Err(crate::Error::invalid(format!(
                "umem config field reserved is {:#x}; it must be 0 (xsk_rs_umem_config_init sets it)",
                c.reserved
            )));
        }
        Ok(UmemConfig {
            frame_count: c.frame_count,
            frame_size: c.frame_size,
            frame_headroom: c.frame_headroom,
            fill_size: c.fill_size,
            comp_size: c.comp_size,
            // How the area is backed is the create call's business.
            flags: c.flags & !PAGE_FLAGS,
            tx_metadata_len: c.tx_metadata_len,
        })
    }
}

/// Fills `cfg` with the defaults: 4096 frames of 4096 bytes, no headroom, a
/// fill ring of 8192 and a completion ring of 4096 (what
/// `xsk_rs_config_lend(cfg, NULL, 4096)` gives: every frame can be lent at
/// once), no flags. Call it as
/// `xsk_rs_umem_config_init(&cfg, sizeof(cfg))`: the library writes no more
/// than `sz` bytes, zeroes any bytes past its own struct (fields of a later
/// version, 0 by default) and records `sz` in `cfg->sz`, so a program built
/// against this header keeps working with later libraries, and one built
/// against a later header with this library. Returns 0, or -EINVAL (`cfg`
/// NULL, or `sz` not a struct size: it cuts a field, is smaller than `sz` and
/// one field, is larger than this struct but no multiple of 4, or is larger
/// than 4096), leaving `*cfg` untouched. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_config_init(cfg: *mut xsk_rs_umem_config, sz: usize) -> c_int {
    ffi_guard!({ unsafe { init_config("xsk_rs_umem_config_init", cfg, sz) } })
}

/// Sizes a UMEM and a socket so that `frames` frames can all be lent to the
/// kernel at once (see `xsk_rs_umem_config.fill_size`): sets
/// `ucfg->frame_count` to `frames`, `ucfg->fill_size` to twice `frames`, and
/// `ucfg->comp_size`, `scfg->rx_size` and `scfg->tx_size` to `frames`, each
/// ring rounded up to a power of two. For example 1000 frames give a fill
/// ring of 2048 and completion, RX and TX rings of 1024; the defaults are
/// what 4096 gives. No other field changes: set `rx_size` or `tx_size` to 0
/// afterwards for a socket without that ring.
///
/// Either config may be NULL, not both. Each must have been filled by its
/// `*_config_init` first (its `sz` a struct size that holds the fields
/// written, as every `sizeof` of this header or a later one does). Returns 0,
/// or -EINVAL with a message, writing nothing: `frames` is 0 or above 2^29
/// (the fill ring would pass 2^30 entries), both configs are NULL, or a
/// `sz` is not such a size. No syscall; any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_config_lend(
    ucfg: *mut xsk_rs_umem_config,
    scfg: *mut xsk_rs_socket_config,
    frames: u32,
) -> c_int {
    const F: &str = "xsk_rs_config_lend";
    ffi_guard!({
        if ucfg.is_null() && scfg.is_null() {
            return misuse(F, "ucfg and scfg are both NULL: nothing to size");
        }
        // SAFETY: NULL or a config the caller initialised: its sz is readable.
        let covered = unsafe {
            sz_covers(ucfg, std::mem::offset_of!(xsk_rs_umem_config, comp_size) + 4)
                .map_err(|sz| ("ucfg", "xsk_rs_umem_config_init", sz))
                .and_then(|()| {
                    sz_covers(scfg, std::mem::offset_of!(xsk_rs_socket_config, tx_size) + 4)
                        .map_err(|sz| ("scfg", "xsk_rs_socket_config_init", sz))
                })
        };
        if let Err((which, init, sz)) = covered {
            return misuse(
                F,
                &format!("{which}->sz {sz} is not the size of an initialised config: fill it with {init}(cfg, sizeof(*cfg)) first"),
            );
        }
        let (u, s) = match UmemConfig::lending(frames).and_then(|u| Ok((u, SocketConfig::lending(frames)?))) {
            Ok(both) => both,
            Err(e) => return fail(F, e),
        };
        // SAFETY: each non-NULL config holds the fields written (checked
        // above), perhaps not the whole struct (an older caller's): write
        // the fields through raw pointers, never a reference to the struct.
        unsafe {
            use std::ptr::addr_of_mut;
            if !ucfg.is_null() {
                addr_of_mut!((*ucfg).frame_count).write_unaligned(u.frame_count);
                addr_of_mut!((*ucfg).fill_size).write_unaligned(u.fill_size);
                addr_of_mut!((*ucfg).comp_size).write_unaligned(u.comp_size);
            }
            if !scfg.is_null() {
                addr_of_mut!((*scfg).rx_size).write_unaligned(s.rx_size);
                addr_of_mut!((*scfg).tx_size).write_unaligned(s.tx_size);
            }
        }
        0
    })
}

/// `Ok` for NULL, or for a config whose `sz` is a struct size (see
/// [`SizedConfig`]) of at least `end` bytes; else `Err(sz)`.
///
/// # Safety
/// `cfg` is NULL or points to at least a readable `sz` word.
unsafe fn sz_covers<T: SizedConfig>(cfg: *const T, end: usize) -> Result<(), usize> {
    if cfg.is_null() {
        return Ok(());
    }
    let sz = cfg.cast::<usize>().read_unaligned();
    if super::config_sz_ok::<T>(sz) && sz >= end {
        Ok(())
    } else {
        Err(sz)
    }
}

fn publish(func: &str, out: *mut *mut xsk_rs_umem, r: crate::Result<Umem>) -> c_int {
    match r {
        Ok(u) => {
            // SAFETY: the caller checked `out` is non-NULL.
            unsafe { *out = to_box(u) };
            0
        }
        Err(e) => fail(func, e),
    }
}

/// Creates a UMEM with a library-owned, pre-faulted area of
/// `frame_count * frame_size` bytes, and its fill and completion rings, in
/// the calling thread's network namespace (create its sockets there).
///
/// Blocking: it maps the whole area and faults every page in before it
/// returns, and the kernel pins them at registration, so it takes time in
/// proportion to the area's size (16 MiB by default). A forked child gets
/// zeroed memory in place of the area (see the fork rule in the header's
/// opening comment).
///
/// `out` must not be NULL; `*out` is written only on success. `cfg` may be NULL
/// for the defaults. Any thread. Returns 0, or -EINVAL (bad config; the
/// message names the field), -ENOMEM, -EPERM, -EMFILE, ...
#[no_mangle]
pub extern "C" fn xsk_rs_umem_create(out: *mut *mut xsk_rs_umem, cfg: *const xsk_rs_umem_config) -> c_int {
    const F: &str = "xsk_rs_umem_create";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let cfg = match unsafe { read_config(F, cfg) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        let pages = match pages_of(F, cfg.flags, true) {
            Ok(p) => p,
            Err(e) => return e,
        };
        publish(F, out, UmemConfig::try_from(cfg).and_then(|c| Umem::with_pages(&c, pages)))
    })
}

/// Creates a UMEM over the caller's `area` of `size` bytes. The area must be
/// page-aligned and stay mapped until the UMEM is destroyed; the caller keeps
/// ownership (the library never frees it, and a forked child keeps whatever
/// fork gives it of the area). With `cfg->frame_count == 0` (or `cfg` NULL)
/// the UMEM covers as many frames as fit in `size`. The kernel pins the
/// area's pages at registration, faulting in those not yet present: the time
/// grows with the area's size. Otherwise as `xsk_rs_umem_create`.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_create_with_area(
    out: *mut *mut xsk_rs_umem,
    area: *mut c_void,
    size: u64,
    cfg: *const xsk_rs_umem_config,
) -> c_int {
    const F: &str = "xsk_rs_umem_create_with_area";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let mut c = match unsafe { read_config(F, cfg) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if cfg.is_null() {
            c.frame_count = 0;
        }
        if let Err(e) = pages_of(F, c.flags, false) {
            return e;
        }
        // SAFETY: the caller's contract, documented above.
        publish(F, out, UmemConfig::try_from(c).and_then(|c| unsafe { Umem::with_area(area.cast(), size, &c) }))
    })
}

/// Creates a UMEM over the caller's `area`, as `xsk_rs_umem_create_with_area`,
/// registered on the caller's AF_XDP socket `fd` (libxdp's
/// `xsk_umem__create_with_fd`): an AF_XDP socket with no UMEM yet, which
/// becomes the UMEM's fd (`xsk_rs_umem_fd`), bound by its first socket.
/// The UMEM belongs to the network namespace the fd was created in: create
/// its sockets from a thread there.
/// On success the UMEM owns `fd` and closes it when destroyed; on failure the
/// caller keeps it (a UMEM the kernel registered on it before the failure
/// stays registered). Returns 0, or -EBADF, -EINVAL (not an AF_XDP socket,
/// bad area or config), -ENOTSOCK (not a socket), -EBUSY (the fd has a UMEM
/// already), -ENOMEM, ...
#[no_mangle]
pub extern "C" fn xsk_rs_umem_create_with_fd(
    out: *mut *mut xsk_rs_umem,
    fd: c_int,
    area: *mut c_void,
    size: u64,
    cfg: *const xsk_rs_umem_config,
) -> c_int {
    const F: &str = "xsk_rs_umem_create_with_fd";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        if fd < 0 {
            return misuse(F, &format!("fd {fd} is not a file descriptor"));
        }
        let mut c = match unsafe { read_config(F, cfg) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        if cfg.is_null() {
            c.frame_count = 0;
        }
        if let Err(e) = pages_of(F, c.flags, false) {
            return e;
        }
        // SAFETY: the caller's contract on the area and the fd, documented
        // above; the UMEM takes the fd only once it is made.
        let c = match UmemConfig::try_from(c) {
            Ok(c) => c,
            Err(e) => return fail(F, e),
        };
        match unsafe { Umem::with_raw_fd(fd, area.cast(), size, &c) } {
            Ok(u) => publish(F, out, Ok(u)),
            Err(e) => fail(F, e),
        }
    })
}

/// Destroys a UMEM: unmaps its rings and (if the library owns it) its area,
/// closes its fd. Returns -EBUSY, and destroys nothing, while a socket still
/// uses it. NULL is a no-op returning 0. Does not sleep.
///
/// If the UMEM's fd was bound (by its first socket), closing it frees that
/// queue: the kernel releases it one RCU grace period later, and a bind in
/// this or another process that finds no live AF_XDP socket holding the
/// queue waits for that (see `xsk_rs_socket_create`). In a forked child,
/// destroying an inherited UMEM frees only the child's memory.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_destroy(umem: *mut xsk_rs_umem) -> c_int {
    const F: &str = "xsk_rs_umem_destroy";
    ffi_guard!({
        let Some(u) = (unsafe { try_ref(umem) }) else { return 0 };
        if let Err(e) = u.ensure_unused() {
            return fail(F, e);
        }
        // SAFETY: a live handle from xsk_rs_umem_create*, unused by any socket.
        drop(unsafe { try_box(umem) });
        0
    })
}

/// Start of the UMEM area; NULL for a NULL handle.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_area(umem: *const xsk_rs_umem) -> *mut c_void {
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            Some(u) => u.area().cast(),
            None => null_handle("xsk_rs_umem_area", std::ptr::null_mut()),
        }
    })
}

/// Registered size of the area in bytes (`frame_count * frame_size`, never 0);
/// 0 for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_size(umem: *const xsk_rs_umem) -> u64 {
    ffi_guard!({ unsafe { try_ref(umem) }.map_or_else(|| null_handle("xsk_rs_umem_size", 0), |u| u.size()) })
}

/// Bytes per frame (never 0); 0 for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_frame_size(umem: *const xsk_rs_umem) -> u32 {
    ffi_guard!({
        unsafe { try_ref(umem) }.map_or_else(|| null_handle("xsk_rs_umem_frame_size", 0), |u| u.frame_size())
    })
}

/// Number of frames (never 0); 0 for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_frame_count(umem: *const xsk_rs_umem) -> u32 {
    ffi_guard!({
        unsafe { try_ref(umem) }.map_or_else(|| null_handle("xsk_rs_umem_frame_count", 0), |u| u.frame_count())
    })
}

/// Bytes left free before received data in each frame, as configured
/// (`frame_headroom`; may be 0); -EINVAL for NULL. Received data starts
/// `256 + headroom` bytes into its frame (`XDP_PACKET_HEADROOM`).
#[no_mangle]
pub extern "C" fn xsk_rs_umem_frame_headroom(umem: *const xsk_rs_umem) -> c_int {
    const F: &str = "xsk_rs_umem_frame_headroom";
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            // Below frame_size - 256 <= the page size: it fits.
            Some(u) => c_int::try_from(u.frame_headroom()).unwrap_or(c_int::MAX),
            None => misuse(F, "umem is NULL"),
        }
    })
}

/// The address of the frame that ring address `addr` lies in: the address to
/// hand back on the fill ring (or reuse for TX) once its packet is done with.
/// Aligned mode: `addr - addr % frame_size`; unaligned mode
/// (`XSK_RS_UMEM_UNALIGNED_CHUNKS`): the chunk's base address,
/// `xsk_rs_umem_extract_addr(addr)`. Arithmetic only: it does not check that
/// `addr` lies inside the UMEM. `UINT64_MAX` (no address) for a NULL `umem`.
/// Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_frame_start(umem: *const xsk_rs_umem, addr: u64) -> u64 {
    const F: &str = "xsk_rs_umem_frame_start";
    ffi_guard!(u64::MAX, {
        match unsafe { try_ref(umem) } {
            Some(u) => u.frame_start(addr),
            None => null_handle(F, u64::MAX),
        }
    })
}

/// Unaligned mode: the base address a ring address carries in its low 48
/// bits (libxdp's `xsk_umem__extract_addr`). A plain function of `addr`.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_extract_addr(addr: u64) -> u64 {
    ffi_guard!({ umem::extract_addr(addr) })
}

/// Unaligned mode: the offset a ring address carries in its top 16 bits
/// (libxdp's `xsk_umem__extract_offset`). A plain function of `addr`.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_extract_offset(addr: u64) -> u64 {
    ffi_guard!({ umem::extract_offset(addr) })
}

/// Unaligned mode: the offset into the UMEM area that a ring address refers
/// to, its base address plus its offset (libxdp's
/// `xsk_umem__add_offset_to_addr`). A plain function of `addr`.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_add_offset_to_addr(addr: u64) -> u64 {
    ffi_guard!({ umem::add_offset_to_addr(addr) })
}

/// Pointer to the byte at ring address `addr` (an RX descriptor's `addr`, a
/// frame address for TX); NULL when `addr` lies outside the area or `umem` is NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_data(umem: *const xsk_rs_umem, addr: u64) -> *mut c_void {
    const F: &str = "xsk_rs_umem_data";
    ffi_guard!({
        let Some(u) = (unsafe { try_ref(umem) }) else { return null_handle(F, std::ptr::null_mut()) };
        match u.data_ptr(addr) {
            Some(p) => p.as_ptr().cast(),
            None => {
                set_last_error(format!("{F}: address {addr:#x} is outside the umem ({} bytes)", u.size()));
                std::ptr::null_mut()
            }
        }
    })
}

/// The UMEM's AF_XDP fd (do not close it); -EINVAL for NULL. The UMEM's
/// first socket binds it, and it stays bound until the UMEM is destroyed
/// (see `xsk_rs_socket_destroy`). Until that bind it can change: a socket
/// create that fails after setting ring sizes on it, followed by one that
/// asks for other sizes, registers the UMEM anew on a fresh fd (see
/// `xsk_rs_socket_create`).
#[no_mangle]
pub extern "C" fn xsk_rs_umem_fd(umem: *const xsk_rs_umem) -> c_int {
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            Some(u) => u.fd(),
            None => misuse("xsk_rs_umem_fd", "umem is NULL"),
        }
    })
}

/// The UMEM's fill ring, borrowed: valid until the UMEM is destroyed (also
/// when the UMEM is registered anew on a fresh fd). NULL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_fill(umem: *mut xsk_rs_umem) -> *mut super::xsk_rs_fill {
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            Some(u) => to_ref(u.fill_ptr()),
            None => null_handle("xsk_rs_umem_fill", std::ptr::null_mut()),
        }
    })
}

/// The UMEM's completion ring, borrowed: valid until the UMEM is destroyed. NULL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_comp(umem: *mut xsk_rs_umem) -> *mut super::xsk_rs_comp {
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            Some(u) => to_ref(u.comp_ptr()),
            None => null_handle("xsk_rs_umem_comp", std::ptr::null_mut()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_core() {
        assert_eq!(XSK_RS_UMEM_UNALIGNED_CHUNKS, crate::umem::UMEM_UNALIGNED_CHUNKS);
    }

    /// init writes no more than the caller's size: an old program's shorter
    /// struct is filled up to its end, a newer program's longer one gets zeros
    /// past what this version knows, and either reads back as the defaults.
    #[test]
    fn config_init_honours_the_callers_size() {
        let ours = std::mem::size_of::<xsk_rs_umem_config>();
        let d = xsk_rs_umem_config::defaults();
        for sz in [16, ours, ours + 24] {
            let mut buf = [0xAAu8; 128];
            let p = buf.as_mut_ptr().cast::<xsk_rs_umem_config>();
            assert_eq!(xsk_rs_umem_config_init(p, sz), 0, "sz {sz}");
            assert!(buf[sz..].iter().all(|&b| b == 0xAA), "sz {sz}: wrote past the caller's struct");
            assert!(buf[ours.min(sz)..sz].iter().all(|&b| b == 0), "sz {sz}: unknown tail not zeroed");
            assert_eq!(usize::from_ne_bytes(buf[..8].try_into().unwrap()), sz);
            let got = unsafe { read_config("t", p.cast_const()) }.unwrap();
            assert_eq!(
                (got.frame_count, got.frame_size, got.fill_size, got.comp_size),
                (d.frame_count, d.frame_size, d.fill_size, d.comp_size),
                "sz {sz}"
            );
        }
        assert_eq!(xsk_rs_umem_config_init(std::ptr::null_mut(), ours), -libc::EINVAL);
        let mut c = d;
        assert_eq!(xsk_rs_umem_config_init(&mut c, 4), -libc::EINVAL);
        assert_eq!(xsk_rs_umem_config_init(&mut c, 1 << 20), -libc::EINVAL);
    }

    fn last_error() -> String {
        unsafe { std::ffi::CStr::from_ptr(super::super::xsk_rs_last_error()) }.to_string_lossy().into_owned()
    }

    /// lend sets exactly the five sizes, through the Rust `lending`; the
    /// defaults are lend(4096); every refusal names its cause and writes nothing.
    #[test]
    fn config_lend_sizes_the_rings() {
        use super::super::xsk_rs_socket_config_init;
        let init = || {
            let mut u = xsk_rs_umem_config::defaults();
            let mut s = xsk_rs_socket_config::defaults();
            assert_eq!(xsk_rs_umem_config_init(&mut u, std::mem::size_of_val(&u)), 0);
            assert_eq!(xsk_rs_socket_config_init(&mut s, std::mem::size_of_val(&s)), 0);
            (u, s)
        };
        let sizes = |u: &xsk_rs_umem_config, s: &xsk_rs_socket_config| {
            (u.frame_count, u.fill_size, u.comp_size, s.rx_size, s.tx_size)
        };
        let (d_u, d_s) = init();
        let (mut u, mut s) = init();
        assert_eq!(xsk_rs_config_lend(&mut u, &mut s, 4096), 0);
        assert_eq!(sizes(&u, &s), sizes(&d_u, &d_s), "the defaults lend 4096 frames");

        let (mut u, mut s) = init();
        (u.frame_size, u.frame_headroom, u.flags) = (2048, 64, 1);
        (s.bind_flags, s.xdp_mode, s.tx_budget) = (0, 3, 64);
        assert_eq!(xsk_rs_config_lend(&mut u, &mut s, 1000), 0);
        assert_eq!(sizes(&u, &s), (1000, 2048, 1024, 1024, 1024));
        let want_u = UmemConfig::lending(1000).unwrap();
        let want_s = SocketConfig::lending(1000).unwrap();
        assert_eq!((u.fill_size, u.comp_size, s.rx_size), (want_u.fill_size, want_u.comp_size, want_s.rx_size));
        assert_eq!((u.frame_size, u.frame_headroom, u.flags), (2048, 64, 1), "other umem fields untouched");
        assert_eq!((s.bind_flags, s.xdp_mode, s.tx_budget), (0, 3, 64), "other socket fields untouched");

        // Either may be NULL.
        let (mut u, _) = init();
        assert_eq!(xsk_rs_config_lend(&mut u, std::ptr::null_mut(), 1), 0);
        assert_eq!((u.frame_count, u.fill_size, u.comp_size), (1, 2, 1));
        let (_, mut s) = init();
        assert_eq!(xsk_rs_config_lend(std::ptr::null_mut(), &mut s, 3), 0);
        assert_eq!((s.rx_size, s.tx_size), (4, 4));

        // Refusals: -EINVAL, a message, nothing written.
        let refused = |u: *mut xsk_rs_umem_config, s: *mut xsk_rs_socket_config, frames: u32, what: &str| {
            assert_eq!(xsk_rs_config_lend(u, s, frames), -libc::EINVAL, "{what}");
            let m = last_error();
            assert!(m.starts_with("xsk_rs_config_lend: ") && m.contains(what), "{m}");
        };
        refused(std::ptr::null_mut(), std::ptr::null_mut(), 64, "both NULL");
        for bad in [0, crate::umem::MAX_LEND + 1, u32::MAX] {
            let (mut u, mut s) = init();
            refused(&mut u, &mut s, bad, &format!("lend {bad} frames"));
            assert_eq!(sizes(&u, &s), sizes(&d_u, &d_s));
        }
        // A sz no init gives, one too short to hold comp_size (an init of 12
        // bytes, frame_count alone), and the same for the socket config.
        for sz in [0, 7, 12, 20, usize::MAX] {
            let (mut u, mut s) = init();
            u.sz = sz;
            refused(&mut u, &mut s, 64, &format!("ucfg->sz {sz} "));
            assert!(last_error().contains("xsk_rs_umem_config_init"), "{}", last_error());
            assert_eq!(sizes(&u, &s), sizes(&d_u, &d_s));
        }
        for sz in [0, 12, 15, 4097] {
            let (mut u, mut s) = init();
            s.sz = sz;
            refused(&mut u, &mut s, 64, &format!("scfg->sz {sz} "));
            assert_eq!(sizes(&u, &s), sizes(&d_u, &d_s), "nothing written to ucfg either");
        }
        // The shortest struct that holds the fields is enough, and a newer,
        // longer one too; lend writes nothing past comp_size / tx_size.
        let mut u = xsk_rs_umem_config::defaults();
        assert_eq!(xsk_rs_umem_config_init(&mut u, 28), 0);
        u.flags = 0xAA;
        assert_eq!(xsk_rs_config_lend(&mut u, std::ptr::null_mut(), 8), 0);
        assert_eq!((u.frame_count, u.fill_size, u.comp_size, u.flags), (8, 16, 8, 0xAA));
        let mut s = xsk_rs_socket_config::defaults();
        s.sz = std::mem::size_of_val(&s) + 8;
        assert_eq!(xsk_rs_config_lend(std::ptr::null_mut(), &mut s, 8), 0);
    }
}
