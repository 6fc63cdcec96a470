//! The interface side of a socket, against real devices in namespaces the test
//! creates: which queues a socket may bind (veth with more TX than RX queues, a
//! macvlan without ethtool channels), the MTU and the longest frame a veth
//! peer takes, and the lookup's errors.

mod common;

use common::{frame_seq, in_ns, ip_in, test_frame, PacketSocket, VethPair};
use std::time::{Duration, Instant};
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig};
use xsk_rs::umem::Umem;
use xsk_rs::xdp::XdpMode;

const FRAMES: u32 = 64;

fn umem() -> Umem {
    common::umem_4k(FRAMES)
}

const TX_ONLY: SocketConfig = SocketConfig {
    rx_size: 0,
    tx_size: 64,
    bind_flags: xsk_rs::socket::BIND_NEED_WAKEUP,
    xdp_mode: XdpMode::Auto,
    tx_budget: 0,
    busy_poll: xsk_rs::socket::BusyPoll { usecs: 0, budget: 0, prefer: false },
};

const RX_ONLY: SocketConfig = SocketConfig { rx_size: 64, tx_size: 0, ..TX_ONLY };

/// Sends `frames` (one UMEM frame each) and waits for every completion.
fn send_all(sock: &mut Socket, umem: &mut Umem, frames: &[Vec<u8>]) {
    assert!(frames.len() <= FRAMES as usize);
    let descs: Vec<Desc> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let addr = umem.frame_addr(i as u32);
            // SAFETY: no frame has been handed to the kernel yet.
            unsafe { umem.frame_mut(addr, f.len()) }.unwrap().copy_from_slice(f);
            Desc { addr, len: f.len() as u32, options: 0 }
        })
        .collect();
    let (mut queued, mut done) = (0usize, 0usize);
    let deadline = Instant::now() + Duration::from_secs(5);
    while done < frames.len() {
        assert!(Instant::now() < deadline, "{done} of {} completions", frames.len());
        queued += sock.tx().unwrap().put(&descs[queued..]) as usize;
        if sock.tx().unwrap().needs_wakeup() {
            sock.kick().unwrap();
        }
        let mut addrs = [0u64; 64];
        done += umem.comp().take(&mut addrs) as usize;
    }
}

/// The test frames `peer` receives within `timeout`, until `want` arrived.
fn receive(peer: &PacketSocket, want: usize, timeout: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while got.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match peer.recv_test_frame(left) {
            Some(f) => got.push(f),
            None => break,
        }
    }
    got
}

/// A veth with 1 RX and 2 TX queues: the kernel binds queue 1 (it takes any
/// queue id below the larger count), and a TX-only socket there sends.
#[test]
fn tx_only_socket_sends_on_a_queue_without_rx() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_rx_tx(1, 2);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let (mut sock, mut umem) = pair.run_in_a(|| {
        let umem = umem();
        let sock = Socket::new("veth0", 1, &umem, &TX_ONLY).expect("TX-only socket on veth0 queue 1");
        (sock, umem)
    });
    assert_eq!(sock.queue_id(), 1);
    let sent: Vec<Vec<u8>> = (0..16).map(|seq| test_frame(seq, 60 + seq as usize * 50)).collect();
    send_all(&mut sock, &mut umem, &sent);
    let got = receive(&peer, sent.len(), Duration::from_secs(5));
    assert_eq!(got.len(), sent.len(), "the peer got {:?}", got.iter().map(|f| frame_seq(f)).collect::<Vec<_>>());
    assert_eq!(got, sent, "the peer gets the bytes sent, in order");
}

/// A socket with an RX ring on a queue that has no RX would bind but never
/// receive: refused, with the way out in the message. Beyond both counts the
/// queue is out of range.
#[test]
fn rx_ring_on_a_queue_without_rx_is_refused() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_rx_tx(1, 2);
    pair.run_in_a(|| {
        let umem = umem();
        for cfg in [SocketConfig::default(), RX_ONLY] {
            let e = Socket::new("veth0", 1, &umem, &cfg).err().expect("an RX ring on queue 1 is refused");
            assert_eq!(e.errno(), libc::EINVAL, "{e}");
            let msg = e.to_string();
            assert!(msg.contains("queue 1 has no rx") && msg.contains("rx_size 0"), "{msg}");
            assert!(msg.contains("1 rx queue") && msg.contains("2 tx queues"), "{msg}");
        }
        let e = Socket::new("veth0", 2, &umem, &TX_ONLY).err().expect("queue 2 is out of range");
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("queue 2 out of range"), "{e}");
        // The refusals changed nothing: the same umem still binds queue 0.
        // Auto settles on generic XDP: veth refuses native XDP (ENOSPC) while
        // its peer has more TX queues than it has RX queues.
        let both = SocketConfig { xdp_mode: XdpMode::Auto, ..SocketConfig::default() };
        let s = Socket::new("veth0", 0, &umem, &both).expect("queue 0 with both rings");
        assert_eq!(s.xdp_mode(), XdpMode::Skb);
    });
}

/// A macvlan has no ETHTOOL_GCHANNELS; created with 4 RX queues (and one TX
/// queue), the kernel binds queues 0-3. Sockets with an RX ring bind each of
/// them, and the built-in program's XSKMAP takes every one; a TX ring on an RX-only
/// queue is refused (the kernel never sends from it).
#[test]
fn macvlan_binds_every_rx_queue() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    ip_in(
        &pair.ns_a,
        &["link", "add", "mv0", "link", "veth0", "numrxqueues", "4", "type", "macvlan", "mode", "bridge"],
    );
    ip_in(&pair.ns_a, &["link", "set", "mv0", "up"]);
    pair.run_in_a(|| {
        let spare = umem();
        let e = Socket::new("mv0", 1, &spare, &TX_ONLY).err().expect("a TX ring on an RX-only queue");
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        assert!(e.to_string().contains("queue 1 has no tx") && e.to_string().contains("tx_size 0"), "{e}");
        let umems: Vec<Umem> = (0..4).map(|_| umem()).collect();
        let socks: Vec<Socket> = (0..4)
            .map(|q| {
                Socket::new("mv0", q, &umems[q as usize], &RX_ONLY)
                    .unwrap_or_else(|e| panic!("mv0 queue {q} with an RX ring: {e}"))
            })
            .collect();
        let map = socks[0].xskmap_fd().expect("the built-in program's map");
        for s in &socks {
            assert_eq!(s.xskmap_fd(), Some(map), "one map for the interface");
        }
        assert!(map_max_entries(map) >= 4, "the XSKMAP holds queues 0-3: {} entries", map_max_entries(map));
        assert_eq!(socks[1].xdp_mode(), XdpMode::Skb, "macvlan has no native XDP");
        let e = Socket::new("mv0", 4, &spare, &RX_ONLY).err().expect("queue 4 is out of range");
        assert!(e.to_string().contains("queue 4 out of range"), "{e}");
    });
}

/// `max_entries` of a BPF map, from the kernel.
fn map_max_entries(fd: i32) -> u32 {
    let mut info = xsk_rs::sys::bpf_map_info::default();
    let mut attr = xsk_rs::sys::bpf_attr_info_by_fd {
        bpf_fd: fd as u32,
        info_len: std::mem::size_of::<xsk_rs::sys::bpf_map_info>() as u32,
        info: &mut info as *mut _ as u64,
    };
    // SAFETY: the OBJ_GET_INFO_BY_FD layout, pointing at a zeroed info struct
    // of the stated size that outlives the call.
    let rc = unsafe { xsk_rs::sys::bpf(xsk_rs::sys::BPF_OBJ_GET_INFO_BY_FD, &mut attr) };
    assert_eq!(rc, 0, "BPF_OBJ_GET_INFO_BY_FD: {}", std::io::Error::last_os_error());
    info.max_entries
}

const EMFILE_CHILD: &str = "XSK_RS_TEST_EMFILE_CHILD";

/// Run by `running_out_of_fds_is_emfile` in a child process of its own: the
/// file descriptor limit is per process, and lowering it here would break
/// tests running in parallel threads.
#[test]
#[ignore = "helper, started by running_out_of_fds_is_emfile"]
fn emfile_child() {
    if std::env::var_os(EMFILE_CHILD).is_none() {
        return;
    }
    // SAFETY: dup/close/setrlimit on descriptors and a struct of our own.
    unsafe {
        // The lowest free descriptor becomes the limit: every new fd fails.
        let free = libc::dup(0);
        assert!(free >= 0);
        libc::close(free);
        let lim = libc::rlimit { rlim_cur: free as libc::rlim_t, rlim_max: free as libc::rlim_t };
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    let e = xsk_rs::netdev::Netdev::lookup("lo").expect_err("no fd left for the lookup");
    println!("ERRNO {} MESSAGE {e}", e.errno());
}

#[test]
fn running_out_of_fds_is_emfile() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["emfile_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(EMFILE_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // libtest prints "test emfile_child ... " before the child's own output.
    let line = stdout
        .lines()
        .find_map(|l| l.find("ERRNO ").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no result in: {stdout}"));
    assert!(line.starts_with(&format!("ERRNO {} ", libc::EMFILE)), "{line}");
    assert!(line.contains("lo") && line.contains("file descriptors"), "{line}");
}

/// A missing device is still ENODEV, and says which namespace it looked in.
#[test]
fn missing_device_is_enodev() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    // veth1 lives in namespace b: from a, it does not exist.
    let e = in_ns(&pair.ns_a, || xsk_rs::netdev::Netdev::lookup("veth1")).expect_err("veth1 is not in a");
    assert_eq!(e.errno(), libc::ENODEV, "{e}");
    assert!(e.to_string().contains("veth1") && e.to_string().contains("no such device"), "{e}");
}

/// The MTU comes from the calling thread's namespace (the test process's own
/// namespace has no veth0 at all), and `max_frame_len()` is exactly what a veth
/// peer of that MTU takes: a frame of that length arrives, one byte more is
/// sent, completed, and dropped by the peer.
#[test]
fn frames_up_to_max_frame_len_reach_the_peer() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    ip_in(&pair.ns_a, &["link", "set", "veth0", "mtu", "1400"]);
    ip_in(&pair.ns_b, &["link", "set", "veth1", "mtu", "1400"]);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let (dev, mut sock, mut umem) = pair.run_in_a(|| {
        let dev = xsk_rs::netdev::Netdev::lookup("veth0").unwrap();
        let umem = umem();
        let sock = Socket::new("veth0", 0, &umem, &TX_ONLY).unwrap();
        (dev, sock, umem)
    });
    assert_eq!(dev.mtu, 1400);
    let max = dev.max_frame_len() as usize;
    assert_eq!(max, 1400 + 14 + 4);
    let (fits, over, after) = (test_frame(1, max), test_frame(2, max + 1), test_frame(3, 60));
    // The socket's TX ring knows the limit: the batch put refuses a longer
    // frame and says why.
    let tx = sock.tx().unwrap();
    assert_eq!(tx.max_len() as usize, max);
    let too_long = Desc { addr: umem.frame_addr(0), len: max as u32 + 1, options: 0 };
    let e = tx.put_checked(&[too_long]).unwrap_err();
    assert_eq!((e.index, e.len as usize, e.max as usize), (0, max + 1, max));
    assert_eq!(tx.put(&[too_long]), 0);
    // What the kernel itself does with it, the limit lifted: completes it,
    // counts nothing, and the device drops it.
    tx.set_max_len(u32::MAX);
    send_all(&mut sock, &mut umem, &[fits.clone(), over, after.clone()]);
    assert_eq!(sock.stats().unwrap().tx_invalid_descs, 0);
    // Sent in order: once frame 3 is in, frame 2 is gone for good.
    let got = receive(&peer, 2, Duration::from_secs(5));
    assert_eq!(got.iter().map(|f| frame_seq(f)).collect::<Vec<_>>(), [Some(1), Some(3)], "frame 2 is dropped");
    assert_eq!(got, [fits, after]);
}
