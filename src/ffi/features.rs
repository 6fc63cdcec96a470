//! What the running kernel can do (`xsk_rs_kernel_features`), probed once per
//! process by `crate::features`.

use super::{ffi_guard, misuse};
use crate::features::{Feature, ALL};
use std::ffi::{c_char, c_int, CString};
use std::sync::OnceLock;

/// Multi-buffer AF_XDP, jumbo frames (`XDP_USE_SG`, Linux 6.6).
pub const XSK_RS_FEATURE_MULTI_BUFFER: u64 = 1 << 0;
/// XDP programs that take fragmented packets (`BPF_F_XDP_HAS_FRAGS`, 5.18).
pub const XSK_RS_FEATURE_XDP_FRAGS: u64 = 1 << 1;
/// AF_XDP TX metadata (`tx_metadata_len`, Linux 6.8).
pub const XSK_RS_FEATURE_TX_METADATA: u64 = 1 << 2;
/// Software TX checksums in copy mode (`XDP_UMEM_TX_SW_CSUM`, Linux 6.8).
pub const XSK_RS_FEATURE_TX_SW_CSUM: u64 = 1 << 3;
/// Preferred busy polling and its budget (`SO_PREFER_BUSY_POLL`, 5.11).
pub const XSK_RS_FEATURE_PREFER_BUSY_POLL: u64 = 1 << 4;
/// The netdev netlink family: `xdp-features` in `xsk_rs_netdev_query` (6.3).
pub const XSK_RS_FEATURE_NETDEV_NETLINK: u64 = 1 << 5;
/// Its `queue-get`: the NAPI id of each queue (Linux 6.8).
pub const XSK_RS_FEATURE_NETDEV_QUEUES: u64 = 1 << 6;
/// Its `napi-set`: per-NAPI IRQ deferral for `xsk_rs_irq_defer_create`
/// (Linux 6.13).
pub const XSK_RS_FEATURE_NAPI_CONFIG: u64 = 1 << 7;

/// Writes to `*available` the `XSK_RS_FEATURE_*` bits of what the running
/// kernel has, and to `*unknown` (unless NULL) the bits of features whose
/// probe could not run (an AF_XDP socket needs `CAP_NET_RAW`, a BPF program
/// `CAP_BPF`; no fd left): those are not in `*available`, and are probed
/// again by the next call. Each feature is probed once per process by asking
/// the kernel (an unknown flag or option is refused), never from the version
/// string; later calls answer from that. Returns 0, or -EINVAL (NULL
/// `available`), writing nothing then. When a probe could not run, the last
/// error says why. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_kernel_features(available: *mut u64, unknown: *mut u64) -> c_int {
    const F: &str = "xsk_rs_kernel_features";
    ffi_guard!({
        if available.is_null() {
            return misuse(F, "available is NULL");
        }
        let (mut bits, mut unsure) = (0, 0);
        for f in ALL {
            match f.available() {
                Ok(true) => bits |= f.bit(),
                Ok(false) => {}
                Err(e) => {
                    unsure |= f.bit();
                    super::set_last_error(format!("{F}: {e}"));
                }
            }
        }
        // SAFETY: available is non-NULL and the caller's to write; unknown
        // too where non-NULL.
        unsafe {
            *available = bits;
            if !unknown.is_null() {
                *unknown = unsure;
            }
        }
        0
    })
}

/// The feature of one `XSK_RS_FEATURE_*` bit, with its name and release as
/// C strings of static storage.
fn entry(bit: u64) -> Option<&'static (Feature, CString, CString)> {
    static TABLE: OnceLock<Vec<(Feature, CString, CString)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let c = |s: &str| CString::new(s).expect("no NUL in a feature's texts");
        ALL.into_iter().map(|f| (f, c(f.name()), c(f.since()))).collect()
    });
    table.iter().find(|(f, _, _)| f.bit() == bit)
}

/// A feature's name (e.g. "multi-buffer AF_XDP (XDP_USE_SG)") for one
/// `XSK_RS_FEATURE_*` bit; NULL for anything else. Static storage. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_feature_name(feature: u64) -> *const c_char {
    entry(feature).map_or(std::ptr::null(), |(_, name, _)| name.as_ptr())
}

/// The first Linux release with the feature of one `XSK_RS_FEATURE_*` bit
/// (e.g. "6.6"); NULL for anything else. Static storage. Any thread.
#[no_mangle]
pub extern "C" fn xsk_rs_feature_since(feature: u64) -> *const c_char {
    entry(feature).map_or(std::ptr::null(), |(_, _, since)| since.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_its_constant() {
        let consts = [
            (Feature::MultiBuffer, XSK_RS_FEATURE_MULTI_BUFFER),
            (Feature::XdpFrags, XSK_RS_FEATURE_XDP_FRAGS),
            (Feature::TxMetadata, XSK_RS_FEATURE_TX_METADATA),
            (Feature::TxSwChecksum, XSK_RS_FEATURE_TX_SW_CSUM),
            (Feature::PreferBusyPoll, XSK_RS_FEATURE_PREFER_BUSY_POLL),
            (Feature::NetdevNetlink, XSK_RS_FEATURE_NETDEV_NETLINK),
            (Feature::NetdevQueues, XSK_RS_FEATURE_NETDEV_QUEUES),
            (Feature::NapiConfig, XSK_RS_FEATURE_NAPI_CONFIG),
        ];
        assert_eq!(consts.len(), ALL.len(), "a feature without an XSK_RS_FEATURE_ constant");
        for (f, bit) in consts {
            assert_eq!(f.bit(), bit, "{f:?}");
            assert_eq!(entry(bit).map(|e| e.0), Some(f));
            assert!(!xsk_rs_feature_name(bit).is_null() && !xsk_rs_feature_since(bit).is_null());
        }
        assert!(xsk_rs_feature_name(0).is_null() && xsk_rs_feature_name(3).is_null());
        assert!(xsk_rs_feature_since(1 << 63).is_null());
    }
}
