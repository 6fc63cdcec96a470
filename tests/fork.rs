//! fork(2) and the library (issue 12 item 7): a child never uses what it
//! inherits, and nothing it does, or leaves undone, harms its parent.
//!
//! The children here only drop objects, call the library, and `_exit`: a
//! child of a multi-threaded test process must not take locks that another
//! thread of the parent may have held at fork (stdout's, say).

mod common;

use common::{in_ns, test_frame, xdp_attached, PacketSocket, VethPair};
use std::time::Duration;
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig};
use xsk_rs::umem::{Umem, UmemConfig};
use xsk_rs::xdp::XdpMode;

fn small_umem() -> UmemConfig {
    UmemConfig { frame_count: 256, frame_size: 4096, fill_size: 256, comp_size: 128, ..Default::default() }
}

fn cfg(xdp_mode: XdpMode) -> SocketConfig {
    SocketConfig { rx_size: 128, tx_size: 128, xdp_mode, ..SocketConfig::default() }
}

/// Forks; the child runs `f` and exits with its value. Returns the child's pid.
fn fork(f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `f` (library calls and drops) and _exit.
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => {
            let code = f();
            // SAFETY: ends the child without running the parent's atexit work.
            unsafe { libc::_exit(code) }
        }
        pid => pid,
    }
}

fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    libc::WEXITSTATUS(status)
}

/// Sends `want` test frames from namespace b; returns how many `sock` got.
fn receives(pair: &VethPair, umem: &mut Umem, sock: &mut Socket, want: u32) -> u32 {
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    for seq in 0..want {
        peer.send(&test_frame(seq, 80)).unwrap();
    }
    common::recv_test_frames(umem, sock, want as usize, Duration::from_secs(3)).len() as u32
}

/// A child that uses and destroys its copies leaves the parent receiving.
/// Before the rule, the child's destroy deleted the parent's XSKMAP entry
/// and the parent received nothing.
#[test]
fn a_child_that_destroys_its_copies_leaves_the_parent_receiving() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (mut umem, mut sock) = in_ns(&pair.ns_a, || {
        let umem = Umem::new(&small_umem()).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &cfg(XdpMode::Skb)).unwrap();
        (umem, sock)
    });
    let lend: Vec<u64> = (0..128).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(umem.fill().put(&lend), 128);

    let (sock_p, umem_p) = (&sock as *const Socket, &umem as *const Umem);
    let child = fork(move || {
        // SAFETY: the child's own copies of the parent's values (fork copied
        // the memory); the parent keeps and drops its own.
        let (mut sock, umem) = unsafe { (std::ptr::read(sock_p), std::ptr::read(umem_p)) };
        // Every call on an inherited object is refused with EBADFD ...
        let refused = |r: xsk_rs::Result<()>| r.is_err_and(|e| e.errno() == libc::EBADFD);
        let mut bad = 0;
        bad += !refused(sock.kick()) as i32;
        bad += !refused(sock.stats().map(drop)) as i32;
        bad += !refused(sock.poll(libc::POLLIN, 0).map(drop)) as i32;
        bad += !refused(Socket::new("veth0", 0, &umem, &cfg(XdpMode::Skb)).map(drop)) as i32;
        // ... ring calls see empty rings ...
        let mut descs = [Desc::default(); 8];
        bad += (sock.rx().unwrap().take(&mut descs) != 0) as i32;
        // ... and destroying them is the child's business only: the socket,
        // then the UMEM, which the C ABI destroys only once no socket uses it.
        drop(sock);
        bad += umem.ensure_unused().is_err() as i32;
        drop(umem);
        bad
    });
    let not_refused = wait(child);
    assert_eq!(receives(&pair, &mut umem, &mut sock, 16), 16, "the parent still receives");
    assert_eq!(not_refused, 0, "calls on inherited objects that were not refused");
}

/// A child that never calls the library does not keep the parent's program
/// attached or its queue bound once the parent destroys them. Before the
/// rule, the parent's next socket on the interface failed with EBUSY
/// ("already has an XDP program attached"): its own program, pinned by the
/// child's copy of the link fd.
#[test]
fn a_child_that_never_calls_the_library_pins_nothing() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (umem, sock) = in_ns(&pair.ns_a, || {
        let umem = Umem::new(&small_umem()).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &cfg(XdpMode::Skb)).unwrap();
        (umem, sock)
    });
    let child = fork(|| {
        // SAFETY: sleeps until the parent kills it.
        loop {
            unsafe { libc::pause() };
        }
    });
    drop(sock);
    drop(umem);
    let detached = !xdp_attached(&pair.ns_a, "veth0");
    let again = in_ns(&pair.ns_a, || {
        let umem = Umem::new(&small_umem()).unwrap();
        Socket::new("veth0", 0, &umem, &cfg(XdpMode::Skb)).map(|s| (umem, s))
    });
    // SAFETY: our own child.
    unsafe { libc::kill(child, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: our own child.
    unsafe { libc::waitpid(child, &mut status, 0) };
    assert!(detached, "the program stayed attached while the child lived");
    let (mut umem, mut sock) = again.expect("a new socket on the same queue while the child lives");
    let lend: Vec<u64> = (0..128).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(umem.fill().put(&lend), 128);
    assert_eq!(receives(&pair, &mut umem, &mut sock, 16), 16);
}

/// A child can make its own UMEM and sockets, whatever locks the parent's
/// other threads held at fork, next to the parent's inherited ones.
#[test]
fn a_child_creates_its_own() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    let (umem, sock) = in_ns(&pair.ns_a, || {
        let umem = Umem::new(&small_umem()).unwrap();
        let sock = Socket::new("veth0", 0, &umem, &cfg(XdpMode::None)).unwrap();
        (umem, sock)
    });
    let ns_a = pair.ns_a.clone();
    let (sock_p, umem_p) = (&sock as *const Socket, &umem as *const Umem);
    let child = fork(move || {
        // SAFETY: as above.
        let (sock, umem) = unsafe { (std::ptr::read(sock_p), std::ptr::read(umem_p)) };
        let own = in_ns(&ns_a, || {
            let umem = Umem::new(&small_umem())?;
            let s = Socket::new("veth0", 1, &umem, &cfg(XdpMode::None))?;
            s.stats()?;
            Ok::<_, xsk_rs::Error>(())
        });
        drop((sock, umem));
        own.is_err() as i32
    });
    assert_eq!(wait(child), 0, "the child's own umem and socket");
}

/// The packet layer in a forked child: its inherited halves refuse every
/// seek (and so every send and receive) with EBADFD instead of reading the
/// zeroed rings as packets; dropping them there is harmless, and the parent
/// keeps sending and receiving.
#[test]
fn a_child_cannot_use_inherited_packet_halves() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let cfg = xsk_rs::XdpConfig { rx_frames: Some(64), tx_frames: Some(64), ..Default::default() };
    let (mut tx, mut rx) = pair.run_in_a(move || xsk_rs::create_bi_socket_by_name(&a, 0, Some(cfg)).expect("bi"));
    let pid = fork(|| {
        let mut buf = [0u8; 64];
        let refused = [
            tx.seek_n(1).map(|_| ()),
            xsk_rs::SendExt::send(&mut tx, &[1; 60], None).map(|_| ()),
            rx.seek_n(1).map(|_| ()),
            rx.recv(&mut buf).map(|_| ()),
            rx.recv_batch(8).map(|_| ()),
        ];
        let all = refused.iter().all(|r| matches!(r, Err(e) if e.errno() == libc::EBADFD));
        // Drop the child's own copies (the parent's stay with the parent).
        // SAFETY: in the child these are its inherited copies, read out once
        // and never used again before _exit.
        drop(unsafe { (std::ptr::read(&tx), std::ptr::read(&rx)) });
        if all {
            0
        } else {
            1
        }
    });
    assert_eq!(wait(pid), 0, "every packet-layer call in the child was EBADFD");
    // The parent's halves still move packets.
    let peer = pair.run_in_b({
        let b = pair.if_b.clone();
        move || PacketSocket::open(&b).expect("AF_PACKET")
    });
    assert!(xsk_rs::SendExt::send(&mut tx, &test_frame(7, 60), None).unwrap());
    assert_eq!(peer.recv_test_frame(Duration::from_secs(2)), Some(test_frame(7, 60)));
    peer.send(&test_frame(8, 60)).unwrap();
    let mut buf = [0u8; 2048];
    let n = rx.recv_timeout(&mut buf, Some(Duration::from_secs(2))).unwrap().expect("the parent still receives");
    assert_eq!(&buf[..n], &test_frame(8, 60)[..]);
}
