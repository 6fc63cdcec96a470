//! xsk_rs: AF_XDP sockets without libbpf.
pub mod error;
pub mod netdev;
pub mod sys;
pub mod xdp;

pub use error::{Error, Result};
