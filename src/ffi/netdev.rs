//! What an interface offers AF_XDP (`xsk_rs_netdev_*`): a thin layer over
//! `netdev::Capabilities`.

use super::{c_str, config_sz_ok, fail, ffi_guard, init_config, misuse, refuse, SizedConfig};
use crate::netdev::Capabilities;
use std::ffi::{c_char, c_int};

/// `xdp_features` bit: XDP_ABORTED, XDP_DROP, XDP_PASS and XDP_TX.
pub const XSK_RS_XDP_FEATURE_BASIC: u64 = 1 << 0;
/// `xdp_features` bit: XDP_REDIRECT (what the built-in program needs in drv mode).
pub const XSK_RS_XDP_FEATURE_REDIRECT: u64 = 1 << 1;
/// `xdp_features` bit: takes frames redirected from elsewhere (`ndo_xdp_xmit`).
pub const XSK_RS_XDP_FEATURE_NDO_XMIT: u64 = 1 << 2;
/// `xdp_features` bit: zero-copy AF_XDP (`XSK_RS_BIND_ZEROCOPY` can work).
pub const XSK_RS_XDP_FEATURE_XSK_ZEROCOPY: u64 = 1 << 3;
/// `xdp_features` bit: programs offloaded to the NIC.
pub const XSK_RS_XDP_FEATURE_HW_OFFLOAD: u64 = 1 << 4;
/// `xdp_features` bit: multi-buffer packets on receive.
pub const XSK_RS_XDP_FEATURE_RX_SG: u64 = 1 << 5;
/// `xdp_features` bit: multi-buffer frames through `ndo_xdp_xmit`.
pub const XSK_RS_XDP_FEATURE_NDO_XMIT_SG: u64 = 1 << 6;

/// `xsk_features` bit: TX completion timestamps.
pub const XSK_RS_XSK_FEATURE_TX_TIMESTAMP: u64 = 1 << 0;
/// `xsk_features` bit: TX checksum offload.
pub const XSK_RS_XSK_FEATURE_TX_CHECKSUM: u64 = 1 << 1;
/// `xsk_features` bit: TX launch time on a FIFO queue.
pub const XSK_RS_XSK_FEATURE_TX_LAUNCH_TIME_FIFO: u64 = 1 << 2;

/// `known` bit: `xdp_features` is the kernel's answer (netdev netlink,
/// Linux 6.3); without it the field is 0 and means "unknown".
pub const XSK_RS_NETDEV_KNOWN_XDP_FEATURES: u32 = 1 << 0;
/// `known` bit: `xdp_zc_max_segs` was reported (Linux 6.6, and only for a
/// device with `XSK_RS_XDP_FEATURE_XSK_ZEROCOPY`).
pub const XSK_RS_NETDEV_KNOWN_XDP_ZC_MAX_SEGS: u32 = 1 << 1;
/// `known` bit: `xsk_features` is the kernel's answer (Linux 6.8).
pub const XSK_RS_NETDEV_KNOWN_XSK_FEATURES: u32 = 1 << 2;
/// `known` bit: the kernel tells queues' NAPI ids (netdev `queue-get`,
/// Linux 6.8): `xsk_rs_netdev_queue_napi_id` and `xsk_rs_netdev_napi_ids`
/// work; without it they return -EOPNOTSUPP.
pub const XSK_RS_NETDEV_KNOWN_NAPI_IDS: u32 = 1 << 3;

/// `xdp_attached`: no XDP program.
pub const XSK_RS_XDP_ATTACHED_NONE: u32 = 0;
/// `xdp_attached`: one program, native (driver) mode.
pub const XSK_RS_XDP_ATTACHED_DRV: u32 = 1;
/// `xdp_attached`: one program, generic (skb) mode.
pub const XSK_RS_XDP_ATTACHED_SKB: u32 = 2;
/// `xdp_attached`: one program, offloaded to the NIC.
pub const XSK_RS_XDP_ATTACHED_HW: u32 = 3;
/// `xdp_attached`: programs in several modes (see each `*_prog_id`).
pub const XSK_RS_XDP_ATTACHED_MULTI: u32 = 4;

/// What an interface offers AF_XDP, filled by `xsk_rs_netdev_query`.
/// Initialise it with `xsk_rs_netdev_info_init(&info, sizeof(info))`: like
/// the config structs it starts with its size and only grows at its end.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct xsk_rs_netdev_info {
    /// `sizeof` the caller's struct, set by `xsk_rs_netdev_info_init`.
    pub sz: usize,
    /// Interface index in the calling thread's network namespace.
    pub ifindex: u32,
    /// MTU: the longest frame a peer takes is mtu + 18 (Ethernet header
    /// and one VLAN tag).
    pub mtu: u32,
    /// RX queues in use: a socket with an RX ring binds below this.
    pub rx_queues: u32,
    /// TX queues in use: a socket with a TX ring binds below this.
    pub tx_queues: u32,
    /// The most queues the device was created with.
    pub max_queues: u32,
    /// `XSK_RS_NETDEV_KNOWN_*`: which of the kernel-reported fields below
    /// this kernel reported; a field without its bit is 0 and unknown.
    pub known: u32,
    /// `XSK_RS_XDP_FEATURE_*` bits (netdev `xdp-features`).
    pub xdp_features: u64,
    /// `XSK_RS_XSK_FEATURE_*` bits (netdev `xsk-features`).
    pub xsk_features: u64,
    /// Most buffers of a zero-copy multi-buffer packet (netdev
    /// `xdp-zc-max-segs`); 1: no zero-copy multi-buffer.
    pub xdp_zc_max_segs: u32,
    /// `XSK_RS_XDP_ATTACHED_*`.
    pub xdp_attached: u32,
    /// Id of the program attached in generic (skb) mode, or 0.
    pub skb_prog_id: u32,
    /// Id of the program attached in native (drv) mode, or 0.
    pub drv_prog_id: u32,
    /// Id of the program offloaded to the NIC, or 0.
    pub hw_prog_id: u32,
    /// 1 when the skb program is xsk_rs's built-in one (named
    /// `xsk_rs_redirect`, of this process or another), else 0.
    pub skb_prog_is_xsk_rs: u32,
    /// As `skb_prog_is_xsk_rs`, for the drv program.
    pub drv_prog_is_xsk_rs: u32,
    /// As `skb_prog_is_xsk_rs`, for the hw program.
    pub hw_prog_is_xsk_rs: u32,
    /// NUL-terminated name of the skb program; "" when none, or when this
    /// process may not open it by id (that needs CAP_SYS_ADMIN or CAP_BPF).
    pub skb_prog_name: [c_char; 16],
    /// As `skb_prog_name`, for the drv program.
    pub drv_prog_name: [c_char; 16],
    /// As `skb_prog_name`, for the hw program.
    pub hw_prog_name: [c_char; 16],
}

impl SizedConfig for xsk_rs_netdev_info {
    super::config_fields!(xsk_rs_netdev_info {
        ifindex: u32,
        mtu: u32,
        rx_queues: u32,
        tx_queues: u32,
        max_queues: u32,
        known: u32,
        xdp_features: u64,
        xsk_features: u64,
        xdp_zc_max_segs: u32,
        xdp_attached: u32,
        skb_prog_id: u32,
        drv_prog_id: u32,
        hw_prog_id: u32,
        skb_prog_is_xsk_rs: u32,
        drv_prog_is_xsk_rs: u32,
        hw_prog_is_xsk_rs: u32,
        skb_prog_name: [c_char; 16],
        drv_prog_name: [c_char; 16],
        hw_prog_name: [c_char; 16],
    });
    fn defaults() -> Self {
        // SAFETY: plain integers and byte arrays: all zeroes is valid.
        let mut d: Self = unsafe { std::mem::zeroed() };
        d.sz = std::mem::size_of::<Self>();
        d
    }
}
const _: () = assert!(super::fields_tile(xsk_rs_netdev_info::FIELDS, std::mem::size_of::<xsk_rs_netdev_info>()));

/// Sets `info` to an empty answer of `sz` bytes (pass `sizeof(*info)`)
/// before `xsk_rs_netdev_query`. Returns 0, or -EINVAL (NULL, or a `sz`
/// that is no size of the struct).
#[no_mangle]
pub extern "C" fn xsk_rs_netdev_info_init(info: *mut xsk_rs_netdev_info, sz: usize) -> c_int {
    ffi_guard!({ unsafe { init_config("xsk_rs_netdev_info_init", info, sz) } })
}

fn name16(name: Option<&str>) -> [c_char; 16] {
    let mut out = [0 as c_char; 16];
    for (d, s) in out.iter_mut().zip(name.unwrap_or("").bytes().take(15)) {
        *d = s as c_char;
    }
    out
}

fn to_info(c: &Capabilities) -> xsk_rs_netdev_info {
    let mut i = xsk_rs_netdev_info::defaults();
    i.ifindex = c.dev.ifindex;
    i.mtu = c.dev.mtu;
    i.rx_queues = c.dev.rx_queues;
    i.tx_queues = c.dev.tx_queues;
    i.max_queues = c.dev.max_queues;
    if let Some(f) = c.xdp_features {
        i.known |= XSK_RS_NETDEV_KNOWN_XDP_FEATURES;
        i.xdp_features = f.0;
    }
    if let Some(n) = c.xdp_zc_max_segs {
        i.known |= XSK_RS_NETDEV_KNOWN_XDP_ZC_MAX_SEGS;
        i.xdp_zc_max_segs = n;
    }
    if let Some(f) = c.xsk_features {
        i.known |= XSK_RS_NETDEV_KNOWN_XSK_FEATURES;
        i.xsk_features = f.0;
    }
    if c.rx_napi_ids.is_some() {
        i.known |= XSK_RS_NETDEV_KNOWN_NAPI_IDS;
    }
    i.xdp_attached = c.xdp.attached as u32;
    let slot = |p: &Option<crate::netdev::AttachedProgram>| match p {
        Some(p) => (p.id, p.xsk_rs as u32, name16(p.name.as_deref())),
        None => (0, 0, [0; 16]),
    };
    (i.skb_prog_id, i.skb_prog_is_xsk_rs, i.skb_prog_name) = slot(&c.xdp.skb);
    (i.drv_prog_id, i.drv_prog_is_xsk_rs, i.drv_prog_name) = slot(&c.xdp.drv);
    (i.hw_prog_id, i.hw_prog_is_xsk_rs, i.hw_prog_name) = slot(&c.xdp.hw);
    i
}

/// Asks the kernel what interface `ifname` of the calling thread's network
/// namespace offers AF_XDP, and fills `*info` (initialised by
/// `xsk_rs_netdev_info_init`; only its first `info->sz` bytes are
/// written). On a kernel without the netdev netlink family (before 6.3) or
/// without some of its fields, the call still succeeds: `info->known` says
/// which fields the kernel reported. Returns 0, or -EINVAL (NULL, a bad
/// name, `info` not initialised), -ENODEV (no such interface here), or
/// another netlink error. Any thread; it makes a few netlink and bpf(2)
/// calls and does not wait otherwise.
#[no_mangle]
pub extern "C" fn xsk_rs_netdev_query(ifname: *const c_char, info: *mut xsk_rs_netdev_info) -> c_int {
    const F: &str = "xsk_rs_netdev_query";
    ffi_guard!({
        if info.is_null() {
            return misuse(F, "info is NULL");
        }
        let name = match unsafe { c_str(F, "ifname", ifname) } {
            Ok(s) => s,
            Err(e) => return e,
        };
        let sz = unsafe { info.cast::<usize>().read_unaligned() };
        if !config_sz_ok::<xsk_rs_netdev_info>(sz) {
            return misuse(
                F,
                &format!("info->sz {sz} is not a struct size; initialise it with xsk_rs_netdev_info_init"),
            );
        }
        match Capabilities::query(name) {
            Ok(c) => {
                let full = to_info(&c);
                let ours = std::mem::size_of::<xsk_rs_netdev_info>();
                let word = std::mem::size_of::<usize>();
                // SAFETY: the caller's struct has sz bytes; the tail past ours
                // was zeroed by the init and stays so.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        (&full as *const xsk_rs_netdev_info).cast::<u8>().add(word),
                        info.cast::<u8>().add(word),
                        sz.min(ours) - word,
                    )
                };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Writes the NAPI id of RX queue `queue` (`is_tx` 0) or TX queue `queue`
/// (`is_tx` non-zero) of `ifname` to `*out`: 0 when the queue has no NAPI
/// instance (a device that is down lists none; veth links none to its
/// queues, see `xsk_rs_netdev_napi_ids`). Returns 0, -EINVAL (NULL, a
/// queue the device does not have), -ENODEV, or -EOPNOTSUPP on a kernel
/// without netdev `queue-get` (before 6.8; the message names it).
#[no_mangle]
pub extern "C" fn xsk_rs_netdev_queue_napi_id(ifname: *const c_char, queue: u32, is_tx: c_int, out: *mut u32) -> c_int {
    const F: &str = "xsk_rs_netdev_queue_napi_id";
    ffi_guard!({
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        let name = match unsafe { c_str(F, "ifname", ifname) } {
            Ok(s) => s,
            Err(e) => return e,
        };
        match Capabilities::query(name).and_then(|c| c.napi_id(queue, is_tx != 0)) {
            Ok(id) => {
                unsafe { out.write(id) };
                0
            }
            Err(e) => fail(F, e),
        }
    })
}

/// Writes the NAPI ids of every NAPI instance of `ifname` (netdev
/// `napi-get`), ascending, to `ids[0..cap]`, and their number to `*count`
/// (which may exceed `cap`: call again with more room). `ids` may be NULL
/// when `cap` is 0. veth has one per RX queue while it runs NAPI (native
/// XDP attached, or GRO on), and none otherwise. Returns 0, -EINVAL
/// (NULL), -ENODEV, or -EOPNOTSUPP before Linux 6.8.
#[no_mangle]
pub extern "C" fn xsk_rs_netdev_napi_ids(ifname: *const c_char, ids: *mut u32, cap: u32, count: *mut u32) -> c_int {
    const F: &str = "xsk_rs_netdev_napi_ids";
    ffi_guard!({
        if count.is_null() {
            return misuse(F, "count is NULL");
        }
        if ids.is_null() && cap > 0 {
            return misuse(F, &format!("ids is NULL with cap {cap}"));
        }
        let name = match unsafe { c_str(F, "ifname", ifname) } {
            Ok(s) => s,
            Err(e) => return e,
        };
        let caps = match Capabilities::query(name) {
            Ok(c) => c,
            Err(e) => return fail(F, e),
        };
        let Some(all) = caps.napi_ids.as_ref() else {
            let what = format!("interface {name}: NAPI ids");
            let e = crate::features::Feature::NetdevQueues.require(&what).err().unwrap_or_else(|| {
                crate::Error::NotSupported(format!("{what}: this kernel's netdev family has no napi-get"))
            });
            return refuse(F, &e.to_string(), -e.errno());
        };
        for (i, &id) in all.iter().take(cap as usize).enumerate() {
            unsafe { ids.add(i).write(id) };
        }
        unsafe { count.write(all.len() as u32) };
        0
    })
}
