//! A small generic-netlink client on libc alone: resolve a family (its id,
//! version and the operations this kernel has) by name, send a request with
//! attributes, read its answer or iterate a dump, and walk (nested) attributes.
//!
//! The socket is created on the calling thread and so lives in its network
//! namespace: families that answer per namespace (netdev's `dev-get`,
//! `queue-get`, `napi-get`, `napi-set`) see the devices that thread sees.
//!
//! ```ignore
//! let mut nl = GenlSocket::open()?;
//! let Some(fam) = nl.family("netdev")? else { return Ok(()) };  // no family: Linux < 6.3
//! let mut req = AttrBuf::new();
//! req.put_u32(NETDEV_A_DEV_IFINDEX, ifindex);
//! for msg in nl.request(&fam, NETDEV_CMD_DEV_GET, &req, "dev-get veth0")? {
//!     for a in msg.attrs() { /* a.kind, a.u64(), a.nested() */ }
//! }
//! ```
//!
//! Errors carry the kernel's extended-ack message when it sends one
//! (`NETLINK_EXT_ACK`), e.g. "dev-get veth0: No such device (...)".

// The request side is general on purpose (nested attributes, u64 values,
// do/dump capabilities): netdev's napi-get / napi-set use it too.
#![allow(dead_code)]

use crate::error::{errno, Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The controller family, which names the others (`GENL_ID_CTRL`).
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_VERSION: u16 = 3;
const CTRL_ATTR_OPS: u16 = 6;
const CTRL_ATTR_OP_ID: u16 = 1;
const CTRL_ATTR_OP_FLAGS: u16 = 2;
/// `GENL_CMD_CAP_DO` / `GENL_CMD_CAP_DUMP` in an op's flags.
const GENL_CMD_CAP_DO: u32 = 0x02;
const GENL_CMD_CAP_DUMP: u32 = 0x04;

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x01;
const NLM_F_MULTI: u16 = 0x02;
const NLM_F_ACK: u16 = 0x04;
const NLM_F_DUMP: u16 = 0x300;
/// Set on an `NLMSG_ERROR` that carries extended-ack attributes.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;
/// Type bits of an attribute: the top two are the nested / byte-order flags.
const NLA_TYPE_MASK: u16 = 0x3fff;
pub(crate) const NLA_F_NESTED: u16 = 0x8000;

/// A receive buffer large enough for one datagram of any dump: the kernel
/// fills a dump's skb up to 32 KiB (or a page, whichever is larger, with
/// `NETLINK_RECV_NO_ENOBUFS` aside); 64 KiB leaves room.
const RECV_BUF: usize = 64 << 10;

/// A generic-netlink family as this kernel has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Family {
    pub name: String,
    pub id: u16,
    pub version: u8,
    /// `(op id, GENL_CMD_CAP_* flags)` of each operation the kernel has.
    pub ops: Vec<(u32, u32)>,
}

impl Family {
    /// Whether the kernel has operation `cmd` (as a request or a dump).
    pub fn has_op(&self, cmd: u8) -> bool {
        self.ops.iter().any(|&(id, _)| id == cmd as u32)
    }

    /// Whether `cmd` can be dumped (`NLM_F_DUMP`).
    pub fn can_dump(&self, cmd: u8) -> bool {
        self.ops.iter().any(|&(id, f)| id == cmd as u32 && f & GENL_CMD_CAP_DUMP != 0)
    }

    /// Whether `cmd` can be asked for one object (a "do" request).
    pub fn can_do(&self, cmd: u8) -> bool {
        self.ops.iter().any(|&(id, f)| id == cmd as u32 && f & GENL_CMD_CAP_DO != 0)
    }
}

/// Attributes being built for a request: `(len, type)` headers, values padded
/// to 4 bytes.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttrBuf {
    buf: Vec<u8>,
}

impl AttrBuf {
    pub fn new() -> AttrBuf {
        AttrBuf::default()
    }

    pub fn put(&mut self, kind: u16, value: &[u8]) -> &mut AttrBuf {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(self.buf.len().next_multiple_of(4), 0);
        self
    }

    pub fn put_u32(&mut self, kind: u16, v: u32) -> &mut AttrBuf {
        self.put(kind, &v.to_ne_bytes())
    }

    pub fn put_u64(&mut self, kind: u16, v: u64) -> &mut AttrBuf {
        self.put(kind, &v.to_ne_bytes())
    }

    /// A NUL-terminated string, as `NLA_NUL_STRING` / `NLA_STRING` take it.
    pub fn put_str(&mut self, kind: u16, s: &str) -> &mut AttrBuf {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(kind, &v)
    }

    /// A nested attribute (`NLA_F_NESTED` set) holding what `inner` puts.
    pub fn put_nested(&mut self, kind: u16, inner: impl FnOnce(&mut AttrBuf)) -> &mut AttrBuf {
        let mut sub = AttrBuf::new();
        inner(&mut sub);
        self.put(kind | NLA_F_NESTED, &sub.buf)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// One attribute of an answer: its type (flags masked off) and value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attr<'a> {
    pub kind: u16,
    pub data: &'a [u8],
}

impl<'a> Attr<'a> {
    pub fn u8(&self) -> Option<u8> {
        self.data.first().copied()
    }

    pub fn u16(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.data.get(..2)?.try_into().ok()?))
    }

    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.data.get(..4)?.try_into().ok()?))
    }

    /// A 64-bit value; the kernel's `uint` attributes may come as 4 bytes.
    pub fn u64(&self) -> Option<u64> {
        match self.data.len() {
            4 => self.u32().map(u64::from),
            n if n >= 8 => Some(u64::from_ne_bytes(self.data[..8].try_into().ok()?)),
            _ => None,
        }
    }

    /// A string up to its first NUL.
    pub fn str(&self) -> Option<&'a str> {
        let end = self.data.iter().position(|&b| b == 0).unwrap_or(self.data.len());
        std::str::from_utf8(&self.data[..end]).ok()
    }

    /// The attributes inside a nested one.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.data)
    }
}

/// Iterates the attributes of a block; a truncated or malformed one ends it
/// ([`Attrs::malformed`] tells).
#[derive(Clone, Debug)]
pub(crate) struct Attrs<'a> {
    rest: &'a [u8],
    bad: bool,
}

impl<'a> Attrs<'a> {
    pub fn new(block: &'a [u8]) -> Attrs<'a> {
        Attrs { rest: block, bad: false }
    }

    /// True once the iteration stopped at an attribute that does not fit.
    pub fn malformed(&self) -> bool {
        self.bad
    }

    /// The first attribute of type `kind`.
    pub fn get(mut self, kind: u16) -> Option<Attr<'a>> {
        Iterator::find(&mut self, |a| a.kind == kind)
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Attr<'a>;

    fn next(&mut self) -> Option<Attr<'a>> {
        if self.rest.len() < 4 {
            self.bad |= !self.rest.is_empty();
            self.rest = &[];
            return None;
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        let kind = u16::from_ne_bytes([self.rest[2], self.rest[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > self.rest.len() {
            self.bad = true;
            self.rest = &[];
            return None;
        }
        let data = &self.rest[4..len];
        self.rest = &self.rest[len.next_multiple_of(4).min(self.rest.len())..];
        Some(Attr { kind, data })
    }
}

/// One answer message: its generic-netlink command and attributes.
#[derive(Clone, Debug)]
pub(crate) struct Msg {
    pub cmd: u8,
    body: Vec<u8>,
}

impl Msg {
    pub fn attrs(&self) -> Attrs<'_> {
        Attrs::new(&self.body)
    }
}

/// A `NETLINK_GENERIC` socket of the calling thread's network namespace.
#[derive(Debug)]
pub(crate) struct GenlSocket {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl GenlSocket {
    pub fn open() -> Result<GenlSocket> {
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_GENERIC) };
        if fd < 0 {
            return Err(Error::last_os("generic netlink socket"));
        }
        // SAFETY: fd is new and owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // The kernel's reason in text, and errors without the request echoed
        // back. Both are best effort (Linux 4.3 / 4.12).
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let on: libc::c_int = 1;
            // SAFETY: on is a live c_int and the length is its size.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    SOL_NETLINK,
                    opt,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
        }
        Ok(GenlSocket { fd, seq: 0, buf: vec![0; RECV_BUF] })
    }

    /// Resolves family `name` (`CTRL_CMD_GETFAMILY`): `None` when this
    /// kernel has no such family (`ENOENT`).
    pub fn family(&mut self, name: &str) -> Result<Option<Family>> {
        let mut req = AttrBuf::new();
        req.put_str(CTRL_ATTR_FAMILY_NAME, name);
        let what = format!("generic netlink family {name:?}");
        let msgs = match self.exchange(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK, &req, &what) {
            Ok(m) => m,
            Err(e) if e.errno() == libc::ENOENT => return Ok(None),
            Err(e) => return Err(e),
        };
        let msg = msgs.first().ok_or_else(|| Error::from_errno(format!("{what}: no answer"), libc::EPROTO))?;
        parse_family(msg).map(Some).ok_or_else(|| Error::from_errno(format!("{what}: malformed answer"), libc::EPROTO))
    }

    /// A "do" request: `cmd` of `family` with `attrs`; returns the answers
    /// (usually one) once the kernel acknowledged it. `what` names the
    /// request in errors.
    pub fn request(&mut self, family: &Family, cmd: u8, attrs: &AttrBuf, what: &str) -> Result<Vec<Msg>> {
        self.exchange(family.id, cmd, family.version, NLM_F_ACK, attrs, what)
    }

    /// A dump of `cmd` of `family` filtered by `attrs`; calls `each` for
    /// every answer until the kernel's `NLMSG_DONE`.
    pub fn dump(
        &mut self,
        family: &Family,
        cmd: u8,
        attrs: &AttrBuf,
        what: &str,
        mut each: impl FnMut(&Msg) -> Result<()>,
    ) -> Result<()> {
        for m in self.exchange(family.id, cmd, family.version, NLM_F_DUMP, attrs, what)? {
            each(&m)?;
        }
        Ok(())
    }

    /// Sends one request and collects what answers it, up to its ack (a
    /// request) or `NLMSG_DONE` (a dump).
    fn exchange(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        flags: u16,
        attrs: &AttrBuf,
        what: &str,
    ) -> Result<Vec<Msg>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let body = attrs.as_bytes();
        let len = NLMSG_HDRLEN + GENL_HDRLEN + body.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&family.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        msg.extend_from_slice(&seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&[cmd, version, 0, 0]);
        msg.extend_from_slice(body);
        // SAFETY: send reads msg for its length; a netlink socket's default
        // destination is the kernel.
        if unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) } < 0 {
            return Err(Error::last_os(format!("{what}: send")));
        }
        let mut out = Vec::new();
        loop {
            let n = self.recv(what)?;
            match parse_batch(&self.buf[..n], seq, &mut out) {
                Ok(true) => return Ok(out),
                Ok(false) => {}
                Err(Reply::Errno(e, ext)) => {
                    let ext = ext.map(|m| format!(" ({m})")).unwrap_or_default();
                    let text = std::io::Error::from_raw_os_error(e);
                    return Err(Error::from_errno(format!("{what}: {text}{ext}"), e));
                }
                Err(Reply::Malformed) => {
                    return Err(Error::from_errno(format!("{what}: malformed netlink answer"), libc::EPROTO))
                }
            }
        }
    }

    fn recv(&mut self, what: &str) -> Result<usize> {
        loop {
            // SAFETY: recv writes at most buf.len() bytes; MSG_TRUNC returns the
            // datagram's real length, so a longer one is detected.
            let n = unsafe {
                libc::recv(self.fd.as_raw_fd(), self.buf.as_mut_ptr().cast(), self.buf.len(), libc::MSG_TRUNC)
            };
            if n >= 0 {
                let n = n as usize;
                if n > self.buf.len() {
                    return Err(Error::from_errno(
                        format!("{what}: netlink answer of {n} bytes is longer than {RECV_BUF}"),
                        libc::EMSGSIZE,
                    ));
                }
                return Ok(n);
            }
            let e = errno();
            if e != libc::EINTR {
                return Err(Error::from_errno(format!("{what}: receive"), e));
            }
        }
    }
}

/// Why an answer ended a request badly.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// `NLMSG_ERROR` (or a dump's `NLMSG_DONE`) with a negative errno, and
    /// the extended ack's message if any.
    Errno(i32, Option<String>),
    Malformed,
}

/// Adds the messages of one datagram to `out`. `Ok(true)`: the request is
/// complete (its ack, or a dump's `NLMSG_DONE`). Messages of another
/// sequence number (a late answer to an earlier request) are skipped.
fn parse_batch(mut b: &[u8], seq: u32, out: &mut Vec<Msg>) -> std::result::Result<bool, Reply> {
    let u16_at = |b: &[u8], at: usize| b.get(at..at + 2).map(|s| u16::from_ne_bytes([s[0], s[1]]));
    let u32_at = |b: &[u8], at: usize| b.get(at..at + 4).map(|s| u32::from_ne_bytes(s.try_into().unwrap()));
    while b.len() >= NLMSG_HDRLEN {
        let len = u32_at(b, 0).ok_or(Reply::Malformed)? as usize;
        let kind = u16_at(b, 4).ok_or(Reply::Malformed)?;
        let flags = u16_at(b, 6).ok_or(Reply::Malformed)?;
        let mseq = u32_at(b, 8).ok_or(Reply::Malformed)?;
        if len < NLMSG_HDRLEN || len > b.len() {
            return Err(Reply::Malformed);
        }
        let m = &b[..len];
        b = &b[len.next_multiple_of(4).min(b.len())..];
        if mseq != seq {
            continue;
        }
        match kind {
            NLMSG_ERROR => {
                let err = u32_at(m, NLMSG_HDRLEN).ok_or(Reply::Malformed)? as i32;
                if err == 0 {
                    return Ok(true);
                }
                // struct nlmsgerr: the error, then the request's header
                // (its payload too unless capped), then the ack attributes.
                let ext = if flags & NLM_F_ACK_TLVS != 0 {
                    let req_len = if flags & 0x100 != 0 {
                        // NLM_F_CAPPED: only the header was echoed.
                        NLMSG_HDRLEN
                    } else {
                        u32_at(m, NLMSG_HDRLEN + 4).unwrap_or(0) as usize
                    };
                    m.get(NLMSG_HDRLEN + 4 + req_len.next_multiple_of(4)..)
                        .and_then(|tlvs| Attrs::new(tlvs).get(NLMSGERR_ATTR_MSG))
                        .and_then(|a| a.str().map(str::to_string))
                        .filter(|s| !s.is_empty())
                } else {
                    None
                };
                return Err(Reply::Errno(err.checked_neg().filter(|e| *e > 0).unwrap_or(libc::EPROTO), ext));
            }
            NLMSG_DONE => {
                // A dump's end carries its status (0, or a negative errno).
                let err = u32_at(m, NLMSG_HDRLEN).map_or(0, |e| e as i32);
                if err < 0 {
                    return Err(Reply::Errno(-err, None));
                }
                return Ok(true);
            }
            _ => {
                let cmd = *m.get(NLMSG_HDRLEN).ok_or(Reply::Malformed)?;
                let body = m.get(NLMSG_HDRLEN + GENL_HDRLEN..).ok_or(Reply::Malformed)?;
                // A request's answer is followed by its ack, a dump's
                // (NLM_F_MULTI) by more and then NLMSG_DONE.
                out.push(Msg { cmd, body: body.to_vec() });
            }
        }
    }
    Ok(false)
}

fn parse_family(m: &Msg) -> Option<Family> {
    let (mut name, mut id, mut version, mut ops) = (None, None, 1u8, Vec::new());
    for a in m.attrs() {
        match a.kind {
            CTRL_ATTR_FAMILY_ID => id = a.u16(),
            CTRL_ATTR_FAMILY_NAME => name = a.str().map(str::to_string),
            CTRL_ATTR_VERSION => version = a.u32().map_or(1, |v| v as u8),
            CTRL_ATTR_OPS => {
                // One nested entry per op, numbered from 1.
                for op in a.nested() {
                    let attrs = op.nested();
                    let id = attrs.clone().get(CTRL_ATTR_OP_ID).and_then(|a| a.u32());
                    let flags = attrs.get(CTRL_ATTR_OP_FLAGS).and_then(|a| a.u32()).unwrap_or(0);
                    if let Some(id) = id {
                        ops.push((id, flags));
                    }
                }
            }
            _ => {}
        }
    }
    Some(Family { name: name?, id: id?, version, ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(m.len().next_multiple_of(4), 0);
        m
    }

    #[test]
    fn attributes_round_trip_with_padding_and_nesting() {
        let mut b = AttrBuf::new();
        b.put_u32(1, 7).put_str(2, "abc").put_u64(3, 1 << 40).put_nested(4, |n| {
            n.put_u32(1, 9).put(2, &[1]);
        });
        let all: Vec<_> = Attrs::new(b.as_bytes()).collect();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].u32(), Some(7));
        assert_eq!(all[1].str(), Some("abc"));
        assert_eq!(all[2].u64(), Some(1 << 40));
        assert_eq!(all[3].kind, 4, "the nested flag is masked off");
        let inner: Vec<_> = all[3].nested().collect();
        assert_eq!((inner[0].u32(), inner[1].u8()), (Some(9), Some(1)));
        // A 4-byte "uint" reads as u64 too.
        assert_eq!(Attr { kind: 0, data: &5u32.to_ne_bytes() }.u64(), Some(5));
    }

    #[test]
    fn truncated_attributes_stop_the_walk_and_say_so() {
        let mut b = AttrBuf::new();
        b.put_u32(1, 7).put_u32(2, 8);
        let bytes = b.as_bytes();
        let mut it = Attrs::new(&bytes[..bytes.len() - 2]);
        assert_eq!(it.next().unwrap().u32(), Some(7));
        assert!(it.next().is_none());
        assert!(it.malformed());
        let mut bad = bytes.to_vec();
        bad[0] = 200;
        let mut it = Attrs::new(&bad);
        assert!(it.next().is_none() && it.malformed());
    }

    #[test]
    fn errors_carry_the_extended_ack_message() {
        let mut payload = (-libc::ENODEV).to_ne_bytes().to_vec();
        payload.extend_from_slice(&nlmsg(0x20, NLM_F_REQUEST, 5, &[])[..NLMSG_HDRLEN]);
        let mut tlv = AttrBuf::new();
        tlv.put_str(NLMSGERR_ATTR_MSG, "no such device");
        payload.extend_from_slice(tlv.as_bytes());
        let m = nlmsg(NLMSG_ERROR, NLM_F_ACK_TLVS | 0x100, 5, &payload);
        let mut out = Vec::new();
        assert_eq!(parse_batch(&m, 5, &mut out), Err(Reply::Errno(libc::ENODEV, Some("no such device".into()))));
        // Another request's answer is skipped.
        assert_eq!(parse_batch(&m, 6, &mut out), Ok(false));
        // A dump: two answers, then DONE.
        let mut batch = nlmsg(0x20, NLM_F_MULTI, 6, &[1, 1, 0, 0]);
        batch.extend(nlmsg(0x20, NLM_F_MULTI, 6, &[1, 1, 0, 0, 8, 0, 1, 0, 3, 0, 0, 0]));
        batch.extend(nlmsg(NLMSG_DONE, NLM_F_MULTI, 6, &0i32.to_ne_bytes()));
        assert_eq!(parse_batch(&batch, 6, &mut out), Ok(true));
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].attrs().get(1).and_then(|a| a.u32()), Some(3));
        assert_eq!(parse_batch(&batch[..10], 6, &mut out), Ok(false), "a short tail is no message");
        let mut bad = batch.clone();
        bad[0] = 255;
        assert_eq!(parse_batch(&bad, 6, &mut out), Err(Reply::Malformed));
    }

    #[test]
    fn the_controller_names_itself_and_unknown_families_are_none() {
        let mut nl = GenlSocket::open().unwrap();
        let ctrl = nl.family("nlctrl").unwrap().expect("nlctrl always exists");
        assert_eq!(ctrl.id, GENL_ID_CTRL);
        assert!(
            ctrl.has_op(CTRL_CMD_GETFAMILY) && ctrl.can_do(CTRL_CMD_GETFAMILY) && ctrl.can_dump(CTRL_CMD_GETFAMILY)
        );
        assert_eq!(nl.family("xskrs-nonexist").unwrap(), None);
        // A request the kernel refuses reports its errno and context.
        let e = nl.request(&ctrl, 200, &AttrBuf::new(), "bogus op").unwrap_err();
        assert!(e.to_string().starts_with("bogus op: "), "{e}");
        assert_eq!(e.errno(), libc::EOPNOTSUPP, "{e}");
    }
}
