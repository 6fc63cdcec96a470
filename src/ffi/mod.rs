//! The C ABI. Placeholder so the build, header and install can be developed;
//! the real FFI layer replaces this file.
//!
//! `build.rs` feeds this file (and every `mod` it declares) to cbindgen, and
//! nothing else, so only items defined under `src/ffi/` reach `xsk_rs.h`.

#![allow(non_camel_case_types)]

use std::ffi::c_char;

/// ABI revision of this header. Bumped on any incompatible change.
pub const XSK_RS_ABI_VERSION: u32 = 0;

/// A UMEM: the packet buffer area shared with the kernel. Opaque to C.
pub struct xsk_rs_umem {
    _private: (),
}

/// One RX/TX ring entry, laid out as the kernel's `struct xdp_desc`.
#[repr(C)]
pub struct xsk_rs_desc {
    /// Offset of the packet in the UMEM.
    pub addr: u64,
    /// Length of the packet in bytes.
    pub len: u32,
    /// `XDP_PKT_CONTD` and friends; 0 for a whole packet.
    pub options: u32,
}

/// The library version as a static NUL-terminated string, e.g. `"0.1.0"`.
/// Never NULL; the caller must not free it. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Length of `desc`'s packet, or 0 if `desc` is NULL.
///
/// # Safety
/// `desc` is NULL or points to a valid `xsk_rs_desc`.
#[no_mangle]
pub unsafe extern "C" fn xsk_rs_desc_len(desc: *const xsk_rs_desc) -> u32 {
    if desc.is_null() {
        return 0;
    }
    (*desc).len
}

/// Destroys `umem`. Placeholder: does nothing. `NULL` is a no-op.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_destroy(umem: *mut xsk_rs_umem) {
    let _ = umem;
}
