package xskrs

// Waiting without an OS thread.
//
// A blocking cgo call (xsk_rs_rxsock_wait(rx, -1), poll(2)) holds its OS
// thread for as long as it waits: the Go scheduler cannot run anything else
// on it, and a thousand waiting goroutines become a thousand threads. The
// packet sockets therefore wait in the Go runtime's netpoller, as net.Conn
// does: each half keeps a dup of the socket's fd wrapped in an *os.File,
// which the runtime registers with its epoll instance (edge-triggered,
// EPOLLIN|EPOLLOUT). A wait is syscall.RawConn.Read or Write with a callback
// that checks the ring with one non-blocking cgo call; when it says "not
// yet", the runtime parks the goroutine until epoll reports an edge on the
// fd (or a deadline passes) and calls the callback again. The runtime resets
// the fd's readiness before the first call of the callback, so an edge that
// comes between the check and the park is not lost.
//
// What the kernel reports (net/xdp/xsk.c): EPOLLIN when the RX ring is not
// empty, woken by sk_data_ready each time the kernel flushes received
// packets to it; EPOLLOUT when the TX ring is less than half full, woken by
// sk_write_space when the kernel consumes TX descriptors. Frames coming back
// on the completion ring raise no event, and in copy mode the kernel sends
// (and so completes) only when woken by a syscall. So the TX wait kicks the
// kernel and looks again inside its callback, and re-checks on a deadline
// that backs off from txRecheckMin to txRecheckMax: the goroutine still
// sleeps in the netpoller (a deadline is a runtime timer, not a thread), and
// room that appears without an event is seen within txRecheckMax.
//
// context.Context cancellation sets a deadline in the past on the File, the
// documented way to wake a goroutine blocked in it; the wait then returns
// ctx.Err().

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

const (
	txRecheckMin = 20 * time.Microsecond
	txRecheckMax = time.Millisecond
)

// aLongTimeAgo is a deadline that has passed: setting it wakes a waiter at once.
var aLongTimeAgo = time.Unix(1, 0)

// pollFd is a dup of a socket's fd registered with the Go netpoller. Closing
// it closes the dup only; the library's fd stays open. One waiter at a time
// per pollFd and direction (the runtime serializes further ones on the File's
// own lock, parked, not on threads).
type pollFd struct {
	f  *os.File
	rc syscall.RawConn
}

// newPollFd dups fd (close-on-exec), puts the dup in non-blocking mode so
// that os.NewFile hands it to the netpoller, and checks that it did.
// O_NONBLOCK is a flag of the open file, shared with the library's fd; the
// library's own calls on it (sendto, recvfrom with MSG_DONTWAIT, poll,
// getsockopt) do not depend on it.
func newPollFd(fd int, name string) (*pollFd, error) {
	nfd, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return nil, &Error{Op: name, Errno: e, Msg: "dup of the socket's fd for the netpoller: " + e.Error()}
	}
	if err := syscall.SetNonblock(int(nfd), true); err != nil {
		syscall.Close(int(nfd))
		return nil, &Error{Op: name, Errno: err.(syscall.Errno), Msg: "O_NONBLOCK on the socket's fd: " + err.Error()}
	}
	f := os.NewFile(nfd, name)
	// Only a File in the netpoller takes deadlines.
	if err := f.SetDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, &Error{Op: name, Errno: syscall.EINVAL, Msg: "the Go netpoller does not take the socket's fd: " + err.Error()}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &pollFd{f: f, rc: rc}, nil
}

// close closes the dup, taking it out of the netpoller first (os.File does).
func (p *pollFd) close() {
	if p != nil {
		p.f.Close()
	}
}

// cancelOnDone wakes a goroutine parked on p when ctx is done, by setting
// the deadline set (SetReadDeadline or SetWriteDeadline) in the past. The
// returned stop must be called once the wait is over; it returns after the
// watcher has finished, and clears the deadline if the watcher set it, so
// that it cannot fail the next wait. No goroutine for a ctx that is never
// done (context.Background).
func cancelOnDone(ctx context.Context, set func(time.Time) error) (stop func()) {
	done := ctx.Done()
	if done == nil {
		return func() {}
	}
	quit := make(chan struct{})
	fired := make(chan bool, 1)
	go func() {
		select {
		case <-done:
			set(aLongTimeAgo)
			fired <- true
		case <-quit:
			fired <- false
		}
	}()
	return func() {
		close(quit)
		if <-fired {
			set(time.Time{})
		}
	}
}

// waitRead parks the goroutine in the netpoller until ready says true, ready
// fails, or ctx is done (then ctx.Err()). ready must not block; it is called
// first without parking.
func (p *pollFd) waitRead(ctx context.Context, ready func() (bool, error)) error {
	if ok, err := ready(); err != nil || ok {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var rerr error
	stop := cancelOnDone(ctx, p.f.SetReadDeadline)
	err := p.rc.Read(func(uintptr) bool {
		ok, err := ready()
		if err != nil {
			rerr = err
			return true
		}
		return ok
	})
	stop()
	return waitErr(ctx, err, rerr)
}

// waitWrite is waitRead for the TX direction, with the re-check the missing
// completion event calls for (see the top of this file): each park lasts at
// most the current re-check interval, which doubles up to txRecheckMax, and
// the ctx's own deadline. A cancelled ctx ends the wait at the next
// re-check at the latest, normally at once.
func (p *pollFd) waitWrite(ctx context.Context, ready func() (bool, error)) error {
	var rerr error
	cb := func(uintptr) bool {
		ok, err := ready()
		if err != nil {
			rerr = err
			return true
		}
		return ok
	}
	if ok, err := ready(); err != nil || ok {
		return err
	}
	ctxDeadline, hasDeadline := ctx.Deadline()
	stop := cancelOnDone(ctx, p.f.SetWriteDeadline)
	defer stop()
	for idle := txRecheckMin; ; idle = minDuration(2*idle, txRecheckMax) {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := time.Now().Add(idle)
		if hasDeadline && ctxDeadline.Before(d) {
			d = ctxDeadline
		}
		// The canceller may set its past deadline between the check above
		// and this line, which then overrides it: the wait ends at d, at
		// most txRecheckMax later, and the check above sees the ctx done.
		if err := p.f.SetWriteDeadline(d); err != nil {
			return translateClosed(err)
		}
		err := p.rc.Write(cb)
		if err == nil || rerr != nil {
			return rerr
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return translateClosed(err)
		}
	}
}

// waitErr is the result of a RawConn wait: ready's error, ctx.Err() when the
// canceller's deadline ended it, or the File's own error.
func waitErr(ctx context.Context, err, readyErr error) error {
	if readyErr != nil {
		return readyErr
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	return translateClosed(err)
}

// translateClosed turns the File's "closed" error into the package's.
func translateClosed(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return ErrClosed
	}
	return err
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
