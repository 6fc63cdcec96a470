//! xsk_rs: AF_XDP sockets without libbpf.
pub mod error;
pub mod ffi;
mod fork;
pub mod netdev;
pub mod ring;
pub mod socket;
pub mod sys;
pub mod umem;
pub mod xdp;

pub use error::{Error, Result};
