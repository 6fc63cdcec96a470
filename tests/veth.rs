//! Real packets through xsk_rs over a veth pair between two fresh network
//! namespaces: the AF_XDP socket sits on `veth0` in namespace a, an AF_PACKET
//! socket on `veth1` in namespace b is its peer.

mod common;

use common::{frame_seq, in_ns, test_frame, xdp_attached, PacketSocket, VethPair};
use std::time::{Duration, Instant};
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig, BIND_COPY, BIND_NEED_WAKEUP};
use xsk_rs::umem::{Umem, UmemConfig};
use xsk_rs::xdp::XdpMode;

const FRAMES: u32 = 256;

/// A UMEM and one socket on it. Frames [0, FRAMES/2) serve RX, the rest TX.
struct Xsk {
    sock: Socket,
    umem: Umem,
}

fn small_umem(frame_size: u32, headroom: u32) -> UmemConfig {
    UmemConfig {
        frame_count: FRAMES,
        frame_size,
        frame_headroom: headroom,
        fill_size: 128,
        comp_size: 128,
        flags: 0,
        tx_metadata_len: 0,
    }
}

impl Xsk {
    /// Creates both on a thread inside the pair's namespace a.
    fn open(pair: &VethPair, mode: XdpMode, ucfg: UmemConfig, scfg: SocketConfig) -> Xsk {
        let ifname = pair.if_a.clone();
        pair.run_in_a(move || {
            let umem = Umem::new(&ucfg).expect("umem");
            let sock = Socket::new(&ifname, 0, &umem, &SocketConfig { xdp_mode: mode, ..scfg }).expect("socket");
            Xsk { sock, umem }
        })
    }

    fn fill_rx_frames(&mut self, count: u32) {
        let addrs: Vec<u64> = (0..count).map(|i| self.umem.frame_addr(i)).collect();
        assert_eq!(self.umem.fill().put(&addrs), count);
    }

    /// Receives `want` test frames (others are recycled), refilling each frame.
    fn recv(&mut self, want: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        let mut descs = [Desc::default(); 32];
        while got.len() < want && Instant::now() < deadline {
            let n = self.sock.rx().unwrap().take(&mut descs) as usize;
            if n == 0 {
                self.sock.poll(libc::POLLIN, 50).unwrap();
                continue;
            }
            let mut refill = Vec::with_capacity(n);
            for d in &descs[..n] {
                // SAFETY: the frame came off the RX ring, so it is ours until refilled.
                let bytes = unsafe { self.umem.frame(d.addr, d.len as usize) }.expect("rx desc inside umem");
                if frame_seq(bytes).is_some() {
                    got.push(bytes.to_vec());
                }
                refill.push(d.addr - d.addr % self.umem.frame_size() as u64);
            }
            assert_eq!(self.umem.fill().put(&refill), n as u32);
        }
        got
    }

    /// Transmits `frames` from the TX half of the UMEM and waits for all
    /// completions; returns the completed addresses in completion order.
    fn send(&mut self, frames: &[Vec<u8>]) -> Vec<u64> {
        let fs = self.umem.frame_size() as u64;
        let descs: Vec<Desc> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let addr = (FRAMES as u64 / 2 + i as u64) * fs;
                // SAFETY: TX frames are ours until they come back on the completion ring.
                unsafe { self.umem.frame_mut(addr, f.len()) }.unwrap().copy_from_slice(f);
                Desc { addr, len: f.len() as u32, options: 0 }
            })
            .collect();
        let mut queued = 0;
        let mut done = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while done.len() < frames.len() {
            assert!(Instant::now() < deadline, "only {} of {} completions", done.len(), frames.len());
            queued += self.sock.tx().unwrap().put(&descs[queued as usize..]);
            if self.sock.tx().unwrap().needs_wakeup() {
                self.sock.kick().unwrap();
            }
            let mut addrs = [0u64; 64];
            let n = self.umem.comp().take(&mut addrs);
            done.extend_from_slice(&addrs[..n as usize]);
        }
        done
    }
}

fn varied_frames(count: u32) -> Vec<Vec<u8>> {
    (0..count).map(|seq| test_frame(seq, 60 + (seq as usize * 97) % 1441)).collect()
}

fn rx_byte_exact_in_order(mode: XdpMode) {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let mut xsk = Xsk::open(&pair, mode, small_umem(4096, 0), SocketConfig::default());
    assert_eq!(xsk.sock.xdp_mode(), mode);
    assert!(xdp_attached(&pair.ns_a, &pair.if_a));
    xsk.fill_rx_frames(FRAMES / 2);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent = varied_frames(64);
    for f in &sent {
        peer.send(f).unwrap();
    }
    let got = xsk.recv(sent.len(), Duration::from_secs(5));
    assert_eq!(got.len(), sent.len(), "received {} of {}", got.len(), sent.len());
    for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(g, s, "frame {i} differs");
    }
    drop(xsk);
    assert!(!xdp_attached(&pair.ns_a, &pair.if_a), "program left attached after the last socket");
}

fn tx_byte_exact(mode: XdpMode) {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let mut xsk = Xsk::open(&pair, mode, small_umem(2048, 0), SocketConfig::default());
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent = varied_frames(64);
    let done = xsk.send(&sent);
    let mut expect: Vec<u64> = (0..64).map(|i| (FRAMES as u64 / 2 + i) * 2048).collect();
    let mut done_sorted = done.clone();
    done_sorted.sort_unstable();
    expect.sort_unstable();
    assert_eq!(done_sorted, expect, "every TX frame comes back exactly once");
    for (i, s) in sent.iter().enumerate() {
        let g = peer.recv_test_frame(Duration::from_secs(2)).unwrap_or_else(|| panic!("frame {i} not received"));
        assert_eq!(&g, s, "frame {i} differs");
    }
    let st = xsk.sock.stats().unwrap();
    assert_eq!(st.tx_invalid_descs, 0);
}

#[test]
fn rx_skb() {
    rx_byte_exact_in_order(XdpMode::Skb);
}

#[test]
fn rx_drv() {
    rx_byte_exact_in_order(XdpMode::Drv);
}

#[test]
fn tx_skb() {
    tx_byte_exact(XdpMode::Skb);
}

#[test]
fn tx_drv() {
    tx_byte_exact(XdpMode::Drv);
}

/// A TX-only socket (no RX ring) has nothing to redirect into, so in any mode
/// it attaches no program, and it refuses to be put into an XSKMAP.
#[test]
fn tx_only_socket_attaches_nothing() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    for mode in [XdpMode::Auto, XdpMode::Skb, XdpMode::Drv] {
        let mut xsk = Xsk::open(&pair, mode, small_umem(2048, 0), SocketConfig { rx_size: 0, ..Default::default() });
        assert_eq!(xsk.sock.xdp_mode(), XdpMode::None, "{mode:?}");
        assert!(!xdp_attached(&pair.ns_a, &pair.if_a), "{mode:?}: a TX-only socket attached a program");
        let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
        let sent = varied_frames(8);
        assert_eq!(xsk.send(&sent).len(), 8);
        for (i, s) in sent.iter().enumerate() {
            assert_eq!(peer.recv_test_frame(Duration::from_secs(2)).as_ref(), Some(s), "{mode:?}: frame {i}");
        }
        let err = xsk.sock.update_xskmap(-1).unwrap_err();
        assert_eq!(err.errno(), libc::EINVAL);
        assert!(err.to_string().contains("no rx ring"), "{err}");
    }
}

#[test]
fn auto_mode_picks_native_on_veth() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let xsk = Xsk::open(&pair, XdpMode::Auto, small_umem(4096, 0), SocketConfig::default());
    assert_eq!(xsk.sock.xdp_mode(), XdpMode::Drv);
    assert!(!xsk.sock.is_zerocopy().unwrap(), "veth has no zero-copy AF_XDP");
}

#[test]
fn socket_replaced_on_the_same_umem_keeps_receiving() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let ifname = pair.if_a.clone();
    let mut xsk = pair.run_in_a(move || {
        let umem = Umem::new(&small_umem(4096, 0)).unwrap();
        let first = Socket::new(&ifname, 0, &umem, &SocketConfig::default()).unwrap();
        drop(first);
        let sock = Socket::new(&ifname, 0, &umem, &SocketConfig::default()).expect("second socket on the same umem");
        Xsk { sock, umem }
    });
    xsk.fill_rx_frames(16);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent = varied_frames(8);
    for f in &sent {
        peer.send(f).unwrap();
    }
    assert_eq!(xsk.recv(8, Duration::from_secs(5)), sent);
}

#[test]
fn refusals_name_what_is_wrong() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let ns_a = pair.ns_a.clone();
    in_ns(&ns_a, || {
        let umem = Umem::new(&small_umem(4096, 0)).unwrap();
        let e = Socket::new("nosuchif0", 0, &umem, &SocketConfig::default()).err().unwrap();
        assert_eq!(e.errno(), libc::ENODEV);
        assert!(e.to_string().contains("nosuchif0"), "{e}");
        let e = Socket::new("veth0", 3, &umem, &SocketConfig::default()).err().unwrap();
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(e.to_string().contains("queue 3 out of range"), "{e}");
        // Zero-copy is not available on veth.
        let zc = SocketConfig { bind_flags: xsk_rs::socket::BIND_ZEROCOPY, ..SocketConfig::default() };
        let e = Socket::new("veth0", 0, &umem, &zc).err().unwrap();
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
        // Nothing failed above left anything attached.
        assert!(!xdp_attached(&ns_a, "veth0"));
        // After those failures the umem still works.
        let ok = SocketConfig { bind_flags: BIND_COPY | BIND_NEED_WAKEUP, ..SocketConfig::default() };
        Socket::new("veth0", 0, &umem, &ok).expect("socket after refusals");
    });
    // A UMEM from another namespace must not be bound to this one's ifindex.
    let umem = Umem::new(&small_umem(4096, 0)).unwrap();
    let e = in_ns(&pair.ns_a, move || Socket::new("veth0", 0, &umem, &SocketConfig::default()).err().unwrap());
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("another network namespace"), "{e}");
}

#[test]
fn foreign_program_is_left_alone() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let ifname = pair.if_a.clone();
    pair.run_in_a(move || {
        use xsk_rs::xdp::{Link, Program, XskMap};
        let ifindex = xsk_rs::netdev::Netdev::lookup(&ifname).unwrap().ifindex;
        let map = XskMap::create(1).unwrap();
        let prog = Program::redirect(&map).unwrap();
        let _foreign = Link::attach(&prog, ifindex, XdpMode::Skb).unwrap();
        let umem = Umem::new(&small_umem(4096, 0)).unwrap();
        for mode in [XdpMode::Auto, XdpMode::Skb, XdpMode::Drv] {
            let e =
                Socket::new(&ifname, 0, &umem, &SocketConfig { xdp_mode: mode, ..Default::default() }).err().unwrap();
            assert_eq!(e.errno(), libc::EBUSY, "{mode:?}: {e}");
            assert!(e.to_string().contains(&ifname), "{e}");
        }
        // Mode NONE attaches nothing and so coexists with the caller's program.
        let none = SocketConfig { xdp_mode: XdpMode::None, ..Default::default() };
        let sock = Socket::new(&ifname, 0, &umem, &none).unwrap();
        sock.update_xskmap(std::os::fd::AsRawFd::as_raw_fd(&map.fd())).unwrap();
    });
}

/// Rings of 4 MiB and more: since Linux 6.3 the kernel allocates rings with
/// vmalloc and takes them; before, a ring must be physically contiguous pages
/// of at most 4 MiB, and the refusal says so instead of a bare ENOMEM. The
/// UMEM's fill ring (2^19 entries of 8 bytes) and the socket's RX ring (2^18
/// descriptors of 16 bytes) are each just over 4 MiB with their header.
#[test]
fn rings_of_4_mib_work_or_name_the_kernel_limit() {
    if !common::require_root() {
        return;
    }
    let big = common::kernel_at_least(6, 3);
    let pair = VethPair::new();
    let ifname = pair.if_a.clone();
    pair.run_in_a(move || {
        let expect_limit = |e: xsk_rs::Error, what: &str| {
            assert!(!big, "{what}: refused by a kernel that allocates rings with vmalloc: {e}");
            assert_eq!(e.errno(), libc::ENOMEM, "{what}: {e}");
            assert!(e.to_string().contains("kernels before 6.3 need a ring in physically contiguous pages"), "{e}");
        };
        let cfg = UmemConfig { fill_size: 1 << 19, ..small_umem(4096, 0) };
        match Umem::new(&cfg) {
            Ok(_) => assert!(big, "a 2^19-entry fill ring on a kernel before 6.3"),
            Err(e) => expect_limit(e, "fill ring of 2^19"),
        }
        let umem = Umem::new(&small_umem(4096, 0)).unwrap();
        let scfg = SocketConfig { rx_size: 1 << 18, tx_size: 0, ..SocketConfig::default() };
        match Socket::new(&ifname, 0, &umem, &scfg) {
            Ok(_) => assert!(big, "a 2^18-entry rx ring on a kernel before 6.3"),
            Err(e) => expect_limit(e, "rx ring of 2^18"),
        }
    });
}

/// Item 15 of issue 12: the default UMEM and socket let every frame be lent,
/// so a burst of more packets than the old half-size rings held arrives
/// whole while the application is not reading. Before the fix the default
/// fill ring (2048) took only 2048 of the 4096 frames, and the rest of the
/// burst was dropped (`rx_fill_ring_empty_descs`).
#[test]
fn defaults_lend_every_frame() {
    if !common::require_root() {
        return;
    }
    const BURST: u32 = 3000;
    let pair = VethPair::new();
    let ifname = pair.if_a.clone();
    let (mut umem, mut sock) = pair.run_in_a(move || {
        let umem = Umem::new(&UmemConfig::default()).unwrap();
        let sock = Socket::new(&ifname, 0, &umem, &SocketConfig::default()).unwrap();
        (umem, sock)
    });
    let all: Vec<u64> = (0..umem.frame_count()).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(umem.fill().put(&all), umem.frame_count(), "the default fill ring takes every frame");
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    for seq in 0..BURST {
        peer.send(&test_frame(seq, 64)).unwrap();
    }
    let seen = common::recv_test_frames(&mut umem, &mut sock, BURST as usize, Duration::from_secs(5)).len() as u32;
    let st = sock.stats().unwrap();
    assert_eq!(seen, BURST, "{st:?}");
    assert_eq!((st.rx_fill_ring_empty_descs, st.rx_ring_full, st.rx_dropped), (0, 0, 0), "{st:?}");
}

/// Item 3 of issue 12: whether the kernel needs a wakeup is the library's
/// answer, not the kernel's accident. With every combination of bind flags
/// (zero-copy aside: veth has none), a sender that kicks only when
/// `needs_wakeup` says so completes everything, and a receiver that polls
/// only when the fill ring says so receives everything. Without
/// `BIND_NEED_WAKEUP` both rings say "wakeup needed" at all times: kernels
/// that set the TX ring's bit only under XDP_USE_NEED_WAKEUP would otherwise
/// stall such a sender for ever. Before the fix, a socket bound with flags 0
/// read `fill.needs_wakeup() == false`.
#[test]
fn wakeups_do_not_depend_on_the_kernel() {
    if !common::require_root() {
        return;
    }
    for flags in [0, BIND_COPY, BIND_NEED_WAKEUP, BIND_COPY | BIND_NEED_WAKEUP] {
        let pair = VethPair::new();
        let scfg = SocketConfig { bind_flags: flags, xdp_mode: XdpMode::Skb, ..SocketConfig::default() };
        let mut xsk = Xsk::open(&pair, XdpMode::Skb, small_umem(4096, 0), scfg);
        if flags & BIND_NEED_WAKEUP == 0 {
            assert!(xsk.umem.fill().needs_wakeup(), "flags {flags:#x}: fill ring");
            assert!(xsk.sock.tx().unwrap().needs_wakeup(), "flags {flags:#x}: tx ring");
        }
        // TX: kick only when told (Xsk::send does exactly that).
        let frames = varied_frames(64);
        assert_eq!(xsk.send(&frames).len(), 64, "flags {flags:#x}");
        // RX: wake only when the fill ring asks.
        xsk.fill_rx_frames(FRAMES / 2);
        let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
        for f in &frames {
            peer.send(f).unwrap();
        }
        let mut got = 0;
        let mut descs = [Desc::default(); 32];
        let deadline = Instant::now() + Duration::from_secs(5);
        while got < frames.len() && Instant::now() < deadline {
            if xsk.umem.fill().needs_wakeup() {
                xsk.sock.poll(libc::POLLIN, 0).unwrap();
            }
            let n = xsk.sock.rx().unwrap().take(&mut descs) as usize;
            for d in &descs[..n] {
                // SAFETY: off the RX ring, ours until lent again.
                if frame_seq(unsafe { xsk.umem.frame(d.addr, d.len as usize) }.unwrap()).is_some() {
                    got += 1;
                }
                let start = xsk.umem.frame_start(d.addr);
                assert_eq!(xsk.umem.fill().put(&[start]), 1);
            }
        }
        assert_eq!(got, frames.len(), "flags {flags:#x}");
    }
}

/// Item 17 of issue 12, as the Stats doc says: polling a socket that has a
/// TX ring but only receives counts `tx_ring_empty_descs` (the kernel drives
/// TX from poll in copy mode), with or without need_wakeup; a socket created
/// without a TX ring counts nothing.
#[test]
fn polling_a_receive_only_socket_counts_tx_ring_empty() {
    if !common::require_root() {
        return;
    }
    for (tx_size, flags) in [(64, BIND_NEED_WAKEUP), (64, 0), (0, BIND_NEED_WAKEUP)] {
        let pair = VethPair::new();
        let scfg = SocketConfig { rx_size: 64, tx_size, bind_flags: flags, ..SocketConfig::default() };
        let xsk = Xsk::open(&pair, XdpMode::Skb, small_umem(4096, 0), scfg);
        for _ in 0..10 {
            xsk.sock.poll(libc::POLLIN, 0).unwrap();
        }
        let empty = xsk.sock.stats().unwrap().tx_ring_empty_descs;
        eprintln!("tx_size {tx_size} flags {flags:#x}: tx_ring_empty_descs {empty} after 10 polls");
        if tx_size == 0 {
            assert_eq!(empty, 0);
        } else {
            assert!(empty >= 10, "tx_size {tx_size} flags {flags:#x}: {empty}");
        }
    }
}
