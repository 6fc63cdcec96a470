//! One typed mapping per C handle (modelled on rustls-ffi's `Castable`): each
//! opaque handle type names the Rust type behind it once, here, and every
//! conversion between the two goes through the generic helpers below. A call
//! site never writes a cast, so handing a TX ring where the fill ring is
//! expected, or a socket where a UMEM is, does not compile:
//!
//! ```
//! use xsk_rs::ffi::handle::try_mut;
//! use xsk_rs::ffi::xsk_rs_fill;
//! use xsk_rs::ring::FillRing;
//!
//! fn ring<'a>(r: *mut xsk_rs_fill) -> Option<&'a mut FillRing> {
//!     unsafe { try_mut(r) }
//! }
//! ```
//!
//! ```compile_fail,E0308
//! use xsk_rs::ffi::handle::try_mut;
//! use xsk_rs::ffi::xsk_rs_tx;
//! use xsk_rs::ring::FillRing;
//!
//! fn ring<'a>(r: *mut xsk_rs_tx) -> Option<&'a mut FillRing> {
//!     unsafe { try_mut(r) } // a TX ring is a ProdRing<Desc>, not a FillRing
//! }
//! ```
//!
//! ```compile_fail,E0277
//! use xsk_rs::ffi::handle::try_mut;
//! use xsk_rs::ffi::xsk_rs_socket;
//! use xsk_rs::socket::Socket;
//!
//! // Other threads may use a socket at the same time: no &mut from C.
//! fn sock<'a>(s: *mut xsk_rs_socket) -> Option<&'a mut Socket> {
//!     unsafe { try_mut(s) }
//! }
//! ```
//!
//! ```compile_fail,E0308
//! use xsk_rs::ffi::handle::try_mut;
//! use xsk_rs::ffi::xsk_rs_txsock;
//! use xsk_rs::RxSocket;
//!
//! // The sending half is a TxSocket: it cannot be read as the receiving one.
//! fn half<'a>(p: *mut xsk_rs_txsock) -> Option<&'a mut RxSocket> {
//!     unsafe { try_mut(p) }
//! }
//! ```

use super::{
    xsk_rs_comp, xsk_rs_fill, xsk_rs_irq_defer, xsk_rs_prog, xsk_rs_rx, xsk_rs_rxsock, xsk_rs_socket, xsk_rs_tx,
    xsk_rs_txsock, xsk_rs_umem,
};
use crate::netdev::IrqDeferral;
use crate::packet::{RxSocket, TxSocket};
use crate::ring::{CompRing, FillRing, RxRing, TxRing};
use crate::socket::Socket;
use crate::umem::Umem;
use crate::xdp::Redirect;

/// A C handle type and the Rust type it points to.
pub trait Castable {
    /// How C gets the handle: [`OwnershipBox`] or [`OwnershipRef`].
    type Ownership;
    /// What the handle points to.
    type RustType;
}

/// The handle is a `Box` the library made with `*_create` and frees with
/// `*_destroy`.
pub struct OwnershipBox;

/// The handle is borrowed: it points inside an object the library owns (a
/// ring inside its UMEM or socket) and is never freed through it.
pub struct OwnershipRef;

/// A handle through which the C layer may take `&mut`: the header allows one
/// thread at a time on it (the rings, and the packet layer's socket halves),
/// so a call's `&mut` is exclusive. A UMEM and a socket are shared between
/// threads and get only `&`.
pub trait CastableMut: Castable {}

macro_rules! castable {
    ($($handle:ty => $rust:ty, $own:ty;)*) => {$(
        impl Castable for $handle {
            type Ownership = $own;
            type RustType = $rust;
        }
    )*};
}

castable! {
    xsk_rs_umem => Umem, OwnershipBox;
    xsk_rs_socket => Socket, OwnershipBox;
    xsk_rs_fill => FillRing, OwnershipRef;
    xsk_rs_comp => CompRing, OwnershipRef;
    xsk_rs_rx => RxRing, OwnershipRef;
    xsk_rs_tx => TxRing, OwnershipRef;
    xsk_rs_txsock => TxSocket, OwnershipBox;
    xsk_rs_rxsock => RxSocket, OwnershipBox;
    xsk_rs_prog => Redirect, OwnershipBox;
    xsk_rs_irq_defer => IrqDeferral, OwnershipBox;
}

impl CastableMut for xsk_rs_fill {}
impl CastableMut for xsk_rs_comp {}
impl CastableMut for xsk_rs_rx {}
impl CastableMut for xsk_rs_tx {}
impl CastableMut for xsk_rs_txsock {}
impl CastableMut for xsk_rs_rxsock {}
impl CastableMut for xsk_rs_irq_defer {}

/// The object behind a handle, or `None` for NULL.
///
/// # Safety
/// `p` is NULL or a live handle of type `C` (from this library, not yet
/// destroyed), and nothing takes `&mut` to the object during `'a`.
#[inline(always)]
pub unsafe fn try_ref<'a, C: Castable>(p: *const C) -> Option<&'a C::RustType> {
    p.cast::<C::RustType>().as_ref()
}

/// The object behind a ring or socket-half handle, exclusively, or `None`
/// for NULL.
///
/// # Safety
/// `p` is NULL or a live handle of type `C`, and no other thread uses that
/// object during `'a` (the header's one-thread-at-a-time rule for rings and
/// halves).
#[inline(always)]
pub unsafe fn try_mut<'a, C: CastableMut>(p: *mut C) -> Option<&'a mut C::RustType> {
    p.cast::<C::RustType>().as_mut()
}

/// Boxes a new object and returns its handle; C frees it with [`try_box`].
pub fn to_box<C: Castable<Ownership = OwnershipBox>>(v: C::RustType) -> *mut C {
    Box::into_raw(Box::new(v)).cast()
}

/// Takes back the box behind a handle from [`to_box`], or `None` for NULL.
///
/// # Safety
/// `p` is NULL or a live handle from [`to_box`] of type `C`, which C will not
/// use again.
pub unsafe fn try_box<C: Castable<Ownership = OwnershipBox>>(p: *mut C) -> Option<Box<C::RustType>> {
    (!p.is_null()).then(|| Box::from_raw(p.cast::<C::RustType>()))
}

/// The handle C gets for an object that lives inside another (a ring inside
/// its UMEM or socket); NULL stays NULL.
#[inline(always)]
pub fn to_ref<C: Castable<Ownership = OwnershipRef>>(p: *mut C::RustType) -> *mut C {
    p.cast()
}
