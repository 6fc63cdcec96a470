//! The C ABI: opaque handles over the safe Rust API. No logic lives here: every
//! function checks its pointers, calls the core, and converts the result.
//!
//! Conventions (documented in the generated header too):
//! * fallible calls return 0 or a negative errno and leave a message in
//!   `xsk_rs_last_error()`; out-params are written only on success;
//! * calls without an error channel return 0 or NULL on misuse, also with a message;
//! * no panic crosses the boundary: one becomes `-XSK_RS_ERR_PANIC` (NULL, or
//!   an unsigned call's misuse value) and a message;
//! * a forked child never uses what it inherits (`src/fork.rs`): in the
//!   child, the calls that reach the kernel through an inherited handle fail
//!   with `-EBADFD`, inherited rings look empty, and destroying an inherited
//!   handle frees only the child's memory; the parent is unaffected, and the
//!   child may create its own objects;
//! * only `xsk_rs_umem_create*` (the area is faulted in and pinned),
//!   `xsk_rs_socket_create` (bounded retries while a queue or this process's
//!   own program is being released), `xsk_rs_socket_poll` (its timeout), the
//!   packet layer's creates and `xsk_rs_{tx,rx}sock_wait` (their timeout)
//!   wait; each says how long in its doc;
//! * a packet-layer half (`xsk_rs_txsock`, `xsk_rs_rxsock`) is one thread's
//!   at a time, so its calls take `&mut`; the two halves of a bi socket may
//!   run on two threads at once.
//!
//! The header's opening comment, which states these for C, is the `header`
//! of `cbindgen.toml`: keep the two in step.

#![allow(non_camel_case_types)]
// C callers hand us raw pointers by design. Each is NULL-checked and its
// contract is in the header; marking the functions `unsafe` would change
// nothing for C and only hide that these checks are the boundary.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use crate::error::Error;
use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, CStr};

mod features;
pub mod handle;
mod irq_defer;
mod netdev;
mod packet;
mod prog;
mod ring;
mod socket;
mod tx_metadata;
mod umem;

pub use features::*;
pub use irq_defer::*;
pub use netdev::*;
pub use packet::*;
pub use prog::*;
pub use ring::*;
pub use socket::*;
pub use tx_metadata::*;
pub use umem::*;

/// Runs `$body` (which may `return` early) behind a panic boundary: a panic
/// records a message and yields the return type's [`PanicValue`] (or
/// `$on_panic`, for a call whose type has another documented value).
macro_rules! ffi_guard {
    ($body:block) => {
        $crate::ffi::ffi_guard!($crate::ffi::PanicValue::panic_value(), $body)
    };
    ($on_panic:expr, $body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(payload) => {
                $crate::ffi::record_panic(payload);
                $on_panic
            }
        }
    }};
}
pub(crate) use ffi_guard;

/// Returned (as `-XSK_RS_ERR_PANIC`) by a call that caught a panic inside
/// the library: a bug in libxsk_rs, never an answer from the kernel. Above
/// every errno (Linux's are below 4096), so it cannot be mistaken for one;
/// `xsk_rs_strerror` names it and `xsk_rs_last_error()` has the panic's
/// message. A call returning a pointer returns NULL instead, and one returning
/// an unsigned value its documented misuse value, both with the message.
pub const XSK_RS_ERR_PANIC: c_int = 4096;
// Linux's MAX_ERRNO is 4095.
const _: () = assert!(XSK_RS_ERR_PANIC > 4095);

/// What a call returns when a panic is caught inside it: for each return
/// type, the documented value that no successful call returns.
pub(crate) trait PanicValue {
    fn panic_value() -> Self;
}

impl PanicValue for c_int {
    fn panic_value() -> Self {
        -XSK_RS_ERR_PANIC
    }
}

/// The unsigned getters (`xsk_rs_umem_size`, ...): 0, their misuse value.
impl PanicValue for u32 {
    fn panic_value() -> Self {
        0
    }
}

impl PanicValue for u64 {
    fn panic_value() -> Self {
        0
    }
}

impl<T> PanicValue for *const T {
    fn panic_value() -> Self {
        std::ptr::null()
    }
}

impl<T> PanicValue for *mut T {
    fn panic_value() -> Self {
        std::ptr::null_mut()
    }
}

impl PanicValue for () {
    fn panic_value() -> Self {}
}

/// Bytes of a message, with its NUL; a longer one is cut (see [`set_last_error`]).
const LAST_ERROR_CAP: usize = 1024;

thread_local! {
    /// The thread's last message, NUL-terminated. C holds pointers into it
    /// across calls, so it is overwritten in place and never moved or freed
    /// while the thread lives: a const initialiser and a type without drop
    /// glue give a plain TLS slot with no destructor, alive from the
    /// thread's start to its very end, also while other thread-locals'
    /// destructors run.
    static LAST_ERROR: UnsafeCell<[u8; LAST_ERROR_CAP]> = const { UnsafeCell::new([0; LAST_ERROR_CAP]) };
}

/// Stores `msg` as this thread's last error, in place: a pointer C got from
/// `xsk_rs_last_error()` earlier reads the new message. A message longer than
/// the buffer is cut at a character boundary and ends in "..."; NUL bytes are
/// dropped. Never panics, also during thread teardown (`try_with`).
pub(crate) fn set_last_error(msg: impl AsRef<str>) {
    let msg = msg.as_ref();
    let room = LAST_ERROR_CAP - 1;
    let (keep, tail) = if msg.len() <= room {
        (msg, "")
    } else {
        let mut end = room - 3;
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        (&msg[..end], "...")
    };
    let _ = LAST_ERROR.try_with(|buf| {
        let dst = buf.get().cast::<u8>();
        let mut n = 0;
        for &b in keep.as_bytes().iter().chain(tail.as_bytes()).filter(|&&b| b != 0) {
            // SAFETY: n < room: keep and tail together are at most room bytes.
            // No Rust reference to the buffer exists; C only reads it, on this
            // thread, between calls.
            unsafe { dst.add(n).write(b) };
            n += 1;
        }
        // SAFETY: n <= room < LAST_ERROR_CAP.
        unsafe { dst.add(n).write(0) };
    });
}

pub(crate) fn record_panic(payload: Box<dyn std::any::Any + Send>) {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    set_last_error(format!("internal error (panic caught at the C boundary): {what}"));
}

/// Records `e` with the calling function's name and returns `-errno`.
pub(crate) fn fail(func: &str, e: Error) -> c_int {
    set_last_error(format!("{func}: {e}"));
    -e.errno()
}

/// Records "`func`: `what`" as a misuse and returns `value`: the one place
/// that refuses a call's arguments.
#[inline(always)]
pub(crate) fn refuse<T>(func: &str, what: &str, value: T) -> T {
    refused(func, what);
    value
}

/// The message of [`refuse`], kept out of line and cold: the hot-path ring
/// calls inline `refuse`, and were the formatting inlined with it, each of
/// them would set up its stack frame and save registers on every call, also
/// on the success path.
#[cold]
#[inline(never)]
fn refused(func: &str, what: &str) {
    set_last_error(format!("{func}: {what}"));
}

/// A misuse (NULL pointer, bad argument) of a call that returns an int: `-EINVAL`.
#[inline(always)]
pub(crate) fn misuse(func: &str, what: &str) -> c_int {
    refuse(func, what, -libc::EINVAL)
}

/// A NULL handle given to a call whose return type has no error channel.
pub(crate) fn null_handle<T>(func: &str, value: T) -> T {
    refuse(func, "handle is NULL", value)
}

/// 0 on success, else records the error and returns `-errno`.
pub(crate) fn status(func: &str, r: crate::Result<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => fail(func, e),
    }
}

/// Reads a NUL-terminated C string argument as UTF-8.
///
/// # Safety
/// `s` is NULL or a valid NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(func: &str, what: &str, s: *const c_char) -> Result<&'a str, c_int> {
    if s.is_null() {
        return Err(misuse(func, &format!("{what} is NULL")));
    }
    CStr::from_ptr(s).to_str().map_err(|_| misuse(func, &format!("{what} is not valid UTF-8")))
}

/// A config struct whose first field is its own size (libbpf's `sz` pattern):
/// older callers pass a shorter struct, newer ones a longer one.
///
/// The rule, for this version and every later one: fields are only appended;
/// the struct has no implicit padding (a `reserved` field fills any gap, so a
/// later version can append a `u64` or a pointer on an 8-byte boundary); and
/// `sz` is accepted when it is the end of one of the fields this version knows
/// (an older caller's struct: the fields it lacks keep their defaults), or
/// larger than this version's struct (a newer caller's `sizeof`, so a
/// multiple of its alignment, which is at least `size_t`'s 4) with every byte
/// past ours 0. A `sz` that cuts a field would mix the caller's bytes of that
/// field with the default's, so it is refused.
pub(crate) trait SizedConfig: Copy {
    /// The defaults, with `sz` set to this library's size of the struct.
    fn defaults() -> Self;
    /// `(offset, end)` of each field after `sz`, in order; written with
    /// [`config_fields!`], which checks at compile time that they tile the
    /// struct without padding.
    const FIELDS: &'static [(usize, usize)];
}

/// `impl SizedConfig`'s `FIELDS` for `T { field: type, ... }`: every field
/// after `sz`, in order. Pair it with
/// `const _: () = assert!(fields_tile(T::FIELDS, size_of::<T>()));`, which
/// fails the build when the list misses a field or a size, or the struct has
/// padding.
macro_rules! config_fields {
    ($t:ty { $($f:ident: $ft:ty),+ $(,)? }) => {
        const FIELDS: &'static [(usize, usize)] =
            &[$((std::mem::offset_of!($t, $f), std::mem::offset_of!($t, $f) + std::mem::size_of::<$ft>())),+];
    };
}
pub(crate) use config_fields;

/// The compile-time half of [`config_fields!`]: `FIELDS` start right after
/// `sz`, leave no gap, and end at `size`.
pub(crate) const fn fields_tile(fields: &[(usize, usize)], size: usize) -> bool {
    let mut at = std::mem::size_of::<usize>();
    let mut i = 0;
    while i < fields.len() {
        if fields[i].0 != at {
            return false;
        }
        at = fields[i].1;
        i += 1;
    }
    at == size
}

/// Largest `sz` accepted: a guard against garbage in an uninitialised struct.
const MAX_CONFIG_SZ: usize = 4096;

/// Every struct size is a multiple of this: a struct that starts with a
/// `size_t` is aligned to at least 4 bytes on every Linux target.
const CONFIG_SZ_ALIGN: usize = 4;

/// Whether `sz` can be the size of a caller's `T` under the rule of
/// [`SizedConfig`] (the zero tail of a longer one is checked by the caller).
/// A longer one is a later version's `sizeof`: only a multiple of
/// [`CONFIG_SZ_ALIGN`] can be one.
fn config_sz_ok<T: SizedConfig>(sz: usize) -> bool {
    T::FIELDS.iter().any(|&(_, end)| end == sz)
        || (std::mem::size_of::<T>() < sz && sz <= MAX_CONFIG_SZ && sz % CONFIG_SZ_ALIGN == 0)
}

/// Fills a caller's config of `sz` bytes (the caller's `sizeof`) with the
/// defaults: the fields both sides know get this library's defaults, bytes past
/// what this version knows are zeroed (their defaults in a later version), and
/// `sz` records the caller's size for `read_config`. Never writes past `sz`
/// bytes, so a program built against an older, shorter struct stays safe.
///
/// # Safety
/// `cfg` is NULL or points to at least `sz` writable bytes.
pub(crate) unsafe fn init_config<T: SizedConfig>(func: &str, cfg: *mut T, sz: usize) -> c_int {
    if cfg.is_null() {
        return misuse(func, "cfg is NULL");
    }
    let ours = std::mem::size_of::<T>();
    if !config_sz_ok::<T>(sz) {
        return misuse(
            func,
            &format!("sz {sz} is not a struct size (it cuts a field, or is too small or too large): pass sizeof(*cfg) ({ours} with this header)"),
        );
    }
    let defaults = T::defaults();
    let dst = cfg.cast::<u8>();
    std::ptr::copy_nonoverlapping((&defaults as *const T).cast::<u8>(), dst, sz.min(ours));
    if sz > ours {
        std::ptr::write_bytes(dst.add(ours), 0, sz - ours);
    }
    dst.cast::<usize>().write_unaligned(sz);
    0
}

/// Reads a caller's config: NULL gives the defaults; a shorter struct keeps the
/// defaults for the fields it lacks; a longer one must have zeros past what this
/// version knows.
///
/// # Safety
/// `cfg` is NULL or points to at least `cfg->sz` readable bytes.
pub(crate) unsafe fn read_config<T: SizedConfig>(func: &str, cfg: *const T) -> Result<T, c_int> {
    let mut out = T::defaults();
    if cfg.is_null() {
        return Ok(out);
    }
    let ours = std::mem::size_of::<T>();
    let sz = cfg.cast::<usize>().read_unaligned();
    if !config_sz_ok::<T>(sz) {
        return Err(misuse(
            func,
            &format!(
                "config sz {sz} is not a struct size (expected {ours}; it cuts a field, or is too small or too large); initialise it with the *_config_init function"
            ),
        ));
    }
    let bytes = std::slice::from_raw_parts(cfg.cast::<u8>(), sz);
    if sz > ours && bytes[ours..].iter().any(|&b| b != 0) {
        return Err(misuse(
            func,
            &format!("config is {sz} bytes with non-zero fields past the {ours} bytes this library version knows"),
        ));
    }
    let keep = sz.min(ours);
    let word = std::mem::size_of::<usize>();
    // Copy the caller's fields over the defaults, leaving our own sz in place.
    std::ptr::copy_nonoverlapping(bytes[word..keep].as_ptr(), (&mut out as *mut T).cast::<u8>().add(word), keep - word);
    Ok(out)
}

/// The version of the library running, e.g. `"0.4.0"`: the release it was
/// built from. `XSK_RS_VERSION_STRING` is the header's, the one a program
/// was compiled against. Static storage; never NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// This thread's most recent failure message, with context (e.g.
/// `"xsk_rs_socket_create: socket on veth0 queue 3: interface veth0: queue 3 out of range (...)"`).
/// Never NULL; `""` before any failure. Successful calls do not clear it.
///
/// The pointer is the calling thread's own buffer, owned by the library and
/// valid for as long as the thread lives: each failure on the thread
/// overwrites the message in place, so a pointer taken before a failing call
/// reads that call's message, as in
/// `printf("%d: %s\n", xsk_rs_fill_put(...), xsk_rs_last_error())` whatever
/// order the compiler evaluates the arguments in. Copy the text to keep it
/// past the thread's next failure. Messages are cut at 1023 bytes (at a
/// UTF-8 character boundary, ending in "..."). Any thread; it may also be
/// called from a thread-local destructor.
#[no_mangle]
pub extern "C" fn xsk_rs_last_error() -> *const c_char {
    ffi_guard!(c"".as_ptr(), {
        LAST_ERROR.try_with(|buf| buf.get().cast::<c_char>().cast_const()).unwrap_or(c"".as_ptr())
    })
}

/// A static description of an errno value or of `XSK_RS_ERR_PANIC`; `err` may
/// be negative (as the library returns it) or positive. Never NULL.
#[no_mangle]
pub extern "C" fn xsk_rs_strerror(err: c_int) -> *const c_char {
    let s: &'static CStr = match err.unsigned_abs() as c_int {
        0 => c"success",
        libc::EPERM => c"operation not permitted (needs CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN)",
        libc::ENOENT => c"no such entry",
        libc::EINTR => c"interrupted system call",
        libc::EIO => c"input/output error",
        libc::ENXIO => c"no such device or address",
        libc::E2BIG => c"argument list too long",
        libc::EBADF => c"bad file descriptor",
        libc::EBADFD => c"file descriptor in bad state (a handle inherited by fork: a child cannot use its parent's umems and sockets)",
        libc::EAGAIN => c"resource temporarily unavailable",
        libc::ENOMEM => c"out of memory",
        libc::EMFILE => c"too many open files in this process",
        libc::ENFILE => c"too many open files in the system",
        libc::EACCES => c"permission denied",
        libc::EFAULT => c"bad address",
        libc::EBUSY => c"device or resource busy",
        libc::EEXIST => c"already exists",
        libc::ENODEV => c"no such device",
        libc::EINVAL => c"invalid argument",
        libc::ENOSPC => c"no space left",
        libc::ERANGE => c"result out of range",
        libc::EOVERFLOW => c"value too large for the return type",
        libc::EMSGSIZE => c"message too long (a frame longer than the interface sends)",
        libc::ENOBUFS => c"no buffer space available",
        libc::EOPNOTSUPP => c"operation not supported",
        libc::ENETDOWN => c"network is down",
        libc::EAFNOSUPPORT => c"address family not supported (is AF_XDP enabled in the kernel?)",
        XSK_RS_ERR_PANIC => c"internal error: a panic inside libxsk_rs (a bug; see xsk_rs_last_error())",
        _ => c"unknown error",
    };
    s.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A struct as a later version might have it: a u64 appended after u32s.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Cfg {
        sz: usize,
        a: u32,
        b: u32,
        c: u64,
    }
    impl SizedConfig for Cfg {
        fn defaults() -> Self {
            Cfg { sz: std::mem::size_of::<Cfg>(), a: 1, b: 2, c: 3 }
        }
        config_fields!(Cfg { a: u32, b: u32, c: u64 });
    }
    const _: () = assert!(fields_tile(Cfg::FIELDS, std::mem::size_of::<Cfg>()));

    /// The fields of a struct the caller passes as raw words (sz, then u32s).
    fn words(w: &[u32]) -> *const Cfg {
        w.as_ptr().cast()
    }

    #[test]
    fn sized_config_null_short_exact_long() {
        unsafe {
            assert_eq!(read_config::<Cfg>("t", std::ptr::null()).unwrap(), Cfg::defaults());
            let exact = Cfg { sz: 24, a: 7, b: 9, c: 11 };
            assert_eq!(read_config("t", &exact).unwrap(), exact);
            // Older callers: one that knew only `a`, one that knew `a` and `b`.
            let short = Cfg { sz: 12, a: 7, b: 999, c: 999 };
            assert_eq!(read_config("t", &short).unwrap(), Cfg { sz: 24, a: 7, b: 2, c: 3 });
            let short = Cfg { sz: 16, a: 7, b: 8, c: 999 };
            assert_eq!(read_config("t", &short).unwrap(), Cfg { sz: 24, a: 7, b: 8, c: 3 });
            // A newer caller with extra zero bytes is fine, whatever their size; non-zero is not.
            let long: [u32; 8] = [28, 0, 5, 6, 9, 0, 0, 0xEE];
            assert_eq!(read_config::<Cfg>("t", words(&long)).unwrap(), Cfg { sz: 24, a: 5, b: 6, c: 9 });
            let long: [u32; 8] = [32, 0, 5, 6, 9, 0, 0, 0];
            assert_eq!(read_config::<Cfg>("t", words(&long)).unwrap(), Cfg { sz: 24, a: 5, b: 6, c: 9 });
            let long_bad: [u32; 8] = [32, 0, 5, 6, 9, 0, 0, 1];
            assert_eq!(read_config::<Cfg>("t", words(&long_bad)).unwrap_err(), -libc::EINVAL);
            assert!(last_error().contains("non-zero"), "{}", last_error());
            // Sizes that cut a field: inside a u32, and 4 bytes into the u64
            // (a multiple of 4, which the old every-field-is-a-u32 rule took);
            // longer sizes that are no struct's size (26, 30: not a multiple
            // of 4), or too large.
            for sz in [0, 8, 10, 13, 20, 23, 26, 30, MAX_CONFIG_SZ + 1, usize::MAX] {
                let cut = Cfg { sz, a: 7, b: 8, c: 9 };
                assert_eq!(read_config("t", &cut).unwrap_err(), -libc::EINVAL, "sz {sz}");
                assert!(last_error().contains(&format!("config sz {sz} ")), "{}", last_error());
            }
        }
    }

    /// init accepts the same sizes as read, writes no more than `sz` bytes,
    /// and zeroes what lies past this version's struct.
    #[test]
    fn sized_config_init_sizes() {
        for sz in [12, 16, 24, 28, 40] {
            let mut buf = [0xAAu8; 64];
            let p = buf.as_mut_ptr().cast::<Cfg>();
            assert_eq!(unsafe { init_config("t", p, sz) }, 0, "sz {sz}");
            assert!(buf[sz..].iter().all(|&b| b == 0xAA), "sz {sz}: wrote past the struct");
            assert!(buf[24.min(sz)..sz].iter().all(|&b| b == 0), "sz {sz}: tail not zeroed");
            let got = unsafe { read_config("t", p.cast_const()) }.unwrap();
            assert_eq!(got, Cfg::defaults(), "sz {sz}");
        }
        for sz in [0, 8, 11, 20, 22, 26, MAX_CONFIG_SZ + 1] {
            let mut buf = [0xAAu8; 64];
            let p = buf.as_mut_ptr().cast::<Cfg>();
            assert_eq!(unsafe { init_config("t", p, sz) }, -libc::EINVAL, "sz {sz}");
            assert!(buf.iter().all(|&b| b == 0xAA), "sz {sz}: a refused init wrote");
        }
    }

    fn last_error() -> String {
        unsafe { CStr::from_ptr(xsk_rs_last_error()) }.to_str().unwrap().to_string()
    }

    /// One buffer per thread, overwritten in place; long messages are cut at
    /// a character boundary, NULs dropped.
    #[test]
    fn last_error_is_a_thread_buffer() {
        let p = xsk_rs_last_error();
        set_last_error("first");
        assert_eq!(xsk_rs_last_error(), p);
        assert_eq!(unsafe { CStr::from_ptr(p) }, c"first");
        set_last_error("a\0b");
        assert_eq!(unsafe { CStr::from_ptr(p) }, c"ab");
        let fits = "x".repeat(LAST_ERROR_CAP - 1);
        set_last_error(&fits);
        assert_eq!(last_error(), fits);
        // 'é' is 2 bytes: at an odd offset the cut must step back one.
        let long = format!("y{}", "é".repeat(LAST_ERROR_CAP));
        set_last_error(&long);
        let got = last_error();
        assert!(got.len() < LAST_ERROR_CAP && got.ends_with("é..."), "{} bytes: {got}", got.len());
        assert!(long.starts_with(got.trim_end_matches("...")));
        let other = std::thread::spawn(|| (last_error(), xsk_rs_last_error() as usize)).join().unwrap();
        assert_eq!(other.0, "");
        assert_ne!(other.1, p as usize);
    }

    #[test]
    fn strerror_takes_either_sign() {
        unsafe {
            assert_eq!(CStr::from_ptr(xsk_rs_strerror(-libc::EBUSY)), c"device or resource busy");
            assert_eq!(CStr::from_ptr(xsk_rs_strerror(libc::EBUSY)), c"device or resource busy");
            assert_eq!(CStr::from_ptr(xsk_rs_strerror(i32::MIN)), c"unknown error");
        }
    }

    /// Every errno the library itself produces has a name, not "unknown
    /// error"; -EBADFD, the forked child's answer, says why.
    #[test]
    fn strerror_names_the_librarys_errnos() {
        for e in [
            libc::EINVAL,
            libc::ENODEV,
            libc::EBUSY,
            libc::EOPNOTSUPP,
            libc::EPERM,
            libc::EBADFD,
            libc::EMFILE,
            libc::ENFILE,
            libc::ENOMEM,
            libc::ENOENT,
            libc::EOVERFLOW,
            libc::ENXIO,
            libc::EMSGSIZE,
        ] {
            let s = unsafe { CStr::from_ptr(xsk_rs_strerror(-e)) }.to_str().unwrap();
            assert_ne!(s, "unknown error", "errno {e}");
        }
        let s = unsafe { CStr::from_ptr(xsk_rs_strerror(-libc::EBADFD)) }.to_str().unwrap();
        assert!(s.contains("fork"), "{s}");
    }

    /// A panic inside the guard of an int call gives -XSK_RS_ERR_PANIC (not
    /// an errno, which a kernel failure could also give), which strerror
    /// names, and leaves the panic's message; a pointer call gives NULL.
    #[test]
    fn panics_become_their_own_code() {
        extern "C" fn int_call() -> c_int {
            ffi_guard!({
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                0
            })
        }
        extern "C" fn ptr_call() -> *const u8 {
            ffi_guard!({
                if std::hint::black_box(true) {
                    panic!("bang {}", 7);
                }
                c"x".as_ptr().cast()
            })
        }
        let r = int_call();
        assert_eq!(r, -XSK_RS_ERR_PANIC);
        let msg = unsafe { CStr::from_ptr(xsk_rs_last_error()) }.to_str().unwrap().to_string();
        assert!(msg.contains("panic") && msg.contains("boom"), "{msg}");
        let s = unsafe { CStr::from_ptr(xsk_rs_strerror(r)) }.to_str().unwrap();
        assert!(s.contains("panic"), "{s}");
        assert_eq!(unsafe { CStr::from_ptr(xsk_rs_strerror(XSK_RS_ERR_PANIC)) }.to_str().unwrap(), s);
        assert!(ptr_call().is_null());
        let msg = unsafe { CStr::from_ptr(xsk_rs_last_error()) }.to_str().unwrap().to_string();
        assert!(msg.contains("bang 7"), "{msg}");
    }
}
