//! The XDP side of AF_XDP, without libbpf: the XSKMAP, the built-in redirect
//! program, and the bpf link that attaches it to an interface.
//!
//! An AF_XDP socket only receives what an XDP program on its interface redirects
//! into it. The built-in program sends each packet to the socket registered for
//! its RX queue in an XSKMAP and lets everything else through (`XDP_PASS`).
//!
//! - [`XskMap`], [`Program`], [`Link`]: the low-level pieces, also for users who
//!   bring their own program ([`update_xskmap`] fills their own map).
//! - [`Redirect`]: the built-in program held without a socket.
//! - `Attachment`: what sockets use. All sockets of this process on one interface
//!   share one program and one map; the last one to go closes the link, and the
//!   kernel detaches the program. Where another xsk_rs process attached it, this
//!   process joins it (`join`): it holds the same link and map by id, and the
//!   program goes with the last process's link fd.
//!
//! Everything talks to bpf(2) directly; there is no ELF object, no bpffs pin and
//! no netlink attachment that could outlive the process.

mod attach;
pub mod insn;
mod join;
#[cfg(test)]
mod kernel_tests;
mod link;
mod map;
mod program;
mod redirect;

pub(crate) use attach::{registry, Attachment, Registry};
pub use link::Link;
pub use map::{update_xskmap, XskMap};
pub(crate) use program::probe_frags;
pub use program::{redirect_insns, Program};
pub use redirect::Redirect;

use crate::error::{Error, Result};
use crate::sys;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Where the XDP program runs. The discriminants are part of the C ABI.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum XdpMode {
    /// Native if the driver supports it, generic otherwise.
    #[default]
    Auto = 0,
    /// Generic XDP (`XDP_FLAGS_SKB_MODE`): works on every device, after the skb
    /// has been allocated, so only copy mode.
    Skb = 1,
    /// Native XDP in the driver (`XDP_FLAGS_DRV_MODE`); needed for zero-copy.
    Drv = 2,
    /// Attach nothing: the user's own program redirects into the sockets.
    None = 3,
}

impl TryFrom<u32> for XdpMode {
    type Error = Error;

    fn try_from(v: u32) -> Result<XdpMode> {
        match v {
            0 => Ok(XdpMode::Auto),
            1 => Ok(XdpMode::Skb),
            2 => Ok(XdpMode::Drv),
            3 => Ok(XdpMode::None),
            _ => Err(Error::invalid(format!("XDP mode {v} is not one of 0 (auto), 1 (skb), 2 (drv), 3 (none)"))),
        }
    }
}

impl fmt::Display for XdpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            XdpMode::Auto => "auto",
            XdpMode::Skb => "skb",
            XdpMode::Drv => "drv",
            XdpMode::None => "none",
        })
    }
}

/// Runs a bpf(2) command. Returns the syscall's value, or the errno read right
/// after the call.
///
/// # Safety
/// As for [`sys::bpf`].
unsafe fn bpf_raw<T>(cmd: libc::c_int, attr: &mut T) -> std::result::Result<libc::c_long, i32> {
    let rc = sys::bpf(cmd, attr);
    if rc < 0 {
        Err(crate::error::errno())
    } else {
        Ok(rc)
    }
}

/// Runs a bpf(2) command that returns a new fd (always O_CLOEXEC).
///
/// # Safety
/// As for [`sys::bpf`].
unsafe fn bpf_fd<T>(cmd: libc::c_int, attr: &mut T) -> std::result::Result<OwnedFd, i32> {
    let fd = bpf_raw(cmd, attr)?;
    // SAFETY: on success the command returned a new fd that nothing else owns.
    Ok(OwnedFd::from_raw_fd(fd as RawFd))
}

/// `BPF_{PROG,MAP,LINK}_GET_FD_BY_ID`.
fn get_fd_by_id(cmd: libc::c_int, id: u32) -> std::result::Result<OwnedFd, i32> {
    let mut attr = sys::bpf_attr_get_id { id, ..Default::default() };
    // SAFETY: the GET_FD_BY_ID layout, no pointers.
    unsafe { bpf_fd(cmd, &mut attr) }
}

/// The name of the loaded program `id`, or `None` when this process cannot
/// open it (gone, or no `CAP_SYS_ADMIN`/`CAP_BPF`).
pub(crate) fn program_name(id: u32) -> Option<String> {
    let fd = get_fd_by_id(sys::BPF_PROG_GET_FD_BY_ID, id).ok()?;
    let mut info = sys::bpf_prog_info::default();
    // SAFETY: a zeroed plain-data prefix of bpf_prog_info, for a program's fd.
    unsafe { obj_info(fd.as_raw_fd(), &mut info) }.ok()?;
    let end = info.name.iter().position(|&b| b == 0).unwrap_or(info.name.len());
    Some(String::from_utf8_lossy(&info.name[..end]).into_owned())
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `info`. The kernel writes at most
/// `size_of::<I>()` bytes and tolerates a buffer shorter than its own struct.
///
/// # Safety
/// `I` must be plain `#[repr(C)]` data, all zeroes on entry. Some info structs
/// carry (length, pointer) pairs that the kernel fills through; zeroes mean "no
/// buffer" whatever kind of bpf object `fd` turns out to be.
unsafe fn obj_info<I>(fd: RawFd, info: &mut I) -> std::result::Result<(), i32> {
    let mut attr = sys::bpf_attr_info_by_fd {
        bpf_fd: fd as u32,
        info_len: std::mem::size_of::<I>() as u32,
        info: info as *mut I as u64,
    };
    bpf_raw(sys::BPF_OBJ_GET_INFO_BY_FD, &mut attr).map(|_| ())
}

/// A map or program name as the kernel takes it: up to 15 bytes of
/// `[A-Za-z0-9_.]`, NUL-padded.
fn obj_name(name: &str) -> Result<[u8; 16]> {
    let ok = !name.is_empty()
        && name.len() < 16
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if !ok {
        return Err(Error::invalid(format!("BPF object name {name:?} must be 1 to 15 characters from [A-Za-z0-9_.]")));
    }
    let mut out = [0u8; 16];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdp_mode_from_u32() {
        for m in [XdpMode::Auto, XdpMode::Skb, XdpMode::Drv, XdpMode::None] {
            assert_eq!(XdpMode::try_from(m as u32).unwrap(), m);
        }
        let e = XdpMode::try_from(7).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(e.to_string().contains("XDP mode 7"), "{e}");
        assert_eq!(XdpMode::Drv.to_string(), "drv");
    }

    #[test]
    fn object_names_follow_the_kernel_rules() {
        assert_eq!(&obj_name("xsk_rs_redirect").unwrap()[..16], b"xsk_rs_redirect\0");
        assert!(obj_name("a.b_C9").is_ok());
        for bad in ["", "0123456789abcdef", "a-b", "a b", "é"] {
            assert_eq!(obj_name(bad).unwrap_err().errno(), libc::EINVAL, "{bad:?}");
        }
    }
}
