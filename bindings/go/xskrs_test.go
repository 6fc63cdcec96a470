package xskrs

// Tests over a veth pair between two network namespaces that each test makes
// for itself (names carry the PID; removed at the end). The xsk_rs socket
// lives in namespace B on ifB; an AF_PACKET socket in namespace A on ifA is
// the peer. Without root the packet tests skip with a reason, but under
// CI=true they fail instead.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

const (
	testEtherType  = 0x88B5
	ethPAll        = 0x0003
	packetOutgoing = 4 // sll_pkttype of frames this host sent
)

func inCI() bool { v := os.Getenv("CI"); return v == "true" || v == "1" }

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	const why = "needs root (network namespaces, a veth pair, AF_XDP and an XDP program)"
	if inCI() {
		t.Fatal(why + ", and CI=true forbids skipping")
	}
	t.Skip(why + "; rerun as root")
}

// testFrame builds frame seq of length n in tests/c/peer_send.c's layout.
func testFrame(seq uint32, n int) []byte {
	f := make([]byte, n)
	copy(f, []byte{0x02, 0x58, 0x53, 0x4b, 0x00, 0x02, 0x02, 0x58, 0x53, 0x4b, 0x00, 0x01, 0x88, 0xB5})
	binary.BigEndian.PutUint32(f[14:], seq)
	for i := 0; 18+i < n; i++ {
		f[18+i] = byte(seq*131 + uint32(i)*7 + 1)
	}
	return f
}

// head is the start of a frame, for messages.
func head(f []byte) []byte {
	if len(f) > 18 {
		return f[:18]
	}
	return f
}

// frameLen gives frames of varied lengths, 60..1500.
func frameLen(seq uint32) int { return 60 + int(seq*97)%1441 }

var pairSeq int32

type pair struct{ nsA, ifA, nsB, ifB string }

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// newPair makes two namespaces joined by a veth pair with one queue per
// end and IPv6 off, both ends up; removed when the test ends.
func newPair(t *testing.T) *pair {
	t.Helper()
	n := atomic.AddInt32(&pairSeq, 1)
	p := &pair{
		nsA: fmt.Sprintf("xskrs-go-%d-%d-a", os.Getpid(), n), ifA: "veth0",
		nsB: fmt.Sprintf("xskrs-go-%d-%d-b", os.Getpid(), n), ifB: "veth1",
	}
	for _, ns := range []string{p.nsA, p.nsB} {
		ns := ns
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	}
	run(t, "ip", "-n", p.nsA, "link", "add", p.ifA, "numrxqueues", "1", "numtxqueues", "1", "type", "veth",
		"peer", "name", p.ifB, "netns", p.nsB, "numrxqueues", "1", "numtxqueues", "1")
	run(t, "ip", "-n", p.nsA, "link", "set", "dev", p.ifA, "up")
	run(t, "ip", "-n", p.nsB, "link", "set", "dev", p.ifB, "up")
	return p
}

// noXDPLeft fails the test if ifB still carries an XDP program.
func (p *pair) noXDPLeft(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ip", "-n", p.nsB, "-d", "link", "show", "dev", p.ifB).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show: %v\n%s", err, out)
	}
	for _, w := range strings.Fields(string(out)) {
		if strings.HasPrefix(w, "xdp") || strings.HasPrefix(w, "prog/xdp") {
			t.Fatalf("an XDP program is left on %s:\n%s", p.ifB, out)
		}
	}
}

// inNetns runs fn on an OS thread switched into namespace ns. The thread is
// locked for the duration and switched back afterwards; if switching back
// fails, the goroutine ends still locked, so Go discards the thread.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := setns(target.Fd()); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := setns(orig.Fd()); err != nil {
			errc <- fmt.Errorf("setns back from %s: %w", ns, err)
			return // still locked: the thread is thrown away
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// sysSetns is setns(2)'s number; Go 1.19's syscall package lacks SYS_SETNS.
var sysSetns = map[string]uintptr{"amd64": 308, "386": 346, "arm64": 268, "riscv64": 268, "arm": 375,
	"ppc64le": 350, "s390x": 339}[runtime.GOARCH]

func setns(fd uintptr) error {
	if sysSetns == 0 {
		return fmt.Errorf("setns: syscall number unknown for %s", runtime.GOARCH)
	}
	if _, _, e := syscall.Syscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// peer is an AF_PACKET socket bound to one interface.
type peer struct{ fd int }

func newPeer(t *testing.T, ns, ifname string) *peer {
	t.Helper()
	var fd int
	err := inNetns(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err = syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, int(htons(ethPAll)))
		if err != nil {
			return err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifi.Index}); err != nil {
			syscall.Close(fd)
			return err
		}
		// Room for the tests' bursts (20 jumbo frames overflow the default),
		// as tests/c/harness.h's peer: SO_RCVBUFFORCE passes rmem_max as root.
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 8<<20); err != nil {
			syscall.Close(fd)
			return err
		}
		tv := syscall.Timeval{Usec: 100000}
		return syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		t.Fatalf("AF_PACKET peer on %s/%s: %v", ns, ifname, err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return &peer{fd}
}

func (p *peer) send(t *testing.T, f []byte) {
	t.Helper()
	if n, err := syscall.Write(p.fd, f); err != nil || n != len(f) {
		t.Fatalf("peer send: %d, %v", n, err)
	}
}

// recv collects incoming test frames until want arrived and then quiet for
// a while (to catch extra ones), or until the deadline.
func (p *peer) recv(t *testing.T, want int, deadline time.Duration) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 65536) // jumbo frames too (TestPacketJumbo)
	end := time.Now().Add(deadline)
	quietUntil := time.Time{}
	for time.Now().Before(end) {
		if len(got) >= want {
			if quietUntil.IsZero() {
				quietUntil = time.Now().Add(300 * time.Millisecond)
			} else if time.Now().After(quietUntil) {
				break
			}
		}
		n, from, err := syscall.Recvfrom(p.fd, buf, 0)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("peer recv: %v", err)
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == packetOutgoing {
			continue
		}
		if n < 18 || binary.BigEndian.Uint16(buf[12:]) != testEtherType {
			continue
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
	return got
}

// openIn creates a UMEM and a socket in namespace ns.
func openIn(t *testing.T, ns, ifname string, ucfg UmemConfig, scfg SocketConfig) (*Umem, *Socket) {
	t.Helper()
	var u *Umem
	var s *Socket
	err := inNetns(ns, func() error {
		var err error
		if u, err = NewUmem(ucfg); err != nil {
			return err
		}
		if s, err = NewSocket(ifname, 0, u, scfg); err != nil {
			u.Close()
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("open socket on %s/%s: %v", ns, ifname, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("socket close: %v", err)
		}
		if err := u.Close(); err != nil {
			t.Errorf("umem close: %v", err)
		}
	})
	return u, s
}

// fillAll lends the kernel every frame of u.
func fillAll(t *testing.T, u *Umem) {
	t.Helper()
	addrs := make([]uint64, u.FrameCount())
	for i := range addrs {
		addrs[i] = uint64(i) * uint64(u.FrameSize())
	}
	if n, err := u.Fill(addrs); n != len(addrs) || err != nil {
		t.Fatalf("Fill took %d of %d frames: %v", n, len(addrs), err)
	}
}

// checkFrames fails t unless got is exactly test frames 0..count-1, in order.
func checkFrames(t *testing.T, who string, got [][]byte, count uint32) {
	t.Helper()
	if len(got) != int(count) {
		t.Fatalf("%s %d frames, want %d", who, len(got), count)
	}
	for seq := uint32(0); seq < count; seq++ {
		if want := testFrame(seq, frameLen(seq)); !bytes.Equal(got[seq], want) {
			t.Fatalf("frame %d: got %d bytes % x..., want %d bytes % x...",
				seq, len(got[seq]), head(got[seq]), len(want), head(want))
		}
	}
}

func TestDescLayout(t *testing.T) {
	var d Desc
	got := [4]uintptr{unsafe.Sizeof(d), unsafe.Offsetof(d.Addr), unsafe.Offsetof(d.Len), unsafe.Offsetof(d.Options)}
	if want := descLayout(); got != want {
		t.Fatalf("Desc layout (size, addr, len, options) = %v, C xsk_rs_desc = %v", got, want)
	}
	if got[0] != 16 {
		t.Fatalf("Desc is %d bytes, want 16", got[0])
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Fatalf("Version() = %q", v)
	}
}

func TestReceive(t *testing.T) {
	needRoot(t)
	for _, mode := range []XDPMode{XDPModeSKB, XDPModeDRV} {
		mode := mode
		t.Run(mode.String(), func(t *testing.T) {
			const count = 40
			p := newPair(t)
			// 64 frames, a fill ring with room for them all twice over (the
			// kernel publishes its consumer index lazily).
			u, s := openIn(t, p.nsB, p.ifB, UmemConfig{FrameCount: 64, FrameSize: 2048, FillSize: 128},
				SocketConfig{NoTx: true, XDPMode: mode})
			fillAll(t, u)
			pr := newPeer(t, p.nsA, p.ifA)
			for seq := uint32(0); seq < count; seq++ {
				pr.send(t, testFrame(seq, frameLen(seq)))
			}
			descs := make([]Desc, 16)
			var got [][]byte
			for end := time.Now().Add(3 * time.Second); len(got) < count && time.Now().Before(end); {
				if _, err := s.WaitReadable(100 * time.Millisecond); err != nil {
					t.Fatal(err)
				}
				n, err := s.Receive(descs)
				if err != nil {
					t.Fatal(err)
				}
				addrs := make([]uint64, 0, n)
				for _, d := range descs[:n] {
					f := u.Frame(d.Addr, int(d.Len))
					if f == nil {
						t.Fatalf("descriptor %+v outside the UMEM", d)
					}
					got = append(got, append([]byte(nil), f...))
					addrs = append(addrs, u.FrameStart(d.Addr))
				}
				if m, err := u.Fill(addrs); m != n || err != nil {
					t.Fatalf("Fill took %d of %d: %v", m, n, err)
				}
			}
			// Anything more would be a duplicate or a foreign frame.
			time.Sleep(200 * time.Millisecond)
			if n, err := s.Receive(descs); n != 0 || err != nil {
				t.Errorf("%d extra frames after the %d sent (%v)", n, count, err)
			}
			checkFrames(t, "received", got, count)
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st != (Stats{}) {
				t.Errorf("counters after a clean run: %+v", st)
			}
			if zc, err := s.IsZerocopy(); err != nil || zc {
				t.Errorf("IsZerocopy on veth = %v, %v; want false, nil", zc, err)
			}
			if m, err := s.XDPMode(); err != nil || m != mode {
				t.Errorf("XDPMode = %v, %v; want %v, nil", m, err, mode)
			}
			s.Close()
			p.noXDPLeft(t)
		})
	}
}

func TestTransmit(t *testing.T) {
	needRoot(t)
	const count = 40
	p := newPair(t)
	pr := newPeer(t, p.nsA, p.ifA)
	// An explicit TX budget reaches the library (the socket would refuse a bad one).
	u, s := openIn(t, p.nsB, p.ifB, UmemConfig{FrameCount: 64, FrameSize: 2048}, SocketConfig{NoRx: true, TxBudget: 64})
	descs := make([]Desc, count)
	for seq := uint32(0); seq < count; seq++ {
		addr := uint64(seq) * uint64(u.FrameSize())
		f := testFrame(seq, frameLen(seq))
		copy(u.Frame(addr, len(f)), f)
		descs[seq] = Desc{Addr: addr, Len: uint32(len(f))}
	}
	comp := make([]uint64, 64)
	done := map[uint64]bool{}
	sent := 0
	for end := time.Now().Add(3 * time.Second); len(done) < count && time.Now().Before(end); {
		n, err := s.Transmit(descs[sent:])
		if err != nil {
			t.Fatal(err)
		}
		sent += n
		if w, err := s.TxNeedsWakeup(); err != nil {
			t.Fatal(err)
		} else if w {
			if err := s.Kick(); err != nil {
				t.Fatal(err)
			}
		}
		c, err := u.Completed(comp)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range comp[:c] {
			if done[a] {
				t.Fatalf("address %#x completed twice", a)
			}
			done[a] = true
		}
	}
	if sent != count || len(done) != count {
		t.Fatalf("queued %d, completed %d, want %d", sent, len(done), count)
	}
	got := pr.recv(t, count, 3*time.Second)
	checkFrames(t, "peer received", got, count)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.TxInvalidDescs != 0 {
		t.Errorf("tx_invalid_descs = %d", st.TxInvalidDescs)
	}
}

// An empty fill ring: every frame finds no buffer to land in.
func TestStatsFillRingEmpty(t *testing.T) {
	needRoot(t)
	for _, mode := range []XDPMode{XDPModeSKB, XDPModeDRV} {
		mode := mode
		t.Run(mode.String(), func(t *testing.T) {
			const count = 25
			p := newPair(t)
			_, s := openIn(t, p.nsB, p.ifB, UmemConfig{FrameCount: 64, FrameSize: 2048}, SocketConfig{NoTx: true, XDPMode: mode})
			pr := newPeer(t, p.nsA, p.ifA)
			for seq := uint32(0); seq < count; seq++ {
				pr.send(t, testFrame(seq, 100))
			}
			st := waitStats(t, s, func(st Stats) bool { return st.RxFillRingEmptyDescs >= count })
			if st.RxFillRingEmptyDescs != count {
				t.Errorf("rx_fill_ring_empty_descs = %d, want %d", st.RxFillRingEmptyDescs, count)
			}
			// The kernel counts such a frame as dropped, too (__xsk_rcv).
			if st.RxDropped != count || st.RxRingFull != 0 || st.RxInvalidDescs != 0 {
				t.Errorf("counters: %+v", st)
			}
			if n, err := s.Receive(make([]Desc, 8)); n != 0 || err != nil {
				t.Errorf("received %d frames with an empty fill ring (%v)", n, err)
			}
		})
	}
}

// A full RX ring: the first RxSize frames land, the rest are counted.
func TestStatsRxRingFull(t *testing.T) {
	needRoot(t)
	const ring, count = 32, 50
	p := newPair(t)
	u, s := openIn(t, p.nsB, p.ifB, UmemConfig{FrameCount: 64, FrameSize: 2048, FillSize: 64},
		SocketConfig{NoTx: true, RxSize: ring, XDPMode: XDPModeDRV})
	fillAll(t, u)
	pr := newPeer(t, p.nsA, p.ifA)
	for seq := uint32(0); seq < count; seq++ {
		pr.send(t, testFrame(seq, 100))
	}
	st := waitStats(t, s, func(st Stats) bool { return st.RxRingFull >= count-ring })
	if st.RxRingFull != count-ring || st.RxFillRingEmptyDescs != 0 {
		t.Errorf("rx_ring_full = %d (want %d), rx_fill_ring_empty_descs = %d (want 0)",
			st.RxRingFull, count-ring, st.RxFillRingEmptyDescs)
	}
	descs := make([]Desc, 64)
	n, err := s.Receive(descs)
	if n != ring || err != nil {
		t.Fatalf("took %d frames from a full RX ring of %d (%v)", n, ring, err)
	}
	for i, d := range descs[:n] {
		if f := u.Frame(d.Addr, int(d.Len)); !bytes.Equal(f, testFrame(uint32(i), 100)) {
			t.Fatalf("frame %d differs", i)
		}
	}
}

// waitStats reads the counters until ok says yes or 2 s pass.
func waitStats(t *testing.T, s *Socket, ok func(Stats) bool) Stats {
	t.Helper()
	var st Stats
	var err error
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if st, err = s.Stats(); err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			time.Sleep(100 * time.Millisecond) // catch counts past the target, too
			if st, err = s.Stats(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	return st
}

func TestCloseTwice(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	var u *Umem
	var s *Socket
	err := inNetns(p.nsB, func() error {
		var err error
		if u, err = NewUmem(UmemConfig{}); err != nil {
			return err
		}
		s, err = NewSocket(p.ifB, 0, u, SocketConfig{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.FrameCount() != 4096 || u.FrameSize() != 4096 || u.Size() != 4096*4096 || len(u.Area()) != 4096*4096 {
		t.Errorf("default UMEM: %d frames of %d, size %d", u.FrameCount(), u.FrameSize(), u.Size())
	}
	if s.Fd() < 0 || u.Fd() < 0 {
		t.Errorf("fds: socket %d, umem %d", s.Fd(), u.Fd())
	}
	if u.Frame(u.Size()-10, 11) != nil || u.Frame(u.Size()-10, 10) == nil || u.Frame(^uint64(0), 1) != nil ||
		u.Frame(0, -1) != nil {
		t.Error("Frame bounds checks")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second socket Close: %v", err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("second umem Close: %v", err)
	}
	// Everything on closed objects fails softly.
	d := make([]Desc, 4)
	a := make([]uint64, 4)
	if s.Fd() != -1 || u.Fd() != -1 || u.Area() != nil || u.Frame(0, 1) != nil || u.FrameCount() != 0 {
		t.Error("accessors on closed objects")
	}
	for name, err := range map[string]error{
		"Receive":         second(s.Receive(d)),
		"Transmit":        second(s.Transmit(d)),
		"Fill":            second(u.Fill(a)),
		"Completed":       second(u.Completed(a)),
		"TxNeedsWakeup":   second(s.TxNeedsWakeup()),
		"FillNeedsWakeup": second(u.FillNeedsWakeup()),
		"Kick":            s.Kick(),
		"Stats":           second(s.Stats()),
		"Poll":            second(s.Poll(PollIn, 0)),
		"IsZerocopy":      second(s.IsZerocopy()),
		"XDPMode":         second(s.XDPMode()),
		"UpdateXskmap":    s.UpdateXskmap(0),
		"NewSocket":       second(NewSocket(p.ifB, 0, u, SocketConfig{})),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	p.noXDPLeft(t)
}

func second[T any](_ T, err error) error { return err }

func TestErrors(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	err := inNetns(p.nsB, func() error {
		u, err := NewUmem(UmemConfig{FrameCount: 64, FrameSize: 2048})
		if err != nil {
			return err
		}
		defer u.Close()

		// No such interface: ENODEV, with the library's message.
		_, err = NewSocket("nosuchif0", 0, u, SocketConfig{})
		var xe *Error
		if !errors.Is(err, syscall.ENODEV) || !errors.As(err, &xe) || !strings.Contains(xe.Msg, "nosuchif0") ||
			!strings.Contains(err.Error(), xe.Msg) {
			t.Errorf("NewSocket on a missing interface: %v (%#v)", err, err)
		} else {
			t.Logf("missing interface: %v", err)
		}

		// Queue out of range (veth1 has one queue): EINVAL.
		if _, err = NewSocket(p.ifB, 3, u, SocketConfig{}); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("queue 3 of a one-queue veth: %v", err)
		}

		// veth has no zero-copy.
		if _, err = NewSocket(p.ifB, 0, u, SocketConfig{BindFlags: BindZerocopy}); !errors.Is(err, syscall.EOPNOTSUPP) ||
			!errors.As(err, &xe) || xe.Msg == "" {
			t.Errorf("zero-copy on veth: %v", err)
		} else {
			t.Logf("zero-copy on veth: %v", err)
		}

		// A UMEM in use cannot be closed; it stays usable.
		s, err := NewSocket(p.ifB, 0, u, SocketConfig{})
		if err != nil {
			return err
		}
		err = u.Close()
		if !errors.Is(err, syscall.EBUSY) || !errors.As(err, &xe) || xe.Msg == "" {
			t.Errorf("closing a UMEM in use: %v", err)
		} else {
			t.Logf("UMEM in use: %v", err)
		}
		// Not an XSKMAP: the kernel's answer, with the library's message.
		if err := s.UpdateXskmap(s.Fd()); !errors.As(err, &xe) || xe.Msg == "" {
			t.Errorf("UpdateXskmap on a non-map fd: %v", err)
		} else {
			t.Logf("UpdateXskmap on a non-map fd: %v", err)
		}
		// Neither ring: EINVAL.
		if _, err := NewSocket(p.ifB, 0, u, SocketConfig{NoRx: true, NoTx: true}); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("a socket without rings: %v", err)
		}
		// A TX budget below the kernel's minimum: EINVAL, named.
		_, err = NewSocket(p.ifB, 0, u, SocketConfig{TxBudget: TxBudgetMin - 1})
		if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &xe) || !strings.Contains(xe.Msg, "tx budget 31") {
			t.Errorf("TxBudget 31: %v", err)
		}
		if n, err := u.Fill([]uint64{0}); u.Fd() < 0 || n != 1 || err != nil {
			t.Errorf("the UMEM did not stay open after EBUSY: Fill %d, %v", n, err)
		}
		if err := s.Close(); err != nil {
			return err
		}
		return u.Close()
	})
	if err != nil {
		t.Fatal(err)
	}

	// A bad UMEM config: EINVAL, the message names the setting.
	_, err = NewUmem(UmemConfig{FrameSize: 1000})
	var xe *Error
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &xe) || !strings.Contains(xe.Msg, "frame size 1000") {
		t.Errorf("NewUmem with frame size 1000: %v", err)
	}
	p.noXDPLeft(t)
}

// The message travels with its own failure even when many goroutines fail at
// once (xsk_rs_last_error is per thread; the shim reads it in the same call).
// A ring call the library refuses returns a negative errno, which the
// package turns into an *Error, never a count: here Fill while a raw reserve
// is open on the fill ring. A UMEM alone needs no interface.
func TestRefusedRingCall(t *testing.T) {
	needRoot(t)
	u, err := NewUmem(UmemConfig{FrameCount: 16, FrameSize: 2048, FillSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if n := rawFillReserve(u, 1); n != 1 {
		t.Fatalf("xsk_rs_fill_reserve(1) = %d", n)
	}
	n, err := u.Fill([]uint64{0})
	var xe *Error
	if n != 0 || !errors.Is(err, syscall.EINVAL) || !errors.As(err, &xe) ||
		!strings.Contains(xe.Msg, "xsk_rs_fill_put: 1 entries reserved and not yet submitted") {
		t.Errorf("Fill with a reserve open = %d, %v; want 0 and EINVAL with the library's message", n, err)
	}
	if n := rawFillSubmit(u, 2); n != 1 {
		t.Errorf("xsk_rs_fill_submit(2) after reserving 1 = %d, want 1", n)
	}
	if n, err := u.Fill([]uint64{2048}); n != 1 || err != nil {
		t.Errorf("Fill after the submit = %d, %v", n, err)
	}
}

// The unaligned-mode helpers, computed in Go, agree with the library's.
func TestAddrHelpers(t *testing.T) {
	for _, a := range []uint64{0, 0x1234, 3<<48 | 0x1234, 1<<48 - 1, 1 << 48, ^uint64(0)} {
		got := [3]uint64{ExtractAddr(a), ExtractOffset(a), AddOffsetToAddr(a)}
		if want := cAddrHelpers(a); got != want {
			t.Errorf("%#x: Go %#x, C %#x", a, got, want)
		}
	}
	if AddOffsetToAddr(3<<48|0x1234) != 0x1237 || ExtractOffset(^uint64(0)) != 0xffff {
		t.Error("helpers: wrong values")
	}
}

// Sizes, fill levels, headroom, ifindex, queue id and the XSKMAP fd, each
// with a value of its own; FrameStart agrees with the library's.
func TestGetters(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	u, s := openIn(t, p.nsB, p.ifB,
		UmemConfig{FrameCount: 64, FrameSize: 2048, FrameHeadroom: 128, FillSize: 128, CompSize: 32},
		SocketConfig{RxSize: 32, TxSize: 64, XDPMode: XDPModeDRV})
	if u.FrameHeadroom() != 128 || u.FillSize() != 128 || u.CompSize() != 32 || s.RxSize() != 32 || s.TxSize() != 64 {
		t.Errorf("headroom %d, fill %d, comp %d, rx %d, tx %d; want 128, 128, 32, 32, 64",
			u.FrameHeadroom(), u.FillSize(), u.CompSize(), s.RxSize(), s.TxSize())
	}
	if s.TxMaxLen() != 1518 {
		t.Errorf("TxMaxLen %d; want 1518 (veth's MTU 1500 + 18)", s.TxMaxLen())
	}
	for _, a := range []uint64{0, 2048, 5*2048 + 300, 64*2048 - 1, ^uint64(0)} {
		if u.FrameStart(a) != cFrameStart(u, a) {
			t.Errorf("FrameStart(%#x) = %#x, the library says %#x", a, u.FrameStart(a), cFrameStart(u, a))
		}
	}
	if n, err := u.FillNbFree(^uint32(0)); n != 128 || err != nil {
		t.Errorf("FillNbFree on an empty fill ring = %d, %v; want 128", n, err)
	}
	if n, err := u.Fill([]uint64{0, 2048, 4096}); n != 3 || err != nil {
		t.Fatalf("Fill = %d, %v", n, err)
	}
	if n, err := u.FillNbFree(^uint32(0)); n != 125 || err != nil {
		t.Errorf("FillNbFree after lending 3 = %d, %v; want 125", n, err)
	}
	if n, err := u.FillNbFree(5); n != 5 || err != nil {
		t.Errorf("FillNbFree(5) = %d, %v; want 5", n, err)
	}
	for name, f := range map[string]func(uint32) (int, error){
		"CompNbAvail": u.CompNbAvail, "RxNbAvail": s.RxNbAvail,
	} {
		if n, err := f(8); n != 0 || err != nil {
			t.Errorf("%s on an empty ring = %d, %v; want 0, nil", name, n, err)
		}
	}
	if n, err := s.TxNbFree(^uint32(0)); n != 64 || err != nil {
		t.Errorf("TxNbFree on an empty TX ring = %d, %v; want 64", n, err)
	}
	var want int
	if err := inNetns(p.nsB, func() error {
		ifc, err := net.InterfaceByName(p.ifB)
		if err == nil {
			want = ifc.Index
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Ifindex(); got != want || err != nil {
		t.Errorf("Ifindex = %d, %v; want %d", got, err, want)
	}
	if q := cQueueID(s); q != 0 || s.Queue() != 0 {
		t.Errorf("queue id %d (Go %d), want 0", q, s.Queue())
	}
	if fd, err := s.XskmapFd(); fd < 0 || fd == s.Fd() || err != nil {
		t.Errorf("XskmapFd of a socket with the library's program = %d, %v", fd, err)
	}
	// A socket in mode None (on the other end, with a UMEM of its own) has
	// no XSKMAP.
	var u2 *Umem
	var s2 *Socket
	if err := inNetns(p.nsA, func() error {
		var err error
		if u2, err = NewUmem(UmemConfig{FrameCount: 16, FrameSize: 2048}); err != nil {
			return err
		}
		s2, err = NewSocket(p.ifA, 0, u2, SocketConfig{XDPMode: XDPModeNone})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fd, err := s2.XskmapFd()
	var xe *Error
	if fd != -1 || !errors.Is(err, syscall.ENOENT) || !errors.As(err, &xe) || !strings.Contains(xe.Msg, "no XDP program") {
		t.Errorf("XskmapFd in mode None = %d, %v; want -1 and ENOENT with the library's message", fd, err)
	}
	s2.Close()
	u2.Close()
	if _, err := s2.XskmapFd(); !errors.Is(err, ErrClosed) {
		t.Errorf("XskmapFd after Close: %v", err)
	}
	if s2.RxSize() != 0 || u2.FillSize() != 0 || u2.FrameHeadroom() != 0 {
		t.Error("sizes after Close are not 0")
	}
}

func TestErrorMessagesConcurrent(t *testing.T) {
	needRoot(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		g := g
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				size := uint32(1000 + 8*g + i%8)
				_, err := NewUmem(UmemConfig{FrameCount: 16, FrameSize: size})
				var xe *Error
				if !errors.As(err, &xe) || !strings.Contains(xe.Msg, fmt.Sprint(size)) {
					t.Errorf("frame size %d: %v", size, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Lending gives the C helper's sizes, and a Umem and Socket made from them
// take every frame on the fill ring at once.
func TestLending(t *testing.T) {
	u, s, err := Lending(1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := [5]uint32{u.FrameCount, u.FillSize, u.CompSize, s.RxSize, s.TxSize}; got != [5]uint32{1000, 2048, 1024, 1024, 1024} {
		t.Fatalf("Lending(1000) sizes (frames, fill, comp, rx, tx) = %v", got)
	}
	if u.FrameSize != 0 || u.Flags != 0 || s.BindFlags != 0 || s.XDPMode != XDPModeAuto || s.NoRx || s.NoTx {
		t.Fatalf("Lending set more than the sizes: %+v %+v", u, s)
	}
	u, s, err = Lending(4096)
	if err != nil || u.FillSize != 8192 || u.CompSize != 4096 || s.RxSize != 4096 || s.TxSize != 4096 {
		t.Fatalf("Lending(4096), the defaults' sizes: %+v %+v %v", u, s, err)
	}
	for _, bad := range []uint32{0, 1<<29 + 1, ^uint32(0)} {
		_, _, err := Lending(bad)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, syscall.EINVAL) || !strings.Contains(e.Msg, fmt.Sprintf("lend %d frames", bad)) {
			t.Errorf("Lending(%d): %v", bad, err)
		}
	}

	needRoot(t)
	p := newPair(t)
	u, s, err = Lending(1000)
	if err != nil {
		t.Fatal(err)
	}
	s.NoTx = true
	umem, sock := openIn(t, p.nsB, p.ifB, u, s)
	if umem.FillSize() != 2048 || umem.CompSize() != 1024 || sock.RxSize() != 1024 {
		t.Fatalf("rings: fill %d, comp %d, rx %d", umem.FillSize(), umem.CompSize(), sock.RxSize())
	}
	fillAll(t, umem)
}

// Size a UMEM and a socket so that every one of 1000 frames can be lent to
// the kernel at once.
func ExampleLending() {
	ucfg, scfg, err := Lending(1000)
	if err != nil {
		panic(err)
	}
	scfg.NoTx = true // a receive-only socket
	// NewUmem(ucfg) and NewSocket(ifname, queue, umem, scfg) take them.
	fmt.Println(ucfg.FrameCount, ucfg.FillSize, ucfg.CompSize, scfg.RxSize)
	// Output: 1000 2048 1024 1024
}
