//! Who holds a queue: the AF_XDP sockets bound to it, asked of the kernel
//! through sock_diag (`NETLINK_SOCK_DIAG`, `xdp_diag`, Linux 5.1), and the
//! processes that have those sockets open, found through `/proc/*/fd`.
//!
//! Kernels built without `CONFIG_XDP_SOCKETS_DIAG` answer the dump with
//! `ENOENT`; then the candidates are the other processes that have AF_XDP
//! sockets of this network namespace open (each socket fd borrowed for a
//! moment with `pidfd_getfd`, Linux 5.6, to read its family and namespace),
//! and the message says "one of" when there are several.
//!
//! Used only to explain an `EBUSY` bind: everything here is best effort, and
//! `None` means "cannot be told" (no `/proc`, no right to look into other
//! processes, or the holder lives in a PID namespace this process cannot
//! see into).

use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NETLINK_SOCK_DIAG: libc::c_int = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `xdp_diag_req.xdiag_show`: ask for `XDP_DIAG_INFO` (ifindex, queue).
const XDP_SHOW_INFO: u32 = 1;
const XDP_DIAG_INFO: u16 = 1;
/// `struct xdp_diag_msg`: family, type, pad, inode, cookie.
const XDP_DIAG_MSG_LEN: usize = 16;
/// At most this many processes are named.
const MAX_NAMED: usize = 4;

/// `nlmsghdr` and `struct xdp_diag_req`.
#[repr(C)]
struct Request {
    nlmsg_len: u32,
    nlmsg_type: u16,
    nlmsg_flags: u16,
    nlmsg_seq: u32,
    nlmsg_pid: u32,
    sdiag_family: u8,
    sdiag_protocol: u8,
    pad: u16,
    xdiag_ino: u32,
    xdiag_show: u32,
    xdiag_cookie: [u32; 2],
}

/// The processes holding AF_XDP sockets bound to queue `queue` of
/// interface `ifindex` in the calling thread's network namespace, as
/// "pid 123 (comm)" joined with ", "; `None` when none can be named.
pub(crate) fn queue_holders(ifindex: u32, queue: u32) -> Option<String> {
    let Some(inodes) = bound_sockets(ifindex, queue) else {
        // No xdp_diag: the other processes with AF_XDP sockets here are
        // the candidates, and one of them holds the queue.
        let pids = processes_with_xdp_sockets()?;
        // Inferred, not read: the message says so.
        return match pids.len() {
            0 => None,
            1 => {
                Some(format!("{}, the only other process with AF_XDP sockets in this network namespace", named(&pids)))
            }
            _ => Some(format!(
                "one of {} (the other processes with AF_XDP sockets in this network namespace)",
                named(&pids)
            )),
        };
    };
    let pids = processes_with(&inodes);
    (!pids.is_empty()).then(|| named(&pids))
}

/// "pid 1 (init), pid 2 (kthreadd)", the first few.
fn named(pids: &BTreeSet<u32>) -> String {
    let mut named: Vec<String> = pids
        .iter()
        .take(MAX_NAMED)
        .map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("pid {pid} ({})", comm.trim_end())
        })
        .collect();
    if pids.len() > MAX_NAMED {
        named.push(format!("{} more", pids.len() - MAX_NAMED));
    }
    named.join(", ")
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Inodes of the AF_XDP sockets of this namespace bound to `(ifindex, queue)`.
fn bound_sockets(ifindex: u32, queue: u32) -> Option<BTreeSet<u32>> {
    // SAFETY: plain socket(2); the fd is owned right away.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, NETLINK_SOCK_DIAG) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let req = Request {
        nlmsg_len: std::mem::size_of::<Request>() as u32,
        nlmsg_type: SOCK_DIAG_BY_FAMILY,
        nlmsg_flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
        nlmsg_seq: 1,
        nlmsg_pid: 0,
        sdiag_family: libc::AF_XDP as u8,
        sdiag_protocol: 0,
        pad: 0,
        xdiag_ino: 0,
        xdiag_show: XDP_SHOW_INFO,
        xdiag_cookie: [0; 2],
    };
    // SAFETY: send reads `req` for its size.
    let sent = unsafe {
        libc::send(fd.as_raw_fd(), &req as *const Request as *const libc::c_void, std::mem::size_of::<Request>(), 0)
    };
    if sent < 0 {
        return None;
    }
    let mut found = BTreeSet::new();
    let mut buf = vec![0u8; 32 << 10];
    loop {
        // SAFETY: recv writes at most buf.len() bytes into buf.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            if crate::error::errno() == libc::EINTR {
                continue;
            }
            return None;
        }
        match parse(&buf[..n as usize], ifindex, queue, &mut found) {
            Parsed::More => {}
            Parsed::Done => return Some(found),
            Parsed::Failed => return None,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Parsed {
    More,
    Done,
    Failed,
}

/// One datagram of the dump: adds the inodes of matching sockets to `found`.
fn parse(mut b: &[u8], ifindex: u32, queue: u32, found: &mut BTreeSet<u32>) -> Parsed {
    while b.len() >= 16 {
        let (Some(len), Some(kind)) = (u32_at(b, 0), u16_at(b, 4)) else { return Parsed::Failed };
        let len = len as usize;
        if len < 16 || len > b.len() {
            return Parsed::Failed;
        }
        let msg = &b[16..len];
        match kind as libc::c_int {
            libc::NLMSG_DONE => return Parsed::Done,
            // A kernel without xdp_diag answers ENOENT.
            libc::NLMSG_ERROR => return Parsed::Failed,
            _ if kind == SOCK_DIAG_BY_FAMILY && msg.len() >= XDP_DIAG_MSG_LEN => {
                let ino = u32_at(msg, 4).unwrap_or(0);
                let mut at = XDP_DIAG_MSG_LEN;
                while at + 4 <= msg.len() {
                    let alen = u16_at(msg, at).unwrap_or(0) as usize;
                    let atype = u16_at(msg, at + 2).unwrap_or(0) & 0x3fff;
                    if alen < 4 || at + alen > msg.len() {
                        return Parsed::Failed;
                    }
                    if atype == XDP_DIAG_INFO
                        && u32_at(msg, at + 4) == Some(ifindex)
                        && u32_at(msg, at + 8) == Some(queue)
                        && alen >= 12
                    {
                        found.insert(ino);
                    }
                    at += (alen + 3) & !3;
                }
            }
            _ => {}
        }
        b = &b[((len + 3) & !3).min(b.len())..];
    }
    Parsed::More
}

/// The socket inodes each process has open, from `/proc/*/fd`.
fn socket_fds() -> Vec<(u32, Vec<(u32, u32)>)> {
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else { return out };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else { continue };
        let socks: Vec<(u32, u32)> = fds
            .flatten()
            .filter_map(|fd| {
                let num = fd.file_name().to_str()?.parse::<u32>().ok()?;
                let target = std::fs::read_link(fd.path()).ok()?;
                let ino = target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse::<u32>().ok()?;
                Some((num, ino))
            })
            .collect();
        if !socks.is_empty() {
            out.push((pid, socks));
        }
    }
    out
}

/// The pids of processes with a fd open on any socket in `inodes`.
fn processes_with(inodes: &BTreeSet<u32>) -> BTreeSet<u32> {
    socket_fds()
        .into_iter()
        .filter(|(_, socks)| socks.iter().any(|(_, ino)| inodes.contains(ino)))
        .map(|(p, _)| p)
        .collect()
}

/// The other processes with an AF_XDP socket of the calling thread's
/// namespace open: each socket fd of a process with a thread in this
/// namespace is borrowed with `pidfd_getfd` (Linux 5.6; needs the right to
/// ptrace the process) to read its family and namespace. Processes entirely
/// elsewhere are not looked into (one whose threads all left the namespace
/// after binding is then not named). `None` when nothing could be read.
fn processes_with_xdp_sockets() -> Option<BTreeSet<u32>> {
    let here = crate::netdev::current_netns().ok()?;
    let me = std::process::id();
    let mut pids = BTreeSet::new();
    let mut any_read = false;
    for (pid, socks) in socket_fds() {
        if pid == me || !has_thread_in(pid, here) {
            continue;
        }
        // SAFETY: pidfd_open takes a pid and flags, and returns a new fd.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if pidfd < 0 {
            continue;
        }
        // SAFETY: a fresh fd that nothing else owns.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
        for (num, _) in socks {
            // SAFETY: pidfd_getfd returns a new fd (O_CLOEXEC) or -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), num as libc::c_int, 0) };
            if fd < 0 {
                continue;
            }
            any_read = true;
            // SAFETY: a fresh fd that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            let mut domain: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: getsockopt writes one int into `domain`.
            let rc = unsafe {
                libc::getsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_DOMAIN,
                    (&mut domain as *mut libc::c_int).cast(),
                    &mut len,
                )
            };
            if rc == 0 && domain == libc::AF_XDP && crate::netdev::socket_netns(fd.as_raw_fd()).ok() == Some(here) {
                pids.insert(pid);
                break;
            }
        }
    }
    any_read.then_some(pids)
}

/// Whether a thread of process `pid` is in network namespace `ns`.
fn has_thread_in(pid: u32, ns: crate::netdev::NetnsId) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.flatten().any(|t| {
        let path = t.path().join("ns/net");
        std::fs::metadata(path).is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino()) == ns
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag_msg(ino: u32, info: Option<(u32, u32)>) -> Vec<u8> {
        let mut m = vec![0u8; 16];
        m[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend_from_slice(&[libc::AF_XDP as u8, libc::SOCK_RAW as u8, 0, 0]);
        m.extend_from_slice(&ino.to_ne_bytes());
        m.extend_from_slice(&[0; 8]);
        if let Some((ifindex, queue)) = info {
            m.extend_from_slice(&12u16.to_ne_bytes());
            m.extend_from_slice(&XDP_DIAG_INFO.to_ne_bytes());
            m.extend_from_slice(&ifindex.to_ne_bytes());
            m.extend_from_slice(&queue.to_ne_bytes());
        }
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn parse_keeps_the_sockets_on_the_queue() {
        let mut found = BTreeSet::new();
        let dgram =
            [diag_msg(7, Some((3, 1))), diag_msg(8, Some((3, 0))), diag_msg(9, None), diag_msg(10, Some((4, 1)))]
                .concat();
        assert_eq!(parse(&dgram, 3, 1, &mut found), Parsed::More);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), [7]);
        let mut done = vec![0u8; 20];
        done[..4].copy_from_slice(&20u32.to_ne_bytes());
        done[4..6].copy_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
        assert_eq!(parse(&done, 3, 1, &mut BTreeSet::new()), Parsed::Done);
        assert_eq!(parse(&[0xff; 20], 3, 1, &mut BTreeSet::new()), Parsed::Failed);
    }

    /// A socket of this process bound to a queue is found by the dump and
    /// named with this process's pid. In a namespace of its own, where
    /// nobody else binds `lo`.
    #[test]
    fn names_this_process_for_its_own_socket() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        std::thread::spawn(own_socket_named).join().unwrap();
    }

    fn own_socket_named() {
        // SAFETY: moves only this thread into a new network namespace.
        assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0, "{}", std::io::Error::last_os_error());
        let lo = crate::netdev::Netdev::lookup("lo").unwrap();
        let umem = crate::umem::Umem::new(&crate::umem::UmemConfig { frame_count: 64, ..Default::default() }).unwrap();
        let cfg = crate::socket::SocketConfig {
            rx_size: 64,
            tx_size: 64,
            xdp_mode: crate::xdp::XdpMode::None,
            // lo's MTU is 65536: nothing is received here, so short frames do.
            bind_flags: crate::socket::BIND_SHORT_FRAMES | crate::socket::BIND_NEED_WAKEUP,
            ..Default::default()
        };
        let _sock = crate::socket::Socket::new("lo", 0, &umem, &cfg).unwrap();
        let me = format!("pid {} (", std::process::id());
        match bound_sockets(lo.ifindex, 0) {
            Some(inodes) => {
                assert_eq!(inodes.len(), 1, "{inodes:?}");
                let who = queue_holders(lo.ifindex, 0).expect("the bound socket is named");
                assert!(who.starts_with(&me), "{who}");
                assert_eq!(bound_sockets(lo.ifindex, 1), Some(BTreeSet::new()));
            }
            // No xdp_diag: the candidates are other processes, never this one.
            None => assert!(!processes_with_xdp_sockets().unwrap_or_default().contains(&std::process::id())),
        }
    }
}
