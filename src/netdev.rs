//! The network interface a socket binds to: its index, the network namespace it
//! was looked up in, and how many queues it has.
//!
//! Everything here is resolved in the calling thread's network namespace (a socket
//! and a bpf link both take the namespace of the thread that creates them), so a
//! process whose threads sit in different namespaces gets the right device.

use crate::error::{Error, Result};
use crate::sys;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Identity of a network namespace: `(st_dev, st_ino)` of `/proc/thread-self/ns/net`.
pub type NetnsId = (u64, u64);

/// A network interface as seen from the calling thread's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Netdev {
    pub name: String,
    pub ifindex: u32,
    pub netns: NetnsId,
    /// Queues currently in use for RX (the valid range for a bind).
    pub rx_queues: u32,
    /// The most queues the device can be configured with (the XSKMAP size).
    pub max_queues: u32,
}

impl Netdev {
    /// Looks `name` up in the calling thread's network namespace.
    pub fn lookup(name: &str) -> Result<Netdev> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('/') {
            return Err(Error::invalid(format!(
                "interface name {name:?} is not a valid name (1 to {} bytes, no '/')",
                libc::IFNAMSIZ - 1
            )));
        }
        let cname =
            CString::new(name).map_err(|_| Error::invalid(format!("interface name {name:?} contains a NUL byte")))?;
        // SAFETY: cname is a valid NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            return Err(no_device(name));
        }
        let (rx_queues, max_queues) = queue_counts(name)?;
        Ok(Netdev { name: name.to_string(), ifindex, netns: current_netns()?, rx_queues, max_queues })
    }

    /// Checks that `queue_id` names an existing RX queue of this device.
    pub fn check_queue(&self, queue_id: u32) -> Result<()> {
        if queue_id >= self.rx_queues {
            return Err(Error::invalid(format!(
                "interface {}: queue {queue_id} out of range ({} has {} rx queue{})",
                self.name,
                self.name,
                self.rx_queues,
                if self.rx_queues == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }
}

fn no_device(name: &str) -> Error {
    Error::NoDevice(format!("interface {name}: no such device in this network namespace"))
}

/// The calling thread's network namespace identity.
pub fn current_netns() -> Result<NetnsId> {
    let path = c"/proc/thread-self/ns/net";
    // SAFETY: stat writes into a zeroed struct we own; path is NUL-terminated.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::stat(path.as_ptr(), &mut st) != 0 {
            return Err(Error::last_os("stat /proc/thread-self/ns/net"));
        }
        Ok((st.st_dev, st.st_ino))
    }
}

/// `(rx queues in use, most queues possible)` from `ETHTOOL_GCHANNELS`.
///
/// Devices without the ethtool op (lo, some virtual devices) have one queue, as
/// the kernel's own default `real_num_rx_queues` is 1 for them.
fn queue_counts(name: &str) -> Result<(u32, u32)> {
    // SAFETY: plain socket(2); the fd is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os(format!("interface {name}: socket for ethtool query")));
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut ch = sys::ethtool_channels { cmd: sys::ETHTOOL_GCHANNELS, ..Default::default() };
    // SAFETY: ifreq is plain data; the name fits (checked by the caller) and
    // ifr_data points at `ch`, which outlives the ioctl.
    let rc = unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = &mut ch as *mut sys::ethtool_channels as *mut libc::c_char;
        libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL, &mut ifr)
    };
    if rc != 0 {
        let errno = crate::error::errno();
        return match errno {
            libc::EOPNOTSUPP => Ok((1, 1)),
            libc::ENODEV => Err(no_device(name)),
            _ => Err(Error::from_errno(format!("interface {name}: ETHTOOL_GCHANNELS"), errno)),
        };
    }
    Ok(channel_counts(&ch))
}

/// Queue counts from an ethtool channel report. Drivers report their queues
/// either as combined channels (most NICs) or as separate rx channels (veth),
/// and a few as both.
fn channel_counts(ch: &sys::ethtool_channels) -> (u32, u32) {
    let rx = (ch.rx_count + ch.combined_count).max(1);
    let max = (ch.max_rx + ch.max_combined).max(ch.max_tx).max(rx);
    (rx, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_names_before_any_syscall() {
        assert!(matches!(Netdev::lookup(""), Err(Error::InvalidArgument(_))));
        assert!(matches!(Netdev::lookup("a-name-that-is-too-long"), Err(Error::InvalidArgument(_))));
        assert!(matches!(Netdev::lookup("a/b"), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn unknown_interface_is_enodev_and_named() {
        let e = Netdev::lookup("xskrs-nonexist").unwrap_err();
        assert_eq!(e.errno(), libc::ENODEV);
        assert!(e.to_string().contains("xskrs-nonexist"), "{e}");
    }

    #[test]
    fn channel_counts_cover_rx_and_combined_drivers() {
        let veth = sys::ethtool_channels { max_rx: 4, max_tx: 4, rx_count: 2, tx_count: 2, ..Default::default() };
        assert_eq!(channel_counts(&veth), (2, 4));
        let nic = sys::ethtool_channels { max_combined: 64, combined_count: 8, ..Default::default() };
        assert_eq!(channel_counts(&nic), (8, 64));
        assert_eq!(channel_counts(&Default::default()), (1, 1));
    }

    #[test]
    fn loopback_has_a_queue() {
        let lo = Netdev::lookup("lo").unwrap();
        assert_eq!(lo.ifindex, 1);
        assert!(lo.rx_queues >= 1);
        assert!(lo.check_queue(lo.rx_queues).is_err());
        assert!(lo.check_queue(0).is_ok());
    }
}
