package xskrs

// Tests of the packet layer (TxSocket, RxSocket) over veth pairs made by
// newPair, with the helpers of xskrs_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openBi creates a bi socket on ifname in namespace ns, closed when the test ends.
func openBi(t *testing.T, ns, ifname string, cfg XDPConfig) (*TxSocket, *RxSocket) {
	t.Helper()
	var tx *TxSocket
	var rx *RxSocket
	if err := inNetns(ns, func() (err error) {
		tx, rx, err = NewBiSocket(ifname, 0, cfg)
		return err
	}); err != nil {
		t.Fatalf("bi socket on %s/%s: %v", ns, ifname, err)
	}
	t.Cleanup(func() { tx.Close(); rx.Close() })
	return tx, rx
}

func openRx(t *testing.T, ns, ifname string, cfg XDPConfig) *RxSocket {
	t.Helper()
	var rx *RxSocket
	if err := inNetns(ns, func() (err error) {
		rx, err = NewRxSocket(ifname, 0, cfg)
		return err
	}); err != nil {
		t.Fatalf("rx socket on %s/%s: %v", ns, ifname, err)
	}
	t.Cleanup(func() { rx.Close() })
	return rx
}

func openTx(t *testing.T, ns, ifname string, cfg XDPConfig) *TxSocket {
	t.Helper()
	var tx *TxSocket
	if err := inNetns(ns, func() (err error) {
		tx, err = NewTxSocket(ifname, 0, cfg)
		return err
	}); err != nil {
		t.Fatalf("tx socket on %s/%s: %v", ns, ifname, err)
	}
	t.Cleanup(func() { tx.Close() })
	return tx
}

// sendAll sends every packet: one by Send, the rest by SendBatch, waiting
// for room with WaitSend whenever there is none.
func sendAll(ctx context.Context, tx *TxSocket, pkts [][]byte) error {
	for len(pkts) > 0 {
		var n int
		var err error
		if len(pkts) == 1 {
			var ok bool
			ok, err = tx.Send(pkts[0])
			if ok {
				n = 1
			}
		} else {
			n, err = tx.SendBatch(pkts)
		}
		if err != nil {
			return err
		}
		pkts = pkts[n:]
		if n == 0 {
			if err := tx.WaitSend(ctx); err != nil {
				return fmt.Errorf("WaitSend with %d packets left: %w", len(pkts), err)
			}
		}
	}
	return nil
}

// recvN receives exactly n packets (copies), releasing each batch, or fails
// when ctx ends first.
func recvN(ctx context.Context, rx *RxSocket, n int) ([][]byte, error) {
	var got [][]byte
	pkts := make([]Packet, 16)
	for len(got) < n {
		if err := rx.WaitRecv(ctx); err != nil {
			return got, fmt.Errorf("WaitRecv after %d of %d packets: %w", len(got), n, err)
		}
		k, err := rx.Recv(pkts)
		if err != nil {
			return got, err
		}
		for _, p := range pkts[:k] {
			got = append(got, append([]byte(nil), p.Data...))
		}
		if err := rx.Release(); err != nil {
			return got, err
		}
	}
	return got, nil
}

// checkRxFrames fails t unless the RX half holds nothing and lends every frame.
func checkRxFrames(t *testing.T, who string, rx *RxSocket, frames int) {
	t.Helper()
	if f, i, h := rx.FreeFrames(), rx.InFlightFrames(), rx.HeldFrames(); f != 0 || i != frames || h != 0 {
		t.Errorf("%s RX frames: free %d, in flight %d, held %d; want 0, %d, 0", who, f, i, h, frames)
	}
}

func checkCleanStats(t *testing.T, who string, st Stats, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s Stats: %v", who, err)
	} else if st.RxDropped != 0 || st.RxInvalidDescs != 0 || st.TxInvalidDescs != 0 || st.RxRingFull != 0 ||
		st.RxFillRingEmptyDescs != 0 {
		t.Errorf("%s counters after a clean run: %+v", who, st)
	}
}

// A sends test frames with Send and SendBatch from a bi socket on one end;
// the bi socket on the other end echoes each batch it receives straight from
// the received frames (SendBatch of the Packets' Data, before Release), and
// A receives the echoes. Both directions byte-exact and in order. Each half
// has 64 frames and 320 frames go each way, so every frame is sent and
// received from five times: frames come back (completions, Release).
func TestPacketEcho(t *testing.T) {
	needRoot(t)
	for _, mode := range []XDPMode{XDPModeSKB, XDPModeDRV} {
		mode := mode
		t.Run(mode.String(), func(t *testing.T) {
			const frames, count, chunk = 64, 320, 16
			p := newPair(t)
			cfg := XDPConfig{RxFrames: frames, TxFrames: frames, FrameSize: 2048, XDPMode: mode}
			txA, rxA := openBi(t, p.nsA, p.ifA, cfg)
			txB, rxB := openBi(t, p.nsB, p.ifB, cfg)
			if m, err := rxB.XDPMode(); m != mode || err != nil {
				t.Fatalf("XDPMode = %v, %v; want %v", m, err, mode)
			}
			if zc, err := txA.IsZerocopy(); zc || err != nil {
				t.Errorf("IsZerocopy on veth = %v, %v", zc, err)
			}
			if txA.MaxLen() != 1518 {
				t.Errorf("MaxLen = %d, want 1518 (veth's MTU + 18)", txA.MaxLen())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			// The echo: B's own goroutines are its TX and RX halves' one user each.
			echoed := make(chan error, 1)
			var atB [][]byte
			var echo sync.WaitGroup
			echo.Add(1)
			defer func() { cancel(); echo.Wait() }() // before the sockets close
			go func() {
				defer echo.Done()
				pkts := make([]Packet, chunk)
				data := make([][]byte, chunk)
				for len(atB) < count {
					if err := rxB.WaitRecv(ctx); err != nil {
						echoed <- err
						return
					}
					n, err := rxB.Recv(pkts)
					if err != nil {
						echoed <- err
						return
					}
					if h := rxB.HeldFrames(); h < n {
						echoed <- fmt.Errorf("HeldFrames %d while holding %d packets", h, n)
						return
					}
					for i, pk := range pkts[:n] {
						atB = append(atB, append([]byte(nil), pk.Data...))
						data[i] = pk.Data // the UMEM frame itself
					}
					if err := sendAll(ctx, txB, data[:n]); err != nil {
						echoed <- err
						return
					}
					if err := rxB.Release(); err != nil {
						echoed <- err
						return
					}
				}
				echoed <- nil
			}()

			var atA [][]byte
			for seq := 0; seq < count; seq += chunk {
				out := make([][]byte, chunk)
				for i := range out {
					s := uint32(seq + i)
					out[i] = testFrame(s, frameLen(s))
				}
				// The first of each chunk by Send, the rest by SendBatch.
				if err := sendAll(ctx, txA, out[:1]); err != nil {
					t.Fatal(err)
				}
				if err := sendAll(ctx, txA, out[1:]); err != nil {
					t.Fatal(err)
				}
				got, err := recvN(ctx, rxA, chunk)
				atA = append(atA, got...)
				if err != nil {
					t.Fatalf("echo of packets %d..%d: %v", seq, seq+chunk-1, err)
				}
			}
			if err := <-echoed; err != nil {
				t.Fatalf("echo side: %v", err)
			}
			checkFrames(t, "B received", atB, count)
			checkFrames(t, "A received the echo:", atA, count)

			// Nothing more comes; every RX frame is lent again, every TX
			// frame is free or in flight.
			time.Sleep(100 * time.Millisecond)
			if n, err := rxA.Recv(make([]Packet, 4)); n != 0 || err != nil {
				t.Errorf("%d extra packets (%v)", n, err)
			}
			checkRxFrames(t, "A", rxA, frames)
			checkRxFrames(t, "B", rxB, frames)
			for who, tx := range map[string]*TxSocket{"A": txA, "B": txB} {
				if f, i := tx.FreeFrames(), tx.InFlightFrames(); f+i != frames {
					t.Errorf("%s TX frames: free %d + in flight %d != %d", who, f, i, frames)
				}
			}
			st, err := rxA.Stats()
			checkCleanStats(t, "A", st, err)
			st, err = txB.Stats()
			checkCleanStats(t, "B", st, err)
		})
	}
}

// Packets stay valid across a second Recv, Release gives back all of them,
// and the frames come back to be received into again.
func TestPacketRecvRelease(t *testing.T) {
	needRoot(t)
	const frames = 64
	p := newPair(t)
	rx := openRx(t, p.nsB, p.ifB, XDPConfig{RxFrames: frames, FrameSize: 2048, XDPMode: XDPModeDRV})
	pr := newPeer(t, p.nsA, p.ifA)
	checkRxFrames(t, "fresh", rx, frames)
	for seq := uint32(0); seq < 40; seq++ {
		pr.send(t, testFrame(seq, frameLen(seq)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// Two Recv calls without a Release between them.
	first := make([]Packet, 10)
	if err := rx.WaitRecv(ctx); err != nil {
		t.Fatal(err)
	}
	n1, err := rx.Recv(first)
	if err != nil || n1 == 0 {
		t.Fatalf("Recv = %d, %v", n1, err)
	}
	var rest []Packet
	for n1+len(rest) < 40 {
		if err := rx.WaitRecv(ctx); err != nil {
			t.Fatalf("after %d packets: %v", n1+len(rest), err)
		}
		more := make([]Packet, 64)
		n, err := rx.Recv(more)
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, more[:n]...)
	}
	all := append(append([]Packet(nil), first[:n1]...), rest...)
	got := make([][]byte, len(all))
	for i, pk := range all {
		got[i] = pk.Data // in place: still valid, nothing released yet
	}
	checkFrames(t, "held", got, 40)
	if h, f, i := rx.HeldFrames(), rx.FreeFrames(), rx.InFlightFrames(); h != 40 || f+i+h != frames {
		t.Errorf("holding 40: held %d, free %d, in flight %d", h, f, i)
	}
	if &all[0].Data[0] == &all[1].Data[0] || cap(all[0].Data) != len(all[0].Data) {
		t.Error("packets share a frame, or a packet's capacity reaches past it")
	}
	if n, err := rx.Recv(nil); n != 0 || err != nil {
		t.Errorf("Recv(nil) = %d, %v", n, err)
	}
	if err := rx.Release(); err != nil {
		t.Fatal(err)
	}
	checkRxFrames(t, "after Release", rx, frames)
	if err := rx.Release(); err != nil {
		t.Errorf("a second Release: %v", err)
	}

	// 3x the frames more: only frames given back can take them.
	const more = 3 * frames
	go func() {
		for seq := uint32(100); seq < 100+more; seq++ {
			if _, err := syscall.Write(pr.fd, testFrame(seq, 100)); err != nil {
				return
			}
			if seq%16 == 15 {
				time.Sleep(2 * time.Millisecond) // let the receiver keep up with 64 frames
			}
		}
	}()
	got, err = recvN(ctx, rx, more)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range got {
		if !bytes.Equal(f, testFrame(uint32(100+i), 100)) {
			t.Fatalf("packet %d differs: % x", i, head(f))
		}
	}
	checkRxFrames(t, "at the end", rx, frames)
	st, err := rx.Stats()
	checkCleanStats(t, "rx", st, err)
}

// Errors carry the library's errno and message; Close is idempotent and
// everything after it fails softly.
func TestPacketErrorsAndClose(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	var err error
	_ = inNetns(p.nsB, func() error {
		_, err = NewRxSocket("nosuchif0", 0, XDPConfig{})
		return nil
	})
	var xe *Error
	if !errors.Is(err, syscall.ENODEV) || !errors.As(err, &xe) || !strings.Contains(xe.Msg, "nosuchif0") {
		t.Errorf("NewRxSocket on a missing interface: %v", err)
	}
	_ = inNetns(p.nsB, func() error {
		_, _, err = NewBiSocket(p.ifB, 0, XDPConfig{RxFrames: 512, RxSize: 256})
		return nil
	})
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &xe) || !strings.Contains(xe.Msg, "rx ring of 256") {
		t.Errorf("an RX ring smaller than the frames: %v", err)
	}
	_ = inNetns(p.nsB, func() error {
		_, err = NewTxSocket(p.ifB, 0, XDPConfig{Zerocopy: true})
		return nil
	})
	if !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("zero-copy on veth: %v", err)
	}
	if _, err = NewTxSocket(p.ifB, 0, XDPConfig{Copy: true, Zerocopy: true}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Copy and Zerocopy: %v", err)
	}
	p.noXDPLeft(t)

	fds0 := openFds(t)
	tx, rx := openBi(t, p.nsB, p.ifB, XDPConfig{RxFrames: 16, TxFrames: 16, FrameSize: 2048})
	long := make([]byte, tx.MaxLen()+1)
	if ok, err := tx.Send(long); ok || !errors.Is(err, syscall.EMSGSIZE) || !errors.As(err, &xe) || xe.Msg == "" {
		t.Errorf("Send of %d bytes = %v, %v; want EMSGSIZE with the library's message", len(long), ok, err)
	}
	if n, err := tx.SendBatch([][]byte{long, testFrame(0, 60)}); n != 0 || !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("SendBatch starting with a long packet = %d, %v; want 0, EMSGSIZE", n, err)
	}
	if n, err := tx.SendBatch([][]byte{testFrame(0, 60), long}); n != 1 || err != nil {
		t.Errorf("SendBatch with a long second packet = %d, %v; want 1, nil", n, err)
	}
	if n, err := tx.SendBatch(nil); n != 0 || err != nil {
		t.Errorf("SendBatch(nil) = %d, %v", n, err)
	}
	// An empty packet is refused, alone or first; later it ends the batch.
	if ok, err := tx.Send(nil); ok || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Send of an empty packet = %v, %v; want EINVAL", ok, err)
	}
	if n, err := tx.SendBatch([][]byte{{}, testFrame(0, 60)}); n != 0 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SendBatch starting with an empty packet = %d, %v; want 0, EINVAL", n, err)
	}
	if n, err := tx.SendBatch([][]byte{testFrame(0, 60), testFrame(1, 60), {}}); n != 2 || err != nil {
		t.Errorf("SendBatch with an empty third packet = %d, %v; want 2, nil", n, err)
	}
	fd := rx.Fd()
	if fd < 0 || tx.Fd() != fd {
		t.Errorf("fds: tx %d, rx %d; want one shared fd", tx.Fd(), fd)
	}
	// Closing the halves closes the dups the netpoller had, never the
	// library's fd before the socket goes.
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE); err != nil {
		t.Error("closing the TX half closed the socket's fd under the RX half")
	}
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Close(); err != nil || rx.Close() != nil {
		t.Error("a second Close failed")
	}
	if n := openFds(t); n != fds0 {
		t.Errorf("%d fds open after closing both halves, %d before creating them", n, fds0)
	}
	if tx.Fd() != -1 || rx.Fd() != -1 || tx.MaxLen() != 0 || rx.HeldFrames() != 0 || tx.FreeFrames() != 0 {
		t.Error("getters after Close")
	}
	for name, err := range map[string]error{
		"Send":       second(tx.Send([]byte{1})),
		"SendBatch":  second(tx.SendBatch([][]byte{{1}})),
		"WaitSend":   tx.WaitSend(context.Background()),
		"Recv":       second(rx.Recv(make([]Packet, 1))),
		"Release":    rx.Release(),
		"WaitRecv":   rx.WaitRecv(context.Background()),
		"Stats":      second(rx.Stats()),
		"XDPMode":    second(tx.XDPMode()),
		"IsZerocopy": second(rx.IsZerocopy()),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	p.noXDPLeft(t)
}

// A wait ends promptly with ctx.Err() when its context is cancelled or runs
// out, and the socket waits normally afterwards (the deadline that woke it
// is cleared).
func TestPacketWaitCancel(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	rx := openRx(t, p.nsB, p.ifB, XDPConfig{RxFrames: 64, FrameSize: 2048})
	pr := newPeer(t, p.nsA, p.ifA)

	ctx, cancel := context.WithCancel(context.Background())
	cancelAt := make(chan time.Time, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancelAt <- time.Now()
		cancel()
	}()
	start := time.Now()
	err := rx.WaitRecv(ctx)
	end := time.Now()
	cancelled := <-cancelAt
	if !errors.Is(err, context.Canceled) || end.Sub(start) < 90*time.Millisecond {
		t.Fatalf("WaitRecv with nothing to receive = %v after %v; want context.Canceled after 100 ms", err, end.Sub(start))
	}
	if lag := end.Sub(cancelled); lag > 50*time.Millisecond {
		t.Errorf("WaitRecv returned %v after the cancellation", lag)
	}
	t.Logf("WaitRecv: cancelled, returned %v later", end.Sub(cancelled))

	tctx, tcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	start = time.Now()
	err = rx.WaitRecv(tctx)
	tcancel()
	if d := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || d < 90*time.Millisecond || d > 300*time.Millisecond {
		t.Errorf("WaitRecv with a 100 ms timeout = %v after %v", err, d)
	}
	if err := rx.WaitRecv(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitRecv with a cancelled ctx = %v", err)
	}

	// After all that, a packet still ends a wait.
	go func() {
		time.Sleep(50 * time.Millisecond)
		pr.send(t, testFrame(7, 100))
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := rx.WaitRecv(wctx); err != nil {
		t.Fatalf("WaitRecv for a packet after the cancelled waits: %v", err)
	}
	pkts := make([]Packet, 4)
	if n, err := rx.Recv(pkts); n != 1 || err != nil || !bytes.Equal(pkts[0].Data, testFrame(7, 100)) {
		t.Fatalf("Recv = %d, %v", n, err)
	}
	if err := rx.Release(); err != nil {
		t.Fatal(err)
	}

	// TX: with its interface down the kernel refuses to send (ENETDOWN, a
	// "try again" for the library), so the frames stay on the TX ring and
	// never complete: once they are all queued there is no room.
	const frames = 16
	tx := openTx(t, p.nsA, p.ifA, XDPConfig{TxFrames: frames, FrameSize: 2048})
	run(t, "ip", "-n", p.nsA, "link", "set", "dev", p.ifA, "down")
	queued := 0
	for ; queued <= frames; queued++ {
		ok, err := tx.Send(testFrame(uint32(queued), 100))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	if queued != frames || tx.FreeFrames() != 0 {
		t.Fatalf("queued %d of %d frames with the link down, %d free", queued, frames, tx.FreeFrames())
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancelAt <- time.Now()
		cancel()
	}()
	start = time.Now()
	err = tx.WaitSend(ctx)
	end = time.Now()
	cancelled = <-cancelAt
	if !errors.Is(err, context.Canceled) || end.Sub(start) < 90*time.Millisecond {
		t.Fatalf("WaitSend with no room = %v after %v; want context.Canceled after 100 ms", err, end.Sub(start))
	}
	if lag := end.Sub(cancelled); lag > 50*time.Millisecond {
		t.Errorf("WaitSend returned %v after the cancellation", lag)
	}
	t.Logf("WaitSend: cancelled, returned %v later", end.Sub(cancelled))
	tctx, tcancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	start = time.Now()
	err = tx.WaitSend(tctx)
	tcancel()
	if d := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || d < 90*time.Millisecond || d > 300*time.Millisecond {
		t.Errorf("WaitSend with a 100 ms timeout = %v after %v", err, d)
	}

	// Link up: the wait's kicks get the queued frames sent, they complete,
	// and there is room again; the peer on the other end sees them.
	run(t, "ip", "-n", p.nsA, "link", "set", "dev", p.ifA, "up")
	start = time.Now()
	if err := tx.WaitSend(wctx); err != nil {
		t.Fatalf("WaitSend after link up: %v", err)
	}
	t.Logf("WaitSend: room %v after link up", time.Since(start))
	if ok, err := tx.Send(testFrame(99, 100)); !ok || err != nil {
		t.Fatalf("Send after WaitSend = %v, %v", ok, err)
	}
}

// openFds counts the process's open fds.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// osThreads is the process's thread count from /proc/self/status.
func osThreads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Threads:")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}

var stackBuf = make([]byte, 16<<20)

// ioWaiting counts goroutines parked in the netpoller ("IO wait").
func ioWaiting() int {
	buf := stackBuf
	n := runtime.Stack(buf, true)
	return bytes.Count(buf[:n], []byte("[IO wait"))
}

// pollIn reports whether fd has POLLIN now: ppoll(2) with a zero timeout,
// which never blocks and is safe from any number of goroutines at once.
func pollIn(fd int) (bool, error) {
	pfd := struct {
		fd             int32
		events, revent int16
	}{int32(fd), 0x1, 0} // POLLIN
	var ts syscall.Timespec
	n, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if e != 0 && e != syscall.EINTR {
		return false, e
	}
	return n == 1 && pfd.revent&0x1 != 0, nil
}

// Thousands of goroutines wait on one RX socket at once, parked in the
// netpoller: the OS thread count stays small, the goroutine dumps show them
// in "IO wait", a cancelled context ends its waits, and one packet wakes the
// rest. The RX half itself takes one waiter (WaitRecv; a half is one
// goroutine's), so the others wait through the same code (pollFd.waitRead)
// on pollFds of their own, each a dup of the socket's fd in a File of its
// own (one File takes one waiter per direction), with a readiness check safe
// from many goroutines (ppoll with a zero timeout). If a wait held an OS
// thread (a blocking cgo call, or a blocking poll(2)), 2000 waits would need
// some 2000 threads.
func TestPacketManyWaiters(t *testing.T) {
	needRoot(t)
	const waiters = 2000
	p := newPair(t)
	rx := openRx(t, p.nsB, p.ifB, XDPConfig{RxFrames: 64, FrameSize: 2048})
	pr := newPeer(t, p.nsA, p.ifA)
	fd := rx.Fd()

	pfds := make([]*pollFd, waiters-1)
	for i := range pfds {
		pf, err := newPollFd(fd, "waiter")
		if err != nil {
			t.Fatalf("pollFd %d: %v", i, err)
		}
		pfds[i] = pf
	}
	runtime.GC()
	threads0, goroutines0 := osThreads(t), runtime.NumGoroutine()
	half, cancelHalf := context.WithCancel(context.Background())
	rest, cancelRest := context.WithTimeout(context.Background(), 20*time.Second)
	var wg sync.WaitGroup
	defer func() {
		// Every wait over before the dups and the socket close.
		cancelHalf()
		cancelRest()
		over := make(chan struct{})
		go func() { wg.Wait(); close(over) }()
		select {
		case <-over:
			for _, pf := range pfds {
				pf.close()
			}
		case <-time.After(10 * time.Second):
			t.Error("waits did not end within 10 s of their contexts' cancellation")
		}
	}()
	var woke, cancelled, failed atomic.Int32
	var firstErr atomic.Value
	finish := func(err error) {
		switch {
		case err == nil:
			woke.Add(1)
		case errors.Is(err, context.Canceled):
			cancelled.Add(1)
		default:
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err)
		}
		wg.Done()
	}
	wg.Add(waiters)
	go func() { finish(rx.WaitRecv(rest)) }() // the RX half's own waiter
	for i, pf := range pfds {
		ctx := rest
		if i%2 == 0 {
			ctx = half
		}
		pf := pf
		go func() { finish(pf.waitRead(ctx, func() (bool, error) { return pollIn(fd) })) }()
	}

	// All parked: 2000 goroutines more, at least 2000 of them in IO wait.
	deadline := time.Now().Add(10 * time.Second)
	for ioWaiting() < waiters && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	parked, goroutines, threads := ioWaiting(), runtime.NumGoroutine(), osThreads(t)
	t.Logf("%d waiters: %d goroutines (%d before), %d in IO wait, %d OS threads (%d before), GOMAXPROCS %d",
		waiters, goroutines, goroutines0, parked, threads, threads0, runtime.GOMAXPROCS(0))
	if threads > threads0+16 {
		t.Fatalf("%d OS threads while %d goroutines wait (%d before): waits hold threads", threads, waiters, threads0)
	}
	if parked < waiters || goroutines < goroutines0+waiters {
		t.Fatalf("only %d of %d waiters parked in the netpoller (%d goroutines)", parked, waiters, goroutines)
	}
	if n := woke.Load() + cancelled.Load() + failed.Load(); n != 0 {
		t.Fatalf("%d waits ended with nothing to receive (%v)", n, firstErr.Load())
	}

	// Cancel half of them.
	start := time.Now()
	cancelHalf()
	for cancelled.Load() < waiters/2 && time.Since(start) < 5*time.Second {
		time.Sleep(time.Millisecond)
	}
	t.Logf("cancelled %d waits in %v", cancelled.Load(), time.Since(start))
	if c, w := cancelled.Load(), woke.Load(); c != waiters/2 || w != 0 {
		t.Fatalf("after cancelling %d waits: %d cancelled, %d woken, %d failed (%v)", waiters/2, c, w, failed.Load(), firstErr.Load())
	}

	// One packet wakes the others.
	start = time.Now()
	pr.send(t, testFrame(1, 100))
	wg.Wait()
	t.Logf("one packet woke %d waits in %v; OS threads now %d", woke.Load(), time.Since(start), osThreads(t))
	if w, f := woke.Load(), failed.Load(); w != waiters/2 || f != 0 {
		t.Fatalf("%d of %d waits woken by the packet, %d failed (%v)", w, waiters/2, f, firstErr.Load())
	}
	pkts := make([]Packet, 4)
	if n, err := rx.Recv(pkts); n != 1 || err != nil || !bytes.Equal(pkts[0].Data, testFrame(1, 100)) {
		t.Fatalf("Recv after the wake = %d, %v", n, err)
	}
	if err := rx.Release(); err != nil {
		t.Fatal(err)
	}
	checkRxFrames(t, "rx", rx, 64)
}

// TestTxMetadata sends with TX metadata requests in copy mode (Linux 6.8):
// a timestamp request comes back as a software CLOCK_TAI completion time,
// launch time is EOPNOTSUPP, a checksum past the end EINVAL.
func TestTxMetadata(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	var tx *TxSocket
	if err := inNetns(p.nsA, func() (err error) {
		tx, err = NewTxSocket(p.ifA, 0, XDPConfig{TxFrames: 16, Copy: true, TxMetadata: true})
		return err
	}); err != nil {
		t.Fatalf("NewTxSocket with TxMetadata: %v", err)
	}
	defer tx.Close()
	if got := tx.TxOffloads(); got != TxmdChecksum|TxmdTimestamp {
		t.Errorf("TxOffloads = %#x", got)
	}
	tai := func() uint64 {
		const clockTAI = 11
		var ts syscall.Timespec
		if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockTAI, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
			t.Fatal(e)
		}
		return uint64(ts.Nano())
	}
	frame := testFrame(1, 100)
	before := tai()
	if ok, err := tx.SendOpts(frame, TxOptions{Flags: TxmdTimestamp}); !ok || err != nil {
		t.Fatalf("SendOpts = %v, %v", ok, err)
	}
	out := make([]uint64, 4)
	n := 0
	for deadline := time.Now().Add(2 * time.Second); n == 0 && time.Now().Before(deadline); {
		var err error
		if n, err = tx.Timestamps(out); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if after := tai(); n != 1 || out[0] < before || out[0] > after {
		t.Errorf("Timestamps = %d %v, want one in %d..%d", n, out[:n], before, after)
	}
	if _, err := tx.SendOpts(frame, TxOptions{Flags: TxmdLaunchTime, LaunchTime: 1}); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("launch time in copy mode: %v", err)
	}
	if _, err := tx.SendOpts(frame, TxOptions{Flags: TxmdChecksum, CsumStart: 90, CsumOffset: 20}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("checksum past the end: %v", err)
	}
}

// jumboLen gives the test packets of TestPacketJumbo: mostly 9000 and 9014
// bytes (the longest untagged frame on MTU 9000), some small.
func jumboLen(seq uint32) int {
	switch seq % 4 {
	case 1:
		return 60 + int(seq)
	case 2:
		return 9014
	default:
		return 9000
	}
}

// TestPacketJumbo moves 9000-byte packets over a veth pair with MTU 9000 in
// 2 KiB frames (Linux 6.6), in skb and drv mode: without MultiBuffer the
// socket is refused (EMSGSIZE naming the MTU); with it RecvCopy gathers
// each chained packet byte-exact (cut short into a small buffer, with the
// full length returned), and Send sends packets longer than a frame as
// chains, more of them than the TX half has frames, so frames come back.
func TestPacketJumbo(t *testing.T) {
	needRoot(t)
	for _, mode := range []XDPMode{XDPModeSKB, XDPModeDRV} {
		mode := mode
		t.Run(mode.String(), func(t *testing.T) {
			// The peer's burst of 24 takes about 120 RX frames (6 a jumbo packet).
			const rxFrames, frames = 256, 32
			p := newPair(t)
			for _, e := range [][2]string{{p.nsA, p.ifA}, {p.nsB, p.ifB}} {
				run(t, "ip", "-n", e[0], "link", "set", "dev", e[1], "mtu", "9000")
			}
			cfg := XDPConfig{RxFrames: rxFrames, TxFrames: frames, FrameSize: 2048, XDPMode: mode}
			err := inNetns(p.nsA, func() error {
				rx, err := NewRxSocket(p.ifA, 0, cfg)
				if err == nil {
					rx.Close()
				}
				return err
			})
			if !errors.Is(err, syscall.EMSGSIZE) || !strings.Contains(err.Error(), "9000") {
				t.Fatalf("2 KiB frames on MTU 9000 without MultiBuffer: %v", err)
			}
			// ShortFrames accepts what MTU 9000 refuses: the kernel drops the longer packets.
			short := cfg
			short.ShortFrames = true
			if err := inNetns(p.nsA, func() error {
				rx, err := NewRxSocket(p.ifA, 0, short)
				if err == nil {
					rx.Close()
				}
				return err
			}); err != nil {
				t.Fatalf("2 KiB frames on MTU 9000 with ShortFrames: %v", err)
			}
			cfg.MultiBuffer = true
			tx, rx := openBi(t, p.nsA, p.ifA, cfg)
			if got := tx.MaxLen(); got != 9018 {
				t.Errorf("MaxLen = %d, want 9018 (MTU plus 18)", got)
			}
			pr := newPeer(t, p.nsB, p.ifB)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			// RX: the peer's packets, gathered.
			const n = 24
			for seq := uint32(0); seq < n; seq++ {
				pr.send(t, testFrame(seq, jumboLen(seq)))
			}
			buf := make([]byte, 9100)
			for seq := uint32(0); seq < n; {
				b := buf
				if seq == 2 {
					b = buf[:5000] // a 9014-byte packet into 5000 bytes
				}
				k, err := rx.RecvCopy(b)
				if err != nil {
					t.Fatalf("RecvCopy: %v", err)
				}
				if k == 0 {
					if err := rx.WaitRecv(ctx); err != nil {
						t.Fatalf("WaitRecv after %d packets: %v", seq, err)
					}
					continue
				}
				want := testFrame(seq, jumboLen(seq))
				c := k // the bytes copied: at most len(b)
				if c > len(b) {
					c = len(b)
				}
				if k != len(want) || !bytes.Equal(b[:c], want[:c]) {
					t.Fatalf("packet %d: %d bytes %x, want %d bytes %x", seq, k, head(b), len(want), head(want))
				}
				seq++
			}
			// Recv: frames of whole packets, each but a packet's last Continued.
			for seq := uint32(200); seq < 212; seq++ {
				pr.send(t, testFrame(seq, jumboLen(seq)))
			}
			pkts := make([]Packet, 10)
			var whole []byte
			for seq := uint32(200); seq < 212; {
				k, err := rx.Recv(pkts)
				if err != nil {
					t.Fatalf("Recv: %v", err)
				}
				if k == 0 {
					if err := rx.WaitRecv(ctx); err != nil {
						t.Fatalf("WaitRecv after %d packets: %v", seq-200, err)
					}
					continue
				}
				if pkts[k-1].Continued {
					t.Fatalf("Recv returned %d frames ending inside a packet", k)
				}
				for _, pk := range pkts[:k] {
					whole = append(whole, pk.Data...)
					if pk.Continued {
						continue
					}
					if want := testFrame(seq, jumboLen(seq)); !bytes.Equal(whole, want) {
						t.Fatalf("Recv packet %d: %d bytes %x, want %d bytes %x", seq, len(whole), head(whole),
							len(want), head(want))
					}
					whole = whole[:0]
					seq++
				}
				if err := rx.Release(); err != nil {
					t.Fatalf("Release: %v", err)
				}
			}
			checkRxFrames(t, "after the jumbo packets", rx, rxFrames)
			st, err := rx.Stats()
			checkCleanStats(t, "rx", st, err)

			// TX: 20 packets of 9000 or 9014 bytes take 5 frames each: 100
			// frames through a half of 32.
			var sent [][]byte
			for seq := uint32(100); seq < 120; seq++ {
				pkt := testFrame(seq, 9000+14*int(seq%2))
				for {
					ok, err := tx.Send(pkt)
					if err != nil {
						t.Fatalf("Send %d: %v", seq, err)
					}
					if ok {
						break
					}
					if err := tx.WaitSend(ctx); err != nil {
						t.Fatalf("WaitSend before packet %d: %v", seq, err)
					}
				}
				sent = append(sent, pkt)
			}
			got := pr.recv(t, len(sent), 5*time.Second)
			if len(got) != len(sent) {
				t.Fatalf("the peer received %d of %d packets", len(got), len(sent))
			}
			for i := range sent {
				if !bytes.Equal(got[i], sent[i]) {
					t.Fatalf("peer packet %d: %d bytes %x, want %d bytes %x", i, len(got[i]), head(got[i]),
						len(sent[i]), head(sent[i]))
				}
			}
			if f, i := tx.FreeFrames(), tx.InFlightFrames(); f+i != frames {
				t.Errorf("TX frames: free %d + in flight %d != %d", f, i, frames)
			}
			if _, err := tx.Send(make([]byte, 9019)); !errors.Is(err, syscall.EMSGSIZE) {
				t.Errorf("Send of 9019 bytes: %v, want EMSGSIZE", err)
			}
			st, err = tx.Stats()
			checkCleanStats(t, "tx", st, err)
		})
	}
}
