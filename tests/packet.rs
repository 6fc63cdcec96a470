//! The packet layer (`create_*_socket`, `TxSocket`, `RxSocket`) over a veth
//! pair between two fresh network namespaces, with real packets:
//!
//! * every send path (`send` with and without a header, `send_blocking`,
//!   `send_timeout`, `send_batch`, `send_packed`, seek/peek_at/commit_n,
//!   buffer_at/commit_lens) reaches an AF_PACKET peer byte for byte, and every
//!   receive path (`recv`, `recv_timeout`, `recv_batch`, `recv_packed`,
//!   seek_n/peek_at/commit_n, seek_and_peek) delivers what an AF_PACKET peer
//!   sent, byte for byte and in order, in SKB and DRV mode;
//! * a bi socket echoes packets back to its peer, its TX frames never its RX
//!   frames;
//! * 10^6 packets each way between two bi sockets, each half on its own
//!   thread, with every frame accounted for and no frame handed out twice
//!   (see [`accounting`] for how that is checked);
//! * a full TX ring is "no room" (`Ok(false)`), not an error, timeouts are
//!   honoured, and geometries that would strand frames, or a missing
//!   interface, are refused with the errno and a message naming the rule.

mod common;

use common::{frame_seq, ip_in, is_test_frame, test_frame, xdp_attached, PacketSocket, VethPair, TEST_SRC_MAC};
use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use xsk_rs::umem::XDP_PACKET_HEADROOM;
use xsk_rs::xdp::XdpMode;
use xsk_rs::{
    create_bi_socket, create_rx_socket, create_rx_socket_by_name, create_socket, create_tx_socket,
    create_tx_socket_by_name, Direction, Error, PollWaitExt, RxSocket, SendExt, TxSocket, XdpConfig,
};

/// How far a measured wait may overrun its timeout.
const SLACK: Duration = Duration::from_millis(50);

/// Held by the tests that keep both cores busy (10^6 packets each way) and by
/// those that time a wait to within [`SLACK`], so that the timed ones never
/// run beside the busy ones on a 2-core machine.
static BUSY_OR_TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn busy_or_timed() -> std::sync::MutexGuard<'static, ()> {
    BUSY_OR_TIMED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The index of `ifname` in the calling thread's network namespace.
fn ifindex(ifname: &str) -> u32 {
    let c = std::ffi::CString::new(ifname).unwrap();
    // SAFETY: c is NUL-terminated.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(idx, 0, "if_nametoindex {ifname}: {}", io::Error::last_os_error());
    idx
}

/// Asserts that `f` took at least `timeout` and at most `timeout + SLACK`.
fn assert_waited(what: &str, started: Instant, timeout: Duration) {
    let took = started.elapsed();
    assert!(took >= timeout && took <= timeout + SLACK, "{what}: took {took:?} for a timeout of {timeout:?}");
}

/// The length of test frame `seq` in the byte-exact tests: 60 to 1514 bytes
/// (what AF_PACKET may send on a 1500-byte MTU), a different one each time.
fn varied_len(seq: u32) -> usize {
    60 + (seq as usize * 197) % (1514 - 60 + 1)
}

/// Receives the test frames `seqs` at `peer`, in order, each exactly
/// `test_frame(seq, len(seq))`.
fn expect_at_peer(peer: &PacketSocket, seqs: std::ops::Range<u32>, len: impl Fn(u32) -> usize, what: &str) {
    for seq in seqs {
        let f = peer
            .recv_test_frame(Duration::from_secs(3))
            .unwrap_or_else(|| panic!("{what}: frame {seq} never reached the peer"));
        assert_eq!(frame_seq(&f), Some(seq), "{what}: frames out of order or lost");
        assert!(f == test_frame(seq, len(seq)), "{what}: frame {seq} arrived changed ({} bytes)", f.len());
    }
}

/// Waits until every frame the TX half sent has come back: then each frame
/// is free or reserved, none in flight.
fn wait_all_completed(tx: &mut TxSocket, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tx.reclaim_completed();
        if tx.free_frames() + tx.reserved_frames() == tx.total_frames() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {} tx frames never came back (free {}, reserved {}); stats {:?}",
            tx.in_flight_frames(),
            tx.total_frames(),
            tx.free_frames(),
            tx.reserved_frames(),
            tx.stats()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(tx.in_flight_frames(), 0, "{what}");
}

/// Sends `f` through `send`, waiting with `poll_wait` while there is no room.
fn send_one(tx: &mut TxSocket, data: &[u8], header: Option<&[u8]>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !tx.send(data, header).unwrap() {
        assert!(Instant::now() < deadline, "no tx room for 5 s");
        tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
    }
}

#[test]
fn tx_to_rx_byte_exact() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let cfg =
        XdpConfig { xdp_mode: Some(XdpMode::Skb), rx_frames: Some(256), tx_frames: Some(256), ..Default::default() };
    let a = pair.if_a.clone();
    let b = pair.if_b.clone();
    let mut rx = pair.run_in_b(move || create_rx_socket_by_name(&b, 0, Some(cfg)).expect("rx"));
    let mut tx = pair.run_in_a(move || create_tx_socket_by_name(&a, 0, Some(cfg)).expect("tx"));
    let n = 1000u32;
    let mut sent = 0u32;
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; 4096];
    while got.len() < n as usize && Instant::now() < deadline {
        while sent < n
            && (sent as usize) < got.len() + 128
            && tx.send(&test_frame(sent, 60 + (sent as usize % 1400)), None).unwrap()
        {
            sent += 1;
        }
        if rx.poll_wait(Some(Duration::from_millis(10))).unwrap() {
            while let Some(len) = rx.recv(&mut buf).unwrap() {
                if let Some(seq) = frame_seq(&buf[..len]) {
                    assert_eq!(&buf[..len], &test_frame(seq, len)[..]);
                    got.push(seq);
                }
            }
        }
    }
    assert_eq!(got, (0..n).collect::<Vec<_>>());
    assert_eq!(rx.free_frames() + rx.held_frames() + rx.in_flight_frames(), 256);
    assert_eq!(rx.in_flight_frames(), 256);
    tx.reclaim_completed();
    assert_eq!(tx.free_frames() + tx.reserved_frames() + tx.in_flight_frames(), 256);
}

/// Every way of sending, from a TX half on veth0 to an AF_PACKET socket on
/// veth1, with lengths from 60 bytes to the interface's longest frame; and
/// the refusals on the way (too long, short buffer, unpeeked descriptor).
#[test]
fn tx_paths_reach_the_peer_byte_exact() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let b = pair.if_b.clone();
    let peer = pair.run_in_b(move || PacketSocket::open(&b).expect("AF_PACKET on veth1"));
    let a = pair.if_a.clone();
    // 64 frames for 40-packet rounds: frames are reused while others are in flight.
    let cfg = XdpConfig { tx_frames: Some(64), ..Default::default() };
    let mut tx = pair.run_in_a(move || create_tx_socket(ifindex(&a), 0, Some(cfg)).expect("tx"));
    let max = tx.max_len();
    assert_eq!(max, 1518, "veth's 1500-byte MTU plus Ethernet and VLAN headers");
    // The first packet of each round is as long as the interface takes.
    let len = |seq: u32| if seq % 40 == 0 { max } else { varied_len(seq) };
    const ROUND: u32 = 40;
    let mut seq = 0u32;
    let mut round = |what: &str, tx: &mut TxSocket, send: &mut dyn FnMut(&mut TxSocket, std::ops::Range<u32>)| {
        let seqs = seq..seq + ROUND;
        send(tx, seqs.clone());
        expect_at_peer(&peer, seqs, len, what);
        seq += ROUND;
    };

    round("send", &mut tx, &mut |tx, seqs| {
        for s in seqs {
            send_one(tx, &test_frame(s, len(s)), None);
        }
    });
    round("send with a header", &mut tx, &mut |tx, seqs| {
        for s in seqs {
            let f = test_frame(s, len(s));
            send_one(tx, &f[14..], Some(&f[..14]));
        }
    });
    round("send_blocking / send_timeout", &mut tx, &mut |tx, seqs| {
        for s in seqs {
            let f = test_frame(s, len(s));
            if s % 2 == 0 {
                SendExt::send_blocking(tx, &f[1..], Some(&f[..1])).unwrap();
            } else {
                assert!(SendExt::send_timeout(tx, &f, None, Duration::from_secs(5)).unwrap(), "no room in 5 s");
            }
        }
    });
    round("send_batch", &mut tx, &mut |tx, seqs| {
        let frames: Vec<Vec<u8>> = seqs.map(|s| test_frame(s, len(s))).collect();
        let mut done = 0;
        while done < frames.len() {
            let n = SendExt::send_batch(tx, &frames[done..(done + 16).min(frames.len())]).unwrap();
            if n == 0 {
                tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
            }
            done += n;
        }
    });
    round("send_packed", &mut tx, &mut |tx, seqs| {
        let frames: Vec<Vec<u8>> = seqs.map(|s| test_frame(s, len(s))).collect();
        let data: Vec<u8> = frames.concat();
        let lens: Vec<u32> = frames.iter().map(|f| f.len() as u32).collect();
        let (mut done, mut off) = (0, 0);
        while done < lens.len() {
            let n = tx.send_packed(&data[off..], &lens[done..]).unwrap();
            if n == 0 {
                tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
            }
            off += lens[done..done + n].iter().map(|&l| l as usize).sum::<usize>();
            done += n;
        }
    });
    round("seek_n / peek_at / commit_n", &mut tx, &mut |tx, seqs| {
        let mut next = seqs.start;
        while next < seqs.end {
            let want = (seqs.end - next).min(8) as usize;
            let have = tx.seek_n(want).unwrap();
            if have == 0 {
                tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
                continue;
            }
            let n = have.min(want);
            let mut ptrs = Vec::new();
            for i in 0..n {
                let s = next + i as u32;
                let buf = tx.peek_at(i, len(s)).unwrap();
                buf.copy_from_slice(&test_frame(s, len(s)));
                ptrs.push(buf.as_ptr());
            }
            assert_distinct(&ptrs, "reserved tx frames");
            tx.commit_n(n).unwrap();
            tx.kick().unwrap();
            next += n as u32;
        }
    });
    round("seek / peek / commit, seek_and_peek / commit_and_kick", &mut tx, &mut |tx, seqs| {
        for s in seqs {
            let f = test_frame(s, len(s));
            let deadline = Instant::now() + Duration::from_secs(5);
            if s % 2 == 0 {
                while tx.seek().unwrap() == 0 {
                    assert!(Instant::now() < deadline);
                    tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
                }
                tx.peek(f.len()).unwrap().copy_from_slice(&f);
                tx.commit().unwrap();
                tx.kick().unwrap();
            } else {
                loop {
                    match tx.seek_and_peek(f.len()) {
                        Ok(buf) => {
                            buf.copy_from_slice(&f);
                            break;
                        }
                        Err(e) => assert_eq!(e.errno(), libc::EAGAIN, "{e}"),
                    }
                    assert!(Instant::now() < deadline);
                    tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
                }
                tx.commit_and_kick(1).unwrap();
            }
        }
    });
    round("buffer_at / commit_lens", &mut tx, &mut |tx, seqs| {
        let mut next = seqs.start;
        while next < seqs.end {
            let want = (seqs.end - next).min(8) as usize;
            let have = tx.seek_n(want).unwrap();
            if have == 0 {
                tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
                continue;
            }
            let n = have.min(want);
            let mut lens = Vec::new();
            for i in 0..n {
                let s = next + i as u32;
                let buf = tx.buffer_at(i).unwrap();
                assert_eq!(buf.len(), max, "buffer_at gives the whole usable frame");
                buf[..len(s)].copy_from_slice(&test_frame(s, len(s)));
                lens.push(len(s) as u32);
            }
            tx.commit_lens(&lens).unwrap();
            tx.kick().unwrap();
            next += n as u32;
        }
    });

    // Refusals, none of which may send anything or lose a frame.
    let too_long = test_frame(seq, max + 1);
    let e = tx.send(&too_long, None).unwrap_err();
    assert_eq!(e.errno(), libc::EMSGSIZE, "{e}");
    assert!(e.to_string().contains(&format!("packet of {} bytes", max + 1)), "{e}");
    let e = tx.send(&too_long[14..], Some(&too_long[..14])).unwrap_err();
    assert_eq!(e.errno(), libc::EMSGSIZE, "header and data count together: {e}");
    assert_eq!(SendExt::send_batch(&mut tx, &[&too_long[..]]).unwrap_err().errno(), libc::EMSGSIZE);
    // A long packet after the first stops the batch before it.
    let ok = test_frame(seq, 100);
    assert_eq!(tx.send_batch(&[&ok[..], &too_long[..], &ok[..]]).unwrap(), 1);
    expect_at_peer(&peer, seq..seq + 1, |_| 100, "send_batch before a long packet");
    seq += 1;
    let e = tx.send_packed(&ok[..50], &[100]).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.to_string().contains("add up to 100 bytes, the buffer has 50"), "{e}");
    assert_eq!(tx.send_packed(&ok, &[0, 100]).unwrap_err().errno(), libc::EINVAL, "a zero length");
    // send_batch left the descriptors it reserved for the long packet and the
    // one after it reserved; commit_n refuses them until they are peeked.
    let have = tx.seek_n(2).unwrap();
    assert!(have >= 2, "{have}");
    let e = tx.commit_n(1).unwrap_err();
    assert!(e.to_string().contains("has no packet"), "{e}");
    assert!(tx.peek_at(have, 60).unwrap_err().to_string().contains("call seek_n first"));
    assert!(tx.peek_at(0, max + 1).unwrap_err().errno() == libc::EMSGSIZE);
    assert!(tx.commit_n(have + 1).is_err());
    assert_eq!(tx.commit_lens(&[100, 0]).unwrap_err().errno(), libc::EINVAL);
    assert_eq!(tx.commit_lens(&[100, max as u32 + 1]).unwrap_err().errno(), libc::EMSGSIZE);
    // What is reserved is still usable and goes out in order.
    tx.peek_at(0, 100).unwrap().copy_from_slice(&test_frame(seq, 100));
    tx.commit_and_kick(1).unwrap();
    expect_at_peer(&peer, seq..seq + 1, |_| 100, "a reserved descriptor after the refusals");
    assert!(peer.recv_test_frame(Duration::from_millis(100)).is_none(), "a refused packet reached the peer");

    wait_all_completed(&mut tx, "tx paths");
    assert_eq!(tx.total_frames(), 64);
    assert_eq!(tx.stats().unwrap().tx_invalid_descs, 0);
}

fn assert_distinct<T: Ord + Copy + std::fmt::Debug>(items: &[T], what: &str) {
    let mut v = items.to_vec();
    v.sort_unstable();
    if let Some(w) = v.windows(2).find(|w| w[0] == w[1]) {
        panic!("{what}: {:?} handed out twice at once", w[0]);
    }
}

/// Sends the test frames `seqs` from `peer` with `varied_len` lengths.
fn peer_sends(peer: &PacketSocket, seqs: std::ops::Range<u32>) {
    for s in seqs {
        peer.send(&test_frame(s, varied_len(s))).expect("AF_PACKET send");
    }
}

fn check_rx(pkt: &[u8], seq: u32, what: &str) {
    assert_eq!(frame_seq(pkt), Some(seq), "{what}: frames out of order, lost or not ours");
    assert!(pkt == &test_frame(seq, varied_len(seq))[..], "{what}: frame {seq} changed ({} bytes)", pkt.len());
}

/// Waits until `rx` has found `n` packets (found, not committed).
fn find(rx: &mut RxSocket, n: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while rx.seek_n(n).unwrap() < n {
        assert!(Instant::now() < deadline, "{what}: only {} of {n} arrived; {:?}", rx.held_frames(), rx.stats());
        rx.poll_wait(Some(Duration::from_millis(100))).unwrap();
    }
}

/// Every way of receiving, on an RX half on veth1, from an AF_PACKET socket on
/// veth0.
fn rx_paths(mode: XdpMode) {
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let peer = pair.run_in_a(move || PacketSocket::open(&a).expect("AF_PACKET on veth0"));
    let b = pair.if_b.clone();
    let cfg = XdpConfig { rx_frames: Some(64), xdp_mode: Some(mode), ..Default::default() };
    let mut rx = pair.run_in_b(move || create_rx_socket(ifindex(&b), 0, Some(cfg)).expect("rx"));
    assert_eq!(rx.xdp_mode(), mode);
    assert_eq!((rx.free_frames(), rx.held_frames(), rx.in_flight_frames(), rx.total_frames()), (0, 0, 64, 64));
    let mut buf = vec![0u8; 2048];
    let mut seq = 0u32;

    // recv after poll_wait, and recv_timeout.
    peer_sends(&peer, seq..seq + 20);
    for s in seq..seq + 20 {
        let n = if s % 2 == 0 {
            assert!(rx.poll_wait(Some(Duration::from_secs(3))).unwrap(), "recv: frame {s} never arrived");
            rx.recv(&mut buf).unwrap().expect("poll_wait said a packet is there")
        } else {
            rx.recv_timeout(&mut buf, Some(Duration::from_secs(3))).unwrap().expect("recv_timeout")
        };
        check_rx(&buf[..n], s, "recv");
    }
    seq += 20;

    // recv_batch: in place, zero copy; the frames go back when the batch drops.
    peer_sends(&peer, seq..seq + 60);
    let mut next = seq;
    let deadline = Instant::now() + Duration::from_secs(5);
    while next < seq + 60 {
        assert!(Instant::now() < deadline, "recv_batch: stuck at frame {next}; {:?}", rx.stats());
        let batch = rx.recv_batch(16).unwrap();
        if batch.is_empty() {
            drop(batch);
            rx.poll_wait(Some(Duration::from_millis(100))).unwrap();
            continue;
        }
        assert!(batch.len() <= 16);
        assert_eq!(batch.iter().size_hint(), (batch.len(), Some(batch.len())));
        let mut ptrs = Vec::new();
        for (i, pkt) in batch.iter().enumerate() {
            assert_eq!(batch.get(i), Some(pkt));
            check_rx(pkt, next, "recv_batch");
            ptrs.push(pkt.as_ptr());
            next += 1;
        }
        assert!(batch.get(batch.len()).is_none());
        assert_distinct(&ptrs, "rx frames of one batch");
        let n = (&batch).into_iter().count();
        assert_eq!(n, batch.len());
    }
    seq += 60;
    assert_eq!(rx.held_frames(), 0, "a dropped batch gives its frames back");

    // recv_packed: packets end to end, stopping before one that does not fit.
    peer_sends(&peer, seq..seq + 40);
    find(&mut rx, 40, "recv_packed");
    let mut next = seq;
    let mut packed = vec![0u8; 4096];
    let mut lens = [0u32; 8];
    while next < seq + 40 {
        let n = rx.recv_packed(&mut packed, &mut lens).unwrap();
        assert!(n >= 1, "packets were waiting");
        let mut off = 0;
        for &l in &lens[..n] {
            check_rx(&packed[off..off + l as usize], next, "recv_packed");
            off += l as usize;
            next += 1;
        }
        if n < lens.len() && next < seq + 40 {
            assert!(off + varied_len(next) > packed.len(), "recv_packed stopped at {n} with room for the next packet");
        }
    }
    seq += 40;
    // A first packet longer than the buffer is copied truncated.
    let long = test_frame(seq, 300);
    peer.send(&long).unwrap();
    find(&mut rx, 1, "recv_packed truncated");
    let mut small = [0u8; 100];
    assert_eq!(rx.recv_packed(&mut small, &mut lens).unwrap(), 1);
    assert_eq!((lens[0], &small[..]), (300, &long[..100]));
    seq += 1;

    // seek_n / peek_at / commit_n, some committed while others stay held.
    peer_sends(&peer, seq..seq + 50);
    find(&mut rx, 50, "seek_n");
    let have = rx.seek_n(50).unwrap();
    assert_eq!((have, rx.held_frames()), (50, 50));
    let mut ptrs = Vec::new();
    for i in 0..have {
        let p = rx.peek_at(i).unwrap();
        check_rx(p, seq + i as u32, "peek_at");
        ptrs.push(p.as_ptr());
    }
    assert_distinct(&ptrs, "held rx frames");
    assert!(rx.peek_at(have).unwrap_err().to_string().contains("call seek_n first"));
    assert_eq!(rx.commit_n(have + 1).unwrap_err().errno(), libc::EINVAL);
    rx.commit_n(20).unwrap();
    assert_eq!((rx.held_frames(), rx.in_flight_frames()), (30, 34));
    check_rx(rx.peek().unwrap(), seq + 20, "peek after a partial commit");
    assert_eq!(rx.peek_at(29).unwrap().as_ptr(), ptrs[49], "a held frame stays where it was");
    rx.commit_n(30).unwrap();
    seq += 50;

    // seek / peek / commit and seek_and_peek.
    peer_sends(&peer, seq..seq + 10);
    for s in seq..seq + 10 {
        assert!(rx.poll_wait(Some(Duration::from_secs(3))).unwrap(), "frame {s}");
        if s % 2 == 0 {
            assert_eq!(rx.seek().unwrap(), 1);
            check_rx(rx.peek().unwrap(), s, "peek");
        } else {
            check_rx(rx.seek_and_peek().expect("arrived"), s, "seek_and_peek");
        }
        rx.commit().unwrap();
    }
    let e = rx.seek_and_peek().unwrap_err();
    assert_eq!((e.errno(), io::Error::from(e).kind()), (libc::EAGAIN, io::ErrorKind::WouldBlock));
    assert_eq!(rx.recv(&mut buf).unwrap(), None);

    assert_eq!((rx.free_frames(), rx.held_frames(), rx.in_flight_frames()), (0, 0, 64));
    let st = rx.stats().unwrap();
    assert_eq!((st.rx_dropped, st.rx_ring_full, st.rx_invalid_descs), (0, 0, 0), "{st:?}");
}

#[test]
fn rx_paths_byte_exact_skb() {
    if common::require_root() {
        rx_paths(XdpMode::Skb);
    }
}

#[test]
fn rx_paths_byte_exact_drv() {
    if common::require_root() {
        rx_paths(XdpMode::Drv);
    }
}

/// A bi socket on veth1 echoes every packet back with its MAC addresses
/// swapped, writing each echo straight into a TX frame from the RX frame it
/// holds; an AF_PACKET socket on veth0 checks every echo byte for byte.
fn bi_echo(mode: XdpMode) {
    const N: u32 = 600;
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let peer = pair.run_in_a(move || PacketSocket::open(&a).expect("AF_PACKET on veth0"));
    let b = pair.if_b.clone();
    let cfg = XdpConfig { rx_frames: Some(64), tx_frames: Some(64), xdp_mode: Some(mode), ..Default::default() };
    let (tx, rx) = pair.run_in_b(move || create_bi_socket(ifindex(&b), 0, Some(cfg)).expect("bi socket"));
    assert_eq!((tx.fd(), tx.ifname(), tx.queue_id()), (rx.fd(), "veth1", 0), "one socket, two halves");
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let echo = std::thread::spawn(move || {
        let (mut tx, mut rx) = (tx, rx);
        let (mut echoed, mut tx_frames, mut rx_frames) = (0u32, HashSet::new(), HashSet::new());
        while !stop2.load(Ordering::Relaxed) {
            if !rx.poll_wait(Some(Duration::from_millis(20))).unwrap() {
                continue;
            }
            let batch = rx.recv_batch(32).unwrap();
            let n = batch.len();
            let deadline = Instant::now() + Duration::from_secs(5);
            while tx.seek_n(n).unwrap() < n {
                assert!(Instant::now() < deadline, "echo: no tx room");
                tx.poll_wait(Some(Duration::from_millis(100))).unwrap();
            }
            let held: Vec<usize> = batch.iter().map(|p| p.as_ptr() as usize).collect();
            for (i, pkt) in batch.iter().enumerate() {
                let out = tx.peek_at(i, pkt.len()).unwrap();
                let p = out.as_ptr() as usize;
                assert!(held.iter().all(|&h| h / 4096 != p / 4096), "echo: tx frame {p:#x} is an rx frame held");
                tx_frames.insert(p / 4096);
                out[..6].copy_from_slice(&pkt[6..12]);
                out[6..12].copy_from_slice(&pkt[..6]);
                out[12..].copy_from_slice(&pkt[12..]);
            }
            rx_frames.extend(held.iter().map(|h| h / 4096));
            tx.commit_and_kick(n).unwrap();
            echoed += n as u32;
        }
        assert!(tx_frames.is_disjoint(&rx_frames), "the halves share frames");
        assert!(
            tx_frames.len() <= 64 && rx_frames.len() <= 64,
            "{} tx, {} rx frames",
            tx_frames.len(),
            rx_frames.len()
        );
        (tx, rx, echoed)
    });
    let swapped = |f: Vec<u8>| [&f[6..12], &f[..6], &f[12..]].concat();
    for chunk in (0..N).step_by(32) {
        let seqs = chunk..(chunk + 32).min(N);
        peer_sends(&peer, seqs.clone());
        for s in seqs {
            let f = peer
                .recv_matching(Duration::from_secs(3), |f| is_test_frame(f) && f[..6] == TEST_SRC_MAC)
                .unwrap_or_else(|| panic!("echo of frame {s} never came back"));
            assert_eq!(frame_seq(&f), Some(s), "echoes out of order or lost");
            assert!(f == swapped(test_frame(s, varied_len(s))), "echo of frame {s} changed");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (mut tx, rx, echoed) = echo.join().expect("echo thread");
    assert_eq!(echoed, N);
    wait_all_completed(&mut tx, "echo");
    assert_eq!((tx.free_frames(), tx.total_frames()), (64, 64));
    assert_eq!((rx.free_frames(), rx.held_frames(), rx.in_flight_frames()), (0, 0, 64));
    let st = rx.stats().unwrap();
    assert_eq!((st.rx_dropped, st.rx_ring_full, st.tx_invalid_descs), (0, 0, 0), "{st:?}");
}

#[test]
fn bi_socket_echo_skb() {
    if common::require_root() {
        bi_echo(XdpMode::Skb);
    }
}

#[test]
fn bi_socket_echo_drv() {
    if common::require_root() {
        bi_echo(XdpMode::Drv);
    }
}

// ---- frame accounting under load ------------------------------------------

/// Frames per half in the accounting runs.
const FRAMES: usize = 256;
/// Packets sent and not yet received (their frames back) per direction, at
/// most: under the RX half's frames, so its fill ring never runs dry, and
/// under veth's 256-entry XDP ring (DRV mode) and the 1000-packet backlog
/// (SKB mode), so nothing is dropped on the way.
const WINDOW: u64 = 128;
/// TX descriptors reserved at a time beyond those about to be sent: they
/// stay reserved from one round to the next.
const EXTRA: usize = 8;
/// RX packets kept held from one round to the next on the seek_n path.
const KEEP: usize = 4;

/// What an RX thread that panicked leaves in its progress counter, so that
/// its sender stops at once instead of waiting for the deadline.
const FAILED: u64 = u64::MAX;

struct FailGuard<'a>(&'a AtomicU64);

impl Drop for FailGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(FAILED, Ordering::Release);
        }
    }
}

fn acct_len(seq: u32) -> usize {
    60 + (seq as usize % 64)
}

fn acct_check(pkt: &[u8], seq: u32, what: &str) {
    assert_eq!(frame_seq(pkt), Some(seq), "{what}: frames out of order, lost or not ours");
    assert!(pkt == &test_frame(seq, acct_len(seq))[..], "{what}: frame {seq} changed");
}

/// One TX half sending `count` packets, paced by what the other end has
/// received. Returns the addresses of all its frames, learnt by reserving
/// every one before the first send.
///
/// Frame identity: every round, the frames of all descriptors reserved at
/// once must be pairwise distinct and this half's own; the descriptors left
/// reserved from the round before must keep their frames.
fn tx_run(tx: &mut TxSocket, count: u32, received: &AtomicU64, deadline: Instant, who: &str) -> HashSet<usize> {
    let total = tx.total_frames();
    assert_eq!(total, FRAMES);
    assert_eq!(tx.seek_n(total).unwrap(), total, "{who}: a fresh half reserves every frame");
    let own: HashSet<usize> = (0..total).map(|i| tx.peek_at(i, 60).unwrap().as_ptr() as usize).collect();
    assert_eq!(own.len(), total, "{who}: a fresh half hands out a frame twice");
    let mut kept: Vec<usize> = Vec::new();
    let mut seq = 0u32;
    while seq < count {
        let r = received.load(Ordering::Acquire);
        assert_ne!(r, FAILED, "{who}: the receiving thread failed");
        let room = WINDOW.saturating_sub(seq as u64 - r);
        if room == 0 {
            assert!(Instant::now() < deadline, "{who}: the receiver stopped at {}", received.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_micros(20));
            continue;
        }
        let want = (room as usize).min(64).min((count - seq) as usize);
        let have = tx.seek_n(want + EXTRA).unwrap();
        if have == 0 {
            assert!(Instant::now() < deadline, "{who}: no tx room: {:?}", tx.stats());
            tx.poll_wait(Some(Duration::from_millis(1))).unwrap();
            continue;
        }
        let n = have.min(want);
        let mut ptrs = Vec::with_capacity(have);
        for i in 0..have {
            let len = if i < n { acct_len(seq + i as u32) } else { 60 };
            let buf = tx.peek_at(i, len).unwrap();
            ptrs.push(buf.as_ptr() as usize);
            if i < n {
                buf.copy_from_slice(&test_frame(seq + i as u32, len));
            }
        }
        assert_eq!(&ptrs[..kept.len().min(have)], &kept[..kept.len().min(have)], "{who}: a reserved frame moved");
        assert_distinct(&ptrs, who);
        assert!(ptrs.iter().all(|p| own.contains(p)), "{who}: handed out a frame that is not this half's");
        tx.commit_n(n).unwrap();
        tx.kick().unwrap();
        kept = ptrs[n..].to_vec();
        seq += n as u32;
    }
    own
}

/// One RX half receiving `count` packets, alternating between recv_batch and
/// seek_n/peek_at/commit_n; on the latter it keeps the last few packets held
/// into the next round. Returns the frames it saw packets in.
///
/// Frame identity: the packets held at once (a batch, or the held ones plus
/// those found next) must lie in pairwise distinct frames, and a packet held
/// across rounds must still read as it did: a frame lent to the kernel while
/// held would be overwritten.
fn rx_run(rx: &mut RxSocket, count: u32, done: &AtomicU64, deadline: Instant, who: &str) -> HashSet<usize> {
    let _tell_sender = FailGuard(done);
    let mut seen = HashSet::new();
    let mut next = 0u32; // next sequence number to see
    let mut held = 0usize; // packets held from the round before (seek_n path)
    let mut round = 0u64;
    while next < count {
        assert!(Instant::now() < deadline, "{who}: stuck at {next}: {:?}", rx.stats());
        round += 1;
        if round % 2 == 0 {
            // The batch starts with the packets still held from a seek_n round.
            let first = next - held as u32;
            let batch = rx.recv_batch(64).unwrap();
            if batch.len() == held {
                // Nothing new; dropping the batch gives the held ones back too.
                drop(batch);
                held = 0;
                done.store(next as u64, Ordering::Release);
                rx.poll_wait(Some(Duration::from_millis(10))).unwrap();
                continue;
            }
            let mut ptrs = Vec::with_capacity(batch.len());
            for (i, pkt) in batch.iter().enumerate() {
                acct_check(pkt, first + i as u32, who);
                ptrs.push(pkt.as_ptr() as usize);
            }
            assert_distinct(&ptrs, who);
            next = first + batch.len() as u32;
            seen.extend(ptrs);
            drop(batch);
            held = 0;
            assert_eq!(rx.held_frames(), 0, "{who}: a dropped batch gives every frame back");
            done.store(next as u64, Ordering::Release);
        } else {
            let have = rx.seek_n(64).unwrap();
            if have == held {
                rx.poll_wait(Some(Duration::from_millis(10))).unwrap();
                continue;
            }
            let first = next - held as u32;
            let mut ptrs = Vec::with_capacity(have);
            for i in 0..have {
                let pkt = rx.peek_at(i).unwrap();
                acct_check(pkt, first + i as u32, who);
                ptrs.push(pkt.as_ptr() as usize);
            }
            assert_distinct(&ptrs, who);
            seen.extend(&ptrs);
            next = first + have as u32;
            let keep = if next >= count { 0 } else { KEEP.min(have) };
            rx.commit_n(have - keep).unwrap();
            held = keep;
            assert_eq!(rx.held_frames(), held);
            done.store((next - held as u32) as u64, Ordering::Release);
        }
    }
    seen
}

/// After a run: every TX frame came back exactly once. Waits for the last
/// completions, then reserves every frame again: they must be the half's
/// own frames, each once.
fn every_tx_frame_back_once(tx: &mut TxSocket, own: &HashSet<usize>, who: &str) {
    wait_all_completed(tx, who);
    let total = tx.total_frames();
    assert_eq!(tx.free_frames() + tx.reserved_frames() + tx.in_flight_frames(), total);
    assert_eq!(tx.seek_n(total).unwrap(), total, "{who}: not every frame came back");
    let ptrs: Vec<usize> = (0..total).map(|i| tx.peek_at(i, 60).unwrap().as_ptr() as usize).collect();
    assert_distinct(&ptrs, who);
    assert_eq!(ptrs.into_iter().collect::<HashSet<_>>(), *own, "{who}: frames changed");
    assert_eq!(tx.stats().unwrap().tx_invalid_descs, 0);
}

/// After a run: the RX half's fill ring holds each of its frames exactly
/// once. The peer sends probes, which `rx` finds but does not commit, until
/// one is dropped for want of a frame: exactly `total` must have landed, in
/// `total` distinct frames (a frame lent twice would hold two probes, a frame
/// lost would leave fewer). Then they are committed, and one more probe must
/// get through.
fn fill_ring_holds_every_frame(rx: &mut RxSocket, prober: &mut TxSocket, who: &str) -> HashSet<usize> {
    let total = rx.total_frames();
    assert_eq!((rx.free_frames(), rx.held_frames(), rx.in_flight_frames()), (0, 0, total), "{who}");
    let before = rx.stats().unwrap();
    let probe = |s: u32| test_frame(0x8000_0000 | s, 60);
    let mut sent = 0u32;
    let deadline = Instant::now() + Duration::from_secs(10);
    let landed = loop {
        let frames: Vec<Vec<u8>> = (sent..sent + 16).map(probe).collect();
        let mut k = 0;
        while k < frames.len() {
            // Through the descriptors: the accounting run left some
            // reserved and written, which a send would refuse to publish.
            let n = prober.seek_n(frames.len() - k).unwrap().min(frames.len() - k);
            for (i, f) in frames[k..k + n].iter().enumerate() {
                prober.peek_at(i, f.len()).unwrap().copy_from_slice(f);
            }
            prober.commit_and_kick(n).unwrap();
            if n == 0 {
                assert!(Instant::now() < deadline, "{who}: prober has no room");
                prober.poll_wait(Some(Duration::from_millis(10))).unwrap();
            }
            k += n;
        }
        sent += 16;
        // Each probe either lands (found, and held) or is dropped.
        let (landed, dropped) = loop {
            let landed = rx.seek_n(total + 64).unwrap();
            let dropped = rx.stats().unwrap().rx_dropped - before.rx_dropped;
            if landed as u64 + dropped == sent as u64 {
                break (landed, dropped);
            }
            assert!(Instant::now() < deadline, "{who}: {sent} probes, {landed} landed, {dropped} dropped");
            std::thread::sleep(Duration::from_millis(1));
        };
        if dropped > 0 {
            break landed;
        }
    };
    assert_eq!(landed, total, "{who}: {landed} probes found a frame, the half has {total}");
    let ptrs: Vec<usize> = (0..landed)
        .map(|i| {
            let p = rx.peek_at(i).unwrap();
            assert_eq!(frame_seq(p), Some(0x8000_0000 | i as u32), "{who}: probe {i}");
            p.as_ptr() as usize
        })
        .collect();
    assert_distinct(&ptrs, who);
    let after = rx.stats().unwrap();
    assert!(after.rx_fill_ring_empty_descs > before.rx_fill_ring_empty_descs, "{who}: {after:?}");
    assert_eq!((after.rx_ring_full, after.rx_invalid_descs), (0, 0), "{who}: {after:?}");
    rx.commit_n(landed).unwrap();
    assert_eq!((rx.free_frames(), rx.held_frames(), rx.in_flight_frames()), (0, 0, total), "{who}");
    send_one(prober, &probe(sent), None);
    let mut buf = [0u8; 128];
    let n = rx.recv_timeout(&mut buf, Some(Duration::from_secs(3))).unwrap().expect("a probe after the commit");
    assert_eq!(frame_seq(&buf[..n]), Some(0x8000_0000 | sent), "{who}");
    ptrs.into_iter().collect()
}

/// `count` packets each way between two bi sockets (veth0 in namespace a,
/// veth1 in b), each of the four halves on its own thread, every packet
/// checked byte for byte and in order. At the end every frame of every half
/// is accounted for: free + reserved/held + in flight == total, every TX
/// frame comes back exactly once, every RX frame is lent exactly once, and
/// the halves of one socket never touch each other's frames.
fn accounting(mode: XdpMode, count: u32) {
    let pair = VethPair::new();
    let cfg = XdpConfig {
        rx_frames: Some(FRAMES as u32),
        tx_frames: Some(FRAMES as u32),
        xdp_mode: Some(mode),
        ..Default::default()
    };
    let (a, b) = (pair.if_a.clone(), pair.if_b.clone());
    let (mut a_tx, mut a_rx) = pair.run_in_a(move || create_bi_socket(ifindex(&a), 0, Some(cfg)).expect("bi a"));
    let (mut b_tx, mut b_rx) = pair.run_in_b(move || create_bi_socket(ifindex(&b), 0, Some(cfg)).expect("bi b"));
    let (ab, ba) = (AtomicU64::new(0), AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);
    let started = Instant::now();
    let (a_own, b_own, b_seen, a_seen) = std::thread::scope(|s| {
        let t1 = s.spawn(|| tx_run(&mut a_tx, count, &ab, deadline, "tx a->b"));
        let t2 = s.spawn(|| tx_run(&mut b_tx, count, &ba, deadline, "tx b->a"));
        let r1 = s.spawn(|| rx_run(&mut b_rx, count, &ab, deadline, "rx a->b"));
        let r2 = s.spawn(|| rx_run(&mut a_rx, count, &ba, deadline, "rx b->a"));
        let mut out = [t1, t2, r1, r2].map(|h| h.join().expect("a half's thread panicked")).into_iter();
        let mut next = || out.next().unwrap();
        (next(), next(), next(), next())
    });
    eprintln!("{mode:?}: {count} packets each way in {:?}", started.elapsed());
    for (rx, who) in [(&a_rx, "rx b->a"), (&b_rx, "rx a->b")] {
        let st = rx.stats().unwrap();
        assert_eq!((st.rx_dropped, st.rx_ring_full, st.rx_fill_ring_empty_descs), (0, 0, 0), "{who}: {st:?}");
        assert_eq!((rx.free_frames(), rx.held_frames(), rx.in_flight_frames()), (0, 0, FRAMES), "{who}");
    }
    let b_lent = fill_ring_holds_every_frame(&mut b_rx, &mut a_tx, "rx a->b");
    let a_lent = fill_ring_holds_every_frame(&mut a_rx, &mut b_tx, "rx b->a");
    every_tx_frame_back_once(&mut a_tx, &a_own, "tx a->b");
    every_tx_frame_back_once(&mut b_tx, &b_own, "tx b->a");
    let page = |set: &HashSet<usize>| set.iter().map(|p| p / 4096).collect::<HashSet<_>>();
    for (own, seen, lent, who) in [(&a_own, &a_seen, &a_lent, "a"), (&b_own, &b_seen, &b_lent, "b")] {
        assert!(seen.is_subset(lent), "side {who}: a packet landed in a frame the fill ring does not hold");
        assert!(
            lent.iter().all(|p| p % 4096 == XDP_PACKET_HEADROOM as usize),
            "side {who}: packets start {XDP_PACKET_HEADROOM} bytes into their frame"
        );
        assert!(page(own).is_disjoint(&page(lent)), "side {who}: the tx and rx halves share a frame");
    }
}

#[test]
fn accounting_20k_each_way_skb() {
    if common::require_root() {
        accounting(XdpMode::Skb, 20_000);
    }
}

#[test]
fn accounting_20k_each_way_drv() {
    if common::require_root() {
        accounting(XdpMode::Drv, 20_000);
    }
}

#[test]
fn accounting_million_each_way_skb() {
    let _serial = busy_or_timed();
    if common::require_root() {
        accounting(XdpMode::Skb, 1_000_000);
    }
}

#[test]
fn accounting_million_each_way_drv() {
    let _serial = busy_or_timed();
    if common::require_root() {
        accounting(XdpMode::Drv, 1_000_000);
    }
}

// ---- full rings and timeouts ----------------------------------------------

/// With veth0 down the kernel leaves the TX ring alone (sendto and poll
/// answer ENETDOWN), so what is committed stays in flight: the frames run
/// out (or the TX ring fills), and that is "no room", not an error, until
/// the link comes back.
#[test]
fn full_tx_is_no_room_and_send_timeout_honours_its_timeout() {
    let _serial = busy_or_timed();
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let b = pair.if_b.clone();
    let peer = pair.run_in_b(move || PacketSocket::open(&b).expect("AF_PACKET on veth1"));
    let a = pair.if_a.clone();
    let cfg = XdpConfig { tx_frames: Some(64), ..Default::default() };
    let mut tx = pair.run_in_a(move || create_tx_socket(ifindex(&a), 0, Some(cfg)).expect("tx"));

    let t = Instant::now();
    assert!(tx.poll_wait(Some(Duration::from_secs(1))).unwrap(), "an idle tx half has room");
    assert!(t.elapsed() < SLACK, "an idle tx half's poll_wait took {:?}", t.elapsed());

    ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "down"]);
    let mut sent = 0u32;
    while tx.send(&test_frame(sent, varied_len(sent)), None).unwrap() {
        sent += 1;
        assert!(sent <= 64, "sent more packets than there are frames");
    }
    assert_eq!(sent, 64, "every frame in flight before send said no room");
    assert_eq!((tx.free_frames(), tx.reserved_frames(), tx.in_flight_frames()), (0, 0, 64));
    let f = test_frame(64, varied_len(64));
    assert!(!tx.send(&f, None).unwrap(), "still no room");
    assert_eq!(tx.send_batch(&[&f]).unwrap(), 0);
    assert_eq!(tx.send_packed(&f, &[f.len() as u32]).unwrap(), 0);
    assert_eq!(tx.seek().unwrap(), 0);
    let e = tx.seek_and_peek(60).unwrap_err();
    assert!(matches!(e, xsk_rs::Error::WouldBlock(_)), "{e}");

    let t = Instant::now();
    assert!(!tx.send_timeout(&f, None, Duration::from_millis(200)).unwrap());
    assert_waited("send_timeout with no room", t, Duration::from_millis(200));
    let t = Instant::now();
    assert!(!tx.poll_wait(Some(Duration::from_millis(150))).unwrap());
    assert_waited("poll_wait on a full tx half", t, Duration::from_millis(150));
    assert_eq!(tx.in_flight_frames(), 64);

    // Room appears when the link comes back: send_blocking waits for it.
    let (ns, ifa) = (pair.ns_a.clone(), pair.if_a.clone());
    let up = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        ip_in(&ns, &["link", "set", "dev", &ifa, "up"]);
    });
    let t = Instant::now();
    tx.send_blocking(&f, None).unwrap();
    let took = t.elapsed();
    up.join().unwrap();
    assert!(took >= Duration::from_millis(190) && took < Duration::from_secs(5), "send_blocking took {took:?}");
    expect_at_peer(&peer, 0..65, varied_len, "packets queued while the link was down");
    wait_all_completed(&mut tx, "after the link came back");
    assert_eq!(tx.free_frames(), 64);
    drop(tx);

    // A TX ring smaller than the frames: it fills first, with frames to spare.
    let a = pair.if_a.clone();
    let cfg = XdpConfig { tx_frames: Some(128), tx_size: Some(64), ..Default::default() };
    let mut tx = pair.run_in_a(move || create_tx_socket(ifindex(&a), 0, Some(cfg)).expect("tx"));
    ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "down"]);
    let mut sent = 0u32;
    while tx.send(&test_frame(sent, 60), None).unwrap() {
        sent += 1;
        assert!(sent <= 64, "sent more packets than the tx ring holds");
    }
    assert_eq!((sent, tx.free_frames(), tx.in_flight_frames()), (64, 64, 64), "the ring is full, not the frames");
    let t = Instant::now();
    assert!(!tx.send_timeout(&f, None, Duration::from_millis(100)).unwrap());
    assert_waited("send_timeout on a full tx ring", t, Duration::from_millis(100));
    ip_in(&pair.ns_a, &["link", "set", "dev", &pair.if_a, "up"]);
    assert!(tx.send_timeout(&test_frame(64, 60), None, Duration::from_secs(5)).unwrap());
    expect_at_peer(&peer, 0..65, |_| 60, "a full tx ring's packets");
}

/// An idle RX half's poll_wait and recv_timeout end at their timeouts (not
/// before, and not much after); a packet ends them early.
#[test]
fn rx_waits_honour_their_timeouts() {
    let _serial = busy_or_timed();
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let peer = pair.run_in_a(move || PacketSocket::open(&a).expect("AF_PACKET on veth0"));
    let b = pair.if_b.clone();
    let cfg = XdpConfig { rx_frames: Some(64), xdp_mode: Some(XdpMode::Skb), ..Default::default() };
    let mut rx = pair.run_in_b(move || create_rx_socket(ifindex(&b), 0, Some(cfg)).expect("rx"));

    for ms in [0, 100, 250] {
        let t = Instant::now();
        assert!(!rx.poll_wait(Some(Duration::from_millis(ms))).unwrap(), "idle, yet poll_wait said ready");
        assert_waited("poll_wait on an idle rx half", t, Duration::from_millis(ms));
    }
    let mut buf = [0u8; 2048];
    let t = Instant::now();
    assert_eq!(rx.recv_timeout(&mut buf, Some(Duration::from_millis(150))).unwrap(), None);
    assert_waited("recv_timeout on an idle rx half", t, Duration::from_millis(150));

    let f = test_frame(7, 333);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            peer.send(&f).unwrap();
        });
        let t = Instant::now();
        assert!(rx.poll_wait(Some(Duration::from_secs(3))).unwrap());
        assert!(t.elapsed() >= Duration::from_millis(90) && t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    });
    let n = rx.recv(&mut buf).unwrap().expect("poll_wait said a packet is there");
    assert_eq!(&buf[..n], &f[..]);
    // None waits as long as it takes.
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            peer.send(&f).unwrap();
        });
        assert!(rx.poll_wait(None).unwrap());
    });
    assert_eq!(rx.recv_timeout(&mut buf, None).unwrap(), Some(333));
}

// ---- creation ---------------------------------------------------------------

/// `create_socket` gives the halves its direction asks for, and each half
/// says what it is bound to.
#[test]
fn create_socket_gives_the_halves_asked_for() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let ns = pair.ns_a.clone();
    pair.run_in_a(move || {
        let idx = ifindex(&a);
        let small = |mode| XdpConfig { rx_frames: Some(32), tx_frames: Some(32), xdp_mode: mode, ..Default::default() };
        let (tx, rx) = create_socket(idx, 0, Direction::Tx, Some(small(None))).unwrap();
        let tx = tx.expect("a tx half");
        assert!(rx.is_none());
        assert_eq!((tx.xdp_mode(), tx.ifindex(), tx.ifname(), tx.queue_id()), (XdpMode::None, idx, "veth0", 0));
        assert_eq!((tx.total_frames(), tx.frame_size(), tx.is_zerocopy().unwrap()), (32, 4096, false));
        assert!(!xdp_attached(&ns, &a), "a tx-only socket attaches nothing");
        assert!(format!("{tx:?}").starts_with("Tx {"), "{tx:?}");
        drop(tx);
        let (tx, rx) = create_socket(idx, 0, Direction::Rx, Some(small(Some(XdpMode::Skb)))).unwrap();
        assert!(tx.is_none());
        let rx = rx.expect("an rx half");
        assert_eq!((rx.xdp_mode(), rx.total_frames()), (XdpMode::Skb, 32));
        assert!(xdp_attached(&ns, &a));
        drop(rx);
        common::assert_detached(&ns, &a, "the last half dropped");
        let (tx, rx) = create_socket(idx, 0, Direction::Both, Some(small(Some(XdpMode::Drv)))).unwrap();
        let (tx, rx) = (tx.unwrap(), rx.unwrap());
        assert_eq!((tx.fd(), rx.xdp_mode(), tx.xdp_mode()), (rx.fd(), XdpMode::Drv, XdpMode::Drv));
        drop(rx);
        assert!(xdp_attached(&ns, &a), "the tx half still holds the socket");
        drop(tx);
        common::assert_detached(&ns, &a, "both halves dropped");
    });
}

fn open_tx(idx: u32, cfg: Option<XdpConfig>) -> io::Result<TxSocket> {
    let tx = create_tx_socket(idx, 0, cfg)?;
    Ok(tx)
}

fn open_rx(idx: u32, cfg: Option<XdpConfig>) -> io::Result<RxSocket> {
    Ok(create_rx_socket(idx, 0, cfg)?)
}

/// Geometries that would strand frames are refused through every create
/// call, with EINVAL and a message naming the rule; a missing interface is
/// ENODEV; both convert into io::Error with `?`, keeping kind, message and
/// errno. A refusal leaves nothing behind.
#[test]
fn refusals_name_the_rule_and_convert_to_io_error() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let a = pair.if_a.clone();
    let ns = pair.ns_a.clone();
    pair.run_in_a(move || {
        let idx = ifindex(&a);
        let c = |f: fn(&mut XdpConfig)| {
            let mut c = XdpConfig { xdp_mode: Some(XdpMode::Skb), ..Default::default() };
            f(&mut c);
            Some(c)
        };
        let refusals: [(Error, &str); 4] = [
            (
                create_rx_socket(idx, 0, c(|c| (c.rx_frames, c.rx_size) = (Some(512), Some(256)))).unwrap_err(),
                "rx socket on veth0 queue 0: rx ring of 256 entries is smaller than the 512 rx frames",
            ),
            (
                create_socket(idx, 0, Direction::Both, c(|c| (c.rx_frames, c.fill_size) = (Some(512), Some(512))))
                    .unwrap_err(),
                "bi socket on veth0 queue 0: fill ring of 512 entries cannot take all 512 rx frames: the kernel may \
                 need twice the frames lent (the lending rule)",
            ),
            (
                create_tx_socket(idx, 0, c(|c| (c.tx_frames, c.comp_size) = (Some(512), Some(256)))).unwrap_err(),
                "tx socket on veth0 queue 0: completion ring of 256 entries is smaller than the 512 tx frames",
            ),
            (
                create_bi_socket(idx, 0, c(|c| c.frame_size = Some(3000))).unwrap_err(),
                "frame size 3000 is not supported",
            ),
        ];
        for (e, msg) in &refusals {
            assert_eq!(e.errno(), libc::EINVAL, "{e}");
            assert!(e.to_string().contains(msg), "{e}\nshould say: {msg}");
        }
        assert!(!xdp_attached(&ns, &a), "a refused create attached a program");

        let bad = idx + 1000;
        let e = create_tx_socket(bad, 0, None).unwrap_err();
        assert_eq!(e.errno(), libc::ENODEV);
        assert!(e.to_string().contains(&format!("no interface with index {bad}")), "{e}");
        assert!(matches!(create_socket(bad, 0, Direction::Both, None), Err(Error::NoDevice(_))));

        let e = open_tx(bad, None).unwrap_err();
        assert_eq!(Error::errno_of(&e), Some(libc::ENODEV));
        assert_eq!(e.kind(), io::Error::from_raw_os_error(libc::ENODEV).kind());
        assert!(e.to_string().contains(&format!("no interface with index {bad}")), "{e}");
        let e = open_rx(idx, c(|c| (c.rx_frames, c.rx_size) = (Some(512), Some(256)))).unwrap_err();
        assert_eq!((e.kind(), Error::errno_of(&e)), (io::ErrorKind::InvalidInput, Some(libc::EINVAL)));
        assert!(e.to_string().contains("rx ring of 256 entries"), "{e}");

        // The queue is free: a good geometry works on it now.
        let rx = open_rx(idx, c(|c| c.rx_frames = Some(512))).expect("a good geometry");
        assert_eq!(rx.total_frames(), 512);
    });
}

/// An empty packet is refused: `send` refuses it before reserving a
/// descriptor (the kernel would not send it, and `commit_n` refuses it); in a
/// batch it stops the batch before it, and the packets before it go.
#[test]
fn empty_packets_are_refused_before_reserving() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let cfg = XdpConfig { tx_frames: Some(16), ..Default::default() };
    let a = pair.if_a.clone();
    let mut tx = pair.run_in_a(move || create_tx_socket_by_name(&a, 0, Some(cfg)).expect("tx"));
    let e = tx.send(&[], None).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    assert!(e.to_string().contains("length 0"), "{e}");
    assert_eq!(tx.reserved_frames(), 0);
    let e = tx.send_batch(&[&[][..], &test_frame(0, 60)[..]]).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    let frame = test_frame(1, 60);
    assert_eq!(tx.send_batch(&[&frame[..], &[][..], &frame[..]]).unwrap(), 1);
    assert_eq!((tx.reserved_frames(), tx.free_frames() + tx.in_flight_frames()), (0, 16));
}

/// A send never fills and publishes a descriptor the caller has written and
/// not committed (it would go out under the caller, who still holds its
/// frame): it is refused with EBUSY until the caller commits. A reservation
/// never written (a `seek` before `send`, as the seed crate's docs do) is the
/// send's to use. The peer sees exactly what was committed and sent, in order.
#[test]
fn a_send_never_publishes_a_frame_the_caller_holds() {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::new();
    let b = pair.if_b.clone();
    let peer = pair.run_in_b(move || PacketSocket::open(&b).expect("AF_PACKET on veth1"));
    let a = pair.if_a.clone();
    let cfg = XdpConfig { tx_frames: Some(16), ..Default::default() };
    let mut tx = pair.run_in_a(move || create_tx_socket(ifindex(&a), 0, Some(cfg)).expect("tx"));
    assert_eq!(tx.seek_n(2).unwrap(), 2);
    tx.peek_at(0, 60).unwrap().copy_from_slice(&test_frame(0, 60));
    tx.peek_at(1, 60).unwrap().copy_from_slice(&test_frame(1, 60));
    for e in [tx.send(&test_frame(9, 60), None).unwrap_err(), tx.send_batch(&[test_frame(9, 60)]).unwrap_err()] {
        assert_eq!(e.errno(), libc::EBUSY, "{e}");
        assert!(e.to_string().contains("2 reserved descriptors"), "{e}");
    }
    assert_eq!(tx.reserved_frames(), 2);
    tx.commit_and_kick(2).unwrap();
    // An unwritten reservation: send uses it.
    assert_eq!(tx.seek().unwrap(), 1);
    assert!(tx.send(&test_frame(2, 60), None).unwrap());
    assert_eq!(tx.reserved_frames(), 0);
    expect_at_peer(&peer, 0..3, |_| 60, "committed, then sent");
}
