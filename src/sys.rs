//! Kernel ABI that the `libc` crate does not carry: the pieces of `union bpf_attr`
//! this crate uses, the BPF instruction encoding, `struct ethtool_channels`, and
//! the rtnetlink request and attributes of a device lookup.
//!
//! AF_XDP's own structs and constants (`sockaddr_xdp`, `xdp_umem_reg`,
//! `xdp_mmap_offsets`, `xdp_statistics`, `XDP_*`) come from `libc`, except the
//! socket options newer than it (below).
//!
//! Each `bpf_attr` variant below is the prefix of the kernel's union that one
//! command reads. The kernel copies `size` bytes and treats the rest as zero, so a
//! prefix is a complete, valid argument on every kernel that knows the command.

#![allow(non_camel_case_types)]

/// `struct xdp_desc`: one RX/TX ring entry. Same layout as the C ABI's `xsk_rs_desc`.
pub use libc::xdp_desc;

/// `SOL_XDP` option (Linux 6.17): most TX descriptors one send syscall makes
/// the copy-mode transmit path send, a `u32` in `[32, TX ring entries]`. The
/// kernel answers `EACCES` outside that range or before the TX ring is set,
/// `EINVAL` for a length other than 4, and older kernels `ENOPROTOOPT`.
pub const XDP_MAX_TX_SKB_BUDGET: libc::c_int = 9;

// bpf(2) commands.
pub const BPF_MAP_CREATE: libc::c_int = 0;
pub const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
pub const BPF_MAP_DELETE_ELEM: libc::c_int = 3;
pub const BPF_PROG_LOAD: libc::c_int = 5;
pub const BPF_OBJ_GET_INFO_BY_FD: libc::c_int = 15;
pub const BPF_LINK_CREATE: libc::c_int = 28;
pub const BPF_LINK_UPDATE: libc::c_int = 29;
pub const BPF_LINK_DETACH: libc::c_int = 34;
// Finding objects by id, to join a program another process attached.
pub const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
pub const BPF_MAP_GET_FD_BY_ID: libc::c_int = 14;
pub const BPF_LINK_GET_FD_BY_ID: libc::c_int = 30;
pub const BPF_LINK_GET_NEXT_ID: libc::c_int = 31;
/// `enum bpf_link_type` value of an XDP link.
pub const BPF_LINK_TYPE_XDP: u32 = 6;

pub const BPF_MAP_TYPE_XSKMAP: u32 = 17;
pub const BPF_PROG_TYPE_XDP: u32 = 6;
/// `enum bpf_attach_type` value of `BPF_XDP`.
pub const BPF_XDP: u32 = 37;

pub const BPF_ANY: u64 = 0;
pub const BPF_PSEUDO_MAP_FD: u8 = 1;

/// `XDP_FLAGS_*` for `link_create.flags`.
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

/// XDP verdicts.
pub const XDP_PASS: i32 = 2;
/// `BPF_F_XDP_HAS_FRAGS`: the XDP program accepts multi-buffer packets (5.18).
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// Helper id of `bpf_redirect_map` in `enum bpf_func_id`.
pub const BPF_FUNC_REDIRECT_MAP: i32 = 51;

/// `offsetof(struct xdp_md, rx_queue_index)`.
pub const XDP_MD_RX_QUEUE_INDEX: i16 = 16;

/// `struct bpf_insn`: 8 bytes, `dst_reg` in the low nibble of byte 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct bpf_insn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

// Instruction classes, sizes, modes and ops used by the built-in program.
pub const BPF_LD: u8 = 0x00;
pub const BPF_LDX: u8 = 0x01;
pub const BPF_JMP: u8 = 0x05;
pub const BPF_ALU64: u8 = 0x07;
pub const BPF_W: u8 = 0x00;
pub const BPF_DW: u8 = 0x18;
pub const BPF_IMM: u8 = 0x00;
pub const BPF_MEM: u8 = 0x60;
pub const BPF_MOV: u8 = 0xb0;
pub const BPF_AND: u8 = 0x50;
pub const BPF_ADD: u8 = 0x00;
pub const BPF_K: u8 = 0x00;
pub const BPF_X: u8 = 0x08;
pub const BPF_JEQ: u8 = 0x10;
pub const BPF_JNE: u8 = 0x50;
pub const BPF_JA: u8 = 0x00;
pub const BPF_CALL: u8 = 0x80;
pub const BPF_EXIT: u8 = 0x90;

/// `bpf_attr` for `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_map_create {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; 16],
}

/// `bpf_attr` for `BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_map_elem {
    pub map_fd: u32,
    pub _pad: u32,
    pub key: u64,
    pub value: u64,
    pub flags: u64,
}

/// `bpf_attr` for `BPF_PROG_LOAD`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_prog_load {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; 16],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
}

/// `bpf_attr` for `BPF_LINK_UPDATE`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_link_update {
    pub link_fd: u32,
    pub new_prog_fd: u32,
    pub flags: u32,
    pub old_prog_fd: u32,
}

/// `bpf_attr` for `BPF_LINK_CREATE`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_link_create {
    pub prog_fd: u32,
    pub target_ifindex: u32,
    pub attach_type: u32,
    pub flags: u32,
}

/// `bpf_attr` for `BPF_LINK_DETACH`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_link_detach {
    pub link_fd: u32,
}

/// `bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_info_by_fd {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// `bpf_attr` for `BPF_*_GET_FD_BY_ID` and `BPF_*_GET_NEXT_ID`: `id` is
/// the union of `start_id`, `prog_id`, `map_id` and `link_id`.
#[repr(C)]
#[derive(Default)]
pub struct bpf_attr_get_id {
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
}

/// `struct bpf_map_info`, the prefix this crate reads.
#[repr(C)]
#[derive(Default, Debug)]
pub struct bpf_map_info {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
}

/// `struct bpf_prog_info`, the prefix this crate reads.
#[repr(C)]
#[derive(Default, Debug)]
pub struct bpf_prog_info {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; 16],
}

/// `struct bpf_link_info` up to the XDP member of its union, which the kernel
/// aligns to 8 bytes. `xdp_ifindex` reads 0 once the device is gone and the
/// link with it detached.
#[repr(C)]
#[derive(Default, Debug)]
pub struct bpf_link_info_xdp {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub _pad: u32,
    pub xdp_ifindex: u32,
    pub _pad2: u32,
}

/// Calls `bpf(2)` with a command-specific attribute struct.
///
/// # Safety
/// `attr` must be the attribute layout that `cmd` expects, and any pointers it
/// carries must be valid for the kernel to read or write for the call's duration.
pub unsafe fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> libc::c_long {
    libc::syscall(libc::SYS_bpf, cmd, attr as *mut T as *mut libc::c_void, std::mem::size_of::<T>() as libc::c_uint)
}

// ethtool channel query (SIOCETHTOOL).
pub const ETHTOOL_GCHANNELS: u32 = 0x0000003c;

/// `struct ethtool_channels`.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct ethtool_channels {
    pub cmd: u32,
    pub max_rx: u32,
    pub max_tx: u32,
    pub max_other: u32,
    pub max_combined: u32,
    pub rx_count: u32,
    pub tx_count: u32,
    pub other_count: u32,
    pub combined_count: u32,
}

// rtnetlink: an `RTM_GETLINK` for one device by name, answered by an
// `RTM_NEWLINK` (`nlmsghdr`, `ifinfomsg`, then attributes) or an `NLMSG_ERROR`.

/// `nlmsghdr` is 16 bytes, and so is the `ifinfomsg` that follows it.
pub const NLMSG_HDRLEN: usize = 16;
pub const IFINFOMSG_LEN: usize = 16;
/// `IFLA_*` attributes of `RTM_NEWLINK` (`enum` in `linux/if_link.h`).
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_MTU: u16 = 4;
/// `dev->num_tx_queues` / `num_rx_queues`: the queues the device was created
/// with, which the counts in use (`real_num_*_queues`) never exceed.
pub const IFLA_NUM_TX_QUEUES: u16 = 31;
pub const IFLA_NUM_RX_QUEUES: u16 = 32;
/// `IFLA_XDP`, nested: what is attached in which mode (`IFLA_XDP_*`):
/// `IFLA_XDP_ATTACHED` (u8, `XDP_ATTACHED_*`), and the attached program's id
/// (`IFLA_XDP_PROG_ID` when one program is attached, else per mode).
pub const IFLA_XDP: u16 = 43;
pub const IFLA_XDP_ATTACHED: u16 = 2;
pub const IFLA_XDP_PROG_ID: u16 = 4;
pub const IFLA_XDP_DRV_PROG_ID: u16 = 5;
pub const IFLA_XDP_SKB_PROG_ID: u16 = 6;
pub const IFLA_XDP_HW_PROG_ID: u16 = 7;
pub const XDP_ATTACHED_DRV: u8 = 1;
pub const XDP_ATTACHED_SKB: u8 = 2;

/// `RTM_GETLINK` request: `nlmsghdr`, a zeroed `ifinfomsg` (index 0: look up by
/// name), and one `IFLA_IFNAME` attribute carrying the NUL-padded name.
#[repr(C)]
#[derive(Default, Debug)]
pub struct rtm_getlink_by_name {
    pub nlmsg_len: u32,
    pub nlmsg_type: u16,
    pub nlmsg_flags: u16,
    pub nlmsg_seq: u32,
    pub nlmsg_pid: u32,
    pub ifi_family: u8,
    pub _ifi_pad: u8,
    pub ifi_type: u16,
    pub ifi_index: i32,
    pub ifi_flags: u32,
    pub ifi_change: u32,
    pub rta_len: u16,
    pub rta_type: u16,
    pub ifname: [u8; 16],
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn abi_sizes_match_the_kernel() {
        assert_eq!(size_of::<bpf_insn>(), 8);
        assert_eq!(size_of::<xdp_desc>(), 16);
        assert_eq!(size_of::<libc::xdp_umem_reg>(), 32);
        assert_eq!(size_of::<libc::xdp_statistics>(), 48);
        assert_eq!(size_of::<ethtool_channels>(), 36);
        assert_eq!(size_of::<bpf_attr_prog_load>(), 72);
        assert_eq!(size_of::<bpf_attr_map_elem>(), 32);
        assert_eq!(std::mem::offset_of!(bpf_prog_info, name), 64);
        assert_eq!(std::mem::offset_of!(bpf_link_info_xdp, xdp_ifindex), 16);
        assert_eq!(size_of::<bpf_attr_link_create>(), 16);
        assert_eq!(size_of::<bpf_attr_map_create>(), 44);
        assert_eq!(size_of::<libc::nlmsghdr>(), NLMSG_HDRLEN);
        assert_eq!(size_of::<libc::ifinfomsg>(), IFINFOMSG_LEN);
        assert_eq!(std::mem::offset_of!(rtm_getlink_by_name, rta_len), NLMSG_HDRLEN + IFINFOMSG_LEN);
        assert_eq!(size_of::<rtm_getlink_by_name>(), 52);
    }
}
