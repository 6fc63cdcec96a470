//! What an interface offers AF_XDP, in one call: [`Capabilities::query`].
//!
//! - from the netdev generic-netlink family (Linux 6.3): `xdp-features`, and
//!   where the kernel has them `xdp-zc-max-segs` (6.6) and `xsk-features`
//!   (6.8); from its `queue-get` dump (6.8) the NAPI id of each queue;
//! - from rtnetlink: the queue counts and the MTU ([`Netdev`]), and the XDP
//!   program attached in each mode, with its id and name (`bpf(2)`
//!   `BPF_PROG_GET_FD_BY_ID`, `BPF_OBJ_GET_INFO_BY_FD`), and whether it is
//!   xsk_rs's built-in program.
//!
//! Everything is asked in the calling thread's network namespace. On a kernel
//! without the netdev family, or without `queue-get`, the call still succeeds:
//! what it cannot know is `None`, and the `require_*` methods turn that into
//! `EOPNOTSUPP` naming the feature and the Linux release it needs. Which
//! operations exist is read from the family's own op list, never guessed from
//! the kernel version.
//!
//! ```no_run
//! use xsk_rs::netdev::Capabilities;
//! let caps = Capabilities::query("veth0")?;
//! match caps.xdp_features {
//!     Some(f) => println!("xdp-features: {f}, zero-copy: {}", f.contains(xsk_rs::netdev::XdpFeatures::XSK_ZEROCOPY)),
//!     None => println!("this kernel does not say (no netdev netlink family)"),
//! }
//! if let Some(p) = &caps.xdp.drv {
//!     println!("drv program {} {:?}{}", p.id, p.name, if p.xsk_rs { " (xsk_rs)" } else { "" });
//! }
//! # Ok::<(), xsk_rs::Error>(())
//! ```

use super::genl::{AttrBuf, Family, GenlSocket};
use super::{Netdev, XdpLink};
use crate::error::{Error, Result};
use crate::features::Feature;
use std::fmt;

/// The netdev family (`Documentation/netlink/specs/netdev.yaml`).
pub(crate) const NETDEV_FAMILY: &str = "netdev";
pub(crate) const NETDEV_CMD_DEV_GET: u8 = 1;
pub(crate) const NETDEV_CMD_QUEUE_GET: u8 = 10;
pub(crate) const NETDEV_CMD_NAPI_GET: u8 = 11;
const NETDEV_A_DEV_IFINDEX: u16 = 1;
const NETDEV_A_DEV_XDP_FEATURES: u16 = 3;
const NETDEV_A_DEV_XDP_ZC_MAX_SEGS: u16 = 4;
const NETDEV_A_DEV_XSK_FEATURES: u16 = 6;
const NETDEV_A_QUEUE_ID: u16 = 1;
const NETDEV_A_QUEUE_IFINDEX: u16 = 2;
const NETDEV_A_QUEUE_TYPE: u16 = 3;
const NETDEV_A_QUEUE_NAPI_ID: u16 = 4;
pub(crate) const NETDEV_A_NAPI_IFINDEX: u16 = 1;
pub(crate) const NETDEV_A_NAPI_ID: u16 = 2;
const NETDEV_QUEUE_TYPE_RX: u32 = 0;
const NETDEV_QUEUE_TYPE_TX: u32 = 1;

/// Declares a set of kernel flag bits with their netlink names.
macro_rules! flag_set {
    ($(#[$doc:meta])* $t:ident { $($(#[$fdoc:meta])* $name:ident = $bit:expr, $text:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $t(pub u64);

        impl $t {
            $($(#[$fdoc])* pub const $name: $t = $t($bit);)+
            /// Each known flag with its netlink name, in bit order.
            pub const ALL: &'static [($t, &'static str)] = &[$(($t::$name, $text)),+];

            /// Whether every bit of `other` is set.
            pub fn contains(self, other: $t) -> bool {
                self.0 & other.0 == other.0
            }

            /// The netlink names of the bits set; unknown bits as hex.
            pub fn names(self) -> Vec<String> {
                let mut out: Vec<String> =
                    Self::ALL.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| n.to_string()).collect();
                let known = Self::ALL.iter().fold(0, |m, (f, _)| m | f.0);
                if self.0 & !known != 0 {
                    out.push(format!("{:#x}", self.0 & !known));
                }
                out
            }
        }

        /// "basic, redirect, rx-sg", or "none".
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let n = self.names();
                f.write_str(if n.is_empty() { "none".to_string() } else { n.join(", ") }.as_str())
            }
        }
    };
}

flag_set! {
    /// The XDP actions a device supports (`enum netdev_xdp_act`).
    XdpFeatures {
        /// XDP_ABORTED, XDP_DROP, XDP_PASS and XDP_TX.
        BASIC = 1, "basic";
        /// XDP_REDIRECT: what the built-in program needs in drv mode.
        REDIRECT = 2, "redirect";
        /// Takes frames redirected from elsewhere (`ndo_xdp_xmit`).
        NDO_XMIT = 4, "ndo-xmit";
        /// Zero-copy AF_XDP (`XDP_ZEROCOPY` binds).
        XSK_ZEROCOPY = 8, "xsk-zerocopy";
        /// Programs offloaded to the NIC.
        HW_OFFLOAD = 16, "hw-offload";
        /// Multi-buffer packets on receive (`BPF_F_XDP_HAS_FRAGS` programs).
        RX_SG = 32, "rx-sg";
        /// Multi-buffer frames through `ndo_xdp_xmit`.
        NDO_XMIT_SG = 64, "ndo-xmit-sg";
    }
}

flag_set! {
    /// The AF_XDP TX metadata a device honours (`enum netdev_xsk_flags`).
    XskFeatures {
        /// Completion timestamps.
        TX_TIMESTAMP = 1, "tx-timestamp";
        /// Checksum offload.
        TX_CHECKSUM = 2, "tx-checksum";
        /// Launch time on a FIFO queue.
        TX_LAUNCH_TIME_FIFO = 4, "tx-launch-time-fifo";
    }
}

/// How programs sit on the device (`IFLA_XDP_ATTACHED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Attached {
    #[default]
    None = 0,
    Drv = 1,
    Skb = 2,
    Hw = 3,
    /// Several modes at once.
    Multi = 4,
}

impl fmt::Display for Attached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attached::None => "none",
            Attached::Drv => "drv",
            Attached::Skb => "skb",
            Attached::Hw => "hw",
            Attached::Multi => "multi",
        })
    }
}

/// An XDP program attached to the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedProgram {
    /// The kernel's program id (`bpftool prog show id N`).
    pub id: u32,
    /// Its name, or `None` when this process may not open it by id (that
    /// needs `CAP_SYS_ADMIN`, or `CAP_BPF` on Linux 5.8+) or it went away.
    pub name: Option<String>,
    /// Whether it is xsk_rs's built-in redirect program (named
    /// `xsk_rs_redirect`), from this process or another.
    pub xsk_rs: bool,
}

impl fmt::Display for AttachedProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "id {}", self.id)?;
        if let Some(n) = &self.name {
            write!(f, " {n:?}")?;
        }
        if self.xsk_rs {
            f.write_str(" (xsk_rs's built-in program)")?;
        }
        Ok(())
    }
}

/// The XDP programs on the device, per mode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XdpPrograms {
    pub attached: Attached,
    pub skb: Option<AttachedProgram>,
    pub drv: Option<AttachedProgram>,
    pub hw: Option<AttachedProgram>,
}

impl XdpPrograms {
    /// Each attached program with its mode name ("skb", "drv", "hw").
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &AttachedProgram)> {
        [("skb", &self.skb), ("drv", &self.drv), ("hw", &self.hw)]
            .into_iter()
            .filter_map(|(m, p)| Some((m, p.as_ref()?)))
    }
}

/// What an interface offers AF_XDP. `None` fields are what this kernel does
/// not say (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Index, queue counts and MTU ([`Netdev::max_frame_len`] is the longest
    /// frame a peer takes).
    pub dev: Netdev,
    /// `xdp-features` (netdev netlink, Linux 6.3).
    pub xdp_features: Option<XdpFeatures>,
    /// `xdp-zc-max-segs`: the most buffers of a zero-copy multi-buffer packet;
    /// 1 means no zero-copy multi-buffer (Linux 6.6).
    pub xdp_zc_max_segs: Option<u32>,
    /// `xsk-features` (Linux 6.8).
    pub xsk_features: Option<XskFeatures>,
    /// The NAPI id of each RX queue `0..dev.rx_queues`, 0 where the queue has
    /// no NAPI instance (veth has one only while it runs NAPI: XDP in drv
    /// mode, or GRO on). `None`: no `queue-get` in this kernel (Linux 6.8).
    /// A device that is down lists no queues: every id is 0.
    pub rx_napi_ids: Option<Vec<u32>>,
    /// As `rx_napi_ids`, for the TX queues `0..dev.tx_queues`.
    pub tx_napi_ids: Option<Vec<u32>>,
    /// Every NAPI instance of the device (netdev `napi-get`, Linux 6.8),
    /// ascending, whether or not a queue names it: veth registers one per RX
    /// queue while it runs NAPI but links none to its queues. `None` as for
    /// `rx_napi_ids`.
    pub napi_ids: Option<Vec<u32>>,
    /// The XDP programs attached.
    pub xdp: XdpPrograms,
}

impl Capabilities {
    /// Asks the kernel what interface `ifname` of the calling thread's
    /// network namespace offers.
    ///
    /// Errors: those of [`Netdev::lookup`] (`ENODEV`, `EINVAL` for a bad
    /// name), and a netlink failure other than a missing family or op.
    pub fn query(ifname: &str) -> Result<Capabilities> {
        let (dev, link) = Netdev::lookup_link(ifname)?;
        let mut caps = Capabilities {
            dev,
            xdp_features: None,
            xdp_zc_max_segs: None,
            xsk_features: None,
            rx_napi_ids: None,
            tx_napi_ids: None,
            napi_ids: None,
            xdp: programs(&link),
        };
        let mut nl = GenlSocket::open()?;
        let Some(fam) = nl.family(NETDEV_FAMILY)? else { return Ok(caps) };
        if fam.can_do(NETDEV_CMD_DEV_GET) {
            caps.dev_get(&mut nl, &fam)?;
        }
        if fam.can_dump(NETDEV_CMD_QUEUE_GET) {
            caps.queue_dump(&mut nl, &fam)?;
        }
        if fam.can_dump(NETDEV_CMD_NAPI_GET) {
            caps.napi_dump(&mut nl, &fam)?;
        }
        Ok(caps)
    }

    fn napi_dump(&mut self, nl: &mut GenlSocket, fam: &Family) -> Result<()> {
        let mut ids = Vec::new();
        let mut req = AttrBuf::new();
        req.put_u32(NETDEV_A_NAPI_IFINDEX, self.dev.ifindex);
        let what = format!("interface {}: netdev napi-get", self.dev.name);
        let ifindex = self.dev.ifindex;
        nl.dump(fam, NETDEV_CMD_NAPI_GET, &req, &what, |m| {
            let idx = m.attrs().get(NETDEV_A_NAPI_IFINDEX).and_then(|a| a.u32());
            if let (Some(id), Some(true)) =
                (m.attrs().get(NETDEV_A_NAPI_ID).and_then(|a| a.u32()), idx.map(|i| i == ifindex))
            {
                ids.push(id);
            }
            Ok(())
        })?;
        ids.sort_unstable();
        self.napi_ids = Some(ids);
        Ok(())
    }

    fn dev_get(&mut self, nl: &mut GenlSocket, fam: &Family) -> Result<()> {
        let mut req = AttrBuf::new();
        req.put_u32(NETDEV_A_DEV_IFINDEX, self.dev.ifindex);
        let what = format!("interface {}: netdev dev-get", self.dev.name);
        for m in nl.request(fam, NETDEV_CMD_DEV_GET, &req, &what)? {
            for a in m.attrs() {
                match a.kind {
                    NETDEV_A_DEV_XDP_FEATURES => self.xdp_features = a.u64().map(XdpFeatures),
                    NETDEV_A_DEV_XDP_ZC_MAX_SEGS => self.xdp_zc_max_segs = a.u32(),
                    NETDEV_A_DEV_XSK_FEATURES => self.xsk_features = a.u64().map(XskFeatures),
                    _ => {}
                }
            }
        }
        // dev-get always has xdp-features: a reply without it is not one.
        if self.xdp_features.is_none() {
            return Err(Error::from_errno(format!("{what}: the answer has no xdp-features"), libc::EPROTO));
        }
        Ok(())
    }

    fn queue_dump(&mut self, nl: &mut GenlSocket, fam: &Family) -> Result<()> {
        let mut rx = vec![0u32; self.dev.rx_queues as usize];
        let mut tx = vec![0u32; self.dev.tx_queues as usize];
        let mut req = AttrBuf::new();
        req.put_u32(NETDEV_A_QUEUE_IFINDEX, self.dev.ifindex);
        let what = format!("interface {}: netdev queue-get", self.dev.name);
        let ifindex = self.dev.ifindex;
        nl.dump(fam, NETDEV_CMD_QUEUE_GET, &req, &what, |m| {
            let (mut id, mut idx, mut kind, mut napi) = (None, None, None, 0);
            for a in m.attrs() {
                match a.kind {
                    NETDEV_A_QUEUE_ID => id = a.u32(),
                    NETDEV_A_QUEUE_IFINDEX => idx = a.u32(),
                    NETDEV_A_QUEUE_TYPE => kind = a.u32(),
                    NETDEV_A_QUEUE_NAPI_ID => napi = a.u32().unwrap_or(0),
                    _ => {}
                }
            }
            // Kernels that ignore the filter dump every device: keep ours.
            if idx != Some(ifindex) {
                return Ok(());
            }
            let slot = match (kind, id) {
                (Some(NETDEV_QUEUE_TYPE_RX), Some(q)) => rx.get_mut(q as usize),
                (Some(NETDEV_QUEUE_TYPE_TX), Some(q)) => tx.get_mut(q as usize),
                _ => None,
            };
            if let Some(s) = slot {
                *s = napi;
            }
            Ok(())
        })?;
        self.rx_napi_ids = Some(rx);
        self.tx_napi_ids = Some(tx);
        Ok(())
    }

    /// The xdp-features, or `EOPNOTSUPP` naming the netdev netlink family
    /// and the release it needs.
    pub fn require_xdp_features(&self, what: &str) -> Result<XdpFeatures> {
        match self.xdp_features {
            Some(f) => Ok(f),
            None => Feature::NetdevNetlink.require(what).and(Err(unknown(what, "xdp-features"))),
        }
    }

    /// The xsk-features, or `EOPNOTSUPP` naming what this kernel lacks.
    pub fn require_xsk_features(&self, what: &str) -> Result<XskFeatures> {
        match self.xsk_features {
            Some(f) => Ok(f),
            None => Feature::NetdevNetlink
                .require(what)
                .and(Feature::TxMetadata.require(what))
                .and(Err(unknown(what, "xsk-features"))),
        }
    }

    /// The NAPI id of RX (`tx` false) or TX queue `queue`: 0 when it has
    /// none. `EOPNOTSUPP` on a kernel without netdev `queue-get` (Linux
    /// 6.8), `EINVAL` for a queue the device does not have.
    pub fn napi_id(&self, queue: u32, tx: bool) -> Result<u32> {
        let (ids, count, dir) = match tx {
            false => (&self.rx_napi_ids, self.dev.rx_queues, "rx"),
            true => (&self.tx_napi_ids, self.dev.tx_queues, "tx"),
        };
        let what = format!("interface {}: NAPI id of {dir} queue {queue}", self.dev.name);
        super::check_range(queue, count, &what, format_args!("{} has {count} {dir} queues", self.dev.name))?;
        match ids {
            Some(ids) => Ok(ids[queue as usize]),
            None => Feature::NetdevQueues.require(&what).and(Err(unknown(&what, "queue-get"))),
        }
    }

    /// Whether a bind with zero-copy (`zerocopy`) and/or multi-buffer
    /// (`multi_buffer`) can work on this device, as far as the kernel tells:
    /// `EOPNOTSUPP` with the reason when it cannot (no `xsk-zerocopy` in
    /// xdp-features; zero-copy multi-buffer where `xdp-zc-max-segs` is 1),
    /// `Ok` when it can or the kernel does not say.
    pub fn check_bind(&self, zerocopy: bool, multi_buffer: bool) -> Result<()> {
        match self.bind_lack(zerocopy, multi_buffer) {
            Some((what, why)) => Err(Error::NotSupported(format!("interface {}: no {what}: {why}", self.dev.name))),
            None => Ok(()),
        }
    }

    /// What [`Self::check_bind`] refuses: (the kind of bind, why).
    fn bind_lack(&self, zerocopy: bool, multi_buffer: bool) -> Option<(&'static str, String)> {
        if !zerocopy {
            return None;
        }
        if let Some(why) = self.zerocopy_lack() {
            return Some(("zero-copy AF_XDP", why));
        }
        (multi_buffer && self.xdp_zc_max_segs == Some(1)).then(|| {
            (
                "zero-copy multi-buffer AF_XDP",
                "its xdp-zc-max-segs is 1 (the driver takes one buffer per packet in zero-copy mode); use copy mode \
                 for multi-buffer, or frames that hold a whole packet"
                    .to_string(),
            )
        })
    }

    /// Why the device cannot do zero-copy, if its xdp-features say so.
    fn zerocopy_lack(&self) -> Option<String> {
        let f = self.xdp_features?;
        (!f.contains(XdpFeatures::XSK_ZEROCOPY))
            .then(|| format!("the device lacks xsk-zerocopy in its xdp-features (it has: {f}); use copy mode"))
    }
}

fn unknown(what: &str, field: &str) -> Error {
    Error::NotSupported(format!("{what}: this kernel's netdev netlink family does not report {field}"))
}

/// The programs of `IFLA_XDP`, with their names where this process may read them.
fn programs(link: &XdpLink) -> XdpPrograms {
    let prog = |id: u32| (id != 0).then(|| program(id));
    XdpPrograms {
        attached: match link.attached {
            1 => Attached::Drv,
            2 => Attached::Skb,
            3 => Attached::Hw,
            4 => Attached::Multi,
            _ => Attached::None,
        },
        skb: prog(link.skb),
        drv: prog(link.drv),
        hw: prog(link.hw),
    }
}

/// Program `id` with its name (`None` when it cannot be opened).
pub(crate) fn program(id: u32) -> AttachedProgram {
    let name = crate::xdp::program_name(id);
    let xsk_rs = name.as_deref() == Some(crate::xdp::Program::REDIRECT_NAME);
    AttachedProgram { id, name, xsk_rs }
}

/// For an attach the kernel refused as busy: " (attached: drv program id 42
/// \"prog\")", naming what sits on `ifname`, or "" when nothing can be told.
pub(crate) fn attached_hint(ifname: &str) -> String {
    let Ok((_, link)) = Netdev::lookup_link(ifname) else { return String::new() };
    let progs = programs(&link);
    let list: Vec<String> = progs.iter().map(|(mode, p)| format!("{mode} program {p}")).collect();
    if list.is_empty() {
        return String::new();
    }
    format!(" (attached: {})", list.join(", "))
}

/// For a zero-copy bind (with `XDP_USE_SG` when `multi_buffer`) the kernel
/// refused: what kind of bind the device cannot do and why, as
/// [`Capabilities::check_bind`] tells ("zero-copy AF_XDP", "the device lacks
/// xsk-zerocopy in its xdp-features (it has: ...)"), or `None` when the
/// kernel does not say. Asked only once a bind failed: a socket that binds
/// pays for no netlink query.
pub(crate) fn zerocopy_refusal(ifname: &str, multi_buffer: bool) -> Option<(&'static str, String)> {
    Capabilities::query(ifname).ok()?.bind_lack(true, multi_buffer)
}

/// Whether this kernel has the netdev family ([`Feature::NetdevNetlink`])
/// and its `queue-get` ([`Feature::NetdevQueues`]).
pub(crate) fn probe_family() -> Result<(bool, bool)> {
    let mut nl = GenlSocket::open()?;
    Ok(match nl.family(NETDEV_FAMILY)? {
        Some(f) => (true, f.can_dump(NETDEV_CMD_QUEUE_GET)),
        None => (false, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_their_netlink_names() {
        let f = XdpFeatures(1 | 2 | 32);
        assert_eq!(f.to_string(), "basic, redirect, rx-sg");
        assert!(f.contains(XdpFeatures::REDIRECT) && !f.contains(XdpFeatures::XSK_ZEROCOPY));
        assert_eq!(XdpFeatures(0).to_string(), "none");
        assert_eq!(XdpFeatures(8 | 256).names(), ["xsk-zerocopy", "0x100"]);
        assert_eq!(XskFeatures(7).to_string(), "tx-timestamp, tx-checksum, tx-launch-time-fifo");
    }

    fn caps(xdp: Option<u64>, segs: Option<u32>) -> Capabilities {
        Capabilities {
            dev: Netdev {
                name: "eth9".into(),
                ifindex: 3,
                netns: (0, 0),
                rx_queues: 2,
                tx_queues: 1,
                max_queues: 2,
                mtu: 1500,
            },
            xdp_features: xdp.map(XdpFeatures),
            xdp_zc_max_segs: segs,
            xsk_features: None,
            rx_napi_ids: Some(vec![0, 8193]),
            tx_napi_ids: None,
            napi_ids: None,
            xdp: XdpPrograms::default(),
        }
    }

    #[test]
    fn check_bind_explains_what_the_device_lacks() {
        let veth = caps(Some(1 | 2 | 32), Some(1));
        let e = veth.check_bind(true, false).unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP);
        assert!(
            e.to_string().contains("lacks xsk-zerocopy in its xdp-features (it has: basic, redirect, rx-sg)"),
            "{e}"
        );
        veth.check_bind(false, true).unwrap();
        let zc_single = caps(Some(1 | 2 | 8), Some(1));
        zc_single.check_bind(true, false).unwrap();
        let e = zc_single.check_bind(true, true).unwrap_err();
        assert!(e.to_string().contains("xdp-zc-max-segs is 1"), "{e}");
        caps(Some(1 | 2 | 8), Some(17)).check_bind(true, true).unwrap();
        // Nothing known: nothing refused.
        caps(None, None).check_bind(true, true).unwrap();
    }

    #[test]
    fn napi_ids_by_queue_with_range_and_unknown() {
        let c = caps(Some(1), None);
        assert_eq!(c.napi_id(1, false).unwrap(), 8193);
        assert_eq!(c.napi_id(0, false).unwrap(), 0);
        let e = c.napi_id(2, false).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("queue 2 out of range (eth9 has 2 rx queues)"), "{e}");
        // This kernel has queue-get, so the unknown TX ids are reported as
        // the family's omission, still EOPNOTSUPP.
        let e = c.napi_id(0, true).unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    }

    #[test]
    fn loopback_answers_everything_this_kernel_has() {
        let lo = Capabilities::query("lo").unwrap();
        assert_eq!(lo.dev.ifindex, 1);
        let (family, queues) = probe_family().unwrap();
        assert_eq!(lo.xdp_features.is_some(), family);
        assert_eq!(lo.rx_napi_ids.is_some(), queues);
        if family {
            // lo has no XDP of its own: generic XDP only.
            assert_eq!(lo.xdp_features, Some(XdpFeatures(0)), "{lo:?}");
            assert!(lo.check_bind(true, false).is_err());
        }
        assert_eq!(lo.xdp, XdpPrograms::default());
    }
}
