//! Sends numbered test frames out of one queue of an interface.
//!
//! ```sh
//! cargo run --example tx -- IFNAME [QUEUE] [COUNT] [LEN]
//! sudo target/debug/examples/tx veth0 0 1000000 64
//! ```
//!
//! QUEUE defaults to 0, COUNT to 1000 frames, LEN to 64 bytes (60 to the
//! interface's longest frame). Each frame is a broadcast Ethernet frame with
//! the local experimental EtherType 0x88B5, a 32-bit big-endian sequence
//! number, then zeroes. It sends in batches of 64 (`send_batch`, one kick per
//! batch), waits with `poll_wait` while every frame is in flight, and prints
//! the rate and the socket's counters at the end. Run `rx` on the peer to see
//! them arrive. Needs root (CAP_NET_RAW).

use std::process::ExitCode;
use std::time::{Duration, Instant};
use xsk_rs::{create_tx_socket_by_name, PollWaitExt, XdpConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(ifname) = args.get(1) else {
        eprintln!("usage: {} IFNAME [QUEUE] [COUNT] [LEN]", args[0]);
        return ExitCode::from(2);
    };
    let num = |i: usize, default: u64| args.get(i).map_or(Ok(default), |a| a.parse::<u64>());
    let (Ok(queue), Ok(count), Ok(len)) = (num(2, 0), num(3, 1000), num(4, 64)) else {
        eprintln!("QUEUE, COUNT and LEN are numbers");
        return ExitCode::from(2);
    };
    match run(ifname, queue as u32, count, len as usize) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tx: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(ifname: &str, queue: u32, count: u64, len: usize) -> xsk_rs::Result<()> {
    // A send-only socket attaches no XDP program; 1024 frames are plenty.
    let config = XdpConfig { tx_frames: Some(1024), ..Default::default() };
    let mut tx = create_tx_socket_by_name(ifname, queue, Some(config))?;
    if len < 60 || len > tx.max_len() {
        return Err(xsk_rs::Error::InvalidArgument(format!("LEN {len}: give 60 to {}", tx.max_len())));
    }
    let frame = |seq: u64| {
        let mut f = vec![0u8; len];
        f[..6].copy_from_slice(&[0xff; 6]);
        f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
        f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        f[14..18].copy_from_slice(&(seq as u32).to_be_bytes());
        f
    };
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < count {
        let batch: Vec<Vec<u8>> = (sent..count.min(sent + 64)).map(frame).collect();
        let n = tx.send_batch(&batch)?;
        if n == 0 {
            // Every frame is in flight: wait until the kernel gives some back.
            tx.poll_wait(Some(Duration::from_secs(1)))?;
        }
        sent += n as u64;
    }
    // Wait for the last frames to be sent before the socket goes.
    let deadline = Instant::now() + Duration::from_secs(2);
    while tx.reclaim_completed() + tx.free_frames() < tx.total_frames() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sent {sent} frames of {len} bytes on {ifname} queue {queue} in {secs:.3} s ({:.0} pps); {:?}",
        sent as f64 / secs,
        tx.stats()?
    );
    Ok(())
}
