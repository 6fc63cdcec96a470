"""rxdrop from Python: receive as fast as possible on one queue, count the
packets and their bytes, drop them. A benchmark, not a test: bench/py_rxdrop.sh
runs it against the C packet layer on the same veth pair.

    python3 bench/py_rxdrop.py -i IFNAME [-q QUEUE] [-m skb|drv] [-a API] [-b BATCH]
                               [-w WARMUP_S] [-d SECONDS] [-n PACKETS]

API is how packets come in (xsk_rs.py from bindings/python; the library from
XSK_RS_LIB, as for the module's tests):
  batch   the packet layer's zero-copy batch, one C call per batch:
          `with rx.batch(BATCH) as pkts`, len() of each memoryview
  packed  the packet layer's copying batch, one C call per batch:
          rx.recv_packed(buf, lens) into one reused array, sum(lens[:n])
  recv    the packet layer, one packet per call: rx.recv() -> bytes
  ring    the ring API (Umem + Socket): sock.receive(BATCH) -> (addr, len)
          pairs, the frames back with umem.fill()
The geometry is xskbench's packet-layer build (bench/backend_xsk_rs_pkt.h):
1024 frames of 4096 bytes, all lent to the kernel, RX and fill rings of
2048. The loop spins (no poll), as xskbench's does.

Prints "ready" on stderr once the socket is up, then after WARMUP_S (default
1) counts for SECONDS (default 2), timed by ITIMER_REAL so the loop reads no
clock, and prints one JSON line on stdout in xskbench's format
({"kind":"rate","scenario":"rxdrop",...,"api":"py-API","mpps":...}) with the
bytes counted added. With -n, as xskbench -n: waits 200 ms for the peer to
fill the RX ring with the lent frames, then times the loop until PACKETS
were counted, so that up to 1024 are taken from a full ring: what receiving
costs when every batch is full, not how fast the peer sends.
"""

import argparse
import array
import json
import math
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import xsk_rs  # noqa: E402

FRAMES, FRAME_SIZE, RING = 1024, 4096, 2048

stop = False


def on_alarm(signum, frame):
    global stop
    stop = True


def loop_batch(rx, batch, sock_umem, limit):
    n = nbytes = 0
    recv_batch = rx.batch
    while not stop and n < limit:
        with recv_batch(batch) as pkts:
            if pkts:
                n += len(pkts)
                nbytes += sum(map(len, pkts))
    return n, nbytes


def loop_packed(rx, batch, sock_umem, limit):
    n = nbytes = 0
    buf = array.array("B", bytes(batch * FRAME_SIZE))
    lens = array.array("I", bytes(4 * batch))
    recv_packed = rx.recv_packed
    while not stop and n < limit:
        k = recv_packed(buf, lens)
        if k:
            n += k
            nbytes += sum(lens[:k])
    return n, nbytes


def loop_recv(rx, batch, sock_umem, limit):
    n = nbytes = 0
    recv = rx.recv
    while not stop and n < limit:
        p = recv()
        if p is not None:
            n += 1
            nbytes += len(p)
    return n, nbytes


def loop_ring(rx, batch, sock_umem, limit):
    sock, umem = sock_umem
    n = nbytes = 0
    fs = umem.frame_size
    receive, fill = sock.receive, umem.fill
    while not stop and n < limit:
        got = receive(batch)
        if got:
            n += len(got)
            nbytes += sum(length for _, length in got)
            fill([addr - addr % fs for addr, _ in got])
    return n, nbytes


LOOPS = {"batch": loop_batch, "packed": loop_packed, "recv": loop_recv, "ring": loop_ring}


def main():
    global stop
    ap = argparse.ArgumentParser(description="rxdrop from Python (a benchmark)")
    ap.add_argument("-i", dest="ifname", required=True)
    ap.add_argument("-q", dest="queue", type=int, default=0)
    ap.add_argument("-m", dest="mode", choices=["skb", "drv"], default="drv")
    ap.add_argument("-a", dest="api", choices=sorted(LOOPS), default="batch")
    ap.add_argument("-b", dest="batch", type=int, default=64)
    ap.add_argument("-w", dest="warmup", type=float, default=1.0)
    ap.add_argument("-d", dest="secs", type=float, default=2.0)
    ap.add_argument("-n", dest="count", type=int, default=0)
    o = ap.parse_args()
    if not 1 <= o.batch <= 1024 or o.warmup < 0 or o.secs <= 0 or o.count < 0:
        ap.error("-b takes 1..1024, -w >= 0, -d > 0, -n >= 0")
    xdp_mode = xsk_rs.XDP_MODE_DRV if o.mode == "drv" else xsk_rs.XDP_MODE_SKB

    if o.api == "ring":
        umem = xsk_rs.Umem(frame_count=FRAMES, frame_size=FRAME_SIZE, fill_size=RING, comp_size=RING)
        sock = xsk_rs.Socket(o.ifname, o.queue, umem, rx_size=RING, tx_size=0, xdp_mode=xdp_mode)
        umem.fill(range(0, FRAMES * FRAME_SIZE, FRAME_SIZE))
        rx, sock_umem, stats = None, (sock, umem), sock.stats
        closers = [sock.close, umem.close]
    else:
        rx = xsk_rs.RxSocket(o.ifname, o.queue, rx_frames=FRAMES, frame_size=FRAME_SIZE, rx_size=RING,
                             fill_size=RING, xdp_mode=xdp_mode)
        sock_umem, stats, closers = None, rx.stats, [rx.close]
    loop = LOOPS[o.api]
    try:
        print("ready", file=sys.stderr, flush=True)
        if o.count:
            time.sleep(0.2)
            st0 = stats()
            t0 = time.perf_counter()
            pkts, nbytes = loop(rx, o.batch, sock_umem, o.count)
            secs = time.perf_counter() - t0
        else:
            signal.signal(signal.SIGALRM, on_alarm)
            if o.warmup > 0:
                signal.setitimer(signal.ITIMER_REAL, o.warmup)
                loop(rx, o.batch, sock_umem, math.inf)
                stop = False
            st0 = stats()
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, o.secs)
            pkts, nbytes = loop(rx, o.batch, sock_umem, math.inf)
            secs = time.perf_counter() - t0
        st = stats()
    finally:
        for close in closers:
            close()
    print(json.dumps({
        "kind": "rate", "scenario": "rxdrop", "mode": o.mode, "batch": o.batch, "lib": "xsk_rs",
        "api": "py-" + o.api, "mpps": round(pkts / secs / 1e6, 4), "pkts": pkts, "bytes": nbytes,
        "secs": round(secs, 6),
        "rx_dropped": st.rx_dropped - st0.rx_dropped, "rx_ring_full": st.rx_ring_full - st0.rx_ring_full,
        "rx_fill_ring_empty_descs": st.rx_fill_ring_empty_descs - st0.rx_fill_ring_empty_descs,
    }))


if __name__ == "__main__":
    main()
