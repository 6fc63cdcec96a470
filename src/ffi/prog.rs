//! The built-in XDP program held without a socket (`xsk_rs_prog`), for
//! callers that fill its XSKMAP themselves, as libxdp's `xsk_setup_xdp_prog`
//! does.

use super::handle::{to_box, try_box, try_ref};
use super::{c_str, fail, ffi_guard, misuse, refuse, status};
use crate::xdp::{Redirect, XdpMode};
use std::ffi::{c_char, c_int};

/// This process's built-in redirect program on one interface, with its
/// XSKMAP: the one its sockets there share. Created by `xsk_rs_prog_create`
/// or `xsk_rs_prog_find`, freed by `xsk_rs_prog_destroy`. Any thread.
pub struct xsk_rs_prog {
    _opaque: [u8; 0],
}

/// Attaches the built-in program to `ifname` (of the calling thread's
/// network namespace) in `mode` (`XSK_RS_XDP_MODE_AUTO`, `_SKB` or `_DRV`;
/// auto tries native and falls back to generic), or joins the one this
/// process has there (its sockets' program), or the one another xsk_rs
/// process attached there (found and recognised by the kernel's account of
/// it: see `xsk_rs_socket_create`), and writes a handle to `*out`.
/// The program stays attached while a handle or a socket of any of its
/// processes uses it, and the kernel detaches it when the last exits. Point its XSKMAP at sockets
/// created with `XSK_RS_XDP_MODE_NONE` through `xsk_rs_socket_update_xskmap`
/// and `xsk_rs_prog_xskmap_fd`. Returns 0, or -EINVAL (NULL, mode NONE or
/// unknown), -ENODEV, -EBUSY (another program is attached there, or this
/// process's, or another xsk_rs process's, runs in another mode than the one
/// asked for), -EPERM, ...
/// May wait up to 1 s while this process's own program there is being
/// released, as `xsk_rs_socket_create` does.
#[no_mangle]
pub extern "C" fn xsk_rs_prog_create(out: *mut *mut xsk_rs_prog, ifname: *const c_char, mode: c_int) -> c_int {
    const F: &str = "xsk_rs_prog_create";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let ifname = match unsafe { c_str(F, "ifname", ifname) } {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mode = match u32::try_from(mode).map_err(|_| ()).and_then(|m| XdpMode::try_from(m).map_err(|_| ())) {
            Ok(XdpMode::None) | Err(()) => {
                return misuse(F, &format!("mode {mode} is not XSK_RS_XDP_MODE_AUTO, _SKB or _DRV"));
            }
            Ok(m) => m,
        };
        publish(F, out, Redirect::attach(ifname, mode))
    })
}

/// Joins the program this process has attached on interface `ifindex` of
/// the calling thread's network namespace (by a socket or by
/// `xsk_rs_prog_create`) and writes a handle to `*out`. Returns 0, -ENOENT
/// when this process has no program attached there, or -EINVAL.
#[no_mangle]
pub extern "C" fn xsk_rs_prog_find(out: *mut *mut xsk_rs_prog, ifindex: c_int) -> c_int {
    const F: &str = "xsk_rs_prog_find";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let Ok(idx) = u32::try_from(ifindex) else { return misuse(F, &format!("ifindex {ifindex} is negative")) };
        match Redirect::find(idx) {
            Ok(Some(p)) => publish(F, out, Ok(p)),
            Ok(None) => refuse(F, &format!("this process has no XDP program attached on ifindex {idx}"), -libc::ENOENT),
            Err(e) => fail(F, e),
        }
    })
}

/// The program's XSKMAP fd (owned by the library, valid until the handle is
/// destroyed), or -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_prog_xskmap_fd(prog: *const xsk_rs_prog) -> c_int {
    ffi_guard!({
        match unsafe { try_ref(prog) } {
            Some(p) => p.xskmap_fd(),
            None => misuse("xsk_rs_prog_xskmap_fd", "prog is NULL"),
        }
    })
}

/// The interface's index, or -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_prog_ifindex(prog: *const xsk_rs_prog) -> c_int {
    ffi_guard!({
        match unsafe { try_ref(prog) } {
            Some(p) => p.ifindex() as c_int,
            None => misuse("xsk_rs_prog_ifindex", "prog is NULL"),
        }
    })
}

/// Detaches the program from its interface now, even while sockets or other
/// handles of this process use it (their packets stop being redirected), and
/// those of other processes that joined it; a later socket or
/// `xsk_rs_prog_create` there attaches a fresh one. The handle stays valid,
/// to destroy. 0 (also when it was detached already), -EBUSY when this
/// process joined the program from the xsk_rs process that attached it (only
/// that one may detach it for all; it goes when the last process lets go),
/// or another negative errno.
#[no_mangle]
pub extern "C" fn xsk_rs_prog_detach(prog: *mut xsk_rs_prog) -> c_int {
    const F: &str = "xsk_rs_prog_detach";
    ffi_guard!({
        match unsafe { try_ref(prog) } {
            Some(p) => status(F, p.detach()),
            None => misuse(F, "prog is NULL"),
        }
    })
}

/// Drops this reference: the program stays attached while other handles or
/// sockets use it. NULL is a no-op.
#[no_mangle]
pub extern "C" fn xsk_rs_prog_destroy(prog: *mut xsk_rs_prog) {
    ffi_guard!({
        // SAFETY: NULL or a live handle from xsk_rs_prog_create/find.
        drop(unsafe { try_box(prog) });
    })
}

fn publish(func: &str, out: *mut *mut xsk_rs_prog, r: crate::Result<Redirect>) -> c_int {
    match r {
        Ok(p) => {
            // SAFETY: the caller checked `out` is non-NULL.
            unsafe { *out = to_box(p) };
            0
        }
        Err(e) => fail(func, e),
    }
}
