// Command pktrxdrop receives packets on one queue of an interface through the
// Go binding's packet layer (RxSocket: Recv, Release) and drops them, the
// twin of xskbench's packet-layer rxdrop (bench/xskbench.c built with
// -DXSKBENCH_API_PKT), so that bench/go_rxdrop.sh -a pkt can compare the two.
//
//	pktrxdrop -i IFNAME [-q QUEUE] [-m auto|skb|drv] [-c | -z] [-W] [-p]
//	          [-b BATCH] [-f 2048|4096] [-w WARMUP_S] [-d SECONDS] [-n COUNT]
//
// Output, in the format of the rxdrop example and xsk_bench: "ready" on
// stderr once the socket is bound; on stdout once a second
//
//	stats: t=SECS rx_pps=N tx_pps=0 rx_pkts=N tx_pkts=0 <the six counters>
//
// and at the end
//
//	summary: mode=rxdrop ifname=.. queue=.. xdp=.. bind=copy|zerocopy api=pkt
//	         secs=S.mmm rx_pkts=N tx_pkts=0 rx_pps=N tx_pps=0 <the six counters>
//
// Exit status 0; 1 when a call fails or -n COUNT was not reached; 2 for bad
// usage.
//
// How it works: xskbench's packet-layer geometry (an RX half of 1024 frames,
// all lent to the kernel, RX and fill rings of 2048). Each loop turn takes up
// to BATCH packets with one Recv (xsk_rs_rxsock_recv_batch, which wakes the
// kernel for the fill ring when nothing arrived and it asks) and gives them
// back with one Release: two cgo calls per batch, none per packet, nothing
// allocated. With -p an empty turn waits in WaitRecv, parked in the Go
// netpoller. -w WARMUP_S runs that long before counting starts (xskbench's
// -w; 0 here by default). The clock is read once per turn (monotonic, no
// syscall) and the kernel's counters once per report.
package main

import (
	"context"
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
	frames = 1024
	ring   = 2048
)

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "pktrxdrop: %s: %v\n", what, err)
	os.Exit(1)
}

func usage(why string) {
	if why != "" {
		fmt.Fprintf(os.Stderr, "pktrxdrop: %s\n", why)
	}
	fmt.Fprintf(os.Stderr, "usage: pktrxdrop -i IFNAME [-q QUEUE] [-m auto|skb|drv] [-c | -z] [-W] [-p] [-b BATCH] [-f 2048|4096] [-w WARMUP_S] [-d SECONDS] [-n COUNT]\n")
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
	ifname := flag.String("i", "", "interface, looked up in the network namespace pktrxdrop runs in")
	queue := flag.Uint("q", 0, "queue id")
	modeName := flag.String("m", "auto", "XDP mode of the built-in program: auto, skb or drv")
	copyMode := flag.Bool("c", false, "force copy mode")
	zerocopy := flag.Bool("z", false, "force zero-copy mode")
	noWakeup := flag.Bool("W", false, "no need_wakeup")
	usePoll := flag.Bool("p", false, "wait in WaitRecv (the Go netpoller) when nothing arrived, instead of spinning")
	batch := flag.Int("b", 64, "packets per Recv, 1..1024")
	frameSize := flag.Uint("f", 4096, "UMEM frame size, 2048 or 4096")
	warmup := flag.Float64("w", 0, "seconds to run before counting starts")
	seconds := flag.Uint64("d", 0, "count this long; 0 runs until SIGINT/SIGTERM (or -n)")
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
	if *batch < 1 || *batch > frames {
		usage("-b takes 1..1024")
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
	if *warmup < 0 || *warmup > 3600 {
		usage("-w takes 0..3600")
	}

	// SIGINT/SIGTERM stop the loop, and end a wait in WaitRecv.
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stopSignals()
	var stop atomic.Bool
	go func() {
		<-ctx.Done()
		stop.Store(true)
	}()

	rx, err := xskrs.NewRxSocket(*ifname, uint32(*queue), xskrs.XDPConfig{
		RxFrames: frames, RxSize: ring, FillSize: ring, FrameSize: uint32(*frameSize),
		XDPMode: mode, Copy: *copyMode, Zerocopy: *zerocopy, NoNeedWakeup: *noWakeup,
	})
	if err != nil {
		fail(fmt.Sprintf("cannot open a socket on %s queue %d", *ifname, *queue), err)
	}
	zc, err := rx.IsZerocopy()
	if err != nil {
		fail("IsZerocopy", err)
	}
	bindName := "copy"
	if zc {
		bindName = "zerocopy"
	}
	inEffect, err := rx.XDPMode()
	if err != nil {
		fail("XDPMode", err)
	}
	fmt.Fprintf(os.Stderr, "pktrxdrop: libxsk_rs %s, go binding, packet layer, rxdrop on %s queue %d, xdp %s, %s, need_wakeup %v, %s, batch %d, frame %d, warmup %gs\n",
		xskrs.Version(), *ifname, *queue, inEffect, bindName, !*noWakeup,
		map[bool]string{true: "WaitRecv", false: "busy loop"}[*usePoll], *batch, *frameSize, *warmup)
	fmt.Fprintln(os.Stderr, "ready")

	pkts := make([]xskrs.Packet, *batch)
	var rxPkts, lastRx uint64
	warm := *warmup > 0
	warmFor := time.Duration(*warmup * float64(time.Second))
	start := time.Now()
	var end time.Duration = 1<<63 - 1
	if *seconds > 0 {
		end = time.Duration(*seconds) * time.Second
	}
	nextReport, lastT := time.Second, time.Duration(0)

	for {
		want := len(pkts)
		if *count > 0 && *count-rxPkts < uint64(want) {
			want = int(*count - rxPkts)
		}
		n, err := rx.Recv(pkts[:want])
		if err != nil {
			fail("Recv", err)
		}
		if n > 0 {
			if err := rx.Release(); err != nil {
				fail("Release", err)
			}
			rxPkts += uint64(n)
		} else if *usePoll {
			if err := rx.WaitRecv(ctx); err != nil && ctx.Err() == nil {
				fail("WaitRecv", err)
			}
		}
		if stop.Load() || (*count > 0 && rxPkts >= *count) {
			break
		}
		t := time.Since(start)
		if warm {
			if t >= warmFor {
				warm, rxPkts, start = false, 0, time.Now()
			}
			continue
		}
		if t >= end {
			break
		}
		if t >= nextReport {
			st, err := rx.Stats()
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
	st, err := rx.Stats()
	if err != nil {
		fail("Stats", err)
	}
	fmt.Printf("summary: mode=rxdrop ifname=%s queue=%d xdp=%s bind=%s api=pkt secs=%.3f rx_pkts=%d tx_pkts=0 rx_pps=%d tx_pps=0 %s\n",
		*ifname, *queue, inEffect, bindName, t.Seconds(), rxPkts, rate(rxPkts, t), counters(st))

	status := 0
	if *count > 0 && rxPkts < *count {
		fmt.Fprintf(os.Stderr, "pktrxdrop: stopped after %d of %d packets\n", rxPkts, *count)
		status = 1
	}
	if err := rx.Close(); err != nil {
		fail("closing the socket", err)
	}
	os.Exit(status)
}
