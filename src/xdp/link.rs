//! Attaching an XDP program to an interface through a bpf link.
//!
//! A link (Linux 5.9+) ties the attachment to a file descriptor: when the last
//! fd referring to the link is closed — including by the kernel when the process
//! exits or is killed — the program is detached. Nothing is left behind on the
//! interface, unlike a netlink attachment, which stays until someone removes it.
//! bpf(2) returns every fd with O_CLOEXEC, so an exec'd child does not keep the
//! program attached either.
//!
//! The link is created in the calling thread's network namespace: the kernel
//! resolves `target_ifindex` in `current->nsproxy->net_ns`.

use super::{bpf_fd, Program, XdpMode};
use crate::error::{Error, Result};
use crate::fork::ProcessFd;
use crate::sys;
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// An XDP program attached to one interface for as long as this value (its fd)
/// lives.
#[derive(Debug)]
pub struct Link {
    /// A forked child gets /dev/null in its place, so that only this process
    /// keeps the program attached.
    fd: ProcessFd,
    ifindex: u32,
    mode: XdpMode,
}

impl Link {
    /// Attaches `prog` to interface `ifindex` of the calling thread's network
    /// namespace.
    ///
    /// `mode`: `Drv` (native, in the driver) or `Skb` (generic) attach in exactly
    /// that mode; `Auto` tries native first and falls back to generic when the
    /// driver has no native XDP. [`Link::mode`] tells which one was used.
    ///
    /// The kernel never lets a link replace a program that is already attached
    /// (in either mode); that is reported as [`Error::Busy`].
    pub fn attach(prog: &Program, ifindex: u32, mode: XdpMode) -> Result<Link> {
        let name = ifname(ifindex).ok_or_else(|| {
            Error::NoDevice(format!("attach XDP program: no interface with index {ifindex} in this network namespace"))
        })?;
        attach_named(prog, ifindex, &name, mode)
    }

    /// A link another process created, held through `fd` (from
    /// `BPF_LINK_GET_FD_BY_ID`).
    pub(super) fn held(fd: ProcessFd, ifindex: u32, mode: XdpMode) -> Link {
        Link { fd, ifindex, mode }
    }

    /// The link's fd. Keep the `Link` (not a copy of the number) to keep the
    /// program attached.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Interface index the program is attached to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The mode really attached: `Skb` or `Drv`, never `Auto`.
    pub fn mode(&self) -> XdpMode {
        self.mode
    }

    /// Replaces the link's program with `prog` in place (`BPF_LINK_UPDATE`),
    /// with no moment without a program.
    pub fn update(&self, prog: &Program) -> Result<()> {
        let mut attr = sys::bpf_attr_link_update {
            link_fd: self.fd.as_raw_fd() as u32,
            new_prog_fd: prog.fd().as_raw_fd() as u32,
            ..Default::default()
        };
        // SAFETY: attr is the BPF_LINK_UPDATE layout.
        unsafe { super::bpf_raw(sys::BPF_LINK_UPDATE, &mut attr) }
            .map(drop)
            .map_err(|e| Error::from_errno(format!("replace the XDP program on ifindex {}", self.ifindex), e))
    }

    /// Detaches the program now (`BPF_LINK_DETACH`), whoever else holds the
    /// link's fd (a child between fork and exec, say): the link stays, defunct.
    pub fn detach(&self) -> Result<()> {
        let mut attr = sys::bpf_attr_link_detach { link_fd: self.fd.as_raw_fd() as u32 };
        // SAFETY: attr is the BPF_LINK_DETACH layout.
        unsafe { super::bpf_raw(sys::BPF_LINK_DETACH, &mut attr) }
            .map(drop)
            .map_err(|e| Error::from_errno(format!("detach XDP program from ifindex {}", self.ifindex), e))
    }
}

impl AsFd for Link {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// [`Link::attach`] for a caller that already knows the interface's name (used
/// in messages only).
pub(crate) fn attach_named(prog: &Program, ifindex: u32, name: &str, mode: XdpMode) -> Result<Link> {
    let try_mode = |mode: XdpMode| -> std::result::Result<Link, i32> {
        let flags = match mode {
            XdpMode::Drv => sys::XDP_FLAGS_DRV_MODE,
            _ => sys::XDP_FLAGS_SKB_MODE,
        };
        let mut attr = sys::bpf_attr_link_create {
            prog_fd: prog.fd().as_raw_fd() as u32,
            target_ifindex: ifindex,
            attach_type: sys::BPF_XDP,
            flags,
        };
        // SAFETY: attr is the LINK_CREATE layout and carries no pointers.
        let fd = ProcessFd::open(|| unsafe { bpf_fd(sys::BPF_LINK_CREATE, &mut attr) })?;
        Ok(Link { fd, ifindex, mode })
    };
    let (tried, result) = match mode {
        XdpMode::Skb | XdpMode::Drv => (mode, try_mode(mode)),
        // Native first: it runs before any skb is allocated. Falling back only on
        // EOPNOTSUPP ("driver has no ndo_bpf") or ENOSPC (the driver cannot
        // run native XDP with its current queues: veth with fewer RX queues
        // than its peer has TX queues) cannot hide somebody else's program: a
        // generic one makes the native attempt fail with EEXIST, or, if the
        // kernel asks the driver first, makes the generic retry fail with EBUSY.
        XdpMode::Auto => match try_mode(XdpMode::Drv) {
            Err(libc::EOPNOTSUPP | libc::ENOSPC) => (XdpMode::Skb, try_mode(XdpMode::Skb)),
            other => (XdpMode::Drv, other),
        },
        XdpMode::None => {
            return Err(Error::invalid(format!(
                "attach XDP program to {name}: mode none means no program; use auto, skb or drv"
            )))
        }
    };
    result.map_err(|errno| attach_error(name, tried, errno))
}

fn attach_error(name: &str, mode: XdpMode, errno: i32) -> Error {
    let text = std::io::Error::from_raw_os_error(errno);
    match errno {
        // EBUSY: a program (or link) already sits in this mode. EEXIST: one sits in
        // the other mode (native and generic cannot run together), or on a master
        // device stacked above this one.
        libc::EBUSY | libc::EEXIST => Error::Busy(format!(
            "interface {name} already has an XDP program attached ({mode} mode attach: {text}){}; \
             xsk_rs will not replace it",
            crate::netdev::caps::attached_hint(name)
        )),
        libc::EOPNOTSUPP => Error::NotSupported(format!(
            "attach XDP program to {name} in {mode} mode: the driver has no native XDP \
             (use skb or auto mode)"
        )),
        _ => Error::from_errno(format!("attach XDP program to {name} in {mode} mode"), errno),
    }
}

/// The name of interface `ifindex` in the calling thread's network namespace.
pub(crate) fn ifname(ifindex: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has the IF_NAMESIZE bytes if_indextoname may write.
    let p = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}
