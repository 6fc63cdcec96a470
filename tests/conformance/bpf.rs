//! A bring-your-own XDP program for the conformance tests, built without any
//! help from xsk_rs: raw instructions, raw `bpf(2)` calls, raw attributes.
//!
//! The program counts every packet in an ARRAY map and redirects the packets
//! whose count before the increment is even (the 1st, 3rd, 5th, …) to the
//! AF_XDP socket registered for the RX queue in an XSKMAP; it drops the others.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

// bpf(2) commands.
const BPF_MAP_CREATE: i32 = 0;
const BPF_MAP_LOOKUP_ELEM: i32 = 1;
const BPF_PROG_LOAD: i32 = 5;
const BPF_LINK_CREATE: i32 = 28;

const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_XSKMAP: u32 = 17;
const BPF_PROG_TYPE_XDP: u32 = 6;
/// `enum bpf_attach_type`: BPF_XDP.
const BPF_XDP: u32 = 37;
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

// Helpers the program calls.
const FN_MAP_LOOKUP_ELEM: i32 = 1;
const FN_REDIRECT_MAP: i32 = 51;

const XDP_DROP: i32 = 1;
/// `offsetof(struct xdp_md, rx_queue_index)`.
const XDP_MD_RX_QUEUE_INDEX: i16 = 16;

/// `struct bpf_insn`: opcode, dst (low nibble) and src (high nibble)
/// registers, offset, immediate.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, regs: (src << 4) | dst, off, imm }
}

// Instruction classes, sizes, modes, operations and sources (linux/bpf.h).
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_JMP: u8 = 0x05;
const BPF_ALU64: u8 = 0x07;
const BPF_W: u8 = 0x00;
const BPF_DW: u8 = 0x18;
const BPF_IMM: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_ATOMIC: u8 = 0xc0;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_ADD: u8 = 0x00;
const BPF_AND: u8 = 0x50;
const BPF_MOV: u8 = 0xb0;
const BPF_JEQ: u8 = 0x10;
const BPF_JNE: u8 = 0x50;
const BPF_CALL: u8 = 0x80;
const BPF_EXIT: u8 = 0x90;
const BPF_FETCH: i32 = 0x01;

// The opcodes the program uses. Several parts are 0; they are spelled out anyway.
#[allow(clippy::identity_op, clippy::eq_op)]
mod op {
    use super::*;
    pub const MOV64_REG: u8 = BPF_ALU64 | BPF_MOV | BPF_X;
    pub const MOV64_IMM: u8 = BPF_ALU64 | BPF_MOV | BPF_K;
    pub const ADD64_IMM: u8 = BPF_ALU64 | BPF_ADD | BPF_K;
    pub const AND64_IMM: u8 = BPF_ALU64 | BPF_AND | BPF_K;
    pub const ST_W_IMM: u8 = BPF_ST | BPF_MEM | BPF_W;
    pub const LDX_W: u8 = BPF_LDX | BPF_MEM | BPF_W;
    pub const ATOMIC_W: u8 = BPF_STX | BPF_ATOMIC | BPF_W;
    pub const LD_IMM64: u8 = BPF_LD | BPF_IMM | BPF_DW;
    pub const JEQ_IMM: u8 = BPF_JMP | BPF_JEQ | BPF_K;
    pub const JNE_IMM: u8 = BPF_JMP | BPF_JNE | BPF_K;
    pub const CALL: u8 = BPF_JMP | BPF_CALL;
    pub const EXIT: u8 = BPF_JMP | BPF_EXIT;
    /// `imm` of an atomic instruction: add, and load the old value into src.
    pub const ATOMIC_FETCH_ADD: i32 = BPF_ADD as i32 | BPF_FETCH;
}
use op::*;

/// `src` of a 64-bit immediate load: the immediate is a map fd.
const PSEUDO_MAP_FD: u8 = 1;

/// The two instructions of `dst = map` for a map fd.
fn ld_map(dst: u8, map: &OwnedFd) -> [Insn; 2] {
    [insn(LD_IMM64, dst, PSEUDO_MAP_FD, 0, map.as_raw_fd()), insn(0, 0, 0, 0, 0)]
}

/// The drop-every-other-packet program (see the module docs).
fn drop_half_insns(counter: &OwnedFd, xskmap: &OwnedFd) -> Vec<Insn> {
    let mut p = vec![
        insn(MOV64_REG, 6, 1, 0, 0),  // 0: r6 = ctx
        insn(ST_W_IMM, 10, 0, -4, 0), // 1: *(u32 *)(fp - 4) = 0   (key)
        insn(MOV64_REG, 2, 10, 0, 0), // 2: r2 = fp
        insn(ADD64_IMM, 2, 0, 0, -4), // 3: r2 = &key
    ];
    p.extend(ld_map(1, counter)); //     4-5: r1 = counter map
    p.extend([
        insn(CALL, 0, 0, 0, FN_MAP_LOOKUP_ELEM),     // 6: r0 = &counter[0]
        insn(JEQ_IMM, 0, 0, 10, 0),                  // 7: if !r0 goto 18
        insn(MOV64_IMM, 1, 0, 0, 1),                 // 8: r1 = 1
        insn(ATOMIC_W, 0, 1, 0, ATOMIC_FETCH_ADD),   // 9: r1 = fetch_add(*(u32 *)r0, r1)
        insn(AND64_IMM, 1, 0, 0, 1),                 // 10: r1 &= 1
        insn(JNE_IMM, 1, 0, 6, 0),                   // 11: if r1 goto 18 (odd count: drop)
        insn(LDX_W, 2, 6, XDP_MD_RX_QUEUE_INDEX, 0), // 12: r2 = ctx->rx_queue_index
    ]);
    p.extend(ld_map(1, xskmap)); //      13-14: r1 = xskmap
    p.extend([
        insn(MOV64_IMM, 3, 0, 0, XDP_DROP),   // 15: r3 = XDP_DROP (no socket there)
        insn(CALL, 0, 0, 0, FN_REDIRECT_MAP), // 16: r0 = redirect_map(r1, r2, r3)
        insn(EXIT, 0, 0, 0, 0),               // 17
        insn(MOV64_IMM, 0, 0, 0, XDP_DROP),   // 18: r0 = XDP_DROP
        insn(EXIT, 0, 0, 0, 0),               // 19
    ]);
    p
}

/// `bpf(cmd, attr, sizeof attr)`; a new fd on success.
fn bpf<T>(cmd: i32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: attr is a live #[repr(C)] attribute struct of the stated size;
    // pointers inside it point to memory that outlives the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc)
}

fn bpf_fd<T>(cmd: i32, attr: &mut T) -> io::Result<OwnedFd> {
    // SAFETY: these commands return a new fd that nothing else owns.
    bpf(cmd, attr).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[repr(C)]
struct MapCreate {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
}

fn map_create(map_type: u32, max_entries: u32) -> io::Result<OwnedFd> {
    bpf_fd(BPF_MAP_CREATE, &mut MapCreate { map_type, key_size: 4, value_size: 4, max_entries })
}

#[repr(C)]
struct MapElem {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

#[repr(C)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
struct LinkCreate {
    prog_fd: u32,
    target_ifindex: u32,
    attach_type: u32,
    flags: u32,
}

/// The program, its two maps, and (once attached) its link. Dropping it closes
/// all four; the link going is what detaches the program.
pub struct DropHalf {
    pub xskmap: OwnedFd,
    counter: OwnedFd,
    prog: OwnedFd,
    pub link: Option<OwnedFd>,
}

impl DropHalf {
    /// Creates the maps and loads the program (no attachment yet).
    pub fn load() -> DropHalf {
        let xskmap = map_create(BPF_MAP_TYPE_XSKMAP, 1).expect("create XSKMAP");
        let counter = map_create(BPF_MAP_TYPE_ARRAY, 1).expect("create ARRAY counter");
        let insns = drop_half_insns(&counter, &xskmap);
        let license = c"GPL";
        let mut log = vec![0u8; 1 << 16];
        let mut name = [0u8; 16];
        name[..9].copy_from_slice(b"drop_half");
        let mut attr = ProgLoad {
            prog_type: BPF_PROG_TYPE_XDP,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: license.as_ptr() as u64,
            log_level: 1,
            log_size: log.len() as u32,
            log_buf: log.as_mut_ptr() as u64,
            kern_version: 0,
            prog_flags: 0,
            prog_name: name,
            prog_ifindex: 0,
            expected_attach_type: BPF_XDP,
        };
        let prog = bpf_fd(BPF_PROG_LOAD, &mut attr).unwrap_or_else(|e| {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            panic!("BPF_PROG_LOAD: {e}\nverifier log:\n{}", String::from_utf8_lossy(&log[..end]))
        });
        DropHalf { xskmap, counter, prog, link: None }
    }

    /// Attaches the program to `ifname` (looked up in the calling thread's
    /// namespace) with `BPF_LINK_CREATE` and the given `XDP_FLAGS_*` mode.
    pub fn attach(&mut self, ifname: &str, xdp_flags: u32) {
        let cname = CString::new(ifname).unwrap();
        // SAFETY: cname is NUL-terminated.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        assert_ne!(ifindex, 0, "{ifname}: {}", io::Error::last_os_error());
        let mut attr = LinkCreate {
            prog_fd: self.prog.as_raw_fd() as u32,
            target_ifindex: ifindex,
            attach_type: BPF_XDP,
            flags: xdp_flags,
        };
        self.link = Some(bpf_fd(BPF_LINK_CREATE, &mut attr).expect("BPF_LINK_CREATE"));
    }

    /// Packets the program has seen so far.
    pub fn count(&self) -> u32 {
        let key = 0u32;
        let mut value = 0u32;
        let mut attr = MapElem {
            map_fd: self.counter.as_raw_fd() as u32,
            _pad: 0,
            key: &key as *const u32 as u64,
            value: &mut value as *mut u32 as u64,
            flags: 0,
        };
        bpf(BPF_MAP_LOOKUP_ELEM, &mut attr).expect("read the counter");
        value
    }
}
