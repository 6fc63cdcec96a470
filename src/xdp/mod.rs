//! The XDP side of AF_XDP, without libbpf: the XSKMAP, the built-in redirect
//! program, and the bpf link that attaches it to an interface.
//!
//! An AF_XDP socket only receives what an XDP program on its interface redirects
//! into it. The built-in program sends each packet to the socket registered for
//! its RX queue in an XSKMAP and lets everything else through (`XDP_PASS`).
//!
//! - [`XskMap`], [`Program`]: the low-level pieces, also for users who bring
//!   their own program ([`update_xskmap`] fills their own map).
//!
//! Everything talks to bpf(2) directly; there is no ELF object, no bpffs pin and
//! no netlink attachment that could outlive the process.

pub mod insn;
mod map;
mod program;

pub use map::{update_xskmap, XskMap};
pub use program::{redirect_insns, Program};

use crate::error::{Error, Result};
use crate::sys;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Runs a bpf(2) command. Returns the syscall's value, or the errno read right
/// after the call.
///
/// # Safety
/// As for [`sys::bpf`].
unsafe fn bpf_raw<T>(cmd: libc::c_int, attr: &mut T) -> std::result::Result<libc::c_long, i32> {
    let rc = sys::bpf(cmd, attr);
    if rc < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
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
        return Err(Error::invalid(format!(
            "BPF object name {name:?} must be 1 to 15 characters from [A-Za-z0-9_.]"
        )));
    }
    let mut out = [0u8; 16];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_the_kernel_rules() {
        assert_eq!(&obj_name("xsk_rs_redirect").unwrap()[..16], b"xsk_rs_redirect\0");
        assert!(obj_name("a.b_C9").is_ok());
        for bad in ["", "0123456789abcdef", "a-b", "a b", "é"] {
            assert_eq!(obj_name(bad).unwrap_err().errno(), libc::EINVAL, "{bad:?}");
        }
    }
}
