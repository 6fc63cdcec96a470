package xskrs

// The packet layer (xsk_rs_txsock, xsk_rs_rxsock): sockets that send and
// receive packets while the library manages the UMEM's frames, so no frame
// address ever reaches Go.

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"math"
	"syscall"
	"unsafe"
)

// XDPConfig configures NewTxSocket, NewRxSocket and NewBiSocket; its fields
// are those of the C xsk_rs_xdp_config. The zero value is the library's
// default: 4096 frames of 4096 bytes per half, rings sized from the frames
// so that every frame can be lent to the kernel at once, need-wakeup on,
// copy or zero-copy as the kernel chooses, XDPModeAuto. A geometry that could
// strand frames (an RX ring smaller than RxFrames, a fill ring below twice
// RxFrames, a completion ring smaller than TxFrames) is refused with EINVAL
// and a message naming the rule.
type XDPConfig struct {
	RxFrames      uint32 // frames the RX half owns, all lent to the kernel; 0 means 4096
	TxFrames      uint32 // frames the TX half owns to send from; 0 means 4096
	FrameSize     uint32 // bytes per frame, so the longest packet: a power of two, 2048 to the page size; 0 means 4096
	FrameHeadroom uint32 // bytes kept free before each received packet, after the kernel's 256
	RxSize        uint32 // RX ring entries; 0 means RxFrames rounded up to a power of two
	TxSize        uint32 // TX ring entries; 0 means TxFrames rounded up to a power of two
	FillSize      uint32 // fill ring entries; 0 means twice the RX ring
	CompSize      uint32 // completion ring entries; 0 means TxFrames rounded up to a power of two
	XDPMode       XDPMode
	// Copy forces copy mode (XDP_COPY), Zerocopy zero-copy mode
	// (XDP_ZEROCOPY, EOPNOTSUPP where the driver lacks it, e.g. veth);
	// neither is the kernel's choice. Both is EINVAL.
	Copy, Zerocopy bool
	NoNeedWakeup   bool // bind without XDP_USE_NEED_WAKEUP
	HugePage       bool // the UMEM in huge pages (MAP_HUGETLB)
	// HugePageFallback, with HugePage: ordinary pages when too few huge
	// pages are free, instead of ENOMEM.
	HugePageFallback bool
	TxBudget         uint32 // most TX descriptors one kick sends in copy mode; 0 means the library's default
	// Busy polling of each half's socket, as SocketConfig's fields.
	BusyPollUsecs  uint32
	BusyPollBudget uint32
	PreferBusyPoll bool
	// TxMetadata gives every TX frame 24 bytes of TX metadata in front of
	// its packet (Linux 6.8; EOPNOTSUPP naming 6.8 before), for SendOpts.
	// TxSwCsum adds XDP_UMEM_TX_SW_CSUM: copy mode computes requested
	// checksums in software at once (Linux 6.8).
	TxMetadata, TxSwCsum bool
	// MultiBuffer: jumbo frames (XDP_USE_SG, Linux 6.6; EOPNOTSUPP naming the
	// release before that). A packet longer than a frame arrives over several
	// frames, which RecvCopy gathers, and Send sends one longer than a frame
	// as a chain (EMSGSIZE when it needs more frames than TxFrames or the TX
	// ring has). Recv returns frames, whole packets only: each but a
	// packet's last has Packet.Continued set; a packet of more frames than
	// Recv may return is ENOBUFS.
	MultiBuffer bool
	// ShortFrames accepts an RX half whose frames cannot hold what the
	// interface's MTU delivers, without MultiBuffer (BindShortFrames): the
	// kernel drops every longer packet, counted only in RxDropped. Without
	// it such a socket is refused with EMSGSIZE.
	ShortFrames bool
}

// TX metadata requests, for TxOptions.Flags and (*TxSocket).TxOffloads.
const (
	TxmdTimestamp  uint64 = C.XSK_RS_TXMD_TIMESTAMP   // a completion timestamp (copy mode: software CLOCK_TAI ns)
	TxmdChecksum   uint64 = C.XSK_RS_TXMD_CHECKSUM    // L4 checksum offload
	TxmdLaunchTime uint64 = C.XSK_RS_TXMD_LAUNCH_TIME // launch time (not in copy mode)
)

// TxOptions is what SendOpts asks of the kernel and driver for one packet.
// For TxmdChecksum the checksum field at CsumStart+CsumOffset must hold the
// pseudo-header sum, not inverted (the kernel's CHECKSUM_PARTIAL contract).
type TxOptions struct {
	Flags      uint64 // Txmd* bits
	CsumStart  uint16 // where checksumming starts, from the packet's first byte
	CsumOffset uint16 // where the checksum goes, from CsumStart
	LaunchTime uint64 // device clock ns, for TxmdLaunchTime
}

// cConfig fills the C config: xsk_rs_xdp_config_init's defaults, then every
// field the Go config sets.
func (cfg *XDPConfig) cConfig(op string) (C.struct_xsk_rs_xdp_config, error) {
	var c C.struct_xsk_rs_xdp_config
	C.xsk_rs_xdp_config_init(&c, C.sizeof_struct_xsk_rs_xdp_config) // cannot fail: &c is valid, the size is ours
	if cfg.Copy && cfg.Zerocopy {
		return c, &Error{Op: op, Errno: syscall.EINVAL, Msg: "XDPConfig: Copy and Zerocopy exclude each other"}
	}
	set := func(dst *C.uint32_t, v uint32) {
		if v != 0 {
			*dst = C.uint32_t(v)
		}
	}
	set(&c.rx_frames, cfg.RxFrames)
	set(&c.tx_frames, cfg.TxFrames)
	set(&c.frame_size, cfg.FrameSize)
	set(&c.frame_headroom, cfg.FrameHeadroom)
	set(&c.rx_size, cfg.RxSize)
	set(&c.tx_size, cfg.TxSize)
	set(&c.fill_size, cfg.FillSize)
	set(&c.comp_size, cfg.CompSize)
	set(&c.tx_budget, cfg.TxBudget)
	if cfg.TxMetadata {
		c.tx_metadata |= C.XSK_RS_TX_METADATA
	}
	if cfg.TxSwCsum {
		c.tx_metadata |= C.XSK_RS_TX_SW_CSUM
	}
	c.xdp_mode = C.uint32_t(cfg.XDPMode)
	switch {
	case cfg.Copy:
		c.zero_copy = 0
	case cfg.Zerocopy:
		c.zero_copy = 1
	}
	if cfg.NoNeedWakeup {
		c.need_wakeup = 0
	}
	if cfg.HugePage {
		c.huge_page = 1
	}
	if cfg.HugePageFallback {
		c.huge_page_fallback = 1
	}
	set(&c.busy_poll_usecs, cfg.BusyPollUsecs)
	set(&c.busy_poll_budget, cfg.BusyPollBudget)
	if cfg.PreferBusyPoll {
		c.prefer_busy_poll = 1
	}
	if cfg.MultiBuffer {
		c.multi_buffer = 1
	}
	if cfg.ShortFrames {
		c.short_frames = 1
	}
	return c, nil
}

// TxSocket is the sending half of a packet-layer socket
// (xsk_rs_txsock). Its methods are for one goroutine at a time; the TX and
// RX halves of a bi socket may run in two goroutines at once.
type TxSocket struct {
	h      *C.struct_xsk_rs_txsock
	poll   *pollFd
	ifname string
	queue  uint32
	maxLen int
	frames int      // every frame the half owns: no batch can queue more
	packed []byte   // SendBatch's packets end to end, reused
	lens   []uint32 // and their lengths
}

// RxSocket is the receiving half of a packet-layer socket
// (xsk_rs_rxsock). Its methods are for one goroutine at a time.
type RxSocket struct {
	h      *C.struct_xsk_rs_rxsock
	poll   *pollFd
	ifname string
	queue  uint32
	held   int // packets Recv returned and Release has not given back
	// recv_batch's array, one entry per frame, in C memory (malloc'ed, freed
	// by Close). In Go memory, cgo's pointer check would scan the whole
	// array on every call, as its type holds pointers: some 1000 entries
	// per Recv, which costs more than the call itself.
	cpkts []C.struct_xsk_rs_pkt
}

// Packet is a received packet, read in place: Data is a view of the UMEM
// frame it arrived in (no copy), valid until (*RxSocket).Release. After
// Release the kernel may receive into the frame again, and after Close the
// memory is gone: copy what must outlive the batch.
type Packet struct {
	Data []byte
	// Continued: on a MultiBuffer socket, the packet goes on in the next
	// Packet (XSK_RS_DESC_CONTD): a packet is the frames up to and
	// including the first without it. Always false otherwise.
	Continued bool
}

// NewTxSocket creates a socket that only sends, on queue of ifname, looked up
// in the network namespace of the calling OS thread (see the package
// documentation). It attaches no XDP program. Errors wrap the errno: ENODEV,
// EINVAL (a bad config, with the rule in the message), EBUSY, EOPNOTSUPP,
// EPERM, ...
func NewTxSocket(ifname string, queue uint32, cfg XDPConfig) (*TxSocket, error) {
	c, err := cfg.cConfig("NewTxSocket")
	if err != nil {
		return nil, err
	}
	cname := C.CString(ifname)
	defer C.free(unsafe.Pointer(cname))
	r := C.xskrs_go_txsock_create(cname, C.uint32_t(queue), c)
	if err := check("NewTxSocket", r); err != nil {
		return nil, err
	}
	return newTx((*C.struct_xsk_rs_txsock)(r.handle), ifname, queue)
}

// NewRxSocket creates a socket that only receives, on queue of ifname, and
// (unless cfg.XDPMode is XDPModeNone) steers the queue to it with the
// library's XDP program, detached when the process's last socket on the
// interface is closed. Every frame is lent to the kernel at once.
func NewRxSocket(ifname string, queue uint32, cfg XDPConfig) (*RxSocket, error) {
	c, err := cfg.cConfig("NewRxSocket")
	if err != nil {
		return nil, err
	}
	cname := C.CString(ifname)
	defer C.free(unsafe.Pointer(cname))
	r := C.xskrs_go_rxsock_create(cname, C.uint32_t(queue), c)
	if err := check("NewRxSocket", r); err != nil {
		return nil, err
	}
	return newRx((*C.struct_xsk_rs_rxsock)(r.handle), ifname, queue)
}

// NewBiSocket creates one socket that sends and receives, over one UMEM,
// split into its halves: each owns its own frames (cfg.TxFrames,
// cfg.RxFrames) and may run in its own goroutine. The socket goes when both
// halves are closed.
func NewBiSocket(ifname string, queue uint32, cfg XDPConfig) (*TxSocket, *RxSocket, error) {
	c, err := cfg.cConfig("NewBiSocket")
	if err != nil {
		return nil, nil, err
	}
	cname := C.CString(ifname)
	defer C.free(unsafe.Pointer(cname))
	r := C.xskrs_go_bisock_create(cname, C.uint32_t(queue), c)
	if err := check("NewBiSocket", r.r); err != nil {
		return nil, nil, err
	}
	rxh := (*C.struct_xsk_rs_rxsock)(r.rx)
	tx, err := newTx((*C.struct_xsk_rs_txsock)(r.r.handle), ifname, queue)
	if err != nil {
		C.xsk_rs_rxsock_destroy(rxh)
		return nil, nil, err
	}
	rx, err := newRx(rxh, ifname, queue)
	if err != nil {
		tx.Close()
		return nil, nil, err
	}
	return tx, rx, nil
}

// newTx wraps a created TX half; on failure it destroys it.
func newTx(h *C.struct_xsk_rs_txsock, ifname string, queue uint32) (*TxSocket, error) {
	p, err := newPollFd(int(C.xsk_rs_txsock_fd(h)), "NewTxSocket")
	if err != nil {
		C.xsk_rs_txsock_destroy(h)
		return nil, err
	}
	return &TxSocket{
		h:      h,
		poll:   p,
		ifname: ifname,
		queue:  queue,
		maxLen: int(C.xsk_rs_txsock_max_len(h)),
		frames: int(C.xsk_rs_txsock_free_frames(h)) + int(C.xsk_rs_txsock_in_flight_frames(h)),
	}, nil
}

// newRx wraps a created RX half; on failure it destroys it.
func newRx(h *C.struct_xsk_rs_rxsock, ifname string, queue uint32) (*RxSocket, error) {
	p, err := newPollFd(int(C.xsk_rs_rxsock_fd(h)), "NewRxSocket")
	if err != nil {
		C.xsk_rs_rxsock_destroy(h)
		return nil, err
	}
	// No more can ever be found at once than the half has frames.
	frames := int(C.xsk_rs_rxsock_free_frames(h)) + int(C.xsk_rs_rxsock_in_flight_frames(h)) +
		int(C.xsk_rs_rxsock_held_frames(h))
	arr := C.calloc(C.size_t(frames), C.sizeof_struct_xsk_rs_pkt)
	if arr == nil {
		p.close()
		C.xsk_rs_rxsock_destroy(h)
		return nil, &Error{Op: "NewRxSocket", Errno: syscall.ENOMEM, Msg: "no memory for the receive array"}
	}
	return &RxSocket{
		h:      h,
		poll:   p,
		ifname: ifname,
		queue:  queue,
		cpkts:  unsafe.Slice((*C.struct_xsk_rs_pkt)(arr), frames),
	}, nil
}

// Close destroys the TX half (xsk_rs_txsock_destroy); the socket goes when
// its other half, if any, is closed too. Frames still in flight are dropped
// with it. It must not run while another method of the half runs (a wait
// included). A second Close returns nil.
func (t *TxSocket) Close() error {
	if t.h == nil {
		return nil
	}
	t.poll.close()
	C.xsk_rs_txsock_destroy(t.h)
	t.h, t.poll, t.packed, t.lens = nil, nil, nil, nil
	return nil
}

// Close destroys the RX half (xsk_rs_rxsock_destroy): the Data of every
// packet not released becomes invalid. It must not run while another method
// of the half runs (a wait included). A second Close returns nil.
func (r *RxSocket) Close() error {
	if r.h == nil {
		return nil
	}
	r.poll.close()
	C.xsk_rs_rxsock_destroy(r.h)
	C.free(unsafe.Pointer(&r.cpkts[0]))
	r.h, r.poll, r.cpkts, r.held = nil, nil, nil, 0
	return nil
}

// Send copies pkt into a free frame and sends it (commit and kick). It
// returns true when the packet was queued, false when there was no room (no
// free frame, or a full TX ring): not an error, wait with WaitSend. A packet
// longer than MaxLen is an *Error wrapping syscall.EMSGSIZE.
func (t *TxSocket) Send(pkt []byte) (bool, error) {
	if t.h == nil {
		return false, ErrClosed
	}
	var p unsafe.Pointer
	if len(pkt) > 0 {
		p = unsafe.Pointer(&pkt[0])
	}
	n, err := count("Send", C.xskrs_go_txsock_send(t.h, p, clamp32(len(pkt))))
	return n > 0, err
}

// SendOpts is Send with a TX metadata request (a socket created with
// XDPConfig.TxMetadata): true when queued, false when there was no room. A
// request this socket's mode does not carry out (see TxOffloads) is an *Error
// wrapping syscall.EOPNOTSUPP; a checksum past the packet's end, or a socket
// without TX metadata, syscall.EINVAL.
func (t *TxSocket) SendOpts(pkt []byte, o TxOptions) (bool, error) {
	if t.h == nil {
		return false, ErrClosed
	}
	var p unsafe.Pointer
	if len(pkt) > 0 {
		p = unsafe.Pointer(&pkt[0])
	}
	r := C.xskrs_go_txsock_send_opts(t.h, p, clamp32(len(pkt)), C.uint64_t(o.Flags), C.uint16_t(o.CsumStart),
		C.uint16_t(o.CsumOffset), C.uint64_t(o.LaunchTime))
	n, err := count("SendOpts", r)
	return n > 0, err
}

// TxOffloads returns the Txmd* requests SendOpts accepts on this socket (0
// without TX metadata): copy mode does checksums and timestamps.
func (t *TxSocket) TxOffloads() uint64 {
	if t.h == nil {
		return 0
	}
	return uint64(C.xsk_rs_txsock_tx_offloads(t.h))
}

// Timestamps fills out with the completion timestamps (ns) of packets sent
// with TxmdTimestamp that the kernel is done with, in send order, and
// returns how many.
func (t *TxSocket) Timestamps(out []uint64) (int, error) {
	if t.h == nil {
		return 0, ErrClosed
	}
	var p *C.uint64_t
	if len(out) > 0 {
		p = (*C.uint64_t)(unsafe.Pointer(&out[0]))
	}
	return count("Timestamps", C.xskrs_go_txsock_timestamps(t.h, p, clamp32(len(out))))
}

// SendBatch sends the packets in order, each in its own frame, with one cgo
// call and one kick for the batch: it copies them end to end into a buffer
// the socket reuses (a slice of Go slices cannot be handed to C) and passes
// that with their lengths to xsk_rs_txsock_send_packed. It returns how many
// were queued: fewer than len(pkts) when room ran out (0 is "no room", not
// an error), or before a packet that is empty or longer than MaxLen, which is
// an error only when it comes first.
func (t *TxSocket) SendBatch(pkts [][]byte) (int, error) {
	if t.h == nil {
		return 0, ErrClosed
	}
	n := len(pkts)
	if n > t.frames {
		n = t.frames
	}
	total := 0
	for i, p := range pkts[:n] {
		if len(p) > t.maxLen {
			if i == 0 {
				// The library's own EMSGSIZE and message, without packing.
				_, err := count("SendBatch", C.xskrs_go_txsock_send(t.h, unsafe.Pointer(&p[0]), clamp32(len(p))))
				return 0, err
			}
			n = i
			break
		}
		total += len(p)
	}
	if n == 0 {
		return 0, nil
	}
	if cap(t.packed) < total || cap(t.packed) == 0 {
		t.packed = make([]byte, total+1)
	}
	if cap(t.lens) < n {
		t.lens = make([]uint32, n)
	}
	buf, lens := t.packed[:cap(t.packed)], t.lens[:n]
	off := 0
	for i, p := range pkts[:n] {
		off += copy(buf[off:], p)
		lens[i] = uint32(len(p))
	}
	return count("SendBatch", C.xskrs_go_txsock_send_packed(t.h, unsafe.Pointer(&buf[0]), C.size_t(total),
		(*C.uint32_t)(unsafe.Pointer(&lens[0])), C.uint32_t(n)))
}

// WaitSend waits until a Send would find room, parked in the Go netpoller
// (no OS thread is held; see netpoll.go), driving the kernel meanwhile: in
// copy mode it sends, and so gives frames back, only when kicked. It returns
// nil when there is room (at once if there is already), ctx.Err() when ctx
// is done first, or the library's error.
func (t *TxSocket) WaitSend(ctx context.Context) error {
	if t.h == nil {
		return ErrClosed
	}
	h := t.h
	return t.poll.waitWrite(ctx, func() (bool, error) {
		n, err := count("WaitSend", C.xskrs_go_txsock_ready(h))
		return n > 0, err
	})
}

// Recv fills pkts with received packets, read in place (zero copy), with one
// cgo call (xsk_rs_rxsock_recv_batch), and returns how many: 0 when none
// arrived. Their frames stay out of the kernel's reach until Release, which
// gives back every packet Recv returned since the last Release: calling Recv
// again first returns further packets and holds those too. Every frame held
// (HeldFrames) is one the kernel cannot receive into, so release promptly.
// On a MultiBuffer socket the entries are frames of whole packets (see
// Packet.Continued).
func (r *RxSocket) Recv(pkts []Packet) (int, error) {
	if r.h == nil {
		return 0, ErrClosed
	}
	want := r.held + len(pkts)
	if want > len(r.cpkts) {
		want = len(r.cpkts)
	}
	if want <= r.held {
		return 0, nil
	}
	// The first r.held found are the ones already returned: recv_batch
	// gives the packets found and not yet released, in order.
	n, err := count("Recv", C.xskrs_go_rxsock_recv_batch(r.h, &r.cpkts[0], C.uint32_t(want)))
	if err != nil || n <= r.held {
		return 0, err
	}
	got := n - r.held
	for i, c := range r.cpkts[r.held:n] {
		pkts[i].Data = unsafe.Slice((*byte)(unsafe.Pointer(c.data)), int(c.len))
		pkts[i].Continued = c.options&C.XSK_RS_DESC_CONTD != 0
	}
	r.held = n
	return got, nil
}

// RecvCopy copies the next received packet into buf, all its frames on a
// MultiBuffer socket, and gives them back. It returns the packet's length
// (when that is over len(buf), only len(buf) bytes were copied), 0 when
// nothing arrived, or EBUSY while packets Recv returned are not released.
func (r *RxSocket) RecvCopy(buf []byte) (int, error) {
	if r.h == nil {
		return 0, ErrClosed
	}
	if len(buf) == 0 {
		return 0, &Error{Op: "RecvCopy", Errno: syscall.EINVAL, Msg: "RecvCopy: empty buffer"}
	}
	n := len(buf)
	if n > math.MaxUint32 {
		n = math.MaxUint32
	}
	return count("RecvCopy", C.xskrs_go_rxsock_recv(r.h, unsafe.Pointer(&buf[0]), C.uint32_t(n)))
}

// Release gives the frames of every packet Recv returned since the last
// Release back to the kernel (xsk_rs_rxsock_release), in one cgo call; their
// Data must not be used afterwards. Without such packets it does nothing.
func (r *RxSocket) Release() error {
	if r.h == nil {
		return ErrClosed
	}
	if r.held == 0 {
		return nil
	}
	if err := check("Release", C.xskrs_go_rxsock_release(r.h, C.uint32_t(r.held))); err != nil {
		return err
	}
	r.held = 0
	return nil
}

// WaitRecv waits until a packet beyond those Recv already returned has
// arrived, parked in the Go netpoller on the socket's fd (no OS thread is
// held; see netpoll.go), waking the kernel when its fill ring asks for it.
// It returns nil when one is ready (at once if one is already), ctx.Err()
// when ctx is done first, or the library's error.
func (r *RxSocket) WaitRecv(ctx context.Context) error {
	if r.h == nil {
		return ErrClosed
	}
	h, held := r.h, C.uint32_t(r.held)
	return r.poll.waitRead(ctx, func() (bool, error) {
		n, err := count("WaitRecv", C.xskrs_go_rxsock_ready(h, held))
		return n > 0, err
	})
}

// Fd returns the socket's fd (shared by both halves of a bi socket; do not
// close it), or -1 after Close.
func (t *TxSocket) Fd() int {
	if t.h == nil {
		return -1
	}
	return int(C.xsk_rs_txsock_fd(t.h))
}

// Fd returns the socket's fd (shared by both halves of a bi socket; do not
// close it), or -1 after Close.
func (r *RxSocket) Fd() int {
	if r.h == nil {
		return -1
	}
	return int(C.xsk_rs_rxsock_fd(r.h))
}

// Ifname returns the interface name given at creation.
func (t *TxSocket) Ifname() string { return t.ifname }

// Ifname returns the interface name given at creation.
func (r *RxSocket) Ifname() string { return r.ifname }

// Queue returns the queue id given at creation.
func (t *TxSocket) Queue() uint32 { return t.queue }

// Queue returns the queue id given at creation.
func (r *RxSocket) Queue() uint32 { return r.queue }

// MaxLen returns the longest packet Send takes: the frame size, or less when
// the interface's MTU (plus the Ethernet header and a VLAN tag) is smaller.
// 0 after Close.
func (t *TxSocket) MaxLen() int {
	if t.h == nil {
		return 0
	}
	return t.maxLen
}

// getter returns a frame count from the library (never negative on a live
// handle), or 0 after Close.
func getter(live bool, f func() C.int) int {
	if !live {
		return 0
	}
	if n := int(f()); n > 0 {
		return n
	}
	return 0
}

// FreeFrames returns the TX frames ready to send from. Frames the kernel has
// finished with come back when a send or wait looks for room.
func (t *TxSocket) FreeFrames() int {
	return getter(t.h != nil, func() C.int { return C.xsk_rs_txsock_free_frames(t.h) })
}

// InFlightFrames returns the TX frames handed to the kernel and not yet taken
// back: on the TX ring, being sent, or completed and not yet reclaimed.
// FreeFrames + InFlightFrames is every frame of the half.
func (t *TxSocket) InFlightFrames() int {
	return getter(t.h != nil, func() C.int { return C.xsk_rs_txsock_in_flight_frames(t.h) })
}

// FreeFrames returns the RX frames neither lent to the kernel nor held
// (normally 0: every free frame is lent at once).
func (r *RxSocket) FreeFrames() int {
	return getter(r.h != nil, func() C.int { return C.xsk_rs_rxsock_free_frames(r.h) })
}

// InFlightFrames returns the RX frames lent to the kernel: on the fill ring,
// being received into, or received and not yet found.
func (r *RxSocket) InFlightFrames() int {
	return getter(r.h != nil, func() C.int { return C.xsk_rs_rxsock_in_flight_frames(r.h) })
}

// HeldFrames returns the RX frames found and not yet released: the packets
// Recv returned, and any WaitRecv found that Recv has not returned yet.
// FreeFrames + InFlightFrames + HeldFrames is every frame of the half.
func (r *RxSocket) HeldFrames() int {
	return getter(r.h != nil, func() C.int { return C.xsk_rs_rxsock_held_frames(r.h) })
}

// Stats reads the kernel's counters for the socket (shared by both halves).
func (t *TxSocket) Stats() (Stats, error) {
	if t.h == nil {
		return Stats{}, ErrClosed
	}
	return stats("Stats", C.xskrs_go_txsock_stats(t.h))
}

// Stats reads the kernel's counters for the socket (shared by both halves).
func (r *RxSocket) Stats() (Stats, error) {
	if r.h == nil {
		return Stats{}, ErrClosed
	}
	return stats("Stats", C.xskrs_go_rxsock_stats(r.h))
}

func stats(op string, r C.struct_xskrs_go_stats_ret) (Stats, error) {
	if err := check(op, r.r); err != nil {
		return Stats{}, err
	}
	return Stats{
		RxDropped:            uint64(r.st.rx_dropped),
		RxInvalidDescs:       uint64(r.st.rx_invalid_descs),
		TxInvalidDescs:       uint64(r.st.tx_invalid_descs),
		RxRingFull:           uint64(r.st.rx_ring_full),
		RxFillRingEmptyDescs: uint64(r.st.rx_fill_ring_empty_descs),
		TxRingEmptyDescs:     uint64(r.st.tx_ring_empty_descs),
	}, nil
}

// IsZerocopy reports whether the socket runs in zero-copy mode.
func (t *TxSocket) IsZerocopy() (bool, error) {
	if t.h == nil {
		return false, ErrClosed
	}
	n, err := count("IsZerocopy", C.xskrs_go_txsock_is_zerocopy(t.h))
	return n == 1, err
}

// IsZerocopy reports whether the socket runs in zero-copy mode.
func (r *RxSocket) IsZerocopy() (bool, error) {
	if r.h == nil {
		return false, ErrClosed
	}
	n, err := count("IsZerocopy", C.xskrs_go_rxsock_is_zerocopy(r.h))
	return n == 1, err
}

// XDPMode reports the mode the library's program steers the queue in
// (XDPModeSKB or XDPModeDRV), or XDPModeNone when nothing was attached (a
// TX-only socket, or cfg.XDPMode XDPModeNone).
func (t *TxSocket) XDPMode() (XDPMode, error) {
	if t.h == nil {
		return XDPModeNone, ErrClosed
	}
	n, err := count("XDPMode", C.xskrs_go_txsock_xdp_mode(t.h))
	if err != nil {
		return XDPModeNone, err
	}
	return XDPMode(n), nil
}

// XDPMode reports the mode the library's program steers the queue in
// (XDPModeSKB or XDPModeDRV), or XDPModeNone when nothing was attached.
func (r *RxSocket) XDPMode() (XDPMode, error) {
	if r.h == nil {
		return XDPModeNone, ErrClosed
	}
	n, err := count("XDPMode", C.xskrs_go_rxsock_xdp_mode(r.h))
	if err != nil {
		return XDPModeNone, err
	}
	return XDPMode(n), nil
}
