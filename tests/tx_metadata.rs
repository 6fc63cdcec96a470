//! TX metadata on veth in copy mode (Linux 6.8+), with real UDP packets:
//!
//! * a UDP/IPv4 packet whose checksum field holds only the pseudo-header sum
//!   (what the kernel's `CHECKSUM_PARTIAL` contract wants there), sent with a
//!   checksum request, reaches an ordinary kernel UDP socket in the peer
//!   namespace, and an AF_PACKET capture on the peer sees the bytes (whether
//!   finished there is what each row records);
//! * the same packet with a wrong checksum and no request is dropped by that
//!   UDP socket (so the test can fail), while a correct one without a request
//!   arrives;
//! * with and without `XDP_UMEM_TX_SW_CSUM`, with the peer's interface
//!   running no XDP program, the built-in one in skb mode, or in drv mode;
//! * a timestamp request comes back with a software `CLOCK_TAI` completion
//!   time between the send and the reclaim; launch time is `EOPNOTSUPP`;
//! * every TX frame is back in the free list afterwards.

mod common;

use common::{ip_in, PacketSocket, VethPair};
use std::net::UdpSocket;
use std::time::{Duration, Instant};
use xsk_rs::features::Feature;
use xsk_rs::umem::tx_metadata::{pseudo_header_sum_ipv4, TXMD_CHECKSUM, TXMD_TIMESTAMP};
use xsk_rs::xdp::XdpMode;
use xsk_rs::{create_rx_socket_by_name, create_tx_socket_by_name, SendExt, TxOptions, TxSocket, XdpConfig};

const SRC: [u8; 4] = [10, 77, 0, 1];
const DST: [u8; 4] = [10, 77, 0, 2];
const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0x77, 1];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0x77, 2];
const PORT: u16 = 9000;
/// Where the UDP header starts, and the checksum within it.
const L4: usize = 34;
const CSUM_OFF: usize = 6;

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn sum16(bytes: &[u8]) -> u32 {
    bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32).sum()
}

/// How the checksum field is filled.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Csum {
    /// The full, correct checksum.
    Full,
    /// The pseudo-header sum only, for an offload request.
    Partial,
    /// The correct checksum with bits flipped.
    Wrong,
}

/// An Ethernet + IPv4 + UDP frame from 10.77.0.1:40000 to 10.77.0.2:9000.
fn udp_frame(payload: &[u8], csum: Csum) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut f = Vec::with_capacity(L4 + udp_len);
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[0x08, 0x00]);
    let tot = (20 + udp_len) as u16;
    let mut ip = [0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    ip[2..4].copy_from_slice(&tot.to_be_bytes());
    ip[12..16].copy_from_slice(&SRC);
    ip[16..20].copy_from_slice(&DST);
    let c = !fold(sum16(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&PORT.to_be_bytes());
    f.extend_from_slice(&(udp_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    let pseudo = pseudo_header_sum_ipv4(SRC, DST, 17, udp_len as u16);
    let full = !fold(pseudo as u32 + sum16(&f[L4..]));
    let full = if full == 0 { 0xffff } else { full };
    let v = match csum {
        Csum::Full => full,
        Csum::Partial => pseudo,
        Csum::Wrong => full ^ 0x5a5a,
    };
    f[L4 + CSUM_OFF..L4 + CSUM_OFF + 2].copy_from_slice(&v.to_be_bytes());
    f
}

/// Whether a captured frame's UDP checksum verifies.
fn udp_checksum_ok(f: &[u8]) -> bool {
    let udp_len = f.len() - L4;
    let pseudo = pseudo_header_sum_ipv4(SRC, DST, 17, udp_len as u16);
    fold(pseudo as u32 + sum16(&f[L4..])) == 0xffff
}

fn is_ours(f: &[u8]) -> bool {
    f.len() > L4 + 8 && f[12..14] == [0x08, 0x00] && f[23] == 17 && f[L4 + 2..L4 + 4] == PORT.to_be_bytes()
}

fn tai_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a live timespec.
    assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_TAI, &mut ts) }, 0);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn setup() -> Option<VethPair> {
    if !common::require_root() {
        return None;
    }
    if !Feature::TxMetadata.available().unwrap() {
        assert!(std::env::var_os("CI").is_none(), "tx metadata needs Linux 6.8 (tests/kernels covers older ones)");
        eprintln!("skipped: no tx metadata on this kernel");
        return None;
    }
    let pair = VethPair::with_queues(2);
    ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "address", "02:00:00:00:77:01"]);
    ip_in(&pair.ns_b, &["link", "set", "dev", &pair.if_b, "address", "02:00:00:00:77:02"]);
    ip_in(&pair.ns_a, &["addr", "add", "10.77.0.1/24", "dev", &pair.if_a]);
    ip_in(&pair.ns_b, &["addr", "add", "10.77.0.2/24", "dev", &pair.if_b]);
    ip_in(&pair.ns_a, &["neigh", "add", "10.77.0.2", "lladdr", "02:00:00:00:77:02", "dev", &pair.if_a]);
    Some(pair)
}

/// What the peer saw of one packet: whether the UDP socket got it, and the
/// captured frame.
struct Seen {
    udp: Vec<Vec<u8>>,
    captured: Vec<Vec<u8>>,
}

/// Sends `frames` (with their options) from a TX socket on `if_a` queue 0,
/// and collects in `ns_b` what the UDP socket and a capture see. The peer
/// runs the built-in program in `peer_mode` (on queue 1, so queue 0's
/// traffic passes to the stack through it), or none.
fn exchange(
    pair: &VethPair,
    cfg: XdpConfig,
    peer_mode: Option<XdpMode>,
    frames: &[(Vec<u8>, Option<TxOptions>)],
) -> (Seen, TxSocket) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let n = frames.len();
    std::thread::scope(|s| {
        let peer = s.spawn(move || {
            pair.run_in_b(move || {
                let _rx = peer_mode.map(|m| {
                    let c = XdpConfig { xdp_mode: Some(m), rx_frames: Some(64), ..Default::default() };
                    create_rx_socket_by_name(&pair.if_b, 1, Some(c)).expect("peer rx socket on queue 1")
                });
                let udp = UdpSocket::bind((std::net::Ipv4Addr::from(DST), PORT)).unwrap();
                udp.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                let cap = PacketSocket::open(&pair.if_b).unwrap();
                ready_tx.send(()).unwrap();
                let mut seen = Seen { udp: Vec::new(), captured: Vec::new() };
                let deadline = Instant::now() + Duration::from_secs(3);
                while seen.captured.len() < n && Instant::now() < deadline {
                    if let Some(f) = cap.recv_matching(Duration::from_millis(100), is_ours) {
                        seen.captured.push(f);
                    }
                }
                // Done sending: drain the UDP socket (what is not there by now was dropped).
                done_rx.recv_timeout(Duration::from_secs(3)).ok();
                let mut buf = [0u8; 2048];
                while let Ok(k) = udp.recv(&mut buf) {
                    seen.udp.push(buf[..k].to_vec());
                }
                seen
            })
        });
        ready_rx.recv().unwrap();
        let tx = pair.run_in_a(|| {
            let mut tx = create_tx_socket_by_name(&pair.if_a, 0, Some(cfg)).expect("tx socket with tx metadata");
            for (f, opts) in frames {
                let sent = match opts {
                    Some(o) => tx.send_with(f, None, o).unwrap(),
                    None => tx.send(f, None).unwrap(),
                };
                assert!(sent, "no room for {} packets", frames.len());
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            while tx.in_flight_frames() > 0 && Instant::now() < deadline {
                tx.kick().unwrap();
                tx.reclaim_completed();
                std::thread::sleep(Duration::from_millis(1));
            }
            tx
        });
        std::thread::sleep(Duration::from_millis(100));
        done_tx.send(()).unwrap();
        (peer.join().unwrap(), tx)
    })
}

fn payload(tag: &str) -> Vec<u8> {
    let mut p = tag.as_bytes().to_vec();
    p.resize(40, b'.');
    p
}

fn checksum_row(peer_mode: Option<XdpMode>, sw_csum: bool) {
    let Some(pair) = setup() else { return };
    let row = format!("peer {peer_mode:?}, sw_csum {sw_csum}");
    let cfg = XdpConfig {
        tx_metadata: Some(true),
        tx_sw_csum: Some(sw_csum),
        zero_copy: Some(false),
        tx_frames: Some(64),
        ..Default::default()
    };
    let req = TxOptions { checksum: Some((L4 as u16, CSUM_OFF as u16)), ..Default::default() };
    let frames = vec![
        (udp_frame(&payload("wrong-no-request"), Csum::Wrong), None),
        (udp_frame(&payload("full-no-request"), Csum::Full), None),
        (udp_frame(&payload("partial-offload"), Csum::Partial), Some(req)),
        (udp_frame(&payload("wrong-with-meta-off"), Csum::Wrong), Some(TxOptions::default())),
    ];
    let (seen, tx) = exchange(&pair, cfg, peer_mode, &frames);
    assert_eq!(tx.tx_offloads(), TXMD_CHECKSUM | TXMD_TIMESTAMP, "{row}");
    // Frame accounting: every frame back, none lost to an invalid descriptor.
    assert_eq!((tx.in_flight_frames(), tx.free_frames()), (0, tx.total_frames()), "{row}");
    assert_eq!(tx.stats().unwrap().tx_invalid_descs, 0, "{row}");

    let got: Vec<String> =
        seen.udp.iter().map(|p| String::from_utf8_lossy(p).trim_end_matches('.').to_string()).collect();
    assert_eq!(got, ["full-no-request", "partial-offload"], "{row}: what the UDP socket received");
    assert_eq!(seen.captured.len(), 4, "{row}: captured");
    for (f, (sent, _)) in seen.captured.iter().zip(&frames) {
        assert_eq!(f[..L4 + CSUM_OFF], sent[..L4 + CSUM_OFF], "{row}: headers");
        assert_eq!(f[L4 + 8..], sent[L4 + 8..], "{row}: payload");
    }
    assert!(!udp_checksum_ok(&seen.captured[0]) && !udp_checksum_ok(&seen.captured[3]), "{row}: wrong stays wrong");
    assert!(udp_checksum_ok(&seen.captured[1]), "{row}: full");
    let offloaded = &seen.captured[2];
    let field = u16::from_be_bytes([offloaded[L4 + CSUM_OFF], offloaded[L4 + CSUM_OFF + 1]]);
    eprintln!(
        "{row}: offloaded checksum field on the peer's capture {field:#06x} (verifies: {})",
        udp_checksum_ok(offloaded)
    );
    if sw_csum {
        // Computed in software before the skb left: the wire has it.
        assert!(udp_checksum_ok(offloaded), "{row}: the software checksum on the wire");
    } else {
        // veth offers checksum offload, so the skb crosses still
        // CHECKSUM_PARTIAL: the peer's stack trusts it (the UDP socket got
        // it above), and nothing ever writes the final bytes (6.18).
        let pseudo = u16::from_be_bytes([frames[2].0[L4 + CSUM_OFF], frames[2].0[L4 + CSUM_OFF + 1]]);
        assert!(udp_checksum_ok(offloaded) || field == pseudo, "{row}: field {field:#06x}");
    }
}

#[test]
fn checksum_offload_no_peer_program() {
    checksum_row(None, false);
}

#[test]
fn checksum_offload_no_peer_program_sw_csum() {
    checksum_row(None, true);
}

#[test]
fn checksum_offload_peer_skb_mode() {
    checksum_row(Some(XdpMode::Skb), false);
}

#[test]
fn checksum_offload_peer_skb_mode_sw_csum() {
    checksum_row(Some(XdpMode::Skb), true);
}

#[test]
fn checksum_offload_peer_drv_mode() {
    checksum_row(Some(XdpMode::Drv), false);
}

#[test]
fn checksum_offload_peer_drv_mode_sw_csum() {
    checksum_row(Some(XdpMode::Drv), true);
}

#[test]
fn completion_timestamps_are_software_tai_times() {
    let Some(pair) = setup() else { return };
    let cfg = XdpConfig { tx_metadata: Some(true), zero_copy: Some(false), tx_frames: Some(64), ..Default::default() };
    let ts_req = TxOptions { timestamp: true, ..Default::default() };
    let before = tai_ns();
    let frames: Vec<_> =
        (0..8).map(|i| (udp_frame(&payload(&format!("ts{i}")), Csum::Full), (i % 2 == 0).then_some(ts_req))).collect();
    let (seen, mut tx) = exchange(&pair, cfg, None, &frames);
    let after = tai_ns();
    assert_eq!(seen.udp.len(), 8);
    let mut ts = [0u64; 8];
    assert_eq!(tx.take_timestamps(&mut ts[..3]), 3, "as many as fit");
    assert_eq!(tx.take_timestamps(&mut ts[3..]), 1, "one per request");
    let ts = &ts[..4];
    assert_eq!(tx.pending_timestamps(), 0);
    for w in ts.windows(2) {
        assert!(w[0] <= w[1], "in send order: {ts:?}");
    }
    for &t in ts {
        assert!((before..=after).contains(&t), "timestamp {t} outside {before}..{after}");
    }
    // A frame that carried a request and is sent again plainly gives none.
    tx.send(&frames[0].0, None).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut more = [0u64; 4];
    let n = pair.run_in_a(|| {
        tx.kick().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        tx.take_timestamps(&mut more)
    });
    assert_eq!(n, 0, "{more:?}");
    assert_eq!((tx.in_flight_frames(), tx.free_frames()), (0, tx.total_frames()));
}

#[test]
fn refused_requests_say_why_and_send_nothing() {
    let Some(pair) = setup() else { return };
    pair.run_in_a(|| {
        let f = udp_frame(&payload("x"), Csum::Partial);
        // Launch time: copy mode would send at once.
        let cfg =
            XdpConfig { tx_metadata: Some(true), zero_copy: Some(false), tx_frames: Some(16), ..Default::default() };
        let mut tx = create_tx_socket_by_name(&pair.if_a, 0, Some(cfg)).unwrap();
        let e = tx.send_with(&f, None, &TxOptions { launch_time: Some(1), ..Default::default() }).unwrap_err();
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
        assert!(
            e.to_string().contains("launch time not supported: copy mode hands each packet straight to the driver"),
            "{e}"
        );
        // A checksum field past the end would stall the TX ring in the kernel.
        let e = tx.send_with(&f, None, &TxOptions { checksum: Some((L4 as u16, 200)), ..Default::default() });
        assert_eq!(e.unwrap_err().errno(), libc::EINVAL);
        assert_eq!(tx.free_frames(), 16, "nothing reserved");
        drop(tx);
        // Without tx metadata: EINVAL naming it.
        let cfg = XdpConfig { zero_copy: Some(false), tx_frames: Some(16), ..Default::default() };
        let mut tx = create_tx_socket_by_name(&pair.if_a, 0, Some(cfg)).unwrap();
        assert_eq!(tx.tx_offloads(), 0);
        let e = tx.send_with(&f, None, &TxOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no tx metadata"), "{e}");
        // TX_SW_CSUM without metadata is refused by name.
        let cfg = XdpConfig { tx_sw_csum: Some(true), ..cfg };
        let e = create_tx_socket_by_name(&pair.if_a, 0, Some(cfg)).err().unwrap();
        assert!(e.to_string().contains("TX_SW_CSUM"), "{e}");
    });
}

/// The test tests/kernels runs on 6.1 and 6.12: where the kernel has TX
/// metadata an offloaded checksum reaches the peer's UDP socket and the wire
/// (with TX_SW_CSUM); where it has not, asking for it is `EOPNOTSUPP` naming
/// Linux 6.8, at the UMEM and at the packet layer, never a UMEM whose
/// metadata the kernel would silently ignore.
#[test]
fn tx_metadata_works_or_names_6_8() {
    if !common::require_root() {
        return;
    }
    // By the release, not the probe: a probe that wrongly said "no" (as one
    // did on Debian's 6.12) must fail here, not take the refusal branch.
    let has = Feature::TxMetadata.available().unwrap();
    assert_eq!(has, common::kernel_at_least(6, 8), "TX metadata probe against the release");
    if has {
        checksum_row(None, Feature::TxSwChecksum.available().unwrap());
        return;
    }
    let cfg = xsk_rs::umem::UmemConfig { tx_metadata_len: 24, ..xsk_rs::umem::UmemConfig::lending(64).unwrap() };
    let e = xsk_rs::umem::Umem::new(&cfg).err().expect("tx_metadata_len on a kernel without it");
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    assert!(e.to_string().contains("needs Linux 6.8"), "{e}");
    let pair = VethPair::new();
    let e = pair.run_in_a(|| {
        let c = XdpConfig { tx_metadata: Some(true), tx_frames: Some(16), ..Default::default() };
        let Err(e) = create_tx_socket_by_name(&pair.if_a, 0, Some(c)) else { panic!("a tx socket with tx metadata") };
        e
    });
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    assert!(e.to_string().contains("tx_metadata_len 24: AF_XDP TX metadata"), "{e}");
}

/// `send_with` writes the metadata in front of the packet buffer that
/// `peek` validated, never at an address re-read from the TX ring: the ring
/// is shared memory that anything mapping the socket can write. A second
/// mapping of the TX ring rewrites the descriptor's `addr` (to one 1 TiB
/// past the UMEM) right after `peek` checked it (`peek` stores the length
/// after the check; the writer waits for that length). Before the fix the
/// 24-byte write followed the rewritten address and the process died of
/// SIGSEGV; now it stays in the frame, and the kernel rejects the rewritten
/// descriptors (`tx_invalid_descs`).
#[test]
fn metadata_write_ignores_an_addr_rewritten_in_the_ring() {
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    const MARK: usize = 1111;
    const SIZE: u32 = 64;
    let Some(pair) = setup() else { return };
    pair.run_in_a(|| {
        let cfg = XdpConfig {
            tx_metadata: Some(true),
            zero_copy: Some(false),
            tx_frames: Some(SIZE),
            tx_size: Some(SIZE),
            ..Default::default()
        };
        let mut tx = create_tx_socket_by_name(&pair.if_a, 0, Some(cfg)).unwrap();
        // The TX ring, mapped a second time (offsets from XDP_MMAP_OFFSETS).
        // SAFETY: a zeroed xdp_mmap_offsets is a valid out-buffer.
        let mut off: libc::xdp_mmap_offsets = unsafe { std::mem::zeroed() };
        let mut optlen = std::mem::size_of_val(&off) as libc::socklen_t;
        // SAFETY: off and optlen are live and sized.
        let rc = unsafe {
            libc::getsockopt(tx.fd(), libc::SOL_XDP, libc::XDP_MMAP_OFFSETS, (&raw mut off).cast(), &mut optlen)
        };
        assert_eq!(rc, 0, "XDP_MMAP_OFFSETS: {}", std::io::Error::last_os_error());
        let len = off.tx.desc as usize + SIZE as usize * 16;
        // SAFETY: a shared mapping of the socket's TX ring, unmapped below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                tx.fd(),
                libc::XDP_PGOFF_TX_RING as libc::off_t,
            )
        };
        assert_ne!(map, libc::MAP_FAILED, "mmap tx ring: {}", std::io::Error::last_os_error());
        let base = map as usize;
        let bad = tx.frame_size() as u64 + (1u64 << 40);
        let stop = AtomicBool::new(false);
        let hits = AtomicU32::new(0);
        let f = {
            let mut f = udp_frame(&payload("hostile"), Csum::Partial);
            f.resize(MARK, 0);
            f
        };
        let opts = TxOptions { checksum: Some((L4 as u16, CSUM_OFF as u16)), ..Default::default() };
        let mut sent = 0u32;
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY (all three): the mapping lives until after the scope;
                // producer and descriptor fields are aligned u32/u64 slots.
                let prod = unsafe { &*((base + off.tx.producer as usize) as *const AtomicU32) };
                // The producer index whose slot was seen freshly reserved
                // (`seek` writes length 0; `peek` then stores the length
                // after checking the address).
                let mut armed = None;
                while !stop.load(Ordering::Relaxed) {
                    let p = prod.load(Ordering::Relaxed);
                    let d = base + off.tx.desc as usize + (p & (SIZE - 1)) as usize * 16;
                    let (addr, dlen) = unsafe { (&*(d as *const AtomicU64), &*((d + 8) as *const AtomicU32)) };
                    match dlen.load(Ordering::Relaxed) {
                        0 => armed = Some(p),
                        l if l == MARK as u32 && armed == Some(p) => {
                            addr.store(bad, Ordering::Relaxed);
                            hits.fetch_add(1, Ordering::Relaxed);
                            armed = None;
                        }
                        _ => {}
                    }
                    std::hint::spin_loop();
                }
            });
            let deadline = Instant::now() + Duration::from_secs(3);
            while hits.load(Ordering::Relaxed) < 20 && Instant::now() < deadline {
                if tx.send_with(&f, None, &opts).unwrap() {
                    sent += 1;
                    continue;
                }
                tx.kick().unwrap();
                tx.reclaim_completed();
                if tx.free_frames() == 0 && tx.in_flight_frames() == 0 {
                    break; // every frame lost to a rewritten descriptor
                }
                std::thread::yield_now();
            }
            stop.store(true, Ordering::Relaxed);
        });
        // SAFETY: mapped above, no longer used.
        unsafe { libc::munmap(map, len) };
        let hits = hits.into_inner();
        eprintln!("sent {sent}, descriptors rewritten after the check {hits}");
        assert!(hits > 0, "the writer never caught a descriptor between check and submit ({sent} sent)");
        let deadline = Instant::now() + Duration::from_secs(1);
        while tx.in_flight_frames() > 0 && Instant::now() < deadline {
            tx.kick().unwrap();
            tx.reclaim_completed();
        }
        let st = tx.stats().unwrap();
        assert!(st.tx_invalid_descs > 0, "the kernel saw rewritten descriptors: {st:?}");
    });
}
