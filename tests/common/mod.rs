//! Shared harness for the integration tests: a veth pair between two network
//! namespaces that the test owns, a way to run code inside either namespace,
//! and an AF_PACKET peer that sends and receives numbered test frames.
//!
//! Every test that moves packets builds its own [`VethPair`]; the names carry
//! the process id and a counter, so tests may run in parallel (and several
//! test binaries at once), and `Drop` removes both namespaces — and with them
//! the veth pair — even when the test panics.
//!
//! Use from a test file with `mod common;`.

#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Local-experimental EtherType (IEEE 802 "Local Experimental Ethertype 1").
/// Test frames carry it so that receivers can ignore everything else.
pub const TEST_ETHERTYPE: u16 = 0x88B5;
/// Destination and source MAC of test frames (locally administered, unicast).
pub const TEST_DST_MAC: [u8; 6] = [0x02, 0x58, 0x53, 0x4b, 0x00, 0x02];
pub const TEST_SRC_MAC: [u8; 6] = [0x02, 0x58, 0x53, 0x4b, 0x00, 0x01];
/// Ethernet header plus the 4-byte sequence number.
pub const TEST_HEADER_LEN: usize = 18;

/// True when tests that need root may run.
///
/// Not root: under `CI=true` that is a failure (CI must run these tests, not
/// skip them), so this panics; elsewhere it prints why and returns false, and
/// the caller returns early.
pub fn require_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    let reason = "needs root (network namespaces, veth, AF_PACKET, XDP)";
    if in_ci() {
        panic!("{reason}, and CI=true: refusing to skip");
    }
    eprintln!("SKIPPED: {reason}; run as root to exercise it");
    false
}

/// A test that cannot run here, for `reason` (e.g. a kernel feature that is
/// missing): under `CI=true` that is a failure, so this panics; elsewhere it
/// prints the reason and returns false, and the caller returns early.
pub fn cannot_run(reason: &str) -> bool {
    if in_ci() {
        panic!("{reason}, and CI=true: refusing to skip");
    }
    eprintln!("SKIPPED: {reason}");
    false
}

/// The running kernel's `(major, minor)`, from `uname -r` (e.g. 6.1.0-50-cloud-amd64).
pub fn kernel_version() -> (u32, u32) {
    // SAFETY: utsname is plain bytes; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is a valid utsname.
    assert_eq!(unsafe { libc::uname(&mut u) }, 0, "uname: {}", io::Error::last_os_error());
    // SAFETY: the kernel NUL-terminates the release string.
    let release = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }.to_string_lossy().into_owned();
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).map(|p| p.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => panic!("cannot read a kernel version from uname release {release:?}"),
    }
}

/// True when the running kernel is at least `major.minor`.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    kernel_version() >= (major, minor)
}

/// Whether the kernel hands an invalid TX descriptor back on the completion
/// ring, and rejects a zero-length one. Measured in the kernel matrix: 6.1
/// does neither (it skips an invalid descriptor without a completion, and
/// takes a zero-length one as valid); 6.12 and 6.18 do both. Kernels between
/// were not measured.
pub fn invalid_tx_completes() -> bool {
    kernel_at_least(6, 12)
}

fn in_ci() -> bool {
    matches!(std::env::var("CI"), Ok(v) if !v.is_empty() && v != "false" && v != "0")
}

/// Runs `ip ARGS`, panicking with ip's stderr when it fails.
fn ip(args: &[&str]) -> String {
    let out =
        Command::new("ip").args(args).output().unwrap_or_else(|e| panic!("cannot run `ip {}`: {e}", args.join(" ")));
    if !out.status.success() {
        panic!("`ip {}` failed ({}): {}", args.join(" "), out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `ip -n NS ARGS` (e.g. to add a macvlan or set an MTU in a test's
/// namespace), panicking with ip's stderr when it fails.
pub fn ip_in(ns: &str, args: &[&str]) -> String {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    ip(&all)
}

/// `ip netns add` mounts /run/netns on first use; two processes (or threads)
/// doing that first mount at once can stack two mounts. Serialising the adds
/// within this process avoids that for parallel tests in one binary.
static NETNS_ADD: Mutex<()> = Mutex::new(());
static PAIR_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Two fresh network namespaces joined by a veth pair:
/// `if_a` (`veth0`) lives in `ns_a`, `if_b` (`veth1`) in `ns_b`, both up,
/// IPv6 disabled in both so neighbour discovery does not put frames on the wire.
#[derive(Debug)]
pub struct VethPair {
    pub ns_a: String,
    pub ns_b: String,
    pub if_a: String,
    pub if_b: String,
    pub queues: u32,
    /// Namespaces actually created so far; `Drop` removes exactly these.
    created: Vec<String>,
}

impl VethPair {
    /// A pair with one RX and one TX queue on each end.
    pub fn new() -> VethPair {
        VethPair::with_queues(1)
    }

    /// A pair whose ends each have `queues` RX and TX queues.
    pub fn with_queues(queues: u32) -> VethPair {
        VethPair::with_rx_tx(queues, queues)
    }

    /// A pair whose ends each have `rx` RX and `tx` TX queues, for devices
    /// whose queue counts differ (e.g. 1 RX and 2 TX: queue 1 can send but
    /// never receive).
    pub fn with_rx_tx(rx: u32, tx: u32) -> VethPair {
        assert!(rx >= 1 && tx >= 1, "a veth needs at least one queue each way");
        let n = PAIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = format!("xskrs-{}-{n}", std::process::id());
        let mut pair = VethPair {
            ns_a: format!("{base}-a"),
            ns_b: format!("{base}-b"),
            if_a: "veth0".to_string(),
            if_b: "veth1".to_string(),
            queues: rx.max(tx),
            created: Vec::new(),
        };
        // From here on a panic drops `pair`, which deletes what was created.
        for ns in [pair.ns_a.clone(), pair.ns_b.clone()] {
            add_netns(&ns);
            pair.created.push(ns.clone());
            disable_ipv6(&ns);
        }
        let (rx, tx) = (rx.to_string(), tx.to_string());
        let queues = ["numrxqueues", rx.as_str(), "numtxqueues", tx.as_str()];
        let (a, b) = (&pair.ns_a, &pair.ns_b);
        let mut args = vec!["-n", a, "link", "add", &pair.if_a];
        args.extend(queues);
        args.extend(["type", "veth", "peer", "name", &pair.if_b, "netns", b]);
        args.extend(queues);
        ip(&args);
        ip(&["-n", a, "link", "set", "dev", &pair.if_a, "up"]);
        ip(&["-n", b, "link", "set", "dev", &pair.if_b, "up"]);
        pair
    }

    /// Adds another veth pair between the same namespaces: `if_a` in `ns_a`,
    /// `if_b` in `ns_b`, both up, one queue each way. It goes with the
    /// namespaces.
    pub fn add_link(&self, if_a: &str, if_b: &str) {
        ip(&["-n", &self.ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", &self.ns_b]);
        ip(&["-n", &self.ns_a, "link", "set", "dev", if_a, "up"]);
        ip(&["-n", &self.ns_b, "link", "set", "dev", if_b, "up"]);
    }

    /// Runs `f` on a new thread inside `ns_a` and returns its result.
    pub fn run_in_a<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        in_ns(&self.ns_a, f)
    }

    /// Runs `f` on a new thread inside `ns_b` and returns its result.
    pub fn run_in_b<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        in_ns(&self.ns_b, f)
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        // Deleting a namespace destroys the veth end inside it, and with it the
        // peer. Errors are reported, not raised: this may run during a panic.
        for ns in self.created.drain(..).rev() {
            match Command::new("ip").args(["netns", "del", &ns]).output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => eprintln!("warning: ip netns del {ns}: {}", String::from_utf8_lossy(&o.stderr).trim()),
                Err(e) => eprintln!("warning: cannot run ip netns del {ns}: {e}"),
            }
        }
    }
}

fn add_netns(ns: &str) {
    let _guard = NETNS_ADD.lock().unwrap_or_else(|p| p.into_inner());
    let out = Command::new("ip").args(["netns", "add", ns]).output().expect("cannot run ip");
    if out.status.success() {
        return;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("File exists") {
        // Left behind by an earlier, killed process that had our pid: the name
        // is ours by construction, so take it over.
        let _ = Command::new("ip").args(["netns", "del", ns]).output();
        ip(&["netns", "add", ns]);
        return;
    }
    panic!("ip netns add {ns} failed: {}", err.trim());
}

fn disable_ipv6(ns: &str) {
    // Some kernels are built without IPv6; then there is nothing to silence.
    if !std::path::Path::new("/proc/sys/net/ipv6").exists() {
        return;
    }
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sysctl", "-qw"])
        .args(["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
        .output()
        .expect("cannot run ip netns exec sysctl");
    assert!(out.status.success(), "disabling IPv6 in {ns} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
}

/// Runs `f` on a fresh thread that first joined the network namespace `ns`
/// (`/run/netns/<ns>`); only that thread moves. Returns `f`'s result and
/// re-raises its panic in the caller.
///
/// Sockets, and the interfaces they are bound to, belong to the namespace of the
/// thread that created them, so what `f` returns (an fd, a socket object) keeps
/// working from any thread afterwards.
pub fn in_ns<R: Send>(ns: &str, f: impl FnOnce() -> R + Send) -> R {
    let path = format!("/run/netns/{ns}");
    std::thread::scope(|s| {
        let handle = s.spawn(move || {
            enter_netns(&path);
            f()
        });
        match handle.join() {
            Ok(r) => r,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

fn enter_netns(path: &str) {
    let cpath = CString::new(path).expect("netns path has no NUL");
    // SAFETY: cpath is NUL-terminated; the fd is owned right away.
    let fd = unsafe { libc::open(cpath.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        panic!("open {path}: {}", io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: setns on our own fd; CLONE_NEWNET moves only the calling thread.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        panic!("setns {path}: {}", io::Error::last_os_error());
    }
}

/// `(st_dev, st_ino)` of the calling thread's network namespace.
pub fn current_netns() -> (u64, u64) {
    let meta = std::fs::metadata("/proc/thread-self/ns/net").expect("stat own netns");
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// True when namespace `ns` still exists under /run/netns.
pub fn netns_exists(ns: &str) -> bool {
    std::path::Path::new(&format!("/run/netns/{ns}")).exists()
}

/// True when an XDP program (any mode) is attached to `ifname` in namespace `ns`,
/// as `ip -d link show` reports it.
pub fn xdp_attached(ns: &str, ifname: &str) -> bool {
    ip_link_shows_xdp(&ip(&["-n", ns, "-d", "link", "show", "dev", ifname]))
}

/// Asserts that no XDP program is attached to `ifname`, allowing the kernel
/// up to two seconds to detach one. Closing the last link fd detaches at once,
/// except when it was not the last: a child that another test thread is
/// spawning (every `ip` command of the harness) holds a copy of every fd of the
/// process until its exec closes them, and the link, with its program, goes
/// only then. A program that really stays is still caught.
pub fn assert_detached(ns: &str, ifname: &str, what: impl std::fmt::Display) {
    let t = Instant::now();
    if !xdp_attached(ns, ifname) {
        return;
    }
    while xdp_attached(ns, ifname) {
        assert!(t.elapsed() < Duration::from_secs(2), "{what}: an XDP program is still attached to {ifname}");
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("{what}: the program on {ifname} lingered, gone {:?} after the first look", t.elapsed());
}

/// Parses `ip -d link show` output. iproute2 names the mode on the first line
/// (`xdp`, `xdpgeneric`, `xdpdrv`, `xdpoffload`, `xdpmulti`) and, with `-d`,
/// adds a `prog/xdp…` line per attached program.
pub fn ip_link_shows_xdp(output: &str) -> bool {
    output
        .split_whitespace()
        .any(|t| matches!(t, "xdp" | "xdpgeneric" | "xdpdrv" | "xdpoffload" | "xdpmulti") || t.starts_with("prog/xdp"))
}

/// A test frame: a unicast Ethernet header with [`TEST_ETHERTYPE`],
/// a big-endian sequence number, then a payload that depends on `seq` so that a
/// frame delivered under the wrong number, or with a stale tail, is detected.
pub fn test_frame(seq: u32, len: usize) -> Vec<u8> {
    assert!(len >= TEST_HEADER_LEN, "a test frame needs at least {TEST_HEADER_LEN} bytes");
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&TEST_DST_MAC);
    f.extend_from_slice(&TEST_SRC_MAC);
    f.extend_from_slice(&TEST_ETHERTYPE.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend((0..len - TEST_HEADER_LEN).map(|i| test_payload_byte(seq, i)));
    f
}

/// Byte `i` of the payload of frame `seq` (the same rule as tests/c/abi_test.c).
pub fn test_payload_byte(seq: u32, i: usize) -> u8 {
    (seq.wrapping_mul(131).wrapping_add(i as u32 * 7).wrapping_add(1)) as u8
}

/// True for frames carrying [`TEST_ETHERTYPE`].
pub fn is_test_frame(frame: &[u8]) -> bool {
    frame.len() >= TEST_HEADER_LEN && frame[12..14] == TEST_ETHERTYPE.to_be_bytes()
}

/// The sequence number of a test frame, or None for any other frame.
pub fn frame_seq(frame: &[u8]) -> Option<u32> {
    is_test_frame(frame).then(|| u32::from_be_bytes(frame[14..18].try_into().unwrap()))
}

/// A raw AF_PACKET socket bound to one interface: the peer that the AF_XDP
/// socket under test talks to. It lives in the network namespace of the thread
/// that opened it.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    pub ifindex: u32,
}

impl PacketSocket {
    /// Opens a socket on `ifname` in the calling thread's network namespace.
    pub fn open(ifname: &str) -> io::Result<PacketSocket> {
        let cname = CString::new(ifname).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: cname is NUL-terminated.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            return Err(io::Error::last_os_error());
        }
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto as i32) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Room for a burst of full-size frames: the tests send before they read.
        let rcvbuf: libc::c_int = 4 << 20;
        // SAFETY: setsockopt reads an int we own. SO_RCVBUFFORCE needs
        // CAP_NET_ADMIN; without it the default buffer is still enough for
        // small bursts, so a failure is not an error.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                &rcvbuf as *const _ as *const libc::c_void,
                std::mem::size_of_val(&rcvbuf) as libc::socklen_t,
            );
        }
        // SAFETY: sockaddr_ll is plain data; bind reads it for its stated size.
        let rc = unsafe {
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = ifindex as i32;
            libc::bind(
                fd.as_raw_fd(),
                &sll as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd, ifindex })
    }

    /// Sends one complete Ethernet frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: send reads `frame` for its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != frame.len() {
            return Err(io::Error::other(format!("short send: {n} of {} bytes", frame.len())));
        }
        Ok(())
    }

    /// The next incoming test frame (EtherType 0x88B5) within `timeout`.
    pub fn recv_test_frame(&self, timeout: Duration) -> Option<Vec<u8>> {
        self.recv_matching(timeout, is_test_frame)
    }

    /// The next incoming frame for which `filter` holds, within `timeout`.
    /// Frames this socket (or anything else on the host) sent out of the
    /// interface are skipped: an ETH_P_ALL socket sees outgoing frames too.
    pub fn recv_matching(&self, timeout: Duration, filter: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one pollfd that we own.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                panic!("poll on AF_PACKET socket: {e}");
            }
            if rc == 0 {
                return None;
            }
            // SAFETY: recvfrom writes at most buf.len() bytes and a sockaddr_ll
            // of at most `alen` bytes into storage we own.
            let (n, sll) = unsafe {
                let mut sll: libc::sockaddr_ll = std::mem::zeroed();
                let mut alen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                let n = libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    &mut sll as *mut _ as *mut libc::sockaddr,
                    &mut alen,
                );
                (n, sll)
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) {
                    continue;
                }
                panic!("recvfrom on AF_PACKET socket: {e}");
            }
            let frame = &buf[..n as usize];
            if sll.sll_pkttype == libc::PACKET_OUTGOING || !filter(frame) {
                if Instant::now() >= deadline {
                    return None;
                }
                continue;
            }
            return Some(frame.to_vec());
        }
    }

    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

/// Frames, frame size and ring depth of the long-running traffic tests
/// (tests/crash.rs, tests/soak.rs).
pub const TRAFFIC_FRAMES: u32 = 4096;
pub const TRAFFIC_FRAME_SIZE: u32 = 2048;
pub const TRAFFIC_RING: u32 = 2048;

/// Receives up to `want` test frames on `sock` within `timeout` (other
/// frames are dropped), handing each frame back to the fill ring.
pub fn recv_test_frames(
    umem: &mut xsk_rs::umem::Umem,
    sock: &mut xsk_rs::socket::Socket,
    want: usize,
    timeout: Duration,
) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut descs = [xsk_rs::ring::Desc::default(); 32];
    while got.len() < want && Instant::now() < deadline {
        let n = sock.rx().unwrap().take(&mut descs) as usize;
        if n == 0 {
            sock.poll(libc::POLLIN, 20).unwrap();
            continue;
        }
        for d in &descs[..n] {
            // SAFETY: the frame came off the RX ring, so it is ours until lent again.
            let bytes = unsafe { umem.frame(d.addr, d.len as usize) }.expect("rx desc inside the umem");
            if is_test_frame(bytes) {
                got.push(bytes.to_vec());
            }
            let start = umem.frame_start(d.addr);
            assert_eq!(umem.fill().put(&[start]), 1);
        }
    }
    got
}

/// UMEM and socket configs with the traffic tests' geometry: every ring
/// [`TRAFFIC_RING`] deep, RX and TX, the built-in program in `mode`.
pub fn traffic_configs(mode: xsk_rs::xdp::XdpMode) -> (xsk_rs::umem::UmemConfig, xsk_rs::socket::SocketConfig) {
    let umem = xsk_rs::umem::UmemConfig {
        frame_count: TRAFFIC_FRAMES,
        frame_size: TRAFFIC_FRAME_SIZE,
        fill_size: TRAFFIC_RING,
        comp_size: TRAFFIC_RING,
        ..Default::default()
    };
    let sock = xsk_rs::socket::SocketConfig {
        rx_size: TRAFFIC_RING,
        tx_size: TRAFFIC_RING,
        xdp_mode: mode,
        ..Default::default()
    };
    (umem, sock)
}

/// A UMEM of `frames` frames of 4096 bytes, rings of 64, for tests that
/// bind sockets without moving many packets.
pub fn umem_4k(frames: u32) -> xsk_rs::umem::Umem {
    xsk_rs::umem::Umem::new(&xsk_rs::umem::UmemConfig {
        frame_count: frames,
        frame_size: 4096,
        frame_headroom: 0,
        fill_size: 64,
        comp_size: 64,
        flags: 0,
        tx_metadata_len: 0,
    })
    .expect("umem")
}

/// Lends the first half of `umem`'s frames to the kernel, sends `sent` from an
/// AF_PACKET peer on `veth1` in the pair's namespace B, and checks that `sock`
/// (on `veth0`, queue 0) receives them all, byte-exact and in order, with no
/// `rx_dropped` or `rx_ring_full`.
pub fn peer_frames_arrive_exact(
    pair: &VethPair,
    umem: &mut xsk_rs::umem::Umem,
    sock: &mut xsk_rs::socket::Socket,
    sent: &[Vec<u8>],
) {
    let lend: Vec<u64> = (0..umem.frame_count() / 2).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(umem.fill().put(&lend) as usize, lend.len());
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    for f in sent {
        peer.send(f).unwrap();
    }
    let got = recv_test_frames(umem, sock, sent.len(), Duration::from_secs(5));
    assert_eq!(got.len(), sent.len(), "received {} of {}", got.len(), sent.len());
    assert_eq!(got, sent, "bytes and order");
    let st = sock.stats().unwrap();
    assert_eq!((st.rx_dropped, st.rx_ring_full), (0, 0), "{st:?}");
}
