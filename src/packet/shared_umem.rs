//! [`SharedUmem`]: one UMEM under packet-layer sockets on several queues or
//! interfaces.

use super::config::{Direction, Plan, XdpConfig};
use super::socket::{split, RxSocket, Shared, TxSocket};
use crate::error::{Error, Result};
use crate::netdev::Netdev;
use crate::umem::{Umem, UmemConfig};
use std::sync::{Arc, Mutex, PoisonError};

/// One UMEM for packet-layer sockets on several queues or interfaces: one
/// registered area instead of one per socket. Each socket created on it
/// ([`create_socket_on`] and its siblings) owns a range of its frames, cut
/// from the frames not yet given out, and on its queue it gets the UMEM's
/// fill and completion rings (the UMEM's own on the queue of the first
/// socket, a pair of that queue's own elsewhere; see [`crate::umem::Umem`]).
///
/// Packets move between its sockets by copy (receive on one, send on the
/// other), as between any two sockets; forwarding the frame itself, without a
/// copy, is the ring API's ([`crate::umem::Umem::rings_for`]).
///
/// Two rules, both for frames the kernel may still hold: a socket's frames are
/// not handed out again when it is dropped (its queue's fill ring can still
/// hold them), and the UMEM takes one socket per queue for its whole life (a
/// queue's fill and completion rings are its halves' alone). Both are
/// refused with a message: `ENOMEM` when the frames left are too few,
/// `EBUSY` for a queue that had a socket.
///
/// ```no_run
/// use xsk_rs::{create_bi_socket_on, SharedUmem, XdpConfig};
///
/// # fn main() -> std::io::Result<()> {
/// // Room for two sockets of 1024 RX and 1024 TX frames each.
/// let per_socket = XdpConfig { rx_frames: Some(1024), tx_frames: Some(1024), ..Default::default() };
/// let umem = SharedUmem::new(4096, Some(per_socket))?;
/// let (tx_a, rx_a) = create_bi_socket_on(&umem, "veth0", 0, Some(per_socket))?;
/// let (tx_b, rx_b) = create_bi_socket_on(&umem, "veth2", 0, Some(per_socket))?;
/// assert_eq!(umem.free_frames(), 0);
/// # drop((tx_a, rx_a, tx_b, rx_b));
/// # Ok(())
/// # }
/// ```
pub struct SharedUmem {
    inner: Arc<SharedUmemInner>,
}

/// What the sockets on a [`SharedUmem`] keep alive.
pub(crate) struct SharedUmemInner {
    umem: Umem,
    /// The UMEM's geometry and ring sizes, which every socket on it uses.
    cfg: UmemConfig,
    given: Mutex<Given>,
}

/// The frames given out so far, and the queues that had a socket.
struct Given {
    frames: u32,
    queues: Vec<(u32, u32)>,
}

impl SharedUmemInner {
    pub(crate) fn umem(&self) -> &Umem {
        &self.umem
    }
}

impl SharedUmem {
    /// A UMEM of `frames` frames whose geometry and rings come from
    /// `config` (`None`: the defaults): `frame_size`, `frame_headroom` and
    /// `huge_page` as for a socket, and a fill and a completion ring on each
    /// queue sized for `config`'s `rx_frames` and `tx_frames` (twice the RX
    /// frames for the fill ring, as [`XdpConfig::fill_size`] says), so those
    /// are the most frames one socket on it can have each way.
    pub fn new(frames: u32, config: Option<XdpConfig>) -> Result<SharedUmem> {
        let config = config.unwrap_or_default();
        let plan = config.plan(Direction::Both).map_err(|e| e.context("shared umem"))?;
        if frames == 0 {
            return Err(Error::invalid("shared umem of 0 frames: give at least one socket's worth"));
        }
        let cfg = UmemConfig { frame_count: frames, ..plan.umem };
        let umem = Umem::with_pages(&cfg, plan.pages)?;
        let given = Mutex::new(Given { frames: 0, queues: Vec::new() });
        Ok(SharedUmem { inner: Arc::new(SharedUmemInner { umem, cfg, given }) })
    }

    /// Frames in the UMEM.
    pub fn frame_count(&self) -> u32 {
        self.inner.cfg.frame_count
    }

    /// Frames not yet given to a socket.
    pub fn free_frames(&self) -> u32 {
        self.frame_count() - self.given().frames
    }

    /// Bytes in each frame.
    pub fn frame_size(&self) -> u32 {
        self.inner.cfg.frame_size
    }

    fn given(&self) -> std::sync::MutexGuard<'_, Given> {
        // Every update is complete before anything that could panic.
        self.inner.given.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`crate::create_socket_by_name`] on `umem`: the halves `direction` asks
/// for, with `config`'s frames and rings (`None`: the defaults) cut from the
/// frames `umem` has not given out. The UMEM decides the frame geometry and
/// the fill and completion rings: `config` leaves `frame_size`,
/// `frame_headroom`, `fill_size`, `comp_size` and `huge_page` unset or gives
/// the UMEM's, and its `rx_frames` and `tx_frames` must fit those rings.
pub fn create_socket_on(
    umem: &SharedUmem,
    ifname: &str,
    if_queue: u32,
    direction: Direction,
    config: Option<XdpConfig>,
) -> Result<(Option<TxSocket>, Option<RxSocket>)> {
    let ctx = format!("{} socket on {ifname} queue {if_queue} on a shared umem", direction.name());
    let mut plan = plan_on(&umem.inner.cfg, direction, config.unwrap_or_default()).map_err(|e| e.context(&ctx))?;
    let key = (Netdev::lookup(ifname)?.ifindex, if_queue);
    let mut given = umem.given();
    if given.queues.contains(&key) {
        return Err(Error::Busy(format!(
            "{ctx}: this umem had a socket on that queue already; it takes one socket per queue for its life, \
             because the queue's fill ring may still hold that socket's frames"
        )));
    }
    let need = plan.rx_frames as u64 + plan.tx_frames as u64;
    let left = umem.frame_count() - given.frames;
    if need > left as u64 {
        return Err(Error::from_errno(
            format!(
                "{ctx}: {need} frames asked for ({} rx + {} tx), {left} of the umem's {} are left (a dropped \
                 socket's frames are not handed out again)",
                plan.rx_frames,
                plan.tx_frames,
                umem.frame_count()
            ),
            libc::ENOMEM,
        ));
    }
    plan.first_frame = given.frames;
    let shared = Shared::create_on(&umem.inner, ifname, if_queue, &plan)?;
    // The socket looked the name up again: should it name another device
    // by now (renamed in between), that device's queue may have a socket of
    // this UMEM, whose rings two halves must never share.
    let bound = (shared.sock.ifindex(), if_queue);
    if bound != key && given.queues.contains(&bound) {
        return Err(Error::Busy(format!(
            "{ctx}: {ifname} was renamed while the socket was made, and now names a device whose queue has a \
             socket of this umem already"
        )));
    }
    given.frames += need as u32;
    given.queues.push(bound);
    Ok(split(shared, &plan))
}

/// [`create_socket_on`] for a socket that only sends.
pub fn create_tx_socket_on(
    umem: &SharedUmem,
    ifname: &str,
    if_queue: u32,
    config: Option<XdpConfig>,
) -> Result<TxSocket> {
    let (tx, _) = create_socket_on(umem, ifname, if_queue, Direction::Tx, config)?;
    Ok(tx.expect("a tx socket has a tx half"))
}

/// [`create_socket_on`] for a socket that only receives.
pub fn create_rx_socket_on(
    umem: &SharedUmem,
    ifname: &str,
    if_queue: u32,
    config: Option<XdpConfig>,
) -> Result<RxSocket> {
    let (_, rx) = create_socket_on(umem, ifname, if_queue, Direction::Rx, config)?;
    Ok(rx.expect("an rx socket has an rx half"))
}

/// [`create_socket_on`] for a socket that sends and receives.
pub fn create_bi_socket_on(
    umem: &SharedUmem,
    ifname: &str,
    if_queue: u32,
    config: Option<XdpConfig>,
) -> Result<(TxSocket, RxSocket)> {
    match create_socket_on(umem, ifname, if_queue, Direction::Both, config)? {
        (Some(tx), Some(rx)) => Ok((tx, rx)),
        _ => unreachable!("a bi socket has both halves"),
    }
}

/// The plan of a socket on a UMEM of geometry `u`: `config` may not ask for
/// another geometry or other fill and completion rings.
fn plan_on(u: &UmemConfig, direction: Direction, config: XdpConfig) -> Result<Plan> {
    let fixed = [
        ("frame_size", config.frame_size, u.frame_size),
        ("frame_headroom", config.frame_headroom, u.frame_headroom),
        ("fill_size", config.fill_size, u.fill_size),
        ("comp_size", config.comp_size, u.comp_size),
    ];
    for (name, asked, have) in fixed {
        if let Some(v) = asked.filter(|&v| v != have) {
            return Err(Error::invalid(format!(
                "{name} {v}: a socket on a shared umem has the umem's ({have}); leave it unset"
            )));
        }
    }
    // The UMEM's registration decides TX metadata and software checksums:
    // a socket asking otherwise would lay out or fill its frames wrongly.
    let have_meta = u.tx_metadata_len != 0;
    let have_csum = u.flags & crate::umem::UMEM_TX_SW_CSUM != 0;
    for (name, asked, have) in
        [("tx_metadata", config.tx_metadata, have_meta), ("tx_sw_csum", config.tx_sw_csum, have_csum)]
    {
        if let Some(v) = asked.filter(|&v| v != have) {
            return Err(Error::invalid(format!(
                "{name} {v}: a socket on a shared umem has the umem's ({have}); leave it unset"
            )));
        }
    }
    if config.huge_page.is_some() || config.huge_page_fallback.is_some() {
        return Err(Error::invalid(
            "huge_page: a socket on a shared umem has the umem's pages; leave huge_page and huge_page_fallback unset",
        ));
    }
    XdpConfig {
        frame_size: Some(u.frame_size),
        frame_headroom: Some(u.frame_headroom),
        fill_size: Some(u.fill_size),
        comp_size: Some(u.comp_size),
        tx_metadata: Some(have_meta),
        tx_sw_csum: Some(have_csum),
        ..config
    }
    .plan(direction)
}
