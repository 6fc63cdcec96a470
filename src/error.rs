//! The crate's error type and its mapping to errno values for the C ABI.
//!
//! Every variant carries the context a user needs ("bind veth0 queue 3: ...");
//! `Display` prints it, and [`Error::errno`] gives the one positive errno that the
//! C layer returns negated.

use std::io;

/// Errors from the AF_XDP core. Each variant maps to exactly one errno.
///
/// It converts into [`std::io::Error`] (keeping the errno and the message), so
/// `?` works in functions that return `io::Result`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value or argument that can never work (`EINVAL`).
    #[error("{0}")]
    InvalidArgument(String),
    /// The named interface does not exist in this network namespace (`ENODEV`).
    #[error("{0}")]
    NoDevice(String),
    /// A resource is held by someone else: a queue already bound, an interface
    /// already carrying another XDP program, a UMEM still used by sockets (`EBUSY`).
    #[error("{0}")]
    Busy(String),
    /// The kernel or driver cannot do what was asked, e.g. zero-copy on veth (`EOPNOTSUPP`).
    #[error("{0}")]
    NotSupported(String),
    /// Not allowed: missing CAP_NET_RAW / CAP_BPF / CAP_NET_ADMIN (`EPERM`).
    #[error("{0}")]
    PermissionDenied(String),
    /// Nothing to do now: no room to send, or nothing received (`EAGAIN`,
    /// kind `WouldBlock`). Only the calls that must hand out a buffer say
    /// this (`seek_and_peek`); the others answer "no room" with a count of 0.
    #[error("{0}")]
    WouldBlock(String),
    /// A packet longer than a frame or the interface can carry (`EMSGSIZE`).
    #[error("{0}")]
    TooLong(String),
    /// An object a forked child inherited from its parent, which only the
    /// parent can use (`EBADFD`; see the `fork` rule in the C header).
    #[error("{0}")]
    Inherited(String),
    /// Any other failed system call, with what was being done.
    #[error("{context}: {source}")]
    Os {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// The calling thread's `errno` (EIO if the platform reports none).
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The positive errno for this error (the C ABI returns it negated).
    pub fn errno(&self) -> i32 {
        match self {
            Error::InvalidArgument(_) => libc::EINVAL,
            Error::NoDevice(_) => libc::ENODEV,
            Error::Busy(_) => libc::EBUSY,
            Error::NotSupported(_) => libc::EOPNOTSUPP,
            Error::PermissionDenied(_) => libc::EPERM,
            Error::Inherited(_) => libc::EBADFD,
            Error::TooLong(_) => libc::EMSGSIZE,
            Error::WouldBlock(_) => libc::EAGAIN,
            Error::Os { source, .. } => source.raw_os_error().unwrap_or(libc::EIO),
        }
    }

    /// Wraps the calling thread's current `errno` with context.
    pub(crate) fn last_os(context: impl Into<String>) -> Error {
        Error::from_errno(context, errno())
    }

    /// Builds the variant that best describes `errno` for `context`, so that the
    /// common kernel answers get their own variant and message.
    pub(crate) fn from_errno(context: impl Into<String>, errno: i32) -> Error {
        let context = context.into();
        let text = io::Error::from_raw_os_error(errno);
        let msg = format!("{context}: {text}");
        match errno {
            libc::EINVAL => Error::InvalidArgument(msg),
            libc::ENODEV => Error::NoDevice(msg),
            libc::EBUSY => Error::Busy(msg),
            libc::EOPNOTSUPP => Error::NotSupported(msg),
            libc::EPERM => Error::PermissionDenied(format!(
                "{msg} (AF_XDP needs CAP_NET_RAW, and CAP_BPF with CAP_NET_ADMIN for the XDP program; \
                 Linux 5.10 and older also charge BPF maps and programs to RLIMIT_MEMLOCK)"
            )),
            _ => Error::Os { context, source: text },
        }
    }

    /// The same error with `ctx` in front of its message.
    pub(crate) fn context(self, ctx: &str) -> Error {
        let pre = |m: String| format!("{ctx}: {m}");
        match self {
            Error::InvalidArgument(m) => Error::InvalidArgument(pre(m)),
            Error::NoDevice(m) => Error::NoDevice(pre(m)),
            Error::Busy(m) => Error::Busy(pre(m)),
            Error::NotSupported(m) => Error::NotSupported(pre(m)),
            Error::PermissionDenied(m) => Error::PermissionDenied(pre(m)),
            Error::Inherited(m) => Error::Inherited(pre(m)),
            Error::TooLong(m) => Error::TooLong(pre(m)),
            Error::WouldBlock(m) => Error::WouldBlock(pre(m)),
            Error::Os { context, source } => Error::Os { context: pre(context), source },
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Error {
        Error::InvalidArgument(msg.into())
    }
}

impl From<Error> for io::Error {
    /// Keeps the message with its context, and the errno: the result's
    /// [`kind`](io::Error::kind) is the errno's, and [`Error::errno_of`] reads
    /// the errno back. (`raw_os_error()` is `None`: an `io::Error` that has it
    /// can carry no message but the errno's own text.)
    fn from(e: Error) -> io::Error {
        let kind = io::Error::from_raw_os_error(e.errno()).kind();
        io::Error::new(kind, e)
    }
}

impl Error {
    /// The errno an `io::Error` stands for: the one of the [`Error`] it was
    /// made from, or its `raw_os_error()`.
    pub fn errno_of(e: &io::Error) -> Option<i32> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()).map(Error::errno).or_else(|| e.raw_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_has_one_errno() {
        assert_eq!(Error::invalid("x").errno(), libc::EINVAL);
        assert_eq!(Error::NoDevice("x".into()).errno(), libc::ENODEV);
        assert_eq!(Error::Busy("x".into()).errno(), libc::EBUSY);
        assert_eq!(Error::NotSupported("x".into()).errno(), libc::EOPNOTSUPP);
        assert_eq!(Error::from_errno("op", libc::ENOMEM).errno(), libc::ENOMEM);
        assert_eq!(Error::from_errno("op", libc::EPERM).errno(), libc::EPERM);
    }

    #[test]
    fn context_goes_in_front_and_keeps_the_errno() {
        let e = Error::from_errno("bind", libc::ENOMEM).context("socket on x");
        assert_eq!((e.errno(), e.to_string().starts_with("socket on x: bind: ")), (libc::ENOMEM, true), "{e}");
        let e = Error::Busy("b".into()).context("c");
        assert_eq!((e.errno(), e.to_string()), (libc::EBUSY, "c: b".to_string()));
    }

    #[test]
    fn io_error_keeps_errno_kind_and_message() {
        let e: io::Error = Error::Busy("bind veth0 queue 3: busy".into()).into();
        assert_eq!(e.kind(), io::ErrorKind::ResourceBusy);
        assert_eq!(Error::errno_of(&e), Some(libc::EBUSY));
        assert_eq!(e.to_string(), "bind veth0 queue 3: busy");
        let e: io::Error = Error::from_errno("mmap", libc::ENOMEM).into();
        assert_eq!((Error::errno_of(&e), e.kind()), (Some(libc::ENOMEM), io::ErrorKind::OutOfMemory));
        assert_eq!(Error::errno_of(&io::Error::from_raw_os_error(libc::EAGAIN)), Some(libc::EAGAIN));
        let e: io::Error = Error::WouldBlock("no room".into()).into();
        assert_eq!((e.kind(), Error::errno_of(&e)), (io::ErrorKind::WouldBlock, Some(libc::EAGAIN)));
    }

    #[test]
    fn message_keeps_context() {
        let e = Error::from_errno("bind veth0 queue 3", libc::EBUSY);
        assert!(e.to_string().starts_with("bind veth0 queue 3: "), "{e}");
    }
}
