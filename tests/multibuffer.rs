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
        End::open_in(&pair.ns_a, &pair.if_a, mode, frame_size, bind_flags)
    }

    fn open_in(ns: &str, ifname: &str, mode: XdpMode, frame_size: u32, bind_flags: u32) -> xsk_rs::Result<End> {
        let ifname = ifname.to_string();
        common::in_ns(ns, move || {
            let ucfg = UmemConfig {
                frame_count: FRAMES,
                frame_size,
                frame_headroom: 0,
                fill_size: 512,
                comp_size: 512,
                flags: 0,
                tx_metadata_len: 0,
            };
            let umem = Umem::new(&ucfg)?;
            let scfg = SocketConfig {
                rx_size: 512,
                tx_size: 512,
                bind_flags,
                xdp_mode: mode,
                tx_budget: 0,
                ..Default::default()
            };
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
            let (n, idx) = rx.peek_packets(64).expect("chains of at most 64 descriptors");
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
                let g =
                    peer.recv_test_frame(Duration::from_secs(2)).unwrap_or_else(|| panic!("{mode}: packet {i} lost"));
                assert_eq!(g.len(), s.len(), "{mode} {fs}: packet {i} length");
                assert!(&g == s, "{mode} {fs}: packet {i} bytes differ");
            }
            assert_eq!(end.sock.stats().unwrap().tx_invalid_descs, 0);
        }
    }
}

/// What the kernel does with chains it cannot send. Each bad chain is
/// followed by good packets: they must arrive.
#[test]
fn invalid_chains_are_counted_and_what_follows_arrives() {
    if !common::require_root() {
        return;
    }
    for mode in modes() {
        let pair = pair_with_mtu(MTU);
        let end = End::open(&pair, mode, 2048, BIND_NEED_WAKEUP | BIND_SG);
        if !common::kernel_at_least(6, 6) {
            // No multi-buffer: nothing to chain (tests/kernels runs this on 6.1).
            assert_eq!(end.map(|_| ()).unwrap_err().errno(), libc::EOPNOTSUPP);
            continue;
        }
        let mut end = end.unwrap();
        let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
        let mut seq = 0;
        let mut next = |len| {
            seq += 1;
            test_frame(seq, len)
        };
        // (a) 19 descriptors of 100 bytes: more fragments than an skb holds
        // (MAX_SKB_FRAGS 17, plus the linear part).
        let long = next(1900);
        let mut bad = end.chain(&long, 100);
        let good1 = next(9000);
        let mut g = end.chain(&good1, 2048);
        bad.append(&mut g);
        let n = bad.len();
        end.send_and_complete(&bad, n);
        let st = end.sock.stats().unwrap();
        let got = peer.recv_test_frame(Duration::from_secs(1)).expect("the packet after the 19-fragment chain");
        // Every descriptor of the chain is counted, and its frames complete.
        assert_eq!(st.tx_invalid_descs, 19, "{mode}: {st:?}");
        assert!(got == good1, "{mode}: the packet after the bad chain");
        // (b) a chain longer than the MTU: 6 x 2048 = 12288 bytes.
        let big = next(12288);
        let mut bad = end.chain(&big, 2048);
        let good2 = next(100);
        bad.extend(end.chain(&good2, 2048));
        let n = bad.len();
        end.send_and_complete(&bad, n);
        let st = end.sock.stats().unwrap();
        let got = peer.recv_test_frame(Duration::from_secs(1)).expect("the packet after the long chain");
        // Valid descriptors: the kernel builds the packet, and veth drops it
        // for its length, without a trace in the socket's counters.
        assert_eq!(st.tx_invalid_descs, 19, "{mode}: {st:?}");
        assert!(got == good2, "{mode}: the long chain must not arrive, the packet after it must");
        // (c) a chain whose last descriptor is invalid (len 0... beyond frame).
        let p = next(3000);
        let mut bad = end.chain(&p, 2048);
        bad[1].len = 4000;
        let good3 = next(200);
        bad.extend(end.chain(&good3, 2048));
        let n = bad.len();
        end.send_and_complete(&bad, n);
        let st = end.sock.stats().unwrap();
        let got = peer.recv_test_frame(Duration::from_secs(1)).expect("the packet after the bad chain");
        // Both descriptors of the chain are counted.
        assert_eq!(st.tx_invalid_descs, 21, "{mode}: {st:?}");
        assert!(got == good3, "{mode}: the packet after the bad chain");
        // (d) a dangling CONTD descriptor with nothing after it, then later a
        // good packet.
        let p = next(100);
        let mut bad = end.chain(&p, 2048);
        bad[0].options = XDP_PKT_CONTD;
        // Queue it by hand: put_packets never queues half a chain.
        let tx = end.sock.tx().unwrap();
        let i = tx.reserve(1).unwrap();
        tx.set(i, bad[0]);
        tx.submit(1);
        end.sock.kick().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let mut addrs = [0u64; 8];
        assert_eq!(end.umem.comp().take(&mut addrs), 0, "{mode}: a chain waiting for its end does not complete");
        // The kernel cannot tell a packet that follows from the chain's
        // end: it becomes part of the dangling packet. This is why
        // `put_packets` never queues half a chain.
        let good4 = next(300);
        let d = end.chain(&good4, 2048);
        end.send_and_complete(&d, 2);
        let got = peer.recv_test_frame(Duration::from_secs(1)).expect("the merged packet");
        assert_eq!((frame_seq(&got), got.len()), (frame_seq(&p), 400), "{mode}");
        assert!(got[..100] == p[..] && got[100..] == good4[..], "{mode}: the two merged");
        assert_eq!(end.free.len(), (FRAMES / 2) as usize, "{mode}: every tx frame came back");
        assert_eq!(end.sock.stats().unwrap().tx_invalid_descs, 21);
    }
}

/// Loads the built-in program with or without frags, attaches it on `ifname`
/// in `mode` (the calling thread's namespace) and points queue 0 at `sock`.
fn own_program(
    ifname: &str,
    mode: XdpMode,
    frags: bool,
    sock_fd: i32,
) -> xsk_rs::Result<(xsk_rs::xdp::Link, xsk_rs::xdp::Program, xsk_rs::xdp::XskMap)> {
    let map = xsk_rs::xdp::XskMap::create(1)?;
    let prog = xsk_rs::xdp::Program::redirect_with(&map, frags)?;
    let ifindex = xsk_rs::netdev::Netdev::lookup(ifname)?.ifindex;
    let link = xsk_rs::xdp::Link::attach(&prog, ifindex, mode)?;
    map.insert(0, sock_fd)?;
    Ok((link, prog, map))
}

/// What loading the program with frags changes, measured (why the library
/// loads it so whenever the kernel has multi-buffer AF_XDP):
/// - drv mode on veth with MTU 9000 refuses a program without frags (ERANGE);
/// - skb mode, a single-buffer socket: nothing. A short fragmented packet
///   (AF_XDP's own copy-mode TX of a chain builds one) and a 3700-byte one
///   (which generic XDP re-packs into a page and a fragment for a frags
///   program) arrive whole, one frame each, either way;
/// - a multi-buffer socket behind a program without frags (skb mode) still
///   gets jumbo packets whole, split over frames (the kernel linearises).
#[test]
fn frags_program_effects() {
    if !common::require_root() {
        return;
    }
    // drv mode, MTU 9000: only a frags program attaches.
    let pair = pair_with_mtu(MTU);
    let rx = End::open_in(&pair.ns_b, &pair.if_b, XdpMode::None, 4096, BIND_NEED_WAKEUP | BIND_SHORT_FRAMES).unwrap();
    let rx_fd = rx.sock.fd();
    let e = common::in_ns(&pair.ns_b, || own_program("veth1", XdpMode::Drv, false, rx_fd).map(|_| ()).unwrap_err());
    eprintln!("drv, MTU 9000, no frags: {e}");
    assert_eq!(e.errno(), libc::ERANGE, "{e}");
    common::in_ns(&pair.ns_b, || own_program("veth1", XdpMode::Drv, true, rx_fd).map(|_| ()).unwrap());
    drop((rx, pair));

    // skb mode: a 2-fragment 200-byte packet to a single-buffer socket.
    for frags in [false, true] {
        let pair = pair_with_mtu(MTU);
        let mut tx = End::open(&pair, XdpMode::Auto, 2048, BIND_NEED_WAKEUP | BIND_SG).unwrap();
        let mut rx =
            End::open_in(&pair.ns_b, &pair.if_b, XdpMode::None, 4096, BIND_NEED_WAKEUP | BIND_SHORT_FRAMES).unwrap();
        let rx_fd = rx.sock.fd();
        let _prog = common::in_ns(&pair.ns_b, || own_program("veth1", XdpMode::Skb, frags, rx_fd).unwrap());
        let short = test_frame(1, 200);
        let d = tx.chain(&short, 100);
        tx.send_and_complete(&d, 2);
        let mid = test_frame(2, 3700);
        let peer = pair.run_in_a(|| PacketSocket::open("veth0").unwrap());
        peer.send(&mid).unwrap();
        let got = rx.recv(2, Duration::from_millis(500));
        let seqs: Vec<_> = got.iter().map(|(g, _)| frame_seq(g)).collect();
        let st = rx.sock.stats().unwrap();
        eprintln!("skb, single-buffer socket, frags {frags}: received {seqs:?}, {st:?}");
        // With or without frags, both arrive whole in one frame each.
        assert_eq!(seqs, [Some(1), Some(2)], "frags {frags}");
        assert!(got[0].0 == short && got[1].0 == mid, "frags {frags}");
        assert_eq!(got.iter().map(|(_, s)| s.len()).collect::<Vec<_>>(), [1, 1]);
        assert_eq!(st.rx_dropped, 0);
    }

    // skb mode: a multi-buffer socket behind a program without frags.
    let pair = pair_with_mtu(MTU);
    let mut rx = End::open_in(&pair.ns_b, &pair.if_b, XdpMode::None, 2048, BIND_NEED_WAKEUP | BIND_SG).unwrap();
    let rx_fd = rx.sock.fd();
    let _prog = common::in_ns(&pair.ns_b, || own_program("veth1", XdpMode::Skb, false, rx_fd).unwrap());
    let peer = pair.run_in_a(|| PacketSocket::open("veth0").unwrap());
    let sent = test_frame(3, 9000);
    peer.send(&sent).unwrap();
    let got = rx.recv(1, Duration::from_secs(2));
    assert_eq!(got.len(), 1);
    assert!(got[0].0 == sent);
    eprintln!("skb, multi-buffer socket, no frags: 9000 bytes as {:?}", got[0].1);
}

/// Without multi-buffer, an RX socket whose frames cannot hold what the MTU
/// delivers is refused at creation, naming the numbers and the fixes; with
/// BIND_SG or BIND_SHORT_FRAMES it is created, and so is a TX-only one.
#[test]
fn short_frames_are_refused_without_multi_buffer() {
    if !common::require_root() {
        return;
    }
    let pair = pair_with_mtu(MTU);
    let e = End::open(&pair, XdpMode::Skb, 4096, BIND_NEED_WAKEUP).map(|_| ()).unwrap_err();
    assert_eq!(e.errno(), libc::EMSGSIZE, "{e}");
    let msg = e.to_string();
    for want in ["MTU 9000", "9018 bytes", "4096 bytes holds 3840", "larger frames", "multi-buffer (BIND_SG"] {
        assert!(msg.contains(want), "{want:?} not in {msg}");
    }
    assert!(!common::xdp_attached(&pair.ns_a, &pair.if_a), "a refused socket attaches nothing");
    End::open(&pair, XdpMode::Skb, 4096, BIND_NEED_WAKEUP | BIND_SHORT_FRAMES).unwrap();
    End::open(&pair, XdpMode::Skb, 2048, BIND_NEED_WAKEUP | BIND_SG).unwrap();
    // MTU 1500: 2048-byte frames hold 1792 >= 1518.
    let pair = pair_with_mtu(1500);
    End::open(&pair, XdpMode::Skb, 2048, BIND_NEED_WAKEUP).unwrap();
}

/// The packet layer: `recv` gathers a 9000-byte packet from its frames,
/// `recv_packet` shows its segments, `send` sends one as a chain; small
/// packets mixed in keep their order; every frame is accounted for.
#[test]
fn packet_layer_jumbo() {
    use xsk_rs::{PollWaitExt, SendExt, XdpConfig};
    if !common::require_root() {
        return;
    }
    for mode in modes() {
        for fs in [2048u32, 4096] {
            let pair = pair_with_mtu(MTU);
            let cfg = XdpConfig {
                multi_buffer: Some(true),
                frame_size: Some(fs),
                rx_frames: Some(128),
                tx_frames: Some(128),
                xdp_mode: Some(mode),
                ..Default::default()
            };
            let (mut tx, mut rx) =
                pair.run_in_a(move || xsk_rs::create_bi_socket_by_name("veth0", 0, Some(cfg)).expect("bi socket"));
            assert_eq!(tx.max_len(), 9018);
            let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
            let lens = |s: u32| match s % 4 {
                0 => 9000,
                1 => 60 + s as usize,
                2 => 9014,
                _ => fs as usize + 1,
            };
            let sent: Vec<Vec<u8>> = (0..24).map(|s| test_frame(s, lens(s))).collect();
            for f in &sent {
                peer.send(f).unwrap();
            }
            let room = (fs - XDP_PACKET_HEADROOM) as usize;
            let mut buf = vec![0u8; 10000];
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut i = 0;
            while i < sent.len() {
                assert!(Instant::now() < deadline, "{mode} {fs}: got {i} of {}", sent.len());
                if i % 2 == 0 {
                    match rx.recv(&mut buf).unwrap() {
                        Some(n) => {
                            if frame_seq(&buf[..n]).is_none() {
                                continue;
                            }
                            assert!(buf[..n] == sent[i][..], "{mode} {fs}: packet {i} (recv, {n} bytes)");
                            i += 1;
                        }
                        None => {
                            rx.poll_wait(Some(Duration::from_millis(50))).unwrap();
                        }
                    }
                } else {
                    let Some(p) = rx.recv_packet().unwrap() else {
                        rx.poll_wait(Some(Duration::from_millis(50))).unwrap();
                        continue;
                    };
                    let segs: Vec<usize> = p.segments().map(<[u8]>::len).collect();
                    let mut whole = vec![0u8; p.len()];
                    assert_eq!(p.gather(&mut whole), p.len());
                    drop(p);
                    if frame_seq(&whole).is_none() {
                        continue;
                    }
                    assert!(whole == sent[i], "{mode} {fs}: packet {i} (recv_packet)");
                    assert_eq!(segs.len(), sent[i].len().div_ceil(room), "{mode} {fs}: packet {i}: {segs:?}");
                    i += 1;
                }
            }
            assert_eq!(rx.held_frames(), 0);
            assert_eq!(rx.in_flight_frames() + rx.free_frames(), 128, "{mode} {fs}: every rx frame lent again");

            // Send: jumbo chains and small packets, in order, byte-exact.
            for f in &sent {
                tx.send_blocking(f, None).unwrap();
            }
            for (i, s) in sent.iter().enumerate() {
                let g =
                    peer.recv_test_frame(Duration::from_secs(2)).unwrap_or_else(|| panic!("{mode}: packet {i} lost"));
                assert!(&g == s, "{mode} {fs}: sent packet {i}: {} bytes, want {}", g.len(), s.len());
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            while tx.free_frames() < 128 && Instant::now() < deadline {
                tx.poll_wait(Some(Duration::from_millis(10))).unwrap();
                tx.reclaim_completed();
            }
            assert_eq!(tx.free_frames(), 128, "{mode} {fs}: every tx frame came back");
            // With a header: the chain splits header ++ data.
            let p = test_frame(99, 9000);
            assert!(tx.send(&p[14..], Some(&p[..14])).unwrap());
            assert!(peer.recv_test_frame(Duration::from_secs(2)).unwrap() == p);
            let e = tx.send(&vec![0u8; 9019], None).unwrap_err();
            assert_eq!(e.errno(), libc::EMSGSIZE, "{e}");
        }
    }
}

/// On a kernel before 6.6, asking for multi-buffer fails with EOPNOTSUPP
/// naming the release, in the core and the packet layer, and attaches
/// nothing; from 6.6 on a jumbo packet arrives as a chain. (In
/// tests/kernels/suite: run on 6.1 and 6.12.)
#[test]
fn multi_buffer_by_kernel() {
    if !common::require_root() {
        return;
    }
    let pair = pair_with_mtu(MTU);
    let has = common::kernel_at_least(6, 6);
    let cfg =
        xsk_rs::XdpConfig { multi_buffer: Some(true), rx_frames: Some(64), tx_frames: Some(64), ..Default::default() };
    let p = pair.run_in_a(move || xsk_rs::create_bi_socket_by_name("veth0", 0, Some(cfg)).map(|_| ()));
    let r = End::open(&pair, XdpMode::Skb, 4096, BIND_NEED_WAKEUP | BIND_SG);
    if !has {
        for e in [r.map(|_| ()).unwrap_err(), p.unwrap_err()] {
            assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
            assert!(e.to_string().contains("needs Linux 6.6 or later"), "{e}");
        }
        assert!(!common::xdp_attached(&pair.ns_a, &pair.if_a));
        // Single-buffer sockets still work there, the program without frags.
        let mut end = End::open(&pair, XdpMode::Skb, 4096, BIND_NEED_WAKEUP | BIND_SHORT_FRAMES).unwrap();
        let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
        let f = test_frame(1, 1000);
        peer.send(&f).unwrap();
        let got = end.recv(1, Duration::from_secs(2));
        assert!(got.len() == 1 && got[0].0 == f);
        return;
    }
    p.unwrap();
    let mut end = r.unwrap();
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let f = test_frame(1, 9000);
    peer.send(&f).unwrap();
    let got = end.recv(1, Duration::from_secs(2));
    assert!(got.len() == 1 && got[0].0 == f && got[0].1.len() == 3);
}

/// The kernel keeps multi-buffer per UMEM (net/xdp/xsk.c `xsk_bind`: a
/// socket's `sg` is its UMEM's, set by the first bind; a shared bind takes
/// no flags), so a socket on a UMEM whose fd was bound with BIND_SG gets
/// chains whatever it asked for, and one asking for BIND_SG on a UMEM bound
/// without it gets none. Both are refused with EINVAL naming both binds.
/// Before the fix the first was accepted, and a 9000-byte packet reached it
/// as a chain of CONTD descriptors it had not asked for.
#[test]
fn sg_on_a_umem_must_match_its_bind_both_ways() {
    if !common::require_root() {
        return;
    }
    if !common::kernel_at_least(6, 6) {
        return; // no multi-buffer: BIND_SG itself is EOPNOTSUPP (tested above)
    }
    let pair = pair_with_mtu(MTU);
    let scfg = |bind_flags| SocketConfig {
        rx_size: 512,
        tx_size: 512,
        bind_flags,
        xdp_mode: XdpMode::Skb,
        tx_budget: 0,
        ..Default::default()
    };
    // The UMEM's fd bound with BIND_SG; a socket without it takes the fd over.
    let End { sock, umem, .. } = End::open(&pair, XdpMode::Skb, 2048, BIND_NEED_WAKEUP | BIND_SG).unwrap();
    drop(sock);
    let r =
        common::in_ns(&pair.ns_a, || Socket::new(&pair.if_a, 0, &umem, &scfg(BIND_NEED_WAKEUP | BIND_SHORT_FRAMES)));
    if let Ok(mut sock) = r {
        // What accepting it meant: the kernel hands it a chain.
        let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
        peer.send(&test_frame(1, 9000)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut descs = Vec::new();
        while descs.is_empty() && Instant::now() < deadline {
            sock.poll(libc::POLLIN, 20).unwrap();
            let rx = sock.rx().unwrap();
            let (n, idx) = rx.peek(64);
            descs.extend((0..n).map(|i| rx.get(idx.wrapping_add(i))));
            rx.release(n);
        }
        panic!("a socket without BIND_SG was accepted on a umem bound with it; it received {descs:?}");
    }
    let e = r.err().unwrap();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    let m = e.to_string();
    assert!(m.contains("without multi-buffer (BIND_SG)") && m.contains("bound with it") && m.contains("0x"), "{m}");
    drop(umem);
    // The other way: the UMEM's fd bound without BIND_SG (short frames
    // accepted), a second socket asking for it.
    let End { sock: _first, umem, .. } =
        End::open(&pair, XdpMode::Skb, 2048, BIND_NEED_WAKEUP | BIND_SHORT_FRAMES).unwrap();
    let e = common::in_ns(&pair.ns_a, || Socket::new(&pair.if_a, 0, &umem, &scfg(BIND_NEED_WAKEUP | BIND_SG)))
        .err()
        .expect("refused");
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    assert!(e.to_string().contains("multi-buffer (BIND_SG) asked for"), "{e}");
}

/// The packet layer's batch receives on a multi-buffer socket take whole
/// packets only: `recv_batch` never stops inside a chain and marks each
/// frame but a packet's last continued, a packet of more frames than it may
/// take is `ENOBUFS` (not an empty batch), `seek_packet` holds one whole
/// packet, and `recv_packed` gathers each into one. Byte-exact, in order,
/// every frame lent again.
#[test]
fn packet_layer_batches_take_whole_chains() {
    use xsk_rs::{PollWaitExt, XdpConfig};
    if !common::require_root() {
        return;
    }
    for mode in modes() {
        let pair = pair_with_mtu(MTU);
        let cfg = XdpConfig {
            multi_buffer: Some(true),
            frame_size: Some(2048),
            rx_frames: Some(256),
            xdp_mode: Some(mode),
            ..Default::default()
        };
        let mut rx = pair.run_in_a(move || xsk_rs::create_rx_socket_by_name("veth0", 0, Some(cfg)).expect("rx"));
        let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
        let room = (2048 - XDP_PACKET_HEADROOM) as usize;
        let frames_of = |len: usize| len.div_ceil(room);
        assert_eq!(frames_of(9000), 6);
        let sent: Vec<Vec<u8>> =
            (0..16).map(|s| test_frame(s, if s % 2 == 0 { 9000 } else { 60 + s as usize })).collect();
        for f in &sent {
            peer.send(f).unwrap();
        }
        // Let all 56 frames arrive (found by nothing yet: seek would hold them).
        let deadline = Instant::now() + Duration::from_secs(5);
        while !rx.poll_wait(Some(Duration::from_millis(50))).unwrap() {
            assert!(Instant::now() < deadline, "{mode}: nothing arrived");
        }
        std::thread::sleep(Duration::from_millis(300));

        // Packet 0 spans 6 frames: a batch of 5 cannot hold it.
        let e = rx.recv_batch(5).map(|b| b.len()).unwrap_err();
        assert_eq!(e.errno(), libc::ENOBUFS, "{mode}: {e}");
        assert!(e.to_string().contains("more than 5 frames"), "{e}");
        assert_eq!(rx.held_frames(), 0, "{mode}: a refused batch holds nothing");
        let e = rx.seek_packet(3).unwrap_err();
        assert_eq!(e.errno(), libc::ENOBUFS, "{mode}: {e}");
        assert!(e.to_string().contains("spans 6 frames; segs has room for 3"), "{e}");
        assert_eq!(rx.held_frames(), 0);
        let n = rx.seek_packet(8).unwrap();
        assert_eq!(n, 6, "{mode}");
        assert_eq!(rx.seek_packet(8).unwrap_err().errno(), libc::EBUSY, "{mode}: held");
        let mut whole = Vec::new();
        for i in 0..n {
            whole.extend_from_slice(rx.peek_at(i).unwrap());
            assert_eq!(rx.is_continued(i).unwrap(), i + 1 < n, "{mode}: frame {i}");
        }
        assert!(whole == sent[0], "{mode}: seek_packet: packet 0");
        rx.commit_n(n).unwrap();

        // Packets 1 (1 frame), 2 (6), 3 (1) make 8 frames; packet 4 (6) does
        // not fit in 10: the batch stops before it, not inside it.
        {
            let batch = rx.recv_batch(10).unwrap();
            assert_eq!(batch.len(), 8, "{mode}: whole packets only");
            let mut pkts = vec![Vec::new()];
            for i in 0..batch.len() {
                pkts.last_mut().unwrap().extend_from_slice(batch.get(i).unwrap());
                if !batch.is_continued(i) {
                    pkts.push(Vec::new());
                }
            }
            assert!(pkts.pop().unwrap().is_empty(), "{mode}: the batch ends with a packet's last frame");
            assert_eq!(pkts.len(), 3, "{mode}");
            for (k, p) in pkts.iter().enumerate() {
                assert!(*p == sent[1 + k], "{mode}: recv_batch: packet {}", 1 + k);
            }
        }
        assert_eq!(rx.held_frames(), 0, "{mode}: the batch gave its frames back");

        // recv_packed gathers each chain into one packet: 4, 5, 6, 7.
        let mut buf = vec![0u8; 20000];
        let mut lens = [0u32; 4];
        assert_eq!(rx.recv_packed(&mut buf, &mut lens).unwrap(), 4, "{mode}");
        let mut off = 0;
        for (k, &l) in lens.iter().enumerate() {
            let l = l as usize;
            assert!(buf[off..off + l] == sent[4 + k][..], "{mode}: recv_packed: packet {}", 4 + k);
            off += l;
        }
        // It stops before a chain that does not fit, which stays whole.
        let mut small = vec![0u8; 9100];
        assert_eq!(rx.recv_packed(&mut small, &mut lens).unwrap(), 2, "{mode}: 8 (9000) and 9");
        assert!(small[..9000] == sent[8][..] && small[9000..9000 + lens[1] as usize] == sent[9][..]);
        assert_eq!(rx.held_frames(), 0);
        let mut one = vec![0u8; 10000];
        for (k, want) in sent.iter().enumerate().skip(10) {
            let n = rx.recv(&mut one).unwrap().unwrap_or_else(|| panic!("{mode}: packet {k}"));
            assert!(one[..n] == want[..], "{mode}: recv: packet {k}");
        }
        assert_eq!(rx.recv(&mut one).unwrap(), None);
        assert_eq!(rx.held_frames(), 0);
        assert_eq!(rx.in_flight_frames() + rx.free_frames(), 256, "{mode}: every rx frame lent again");
    }
}

/// A chain needing more frames than the TX half owns, or more entries than
/// its TX ring has, is refused (`EMSGSIZE`, naming the numbers) instead of
/// "no room" forever; one that fits is sent.
#[test]
fn packet_layer_chain_longer_than_the_tx_half_is_refused() {
    use xsk_rs::{SendExt, XdpConfig};
    if !common::require_root() {
        return;
    }
    let pair = pair_with_mtu(MTU);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    for (tx_frames, tx_size, what) in [(4, None, "4 tx frames"), (16, Some(4), "a tx ring of 4 entries")] {
        let cfg = XdpConfig {
            multi_buffer: Some(true),
            frame_size: Some(2048),
            tx_frames: Some(tx_frames),
            tx_size,
            xdp_mode: Some(XdpMode::Skb),
            ..Default::default()
        };
        let mut tx = pair.run_in_a(move || xsk_rs::create_tx_socket_by_name("veth0", 0, Some(cfg)).expect("tx"));
        let p = test_frame(1, 9000);
        for e in [tx.send(&p, None).unwrap_err(), tx.send_blocking(&p, None).unwrap_err()] {
            assert_eq!(e.errno(), libc::EMSGSIZE, "{e}");
            assert!(e.to_string().contains("takes 5 frames of 2048 bytes") && e.to_string().contains(what), "{e}");
        }
        assert_eq!(tx.free_frames(), tx_frames as usize, "nothing reserved");
        // 8000 bytes take 4 frames: sent.
        let p = test_frame(2, 8000);
        tx.send_blocking(&p, None).unwrap();
        assert!(peer.recv_test_frame(Duration::from_secs(2)).unwrap() == p);
    }
}

/// The packet layer can waive the MTU-vs-frame refusal: an RX socket with
/// 4 KiB frames on MTU 9000 is refused without `short_frames` and created
/// with it; short packets arrive, longer ones are dropped.
#[test]
fn packet_layer_short_frames() {
    use xsk_rs::{PollWaitExt, XdpConfig};
    if !common::require_root() {
        return;
    }
    let pair = pair_with_mtu(MTU);
    let cfg = XdpConfig { rx_frames: Some(64), xdp_mode: Some(XdpMode::Skb), ..Default::default() };
    let e = pair.run_in_a(move || xsk_rs::create_rx_socket_by_name("veth0", 0, Some(cfg)).map(|_| ())).unwrap_err();
    assert_eq!(e.errno(), libc::EMSGSIZE, "{e}");
    assert!(e.to_string().contains("MTU 9000"), "{e}");
    let cfg = XdpConfig { short_frames: Some(true), ..cfg };
    let mut rx = pair.run_in_a(move || xsk_rs::create_rx_socket_by_name("veth0", 0, Some(cfg)).expect("rx"));
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let (long, short) = (test_frame(1, 9000), test_frame(2, 1000));
    peer.send(&long).unwrap();
    peer.send(&short).unwrap();
    let mut buf = vec![0u8; 10000];
    let deadline = Instant::now() + Duration::from_secs(2);
    let n = loop {
        assert!(Instant::now() < deadline, "the short packet did not arrive");
        match rx.recv(&mut buf).unwrap() {
            Some(n) if frame_seq(&buf[..n]).is_some() => break n,
            Some(_) => {}
            None => {
                rx.poll_wait(Some(Duration::from_millis(50))).unwrap();
            }
        }
    };
    assert!(buf[..n] == short[..], "the first test frame to arrive is the short one");
    assert!(rx.stats().unwrap().rx_dropped >= 1, "the long one was dropped");
}
