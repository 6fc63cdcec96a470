//! The packet layer over a veth pair: a TX half on one end, an RX half on the
//! other, bytes and frames checked.

mod common;

use common::{frame_seq, test_frame, VethPair};
use std::time::{Duration, Instant};
use xsk_rs::xdp::XdpMode;
use xsk_rs::{create_rx_socket_by_name, create_tx_socket_by_name, PollWaitExt, XdpConfig};

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
    assert_eq!(tx.free_frames() + tx.reserved_frames() + tx.in_flight_frames(), 16);
}
