//! The packet layer: sockets that send and receive packets, with the UMEM's
//! frames managed inside. This is the `xdp-socket` crate's API, made sound; its
//! items are re-exported at the crate's top level, so a program written for
//! that crate builds when its `use xdp_socket::…` lines say `use xsk_rs::…`.
//!
//! A socket comes in halves: a [`TxSocket`] that sends and an [`RxSocket`] that
//! receives. A bi socket ([`create_bi_socket`]) is one AF_XDP socket with one
//! UMEM, split into both halves; each half is `Send`, owns its two rings and its
//! own frames, and runs on its own thread with no lock between them.
//!
//! Each half has two ways in:
//! - **Packets:** [`SendExt::send`] copies a packet into a free frame and sends
//!   it; [`RxSocket::recv`] copies one out; [`RxSocket::recv_batch`] lends a
//!   batch of received packets in place and gives their frames back to the
//!   kernel when dropped.
//! - **Descriptors** (the seed crate's flow, zero copy): `seek` → `peek` →
//!   `commit` → `kick`. On TX, [`TxSocket::seek_n`] reserves descriptors that
//!   carry free frames, [`TxSocket::peek_at`] gives a frame to write,
//!   [`TxSocket::commit_n`] publishes and [`TxSocket::kick`] wakes the kernel.
//!   On RX, [`RxSocket::seek_n`] finds received packets, [`RxSocket::peek_at`]
//!   reads one, [`RxSocket::commit_n`] gives their frames back.
//!
//! No frame address ever reaches the user, so no frame can be handed out twice
//! or lost: every frame of a half is in exactly one place, counted by
//! [`TxSocket::free_frames`] and [`TxSocket::in_flight_frames`] (and the RX
//! equivalents). The ring-level API ([`crate::socket`], [`crate::umem`],
//! [`crate::ring`]) stays the expert path.
//!
//! ```no_run
//! use xsk_rs::{create_bi_socket_by_name, PollWaitExt, SendExt};
//! use std::time::Duration;
//!
//! # fn main() -> std::io::Result<()> {
//! // Echo every packet on veth0 queue 0 back out.
//! let (mut tx, mut rx) = create_bi_socket_by_name("veth0", 0, None)?;
//! loop {
//!     if !rx.poll_wait(Some(Duration::from_secs(1)))? {
//!         continue;
//!     }
//!     let batch = rx.recv_batch(64)?;
//!     for pkt in batch.iter() {
//!         // Ok(false): every TX frame is in flight; this echo drops the packet.
//!         tx.send(pkt, None)?;
//!     }
//! } // dropping `batch` each time round gives its frames back
//! # }
//! ```
//!
//! `examples/tx.rs`, `examples/rx.rs` and `examples/bi_echo.rs` in the
//! repository are whole programs.
//!
//! # Coming from `xdp-socket`
//!
//! The names and the flow are the same; these differ:
//! - [`XdpConfig`] has more fields than the seed's three, so a struct literal
//!   needs `..Default::default()`.
//! - Errors are [`crate::Error`] (no `RingError`); `?` converts them into
//!   [`std::io::Error`], keeping the kind, message and errno
//!   ([`crate::Error::errno_of`]).
//! - "No room" and "nothing arrived" are not errors: `send` returns
//!   `Ok(false)`, `seek`/`seek_n` a count (0 too). Code that relied on an
//!   error for back-pressure must look at these values. Only
//!   `seek_and_peek`, which must hand out a buffer, says it with an error:
//!   `Error::WouldBlock` (`EAGAIN`, kind `WouldBlock`).
//! - `send` and friends reserve their own descriptor and kick the kernel
//!   themselves; as in the seed, they come with [`SendExt`].
//! - [`PollWaitExt::poll_wait`] honours its timeout and says whether the half
//!   is ready.
//! - Creating an RX half attaches the library's XDP program (see
//!   [`XdpConfig::xdp_mode`]); nothing else needs loading.

#[cfg(feature = "tokio")]
mod async_io;
mod config;
mod rx;
mod shared_umem;
mod socket;
mod tx;
mod tx_metadata;
mod wait;

#[cfg(feature = "tokio")]
pub use async_io::{AsyncRxSocket, AsyncSocket, AsyncTxSocket};
pub use config::{Direction, XdpConfig};
pub use rx::{Rx, RxBatch, RxBatchIter, RxPacket};
pub use shared_umem::{create_bi_socket_on, create_rx_socket_on, create_socket_on, create_tx_socket_on, SharedUmem};
pub use socket::{RxSocket, Socket, TxSocket};
pub use tx::Tx;
pub use tx_metadata::TxOptions;
pub use wait::{PollWaitExt, SendExt};

use crate::error::{Error, Result};
use socket::Shared;

/// Creates a socket that only sends, on queue `if_queue` of the interface with
/// index `if_index` (in the calling thread's network namespace). It attaches no
/// XDP program: nothing is redirected to a socket without an RX ring.
///
/// `config` `None` means [`XdpConfig::default`]. Errors name what went wrong,
/// and convert into [`std::io::Error`] with `?`: `EINVAL` for a geometry that
/// would strand frames (the message names the rule), `ENODEV` for an index
/// with no interface.
///
/// ```no_run
/// use xsk_rs::{create_tx_socket, netdev::Netdev, XdpConfig};
///
/// # fn main() -> std::io::Result<()> {
/// let eth0 = Netdev::lookup("eth0")?;
/// let config = XdpConfig { tx_frames: Some(1024), ..Default::default() };
/// let mut tx = create_tx_socket(eth0.ifindex, 0, Some(config))?;
/// assert_eq!(tx.total_frames(), 1024);
/// # Ok(())
/// # }
/// ```
pub fn create_tx_socket(if_index: u32, if_queue: u32, config: Option<XdpConfig>) -> Result<TxSocket> {
    create_tx_socket_by_name(&ifname(if_index)?, if_queue, config)
}

/// Creates a socket that only receives, on queue `if_queue` of interface
/// `if_index`, and (unless `config.xdp_mode` is `Some(XdpMode::None)`) steers
/// the queue to it with the library's built-in XDP program, detached when the
/// process's last socket on the interface goes (or the process dies). Every
/// frame of the half is lent to the kernel at once.
///
/// ```no_run
/// use xsk_rs::{create_rx_socket, netdev::Netdev, xdp::XdpMode, XdpConfig};
///
/// # fn main() -> std::io::Result<()> {
/// let config = XdpConfig { rx_frames: Some(2048), xdp_mode: Some(XdpMode::Skb), ..Default::default() };
/// let rx = create_rx_socket(Netdev::lookup("eth0")?.ifindex, 0, Some(config))?;
/// assert_eq!(rx.in_flight_frames(), 2048);
/// # Ok(())
/// # }
/// ```
pub fn create_rx_socket(if_index: u32, if_queue: u32, config: Option<XdpConfig>) -> Result<RxSocket> {
    create_rx_socket_by_name(&ifname(if_index)?, if_queue, config)
}

/// Creates one socket that sends and receives, split into its two halves,
/// which share one UMEM; each has its own frames ([`XdpConfig::tx_frames`],
/// [`XdpConfig::rx_frames`]) and may run on its own thread.
pub fn create_bi_socket(if_index: u32, if_queue: u32, config: Option<XdpConfig>) -> Result<(TxSocket, RxSocket)> {
    create_bi_socket_by_name(&ifname(if_index)?, if_queue, config)
}

/// Creates the halves `direction` asks for: `(Some, None)` for
/// [`Direction::Tx`], `(None, Some)` for [`Direction::Rx`], both for
/// [`Direction::Both`].
///
/// ```no_run
/// use xsk_rs::{create_socket, netdev::Netdev, Direction};
///
/// # fn main() -> std::io::Result<()> {
/// let (tx, rx) = create_socket(Netdev::lookup("eth0")?.ifindex, 0, Direction::Both, None)?;
/// let (tx, rx) = (tx.expect("asked for both"), rx.expect("asked for both"));
/// std::thread::spawn(move || drop(tx)); // each half may live on its own thread
/// # drop(rx);
/// # Ok(())
/// # }
/// ```
pub fn create_socket(
    if_index: u32,
    if_queue: u32,
    direction: Direction,
    config: Option<XdpConfig>,
) -> Result<(Option<TxSocket>, Option<RxSocket>)> {
    create_socket_by_name(&ifname(if_index)?, if_queue, direction, config)
}

/// [`create_tx_socket`] on the interface named `ifname`.
pub fn create_tx_socket_by_name(ifname: &str, if_queue: u32, config: Option<XdpConfig>) -> Result<TxSocket> {
    let (tx, _) = create_socket_by_name(ifname, if_queue, Direction::Tx, config)?;
    Ok(tx.expect("a tx socket has a tx half"))
}

/// [`create_rx_socket`] on the interface named `ifname`.
pub fn create_rx_socket_by_name(ifname: &str, if_queue: u32, config: Option<XdpConfig>) -> Result<RxSocket> {
    let (_, rx) = create_socket_by_name(ifname, if_queue, Direction::Rx, config)?;
    Ok(rx.expect("an rx socket has an rx half"))
}

/// [`create_bi_socket`] on the interface named `ifname`.
pub fn create_bi_socket_by_name(
    ifname: &str,
    if_queue: u32,
    config: Option<XdpConfig>,
) -> Result<(TxSocket, RxSocket)> {
    match create_socket_by_name(ifname, if_queue, Direction::Both, config)? {
        (Some(tx), Some(rx)) => Ok((tx, rx)),
        _ => unreachable!("a bi socket has both halves"),
    }
}

/// [`create_socket`] on the interface named `ifname`.
pub fn create_socket_by_name(
    ifname: &str,
    if_queue: u32,
    direction: Direction,
    config: Option<XdpConfig>,
) -> Result<(Option<TxSocket>, Option<RxSocket>)> {
    let plan = config
        .unwrap_or_default()
        .plan(direction)
        .map_err(|e| e.context(&format!("{} socket on {ifname} queue {if_queue}", direction.name())))?;
    let shared = Shared::create(ifname, if_queue, &plan)?;
    Ok(socket::split(shared, &plan))
}

/// The name of the interface with index `if_index` in this network namespace.
fn ifname(if_index: u32) -> Result<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(if_index, buf.as_mut_ptr()) };
    if p.is_null() {
        return Err(Error::NoDevice(format!("no interface with index {if_index} in this thread's network namespace")));
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}
