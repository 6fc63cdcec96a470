//! Property tests (proptest) of everything that judges caller-supplied values:
//! config validation in Rust and through the C ABI's `sz`-prefixed structs, and
//! UMEM address/length checks. Each property states the documented rule on its
//! own (from the field docs in src/umem.rs, src/socket.rs and
//! include/xsk_rs.h) and compares the library's answer with it.
//!
//! Cases per property: proptest's `PROPTEST_CASES` (default 256, a few seconds
//! for the whole file); `make soak` runs it with `PROPTEST_CASES=100000`.
//! Tests that need an AF_XDP socket (a registered UMEM) call
//! `common::require_root()`.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::ffi::{c_int, CStr};
use std::mem::size_of;
use std::ptr;
use xsk_rs::ffi::*;
use xsk_rs::socket::{SocketConfig, BIND_COPY, BIND_NEED_WAKEUP, BIND_SG, BIND_SHORT_FRAMES, BIND_ZEROCOPY};
use xsk_rs::umem::{Umem, UmemConfig, UMEM_UNALIGNED_CHUNKS};
use xsk_rs::xdp::XdpMode;

fn page_size() -> u32 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as u32 }
}

fn last_error() -> String {
    // SAFETY: never NULL, NUL-terminated.
    unsafe { CStr::from_ptr(xsk_rs_last_error()) }.to_string_lossy().into_owned()
}

/// A u32 that is often one of the values where the rules change.
fn edgy_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => any::<u32>(),
        2 => (0u32..32).prop_map(|s| 1 << s),
        2 => prop::sample::select(vec![
            0, 1, 2, 3, 255, 256, 257, 1024, 1792, 2047, 2048, 2049, 3000, 3583, 3584, 3839, 3840, 4095, 4096,
            4097, 8192, 65536, 1 << 31, u32::MAX - 1, u32::MAX,
        ]),
        1 => 0u32..5000,
    ]
}

fn flags_u32() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 0u32..16, 1 => any::<u32>(), 1 => (0u32..32).prop_map(|s| 1 << s)]
}

fn pow2_u32() -> impl Strategy<Value = u32> {
    prop_oneof![4 => (0u32..32).prop_map(|s| 1 << s), 1 => edgy_u32()]
}

/// Any field values, or values that are mostly valid and sit on the edges
/// between fields (headroom right at `frame_size - 256`).
fn umem_config() -> impl Strategy<Value = UmemConfig> {
    let any_fields = (edgy_u32(), edgy_u32(), edgy_u32(), edgy_u32(), edgy_u32(), flags_u32()).prop_map(
        |(frame_count, frame_size, frame_headroom, fill_size, comp_size, flags)| UmemConfig {
            frame_count,
            frame_size,
            frame_headroom,
            fill_size,
            comp_size,
            flags,
            tx_metadata_len: 0,
        },
    );
    let frame_size =
        prop_oneof![prop::sample::select(vec![2048u32, 4096, 2047, 2049, 3000, 4095, 4097, 8192]), 2000u32..=4200,];
    let headroom = prop_oneof![(-2i64..=2).prop_map(Ok), (0u32..300).prop_map(Err)];
    let edges = (edgy_u32(), frame_size, headroom, pow2_u32(), pow2_u32(), prop::sample::select(vec![0u32, 1, 2, 3]))
        .prop_map(|(frame_count, frame_size, headroom, fill_size, comp_size, flags)| UmemConfig {
            frame_count,
            frame_size,
            // Ok(d): d bytes from the limit; Err(h): a small headroom h.
            frame_headroom: match headroom {
                Ok(d) => (frame_size as i64 - 256 + d).max(0) as u32,
                Err(h) => h,
            },
            fill_size,
            comp_size,
            flags,
            tx_metadata_len: 0,
        });
    prop_oneof![any_fields, edges]
}

/// The UMEM fields that break the documented rules, each as the words and
/// value its message must show. Rules: flags only UNALIGNED_CHUNKS; frame size
/// 2048 to the page size, a power of two unless unaligned; headroom below
/// frame size - 256; fill and completion rings powers of two. frame_count is
/// not a validate() matter (0 means "as many as fit" with a caller's area).
fn umem_violations(c: &UmemConfig) -> Vec<String> {
    let mut v = Vec::new();
    if c.flags & !UMEM_UNALIGNED_CHUNKS != 0 {
        v.push(format!("umem flags {:#x}", c.flags));
    }
    let unaligned = c.flags & UMEM_UNALIGNED_CHUNKS != 0;
    let fs = c.frame_size;
    let fs_ok = (2048..=page_size()).contains(&fs) && (unaligned || fs.is_power_of_two());
    if !fs_ok {
        v.push(format!("frame size {fs}"));
    } else if c.frame_headroom >= fs - 256 {
        // Judged only against a valid frame size: against an invalid one the
        // limit has no meaning.
        v.push(format!("frame headroom {}", c.frame_headroom));
    }
    if !c.fill_size.is_power_of_two() {
        v.push(format!("fill ring size {}", c.fill_size));
    }
    if !c.comp_size.is_power_of_two() {
        v.push(format!("completion ring size {}", c.comp_size));
    }
    v
}

/// Same for a socket: ring sizes a power of two or 0 but not both 0; bind
/// flags only COPY, ZEROCOPY, NEED_WAKEUP, SG, SHORT_FRAMES, and not COPY with ZEROCOPY; TX
/// budget 0 (the default) or 32..=tx_size, which needs a TX ring.
fn socket_violations(rx: u32, tx: u32, flags: u32, budget: u32) -> Vec<String> {
    let mut v = Vec::new();
    for (name, s) in [("rx ring size", rx), ("tx ring size", tx)] {
        if s != 0 && !s.is_power_of_two() {
            v.push(format!("{name} {s}"));
        }
    }
    if rx == 0 && tx == 0 {
        v.push("rx and tx ring sizes are both 0".into());
    }
    let known = BIND_COPY | BIND_ZEROCOPY | BIND_NEED_WAKEUP | BIND_SG | BIND_SHORT_FRAMES;
    if flags & !known != 0 || (flags & BIND_COPY != 0 && flags & BIND_ZEROCOPY != 0) {
        v.push(format!("bind flags {flags:#x}"));
    }
    if budget != 0 && !(32..=tx).contains(&budget) {
        v.push(format!("tx budget {budget}"));
    }
    v
}

/// A TX budget: often at the edges of 32..=tx ring, or 0.
fn budget_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        2 => edgy_u32(),
        2 => prop::sample::select(vec![0u32, 31, 32, 33, 63, 64, 65, 100]),
        1 => (0u32..12).prop_map(|s| 1 << s),
        1 => (0u32..12).prop_map(|s| (1 << s) + 1),
    ]
}

/// A rejection must name one of the violated fields with its value.
fn names_one_of(msg: &str, violations: &[String]) -> bool {
    violations.iter().any(|v| msg.contains(v.as_str()))
}

proptest! {
    #[test]
    fn umem_config_validate_accepts_exactly_the_documented_domain(c in umem_config()) {
        let want = umem_violations(&c);
        match c.validate() {
            Ok(()) => prop_assert!(want.is_empty(), "accepted {c:?} despite {want:?}"),
            Err(e) => {
                prop_assert!(!want.is_empty(), "rejected valid {c:?}: {e}");
                prop_assert_eq!(e.errno(), libc::EINVAL);
                let msg = e.to_string();
                prop_assert!(names_one_of(&msg, &want), "message {msg:?} names none of {want:?}");
            }
        }
    }

    #[test]
    fn socket_config_validate_accepts_exactly_the_documented_domain(
        rx in edgy_u32(), tx in pow2_u32(), bind_flags in flags_u32(), mode in 0u32..4, budget in budget_u32(),
        near_tx in prop::option::of(-2i64..=2),
    ) {
        // Often right at the TX ring's size, where the upper limit sits.
        let tx_budget = near_tx.map_or(budget, |d| (tx as i64 + d).clamp(0, u32::MAX as i64) as u32);
        let xdp_mode = XdpMode::try_from(mode).unwrap();
        let c = SocketConfig { rx_size: rx, tx_size: tx, bind_flags, xdp_mode, tx_budget, busy_poll: Default::default() };
        let want = socket_violations(rx, tx, bind_flags, tx_budget);
        match c.validate() {
            Ok(()) => prop_assert!(want.is_empty(), "accepted {c:?} despite {want:?}"),
            Err(e) => {
                prop_assert!(!want.is_empty(), "rejected valid {c:?}: {e}");
                prop_assert_eq!(e.errno(), libc::EINVAL);
                let msg = e.to_string();
                prop_assert!(names_one_of(&msg, &want), "message {msg:?} names none of {want:?}");
            }
        }
    }
}

/// A runner for the properties that need set-up first (a UMEM): proptest's
/// defaults and environment, without a regressions file (no source file to
/// file it under).
fn runner() -> TestRunner {
    TestRunner::new(Config { failure_persistence: None, ..Config::default() })
}

// ---- The C config structs: `sz` first, the struct may be shorter or longer.

/// Smallest `sz` the header's contract allows: the `sz` field and the first
/// field after it (a u32 in both structs).
const MIN_SZ: usize = size_of::<usize>() + size_of::<u32>();
/// Largest `sz` the library takes (a guard against uninitialised structs).
const MAX_SZ: usize = 4096;

/// A size the header's contract takes (`config_sz_ok` in src/ffi/mod.rs):
/// the end of one of the fields this library knows (an older caller's
/// struct), or a size larger than the library's struct, up to 4096 and a
/// multiple of 4 (a newer caller's `sizeof`), never one that cuts a field.
/// All three structs today are `sz` followed by 4-byte fields only, so the field
/// ends are exactly the multiples of 4 from `MIN_SZ` up to the struct's size,
/// and the two halves of the rule together are this one test. A struct that
/// gains a wider field (the rule allows a u64 or a pointer) makes the
/// multiples of 4 inside that field cut it: this model then needs the
/// struct's field list.
fn sz_ok(sz: usize) -> bool {
    (MIN_SZ..=MAX_SZ).contains(&sz) && sz % size_of::<u32>() == 0
}

fn sz_value() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..=MAX_SZ + 64,
        2 => (MIN_SZ / 4..=12).prop_map(|w| w * 4),
        // Small sizes, among them ones that cut a field (refused).
        2 => 0usize..=48,
        1 => any::<usize>(),
        1 => prop::sample::select(vec![0, 7, 8, 11, 12, MAX_SZ, MAX_SZ + 1, usize::MAX]),
    ]
}

/// Runs `init(ptr, sz)` over a buffer prefilled with a canary and checks the
/// contract: 0 exactly for a struct size; then `sz` recorded, the known
/// prefix equal to the defaults, bytes past the library's struct zeroed,
/// nothing written at or past `sz`. On refusal nothing is written at all.
fn check_config_init(
    sz: usize,
    ours: usize,
    defaults: &[u8],
    init: impl Fn(*mut u8, usize) -> c_int,
) -> Result<(), TestCaseError> {
    let cap = sz.min(MAX_SZ + 64) + 64;
    let mut buf = vec![0xA5u8; cap];
    let rc = init(buf.as_mut_ptr(), sz);
    if !sz_ok(sz) {
        prop_assert_eq!(rc, -libc::EINVAL);
        prop_assert!(last_error().contains(&format!("sz {sz}")), "{}", last_error());
        prop_assert!(buf.iter().all(|&b| b == 0xA5), "refused init wrote to the struct");
        return Ok(());
    }
    prop_assert_eq!(rc, 0);
    prop_assert_eq!(usize::from_ne_bytes(buf[..8].try_into().unwrap()), sz);
    let known = sz.min(ours);
    prop_assert_eq!(&buf[8..known], &defaults[8..known]);
    prop_assert!(buf[known..sz].iter().all(|&b| b == 0), "unknown tail not zeroed");
    prop_assert!(buf[sz..].iter().all(|&b| b == 0xA5), "wrote past sz");
    Ok(())
}

fn bytes_of<T: Copy>(v: &T) -> Vec<u8> {
    // SAFETY: T is a repr(C) config struct of integers without padding.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
}

fn umem_defaults() -> xsk_rs_umem_config {
    let mut c = std::mem::MaybeUninit::<xsk_rs_umem_config>::zeroed();
    assert_eq!(xsk_rs_umem_config_init(c.as_mut_ptr(), size_of::<xsk_rs_umem_config>()), 0);
    // SAFETY: init filled it.
    unsafe { c.assume_init() }
}

fn socket_defaults() -> xsk_rs_socket_config {
    let mut c = std::mem::MaybeUninit::<xsk_rs_socket_config>::zeroed();
    assert_eq!(xsk_rs_socket_config_init(c.as_mut_ptr(), size_of::<xsk_rs_socket_config>()), 0);
    // SAFETY: init filled it.
    unsafe { c.assume_init() }
}

fn xdp_defaults() -> xsk_rs_xdp_config {
    let mut c = std::mem::MaybeUninit::<xsk_rs_xdp_config>::zeroed();
    assert_eq!(xsk_rs_xdp_config_init(c.as_mut_ptr(), size_of::<xsk_rs_xdp_config>()), 0);
    // SAFETY: init filled it.
    unsafe { c.assume_init() }
}

/// Two pages, the second PROT_NONE: a config placed to end at the boundary
/// faults on any read past its end.
struct Guarded {
    base: *mut u8,
    page: usize,
}

impl Guarded {
    fn new() -> Guarded {
        let page = page_size() as usize;
        // SAFETY: fresh anonymous mapping, checked.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        // SAFETY: the second page of our own mapping.
        assert_eq!(unsafe { libc::mprotect(base.cast::<u8>().add(page).cast(), page, libc::PROT_NONE) }, 0);
        Guarded { base: base.cast(), page }
    }

    /// Copies `bytes` so that they end right before the guard page.
    fn place(&self, bytes: &[u8]) -> *const u8 {
        assert!(bytes.len() <= self.page);
        // SAFETY: inside the first page.
        unsafe {
            let at = self.base.add(self.page - bytes.len());
            ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len());
            at
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: our mapping.
        unsafe { libc::munmap(self.base.cast(), 2 * self.page) };
    }
}

/// What a caller hands in: `sz` (the value in the struct's first word),
/// the field bytes, and a tail past the library's struct.
#[derive(Debug, Clone)]
struct RawConfig {
    sz: usize,
    fields: Vec<u8>,
    tail: Vec<u8>,
}

impl RawConfig {
    /// The bytes the caller's struct occupies: `sz` of them when `sz` is a
    /// size the library takes, else only the `sz` word (a refusal must not
    /// read more).
    fn bytes(&self, ours: usize) -> Vec<u8> {
        let mut b = self.sz.to_ne_bytes().to_vec();
        b.extend_from_slice(&self.fields);
        b.resize(ours, 0);
        b.extend_from_slice(&self.tail);
        let len = if sz_ok(self.sz) { self.sz } else { size_of::<usize>() };
        b.resize(len, 0);
        b
    }

    /// The config the library should use: the defaults, overwritten by the
    /// caller's bytes up to `min(sz, ours)`.
    fn effective<T: Copy>(&self, defaults: &T) -> T {
        let ours = size_of::<T>();
        let mut d = bytes_of(defaults);
        let b = self.bytes(ours);
        let keep = self.sz.min(ours);
        d[8..keep].copy_from_slice(&b[8..keep]);
        // SAFETY: d has size_of::<T>() bytes of integers.
        unsafe { d.as_ptr().cast::<T>().read_unaligned() }
    }

    /// Why the library must refuse to read this struct, if it must.
    fn read_refusal(&self, ours: usize) -> Option<String> {
        if !sz_ok(self.sz) {
            return Some(format!("config sz {}", self.sz));
        }
        let b = self.bytes(ours);
        if self.sz > ours && b[ours..].iter().any(|&x| x != 0) {
            return Some("non-zero fields past".into());
        }
        None
    }
}

fn raw_config(field_words: usize) -> impl Strategy<Value = RawConfig> {
    let fields = prop::collection::vec(edgy_u32(), field_words)
        .prop_map(|w| w.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>());
    let tail = prop_oneof![
        3 => Just(Vec::new()),
        2 => (0usize..64).prop_map(|n| vec![0u8; n]),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ];
    (sz_value(), fields, tail).prop_map(|(sz, fields, tail)| RawConfig { sz, fields, tail })
}

/// A raw socket config whose busy-poll words (usecs, budget, prefer) are 0
/// half the time, so that the fields before them are judged too and not just
/// the budget and the preference, which random words almost always break.
fn socket_raw_config() -> impl Strategy<Value = RawConfig> {
    (raw_config(8), any::<bool>()).prop_map(|(mut raw, zero)| {
        if zero {
            raw.fields[20..32].fill(0);
        }
        raw
    })
}

proptest! {
    #[test]
    fn umem_config_init_writes_only_sz_bytes(sz in sz_value()) {
        let ours = size_of::<xsk_rs_umem_config>();
        check_config_init(sz, ours, &bytes_of(&umem_defaults()), |p, sz| {
            xsk_rs_umem_config_init(p.cast(), sz)
        })?;
    }

    #[test]
    fn socket_config_init_writes_only_sz_bytes(sz in sz_value()) {
        let ours = size_of::<xsk_rs_socket_config>();
        check_config_init(sz, ours, &bytes_of(&socket_defaults()), |p, sz| {
            xsk_rs_socket_config_init(p.cast(), sz)
        })?;
    }

    #[test]
    fn xdp_config_init_writes_only_sz_bytes(sz in sz_value()) {
        let ours = size_of::<xsk_rs_xdp_config>();
        check_config_init(sz, ours, &bytes_of(&xdp_defaults()), |p, sz| {
            xsk_rs_xdp_config_init(p.cast(), sz)
        })?;
    }

    /// `xsk_rs_umem_create_with_area` over a real page but `size` 0 reads and
    /// validates the config and then stops ("holds 0 frames") without any
    /// system call, so arbitrary configs cost nothing and need no root. The
    /// config ends at a PROT_NONE page: reading past `sz` would crash.
    #[test]
    fn umem_create_reads_the_config_within_sz(raw in raw_config(6)) {
        let ours = size_of::<xsk_rs_umem_config>();
        let g = Guarded::new();
        let cfg = g.place(&raw.bytes(ours)).cast::<xsk_rs_umem_config>();
        let mut out: *mut xsk_rs_umem = ptr::null_mut();
        let rc = xsk_rs_umem_create_with_area(&mut out, g.base.cast(), 0, cfg);
        let msg = last_error();
        prop_assert_eq!(rc, -libc::EINVAL, "{}", msg);
        prop_assert!(out.is_null());
        prop_assert!(msg.starts_with("xsk_rs_umem_create_with_area: "), "{}", msg);
        if let Some(why) = raw.read_refusal(ours) {
            prop_assert!(msg.contains(&why), "{msg:?} lacks {why:?}");
            return Ok(());
        }
        let e = raw.effective(&umem_defaults());
        let c = UmemConfig {
            frame_count: e.frame_count,
            frame_size: e.frame_size,
            frame_headroom: e.frame_headroom,
            fill_size: e.fill_size,
            comp_size: e.comp_size,
            flags: e.flags,
            tx_metadata_len: 0,
        };
        let want = umem_violations(&c);
        if want.is_empty() {
            let expect = format!("holds 0 frames of {}, config asks for {}", c.frame_size, c.frame_count);
            prop_assert!(msg.contains(&expect), "{msg:?} lacks {expect:?} for {c:?}");
        } else {
            prop_assert!(names_one_of(&msg, &want), "{msg:?} names none of {want:?}");
        }
    }
}

/// The socket's C config, read by `xsk_rs_socket_create` for an interface that
/// does not exist: a config the library accepts ends in ENODEV, before any
/// socket exists. Needs a UMEM handle, hence root.
#[test]
fn socket_create_reads_the_config_within_sz() {
    if !common::require_root() {
        return;
    }
    let umem = small_umem(0);
    let umem_ptr = (&umem as *const Umem).cast_mut().cast::<xsk_rs_umem>();
    let ours = size_of::<xsk_rs_socket_config>();
    let defaults = socket_defaults();
    let g = Guarded::new();
    let mut runner = runner();
    runner
        .run(&socket_raw_config(), |raw| {
            let cfg = g.place(&raw.bytes(ours)).cast::<xsk_rs_socket_config>();
            let mut out: *mut xsk_rs_socket = ptr::null_mut();
            let rc = xsk_rs_socket_create(&mut out, c"xskrs-fuzz-nx".as_ptr(), 0, umem_ptr, cfg);
            let msg = last_error();
            prop_assert!(out.is_null());
            prop_assert!(msg.starts_with("xsk_rs_socket_create: "), "{}", msg);
            if let Some(why) = raw.read_refusal(ours) {
                prop_assert_eq!(rc, -libc::EINVAL);
                prop_assert!(msg.contains(&why), "{msg:?} lacks {why:?}");
                return Ok(());
            }
            let e = raw.effective(&defaults);
            let mut want = socket_violations(e.rx_size, e.tx_size, e.bind_flags, e.tx_budget);
            if e.xdp_mode > 3 {
                want.push(format!("XDP mode {}", e.xdp_mode));
            }
            if e.prefer_busy_poll > 1 {
                want.push(format!("prefer_busy_poll is {}", e.prefer_busy_poll));
            }
            if e.busy_poll_budget > u16::MAX as u32 {
                want.push(format!("busy poll budget {}", e.busy_poll_budget));
            }
            if want.is_empty() {
                prop_assert_eq!(rc, -libc::ENODEV, "{}", msg);
            } else {
                prop_assert_eq!(rc, -libc::EINVAL, "{}", msg);
                prop_assert!(names_one_of(&msg, &want), "{msg:?} names none of {want:?}");
            }
            Ok(())
        })
        .unwrap();
    drop(umem);
}

// ---- Addresses and lengths against a registered UMEM.

const FRAMES: u32 = 16;

/// 16 frames: 2048-byte aligned ones, or 3000-byte unaligned ones (an area
/// that is not a page multiple, and frames that straddle pages).
fn small_umem(flags: u32) -> Umem {
    let frame_size = if flags & UMEM_UNALIGNED_CHUNKS != 0 { 3000 } else { 2048 };
    let cfg = UmemConfig {
        frame_count: FRAMES,
        frame_size,
        frame_headroom: 0,
        fill_size: 16,
        comp_size: 16,
        flags,
        tx_metadata_len: 0,
    };
    Umem::new(&cfg).unwrap_or_else(|e| panic!("umem {cfg:?}: {e}"))
}

/// A length to check: a fixed one, or `d` bytes from the end of the area as
/// seen from the address's offset (the edge where the answer flips).
#[derive(Debug, Clone, Copy)]
enum Len {
    Fixed(usize),
    ToEnd(i64),
}

fn addr_and_len(size: u64) -> impl Strategy<Value = (u64, Len)> {
    let near = move |x: u64| x.saturating_sub(4)..=x.saturating_add(4);
    let addr = prop_oneof![
        2 => any::<u64>(),
        2 => 0..=size + 8,
        1 => near(size),
        1 => (0u64..=0xffff, 0..=size).prop_map(|(off, base)| (off << 48) | base),
        1 => prop::sample::select(vec![u64::MAX, 1 << 48, (1 << 48) - 1, 0xffff_0000_0000_0000]),
    ];
    let len = prop_oneof![
        2 => (0usize..=(size as usize + 8)).prop_map(Len::Fixed),
        1 => any::<usize>().prop_map(Len::Fixed),
        1 => prop::sample::select(vec![0, 1, 2048, 3000, usize::MAX, usize::MAX - 1]).prop_map(Len::Fixed),
        2 => (-2i64..=2).prop_map(Len::ToEnd),
    ];
    (addr, len)
}

/// Offset in the area that ring address `addr` names, per the docs: the
/// address itself (aligned), or low 48 bits plus the top 16 (unaligned).
fn documented_offset(addr: u64, unaligned: bool) -> u64 {
    if unaligned {
        (addr & ((1 << 48) - 1)) + (addr >> 48)
    } else {
        addr
    }
}

fn check_addresses(flags: u32) {
    let umem = small_umem(flags);
    let unaligned = flags != 0;
    let size = umem.size();
    assert_eq!(size, FRAMES as u64 * umem.frame_size() as u64);
    let base = umem.area() as usize;
    let handle = (&umem as *const Umem).cast::<xsk_rs_umem>();
    let mut runner = runner();
    runner
        .run(&addr_and_len(size), |(addr, len)| {
            let off = documented_offset(addr, unaligned);
            let inside = off < size;
            let len = match len {
                Len::Fixed(n) => n,
                Len::ToEnd(d) => (size.saturating_sub(off) as i64 + d).max(0) as usize,
            };
            prop_assert_eq!(umem.offset_of(addr), inside.then_some(off as usize));
            prop_assert_eq!(umem.data_ptr(addr).map(|p| p.as_ptr() as usize), inside.then(|| base + off as usize));
            let c = xsk_rs_umem_data(handle, addr) as usize;
            prop_assert_eq!(c, if inside { base + off as usize } else { 0 });
            if !inside {
                prop_assert!(last_error().contains(&format!("{addr:#x} is outside")), "{}", last_error());
            }
            // [off, off + len) inside the area, computed without overflow.
            let fits = inside && (len as u128) <= (size - off) as u128;
            let want = fits.then(|| (base + off as usize, len));
            // SAFETY: no frame of this UMEM is ever given to the kernel, and
            // each view is dropped before the next is made.
            let r = unsafe { umem.frame(addr, len) }.map(|s| (s.as_ptr() as usize, s.len()));
            prop_assert_eq!(r, want, "frame({:#x}, {}) in {} bytes", addr, len, size);
            let w = unsafe { umem.frame_mut(addr, len) }.map(|s| (s.as_ptr() as usize, s.len()));
            prop_assert_eq!(w, want, "frame_mut({:#x}, {}) in {} bytes", addr, len, size);
            Ok(())
        })
        .unwrap();
}

#[test]
fn aligned_umem_addresses_are_checked_against_the_area() {
    if common::require_root() {
        check_addresses(0);
    }
}

#[test]
fn unaligned_umem_addresses_are_checked_against_the_area() {
    if common::require_root() {
        check_addresses(UMEM_UNALIGNED_CHUNKS);
    }
}
