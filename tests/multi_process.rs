//! Several processes on one interface (issue 15, part 6): the second xsk_rs
//! process there joins the first one's built-in program instead of getting
//! EBUSY, each on its own queue, with real child processes (this test binary
//! run again as `mp_child`) on a two-queue veth and packets sent to each
//! queue.
//!
//! What must hold: kill -9 of either process leaves the other receiving;
//! once both are gone nothing is attached; two that attach at once both
//! succeed; a program of anyone else (a lookalike too) is never joined or
//! replaced; a queue held by the other process is EBUSY naming it.

mod common;

use common::{assert_detached, frame_seq, in_ns, test_frame, xdp_attached, VethPair};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use xsk_rs::xdp::{insn, Link, Program, XdpMode, XskMap};
use xsk_rs::{SendExt, XdpConfig};

/// Marks the child's own lines among libtest's.
const MARK: &str = "@@ ";

/// Sequence numbers carry the queue they were sent to in their top byte.
fn seq_for(queue: u32, i: u32) -> u32 {
    (queue << 24) | i
}

fn frame_len(i: u32) -> usize {
    60 + (i as usize * 37) % 1400
}

fn mode_name(m: XdpMode) -> &'static str {
    match m {
        XdpMode::Skb => "skb",
        XdpMode::Drv => "drv",
        _ => "auto",
    }
}

/// Child-process entry: an RX socket on `XSKRS_MP_IF` queue
/// `XSKRS_MP_QUEUE` with the built-in program in `XSKRS_MP_MODE`, in the
/// namespace it was started in. It says `READY <pid>` or `ERR <errno>
/// <message>`, then checks every frame it receives (a test frame sent to
/// its queue, byte for byte) and answers `count` with `COUNT <good> <bad>
/// <bytes>`. With `XSKRS_MP_START` (ns since the epoch) it creates its
/// socket at that moment, spinning until then.
#[test]
#[ignore = "child process for the multi-process tests"]
fn mp_child() {
    let Ok(ifname) = std::env::var("XSKRS_MP_IF") else { return };
    let queue: u32 = std::env::var("XSKRS_MP_QUEUE").unwrap().parse().unwrap();
    let mode = match std::env::var("XSKRS_MP_MODE").as_deref() {
        Ok("skb") => XdpMode::Skb,
        Ok("drv") => XdpMode::Drv,
        _ => XdpMode::Auto,
    };
    if let Ok(start) = std::env::var("XSKRS_MP_START") {
        let at = UNIX_EPOCH + Duration::from_nanos(start.parse().unwrap());
        while SystemTime::now() < at {
            std::hint::spin_loop();
        }
    }
    let cfg = XdpConfig { xdp_mode: Some(mode), rx_frames: Some(1024), ..Default::default() };
    let mut rx = match xsk_rs::create_rx_socket_by_name(&ifname, queue, Some(cfg)) {
        Ok(rx) => rx,
        Err(e) => {
            println!("{MARK}ERR {} {e}", e.errno());
            return;
        }
    };
    println!("{MARK}READY {}", std::process::id());
    let (tx, cmds) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut good, mut bad, mut bytes) = (0u64, 0u64, 0u64);
    let mut buf = vec![0u8; 4096];
    loop {
        match cmds.try_recv() {
            Ok(c) if c == "count" => println!("{MARK}COUNT {good} {bad} {bytes}"),
            Ok(_) | Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        while let Some(n) = rx.recv_timeout(&mut buf, Some(Duration::from_millis(10))).unwrap() {
            let f = &buf[..n];
            let Some(seq) = frame_seq(f) else { continue };
            let ok = seq >> 24 == queue && f == test_frame(seq, frame_len(seq & 0xff_ffff)).as_slice();
            if ok {
                good += 1;
                bytes += n as u64;
            } else {
                bad += 1;
            }
        }
    }
}

/// One `mp_child` process.
struct Kid {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    queue: u32,
}

impl Kid {
    fn spawn(pair: &VethPair, queue: u32, mode: XdpMode, start: Option<SystemTime>) -> Kid {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &pair.ns_a])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", "mp_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("XSKRS_MP_IF", &pair.if_a)
            .env("XSKRS_MP_QUEUE", queue.to_string())
            .env("XSKRS_MP_MODE", mode_name(mode))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(at) = start {
            cmd.env("XSKRS_MP_START", at.duration_since(UNIX_EPOCH).unwrap().as_nanos().to_string());
        }
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(at) = line.find(MARK) {
                    if tx.send(line[at + MARK.len()..].to_string()).is_err() {
                        break;
                    }
                }
            }
        });
        Kid { child, stdin, lines, queue }
    }

    fn line(&mut self) -> String {
        self.lines.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|e| {
            let _ = self.child.kill();
            panic!("child on queue {}: no answer ({e})", self.queue)
        })
    }

    /// Waits for the socket: the child's pid, or its error (errno, message).
    fn started(&mut self) -> Result<u32, (i32, String)> {
        let line = self.line();
        if let Some(pid) = line.strip_prefix("READY ") {
            return Ok(pid.parse().unwrap());
        }
        let rest = line.strip_prefix("ERR ").unwrap_or_else(|| panic!("child said {line:?}"));
        let (errno, msg) = rest.split_once(' ').unwrap();
        Err((errno.parse().unwrap(), msg.to_string()))
    }

    fn ready(mut self) -> Kid {
        match self.started() {
            Ok(pid) => assert_eq!(pid, self.child.id()),
            Err((errno, msg)) => panic!("child on queue {}: errno {errno}: {msg}", self.queue),
        }
        self
    }

    /// `(good, bad, bytes)` so far.
    fn count(&mut self) -> (u64, u64, u64) {
        writeln!(self.stdin, "count").unwrap();
        let line = self.line();
        let v: Vec<u64> = line
            .strip_prefix("COUNT ")
            .unwrap_or_else(|| panic!("{line:?}"))
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        (v[0], v[1], v[2])
    }

    /// Waits until the child counted `good` good frames (or 5 s passed), and
    /// returns its count.
    fn count_until(&mut self, good: u64) -> (u64, u64, u64) {
        let t = Instant::now();
        loop {
            let c = self.count();
            if c.0 >= good || t.elapsed() > Duration::from_secs(5) {
                return c;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(mut self) {
        // SAFETY: signals our own child.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) }, 0);
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "{status}");
    }

    /// Asks the child to exit and waits for it.
    fn exit(mut self) {
        writeln!(self.stdin, "exit").unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "child on queue {}: {status}", self.queue);
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Frames `from..from + n` to RX queue `queue` of veth0: sent from veth1's
/// TX queue of that number, which veth hands to the peer's RX queue of the
/// same number in native mode. Returns the bytes sent.
fn send_to_queue(pair: &VethPair, queue: u32, from: u32, n: u32) -> u64 {
    let b = pair.if_b.clone();
    in_ns(&pair.ns_b, move || {
        let cfg = XdpConfig { tx_frames: Some(256), ..Default::default() };
        let mut tx = xsk_rs::create_tx_socket_by_name(&b, queue, Some(cfg)).expect("tx socket on veth1");
        let mut bytes = 0;
        for i in from..from + n {
            let f = test_frame(seq_for(queue, i), frame_len(i));
            assert!(tx.send_timeout(&f, None, Duration::from_secs(2)).unwrap(), "no room to send");
            bytes += f.len() as u64;
        }
        // Let the kernel finish before the socket goes.
        let t = Instant::now();
        while tx.in_flight_frames() > 0 && t.elapsed() < Duration::from_secs(2) {
            tx.kick().unwrap();
            tx.reclaim_completed();
            std::thread::sleep(Duration::from_millis(1));
        }
        bytes
    })
}

fn bytes_of(queue: u32, range: std::ops::Range<u32>) -> u64 {
    range.map(|i| test_frame(seq_for(queue, i), frame_len(i)).len() as u64).sum()
}

/// `ip -d link` shows one `prog/xdp id N` line per attached program.
fn attached_prog_ids(pair: &VethPair) -> Vec<u32> {
    let out = common::ip_in(&pair.ns_a, &["-d", "link", "show", "dev", &pair.if_a]);
    let words: Vec<&str> = out.split_whitespace().collect();
    words.windows(3).filter(|w| w[0].starts_with("prog/xdp") && w[1] == "id").map(|w| w[2].parse().unwrap()).collect()
}

/// Both processes receive on their queues, then `victim` (0: the one that
/// attached, 1: the one that joined) is killed with SIGKILL; the other
/// keeps receiving every frame; when it exits nothing is attached.
fn kill_9_leaves_the_other_receiving(victim: usize) {
    if !common::require_root() {
        return;
    }
    const N: u32 = 300;
    let pair = VethPair::with_queues(2);
    let first = Kid::spawn(&pair, 0, XdpMode::Drv, None).ready();
    let prog = attached_prog_ids(&pair);
    assert_eq!(prog.len(), 1, "{prog:?}");
    let second = Kid::spawn(&pair, 1, XdpMode::Drv, None).ready();
    assert_eq!(attached_prog_ids(&pair), prog, "the second process joined the first one's program");
    let mut kids = [first, second];
    for (q, kid) in kids.iter_mut().enumerate() {
        let sent = send_to_queue(&pair, q as u32, 0, N);
        assert_eq!(sent, bytes_of(q as u32, 0..N));
        assert_eq!(kid.count_until(N as u64), (N as u64, 0, sent), "queue {q}");
    }
    let [first, second] = kids;
    let (dead, mut alive) = if victim == 0 { (first, second) } else { (second, first) };
    let (dq, aq) = (dead.queue, alive.queue);
    dead.kill9();
    assert_eq!(attached_prog_ids(&pair), prog, "the program stays while a process uses it");
    // The dead one's queue goes to the stack now, and does not disturb the other.
    send_to_queue(&pair, dq, N, 50);
    let sent = send_to_queue(&pair, aq, N, N);
    assert_eq!(alive.count_until(2 * N as u64), (2 * N as u64, 0, bytes_of(aq, 0..2 * N)), "queue {aq} after kill -9");
    alive.exit();
    assert!(sent > 0);
    assert_detached(&pair.ns_a, &pair.if_a, "both processes gone");
}

#[test]
fn kill_9_of_the_attaching_process_leaves_the_joined_one_receiving() {
    kill_9_leaves_the_other_receiving(0);
}

#[test]
fn kill_9_of_the_joined_process_leaves_the_attaching_one_receiving() {
    kill_9_leaves_the_other_receiving(1);
}

/// Both exit normally, in either order: nothing is left attached.
#[test]
fn when_both_have_exited_nothing_is_attached() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    for order in [[0, 1], [1, 0]] {
        let mut kids = [0, 1].map(|q| Some(Kid::spawn(&pair, q, XdpMode::Drv, None).ready()));
        for (q, kid) in kids.iter_mut().enumerate() {
            let sent = send_to_queue(&pair, q as u32, 0, 20);
            assert_eq!(kid.as_mut().unwrap().count_until(20), (20, 0, sent));
        }
        kids[order[0]].take().unwrap().exit();
        assert!(xdp_attached(&pair.ns_a, &pair.if_a), "the program went with its first user");
        kids[order[1]].take().unwrap().exit();
        assert_detached(&pair.ns_a, &pair.if_a, format!("exit order {order:?}"));
    }
}

/// Two processes that create their sockets at the same moment both get
/// them, on one program, and both receive. Many rounds, as the window is
/// narrow (`XSKRS_MP_ROUNDS`, default 20).
#[test]
fn two_processes_attaching_at_once_both_succeed() {
    if !common::require_root() {
        return;
    }
    let rounds: usize = std::env::var("XSKRS_MP_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    let pair = VethPair::with_queues(2);
    for round in 0..rounds {
        // Far enough ahead for both to be spawned and spinning.
        let at = SystemTime::now() + Duration::from_millis(150);
        let mut kids = [0, 1].map(|q| Kid::spawn(&pair, q, XdpMode::Drv, Some(at)));
        for kid in &mut kids {
            if let Err((errno, msg)) = kid.started() {
                panic!("round {round}: queue {}: errno {errno}: {msg}", kid.queue);
            }
        }
        assert_eq!(attached_prog_ids(&pair).len(), 1, "round {round}");
        for (q, kid) in kids.iter_mut().enumerate() {
            let sent = send_to_queue(&pair, q as u32, 0, 10);
            assert_eq!(kid.count_until(10), (10, 0, sent), "round {round}: queue {q}");
        }
        for kid in kids {
            kid.exit();
        }
        assert_detached(&pair.ns_a, &pair.if_a, format!("round {round}"));
    }
}

/// The built-in program's instructions with one change (`XDP_DROP` rather
/// than `XDP_PASS` for a queue without a socket): same name, same map,
/// same length, another program.
fn lookalike(map: &XskMap) -> Program {
    use std::os::fd::AsRawFd;
    let mut insns = xsk_rs::xdp::redirect_insns(map.fd().as_raw_fd());
    insns[3] = insn::mov64_imm(insn::R3, 1);
    Program::load(&insns, Program::REDIRECT_NAME).unwrap()
}

/// A program attached by anyone else, whatever it is called and however
/// much it looks like xsk_rs's, is neither joined nor replaced: the child
/// gets EBUSY naming it, and it stays attached.
#[test]
fn a_foreign_program_is_never_joined() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    type Make = fn(&XskMap) -> Program;
    let other: Make = |_| Program::load(&[insn::mov64_imm(insn::R0, 2), insn::exit()], "other_prog").unwrap();
    let truncated: Make = |map| {
        // The map load and the call, without reading the queue: R2 is 0.
        use std::os::fd::AsRawFd;
        let mut insns = xsk_rs::xdp::redirect_insns(map.fd().as_raw_fd()).to_vec();
        insns[0] = insn::mov64_imm(insn::R2, 0);
        Program::load(&insns, Program::REDIRECT_NAME).unwrap()
    };
    let users_own: Make = |map| Program::redirect(map).unwrap();
    for (what, make, name) in [
        ("the built-in program attached by a user of its own", users_own, "xsk_rs_redirect"),
        ("a program of another name", other, "other_prog"),
        ("a lookalike with another verdict", lookalike as Make, "xsk_rs_redirect"),
        ("a lookalike that ignores the queue", truncated, "xsk_rs_redirect"),
    ] {
        let a = pair.if_a.clone();
        let (link, id) = in_ns(&pair.ns_a, move || {
            let map = XskMap::create(2).unwrap();
            let prog = make(&map);
            let id = prog.id().unwrap();
            let ifindex = xsk_rs::netdev::Netdev::lookup(&a).unwrap().ifindex;
            (Link::attach(&prog, ifindex, XdpMode::Drv).unwrap(), id)
        });
        for mode in [XdpMode::Drv, XdpMode::Auto, XdpMode::Skb] {
            let mut kid = Kid::spawn(&pair, 0, mode, None);
            let (errno, msg) = kid.started().err().unwrap_or_else(|| panic!("{what}: joined in {mode} mode"));
            assert_eq!(errno, libc::EBUSY, "{what}: {msg}");
            assert!(msg.contains(&format!("id {id}")) && msg.contains(name), "{what}: {msg}");
            assert!(msg.ends_with("so it is not joined; xsk_rs will not replace it"), "{what}: {msg}");
            assert_eq!(attached_prog_ids(&pair), [id], "{what}: still attached after a {mode} attempt");
        }
        drop(link);
        assert_detached(&pair.ns_a, &pair.if_a, what);
    }
}

/// A queue the other process holds is EBUSY naming that process (pid and
/// command), and a mode other than the one attached is EBUSY saying which.
#[test]
fn a_queue_held_by_the_other_process_is_named() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(2);
    let mut holder = Kid::spawn(&pair, 0, XdpMode::Drv, None).ready();
    let pid = holder.child.id();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap().trim().to_string();
    let mut kid = Kid::spawn(&pair, 0, XdpMode::Auto, None);
    let (errno, msg) = kid.started().expect_err("the queue is held");
    assert_eq!(errno, libc::EBUSY, "{msg}");
    // Read from xdp_diag where the kernel has it (as a module: 6.12 in the
    // kernel matrix), inferred from the namespace's AF_XDP sockets where not.
    let exact = format!("by an AF_XDP socket of another process: pid {pid} ({comm})");
    if std::path::Path::new("/sys/module/xsk_diag").exists() {
        assert!(msg.ends_with(&exact), "{msg}");
    } else {
        assert!(msg.contains(&exact), "{msg}");
    }
    let mut kid = Kid::spawn(&pair, 1, XdpMode::Skb, None);
    let (errno, msg) = kid.started().expect_err("another mode");
    assert_eq!(errno, libc::EBUSY, "{msg}");
    assert!(msg.contains("in drv mode by another process, and skb mode was asked for"), "{msg}");
    // This process joins the holder's program, and may not detach it for both.
    let ifname = pair.if_a.clone();
    let e = pair.run_in_a(move || {
        let joined = xsk_rs::xdp::Redirect::attach(&ifname, XdpMode::Auto).expect("join");
        joined.detach().expect_err("a joined program is not ours to detach")
    });
    assert_eq!(e.errno(), libc::EBUSY, "{e}");
    assert!(e.to_string().contains("attached by another xsk_rs process"), "{e}");
    // None of these attempts disturbed the holder.
    let sent = send_to_queue(&pair, 0, 0, 50);
    assert_eq!(holder.count_until(50), (50, 0, sent));
    holder.exit();
    assert_detached(&pair.ns_a, &pair.if_a, "holder gone");
}
