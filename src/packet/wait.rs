//! The seed crate's extension traits: [`SendExt`] and [`PollWaitExt`].

use super::rx::Rx;
use super::socket::{deadline, Socket};
use super::tx::Tx;
use crate::error::Result;
use std::time::Duration;

/// Sending whole packets on a [`crate::TxSocket`], frames managed inside.
///
/// [`crate::TxSocket`] has these methods of its own too, so calling them needs
/// no import; the trait is for code generic over senders (and for programs
/// written for the `xdp-socket` crate, where they exist only here).
///
/// ```no_run
/// use xsk_rs::{create_tx_socket_by_name, SendExt};
///
/// /// Sends each payload behind the same Ethernet header, waiting for room.
/// fn send_all<S: SendExt>(tx: &mut S, eth: &[u8; 14], payloads: &[&[u8]]) -> xsk_rs::Result<()> {
///     for p in payloads {
///         tx.send_blocking(p, Some(eth))?;
///     }
///     Ok(())
/// }
///
/// # fn main() -> std::io::Result<()> {
/// let mut tx = create_tx_socket_by_name("veth0", 0, None)?;
/// send_all(&mut tx, &[0xff; 14], &[b"one", b"two"])?;
/// # Ok(())
/// # }
/// ```
pub trait SendExt {
    /// Copies `header` (if any) then `data` into one frame and sends it.
    /// `Ok(true)` when queued, `Ok(false)` when there was no room: no free
    /// frame or a full TX ring. A packet longer than the frame (or the
    /// interface's MTU) is `Error::TooLong`, an empty one
    /// `Error::InvalidArgument`.
    fn send(&mut self, data: &[u8], header: Option<&[u8]>) -> Result<bool>;

    /// [`SendExt::send`], waiting as long as it takes for room.
    fn send_blocking(&mut self, data: &[u8], header: Option<&[u8]>) -> Result<()>;

    /// [`SendExt::send`], waiting up to `timeout` for room: `Ok(false)` when
    /// it passed first.
    fn send_timeout(&mut self, data: &[u8], header: Option<&[u8]>, timeout: Duration) -> Result<bool>;

    /// Sends each packet in its own frame with one kick for all; returns how
    /// many were queued (fewer when room ran out).
    fn send_batch<P: AsRef<[u8]>>(&mut self, packets: &[P]) -> Result<usize>;
}

impl SendExt for Socket<Tx> {
    fn send(&mut self, data: &[u8], header: Option<&[u8]>) -> Result<bool> {
        Socket::<Tx>::send(self, data, header)
    }

    fn send_blocking(&mut self, data: &[u8], header: Option<&[u8]>) -> Result<()> {
        Socket::<Tx>::send_blocking(self, data, header)
    }

    fn send_timeout(&mut self, data: &[u8], header: Option<&[u8]>, timeout: Duration) -> Result<bool> {
        Socket::<Tx>::send_timeout(self, data, header, timeout)
    }

    fn send_batch<P: AsRef<[u8]>>(&mut self, packets: &[P]) -> Result<usize> {
        Socket::<Tx>::send_batch(self, packets)
    }
}

/// Blocking until a half can make progress.
///
/// Unlike the seed crate's, the timeout is honoured: `None` waits without
/// limit, `Some(t)` returns `Ok(false)` after about `t` (never before) when
/// nothing became ready. Signals do not end the wait early.
///
/// ```no_run
/// use std::time::Duration;
/// use xsk_rs::{create_bi_socket_by_name, PollWaitExt};
///
/// # fn main() -> std::io::Result<()> {
/// let (mut tx, mut rx) = create_bi_socket_by_name("veth0", 0, None)?;
/// let frame = [0u8; 60];
/// while !tx.send(&frame, None)? {
///     tx.poll_wait(None)?; // until a frame comes back
/// }
/// let mut buf = [0u8; 2048];
/// if rx.poll_wait(Some(Duration::from_millis(100)))? {
///     let len = rx.recv(&mut buf)?.expect("poll_wait said one arrived");
///     println!("{len} bytes");
/// } else {
///     println!("nothing within 100 ms");
/// }
/// # Ok(())
/// # }
/// ```
pub trait PollWaitExt {
    /// Waits until the half can make progress: for a [`crate::RxSocket`],
    /// until a packet has arrived (at once while packets found by `seek` are
    /// still held); for a [`crate::TxSocket`], until a descriptor with a free
    /// frame can be reserved (at once while one is reserved; it drives the
    /// kernel's sending meanwhile, so completed frames come back). `Ok(true)`
    /// when ready, `Ok(false)` at the timeout.
    fn poll_wait(&self, timeout: Option<Duration>) -> Result<bool>;
}

impl PollWaitExt for Socket<Tx> {
    fn poll_wait(&self, timeout: Option<Duration>) -> Result<bool> {
        self.wait_for_room(deadline(timeout))
    }
}

impl PollWaitExt for Socket<Rx> {
    fn poll_wait(&self, timeout: Option<Duration>) -> Result<bool> {
        self.wait_readable(deadline(timeout))
    }
}
