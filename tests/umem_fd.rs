//! The life of a UMEM's fd, with real sockets on a veth pair: failed binds
//! that must change nothing, busy queues that must fail at once and say whose
//! they are, flags a shared socket cannot have, and interfaces that go away.

mod common;

use common::{frame_seq, in_ns, test_frame, PacketSocket, VethPair};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig, BIND_COPY, BIND_NEED_WAKEUP, BIND_ZEROCOPY};
use xsk_rs::umem::{Umem, UmemConfig};
use xsk_rs::xdp::XdpMode;

fn small_umem() -> UmemConfig {
    UmemConfig { frame_count: 256, frame_size: 4096, fill_size: 128, comp_size: 128, ..Default::default() }
}

fn rings(rx_size: u32, tx_size: u32) -> SocketConfig {
    SocketConfig { rx_size, tx_size, xdp_mode: XdpMode::Skb, ..SocketConfig::default() }
}

/// A UMEM and a socket holding veth0 queue 0 of the calling thread's
/// namespace, so that another UMEM's bind there fails with EBUSY.
fn hold_queue() -> (Socket, Umem) {
    let umem = Umem::new(&small_umem()).unwrap();
    let sock = Socket::new("veth0", 0, &umem, &rings(64, 64)).unwrap();
    (sock, umem)
}

fn send_from_b(pair: &VethPair, frames: &[Vec<u8>]) {
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    for f in frames {
        peer.send(f).unwrap();
    }
}

/// Item 5: a TX-only attempt that fails to bind must not pin the RX ring at
/// 0 entries. Before the fix the retry with an RX ring got EINVAL ("an
/// earlier failed socket on this umem set its rx ring to 0 entries").
#[test]
fn a_failed_tx_only_bind_does_not_pin_the_rx_ring() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    in_ns(&pair.ns_a, || {
        let holder = hold_queue();
        let umem = Umem::new(&small_umem()).unwrap();
        let e = Socket::new("veth0", 0, &umem, &rings(0, 64)).err().expect("the queue is held");
        assert_eq!(e.errno(), libc::EBUSY, "{e}");
        drop(holder);
        Socket::new("veth0", 0, &umem, &rings(64, 64)).expect("retry with an rx ring after the queue is free");
    });
}

/// Item 21: a create that fails to bind leaves the UMEM as it was: a later
/// create with other ring sizes works, and frames lent to the fill ring
/// before the failure still receive. Before the fix the later create got
/// EINVAL ("an earlier failed socket on this umem set its rx ring to 64").
#[test]
fn a_failed_create_leaves_the_umem_as_it_was() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (mut umem, mut sock) = in_ns(&pair.ns_a, || {
        let holder = hold_queue();
        let mut umem = Umem::new(&small_umem()).unwrap();
        let lent: Vec<u64> = (0..32).map(|i| umem.frame_addr(i)).collect();
        assert_eq!(umem.fill().put(&lent), 32);
        let t = Instant::now();
        let e = Socket::new("veth0", 0, &umem, &rings(64, 64)).err().expect("the queue is held");
        assert_eq!(e.errno(), libc::EBUSY, "{e}");
        assert!(t.elapsed() < Duration::from_millis(500), "a held queue failed only after {:?}", t.elapsed());
        drop(holder);
        let sock = Socket::new("veth0", 0, &umem, &rings(128, 32)).expect("other sizes after a failed bind");
        (umem, sock)
    });
    let sent: Vec<Vec<u8>> = (0..8).map(|s| test_frame(s, 100 + s as usize)).collect();
    send_from_b(&pair, &sent);
    assert_eq!(
        common::recv_test_frames(&mut umem, &mut sock, 8, Duration::from_secs(5)),
        sent,
        "frames lent before the failed create receive"
    );
}

/// Item 8: a queue this process already holds fails at once and says so.
/// Before the fix the call waited 2 s and blamed "another AF_XDP socket".
#[test]
fn a_queue_held_by_this_process_fails_at_once() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    in_ns(&pair.ns_a, || {
        let _held = hold_queue();
        let second = Umem::new(&small_umem()).unwrap();
        let t = Instant::now();
        let e = Socket::new("veth0", 0, &second, &rings(64, 64)).err().unwrap();
        assert_eq!(e.errno(), libc::EBUSY);
        assert!(t.elapsed() < Duration::from_millis(200), "took {:?}", t.elapsed());
        assert!(e.to_string().contains("in use by another umem of this process"), "{e}");
    });
}

/// Child-process entry for the cross-process tests: holds veth0 queue 0 in
/// the namespace it was started in, and follows the parent's commands on
/// stdin. Runs only when the parent sets XSKRS_HOLDER_IF.
#[test]
#[ignore = "child process for the cross-process tests"]
fn holder_child() {
    let Ok(ifname) = std::env::var("XSKRS_HOLDER_IF") else { return };
    let umem = Umem::new(&small_umem()).unwrap();
    let mut sock = Some(Socket::new(&ifname, 0, &umem, &rings(64, 64)).unwrap());
    let mut umem = Some(umem);
    println!("BOUND");
    for line in std::io::stdin().lines() {
        match line.unwrap().as_str() {
            "drop-socket" => drop(sock.take()),
            "drop-umem" => drop(umem.take()),
            _ => break,
        }
        println!("DONE");
    }
}

struct Holder {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl Holder {
    fn spawn(pair: &VethPair) -> Holder {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &pair.ns_a])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", "holder_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("XSKRS_HOLDER_IF", &pair.if_a)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                // libtest's own lines come too, and "test holder_child ... "
                // before the first of ours.
                let word = line.rsplit(' ').next().unwrap_or("").to_string();
                if !matches!(word.as_str(), "BOUND" | "DONE") {
                    continue;
                }
                if tx.send(word).is_err() {
                    break;
                }
            }
        });
        let mut h = Holder { child, stdin, lines };
        h.expect("BOUND");
        h
    }

    fn expect(&mut self, word: &str) {
        let got = self.lines.recv_timeout(Duration::from_secs(10));
        if got.as_deref() != Ok(word) {
            let _ = self.child.kill();
            panic!("holder child: expected {word}, got {got:?}");
        }
    }

    fn command(&mut self, cmd: &str) {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.expect("DONE");
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Items 8 and 4: a queue held by another process fails at once, naming
/// the holder as far as this process can know it (before the fix: a 2 s
/// hang). The holder destroying its socket does not free the queue: the
/// UMEM's fd stays bound, as the header says. Destroying the UMEM too frees
/// it, and this process binds it at once.
#[test]
fn a_queue_held_by_another_process() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let mut holder = Holder::spawn(&pair);
    let mut umem = Some(in_ns(&pair.ns_a, || Umem::new(&small_umem()).unwrap()));
    let mut try_bind = || {
        let u = umem.take().unwrap();
        let (u, r, took) = in_ns(&pair.ns_a, || {
            let t = Instant::now();
            // No program of ours: the child's is attached until it destroys
            // its socket, and this test is about the queue.
            let r = Socket::new("veth0", 0, &u, &SocketConfig { xdp_mode: XdpMode::None, ..rings(64, 64) });
            (u, r, t.elapsed())
        });
        umem = Some(u);
        (r, took)
    };
    let (r, took) = try_bind();
    let e = r.err().expect("the child holds the queue");
    assert_eq!(e.errno(), libc::EBUSY);
    assert!(took < Duration::from_millis(500), "took {took:?}");
    assert!(e.to_string().contains("by an AF_XDP socket of another process"), "{e}");
    // Named, through xdp_diag or, without it, as the only other process
    // with an AF_XDP socket in the namespace.
    let pid = holder.child.id();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert!(e.to_string().contains(&format!("pid {pid} ({})", comm.trim_end())), "{e}");

    holder.command("drop-socket");
    let (r, _) = try_bind();
    let e = r.err().expect("the child's umem still holds the queue");
    assert_eq!(e.errno(), libc::EBUSY, "{e}");

    holder.command("drop-umem");
    let (r, took) = try_bind();
    r.expect("the queue is free once the holder destroyed its umem");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

/// Item 19: a socket on a UMEM whose fd is bound runs with that bind's
/// flags; asking for what it cannot have is an error that says why, on a
/// second socket and on one that takes over the UMEM's fd. Before the fix
/// zero-copy was asked for and silently not given.
#[test]
fn flags_a_shared_socket_cannot_have_are_refused() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    in_ns(&pair.ns_a, || {
        let umem = Umem::new(&small_umem()).unwrap();
        let cfg = |bind_flags| SocketConfig { bind_flags, ..rings(64, 64) };
        let first = Socket::new("veth0", 0, &umem, &cfg(BIND_COPY)).unwrap();
        assert_eq!(first.bind_flags(), BIND_COPY);
        for (flags, errno, says) in [
            (BIND_ZEROCOPY, libc::EOPNOTSUPP, "zero-copy asked for"),
            (BIND_NEED_WAKEUP, libc::EINVAL, "need_wakeup asked for"),
        ] {
            let e = Socket::new("veth0", 0, &umem, &cfg(flags)).err().expect("refused");
            assert_eq!(e.errno(), errno, "{e}");
            assert!(e.to_string().contains(says) && e.to_string().contains("own umem"), "{e}");
        }
        // What it can have: no flags, or the same mode.
        let second = Socket::new("veth0", 0, &umem, &cfg(0)).unwrap();
        assert_eq!(second.bind_flags(), BIND_COPY, "a shared socket has the first socket's flags");
        drop(second);
        Socket::new("veth0", 0, &umem, &cfg(BIND_COPY)).unwrap();
        // The same on the path that takes over the UMEM's fd.
        drop(first);
        let e = Socket::new("veth0", 0, &umem, &cfg(BIND_ZEROCOPY)).err().expect("refused");
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
        Socket::new("veth0", 0, &umem, &cfg(0)).expect("takeover with no flags");
    });
}

/// Item 22: a UMEM whose interface was deleted and created again, or moved
/// to another namespace and back, cannot carry a socket (the kernel unbound
/// its fd for good); the error says so and names the remedy. Before the fix
/// it was EBUSY "rx ring: mmap" or EBADF "bind".
#[test]
fn a_umem_whose_interface_went_away_says_so() {
    if !common::require_root() {
        return;
    }
    for how in ["deleted", "moved"] {
        let pair = VethPair::new();
        let (umem, live) = in_ns(&pair.ns_a, || {
            let umem = Umem::new(&small_umem()).unwrap();
            drop(Socket::new("veth0", 0, &umem, &rings(64, 64)).unwrap());
            // A second socket (on the UMEM's fd again) outlives the interface.
            let live = Socket::new("veth0", 0, &umem, &rings(64, 64)).unwrap();
            (umem, live)
        });
        let ip = |args: &[&str]| {
            let ok = Command::new("ip").args(args).status().unwrap().success();
            assert!(ok, "ip {args:?}");
        };
        if how == "deleted" {
            ip(&["-n", &pair.ns_a, "link", "del", "veth0"]);
            ip(&["-n", &pair.ns_a, "link", "add", "veth0", "type", "veth", "peer", "name", "vethx"]);
        } else {
            ip(&["-n", &pair.ns_a, "link", "set", "veth0", "netns", &pair.ns_b]);
            ip(&["-n", &pair.ns_b, "link", "set", "veth0", "netns", &pair.ns_a]);
        }
        ip(&["-n", &pair.ns_a, "link", "set", "veth0", "up"]);
        // Mode none: a device moved away and back keeps the program that the
        // live socket's attachment put there (under its new ifindex).
        let none = SocketConfig { xdp_mode: XdpMode::None, ..rings(64, 64) };
        let e = in_ns(&pair.ns_a, move || Socket::new("veth0", 0, &umem, &none).err().expect("refused"));
        assert_eq!(e.errno(), libc::ENODEV, "{how}: {e}");
        let m = e.to_string();
        assert!(m.contains("deleted or moved") && m.contains("create a new umem"), "{how}: {m}");
        // The socket that outlived its interface says the same when kicked
        // (before: "kick tx on veth0 queue 0: No such device or address").
        let e = live.kick().unwrap_err();
        assert_eq!(e.errno(), libc::ENODEV, "{how}: {e}");
        assert!(e.to_string().contains("deleted or moved"), "{how}: {e}");
    }
}

/// Queues test frame `seq` from frame `i` of `umem` on `sock`'s TX ring,
/// without a kick; returns its address and bytes.
fn queue_frame(umem: &Umem, sock: &mut Socket, i: u32, seq: u32) -> (u64, Vec<u8>) {
    let frame = test_frame(seq, 100);
    let addr = umem.frame_addr(i);
    // SAFETY: frame i is on no ring, and nothing else writes it.
    unsafe { umem.frame_mut(addr, frame.len()) }.unwrap().copy_from_slice(&frame);
    assert_eq!(sock.tx().unwrap().put(&[Desc { addr, len: frame.len() as u32, options: 0 }]), 1);
    (addr, frame)
}

/// A socket on the UMEM's fd dropped with TX descriptors submitted and not
/// sent (nobody kicked) leaves nothing for the socket that takes the fd over
/// to send, as closing any other socket frees its TX ring: the kernel
/// rejects them (counted in tx_invalid_descs, which the new socket reports),
/// none reaches the wire, and their frames come back on the completion ring
/// only on kernels that complete rejected descriptors. Before the fix the
/// new socket's first kick sent them: the peer received old frames 100 to
/// 107 before the new frame 1000.
#[test]
fn unsent_tx_descriptors_are_dropped_with_their_socket() {
    if !common::require_root() {
        return;
    }
    const OLD: u32 = 8;
    const NEW_SEQ: u32 = 1000;
    let pair = VethPair::new();
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    in_ns(&pair.ns_a, || {
        let mut umem = Umem::new(&small_umem()).unwrap();
        // TX only (nothing to steer, so no program), the same sizes twice.
        let cfg = rings(0, 64);
        let mut first = Socket::new("veth0", 0, &umem, &cfg).unwrap();
        assert_eq!(first.fd(), umem.fd(), "the first socket runs on the umem's fd");
        let old: Vec<u64> = (0..OLD).map(|i| queue_frame(&umem, &mut first, i, 100 + i).0).collect();
        assert_eq!(first.tx().unwrap().in_flight(), OLD);
        drop(first);

        let mut second = Socket::new("veth0", 0, &umem, &cfg).unwrap();
        assert_eq!(second.fd(), umem.fd(), "the second socket took the umem's fd over");
        let inherited = second.tx().unwrap().in_flight();
        let (new_addr, new_frame) = queue_frame(&umem, &mut second, OLD, NEW_SEQ);
        let mut done = Vec::new();
        let completions = |umem: &mut Umem, done: &mut Vec<u64>| {
            let mut addrs = [0u64; 64];
            let n = umem.comp().take(&mut addrs) as usize;
            done.extend_from_slice(&addrs[..n]);
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done.contains(&new_addr) {
            assert!(Instant::now() < deadline, "the new frame never completed (completions {done:?})");
            second.kick().unwrap();
            completions(&mut umem, &mut done);
        }

        let mut seen = Vec::new();
        while let Some(f) = peer.recv_test_frame(Duration::from_millis(300)) {
            seen.push(f);
        }
        let seqs: Vec<Option<u32>> = seen.iter().map(|f| frame_seq(f)).collect();
        assert_eq!(seqs, [Some(NEW_SEQ)], "only the new frame reaches the peer");
        assert_eq!(seen[0], new_frame);
        assert_eq!(second.stats().unwrap().tx_invalid_descs, OLD as u64, "the old descriptors, rejected");
        assert_eq!(inherited, 0, "copy mode: the kernel consumed the old descriptors when the first socket went");

        completions(&mut umem, &mut done);
        done.sort_unstable();
        let mut want = if common::invalid_tx_completes() { old } else { Vec::new() };
        want.push(new_addr);
        assert_eq!(done, want, "completions: the new frame once, the old ones where rejected descriptors complete");
    });
}
