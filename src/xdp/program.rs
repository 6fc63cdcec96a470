//! Loading XDP programs, and the built-in one that steers each RX queue to its
//! AF_XDP socket.

use super::insn::{self, R1, R2, R3};
use super::{bpf_fd, obj_info, obj_name, XskMap};
use crate::error::{Error, Result};
use crate::sys::{self, bpf_insn};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// License the kernel records for loaded programs. `bpf_redirect_map` is not
/// GPL-only, but a GPL-compatible string keeps every helper available to users'
/// own programs loaded through the same call.
const LICENSE: &std::ffi::CStr = c"Dual MIT/GPL";

/// Size of the verifier log buffer used when a load fails. When the log
/// overflows, kernels since 6.4 keep its end, which is where the reason is;
/// older ones keep its beginning and fail with ENOSPC.
const LOG_SIZE: usize = 64 * 1024;

/// At most this much of the verifier log goes into an error message.
const LOG_TAIL_LINES: usize = 40;

/// A loaded XDP program. Dropping it closes the fd; a link that uses the program
/// keeps its own reference, so the program stays attached until the link goes.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    /// Loaded with `BPF_F_XDP_HAS_FRAGS`.
    frags: bool,
}

impl Program {
    /// Name of the built-in redirect program (`bpftool prog`, `ip -d link`).
    pub const REDIRECT_NAME: &'static str = "xsk_rs_redirect";

    /// Loads `insns` as an XDP program named `name` (at most 15 characters from
    /// `[A-Za-z0-9_.]`, as the kernel requires).
    ///
    /// If the kernel refuses the program, it is loaded once more with the verifier
    /// log switched on, and the end of that log is put into the error.
    pub fn load(insns: &[bpf_insn], name: &str) -> Result<Program> {
        Program::load_with_flags(insns, name, 0)
    }

    /// [`Program::load`] with `prog_flags` (`BPF_F_XDP_HAS_FRAGS`, ...).
    pub fn load_with_flags(insns: &[bpf_insn], name: &str, prog_flags: u32) -> Result<Program> {
        let prog_name = obj_name(name)?;
        if insns.is_empty() {
            return Err(Error::invalid(format!("load XDP program {name:?}: no instructions")));
        }
        let insn_cnt = u32::try_from(insns.len())
            .map_err(|_| Error::invalid(format!("load XDP program {name:?}: {} instructions", insns.len())))?;
        let mut attr = sys::bpf_attr_prog_load {
            prog_type: sys::BPF_PROG_TYPE_XDP,
            insn_cnt,
            insns: insns.as_ptr() as u64,
            license: LICENSE.as_ptr() as u64,
            prog_name,
            // Only programs loaded for BPF_XDP may be attached through an XDP link.
            expected_attach_type: sys::BPF_XDP,
            prog_flags,
            ..Default::default()
        };
        // SAFETY: attr is the PROG_LOAD layout; `insns` and LICENSE outlive the call
        // and no log buffer is given.
        let errno = match unsafe { bpf_fd(sys::BPF_PROG_LOAD, &mut attr) } {
            Ok(fd) => return Ok(Program { fd, frags: prog_flags & sys::BPF_F_XDP_HAS_FRAGS != 0 }),
            Err(errno) => errno,
        };

        // The first attempt runs without a log, as verification is slower with one.
        let mut log = vec![0u8; LOG_SIZE];
        attr.log_level = 1;
        attr.log_size = LOG_SIZE as u32;
        attr.log_buf = log.as_mut_ptr() as u64;
        // SAFETY: as above; the kernel writes at most `log_size` bytes into `log`,
        // which outlives the call.
        match unsafe { bpf_fd(sys::BPF_PROG_LOAD, &mut attr) } {
            // Whatever failed the first time (e.g. memory pressure) is gone.
            Ok(fd) => Ok(Program { fd, frags: prog_flags & sys::BPF_F_XDP_HAS_FRAGS != 0 }),
            // Report the first errno: the second may be ENOSPC from a full log.
            Err(_) => {
                let context = match log_tail(&log) {
                    Some(tail) => format!(
                        "load XDP program {name:?} ({} instructions), verifier log:\n{tail}\n\
                         (end of verifier log)",
                        insns.len()
                    ),
                    None => format!("load XDP program {name:?} ({} instructions)", insns.len()),
                };
                Err(Error::from_errno(context, errno))
            }
        }
    }

    /// Loads the built-in program that redirects each packet to the socket of
    /// its RX queue in `map` (see [`redirect_insns`]), with
    /// `BPF_F_XDP_HAS_FRAGS` on kernels that have multi-buffer AF_XDP (Linux
    /// 6.6): then it runs on fragmented packets, which a multi-buffer socket
    /// receives as chains, and it attaches in drv mode on an interface whose
    /// MTU is larger than a page (veth refuses a program without frags there
    /// with `ERANGE`).
    ///
    /// Measured on 6.18 (tests/multibuffer.rs `frags_program_effects`), a
    /// socket without multi-buffer sees no difference: in copy mode the
    /// kernel copies a fragmented packet that fits into one frame as before
    /// (a short fragmented skb, a 3700-byte packet into a 4 KiB frame), and
    /// drops one that does not fit, as it drops a long linear one. Before 6.6
    /// the socket's receive path reads only a packet's first fragment, so
    /// there the program is loaded without frags and the kernel linearises
    /// (skb mode) or refuses the attach (drv mode, large MTU) instead.
    pub fn redirect(map: &XskMap) -> Result<Program> {
        let frags =
            crate::features::Feature::MultiBuffer.available()? && crate::features::Feature::XdpFrags.available()?;
        Program::redirect_with(map, frags)
    }

    /// The built-in program for an attach in `mode`: [`Program::redirect`]
    /// for native XDP (frags are what let veth at a large MTU take it), and
    /// without frags for generic XDP. There a frags program makes the kernel
    /// copy every non-linear skb, or one with less than 256 bytes of
    /// headroom, into page-pool pages (measured on veth, 6.18: 0.88 times
    /// the packet rate of a program without frags, 64-byte packets), while
    /// without frags it linearises, and a multi-buffer socket still gets a
    /// long packet split over its frames. `Auto` loads it with frags, for
    /// native XDP first.
    pub fn redirect_for(map: &XskMap, mode: super::XdpMode) -> Result<Program> {
        if mode == super::XdpMode::Skb {
            return Program::redirect_with(map, false);
        }
        Program::redirect(map)
    }

    /// Whether it was loaded with `BPF_F_XDP_HAS_FRAGS`.
    pub fn has_frags(&self) -> bool {
        self.frags
    }

    /// [`Program::redirect`], with `BPF_F_XDP_HAS_FRAGS` when `frags` (refused
    /// with `EOPNOTSUPP` on kernels before 5.18) and without it otherwise.
    pub fn redirect_with(map: &XskMap, frags: bool) -> Result<Program> {
        let flags = if frags {
            crate::features::Feature::XdpFrags.require("load the built-in XDP program with frags")?;
            sys::BPF_F_XDP_HAS_FRAGS
        } else {
            0
        };
        Program::load_with_flags(&redirect_insns(map.fd().as_raw_fd()), Self::REDIRECT_NAME, flags)
    }

    /// The program's fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The kernel's id for the program, as `bpftool prog` and `ip link` show it.
    pub fn id(&self) -> Result<u32> {
        let mut info = sys::bpf_prog_info::default();
        // SAFETY: a zeroed plain-data prefix of bpf_prog_info.
        unsafe { obj_info(self.fd.as_raw_fd(), &mut info) }
            .map_err(|errno| Error::from_errno("query XDP program info", errno))?;
        Ok(info.id)
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The built-in program, in C:
///
/// ```c
/// return bpf_redirect_map(&xskmap, ctx->rx_queue_index, XDP_PASS);
/// ```
///
/// Since Linux 5.3 the low two bits of the flags argument are the verdict when
/// the queue has no socket in the map, so queues without a socket keep working
/// as normal (`XDP_PASS`) and no lookup-before-redirect is needed.
pub fn redirect_insns(map_fd: i32) -> [bpf_insn; 6] {
    let [map_lo, map_hi] = insn::ld_map_fd(R1, map_fd);
    [
        // R2 = ctx->rx_queue_index, read before R1 (ctx) is overwritten.
        insn::ldx_w(R2, R1, sys::XDP_MD_RX_QUEUE_INDEX),
        map_lo,
        map_hi,
        insn::mov64_imm(R3, sys::XDP_PASS),
        insn::call(sys::BPF_FUNC_REDIRECT_MAP),
        // R0 = XDP_REDIRECT, or XDP_PASS for an empty slot.
        insn::exit(),
    ]
}

/// The last lines of a NUL-terminated verifier log, or None if it is empty.
fn log_tail(log: &[u8]) -> Option<String> {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..end]);
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return None;
    }
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    let mut out = String::new();
    if skip > 0 {
        out.push_str(&format!("  ... ({skip} earlier lines)\n"));
    }
    for line in &lines[skip..] {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out.pop();
    Some(out)
}

/// Whether this kernel loads XDP programs with `BPF_F_XDP_HAS_FRAGS` (an
/// unknown program flag is refused with `EINVAL`). Loads a two-instruction
/// program once, for [`crate::features::Feature::XdpFrags`].
pub(crate) fn probe_frags() -> Result<bool> {
    use super::insn::{exit, mov64_imm, R0};
    match Program::load_with_flags(&[mov64_imm(R0, sys::XDP_PASS), exit()], "xsk_rs_probe", sys::BPF_F_XDP_HAS_FRAGS) {
        Ok(_) => Ok(true),
        Err(e) if e.errno() == libc::EINVAL => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdp::insn::*;

    #[test]
    fn redirect_program_is_the_documented_six_instructions() {
        let fd = 42;
        let want = [ldx_w(R2, R1, 16), ld_map_fd(R1, fd)[0], ld_map_fd(R1, fd)[1], mov64_imm(R3, 2), call(51), exit()];
        assert_eq!(redirect_insns(fd), want);
        // Spot-check the raw fields the verifier relies on.
        let p = redirect_insns(fd);
        assert_eq!((p[1].code, p[1].imm), (0x18, fd));
        if cfg!(target_endian = "little") {
            assert_eq!(p[1].regs, (sys::BPF_PSEUDO_MAP_FD << 4) | R1);
        }
        assert_eq!((p[4].code, p[4].imm), (0x85, 51));
    }

    #[test]
    fn bad_names_are_refused_before_the_kernel() {
        let prog = [mov64_imm(R0, 2), exit()];
        for bad in ["", "sixteen_chars_xx", "has space", "dash-ed"] {
            let e = Program::load(&prog, bad).unwrap_err();
            assert_eq!(e.errno(), libc::EINVAL, "{bad:?}: {e}");
        }
        let e = Program::load(&[], "empty").unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
    }

    #[test]
    fn log_tail_keeps_the_end() {
        assert_eq!(log_tail(b"\0\0\0"), None);
        assert_eq!(log_tail(b"0: (95) exit\nR0 !read_ok\n\0junk").as_deref(), Some("  0: (95) exit\n  R0 !read_ok"));
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let tail = log_tail(long.as_bytes()).unwrap();
        assert!(tail.starts_with("  ... (60 earlier lines)\n  line 60\n"), "{tail}");
        assert!(tail.ends_with("line 99"), "{tail}");
    }
}
