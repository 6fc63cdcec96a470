//! xsk_rs: AF_XDP sockets without libbpf.
pub mod error;
pub mod ffi;
pub mod netdev;
pub mod sys;

pub use error::{Error, Result};
