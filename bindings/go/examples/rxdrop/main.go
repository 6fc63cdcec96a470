// Command rxdrop receives packets on one queue of an interface through the Go
// binding of libxsk_rs and drops them, like `xsk_bench rxdrop -a batch`, so
// that bench/go_rxdrop.sh can compare the two.
//
//	rxdrop -i IFNAME [-q QUEUE] [-m auto|skb|drv] [-c | -z] [-W] [-p]
//	       [-b BATCH] [-f 2048|4096] [-d SECONDS] [-n COUNT]
//
// Output: "ready" on stderr once the socket is bound and the fill ring
// stocked; on stdout once a second
//
//	stats: t=SECS rx_pps=N tx_pps=0 rx_pkts=N tx_pkts=0 <the six counters>
//
// and at the end xsk_bench's summary line
//
//	summary: mode=rxdrop ifname=.. queue=.. xdp=.. bind=copy|zerocopy api=batch
//	         secs=S.mmm rx_pkts=N tx_pkts=0 rx_pps=N tx_pps=0 <the six counters>
//
// Exit status 0; 1 when a call fails or -n COUNT was not reached; 2 for bad
// usage.
//
// How it works: the geometry of xsk_bench (4096 frames, an RX ring of 2048, a
// fill ring of 8192 so that a frame handed back is never turned away: the
// kernel publishes its fill consumer index lazily). All frames start on the
// fill ring. Each loop turn takes up to BATCH descriptors with one Receive
// and hands their frames back with one Fill: two cgo calls per batch, none
// per packet, and nothing is allocated in the loop. On an empty turn, when
// the fill ring asks for a wakeup, it polls with a zero timeout. The clock is
// read once per turn (monotonic, no syscall) and the kernel's counters once
// per report.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	xskrs "xsk_rs/bindings/go"
)

const (
	frames  = 4096
	fill    = 2 * frames
	ring    = 2048
	pollFor = 100 * time.Millisecond // -p: longest wait, so reports and the clock stay live
)

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "rxdrop: %s: %v\n", what, err)
	os.Exit(1)
}

func usage(why string) {
	if why != "" {
		fmt.Fprintf(os.Stderr, "rxdrop: %s\n", why)
	}
	fmt.Fprintf(os.Stderr, "usage: rxdrop -i IFNAME [-q QUEUE] [-m auto|skb|drv] [-c | -z] [-W] [-p] [-b BATCH] [-f 2048|4096] [-d SECONDS] [-n COUNT]\n")
	flag.PrintDefaults()
	os.Exit(2)
}

func counters(st xskrs.Stats) string {
	return fmt.Sprintf("rx_dropped=%d rx_invalid_descs=%d tx_invalid_descs=%d rx_ring_full=%d rx_fill_ring_empty_descs=%d tx_ring_empty_descs=%d",
		st.RxDropped, st.RxInvalidDescs, st.TxInvalidDescs, st.RxRingFull, st.RxFillRingEmptyDescs, st.TxRingEmptyDescs)
}

func rate(pkts uint64, d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(float64(pkts)*1e9/float64(d) + 0.5)
}

func main() {
	ifname := flag.String("i", "", "interface, looked up in the network namespace rxdrop runs in")
	queue := flag.Uint("q", 0, "queue id")
	modeName := flag.String("m", "auto", "XDP mode of the built-in program: auto, skb or drv")
	copyMode := flag.Bool("c", false, "force copy mode")
	zerocopy := flag.Bool("z", false, "force zero-copy mode")
	noWakeup := flag.Bool("W", false, "no need_wakeup")
	usePoll := flag.Bool("p", false, "wait in poll(2) for the RX ring instead of spinning")
	batch := flag.Int("b", 64, "descriptors per ring operation, 1..2048")
	frameSize := flag.Uint("f", 4096, "UMEM frame size, 2048 or 4096")
	seconds := flag.Uint64("d", 0, "run this long; 0 runs until SIGINT/SIGTERM (or -n)")
	count := flag.Uint64("n", 0, "stop after COUNT packets received; 0 is no limit")
	flag.Usage = func() { usage("") }
	flag.Parse()

	if flag.NArg() != 0 {
		usage("unexpected argument")
	}
	if *ifname == "" {
		usage("-i IFNAME is required")
	}
	modes := map[string]xskrs.XDPMode{"auto": xskrs.XDPModeAuto, "skb": xskrs.XDPModeSKB, "drv": xskrs.XDPModeDRV}
	mode, ok := modes[*modeName]
	if !ok {
		usage("-m takes auto, skb or drv")
	}
	if *batch < 1 || *batch > ring {
		usage("-b takes 1..2048")
	}
	if *frameSize != 2048 && *frameSize != 4096 {
		usage("-f takes 2048 or 4096")
	}
	if *copyMode && *zerocopy {
		usage("-c and -z exclude each other")
	}
	if *queue > 0xffffffff {
		usage("-q is out of range")
	}

	var stop atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		stop.Store(true)
	}()

	umem, err := xskrs.NewUmem(xskrs.UmemConfig{FrameCount: frames, FrameSize: uint32(*frameSize), FillSize: fill, CompSize: frames})
	if err != nil {
		fail("cannot create the UMEM", err)
	}
	var bind uint32
	if *copyMode {
		bind = xskrs.BindCopy
	}
	if *zerocopy {
		bind = xskrs.BindZerocopy
	}
	sock, err := xskrs.NewSocket(*ifname, uint32(*queue), umem, xskrs.SocketConfig{
		RxSize: ring, NoTx: true, BindFlags: bind, NoNeedWakeup: *noWakeup, XDPMode: mode,
	})
	if err != nil {
		fail(fmt.Sprintf("cannot open a socket on %s queue %d", *ifname, *queue), err)
	}
	zc, err := sock.IsZerocopy()
	if err != nil {
		fail("IsZerocopy", err)
	}
	bindName := "copy"
	if zc {
		bindName = "zerocopy"
	}

	// Lend the kernel every frame; the fill ring holds them all.
	fsize := uint64(*frameSize)
	all := make([]uint64, frames)
	for i := range all {
		all[i] = uint64(i) * fsize
	}
	if n, err := umem.Fill(all); err != nil {
		fail("Fill", err)
	} else if n != frames {
		fmt.Fprintf(os.Stderr, "rxdrop: the fill ring took %d of %d frames\n", n, frames)
		os.Exit(1)
	}

	// What auto settled on, as xsk_bench reports it.
	inEffect, err := sock.XDPMode()
	if err != nil {
		fail("XDPMode", err)
	}
	fmt.Fprintf(os.Stderr, "rxdrop: libxsk_rs %s, go binding, rxdrop on %s queue %d, xdp %s, %s, need_wakeup %v, %s, api batch, batch %d, frame %d\n",
		xskrs.Version(), *ifname, *queue, inEffect, bindName, !*noWakeup, map[bool]string{true: "poll", false: "busy loop"}[*usePoll], *batch, *frameSize)
	fmt.Fprintln(os.Stderr, "ready")

	descs := make([]xskrs.Desc, *batch)
	addrs := make([]uint64, *batch)
	spare := make([]uint64, 0, frames) // frames the fill ring had no room for yet
	mask := fsize - 1
	wakeups := !*noWakeup && !*usePoll
	var rxPkts, lastRx uint64
	start := time.Now()
	var end time.Duration = 1<<63 - 1
	if *seconds > 0 {
		end = time.Duration(*seconds) * time.Second
	}
	nextReport, lastT := time.Second, time.Duration(0)

	for {
		if *usePoll {
			if _, err := sock.Poll(xskrs.PollIn, pollFor); err != nil {
				fail("Poll", err)
			}
		}
		if len(spare) > 0 {
			k := len(spare)
			if k > *batch {
				k = *batch
			}
			put, err := umem.Fill(spare[len(spare)-k:])
			if err != nil {
				fail("Fill", err)
			}
			spare = append(spare[:len(spare)-k], spare[len(spare)-k+put:]...)
		}
		want := len(descs)
		if *count > 0 && *count-rxPkts < uint64(want) {
			want = int(*count - rxPkts)
		}
		n, err := sock.Receive(descs[:want])
		if err != nil {
			fail("Receive", err)
		}
		if n > 0 {
			for i, d := range descs[:n] {
				addrs[i] = d.Addr &^ mask
			}
			put, err := umem.Fill(addrs[:n])
			if err != nil {
				fail("Fill", err)
			}
			if put < n {
				spare = append(spare, addrs[put:n]...)
			}
			rxPkts += uint64(n)
		} else if wakeups {
			if w, err := umem.FillNeedsWakeup(); err != nil {
				fail("FillNeedsWakeup", err)
			} else if w {
				if _, err := sock.Poll(xskrs.PollIn, 0); err != nil {
					fail("Poll", err)
				}
			}
		}
		if stop.Load() || (*count > 0 && rxPkts >= *count) {
			break
		}
		t := time.Since(start)
		if t >= end {
			break
		}
		if t >= nextReport {
			st, err := sock.Stats()
			if err != nil {
				fail("Stats", err)
			}
			fmt.Printf("stats: t=%.3f rx_pps=%d tx_pps=0 rx_pkts=%d tx_pkts=0 %s\n",
				t.Seconds(), rate(rxPkts-lastRx, t-lastT), rxPkts, counters(st))
			lastRx, lastT = rxPkts, t
			for nextReport <= t {
				nextReport += time.Second
			}
		}
	}

	t := time.Since(start)
	st, err := sock.Stats()
	if err != nil {
		fail("Stats", err)
	}
	fmt.Printf("summary: mode=rxdrop ifname=%s queue=%d xdp=%s bind=%s api=batch secs=%.3f rx_pkts=%d tx_pkts=0 rx_pps=%d tx_pps=0 %s\n",
		*ifname, *queue, inEffect, bindName, t.Seconds(), rxPkts, rate(rxPkts, t), counters(st))

	status := 0
	if *count > 0 && rxPkts < *count {
		fmt.Fprintf(os.Stderr, "rxdrop: stopped after %d of %d packets\n", rxPkts, *count)
		status = 1
	}
	if err := sock.Close(); err != nil {
		fail("closing the socket", err)
	}
	if err := umem.Close(); err != nil {
		fail("closing the UMEM", err)
	}
	os.Exit(status)
}
