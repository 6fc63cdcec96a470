//! eBPF instruction encoding: one `const fn` per instruction form, named after the
//! kernel's `BPF_*` macros in `include/linux/filter.h`.
//!
//! Only the handful of forms that the built-in program and tests need are here; a
//! user with a larger program brings their own `bpf_insn` array to
//! [`Program::load`](super::Program::load).

use crate::sys::{self, bpf_insn};

/// Registers. R0 holds return values, R1..R5 carry helper arguments (R1 is the
/// program's context on entry), R6..R9 are callee-saved, R10 is the read-only
/// frame pointer.
pub const R0: u8 = 0;
pub const R1: u8 = 1;
pub const R2: u8 = 2;
pub const R3: u8 = 3;
pub const R4: u8 = 4;
pub const R5: u8 = 5;
pub const R6: u8 = 6;
pub const R7: u8 = 7;
pub const R8: u8 = 8;
pub const R9: u8 = 9;
pub const R10: u8 = 10;

/// Builds one instruction. The kernel declares `dst_reg:4, src_reg:4` as C
/// bitfields, so which nibble holds `dst` follows the target's bitfield order:
/// the low nibble on little-endian, the high one on big-endian.
pub const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> bpf_insn {
    let (dst, src) = (dst & 0x0f, src & 0x0f);
    #[cfg(target_endian = "little")]
    let regs = dst | (src << 4);
    #[cfg(target_endian = "big")]
    let regs = (dst << 4) | src;
    bpf_insn { code, regs, off, imm }
}

/// `dst = imm` (64-bit, `imm` sign-extended).
pub const fn mov64_imm(dst: u8, imm: i32) -> bpf_insn {
    insn(sys::BPF_ALU64 | sys::BPF_MOV | sys::BPF_K, dst, 0, 0, imm)
}

/// `dst = src` (64-bit).
pub const fn mov64_reg(dst: u8, src: u8) -> bpf_insn {
    insn(sys::BPF_ALU64 | sys::BPF_MOV | sys::BPF_X, dst, src, 0, 0)
}

/// `dst += imm` (64-bit).
pub const fn add64_imm(dst: u8, imm: i32) -> bpf_insn {
    insn(sys::BPF_ALU64 | sys::BPF_ADD | sys::BPF_K, dst, 0, 0, imm)
}

/// `dst &= imm` (64-bit).
pub const fn and64_imm(dst: u8, imm: i32) -> bpf_insn {
    insn(sys::BPF_ALU64 | sys::BPF_AND | sys::BPF_K, dst, 0, 0, imm)
}

/// `dst = *(u32 *)(src + off)`, zero-extended to 64 bits.
pub const fn ldx_w(dst: u8, src: u8, off: i16) -> bpf_insn {
    insn(sys::BPF_LDX | sys::BPF_MEM | sys::BPF_W, dst, src, off, 0)
}

/// `dst = <map>`: the two-slot 64-bit immediate load whose `src_reg =
/// BPF_PSEUDO_MAP_FD` tells the verifier to replace the fd in `imm` with a pointer
/// to the map (and take a reference on it for the program's lifetime).
pub const fn ld_map_fd(dst: u8, map_fd: i32) -> [bpf_insn; 2] {
    [
        insn(sys::BPF_LD | sys::BPF_DW | sys::BPF_IMM, dst, sys::BPF_PSEUDO_MAP_FD, 0, map_fd),
        // The second slot carries the upper 32 bits of the immediate, zero for a fd.
        insn(0, 0, 0, 0, 0),
    ]
}

/// `if dst == imm goto pc + 1 + off`.
pub const fn jeq_imm(dst: u8, imm: i32, off: i16) -> bpf_insn {
    insn(sys::BPF_JMP | sys::BPF_JEQ | sys::BPF_K, dst, 0, off, imm)
}

/// `if dst != imm goto pc + 1 + off`.
pub const fn jne_imm(dst: u8, imm: i32, off: i16) -> bpf_insn {
    insn(sys::BPF_JMP | sys::BPF_JNE | sys::BPF_K, dst, 0, off, imm)
}

/// `goto pc + 1 + off`.
pub const fn ja(off: i16) -> bpf_insn {
    insn(sys::BPF_JMP | sys::BPF_JA, 0, 0, off, 0)
}

/// Calls helper number `helper` (`enum bpf_func_id`); arguments in R1..R5,
/// result in R0, R1..R5 clobbered.
pub const fn call(helper: i32) -> bpf_insn {
    insn(sys::BPF_JMP | sys::BPF_CALL, 0, 0, 0, helper)
}

/// Returns R0.
pub const fn exit() -> bpf_insn {
    insn(sys::BPF_JMP | sys::BPF_EXIT, 0, 0, 0, 0)
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    /// The 8 bytes the kernel reads for one instruction.
    fn bytes(i: bpf_insn) -> [u8; 8] {
        // SAFETY: bpf_insn is repr(C), 8 bytes, no padding (u8, u8, i16, i32).
        unsafe { std::mem::transmute::<bpf_insn, [u8; 8]>(i) }
    }

    #[test]
    fn alu64() {
        assert_eq!(bytes(mov64_imm(R3, 2)), [0xb7, 0x03, 0, 0, 2, 0, 0, 0]);
        assert_eq!(bytes(mov64_imm(R0, -1)), [0xb7, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(bytes(mov64_reg(R6, R1)), [0xbf, 0x16, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(add64_imm(R2, 0x1234)), [0x07, 0x02, 0, 0, 0x34, 0x12, 0, 0]);
        assert_eq!(bytes(and64_imm(R9, 0xff)), [0x57, 0x09, 0, 0, 0xff, 0, 0, 0]);
    }

    #[test]
    fn loads() {
        assert_eq!(bytes(ldx_w(R2, R1, 16)), [0x61, 0x12, 0x10, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(ldx_w(R0, R10, -4)), [0x61, 0xa0, 0xfc, 0xff, 0, 0, 0, 0]);
        let [lo, hi] = ld_map_fd(R1, 7);
        assert_eq!(bytes(lo), [0x18, 0x11, 0, 0, 7, 0, 0, 0]);
        assert_eq!(bytes(hi), [0; 8]);
    }

    #[test]
    fn jumps_calls_exit() {
        assert_eq!(bytes(jeq_imm(R0, 2, 1)), [0x15, 0x00, 1, 0, 2, 0, 0, 0]);
        assert_eq!(bytes(jne_imm(R4, 0, -3)), [0x55, 0x04, 0xfd, 0xff, 0, 0, 0, 0]);
        assert_eq!(bytes(ja(5)), [0x05, 0, 5, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(call(51)), [0x85, 0, 0, 0, 51, 0, 0, 0]);
        assert_eq!(bytes(exit()), [0x95, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn register_numbers_are_masked_to_a_nibble() {
        // An out-of-range register must not spill into the other register's nibble.
        assert_eq!(bytes(mov64_reg(0x1f, 0x12)).get(1), Some(&0x2f));
    }
}
