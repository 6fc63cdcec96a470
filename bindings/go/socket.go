package xskrs

/*
#include "shim.h"
*/
import "C"

import (
	"math"
	"syscall"
	"time"
	"unsafe"
)

// SocketConfig configures NewSocket. The zero value is the library's default:
// RX and TX rings of 4096 entries (Lending(4096)'s), need-wakeup on, copy or
// zero-copy as the kernel chooses, XDPModeAuto.
type SocketConfig struct {
	RxSize uint32 // RX ring entries, a power of two; 0 means 4096
	TxSize uint32 // TX ring entries, a power of two; 0 means 4096
	NoRx   bool   // no RX ring: a TX-only socket, which attaches no XDP program
	NoTx   bool   // no TX ring
	// BindFlags is 0 or BindCopy or BindZerocopy, with BindSG or
	// BindShortFrames if wanted. BindNeedWakeup is always added unless
	// NoNeedWakeup is set.
	BindFlags    uint32
	NoNeedWakeup bool
	XDPMode      XDPMode
	// TxBudget is the most TX descriptors one Kick sends in copy mode
	// (XDP_MAX_TX_SKB_BUDGET, Linux 6.17): 0 means the library's default
	// (currently the whole TX ring), otherwise TxBudgetMin to the TX ring
	// size. A kernel without the option refuses a non-zero value with
	// EOPNOTSUPP.
	TxBudget uint32
	// Busy polling of the socket (SO_BUSY_POLL in µs, SO_BUSY_POLL_BUDGET,
	// SO_PREFER_BUSY_POLL), set at creation; zero values set nothing. A
	// budget or PreferBusyPoll needs CAP_NET_ADMIN (EPERM) and Linux 5.11
	// (EOPNOTSUPP). See xsk_rs.h, xsk_rs_socket_config, and README "Busy
	// polling".
	BusyPollUsecs  uint32
	BusyPollBudget uint32
	PreferBusyPoll bool
}

// Socket is an AF_XDP socket bound to one queue of one interface. See the
// package documentation for lifetime and threading rules.
type Socket struct {
	h      *C.xsk_rs_socket
	rx     *C.xsk_rs_rx
	tx     *C.xsk_rs_tx
	umem   *Umem
	ifname string
	queue  uint32
}

// NewSocket creates an AF_XDP socket on queue of ifname over umem and binds
// it; unless cfg.XDPMode is XDPModeNone and if it has an RX ring, it attaches
// the library's XDP program to the interface (detached again when the
// process's last socket on the interface is closed). The interface is looked
// up in the calling thread's network namespace, which must be the umem's.
// Every socket on a Umem runs with its first socket's bind flags: asking for
// more (BindZerocopy, BindCopy, or need-wakeup, which is on unless
// NoNeedWakeup) than the first one has is refused. NewSocket may wait: a busy
// queue is retried for up to 2 s while its holder is being released, and the
// library's own program for up to 1 s after this process detached it; a queue
// held by a live socket fails at once (xsk_rs.h, xsk_rs_socket_create, has the
// rules). Errors wrap the errno: syscall.ENODEV (no such interface, or the
// Umem's interface went away: make a new Umem), EINVAL (bad config, queue out
// of range or without the ring's direction, bind flags the first socket
// lacks), EBUSY (queue in use, or another XDP program on the interface),
// EOPNOTSUPP (zero-copy unsupported), EBADFD (a Umem inherited by fork),
// EPERM, ...
func NewSocket(ifname string, queue uint32, umem *Umem, cfg SocketConfig) (*Socket, error) {
	if umem == nil || umem.h == nil {
		return nil, ErrClosed
	}
	var c C.xsk_rs_socket_config
	C.xsk_rs_socket_config_init(&c, C.sizeof_xsk_rs_socket_config) // cannot fail: &c is valid, the size is ours
	if cfg.RxSize != 0 {
		c.rx_size = C.uint32_t(cfg.RxSize)
	}
	if cfg.NoRx {
		c.rx_size = 0
	}
	if cfg.TxSize != 0 {
		c.tx_size = C.uint32_t(cfg.TxSize)
	}
	if cfg.NoTx {
		c.tx_size = 0
	}
	flags := cfg.BindFlags | BindNeedWakeup
	if cfg.NoNeedWakeup {
		flags &^= BindNeedWakeup
	}
	c.bind_flags = C.uint32_t(flags)
	c.xdp_mode = C.uint32_t(cfg.XDPMode)
	c.tx_budget = C.uint32_t(cfg.TxBudget)
	c.busy_poll_usecs = C.uint32_t(cfg.BusyPollUsecs)
	c.busy_poll_budget = C.uint32_t(cfg.BusyPollBudget)
	if cfg.PreferBusyPoll {
		c.prefer_busy_poll = 1
	}
	cname := C.CString(ifname)
	defer C.free(unsafe.Pointer(cname))
	r := C.xskrs_go_socket_create(cname, C.uint32_t(queue), umem.h, c)
	if err := check("NewSocket", r); err != nil {
		return nil, err
	}
	h := (*C.xsk_rs_socket)(r.handle)
	return &Socket{
		h:      h,
		rx:     C.xsk_rs_socket_rx(h),
		tx:     C.xsk_rs_socket_tx(h),
		umem:   umem,
		ifname: ifname,
		queue:  queue,
	}, nil
}

// Close destroys the socket (xsk_rs_socket_destroy): removes it from the
// library's XSKMAP and detaches the XDP program if it was the process's last
// socket on the interface. The Umem's first socket uses the Umem's own fd,
// which the kernel cannot unbind: closing it leaves that fd bound and the
// queue held until the Umem is closed (the next socket on the same queue with
// the same ring sizes takes the fd over; TX descriptors the kernel has not
// consumed are dropped, never sent); with XDPModeNone, delete the fd from
// your XSKMAP before closing. A second Close returns nil.
func (s *Socket) Close() error {
	if s.h == nil {
		return nil
	}
	C.xsk_rs_socket_destroy(s.h)
	s.h, s.rx, s.tx, s.umem = nil, nil, nil, nil
	return nil
}

// Umem returns the socket's UMEM (nil after Close).
func (s *Socket) Umem() *Umem { return s.umem }

// Ifname returns the interface name given to NewSocket.
func (s *Socket) Ifname() string { return s.ifname }

// Queue returns the queue id given to NewSocket (xsk_rs_socket_queue_id).
func (s *Socket) Queue() uint32 { return s.queue }

// Ifindex returns the index of the socket's interface in the namespace it
// was created in.
func (s *Socket) Ifindex() (int, error) {
	if s.h == nil {
		return 0, ErrClosed
	}
	return count("Ifindex", C.xskrs_go_socket_ifindex(s.h))
}

// XskmapFd returns the fd of the XSKMAP of the library's XDP program that
// steers the socket's queue (owned by the library: do not close it; valid
// until Close). The error wraps syscall.ENOENT when the library attached
// nothing (XDPModeNone, or a socket without an RX ring).
func (s *Socket) XskmapFd() (int, error) {
	if s.h == nil {
		return -1, ErrClosed
	}
	fd, err := count("XskmapFd", C.xskrs_go_socket_xskmap_fd(s.h))
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// RxSize returns the RX ring's entries (0 without an RX ring or after Close).
func (s *Socket) RxSize() uint32 {
	if s.rx == nil {
		return 0
	}
	return uint32(C.xsk_rs_rx_size(s.rx))
}

// TxSize returns the TX ring's entries (0 without a TX ring or after Close).
func (s *Socket) TxSize() uint32 {
	if s.tx == nil {
		return 0
	}
	return uint32(C.xsk_rs_tx_size(s.tx))
}

// TxMaxLen returns the longest descriptor Len that Transmit queues: the
// interface's MTU at creation plus 18 bytes of Ethernet header and VLAN tag
// (0 without a TX ring or after Close).
func (s *Socket) TxMaxLen() uint32 {
	if s.tx == nil {
		return 0
	}
	return uint32(C.xsk_rs_tx_max_len(s.tx))
}

// RxNbAvail returns how many received packets are ready, at most nb
// (libxdp's xsk_cons_nb_avail), without taking them. RX ring: one goroutine
// at a time.
func (s *Socket) RxNbAvail(nb uint32) (int, error) {
	if s.h == nil {
		return 0, ErrClosed
	}
	if s.rx == nil {
		return 0, noRing("RxNbAvail", "RX")
	}
	return count("RxNbAvail", C.xskrs_go_rx_nb_avail(s.rx, C.uint32_t(nb)))
}

// TxNbFree returns how many TX slots are free, at most nb (libxdp's
// xsk_prod_nb_free). TX ring: one goroutine at a time.
func (s *Socket) TxNbFree(nb uint32) (int, error) {
	if s.h == nil {
		return 0, ErrClosed
	}
	if s.tx == nil {
		return 0, noRing("TxNbFree", "TX")
	}
	return count("TxNbFree", C.xskrs_go_tx_nb_free(s.tx, C.uint32_t(nb)))
}

// Fd returns the socket's fd, for poll or epoll (do not close it), or -1
// after Close.
func (s *Socket) Fd() int {
	if s.h == nil {
		return -1
	}
	return int(C.xsk_rs_socket_fd(s.h))
}

// Receive takes up to len(descs) received packets into descs and releases
// their RX ring slots, in one call. It returns how many. The error is
// ErrClosed after Close, an *Error wrapping syscall.EINVAL for a socket
// without an RX ring, or an *Error when the library refuses the call. The
// frames stay the application's until it passes them to (*Umem).Fill or
// Transmit. RX ring: one goroutine at a time.
func (s *Socket) Receive(descs []Desc) (int, error) {
	if s.h == nil {
		return 0, ErrClosed
	}
	if s.rx == nil {
		return 0, noRing("Receive", "RX")
	}
	if len(descs) == 0 {
		return 0, nil
	}
	return count("Receive", C.xskrs_go_rx_take(s.rx, (*C.xsk_rs_desc)(unsafe.Pointer(&descs[0])), clamp32(len(descs))))
}

// Transmit puts descs on the TX ring in one call and returns how many it
// queued (fewer when the ring is nearly full, or before a descriptor longer
// than the interface sends: TxMaxLen). The error is an *Error wrapping
// syscall.EMSGSIZE when the first descriptor is too long, ErrClosed after
// Close, an *Error wrapping syscall.EINVAL for a socket without a TX ring, or
// an *Error when the library refuses the call. Then call Kick when
// TxNeedsWakeup is true (always in copy mode). Sent frames come back through
// (*Umem).Completed. TX ring: one goroutine at a time.
func (s *Socket) Transmit(descs []Desc) (int, error) {
	if s.h == nil {
		return 0, ErrClosed
	}
	if s.tx == nil {
		return 0, noRing("Transmit", "TX")
	}
	if len(descs) == 0 {
		return 0, nil
	}
	return count("Transmit", C.xskrs_go_tx_put(s.tx, (*C.xsk_rs_desc)(unsafe.Pointer(&descs[0])), clamp32(len(descs))))
}

// TxNeedsWakeup reports whether the kernel wants Kick to send what was
// queued. TX ring: one goroutine at a time.
func (s *Socket) TxNeedsWakeup() (bool, error) {
	if s.h == nil {
		return false, ErrClosed
	}
	if s.tx == nil {
		return false, noRing("TxNeedsWakeup", "TX")
	}
	n, err := count("TxNeedsWakeup", C.xskrs_go_tx_needs_wakeup(s.tx))
	return n > 0, err
}

// noRing is the error of a ring call on a socket created without that ring.
func noRing(op, ring string) error {
	return &Error{Op: op, Errno: syscall.EINVAL, Msg: "the socket has no " + ring + " ring (its size is 0)"}
}

// Kick wakes the kernel to send what is on the TX ring (a non-blocking
// sendto). "Try again" answers (EAGAIN, EBUSY, ENOBUFS, ENETDOWN) are not
// errors.
func (s *Socket) Kick() error {
	if s.h == nil {
		return ErrClosed
	}
	return check("Kick", C.xskrs_go_socket_kick(s.h))
}

// Poll waits up to timeout (forever when negative) until the socket is ready
// for events (PollIn, PollOut, or both) and reports whether it is. An
// interrupted wait (EINTR) is resumed for the time left, so use a finite
// timeout where a signal must end the wait. Poll with PollIn is also
// the wakeup FillNeedsWakeup asks for; a zero timeout does not block.
func (s *Socket) Poll(events int16, timeout time.Duration) (bool, error) {
	if s.h == nil {
		return false, ErrClosed
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		ms := -1
		if timeout >= 0 {
			ms = 0
			if timeout > 0 {
				left := time.Until(deadline)
				if left > 0 {
					// Round up, so a short timeout still waits.
					lms := (left + time.Millisecond - 1) / time.Millisecond
					if lms > math.MaxInt32 {
						lms = math.MaxInt32
					}
					ms = int(lms)
				}
			}
		}
		r := C.xskrs_go_socket_poll(s.h, C.short(events), C.int(ms))
		if r.rc == -C.int(syscall.EINTR) {
			if r.msg != nil {
				C.free(unsafe.Pointer(r.msg))
			}
			continue
		}
		if err := check("Poll", r); err != nil {
			return false, err
		}
		return r.rc > 0, nil
	}
}

// WaitReadable is Poll(PollIn, timeout): whether received packets are waiting.
func (s *Socket) WaitReadable(timeout time.Duration) (bool, error) {
	return s.Poll(PollIn, timeout)
}

// Stats reads the kernel's counters for the socket.
func (s *Socket) Stats() (Stats, error) {
	if s.h == nil {
		return Stats{}, ErrClosed
	}
	return stats("Stats", C.xskrs_go_socket_stats(s.h))
}

// IsZerocopy reports whether the socket runs in zero-copy mode.
func (s *Socket) IsZerocopy() (bool, error) {
	if s.h == nil {
		return false, ErrClosed
	}
	r := C.xskrs_go_socket_is_zerocopy(s.h)
	if err := check("IsZerocopy", r); err != nil {
		return false, err
	}
	return r.rc == 1, nil
}

// XDPMode reports the mode steering the socket's queue: XDPModeSKB or
// XDPModeDRV (what XDPModeAuto settled on), or XDPModeNone when the library
// attached nothing (mode None, or a socket without an RX ring).
func (s *Socket) XDPMode() (XDPMode, error) {
	if s.h == nil {
		return XDPModeNone, ErrClosed
	}
	r := C.xskrs_go_socket_xdp_mode(s.h)
	if err := check("XDPMode", r); err != nil {
		return XDPModeNone, err
	}
	return XDPMode(r.rc), nil
}

// UpdateXskmap inserts the socket into the caller's XSKMAP mapFd at the
// socket's queue id, for sockets created with XDPModeNone whose traffic the
// caller's own XDP program redirects.
func (s *Socket) UpdateXskmap(mapFd int) error {
	if s.h == nil {
		return ErrClosed
	}
	return check("UpdateXskmap", C.xskrs_go_socket_update_xskmap(s.h, C.int(mapFd)))
}
