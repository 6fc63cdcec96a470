//! One UMEM across queues and interfaces, with real packets: a forwarder in
//! namespace a has one UMEM with a socket on each of two ports (two veth
//! interfaces, or two queues of one multi-queue veth) and moves every frame
//! it receives on one port to the other port's TX ring, without a copy; the
//! frame comes back on that port's completion ring and goes to the fill ring
//! of the port it arrived on. The peer in namespace b (one UMEM shared by its
//! two sockets too) sends numbered frames into one port and must get every one
//! out of the other, byte for byte. At the end every frame of both UMEMs is
//! accounted for: in the application's hands or waiting in a fill ring, none
//! lost, none twice.

mod common;

use common::{frame_seq, in_ns, test_frame, VethPair};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig};
use xsk_rs::umem::{Umem, UmemConfig};
use xsk_rs::xdp::XdpMode;

const FRAMES: u32 = 512;
const FRAME_SIZE: u32 = 2048;
const RING: u32 = 256;

/// Where a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// The application's, free.
    App,
    /// Submitted to the fill ring of port `i`'s pool.
    Fill(usize),
    /// Submitted to port `i`'s TX ring.
    Tx(usize),
}

/// A UMEM with a socket on each of two ports, and where each frame is.
struct Hub {
    name: &'static str,
    umem: Umem,
    socks: [Socket; 2],
    at: HashMap<u64, At>,
}

impl Hub {
    /// Creates the UMEM and the sockets on `ports` inside `ns`.
    fn open(name: &'static str, ns: &str, ports: [(&str, u32); 2], mode: XdpMode) -> Hub {
        let ports = ports.map(|(i, q)| (i.to_string(), q));
        in_ns(ns, move || {
            let ucfg = UmemConfig {
                frame_count: FRAMES,
                frame_size: FRAME_SIZE,
                fill_size: RING * 2,
                comp_size: RING,
                ..Default::default()
            };
            let umem = Umem::new(&ucfg).expect("umem");
            let scfg = SocketConfig { rx_size: RING, tx_size: RING, xdp_mode: mode, ..Default::default() };
            let socks = ports.map(|(ifname, q)| {
                Socket::new(&ifname, q, &umem, &scfg).unwrap_or_else(|e| panic!("{name}: socket on {ifname} q{q}: {e}"))
            });
            let at = (0..FRAMES).map(|i| (umem.frame_addr(i), At::App)).collect();
            Hub { name, umem, socks, at }
        })
    }

    fn mv(&mut self, addr: u64, from: At, to: At) {
        let a = self.at.get_mut(&addr).unwrap_or_else(|| panic!("{}: {addr:#x} is no frame start", self.name));
        assert_eq!(*a, from, "{}: frame {addr:#x} moving to {to:?}", self.name);
        *a = to;
    }

    fn free(&self, n: usize) -> Vec<u64> {
        let mut v: Vec<u64> = self.at.iter().filter(|(_, a)| **a == At::App).map(|(k, _)| *k).collect();
        v.sort_unstable();
        v.truncate(n);
        v
    }

    /// Lends `addrs` (the application's) to port `i`'s fill ring.
    fn lend(&mut self, i: usize, addrs: &[u64]) {
        for &a in addrs {
            self.mv(a, At::App, At::Fill(i));
        }
        let Hub { umem, socks, .. } = self;
        let (fill, _) = umem.rings_for(&socks[i]).expect("rings of its own umem");
        assert_eq!(fill.put(addrs) as usize, addrs.len(), "{}: fill ring of port {i} has room", self.name);
        if fill.needs_wakeup() {
            socks[i].wake_rx().unwrap();
        }
    }

    /// Takes what port `i` received: each frame must come from its own fill ring.
    fn recv(&mut self, i: usize) -> Vec<Desc> {
        let mut descs = vec![Desc::default(); RING as usize];
        let n = self.socks[i].rx().unwrap().take(&mut descs) as usize;
        descs.truncate(n);
        for d in &descs {
            let start = self.umem.frame_start(d.addr);
            assert_eq!(d.addr - start, 256, "{}: received at the kernel's headroom", self.name);
            self.mv(start, At::Fill(i), At::App);
        }
        descs
    }

    /// Queues `descs` (frames of the application's) on port `i` and kicks.
    fn send(&mut self, i: usize, descs: &[Desc]) {
        for d in descs {
            self.mv(self.umem.frame_start(d.addr), At::App, At::Tx(i));
        }
        assert_eq!(self.socks[i].tx().unwrap().put(descs) as usize, descs.len(), "{}: tx ring has room", self.name);
        self.flush(i);
    }

    /// Kicks port `i` while kicks send more: before Linux 6.17 one kick
    /// sends at most 32 descriptors in copy mode, and the kernel may publish
    /// its progress only at the next call.
    fn flush(&mut self, i: usize) {
        let mut left = self.socks[i].tx().unwrap().in_flight();
        let mut idle = 0;
        while left > 0 && idle < 2 {
            self.socks[i].kick().unwrap();
            let now = self.socks[i].tx().unwrap().in_flight();
            idle = if now == left { idle + 1 } else { 0 };
            left = now;
        }
    }

    /// The frames port `i` has finished sending, back in the application's hands.
    fn reclaim(&mut self, i: usize) -> Vec<u64> {
        let Hub { umem, socks, .. } = self;
        let (_, comp) = umem.rings_for(&socks[i]).expect("rings of its own umem");
        let mut addrs = vec![0u64; RING as usize];
        let n = comp.take(&mut addrs) as usize;
        addrs.truncate(n);
        // The completion ring gives back the address that was sent: a
        // forwarded frame's starts at the kernel's headroom.
        let starts: Vec<u64> = addrs.iter().map(|&a| self.umem.frame_start(a)).collect();
        for &a in &starts {
            self.mv(a, At::Tx(i), At::App);
        }
        starts
    }

    /// Numbered test frames `seqs` out of port `i`, each in a free frame.
    fn send_numbered(&mut self, i: usize, seqs: std::ops::Range<u32>) {
        let frames = self.free(seqs.len());
        assert_eq!(frames.len(), seqs.len(), "{}: free frames to send", self.name);
        let descs: Vec<Desc> = frames
            .iter()
            .zip(seqs)
            .map(|(&addr, seq)| {
                let f = test_frame(seq, 60 + (seq as usize * 37) % 1400);
                // SAFETY: the frame is the application's (At::App).
                unsafe { self.umem.frame_mut(addr, f.len()) }.unwrap().copy_from_slice(&f);
                Desc { addr, len: f.len() as u32, options: 0 }
            })
            .collect();
        self.send(i, &descs);
    }

    /// One forwarding pass: what port i received goes out of port 1 - i in
    /// the same frame; a frame port j finished sending refills port 1 - j.
    fn forward(&mut self) -> usize {
        let mut moved = 0;
        for i in 0..2 {
            let descs = self.recv(i);
            moved += descs.len();
            if !descs.is_empty() {
                self.send(1 - i, &descs);
            }
        }
        for j in 0..2 {
            self.flush(j);
            let done = self.reclaim(j);
            if !done.is_empty() {
                self.lend(1 - j, &done);
            }
        }
        moved
    }

    /// Every frame is the application's or waits in a fill ring, and each
    /// fill ring holds exactly the frames recorded there.
    fn assert_accounted(&mut self) {
        let count = |at: At| self.at.values().filter(|a| **a == at).count() as u32;
        let (tx0, tx1) = (count(At::Tx(0)), count(At::Tx(1)));
        assert_eq!((tx0, tx1), (0, 0), "{}: frames still on a TX ring", self.name);
        let fills = [count(At::Fill(0)), count(At::Fill(1))];
        for (i, &want) in fills.iter().enumerate() {
            let Hub { umem, socks, .. } = self;
            let (fill, _) = umem.rings_for(&socks[i]).unwrap();
            assert_eq!(fill.in_flight(), want, "{}: port {i}'s fill ring", self.name);
        }
        assert_eq!(count(At::App) + fills[0] + fills[1], FRAMES, "{}: every frame somewhere", self.name);
        for s in &self.socks {
            let st = s.stats().unwrap();
            assert_eq!(
                (st.rx_dropped, st.rx_invalid_descs, st.tx_invalid_descs, st.rx_ring_full),
                (0, 0, 0, 0),
                "{}: {} q{}",
                self.name,
                s.ifname(),
                s.queue_id()
            );
        }
    }
}

/// The peer sends `count` numbered frames into each of its ports in turn; the
/// forwarder must deliver every one out of its other port, byte for byte.
fn forward_both_ways(fwd: &mut Hub, peer: &mut Hub, count: u32) {
    // Half of each UMEM lent to each port's fill ring (the peer keeps half
    // of its frames to send from).
    for h in [&mut *fwd, &mut *peer] {
        let lend = if h.name == "peer" { FRAMES / 4 } else { FRAMES / 2 };
        for i in 0..2 {
            let addrs = h.free(lend as usize);
            h.lend(i, &addrs);
        }
    }
    for from in 0..2 {
        let to = 1 - from;
        let base = from as u32 * 100_000;
        let mut got = BTreeSet::new();
        let mut sent = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while (got.len() as u32) < count {
            assert!(Instant::now() < deadline, "port {from} -> {to}: {} of {count} arrived", got.len());
            let room = peer.at.values().filter(|a| **a == At::App).count() as u32;
            let batch = (count - sent).min(64).min(room);
            if batch > 0 {
                peer.send_numbered(from, base + sent..base + sent + batch);
                sent += batch;
            }
            fwd.forward();
            for d in peer.recv(to) {
                // SAFETY: the frame came off the RX ring: the peer's now.
                let bytes = unsafe { peer.umem.frame(d.addr, d.len as usize) }.unwrap().to_vec();
                if let Some(seq) = frame_seq(&bytes) {
                    assert_eq!(bytes, test_frame(seq, bytes.len()), "frame {seq} arrived changed");
                    assert!(seq >= base && seq < base + count, "frame {seq} out of port {to}");
                    assert!(got.insert(seq), "frame {seq} arrived twice");
                }
                let start = peer.umem.frame_start(d.addr);
                peer.lend(to, &[start]);
            }
            peer.flush(from);
            peer.reclaim(from);
            std::thread::sleep(Duration::from_micros(200));
        }
        // Let the last completions come back on both sides.
        let settle = Instant::now() + Duration::from_secs(2);
        while Instant::now() < settle
            && (fwd.at.values().any(|a| matches!(a, At::Tx(_))) || peer.at.values().any(|a| matches!(a, At::Tx(_))))
        {
            fwd.forward();
            peer.flush(from);
            peer.reclaim(from);
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sent, count);
    }
    fwd.assert_accounted();
    peer.assert_accounted();
}

/// One UMEM with sockets on two interfaces (two veth pairs).
#[test]
fn one_umem_on_two_interfaces_forwards_between_them() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    pair.add_link("veth2", "veth3");
    for mode in [XdpMode::Skb, XdpMode::Drv] {
        let mut fwd = Hub::open("forwarder", &pair.ns_a, [("veth0", 0), ("veth2", 0)], mode);
        let mut peer = Hub::open("peer", &pair.ns_b, [("veth1", 0), ("veth3", 0)], mode);
        // The second socket got its own fill and completion rings.
        let p0 = fwd.umem.rings_for(&fwd.socks[0]).unwrap().0 as *const _;
        let p1 = fwd.umem.rings_for(&fwd.socks[1]).unwrap().0 as *const _;
        assert_ne!(p0, p1, "{mode}: each interface has its own fill ring");
        assert_eq!(p0, fwd.umem.fill() as *const _, "{mode}: the first socket uses the umem's own");
        forward_both_ways(&mut fwd, &mut peer, 1000);
    }
}

/// One UMEM with sockets on two queues of one multi-queue veth. In native
/// mode veth hands a frame sent on TX queue q to the peer's RX queue q, so
/// the peer's socket on queue 0 reaches the forwarder's socket on queue 0,
/// which forwards out of queue 1 to the peer's queue 1.
#[test]
fn one_umem_on_two_queues_forwards_between_them() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    let mut fwd = Hub::open("forwarder", &pair.ns_a, [("veth0", 0), ("veth0", 1)], XdpMode::Drv);
    let mut peer = Hub::open("peer", &pair.ns_b, [("veth1", 0), ("veth1", 1)], XdpMode::Drv);
    forward_both_ways(&mut fwd, &mut peer, 1000);
}

/// Sockets sharing a queue's pool: a second socket on the forwarder's second
/// port shares that port's fill and completion rings, and a socket of another
/// UMEM gets no rings from this one.
#[test]
fn sockets_on_one_queue_share_its_rings() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    pair.add_link("veth2", "veth3");
    let mut fwd = Hub::open("forwarder", &pair.ns_a, [("veth0", 0), ("veth2", 0)], XdpMode::Auto);
    let (second, other, other_sock) = in_ns(&pair.ns_a, || {
        let cfg = SocketConfig { rx_size: RING, tx_size: RING, ..Default::default() };
        let second = Socket::new("veth2", 0, &fwd.umem, &cfg).expect("second socket on veth2");
        let other = Umem::new(&UmemConfig { frame_count: 64, ..Default::default() }).unwrap();
        let other_sock = Socket::new("veth2", 0, &other, &SocketConfig { xdp_mode: XdpMode::None, ..cfg });
        (second, other, other_sock)
    });
    let a = fwd.umem.rings_for(&fwd.socks[1]).unwrap().0 as *const _;
    let b = fwd.umem.rings_for(&second).unwrap().0 as *const _;
    assert_eq!(a, b, "one fill ring per queue");
    // veth2 queue 0 is this UMEM's: another UMEM cannot bind there.
    let e = other_sock.err().expect("another umem on a held queue");
    assert_eq!(e.errno(), libc::EBUSY, "{e}");
    let mut other = other;
    let e = other.rings_for(&second).err().expect("rings of another umem's socket");
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    drop(second);
    let _ = &mut fwd;
}

/// The packet layer on one UMEM: bi sockets on two interfaces, each with its
/// own frames of the UMEM; what arrives on one is copied out of the other.
/// A queue takes one socket, frames are not handed out twice, and a socket
/// cannot ask for another geometry than the UMEM's.
#[test]
fn packet_layer_sockets_share_a_umem() {
    use xsk_rs::{create_bi_socket_on, create_rx_socket_on, SharedUmem, XdpConfig};
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    pair.add_link("veth2", "veth3");
    let per = XdpConfig { rx_frames: Some(64), tx_frames: Some(64), ..Default::default() };
    let (umem, (mut tx_a, mut rx_a), (mut tx_b, mut rx_b)) = in_ns(&pair.ns_a, move || {
        let umem = SharedUmem::new(200, Some(per)).unwrap();
        let a = create_bi_socket_on(&umem, "veth0", 0, Some(per)).expect("socket on veth0");
        assert_eq!(umem.free_frames(), 72);
        let e = create_bi_socket_on(&umem, "veth2", 0, Some(per)).expect_err("128 frames of 72");
        assert_eq!(e.errno(), libc::ENOMEM, "{e}");
        assert!(e.to_string().contains("128 frames asked for (64 rx + 64 tx), 72 of the umem's 200"), "{e}");
        let e = create_rx_socket_on(&umem, "veth0", 0, Some(per)).expect_err("a second socket on veth0 q0");
        assert_eq!(e.errno(), libc::EBUSY, "{e}");
        let big = XdpConfig { frame_size: Some(2048), ..per };
        let e = create_bi_socket_on(&umem, "veth2", 0, Some(big)).expect_err("another frame size");
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("frame_size 2048: a socket on a shared umem has the umem's (4096)"), "{e}");
        // TX metadata and software checksums are the umem's registration's
        // too: asking otherwise is refused, not silently ignored.
        for (cfg, want) in [
            (
                XdpConfig { tx_metadata: Some(true), ..per },
                "tx_metadata true: a socket on a shared umem has the umem's (false)",
            ),
            (
                XdpConfig { tx_sw_csum: Some(true), ..per },
                "tx_sw_csum true: a socket on a shared umem has the umem's (false)",
            ),
        ] {
            let e = create_bi_socket_on(&umem, "veth2", 0, Some(cfg)).expect_err(want);
            assert_eq!(e.errno(), libc::EINVAL, "{e}");
            assert!(e.to_string().contains(want), "{e}");
        }
        // Saying what the umem has is fine (checked by the socket below).
        let per = XdpConfig { tx_metadata: Some(false), tx_sw_csum: Some(false), ..per };
        let small = XdpConfig { rx_frames: Some(32), tx_frames: Some(32), ..per };
        let b = create_bi_socket_on(&umem, "veth2", 0, Some(small)).expect("socket on veth2");
        assert_eq!((umem.free_frames(), b.0.total_frames(), b.1.total_frames()), (8, 32, 32));
        (umem, a, b)
    });
    let (peer1, peer3) = in_ns(&pair.ns_b, || {
        (common::PacketSocket::open("veth1").unwrap(), common::PacketSocket::open("veth3").unwrap())
    });
    // Each way: numbered frames into one port must all come out of the other.
    let mut ways = [(&peer1, &mut rx_a, &mut tx_b, &peer3, 0u32), (&peer3, &mut rx_b, &mut tx_a, &peer1, 1000)];
    for (from, rx, tx, to, base) in ways.iter_mut() {
        let mut got = BTreeSet::new();
        for seq in *base..*base + 200 {
            from.send(&test_frame(seq, 60 + (seq as usize * 13) % 1400)).unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            // One at a time: the smaller port has 32 frames each way.
            loop {
                assert!(Instant::now() < deadline, "frame {seq} was not forwarded");
                let batch = rx.recv_batch(64).unwrap();
                if batch.is_empty() {
                    continue;
                }
                let n = tx.seek_n(batch.len()).unwrap();
                assert_eq!(n, batch.len(), "tx frames free");
                for (i, pkt) in batch.iter().enumerate() {
                    tx.peek_at(i, pkt.len()).unwrap().copy_from_slice(pkt);
                }
                tx.commit_and_kick(n).unwrap();
                break;
            }
            let f = to.recv_test_frame(Duration::from_secs(5)).unwrap_or_else(|| panic!("frame {seq} arrived"));
            let s = frame_seq(&f).unwrap();
            assert_eq!(f, test_frame(s, f.len()), "frame {s} arrived changed");
            assert!(got.insert(s));
        }
        assert_eq!(got, (*base..*base + 200).collect::<BTreeSet<_>>());
    }
    for s in [rx_a.stats().unwrap(), rx_b.stats().unwrap()] {
        assert_eq!((s.rx_dropped, s.rx_invalid_descs, s.tx_invalid_descs), (0, 0, 0), "{s:?}");
    }
    // Every frame back where it belongs: each RX half's all lent again, each
    // TX half's all free once the completions are in.
    for (tx, rx) in [(&mut tx_a, &rx_a), (&mut tx_b, &rx_b)] {
        let deadline = Instant::now() + Duration::from_secs(2);
        while tx.free_frames() < tx.total_frames() && Instant::now() < deadline {
            tx.reclaim_completed();
            tx.kick().unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(tx.free_frames(), tx.total_frames());
        assert_eq!(rx.in_flight_frames(), rx.total_frames());
    }
    drop((tx_a, rx_a, tx_b, rx_b));
    assert_eq!(umem.free_frames(), 8, "a dropped socket's frames are not handed out again");
}

/// `examples/fwd.rs` forwards between two interfaces, both ways.
#[test]
fn the_fwd_example_forwards_both_ways() {
    if !common::require_root() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let fwd = exe.parent().and_then(|d| d.parent()).unwrap().join("examples/fwd");
    assert!(fwd.exists(), "{} (cargo test builds the examples)", fwd.display());
    let pair = VethPair::new();
    pair.add_link("veth2", "veth3");
    let child = std::process::Command::new("ip")
        .args(["netns", "exec", &pair.ns_a])
        .arg(&fwd)
        .args(["veth0", "veth2", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (peer1, peer3) = in_ns(&pair.ns_b, || {
        (common::PacketSocket::open("veth1").unwrap(), common::PacketSocket::open("veth3").unwrap())
    });
    // Wait for the program to steer the queues: a frame gets through.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut first = 0;
    loop {
        assert!(Instant::now() < deadline, "the example forwarded nothing");
        peer1.send(&test_frame(first, 100)).unwrap();
        if peer3.recv_test_frame(Duration::from_millis(50)).is_some() {
            break;
        }
        first += 1;
    }
    for (from, to, base) in [(&peer1, &peer3, 10_000u32), (&peer3, &peer1, 20_000)] {
        for seq in base..base + 100 {
            from.send(&test_frame(seq, 200)).unwrap();
            // A probe frame of the wait above may still come in late.
            let f = to
                .recv_matching(Duration::from_secs(2), |f| frame_seq(f).is_some_and(|s| s >= 10_000))
                .unwrap_or_else(|| panic!("frame {seq}"));
            assert_eq!(f, test_frame(seq, 200));
        }
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("veth0 -> veth2: ") && stdout.contains("veth2 -> veth0: 100 forwarded, 0 dropped"),
        "{stdout}"
    );
}

/// A queue's own pool goes with its last socket, as libxdp's does: the
/// queue is free again for anyone. The queue of the UMEM's first socket stays
/// held by the UMEM's fd until the UMEM goes.
#[test]
fn a_queue_of_its_own_is_freed_with_its_last_socket() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    pair.add_link("veth2", "veth3");
    in_ns(&pair.ns_a, || {
        let cfg = SocketConfig { rx_size: RING, tx_size: RING, ..Default::default() };
        let small = UmemConfig { frame_count: 64, fill_size: 128, comp_size: 64, ..Default::default() };
        let umem = Umem::new(&small).unwrap();
        let a = Socket::new("veth0", 0, &umem, &cfg).unwrap();
        let b1 = Socket::new("veth2", 0, &umem, &cfg).unwrap();
        let b2 = Socket::new("veth2", 0, &umem, &cfg).unwrap();
        let other = Umem::new(&small).unwrap();
        let none = SocketConfig { xdp_mode: XdpMode::None, ..cfg };
        let busy = |ifname: &str| {
            let e = Socket::new(ifname, 0, &other, &none).map(drop).expect_err("the queue is held");
            assert_eq!(e.errno(), libc::EBUSY, "{ifname}: {e}");
        };
        busy("veth2");
        drop(b1);
        busy("veth2");
        drop(b2);
        let c = Socket::new("veth2", 0, &other, &none).expect("veth2 queue 0 is free with its last socket gone");
        drop(c);
        drop(a);
        busy("veth0");
        drop(umem);
        Socket::new("veth0", 0, &other, &none).expect("veth0 queue 0 is free with the umem gone");
    });
}
