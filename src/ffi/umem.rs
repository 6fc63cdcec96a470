//! C ABI for UMEMs: `xsk_rs_umem_*`.

use super::handle::{to_box, to_ref, try_box, try_ref};
use super::{
    config_fields, fail, ffi_guard, fields_tile, init_config, misuse, null_handle, read_config, set_last_error,
    SizedConfig,
};
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
    /// Fill ring entries, a power of two (default 2048). Lend the kernel at most
    /// half this many frames at once. The kernel publishes how far it has
    /// consumed the fill ring at the end of each receive batch, just after the
    /// RX entries, so a frame handed back the moment it arrives can find a full
    /// ring still full; the spare half guarantees room.
    pub fill_size: u32,
    /// Completion ring entries, a power of two (default 2048).
    pub comp_size: u32,
    /// 0 or `XSK_RS_UMEM_UNALIGNED_CHUNKS` (default 0).
    pub flags: u32,
}

impl SizedConfig for xsk_rs_umem_config {
    config_fields!(xsk_rs_umem_config {
        frame_count: u32,
        frame_size: u32,
        frame_headroom: u32,
        fill_size: u32,
        comp_size: u32,
        flags: u32,
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
        }
    }
}

const _: () = assert!(fields_tile(xsk_rs_umem_config::FIELDS, std::mem::size_of::<xsk_rs_umem_config>()));

impl From<xsk_rs_umem_config> for UmemConfig {
    fn from(c: xsk_rs_umem_config) -> Self {
        UmemConfig {
            frame_count: c.frame_count,
            frame_size: c.frame_size,
            frame_headroom: c.frame_headroom,
            fill_size: c.fill_size,
            comp_size: c.comp_size,
            flags: c.flags,
        }
    }
}

/// Fills `cfg` with the defaults: 4096 frames of 4096 bytes, no headroom, fill
/// and completion rings of 2048, no flags. Call it as
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
/// `frame_count * frame_size` bytes, and its fill and completion rings.
///
/// `out` must not be NULL; `*out` is written only on success. `cfg` may be NULL
/// for the defaults. Returns 0, or -EINVAL (bad config; the message names the
/// field), -ENOMEM, -EPERM, ...
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
        publish(F, out, Umem::new(&cfg.into()))
    })
}

/// Creates a UMEM over the caller's `area` of `size` bytes. The area must be
/// page-aligned and stay mapped until the UMEM is destroyed; the caller keeps
/// ownership (the library never frees it). With `cfg->frame_count == 0` (or
/// `cfg` NULL) the UMEM covers as many frames as fit in `size`.
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
        // SAFETY: the caller's contract, documented above.
        publish(F, out, unsafe { Umem::with_area(area.cast(), size, &c.into()) })
    })
}

/// Destroys a UMEM: unmaps its rings and (if the library owns it) its area,
/// closes its fd. Returns -EBUSY, and destroys nothing, while a socket still
/// uses it. NULL is a no-op returning 0.
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

/// The UMEM's AF_XDP fd (do not close it); -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_fd(umem: *const xsk_rs_umem) -> c_int {
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            Some(u) => u.fd(),
            None => misuse("xsk_rs_umem_fd", "umem is NULL"),
        }
    })
}

/// The UMEM's fill ring, borrowed: valid until the UMEM is destroyed. NULL for NULL.
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
}
