//! xsk_rs: AF_XDP sockets without libbpf.

// The UMEM and ring layouts, area sizes (usize) and mmap offsets are built and
// tested on 64-bit targets only; no 32-bit target is in CI.
#[cfg(not(target_pointer_width = "64"))]
compile_error!(
    "xsk_rs is 64-bit only: its UMEM and ring layouts, area sizes and mmap offsets are tested only on 64-bit targets"
);

mod diag;
pub mod error;
pub mod features;
pub mod ffi;
mod fork;
pub mod netdev;
pub mod packet;
pub mod ring;
pub mod socket;
pub mod sys;
pub mod umem;
pub mod xdp;

pub use error::{Error, Result};
pub use packet::{
    create_bi_socket, create_bi_socket_by_name, create_bi_socket_on, create_rx_socket, create_rx_socket_by_name,
    create_rx_socket_on, create_socket, create_socket_by_name, create_socket_on, create_tx_socket,
    create_tx_socket_by_name, create_tx_socket_on, Direction, PollWaitExt, RxBatch, RxPacket, RxSocket, SendExt,
    SharedUmem, Socket, TxOptions, TxSocket, XdpConfig,
};
#[cfg(feature = "tokio")]
pub use packet::{AsyncRxSocket, AsyncSocket, AsyncTxSocket};

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
