//! The network interface a socket binds to: its index, the network namespace it
//! was looked up in, its queues and its MTU.
//!
//! Everything here is resolved in the calling thread's network namespace (a socket
//! and a bpf link both take the namespace of the thread that creates them), so a
//! process whose threads sit in different namespaces gets the right device. That
//! rules out sysfs: `/sys/class/net` shows the namespace `/sys` was mounted in,
//! not the calling thread's. The lookup asks the kernel through one socket
//! created on the calling thread instead: rtnetlink `RTM_GETLINK` for the index,
//! the MTU and the queues the device was created with, and `ETHTOOL_GCHANNELS`
//! (where the driver has it) for the queues in use.

pub mod caps;
pub(crate) mod genl;
pub mod napi;

pub use caps::{Attached, AttachedProgram, Capabilities, XdpFeatures, XdpPrograms, XskFeatures};
pub use napi::{napi_settings, IrqDeferConfig, IrqDeferVia, IrqDeferral, NapiSettings};

use crate::error::{Error, Result};
use crate::sys;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Identity of a network namespace: `(st_dev, st_ino)` of `/proc/thread-self/ns/net`.
pub type NetnsId = (u64, u64);

/// Ethernet header: what the kernel's forwarding check adds to the MTU
/// (`dev->hard_header_len` of an Ethernet device).
const ETH_HLEN: u32 = 14;
/// One 802.1Q tag, which the same check also allows (`VLAN_HLEN`).
const VLAN_HLEN: u32 = 4;

/// A network interface as seen from the calling thread's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Netdev {
    pub name: String,
    pub ifindex: u32,
    pub netns: NetnsId,
    /// RX queues in use (the kernel's `real_num_rx_queues`, as
    /// `ETHTOOL_GCHANNELS` reports it): packets arrive on queues
    /// `0..rx_queues`, so a socket with an RX ring binds below this. For a
    /// device without that ethtool call (macvlan, tun, lo), the count it was
    /// created with (`num_rx_queues`), which such devices rarely change.
    pub rx_queues: u32,
    /// TX queues in use (`real_num_tx_queues`; the created count for devices
    /// without `ETHTOOL_GCHANNELS`): a socket with a TX ring binds below this.
    pub tx_queues: u32,
    /// The most queues the device was created with, RX or TX (`num_rx_queues`,
    /// `num_tx_queues`): the counts in use never exceed it, so an XSKMAP of this
    /// size has a slot for every queue a socket can ever bind.
    pub max_queues: u32,
    /// The interface MTU: the most bytes of payload after the Ethernet header.
    pub mtu: u32,
}

impl Netdev {
    /// Looks `name` up in the calling thread's network namespace.
    ///
    /// Errors: `ENODEV` when no such device is in this namespace; `EMFILE` (or
    /// `ENFILE`) when the process (or the system) is out of file descriptors,
    /// as the lookup needs one for a moment.
    ///
    /// ```no_run
    /// let dev = xsk_rs::netdev::Netdev::lookup("veth0")?;
    /// println!("{}: {} rx / {} tx queues, MTU {}, frames up to {} bytes",
    ///          dev.name, dev.rx_queues, dev.tx_queues, dev.mtu, dev.max_frame_len());
    /// # Ok::<(), xsk_rs::Error>(())
    /// ```
    pub fn lookup(name: &str) -> Result<Netdev> {
        Netdev::lookup_link(name).map(|(dev, _)| dev)
    }

    /// [`Netdev::lookup`], and what `RTM_GETLINK` said about XDP.
    pub(crate) fn lookup_link(name: &str) -> Result<(Netdev, XdpLink)> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('/') || name.contains('\0') {
            return Err(Error::invalid(format!(
                "interface name {name:?} is not a valid name (1 to {} bytes, no '/' or NUL)",
                libc::IFNAMSIZ - 1
            )));
        }
        // One rtnetlink socket, created on this thread and so in its namespace,
        // serves both queries: SIOCETHTOOL works on any socket (the kernel
        // falls back to the device ioctls of the socket's namespace).
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
        if fd < 0 {
            return Err(os_error(name, "rtnetlink socket for the lookup", crate::error::errno()));
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let link = get_link(fd.as_fd(), name)?;
        // IFLA_NUM_RX_QUEUES exists only with CONFIG_RPS: without it, the
        // ethtool count (or the TX count) stands for the RX one.
        let num_tx = link.num_tx.unwrap_or(1).max(1);
        let (rx_queues, tx_queues) = match get_channels(fd.as_fd(), name)? {
            Some(ch) => channel_counts(&ch, link.num_rx, num_tx),
            None => (link.num_rx.unwrap_or(num_tx).max(1), num_tx),
        };
        let num_rx = link.num_rx.unwrap_or(rx_queues).max(rx_queues);
        let dev = Netdev {
            name: name.to_string(),
            ifindex: link.ifindex,
            netns: current_netns()?,
            rx_queues,
            tx_queues,
            max_queues: num_rx.max(num_tx),
            mtu: link.mtu,
        };
        Ok((dev, link.xdp))
    }

    /// Checks that a socket with an RX ring (`rx_ring`) and/or a TX ring
    /// (`tx_ring`) can work on queue `queue_id` of this device.
    ///
    /// The kernel binds any queue id below the larger of the RX and TX counts.
    /// This is stricter where the kernel's bind succeeds but the socket cannot
    /// do its job:
    /// - an RX ring needs `queue_id < rx_queues`: a socket only receives what
    ///   arrives on the RX queue of its own id, so on a TX-only queue (a device
    ///   with more TX than RX queues) it would never receive. Use `rx_size` 0.
    /// - a TX ring needs `queue_id < tx_queues`: the kernel never transmits
    ///   from a queue id at or above its TX count (copy mode returns at once
    ///   without consuming the ring), so on an RX-only queue the TX ring would
    ///   fill and stall. Use `tx_size` 0.
    ///
    /// Devices without `ETHTOOL_GCHANNELS` (macvlan, tun, lo) report only the
    /// queues they were created with; for the few that change their counts in
    /// use by themselves (a multiqueue tun as queues attach), a queue inside
    /// that bound may still be refused by the kernel's bind (`EINVAL`).
    pub fn check_queue(&self, queue_id: u32, rx_ring: bool, tx_ring: bool) -> Result<()> {
        let what = format!("interface {}", self.name);
        check_range(
            queue_id,
            self.rx_queues.max(self.tx_queues),
            &what,
            format_args!("{} has {}", self.name, self.counts()),
        )?;
        if rx_ring && queue_id >= self.rx_queues {
            return Err(Error::invalid(format!(
                "{what}: queue {queue_id} has no rx ({} has {}): a socket there can send but never receive; \
                 create it with rx_size 0",
                self.name,
                self.counts()
            )));
        }
        if tx_ring && queue_id >= self.tx_queues {
            return Err(Error::invalid(format!(
                "{what}: queue {queue_id} has no tx ({} has {}): the kernel binds a TX ring there but never \
                 sends from it; create the socket with tx_size 0",
                self.name,
                self.counts()
            )));
        }
        Ok(())
    }

    /// The longest frame, Ethernet header included (no FCS), that a receiver
    /// with this MTU takes: MTU + 14 (Ethernet header) + 4 (one VLAN tag).
    ///
    /// That is the allowance of the kernel's forwarding check
    /// (`is_skb_forwardable` in `linux/netdevice.h`), which a veth applies to
    /// each frame on the receiving end, against the peer's MTU. AF_XDP itself
    /// does not check lengths against the MTU: a longer frame is sent and
    /// completed, `tx_invalid_descs` stays 0, and the receiver drops it (on
    /// veth, counted in the peer's `rx_dropped`). Physical NICs differ by
    /// driver; few pass frames longer than this.
    ///
    /// A double-tagged (QinQ) frame of a full MTU is 4 bytes longer and is
    /// refused by this limit, though many NICs send it. An MTU the kernel did
    /// not report (0) means no limit: `u32::MAX`.
    pub fn max_frame_len(&self) -> u32 {
        if self.mtu == 0 {
            return u32::MAX;
        }
        self.mtu.saturating_add(ETH_HLEN + VLAN_HLEN)
    }

    /// "1 queue" or "1 rx queue and 2 tx queues".
    fn counts(&self) -> String {
        let n = |count: u32, what: &str| format!("{count} {what}{}", if count == 1 { "" } else { "s" });
        if self.rx_queues == self.tx_queues {
            n(self.rx_queues, "queue")
        } else {
            format!("{} and {}", n(self.rx_queues, "rx queue"), n(self.tx_queues, "tx queue"))
        }
    }
}

/// The crate's one queue-range check: `queue_id` must be below `count`.
/// `what` names the owner ("interface veth0", "XSKMAP \"m\""), `has` says what
/// it has ("veth0 has 2 queues", "4 entries").
pub(crate) fn check_range(queue_id: u32, count: u32, what: &str, has: impl fmt::Display) -> Result<()> {
    if queue_id < count {
        return Ok(());
    }
    Err(Error::invalid(format!("{what}: queue {queue_id} out of range ({has})")))
}

fn no_device(name: &str) -> Error {
    Error::NoDevice(format!("interface {name}: no such device in this network namespace"))
}

/// The error for a failed step of the lookup of `name`; running out of file
/// descriptors says so instead of leaving the user with a bare errno.
fn os_error(name: &str, step: &str, errno: i32) -> Error {
    let why = match errno {
        libc::EMFILE => " (this process has run out of file descriptors: close some, or raise RLIMIT_NOFILE)",
        libc::ENFILE => " (the system has run out of file descriptors)",
        _ => "",
    };
    Error::from_errno(format!("interface {name}: {step}{why}"), errno)
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

/// The network namespace a socket was created in (`SIOCGSKNS`, Linux 4.9):
/// where the kernel resolves the ifindex of its bind.
pub(crate) fn socket_netns(fd: std::os::fd::RawFd) -> Result<NetnsId> {
    const SIOCGSKNS: libc::c_ulong = 0x894C;
    // SAFETY: SIOCGSKNS takes no argument and returns a new fd or -1.
    let ns = unsafe { libc::ioctl(fd, SIOCGSKNS as _) };
    if ns < 0 {
        return Err(Error::last_os(format!("fd {fd}: read its network namespace (SIOCGSKNS)")));
    }
    // SAFETY: ns is a fresh fd that nothing else owns.
    let ns = unsafe { OwnedFd::from_raw_fd(ns) };
    // SAFETY: fstat writes into a zeroed struct we own.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(ns.as_raw_fd(), &mut st) != 0 {
            return Err(Error::last_os(format!("fd {fd}: fstat its network namespace")));
        }
        Ok((st.st_dev, st.st_ino))
    }
}

/// What `RTM_GETLINK` tells about a device.
#[derive(Debug, Default, PartialEq, Eq)]
struct LinkInfo {
    ifindex: u32,
    mtu: u32,
    /// `None` when the kernel leaves the attribute out (`IFLA_NUM_RX_QUEUES`
    /// needs `CONFIG_RPS`).
    num_rx: Option<u32>,
    num_tx: Option<u32>,
    /// `IFLA_XDP`: the programs attached, by mode.
    xdp: XdpLink,
}

/// What `IFLA_XDP` says: the kernel's `XDP_ATTACHED_*` mode (0 none, 1 drv,
/// 2 skb, 3 hw, 4 several) and the program id of each mode (0: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct XdpLink {
    pub attached: u8,
    pub skb: u32,
    pub drv: u32,
    pub hw: u32,
}

/// Room for the one `RTM_NEWLINK` answer: a device's attributes (statistics,
/// addresses, link info) take a few KiB; VF lists, the only large part, come
/// only when asked for with `IFLA_EXT_MASK`.
const REPLY_BUF: usize = 32 << 10;

/// `RTM_GETLINK` for `name` on the rtnetlink socket `fd`.
fn get_link(fd: BorrowedFd<'_>, name: &str) -> Result<LinkInfo> {
    let mut req = sys::rtm_getlink_by_name {
        nlmsg_len: std::mem::size_of::<sys::rtm_getlink_by_name>() as u32,
        nlmsg_type: libc::RTM_GETLINK,
        nlmsg_flags: libc::NLM_F_REQUEST as u16,
        nlmsg_seq: 1,
        ifi_family: libc::AF_UNSPEC as u8,
        // The whole padded field: the kernel takes the name up to its NUL,
        // and the message then ends exactly where the attribute does.
        rta_len: (4 + 16) as u16,
        rta_type: sys::IFLA_IFNAME,
        ..Default::default()
    };
    req.ifname[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: send reads `req` for its size; no address: the kernel is the
    // default destination of a netlink socket.
    let sent =
        unsafe { libc::send(fd.as_raw_fd(), &req as *const _ as *const libc::c_void, std::mem::size_of_val(&req), 0) };
    if sent < 0 {
        return Err(os_error(name, "RTM_GETLINK", crate::error::errno()));
    }
    let mut buf = vec![0u8; REPLY_BUF];
    let n = loop {
        // SAFETY: recv writes at most buf.len() bytes into buf. MSG_TRUNC makes
        // it return the real length, so a longer answer is detected.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_TRUNC) };
        if n >= 0 {
            break n as usize;
        }
        let errno = crate::error::errno();
        if errno != libc::EINTR {
            return Err(os_error(name, "RTM_GETLINK answer", errno));
        }
    };
    if n > buf.len() {
        return Err(Error::from_errno(
            format!("interface {name}: RTM_GETLINK answer of {n} bytes is longer than {REPLY_BUF}"),
            libc::EMSGSIZE,
        ));
    }
    match parse_link(&buf[..n]) {
        Ok(link) => Ok(link),
        Err(libc::ENODEV) => Err(no_device(name)),
        Err(errno) => Err(os_error(name, "RTM_GETLINK", errno)),
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Reads the answer to one `RTM_GETLINK`: the first message is either the
/// device (`RTM_NEWLINK`) or an `NLMSG_ERROR` carrying a negative errno.
/// Anything malformed is `EPROTO`.
fn parse_link(msg: &[u8]) -> std::result::Result<LinkInfo, i32> {
    const BAD: i32 = libc::EPROTO;
    let len = u32_at(msg, 0).ok_or(BAD)? as usize;
    let kind = u16_at(msg, 4).ok_or(BAD)?;
    let msg = msg.get(..len).ok_or(BAD)?;
    if kind == libc::NLMSG_ERROR as u16 {
        // struct nlmsgerr: int error, then the request's header.
        let err = u32_at(msg, sys::NLMSG_HDRLEN).ok_or(BAD)? as i32;
        return Err(if err < 0 { -err } else { BAD });
    }
    if kind != libc::RTM_NEWLINK {
        return Err(BAD);
    }
    // ifinfomsg: family u8, pad u8, type u16, index i32, flags, change.
    let ifindex = u32_at(msg, sys::NLMSG_HDRLEN + 4).ok_or(BAD)?;
    let mut link = LinkInfo { ifindex, ..Default::default() };
    let mut at = sys::NLMSG_HDRLEN + sys::IFINFOMSG_LEN;
    while at + 4 <= msg.len() {
        let alen = u16_at(msg, at).ok_or(BAD)? as usize;
        // The top bits of the type are the nested / byte-order flags.
        let atype = u16_at(msg, at + 2).ok_or(BAD)? & 0x3fff;
        if alen < 4 || at + alen > msg.len() {
            return Err(BAD);
        }
        let value = || u32_at(msg, at + 4).filter(|_| alen >= 8).ok_or(BAD);
        match atype {
            sys::IFLA_MTU => link.mtu = value()?,
            sys::IFLA_NUM_TX_QUEUES => link.num_tx = Some(value()?),
            sys::IFLA_NUM_RX_QUEUES => link.num_rx = Some(value()?),
            sys::IFLA_XDP => link.xdp = parse_xdp(&msg[at + 4..at + alen]),
            _ => {}
        }
        at += (alen + 3) & !3;
    }
    if link.ifindex == 0 {
        return Err(BAD);
    }
    Ok(link)
}

/// The nested `IFLA_XDP`. The kernel reports each mode's id
/// (`IFLA_XDP_{SKB,DRV,HW}_PROG_ID`) and, with one program attached, also
/// `IFLA_XDP_PROG_ID` with the mode in `IFLA_XDP_ATTACHED`.
fn parse_xdp(nest: &[u8]) -> XdpLink {
    let mut x = XdpLink::default();
    let mut single = 0;
    for a in genl::Attrs::new(nest) {
        match a.kind {
            sys::IFLA_XDP_ATTACHED => x.attached = a.u8().unwrap_or(0),
            sys::IFLA_XDP_PROG_ID => single = a.u32().unwrap_or(0),
            sys::IFLA_XDP_SKB_PROG_ID => x.skb = a.u32().unwrap_or(0),
            sys::IFLA_XDP_DRV_PROG_ID => x.drv = a.u32().unwrap_or(0),
            sys::IFLA_XDP_HW_PROG_ID => x.hw = a.u32().unwrap_or(0),
            _ => {}
        }
    }
    // Kernels that name only the one program still say its mode.
    match x.attached {
        1 if x.drv == 0 => x.drv = single,
        2 if x.skb == 0 => x.skb = single,
        3 if x.hw == 0 => x.hw = single,
        _ => {}
    }
    x
}

/// `ETHTOOL_GCHANNELS`, or `None` for drivers without it.
fn get_channels(fd: BorrowedFd<'_>, name: &str) -> Result<Option<sys::ethtool_channels>> {
    let mut ch = sys::ethtool_channels { cmd: sys::ETHTOOL_GCHANNELS, ..Default::default() };
    // SAFETY: ifreq is plain data; the name fits (checked by lookup) and
    // ifr_data points at `ch`, which outlives the ioctl.
    let rc = unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = &mut ch as *mut sys::ethtool_channels as *mut libc::c_char;
        libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL, &mut ifr)
    };
    if rc == 0 {
        return Ok(Some(ch));
    }
    match crate::error::errno() {
        libc::EOPNOTSUPP => Ok(None),
        // Gone since the RTM_GETLINK a moment ago.
        libc::ENODEV => Err(no_device(name)),
        errno => Err(os_error(name, "ETHTOOL_GCHANNELS", errno)),
    }
}

/// `(rx, tx)` queues in use from an ethtool channel report, within the
/// `num_rx`/`num_tx` the device was created with. Drivers report their queues
/// as combined channels (most NICs), as separate rx and tx channels (veth), or
/// as both. A device has at least one queue each way whatever a driver reports.
fn channel_counts(ch: &sys::ethtool_channels, num_rx: Option<u32>, num_tx: u32) -> (u32, u32) {
    let rx = (ch.rx_count + ch.combined_count).clamp(1, num_rx.unwrap_or(u32::MAX).max(1));
    let tx = (ch.tx_count + ch.combined_count).clamp(1, num_tx.max(1));
    (rx, tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_names_before_any_syscall() {
        for bad in ["", "a-name-that-is-too-long", "a/b", "a\0b"] {
            assert!(matches!(Netdev::lookup(bad), Err(Error::InvalidArgument(_))), "{bad:?}");
        }
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
        assert_eq!(channel_counts(&veth, Some(4), 4), (2, 2));
        let uneven = sys::ethtool_channels { max_rx: 1, max_tx: 2, rx_count: 1, tx_count: 2, ..Default::default() };
        assert_eq!(channel_counts(&uneven, Some(1), 2), (1, 2));
        let nic = sys::ethtool_channels { max_combined: 64, combined_count: 8, ..Default::default() };
        assert_eq!(channel_counts(&nic, Some(64), 64), (8, 8));
        // A kernel without CONFIG_RPS reports no RX count: ethtool's stands.
        assert_eq!(channel_counts(&nic, None, 64), (8, 8));
        // Never below one, never above what the device was created with.
        assert_eq!(channel_counts(&Default::default(), Some(1), 1), (1, 1));
        let liar = sys::ethtool_channels { combined_count: 9, ..Default::default() };
        assert_eq!(channel_counts(&liar, Some(4), 2), (4, 2));
    }

    fn dev(rx: u32, tx: u32) -> Netdev {
        Netdev {
            name: "veth0".into(),
            ifindex: 2,
            netns: (0, 0),
            rx_queues: rx,
            tx_queues: tx,
            max_queues: rx.max(tx),
            mtu: 1500,
        }
    }

    #[test]
    fn check_queue_follows_the_rings() {
        let even = dev(2, 2);
        for q in 0..2 {
            even.check_queue(q, true, true).unwrap();
        }
        let e = even.check_queue(2, false, true).unwrap_err();
        assert_eq!(e.to_string(), "interface veth0: queue 2 out of range (veth0 has 2 queues)");

        // More TX than RX: queue 1 takes a TX ring only.
        let tx_heavy = dev(1, 2);
        tx_heavy.check_queue(1, false, true).unwrap();
        let e = tx_heavy.check_queue(1, true, false).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(e.to_string().starts_with("interface veth0: queue 1 has no rx (veth0 has 1 rx queue and 2 tx queues)"));
        assert!(e.to_string().contains("rx_size 0"), "{e}");
        let e = tx_heavy.check_queue(2, false, true).unwrap_err();
        assert!(e.to_string().contains("queue 2 out of range (veth0 has 1 rx queue and 2 tx queues)"), "{e}");

        // More RX than TX (a macvlan made with numrxqueues 4): RX rings only.
        let rx_heavy = dev(4, 1);
        rx_heavy.check_queue(3, true, false).unwrap();
        let e = rx_heavy.check_queue(3, true, true).unwrap_err();
        assert!(e.to_string().contains("queue 3 has no tx") && e.to_string().contains("tx_size 0"), "{e}");
    }

    #[test]
    fn max_frame_len_is_mtu_plus_ethernet_and_vlan_headers() {
        assert_eq!(dev(1, 1).max_frame_len(), 1518);
        assert_eq!(Netdev { mtu: 9000, ..dev(1, 1) }.max_frame_len(), 9018);
        assert_eq!(Netdev { mtu: u32::MAX, ..dev(1, 1) }.max_frame_len(), u32::MAX);
        assert_eq!(Netdev { mtu: 0, ..dev(1, 1) }.max_frame_len(), u32::MAX, "no MTU reported: no limit");
    }

    /// Builds an RTM_NEWLINK answer: header, ifinfomsg, `(type, u32)` attributes.
    fn newlink(ifindex: u32, attrs: &[(u16, u32)]) -> Vec<u8> {
        let mut m = vec![0u8; sys::NLMSG_HDRLEN + sys::IFINFOMSG_LEN];
        m[4..6].copy_from_slice(&libc::RTM_NEWLINK.to_ne_bytes());
        m[20..24].copy_from_slice(&ifindex.to_ne_bytes());
        // An attribute of 5 bytes (padded to 8), as a name would be.
        m.extend_from_slice(&5u16.to_ne_bytes());
        m.extend_from_slice(&sys::IFLA_IFNAME.to_ne_bytes());
        m.extend_from_slice(b"x\0\0\0");
        for &(t, v) in attrs {
            m.extend_from_slice(&8u16.to_ne_bytes());
            m.extend_from_slice(&t.to_ne_bytes());
            m.extend_from_slice(&v.to_ne_bytes());
        }
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn parse_link_reads_the_attributes_it_needs() {
        let m = newlink(7, &[(sys::IFLA_MTU, 9000), (sys::IFLA_NUM_TX_QUEUES, 2), (sys::IFLA_NUM_RX_QUEUES, 1)]);
        assert_eq!(
            parse_link(&m),
            Ok(LinkInfo { ifindex: 7, mtu: 9000, num_rx: Some(1), num_tx: Some(2), xdp: XdpLink::default() })
        );
        let no_rps = newlink(3, &[(sys::IFLA_MTU, 1500), (sys::IFLA_NUM_TX_QUEUES, 1)]);
        assert_eq!(parse_link(&no_rps).unwrap().num_rx, None);

        let mut err = vec![0u8; sys::NLMSG_HDRLEN + 4];
        let len = err.len() as u32;
        err[..4].copy_from_slice(&len.to_ne_bytes());
        err[4..6].copy_from_slice(&(libc::NLMSG_ERROR as u16).to_ne_bytes());
        err[16..20].copy_from_slice(&(-libc::ENODEV).to_ne_bytes());
        assert_eq!(parse_link(&err), Err(libc::ENODEV));

        // Truncated or inconsistent answers are EPROTO, never a panic.
        assert_eq!(parse_link(&m[..10]), Err(libc::EPROTO));
        let mut bad = m.clone();
        bad[32..34].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(parse_link(&bad), Err(libc::EPROTO));
        assert_eq!(parse_link(&[]), Err(libc::EPROTO));
    }

    #[test]
    fn loopback_has_a_queue_and_an_mtu() {
        let lo = Netdev::lookup("lo").unwrap();
        assert_eq!(lo.ifindex, 1);
        assert_eq!((lo.rx_queues, lo.tx_queues), (1, 1), "lo has no ethtool channels and one queue each way");
        assert!(lo.mtu >= 1500, "lo MTU {}", lo.mtu);
        assert!(lo.check_queue(1, false, true).is_err());
        assert!(lo.check_queue(0, true, true).is_ok());
    }
}
