//! Receives packets on one queue of an interface and prints each one.
//!
//! ```sh
//! cargo run --example rx -- IFNAME [QUEUE] [COUNT] [MODE]
//! sudo target/debug/examples/rx veth1 0 10
//! ```
//!
//! QUEUE defaults to 0; COUNT (default 0: no limit) stops it after that many
//! packets; MODE is `auto` (default), `skb` or `drv`, the XDP mode of the
//! program that steers the queue to the socket (attached at start, detached
//! at exit, even on a crash). For each packet it prints the length, the
//! Ethernet addresses and EtherType, and for the frames the `tx` example
//! sends (EtherType 0x88B5), their sequence number. Every second without a
//! packet it prints the socket's counters. Needs root (CAP_NET_RAW, CAP_BPF,
//! CAP_NET_ADMIN).
//!
//! It reads packets in place (`recv_batch`, zero copy): the batch borrows the
//! socket, and dropping it gives every frame back to the kernel.

use std::process::ExitCode;
use std::time::Duration;
use xsk_rs::xdp::XdpMode;
use xsk_rs::{create_rx_socket_by_name, PollWaitExt, XdpConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(ifname) = args.get(1) else {
        eprintln!("usage: {} IFNAME [QUEUE] [COUNT] [auto|skb|drv]", args[0]);
        return ExitCode::from(2);
    };
    let num = |i: usize, default: u64| args.get(i).map_or(Ok(default), |a| a.parse::<u64>());
    let (Ok(queue), Ok(count)) = (num(2, 0), num(3, 0)) else {
        eprintln!("QUEUE and COUNT are numbers");
        return ExitCode::from(2);
    };
    let mode = match args.get(4).map(String::as_str) {
        None | Some("auto") => XdpMode::Auto,
        Some("skb") => XdpMode::Skb,
        Some("drv") => XdpMode::Drv,
        Some(m) => {
            eprintln!("MODE {m}: auto, skb or drv");
            return ExitCode::from(2);
        }
    };
    match run(ifname, queue as u32, count, mode) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rx: {e}");
            ExitCode::FAILURE
        }
    }
}

fn mac(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

fn run(ifname: &str, queue: u32, count: u64, mode: XdpMode) -> xsk_rs::Result<()> {
    let config = XdpConfig { rx_frames: Some(1024), xdp_mode: Some(mode), ..Default::default() };
    let mut rx = create_rx_socket_by_name(ifname, queue, Some(config))?;
    eprintln!("receiving on {ifname} queue {queue}, XDP mode {:?}", rx.xdp_mode());
    let mut seen = 0u64;
    while count == 0 || seen < count {
        if !rx.poll_wait(Some(Duration::from_secs(1)))? {
            eprintln!("(idle) {:?}", rx.stats()?);
            continue;
        }
        let want = if count == 0 { 64 } else { (count - seen).min(64) as usize };
        let batch = rx.recv_batch(want)?;
        for pkt in &batch {
            seen += 1;
            if pkt.len() < 14 {
                println!("{seen}: {} bytes (runt)", pkt.len());
                continue;
            }
            let ethertype = u16::from_be_bytes([pkt[12], pkt[13]]);
            let seq = if ethertype == 0x88b5 && pkt.len() >= 18 {
                format!(" seq {}", u32::from_be_bytes([pkt[14], pkt[15], pkt[16], pkt[17]]))
            } else {
                String::new()
            };
            println!(
                "{seen}: {} bytes {} > {} type {ethertype:#06x}{seq}",
                pkt.len(),
                mac(&pkt[6..12]),
                mac(&pkt[..6])
            );
        }
    }
    eprintln!("{seen} packets; {:?}", rx.stats()?);
    Ok(())
}
