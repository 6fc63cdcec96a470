//! What this kernel's AF_XDP and XDP can do, probed once per process.
//!
//! Each [`Feature`] is found out by asking the kernel something only a kernel
//! with the feature answers in a certain way (an unknown bind flag, UMEM flag or
//! program flag is refused with `EINVAL`; an unknown socket option with
//! `ENOPROTOOPT`), never from the version string. The answer is cached for the
//! process. A call that needs a missing feature fails with `EOPNOTSUPP` and a
//! message naming the feature and the kernel release that brought it:
//!
//! ```no_run
//! use xsk_rs::features::Feature;
//! if !Feature::MultiBuffer.available()? {
//!     println!("no jumbo frames: {}", Feature::MultiBuffer.require("bind").unwrap_err());
//! }
//! # Ok::<(), xsk_rs::Error>(())
//! ```

use crate::error::{errno, Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

/// A kernel feature that xsk_rs uses when asked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// Multi-buffer AF_XDP: binding with `XDP_USE_SG`, packets chained over
    /// several frames with `XDP_PKT_CONTD` (Linux 6.6).
    MultiBuffer,
    /// XDP programs that accept fragmented packets (`BPF_F_XDP_HAS_FRAGS`,
    /// Linux 5.18): what lets the built-in program run on an interface whose
    /// MTU is larger than a page in drv mode.
    XdpFrags,
    /// TX metadata in front of each TX frame (`tx_metadata_len`,
    /// `XDP_TX_METADATA`, Linux 6.8).
    TxMetadata,
    /// Checksum requests done in software when the driver cannot
    /// (`XDP_UMEM_TX_SW_CSUM`, Linux 6.8).
    TxSwChecksum,
    /// Preferred busy polling with a budget (`SO_PREFER_BUSY_POLL`,
    /// `SO_BUSY_POLL_BUDGET`, Linux 5.11).
    PreferBusyPoll,
    /// The netdev generic-netlink family: a device's `xdp-features`
    /// (Linux 6.3).
    NetdevNetlink,
    /// Its `queue-get` dump: each queue's NAPI id (Linux 6.8).
    NetdevQueues,
    /// Per-NAPI configuration, netdev `napi-set`: IRQ deferral per NAPI
    /// instance (Linux 6.13).
    NapiConfig,
}

/// Every feature, in the order of the kernel releases that brought them.
pub const ALL: [Feature; 8] = [
    Feature::PreferBusyPoll,
    Feature::XdpFrags,
    Feature::NetdevNetlink,
    Feature::MultiBuffer,
    Feature::TxMetadata,
    Feature::TxSwChecksum,
    Feature::NetdevQueues,
    Feature::NapiConfig,
];

impl Feature {
    /// A short name, as in messages ("multi-buffer").
    pub fn name(self) -> &'static str {
        match self {
            Feature::MultiBuffer => "multi-buffer AF_XDP (XDP_USE_SG)",
            Feature::XdpFrags => "XDP programs with fragments (BPF_F_XDP_HAS_FRAGS)",
            Feature::TxMetadata => "AF_XDP TX metadata (tx_metadata_len)",
            Feature::TxSwChecksum => "AF_XDP software TX checksum (XDP_UMEM_TX_SW_CSUM)",
            Feature::PreferBusyPoll => "preferred busy polling (SO_PREFER_BUSY_POLL)",
            Feature::NetdevNetlink => "the netdev netlink family (xdp-features)",
            Feature::NetdevQueues => "netdev netlink queue-get (NAPI ids of queues)",
            Feature::NapiConfig => "per-NAPI configuration (netdev netlink napi-set)",
        }
    }

    /// The feature's bit in the C ABI's `xsk_rs_kernel_features` mask
    /// (`XSK_RS_FEATURE_*`): fixed for good, whatever order features are
    /// added in.
    pub fn bit(self) -> u64 {
        1 << match self {
            Feature::MultiBuffer => 0,
            Feature::XdpFrags => 1,
            Feature::TxMetadata => 2,
            Feature::TxSwChecksum => 3,
            Feature::PreferBusyPoll => 4,
            Feature::NetdevNetlink => 5,
            Feature::NetdevQueues => 6,
            Feature::NapiConfig => 7,
        }
    }

    /// The first Linux release that has it ("6.6").
    pub fn since(self) -> &'static str {
        match self {
            Feature::MultiBuffer => "6.6",
            Feature::XdpFrags => "5.18",
            Feature::TxMetadata => "6.8",
            Feature::TxSwChecksum => "6.8",
            Feature::PreferBusyPoll => "5.11",
            Feature::NetdevNetlink => "6.3",
            Feature::NetdevQueues => "6.8",
            Feature::NapiConfig => "6.13",
        }
    }

    /// Whether this kernel has the feature. Probed on first use and cached
    /// for the process; a probe that could not run (no `CAP_NET_RAW` for an
    /// AF_XDP socket, no fd left) is an error and is tried again next time.
    pub fn available(self) -> Result<bool> {
        let cell = &CACHE[self as usize];
        if let Some(&known) = cell.get() {
            return Ok(known);
        }
        let known = self.probe()?;
        Ok(*cell.get_or_init(|| known))
    }

    /// `Ok` when the kernel has the feature; otherwise `EOPNOTSUPP` with
    /// "`what`: FEATURE needs Linux SINCE or later; this kernel is RELEASE".
    pub fn require(self, what: &str) -> Result<()> {
        if self.available()? {
            return Ok(());
        }
        Err(Error::NotSupported(format!(
            "{what}: {} needs Linux {} or later; this kernel is {}",
            self.name(),
            self.since(),
            kernel_release()
        )))
    }

    fn probe(self) -> Result<bool> {
        match self {
            Feature::MultiBuffer => probe_bind_flag(libc::XDP_USE_SG),
            Feature::XdpFrags => crate::xdp::probe_frags(),
            Feature::TxMetadata => Ok(tx_metadata_reg()?.is_some()),
            Feature::TxSwChecksum => probe_umem_reg(libc::XDP_UMEM_TX_SW_CSUM, 0),
            Feature::PreferBusyPoll => probe_prefer_busy_poll(),
            // The family's own op list, not the version.
            Feature::NetdevNetlink => Ok(crate::netdev::caps::probe_family()?.0),
            Feature::NetdevQueues => Ok(crate::netdev::caps::probe_family()?.1),
            Feature::NapiConfig => crate::netdev::napi::probe(),
        }
    }
}

static CACHE: [OnceLock<bool>; ALL.len()] = [const { OnceLock::new() }; ALL.len()];

/// How this kernel takes a UMEM's `tx_metadata_len`: `Some(flags)` names the
/// UMEM flags that go with it (`XDP_UMEM_TX_METADATA_LEN` where the kernel
/// has that flag, 0 where it reads the field unconditionally, as 6.8 to 6.10
/// did), `None` when it has no TX metadata at all. Probed once.
pub(crate) fn tx_metadata_reg() -> Result<Option<u32>> {
    static HOW: OnceLock<Option<u32>> = OnceLock::new();
    if let Some(&how) = HOW.get() {
        return Ok(how);
    }
    // Kernels since 6.11 read the field only with the flag (older ones would
    // read it from any full-size struct, and before 6.8 not at all).
    let how = if probe_umem_reg(libc::XDP_UMEM_TX_METADATA_LEN, 24)? {
        Some(libc::XDP_UMEM_TX_METADATA_LEN)
    } else if !probe_umem_reg(0, 7)? {
        // A length that is not a multiple of 8 is refused only by a kernel
        // that reads the field.
        Some(0)
    } else {
        None
    };
    Ok(*HOW.get_or_init(|| how))
}

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> String {
    // SAFETY: utsname is plain data; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is a live utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return "unknown".into();
    }
    // SAFETY: the kernel NUL-terminates release.
    unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }.to_string_lossy().into_owned()
}

/// A fresh AF_XDP socket for a probe.
fn xdp_socket(what: &str) -> Result<OwnedFd> {
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os(format!("probe {what}: AF_XDP socket")));
    }
    // SAFETY: fd is new and owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether bind knows `flag`: the kernel checks the flags before it looks up
/// the device, so a bind to ifindex 0 fails with `ENODEV` when it knows them
/// and `EINVAL` when it does not.
fn probe_bind_flag(flag: u16) -> Result<bool> {
    let fd = xdp_socket("bind flags")?;
    let sxdp = libc::sockaddr_xdp {
        sxdp_family: libc::AF_XDP as u16,
        sxdp_flags: flag,
        sxdp_ifindex: 0,
        sxdp_queue_id: 0,
        sxdp_shared_umem_fd: 0,
    };
    // SAFETY: sxdp is a live sockaddr_xdp and the length is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sxdp as *const libc::sockaddr_xdp).cast(),
            std::mem::size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
        )
    };
    match (rc, errno()) {
        (0, _) => Ok(true),
        (_, libc::ENODEV) => Ok(true),
        (_, libc::EINVAL) => Ok(false),
        (_, e) => Err(Error::from_errno(format!("probe bind flag {flag:#x} on ifindex 0"), e)),
    }
}

/// Whether a UMEM registration with `flags` and `tx_metadata_len` succeeds
/// (`EINVAL`: this kernel refuses them). Registers one page.
fn probe_umem_reg(flags: u32, tx_metadata_len: u32) -> Result<bool> {
    const LEN: usize = 4096;
    let fd = xdp_socket("umem flags")?;
    // SAFETY: a fresh anonymous mapping, unmapped below.
    let area = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            LEN,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if area == libc::MAP_FAILED {
        return Err(Error::last_os("probe umem flags: mmap one page"));
    }
    let reg = libc::xdp_umem_reg {
        addr: area as u64,
        len: LEN as u64,
        chunk_size: 2048,
        headroom: 0,
        flags,
        tx_metadata_len,
    };
    let rc = crate::umem::setsockopt(fd.as_raw_fd(), libc::XDP_UMEM_REG, &reg, "probe");
    // The socket holds its own pin on the pages; close it before unmapping.
    drop(fd);
    // SAFETY: area is the mapping made above, no longer used.
    unsafe { libc::munmap(area, LEN) };
    match rc {
        Ok(()) => Ok(true),
        Err(e) if e.errno() == libc::EINVAL => Ok(false),
        Err(e) => Err(Error::from_errno(
            format!("probe umem registration with flags {flags:#x}, tx_metadata_len {tx_metadata_len}: {e}"),
            e.errno(),
        )),
    }
}

fn probe_prefer_busy_poll() -> Result<bool> {
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os("probe SO_PREFER_BUSY_POLL: UDP socket"));
    }
    // SAFETY: fd is new and owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let off: libc::c_int = 0;
    // SAFETY: off is a live c_int and the length is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PREFER_BUSY_POLL,
            (&off as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    match (rc, errno()) {
        (0, _) => Ok(true),
        (_, libc::ENOPROTOOPT) => Ok(false),
        (_, e) => Err(Error::from_errno("probe SO_PREFER_BUSY_POLL", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel_has_everything_and_says_why_not_otherwise() {
        // The development and CI kernel is 6.18: every probe must say yes.
        // Older kernels are covered by tests/kernels (6.1: no multi-buffer,
        // no TX metadata).
        if unsafe { libc::geteuid() } != 0 {
            assert!(std::env::var_os("CI").is_none(), "probes need root (AF_XDP socket) under CI");
            eprintln!("skipped: not root");
            return;
        }
        for f in ALL {
            assert!(f.available().unwrap(), "{f:?} not found on {}", kernel_release());
            f.require("test").unwrap();
        }
        assert_eq!(tx_metadata_reg().unwrap(), Some(libc::XDP_UMEM_TX_METADATA_LEN));
    }
}
