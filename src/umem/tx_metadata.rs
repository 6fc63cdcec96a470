//! TX metadata: `struct xsk_tx_metadata`, the request a TX descriptor can
//! carry to the driver (checksum offload, a completion timestamp, a launch
//! time) and the completion the kernel writes back.
//!
//! A UMEM registered with [`UmemConfig::tx_metadata_len`](super::UmemConfig)
//! `= n` has `n` bytes of metadata in front of every TX packet: the kernel
//! reads the struct at `desc.addr - n` (in the same frame) when the
//! descriptor's options carry [`XDP_TX_METADATA`], Linux 6.8 and later. The
//! kernel checks *every* TX descriptor of such a UMEM against that room: one
//! whose address is less than `n` bytes into its frame is invalid (counted in
//! `tx_invalid_descs`), metadata or not. So a TX packet starts at least `n`
//! bytes into its frame.
//!
//! What each request does depends on the mode (found on Linux 6.18, see
//! `tests/tx_metadata.rs`):
//! - **Copy mode** (`XDP_COPY`, every driver): the kernel builds an skb.
//!   [`TXMD_CHECKSUM`] makes it `CHECKSUM_PARTIAL` (`csum_start` counted from
//!   the packet's first byte); the device finishes the checksum, or the
//!   kernel does in software for a device without checksum offload, or at
//!   once for a UMEM with [`UMEM_TX_SW_CSUM`](super::UMEM_TX_SW_CSUM).
//!   [`TXMD_TIMESTAMP`] gets a *software* timestamp (`CLOCK_TAI`, ns) taken
//!   when the kernel frees the skb, written into
//!   [`TxMetadata::tx_timestamp`] before the frame comes back on the
//!   completion ring. [`TXMD_LAUNCH_TIME`] is stored in the skb's time, but
//!   copy mode hands the skb straight to the driver (no qdisc, so no ETF),
//!   and a driver without time-based scheduling sends at once: xsk_rs refuses
//!   it in copy mode ([`offloads`]).
//! - **Zero-copy mode**: the driver does what its `xsk_tx_metadata_ops`
//!   implement and silently ignores the rest. netdev netlink's
//!   `xsk-features` says which, and xsk_rs accepts only those
//!   ([`Offloads`]): launch time only where it has `tx-launch-time-fifo`.
//!
//! A request the kernel finds malformed (unknown flag bits, a checksum past
//! the packet's end) fails the send in copy mode *without consuming the
//! descriptor*: every later wakeup fails the same way and the TX ring stops.
//! [`TxMetadata::check`] refuses such requests before they reach the ring.

use crate::error::{Error, Result};

/// Descriptor option: the kernel reads the [`TxMetadata`] in front of this
/// descriptor's data (`XDP_TX_METADATA`). For [`crate::ring::Desc::options`].
pub const XDP_TX_METADATA: u32 = libc::XDP_TX_METADATA;

/// Request flag: a completion timestamp (`XDP_TXMD_FLAGS_TIMESTAMP`).
pub const TXMD_TIMESTAMP: u64 = 1 << 0;
/// Request flag: checksum offload (`XDP_TXMD_FLAGS_CHECKSUM`).
pub const TXMD_CHECKSUM: u64 = 1 << 1;
/// Request flag: launch time (`XDP_TXMD_FLAGS_LAUNCH_TIME`, Linux 6.15).
pub const TXMD_LAUNCH_TIME: u64 = 1 << 2;
/// Every request flag this library knows.
pub const TXMD_KNOWN: u64 = TXMD_TIMESTAMP | TXMD_CHECKSUM | TXMD_LAUNCH_TIME;

/// `sizeof(union xsk_tx_metadata)` since Linux 6.15 (24: flags, then the
/// request's checksum fields and launch time, or the completion's
/// timestamp). The smallest `tx_metadata_len` xsk_rs registers: a shorter
/// one would let the kernel read a launch time out of the packet itself.
pub const TX_METADATA_LEN: u32 = std::mem::size_of::<TxMetadata>() as u32;

/// The most metadata bytes the kernel takes (`tx_metadata_len` < 256, a
/// multiple of 8).
pub const MAX_TX_METADATA_LEN: u32 = 248;

/// `union xsk_tx_metadata` (include/uapi/linux/if_xdp.h): `flags`, then
/// either the request (`csum_start`, `csum_offset`, `launch_time`) that the
/// application writes before it submits the descriptor, or the completion
/// (`tx_timestamp`) that the kernel writes over the checksum fields before it
/// returns the frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxMetadata {
    /// `TXMD_*` request bits.
    pub flags: u64,
    /// Request: where checksumming starts, counted from the packet's first
    /// byte (`desc.addr`).
    pub csum_start: u16,
    /// Request: where the checksum goes, counted from `csum_start`.
    pub csum_offset: u16,
    _pad: u32,
    /// Request: when to send ([`TXMD_LAUNCH_TIME`]), in the device clock's
    /// nanoseconds.
    pub launch_time: u64,
}

const _: () = assert!(std::mem::size_of::<TxMetadata>() == 24);

impl TxMetadata {
    /// An empty request.
    pub const fn new() -> TxMetadata {
        TxMetadata { flags: 0, csum_start: 0, csum_offset: 0, _pad: 0, launch_time: 0 }
    }

    /// Asks for the L4 checksum over `start..` to be stored at
    /// `start + offset` (for UDP over IPv4 without options: start 34, offset
    /// 6). Per the kernel's `CHECKSUM_PARTIAL` contract the field must hold
    /// the one's-complement sum of the pseudo-header (not inverted), which
    /// the device folds in; see [`pseudo_header_sum_ipv4`].
    pub fn request_checksum(&mut self, start: u16, offset: u16) -> &mut Self {
        self.flags |= TXMD_CHECKSUM;
        self.csum_start = start;
        self.csum_offset = offset;
        self
    }

    /// Asks for a completion timestamp, read with [`Self::tx_timestamp`]
    /// once the frame is back on the completion ring.
    pub fn request_timestamp(&mut self) -> &mut Self {
        self.flags |= TXMD_TIMESTAMP;
        self
    }

    /// Asks the device to send at `ns` (its own clock).
    pub fn request_launch_time(&mut self, ns: u64) -> &mut Self {
        self.flags |= TXMD_LAUNCH_TIME;
        self.launch_time = ns;
        self
    }

    /// The completion's `tx_timestamp` (nanoseconds; in copy mode
    /// `CLOCK_TAI`, taken in software), which overlays the checksum fields:
    /// meaningful only on a frame that carried [`TXMD_TIMESTAMP`] and came
    /// back on the completion ring.
    pub fn tx_timestamp(&self) -> u64 {
        // The kernel's union puts `tx_timestamp` (a u64 in the CPU's byte
        // order) where `csum_start`, `csum_offset` and the padding are: read
        // those 8 bytes as one u64, not the fields shifted together (which
        // gives the right value on little-endian CPUs only).
        const AT: usize = std::mem::offset_of!(TxMetadata, csum_start);
        const _: () = assert!(AT == 8 && std::mem::offset_of!(TxMetadata, launch_time) == 16);
        // SAFETY: bytes 8..16 of a #[repr(C)] struct of plain integers,
        // 8-aligned (the struct is, for its u64s, and 8 is a multiple of 8).
        unsafe { std::ptr::from_ref(self).cast::<u8>().add(AT).cast::<u64>().read() }
    }

    /// Refuses a request the kernel would reject for a packet of `len`
    /// bytes, or that the socket cannot carry out (`supported`: its mode and
    /// device, [`Offloads`]): unknown bits and a checksum field past the
    /// packet's end are `EINVAL` (the kernel would stall the TX ring on them
    /// in copy mode), an offload the mode or device lacks is `EOPNOTSUPP`
    /// naming what is missing.
    pub fn check(&self, len: u32, supported: Offloads, ctx: &dyn Fn() -> String) -> Result<()> {
        if self.flags & !TXMD_KNOWN != 0 {
            return Err(Error::invalid(format!(
                "{}: tx metadata flags {:#x} have unknown bits {:#x} (known: TIMESTAMP 1, CHECKSUM 2, LAUNCH_TIME 4)",
                ctx(),
                self.flags,
                self.flags & !TXMD_KNOWN
            )));
        }
        if self.flags & TXMD_CHECKSUM != 0 && self.csum_start as u32 + self.csum_offset as u32 + 2 > len {
            return Err(Error::invalid(format!(
                "{}: checksum at {} + {} (2 bytes) lies past the packet's {len} bytes",
                ctx(),
                self.csum_start,
                self.csum_offset
            )));
        }
        let missing = self.flags & !supported.bits();
        if missing != 0 {
            return Err(supported.refuse(missing, ctx));
        }
        Ok(())
    }
}

/// What a socket does with TX metadata requests: copy mode (the kernel
/// carries them out), or zero-copy with the driver's `xsk-features` bits
/// (netdev netlink, Linux 6.8; `None` when the kernel does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offloads {
    /// The socket is bound in zero-copy mode.
    pub zerocopy: bool,
    /// The device's `xsk-features` (`netdev::XskFeatures` bits), read for
    /// zero-copy sockets.
    pub driver: Option<u64>,
}

impl Offloads {
    /// A copy-mode socket.
    pub const COPY: Offloads = Offloads { zerocopy: false, driver: None };

    /// The `TXMD_*` requests carried out ([`offloads`]).
    pub fn bits(self) -> u64 {
        offloads(self.zerocopy, self.driver)
    }

    /// `EOPNOTSUPP` for the `missing` requests, saying what the mode or the
    /// device lacks.
    #[cold]
    fn refuse(self, missing: u64, ctx: &dyn Fn() -> String) -> Error {
        // (request bit, what it is, the xsk-features flag a driver sets for it)
        const NAMES: [(u64, &str, &str); 3] = [
            (TXMD_CHECKSUM, "checksum offload", "tx-checksum"),
            (TXMD_TIMESTAMP, "completion timestamps", "tx-timestamp"),
            (TXMD_LAUNCH_TIME, "launch time", "tx-launch-time-fifo"),
        ];
        let lacking: Vec<_> = NAMES.iter().filter(|(b, _, _)| missing & b != 0).collect();
        let what = lacking.iter().map(|(_, w, _)| *w).collect::<Vec<_>>().join(" and ");
        let why = match (self.zerocopy, self.driver) {
            (false, _) => "copy mode hands each packet straight to the driver, past any qdisc, so nothing would \
                           hold it until its launch time"
                .to_string(),
            (true, Some(f)) => format!(
                "in zero-copy mode the driver carries out the request, and the device lacks {} in its \
                 xsk-features (it has: {})",
                lacking.iter().map(|(_, _, n)| *n).collect::<Vec<_>>().join(", "),
                crate::netdev::XskFeatures(f)
            ),
            (true, None) => "in zero-copy mode the driver carries out the request, and this kernel does not report \
                             the device's xsk-features (netdev netlink, Linux 6.8), so none is promised"
                .to_string(),
        };
        Error::NotSupported(format!("{}: {what} not supported: {why}", ctx()))
    }
}

/// The TX offloads (`TXMD_*` bits) that a socket in this mode carries out:
/// copy mode does checksums (in the device or in software) and software
/// completion timestamps, never launch time; zero-copy mode does what the
/// driver's `xsk-features` say, given as `driver`: checksums for
/// `tx-checksum`, timestamps for `tx-timestamp`, launch time only for
/// `tx-launch-time-fifo` (`None`: not known, so none is promised).
pub fn offloads(zerocopy: bool, driver: Option<u64>) -> u64 {
    match (zerocopy, driver) {
        (false, _) => TXMD_CHECKSUM | TXMD_TIMESTAMP,
        (true, Some(f)) => {
            // netdev.yaml xsk-flags: tx-timestamp 1, tx-checksum 2, tx-launch-time-fifo 4,
            // the same bits as the requests they carry out.
            const _: () = assert!(TXMD_TIMESTAMP == 1 && TXMD_CHECKSUM == 2 && TXMD_LAUNCH_TIME == 4);
            f & TXMD_KNOWN
        }
        (true, None) => 0,
    }
}

/// The one's-complement sum (folded to 16 bits, not inverted) of the IPv4
/// pseudo-header for an L4 segment of `l4_len` bytes of protocol `proto`:
/// what a `CHECKSUM_PARTIAL` checksum field must hold before the device (or
/// the kernel) adds in the segment's bytes. Store it big-endian.
pub fn pseudo_header_sum_ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, l4_len: u16) -> u16 {
    let mut sum: u32 = 0;
    for w in [src, dst] {
        sum += u16::from_be_bytes([w[0], w[1]]) as u32 + u16::from_be_bytes([w[2], w[3]]) as u32;
    }
    sum += proto as u32 + l4_len as u32;
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_kernel() {
        let mut m = TxMetadata::new();
        m.request_checksum(34, 6).request_timestamp().request_launch_time(0x1122334455667788);
        // SAFETY: TxMetadata is plain integers.
        let b: [u8; 24] = unsafe { std::mem::transmute(m) };
        assert_eq!(&b[0..8], &7u64.to_ne_bytes());
        assert_eq!(&b[8..10], &34u16.to_ne_bytes());
        assert_eq!(&b[10..12], &6u16.to_ne_bytes());
        assert_eq!(&b[16..24], &0x1122334455667788u64.to_ne_bytes());
        // The completion's tx_timestamp overlays bytes 8..16.
        let mut c = [0u8; 24];
        c[8..16].copy_from_slice(&0xdead_beef_0bad_f00du64.to_ne_bytes());
        // SAFETY: as above.
        let c: TxMetadata = unsafe { std::mem::transmute(c) };
        assert_eq!(c.tx_timestamp(), 0xdead_beef_0bad_f00d);
        // Each byte distinct, so a read that puts any byte in another place
        // (e.g. assembling the fields as if little-endian on a big-endian
        // CPU) gives another value.
        let ts = 0x0102_0304_0506_0708u64;
        let mut c = [0u8; 24];
        c[8..16].copy_from_slice(&ts.to_ne_bytes());
        // SAFETY: as above.
        let c: TxMetadata = unsafe { std::mem::transmute(c) };
        assert_eq!(c.tx_timestamp(), ts);
        assert_eq!(c.tx_timestamp().to_ne_bytes(), ts.to_ne_bytes());
    }

    #[test]
    fn check_refuses_what_the_kernel_would() {
        let ctx = || "send".to_string();
        let all = Offloads { zerocopy: true, driver: Some(7) };
        let mut m = TxMetadata::new();
        m.request_checksum(34, 6);
        m.check(42, all, &ctx).unwrap();
        m.check(42, Offloads::COPY, &ctx).unwrap();
        assert_eq!(m.check(41, all, &ctx).unwrap_err().errno(), libc::EINVAL);
        let e = m.check(42, Offloads { zerocopy: true, driver: Some(0) }, &ctx).unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP);
        assert!(e.to_string().contains("checksum offload"), "{e}");
        let bad = TxMetadata { flags: 8, ..TxMetadata::new() };
        assert!(bad.check(60, all, &ctx).unwrap_err().to_string().contains("unknown bits 0x8"));
        let mut lt = TxMetadata::new();
        lt.request_launch_time(1);
        let e = lt.check(60, Offloads::COPY, &ctx).unwrap_err();
        assert!(e.to_string().starts_with("send: launch time not supported: copy mode hands"), "{e}");
        assert_eq!(offloads(true, None), 0);
    }

    /// Zero-copy: what the driver's xsk-features (netdev.yaml xsk-flags:
    /// tx-timestamp 1, tx-checksum 2, tx-launch-time-fifo 4) list is
    /// accepted, the rest refused naming the missing flag and what the
    /// device has.
    #[test]
    fn zero_copy_takes_the_drivers_xsk_features() {
        let ctx = || "send".to_string();
        let zc = |f| Offloads { zerocopy: true, driver: Some(f) };
        assert_eq!(zc(0).bits(), 0);
        assert_eq!(zc(1).bits(), TXMD_TIMESTAMP);
        assert_eq!(zc(2).bits(), TXMD_CHECKSUM);
        assert_eq!(zc(4).bits(), TXMD_LAUNCH_TIME);
        assert_eq!(zc(7 | 8).bits(), TXMD_KNOWN, "an unknown driver bit promises nothing more");
        assert_eq!(Offloads::COPY.bits(), TXMD_CHECKSUM | TXMD_TIMESTAMP);

        let mut lt = TxMetadata::new();
        lt.request_launch_time(5);
        lt.check(60, zc(4), &ctx).unwrap();
        let e = lt.check(60, zc(1 | 2), &ctx).unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP);
        assert_eq!(
            e.to_string(),
            "send: launch time not supported: in zero-copy mode the driver carries out the request, and the device \
             lacks tx-launch-time-fifo in its xsk-features (it has: tx-timestamp, tx-checksum)"
        );

        let mut both = TxMetadata::new();
        both.request_checksum(34, 6).request_timestamp();
        both.check(60, zc(3), &ctx).unwrap();
        let e = both.check(60, zc(4), &ctx).unwrap_err();
        assert!(
            e.to_string().contains(
                "checksum offload and completion timestamps not supported: in zero-copy mode the driver carries out \
                 the request, and the device lacks tx-checksum, tx-timestamp in its xsk-features (it has: \
                 tx-launch-time-fifo)"
            ),
            "{e}"
        );
        let e = both.check(60, zc(0), &ctx).unwrap_err();
        assert!(e.to_string().ends_with("(it has: none)"), "{e}");
        let e = both.check(60, Offloads { zerocopy: true, driver: None }, &ctx).unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP);
        assert!(e.to_string().contains("does not report the device's xsk-features"), "{e}");
    }

    #[test]
    fn pseudo_header_sum() {
        // 10.0.0.1 -> 10.0.0.2, UDP, 12 bytes: 0x0a00+0x0001+0x0a00+0x0002+0x11+0x0c.
        assert_eq!(pseudo_header_sum_ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, 12), 0x1420);
    }
}
