//! [`Redirect`]: this process's built-in program on an interface, held
//! without a socket (for libxdp's `xsk_setup_xdp_prog`, whose caller fills
//! the XSKMAP itself).

use super::{Attachment, XdpMode};
use crate::error::Result;
use crate::netdev::Netdev;
use std::os::fd::RawFd;

/// A counted reference to this process's redirect program and XSKMAP on one
/// interface: the same program the process's sockets there use (they share
/// it), attached while any reference lives, and detached by the kernel when
/// the last one goes or the process exits.
///
/// ```no_run
/// use xsk_rs::xdp::{Redirect, XdpMode};
/// let prog = Redirect::attach("eth0", XdpMode::Auto)?;
/// // Point queue 0 at a socket created with XdpMode::None:
/// // xsk_rs::xdp::update_xskmap(prog.xskmap_fd(), 0, sock.fd())?;
/// # Ok::<(), xsk_rs::Error>(())
/// ```
#[derive(Debug)]
pub struct Redirect(Attachment);

impl Redirect {
    /// Attaches the program to `ifname` (of the calling thread's namespace)
    /// in `mode` (`Auto`, `Skb` or `Drv`), or joins the one this process, or
    /// another xsk_rs process, has there. `Auto` tries native and falls back
    /// to generic. A program of anyone else on the interface is never
    /// replaced or joined: `Busy`.
    pub fn attach(ifname: &str, mode: XdpMode) -> Result<Redirect> {
        Attachment::acquire(&Netdev::lookup(ifname)?, mode).map(Redirect)
    }

    /// Joins the program this process has attached on `ifindex` of the
    /// calling thread's namespace; `None` if it has none there.
    pub fn find(ifindex: u32) -> Result<Option<Redirect>> {
        Ok(Attachment::find(ifindex)?.map(Redirect))
    }

    /// The XSKMAP's fd (valid while this reference lives): entry `q` holds
    /// the socket that receives queue `q`.
    pub fn xskmap_fd(&self) -> RawFd {
        self.0.map_fd()
    }

    /// The interface's index.
    pub fn ifindex(&self) -> u32 {
        self.0.ifindex()
    }

    /// The mode really attached: `Skb` or `Drv`.
    pub fn mode(&self) -> XdpMode {
        self.0.mode()
    }

    /// Detaches the program from the interface now, though references (this
    /// one, the sockets', other processes' that joined it) remain: their link
    /// is defunct from then on, and the next socket or [`Redirect::attach`]
    /// there attaches a fresh program. `Busy` for a program this process
    /// joined from the xsk_rs process that attached it.
    pub fn detach(&self) -> Result<()> {
        self.0.detach()
    }
}
