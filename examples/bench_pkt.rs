//! The packet layer's benchmark in Rust, with no C in the loop: the same three
//! scenarios as bench/xskbench.c, written with `xsk_rs::{TxSocket, RxSocket}`
//! directly, and the same output, so bench/run.sh records it next to the C
//! builds (`make bench`; this is a benchmark, not a test).
//!
//! ```text
//! cargo build --release --example bench_pkt
//! bench_pkt rxdrop|txonly|l2fwd -i IFNAME -m skb|drv [-q QUEUE] [-b BATCH]
//!           [-w WARMUP_S] [-d SECONDS] [-n PACKETS] [-s LEN]
//! ```
//!
//! Geometry, as xskbench's packet-layer build: RX half 1024 frames (all lent,
//! as xskbench lends 1024), RX ring 2048, fill ring 2048; TX half 2048 frames,
//! TX and completion rings 2048; frames of 4096 bytes, need_wakeup, the
//! kernel's choice of copy mode (veth has no zero-copy), the library's XDP
//! program in the given mode.
//!
//! - rxdrop: `recv_batch(BATCH)`, and dropping the batch gives the frames back.
//! - txonly: every TX frame is written once before the loop (the frame
//!   xskbench writes: 14 header bytes, a destination MAC no host has, then a
//!   pattern) and sent; the loop then does `seek_n` → `peek_at(i, LEN)` →
//!   `commit_n` → `kick` and writes nothing, as the other builds do. Counts
//!   frames the kernel gave back (sent in the loop less those in flight).
//! - l2fwd: `recv_batch`, each packet copied into a TX frame with its MACs
//!   swapped (`seek_n` → `peek_at` → `commit_n` → `kick`): the halves own
//!   separate frames, so forwarding copies.
//!
//! Timing as xskbench: WARMUP then SECONDS measured by ITIMER_REAL (no clock
//! call in the loop), or with -n until PACKETS were counted (callgrind runs,
//! `--toggle-collect=bench_loop`). One JSON line on stdout; exit 1 on failure,
//! 2 on bad usage.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use xsk_rs::xdp::XdpMode;
use xsk_rs::{create_socket_by_name, Direction, RxSocket, TxSocket, XdpConfig};

const FRAME_SIZE: u32 = 4096;
const RX_FRAMES: u32 = 1024;
const TX_FRAMES: u32 = 2048;
const RING: u32 = 2048;
const BATCH_MAX: u64 = 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    RxDrop,
    TxOnly,
    L2Fwd,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::RxDrop => "rxdrop",
            Scenario::TxOnly => "txonly",
            Scenario::L2Fwd => "l2fwd",
        }
    }
}

struct Opts {
    scenario: Scenario,
    ifname: String,
    queue: u32,
    drv: bool,
    batch: usize,
    len: usize,
    warmup: f64,
    secs: f64,
    packets: u64,
}

// The loop's count and the timer's snapshots of it (xskbench's globals).
static COUNTED: AtomicU64 = AtomicU64::new(0);
static STOP: AtomicBool = AtomicBool::new(false);
static PHASE: AtomicUsize = AtomicUsize::new(0);
static SNAP_COUNT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static SNAP_NS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec; clock_gettime is async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

extern "C" fn on_alarm(_: libc::c_int) {
    let phase = PHASE.load(Ordering::Relaxed);
    if phase < 2 {
        SNAP_COUNT[phase].store(COUNTED.load(Ordering::Relaxed), Ordering::Relaxed);
        SNAP_NS[phase].store(now_ns(), Ordering::Relaxed);
        PHASE.store(phase + 1, Ordering::Relaxed);
    }
    if PHASE.load(Ordering::Relaxed) == 2 {
        STOP.store(true, Ordering::Relaxed);
    }
}

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn on_signal(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: the handlers only touch atomics and call clock_gettime.
    unsafe { libc::signal(sig, handler as libc::sighandler_t) };
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "bench_pkt: {why}\nusage: bench_pkt rxdrop|txonly|l2fwd -i IFNAME -m skb|drv [-q QUEUE] [-b BATCH]\n                 \
         [-w WARMUP_S] [-d SECONDS] [-n PACKETS] [-s LEN]"
    );
    ExitCode::from(2)
}

fn parse_num(s: &str, min: f64, max: f64) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= min && *v <= max)
}

fn parse_int(s: &str, min: u64, max: u64) -> Option<u64> {
    let v = parse_num(s, min as f64, max as f64)?;
    (v == v.trunc()).then_some(v as u64)
}

fn parse(args: &[String]) -> Result<Opts, &'static str> {
    let scenario = match args.get(1).map(String::as_str) {
        Some("rxdrop") => Scenario::RxDrop,
        Some("txonly") => Scenario::TxOnly,
        Some("l2fwd") => Scenario::L2Fwd,
        None => return Err("no scenario"),
        _ => return Err("scenario must be rxdrop, txonly or l2fwd"),
    };
    let mut o = Opts {
        scenario,
        ifname: String::new(),
        queue: 0,
        drv: false,
        batch: 64,
        len: 64,
        warmup: 1.0,
        secs: 2.0,
        packets: 0,
    };
    let mut it = args[2..].iter();
    while let Some(flag) = it.next() {
        let v = it.next().ok_or("an option lacks its value")?;
        match flag.as_str() {
            "-i" => o.ifname = v.clone(),
            "-q" => o.queue = parse_int(v, 0, u32::MAX as u64).ok_or("-q takes a queue id")? as u32,
            "-m" => {
                o.drv = match v.as_str() {
                    "drv" => true,
                    "skb" => false,
                    _ => return Err("-m takes skb or drv"),
                }
            }
            "-b" => o.batch = parse_int(v, 1, BATCH_MAX).ok_or("-b takes 1..1024")? as usize,
            "-w" => o.warmup = parse_num(v, 0.0, 3600.0).ok_or("-w takes 0..3600 seconds")?,
            "-d" => o.secs = parse_num(v, 0.001, 3600.0).ok_or("-d takes 0.001..3600 seconds")?,
            "-n" => o.packets = parse_int(v, 1, 1_000_000_000_000_000).ok_or("-n takes a packet count")?,
            "-s" => o.len = parse_int(v, 60, FRAME_SIZE as u64).ok_or("-s takes 60..4096")? as usize,
            _ => return Err("unknown option"),
        }
    }
    if o.ifname.is_empty() {
        return Err("-i IFNAME is required");
    }
    Ok(o)
}

/// The halves a scenario uses.
struct Sockets {
    tx: Option<TxSocket>,
    rx: Option<RxSocket>,
}

fn open(o: &Opts) -> io::Result<Sockets> {
    let direction = match o.scenario {
        Scenario::RxDrop => Direction::Rx,
        Scenario::TxOnly => Direction::Tx,
        Scenario::L2Fwd => Direction::Both,
    };
    let config = XdpConfig {
        rx_frames: Some(RX_FRAMES),
        tx_frames: Some(TX_FRAMES),
        frame_size: Some(FRAME_SIZE),
        rx_size: Some(RING),
        tx_size: Some(RING),
        fill_size: Some(RING),
        comp_size: Some(RING),
        xdp_mode: Some(if o.drv { XdpMode::Drv } else { XdpMode::Skb }),
        ..Default::default()
    };
    let (tx, rx) = create_socket_by_name(&o.ifname, o.queue, direction, Some(config))?;
    Ok(Sockets { tx, rx })
}

/// xskbench's frame: a header no host answers (the peer drops it at once),
/// then a pattern that differs per frame.
fn write_frame(p: &mut [u8], f: usize) {
    const HEAD: [u8; 14] = [0x02, 0x58, 0x53, 0x4b, 0xbe, 0x02, 0x02, 0x58, 0x53, 0x4b, 0xbe, 0x01, 0x88, 0xb5];
    p[..14].copy_from_slice(&HEAD);
    for (i, b) in p.iter_mut().enumerate().skip(14) {
        *b = (i * 7 + f) as u8;
    }
}

/// Writes every TX frame once and sends it, so the loop finds the frames
/// written (a frame keeps its bytes; `peek_at` says so). Returns how many.
fn prime(tx: &mut TxSocket, len: usize) -> io::Result<usize> {
    let n = tx.seek_n(tx.total_frames())?;
    for i in 0..n {
        write_frame(tx.peek_at(i, len)?, i);
    }
    tx.commit_n(n)?;
    tx.kick()?;
    Ok(n)
}

fn limit(o: &Opts) -> u64 {
    if o.packets > 0 {
        o.packets
    } else {
        u64::MAX
    }
}

fn running() -> bool {
    !STOP.load(Ordering::Relaxed)
}

fn rxdrop(rx: &mut RxSocket, o: &Opts) -> io::Result<()> {
    let limit = limit(o);
    let mut total = 0u64;
    while running() && total < limit {
        // Dropping the batch gives its frames back; an empty one wakes the
        // kernel for the fill ring when it asks.
        let n = rx.recv_batch(o.batch)?.len();
        total += n as u64;
        COUNTED.store(total, Ordering::Relaxed);
    }
    Ok(())
}

fn txonly(tx: &mut TxSocket, o: &Opts) -> io::Result<()> {
    let limit = limit(o);
    let mut sent = 0u64;
    let mut done = 0u64;
    while running() && done < limit {
        let n = tx.seek_n(o.batch)?.min(o.batch);
        for i in 0..n {
            tx.peek_at(i, o.len)?;
        }
        if n > 0 {
            tx.commit_n(n)?;
            sent += n as u64;
        }
        tx.kick()?;
        // Frames the kernel gave back of those sent in the loop (the primed
        // ones come back first).
        done = sent.saturating_sub(tx.in_flight_frames() as u64);
        COUNTED.store(done, Ordering::Relaxed);
    }
    Ok(())
}

fn l2fwd(tx: &mut TxSocket, rx: &mut RxSocket, o: &Opts) -> io::Result<()> {
    let limit = limit(o);
    let mut done = 0u64;
    while running() && done < limit {
        let batch = rx.recv_batch(o.batch)?;
        let n = batch.len();
        let mut sent = 0;
        while sent < n {
            let t = tx.seek_n(n - sent)?.min(n - sent);
            if t == 0 {
                tx.kick()?;
                continue;
            }
            for i in 0..t {
                let p =
                    batch.get(sent + i).ok_or_else(|| io::Error::other("a received packet lies outside the umem"))?;
                let d = tx.peek_at(i, p.len())?;
                if p.len() < 12 {
                    d.copy_from_slice(p);
                    continue;
                }
                d[..6].copy_from_slice(&p[6..12]);
                d[6..12].copy_from_slice(&p[..6]);
                d[12..].copy_from_slice(&p[12..]);
            }
            tx.commit_n(t)?;
            tx.kick()?;
            sent += t;
        }
        drop(batch);
        done += n as u64;
        COUNTED.store(done, Ordering::Relaxed);
    }
    Ok(())
}

/// The packet loop: callgrind runs count instructions from here down
/// (`--toggle-collect=bench_loop`).
#[no_mangle]
#[inline(never)]
fn bench_loop(s: &mut Sockets, o: &Opts) -> io::Result<()> {
    match (o.scenario, &mut s.tx, &mut s.rx) {
        (Scenario::RxDrop, _, Some(rx)) => rxdrop(rx, o),
        (Scenario::TxOnly, Some(tx), _) => txonly(tx, o),
        (Scenario::L2Fwd, Some(tx), Some(rx)) => l2fwd(tx, rx, o),
        _ => unreachable!("open() made the halves the scenario needs"),
    }
}

fn itimer(secs: f64) -> libc::timeval {
    libc::timeval { tv_sec: secs.trunc() as libc::time_t, tv_usec: (secs.fract() * 1e6) as libc::suseconds_t }
}

fn run(o: &Opts) -> io::Result<bool> {
    let mut s = open(o)?;
    if let Some(tx) = s.tx.as_mut().filter(|_| o.scenario == Scenario::TxOnly) {
        prime(tx, o.len)?;
    }
    eprintln!("ready");
    if o.packets == 0 {
        on_signal(libc::SIGALRM, on_alarm);
        let mut value = itimer(o.warmup);
        if value.tv_sec == 0 && value.tv_usec == 0 {
            value.tv_usec = 1;
        }
        let run = libc::itimerval { it_interval: itimer(o.secs), it_value: value };
        // SAFETY: a valid itimerval; no old value asked for.
        unsafe { libc::setitimer(libc::ITIMER_REAL, &run, std::ptr::null_mut()) };
    } else {
        // As xskbench: let the peer fill the RX ring with every lent frame
        // first, so the counted loop never spins on an empty ring.
        if o.scenario != Scenario::TxOnly {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        SNAP_NS[0].store(now_ns(), Ordering::Relaxed);
    }
    bench_loop(&mut s, o)?;
    if o.packets > 0 {
        SNAP_COUNT[1].store(COUNTED.load(Ordering::Relaxed), Ordering::Relaxed);
        SNAP_NS[1].store(now_ns(), Ordering::Relaxed);
    } else if PHASE.load(Ordering::Relaxed) < 2 {
        eprintln!("bench_pkt: interrupted before the measurement ended");
        return Ok(false);
    }
    let st = match (&s.tx, &s.rx) {
        (_, Some(rx)) => rx.stats()?,
        (Some(tx), None) => tx.stats()?,
        (None, None) => unreachable!("open() made at least one half"),
    };
    let secs = SNAP_NS[1].load(Ordering::Relaxed).saturating_sub(SNAP_NS[0].load(Ordering::Relaxed)) as f64 / 1e9;
    let pkts = SNAP_COUNT[1].load(Ordering::Relaxed) - SNAP_COUNT[0].load(Ordering::Relaxed);
    let mpps = if secs > 0.0 { pkts as f64 / secs / 1e6 } else { 0.0 };
    let line = format!(
        "{{\"kind\":\"rate\",\"scenario\":\"{}\",\"mode\":\"{}\",\"batch\":{},\"lib\":\"xsk_rs\",\
         \"api\":\"pkt-rust\",\"mpps\":{mpps:.4},\"pkts\":{pkts},\"secs\":{secs:.3},\"rx_dropped\":{},\
         \"rx_ring_full\":{},\"rx_fill_ring_empty_descs\":{},\"tx_ring_empty_descs\":{}}}",
        o.scenario.name(),
        if o.drv { "drv" } else { "skb" },
        o.batch,
        st.rx_dropped,
        st.rx_ring_full,
        st.rx_fill_ring_empty_descs,
        st.tx_ring_empty_descs
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(true)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let o = match parse(&args) {
        Ok(o) => o,
        Err(why) => return usage(why),
    };
    on_signal(libc::SIGINT, on_stop);
    on_signal(libc::SIGTERM, on_stop);
    match run(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench_pkt: {e}");
            ExitCode::FAILURE
        }
    }
}
