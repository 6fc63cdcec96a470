//! Tests against the running kernel. Each root test builds its own network
//! namespace with veth pairs and works from a thread that has entered it, so
//! tests run in parallel and never touch the host's interfaces.

use super::insn::*;
use super::*;
use crate::netdev::Netdev;
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

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
    assert_eq!(
        (info.map_type, info.key_size, info.value_size, info.max_entries),
        (sys::BPF_MAP_TYPE_XSKMAP, 4, 4, 4)
    );
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
        assert_eq!((ns.xdp_prog("veth0"), ns.xdp_prog("veth1")), (None, None));
    });
}
