//! Echoes every packet that arrives on one queue of an interface back out of
//! the same queue, with its Ethernet source and destination swapped.
//!
//! ```sh
//! cargo run --example bi_echo -- IFNAME [QUEUE] [SECONDS]
//! sudo target/debug/examples/bi_echo veth1 0 30
//! ```
//!
//! QUEUE defaults to 0; SECONDS (default 0: no limit) stops it after that
//! long. It prints how many packets it echoed each second it had any.
//!
//! One bi socket (`create_bi_socket_by_name`): its RX and TX halves share a
//! UMEM but each owns its frames, so the reply is written straight from the
//! received frame (held in an `RxBatch`) into a TX frame reserved with
//! `seek_n`, then published with `commit_and_kick`; dropping the batch gives
//! the RX frames back. The halves are `Send`: a program may as well run them
//! on two threads. Needs root (CAP_NET_RAW, CAP_BPF, CAP_NET_ADMIN).

use std::process::ExitCode;
use std::time::{Duration, Instant};
use xsk_rs::{create_bi_socket_by_name, PollWaitExt};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(ifname) = args.get(1) else {
        eprintln!("usage: {} IFNAME [QUEUE] [SECONDS]", args[0]);
        return ExitCode::from(2);
    };
    let num = |i: usize| args.get(i).map_or(Ok(0), |a| a.parse::<u64>());
    let (Ok(queue), Ok(secs)) = (num(2), num(3)) else {
        eprintln!("QUEUE and SECONDS are numbers");
        return ExitCode::from(2);
    };
    let stop = (secs > 0).then(|| Instant::now() + Duration::from_secs(secs));
    match run(ifname, queue as u32, stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bi_echo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(ifname: &str, queue: u32, stop: Option<Instant>) -> xsk_rs::Result<()> {
    let (mut tx, mut rx) = create_bi_socket_by_name(ifname, queue, None)?;
    eprintln!("echoing on {ifname} queue {queue}, XDP mode {:?}", rx.xdp_mode());
    let (mut echoed, mut total, mut tick) = (0u64, 0u64, Instant::now());
    while stop.is_none_or(|s| Instant::now() < s) {
        if tick.elapsed() >= Duration::from_secs(1) {
            if echoed > 0 {
                println!("{echoed} packets/s");
            }
            (total, echoed, tick) = (total + echoed, 0, Instant::now());
        }
        if !rx.poll_wait(Some(Duration::from_millis(100)))? {
            continue;
        }
        let batch = rx.recv_batch(64)?;
        // As many TX frames as packets; wait while they are all in flight.
        let n = batch.len();
        while tx.seek_n(n)? < n {
            tx.poll_wait(Some(Duration::from_millis(100)))?;
        }
        for (i, pkt) in batch.iter().enumerate() {
            let out = tx.peek_at(i, pkt.len())?;
            if pkt.len() >= 12 {
                out[..6].copy_from_slice(&pkt[6..12]);
                out[6..12].copy_from_slice(&pkt[..6]);
                out[12..].copy_from_slice(&pkt[12..]);
            } else {
                out.copy_from_slice(pkt);
            }
        }
        tx.commit_and_kick(n)?;
        echoed += n as u64;
    }
    eprintln!("echoed {} packets; {:?}", total + echoed, rx.stats()?);
    Ok(())
}
