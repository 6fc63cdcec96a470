//! xsk_rs: AF_XDP sockets without libbpf.
pub mod error;
pub mod ffi;
pub mod netdev;
pub mod ring;
pub mod sys;
pub mod umem;

pub use error::{Error, Result};
