//! UMEM areas in huge pages (`Umem::with_huge_pages`): real packets through
//! a hugetlb-backed UMEM on a veth pair, the huge pages it takes from the
//! kernel's pool and gives back, what a forked child gets in their place, and
//! the error when the pool is empty.
//!
//! Each test sets the machine's default huge page pool (vm.nr_hugepages,
//! and vm.nr_overcommit_hugepages at 0 so that no surplus pages blur the
//! counts) through a [`Pool`] guard, which restores both on drop, also when
//! the test fails. The guard holds a lock, so the tests of this binary take
//! turns with the pool. Other processes that set the pool (the C tests'
//! huge page rows, bench/run.sh) take the same lock file, [`POOL_LOCK_FILE`],
//! with flock(2).

mod common;

use common::{test_frame, PacketSocket, VethPair};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use xsk_rs::ring::Desc;
use xsk_rs::socket::{Socket, SocketConfig};
use xsk_rs::umem::{Pages, Umem, UmemConfig};
use xsk_rs::xdp::XdpMode;

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";
const NR_OVERCOMMIT: &str = "/proc/sys/vm/nr_overcommit_hugepages";

/// A number field of /proc/meminfo, without its unit.
fn meminfo(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("read /proc/meminfo");
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("/proc/meminfo has no {field}"))
}

fn huge_page_size() -> usize {
    meminfo("Hugepagesize") as usize * 1024
}

fn read_sysctl(path: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    text.trim().parse().unwrap_or_else(|e| panic!("{path} holds {text:?}: {e}"))
}

fn write_sysctl(path: &str, value: u64) -> std::io::Result<()> {
    std::fs::write(path, format!("{value}\n"))
}

/// Serialises the tests that set the pool.
static POOL_LOCK: Mutex<()> = Mutex::new(());
/// Serialises them with other processes that set the pool (tests/c's huge
/// page rows take it too).
const POOL_LOCK_FILE: &str = "/run/xsk_rs-hugepages.lock";

/// An exclusive flock on [`POOL_LOCK_FILE`], released when the fd closes.
fn lock_across_processes() -> std::fs::File {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(POOL_LOCK_FILE)
        .unwrap_or_else(|e| panic!("open {POOL_LOCK_FILE}: {e}"));
    // SAFETY: flock on our own open fd.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {POOL_LOCK_FILE}: {}", std::io::Error::last_os_error());
    f
}

/// The default huge page pool as one test set it; the old sizes come back on
/// drop.
struct Pool {
    old_pages: u64,
    old_overcommit: u64,
    /// HugePages_Free once set: what the test's UMEMs give back.
    free: u64,
    // Dropped after Drop::drop restored the pool: the file lock first, then
    // the mutex (fields drop in order).
    _file_lock: std::fs::File,
    _lock: MutexGuard<'static, ()>,
}

impl Pool {
    /// Sets the pool to `pages` persistent pages and no surplus, or says why
    /// it cannot (None: the test returns; under CI=true it panics instead).
    fn set(pages: u64) -> Option<Pool> {
        let lock = POOL_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        if !std::path::Path::new(NR_HUGEPAGES).exists() {
            common::cannot_run(&format!("no {NR_HUGEPAGES}: this kernel has no huge pages (CONFIG_HUGETLB_PAGE)"));
            return None;
        }
        let file_lock = lock_across_processes();
        // From here on a panic drops the guard, which restores both values.
        let mut pool = Pool {
            _file_lock: file_lock,
            old_pages: read_sysctl(NR_HUGEPAGES),
            old_overcommit: read_sysctl(NR_OVERCOMMIT),
            free: 0,
            _lock: lock,
        };
        if pool.old_overcommit != 0 {
            write_sysctl(NR_OVERCOMMIT, 0).unwrap_or_else(|e| panic!("write 0 to {NR_OVERCOMMIT}: {e}"));
        }
        write_sysctl(NR_HUGEPAGES, pages).unwrap_or_else(|e| panic!("write {pages} to {NR_HUGEPAGES}: {e}"));
        // The kernel gives what it can find: fragmented memory may hold fewer.
        let got = read_sysctl(NR_HUGEPAGES);
        if got != pages {
            common::cannot_run(&format!(
                "asked {NR_HUGEPAGES} for {pages} huge pages, the kernel made it {got} (memory too fragmented?)"
            ));
            return None;
        }
        pool.free = meminfo("HugePages_Free");
        Some(pool)
    }

    /// Huge pages free for a new mapping.
    fn available() -> u64 {
        meminfo("HugePages_Free").saturating_sub(meminfo("HugePages_Rsvd"))
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A test that failed with a UMEM alive dropped it just now: let the
        // kernel unpin its pages first (see wait_free), so that the next
        // test finds the pool as it was.
        let deadline = Instant::now() + Duration::from_secs(5);
        while meminfo("HugePages_Free") < self.free && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Reported, not raised: this may run while a test panics.
        for (path, value) in [(NR_HUGEPAGES, self.old_pages), (NR_OVERCOMMIT, self.old_overcommit)] {
            if let Err(e) = write_sysctl(path, value) {
                eprintln!("warning: could not restore {path} to {value}: {e}");
            }
        }
    }
}

/// Waits until HugePages_Free is `want` again, for up to 5 s: the kernel
/// unpins a UMEM's pages after its last socket and fd are closed, from a work
/// queue after an RCU grace period, so they return to the pool a moment
/// after the drop.
fn wait_free(want: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut free = meminfo("HugePages_Free");
    while free != want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        free = meminfo("HugePages_Free");
    }
    assert_eq!(free, want, "HugePages_Free {what}, 5 s on");
}

/// `(Size, KernelPageSize)` in kB of the mapping that starts at `addr`, from
/// /proc/self/smaps.
fn smaps_of(addr: *const u8) -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let head = format!("{:08x}-", addr as usize);
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&head));
    assert!(lines.next().is_some(), "no mapping starts at {addr:p} in /proc/self/smaps");
    let mut field = |name: &str| -> u64 {
        lines
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} for the mapping at {addr:p}"))
    };
    // smaps lists Size before KernelPageSize.
    let size = field("Size");
    (size, field("KernelPageSize"))
}

/// 1000 frames of 4096 bytes: 4096000 bytes, in 2 MiB pages two with 98304
/// bytes of the second left over, so the mapping is longer than the UMEM.
const FRAMES: u32 = 1000;
const FRAME_SIZE: u32 = 4096;
/// Frames lent for RX, [0, RX_FRAMES); TX uses the last frames of the area,
/// so both huge pages carry packets.
const RX_FRAMES: u32 = 512;
const PACKETS: u32 = 64;

fn hugepage_umem() -> UmemConfig {
    UmemConfig {
        frame_count: FRAMES,
        frame_size: FRAME_SIZE,
        frame_headroom: 0,
        fill_size: 1024,
        comp_size: 128,
        flags: 0,
        tx_metadata_len: 0,
    }
}

/// Huge pages the area of `cfg` takes: its length rounded up.
fn pages_for(cfg: &UmemConfig) -> u64 {
    let len = cfg.frame_count as usize * cfg.frame_size as usize;
    len.div_ceil(huge_page_size()) as u64
}

fn varied_frames(count: u32) -> Vec<Vec<u8>> {
    (0..count).map(|seq| test_frame(seq, 60 + (seq as usize * 97) % 1441)).collect()
}

/// Sends `frames` from the UMEM frames `first..` and waits for every
/// completion; returns the completed addresses, sorted.
fn send(umem: &mut Umem, sock: &mut Socket, first: u32, frames: &[Vec<u8>]) -> Vec<u64> {
    let descs: Vec<Desc> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let addr = umem.frame_addr(first + i as u32);
            // SAFETY: TX frames are ours until they come back on the completion ring.
            unsafe { umem.frame_mut(addr, f.len()) }.expect("tx frame inside the umem").copy_from_slice(f);
            Desc { addr, len: f.len() as u32, options: 0 }
        })
        .collect();
    let mut queued = 0;
    let mut done = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while done.len() < frames.len() {
        assert!(Instant::now() < deadline, "only {} of {} completions", done.len(), frames.len());
        queued += sock.tx().unwrap().put(&descs[queued as usize..]);
        if sock.tx().unwrap().needs_wakeup() {
            sock.kick().unwrap();
        }
        let mut addrs = [0u64; 64];
        let n = umem.comp().take(&mut addrs);
        done.extend_from_slice(&addrs[..n as usize]);
    }
    done.sort_unstable();
    done
}

/// A UMEM in huge pages takes exactly the pages its area needs from the pool
/// while it lives (and the mapping is hugetlb, longer than the UMEM), carries
/// packets both ways byte for byte, and gives the pages back when dropped.
#[test]
fn a_hugepage_umem_moves_packets_and_returns_its_pages() {
    if !common::require_root() {
        return;
    }
    let cfg = hugepage_umem();
    let pages = pages_for(&cfg);
    let Some(_pool) = Pool::set(pages + 1) else { return };
    let before = meminfo("HugePages_Free");
    assert!(Pool::available() >= pages, "the pool was just set to {} pages", pages + 1);

    let pair = VethPair::new();
    let (mut umem, mut sock) = pair.run_in_a(|| {
        let umem = Umem::with_huge_pages(&cfg).expect("umem in huge pages");
        let sock = Socket::new("veth0", 0, &umem, &SocketConfig { xdp_mode: XdpMode::Drv, ..Default::default() })
            .expect("socket on the hugepage umem");
        (umem, sock)
    });
    assert_eq!(umem.size(), FRAMES as u64 * FRAME_SIZE as u64, "the UMEM is frame_count * frame_size");
    assert_eq!(meminfo("HugePages_Free"), before - pages, "HugePages_Free while the UMEM lives");
    let (size_kb, page_kb) = smaps_of(umem.area());
    assert_eq!(page_kb as usize * 1024, huge_page_size(), "the area's KernelPageSize");
    assert_eq!(size_kb, pages * huge_page_size() as u64 / 1024, "the area is mapped in whole huge pages");

    // RX: the peer's frames land in the first huge page, byte for byte.
    let lend: Vec<u64> = (0..RX_FRAMES).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(umem.fill().put(&lend), RX_FRAMES);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent = varied_frames(PACKETS);
    for f in &sent {
        peer.send(f).unwrap();
    }
    let got = common::recv_test_frames(&mut umem, &mut sock, sent.len(), Duration::from_secs(5));
    assert_eq!(got.len(), sent.len(), "received {} of {}", got.len(), sent.len());
    for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(g, s, "rx frame {i} differs");
    }

    // TX: from the last frames of the area, in the second huge page.
    let first = FRAMES - PACKETS;
    let sent: Vec<Vec<u8>> = (0..PACKETS).map(|seq| test_frame(1000 + seq, 60 + (seq as usize * 53) % 1441)).collect();
    let done = send(&mut umem, &mut sock, first, &sent);
    let expect: Vec<u64> = (first..FRAMES).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(done, expect, "every TX frame comes back exactly once");
    for (i, s) in sent.iter().enumerate() {
        let g = peer.recv_test_frame(Duration::from_secs(2)).unwrap_or_else(|| panic!("tx frame {i} not received"));
        assert_eq!(&g, s, "tx frame {i} differs");
    }
    let st = sock.stats().unwrap();
    assert_eq!((st.rx_dropped, st.tx_invalid_descs), (0, 0), "{st:?}");

    drop(sock);
    drop(umem);
    wait_free(before, "after the UMEM and its socket are gone");
}

/// A forked child gets ordinary zeroed memory over the whole mapping, not
/// only the registered part, and no copy of the huge pages; the parent's
/// area is untouched by what the child writes.
#[test]
fn a_forked_child_gets_ordinary_memory_for_the_whole_mapping() {
    if !common::require_root() {
        return;
    }
    // 300 frames: 1228800 bytes, in 2 MiB pages one, 868352 bytes of it
    // beyond the UMEM.
    let cfg = UmemConfig { frame_count: 300, ..hugepage_umem() };
    let pages = pages_for(&cfg);
    let Some(_pool) = Pool::set(pages) else { return };
    let before = meminfo("HugePages_Free");
    let umem = Umem::with_huge_pages(&cfg).expect("umem in huge pages");
    assert_eq!(meminfo("HugePages_Free"), before - pages, "HugePages_Free while the UMEM lives");
    let (len, map_len) = (umem.size() as usize, pages as usize * huge_page_size());
    assert!(map_len > len);
    let area = umem.area();
    // SAFETY: the area is ours and no frame was lent to the kernel.
    unsafe { std::ptr::write_bytes(area, 0xa5, map_len) };
    let free_at_fork = meminfo("HugePages_Free");

    let umem_p = &umem as *const Umem;
    // SAFETY: the child reads and writes its own memory, calls no lock that a
    // parent thread may hold but the allocator's (which glibc resets at fork),
    // and ends with _exit.
    let child = match unsafe { libc::fork() } {
        -1 => panic!("fork: {} (was the pinned hugetlb area to be copied?)", std::io::Error::last_os_error()),
        0 => {
            // A panic must not unwind into the test harness's copy.
            let bad = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut bad = 0;
                // SAFETY: the child's copy of the mapping's range; a byte past
                // what the child handler replaced faults, and the parent sees
                // the signal.
                let bytes = unsafe { std::slice::from_raw_parts_mut(area, map_len) };
                bad += bytes.iter().any(|&b| b != 0) as i32;
                bytes.fill(0x5a);
                let (_, page_kb) = smaps_of(area);
                bad += (page_kb as usize * 1024 == huge_page_size()) as i32;
                // The copy of a pinned hugetlb area would have taken pages at fork.
                bad += (meminfo("HugePages_Free") != free_at_fork) as i32;
                // SAFETY: the child's own copy of the parent's value; the
                // parent keeps and drops its own. Dropping unmaps the
                // replacement.
                drop(unsafe { std::ptr::read(umem_p) });
                bad
            }))
            .unwrap_or(100);
            // SAFETY: ends the child without the parent's atexit work.
            unsafe { libc::_exit(bad) }
        }
        pid => pid,
    };
    let mut status = 0;
    // SAFETY: our own child.
    assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
    assert!(libc::WIFEXITED(status), "the child died (signal {}): its mapping was short", libc::WTERMSIG(status));
    let code = libc::WEXITSTATUS(status);
    assert_ne!(code, 100, "the child panicked");
    assert_eq!(code, 0, "checks that failed in the child (zeroes, page size, pool)");
    // SAFETY: as above.
    let bytes = unsafe { std::slice::from_raw_parts(area, map_len) };
    assert!(bytes.iter().all(|&b| b == 0xa5), "the child's writes reached the parent's area");
    drop(umem);
    wait_free(before, "after the parent dropped the UMEM");
}

/// With no huge pages reserved, the error is ENOMEM and says what to do:
/// how many pages the area needs and where to reserve them.
#[test]
fn an_empty_pool_is_enomem_naming_nr_hugepages() {
    if !common::require_root() {
        return;
    }
    let cfg = hugepage_umem();
    // Validation comes first and is unchanged: frames stay within a base page.
    let e = Umem::with_huge_pages(&UmemConfig { frame_size: 8192, ..cfg }).err().expect("8192-byte frames");
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    assert!(e.to_string().contains("frame size 8192"), "{e}");

    let pages = pages_for(&cfg);
    let Some(_pool) = Pool::set(0) else { return };
    let avail = Pool::available();
    assert_eq!(avail, 0, "pool set to 0 and no surplus, yet {avail} huge pages are available");
    let total = meminfo("HugePages_Total");
    let e = Umem::with_huge_pages(&cfg).err().expect("a hugepage umem with an empty pool");
    assert_eq!(e.errno(), libc::ENOMEM, "{e}");
    let msg = e.to_string();
    for want in [
        format!("as {pages} huge pages of {} kB", huge_page_size() >> 10),
        format!("the area needs {pages} and 0 are available"),
        format!("vm.nr_hugepages={}", total + pages),
        NR_HUGEPAGES.to_string(),
        "fall back to ordinary pages (Rust: Pages::HugeOrBase".to_string(),
    ] {
        assert!(msg.contains(&want), "{want:?} missing from: {msg}");
    }
}

/// The packet layer's `XdpConfig::huge_page`: a bi socket whose UMEM lives in
/// huge pages echoes packets byte for byte, and its pages come back.
#[test]
fn a_packet_layer_socket_in_huge_pages_echoes() {
    if !common::require_root() {
        return;
    }
    // 256 + 256 frames of 4096 bytes: one 2 MiB page.
    let cfg = xsk_rs::XdpConfig {
        huge_page: Some(true),
        rx_frames: Some(256),
        tx_frames: Some(256),
        xdp_mode: Some(XdpMode::Skb),
        ..Default::default()
    };
    let pages = (512 * 4096usize).div_ceil(huge_page_size()) as u64;
    let Some(_pool) = Pool::set(pages) else { return };
    let before = meminfo("HugePages_Free");
    let pair = VethPair::new();
    let (mut tx, mut rx) = pair
        .run_in_a(move || xsk_rs::create_bi_socket_by_name("veth0", 0, Some(cfg)).expect("bi socket in huge pages"));
    assert_eq!(meminfo("HugePages_Free"), before - pages, "HugePages_Free while the socket lives");
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent = varied_frames(PACKETS);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut echoed = 0;
    for f in &sent {
        peer.send(f).unwrap();
    }
    while echoed < sent.len() {
        assert!(Instant::now() < deadline, "echoed {echoed} of {}", sent.len());
        if !xsk_rs::PollWaitExt::poll_wait(&rx, Some(Duration::from_millis(100))).unwrap() {
            continue;
        }
        let batch = rx.recv_batch(64).unwrap();
        for p in batch.iter() {
            assert!(xsk_rs::SendExt::send_blocking(&mut tx, p, None).is_ok());
            echoed += 1;
        }
    }
    for (i, s) in sent.iter().enumerate() {
        let g = peer.recv_test_frame(Duration::from_secs(2)).unwrap_or_else(|| panic!("echo {i} not received"));
        assert_eq!(&g, s, "echo {i} differs");
    }
    drop((tx, rx));
    wait_free(before, "after the packet-layer socket is gone");
}

/// `Pages::HugeOrBase` takes huge pages when the pool has them, and with an
/// empty pool falls back to ordinary pages that still carry packets byte
/// for byte; the packet layer's `huge_page_fallback` does the same.
#[test]
fn the_fallback_takes_ordinary_pages_when_none_are_free() {
    if !common::require_root() {
        return;
    }
    let cfg = hugepage_umem();
    let pages = pages_for(&cfg);
    {
        let Some(_pool) = Pool::set(pages) else { return };
        let before = meminfo("HugePages_Free");
        let umem = Umem::with_pages(&cfg, Pages::HugeOrBase).expect("huge pages are free");
        assert!(umem.huge_pages(), "the pool had {pages} free pages");
        assert_eq!(meminfo("HugePages_Free"), before - pages);
        assert_eq!(smaps_of(umem.area()).1 as usize * 1024, huge_page_size());
        drop(umem);
        wait_free(before, "after the fallback UMEM in huge pages is gone");
    }

    let Some(_pool) = Pool::set(0) else { return };
    assert_eq!(Pool::available(), 0);
    let pair = VethPair::new();
    let (mut umem, mut sock) = pair.run_in_a(|| {
        let umem = Umem::with_pages(&cfg, Pages::HugeOrBase).expect("the fallback to ordinary pages");
        let sock = Socket::new("veth0", 0, &umem, &SocketConfig { xdp_mode: XdpMode::Drv, ..Default::default() })
            .expect("socket on the fallback umem");
        (umem, sock)
    });
    assert!(!umem.huge_pages(), "no huge page was free");
    // SAFETY: sysconf has no preconditions.
    let base_kb = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64 / 1024;
    assert_eq!(smaps_of(umem.area()), (FRAMES as u64 * FRAME_SIZE as u64 / 1024, base_kb), "ordinary pages");
    let lend: Vec<u64> = (0..RX_FRAMES).map(|i| umem.frame_addr(i)).collect();
    assert_eq!(umem.fill().put(&lend), RX_FRAMES);
    let peer = pair.run_in_b(|| PacketSocket::open("veth1").unwrap());
    let sent = varied_frames(PACKETS);
    for f in &sent {
        peer.send(f).unwrap();
    }
    let got = common::recv_test_frames(&mut umem, &mut sock, sent.len(), Duration::from_secs(5));
    assert_eq!(got, sent, "received on the fallback umem");
    drop((sock, umem));

    // The packet layer: huge_page with huge_page_fallback.
    let cfg = xsk_rs::XdpConfig {
        huge_page: Some(true),
        huge_page_fallback: Some(true),
        rx_frames: Some(256),
        tx_frames: Some(256),
        xdp_mode: Some(XdpMode::Skb),
        ..Default::default()
    };
    let (tx, rx) =
        pair.run_in_a(move || xsk_rs::create_bi_socket_by_name("veth0", 0, Some(cfg)).expect("bi socket, fallback"));
    drop((tx, rx));
    let Err(e) = pair.run_in_a(move || {
        xsk_rs::create_bi_socket_by_name("veth0", 0, Some(xsk_rs::XdpConfig { huge_page_fallback: None, ..cfg }))
    }) else {
        panic!("no huge pages and no fallback, yet a socket");
    };
    assert_eq!(e.errno(), libc::ENOMEM, "{e}");
}
