// Package xskrs is the Go binding of libxsk_rs: AF_XDP sockets without
// libbpf. It is a thin cgo layer over the C API in xsk_rs.h, found only
// through pkg-config (name xsk_rs), so build with
//
//	PKG_CONFIG_PATH=<prefix>/lib/pkgconfig CGO_ENABLED=1 go build
//
// and run with the library on the loader's path (LD_LIBRARY_PATH=<prefix>/lib
// for a private prefix). Running needs root in practice (CAP_NET_RAW, CAP_BPF,
// CAP_NET_ADMIN).
//
// # Objects and lifetime
//
// A Umem (NewUmem) is the packet buffer area with its fill and completion
// rings; a Socket (NewSocket) is bound to one queue of one interface over a
// Umem and, unless its XDPMode is XDPModeNone, steers that queue's packets to
// itself with the library's XDP program. Close a Umem's sockets before the
// Umem: (*Umem).Close returns an *Error wrapping syscall.EBUSY, and closes
// nothing, while a socket still uses it. Close is idempotent: a second Close
// returns nil. After Close, methods that can fail (the batch and ring calls
// among them) return ErrClosed, Fd returns -1 and Area/Frame return nil. There are no
// finalizers: a finalizer that unmapped the UMEM could run while a []byte
// from Frame or Area is still in use, so the area is freed only by Close (or
// by the kernel when the process exits, which also detaches the XDP program).
// Slices from Area and Frame must not be used after the Umem is closed.
//
// # Packet sockets
//
// NewTxSocket, NewRxSocket and NewBiSocket create the packet layer's halves
// (xsk_rs_txsock, xsk_rs_rxsock): sockets whose UMEM, rings and frames the
// library manages, so no frame address reaches Go. (*TxSocket).Send copies
// one packet in; SendBatch sends a batch with one cgo call. (*RxSocket).Recv
// fills a []Packet whose Data are views of the UMEM frames (zero copy),
// valid until Release gives the frames back. WaitSend and WaitRecv take a
// context.Context and park the goroutine in the Go runtime's netpoller on a
// dup of the socket's fd, never in a blocking cgo call, so waiting holds no
// OS thread. A half is used by one goroutine at a time; the two halves of a
// bi socket may run in two goroutines at once.
//
// # Network namespaces
//
// NewUmem, NewSocket and the packet sockets' constructors work in the
// network namespace of the OS thread that runs them. To create a socket in another namespace, lock the goroutine to
// its thread (runtime.LockOSThread), setns(2) into the namespace, create the
// Umem and the Socket there, and switch back. The socket keeps its namespace
// and can then be driven from any goroutine.
//
// # Threads
//
// Each ring is single-producer single-consumer: Fill and FillNeedsWakeup use
// the fill ring, Completed the completion ring (both on the Umem), Receive the
// RX ring, Transmit and TxNeedsWakeup the TX ring (both on the Socket). Use
// each ring from one goroutine at a time; different rings may be used from
// different goroutines at once (e.g. Fill+Receive in one goroutine,
// Transmit+Completed in another). A goroutine moving between OS threads is
// fine, the Go scheduler orders its memory accesses. Kick, Poll and Stats
// take no ring and may be called from anywhere. Close must not run while any
// other method of the same object (or, for a Umem, of its sockets) runs.
//
// # Batches
//
// Receive, Transmit, Fill and Completed move a whole slice in one cgo call
// (xsk_rs_rx_take, xsk_rs_tx_put, xsk_rs_fill_put, xsk_rs_comp_take): the
// slice is handed to C as it is, without copying, so reuse one slice per loop
// and nothing is allocated per packet. Like io.Reader's Read they return a
// count and an error: the error is ErrClosed, or an *Error when the library
// refuses the call (its negative return), and the count is then 0.
package xskrs

/*
#cgo pkg-config: xsk_rs
#include "shim.h"
*/
import "C"

import (
	"errors"
	"syscall"
	"unsafe"
)

// XDPMode selects how the library attaches its XDP program.
type XDPMode uint32

const (
	// XDPModeAuto attaches natively, or in generic (skb) mode when the
	// driver has no native XDP. The default.
	XDPModeAuto XDPMode = C.XSK_RS_XDP_MODE_AUTO
	// XDPModeSKB attaches in generic (skb) mode.
	XDPModeSKB XDPMode = C.XSK_RS_XDP_MODE_SKB
	// XDPModeDRV attaches in native (driver) mode; fails if unsupported.
	XDPModeDRV XDPMode = C.XSK_RS_XDP_MODE_DRV
	// XDPModeNone attaches nothing: the caller's own XDP program redirects
	// to the socket, which it inserts with (*Socket).UpdateXskmap.
	XDPModeNone XDPMode = C.XSK_RS_XDP_MODE_NONE
)

// String returns "auto", "skb", "drv" or "none".
func (m XDPMode) String() string {
	switch m {
	case XDPModeAuto:
		return "auto"
	case XDPModeSKB:
		return "skb"
	case XDPModeDRV:
		return "drv"
	case XDPModeNone:
		return "none"
	}
	return "XDPMode(" + utoa(uint64(m)) + ")"
}

// Bind flags for SocketConfig.BindFlags.
const (
	// BindCopy forces copy mode (XDP_COPY).
	BindCopy uint32 = C.XSK_RS_BIND_COPY
	// BindZerocopy forces zero-copy mode (XDP_ZEROCOPY); NewSocket fails
	// with EOPNOTSUPP where the driver lacks it (veth, for one) and on a Umem
	// whose first socket runs in copy mode.
	BindZerocopy uint32 = C.XSK_RS_BIND_ZEROCOPY
	// BindNeedWakeup lets the kernel flag when it needs a wakeup
	// (XDP_USE_NEED_WAKEUP). Always set unless SocketConfig.NoNeedWakeup.
	BindNeedWakeup uint32 = C.XSK_RS_BIND_NEED_WAKEUP
	// BindSG is multi-buffer (XDP_USE_SG, Linux 6.6): a packet longer than
	// a frame spans several descriptors, each but its last with
	// XSK_RS_DESC_CONTD.
	BindSG uint32 = C.XSK_RS_BIND_SG
	// BindShortFrames accepts an RX socket whose frames cannot hold what
	// the interface's MTU delivers (the kernel drops longer packets);
	// without it, or BindSG, such a socket is refused with EMSGSIZE.
	BindShortFrames uint32 = C.XSK_RS_BIND_SHORT_FRAMES
)

// TxBudgetMin is the smallest non-zero SocketConfig.TxBudget, and the
// kernel's own budget when none is set.
const TxBudgetMin uint32 = C.XSK_RS_TX_BUDGET_MIN

// UmemUnalignedChunks is the UmemConfig.Flags value that lets frames start at
// any byte (XDP_UMEM_UNALIGNED_CHUNK_FLAG); ring addresses then carry an
// offset in bits 48-63, which Frame and FrameStart understand.
const UmemUnalignedChunks uint32 = C.XSK_RS_UMEM_UNALIGNED_CHUNKS

// UmemHugePages is the UmemConfig.Flags bit for an area in huge pages
// (MAP_HUGETLB, from the pool vm.nr_hugepages reserves; ENOMEM, saying how
// to reserve them, when too few are free). UmemHugePagesFallback with it:
// ordinary pages instead of ENOMEM.
const (
	UmemHugePages         uint32 = C.XSK_RS_UMEM_HUGE_PAGES
	UmemHugePagesFallback uint32 = C.XSK_RS_UMEM_HUGE_PAGES_FALLBACK
)

// Events for (*Socket).Poll.
const (
	PollIn  int16 = C.POLLIN
	PollOut int16 = C.POLLOUT
)

// Desc is a packet descriptor on the RX and TX rings, with the layout of the
// C xsk_rs_desc (and the kernel's struct xdp_desc), so a []Desc is passed to
// C without copying.
type Desc struct {
	Addr    uint64 // UMEM address of the packet's first byte (see (*Umem).Frame)
	Len     uint32 // packet length in bytes
	Options uint32 // 0 for single-buffer packets
}

// Stats are the kernel's XDP_STATISTICS counters for one socket.
type Stats struct {
	RxDropped            uint64 // dropped for other reasons (e.g. did not fit the frame)
	RxInvalidDescs       uint64 // dropped because of an invalid fill descriptor
	TxInvalidDescs       uint64 // TX descriptors rejected as invalid
	RxRingFull           uint64 // dropped because the RX ring was full
	RxFillRingEmptyDescs uint64 // times a packet found the fill ring empty
	TxRingEmptyDescs     uint64 // times the kernel found the TX ring empty
}

// ErrPanic is the Errno of an *Error for a panic caught inside the library
// (a bug in libxsk_rs, reported as -XSK_RS_ERR_PANIC), never a kernel errno.
const ErrPanic syscall.Errno = C.XSK_RS_ERR_PANIC

// Error is a failure reported by libxsk_rs. Errors.Is(err, syscall.ENODEV)
// and the like work through Unwrap.
type Error struct {
	Op    string        // the Go call that failed, e.g. "NewSocket"
	Errno syscall.Errno // the library's negative return value, negated
	Msg   string        // xsk_rs_last_error() of that call, with context
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Errno.Error()
	}
	return "xskrs: " + e.Op + ": " + msg
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

// ErrClosed is returned by methods of a Umem, Socket, TxSocket or RxSocket
// after Close.
var ErrClosed = errors.New("xskrs: use of closed Umem or Socket")

// check turns a shim result into nil or an *Error, freeing the message.
func check(op string, r C.struct_xskrs_go_ret) error {
	if r.rc >= 0 {
		return nil
	}
	e := &Error{Op: op, Errno: syscall.Errno(-r.rc)}
	if r.msg != nil {
		e.Msg = C.GoString(r.msg)
		C.free(unsafe.Pointer(r.msg))
	}
	return e
}

// count turns a ring call's shim result into its count, or an *Error for a
// negative return (the library refused the call).
func count(op string, r C.struct_xskrs_go_ret) (int, error) {
	if err := check(op, r); err != nil {
		return 0, err
	}
	return int(r.rc), nil
}

// Version returns the library's version, e.g. "0.1.0".
func Version() string { return C.GoString(C.xsk_rs_version()) }

// clamp32 caps a slice length at what the C calls take.
func clamp32(n int) C.uint32_t {
	if uint64(n) > 0xffffffff {
		return 0xffffffff
	}
	return C.uint32_t(n)
}

func utoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// rawFillReserve and rawFillSubmit call xsk_rs_fill_reserve and
// xsk_rs_fill_submit directly, for the test of a refused ring call (test
// files cannot use cgo). The package itself never leaves a reserve open.
func rawFillReserve(u *Umem, n uint32) int {
	var idx C.uint32_t
	return int(C.xsk_rs_fill_reserve(u.fill, C.uint32_t(n), &idx))
}

func rawFillSubmit(u *Umem, n uint32) int {
	return int(C.xsk_rs_fill_submit(u.fill, C.uint32_t(n)))
}

// cAddrHelpers and cFrameStart give the C library's answers for what the
// package computes in Go (ExtractAddr, ExtractOffset, AddOffsetToAddr,
// FrameStart), and cQueueID the library's queue id, for the test to compare.
func cAddrHelpers(addr uint64) [3]uint64 {
	a := C.uint64_t(addr)
	return [3]uint64{
		uint64(C.xsk_rs_umem_extract_addr(a)),
		uint64(C.xsk_rs_umem_extract_offset(a)),
		uint64(C.xsk_rs_umem_add_offset_to_addr(a)),
	}
}

func cFrameStart(u *Umem, addr uint64) uint64 {
	return uint64(C.xsk_rs_umem_frame_start(u.h, C.uint64_t(addr)))
}

func cQueueID(s *Socket) int { return int(C.xsk_rs_socket_queue_id(s.h)) }

// descLayout reports the C layout of xsk_rs_desc: size and the offsets of
// addr, len, options. For the test (test files cannot use cgo).
func descLayout() [4]uintptr {
	return [4]uintptr{
		uintptr(C.xskrs_go_desc_size()),
		uintptr(C.xskrs_go_desc_off_addr()),
		uintptr(C.xskrs_go_desc_off_len()),
		uintptr(C.xskrs_go_desc_off_options()),
	}
}
