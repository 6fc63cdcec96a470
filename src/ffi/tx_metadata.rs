//! C ABI for TX metadata: `xsk_rs_tx_metadata_*` on a UMEM's frames, and
//! the packet layer's `xsk_rs_txsock_send_opts` / `xsk_rs_txsock_timestamps`.

use super::handle::{try_mut, try_ref};
use super::packet::xsk_rs_txsock;
use super::umem::xsk_rs_umem;
use super::{fail, ffi_guard, misuse};
use crate::error::Error;
use crate::packet::TxOptions;
use crate::umem::tx_metadata::{self, TxMetadata};
use std::ffi::{c_int, c_void};

/// TX descriptor option (`xsk_rs_desc.options`): the kernel reads the TX
/// metadata in front of the packet (`XDP_TX_METADATA`; the UMEM needs
/// `tx_metadata_len`).
pub const XSK_RS_DESC_TX_METADATA: u32 = 1 << 1;
/// TX metadata request: a completion timestamp (`XDP_TXMD_FLAGS_TIMESTAMP`).
/// In copy mode a software `CLOCK_TAI` time in ns, taken when the kernel is
/// done with the packet.
pub const XSK_RS_TXMD_TIMESTAMP: u64 = 1 << 0;
/// TX metadata request: L4 checksum offload (`XDP_TXMD_FLAGS_CHECKSUM`).
pub const XSK_RS_TXMD_CHECKSUM: u64 = 1 << 1;
/// TX metadata request: launch time (`XDP_TXMD_FLAGS_LAUNCH_TIME`).
pub const XSK_RS_TXMD_LAUNCH_TIME: u64 = 1 << 2;

const _: () = assert!(XSK_RS_DESC_TX_METADATA == tx_metadata::XDP_TX_METADATA);
const _: () = assert!(XSK_RS_TXMD_TIMESTAMP == tx_metadata::TXMD_TIMESTAMP);
const _: () = assert!(XSK_RS_TXMD_CHECKSUM == tx_metadata::TXMD_CHECKSUM);
const _: () = assert!(XSK_RS_TXMD_LAUNCH_TIME == tx_metadata::TXMD_LAUNCH_TIME);

/// The UMEM's `tx_metadata_len` (0: no TX metadata); -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_umem_tx_metadata_len(umem: *const xsk_rs_umem) -> c_int {
    const F: &str = "xsk_rs_umem_tx_metadata_len";
    ffi_guard!({
        match unsafe { try_ref(umem) } {
            Some(u) => u.tx_metadata_len() as c_int,
            None => misuse(F, "umem is NULL"),
        }
    })
}

/// Writes a TX metadata request (`struct xsk_tx_metadata`) in front of the
/// TX packet at ring address `addr`: `flags` (`XSK_RS_TXMD_*`), for
/// `XSK_RS_TXMD_CHECKSUM` the checksum's start (from the packet's first
/// byte) and its offset from there, for `XSK_RS_TXMD_LAUNCH_TIME` the time.
/// Then set `XSK_RS_DESC_TX_METADATA` in the descriptor's options.
///
/// The checksum field must hold the pseudo-header sum (not inverted), the
/// kernel's `CHECKSUM_PARTIAL` contract; in copy mode the device finishes
/// it, or the kernel in software (at once with `XSK_RS_UMEM_TX_SW_CSUM`; on
/// veth without it the peer's stack trusts the checksum and the bytes stay
/// unfinished). A request the kernel finds malformed makes copy mode stop
/// at that descriptor for good, so check: `start + offset + 2` must not pass
/// the packet's `len`. This call checks the flags and the room, not the mode
/// (copy mode ignores launch time; `xsk_rs_txsock_send_opts` refuses it).
///
/// Returns 0, or -EINVAL: NULL `umem`, unknown flag bits, a UMEM without TX
/// metadata, or `addr` less than `tx_metadata_len` into its frame or not
/// 8-byte aligned. The frame must be the caller's (not lent to the
/// kernel). Any thread that owns the frame; no syscall.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_metadata_request(
    umem: *const xsk_rs_umem,
    addr: u64,
    flags: u64,
    csum_start: u16,
    csum_offset: u16,
    launch_time: u64,
) -> c_int {
    const F: &str = "xsk_rs_tx_metadata_request";
    ffi_guard!({
        let Some(u) = (unsafe { try_ref(umem) }) else { return misuse(F, "umem is NULL") };
        if flags & !tx_metadata::TXMD_KNOWN != 0 {
            return misuse(F, &format!("flags {flags:#x} have unknown bits (known: XSK_RS_TXMD_*)"));
        }
        // SAFETY: the caller owns the frame, as documented.
        let Some(m) = (unsafe { u.tx_metadata_mut(addr) }) else { return no_room(F, u.tx_metadata_len(), addr) };
        *m = TxMetadata::new();
        m.flags = flags;
        m.csum_start = csum_start;
        m.csum_offset = csum_offset;
        m.launch_time = launch_time;
        0
    })
}

/// Reads the completion timestamp (ns) that the kernel wrote in front of
/// the TX packet at ring address `addr`, once that frame is back on the
/// completion ring, into `*out`. Returns 0; -ENOENT when the frame's
/// metadata asked for no timestamp; -EINVAL as for
/// `xsk_rs_tx_metadata_request`, or `out` NULL. No syscall.
#[no_mangle]
pub extern "C" fn xsk_rs_tx_metadata_timestamp(umem: *const xsk_rs_umem, addr: u64, out: *mut u64) -> c_int {
    const F: &str = "xsk_rs_tx_metadata_timestamp";
    ffi_guard!({
        let Some(u) = (unsafe { try_ref(umem) }) else { return misuse(F, "umem is NULL") };
        if out.is_null() {
            return misuse(F, "out is NULL");
        }
        // SAFETY: the caller owns the frame, as documented.
        let Some(m) = (unsafe { u.tx_metadata_mut(addr) }) else { return no_room(F, u.tx_metadata_len(), addr) };
        if m.flags & tx_metadata::TXMD_TIMESTAMP == 0 {
            return fail(
                F,
                Error::from_errno(format!("the metadata at {addr:#x} asked for no timestamp"), libc::ENOENT),
            );
        }
        // SAFETY: checked non-NULL; the caller's.
        unsafe { out.write(m.tx_timestamp()) };
        0
    })
}

#[cold]
fn no_room(f: &str, len: u32, addr: u64) -> c_int {
    if len == 0 {
        return misuse(f, "the umem has no tx metadata (xsk_rs_umem_config.tx_metadata_len is 0)");
    }
    misuse(f, &format!("address {addr:#x} has no {len} bytes of tx metadata room before it in its frame"))
}

/// Sends the `len` bytes at `data` as `xsk_rs_txsock_send` does, with a TX
/// metadata request: `flags` (`XSK_RS_TXMD_*`), `csum_start` and
/// `csum_offset` for `XSK_RS_TXMD_CHECKSUM` (see
/// `xsk_rs_tx_metadata_request` for what the checksum field must hold),
/// `launch_time` for `XSK_RS_TXMD_LAUNCH_TIME`. The socket must have been
/// created with `xsk_rs_xdp_config.tx_metadata`.
///
/// Returns 1 queued, 0 no room, or -EINVAL (no TX metadata on this socket,
/// unknown flag bits, a checksum field past the packet's end, NULL
/// arguments, `len` 0), -EOPNOTSUPP for a request this socket's mode does
/// not carry out (`xsk_rs_txsock_tx_offloads`: copy mode does checksums and
/// timestamps, never launch time; zero-copy mode what the device's
/// xsk-features list, with a message naming what it lacks), -EMSGSIZE,
/// -EBUSY as for `xsk_rs_txsock_send`. `tx`'s thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_send_opts(
    tx: *mut xsk_rs_txsock,
    data: *const c_void,
    len: u32,
    flags: u64,
    csum_start: u16,
    csum_offset: u16,
    launch_time: u64,
) -> c_int {
    const F: &str = "xsk_rs_txsock_send_opts";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if data.is_null() {
            return misuse(F, "data is NULL");
        }
        if flags & !tx_metadata::TXMD_KNOWN != 0 {
            return misuse(F, &format!("flags {flags:#x} have unknown bits (known: XSK_RS_TXMD_*)"));
        }
        let opts = TxOptions {
            checksum: (flags & tx_metadata::TXMD_CHECKSUM != 0).then_some((csum_start, csum_offset)),
            timestamp: flags & tx_metadata::TXMD_TIMESTAMP != 0,
            launch_time: (flags & tx_metadata::TXMD_LAUNCH_TIME != 0).then_some(launch_time),
        };
        // SAFETY: the caller passes len readable bytes.
        let data = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len as usize) };
        match t.send_with(data, None, &opts) {
            Ok(sent) => c_int::from(sent),
            Err(e) => fail(F, e),
        }
    })
}

/// The `XSK_RS_TXMD_*` requests `xsk_rs_txsock_send_opts` accepts on this
/// socket (0 without TX metadata); -EINVAL for NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_tx_offloads(tx: *const xsk_rs_txsock) -> c_int {
    const F: &str = "xsk_rs_txsock_tx_offloads";
    ffi_guard!({
        match unsafe { try_ref(tx) } {
            Some(t) => t.tx_offloads() as c_int,
            None => misuse(F, "tx is NULL"),
        }
    })
}

/// Copies up to `cap` completion timestamps (ns) of packets sent with
/// `XSK_RS_TXMD_TIMESTAMP` that the kernel has finished with into `out`, in
/// send order, taking back completed frames first. Returns how many (0:
/// none yet), or -EINVAL (NULL `tx`, NULL `out` with `cap` above 0). `tx`'s
/// thread.
#[no_mangle]
pub extern "C" fn xsk_rs_txsock_timestamps(tx: *mut xsk_rs_txsock, out: *mut u64, cap: u32) -> c_int {
    const F: &str = "xsk_rs_txsock_timestamps";
    ffi_guard!({
        let Some(t) = (unsafe { try_mut(tx) }) else { return misuse(F, "tx is NULL") };
        if out.is_null() && cap > 0 {
            return misuse(F, "out is NULL");
        }
        let out: &mut [u64] = if cap == 0 {
            &mut []
        } else {
            // SAFETY: the caller passes cap writable u64s.
            unsafe { std::slice::from_raw_parts_mut(out, cap as usize) }
        };
        let n = t.take_timestamps(out);
        n as c_int
    })
}
