//! Tests of the test harness itself: if these fail, no packet test can be
//! trusted, so they check the plumbing (namespaces, veth, AF_PACKET peer)
//! without any AF_XDP in the way.

mod common;

use common::*;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(2);

#[test]
fn frames_cross_the_veth_byte_exact_and_in_order() {
    if !require_root() {
        return;
    }
    let pair = VethPair::new();
    // Each socket takes the namespace of the thread that opened it.
    let rx = pair.run_in_b(|| PacketSocket::open(&pair.if_b).expect("open peer in b"));
    let tx = pair.run_in_a(|| PacketSocket::open(&pair.if_a).expect("open peer in a"));
    assert_ne!(rx.ifindex, 0);

    let lens = [60usize, 61, 64, 128, 333, 512, 1000, 1499, 1500, 60];
    for (seq, &len) in lens.iter().enumerate() {
        tx.send(&test_frame(seq as u32, len)).expect("send");
    }
    for (seq, &len) in lens.iter().enumerate() {
        let got = rx.recv_test_frame(WAIT).unwrap_or_else(|| panic!("frame {seq} did not arrive"));
        assert_eq!(frame_seq(&got), Some(seq as u32), "frames out of order");
        assert_eq!(got, test_frame(seq as u32, len), "frame {seq} altered in flight");
    }
    // The sender's own socket sees its frames only as outgoing, which it skips.
    assert_eq!(tx.recv_test_frame(Duration::from_millis(100)), None);
    assert_eq!(rx.recv_test_frame(Duration::from_millis(100)), None, "unexpected extra frame");
}

#[test]
fn namespaces_are_removed_on_drop_even_after_a_panic() {
    if !require_root() {
        return;
    }
    let pair = VethPair::new();
    let (a, b) = (pair.ns_a.clone(), pair.ns_b.clone());
    assert!(netns_exists(&a) && netns_exists(&b));
    drop(pair);
    assert!(!netns_exists(&a) && !netns_exists(&b), "namespaces left behind");

    let names = std::panic::catch_unwind(|| {
        let pair = VethPair::new();
        let names = (pair.ns_a.clone(), pair.ns_b.clone());
        std::panic::panic_any(names)
    })
    .expect_err("the closure panics");
    let (a, b) = names.downcast_ref::<(String, String)>().expect("names as payload").clone();
    assert!(!netns_exists(&a) && !netns_exists(&b), "namespaces left behind after a panic");
}

#[test]
fn closures_run_in_the_namespace_and_panics_propagate() {
    if !require_root() {
        return;
    }
    let pair = VethPair::new();
    let here = current_netns();
    let in_a = pair.run_in_a(current_netns);
    let in_b = pair.run_in_b(current_netns);
    assert_ne!(in_a, here);
    assert_ne!(in_b, here);
    assert_ne!(in_a, in_b);
    assert_eq!(current_netns(), here, "the calling thread must not move");
    // The interface of each end is visible only in its own namespace.
    assert!(pair.run_in_a(|| PacketSocket::open(&pair.if_a)).is_ok());
    assert!(pair.run_in_a(|| PacketSocket::open(&pair.if_b)).is_err());

    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pair.run_in_b(|| panic!("boom"))));
    let payload = r.expect_err("panic must reach the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
}

#[test]
fn pairs_built_in_parallel_are_independent() {
    if !require_root() {
        return;
    }
    let pairs: Vec<VethPair> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(VethPair::new)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut names: Vec<&str> = pairs.iter().flat_map(|p| [p.ns_a.as_str(), p.ns_b.as_str()]).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "namespace names collide");
    // A frame sent on one pair never shows up on another.
    let rx0 = pairs[0].run_in_b(|| PacketSocket::open(&pairs[0].if_b).unwrap());
    let rx1 = pairs[1].run_in_b(|| PacketSocket::open(&pairs[1].if_b).unwrap());
    let tx0 = pairs[0].run_in_a(|| PacketSocket::open(&pairs[0].if_a).unwrap());
    tx0.send(&test_frame(7, 100)).unwrap();
    assert_eq!(rx0.recv_test_frame(WAIT), Some(test_frame(7, 100)));
    assert_eq!(rx1.recv_test_frame(Duration::from_millis(200)), None);
}

#[test]
fn veth_gets_the_requested_queue_count() {
    if !require_root() {
        return;
    }
    let pair = VethPair::with_queues(4);
    let out = std::process::Command::new("ip")
        .args(["-n", &pair.ns_a, "-d", "link", "show", "dev", &pair.if_a])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("numrxqueues 4") && text.contains("numtxqueues 4"), "{text}");
    assert!(!xdp_attached(&pair.ns_a, &pair.if_a), "a fresh veth has no XDP program");
    assert!(!xdp_attached(&pair.ns_b, &pair.if_b));
}

#[test]
fn test_frames_are_numbered_and_seq_dependent() {
    let f = test_frame(0x01020304, 60);
    assert_eq!(f.len(), 60);
    assert_eq!(&f[12..14], &[0x88, 0xB5]);
    assert_eq!(frame_seq(&f), Some(0x01020304));
    assert_ne!(test_frame(1, 60)[TEST_HEADER_LEN..], test_frame(2, 60)[TEST_HEADER_LEN..]);
    let mut other = f.clone();
    other[12] = 0x08;
    other[13] = 0x00;
    assert_eq!(frame_seq(&other), None);
    assert_eq!(frame_seq(&f[..10]), None);
}

#[test]
fn ip_link_output_parsing_recognises_every_xdp_mode() {
    let none = "2: veth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n    link/ether 5e:1c:7a:00:00:01 brd ff:ff:ff:ff:ff:ff link-netns x promiscuity 0\n    veth numtxqueues 1 numrxqueues 1";
    assert!(!ip_link_shows_xdp(none));
    for mode in ["xdp", "xdpgeneric", "xdpdrv", "xdpoffload", "xdpmulti"] {
        let line = format!("2: veth0@if2: <UP,LOWER_UP> mtu 1500 {mode} qdisc noqueue state UP");
        assert!(ip_link_shows_xdp(&line), "{mode}");
    }
    assert!(ip_link_shows_xdp("    link/ether 00:00:00:00:00:00\n    prog/xdp id 42 name xsk_rs tag 0123 jited"));
}
