//! The XSKMAP: the table `bpf_redirect_map()` looks the packet's queue up in.
//!
//! Key is the queue id (u32), value an AF_XDP socket fd on update. The kernel
//! takes any AF_XDP socket, bound or not, and checks only at redirect time: a
//! packet redirected to a socket that is not bound to that device and queue is
//! dropped, not passed. So a socket goes into the map after its bind. The kernel
//! removes a socket from every map by itself when the socket is closed, so an
//! entry never outlives its socket.

use super::{bpf_fd, bpf_raw, obj_info, obj_name};
use crate::error::{Error, Result};
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// An XSKMAP this process created; closing it (drop) frees it once no loaded
/// program refers to it any more.
#[derive(Debug)]
pub struct XskMap {
    fd: OwnedFd,
    max_entries: u32,
}

impl XskMap {
    /// Name the kernel shows for maps [`XskMap::create`] makes (`bpftool map`).
    pub const NAME: &'static str = "xsk_rs_xskmap";

    /// Name of the map of the built-in program that sockets attach: it tells
    /// that program apart from one a user attached with [`XskMap::create`],
    /// [`super::Program::redirect`] and [`super::Link::attach`] (the same
    /// instructions), which another xsk_rs process must not join.
    pub(super) const SHARED_NAME: &'static str = "xsk_rs_shared";

    /// Creates an XSKMAP with room for queue ids `0..max_entries`.
    pub fn create(max_entries: u32) -> Result<XskMap> {
        XskMap::create_named(max_entries, Self::NAME)
    }

    /// [`XskMap::create`] with another name.
    pub(super) fn create_named(max_entries: u32, name: &str) -> Result<XskMap> {
        if max_entries == 0 {
            return Err(Error::invalid("create XSKMAP: max_entries must be at least 1"));
        }
        let mut attr = sys::bpf_attr_map_create {
            map_type: sys::BPF_MAP_TYPE_XSKMAP,
            key_size: 4,
            value_size: 4,
            max_entries,
            map_name: obj_name(name)?,
            ..Default::default()
        };
        // SAFETY: attr is the MAP_CREATE layout and carries no pointers.
        let fd = unsafe { bpf_fd(sys::BPF_MAP_CREATE, &mut attr) }
            .map_err(|errno| Error::from_errno(format!("create XSKMAP with {max_entries} entries"), errno))?;
        Ok(XskMap { fd, max_entries })
    }

    /// An XSKMAP another process created, opened by id as `fd`.
    pub(super) fn held(fd: OwnedFd, max_entries: u32) -> XskMap {
        XskMap { fd, max_entries }
    }

    /// Points `queue_id` at the AF_XDP socket `xsk_fd` (replacing any socket
    /// there). Bind the socket first: until then, its queue's packets are dropped.
    pub fn insert(&self, queue_id: u32, xsk_fd: RawFd) -> Result<()> {
        check_queue(queue_id, self.max_entries, Self::NAME)?;
        update(self.fd.as_raw_fd(), queue_id, xsk_fd, &format!("XSKMAP fd {}", self.fd.as_raw_fd()))
    }

    /// Empties `queue_id`; packets for that queue then get `XDP_PASS`. Removing an
    /// empty slot is not an error.
    pub fn remove(&self, queue_id: u32) -> Result<()> {
        check_queue(queue_id, self.max_entries, Self::NAME)?;
        delete(self.fd.as_raw_fd(), queue_id, &format!("XSKMAP fd {}", self.fd.as_raw_fd()))
    }

    /// The map's fd, e.g. to hand to a program of one's own.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Number of queue slots.
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }
}

impl AsFd for XskMap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Inserts `xsk_fd` at `queue_id` of a caller-owned XSKMAP (e.g. from the
/// caller's own bpf object). The map is checked first, so that handing in the
/// wrong fd gives a message rather than a bare `EINVAL`.
pub fn update_xskmap(map_fd: RawFd, queue_id: u32, xsk_fd: RawFd) -> Result<()> {
    if map_fd < 0 {
        return Err(Error::from_errno(format!("XSKMAP fd {map_fd}"), libc::EBADF));
    }
    let mut info = sys::bpf_map_info::default();
    // SAFETY: a zeroed plain-data prefix of bpf_map_info.
    if let Err(errno) = unsafe { obj_info(map_fd, &mut info) } {
        return Err(match errno {
            // EINVAL here means "an open fd, but no bpf object".
            libc::EINVAL => Error::invalid(format!("fd {map_fd} is not a BPF map")),
            // A closed fd: 6.x answers EBADFD here, the same errno as EBADF elsewhere.
            libc::EBADF | libc::EBADFD => Error::from_errno(format!("XSKMAP fd {map_fd}"), libc::EBADF),
            _ => Error::from_errno(format!("query BPF map fd {map_fd}"), errno),
        });
    }
    // A program or link fd also answers OBJ_GET_INFO, into the same bytes; the
    // type and the 4-byte key/value sizes together tell an XSKMAP apart.
    if info.map_type != sys::BPF_MAP_TYPE_XSKMAP || info.key_size != 4 || info.value_size != 4 {
        return Err(Error::invalid(format!(
            "fd {map_fd} is not an XSKMAP (map type {}, key {} bytes, value {} bytes; \
             an XSKMAP is type {} with 4-byte keys and values)",
            info.map_type,
            info.key_size,
            info.value_size,
            sys::BPF_MAP_TYPE_XSKMAP
        )));
    }
    let name = name_of(&info.name);
    check_queue(queue_id, info.max_entries, &name)?;
    update(map_fd, queue_id, xsk_fd, &format!("XSKMAP {name:?} (fd {map_fd})"))
}

fn check_queue(queue_id: u32, max_entries: u32, map: &str) -> Result<()> {
    crate::netdev::check_range(queue_id, max_entries, &format!("XSKMAP {map:?}"), format_args!("{max_entries} entries"))
}

/// `map[queue_id] = xsk_fd`; `map` names the map in messages.
pub(super) fn update(map_fd: RawFd, queue_id: u32, xsk_fd: RawFd, map: &str) -> Result<()> {
    let (key, value) = (queue_id, xsk_fd as u32);
    let mut attr = sys::bpf_attr_map_elem {
        map_fd: map_fd as u32,
        key: &key as *const u32 as u64,
        value: &value as *const u32 as u64,
        flags: sys::BPF_ANY,
        ..Default::default()
    };
    // SAFETY: attr is the MAP_UPDATE_ELEM layout; `key` and `value` outlive the call.
    match unsafe { bpf_raw(sys::BPF_MAP_UPDATE_ELEM, &mut attr) } {
        Ok(_) => Ok(()),
        Err(errno) => {
            let why = match errno {
                libc::EOPNOTSUPP => " (the fd must be an AF_XDP socket)",
                libc::ENOTSOCK => " (the fd is not a socket)",
                _ => "",
            };
            Err(Error::from_errno(format!("insert xsk fd {xsk_fd} at queue {queue_id} of {map}{why}"), errno))
        }
    }
}

/// Empties `map[queue_id]`.
pub(super) fn delete(map_fd: RawFd, queue_id: u32, map: &str) -> Result<()> {
    let key = queue_id;
    let mut attr =
        sys::bpf_attr_map_elem { map_fd: map_fd as u32, key: &key as *const u32 as u64, ..Default::default() };
    // SAFETY: attr is the MAP_DELETE_ELEM layout; `key` outlives the call.
    match unsafe { bpf_raw(sys::BPF_MAP_DELETE_ELEM, &mut attr) } {
        // Current kernels answer 0 for an empty slot; ENOENT is the generic map
        // answer and means the same.
        Ok(_) | Err(libc::ENOENT) => Ok(()),
        Err(errno) => Err(Error::from_errno(format!("remove queue {queue_id} from {map}"), errno)),
    }
}

fn name_of(raw: &[u8; 16]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}
