//! A program written for the `xdp-socket` crate (0.1.x, "the seed"), against
//! its documented API, that builds and runs on xsk_rs with only its `use`
//! lines changed. Its original `use` lines were:
//!
//! ```text
//! use xdp_socket::socket::{RxSocket, TxSocket};
//! use xdp_socket::{create_bi_socket, create_rx_socket, create_socket, create_tx_socket};
//! use xdp_socket::{Direction, PollWaitExt, SendExt, XdpConfig};
//! ```
//!
//! `mod program` is that program, untouched but for those lines; the test at
//! the bottom is the harness that runs it over a veth pair and checks every
//! byte it moves. The program uses every seed item a program can use the
//! same way on both crates: the four create calls, `TxSocket`/`RxSocket`,
//! seek/seek_n/peek/peek_at/commit/commit_n/kick/commit_and_kick,
//! `SendExt::send`/`send_blocking` and `PollWaitExt::poll_wait`.
//!
//! What a seed program can write that does not build here, or behaves
//! differently, is listed in the comment after it; the program avoids
//! those forms. (Each "does not build" form was checked to build against
//! xdp-socket 0.1.4 and to fail here; the program itself builds against
//! 0.1.4 under `#![deny(warnings)]` with the original `use` lines.)
//!
//! One thing the harness does that a seed user would do another way: the
//! seed attaches no XDP program, so its users load their own to steer the
//! queue to the socket; xsk_rs attaches its built-in one when an RX half is
//! created (unless `xdp_mode: Some(XdpMode::None)`), and that is what steers
//! packets here.

mod common;

/// The seed program. Only the `use` lines below differ from the original.
mod program {
    use std::io;
    use std::time::{Duration, Instant};
    use xsk_rs::{create_bi_socket, create_rx_socket, create_socket, create_tx_socket};
    use xsk_rs::{Direction, PollWaitExt, SendExt, XdpConfig};
    use xsk_rs::{RxSocket, TxSocket};

    /// The seed's `RingError` is not a `std::error::Error`, so `?` cannot
    /// take it into `io::Error`: say what failed.
    fn ring<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> io::Result<T> {
        r.map_err(|e| io::Error::other(format!("{what}: {e}")))
    }

    /// Copy mode, kernel woken only when it asks.
    fn config() -> Option<XdpConfig> {
        Some(XdpConfig { zero_copy: Some(false), need_wakeup: Some(true), ..Default::default() })
    }

    pub fn open_tx(if_index: u32) -> io::Result<TxSocket> {
        Ok(create_tx_socket(if_index, 0, config())?)
    }

    pub fn open_rx(if_index: u32) -> io::Result<RxSocket> {
        Ok(create_rx_socket(if_index, 0, config())?)
    }

    pub fn open_bi(if_index: u32) -> io::Result<(TxSocket, RxSocket)> {
        Ok(create_bi_socket(if_index, 0, config())?)
    }

    pub fn open(if_index: u32, direction: Direction) -> io::Result<(Option<TxSocket>, Option<RxSocket>)> {
        Ok(create_socket(if_index, 0, direction, config())?)
    }

    /// Sends one frame through anything that sends (the first `header_len`
    /// bytes passed as its header).
    fn send_frame<S: SendExt>(tx: &mut S, frame: &[u8], header_len: usize, blocking: bool) -> io::Result<()> {
        let (header, data) = frame.split_at(header_len);
        let header = (header_len > 0).then_some(header);
        if blocking {
            ring("send_blocking", tx.send_blocking(data, header))
        } else {
            ring("send", tx.send(data, header)).map(|_| ())
        }
    }

    /// Makes `n` TX descriptors available, waiting while the ring is full.
    /// (The seed reports a full ring as an error, xsk_rs as a count below
    /// `n`: both mean "wait".)
    fn reserve(tx: &mut TxSocket, n: usize) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while tx.seek_n(n).unwrap_or(0) < n {
            if Instant::now() > deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no tx descriptors for 5 s"));
            }
            tx.poll_wait(Some(Duration::from_millis(10)))?;
        }
        Ok(())
    }

    /// Sends whole Ethernet frames, eight at a time, each group a different
    /// way: seek + send, seek + send with a separate header, seek +
    /// send_blocking, seek + peek + commit + kick, and seek_n + peek_at +
    /// commit_n (+ kick, or commit_and_kick).
    pub fn transmit(tx: &mut TxSocket, frames: &[Vec<u8>]) -> io::Result<()> {
        for (g, group) in frames.chunks(8).enumerate() {
            match g % 6 {
                0 => {
                    for f in group {
                        reserve(tx, 1)?;
                        send_frame(tx, f, 0, false)?;
                        tx.kick()?;
                    }
                }
                1 => {
                    for f in group {
                        reserve(tx, 1)?;
                        send_frame(tx, f, 14, false)?;
                        tx.kick()?;
                    }
                }
                2 => {
                    for f in group {
                        reserve(tx, 1)?;
                        send_frame(tx, f, 0, true)?;
                    }
                }
                3 => {
                    for f in group {
                        reserve(tx, 1)?;
                        ring("peek", tx.peek(f.len()))?.copy_from_slice(f);
                        ring("commit", tx.commit())?;
                        tx.kick()?;
                    }
                }
                4 => {
                    reserve(tx, group.len())?;
                    for (i, f) in group.iter().enumerate() {
                        ring("peek_at", tx.peek_at(i, f.len()))?.copy_from_slice(f);
                    }
                    ring("commit_n", tx.commit_n(group.len()))?;
                    tx.kick()?;
                }
                _ => {
                    reserve(tx, group.len())?;
                    for (i, f) in group.iter().enumerate() {
                        ring("peek_at", tx.peek_at(i, f.len()))?.copy_from_slice(f);
                    }
                    ring("commit_and_kick", tx.commit_and_kick(group.len()))?;
                }
            }
        }
        Ok(())
    }

    /// Receives `n` frames: after poll_wait, seek, then peek_at + commit_n
    /// for all that arrived, or peek + commit for one.
    pub fn receive(rx: &mut RxSocket, n: usize) -> io::Result<Vec<Vec<u8>>> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut out = Vec::new();
        let mut round = 0;
        while out.len() < n {
            if Instant::now() > deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, format!("{} of {n} frames", out.len())));
            }
            rx.poll_wait(Some(Duration::from_millis(50)))?;
            // An empty ring: the seed says RingEmpty, xsk_rs 0.
            let avail = rx.seek_n(64).unwrap_or(0);
            if avail == 0 {
                continue;
            }
            round += 1;
            if round % 2 == 0 {
                for i in 0..avail {
                    out.push(ring("peek_at", rx.peek_at(i))?.to_vec());
                }
                ring("commit_n", rx.commit_n(avail))?;
            } else {
                ring("seek", rx.seek())?;
                out.push(ring("peek", rx.peek())?.to_vec());
                ring("commit", rx.commit())?;
            }
        }
        Ok(out)
    }

    /// Echoes `n` frames from `rx` out of `tx` with the MAC addresses
    /// swapped, writing each reply straight from the received frame.
    pub fn echo(tx: &mut TxSocket, rx: &mut RxSocket, n: usize) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut done = 0;
        while done < n {
            if Instant::now() > deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, format!("echoed {done} of {n}")));
            }
            rx.poll_wait(Some(Duration::from_millis(50)))?;
            let avail = rx.seek_n(32).unwrap_or(0);
            if avail == 0 {
                continue;
            }
            reserve(tx, avail)?;
            for i in 0..avail {
                let pkt = ring("peek_at", rx.peek_at(i))?;
                let out = ring("peek_at", tx.peek_at(i, pkt.len()))?;
                out[..6].copy_from_slice(&pkt[6..12]);
                out[6..12].copy_from_slice(&pkt[..6]);
                out[12..].copy_from_slice(&pkt[12..]);
            }
            ring("commit_n", rx.commit_n(avail))?;
            ring("commit_and_kick", tx.commit_and_kick(avail))?;
            done += avail;
        }
        Ok(())
    }
}

// What a seed program may contain that does not build on xsk_rs, or
// builds and behaves differently. The program above avoids each.
//
// Does not build:
// - `XdpConfig { zero_copy, huge_page, need_wakeup }` with only the seed's
//   three fields: xsk_rs's `XdpConfig` has more (frame counts, ring sizes,
//   XDP mode, ...), so a literal needs `..Default::default()`.
// - Naming `RingError` (`xdp_socket::socket::RingError`) or matching its
//   variants (`Err(RingError::RingFull)`): xsk_rs has `xsk_rs::Error`.
// - Using a create call's `Result` as an `io::Result` without `?`
//   (`fn open() -> io::Result<TxSocket> { create_tx_socket(..) }`, or
//   `e.kind()` on its error): xsk_rs returns `xsk_rs::Error`, which `?`
//   converts into `io::Error`.
// - `seek_and_peek`: the seed returns `Result<&mut [u8]>` (TX) and
//   `Result<&[u8]>` (RX), xsk_rs `Result<Option<..>>` (`None`: no room, or
//   nothing arrived).
// - `kick` and `commit_and_kick` on an `RxSocket`: xsk_rs has them on the
//   TX half only (its RX half wakes the fill ring itself, in `seek`).
// - `tx.send(..)` called directly with `use xdp_socket::SendExt` (as the
//   seed's docs do): it builds, but xsk_rs's `TxSocket` has `send`,
//   `send_blocking` (and more) as inherent methods too, so the import is
//   unused: a warning, and an error under `-D warnings`. (The program uses
//   the trait as a bound, which the seed allows as well.)
// - `kick(&self)` through a shared reference: xsk_rs's `kick` takes `&mut self`.
// - `frame_size()` as a `usize` (`vec![0; rx.frame_size()]`): xsk_rs gives `u32`.
// - `Socket<_TX>` / `Socket<_RX>`, `_Direction`, `PollWaitExt<_TX>`: the
//   seed's `Socket` and `PollWaitExt` take a const direction; xsk_rs's
//   `Socket<Tx>`/`Socket<Rx>` a type, and its `PollWaitExt` none. The
//   `TxSocket`/`RxSocket` aliases work in both.
// - The seed's public ring internals (`xdp_socket::ring`, `mmap`,
//   `create::setup_umem`, `create::ring_offsets`).
//
// Builds, but behaves differently:
// - `send` returns `Ok(false)` for "no room" where the seed returns `Err`:
//   seed code that ignores send's value (`tx.send(..)?;`) and relies on the
//   error for back-pressure drops that packet silently. Likewise `seek` and
//   `seek_n` return a count (0 when nothing is there) where the seed returns
//   `Err(RingFull)` / `Err(RingEmpty)`; and that count is every descriptor
//   reserved (or packet found) and not yet committed, which may be more
//   than asked for, where the seed's is at most the count asked for.
// - `send` kicks the kernel itself; the seed's needs a `kick()` after it
//   (harmless here), and a `seek` before it (optional here).
// - `poll_wait` honours its timeout and returns whether the half is ready
//   (`Ok(false)` at the timeout); the seed's ignores the timeout and blocks.
//   `send_blocking` waits for room before sending; the seed's sends, then
//   waits for `POLLOUT`.
// - `huge_page: Some(true)` fails with `EOPNOTSUPP` for now.
// - Creating an RX half attaches xsk_rs's XDP program; a seed program that
//   loads its own must set `xdp_mode: Some(XdpMode::None)` and call
//   `update_xskmap`, or its attach (or ours) fails with `EBUSY`.

use common::{frame_seq, test_frame, VethPair};
use xsk_rs::Direction;

fn ifindex(ifname: &str) -> u32 {
    let c = std::ffi::CString::new(ifname).unwrap();
    // SAFETY: c is NUL-terminated.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

fn frames(seqs: std::ops::Range<u32>) -> Vec<Vec<u8>> {
    seqs.map(|s| test_frame(s, 60 + (s as usize * 131) % 1455)).collect()
}

#[test]
fn a_seed_program_runs_with_only_its_use_lines_changed() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());

    // One way: a TX socket on veth0, an RX socket on veth1.
    let mut rx = pair.run_in_b(|| program::open_rx(ifindex(&b)).expect("open_rx"));
    let mut tx = pair.run_in_a(|| program::open_tx(ifindex(&a)).expect("open_tx"));
    for chunk in (0..480).step_by(48) {
        let sent = frames(chunk..chunk + 48);
        program::transmit(&mut tx, &sent).expect("transmit");
        let got = program::receive(&mut rx, sent.len()).expect("receive");
        for (g, s) in got.iter().zip(&sent) {
            assert_eq!(frame_seq(g), frame_seq(s), "frames out of order or lost");
            assert!(g == s, "frame {:?} changed", frame_seq(s));
        }
    }
    drop((tx, rx));

    // create_socket gives the halves each Direction asks for.
    let shapes = pair.run_in_a(|| {
        let idx = ifindex(&a);
        [Direction::Tx, Direction::Rx]
            .map(|d| program::open(idx, d).map(|(t, r)| (t.is_some(), r.is_some())).expect("open"))
    });
    assert_eq!(shapes, [(true, false), (false, true)]);

    // Both ways: a bi socket on veth1 echoes what a socket of both
    // directions on veth0 sends.
    let (mut etx, mut erx) = pair.run_in_b(|| program::open_bi(ifindex(&b)).expect("open_bi"));
    let (ptx, prx) = pair.run_in_a(|| program::open(ifindex(&a), Direction::Both).expect("open"));
    let (mut ptx, mut prx) = (ptx.expect("a tx half"), prx.expect("an rx half"));
    let swapped = |f: &Vec<u8>| [&f[6..12], &f[..6], &f[12..]].concat();
    for chunk in (0..480).step_by(24) {
        let sent = frames(chunk..chunk + 24);
        program::transmit(&mut ptx, &sent).expect("transmit");
        program::echo(&mut etx, &mut erx, sent.len()).expect("echo");
        let got = program::receive(&mut prx, sent.len()).expect("receive the echoes");
        for (g, s) in got.iter().zip(&sent) {
            assert!(*g == swapped(s), "echo of frame {:?} changed", frame_seq(s));
        }
    }
}
