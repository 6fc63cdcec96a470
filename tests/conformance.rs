//! The scenarios of the kernel's own AF_XDP selftest (`xskxceiver`, run by
//! `test_xsk.sh` over a veth pair), written anew for xsk_rs, each run with the
//! XDP program in SKB (generic) and in DRV (native) mode.
//!
//! An AF_XDP socket on `veth0` in namespace a transmits numbered test frames; an
//! AF_XDP socket on `veth1` in namespace b receives them and checks every one:
//! its sequence number (order, no gap, no duplicate), its length, where its data
//! sits in the frame, and every byte. After each scenario, with all sockets
//! gone, no XDP program may remain on either interface.
//!
//! Where the data sits: in aligned copy mode the kernel puts a received packet
//! `XDP_PACKET_HEADROOM` (256) plus the UMEM's `frame_headroom` bytes into its
//! frame, so `desc.addr % frame_size` is exactly that.
//!
//! Test names are `<scenario>::skb` and `<scenario>::drv`.

mod common;

#[path = "conformance/bpf.rs"]
mod bpf;

use common::{assert_detached, frame_seq, in_ns, test_frame, xdp_attached, VethPair};
use std::any::Any;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig, Stats, BIND_NEED_WAKEUP, BIND_SHORT_FRAMES};
use xsk_rs::umem::{Umem, UmemConfig, XDP_PACKET_HEADROOM};
use xsk_rs::xdp::XdpMode;

/// Frames per UMEM: the first half serves RX (lent to the fill ring), the
/// second half TX.
const FRAMES: u32 = 512;
/// Fill ring size: twice the RX frames, since the kernel should be lent at
/// most half the fill ring (see `UmemConfig::fill_size`).
const FILL_SIZE: u32 = 2 * FRAMES;
const RX_SIZE: u32 = 512;
const TX_SIZE: u32 = 256;
/// Packets a sender may have ahead of what its receiver has taken. Below the
/// receiver's lent frames, so a packet never finds the fill ring empty
/// however the two threads are scheduled.
const WINDOW: usize = 128;
/// Descriptors queued per ring operation.
const BATCH: usize = 64;
/// How long any one transfer may take: generous, for a contended machine.
const TIMEOUT: Duration = Duration::from_secs(30);
/// What a side panics with when the other side has failed.
const PEER_FAILED: &str = "the other end failed first";

/// Runs one scenario on a fresh veth pair in `mode`, then checks that nothing
/// is left attached.
fn run(scenario: fn(&VethPair, XdpMode), mode: XdpMode, queues: u32) {
    if !common::require_root() {
        return;
    }
    let pair = VethPair::with_queues(queues);
    scenario(&pair, mode);
    for (ns, ifname) in [(&pair.ns_a, &pair.if_a), (&pair.ns_b, &pair.if_b)] {
        assert_detached(ns, ifname, mode);
    }
}

/// `name: queues` makes `name::skb` and `name::drv`, each running
/// `fn name(&VethPair, XdpMode)` on a pair with that many queues per end.
macro_rules! in_both_modes {
    ($($name:ident: $queues:expr),* $(,)?) => {$(
        mod $name {
            use xsk_rs::xdp::XdpMode;
            #[test]
            fn skb() {
                super::run(super::$name, XdpMode::Skb, $queues)
            }
            #[test]
            fn drv() {
                super::run(super::$name, XdpMode::Drv, $queues)
            }
        }
    )*};
}

in_both_modes! {
    send_recv_4k: 1,
    send_recv_2k: 1,
    single_packet: 1,
    bidirectional: 1,
    poll_rx_wakes_receiver: 1,
    poll_drives_tx: 1,
    poll_rx_timeout: 1,
    poll_tx_only_invalid: 1,
    invalid_tx_descs_aligned: 1,
    umem_headroom: 1,
    stat_rx_dropped: 1,
    stat_tx_invalid_half: 1,
    stat_rx_ring_full: 1,
    stat_fill_ring_empty: 1,
    program_cleanup_two_sockets: 3,
    program_cleanup_shared_queue: 1,
    own_program_drops_half: 1,
    teardown_hundred_cycles: 1,
    tx_budget_per_kick: 1,
}

// ---------------------------------------------------------------------------
// Packets

/// One numbered test frame: `common::test_frame(seq, len)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pkt {
    seq: u32,
    len: usize,
}

/// 60 to 1514 bytes; 61 is prime to 1455, so any 1455 consecutive numbers
/// give every length once (seq 0 → 60, seq 1431 → 1514).
fn varied_len(seq: u32) -> usize {
    60 + (seq as usize * 61) % 1455
}

fn numbered(seqs: impl IntoIterator<Item = u32>, len: impl Fn(u32) -> usize) -> Vec<Pkt> {
    seqs.into_iter().map(|seq| Pkt { seq, len: len(seq) }).collect()
}

// ---------------------------------------------------------------------------
// One end: a UMEM and a socket on it

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    A,
    B,
}

/// How to build an [`End`].
#[derive(Clone, Copy, Debug)]
struct Setup {
    umem: UmemConfig,
    sock: SocketConfig,
    queue: u32,
    /// RX frames lent to the fill ring at once.
    lend: u32,
}

impl Setup {
    fn new(mode: XdpMode) -> Setup {
        Setup {
            umem: UmemConfig {
                frame_count: FRAMES,
                frame_size: 4096,
                frame_headroom: 0,
                fill_size: FILL_SIZE,
                comp_size: FRAMES,
                flags: 0,
                tx_metadata_len: 0,
            },
            sock: SocketConfig {
                rx_size: RX_SIZE,
                tx_size: TX_SIZE,
                bind_flags: BIND_NEED_WAKEUP,
                xdp_mode: mode,
                tx_budget: 0,
                busy_poll: Default::default(),
            },
            queue: 0,
            lend: FRAMES / 2,
        }
    }

    fn frames(mut self, frame_size: u32, headroom: u32) -> Setup {
        self.umem.frame_size = frame_size;
        self.umem.frame_headroom = headroom;
        if frame_size - XDP_PACKET_HEADROOM - headroom < 1518 {
            // Frames shorter than the MTU on purpose (the kernel's drops are
            // what these tests check): say so, or creation refuses them.
            self.sock.bind_flags |= BIND_SHORT_FRAMES;
        }
        self
    }

    /// A sender only: no RX ring (so no program), nothing lent.
    fn tx_only(mut self) -> Setup {
        self.sock.rx_size = 0;
        self.lend = 0;
        self
    }

    /// A receiver only: no TX ring, so `tx_ring_empty_descs` stays 0.
    fn rx_only(mut self) -> Setup {
        self.sock.tx_size = 0;
        self
    }

    fn rx_ring(mut self, size: u32) -> Setup {
        self.sock.rx_size = size;
        self
    }

    fn lend(mut self, frames: u32) -> Setup {
        self.lend = frames;
        self
    }

    fn queue(mut self, queue: u32) -> Setup {
        self.queue = queue;
        self
    }
}

/// A UMEM and one socket on it, on `veth0` (side A) or `veth1` (side B).
struct End {
    sock: Socket,
    umem: Umem,
    /// TX frames the application holds (not queued, not awaiting completion).
    free_tx: Vec<u64>,
    name: String,
}

impl End {
    /// Creates UMEM and socket on a thread in the side's namespace, and lends
    /// `setup.lend` RX frames to the fill ring.
    fn open(pair: &VethPair, side: Side, setup: Setup) -> End {
        let (ns, ifname) = match side {
            Side::A => (&pair.ns_a, pair.if_a.clone()),
            Side::B => (&pair.ns_b, pair.if_b.clone()),
        };
        let name = format!("{ifname} q{} ({})", setup.queue, setup.sock.xdp_mode);
        let mut end = in_ns(ns, move || {
            let umem = Umem::new(&setup.umem).unwrap_or_else(|e| panic!("{name}: umem: {e}"));
            let sock =
                Socket::new(&ifname, setup.queue, &umem, &setup.sock).unwrap_or_else(|e| panic!("{name}: socket: {e}"));
            let n = setup.umem.frame_count;
            let free_tx = (n / 2..n).map(|i| umem.frame_addr(i)).collect();
            End { sock, umem, free_tx, name }
        });
        let lend: Vec<u64> = (0..setup.lend).map(|i| end.umem.frame_addr(i)).collect();
        assert_eq!(end.umem.fill().put(&lend), setup.lend, "{}: fill ring too small", end.name);
        end
    }

    /// Where received data must start in its frame.
    fn rx_offset(&self) -> u64 {
        (XDP_PACKET_HEADROOM + self.umem.frame_headroom()) as u64
    }

    fn stats(&self) -> Stats {
        self.sock.stats().unwrap_or_else(|e| panic!("{}: stats: {e}", self.name))
    }

    /// Writes `pkt` into the frame at `addr` and returns its descriptor.
    fn write(&mut self, addr: u64, pkt: Pkt) -> Desc {
        let bytes = test_frame(pkt.seq, pkt.len);
        // SAFETY: TX frames are the application's until queued.
        unsafe { self.umem.frame_mut(addr, pkt.len) }.expect("tx frame inside the umem").copy_from_slice(&bytes);
        Desc { addr, len: pkt.len as u32, options: 0 }
    }

    /// Queues up to a batch of `pkts` in free TX frames; returns how many.
    fn queue_tx(&mut self, pkts: &[Pkt]) -> usize {
        let n = pkts.len().min(self.free_tx.len()).min(BATCH);
        let at = self.free_tx.len() - n;
        let addrs: Vec<u64> = self.free_tx.drain(at..).collect();
        let descs: Vec<Desc> = addrs.iter().zip(pkts).map(|(&a, &p)| self.write(a, p)).collect();
        let queued = self.sock.tx().unwrap().put(&descs) as usize;
        self.free_tx.extend_from_slice(&addrs[queued..]);
        queued
    }

    /// Has the kernel process the TX ring if it has entries: `sendto` when the
    /// ring asks for a wakeup (need_wakeup), or `poll(POLLOUT)`.
    fn wake_tx(&mut self, wake: Wake) {
        let tx = self.sock.tx().unwrap();
        if tx.in_flight() == 0 {
            return;
        }
        match wake {
            Wake::Kick if tx.needs_wakeup() => self.sock.kick().unwrap_or_else(|e| panic!("{}: kick: {e}", self.name)),
            Wake::Kick => {}
            Wake::Poll => {
                let rc = self.sock.poll(libc::POLLOUT, 1000).unwrap();
                assert!(rc > 0, "{}: poll(POLLOUT) timed out with a TX ring that is not full", self.name);
            }
        }
    }

    /// Takes the completion ring's entries.
    fn completions(&mut self) -> Vec<u64> {
        let mut addrs = [0u64; BATCH];
        let n = self.umem.comp().take(&mut addrs) as usize;
        addrs[..n].to_vec()
    }

    /// Takes what the RX ring holds, checks each packet against the next of
    /// `expect` in order, and gives the frames back to the fill ring.
    fn receive(&mut self, expect: &[Pkt]) -> usize {
        let mut descs = [Desc::default(); BATCH];
        let n = self.sock.rx().unwrap().take(&mut descs) as usize;
        let fs = self.umem.frame_size() as u64;
        for (i, d) in descs[..n].iter().enumerate() {
            let want = expect.get(i).unwrap_or_else(|| panic!("{}: packet beyond those expected: {d:?}", self.name));
            self.check(d, want);
        }
        let refill: Vec<u64> = descs[..n].iter().map(|d| d.addr - d.addr % fs).collect();
        assert_eq!(self.umem.fill().put(&refill), n as u32, "{}: fill ring full", self.name);
        n
    }

    /// One received packet against the one expected at this point.
    fn check(&self, d: &Desc, want: &Pkt) {
        let who = &self.name;
        // SAFETY: the frame came off the RX ring; it is ours until refilled.
        let bytes = unsafe { self.umem.frame(d.addr, d.len as usize) }
            .unwrap_or_else(|| panic!("{who}: rx descriptor outside the umem: {d:?}"));
        let seq = frame_seq(bytes);
        assert_eq!(seq, Some(want.seq), "{who}: expected seq {} next (order, gaps, duplicates): {d:?}", want.seq);
        assert_eq!(d.len as usize, want.len, "{who}: seq {} length", want.seq);
        let offset = d.addr % self.umem.frame_size() as u64;
        assert_eq!(offset, self.rx_offset(), "{who}: seq {} data offset in its frame", want.seq);
        assert!(bytes == test_frame(want.seq, want.len), "{who}: seq {}: payload differs", want.seq);
    }

    /// Moves packets until every one of `tx` is sent and completed and every
    /// one of `rx` received and checked. A sender stays at most [`WINDOW`]
    /// packets ahead of what its flow's receiver has taken.
    fn pump(&mut self, tx: Option<Dir>, rx: Option<Dir>, wake: Wake) {
        let flows: Vec<&Flow> = tx.iter().chain(rx.iter()).map(|d| d.flow).collect();
        let _guard = AbortOnPanic(&flows);
        let tx_n = tx.as_ref().map_or(0, |d| d.pkts.len());
        let rx_n = rx.as_ref().map_or(0, |d| d.pkts.len());
        let (mut sent, mut done, mut got) = (0, 0, 0);
        let deadline = Instant::now() + TIMEOUT;
        while done < tx_n || got < rx_n {
            assert!(!flows.iter().any(|f| f.abort.load(Ordering::Acquire)), "{}: {PEER_FAILED}", self.name);
            assert!(
                Instant::now() < deadline,
                "{}: timed out: sent {sent}, completed {done} of {tx_n}; received {got} of {rx_n}",
                self.name
            );
            let mut busy = false;
            if let Some(t) = &tx {
                let allowed = (t.flow.taken.load(Ordering::Acquire) + WINDOW).min(tx_n);
                let queued = self.queue_tx(&t.pkts[sent.min(allowed)..allowed]);
                sent += queued;
                self.wake_tx(wake);
                let c = self.completions();
                done += c.len();
                self.free_tx.extend_from_slice(&c);
                busy |= queued + c.len() > 0;
            }
            if let Some(r) = &rx {
                let n = self.receive(&r.pkts[got..]);
                got += n;
                r.flow.taken.store(got, Ordering::Release);
                busy |= n > 0;
            }
            if !busy {
                if got < rx_n {
                    self.sock.poll(libc::POLLIN, 1).unwrap();
                } else {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        }
        assert_eq!(sent, tx_n, "{}: more completions than packets sent", self.name);
    }

    /// Queues `descs` exactly as given (valid or not), has the kernel consume
    /// them all, and returns what came back on the completion ring (waiting up
    /// to a second for `descs.len()` completions).
    fn send_raw(&mut self, descs: &[Desc], wake: Wake) -> Vec<u64> {
        // Exactly as given: lift the interface's length limit, which would
        // stop put before a too-long descriptor.
        let limit = self.sock.tx().unwrap().max_len();
        self.sock.tx().unwrap().set_max_len(u32::MAX);
        assert_eq!(self.sock.tx().unwrap().put(descs) as usize, descs.len(), "{}: TX ring too small", self.name);
        let deadline = Instant::now() + TIMEOUT;
        // Copy mode stops a TX batch at an invalid descriptor: wake again
        // until the ring is consumed.
        while self.sock.tx().unwrap().in_flight() > 0 {
            assert!(Instant::now() < deadline, "{}: the kernel never consumed the TX ring", self.name);
            self.wake_tx(wake);
        }
        self.sock.tx().unwrap().set_max_len(limit);
        let mut done = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        while done.len() < descs.len() && Instant::now() < deadline {
            done.extend(self.completions());
        }
        done
    }

    /// Asserts that nothing more arrives within 100 ms.
    fn assert_quiet(&mut self) {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(self.sock.rx().unwrap().ready(), 0, "{}: packets arrived that nobody expected", self.name);
    }

    /// Waits until `ready` holds for the counters, then makes sure they stay
    /// put for another 100 ms, and returns them.
    fn settled_stats(&self, ready: impl Fn(&Stats) -> bool) -> Stats {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut st = self.stats();
        while !ready(&st) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            st = self.stats();
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(self.stats(), st, "{}: counters still moving", self.name);
        st
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wake {
    /// `sendto` when the TX ring's need_wakeup flag is set.
    Kick,
    /// `poll(POLLOUT)`, which also drives copy-mode TX.
    Poll,
}

/// One direction of traffic, shared by its sender and receiver threads.
#[derive(Default)]
struct Flow {
    /// Packets the receiver has taken so far.
    taken: AtomicUsize,
    /// Set when either side panics, so that the other stops waiting.
    abort: AtomicBool,
}

#[derive(Clone, Copy)]
struct Dir<'a> {
    pkts: &'a [Pkt],
    flow: &'a Flow,
}

struct AbortOnPanic<'a>(&'a [&'a Flow]);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.iter().for_each(|f| f.abort.store(true, Ordering::Release));
        }
    }
}

/// Runs `a` and `b` on two threads; re-raises a failure, preferring the one
/// that happened first over the other side's [`PEER_FAILED`].
fn both(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    let is_peer = |e: &Box<dyn Any + Send>| e.downcast_ref::<String>().is_some_and(|m| m.contains(PEER_FAILED));
    std::thread::scope(|s| {
        let (ha, hb) = (s.spawn(a), s.spawn(b));
        match (ha.join(), hb.join()) {
            (Ok(()), Ok(())) => {}
            (Err(e), Ok(())) | (Ok(()), Err(e)) => std::panic::resume_unwind(e),
            (Err(ea), Err(eb)) => std::panic::resume_unwind(if is_peer(&ea) { eb } else { ea }),
        }
    })
}

/// `tx` from `from` to `to`, which expects `rx` (the packets that should
/// survive the path, in order). Returns how long it took.
fn transfer(from: &mut End, to: &mut End, tx: &[Pkt], rx: &[Pkt], wake: Wake) -> Duration {
    let flow = Flow::default();
    let t = Instant::now();
    both(
        || from.pump(Some(Dir { pkts: tx, flow: &flow }), None, wake),
        || to.pump(None, Some(Dir { pkts: rx, flow: &flow }), Wake::Kick),
    );
    t.elapsed()
}

/// Stats with every counter 0 but those given.
fn only(f: impl FnOnce(&mut Stats)) -> Stats {
    let mut s = Stats::default();
    f(&mut s);
    s
}

// ---------------------------------------------------------------------------
// 1. Send and receive

fn send_recv(pair: &VethPair, mode: XdpMode, frame_size: u32) {
    let setup = Setup::new(mode).frames(frame_size, 0);
    let (mut a, mut b) = (End::open(pair, Side::A, setup), End::open(pair, Side::B, setup));
    let pkts = numbered(0..3000, varied_len);
    assert!(pkts.iter().any(|p| p.len == 60) && pkts.iter().any(|p| p.len == 1514));
    let took = transfer(&mut a, &mut b, &pkts, &pkts, Wake::Kick);
    eprintln!("{mode} {frame_size}-byte frames: 3000 packets in {took:?}");
    assert_eq!(a.stats().tx_invalid_descs, 0);
    let st = b.stats();
    assert_eq!((st.rx_dropped, st.rx_ring_full, st.rx_fill_ring_empty_descs), (0, 0, 0), "{st:?}");
}

fn send_recv_4k(pair: &VethPair, mode: XdpMode) {
    send_recv(pair, mode, 4096);
}

fn send_recv_2k(pair: &VethPair, mode: XdpMode) {
    send_recv(pair, mode, 2048);
}

fn single_packet(pair: &VethPair, mode: XdpMode) {
    let (mut a, mut b) = (End::open(pair, Side::A, Setup::new(mode)), End::open(pair, Side::B, Setup::new(mode)));
    let one = [Pkt { seq: 7, len: 60 }];
    transfer(&mut a, &mut b, &one, &one, Wake::Kick);
    b.assert_quiet();
}

/// Both ends transmit and receive at once, each on its one socket.
fn bidirectional(pair: &VethPair, mode: XdpMode) {
    let (mut a, mut b) = (End::open(pair, Side::A, Setup::new(mode)), End::open(pair, Side::B, Setup::new(mode)));
    let ab = numbered(0..2000, varied_len);
    let ba = numbered(100_000..102_000, |s| varied_len(s + 700));
    let (f_ab, f_ba) = (Flow::default(), Flow::default());
    let t = Instant::now();
    both(
        || a.pump(Some(Dir { pkts: &ab, flow: &f_ab }), Some(Dir { pkts: &ba, flow: &f_ba }), Wake::Kick),
        || b.pump(Some(Dir { pkts: &ba, flow: &f_ba }), Some(Dir { pkts: &ab, flow: &f_ab }), Wake::Kick),
    );
    eprintln!("{mode}: 2 x 2000 packets both ways at once in {:?}", t.elapsed());
}

// ---------------------------------------------------------------------------
// 2. poll

/// The receiver blocks in poll(POLLIN) before anything is sent; the sender
/// starts later; poll returns because packets arrived, and they are all there.
fn poll_rx_wakes_receiver(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(mode));
    let pkts = numbered(0..64, varied_len);
    let flow = Flow::default();
    let send_started: Mutex<Option<Instant>> = Mutex::new(None);
    both(
        || {
            std::thread::sleep(Duration::from_millis(300));
            *send_started.lock().unwrap() = Some(Instant::now());
            a.pump(Some(Dir { pkts: &pkts, flow: &flow }), None, Wake::Kick);
        },
        || {
            let t = Instant::now();
            let rc = b.sock.poll(libc::POLLIN, 20_000).unwrap();
            let woke = Instant::now();
            assert!(rc > 0, "poll(POLLIN) timed out although packets were sent");
            let started = send_started.lock().unwrap().expect("poll returned before the sender started");
            assert!(started <= woke, "poll returned before the sender started");
            assert!(b.sock.rx().unwrap().ready() > 0, "poll(POLLIN) returned with an empty RX ring");
            eprintln!("{mode}: poll(POLLIN) slept {:?}, woke {:?} after the send began", woke - t, woke - started);
            b.pump(None, Some(Dir { pkts: &pkts, flow: &flow }), Wake::Kick);
        },
    );
}

/// The sender never calls sendto: poll(POLLOUT) alone moves its TX ring.
fn poll_drives_tx(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(mode));
    let pkts = numbered(0..1000, varied_len);
    let took = transfer(&mut a, &mut b, &pkts, &pkts, Wake::Poll);
    eprintln!("{mode}: 1000 packets sent by poll(POLLOUT) alone in {took:?}");
}

/// poll(POLLIN) times out on an empty RX ring, and when every packet sent is
/// too long for the frame (what the selftest's POLL_RXQ_FULL sends). On a full
/// RX ring that the application never releases it does not: the ring is
/// readable, so poll returns at once, and later packets count as `rx_ring_full`.
fn poll_rx_timeout(pair: &VethPair, mode: XdpMode) {
    // poll(POLLIN, 500) on b must return `want`; returns how long it took.
    let poll = |b: &End, want: i32, what: &str| {
        let t = Instant::now();
        assert_eq!(b.sock.poll(libc::POLLIN, 500).unwrap(), want, "{mode}: poll(POLLIN) on {what}");
        let took = t.elapsed();
        match want {
            0 => assert!(took >= Duration::from_millis(490), "{mode}: poll on {what} gave up after {took:?} of 500 ms"),
            _ => assert!(took < Duration::from_millis(400), "{mode}: poll on {what} waited {took:?}"),
        }
        took
    };
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    // 2 KiB frames with 1 KiB headroom hold 768 bytes of packet.
    let mut b = End::open(pair, Side::B, Setup::new(mode).rx_only().rx_ring(16).frames(2048, 1024));
    let empty = poll(&b, 0, "an empty RX ring");

    // The selftest's POLL_RXQ_FULL: only packets too long for the frame are
    // sent, none reaches the RX ring, and the receiver's poll times out.
    a.pump(Some(Dir { pkts: &numbered(0..20, |_| 1000), flow: &Flow::default() }), None, Wake::Kick);
    assert_eq!(b.settled_stats(|s| s.rx_dropped >= 20), only(|s| s.rx_dropped = 20));
    let dropped = poll(&b, 0, "an RX ring that got only packets too long for the frame");

    // An RX ring that is full and never released is readable at once.
    let pkts = numbered(20..40, |seq| 60 + seq as usize * 10);
    a.pump(Some(Dir { pkts: &pkts, flow: &Flow::default() }), None, Wake::Kick);
    let st = b.settled_stats(|s| s.rx_ring_full >= 4);
    assert_eq!(st, only(|s| (s.rx_dropped, s.rx_ring_full) = (20, 4)));
    let full = poll(&b, 1, "a full RX ring");
    eprintln!(
        "{mode}: poll(POLLIN, 500) gave 0 after {empty:?} (empty ring), 0 after {dropped:?} (packets too long), \
         1 after {full:?} (full ring)"
    );
    assert_eq!(b.sock.rx().unwrap().ready(), 16);
    b.pump(None, Some(Dir { pkts: &pkts[..16], flow: &Flow::default() }), Wake::Kick);
}

/// Only invalid descriptors on the TX ring: poll(POLLOUT) makes the kernel
/// consume them, reports the socket writable, sends nothing, counts them all.
/// Where the kernel completes invalid descriptors, all of them complete.
fn poll_tx_only_invalid(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(mode).rx_only());
    let size = a.umem.size();
    let descs: Vec<Desc> = (0..8).map(|i| Desc { addr: size + i * 4096, len: 64, options: 0 }).collect();
    let mut done = a.send_raw(&descs, Wake::Poll);
    done.sort_unstable();
    let want = if common::invalid_tx_completes() { descs.iter().map(|d| d.addr).collect() } else { vec![] };
    assert_eq!(done, want, "completions of the invalid descriptors");
    assert_eq!(a.stats().tx_invalid_descs, 8);
    b.assert_quiet();
    assert_eq!(b.stats(), Stats::default());
}

// ---------------------------------------------------------------------------
// 3 and 5. Invalid TX descriptors

/// What to put on the TX ring.
enum Tx {
    Valid(u64, Pkt),
    Invalid(&'static str, Desc),
}

/// Queues `plan` in order; every invalid descriptor is counted in
/// `tx_invalid_descs`, every valid one arrives intact and in order, and every
/// descriptor comes back on the completion ring. On a kernel that does not
/// complete invalid descriptors ([`common::invalid_tx_completes`]) exactly the others
/// complete, and a zero-length descriptor counts as valid (it completes, and
/// nothing arrives).
fn tx_mix(a: &mut End, b: &mut End, plan: &[Tx]) {
    let new_kernel = common::invalid_tx_completes();
    let rejected = |d: &Desc| new_kernel || d.len != 0;
    let descs: Vec<Desc> = plan
        .iter()
        .map(|t| match *t {
            Tx::Valid(addr, pkt) => a.write(addr, pkt),
            Tx::Invalid(_, d) => d,
        })
        .collect();
    let valid: Vec<Pkt> = plan.iter().filter_map(|t| if let Tx::Valid(_, p) = t { Some(*p) } else { None }).collect();
    let invalid: Vec<&str> =
        plan.iter().filter_map(|t| if let Tx::Invalid(w, d) = t { rejected(d).then_some(*w) } else { None }).collect();
    let before = a.stats().tx_invalid_descs;
    let mut done = a.send_raw(&descs, Wake::Kick);
    b.pump(None, Some(Dir { pkts: &valid, flow: &Flow::default() }), Wake::Kick);
    b.assert_quiet();
    let counted = a.stats().tx_invalid_descs - before;
    assert_eq!(counted, invalid.len() as u64, "tx_invalid_descs for {invalid:?}");
    let mut all: Vec<u64> = plan
        .iter()
        .zip(&descs)
        .filter(|(t, d)| new_kernel || !matches!(t, Tx::Invalid(_, _)) || !rejected(d))
        .map(|(_, d)| d.addr)
        .collect();
    all.sort_unstable();
    done.sort_unstable();
    assert_eq!(done, all, "every descriptor completes once (invalid ones only where the kernel completes them)");
}

/// Aligned mode: address 0 and an offset inside a frame are fine; a length
/// beyond the frame, an address past the UMEM, a buffer across the UMEM's end
/// or across a frame boundary, and a zero length are rejected.
fn invalid_tx_descs_aligned(pair: &VethPair, mode: XdpMode) {
    for fs in [4096u64, 2048] {
        let setup = Setup::new(mode).frames(fs as u32, 0);
        let mut a = End::open(pair, Side::A, setup.tx_only());
        let mut b = End::open(pair, Side::B, setup);
        let (size, frame) = (a.umem.size(), a.umem.frame_addr(FRAMES / 2));
        let bad = |addr, len| Desc { addr, len, options: 0 };
        let mut seq = fs as u32 * 10;
        let mut good = |addr, len| {
            seq += 1;
            Tx::Valid(addr, Pkt { seq, len })
        };
        let plan = [
            good(0, 60),
            Tx::Invalid("longer than a frame", bad(frame + 2 * fs, fs as u32 + 1)),
            good(frame + 3 * fs, 1514),
            Tx::Invalid("past the umem end", bad(size, 64)),
            good(frame + 4 * fs + 100, 200),
            Tx::Invalid("across the umem end", bad(size - 32, 64)),
            good(frame + 5 * fs + fs - 60, 60),
            Tx::Invalid("across a frame boundary", bad(frame + 6 * fs + fs - 32, 64)),
            good(frame + 7 * fs, 1000),
            Tx::Invalid("zero length", bad(frame + 8 * fs, 0)),
            good(frame + 9 * fs, 61),
        ];
        tx_mix(&mut a, &mut b, &plan);
        let rejected = if common::invalid_tx_completes() { 5 } else { 4 };
        assert_eq!(a.stats().tx_invalid_descs, rejected, "{fs}-byte frames");
    }
}

/// Half the descriptors invalid: exactly that half is counted, the other
/// half arrives.
fn stat_tx_invalid_half(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(mode).rx_only());
    let size = a.umem.size();
    let plan: Vec<Tx> = (0..32u32)
        .flat_map(|i| {
            let good = Tx::Valid(a.umem.frame_addr(FRAMES / 2 + i), Pkt { seq: i, len: varied_len(i) });
            [good, Tx::Invalid("past the umem end", Desc { addr: size + i as u64, len: 64, options: 0 })]
        })
        .collect();
    tx_mix(&mut a, &mut b, &plan);
    assert_eq!(a.stats().tx_invalid_descs, 32);
    assert_eq!(b.stats(), Stats::default());
}

// ---------------------------------------------------------------------------
// 4. UMEM headroom

fn umem_headroom(pair: &VethPair, mode: XdpMode) {
    for fs in [4096, 2048] {
        let setup = Setup::new(mode).frames(fs, 128);
        let mut a = End::open(pair, Side::A, setup.tx_only());
        let mut b = End::open(pair, Side::B, setup);
        assert_eq!(b.rx_offset(), 256 + 128);
        let pkts = numbered(0..500, varied_len);
        transfer(&mut a, &mut b, &pkts, &pkts, Wake::Kick);
    }
}

// ---------------------------------------------------------------------------
// 5. Statistics

/// A 2048-byte frame with 1024 bytes of headroom holds 2048 - 256 - 1024 =
/// 768 bytes: every 1000-byte packet is dropped, every 700-byte one arrives.
fn stat_rx_dropped(pair: &VethPair, mode: XdpMode) {
    let setup = Setup::new(mode).frames(2048, 1024);
    let mut a = End::open(pair, Side::A, setup.tx_only());
    let mut b = End::open(pair, Side::B, setup.rx_only());
    let sent = numbered(0..40, |s| if s % 2 == 0 { 1000 } else { 700 });
    let fits: Vec<Pkt> = sent.iter().copied().filter(|p| p.len == 700).collect();
    transfer(&mut a, &mut b, &sent, &fits, Wake::Kick);
    assert_eq!(b.settled_stats(|s| s.rx_dropped >= 20), only(|s| s.rx_dropped = 20));
}

/// An RX ring of 16 that is never released: of 40 packets 16 land and 24 are
/// counted as ring full.
fn stat_rx_ring_full(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(mode).rx_only().rx_ring(16).lend(64));
    let pkts = numbered(0..40, varied_len);
    a.pump(Some(Dir { pkts: &pkts, flow: &Flow::default() }), None, Wake::Kick);
    assert_eq!(b.settled_stats(|s| s.rx_ring_full >= 24), only(|s| s.rx_ring_full = 24));
    b.pump(None, Some(Dir { pkts: &pkts[..16], flow: &Flow::default() }), Wake::Kick);
    b.assert_quiet();
}

/// A fill ring that is never filled: every packet finds it empty.
fn stat_fill_ring_empty(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(mode).rx_only().lend(0));
    let pkts = numbered(0..20, varied_len);
    a.pump(Some(Dir { pkts: &pkts, flow: &Flow::default() }), None, Wake::Kick);
    let st = b.settled_stats(|s| s.rx_fill_ring_empty_descs >= 20);
    // The kernel counts each such packet twice: the fill ring was empty, and
    // the packet was dropped for want of a frame.
    assert_eq!(
        st,
        only(|s| {
            s.rx_fill_ring_empty_descs = 20;
            s.rx_dropped = 20;
        })
    );
    assert_eq!(b.sock.rx().unwrap().ready(), 0);
}

// ---------------------------------------------------------------------------
// 6. Program cleanup

/// The veth0 TX queue whose packets reach veth1 RX queue `rxq`. Native XDP
/// on veth runs on the RX queue numbered like the sender's TX queue. Generic
/// XDP reads the RX queue from `skb->queue_mapping` as "recorded queue + 1",
/// and veth leaves the TX queue number there: TX queue 0 reaches RX queue 0
/// (nothing recorded), TX queue q + 1 reaches RX queue q.
fn tx_queue_reaching(mode: XdpMode, rxq: u32) -> u32 {
    if mode == XdpMode::Skb && rxq > 0 {
        rxq + 1
    } else {
        rxq
    }
}

/// Two sockets on one interface, on RX queues 0 and 1 of veth1 (which has a
/// third queue so that generic XDP can be reached on queue 1, see
/// [`tx_queue_reaching`]), so that both receive at once: sockets on one
/// queue share its one XSKMAP slot ([`program_cleanup_shared_queue`]).
fn program_cleanup_two_sockets(pair: &VethPair, mode: XdpMode) {
    let senders =
        [0, 1].map(|q| End::open(pair, Side::A, Setup::new(mode).tx_only().queue(tx_queue_reaching(mode, q))));
    let mut receivers = [0, 1].map(|q| Some(End::open(pair, Side::B, Setup::new(mode).queue(q))));
    let [mut a0, mut a1] = senders;
    // Each queue's sender reaches that queue's receiver.
    for (q, a) in [(0, &mut a0), (1, &mut a1)] {
        let pkts = numbered(q * 1000..q * 1000 + 100, varied_len);
        transfer(a, receivers[q as usize].as_mut().unwrap(), &pkts, &pkts, Wake::Kick);
    }
    receivers[0] = None;
    assert!(xdp_attached(&pair.ns_b, &pair.if_b), "{mode}: program gone while a socket remains");
    let b1 = receivers[1].as_mut().unwrap();
    let pkts = numbered(2000..2100, varied_len);
    transfer(&mut a1, b1, &pkts, &pkts, Wake::Kick);
    // Queue 0 has no socket now: its packets go to the stack, not to queue 1.
    a0.pump(Some(Dir { pkts: &numbered(3000..3010, varied_len), flow: &Flow::default() }), None, Wake::Kick);
    b1.assert_quiet();
    receivers[1] = None;
    assert_detached(&pair.ns_b, &pair.if_b, format!("{mode}, after the last socket"));
}

/// Two sockets on one queue, sharing a UMEM: the newer one owns the queue's
/// XSKMAP slot; destroying it hands the slot back to the older one, which
/// keeps receiving; destroying both leaves no program.
fn program_cleanup_shared_queue(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let b = End::open(pair, Side::B, Setup::new(mode));
    let ifname = pair.if_b.clone();
    // The UMEM is not Sync: the End moves into the namespace thread and back.
    let (mut b, newer) = in_ns(&pair.ns_b, move || {
        let s = Socket::new(&ifname, 0, &b.umem, &Setup::new(mode).sock);
        (b, s.unwrap_or_else(|e| panic!("{mode}: second socket on the queue: {e}")))
    });
    let older = std::mem::replace(&mut b.sock, newer);
    let pkts = numbered(0..100, varied_len);
    transfer(&mut a, &mut b, &pkts, &pkts, Wake::Kick);
    drop(std::mem::replace(&mut b.sock, older));
    assert!(xdp_attached(&pair.ns_b, &pair.if_b), "{mode}: program gone while a socket remains");
    let pkts = numbered(100..200, varied_len);
    transfer(&mut a, &mut b, &pkts, &pkts, Wake::Kick);
    drop(b);
    assert_detached(&pair.ns_b, &pair.if_b, format!("{mode}, after the last socket"));
}

// ---------------------------------------------------------------------------
// 7. Bring your own program

/// The test's own program (tests/conformance/bpf.rs) drops every other
/// packet; the socket, created in mode None, is put into its XSKMAP.
fn own_program_drops_half(pair: &VethPair, mode: XdpMode) {
    let flags = match mode {
        XdpMode::Skb => bpf::XDP_FLAGS_SKB_MODE,
        XdpMode::Drv => bpf::XDP_FLAGS_DRV_MODE,
        m => panic!("no attach flags for mode {m}"),
    };
    let mut prog = bpf::DropHalf::load();
    let ifname = pair.if_b.clone();
    prog = pair.run_in_b(move || {
        prog.attach(&ifname, flags);
        prog
    });
    assert!(xdp_attached(&pair.ns_b, &pair.if_b));
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut b = End::open(pair, Side::B, Setup::new(XdpMode::None).rx_only());
    assert_eq!(b.sock.xdp_mode(), XdpMode::None);
    b.sock.update_xskmap(prog.xskmap.as_raw_fd()).unwrap();
    let sent = numbered(0..200, varied_len);
    let kept: Vec<Pkt> = sent.iter().copied().filter(|p| p.seq % 2 == 0).collect();
    transfer(&mut a, &mut b, &sent, &kept, Wake::Kick);
    b.assert_quiet();
    assert_eq!(prog.count(), 200, "packets the program saw");
    prog.link = None;
    assert_detached(&pair.ns_b, &pair.if_b, format!("{mode}, after the test closed its link"));
}

// ---------------------------------------------------------------------------
// 8. Teardown

/// 100 times: create UMEM and socket on the same queue right after the last
/// one was destroyed (no pause), and receive a packet on it.
fn teardown_hundred_cycles(pair: &VethPair, mode: XdpMode) {
    let mut a = End::open(pair, Side::A, Setup::new(mode).tx_only());
    let mut small = Setup::new(mode).lend(16);
    small.umem = UmemConfig { frame_count: 64, fill_size: 64, comp_size: 64, ..small.umem };
    small.sock.rx_size = 64;
    let t = Instant::now();
    let mut opens = Vec::new();
    for i in 0..100 {
        let o = Instant::now();
        let mut b = End::open(pair, Side::B, small);
        opens.push(o.elapsed());
        let one = [Pkt { seq: i, len: varied_len(i) }];
        transfer(&mut a, &mut b, &one, &one, Wake::Kick);
    }
    opens.sort_unstable();
    eprintln!(
        "{mode}: 100 create/receive/destroy cycles on one queue in {:?}; creating took {:?} min, {:?} median, {:?} max",
        t.elapsed(),
        opens[0],
        opens[50],
        opens[99]
    );
}

// ---------------------------------------------------------------------------
// 9. TX budget (XDP_MAX_TX_SKB_BUDGET, Linux 6.17; not in the selftest)

/// TX descriptors queued before the one kick of [`tx_budget_per_kick`].
const BUDGET_QUEUED: u32 = 512;

/// One kick in copy mode sends exactly the socket's TX budget: with 512
/// descriptors queued, one `sendto` makes the kernel take 32 with budget 32,
/// 256 with 256, and all 512 with the default (the TX ring, 1024). Last, a
/// socket that takes over the UMEM's fd from the default one, with budget
/// 32, sends 32 again: the budget stays on the fd, so it is set anew.
///
/// A kernel before 6.17 has no budget option: there an explicit budget is
/// refused with EOPNOTSUPP naming the version it needs, also on a socket
/// taking over the UMEM's fd (which stays usable), and the default sends the
/// kernel's fixed 32 per kick.
fn tx_budget_per_kick(pair: &VethPair, mode: XdpMode) {
    let has_budget = common::kernel_at_least(6, 17);
    let mut rx = Setup::new(mode).rx_ring(1024).lend(1024);
    rx.umem = UmemConfig { frame_count: 2048, fill_size: 2048, comp_size: 2048, ..rx.umem };
    let mut b = End::open(pair, Side::B, rx.rx_only());
    let mut tx = Setup::new(mode).tx_only().frames(2048, 0);
    tx.umem = UmemConfig { frame_count: 2 * BUDGET_QUEUED, comp_size: 1024, ..tx.umem };
    tx.sock.tx_size = 1024;
    let sent = |cfg: &SocketConfig| if has_budget { cfg.resolved_tx_budget().unwrap() } else { 32 };
    let mut seq = 0;
    let mut a = None;
    for budget in [32, 256, 0] {
        drop(a.take());
        let cfg = SocketConfig { tx_budget: budget, ..tx.sock };
        if !has_budget && budget != 0 {
            let umem = tx.umem;
            let e = in_ns(&pair.ns_a, || Socket::new(&pair.if_a, 0, &Umem::new(&umem).unwrap(), &cfg).err());
            assert_budget_refused(e, budget, mode);
            continue;
        }
        let mut end = End::open(pair, Side::A, Setup { sock: cfg, ..tx });
        one_kick(&mut end, &mut b, &mut seq, sent(&cfg), &format!("{mode}, tx_budget {budget}"));
        a = Some(end);
    }
    let End { sock, umem, free_tx, name } = a.unwrap();
    drop(sock);
    let ifname = pair.if_a.clone();
    let (cfg_32, cfg_default) = (SocketConfig { tx_budget: 32, ..tx.sock }, tx.sock);
    let (umem, sock) = in_ns(&pair.ns_a, move || {
        let s = match Socket::new(&ifname, 0, &umem, &cfg_32) {
            Err(e) if !has_budget => {
                assert_budget_refused(Some(e), 32, mode);
                Socket::new(&ifname, 0, &umem, &cfg_default)
            }
            r => r,
        };
        (umem, s.unwrap_or_else(|e| panic!("{name}: socket on the same umem: {e}")))
    });
    assert_eq!(sock.fd(), umem.fd(), "{mode}: the new socket took over the umem's fd");
    let who = format!("{mode}, tx_budget 32 on the fd of the default one");
    let mut a = End { sock, umem, free_tx, name: who.clone() };
    one_kick(&mut a, &mut b, &mut seq, 32, &who);
}

/// On a kernel without `XDP_MAX_TX_SKB_BUDGET`, an explicit budget is refused
/// by name and with the version that has it.
fn assert_budget_refused(e: Option<xsk_rs::Error>, budget: u32, mode: XdpMode) {
    let (major, minor) = common::kernel_version();
    let e = e.unwrap_or_else(|| panic!("{mode}: tx_budget {budget} accepted by Linux {major}.{minor}, which lacks it"));
    assert_eq!(e.errno(), libc::EOPNOTSUPP, "{mode}: tx_budget {budget}: {e}");
    let m = e.to_string();
    assert!(m.contains(&format!("tx budget {budget}")) && m.contains("needs Linux 6.17"), "{mode}: {m}");
}

/// Queues [`BUDGET_QUEUED`] packets on `a`, kicks once, and checks that the
/// kernel sent exactly `min(budget, queued)`, and that `b` receives just
/// those; then drains the rest, so that the next round starts with empty
/// rings.
///
/// The count is the completions 200 ms after the kick: copy-mode TX runs only
/// inside the syscall (no workqueue carries on), and each sent packet's
/// completion is posted when veth frees its skb. Since 6.17 the TX ring's
/// consumer index must show the same count right after the kick and 200 ms
/// on; older kernels publish it lazily, when their cached view of the ring
/// runs dry, so after a kick that sent 32 of 512 it still read 0 on 6.1 and
/// 6.12. 30 runs on 6.18, also with both CPUs busy, gave the same
/// counts every time, in both modes: the receiving veth frees each skb before
/// the next is sent, so neither the socket's send buffer nor veth's 256-entry
/// ring cuts a kick short.
fn one_kick(a: &mut End, b: &mut End, seq: &mut u32, budget: u32, who: &str) {
    let want = budget.min(BUDGET_QUEUED) as usize;
    let pkts = numbered(*seq..*seq + BUDGET_QUEUED, |_| 60);
    *seq += BUDGET_QUEUED;
    let mut queued = 0;
    while queued < pkts.len() {
        queued += a.queue_tx(&pkts[queued..]);
    }
    assert!(a.sock.tx().unwrap().needs_wakeup(), "{who}: copy mode asks for a kick");
    a.sock.kick().unwrap();
    let taken = BUDGET_QUEUED - a.sock.tx().unwrap().in_flight();
    std::thread::sleep(Duration::from_millis(200));
    let later = BUDGET_QUEUED - a.sock.tx().unwrap().in_flight();
    if common::kernel_at_least(6, 17) {
        let (taken, later) = (taken as usize, later as usize);
        assert_eq!((taken, later), (want, want), "{who}: descriptors one kick took (at once, 200 ms on)");
    }
    let mut done = 0;
    loop {
        let c = a.completions();
        if c.is_empty() {
            break;
        }
        done += c.len();
        a.free_tx.extend_from_slice(&c);
    }
    eprintln!(
        "{who}: one kick sent {done} of {BUDGET_QUEUED} descriptors (consumer index: {taken}, {later} after 200 ms)"
    );
    assert_eq!(done, want, "{who}: descriptors one kick sent (completions 200 ms on)");
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(2);
    while got < want && Instant::now() < deadline {
        got += b.receive(&pkts[got..want]);
    }
    assert_eq!(got, want, "{who}: packets received");
    b.assert_quiet();
    // The rest, with as many kicks as it takes.
    let deadline = Instant::now() + TIMEOUT;
    while done < pkts.len() || got < pkts.len() {
        assert!(Instant::now() < deadline, "{who}: draining: {done} completed, {got} received");
        a.wake_tx(Wake::Kick);
        let c = a.completions();
        done += c.len();
        a.free_tx.extend_from_slice(&c);
        got += b.receive(&pkts[got..]);
    }
}
