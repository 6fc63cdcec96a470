//! Multi-buffer (jumbo frames) over a veth pair with MTU 9000, in skb and drv
//! mode: packets longer than a frame arrive as chains of descriptors
//! (`XDP_PKT_CONTD`) and are sent as chains, byte-exact, with every frame
//! accounted for. The AF_PACKET peer on `veth1` sends and receives the jumbo
//! frames.

mod common;

use common::{frame_seq, test_frame, PacketSocket, VethPair};
use std::time::{Duration, Instant};
use xsk_rs::ring::{chain_len, Desc, XDP_PKT_CONTD};
use xsk_rs::socket::{Socket, SocketConfig, BIND_COPY, BIND_NEED_WAKEUP, BIND_SG, BIND_SHORT_FRAMES};
use xsk_rs::umem::{Umem, UmemConfig, XDP_PACKET_HEADROOM};
use xsk_rs::xdp::XdpMode;

const FRAMES: u32 = 512;
const MTU: u32 = 9000;

/// A veth pair whose ends both carry `mtu`.
fn pair_with_mtu(mtu: u32) -> VethPair {
    let pair = VethPair::new();
    let m = mtu.to_string();
    common::ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "mtu", &m]);
    common::ip_in(&pair.ns_b, &["link", "set", "dev", &pair.if_b, "mtu", &m]);
    pair
}

/// A UMEM and one socket on `veth0`: frames `0..FRAMES/2` for RX, the rest TX.
struct End {
    sock: Socket,
    umem: Umem,
    /// TX frames not in flight.
    free: Vec<u64>,
}

impl End {
    fn open(pair: &VethPair, mode: XdpMode, frame_size: u32, bind_flags: u32) -> xsk_rs::Result<End> {
        let ifname = pair.if_a.clone();
        pair.run_in_a(move || {
            let ucfg =
                UmemConfig { frame_count: FRAMES, frame_size, frame_headroom: 0, fill_size: 512, comp_size: 512, flags: 0 };
            let umem = Umem::new(&ucfg)?;
            let scfg = SocketConfig { rx_size: 512, tx_size: 512, bind_flags, xdp_mode: mode, tx_budget: 0 };
            let sock = Socket::new(&ifname, 0, &umem, &scfg)?;
            let free = (FRAMES / 2..FRAMES).map(|i| umem.frame_addr(i)).collect();
            let mut end = End { sock, umem, free };
            let addrs: Vec<u64> = (0..FRAMES / 2).map(|i| end.umem.frame_addr(i)).collect();
            assert_eq!(end.umem.fill().put(&addrs), FRAMES / 2);
            Ok(end)
        })
    }

    fn room(&self) -> usize {
        (self.umem.frame_size() - XDP_PACKET_HEADROOM) as usize
    }

    /// Receives whole packets until `want` test frames arrived; returns each
    /// with its segment lengths. Frames go back to the fill ring.
    fn recv(&mut self, want: usize, timeout: Duration) -> Vec<(Vec<u8>, Vec<u32>)> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while got.len() < want && Instant::now() < deadline {
            let rx = self.sock.rx().unwrap();
            let (n, idx) = rx.peek_packets(64);
            if n == 0 {
                self.sock.poll(libc::POLLIN, 20).unwrap();
                continue;
            }
            let descs: Vec<Desc> = (0..n).map(|i| rx.get(idx.wrapping_add(i))).collect();
            rx.release(n);
            let mut at = 0;
            while at < descs.len() {
                let k = chain_len(&descs[at..]).expect("peek_packets takes whole chains");
                let mut bytes = Vec::new();
                let mut segs = Vec::new();
                for d in &descs[at..at + k] {
                    // SAFETY: came off the RX ring: ours until refilled.
                    bytes.extend_from_slice(unsafe { self.umem.frame(d.addr, d.len as usize) }.unwrap());
                    segs.push(d.len);
                }
                if frame_seq(&bytes).is_some() {
                    got.push((bytes, segs));
                }
                at += k;
            }
            let refill: Vec<u64> = descs.iter().map(|d| self.umem.frame_start(d.addr)).collect();
            assert_eq!(self.umem.fill().put(&refill), n);
        }
        got
    }

    /// The descriptors of `pkt` split over free TX frames of `seg` bytes
    /// each (the frames are written).
    fn chain(&mut self, pkt: &[u8], seg: usize) -> Vec<Desc> {
        let parts: Vec<&[u8]> = pkt.chunks(seg).collect();
        let last = parts.len() - 1;
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let addr = self.free.pop().expect("a free tx frame");
                // SAFETY: a TX frame not in flight.
                unsafe { self.umem.frame_mut(addr, p.len()) }.unwrap().copy_from_slice(p);
                Desc { addr, len: p.len() as u32, options: if i < last { XDP_PKT_CONTD } else { 0 } }
            })
            .collect()
    }

    /// Queues `descs` (whole chains), kicks, and waits until `frames` frames
    /// have come back on the completion ring.
    fn send_and_complete(&mut self, descs: &[Desc], frames: usize) {
        let mut queued = 0usize;
        let mut done = 0usize;
        let deadline = Instant::now() + Duration::from_secs(5);
        while done < frames {
            assert!(Instant::now() < deadline, "only {done} of {frames} frames completed");
            if queued < descs.len() {
                queued += self.sock.tx().unwrap().put_packets(&descs[queued..]).unwrap() as usize;
            }
            self.sock.kick().unwrap();
            let mut addrs = [0u64; 64];
            let n = self.umem.comp().take(&mut addrs) as usize;
            self.free.extend_from_slice(&addrs[..n]);
            done += n;
            if n == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fn modes() -> [XdpMode; 2] {
    [XdpMode::Skb, XdpMode::Drv]
}

/// Receive 9000-byte packets (and the largest the MTU allows) into 2 KiB and
/// 4 KiB frames: one packet, its bytes in order over its segments, each
/// segment a full frame but the last.
#[test]
fn rx_jumbo_into_small_frames() {
    if !common::require_root() {
        return;
    }
    for mode in modes() {
        for fs in [2048u32, 4096] {
            let pair = pair_with_mtu(MTU);
            let mut end = End::open(&pair, mode, fs, BIND_NEED_WAKEUP | BIND_SG | BIND_COPY).unwrap();
            let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
            let sent: Vec<Vec<u8>> = (0..40).map(|s| test_frame(s, if s % 2 == 0 { 9000 } else { 9014 })).collect();
            for f in &sent {
                peer.send(f).unwrap();
            }
            let got = end.recv(sent.len(), Duration::from_secs(5));
            assert_eq!(got.len(), sent.len(), "{mode} {fs}: received {} of {}", got.len(), sent.len());
            let room = end.room();
            for (i, ((g, segs), s)) in got.iter().zip(&sent).enumerate() {
                assert_eq!(g.len(), s.len(), "{mode} {fs}: packet {i} length");
                assert!(g == s, "{mode} {fs}: packet {i} bytes differ");
                assert_eq!(segs.len(), s.len().div_ceil(room), "{mode} {fs}: packet {i} segments {segs:?}");
                assert!(segs[..segs.len() - 1].iter().all(|&l| l as usize == room), "{mode} {fs}: {segs:?}");
            }
            eprintln!("{mode} {fs}: 9000 bytes arrive as {:?}", got[0].1);
            let st = end.sock.stats().unwrap();
            assert_eq!((st.rx_dropped, st.rx_invalid_descs), (0, 0), "{mode} {fs}: {st:?}");
        }
    }
}

/// Send 9000-byte packets as chains of 2 KiB and 3 KiB segments, mixed with
/// small ones: the peer gets them byte-exact and in order, and every frame
/// comes back on the completion ring.
#[test]
fn tx_jumbo_chains_mixed_with_small() {
    if !common::require_root() {
        return;
    }
    for mode in modes() {
        for (fs, seg) in [(2048u32, 2048usize), (4096, 3000)] {
            let pair = pair_with_mtu(MTU);
            let mut end = End::open(&pair, mode, fs, BIND_NEED_WAKEUP | BIND_SG).unwrap();
            let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
            let sent: Vec<Vec<u8>> =
                (0..30).map(|s| test_frame(s, if s % 3 == 1 { 60 + s as usize } else { 9000 })).collect();
            let mut descs = Vec::new();
            for p in &sent {
                descs.extend(end.chain(p, seg));
            }
            let before = end.free.len() + descs.len();
            end.send_and_complete(&descs, descs.len());
            assert_eq!(end.free.len(), before, "{mode} {fs}: every tx frame came back");
            for (i, s) in sent.iter().enumerate() {
                let g = peer.recv_test_frame(Duration::from_secs(2)).unwrap_or_else(|| panic!("{mode}: packet {i} lost"));
                assert_eq!(g.len(), s.len(), "{mode} {fs}: packet {i} length");
                assert!(&g == s, "{mode} {fs}: packet {i} bytes differ");
            }
            assert_eq!(end.sock.stats().unwrap().tx_invalid_descs, 0);
        }
    }
}
