//! A two-port forwarder: every packet that arrives on queue 0 of one
//! interface leaves through queue 0 of the other, both ways, unchanged.
//!
//! ```sh
//! cargo run --example fwd -- IF_A IF_B [SECONDS]
//! sudo target/debug/examples/fwd veth0 veth2 30
//! ```
//!
//! SECONDS (default 0: no limit) stops it after that long; it then prints how
//! many packets it forwarded each way, and how many it dropped because the
//! other port had no free TX frame.
//!
//! Both ports' sockets sit on one [`SharedUmem`]: one registered area, in
//! which each socket owns its frames. A packet is copied from the frame it
//! arrived in (held in an `RxBatch`) into a TX frame of the other port
//! (reserved with `seek_n`, published with `commit_and_kick`); dropping the
//! batch lends the RX frames back. One thread waits on both ports with
//! poll(2). Needs root (CAP_NET_RAW, CAP_BPF, CAP_NET_ADMIN).

use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use xsk_rs::{create_bi_socket_on, RxSocket, SharedUmem, TxSocket, XdpConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(if_a), Some(if_b)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: {} IF_A IF_B [SECONDS]", args[0]);
        return ExitCode::from(2);
    };
    let Ok(secs) = args.get(3).map_or(Ok(0), |a| a.parse::<u64>()) else {
        eprintln!("SECONDS is a number");
        return ExitCode::from(2);
    };
    let stop = (secs > 0).then(|| Instant::now() + Duration::from_secs(secs));
    match run(if_a, if_b, stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fwd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Packets forwarded and dropped one way.
#[derive(Default)]
struct Count {
    forwarded: u64,
    dropped: u64,
}

fn run(if_a: &str, if_b: &str, stop: Option<Instant>) -> std::io::Result<()> {
    let per_port = XdpConfig { rx_frames: Some(2048), tx_frames: Some(2048), ..Default::default() };
    let umem = SharedUmem::new(2 * 4096, Some(per_port))?;
    let (mut tx_a, mut rx_a) = create_bi_socket_on(&umem, if_a, 0, Some(per_port))?;
    let (mut tx_b, mut rx_b) = create_bi_socket_on(&umem, if_b, 0, Some(per_port))?;
    eprintln!("forwarding {if_a} <-> {if_b} on one umem of {} frames", umem.frame_count());
    let (mut ab, mut ba) = (Count::default(), Count::default());
    while stop.is_none_or(|s| Instant::now() < s) {
        let mut fds =
            [rx_a.as_raw_fd(), rx_b.as_raw_fd()].map(|fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
        // SAFETY: two valid pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, 100) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        forward(&mut rx_a, &mut tx_b, &mut ab)?;
        forward(&mut rx_b, &mut tx_a, &mut ba)?;
    }
    println!("{if_a} -> {if_b}: {} forwarded, {} dropped", ab.forwarded, ab.dropped);
    println!("{if_b} -> {if_a}: {} forwarded, {} dropped", ba.forwarded, ba.dropped);
    Ok(())
}

/// Moves what `rx` has received (up to 64 packets) out of `tx`; a packet
/// with no free TX frame is dropped, as a switch drops on a full port.
fn forward(rx: &mut RxSocket, tx: &mut TxSocket, count: &mut Count) -> xsk_rs::Result<()> {
    let batch = rx.recv_batch(64)?;
    if batch.is_empty() {
        return Ok(());
    }
    let n = tx.seek_n(batch.len())?;
    for (i, pkt) in batch.iter().take(n).enumerate() {
        tx.peek_at(i, pkt.len())?.copy_from_slice(pkt);
    }
    if n > 0 {
        tx.commit_and_kick(n)?;
    }
    count.forwarded += n as u64;
    count.dropped += (batch.len() - n) as u64;
    Ok(())
}
