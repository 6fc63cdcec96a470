//! The tokio halves (feature `tokio`) over a veth pair: packets received with
//! `recv_batch` and as a `Stream` byte for byte, a sender that needs more
//! frames than it has, a sender whose frames come back with no epoll event
//! (the link was down), a receive that stays pending without spinning, and
//! both halves of one socket in one runtime.
//!
//! Sockets are made on a thread inside the test's namespace (they stay bound
//! there); the runtime runs on the test's own thread, outside it.
#![cfg(feature = "tokio")]

mod common;

use common::{frame_seq, test_frame, PacketSocket, VethPair};
use futures_core::Stream;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use xsk_rs::xdp::XdpMode;
use xsk_rs::{create_bi_socket_by_name, create_rx_socket_by_name, create_tx_socket_by_name};
use xsk_rs::{AsyncRxSocket, AsyncTxSocket, XdpConfig};

/// A single-threaded runtime with IO and time, as the halves need.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// CPU time (user + system) the calling thread has used.
fn thread_cpu() -> Duration {
    // SAFETY: rusage is plain data; getrusage fills it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: u is a valid rusage.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) }, 0);
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// The stream's next packet (what `StreamExt::next` would give).
fn next(rx: &mut AsyncRxSocket) -> impl Future<Output = Option<xsk_rs::Result<Vec<u8>>>> + '_ {
    poll_fn(move |cx| Pin::new(&mut *rx).poll_next(cx))
}

/// The length of test frame `seq`: 60 to 1459 bytes, so a frame given the
/// wrong length or a stale tail is caught.
fn len_of(seq: u32) -> usize {
    60 + (seq as usize * 7) % 1400
}

/// Checks that `pkt` is test frame `seq` byte for byte; other frames are None.
fn check(pkt: &[u8]) -> Option<u32> {
    let seq = frame_seq(pkt)?;
    assert_eq!(pkt, &test_frame(seq, len_of(seq))[..], "frame {seq} differs");
    Some(seq)
}

fn rx_config(frames: u32) -> XdpConfig {
    XdpConfig { xdp_mode: Some(XdpMode::Skb), rx_frames: Some(frames), ..Default::default() }
}

/// Sends frames `seqs` from `peer` after `delay`, on a thread of its own
/// (an AF_PACKET socket keeps its namespace); gives the socket back.
fn send_later(
    peer: PacketSocket,
    seqs: std::ops::Range<u32>,
    delay: Duration,
) -> std::thread::JoinHandle<PacketSocket> {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        for seq in seqs {
            peer.send(&test_frame(seq, len_of(seq))).expect("peer send");
        }
        peer
    })
}

#[test]
fn recv_batch_and_stream_receive_byte_exact() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());
    // More frames than a burst: the peer may send all 300 before the
    // receiver runs, and none may be dropped for want of a frame.
    let rx = pair.run_in_b(move || create_rx_socket_by_name(&b, 0, Some(rx_config(512))).expect("rx"));
    let peer = pair.run_in_a(move || PacketSocket::open(&a).expect("peer"));
    runtime().block_on(async move {
        let mut rx = AsyncRxSocket::new(rx).expect("register rx");

        // Nothing has been sent when the first recv_batch starts: it must
        // wait for the edge of the first arrival, and then take them all.
        let sender = send_later(peer, 0..300, Duration::from_millis(50));
        let mut got = Vec::new();
        timeout(Duration::from_secs(10), async {
            while got.len() < 300 {
                let batch = rx.recv_batch(64).await.expect("recv_batch");
                assert!(!batch.is_empty() && batch.len() <= 64, "batch of {}", batch.len());
                got.extend(batch.iter().filter_map(check));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("recv_batch: {} of 300 frames in 10 s; {:?}", got.len(), rx.get_ref().stats()));
        assert_eq!(got, (0..300).collect::<Vec<_>>());
        let peer = sender.join().expect("sender");

        // The stream, the same way: owned packets, in order.
        let sender = send_later(peer, 300..600, Duration::from_millis(50));
        let mut got = Vec::new();
        timeout(Duration::from_secs(10), async {
            while got.len() < 300 {
                let pkt = next(&mut rx).await.expect("the stream never ends").expect("stream item");
                got.extend(check(&pkt));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("stream: {} of 300 frames in 10 s; {:?}", got.len(), rx.get_ref().stats()));
        assert_eq!(got, (300..600).collect::<Vec<_>>());
        sender.join().expect("sender");

        let rx = rx.into_inner();
        assert_eq!(rx.stats().expect("stats").rx_dropped, 0);
        assert_eq!((rx.held_frames(), rx.in_flight_frames()), (0, 512), "every frame lent again");
    });
}

#[test]
fn send_of_more_packets_than_tx_frames_completes() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());
    let tx_cfg = XdpConfig { tx_frames: Some(64), ..Default::default() };
    let rx = pair.run_in_b(move || create_rx_socket_by_name(&b, 0, Some(rx_config(4096))).expect("rx"));
    let tx = pair.run_in_a(move || create_tx_socket_by_name(&a, 0, Some(tx_cfg)).expect("tx"));
    let n = 2000u32;
    runtime().block_on(async move {
        let mut rx = AsyncRxSocket::new(rx).expect("register rx");
        let mut tx = AsyncTxSocket::new(tx).expect("register tx");
        // A task of its own (tokio::spawn: the futures are Send): 1000 one
        // by one, then 1000 in batches of 100, through 64 frames.
        let sender = tokio::spawn(async move {
            for seq in 0..n / 2 {
                tx.send(&test_frame(seq, len_of(seq)), None).await.expect("send");
            }
            for first in (n / 2..n).step_by(100) {
                let batch: Vec<Vec<u8>> = (first..first + 100).map(|s| test_frame(s, len_of(s))).collect();
                tx.send_batch(&batch).await.expect("send_batch");
            }
            tx
        });
        let mut got = Vec::new();
        timeout(Duration::from_secs(20), async {
            while got.len() < n as usize {
                got.extend(rx.recv_batch(256).await.expect("recv_batch").iter().filter_map(check));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} of {n} frames in 20 s", got.len()));
        assert_eq!(got, (0..n).collect::<Vec<_>>());

        let mut tx = timeout(Duration::from_secs(5), sender).await.expect("sender finished").expect("sender task");
        let t = tx.get_mut();
        t.reclaim_completed();
        assert_eq!((t.free_frames(), t.reserved_frames(), t.in_flight_frames()), (64, 0, 0));
        assert_eq!(rx.get_ref().stats().expect("stats").rx_dropped, 0);
    });
}

#[test]
fn send_waits_for_room_that_comes_back_with_no_event() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());
    let tx_cfg = XdpConfig { tx_frames: Some(64), ..Default::default() };
    let rx = pair.run_in_b(move || create_rx_socket_by_name(&b, 0, Some(rx_config(512))).expect("rx"));
    let tx = pair.run_in_a(move || create_tx_socket_by_name(&a, 0, Some(tx_cfg)).expect("tx"));
    // With the interface down a kick sends nothing (ENETDOWN), and xsk_poll
    // reports nothing; bringing it up raises no event on the socket either.
    common::ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "down"]);
    let n = 300u32;
    runtime().block_on(async {
        let mut rx = AsyncRxSocket::new(rx).expect("register rx");
        let mut tx = AsyncTxSocket::new(tx).expect("register tx");
        let queued = Arc::new(AtomicU32::new(0));
        let q = Arc::clone(&queued);
        let sender = tokio::spawn(async move {
            for seq in 0..n {
                tx.send(&test_frame(seq, len_of(seq)), None).await.expect("send");
                q.store(seq + 1, Ordering::Relaxed);
            }
            tx
        });

        // The 64 frames sit on the TX ring, and the 65th send waits; the
        // wait is a timer, not a spin.
        let cpu = thread_cpu();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let used = thread_cpu() - cpu;
        assert!(!sender.is_finished(), "sender finished with the link down");
        assert_eq!(queued.load(Ordering::Relaxed), 64, "sends queued with 64 frames and the link down");
        assert!(used < Duration::from_millis(150), "a pending send used {used:?} of CPU in 300 ms");

        // No epoll event follows; the TX wait's timer and kick must find it.
        common::ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "up"]);
        let up = Instant::now();
        let mut tx = timeout(Duration::from_secs(10), sender)
            .await
            .unwrap_or_else(|_| {
                panic!("send still waiting 10 s after the link came up: {} queued", queued.load(Ordering::Relaxed))
            })
            .expect("sender task");
        println!("all {n} sent {:?} after the link came up", up.elapsed());

        let mut got = Vec::new();
        timeout(Duration::from_secs(10), async {
            while got.len() < n as usize {
                got.extend(rx.recv_batch(64).await.expect("recv_batch").iter().filter_map(check));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} of {n} frames in 10 s", got.len()));
        assert_eq!(got, (0..n).collect::<Vec<_>>());
        tx.get_mut().reclaim_completed();
        assert_eq!(tx.get_ref().free_frames(), 64);
    });
}

#[test]
fn recv_with_nothing_arriving_stays_pending() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());
    let rx = pair.run_in_b(move || create_rx_socket_by_name(&b, 0, Some(rx_config(64))).expect("rx"));
    let peer = pair.run_in_a(move || PacketSocket::open(&a).expect("peer"));
    runtime().block_on(async move {
        let mut rx = AsyncRxSocket::new(rx).expect("register rx");
        let cpu = thread_cpu();
        let start = Instant::now();
        assert!(timeout(Duration::from_millis(300), rx.recv_batch(64)).await.is_err(), "recv_batch with no traffic");
        assert!(timeout(Duration::from_millis(100), next(&mut rx)).await.is_err(), "stream with no traffic");
        let mut buf = [0u8; 2048];
        assert!(timeout(Duration::from_millis(100), rx.recv(&mut buf)).await.is_err(), "recv with no traffic");
        let used = thread_cpu() - cpu;
        assert!(start.elapsed() >= Duration::from_millis(500));
        assert!(used < Duration::from_millis(100), "pending receives used {used:?} of CPU in 500 ms");

        // The cancelled waits lost nothing: a packet now is received.
        let sender = send_later(peer, 7..8, Duration::ZERO);
        let n = timeout(Duration::from_secs(5), rx.recv(&mut buf)).await.expect("a packet within 5 s").expect("recv");
        assert_eq!(check(&buf[..n]), Some(7));
        sender.join().expect("sender");
    });
}

#[test]
fn both_halves_of_one_socket_echo_in_one_runtime() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());
    let cfg = XdpConfig { tx_frames: Some(64), ..rx_config(256) };
    let (tx, rx) = pair.run_in_b(move || create_bi_socket_by_name(&b, 0, Some(cfg)).expect("bi"));
    let peer = pair.run_in_a(move || PacketSocket::open(&a).expect("peer"));
    let n = 100u32;
    // The peer sends and then reads the echoes, on its own thread.
    let peer = std::thread::spawn(move || {
        let mut echoed = Vec::new();
        for seq in 0..n {
            peer.send(&test_frame(seq, len_of(seq))).expect("peer send");
            let f = peer.recv_test_frame(Duration::from_secs(5)).unwrap_or_else(|| panic!("no echo of {seq}"));
            echoed.extend(check(&f));
        }
        echoed
    });
    runtime().block_on(async move {
        // One fd, two registrations in one epoll: each half registers a dup.
        let mut tx = AsyncTxSocket::new(tx).expect("register tx");
        let mut rx = AsyncRxSocket::new(rx).expect("register rx beside tx");
        let mut echoed = 0;
        timeout(Duration::from_secs(20), async {
            while echoed < n {
                let batch = rx.recv_batch(64).await.expect("recv_batch");
                for pkt in batch.iter().filter(|p| frame_seq(p).is_some()) {
                    tx.send(pkt, None).await.expect("send");
                    echoed += 1;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{echoed} of {n} echoed in 20 s"));
    });
    assert_eq!(peer.join().expect("peer"), (0..n).collect::<Vec<_>>());
}
