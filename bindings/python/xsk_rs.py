"""xsk_rs: AF_XDP sockets from Python, through libxsk_rs's C API (ctypes only).

    import xsk_rs
    umem_args, sock_args = xsk_rs.lending(1024)     # rings that can take all 1024 frames
    sock_args["tx_size"] = 0                        # receive only
    with xsk_rs.Umem(**umem_args) as umem, \\
            xsk_rs.Socket("eth0", 0, umem, **sock_args) as sock:
        umem.fill(range(0, umem.size, umem.frame_size))     # lend the kernel every frame
        while sock.poll(xsk_rs.POLLIN, 1000) > 0:           # until a second without packets
            for addr, length in sock.receive(64):
                data = umem.read(addr, length)              # a bytes copy of the packet
                print("received", len(data), "bytes")
                umem.fill([umem.frame_start(addr)])         # hand the frame back

(The test suite runs this very text, tests/reach/python.sh.)

The packet layer (TxSocket, RxSocket, BiSocket) has the library own the UMEM
and its frames, so no frame address reaches Python; see RxSocket for its
zero-copy batches.

Finding the library (first match wins; nothing is loaded until first use):
  1. load(path): an explicit path (or dlopen name), if called before first use.
  2. the environment variable XSK_RS_LIB, e.g. /opt/xsk/lib/libxsk_rs.so.0.
  3. ctypes.util.find_library("xsk_rs"). In Python 3.11 on Linux this asks, in
     turn: `ldconfig -p` (the ld.so cache: system directories and those in
     /etc/ld.so.conf once `ldconfig` has run); `gcc -Wl,-t -lxsk_rs` (gcc's
     library search path, including LIBRARY_PATH); `ld -t -L<dir> -lxsk_rs` for
     each directory of LD_LIBRARY_PATH. The last two need binutils (`ld`, and
     `objdump` to read the soname) and the development link libxsk_rs.so that
     `make install` puts next to libxsk_rs.so.0. It returns the soname
     "libxsk_rs.so.0", not a path, which dlopen() then looks up again: in
     LD_LIBRARY_PATH as it was when the process started (changing
     os.environ["LD_LIBRARY_PATH"] inside Python does not reach dlopen), the
     ld.so cache and the default directories.
  4. dlopen("libxsk_rs.so.0") directly, for systems where find_library cannot
     run (no gcc or binutils) but the dynamic loader would find the library.
An explicit path (1 or 2) that cannot be loaded is an error; there is no
fallback to the search. If nothing is found, OSError says how to fix it.

Errors: every failing library call raises OSError(errno, message), where
message is xsk_rs_last_error(), e.g. "xsk_rs_socket_create: interface nosuch:
no such device". That includes the ring calls, which return a count, or a
negative errno when the library refuses the call (fill, completed, receive,
transmit, *_needs_wakeup); a panic inside the library (a bug) raises
OSError(ERR_PANIC). The library keeps that text per OS thread. A ctypes call
releases the GIL but runs on the calling OS thread, and other Python threads
are other OS threads with their own message, so reading xsk_rs_last_error()
right after the failing call on the same thread gives this call's message.

Lifetimes: close() is idempotent and both classes are context managers. Close
sockets before their Umem: Umem.close() while a socket still uses it raises
OSError(EBUSY) and closes nothing (the library's rule; a Socket keeps a
reference to its Umem, so garbage collection never frees the Umem first). Any
call on a closed object raises OSError(EBADF). An object that is garbage
collected without close() is closed then, with a ResourceWarning.

The UMEM area is an anonymous mmap owned by Python (xsk_rs_umem_create_with_area),
so memoryviews from Umem.frame() can never point at unmapped memory: after
close() the kernel no longer uses the area, and the mapping lives on until the
last view is released.

Threads: as in C, one thread at a time per ring (fill/completion on a Umem,
RX/TX on a Socket); closing an object while another thread is inside a call
on it is not allowed.
"""

import array
import collections
import ctypes
import ctypes.util
import errno
import math
import mmap
import os
import select
import sys
import threading
import time
import warnings

__all__ = [
    "XDP_MODE_AUTO", "XDP_MODE_SKB", "XDP_MODE_DRV", "XDP_MODE_NONE",
    "BIND_COPY", "BIND_ZEROCOPY", "BIND_NEED_WAKEUP", "UMEM_UNALIGNED_CHUNKS", "UMEM_HUGE_PAGES",
    "UMEM_HUGE_PAGES_FALLBACK", "TX_BUDGET_MIN", "ERR_PANIC",
    "POLLIN", "POLLOUT", "Desc", "UmemConfig", "SocketConfig", "Stats",
    "Umem", "Socket", "load", "library", "version", "last_error", "strerror",
    "extract_addr", "extract_offset", "add_offset_to_addr", "lending",
    "XdpConfig", "Pkt", "Buf", "TxSocket", "RxSocket", "RxBatch", "BiSocket",
    "netdev_info", "kernel_features", "XDP_FEATURES", "XSK_FEATURES", "BIND_SG", "BIND_SHORT_FRAMES",
    "DESC_CONTD", "UMEM_TX_SW_CSUM", "TX_METADATA", "TX_SW_CSUM", "DESC_TX_METADATA", "TXMD_TIMESTAMP",
    "TXMD_CHECKSUM", "TXMD_LAUNCH_TIME", "IrqDeferral", "IrqDeferConfig", "IRQ_DEFER_VIA_AUTO",
    "IRQ_DEFER_VIA_NAPI_SET", "IRQ_DEFER_VIA_SYSFS",
]

SONAME = "libxsk_rs.so.0"
ENV_VAR = "XSK_RS_LIB"

# Constants of xsk_rs.h.
XDP_MODE_AUTO = 0
XDP_MODE_SKB = 1
XDP_MODE_DRV = 2
XDP_MODE_NONE = 3
BIND_COPY = 1 << 1
BIND_ZEROCOPY = 1 << 2
BIND_NEED_WAKEUP = 1 << 3
BIND_SG = 1 << 4             # multi-buffer (Linux 6.6): packets chained over frames
BIND_SHORT_FRAMES = 1 << 16  # accept RX frames shorter than the MTU (drops counted)
DESC_CONTD = 1               # Desc.options: the packet goes on in the next descriptor
TX_BUDGET_MIN = 32
ERR_PANIC = 4096  # -ERR_PANIC: a panic caught inside the library (a bug), never an errno
UMEM_UNALIGNED_CHUNKS = 1 << 0
# The C UMEM config's huge page flags (xsk_rs_umem_create's own area). Umem
# maps its area in Python and refuses them: huge pages come through the
# packet layer's huge_page=True (and huge_page_fallback=True).
UMEM_HUGE_PAGES = 1 << 16
UMEM_HUGE_PAGES_FALLBACK = 1 << 17
UMEM_TX_SW_CSUM = 1 << 1  # with tx_metadata_len: copy mode computes requested checksums in software
TX_METADATA = 1 << 0  # XdpConfig.tx_metadata: 24 bytes of TX metadata in front of every TX packet
TX_SW_CSUM = 1 << 1  # XdpConfig.tx_metadata: with TX_METADATA, XDP_UMEM_TX_SW_CSUM
DESC_TX_METADATA = 1 << 1  # Desc.options: the kernel reads the TX metadata (XDP_TX_METADATA)
TXMD_TIMESTAMP = 1 << 0  # TX metadata requests (XDP_TXMD_FLAGS_*)
TXMD_CHECKSUM = 1 << 1
TXMD_LAUNCH_TIME = 1 << 2
# xsk_rs_netdev_info's flag bits (XSK_RS_XDP_FEATURE_*, XSK_RS_XSK_FEATURE_*),
# by their netlink names, and its known bits and attachment states.
XDP_FEATURES = {"basic": 1 << 0, "redirect": 1 << 1, "ndo-xmit": 1 << 2, "xsk-zerocopy": 1 << 3,
                "hw-offload": 1 << 4, "rx-sg": 1 << 5, "ndo-xmit-sg": 1 << 6}
XSK_FEATURES = {"tx-timestamp": 1 << 0, "tx-checksum": 1 << 1, "tx-launch-time-fifo": 1 << 2}
_KNOWN_XDP_FEATURES, _KNOWN_ZC_MAX_SEGS, _KNOWN_XSK_FEATURES, _KNOWN_NAPI_IDS = 1, 2, 4, 8
_ATTACHED = {0: "none", 1: "drv", 2: "skb", 3: "hw", 4: "multi"}
POLLIN = select.POLLIN
POLLOUT = select.POLLOUT

# Unaligned mode: a ring address carries an offset into the chunk in bits 48-63.
_ADDR_MASK = (1 << 48) - 1


class Desc(ctypes.Structure):
    """struct xsk_rs_desc: one RX or TX descriptor."""
    _fields_ = [("addr", ctypes.c_uint64), ("len", ctypes.c_uint32), ("options", ctypes.c_uint32)]


class UmemConfig(ctypes.Structure):
    """struct xsk_rs_umem_config (starts with its own size, sz)."""
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("frame_count", ctypes.c_uint32),
        ("frame_size", ctypes.c_uint32),
        ("frame_headroom", ctypes.c_uint32),
        ("fill_size", ctypes.c_uint32),
        ("comp_size", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("tx_metadata_len", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


class SocketConfig(ctypes.Structure):
    """struct xsk_rs_socket_config (starts with its own size, sz)."""
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("rx_size", ctypes.c_uint32),
        ("tx_size", ctypes.c_uint32),
        ("bind_flags", ctypes.c_uint32),
        ("xdp_mode", ctypes.c_uint32),
        ("tx_budget", ctypes.c_uint32),
        ("busy_poll_usecs", ctypes.c_uint32),
        ("busy_poll_budget", ctypes.c_uint32),
        ("prefer_busy_poll", ctypes.c_uint32),
    ]


class _CStats(ctypes.Structure):
    """struct xsk_rs_stats."""
    _fields_ = [
        ("rx_dropped", ctypes.c_uint64),
        ("rx_invalid_descs", ctypes.c_uint64),
        ("tx_invalid_descs", ctypes.c_uint64),
        ("rx_ring_full", ctypes.c_uint64),
        ("rx_fill_ring_empty_descs", ctypes.c_uint64),
        ("tx_ring_empty_descs", ctypes.c_uint64),
    ]


class _NetdevInfo(ctypes.Structure):
    """struct xsk_rs_netdev_info (starts with its own size, sz)."""
    _fields_ = [("sz", ctypes.c_size_t)] + [(n, ctypes.c_uint32) for n in (
        "ifindex", "mtu", "rx_queues", "tx_queues", "max_queues", "known")] + [
        ("xdp_features", ctypes.c_uint64), ("xsk_features", ctypes.c_uint64)] + [
        (n, ctypes.c_uint32) for n in ("xdp_zc_max_segs", "xdp_attached", "skb_prog_id", "drv_prog_id",
                                       "hw_prog_id", "skb_prog_is_xsk_rs", "drv_prog_is_xsk_rs",
                                       "hw_prog_is_xsk_rs")] + [
        (n, ctypes.c_char * 16) for n in ("skb_prog_name", "drv_prog_name", "hw_prog_name")]


class XdpConfig(ctypes.Structure):
    """struct xsk_rs_xdp_config: how a packet-layer socket is made (starts
    with its own size, sz). The classes take its fields as keywords."""
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("rx_frames", ctypes.c_uint32),
        ("tx_frames", ctypes.c_uint32),
        ("frame_size", ctypes.c_uint32),
        ("frame_headroom", ctypes.c_uint32),
        ("rx_size", ctypes.c_uint32),
        ("tx_size", ctypes.c_uint32),
        ("fill_size", ctypes.c_uint32),
        ("comp_size", ctypes.c_uint32),
        ("xdp_mode", ctypes.c_uint32),
        ("zero_copy", ctypes.c_int32),
        ("need_wakeup", ctypes.c_int32),
        ("huge_page", ctypes.c_uint32),
        ("tx_budget", ctypes.c_uint32),
        ("huge_page_fallback", ctypes.c_uint32),
        ("busy_poll_usecs", ctypes.c_uint32),
        ("busy_poll_budget", ctypes.c_uint32),
        ("prefer_busy_poll", ctypes.c_uint32),
        ("tx_metadata", ctypes.c_uint32),
        ("multi_buffer", ctypes.c_uint32),
        ("short_frames", ctypes.c_uint32),
    ]


class Pkt(ctypes.Structure):
    """struct xsk_rs_pkt: a packet to send, or one received in place
    (options: XSK_RS_DESC_CONTD when a multi-buffer packet goes on in the
    next entry)."""
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_uint32), ("options", ctypes.c_uint32)]


class Buf(ctypes.Structure):
    """struct xsk_rs_buf: a frame to write (len is its capacity)."""
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_uint32)]


Stats = collections.namedtuple("Stats", [name for name, _ in _CStats._fields_])
Stats.__doc__ = "The kernel's XDP_STATISTICS counters of a socket (xsk_rs_stats)."


# Opaque handle types: a handle of the wrong kind is a ctypes.ArgumentError.
class _UmemH(ctypes.Structure):
    pass


class _SocketH(ctypes.Structure):
    pass


class _FillH(ctypes.Structure):
    pass


class _CompH(ctypes.Structure):
    pass


class _RxH(ctypes.Structure):
    pass


class _TxH(ctypes.Structure):
    pass


class _TxSockH(ctypes.Structure):
    pass


class _RxSockH(ctypes.Structure):
    pass


class _ProgH(ctypes.Structure):
    pass


class _IrqDeferH(ctypes.Structure):
    pass


class IrqDeferConfig(ctypes.Structure):
    """struct xsk_rs_irq_defer_config (starts with its own size, sz)."""
    _fields_ = [("sz", ctypes.c_size_t), ("set", ctypes.c_uint32), ("defer_hard_irqs", ctypes.c_uint32),
                ("gro_flush_timeout_ns", ctypes.c_uint64), ("irq_suspend_timeout_ns", ctypes.c_uint64),
                ("via", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


_P = ctypes.POINTER
_u32, _u64, _int = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int
_UMEM, _SOCK = _P(_UmemH), _P(_SocketH)
_FILL, _COMP, _RX, _TX = _P(_FillH), _P(_CompH), _P(_RxH), _P(_TxH)
_TXS, _RXS, _PROG = _P(_TxSockH), _P(_RxSockH), _P(_ProgH)
_IRQD = _P(_IrqDeferH)
_VP, _SIZE = ctypes.c_void_p, ctypes.c_size_t

# Every function of xsk_rs.h: (name, restype, argtypes), applied in one loop.
_FUNCS = [
    ("xsk_rs_version", ctypes.c_char_p, []),
    ("xsk_rs_last_error", ctypes.c_char_p, []),
    ("xsk_rs_strerror", ctypes.c_char_p, [_int]),
    ("xsk_rs_fill_reserve", _int, [_FILL, _u32, _P(_u32)]),
    ("xsk_rs_fill_addr", _P(_u64), [_FILL, _u32]),
    ("xsk_rs_fill_submit", _int, [_FILL, _u32]),
    ("xsk_rs_fill_needs_wakeup", _int, [_FILL]),
    ("xsk_rs_tx_reserve", _int, [_TX, _u32, _P(_u32)]),
    ("xsk_rs_tx_desc", _P(Desc), [_TX, _u32]),
    ("xsk_rs_tx_submit", _int, [_TX, _u32]),
    ("xsk_rs_tx_needs_wakeup", _int, [_TX]),
    ("xsk_rs_comp_peek", _int, [_COMP, _u32, _P(_u32)]),
    ("xsk_rs_comp_addr", _P(_u64), [_COMP, _u32]),
    ("xsk_rs_comp_release", _int, [_COMP, _u32]),
    ("xsk_rs_comp_cancel", _int, [_COMP, _u32]),
    ("xsk_rs_rx_peek", _int, [_RX, _u32, _P(_u32)]),
    ("xsk_rs_rx_peek_packets", _int, [_RX, _u32, _P(_u32)]),
    ("xsk_rs_desc_chain_len", _int, [_P(Desc), _u32]),
    ("xsk_rs_rx_desc", _P(Desc), [_RX, _u32]),
    ("xsk_rs_rx_release", _int, [_RX, _u32]),
    ("xsk_rs_rx_cancel", _int, [_RX, _u32]),
    ("xsk_rs_fill_put", _int, [_FILL, _P(_u64), _u32]),
    ("xsk_rs_tx_put", _int, [_TX, _P(Desc), _u32]),
    ("xsk_rs_tx_put_packets", _int, [_TX, _P(Desc), _u32]),
    ("xsk_rs_comp_take", _int, [_COMP, _P(_u64), _u32]),
    ("xsk_rs_rx_take", _int, [_RX, _P(Desc), _u32]),
    ("xsk_rs_fill_reserve_span", _int, [_FILL, _u32, _P(_P(_u64))]),
    ("xsk_rs_tx_reserve_span", _int, [_TX, _u32, _P(_P(Desc))]),
    ("xsk_rs_comp_peek_span", _int, [_COMP, _u32, _P(_P(_u64))]),
    ("xsk_rs_rx_peek_span", _int, [_RX, _u32, _P(_P(Desc))]),
    ("xsk_rs_fill_size", _u32, [_FILL]),
    ("xsk_rs_comp_size", _u32, [_COMP]),
    ("xsk_rs_rx_size", _u32, [_RX]),
    ("xsk_rs_tx_size", _u32, [_TX]),
    ("xsk_rs_tx_max_len", _u32, [_TX]),
    ("xsk_rs_fill_nb_free", _int, [_FILL, _u32]),
    ("xsk_rs_tx_nb_free", _int, [_TX, _u32]),
    ("xsk_rs_comp_nb_avail", _int, [_COMP, _u32]),
    ("xsk_rs_rx_nb_avail", _int, [_RX, _u32]),
    ("xsk_rs_socket_config_init", _int, [ctypes.c_void_p, ctypes.c_size_t]),
    ("xsk_rs_socket_create", _int, [_P(_SOCK), ctypes.c_char_p, _u32, _UMEM, _P(SocketConfig)]),
    ("xsk_rs_socket_destroy", None, [_SOCK]),
    ("xsk_rs_socket_rx", _RX, [_SOCK]),
    ("xsk_rs_socket_tx", _TX, [_SOCK]),
    ("xsk_rs_socket_fd", _int, [_SOCK]),
    ("xsk_rs_socket_kick", _int, [_SOCK]),
    ("xsk_rs_socket_poll", _int, [_SOCK, ctypes.c_short, _int]),
    ("xsk_rs_socket_stats", _int, [_SOCK, _P(_CStats)]),
    ("xsk_rs_socket_is_zerocopy", _int, [_SOCK]),
    ("xsk_rs_socket_xdp_mode", _int, [_SOCK]),
    ("xsk_rs_socket_update_xskmap", _int, [_SOCK, _int]),
    ("xsk_rs_socket_queue_id", _int, [_SOCK]),
    ("xsk_rs_socket_ifindex", _int, [_SOCK]),
    ("xsk_rs_socket_xskmap_fd", _int, [_SOCK]),
    ("xsk_rs_umem_config_init", _int, [ctypes.c_void_p, ctypes.c_size_t]),
    ("xsk_rs_config_lend", _int, [_P(UmemConfig), _P(SocketConfig), _u32]),
    ("xsk_rs_umem_create", _int, [_P(_UMEM), _P(UmemConfig)]),
    ("xsk_rs_umem_create_with_area", _int, [_P(_UMEM), ctypes.c_void_p, _u64, _P(UmemConfig)]),
    ("xsk_rs_umem_destroy", _int, [_UMEM]),
    ("xsk_rs_umem_area", ctypes.c_void_p, [_UMEM]),
    ("xsk_rs_umem_size", _u64, [_UMEM]),
    ("xsk_rs_umem_frame_size", _u32, [_UMEM]),
    ("xsk_rs_umem_frame_count", _u32, [_UMEM]),
    ("xsk_rs_umem_frame_headroom", _int, [_UMEM]),
    ("xsk_rs_umem_frame_start", _u64, [_UMEM, _u64]),
    ("xsk_rs_umem_extract_addr", _u64, [_u64]),
    ("xsk_rs_umem_extract_offset", _u64, [_u64]),
    ("xsk_rs_umem_add_offset_to_addr", _u64, [_u64]),
    ("xsk_rs_umem_data", ctypes.c_void_p, [_UMEM, _u64]),
    ("xsk_rs_umem_fd", _int, [_UMEM]),
    ("xsk_rs_umem_fill", _FILL, [_UMEM]),
    ("xsk_rs_umem_comp", _COMP, [_UMEM]),
    # For code that runs the ring protocol itself and for one UMEM on
    # several queues (the module itself uses none of these).
    ("xsk_rs_fill_layout", _int, [_FILL, _VP]),
    ("xsk_rs_comp_layout", _int, [_COMP, _VP]),
    ("xsk_rs_rx_layout", _int, [_RX, _VP]),
    ("xsk_rs_tx_layout", _int, [_TX, _VP]),
    ("xsk_rs_socket_fill", _FILL, [_SOCK]),
    ("xsk_rs_socket_comp", _COMP, [_SOCK]),
    ("xsk_rs_umem_create_with_fd", _int, [_P(_UMEM), _int, ctypes.c_void_p, _u64, _P(UmemConfig)]),
    ("xsk_rs_prog_create", _int, [_P(_PROG), ctypes.c_char_p, _int]),
    ("xsk_rs_prog_find", _int, [_P(_PROG), _int]),
    ("xsk_rs_prog_xskmap_fd", _int, [_PROG]),
    ("xsk_rs_prog_ifindex", _int, [_PROG]),
    ("xsk_rs_prog_detach", _int, [_PROG]),
    ("xsk_rs_prog_destroy", None, [_PROG]),
    ("xsk_rs_netdev_info_init", _int, [_P(_NetdevInfo), _SIZE]),
    ("xsk_rs_netdev_query", _int, [ctypes.c_char_p, _P(_NetdevInfo)]),
    ("xsk_rs_netdev_queue_napi_id", _int, [ctypes.c_char_p, _u32, _int, _P(_u32)]),
    ("xsk_rs_netdev_napi_ids", _int, [ctypes.c_char_p, _P(_u32), _u32, _P(_u32)]),
    ("xsk_rs_kernel_features", _int, [_P(ctypes.c_uint64), _P(ctypes.c_uint64)]),
    ("xsk_rs_feature_name", ctypes.c_char_p, [ctypes.c_uint64]),
    ("xsk_rs_feature_since", ctypes.c_char_p, [ctypes.c_uint64]),
    ("xsk_rs_irq_defer_config_init", _int, [_P(IrqDeferConfig), _SIZE]),
    ("xsk_rs_irq_defer_create", _int, [ctypes.c_char_p, _P(IrqDeferConfig), _P(_IRQD)]),
    ("xsk_rs_irq_defer_via", _int, [_IRQD]),
    ("xsk_rs_irq_defer_napi_count", _int, [_IRQD]),
    ("xsk_rs_irq_defer_restore", _int, [_IRQD]),
    ("xsk_rs_irq_defer_destroy", None, [_IRQD]),
    # The packet layer. Buffers the module passes as addresses (packet data,
    # arrays of lengths) are declared void *; ctypes then takes bytes, ctypes
    # arrays and plain ints for them with the least work per call.
    ("xsk_rs_xdp_config_init", _int, [_VP, _SIZE]),
    ("xsk_rs_txsock_create", _int, [ctypes.c_char_p, _u32, _P(XdpConfig), _P(_TXS)]),
    ("xsk_rs_rxsock_create", _int, [ctypes.c_char_p, _u32, _P(XdpConfig), _P(_RXS)]),
    ("xsk_rs_bisock_create", _int, [ctypes.c_char_p, _u32, _P(XdpConfig), _P(_TXS), _P(_RXS)]),
    ("xsk_rs_txsock_destroy", None, [_TXS]),
    ("xsk_rs_rxsock_destroy", None, [_RXS]),
    ("xsk_rs_txsock_seek", _int, [_TXS, _u32]),
    ("xsk_rs_txsock_peek", _int, [_TXS, _u32, _u32, _P(_VP)]),
    ("xsk_rs_txsock_commit", _int, [_TXS, _u32]),
    ("xsk_rs_txsock_kick", _int, [_TXS]),
    ("xsk_rs_txsock_alloc", _int, [_TXS, _P(Buf), _u32]),
    ("xsk_rs_txsock_submit", _int, [_TXS, _VP, _u32]),
    ("xsk_rs_txsock_send", _int, [_TXS, _VP, _u32]),
    ("xsk_rs_txsock_send_opts", _int, [_TXS, _VP, _u32, _u64, ctypes.c_uint16, ctypes.c_uint16, _u64]),
    ("xsk_rs_txsock_tx_offloads", _int, [_TXS]),
    ("xsk_rs_txsock_timestamps", _int, [_TXS, _P(_u64), _u32]),
    ("xsk_rs_umem_tx_metadata_len", _int, [_UMEM]),
    ("xsk_rs_tx_metadata_request", _int, [_UMEM, _u64, _u64, ctypes.c_uint16, ctypes.c_uint16, _u64]),
    ("xsk_rs_tx_metadata_timestamp", _int, [_UMEM, _u64, _P(_u64)]),
    ("xsk_rs_txsock_send_batch", _int, [_TXS, _P(Pkt), _u32]),
    ("xsk_rs_txsock_send_packed", _int, [_TXS, _VP, _SIZE, _VP, _u32]),
    ("xsk_rs_txsock_wait", _int, [_TXS, _int]),
    ("xsk_rs_rxsock_seek", _int, [_RXS, _u32]),
    ("xsk_rs_rxsock_peek", _int, [_RXS, _u32, _P(Pkt)]),
    ("xsk_rs_rxsock_commit", _int, [_RXS, _u32]),
    ("xsk_rs_rxsock_recv_batch", _int, [_RXS, _P(Pkt), _u32]),
    ("xsk_rs_rxsock_release", _int, [_RXS, _u32]),
    ("xsk_rs_rxsock_recv", _int, [_RXS, _VP, _u32]),
    ("xsk_rs_rxsock_recv_packet", _int, [_RXS, _P(Pkt), _u32]),
    ("xsk_rs_rxsock_recv_packed", _int, [_RXS, _VP, _SIZE, _VP, _u32]),
    ("xsk_rs_rxsock_wait", _int, [_RXS, _int]),
    ("xsk_rs_txsock_fd", _int, [_TXS]),
    ("xsk_rs_rxsock_fd", _int, [_RXS]),
    ("xsk_rs_txsock_stats", _int, [_TXS, _P(_CStats)]),
    ("xsk_rs_rxsock_stats", _int, [_RXS, _P(_CStats)]),
    ("xsk_rs_txsock_free_frames", _int, [_TXS]),
    ("xsk_rs_txsock_reserved_frames", _int, [_TXS]),
    ("xsk_rs_txsock_in_flight_frames", _int, [_TXS]),
    ("xsk_rs_txsock_max_len", _int, [_TXS]),
    ("xsk_rs_rxsock_free_frames", _int, [_RXS]),
    ("xsk_rs_rxsock_in_flight_frames", _int, [_RXS]),
    ("xsk_rs_rxsock_held_frames", _int, [_RXS]),
    ("xsk_rs_txsock_xdp_mode", _int, [_TXS]),
    ("xsk_rs_rxsock_xdp_mode", _int, [_RXS]),
    ("xsk_rs_txsock_is_zerocopy", _int, [_TXS]),
    ("xsk_rs_rxsock_is_zerocopy", _int, [_RXS]),
]

_lib = None
_lib_origin = None
_lib_lock = threading.Lock()

_HOW_TO_FIX = (
    "set XSK_RS_LIB=/path/to/lib/libxsk_rs.so.0, or call xsk_rs.load(path) before "
    "using the module, or install xsk_rs where the dynamic loader finds it "
    "(make install PREFIX=/usr/local, then ldconfig), or start Python with "
    "LD_LIBRARY_PATH=/path/to/lib"
)


def _open(name):
    lib = ctypes.CDLL(name)
    for fname, restype, argtypes in _FUNCS:
        fn = getattr(lib, fname)  # AttributeError: not this library, or too old
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def load(path=None):
    """Loads libxsk_rs and returns the ctypes.CDLL.

    With path, loads exactly that file (or dlopen name). Without it, uses
    XSK_RS_LIB, else ctypes.util.find_library("xsk_rs"), else dlopen of the
    soname. Once a library is loaded, load() returns it; asking for a different
    path then raises OSError(EEXIST).
    """
    global _lib, _lib_origin
    with _lib_lock:
        if _lib is not None:
            if path is not None and path != _lib_origin[1]:
                raise OSError(errno.EEXIST, "xsk_rs: library already loaded from %s (%s); "
                              "call load(path) before anything else uses the module"
                              % (_lib_origin[1], _lib_origin[0]))
            return _lib
        explicit = None
        if path is not None:
            explicit = ("load()", os.fspath(path))
        elif os.environ.get(ENV_VAR):
            explicit = (ENV_VAR, os.environ[ENV_VAR])
        if explicit is not None:
            try:
                lib = _open(explicit[1])
            except (OSError, AttributeError) as e:
                raise OSError(errno.ENOENT, "xsk_rs: cannot load libxsk_rs from %s=%s: %s"
                              % (explicit[0], explicit[1], e)) from None
            _lib, _lib_origin = lib, explicit
            return lib
        tried = []
        found = ctypes.util.find_library("xsk_rs")
        candidates = [("find_library", found)] if found else []
        tried.append("find_library('xsk_rs') -> %s" % found)
        if found != SONAME:
            candidates.append(("soname", SONAME))
        for origin, name in candidates:
            try:
                lib = _open(name)
            except (OSError, AttributeError) as e:
                tried.append("%s %s: %s" % (origin, name, e))
                continue
            _lib, _lib_origin = lib, (origin, name)
            return lib
        raise OSError(errno.ENOENT, "xsk_rs: libxsk_rs not found (%s). To fix: %s"
                      % ("; ".join(tried), _HOW_TO_FIX))


def library():
    """(route, name) of the loaded library, route being "load()", "XSK_RS_LIB",
    "find_library" or "soname"; loads it first if needed."""
    load()
    return _lib_origin


def _L():
    return _lib if _lib is not None else load()


def version():
    """The library version, e.g. "0.1.0"."""
    return _L().xsk_rs_version().decode()


def last_error():
    """This OS thread's last failure message from the library ("" if none)."""
    return _L().xsk_rs_last_error().decode(errors="replace")


def strerror(err):
    """The library's description of an errno value (negative or positive)."""
    return _L().xsk_rs_strerror(err).decode(errors="replace")


def extract_addr(addr):
    """Unaligned mode: the base address a ring address carries in its low 48
    bits (xsk_rs_umem_extract_addr)."""
    return _L().xsk_rs_umem_extract_addr(addr)


def extract_offset(addr):
    """Unaligned mode: the offset a ring address carries in its top 16 bits
    (xsk_rs_umem_extract_offset)."""
    return _L().xsk_rs_umem_extract_offset(addr)


def add_offset_to_addr(addr):
    """Unaligned mode: the offset into the UMEM area a ring address refers
    to, its base plus its offset (xsk_rs_umem_add_offset_to_addr)."""
    return _L().xsk_rs_umem_add_offset_to_addr(addr)


def lending(frames):
    """Ring sizes that let `frames` frames all be lent to the kernel at once
    (xsk_rs_config_lend), by the lending rule of xsk_rs.h (on
    xsk_rs_umem_config.fill_size: lend at most half the fill ring).

    Returns (umem_args, socket_args), two dicts for Umem(**umem_args) and
    Socket(ifname, queue, umem, **socket_args): frame_count=frames, fill_size
    twice frames and comp_size frames; rx_size and tx_size frames; each ring
    rounded up to a power of two. Add other arguments as you like (e.g.
    tx_size=0 for a receive-only socket). The defaults are lending(4096)'s.
    Raises OSError(EINVAL) for 0 frames or more than 2**29."""
    if not isinstance(frames, int) or not 0 <= frames < 1 << 32:
        raise OSError(errno.EINVAL, "xsk_rs: lending: frames must be an int from 1 to 2**29, not %r" % (frames,))
    lib = _L()
    u = _config(UmemConfig, lib.xsk_rs_umem_config_init, {})
    s = _config(SocketConfig, lib.xsk_rs_socket_config_init, {})
    _check(lib.xsk_rs_config_lend(ctypes.byref(u), ctypes.byref(s), frames))
    return (dict(frame_count=u.frame_count, fill_size=u.fill_size, comp_size=u.comp_size),
            dict(rx_size=s.rx_size, tx_size=s.tx_size))


def kernel_features():
    """What the running kernel's AF_XDP and XDP can do, probed once per
    process (xsk_rs_kernel_features): {name: (available, first release)},
    e.g. {"multi-buffer AF_XDP (XDP_USE_SG)": (True, "6.6"), ...};
    available is None for a feature whose probe could not run (no
    CAP_NET_RAW for an AF_XDP socket, say; last_error() says why)."""
    lib = _L()
    bits, unknown = ctypes.c_uint64(), ctypes.c_uint64()
    _check(lib.xsk_rs_kernel_features(ctypes.byref(bits), ctypes.byref(unknown)))
    out = {}
    for i in range(64):
        name = lib.xsk_rs_feature_name(1 << i)
        if name is not None:
            have = None if unknown.value >> i & 1 else bool(bits.value >> i & 1)
            out[name.decode()] = (have, lib.xsk_rs_feature_since(1 << i).decode())
    return out


def netdev_info(name):
    """What interface `name` offers AF_XDP (xsk_rs_netdev_query), asked in this
    OS thread's network namespace, as a dict:

      ifindex, mtu, rx_queues, tx_queues, max_queues: ints;
      xdp_features, xsk_features: sets of netlink names ("basic", "redirect",
        "xsk-zerocopy", ...; see XDP_FEATURES, XSK_FEATURES), or None when the
        kernel does not say (netdev netlink came in Linux 6.3, xsk-features in 6.8);
      xdp_zc_max_segs: int, or None (Linux 6.6; reported for zero-copy devices only);
      rx_napi_ids, tx_napi_ids: the NAPI id of each queue (0: none), and napi_ids:
        every NAPI instance of the device; None before Linux 6.8;
      xdp_attached: "none", "skb", "drv", "hw" or "multi";
      programs: {"skb"|"drv"|"hw": {"id": int, "name": str, "xsk_rs": bool}} for
        each mode with a program ("name" is "" when it cannot be read; "xsk_rs"
        says it is the library's built-in program).

    Raises OSError (ENODEV for no such interface here)."""
    lib = _L()
    bname = name.encode() if isinstance(name, str) else name
    info = _NetdevInfo()
    _check(lib.xsk_rs_netdev_info_init(ctypes.byref(info), ctypes.sizeof(info)))
    _check(lib.xsk_rs_netdev_query(bname, ctypes.byref(info)))
    known = info.known

    def flags(value, table, bit):
        return {n for n, b in table.items() if value & b} if known & bit else None

    out = dict(ifindex=info.ifindex, mtu=info.mtu, rx_queues=info.rx_queues, tx_queues=info.tx_queues,
               max_queues=info.max_queues,
               xdp_features=flags(info.xdp_features, XDP_FEATURES, _KNOWN_XDP_FEATURES),
               xsk_features=flags(info.xsk_features, XSK_FEATURES, _KNOWN_XSK_FEATURES),
               xdp_zc_max_segs=info.xdp_zc_max_segs if known & _KNOWN_ZC_MAX_SEGS else None,
               xdp_attached=_ATTACHED.get(info.xdp_attached, str(info.xdp_attached)),
               programs={}, rx_napi_ids=None, tx_napi_ids=None, napi_ids=None)
    for mode in ("skb", "drv", "hw"):
        pid = getattr(info, mode + "_prog_id")
        if pid:
            out["programs"][mode] = dict(id=pid, name=getattr(info, mode + "_prog_name").decode(errors="replace"),
                                         xsk_rs=bool(getattr(info, mode + "_prog_is_xsk_rs")))
    if known & _KNOWN_NAPI_IDS:
        one = ctypes.c_uint32()
        for key, count, is_tx in (("rx_napi_ids", info.rx_queues, 0), ("tx_napi_ids", info.tx_queues, 1)):
            ids = []
            for q in range(count):
                _check(lib.xsk_rs_netdev_queue_napi_id(bname, q, is_tx, ctypes.byref(one)))
                ids.append(one.value)
            out[key] = ids
        n, cap = ctypes.c_uint32(), 8
        while True:
            arr = (ctypes.c_uint32 * cap)()
            _check(lib.xsk_rs_netdev_napi_ids(bname, arr, cap, ctypes.byref(n)))
            if n.value <= cap:
                out["napi_ids"] = list(arr[:n.value])
                break
            cap = n.value
    return out


def _check(ret):
    """Raises OSError for a negative errno return; returns ret otherwise."""
    if ret < 0:
        raise OSError(-ret, last_error())
    return ret


def _check_ptr(ptr, what):
    if not ptr:
        raise OSError(errno.EINVAL, last_error() or "xsk_rs: %s returned NULL" % what)
    return ptr


def _config(cls, init, overrides):
    """A config struct filled by the library's *_config_init, then overridden.

    init is given our size of the struct and writes no more than that; a
    library whose struct is longer keeps its defaults for the fields we lack."""
    cfg = cls()
    _check(init(ctypes.byref(cfg), ctypes.sizeof(cls)))
    for name, value in overrides.items():
        if value is not None:
            setattr(cfg, name, value)
    return cfg


def _closed(what):
    return OSError(errno.EBADF, "xsk_rs: %s is closed" % what)


class _Closing:
    """`with` and close-on-collect for a handle owner: close() on leaving the
    block, and a ResourceWarning (then close()) for one never closed.
    _QUIET names what a collected object's close() may raise and is then
    left to the last reference (a frame view, a socket in a reference cycle)."""

    _QUIET = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            warnings.warn("unclosed %r" % self, ResourceWarning, source=self)
            try:
                self.close()
            except self._QUIET:
                pass


IRQ_DEFER_VIA_AUTO, IRQ_DEFER_VIA_NAPI_SET, IRQ_DEFER_VIA_SYSFS = 0, 1, 2
_IRQ_DEFER_SET = {"defer_hard_irqs": 1 << 0, "gro_flush_timeout_ns": 1 << 1, "irq_suspend_timeout_ns": 1 << 2}


class IrqDeferral(_Closing):
    """A device's IRQ deferral (xsk_rs_irq_defer): sets the values given (None:
    left as they are) on interface `ifname` of this OS thread's network
    namespace, and puts the previous ones back on close() (or restore()):

      defer_hard_irqs: empty NAPI polls before the device's interrupt is re-armed;
      gro_flush_timeout_ns: how long a deferred NAPI waits for a busy poll
        before softirq runs it;
      irq_suspend_timeout_ns: Linux 6.13, per-NAPI configuration only;
      via: IRQ_DEFER_VIA_AUTO (netdev napi-set on 6.13+, else the sysfs files
        where /sys shows this namespace), _NAPI_SET or _SYSFS.

    On veth the NAPI instances exist only while XDP runs in drv mode: create
    this after the socket. A process killed with SIGKILL cannot restore.
    Raises OSError (EINVAL, ENODEV, ENOENT: no NAPI instance, EPERM,
    EOPNOTSUPP with a message naming both ways)."""

    def __init__(self, ifname, defer_hard_irqs=None, gro_flush_timeout_ns=None, irq_suspend_timeout_ns=None,
                 via=IRQ_DEFER_VIA_AUTO):
        lib = _L()
        self._h = None
        values = dict(defer_hard_irqs=defer_hard_irqs, gro_flush_timeout_ns=gro_flush_timeout_ns,
                      irq_suspend_timeout_ns=irq_suspend_timeout_ns)
        cfg = _config(IrqDeferConfig, lib.xsk_rs_irq_defer_config_init, dict(values, via=via))
        cfg.set = sum(bit for name, bit in _IRQ_DEFER_SET.items() if values[name] is not None)
        h = _IRQD()
        bname = ifname.encode() if isinstance(ifname, str) else ifname
        _check(lib.xsk_rs_irq_defer_create(bname, ctypes.byref(cfg), ctypes.byref(h)))
        self._h, self.ifname = h, ifname

    def _handle(self):
        if self._h is None:
            raise _closed("IrqDeferral")
        return self._h

    @property
    def via(self):
        """IRQ_DEFER_VIA_NAPI_SET or IRQ_DEFER_VIA_SYSFS."""
        return _check(_L().xsk_rs_irq_defer_via(self._handle()))

    @property
    def napi_count(self):
        """The NAPI instances set (0 for the sysfs way, which sets the device)."""
        return _check(_L().xsk_rs_irq_defer_napi_count(self._handle()))

    def restore(self):
        """Puts the previous values back now (later calls do nothing)."""
        _check(_L().xsk_rs_irq_defer_restore(self._handle()))

    def close(self):
        """Restores (unless restore() did; failures are not reported) and frees."""
        if self._h is not None:
            h, self._h = self._h, None
            _L().xsk_rs_irq_defer_destroy(h)

    def __repr__(self):
        return "IrqDeferral(%r%s)" % (getattr(self, "ifname", "?"), "" if self._h is not None else ", closed")


class Umem(_Closing):
    """A UMEM: a packet buffer area of frame_count * frame_size bytes, with its
    fill and completion rings. Arguments left as None keep the library's
    defaults (xsk_rs_umem_config_init: 4096 frames of 4096 bytes, no headroom,
    a fill ring of 8192 and a completion ring of 4096, no flags: every frame
    can be lent at once). Lend the kernel at most half fill_size frames at
    once; lending(frames) sizes the rings for you."""

    def __init__(self, frame_count=None, frame_size=None, frame_headroom=None,
                 fill_size=None, comp_size=None, flags=None, tx_metadata_len=None):
        self._h = None
        lib = _L()
        cfg = _config(UmemConfig, lib.xsk_rs_umem_config_init, dict(
            frame_count=frame_count, frame_size=frame_size, frame_headroom=frame_headroom,
            fill_size=fill_size, comp_size=comp_size, flags=flags, tx_metadata_len=tx_metadata_len))
        if cfg.frame_count == 0 or cfg.frame_size == 0:
            raise OSError(errno.EINVAL, "xsk_rs: Umem: frame_count and frame_size must be > 0")
        if cfg.flags & (UMEM_HUGE_PAGES | UMEM_HUGE_PAGES_FALLBACK):
            raise OSError(errno.EINVAL, "xsk_rs: Umem: UMEM_HUGE_PAGES is for an area the library maps "
                          "(xsk_rs_umem_create); Umem maps its own: use TxSocket/RxSocket/BiSocket(huge_page=True)")
        size = cfg.frame_count * cfg.frame_size
        page = mmap.PAGESIZE
        area = mmap.mmap(-1, (size + page - 1) // page * page,
                         flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
        # The address of the area; the temporary ctypes object's export on
        # the mmap ends with it. self._area keeps the mapping alive.
        anchor = ctypes.c_char.from_buffer(area)
        base = ctypes.addressof(anchor)
        del anchor
        h = _UMEM()
        try:
            _check(lib.xsk_rs_umem_create_with_area(ctypes.byref(h), base, len(area), ctypes.byref(cfg)))
        except BaseException:
            area.close()
            raise
        self._lib = lib
        self._area = area
        self._view = memoryview(area)
        self._base = base
        self._h = h
        self._fill = _check_ptr(lib.xsk_rs_umem_fill(h), "xsk_rs_umem_fill")
        self._comp = _check_ptr(lib.xsk_rs_umem_comp(h), "xsk_rs_umem_comp")
        self.frame_size = lib.xsk_rs_umem_frame_size(h)
        self.frame_count = lib.xsk_rs_umem_frame_count(h)
        self.size = lib.xsk_rs_umem_size(h)
        self.frame_headroom = _check(lib.xsk_rs_umem_frame_headroom(h))
        self.flags = cfg.flags
        self.tx_metadata_len = _check(lib.xsk_rs_umem_tx_metadata_len(h))
        self.fill_size = lib.xsk_rs_fill_size(self._fill)
        self.comp_size = lib.xsk_rs_comp_size(self._comp)
        self._addrs = (_u64 * 64)()

    def tx_metadata_request(self, addr, flags, csum_start=0, csum_offset=0, launch_time=0):
        """Writes a TX metadata request (TXMD_* flags) in front of the TX
        packet at ring address addr (xsk_rs_tx_metadata_request); then set
        DESC_TX_METADATA in its descriptor's options."""
        _check(self._lib.xsk_rs_tx_metadata_request(self._handle(), addr, flags, csum_start, csum_offset,
                                                     launch_time))

    def tx_metadata_timestamp(self, addr):
        """The completion timestamp (ns) in front of the completed TX packet
        at addr; OSError(ENOENT) when its request asked for none."""
        out = _u64()
        _check(self._lib.xsk_rs_tx_metadata_timestamp(self._handle(), addr, ctypes.byref(out)))
        return out.value

    def _handle(self):
        if self._h is None:
            raise _closed("Umem")
        return self._h

    @property
    def closed(self):
        return self._h is None

    @property
    def fd(self):
        """The UMEM's AF_XDP fd (do not close it)."""
        return _check(self._lib.xsk_rs_umem_fd(self._handle()))

    def close(self):
        """Destroys the UMEM. Idempotent. Raises OSError(EBUSY), closing
        nothing, while a socket still uses it."""
        if self._h is None:
            return
        _check(self._lib.xsk_rs_umem_destroy(self._h))
        self._h = self._fill = self._comp = None
        self._view.release()
        try:
            self._area.close()
        except BufferError:
            pass  # frame views still exist; the mapping goes with the last one

    _QUIET = OSError  # a socket still uses it (only possible in a reference cycle)

    def __repr__(self):
        state = "closed" if self._h is None else "%d x %d bytes" % (self.frame_count, self.frame_size)
        return "<xsk_rs.Umem %s>" % state

    def _offset(self, addr, length):
        h = self._handle()
        if not 0 <= addr < 1 << 64 or length < 0:
            raise ValueError("xsk_rs: bad frame address %#x or length %d" % (addr, length))
        ptr = self._lib.xsk_rs_umem_data(h, addr)
        if not ptr:
            raise ValueError("xsk_rs: address %#x is outside the UMEM (%d bytes)" % (addr, self.size))
        off = ptr - self._base
        if off + length > self.size:
            raise ValueError("xsk_rs: %d bytes at %#x run past the UMEM (%d bytes)" % (length, addr, self.size))
        return off

    def frame(self, addr, length):
        """A writable memoryview of length bytes at ring address addr (an RX
        descriptor's addr, or a frame address for TX). Bounds-checked. It stays
        safe to use after close(), but no longer reaches the kernel."""
        off = self._offset(addr, length)
        return self._view[off:off + length]

    def read(self, addr, length):
        """A bytes copy of length bytes at ring address addr."""
        off = self._offset(addr, length)
        return self._view[off:off + length].tobytes()

    def write(self, addr, data):
        """Copies data to ring address addr; returns len(data)."""
        data = memoryview(data).cast("B")
        off = self._offset(addr, data.nbytes)
        self._view[off:off + data.nbytes] = data
        return data.nbytes

    def fill(self, addrs):
        """Puts frame addresses on the fill ring, for the kernel to receive
        into (one C call). Returns how many were queued: fewer than given when
        the ring is nearly full."""
        self._handle()
        if isinstance(addrs, ctypes.Array):
            arr = addrs
        else:
            addrs = addrs if hasattr(addrs, "__len__") else list(addrs)
            arr = (_u64 * len(addrs))(*addrs)
        if len(arr) == 0:
            return 0
        return _check(self._lib.xsk_rs_fill_put(self._fill, arr, len(arr)))

    def completed(self, max=64):
        """Takes up to max addresses of frames whose transmission completed
        (one C call); a list of ints."""
        self._handle()
        if max <= 0:
            return []
        if len(self._addrs) < max:
            self._addrs = (_u64 * max)()
        n = _check(self._lib.xsk_rs_comp_take(self._comp, self._addrs, max))
        return self._addrs[:n]

    @property
    def fill_needs_wakeup(self):
        """True if the kernel wants a poll() to take fill entries."""
        self._handle()
        return _check(self._lib.xsk_rs_fill_needs_wakeup(self._fill)) == 1

    def frame_start(self, addr):
        """The address of the frame that ring address addr lies in, to hand
        back with fill() (xsk_rs_umem_frame_start): addr rounded down to its
        frame, or in unaligned mode extract_addr(addr). Arithmetic only."""
        return self._lib.xsk_rs_umem_frame_start(self._handle(), addr)

    def fill_nb_free(self, nb=None):
        """Free fill slots, at most nb (default: the ring's size), as libxdp's
        xsk_prod_nb_free."""
        self._handle()
        return _check(self._lib.xsk_rs_fill_nb_free(self._fill, self.fill_size if nb is None else nb))

    def comp_nb_avail(self, nb=None):
        """Completed addresses ready, at most nb (default: the ring's size),
        without taking them (libxdp's xsk_cons_nb_avail)."""
        self._handle()
        return _check(self._lib.xsk_rs_comp_nb_avail(self._comp, self.comp_size if nb is None else nb))


class Socket(_Closing):
    """An AF_XDP socket on queue `queue` of interface `ifname`, over `umem`.

    Arguments left as None keep the library's defaults (xsk_rs_socket_config_init:
    RX and TX rings of 4096, BIND_NEED_WAKEUP, XDP_MODE_AUTO, TX budget 0). rx_size=0
    makes a TX-only socket (no XDP program attached); tx_size=0 an RX-only one
    (give a socket that never sends tx_size=0: polling one with a TX ring counts
    tx_ring_empty_descs). Sockets sharing a Umem run with the first one's
    bind flags; asking for more than those raises OSError (see xsk_rs.h,
    xsk_rs_socket_create, also for how long creating a socket may wait).
    tx_budget is the most TX descriptors one kick sends in copy mode (Linux 6.17,
    XDP_MAX_TX_SKB_BUDGET): 0 for the library's default (currently the whole TX
    ring), else TX_BUDGET_MIN (32) to tx_size; a kernel without the option refuses
    a non-zero value with EOPNOTSUPP. busy_poll_usecs (SO_BUSY_POLL),
    busy_poll_budget (SO_BUSY_POLL_BUDGET) and prefer_busy_poll
    (SO_PREFER_BUSY_POLL, True/False) set busy polling at creation; None or 0
    sets nothing (README "Busy polling"). The
    interface is looked up in the calling thread's network namespace, which must
    be the one the Umem was created in."""

    def __init__(self, ifname, queue, umem, rx_size=None, tx_size=None, bind_flags=None, xdp_mode=None,
                 tx_budget=None, busy_poll_usecs=None, busy_poll_budget=None, prefer_busy_poll=None):
        self._h = None
        if not isinstance(umem, Umem):
            raise TypeError("xsk_rs: Socket needs a Umem, not %s" % type(umem).__name__)
        lib = _L()
        cfg = _config(SocketConfig, lib.xsk_rs_socket_config_init, dict(
            rx_size=rx_size, tx_size=tx_size, bind_flags=bind_flags, xdp_mode=xdp_mode, tx_budget=tx_budget,
            busy_poll_usecs=busy_poll_usecs, busy_poll_budget=busy_poll_budget,
            prefer_busy_poll=None if prefer_busy_poll is None else int(bool(prefer_busy_poll))))
        h = _SOCK()
        name = os.fsencode(ifname)
        _check(lib.xsk_rs_socket_create(ctypes.byref(h), name, queue, umem._handle(), ctypes.byref(cfg)))
        self._lib = lib
        self._h = h
        self.umem = umem
        self.ifname = os.fsdecode(name)
        self.queue = queue
        self._rx = lib.xsk_rs_socket_rx(h)  # NULL pointer (false) without an RX ring
        self._tx = lib.xsk_rs_socket_tx(h)
        self.rx_size = lib.xsk_rs_rx_size(self._rx) if self._rx else 0
        self.tx_size = lib.xsk_rs_tx_size(self._tx) if self._tx else 0
        # The longest descriptor transmit() queues: the MTU at creation + 18.
        self.tx_max_len = lib.xsk_rs_tx_max_len(self._tx) if self._tx else 0
        self._descs = (Desc * 64)()

    def _handle(self):
        if self._h is None:
            raise _closed("Socket")
        return self._h

    @property
    def closed(self):
        return self._h is None

    def close(self):
        """Destroys the socket (and detaches the XDP program if it was this
        process's last socket on the interface). Idempotent. The Umem's first
        socket uses the Umem's own fd, which the kernel cannot unbind: its
        queue stays held until the Umem is closed (xsk_rs_socket_destroy)."""
        if self._h is None:
            return
        h, self._h, self._rx, self._tx = self._h, None, None, None
        self._lib.xsk_rs_socket_destroy(h)

    def __repr__(self):
        state = "closed" if self._h is None else "%s queue %d" % (self.ifname, self.queue)
        return "<xsk_rs.Socket %s>" % state

    @property
    def fd(self):
        """The socket's fd, for select/poll/epoll (do not close it)."""
        return _check(self._lib.xsk_rs_socket_fd(self._handle()))

    @property
    def is_zerocopy(self):
        return _check(self._lib.xsk_rs_socket_is_zerocopy(self._handle())) == 1

    @property
    def xdp_mode(self):
        """The mode steering the queue: XDP_MODE_SKB or XDP_MODE_DRV (what
        XDP_MODE_AUTO settled on), or XDP_MODE_NONE if nothing was attached."""
        return _check(self._lib.xsk_rs_socket_xdp_mode(self._handle()))

    def _ring(self, ring, what):
        self._handle()
        if not ring:
            raise OSError(errno.EINVAL, "xsk_rs: %s has no %s ring (its size is 0)" % (self, what))
        return ring

    def receive(self, max=64):
        """Takes up to max received packets (one C call), without waiting: a
        list of (addr, len). Read them with umem.read/frame; the frames stay
        yours until you put them back with umem.fill or transmit them."""
        rx = self._ring(self._rx, "RX")
        if max <= 0:
            return []
        if len(self._descs) < max:
            self._descs = (Desc * max)()
        d = self._descs
        n = _check(self._lib.xsk_rs_rx_take(rx, d, max))
        return [(d[i].addr, d[i].len) for i in range(n)]

    def transmit(self, descs, kick=True):
        """Queues packets for sending (one C call): descs are (addr, len),
        (addr, len, options) or Desc, or a ctypes array of Desc. Returns how
        many were queued (fewer when the ring is nearly full, or before a
        descriptor longer than the interface sends: tx_max_len). A first
        descriptor that is too long raises OSError(EMSGSIZE). With kick (the
        default), wakes the kernel when the TX ring says it needs it."""
        tx = self._ring(self._tx, "TX")
        if isinstance(descs, ctypes.Array):
            arr = descs
        else:
            descs = descs if hasattr(descs, "__len__") else list(descs)
            arr = (Desc * len(descs))()
            for i, d in enumerate(descs):
                arr[i] = d if isinstance(d, Desc) else Desc(*d)
        n = _check(self._lib.xsk_rs_tx_put(tx, arr, len(arr))) if len(arr) else 0
        if kick and _check(self._lib.xsk_rs_tx_needs_wakeup(tx)):
            self.kick()
        return n

    @property
    def tx_needs_wakeup(self):
        """True if the kernel wants kick() to send what was queued."""
        return _check(self._lib.xsk_rs_tx_needs_wakeup(self._ring(self._tx, "TX"))) == 1

    def kick(self):
        """Wakes the kernel to send what is on the TX ring ("try again" answers
        are not errors)."""
        _check(self._lib.xsk_rs_socket_kick(self._handle()))

    def poll(self, events=POLLIN, timeout_ms=-1):
        """poll(2) on the socket: >0 when ready, 0 on timeout. Raises
        InterruptedError when a signal interrupts it."""
        return _check(self._lib.xsk_rs_socket_poll(self._handle(), events, timeout_ms))

    def stats(self):
        """The kernel's counters, as a Stats namedtuple."""
        out = _CStats()
        _check(self._lib.xsk_rs_socket_stats(self._handle(), ctypes.byref(out)))
        return Stats(*(getattr(out, name) for name in Stats._fields))

    @property
    def queue_id(self):
        """The socket's queue id (the library's answer; `queue` is what was given)."""
        return _check(self._lib.xsk_rs_socket_queue_id(self._handle()))

    @property
    def ifindex(self):
        """The index of the socket's interface, in the namespace it was created in."""
        return _check(self._lib.xsk_rs_socket_ifindex(self._handle()))

    @property
    def xskmap_fd(self):
        """The fd of the library's XSKMAP for this queue (do not close it).
        Raises OSError(ENOENT) when the library attached nothing (XDP_MODE_NONE,
        or no RX ring)."""
        return _check(self._lib.xsk_rs_socket_xskmap_fd(self._handle()))

    def rx_nb_avail(self, nb=None):
        """Received packets ready, at most nb (default: the ring's size),
        without taking them."""
        rx = self._ring(self._rx, "RX")
        return _check(self._lib.xsk_rs_rx_nb_avail(rx, self.rx_size if nb is None else nb))

    def tx_nb_free(self, nb=None):
        """Free TX slots, at most nb (default: the ring's size)."""
        tx = self._ring(self._tx, "TX")
        return _check(self._lib.xsk_rs_tx_nb_free(tx, self.tx_size if nb is None else nb))

    def update_xskmap(self, map_fd):
        """Inserts this socket (XDP_MODE_NONE) into your XSKMAP map_fd."""
        _check(self._lib.xsk_rs_socket_update_xskmap(self._handle(), map_fd))



# ---- the packet layer ---------------------------------------------------------
#
# TxSocket, RxSocket and BiSocket wrap xsk_rs_txsock and xsk_rs_rxsock: the
# library owns the UMEM and its frames, and no frame address reaches Python.

_XDP_KEYS = tuple(name for name, _ in XdpConfig._fields_ if name != "sz")
_XDP_FLAGS = ("zero_copy", "need_wakeup", "huge_page", "huge_page_fallback", "prefer_busy_poll", "multi_buffer",
              "short_frames")  # True/False; None keeps the default
# The longest single wait in C. The library restarts poll() after a signal, so
# a Python signal handler (KeyboardInterrupt) runs only once the call returns.
_WAIT_SLICE_MS = 200
# A batch's packets are slices, at each packet's address, of a memoryview of
# a ctypes array that starts at address 0 and spans the address space: far
# cheaper than a ctypes object per packet, and no ctypes type is made per
# batch (ctypes caches array types forever). Only the packets' bytes are
# reachable through the slices. Each RxSocket has one such array, and only
# its batches' memoryviews hold it, so its reference count after a batch's
# views are released tells whether a view made from a packet (a slice, a
# cast, .obj) outlived the batch.
_SPAN = ctypes.c_ubyte * sys.maxsize


def _xdp_config(lib, kwargs):
    """An XdpConfig from xsk_rs_xdp_config_init with the keywords given laid
    over it (None keeps the default)."""
    unknown = sorted(set(kwargs) - set(_XDP_KEYS))
    if unknown:
        raise TypeError("xsk_rs: unknown config keyword%s %s; known: %s"
                        % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(_XDP_KEYS)))
    fields = {}
    for name, value in kwargs.items():
        if value is None:
            continue
        if name in _XDP_FLAGS:
            value = 1 if value else 0
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 32:
            raise OSError(errno.EINVAL, "xsk_rs: %s must be an int from 0 to 2**32-1, not %r" % (name, value))
        fields[name] = value
    return _config(XdpConfig, lib.xsk_rs_xdp_config_init, fields)


def _check_timeout(timeout):
    if timeout is not None and not timeout >= 0:
        raise ValueError("xsk_rs: timeout must be None or a number of seconds >= 0, not %r" % (timeout,))


def _deadline(timeout):
    """The time.monotonic() at which timeout seconds from now end (None: never)."""
    return None if timeout is None else time.monotonic() + timeout


def _wait(fn, h, deadline):
    """fn(h, ms) (xsk_rs_*sock_wait) until it says ready (True) or the
    deadline passes (False; None: no limit), in slices of _WAIT_SLICE_MS."""
    while True:
        if deadline is None:
            ms = _WAIT_SLICE_MS
        else:
            left = deadline - time.monotonic()
            ms = 0 if left <= 0 else min(_WAIT_SLICE_MS, math.ceil(left * 1000))
        if _check(fn(h, ms)):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


class _Half(_Closing):
    """What TxSocket and RxSocket share: the handle, close, fd, stats, mode,
    frame counts, wait. Subclasses set _kind, the C object's name."""

    _kind = None
    _h = None  # also for __del__ of an instance whose creation failed

    @classmethod
    def _adopted(cls, lib, h, ifname, queue, cfg):
        self = cls.__new__(cls)
        self._adopt(lib, h, ifname, queue, cfg)
        return self

    def _create(self, ifname, queue, config):
        lib = _L()
        cfg = _xdp_config(lib, config)
        h = _TXS() if self._kind == "txsock" else _RXS()
        name = os.fsencode(ifname)
        _check(getattr(lib, "xsk_rs_%s_create" % self._kind)(name, queue, ctypes.byref(cfg), ctypes.byref(h)))
        self._adopt(lib, h, name, queue, cfg)

    def _adopt(self, lib, h, ifname, queue, cfg):
        def fn(verb):
            return getattr(lib, "xsk_rs_%s_%s" % (self._kind, verb))
        self._lib = lib
        self._destroy_fn, self._wait_fn, self._fd_fn = fn("destroy"), fn("wait"), fn("fd")
        self._stats_fn, self._free_fn, self._in_flight_fn = fn("stats"), fn("free_frames"), fn("in_flight_frames")
        self._mode_fn, self._zc_fn = fn("xdp_mode"), fn("is_zerocopy")
        self.ifname = os.fsdecode(ifname)
        self.queue = queue
        self._h = h

    def _handle(self):
        if self._h is None:
            raise _closed(type(self).__name__)
        return self._h

    @property
    def closed(self):
        return self._h is None

    def close(self):
        """Destroys this half. Idempotent. The AF_XDP socket, its UMEM and
        (for a receiving half) the XDP program's steering go when both halves
        of a BiSocket are closed."""
        if self._h is None:
            return
        h, self._h = self._h, None
        self._destroy_fn(h)

    _QUIET = BufferError  # a packet's view outlived its batch: leave the frames mapped

    def __repr__(self):
        state = "closed" if self._h is None else "%s queue %d" % (self.ifname, self.queue)
        return "<xsk_rs.%s %s>" % (type(self).__name__, state)

    def fileno(self):
        """The socket's fd, for select, poll, epoll or selectors (the halves
        of a BiSocket share it; do not close it)."""
        return _check(self._fd_fn(self._handle()))

    def stats(self):
        """The kernel's counters for the socket, as a Stats namedtuple."""
        out = _CStats()
        _check(self._stats_fn(self._handle(), ctypes.byref(out)))
        return Stats(*(getattr(out, name) for name in Stats._fields))

    @property
    def xdp_mode(self):
        """XDP_MODE_SKB or XDP_MODE_DRV (what XDP_MODE_AUTO settled on), or
        XDP_MODE_NONE when nothing was attached (a TX-only socket)."""
        return _check(self._mode_fn(self._handle()))

    @property
    def is_zerocopy(self):
        return _check(self._zc_fn(self._handle())) == 1

    @property
    def free_frames(self):
        """TX: frames ready to send from. RX: frames neither lent to the
        kernel nor held by a batch (normally 0)."""
        return _check(self._free_fn(self._handle()))

    @property
    def in_flight_frames(self):
        """Frames the kernel has. TX: queued, being sent, or sent and not yet
        taken back (sending takes them back). RX: lent to receive into."""
        return _check(self._in_flight_fn(self._handle()))

    def wait(self, timeout=None):
        """Waits up to timeout seconds (None: no limit) until this half can
        make progress: RX, a packet has arrived; TX, a packet can be queued
        (the kernel is driven meanwhile, so sent frames come back). True when
        ready, False at the timeout. Ctrl-C is handled within 0.2 s."""
        h = self._handle()
        _check_timeout(timeout)
        return _wait(self._wait_fn, h, _deadline(timeout))

    def _retry(self, fn, args, timeout):
        """fn(*args) (args[0] the handle) after each wait() until it returns
        non-zero or timeout seconds (not 0; None: no limit) pass; its last
        result, 0 at the timeout."""
        deadline = _deadline(timeout)
        while _wait(self._wait_fn, args[0], deadline):
            r = _check(fn(*args))
            if r:
                return r
        return 0


class TxSocket(_Half):
    """The sending half of an AF_XDP socket on queue `queue` of interface
    `ifname` (looked up in the calling thread's network namespace), its
    frames managed by the library. A TX-only socket attaches no XDP program.

    Keywords, as in struct xsk_rs_xdp_config (None or left out: the
    library's default): rx_frames and tx_frames (frames each half owns,
    default 4096 each), frame_size (a power of two from 2048 to the page
    size, default 4096), frame_headroom, rx_size, tx_size, fill_size,
    comp_size (ring entries; by default derived from the frame counts),
    xdp_mode (XDP_MODE_*, default XDP_MODE_AUTO), zero_copy (True, False, or
    None for the kernel's choice), need_wakeup (default True), huge_page
    (default False), huge_page_fallback (with huge_page: ordinary pages when
    too few huge pages are free, default False), tx_budget (most descriptors
    one kick sends in copy mode; 0: the library's default), busy_poll_usecs,
    busy_poll_budget and prefer_busy_poll (busy polling, as for Socket),
    tx_metadata (TX_METADATA, optionally with TX_SW_CSUM: see send_opts;
    Linux 6.8). A geometry that could strand frames is refused
    with OSError(EINVAL) naming the rule; an unknown keyword is a TypeError.

    One thread at a time per half; the two halves of a BiSocket may run on
    two threads at once. total_frames is the frames this half owns, which are
    always free_frames + in_flight_frames."""

    _kind = "txsock"

    def __init__(self, ifname, queue, **config):
        self._create(ifname, queue, config)

    def _adopt(self, lib, h, ifname, queue, cfg):
        super()._adopt(lib, h, ifname, queue, cfg)
        self._send_fn = lib.xsk_rs_txsock_send
        self._packed_fn = lib.xsk_rs_txsock_send_packed
        self.total_frames = self.free_frames + self.in_flight_frames

    @property
    def reserved_frames(self):
        """Frames reserved and not yet sent (0 after every send and
        send_many: free + reserved + in flight == total)."""
        return _check(self._lib.xsk_rs_txsock_reserved_frames(self._handle()))

    @property
    def max_len(self):
        """The longest packet this half sends: the frame size, or less when
        the interface's MTU (plus the 18 bytes of an Ethernet header and VLAN
        tag) is smaller."""
        return _check(self._lib.xsk_rs_txsock_max_len(self._handle()))

    def send(self, data, timeout=0):
        """Copies data (bytes, or any buffer) into a free frame and sends it.
        True when queued; False when there was no room (no free frame, or a
        full TX ring) within timeout seconds: 0 (the default) does not wait,
        None waits as long as it takes. A packet longer than max_len raises
        OSError(EMSGSIZE)."""
        h = self._handle()
        if type(data) is not bytes:
            data = memoryview(data).tobytes()
        n = len(data)
        if n > 0xFFFFFFFF:
            raise OSError(errno.EMSGSIZE, "xsk_rs: TxSocket.send: a packet of %d bytes" % n)
        if timeout != 0:
            _check_timeout(timeout)
        if _check(self._send_fn(h, data, n)):
            return True
        return timeout != 0 and self._retry(self._send_fn, (h, data, n), timeout) > 0

    def send_opts(self, data, checksum=None, timestamp=False, launch_time=None):
        """send(data) with a TX metadata request (a socket created with
        tx_metadata=TX_METADATA): checksum=(csum_start, csum_offset) for a
        checksum offload (the field must hold the pseudo-header sum),
        timestamp=True for a completion timestamp (see timestamps()),
        launch_time=ns. True queued, False no room; OSError(EOPNOTSUPP) for
        what this socket's mode does not do (tx_offloads), EINVAL for a
        checksum past the packet's end or a socket without TX metadata."""
        h = self._handle()
        data = bytes(data)
        flags = (TXMD_CHECKSUM if checksum is not None else 0) | (TXMD_TIMESTAMP if timestamp else 0) | \
            (TXMD_LAUNCH_TIME if launch_time is not None else 0)
        start, off = checksum if checksum is not None else (0, 0)
        return bool(_check(self._lib.xsk_rs_txsock_send_opts(h, data, len(data), flags, start, off,
                                                             launch_time or 0)))

    @property
    def tx_offloads(self):
        """The TXMD_* requests send_opts accepts here (0 without TX metadata)."""
        return _check(self._lib.xsk_rs_txsock_tx_offloads(self._handle()))

    def timestamps(self, max=64):
        """Completion timestamps (ns; in copy mode software CLOCK_TAI times)
        of packets sent with timestamp=True that are done, in send order: a
        list of at most max."""
        out = (_u64 * max)()
        n = _check(self._lib.xsk_rs_txsock_timestamps(self._handle(), out, max))
        return list(out[:n])

    def send_many(self, packets):
        """Sends packets (a sequence of bytes or other buffers), each in its
        own frame, in order, in one C call (joined into one buffer for
        xsk_rs_txsock_send_packed) with one kick. Returns how many were
        queued: fewer when room ran out (0: none now; wait() for room), or
        when a packet longer than max_len stops the batch; that packet raises
        OSError(EMSGSIZE) when it is the first. Does not wait."""
        h = self._handle()
        if not isinstance(packets, (list, tuple)):
            packets = list(packets)
        if not packets:
            return 0
        data = b"".join(packets)
        lens = array.array("I", map(len, packets))
        if sum(lens) != len(data):  # a buffer whose len() counts items, not bytes
            lens = array.array("I", (memoryview(p).nbytes for p in packets))
        return _check(self._packed_fn(h, data, len(data), lens.buffer_info()[0], len(lens)))


class RxBatch:
    """Up to max received packets lent in place, from RxSocket.batch(): a
    context manager whose value is a list of read-only memoryviews, one per
    packet, in arrival order (empty when none arrived in time). It is the
    RxSocket's hot path, so it works on the socket's internals directly."""

    __slots__ = ("_rx", "_max", "_timeout", "_n", "_views")

    def __init__(self, rx, max, timeout):
        self._rx, self._max, self._timeout = rx, max, timeout
        self._n = 0
        self._views = ()

    def __enter__(self):
        rx = self._rx
        h = rx._handle()
        if rx._batch is not None:
            raise rx._busy("batch")
        want = self._max
        if want > len(rx._pkts):
            rx._pkts_for(want)
        n = _check(rx._batch_fn(h, rx._pkts, want))
        if not n and want and self._timeout != 0:
            n = rx._retry(rx._batch_fn, (h, rx._pkts, want), self._timeout)
        rx._batch = self
        if not n:
            self._views = []
            return self._views
        try:
            sq, si = rx._pkts_stride_q, rx._pkts_stride_i
            addrs = rx._pkts_q[0:sq * n:sq].tolist()
            lens = rx._pkts_i[rx._pkts_len_i:si * n:si].tolist()
            # A fresh memoryview of the span per batch, cast to "B" (ctypes
            # says "<B", which memoryview indexes and compares slowly). Each
            # slice is a view of the span's buffer in its own right, so the
            # root can go at once.
            root = memoryview(rx._span).toreadonly().cast("B")
            self._views = [root[a:a + k] for a, k in zip(addrs, lens)]
            root.release()
        except BaseException:
            rx._batch = None
            rx._release_fn(h, n)
            raise
        self._n = n
        return self._views

    def __exit__(self, exc_type, exc, tb):
        rx = self._rx
        if rx._batch is not self:
            return  # close() ended it
        rx._batch = None
        # A view with an exported buffer (numpy.frombuffer, PickleBuffer)
        # refuses release(): give the frames back all the same (else the next
        # batch would hand out the same packets), then say so, as for a view
        # made from a packet that outlived the block.
        exported = False
        for v in self._views:
            try:
                v.release()
            except BufferError:
                exported = True
        n, self._n = self._n, 0
        if n:
            _check(rx._release_fn(rx._h, n))
            # The attribute and the argument; more when a view made from a
            # packet outlived the block.
            if exported or sys.getrefcount(rx._span) > 2:
                rx._escaped.append(rx._span)
                rx._span = _SPAN.from_address(0)
                if exc_type is None:
                    raise BufferError(rx._escaped_msg("the batch's with block ended"))


class RxSocket(_Half):
    """The receiving half of an AF_XDP socket on queue `queue` of interface
    `ifname` (looked up in the calling thread's network namespace). It steers
    the queue to itself with the library's XDP program (unless
    xdp_mode=XDP_MODE_NONE) and lends every frame it owns to the kernel; a
    frame goes back to the kernel as its packet is taken. Keywords as for
    TxSocket.

    recv() copies one packet out. batch() lends up to max packets in place as
    memoryviews for the length of a with block, one C call per batch:

        with rx.batch(64, timeout=1.0) as pkts:
            for mv in pkts:
                total += len(mv)        # mv[12:14], bytes(mv): inside only

    Leaving the block releases the views (using one then raises ValueError)
    and gives the frames back. A view made from one (a slice, a cast) shows a
    frame the kernel will reuse: copy what you keep, bytes(mv[14:]). If such a
    view outlives its block, leaving the block raises BufferError, and close()
    raises BufferError and closes nothing until it is gone, so that no view
    can ever show unmapped memory. While a batch is open, recv() and a second
    batch raise OSError(EBUSY).

    total_frames is the frames this half owns, always free_frames +
    held_frames + in_flight_frames."""

    _kind = "rxsock"

    def __init__(self, ifname, queue, **config):
        self._create(ifname, queue, config)

    def _adopt(self, lib, h, ifname, queue, cfg):
        super()._adopt(lib, h, ifname, queue, cfg)
        self._recv_fn = lib.xsk_rs_rxsock_recv
        self._batch_fn = lib.xsk_rs_rxsock_recv_batch
        self._release_fn = lib.xsk_rs_rxsock_release
        self._packed_fn = lib.xsk_rs_rxsock_recv_packed
        self._held_fn = lib.xsk_rs_rxsock_held_frames
        self._batch = None      # the open RxBatch
        self._span = _SPAN.from_address(0)  # what batches' views are slices of
        self._escaped = []      # earlier spans a view made from a packet still uses
        self._pkts_for(64)
        # A packet is never longer than its frame, unless multi-buffer
        # chains it over several (at most 64 KiB).
        self._buf = ctypes.create_string_buffer(65536 if cfg.multi_buffer else (cfg.frame_size or 4096))
        self._packet_fn = lib.xsk_rs_rxsock_recv_packet
        self._segs = (Pkt * 64)()
        self.total_frames = self.free_frames + self.held_frames + self.in_flight_frames

    def _pkts_for(self, n):
        """The xsk_rs_pkt array recv_batch writes, and views of it as 64- and
        32-bit words to read its data pointers and lengths in one go each."""
        self._pkts = (Pkt * n)()
        raw = memoryview(self._pkts).cast("B")
        self._pkts_q, self._pkts_i = raw.cast("Q"), raw.cast("I")
        self._pkts_stride_q = ctypes.sizeof(Pkt) // 8
        self._pkts_stride_i = ctypes.sizeof(Pkt) // 4
        self._pkts_len_i = Pkt.len.offset // 4

    @property
    def held_frames(self):
        """Frames of packets an open batch holds."""
        return _check(self._held_fn(self._handle()))

    def _busy(self, what):
        return OSError(errno.EBUSY, "xsk_rs: RxSocket.%s: a batch is open on %r; leave its with block first"
                       % (what, self))

    def recv(self, timeout=0):
        """The next packet, copied out as bytes, and its frame given back;
        None when none arrived within timeout seconds: 0 (the default) does
        not wait, None waits as long as it takes."""
        h = self._handle()
        if self._batch is not None:
            raise self._busy("recv")
        if timeout != 0:
            _check_timeout(timeout)
        buf = self._buf
        n = _check(self._recv_fn(h, buf, len(buf)))
        if not n and timeout != 0:
            n = self._retry(self._recv_fn, (h, buf, len(buf)), timeout)
        if not n:
            return None
        return ctypes.string_at(buf, min(n, len(buf)))

    def recv_segments(self, timeout=0):
        """The next packet as the list of its segments (bytes, one per frame
        it spans: more than one only with multi_buffer=True for a packet
        longer than a frame), all its frames given back; None when none
        arrived within timeout seconds (as recv). b"".join(segs) is the
        packet, which recv() also gives."""
        h = self._handle()
        if self._batch is not None:
            raise self._busy("recv_segments")
        if timeout != 0:
            _check_timeout(timeout)
        segs = self._segs
        n = _check(self._packet_fn(h, segs, len(segs)))
        if not n and timeout != 0:
            n = self._retry(self._packet_fn, (h, segs, len(segs)), timeout)
        if not n:
            return None
        out = [ctypes.string_at(segs[i].data, segs[i].len) for i in range(n)]
        _check(self._release_fn(h, n))
        return out

    def recv_packed(self, buf, lens, timeout=0):
        """Copies up to len(lens) packets end to end into buf and the i-th's
        length into lens[i], and gives their frames back, in one C call
        (xsk_rs_rxsock_recv_packed). Returns how many: 0 when none arrived
        within timeout seconds (0, the default: no wait; None: no limit). It
        stops before a packet that does not fit in what is left of buf, which
        stays for the next call, unless it is the first: that one is cut to
        len(buf) bytes, and lens[0] says its full length.

        buf: an array.array (say "B") or any writable buffer, e.g. a
        bytearray; lens: an array.array("I") or a ctypes array of c_uint32.
        Reuse both: an array.array costs the least per call."""
        h = self._handle()
        if self._batch is not None:
            raise self._busy("recv_packed")
        if timeout != 0:
            _check_timeout(timeout)
        if isinstance(buf, array.array):
            addr, n = buf.buffer_info()
            buf, size = addr, n * buf.itemsize
        else:
            size = memoryview(buf).nbytes
            buf = (ctypes.c_char * size).from_buffer(buf)  # TypeError for a read-only buffer
        if isinstance(lens, array.array) and lens.typecode == "I" and lens.itemsize == 4:
            laddr, count = lens.buffer_info()
        elif isinstance(lens, ctypes.Array) and lens._type_ is ctypes.c_uint32:
            laddr, count = lens, len(lens)
        else:
            raise TypeError("xsk_rs: RxSocket.recv_packed: lens must be an array.array('I') or a ctypes "
                            "c_uint32 array, not %s" % type(lens).__name__)
        n = _check(self._packed_fn(h, buf, size, laddr, count))
        if not n and count and timeout != 0:
            n = self._retry(self._packed_fn, (h, buf, size, laddr, count), timeout)
        return n

    def batch(self, max=64, timeout=0):
        """Up to max received packets lent in place (xsk_rs_rxsock_recv_batch),
        for a with block: `with rx.batch(64) as pkts: ...` gives a list of
        read-only memoryviews, empty when none arrived within timeout seconds
        (0, the default: no wait; None: no limit). See the class's doc for
        what the views may do after the block. With multi_buffer=True the
        views are frames of whole packets (a packet longer than a frame takes
        several; OSError(ENOBUFS) when one takes more than max): recv,
        recv_segments and recv_packed show where packets end."""
        if not isinstance(max, int) or max < 0:
            raise ValueError("xsk_rs: RxSocket.batch: max must be an int >= 0, not %r" % (max,))
        if timeout != 0:
            _check_timeout(timeout)
        return RxBatch(self, max, timeout)

    def _escaped_msg(self, when):
        return ("xsk_rs: %s while a view made from a received packet (a slice or cast of a batch's "
                "memoryview, or its .obj) is still alive on %r: it shows a frame the kernel reuses; "
                "copy what you keep with bytes() and drop the view" % (when, self))

    def close(self):
        """Destroys this half (see _Half.close). Releases the views of an open
        batch first. Raises BufferError, closing nothing, while a view made
        from a received packet is alive (closing would unmap what it shows)."""
        if self._h is None:
            return
        b = self._batch
        if b is not None:
            for v in b._views:
                v.release()
            if sys.getrefcount(self._span) > 2:  # the attribute and the argument
                raise BufferError(self._escaped_msg("close()"))
            self._batch = None
        self._escaped = [s for s in self._escaped if sys.getrefcount(s) > 3]  # list, name, argument
        if self._escaped:
            raise BufferError(self._escaped_msg("close()"))
        super().close()


class BiSocket:
    """One AF_XDP socket on queue `queue` of interface `ifname` that sends and
    receives, over one UMEM, as its two halves: .tx (a TxSocket) and .rx (an
    RxSocket), each with its own frames (tx_frames, rx_frames; keywords as
    for TxSocket), usable from two threads at once. close() closes both; each
    half may also be closed alone, and the socket goes with the second.

        with xsk_rs.BiSocket("eth0", 0) as (tx, rx):
            pkt = rx.recv(timeout=1.0)
            if pkt is not None:
                tx.send(pkt)                # echo it"""

    tx = rx = None

    def __init__(self, ifname, queue, **config):
        lib = _L()
        cfg = _xdp_config(lib, config)
        th, rh = _TXS(), _RXS()
        name = os.fsencode(ifname)
        _check(lib.xsk_rs_bisock_create(name, queue, ctypes.byref(cfg), ctypes.byref(th), ctypes.byref(rh)))
        self.tx = TxSocket._adopted(lib, th, name, queue, cfg)
        self.rx = RxSocket._adopted(lib, rh, name, queue, cfg)

    @property
    def closed(self):
        return self.tx.closed and self.rx.closed

    def close(self):
        """Closes both halves (see RxSocket.close for when that raises
        BufferError; the TX half is closed even then). Idempotent."""
        try:
            self.rx.close()
        finally:
            self.tx.close()

    def __iter__(self):
        return iter((self.tx, self.rx))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<xsk_rs.BiSocket %r %r>" % (self.tx, self.rx)
