//! Busy polling per socket (`SocketConfig::busy_poll`): the options reach the
//! kernel (read back with getsockopt on the socket's own fd; the budget,
//! which has no getsockopt, by what the kernel lets a caller without
//! CAP_NET_ADMIN do), packets still flow with them on in drv mode on veth,
//! the NAPI id such a socket learns (veth's NAPI before Linux 6.13, none
//! from 6.13), and a caller without CAP_NET_ADMIN is told what the kernel
//! refused and why.

mod common;

use common::{test_frame, PacketSocket, VethPair};
use std::time::Duration;
use xsk_rs::socket::{BusyPoll, Socket, SocketConfig};
use xsk_rs::umem::Umem;
use xsk_rs::xdp::XdpMode;

const PACKETS: u32 = 200;

/// A SOL_SOCKET int option of `fd`, straight from the kernel.
fn sockopt(fd: i32, opt: libc::c_int) -> i32 {
    let mut v: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len are live; len is v's size.
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&mut v as *mut libc::c_int).cast(), &mut len) };
    assert_eq!(rc, 0, "getsockopt {opt}: {}", std::io::Error::last_os_error());
    v
}

/// Sets a SOL_SOCKET int option of `fd`: 0 or the errno.
fn set_sockopt(fd: i32, opt: libc::c_int, v: i32) -> i32 {
    // SAFETY: v is a live c_int; the length is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        0
    } else {
        std::io::Error::last_os_error().raw_os_error().unwrap()
    }
}

fn busy_read() -> u32 {
    std::fs::read_to_string("/proc/sys/net/core/busy_read").expect("net.core.busy_read").trim().parse().unwrap()
}

/// Drops CAP_NET_ADMIN from the calling thread's effective set (capset acts
/// on the calling thread only; the test's other threads keep it).
fn drop_net_admin_in_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    const CAP_NET_ADMIN: u32 = 12;
    let mut hdr = Header { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [Data::default(); 2];
    // SAFETY: capget fills two Data for version 3.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut Header, data.as_mut_ptr()) };
    assert_eq!(rc, 0, "capget: {}", std::io::Error::last_os_error());
    data[0].effective &= !(1 << CAP_NET_ADMIN);
    // SAFETY: as above.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) };
    assert_eq!(rc, 0, "capset: {}", std::io::Error::last_os_error());
}

/// The three options are set at creation and read back from the socket's fd;
/// 200 packets arrive byte for byte with busy polling on.
#[test]
fn busy_poll_options_are_set_and_traffic_flows() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let bp = BusyPoll { usecs: 20, budget: 64, prefer: true };
    let (umem_cfg, sock_cfg) = common::traffic_configs(XdpMode::Drv);
    let (mut umem, mut sock) = pair.run_in_a(|| {
        let umem = Umem::new(&umem_cfg).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &SocketConfig { busy_poll: bp, ..sock_cfg }).unwrap();
        (umem, sock)
    });
    assert_eq!(sock.xdp_mode(), XdpMode::Drv);
    assert_eq!(sock.busy_poll().unwrap(), bp);
    assert_eq!((sockopt(sock.fd(), libc::SO_BUSY_POLL), sockopt(sock.fd(), libc::SO_PREFER_BUSY_POLL)), (20, 1));
    // The kernel has no getsockopt for the budget; it shows in what it lets
    // a caller without CAP_NET_ADMIN do: keep the budget, never raise it.
    let fd = sock.fd();
    let (same, raise) = std::thread::spawn(move || {
        drop_net_admin_in_this_thread();
        (set_sockopt(fd, libc::SO_BUSY_POLL_BUDGET, 64), set_sockopt(fd, libc::SO_BUSY_POLL_BUDGET, 65))
    })
    .join()
    .unwrap();
    assert_eq!(same, 0, "64 is the socket's budget already");
    assert_eq!(raise, libc::EPERM, "65 is above the socket's budget");

    let sent: Vec<Vec<u8>> = (0..PACKETS).map(|seq| test_frame(seq, 60 + (seq as usize * 31) % 1000)).collect();
    common::peer_frames_arrive_exact(&pair, &mut umem, &mut sock, &sent);

    // Later changes: only the fields given change.
    sock.set_busy_poll(&BusyPoll { usecs: 50, ..Default::default() }).unwrap();
    assert_eq!(sock.busy_poll().unwrap(), BusyPoll { usecs: 50, ..bp });
}

/// The default config sets nothing: the socket keeps net.core.busy_read.
#[test]
fn the_default_sets_nothing() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (umem_cfg, sock_cfg) = common::traffic_configs(XdpMode::Skb);
    let got = pair.run_in_a(|| {
        let umem = Umem::new(&umem_cfg).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &sock_cfg).unwrap();
        sock.busy_poll().unwrap()
    });
    assert_eq!(got, BusyPoll { usecs: busy_read(), budget: 0, prefer: false });
}

/// Without CAP_NET_ADMIN the kernel refuses any budget above the current one
/// and preferring busy polling: EPERM, with a message that names the
/// capability. Linux 6.18 lets anyone raise SO_BUSY_POLL (older kernels
/// wanted CAP_NET_ADMIN above the socket's value, and the message names it
/// with net.core.busy_read). A budget above the kernel's limit is EINVAL
/// before any syscall.
#[test]
fn eperm_and_bad_values_say_why() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (umem_cfg, sock_cfg) = common::traffic_configs(XdpMode::Skb);
    let e = pair
        .run_in_a(|| {
            let umem = Umem::new(&umem_cfg).unwrap();
            let bp = BusyPoll { budget: 70_000, ..Default::default() };
            Socket::new("veth0", 0, &umem, &SocketConfig { busy_poll: bp, ..sock_cfg }).map(drop)
        })
        .unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    assert!(e.to_string().contains("busy poll budget 70000"), "{e}");

    let above = busy_read() + 100;
    let (msgs, after) = pair.run_in_a(|| {
        let umem = Umem::new(&umem_cfg).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &sock_cfg).unwrap();
        drop_net_admin_in_this_thread();
        let mut out = Vec::new();
        for bp in [BusyPoll { budget: 16, ..Default::default() }, BusyPoll { prefer: true, ..Default::default() }] {
            let e = sock.set_busy_poll(&bp).unwrap_err();
            out.push((e.errno(), e.to_string()));
        }
        let usecs = sock.set_busy_poll(&BusyPoll { usecs: above, ..Default::default() });
        (out, (usecs, sock.busy_poll().unwrap()))
    });
    for (errno, msg) in &msgs {
        assert_eq!(*errno, libc::EPERM, "{msg}");
        assert!(msg.contains("needs CAP_NET_ADMIN") && msg.contains("busy poll on veth0 queue 0"), "{msg}");
    }
    assert!(msgs[0].1.contains("set SO_BUSY_POLL_BUDGET 16"), "{}", msgs[0].1);
    assert!(msgs[1].1.contains("set SO_PREFER_BUSY_POLL"), "{}", msgs[1].1);
    match after.0 {
        Ok(()) => assert_eq!(after.1, BusyPoll { usecs: above, budget: 0, prefer: false }),
        Err(e) => {
            assert_eq!(e.errno(), libc::EPERM, "{e}");
            assert!(e.to_string().contains("net.core.busy_read"), "{e}");
            assert_eq!(after.1, BusyPoll { usecs: busy_read(), budget: 0, prefer: false });
        }
    }
}

/// The NAPI id a copy-mode socket on veth in drv mode learns, once packets
/// arrived: what busy polling would poll. Before Linux 6.13 a copy-mode
/// socket took it from the packets (their xdp_rxq, which veth registers with
/// its NAPI): the id of veth's NAPI instance (measured on 6.1 and 6.12).
/// From 6.13 a socket takes it at bind from the NAPI linked to its RX queue,
/// and veth links none, so it is 0 and busy polling has nothing to poll
/// (bench's "Busy polling").
#[test]
fn veth_drv_socket_napi_id() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (umem_cfg, sock_cfg) = common::traffic_configs(XdpMode::Drv);
    let bp = BusyPoll { usecs: 20, budget: 64, prefer: true };
    let (mut umem, mut sock) = pair.run_in_a(|| {
        let umem = Umem::new(&umem_cfg).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &SocketConfig { busy_poll: bp, ..sock_cfg }).unwrap();
        (umem, sock)
    });
    let lend: Vec<u64> = (0..umem.frame_count() / 2).map(|i| umem.frame_addr(i)).collect();
    umem.fill().put(&lend);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent: Vec<Vec<u8>> = (0..20).map(|seq| test_frame(seq, 100)).collect();
    for f in &sent {
        peer.send(f).unwrap();
    }
    let got = common::recv_test_frames(&mut umem, &mut sock, sent.len(), Duration::from_secs(5));
    assert_eq!(got, sent);
    let id = sockopt(sock.fd(), libc::SO_INCOMING_NAPI_ID);
    if common::kernel_at_least(6, 13) {
        assert_eq!(id, 0, "veth links no NAPI to its queue, so the socket has none to poll");
    } else {
        assert!(id > 0, "SO_INCOMING_NAPI_ID {id}: the packets' NAPI");
        let napis = pair.run_in_a(|| xsk_rs::netdev::Capabilities::query("veth0").unwrap().napi_ids);
        if let Some(napis) = napis {
            assert_eq!(napis, vec![id as u32], "veth's one NAPI instance");
        }
    }
}
