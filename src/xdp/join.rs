//! Joining the built-in program that another xsk_rs process attached.
//!
//! The kernel allows one XDP program per interface. When this process's
//! link create is refused because one is there, the program may be another
//! xsk_rs process's: then this process takes it over as a second user
//! instead of failing. It asks rtnetlink which program is attached to the
//! interface of its own namespace (`IFLA_XDP`), recognises it, takes its
//! XSKMAP by id and holds its bpf link by id. A link lives while any fd
//! refers to it, so the program stays attached while any of its processes
//! lives, and goes with the last (closed fds of a killed process included).
//!
//! Recognising is strict, as joining someone else's program would put
//! sockets into a map whose program does who knows what: the program must
//! be an XDP program named [`Program::REDIRECT_NAME`], use exactly one map,
//! an XSKMAP named `xsk_rs_shared` with 4-byte keys and values (the name
//! of the map that sockets attach the program with: a user who attaches
//! the same program through [`Link::attach`] keeps it to themselves), and its
//! instructions as the kernel translated them must be those of the built-in
//! program this kernel translates ([`reference()`]), down to the helper
//! called; its tag (a hash of the instructions as loaded, map references
//! zeroed) must match too. Loading with `BPF_F_XDP_HAS_FRAGS` changes
//! neither. A program attached through netlink rather than a link, which
//! xsk_rs never does, is not joined either: without a link there is nothing
//! to hold it by.

use super::{bpf_raw, get_fd_by_id, obj_info, Link, Program, XdpMode, XskMap};
use crate::error::{Error, Result};
use crate::fork::ProcessFd;
use crate::netdev::Netdev;
use crate::sys::{self, bpf_insn};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

/// The built-in program is 6 instructions, 7 once translated; a program
/// longer than this is not it, and is not read any further.
const MAX_INSNS: usize = 32;

/// What [`join`] found on the interface.
pub(super) enum Found {
    /// xsk_rs's program, attached in `mode`; this process now holds its
    /// link and its XSKMAP.
    Joined { link: Link, map: XskMap },
    /// Nothing is attached any more: its last user went meanwhile.
    Nothing,
    /// xsk_rs's program, but no link of it is to be seen: one is being
    /// created or going away (or the program was attached through netlink,
    /// which only someone else does). `prog_id` for the message if it stays.
    NoLink { prog_id: u32 },
}

/// Joins xsk_rs's program on `dev` if that is what is attached there, in a
/// mode that `mode` accepts. A program of anyone else, or of xsk_rs in
/// another mode than asked for, is `Busy`, with its id and name.
pub(super) fn join(dev: &Netdev, mode: XdpMode) -> Result<Found> {
    let Some((attached_mode, prog_id)) = attached(dev)? else { return Ok(Found::Nothing) };
    let prog = match get_fd_by_id(sys::BPF_PROG_GET_FD_BY_ID, prog_id) {
        Ok(fd) => fd,
        Err(libc::ENOENT) => return Ok(Found::Nothing),
        Err(errno) => {
            return Err(Error::from_errno(format!("interface {}: open XDP program id {prog_id}", dev.name), errno))
        }
    };
    let shape = Shape::of(prog.as_raw_fd())
        .map_err(|errno| Error::from_errno(format!("interface {}: query XDP program id {prog_id}", dev.name), errno))?;
    let reference = reference()?;
    let foreign = |why: &str| {
        Error::Busy(format!(
            "interface {} already has an XDP program attached (id {prog_id}, name {:?}) that is not one another \
             xsk_rs process attached ({why}), so it is not joined; xsk_rs will not replace it",
            dev.name,
            shape.name()
        ))
    };
    let Some(attached_mode) = attached_mode else {
        return Err(foreign("attached in several modes at once"));
    };
    let map_id = match shape.check(reference) {
        Ok(map_id) => map_id,
        Err(why) => return Err(foreign(why)),
    };
    let map = match get_fd_by_id(sys::BPF_MAP_GET_FD_BY_ID, map_id) {
        Ok(fd) => fd,
        Err(libc::ENOENT) => return Ok(Found::Nothing),
        Err(errno) => return Err(Error::from_errno(format!("interface {}: open XSKMAP id {map_id}", dev.name), errno)),
    };
    let mut info = sys::bpf_map_info::default();
    // SAFETY: a zeroed plain-data prefix of bpf_map_info, for a map's fd.
    unsafe { obj_info(map.as_raw_fd(), &mut info) }
        .map_err(|errno| Error::from_errno(format!("interface {}: query XSKMAP id {map_id}", dev.name), errno))?;
    let want = XskMap::SHARED_NAME.as_bytes();
    let name_ok = info.name[..want.len()] == *want && info.name[want.len()] == 0;
    if info.map_type != sys::BPF_MAP_TYPE_XSKMAP || info.key_size != 4 || info.value_size != 4 || !name_ok {
        return Err(foreign("its map is not an XSKMAP named xsk_rs_shared: not attached by an xsk_rs socket"));
    }
    if mode != XdpMode::Auto && mode != attached_mode {
        return Err(Error::Busy(format!(
            "interface {}: xsk_rs's XDP program (id {prog_id}) is attached there in {attached_mode} mode by another \
             process, and {mode} mode was asked for; sockets on one interface share one program, so ask for \
             {attached_mode} or auto",
            dev.name
        )));
    }
    let Some(link) = find_link(prog_id, dev.ifindex)? else { return Ok(Found::NoLink { prog_id }) };
    let link = ProcessFd::open(|| Ok::<_, std::convert::Infallible>(link)).unwrap_or_else(|never| match never {});
    Ok(Found::Joined { link: Link::held(link, dev.ifindex, attached_mode), map: XskMap::held(map, info.max_entries) })
}

/// The mode (`None` for several at once) and id of the program attached to
/// `dev`, asked of rtnetlink in the calling thread's namespace; `None` when
/// nothing is attached.
fn attached(dev: &Netdev) -> Result<Option<(Option<XdpMode>, u32)>> {
    let (_, link) = Netdev::lookup_link(&dev.name)?;
    Ok(match link.attached {
        0 => None,
        sys::XDP_ATTACHED_DRV => Some((Some(XdpMode::Drv), link.drv)),
        sys::XDP_ATTACHED_SKB => Some((Some(XdpMode::Skb), link.skb)),
        // Offloaded, or several modes at once.
        _ => Some((None, 0)),
    })
}

/// The link of type XDP that attaches program `prog_id` to `ifindex`, held
/// by a new fd. Links are numbered system-wide; the program, found through
/// this namespace's device, tells ours apart from a link on a device of the
/// same index in another namespace.
fn find_link(prog_id: u32, ifindex: u32) -> Result<Option<OwnedFd>> {
    let mut id = 0;
    loop {
        let mut attr = sys::bpf_attr_get_id { id, ..Default::default() };
        // SAFETY: the GET_NEXT_ID layout, no pointers.
        match unsafe { bpf_raw(sys::BPF_LINK_GET_NEXT_ID, &mut attr) } {
            Ok(_) => id = attr.next_id,
            Err(libc::ENOENT) => return Ok(None),
            Err(errno) => return Err(Error::from_errno("list bpf links", errno)),
        }
        // Gone since it was listed: not the one (ours is attached, and
        // does not go while its program is attached).
        let Ok(fd) = get_fd_by_id(sys::BPF_LINK_GET_FD_BY_ID, id) else { continue };
        let mut info = sys::bpf_link_info_xdp::default();
        // SAFETY: a zeroed plain-data prefix of bpf_link_info.
        if unsafe { obj_info(fd.as_raw_fd(), &mut info) }.is_err() {
            continue;
        }
        if info.link_type == sys::BPF_LINK_TYPE_XDP && info.prog_id == prog_id && info.xdp_ifindex == ifindex {
            return Ok(Some(fd));
        }
    }
}

/// What identifies a loaded program: its translated instructions, the maps
/// it uses, its tag, type and name.
struct Shape {
    prog_type: u32,
    name: [u8; 16],
    tag: [u8; 8],
    insns: Vec<bpf_insn>,
    /// How many instructions the kernel has, which may be more than `insns`.
    insn_count: usize,
    /// The first few of the maps it uses, and how many it uses.
    map_ids: Vec<u32>,
    map_count: usize,
}

impl Shape {
    fn of(prog_fd: RawFd) -> std::result::Result<Shape, i32> {
        let mut insns = vec![bpf_insn::default(); MAX_INSNS];
        let mut map_ids = [0u32; 4];
        let mut info = sys::bpf_prog_info {
            xlated_prog_len: std::mem::size_of_val(&insns[..]) as u32,
            xlated_prog_insns: insns.as_mut_ptr() as u64,
            nr_map_ids: map_ids.len() as u32,
            map_ids: map_ids.as_mut_ptr() as u64,
            ..Default::default()
        };
        let mut attr = sys::bpf_attr_info_by_fd {
            bpf_fd: prog_fd as u32,
            info_len: std::mem::size_of_val(&info) as u32,
            info: &mut info as *mut sys::bpf_prog_info as u64,
        };
        // SAFETY: OBJ_GET_INFO_BY_FD on a program's fd; the kernel writes at
        // most `xlated_prog_len` bytes to `insns` and `nr_map_ids` ids to
        // `map_ids`, which outlive the call, and then the real counts.
        unsafe { bpf_raw(sys::BPF_OBJ_GET_INFO_BY_FD, &mut attr) }?;
        let insn_count = info.xlated_prog_len as usize / std::mem::size_of::<bpf_insn>();
        insns.truncate(insn_count);
        let maps = (info.nr_map_ids as usize).min(map_ids.len());
        Ok(Shape {
            prog_type: info.prog_type,
            name: info.name,
            tag: info.tag,
            insns,
            insn_count,
            map_ids: map_ids[..maps].to_vec(),
            map_count: info.nr_map_ids as usize,
        })
    }

    fn name(&self) -> String {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(self.name.len());
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }

    /// The id of the program's one map when `self` is the program that
    /// `reference` is, or why not.
    fn check(&self, reference: &Shape) -> std::result::Result<u32, &'static str> {
        if self.prog_type != sys::BPF_PROG_TYPE_XDP {
            return Err("not an XDP program");
        }
        if self.name() != Program::REDIRECT_NAME {
            return Err("another name");
        }
        let (1, &[map_id]) = (self.map_count, &self.map_ids[..]) else {
            return Err("it does not use exactly one map");
        };
        if self.insn_count != reference.insn_count || self.tag != reference.tag {
            return Err("other instructions");
        }
        if !same_code(&self.insns, map_id, &reference.insns, reference.map_ids[0]) {
            return Err("other instructions");
        }
        Ok(map_id)
    }
}

/// Whether two translated programs are the same but for the id of the map
/// each loads (the first slot's immediate of a 64-bit load naming a map;
/// the kernel shows the map's id there).
fn same_code(a: &[bpf_insn], a_map: u32, b: &[bpf_insn], b_map: u32) -> bool {
    const LD_IMM64: u8 = sys::BPF_LD | sys::BPF_DW | sys::BPF_IMM;
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            if x.code == LD_IMM64 && y.code == LD_IMM64 && x.imm as u32 == a_map && y.imm as u32 == b_map {
                (x.regs, x.off) == (y.regs, y.off)
            } else {
                x == y
            }
        })
}

/// The built-in program as this kernel translates it, loaded once per
/// process with a map of its own and closed again.
fn reference() -> Result<&'static Shape> {
    static REFERENCE: OnceLock<Shape> = OnceLock::new();
    if let Some(s) = REFERENCE.get() {
        return Ok(s);
    }
    let map = XskMap::create(1)?;
    let prog = Program::redirect(&map)?;
    let shape =
        Shape::of(prog.fd().as_raw_fd()).map_err(|errno| Error::from_errno("query the built-in XDP program", errno))?;
    if shape.map_count != 1 || shape.insns.len() != shape.insn_count {
        return Err(Error::from_errno(
            format!(
                "the built-in XDP program reads back as {} instructions using {} maps",
                shape.insn_count, shape.map_count
            ),
            libc::EPROTO,
        ));
    }
    Ok(REFERENCE.get_or_init(|| shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdp::insn::*;

    #[test]
    fn same_code_ignores_only_the_map_id() {
        let a = crate::xdp::redirect_insns(11);
        let b = crate::xdp::redirect_insns(12);
        assert!(same_code(&a, 11, &b, 12));
        // Another immediate elsewhere is another program.
        let mut c = b;
        c[3] = mov64_imm(R3, 1);
        assert!(!same_code(&a, 11, &c, 12));
        // A 64-bit load of another value is not the map.
        assert!(!same_code(&a, 11, &b, 13));
        assert!(!same_code(&a, 11, &b[..5], 12));
    }
}
