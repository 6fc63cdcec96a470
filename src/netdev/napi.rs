//! IRQ deferral of a device's NAPI instances, set for as long as an
//! [`IrqDeferral`] lives: `defer-hard-irqs`, `gro-flush-timeout` and
//! `irq-suspend-timeout`.
//!
//! Busy polling (`SocketConfig::busy_poll`) lets the application run the
//! driver's NAPI poll from `recvmsg`/`poll`/`sendto`. On a NIC under load the
//! device's interrupts then compete with it: each one schedules the same
//! NAPI in softirq on the interrupt's CPU. The deferral settings keep the
//! interrupt masked while the application polls:
//!
//! - `defer_hard_irqs`: how many times in a row a NAPI poll that found
//!   nothing (or a busy-poll round) may end without re-enabling the device's
//!   interrupt;
//! - `gro_flush_timeout_ns`: while deferred, a timer that runs the NAPI in
//!   softirq if nobody polled it for this long (the safety net when the
//!   application stops polling);
//! - `irq_suspend_timeout_ns` (Linux 6.13): with `SO_PREFER_BUSY_POLL` and an
//!   epoll context whose busy-poll parameters are set (`EPIOCSPARAMS`),
//!   interrupts stay suspended as long as `epoll_wait` keeps finding data,
//!   up to this long after the last.
//!
//! Where the kernel has per-NAPI configuration (netdev netlink `napi-set`,
//! Linux 6.13, [`Feature::NapiConfig`]), each NAPI instance of the device is
//! set, and its previous values (read with `napi-get`) are put back when the
//! guard drops. On older kernels the per-device files
//! `/sys/class/net/DEV/napi_defer_hard_irqs` and `.../gro_flush_timeout` are
//! used instead, and only when `/sys` shows the calling thread's network
//! namespace: sysfs shows the namespace it was mounted in, so the device
//! found there must have the index the calling thread's rtnetlink gives
//! it. Otherwise the call fails with `EOPNOTSUPP` naming both ways.
//!
//! Both ways need `CAP_NET_ADMIN`. The guard keeps the netlink socket (or
//! the sysfs files) it opened, so it restores the same device whichever
//! thread, in whichever namespace, drops it.
//!
//! **Restored on drop, not on `SIGKILL`.** A process killed with `SIGKILL`
//! (or the OOM killer, or a crash without unwinding) leaves the settings as
//! they were set: the device keeps deferring interrupts. With a non-zero
//! `gro_flush_timeout` packets are still received, only later (within that
//! timeout) when nobody busy-polls; with `defer_hard_irqs` set and
//! `gro_flush_timeout` 0 the kernel ignores the deferral. Restore by hand
//! with `ip`/`ynl` (`netdev napi-set`) or by writing the sysfs files
//! (defaults: 0 and 0).
//!
//! On veth, NAPI instances exist only while XDP runs in drv mode (or GRO is
//! on), so apply the settings after the socket is bound; instances created
//! later take the device's defaults, not these.
//!
//! ```no_run
//! use xsk_rs::netdev::{IrqDeferConfig, IrqDeferral};
//! let cfg = IrqDeferConfig { defer_hard_irqs: Some(2), gro_flush_timeout_ns: Some(200_000), ..Default::default() };
//! let mut guard = IrqDeferral::apply("eth0", &cfg)?;
//! println!("set on NAPI {:?} via {:?}", guard.napi_ids(), guard.via());
//! // ... busy-polling sockets run here ...
//! guard.restore()?; // or just drop it
//! # Ok::<(), xsk_rs::Error>(())
//! ```

use super::caps::{NETDEV_A_NAPI_ID, NETDEV_A_NAPI_IFINDEX, NETDEV_CMD_NAPI_GET, NETDEV_FAMILY};
use super::genl::{AttrBuf, Family, GenlSocket, Msg};
use super::Netdev;
use crate::error::{Error, Result};
use crate::features::Feature;
use std::fs::File;
use std::io::{Read, Seek, Write};

pub(crate) const NETDEV_CMD_NAPI_SET: u8 = 14;
const NETDEV_A_NAPI_DEFER_HARD_IRQS: u16 = 5;
const NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT: u16 = 6;
const NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT: u16 = 7;

/// The most `defer_hard_irqs` the kernel takes (`S32_MAX`).
pub const DEFER_HARD_IRQS_MAX: u32 = i32::MAX as u32;

/// What to set; `None` fields are left as they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrqDeferConfig {
    /// `napi_defer_hard_irqs`: empty polls before the interrupt is re-armed
    /// (0 to [`DEFER_HARD_IRQS_MAX`]).
    pub defer_hard_irqs: Option<u32>,
    /// `gro_flush_timeout` in nanoseconds: how long a deferred NAPI waits for
    /// a poll before softirq runs it.
    pub gro_flush_timeout_ns: Option<u64>,
    /// `irq-suspend-timeout` in nanoseconds (per-NAPI configuration only,
    /// Linux 6.13; it has no sysfs file).
    pub irq_suspend_timeout_ns: Option<u64>,
}

impl IrqDeferConfig {
    fn is_empty(&self) -> bool {
        *self == IrqDeferConfig::default()
    }
}

/// How an [`IrqDeferral`] set its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqDeferVia {
    /// Per NAPI instance, netdev netlink `napi-set` (Linux 6.13).
    NapiSet,
    /// The per-device sysfs files (`/sys/class/net/DEV/...`).
    Sysfs,
}

/// One NAPI instance's deferral settings, as `napi-get` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NapiSettings {
    /// The NAPI id (as `SO_INCOMING_NAPI_ID` reports it).
    pub id: u32,
    pub defer_hard_irqs: u32,
    pub gro_flush_timeout_ns: u64,
    /// `None` on a kernel that does not report it.
    pub irq_suspend_timeout_ns: Option<u64>,
}

/// Every NAPI instance of `ifname` (calling thread's namespace) with its
/// deferral settings, by ascending id. `EOPNOTSUPP` on a kernel without
/// per-NAPI configuration ([`Feature::NapiConfig`]).
pub fn napi_settings(ifname: &str) -> Result<Vec<NapiSettings>> {
    let dev = Netdev::lookup(ifname)?;
    let what = format!("interface {ifname}: NAPI settings");
    Feature::NapiConfig.require(&what)?;
    let mut nl = GenlSocket::open()?;
    let fam = netdev_family(&mut nl, &what)?;
    dump(&mut nl, &fam, &dev)
}

/// Device `ifname`'s IRQ deferral, set by [`IrqDeferral::apply`] and put back
/// when this drops (see the module doc, and its warning about `SIGKILL`).
#[derive(Debug)]
pub struct IrqDeferral {
    ifname: String,
    saved: Saved,
    restored: bool,
}

#[derive(Debug)]
enum Saved {
    /// The socket of the namespace the values were set in, and each NAPI's
    /// values before.
    Napi { nl: GenlSocket, fam: Family, before: Vec<NapiSettings> },
    /// Each file set, open, with its content before.
    Sysfs(Vec<(File, &'static str, String)>),
}

impl IrqDeferral {
    /// Sets `cfg` on every NAPI instance of `ifname` (or on the device,
    /// through sysfs, on kernels before 6.13) in the calling thread's
    /// network namespace.
    ///
    /// Errors: `EINVAL` for an empty config or `defer_hard_irqs` above
    /// [`DEFER_HARD_IRQS_MAX`]; `ENODEV`; `ENOENT` when the device has no
    /// NAPI instance (veth without XDP in drv mode); `EPERM` without
    /// `CAP_NET_ADMIN`; `EOPNOTSUPP` when neither way is open (see the
    /// module doc) or for `irq_suspend_timeout_ns` on a kernel without it.
    /// Nothing stays changed when it fails.
    pub fn apply(ifname: &str, cfg: &IrqDeferConfig) -> Result<IrqDeferral> {
        let via = if Feature::NapiConfig.available()? { IrqDeferVia::NapiSet } else { IrqDeferVia::Sysfs };
        IrqDeferral::apply_via(ifname, cfg, via)
    }

    /// As [`apply`](IrqDeferral::apply), the way chosen: `NapiSet` fails
    /// with `EOPNOTSUPP` before Linux 6.13; `Sysfs` sets the per-device
    /// files, which on 6.13 and later also set every NAPI instance of the
    /// device and the defaults of instances created later (veth's, when XDP
    /// is attached again), and cannot set `irq_suspend_timeout_ns`.
    pub fn apply_via(ifname: &str, cfg: &IrqDeferConfig, via: IrqDeferVia) -> Result<IrqDeferral> {
        let what = format!("irq deferral on {ifname}");
        if cfg.is_empty() {
            return Err(Error::invalid(format!(
                "{what}: nothing to set (give defer_hard_irqs, gro_flush_timeout or irq_suspend_timeout)"
            )));
        }
        if cfg.defer_hard_irqs.is_some_and(|d| d > DEFER_HARD_IRQS_MAX) {
            return Err(Error::invalid(format!(
                "{what}: defer_hard_irqs {} is above the kernel's most, {DEFER_HARD_IRQS_MAX}",
                cfg.defer_hard_irqs.unwrap_or(0)
            )));
        }
        let dev = Netdev::lookup(ifname)?;
        let saved = match via {
            IrqDeferVia::NapiSet => {
                Feature::NapiConfig.require(&what)?;
                apply_napi(&dev, cfg, &what)?
            }
            IrqDeferVia::Sysfs => apply_sysfs(&dev, cfg, &what)?,
        };
        Ok(IrqDeferral { ifname: ifname.to_string(), saved, restored: false })
    }

    /// How the values were set.
    pub fn via(&self) -> IrqDeferVia {
        match self.saved {
            Saved::Napi { .. } => IrqDeferVia::NapiSet,
            Saved::Sysfs(_) => IrqDeferVia::Sysfs,
        }
    }

    /// The NAPI instances set (empty for [`IrqDeferVia::Sysfs`], which sets
    /// the device).
    pub fn napi_ids(&self) -> Vec<u32> {
        match &self.saved {
            Saved::Napi { before, .. } => before.iter().map(|s| s.id).collect(),
            Saved::Sysfs(_) => Vec::new(),
        }
    }

    /// The values before, per NAPI instance (empty for sysfs).
    pub fn previous(&self) -> &[NapiSettings] {
        match &self.saved {
            Saved::Napi { before, .. } => before,
            Saved::Sysfs(_) => &[],
        }
    }

    /// Puts the previous values back now and says whether that worked; drop
    /// does the same and ignores failures. A NAPI instance that went away
    /// meanwhile (its device deleted, or veth's XDP detached) is skipped.
    /// Only the first call restores; later ones, and the drop, do nothing.
    pub fn restore(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.restored, true) {
            return Ok(());
        }
        let what = format!("irq deferral on {}: restore", self.ifname);
        let mut first_err = None;
        match &mut self.saved {
            Saved::Napi { nl, fam, before } => {
                for s in before.iter() {
                    match set_one(
                        nl,
                        fam,
                        s.id,
                        Some(s.defer_hard_irqs),
                        Some(s.gro_flush_timeout_ns),
                        s.irq_suspend_timeout_ns,
                        &what,
                    ) {
                        Ok(()) => {}
                        Err(e) if e.errno() == libc::ENOENT => {}
                        Err(e) => {
                            first_err.get_or_insert(e);
                        }
                    }
                }
            }
            Saved::Sysfs(files) => {
                // In reverse: gro_flush_timeout before napi_defer_hard_irqs
                // is as good as any order, and mirrors the apply.
                for (f, name, old) in files.iter_mut().rev() {
                    if let Err(e) = write_file(f, old) {
                        if e.raw_os_error() != Some(libc::ENODEV) {
                            first_err.get_or_insert(Error::from_errno(
                                format!("{what}: write {old:?} to {name}: {e}"),
                                e.raw_os_error().unwrap_or(libc::EIO),
                            ));
                        }
                    }
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for IrqDeferral {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

fn netdev_family(nl: &mut GenlSocket, what: &str) -> Result<Family> {
    nl.family(NETDEV_FAMILY)?
        .ok_or_else(|| Error::NotSupported(format!("{what}: this kernel has no netdev netlink family")))
}

/// Whether this kernel has netdev `napi-set` ([`Feature::NapiConfig`]).
pub(crate) fn probe() -> Result<bool> {
    let mut nl = GenlSocket::open()?;
    Ok(nl.family(NETDEV_FAMILY)?.is_some_and(|f| f.can_do(NETDEV_CMD_NAPI_SET) && f.can_dump(NETDEV_CMD_NAPI_GET)))
}

fn parse(m: &Msg, ifindex: u32) -> Option<NapiSettings> {
    let a = m.attrs();
    if a.clone().get(NETDEV_A_NAPI_IFINDEX)?.u32()? != ifindex {
        return None;
    }
    Some(NapiSettings {
        id: a.clone().get(NETDEV_A_NAPI_ID)?.u32()?,
        defer_hard_irqs: a.clone().get(NETDEV_A_NAPI_DEFER_HARD_IRQS)?.u32()?,
        gro_flush_timeout_ns: a.clone().get(NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT)?.u64()?,
        irq_suspend_timeout_ns: a.get(NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT).and_then(|v| v.u64()),
    })
}

fn dump(nl: &mut GenlSocket, fam: &Family, dev: &Netdev) -> Result<Vec<NapiSettings>> {
    let mut req = AttrBuf::new();
    req.put_u32(NETDEV_A_NAPI_IFINDEX, dev.ifindex);
    let what = format!("interface {}: netdev napi-get", dev.name);
    let mut out = Vec::new();
    nl.dump(fam, NETDEV_CMD_NAPI_GET, &req, &what, |m| {
        out.extend(parse(m, dev.ifindex));
        Ok(())
    })?;
    out.sort_unstable_by_key(|s| s.id);
    Ok(out)
}

fn set_one(
    nl: &mut GenlSocket,
    fam: &Family,
    id: u32,
    defer: Option<u32>,
    gro: Option<u64>,
    suspend: Option<u64>,
    what: &str,
) -> Result<()> {
    let mut req = AttrBuf::new();
    req.put_u32(NETDEV_A_NAPI_ID, id);
    if let Some(d) = defer {
        req.put_u32(NETDEV_A_NAPI_DEFER_HARD_IRQS, d);
    }
    if let Some(g) = gro {
        req.put_u64(NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, g);
    }
    if let Some(s) = suspend {
        req.put_u64(NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT, s);
    }
    nl.request(fam, NETDEV_CMD_NAPI_SET, &req, &format!("{what}: netdev napi-set NAPI {id}")).map(|_| ())
}

fn apply_napi(dev: &Netdev, cfg: &IrqDeferConfig, what: &str) -> Result<Saved> {
    let mut nl = GenlSocket::open()?;
    let fam = netdev_family(&mut nl, what)?;
    let before = dump(&mut nl, &fam, dev)?;
    if before.is_empty() {
        return Err(Error::from_errno(
            format!(
                "{what}: the device has no NAPI instance now (veth has them only while XDP runs in drv mode or \
                 GRO is on: bind the socket first)"
            ),
            libc::ENOENT,
        ));
    }
    if cfg.irq_suspend_timeout_ns.is_some() && before.iter().any(|s| s.irq_suspend_timeout_ns.is_none()) {
        return Err(Error::NotSupported(format!(
            "{what}: this kernel's napi-get does not report irq-suspend-timeout, so it cannot set it (Linux 6.13)"
        )));
    }
    let mut saved = Saved::Napi { nl, fam, before: Vec::new() };
    for s in &before {
        let Saved::Napi { nl, fam, before: done } = &mut saved else { unreachable!() };
        let r = set_one(nl, fam, s.id, cfg.defer_hard_irqs, cfg.gro_flush_timeout_ns, cfg.irq_suspend_timeout_ns, what);
        match r {
            Ok(()) => done.push(*s),
            // Gone between the dump and now: nothing to set or restore.
            Err(e) if e.errno() == libc::ENOENT => {}
            Err(e) => {
                // Put back what was set; the guard's drop does it.
                drop(IrqDeferral { ifname: dev.name.clone(), saved, restored: false });
                return Err(e);
            }
        }
    }
    Ok(saved)
}

/// The per-device files, only where `/sys/class/net/DEV` is the calling
/// thread's device.
fn apply_sysfs(dev: &Netdev, cfg: &IrqDeferConfig, what: &str) -> Result<Saved> {
    // Why the netlink way is closed, when it is.
    let no_napi_set = match Feature::NapiConfig.require(what) {
        Err(e) => e.to_string(),
        Ok(()) => format!("{what}: the per-device sysfs way was asked for"),
    };
    if cfg.irq_suspend_timeout_ns.is_some() {
        return Err(Error::NotSupported(format!(
            "{no_napi_set}; irq_suspend_timeout has no sysfs file, only netdev napi-set (Linux 6.13)"
        )));
    }
    let dir = format!("/sys/class/net/{}", dev.name);
    let sys_index = std::fs::read_to_string(format!("{dir}/ifindex")).ok().and_then(|s| s.trim().parse::<u32>().ok());
    // Indexes count from 1 in every namespace, so a device of the same name
    // and index elsewhere is likely; its hardware address tells them apart.
    let sys_addr = std::fs::read_to_string(format!("{dir}/address")).ok().map(|s| s.trim().to_string());
    let our_addr = hw_addr(&dev.name);
    if sys_index != Some(dev.ifindex) || sys_addr.is_none() || sys_addr != our_addr {
        let seen = match (sys_index, sys_addr) {
            (Some(i), _) if i != dev.ifindex => {
                format!("{dir} is ifindex {i}, this thread's {} is {}", dev.name, dev.ifindex)
            }
            (Some(_), Some(a)) => format!(
                "{dir} has address {a}, this thread's {} has {}",
                dev.name,
                our_addr.as_deref().unwrap_or("none that can be read")
            ),
            _ => format!("{dir} does not exist"),
        };
        return Err(Error::NotSupported(format!(
            "{no_napi_set}; and the per-device sysfs files cannot be used: /sys shows another network namespace \
             ({seen}); mount sysfs in this namespace, or set napi_defer_hard_irqs and gro_flush_timeout there"
        )));
    }
    let mut want: Vec<(&'static str, String)> = Vec::new();
    if let Some(d) = cfg.defer_hard_irqs {
        want.push(("napi_defer_hard_irqs", d.to_string()));
    }
    if let Some(g) = cfg.gro_flush_timeout_ns {
        want.push(("gro_flush_timeout", g.to_string()));
    }
    let mut files = Vec::new();
    for (name, value) in want {
        let path = format!("{dir}/{name}");
        let io_err = |step: &str, e: std::io::Error| {
            Error::from_errno(format!("{what}: {step} {path}: {e}"), e.raw_os_error().unwrap_or(libc::EIO))
        };
        // A failure here leaves the files set so far to the guard's drop,
        // which restores them.
        let step = (|| {
            let mut f =
                std::fs::OpenOptions::new().read(true).write(true).open(&path).map_err(|e| io_err("open", e))?;
            let mut old = String::new();
            f.read_to_string(&mut old).map_err(|e| io_err("read", e))?;
            write_file(&mut f, &value).map_err(|e| io_err(&format!("write {value} to"), e))?;
            Ok((f, old.trim().to_string()))
        })();
        let (f, old) = match step {
            Ok(v) => v,
            Err(e) => {
                drop(IrqDeferral { ifname: dev.name.clone(), saved: Saved::Sysfs(files), restored: false });
                return Err(e);
            }
        };
        files.push((f, name, old));
    }
    Ok(Saved::Sysfs(files))
}

/// Writes `value` to a sysfs attribute from its start (one write: sysfs
/// takes a store in one piece).
fn write_file(f: &mut File, value: &str) -> std::io::Result<()> {
    f.rewind()?;
    f.write_all(format!("{value}\n").as_bytes())
}

/// The hardware address of `name` in the calling thread's namespace, as
/// sysfs writes it ("02:58:53:4b:00:01"), from `SIOCGIFHWADDR`.
fn hw_addr(name: &str) -> Option<String> {
    // SAFETY: plain socket(2); owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a fresh fd that nothing else owns.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= req.ifr_name.len() {
        return None;
    }
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: SIOCGIFHWADDR reads the name and writes ifru_hwaddr of `req`.
    if unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::SIOCGIFHWADDR, &mut req) } != 0 {
        return None;
    }
    // SAFETY: the kernel filled ifru_hwaddr.
    let data = unsafe { req.ifr_ifru.ifru_hwaddr.sa_data };
    Some(data[..6].iter().map(|&b| format!("{:02x}", b as u8)).collect::<Vec<_>>().join(":"))
}
