//! IRQ deferral of a device (`xsk_rs_irq_defer`): a thin layer over
//! `netdev::IrqDeferral`.

use super::handle::{to_box, try_box, try_mut};
use super::{c_str, fail, ffi_guard, init_config, misuse, read_config, status, SizedConfig};
use crate::netdev::{IrqDeferConfig, IrqDeferVia, IrqDeferral};
use std::ffi::{c_char, c_int};

/// `xsk_rs_irq_defer_config.set` bit: set `defer_hard_irqs`.
pub const XSK_RS_IRQ_DEFER_SET_HARD_IRQS: u32 = 1 << 0;
/// `xsk_rs_irq_defer_config.set` bit: set `gro_flush_timeout_ns`.
pub const XSK_RS_IRQ_DEFER_SET_GRO_FLUSH_TIMEOUT: u32 = 1 << 1;
/// `xsk_rs_irq_defer_config.set` bit: set `irq_suspend_timeout_ns` (Linux
/// 6.13, per-NAPI configuration only).
pub const XSK_RS_IRQ_DEFER_SET_IRQ_SUSPEND_TIMEOUT: u32 = 1 << 2;

/// `xsk_rs_irq_defer_config.via`: netdev `napi-set` where the kernel has it
/// (6.13), else the per-device sysfs files where `/sys` shows the calling
/// thread's network namespace.
pub const XSK_RS_IRQ_DEFER_VIA_AUTO: u32 = 0;
/// `via`: every NAPI instance of the device, netdev netlink `napi-set`
/// (Linux 6.13); -EOPNOTSUPP before.
pub const XSK_RS_IRQ_DEFER_VIA_NAPI_SET: u32 = 1;
/// `via`: `/sys/class/net/DEV/napi_defer_hard_irqs` and
/// `.../gro_flush_timeout` (on 6.13+ these also set every NAPI instance and
/// the defaults of instances created later); only where `/sys` shows the
/// calling thread's network namespace.
pub const XSK_RS_IRQ_DEFER_VIA_SYSFS: u32 = 2;

/// What `xsk_rs_irq_defer_create` sets. Initialise it with
/// `xsk_rs_irq_defer_config_init(&cfg, sizeof(cfg))`, then set the values
/// and their bits in `set`; fields without their bit are left as they are.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xsk_rs_irq_defer_config {
    /// `sizeof` the caller's struct, set by `xsk_rs_irq_defer_config_init`.
    pub sz: usize,
    /// `XSK_RS_IRQ_DEFER_SET_*` bits: which values below to set (at least one).
    pub set: u32,
    /// `napi_defer_hard_irqs`: empty NAPI polls before the device's
    /// interrupt is re-armed (0 to 2147483647).
    pub defer_hard_irqs: u32,
    /// `gro_flush_timeout` in nanoseconds: how long a deferred NAPI waits for
    /// a busy poll before softirq runs it.
    pub gro_flush_timeout_ns: u64,
    /// `irq-suspend-timeout` in nanoseconds (with `SO_PREFER_BUSY_POLL` and
    /// epoll busy-poll parameters).
    pub irq_suspend_timeout_ns: u64,
    /// `XSK_RS_IRQ_DEFER_VIA_*` (default AUTO).
    pub via: u32,
    /// Must be 0.
    pub reserved: u32,
}

impl SizedConfig for xsk_rs_irq_defer_config {
    super::config_fields!(xsk_rs_irq_defer_config {
        set: u32,
        defer_hard_irqs: u32,
        gro_flush_timeout_ns: u64,
        irq_suspend_timeout_ns: u64,
        via: u32,
        reserved: u32,
    });
    fn defaults() -> Self {
        xsk_rs_irq_defer_config {
            sz: std::mem::size_of::<Self>(),
            set: 0,
            defer_hard_irqs: 0,
            gro_flush_timeout_ns: 0,
            irq_suspend_timeout_ns: 0,
            via: XSK_RS_IRQ_DEFER_VIA_AUTO,
            reserved: 0,
        }
    }
}
const _: () =
    assert!(super::fields_tile(xsk_rs_irq_defer_config::FIELDS, std::mem::size_of::<xsk_rs_irq_defer_config>()));

/// A device's IRQ deferral, set by `xsk_rs_irq_defer_create` and put back by
/// `xsk_rs_irq_defer_restore` or `xsk_rs_irq_defer_destroy`. One thread at
/// a time; any thread (it restores the device it set, whichever network
/// namespace the destroying thread is in).
///
/// A process killed with SIGKILL (or crashing) cannot restore: the device
/// keeps deferring its interrupts. With a non-zero `gro_flush_timeout`
/// packets still arrive, later (within that timeout) when nobody
/// busy-polls. Restore by hand with netdev `napi-set` (`ynl`) or the sysfs
/// files (defaults 0 and 0).
pub struct xsk_rs_irq_defer {
    _opaque: [u8; 0],
}

/// Sets `cfg` to the defaults (nothing set, `XSK_RS_IRQ_DEFER_VIA_AUTO`)
/// with `sz` bytes (pass `sizeof(*cfg)`). Returns 0 or -EINVAL.
#[no_mangle]
pub extern "C" fn xsk_rs_irq_defer_config_init(cfg: *mut xsk_rs_irq_defer_config, sz: usize) -> c_int {
    ffi_guard!({ unsafe { init_config("xsk_rs_irq_defer_config_init", cfg, sz) } })
}

/// Sets the values of `cfg` (NULL: invalid, nothing to set) on interface
/// `ifname` of the calling thread's network namespace, and writes a handle
/// that puts the previous values back to `*out`. Where the kernel has
/// per-NAPI configuration (6.13), every NAPI instance of the device is set:
/// on veth they exist only while XDP runs in drv mode, so create this after
/// the socket. Returns 0, or -EINVAL (NULL `ifname`/`out`, no `set` bit,
/// unknown bits or `via`, `defer_hard_irqs` above 2147483647), -ENODEV,
/// -ENOENT (the device has no NAPI instance), -EPERM (no CAP_NET_ADMIN),
/// -EOPNOTSUPP (no napi-set and /sys shows another network namespace, or
/// `irq_suspend_timeout_ns` where only sysfs can be used; the message names
/// both ways). Nothing stays changed when it fails.
#[no_mangle]
pub extern "C" fn xsk_rs_irq_defer_create(
    ifname: *const c_char,
    cfg: *const xsk_rs_irq_defer_config,
    out: *mut *mut xsk_rs_irq_defer,
) -> c_int {
    const F: &str = "xsk_rs_irq_defer_create";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let name = match unsafe { c_str(F, "ifname", ifname) } {
            Ok(s) => s,
            Err(e) => return e,
        };
        if cfg.is_null() {
            return misuse(F, "cfg is NULL (nothing to set)");
        }
        let c = match unsafe { read_config(F, cfg) } {
            Ok(c) => c,
            Err(e) => return e,
        };
        let known = XSK_RS_IRQ_DEFER_SET_HARD_IRQS
            | XSK_RS_IRQ_DEFER_SET_GRO_FLUSH_TIMEOUT
            | XSK_RS_IRQ_DEFER_SET_IRQ_SUSPEND_TIMEOUT;
        if c.set & !known != 0 {
            return misuse(F, &format!("cfg->set has unknown bits {:#x}", c.set & !known));
        }
        if c.reserved != 0 {
            return misuse(F, &format!("cfg->reserved is {}, not 0", c.reserved));
        }
        let via = match c.via {
            XSK_RS_IRQ_DEFER_VIA_AUTO => None,
            XSK_RS_IRQ_DEFER_VIA_NAPI_SET => Some(IrqDeferVia::NapiSet),
            XSK_RS_IRQ_DEFER_VIA_SYSFS => Some(IrqDeferVia::Sysfs),
            v => return misuse(F, &format!("cfg->via {v} is not XSK_RS_IRQ_DEFER_VIA_AUTO, _NAPI_SET or _SYSFS")),
        };
        let has = |bit: u32| c.set & bit != 0;
        let rust = IrqDeferConfig {
            defer_hard_irqs: has(XSK_RS_IRQ_DEFER_SET_HARD_IRQS).then_some(c.defer_hard_irqs),
            gro_flush_timeout_ns: has(XSK_RS_IRQ_DEFER_SET_GRO_FLUSH_TIMEOUT).then_some(c.gro_flush_timeout_ns),
            irq_suspend_timeout_ns: has(XSK_RS_IRQ_DEFER_SET_IRQ_SUSPEND_TIMEOUT).then_some(c.irq_suspend_timeout_ns),
        };
        let r = match via {
            None => IrqDeferral::apply(name, &rust),
            Some(v) => IrqDeferral::apply_via(name, &rust, v),
        };
        match r {
            Ok(g) => {
                unsafe { *out = to_box(g) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// How the values were set: `XSK_RS_IRQ_DEFER_VIA_NAPI_SET` or
/// `XSK_RS_IRQ_DEFER_VIA_SYSFS`, or -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_irq_defer_via(h: *mut xsk_rs_irq_defer) -> c_int {
    ffi_guard!({
        match unsafe { try_mut(h) } {
            Some(g) => match g.via() {
                IrqDeferVia::NapiSet => XSK_RS_IRQ_DEFER_VIA_NAPI_SET as c_int,
                IrqDeferVia::Sysfs => XSK_RS_IRQ_DEFER_VIA_SYSFS as c_int,
            },
            None => misuse("xsk_rs_irq_defer_via", "handle is NULL"),
        }
    })
}

/// The number of NAPI instances set (0 for `XSK_RS_IRQ_DEFER_VIA_SYSFS`,
/// which sets the device), or -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_irq_defer_napi_count(h: *mut xsk_rs_irq_defer) -> c_int {
    ffi_guard!({
        match unsafe { try_mut(h) } {
            Some(g) => g.napi_ids().len() as c_int,
            None => misuse("xsk_rs_irq_defer_napi_count", "handle is NULL"),
        }
    })
}

/// Puts the previous values back now. Returns 0 (also when a NAPI instance
/// went away meanwhile, and on later calls, which do nothing), -EINVAL for
/// NULL, or the first failure (the others are still tried). The handle
/// stays valid, to destroy.
#[no_mangle]
pub extern "C" fn xsk_rs_irq_defer_restore(h: *mut xsk_rs_irq_defer) -> c_int {
    const F: &str = "xsk_rs_irq_defer_restore";
    ffi_guard!({
        match unsafe { try_mut(h) } {
            Some(g) => status(F, g.restore()),
            None => misuse(F, "handle is NULL"),
        }
    })
}

/// Puts the previous values back (unless `xsk_rs_irq_defer_restore` did;
/// failures are not reported) and frees the handle. NULL is a no-op.
#[no_mangle]
pub extern "C" fn xsk_rs_irq_defer_destroy(h: *mut xsk_rs_irq_defer) {
    ffi_guard!({
        // SAFETY: NULL or a live handle from xsk_rs_irq_defer_create.
        drop(unsafe { try_box(h) });
    })
}
