//! An async receiver: counts the packets arriving on one queue of an
//! interface and prints a line a second, on a single-threaded tokio runtime.
//!
//! ```text
//! cargo run --features tokio --example async_rx -- veth1 0        # until killed
//! cargo run --features tokio --example async_rx -- veth1 0 1000   # stop after 1000 packets
//! ```
//!
//! Needs root (or CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN): it attaches the
//! library's XDP program to the interface, which steers the queue to the
//! socket, and detaches it on exit.

use std::time::{Duration, Instant};
use xsk_rs::{create_rx_socket_by_name, AsyncRxSocket};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(ifname), Some(queue)) = (args.next(), args.next()) else {
        eprintln!("usage: async_rx IFNAME QUEUE [PACKETS]");
        std::process::exit(2);
    };
    let queue: u32 = queue.parse().map_err(|e| std::io::Error::other(format!("queue {queue:?}: {e}")))?;
    let limit: Option<u64> = args.next().map(|n| n.parse()).transpose().map_err(std::io::Error::other)?;

    let mut rx = AsyncRxSocket::new(create_rx_socket_by_name(&ifname, queue, None)?)?;
    println!("receiving on {ifname} queue {queue} (XDP mode {:?})", rx.get_ref().xdp_mode());

    let (mut packets, mut bytes) = (0u64, 0u64);
    let (mut last_packets, mut last_bytes, mut last) = (0u64, 0u64, Instant::now());
    while limit.is_none_or(|l| packets < l) {
        // Wake at least once a second to print, packets or not.
        if let Ok(batch) = tokio::time::timeout(Duration::from_secs(1), rx.recv_batch(64)).await {
            let batch = batch?;
            packets += batch.len() as u64;
            bytes += batch.iter().map(|p| p.len() as u64).sum::<u64>();
            // Dropping the batch gives its frames back to the kernel.
        }
        if last.elapsed() >= Duration::from_secs(1) {
            let secs = last.elapsed().as_secs_f64();
            println!(
                "{:>10.0} pps {:>12.0} B/s   total {packets} packets {bytes} bytes",
                (packets - last_packets) as f64 / secs,
                (bytes - last_bytes) as f64 / secs
            );
            (last_packets, last_bytes, last) = (packets, bytes, Instant::now());
        }
    }
    println!("total {packets} packets {bytes} bytes; kernel counters {:?}", rx.get_ref().stats()?);
    Ok(())
}
