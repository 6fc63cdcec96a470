//! Tests against the running kernel. Each root test builds its own network
//! namespace with veth pairs and works from a thread that has entered it, so
//! tests run in parallel and never touch the host's interfaces.

use super::attach::entries_for;
use super::insn::*;
use super::*;
use crate::netdev::Netdev;
use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, AsRawFd};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers

/// True if the test can run. Without root it fails under CI=true (a skipped
/// kernel test must not look like a pass there) and is skipped otherwise.
fn have_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root (CAP_NET_ADMIN and CAP_BPF) and CI=true forbids skipping");
    }
    eprintln!("skipping {test}: needs root (CAP_NET_ADMIN and CAP_BPF)");
    false
}

/// Moves the calling thread (only) into the named namespace.
fn enter_netns(name: &str) {
    let path = CString::new(format!("/run/netns/{name}")).unwrap();
    // SAFETY: path is NUL-terminated; the fd is closed right after setns.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        assert!(fd >= 0, "open /run/netns/{name}: {}", std::io::Error::last_os_error());
        let rc = libc::setns(fd, libc::CLONE_NEWNET);
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        assert_eq!(rc, 0, "setns {name}: {err}");
    }
}

/// A network namespace of this test, deleted on drop (also when the test panics).
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("xskrs-xdp-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// A veth pair with `queues` queues each way, both ends up, and no IPv6
    /// link-local address (so no neighbour discovery chatter on the wire).
    fn veth(&self, a: &str, b: &str, queues: u32) {
        let q = queues.to_string();
        self.ip(&[
            "link",
            "add",
            a,
            "numtxqueues",
            &q,
            "numrxqueues",
            &q,
            "type",
            "veth",
            "peer",
            "name",
            b,
            "numtxqueues",
            &q,
            "numrxqueues",
            &q,
        ]);
        for dev in [a, b] {
            self.ip(&["link", "set", dev, "addrgenmode", "none"]);
            self.ip(&["link", "set", dev, "up"]);
        }
    }

    /// Runs `f` on a thread inside the namespace; a panic there fails the test.
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            let h = s.spawn(|| {
                enter_netns(&self.name);
                f()
            });
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// `(kind, program id)` of the XDP program `ip` reports on `dev`, where kind
    /// is `xdp` (native) or `xdpgeneric`. `ip` prints the kind after the MTU on
    /// the first line and the program as `prog/xdp id N` whatever its mode.
    fn xdp_prog(&self, dev: &str) -> Option<(String, u32)> {
        let out = self.ip(&["-d", "link", "show", "dev", dev]);
        let words: Vec<&str> = out.split_whitespace().collect();
        let id = words.windows(3).find_map(|w| match w {
            [p, "id", id] if p.starts_with("prog/xdp") => id.parse().ok(),
            _ => None,
        })?;
        let kind = words.windows(3).find_map(|w| match w {
            ["mtu", _, kind] if kind.starts_with("xdp") => Some(kind.to_string()),
            _ => None,
        });
        Some((kind.unwrap_or_else(|| panic!("XDP program without a mode in: {out}")), id))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn map_info(fd: RawFd) -> sys::bpf_map_info {
    let mut info = sys::bpf_map_info::default();
    // SAFETY: a zeroed plain-data prefix of bpf_map_info.
    unsafe { obj_info(fd, &mut info) }.unwrap();
    info
}

// ---------------------------------------------------------------- bpf objects

#[test]
fn verifier_log_is_in_the_error() {
    if !have_root("verifier_log_is_in_the_error") {
        return;
    }
    // Returns without setting R0: the verifier refuses to read it.
    let e = Program::load(&[exit()], "xsk_rs_bad").unwrap_err();
    let msg = e.to_string();
    println!("bad program: errno {} / {msg}", e.errno());
    assert!(msg.contains("R0 !read_ok"), "{msg}");
    assert!(msg.contains("\"xsk_rs_bad\""), "{msg}");
    assert_eq!(e.errno(), libc::EACCES);

    let ok = Program::load(&[mov64_imm(R0, sys::XDP_PASS), exit()], "xsk_rs_pass").unwrap();
    assert!(ok.id().unwrap() > 0);
}

#[test]
fn xskmap_and_redirect_program_load() {
    if !have_root("xskmap_and_redirect_program_load") {
        return;
    }
    assert_eq!(XskMap::create(0).unwrap_err().errno(), libc::EINVAL);
    let map = XskMap::create(4).unwrap();
    let info = map_info(map.fd().as_raw_fd());
    assert_eq!((info.map_type, info.key_size, info.value_size, info.max_entries), (sys::BPF_MAP_TYPE_XSKMAP, 4, 4, 4));
    assert_eq!(&info.name[..14], b"xsk_rs_xskmap\0");

    let prog = Program::redirect(&map).unwrap();
    let mut pinfo = sys::bpf_prog_info::default();
    // SAFETY: a zeroed plain-data prefix of bpf_prog_info.
    unsafe { obj_info(prog.fd().as_raw_fd(), &mut pinfo) }.unwrap();
    assert_eq!(pinfo.prog_type, sys::BPF_PROG_TYPE_XDP);
    assert_eq!(&pinfo.name, b"xsk_rs_redirect\0");
    assert_eq!(pinfo.nr_map_ids, 1, "the program holds the map");

    // Emptying a slot that holds nothing is fine; out of range is not.
    map.remove(3).unwrap();
    assert_eq!(map.remove(4).unwrap_err().errno(), libc::EINVAL);
}

#[test]
fn xskmap_refuses_what_is_not_an_xsk() {
    if !have_root("xskmap_refuses_what_is_not_an_xsk") {
        return;
    }
    let map = XskMap::create(2).unwrap();
    let mut pipe = [0; 2];
    // SAFETY: pipe2 writes two fds into the array.
    assert_eq!(unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: the fds are new and owned here.
    let (r, _w) = unsafe { (OwnedFd::from_raw_fd(pipe[0]), OwnedFd::from_raw_fd(pipe[1])) };
    let e = map.insert(0, r.as_raw_fd()).unwrap_err();
    assert_eq!(e.errno(), libc::ENOTSOCK, "{e}");
    // SAFETY: plain socket(2); owned right away.
    let udp = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert!(udp >= 0);
    // SAFETY: udp is a new fd owned here.
    let udp = unsafe { OwnedFd::from_raw_fd(udp) };
    let e = map.insert(1, udp.as_raw_fd()).unwrap_err();
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    assert!(e.to_string().contains("AF_XDP"), "{e}");
    // An AF_XDP socket is accepted even before bind (checked at redirect time).
    // SAFETY: plain socket(2); owned right away.
    let xsk = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    assert!(xsk >= 0);
    // SAFETY: xsk is a new fd owned here.
    let xsk = unsafe { OwnedFd::from_raw_fd(xsk) };
    map.insert(1, xsk.as_raw_fd()).unwrap();
    assert_eq!(map.insert(2, xsk.as_raw_fd()).unwrap_err().errno(), libc::EINVAL);
}

#[test]
fn update_xskmap_checks_the_map() {
    if !have_root("update_xskmap_checks_the_map") {
        return;
    }
    let map = XskMap::create(2).unwrap();
    let prog = Program::redirect(&map).unwrap();
    let xsk = {
        // SAFETY: plain socket(2); owned right away.
        let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        // SAFETY: fd is a new descriptor owned here.
        unsafe { OwnedFd::from_raw_fd(fd) }
    };
    let xsk = xsk.as_raw_fd();

    let e = update_xskmap(map.fd().as_raw_fd(), 2, xsk).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("queue 2") && e.to_string().contains("2 entries"), "{e}");
    update_xskmap(map.fd().as_raw_fd(), 1, xsk).unwrap();

    let e = update_xskmap(prog.fd().as_raw_fd(), 0, xsk).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("not an XSKMAP"), "{e}");

    let mut array = sys::bpf_attr_map_create {
        map_type: 2, // BPF_MAP_TYPE_ARRAY
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        ..Default::default()
    };
    // SAFETY: MAP_CREATE layout, no pointers.
    let array = unsafe { bpf_fd(sys::BPF_MAP_CREATE, &mut array) }.unwrap();
    let e = update_xskmap(array.as_raw_fd(), 0, xsk).unwrap_err();
    assert!(e.to_string().contains("map type 2"), "{e}");

    let e = update_xskmap(xsk, 0, xsk).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("is not a BPF map"), "{e}");

    for bad in [-1, 1_000_000] {
        let e = update_xskmap(bad, 0, xsk).unwrap_err();
        assert_eq!(e.errno(), libc::EBADF, "{e}");
    }
}

// ---------------------------------------------------------------- links

#[test]
fn link_attach_errors() {
    if !have_root("link_attach_errors") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.run(|| {
        let prog = Program::load(&[mov64_imm(R0, sys::XDP_PASS), exit()], "pass").unwrap();
        let e = Link::attach(&prog, 999, XdpMode::Skb).unwrap_err();
        assert_eq!(e.errno(), libc::ENODEV, "{e}");
        let veth0 = Netdev::lookup("veth0").unwrap();
        let e = Link::attach(&prog, veth0.ifindex, XdpMode::None).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL, "{e}");
        let link = Link::attach(&prog, veth0.ifindex, XdpMode::Auto).unwrap();
        assert_eq!((link.mode(), link.ifindex()), (XdpMode::Drv, veth0.ifindex));
        // The same program on the peer is a separate attachment.
        let veth1 = Netdev::lookup("veth1").unwrap();
        let peer = Link::attach(&prog, veth1.ifindex, XdpMode::Skb).unwrap();
        assert_eq!(ns.xdp_prog("veth1").unwrap().0, "xdpgeneric");
        drop((link, peer));
        // Closing a link fd detaches at once, unless a child that another test
        // thread is spawning (an `ip` command) still holds a copy of it until
        // its exec: allow two seconds, as tests/conformance.rs does.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while (ns.xdp_prog("veth0"), ns.xdp_prog("veth1")) != (None, None) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!((ns.xdp_prog("veth0"), ns.xdp_prog("veth1")), (None, None));
    });
}

// ---------------------------------------------------------------- attachments

#[test]
fn acquire_attaches_shares_and_detaches() {
    if !have_root("acquire_attaches_shares_and_detaches") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 4);
    ns.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        assert_eq!(dev.max_queues, 4);
        let a = Attachment::acquire(&dev, XdpMode::Auto).unwrap();
        assert_eq!(a.mode(), XdpMode::Drv, "veth has native XDP");
        let (kind, id) = ns.xdp_prog("veth0").expect("program attached");
        assert_eq!(kind, "xdp");
        assert!(ns.ip(&["-d", "link", "show", "dev", "veth0"]).contains("xsk_rs_redirect"));
        let info = map_info(a.map_fd());
        assert_eq!((info.map_type, info.max_entries), (sys::BPF_MAP_TYPE_XSKMAP, 4));

        let b = Attachment::acquire(&dev, XdpMode::Auto).unwrap();
        assert_eq!(b.map_fd(), a.map_fd(), "one map per interface");
        let c = Attachment::acquire(&dev, XdpMode::Drv).unwrap();
        assert_eq!(ns.xdp_prog("veth0"), Some(("xdp".into(), id)), "same program");
        assert_eq!(entries_for(&dev), 1);
        // The map has a slot for each of the 4 queues and no more; the kernel
        // refuses a fifth.
        assert_eq!(a.insert(4, 0).unwrap_err().errno(), libc::E2BIG);

        drop(a);
        drop(c);
        assert_eq!(ns.xdp_prog("veth0"), Some(("xdp".into(), id)), "b still holds it");
        drop(b);
        assert_eq!(ns.xdp_prog("veth0"), None, "last reference detaches");
        assert_eq!(entries_for(&dev), 0);
        assert_eq!(ns.xdp_prog("veth1"), None);
    });
}

#[test]
fn reattach_waits_out_our_own_lingering_link() {
    if !have_root("reattach_waits_out_our_own_lingering_link") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        let a = Attachment::acquire(&dev, XdpMode::Drv).unwrap();
        // Another holder of the link file (a child between fork and exec)
        // keeps the program attached after our close, for 150 ms.
        let held = super::attach::dup_link_fd(&dev);
        drop(a);
        assert!(ns.xdp_prog("veth0").is_some(), "the duplicate keeps the link alive");
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        let t = Instant::now();
        let b = Attachment::acquire(&dev, XdpMode::Drv).expect("our own lingering link is waited out");
        assert!(t.elapsed() >= Duration::from_millis(100), "it really had to wait: {:?}", t.elapsed());
        releaser.join().unwrap();
        drop(b);
        assert_eq!(ns.xdp_prog("veth0"), None);
    });
}

/// While one thread waits out this process's own lingering link on one
/// interface (the grace-period retry), creating and dropping an attachment on
/// another interface goes ahead: the retry sleeps without the registry lock.
/// Two threads waiting on the same interface end up sharing one program.
#[test]
fn grace_retry_leaves_other_interfaces_alone() {
    if !have_root("grace_retry_leaves_other_interfaces_alone") {
        return;
    }
    const HOLD: Duration = Duration::from_millis(600);
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.veth("veth2", "veth3", 1);
    ns.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        let other = Netdev::lookup("veth2").unwrap();
        let a = Attachment::acquire(&dev, XdpMode::Drv).unwrap();
        let held = super::attach::dup_link_fd(&dev);
        drop(a);
        let start = Instant::now();
        // Threads start in this thread's namespace.
        std::thread::scope(|s| {
            s.spawn(move || {
                std::thread::sleep(HOLD);
                drop(held);
            });
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let att = Attachment::acquire(&dev, XdpMode::Drv).expect("waited out");
                        (att, start.elapsed())
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(100));
            let t = Instant::now();
            let b = Attachment::acquire(&other, XdpMode::Drv).unwrap();
            assert!(ns.xdp_prog("veth2").is_some());
            drop(b);
            let took = t.elapsed();
            assert!(
                start.elapsed() < HOLD && took < Duration::from_millis(200),
                "veth2's attach and detach took {took:?}, {:?} after veth0's waiters started",
                start.elapsed()
            );
            let got: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
            for (_, waited) in &got {
                assert!(*waited >= HOLD - Duration::from_millis(50), "really waited: {waited:?}");
            }
            assert_eq!(got[0].0.map_fd(), got[1].0.map_fd(), "the later waiter shares the first one's program");
            assert_eq!(entries_for(&dev), 1);
        });
        assert_eq!(ns.xdp_prog("veth0"), None);
        assert_eq!(entries_for(&dev), 0);
    });
}

#[test]
fn explicit_modes_on_veth() {
    if !have_root("explicit_modes_on_veth") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        let skb = Attachment::acquire(&dev, XdpMode::Skb).unwrap();
        assert_eq!(skb.mode(), XdpMode::Skb);
        assert_eq!(ns.xdp_prog("veth0").unwrap().0, "xdpgeneric");

        let e = Attachment::acquire(&dev, XdpMode::Drv).unwrap_err();
        assert_eq!(e.errno(), libc::EBUSY);
        let msg = e.to_string();
        println!("mode clash: {msg}");
        assert!(msg.contains("veth0") && msg.contains("skb") && msg.contains("drv"), "{msg}");
        let auto = Attachment::acquire(&dev, XdpMode::Auto).unwrap();
        assert_eq!(auto.mode(), XdpMode::Skb, "auto takes what is there");
        assert_eq!(auto.map_fd(), skb.map_fd());
        drop((skb, auto));
        assert_eq!(ns.xdp_prog("veth0"), None);

        let drv = Attachment::acquire(&dev, XdpMode::Drv).unwrap();
        assert_eq!(drv.mode(), XdpMode::Drv);
        assert_eq!(ns.xdp_prog("veth0").unwrap().0, "xdp");
        let e = Attachment::acquire(&dev, XdpMode::Skb).unwrap_err();
        assert_eq!(e.errno(), libc::EBUSY);
        drop(drv);
        assert_eq!(ns.xdp_prog("veth0"), None);

        let e = Attachment::acquire(&dev, XdpMode::None).unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
    });
}

#[test]
fn auto_falls_back_to_skb_without_native_xdp() {
    if !have_root("auto_falls_back_to_skb_without_native_xdp") {
        return;
    }
    let ns = Netns::new();
    // A bridge has no ndo_bpf, so no native XDP.
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.run(|| {
        let dev = Netdev::lookup("br0").unwrap();
        let e = Attachment::acquire(&dev, XdpMode::Drv).unwrap_err();
        println!("drv on a bridge: {e}");
        assert_eq!(e.errno(), libc::EOPNOTSUPP);
        assert_eq!(entries_for(&dev), 0);

        let a = Attachment::acquire(&dev, XdpMode::Auto).unwrap();
        assert_eq!(a.mode(), XdpMode::Skb);
        assert_eq!(ns.xdp_prog("br0").unwrap().0, "xdpgeneric");
        drop(a);
        assert_eq!(ns.xdp_prog("br0"), None);
    });
}

#[test]
fn foreign_program_is_left_alone() {
    if !have_root("foreign_program_is_left_alone") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        let pass = [mov64_imm(R0, sys::XDP_PASS), exit()];
        for foreign_mode in [XdpMode::Drv, XdpMode::Skb] {
            let prog = Program::load(&pass, "foreign").unwrap();
            let link = Link::attach(&prog, dev.ifindex, foreign_mode).unwrap();
            assert_eq!(link.mode(), foreign_mode);
            let id = prog.id().unwrap();
            let before = ns.xdp_prog("veth0");
            assert_eq!(before.as_ref().map(|p| p.1), Some(id));

            for mode in [XdpMode::Auto, XdpMode::Drv, XdpMode::Skb] {
                let e = Attachment::acquire(&dev, mode).unwrap_err();
                let msg = e.to_string();
                println!("foreign {foreign_mode}, acquire {mode}: {msg}");
                assert_eq!(e.errno(), libc::EBUSY, "{msg}");
                assert!(msg.starts_with("interface veth0 already has an XDP program attached"), "{msg}");
                assert!(msg.ends_with("xsk_rs will not replace it"), "{msg}");
                assert_eq!(ns.xdp_prog("veth0"), before, "foreign program untouched");
                assert_eq!(entries_for(&dev), 0);
            }
            drop(link);
            assert_eq!(ns.xdp_prog("veth0"), None);
        }
        // With the interface free again, it works.
        drop(Attachment::acquire(&dev, XdpMode::Auto).unwrap());
    });
}

#[test]
fn namespaces_are_kept_apart() {
    if !have_root("namespaces_are_kept_apart") {
        return;
    }
    let (ns_a, ns_b) = (Netns::new(), Netns::new());
    ns_a.veth("veth0", "veth1", 1);
    ns_b.veth("veth0", "veth1", 1);
    let (dev_a, att_a) = ns_a.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        let att = Attachment::acquire(&dev, XdpMode::Drv).unwrap();
        (dev, att)
    });
    let att_b = ns_b.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        println!("ifindex of veth0: {} in a, {} in b", dev_a.ifindex, dev.ifindex);
        // dev_a belongs to the other namespace, even if its ifindex matches.
        assert_eq!(Attachment::acquire(&dev_a, XdpMode::Auto).unwrap_err().errno(), libc::EINVAL);
        // A different explicit mode than namespace a's is no clash.
        Attachment::acquire(&dev, XdpMode::Skb).unwrap()
    });
    assert_ne!(att_a.map_fd(), att_b.map_fd());
    assert_eq!(ns_a.xdp_prog("veth0").unwrap().0, "xdp");
    assert_eq!(ns_b.xdp_prog("veth0").unwrap().0, "xdpgeneric");
    // Dropped from a thread in neither namespace: closing the link is enough.
    drop(att_a);
    assert_eq!(ns_a.xdp_prog("veth0"), None);
    assert!(ns_b.xdp_prog("veth0").is_some());
    drop(att_b);
    assert_eq!(ns_b.xdp_prog("veth0"), None);
}

#[test]
fn vanished_device_is_not_shared() {
    if !have_root("vanished_device_is_not_shared") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.run(|| {
        let old = Netdev::lookup("veth0").unwrap();
        let stale = Attachment::acquire(&old, XdpMode::Drv).unwrap();
        ns.ip(&["link", "del", "veth0"]);
        // A new device under the same ifindex, as after namespace-inode or
        // ifindex reuse.
        let idx = old.ifindex.to_string();
        ns.ip(&["link", "add", "veth0", "index", &idx, "type", "veth", "peer", "name", "veth1"]);
        let new = Netdev::lookup("veth0").unwrap();
        assert_eq!((new.netns, new.ifindex), (old.netns, old.ifindex));
        let fresh = Attachment::acquire(&new, XdpMode::Skb).unwrap();
        assert_eq!(fresh.mode(), XdpMode::Skb, "not the dead drv entry");
        assert_eq!(ns.xdp_prog("veth0").unwrap().0, "xdpgeneric");
        assert_eq!(entries_for(&new), 2);
        drop(stale);
        assert_eq!(entries_for(&new), 1);
        assert!(ns.xdp_prog("veth0").is_some(), "dropping the stale one leaves the new one");
        drop(fresh);
        assert_eq!(ns.xdp_prog("veth0"), None);
    });
}

// ---------------------------------------------------------------- process exit

const CHILD_ENV: &str = "XSK_RS_TEST_CHILD_NETNS";

/// Run by `killed_process_leaves_no_program` in a child process: attaches in
/// the namespace it is given and waits to be killed.
#[test]
#[ignore = "helper, started by killed_process_leaves_no_program"]
fn child_holds_attachment() {
    let Ok(name) = std::env::var(CHILD_ENV) else { return };
    enter_netns(&name);
    let dev = Netdev::lookup("veth0").unwrap();
    let _att = Attachment::acquire(&dev, XdpMode::Drv).unwrap();
    println!("ATTACHED");
    std::thread::sleep(Duration::from_secs(60));
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn killed_process_leaves_no_program() {
    if !have_root("killed_process_leaves_no_program") {
        return;
    }
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    let exe = std::env::current_exe().unwrap();
    let mut child = KillOnDrop(
        Command::new(exe)
            .args(["xdp::kernel_tests::child_holds_attachment", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, &ns.name)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let out = BufReader::new(child.0.stdout.take().unwrap());
    assert!(out.lines().map_while(|l| l.ok()).any(|l| l.contains("ATTACHED")), "child did not attach");
    assert_eq!(ns.xdp_prog("veth0").unwrap().0, "xdp");

    // SIGKILL: no destructor runs; the kernel closes the link fd at exit.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while ns.xdp_prog("veth0").is_some() {
        assert!(Instant::now() < deadline, "program still attached after the process died");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- packets

/// A bare copy-mode AF_XDP socket with fill and RX rings: just enough to see
/// what the redirect program delivers. (The crate's real socket is elsewhere.)
struct RawXsk {
    fd: OwnedFd,
    umem: Mmap,
    rx: Mmap,
    _fill: Mmap,
    off: libc::xdp_mmap_offsets,
}

const FRAMES: u32 = 64;
const FRAME_SIZE: u32 = 2048;

struct Mmap(*mut u8, usize);

impl Mmap {
    fn new(len: usize, fd: RawFd, offset: i64) -> Mmap {
        let flags = if fd < 0 { libc::MAP_PRIVATE | libc::MAP_ANONYMOUS } else { libc::MAP_SHARED };
        // SAFETY: a fresh mapping; nothing aliases it.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, fd, offset) };
        assert_ne!(p, libc::MAP_FAILED, "mmap: {}", std::io::Error::last_os_error());
        Mmap(p.cast(), len)
    }

    /// The ring index at byte offset `off`, shared with the kernel.
    fn index(&self, off: u64) -> &AtomicU32 {
        assert!(off as usize + 4 <= self.1);
        // SAFETY: in bounds, 4-byte aligned (kernel offsets), mapped while self lives.
        unsafe { &*(self.0.add(off as usize) as *const AtomicU32) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what new() mapped.
        unsafe { libc::munmap(self.0.cast(), self.1) };
    }
}

fn setsockopt<T>(fd: RawFd, opt: libc::c_int, val: &T) {
    // SAFETY: val points at a T of the given size.
    let rc =
        unsafe { libc::setsockopt(fd, libc::SOL_XDP, opt, val as *const T as *const libc::c_void, size_of_u32::<T>()) };
    assert_eq!(rc, 0, "setsockopt {opt}: {}", std::io::Error::last_os_error());
}

fn size_of_u32<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}

impl RawXsk {
    fn bind(ifindex: u32, queue_id: u32) -> RawXsk {
        // SAFETY: plain socket(2); owned right away.
        let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0, "AF_XDP socket: {}", std::io::Error::last_os_error());
        // SAFETY: a new fd owned here.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        let umem = Mmap::new((FRAMES * FRAME_SIZE) as usize, -1, 0);
        let reg = libc::xdp_umem_reg {
            addr: umem.0 as u64,
            len: umem.1 as u64,
            chunk_size: FRAME_SIZE,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        setsockopt(raw, libc::XDP_UMEM_REG, &reg);
        setsockopt(raw, libc::XDP_UMEM_FILL_RING, &FRAMES);
        setsockopt(raw, libc::XDP_UMEM_COMPLETION_RING, &FRAMES);
        setsockopt(raw, libc::XDP_RX_RING, &FRAMES);
        // SAFETY: all-zero is a valid xdp_mmap_offsets.
        let mut off: libc::xdp_mmap_offsets = unsafe { std::mem::zeroed() };
        let mut len = size_of_u32::<libc::xdp_mmap_offsets>();
        // SAFETY: off/len describe a buffer of the right size.
        let rc = unsafe {
            libc::getsockopt(
                raw,
                libc::SOL_XDP,
                libc::XDP_MMAP_OFFSETS,
                (&mut off as *mut libc::xdp_mmap_offsets).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        let fill = Mmap::new(off.fr.desc as usize + FRAMES as usize * 8, raw, libc::XDP_UMEM_PGOFF_FILL_RING as i64);
        let rx = Mmap::new(off.rx.desc as usize + FRAMES as usize * 16, raw, libc::XDP_PGOFF_RX_RING);
        for i in 0..FRAMES {
            // SAFETY: slot i of the fill ring's u64 array, inside the mapping.
            unsafe { *(fill.0.add(off.fr.desc as usize) as *mut u64).add(i as usize) = (i * FRAME_SIZE) as u64 };
        }
        // Release: the kernel reads the addresses only after seeing the producer.
        fill.index(off.fr.producer).store(FRAMES, Ordering::Release);

        let sa = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            sxdp_flags: libc::XDP_COPY,
            sxdp_ifindex: ifindex,
            sxdp_queue_id: queue_id,
            sxdp_shared_umem_fd: 0,
        };
        // SAFETY: sa is a sockaddr_xdp of the given size.
        let rc =
            unsafe { libc::bind(raw, (&sa as *const libc::sockaddr_xdp).cast(), size_of_u32::<libc::sockaddr_xdp>()) };
        assert_eq!(rc, 0, "bind xsk: {}", std::io::Error::last_os_error());
        RawXsk { fd, umem, rx, _fill: fill, off }
    }

    /// Frames received so far (consumed from the RX ring).
    fn take(&self) -> Vec<Vec<u8>> {
        let prod = self.rx.index(self.off.rx.producer).load(Ordering::Acquire);
        let cons_idx = self.rx.index(self.off.rx.consumer);
        let cons = cons_idx.load(Ordering::Relaxed);
        let mut out = Vec::new();
        for i in cons..prod {
            let slot = (i % FRAMES) as usize;
            // SAFETY: slot < FRAMES, within the RX ring mapping; the kernel
            // published it (Acquire on the producer above).
            let d = unsafe { *(self.rx.0.add(self.off.rx.desc as usize) as *const libc::xdp_desc).add(slot) };
            assert!(d.addr as usize + d.len as usize <= self.umem.1);
            // SAFETY: checked to lie inside the UMEM.
            out.push(unsafe { std::slice::from_raw_parts(self.umem.0.add(d.addr as usize), d.len as usize) }.to_vec());
        }
        cons_idx.store(prod, Ordering::Release);
        out
    }
}

const ETHERTYPE: u16 = 0x88b5; // IEEE local experimental

fn frame(n: u8) -> Vec<u8> {
    let mut f = vec![0xff; 6]; // broadcast
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    f.extend_from_slice(&ETHERTYPE.to_be_bytes());
    f.extend_from_slice(b"xsk_rs redirect test ");
    f.push(n);
    f.resize(60, n);
    f
}

fn packet_socket(ifindex: u32, protocol: u16) -> OwnedFd {
    let proto = protocol.to_be();
    // SAFETY: plain socket(2); owned right away.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto as i32) };
    assert!(fd >= 0);
    // SAFETY: a new fd owned here.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = proto;
    sa.sll_ifindex = ifindex as i32;
    // SAFETY: sa is a sockaddr_ll of the given size.
    let rc = unsafe {
        libc::bind(fd.as_raw_fd(), (&sa as *const libc::sockaddr_ll).cast(), size_of_u32::<libc::sockaddr_ll>())
    };
    assert_eq!(rc, 0, "bind packet socket: {}", std::io::Error::last_os_error());
    fd
}

fn send(fd: impl AsFd, frame: &[u8]) {
    // SAFETY: frame is a valid buffer; the socket is bound to its interface.
    let n = unsafe { libc::send(fd.as_fd().as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
    assert_eq!(n, frame.len() as isize, "send: {}", std::io::Error::last_os_error());
}

/// Frames waiting on a packet socket, without blocking.
fn drain(fd: impl AsFd) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        // SAFETY: buf is writable for its length.
        let n = unsafe { libc::recv(fd.as_fd().as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n < 0 {
            return out;
        }
        out.push(buf[..n as usize].to_vec());
    }
}

fn ours(frames: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    frames.into_iter().filter(|f| f.get(12..14) == Some(&ETHERTYPE.to_be_bytes()[..])).collect()
}

/// Sends frames from veth1 to veth0 and checks that the program gives queue 0's
/// frames to the socket in the map, and passes them to the stack once the slot
/// is empty.
fn packets_reach_the_socket(mode: XdpMode) {
    let ns = Netns::new();
    ns.veth("veth0", "veth1", 1);
    ns.run(|| {
        let dev = Netdev::lookup("veth0").unwrap();
        let peer = Netdev::lookup("veth1").unwrap();
        let att = Attachment::acquire(&dev, mode).unwrap();
        assert_eq!(att.mode(), mode);
        let stack = packet_socket(dev.ifindex, ETHERTYPE);
        let tx = packet_socket(peer.ifindex, 0);

        // The map takes a socket before bind, but the kernel then drops the
        // queue's packets instead of passing them.
        // SAFETY: plain socket(2); owned right away.
        let unbound = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        // SAFETY: a new fd owned here.
        let unbound = unsafe { OwnedFd::from_raw_fd(unbound) };
        att.insert(0, unbound.as_raw_fd()).unwrap();
        send(&tx, &frame(0));
        std::thread::sleep(Duration::from_millis(100));
        assert!(ours(drain(&stack)).is_empty(), "{mode} mode: unbound socket in the map drops");

        let xsk = RawXsk::bind(dev.ifindex, 0);
        att.insert(0, xsk.fd.as_raw_fd()).unwrap();
        // The unbound socket leaves as a Socket does on drop; otherwise the
        // slot would go back to it when the bound one is removed below.
        att.remove(0, unbound.as_raw_fd());
        drop(unbound);

        let sent: Vec<Vec<u8>> = (1..=3).map(frame).collect();
        for f in &sent {
            send(&tx, f);
        }
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(2);
        while got.len() < sent.len() && Instant::now() < deadline {
            got.extend(ours(xsk.take()));
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(got, sent, "{mode} mode: the socket gets exactly the frames sent");
        assert!(ours(drain(&stack)).is_empty(), "redirected frames do not reach the stack");

        // A remove naming another fd leaves this socket's slot alone.
        att.remove(0, xsk.fd.as_raw_fd() + 1000);
        let kept = frame(8);
        send(&tx, &kept);
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut still = Vec::new();
        while still.is_empty() && Instant::now() < deadline {
            still = ours(xsk.take());
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(still, vec![kept], "{mode} mode: slot kept after a remove for another fd");

        att.remove(0, xsk.fd.as_raw_fd());
        let last = frame(9);
        send(&tx, &last);
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut passed = Vec::new();
        while passed.is_empty() && Instant::now() < deadline {
            passed = ours(drain(&stack));
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(passed, vec![last], "an empty slot means XDP_PASS");
        assert!(ours(xsk.take()).is_empty());
    });
}

#[test]
fn packets_reach_the_socket_drv() {
    if have_root("packets_reach_the_socket_drv") {
        packets_reach_the_socket(XdpMode::Drv);
    }
}

#[test]
fn packets_reach_the_socket_skb() {
    if have_root("packets_reach_the_socket_skb") {
        packets_reach_the_socket(XdpMode::Skb);
    }
}
