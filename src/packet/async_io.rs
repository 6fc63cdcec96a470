//! The async halves (feature `tokio`): a half registered with tokio's
//! reactor through [`AsyncFd`], and the waits that need it. What wakes a
//! task, and why the TX wait has a timer, is documented on [`AsyncSocket`].

use super::rx::Rx;
use super::socket::{RxSocket, Socket, TxSocket};
use super::tx::Tx;
use super::wait::SendExt;
use super::RxBatch;
use crate::error::{Error, Result};
use futures_core::Stream;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// The first wait for a TX edge before looking again without one.
const BACKOFF_MIN: Duration = Duration::from_millis(1);
/// The longest wait for a TX edge, reached by doubling while none comes.
const BACKOFF_MAX: Duration = Duration::from_millis(8);

/// A [`Socket`] half whose waits are futures on a tokio runtime (feature
/// `tokio`): [`AsyncTxSocket`] sends, [`AsyncRxSocket`] receives and is a
/// [`Stream`] of packets.
///
/// It is `Send` (a task holding it may move between worker threads) and, like
/// the half, not `Sync`. The sync half stays reachable through
/// [`Self::get_ref`] and [`Self::get_mut`], e.g. for the descriptor API
/// (`seek`/`peek`/`commit`) after [`AsyncTxSocket::ready`].
///
/// ```no_run
/// use xsk_rs::{create_bi_socket_by_name, AsyncRxSocket, AsyncTxSocket};
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> std::io::Result<()> {
///     // Echo every packet on veth0 queue 0 back out.
///     let (tx, rx) = create_bi_socket_by_name("veth0", 0, None)?;
///     let (mut tx, mut rx) = (AsyncTxSocket::new(tx)?, AsyncRxSocket::new(rx)?);
///     loop {
///         let batch = rx.recv_batch(64).await?;
///         for pkt in batch.iter() {
///             tx.send(pkt, None).await?;
///         }
///     }
/// }
/// ```
///
/// # What wakes a task
///
/// The reactor watches the socket with edge-triggered epoll: a task waiting
/// on a half wakes when the kernel calls the socket's wait queue with a
/// matching event *and* `xsk_poll` (net/xdp/xsk.c), asked at that moment,
/// reports it. The kernel's side, read in Linux 6.18 and measured on veth
/// there (copy mode):
///
/// - **RX.** Every batch the kernel puts on the RX ring ends in `xsk_flush`
///   → `sock_def_readable`, an `EPOLLIN` wakeup; `xsk_poll` reports `EPOLLIN`
///   while the RX ring is not empty. Measured: one edge per arrival, none
///   for packets still on the ring. So [`AsyncRxSocket`] forgets readiness
///   only after it has cleared it *and then* found the ring empty: a packet
///   that arrives after the look raises a new edge, one left from before is
///   found by the look. The look also wakes the driver when the fill ring
///   asks for it (zero-copy), so frames are there to receive into. No timer
///   is needed.
/// - **TX.** `xsk_poll` reports `EPOLLOUT` while the TX ring is at most half
///   full (`xsk_tx_writeable`); the write-space wakeup comes when the kernel
///   consumes TX descriptors (`__xsk_tx_release`, and in zero-copy
///   `xsk_tx_peek_release_desc_batch`) and, in copy mode, when a sent skb is
///   freed (`xsk_destruct_skb` → `sock_wfree` → `sock_def_write_space_wfree`,
///   net/core/sock.c, while the socket's send buffer is under half used).
///   Frames come back to user space on the completion ring, and that has no
///   event of its own: in zero-copy mode `xsk_tx_completed` only moves the
///   ring's producer. Nor does anything wake the socket when its interface
///   comes back up: while it is down `xsk_poll` reports nothing and a kick
///   fails with `ENETDOWN`, so descriptors committed then wait on the TX
///   ring; measured, no edge came when the link came up, and the 64 frames
///   went out at the next kick. In copy mode TX moves only inside a syscall
///   (a kick, or `xsk_poll` itself), so an edge may never come for frames
///   that nobody kicks.
///
///   So [`AsyncTxSocket`], when it finds no room, kicks (which sends what
///   is committed, and in copy mode on veth completed every frame before
///   returning, with an `EPOLLOUT` edge), looks again, and then waits for
///   the next edge *or* a timer, whichever comes first, starting at 1 ms and
///   doubling to 8 ms while no edge comes (an edge resets it). A waiting
///   sender so costs at most a wakeup and a kick per millisecond or so, and
///   is never stranded by a completion or a link change that raised no event.
///
/// The runtime needs its IO and time drivers (`#[tokio::main]` and
/// `Builder::enable_all` enable both); [`AsyncTxSocket::new`] and
/// [`AsyncRxSocket::new`] panic outside a runtime, as [`AsyncFd`] does.
///
/// Each half registers its own duplicate of the socket's fd, watched only for
/// its own direction, so both halves of a bi socket can live in one runtime
/// (epoll refuses the same fd twice) and an arriving packet does not wake
/// the sender.
pub struct AsyncSocket<D> {
    /// A duplicate of the socket's fd, registered with the reactor for this
    /// half's direction only. It goes (deregistered, then closed) before the
    /// half, but the order does not matter: each keeps the socket open.
    io: AsyncFd<OwnedFd>,
    sock: Socket<D>,
}

/// The sending half, async: [`AsyncSocket`]`<`[`Tx`]`>`.
pub type AsyncTxSocket = AsyncSocket<Tx>;
/// The receiving half, async: [`AsyncSocket`]`<`[`Rx`]`>`; also a [`Stream`]
/// of owned packets.
pub type AsyncRxSocket = AsyncSocket<Rx>;

impl<D> AsyncSocket<D> {
    fn register(sock: Socket<D>, interest: Interest) -> io::Result<AsyncSocket<D>> {
        let dup = sock.as_fd().try_clone_to_owned()?;
        // SAFETY: `dup` is an open fd that the AsyncFd owns, so it stays open
        // and names the same socket for the AsyncFd's whole life.
        let io = unsafe { AsyncFd::register_with_interest(dup, interest) }.map_err(|e| e.into_parts().1)?;
        Ok(AsyncSocket { io, sock })
    }

    /// The sync half.
    pub fn get_ref(&self) -> &Socket<D> {
        &self.sock
    }

    /// The sync half, to use its own calls (descriptors, counters). Do not
    /// close its fd.
    pub fn get_mut(&mut self) -> &mut Socket<D> {
        &mut self.sock
    }

    /// Deregisters from the runtime and gives the sync half back.
    pub fn into_inner(self) -> Socket<D> {
        drop(self.io);
        self.sock
    }

    fn os(&self, what: &str, source: io::Error) -> Error {
        Error::Os {
            context: format!("{what} on {} queue {}: waiting for readiness", self.sock.ifname(), self.sock.queue_id()),
            source,
        }
    }
}

impl AsyncSocket<Tx> {
    /// Registers a TX half with the current runtime's reactor, for `EPOLLOUT`.
    /// Fails when the fd cannot be duplicated or registered; panics outside a
    /// tokio runtime.
    pub fn new(sock: TxSocket) -> io::Result<AsyncTxSocket> {
        AsyncSocket::register(sock, Interest::WRITABLE)
    }

    /// Copies `header` then `data` into a free frame and sends it, waiting as
    /// long as it takes for room (see [`AsyncSocket`]). A packet over
    /// [`TxSocket::max_len`] is `Error::TooLong`, at once.
    ///
    /// Cancel safe: a packet is queued whole when the future returns
    /// `Ok`, and not at all when it is dropped before.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// let tx = xsk_rs::create_tx_socket_by_name("veth0", 0, None)?;
    /// let mut tx = xsk_rs::AsyncTxSocket::new(tx)?;
    /// let eth = [0xffu8; 14];
    /// for i in 0u32..10_000 {
    ///     tx.send(&i.to_be_bytes(), Some(&eth)).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(&mut self, data: &[u8], header: Option<&[u8]>) -> Result<()> {
        loop {
            if self.sock.send(data, header)? {
                return Ok(());
            }
            self.ready().await?;
        }
    }

    /// Sends every packet, in order, each in its own frame, with one kick per
    /// run of packets that found room, waiting for room between runs. A
    /// packet over [`TxSocket::max_len`] is `Error::TooLong`, and an empty one
    /// `Error::InvalidArgument`, naming it, before anything is sent.
    ///
    /// Not cancel safe, like `write_all`: dropped part way, or ending in an
    /// error from the kernel, it may have queued some first packets.
    ///
    /// ```no_run
    /// # async fn f(tx: &mut xsk_rs::AsyncTxSocket) -> xsk_rs::Result<()> {
    /// let packets: Vec<Vec<u8>> = (0u8..100).map(|i| vec![i; 60]).collect();
    /// tx.send_batch(&packets).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_batch<P: AsRef<[u8]>>(&mut self, packets: &[P]) -> Result<()> {
        let max = self.sock.max_len();
        if let Some(i) = packets.iter().position(|p| p.as_ref().is_empty()) {
            return Err(Error::invalid(format!(
                "send_batch: packet {i} has length 0 (on {} queue {}); nothing was sent",
                self.sock.ifname(),
                self.sock.queue_id()
            )));
        }
        if let Some((i, p)) = packets.iter().enumerate().find(|(_, p)| p.as_ref().len() > max) {
            return Err(Error::TooLong(format!(
                "send_batch: packet {i} of {} bytes on {} queue {}: the most a frame here carries is {max} bytes; \
                 nothing was sent",
                p.as_ref().len(),
                self.sock.ifname(),
                self.sock.queue_id()
            )));
        }
        let mut sent = 0;
        while sent < packets.len() {
            sent += self.sock.send_batch(&packets[sent..])?;
            if sent < packets.len() {
                self.ready().await?;
            }
        }
        Ok(())
    }

    /// Waits until a descriptor with a free frame can be reserved (the async
    /// [`crate::PollWaitExt::poll_wait`]), kicking the kernel meanwhile so
    /// that what is committed gets sent and its frames come back. Then
    /// [`TxSocket::seek`] through [`Self::get_mut`] reserves at least one.
    ///
    /// Cancel safe.
    ///
    /// ```no_run
    /// # async fn f(tx: &mut xsk_rs::AsyncTxSocket) -> xsk_rs::Result<()> {
    /// // Write a packet in place (no copy through send).
    /// tx.ready().await?;
    /// let sock = tx.get_mut();
    /// sock.seek()?;
    /// sock.peek(60)?.fill(0xab);
    /// sock.commit_and_kick(1)?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ready(&mut self) -> Result<()> {
        let mut wait = BACKOFF_MIN;
        loop {
            // In copy mode only a syscall sends; a kick also retries what an
            // earlier one left (EAGAIN, ENETDOWN, a busy device).
            self.sock.kick()?;
            if self.sock.room_ready() {
                return Ok(());
            }
            match tokio::time::timeout(wait, self.io.writable()).await {
                Ok(guard) => {
                    // Clear first, then look at the loop's top: a wakeup after
                    // the look raises a new edge, and tokio keeps any edge
                    // that came after this guard was made.
                    guard.map_err(|e| self.os("wait for tx room", e))?.clear_ready();
                    wait = BACKOFF_MIN;
                }
                // No edge: completions and a link coming up raise none.
                Err(_) => wait = (wait * 2).min(BACKOFF_MAX),
            }
        }
    }
}

impl AsyncSocket<Rx> {
    /// Registers an RX half with the current runtime's reactor, for `EPOLLIN`.
    /// Fails when the fd cannot be duplicated or registered; panics outside a
    /// tokio runtime.
    pub fn new(sock: RxSocket) -> io::Result<AsyncRxSocket> {
        AsyncSocket::register(sock, Interest::READABLE)
    }

    /// Up to `max` received packets, read in place (zero copy), waiting until
    /// at least one has arrived: never an empty batch unless `max` is 0. The
    /// batch borrows the socket, and dropping it gives every frame back to
    /// the kernel.
    ///
    /// Cancel safe: no packet is taken until the future returns.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// let rx = xsk_rs::create_rx_socket_by_name("veth1", 0, None)?;
    /// let mut rx = xsk_rs::AsyncRxSocket::new(rx)?;
    /// loop {
    ///     let batch = rx.recv_batch(64).await?;
    ///     let bytes: usize = batch.iter().map(<[u8]>::len).sum();
    ///     println!("{} packets, {bytes} bytes", batch.len());
    /// }
    /// # }
    /// ```
    pub async fn recv_batch(&mut self, max: usize) -> Result<RxBatch<'_>> {
        if max > 0 {
            self.ready().await?;
        }
        self.sock.recv_batch(max)
    }

    /// Copies the next received packet into `buf` and gives its frame back,
    /// waiting until one arrives: the packet's length (only `buf.len()`
    /// bytes were copied when it is longer). Cancel safe.
    pub async fn recv(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            if let Some(n) = self.sock.recv(buf)? {
                return Ok(n);
            }
            self.ready().await?;
        }
    }

    /// Waits until a packet has arrived (the async
    /// [`crate::PollWaitExt::poll_wait`]); it is then found, for
    /// [`RxSocket::peek`] through [`Self::get_mut`]. Cancel safe.
    pub async fn ready(&mut self) -> Result<()> {
        loop {
            // seek_n also lends spare frames and wakes the kernel's fill
            // ring when it finds nothing, so packets can come.
            if self.sock.seek_n(1)? > 0 {
                return Ok(());
            }
            self.io.readable().await.map_err(|e| self.os("wait for rx packets", e))?.clear_ready();
        }
    }
}

/// The received packets, each copied out into its own `Vec` (its frame goes
/// back to the kernel at once). The stream never ends; an error is an item,
/// and the stream may be polled again after one.
///
/// ```no_run
/// use futures_core::Stream;
/// use std::future::{poll_fn, Future};
/// use std::pin::Pin;
/// use xsk_rs::AsyncRxSocket;
///
/// // What `StreamExt::next` (futures, tokio-stream) does.
/// fn next(rx: &mut AsyncRxSocket) -> impl Future<Output = Option<xsk_rs::Result<Vec<u8>>>> + '_ {
///     poll_fn(move |cx| Pin::new(&mut *rx).poll_next(cx))
/// }
///
/// # async fn f(mut rx: AsyncRxSocket) -> xsk_rs::Result<()> {
/// while let Some(pkt) = next(&mut rx).await {
///     let pkt: Vec<u8> = pkt?;
///     println!("{} bytes", pkt.len());
/// }
/// # Ok(())
/// # }
/// ```
impl Stream for AsyncSocket<Rx> {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.sock.seek() {
                Ok(0) => {}
                Ok(_) => {
                    let pkt = this.sock.peek().map(<[u8]>::to_vec);
                    return Poll::Ready(Some(pkt.and_then(|pkt| this.sock.commit().map(|()| pkt))));
                }
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            match this.io.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                // As in `ready`: clear, then look again before sleeping.
                Poll::Ready(Ok(mut guard)) => guard.clear_ready(),
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(this.os("wait for rx packets", e)))),
            }
        }
    }
}

impl<D> AsRawFd for AsyncSocket<D> {
    /// The socket's own fd (not the duplicate registered with the reactor).
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl<D> AsFd for AsyncSocket<D> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl<D> std::fmt::Debug for AsyncSocket<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSocket").field("inner", &self.sock).field("reactor_fd", &self.io.as_raw_fd()).finish()
    }
}
