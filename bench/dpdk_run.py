#!/usr/bin/env python3
"""One measured run of a receiver for the DPDK rows of `make bench`: DPDK's
AF_XDP PMD under dpdk-testpmd, or an xsk_rs bench command, on a veth end that
bench/run.sh made. Prints one JSON line ({"kind":"dpdk", ...}) on stdout and a
one-line summary on stderr; exits 1 when the receiver fails.

    bench/dpdk_run.py --impl dpdk|xsk_rs --scenario rxdrop|txonly|l2fwd
        --ns NS --ifname IF --gen-ns NS --gen-if IF --run N
        [--warm S] [--secs S] [--cpu N] [--busy-budget N] [--io] [-- XSK_CMD...]

Both receivers busy-poll one queue on CPU --cpu (default 1) in drv mode:

  dpdk    dpdk-testpmd -l 0,CPU --main-lcore 0 --no-huge -m 256 --no-pci
          --vdev net_af_xdp0,iface=IF,start_queue=0,queue_count=1,busy_budget=B
          -- --forward-mode=rxonly|txonly|macswap --burst=64 --rxd=2048
          --txd=2048 --record-core-cycles --record-burst-stats
          The forwarding lcore runs on CPU; the main lcore waits on stdin on
          CPU 0, and closing stdin stops it (testpmd then prints its totals).
          The PMD passes no XDP mode to libxdp, so the kernel attaches the
          program in native (drv) mode on veth; there is no skb run.
          The forward mode matches the scenario (api "testpmd"): macswap for
          l2fwd, since xskbench's l2fwd swaps the MACs. --io (l2fwd only)
          runs --forward-mode=io instead, which forwards without touching the
          packet (api "testpmd-io"), to show what the swap costs testpmd.
  xsk_rs  XSK_CMD SCENARIO -i IF -m drv -b 64 -w WARM -d SECS -c, pinned to
          CPU with taskset. XSK_CMD is bench/run.sh's dpdk_xsk_rs: any program
          that takes xskbench's arguments, prints "ready" on stderr when its
          socket is bound, then one rate line with -c's fields on stdout.

The throughput is the receiver's own count over SECS after WARM: testpmd's
port counters read through its telemetry socket at the two instants
(ipackets; opackets for txonly), xskbench's own interval. At the same two
instants this script reads the receiver's CPU time (utime + stime of
/proc/PID/stat) and the generator end's tx_packets (what the generator put on
the wire), so each run says whether the receiver kept up with the generator.

Cost per packet, the same way for both: busy time (TSC ticks of the loop
passes that moved a packet, testpmd's --record-core-cycles and xskbench -c)
over the whole run divided by the packets of the whole run.
"""

import argparse
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

FWD_MODE = {"rxdrop": "rxonly", "txonly": "txonly", "l2fwd": "macswap"}
BATCH = 64
RING = 2048
# testpmd's default pool (~155000 mbufs of 2176 B) does not fit -m 256; 16384
# covers the RX, TX and fill rings (2048 + 2048 + 4096) and the lcore cache.
MBUFS = 16384
RUNTIME_DIR = "/var/run/dpdk"


class RunError(Exception):
    pass


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tx_packets(ns, ifname):
    out = subprocess.run(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", ifname],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["stats64"]["tx"]["packets"]


class Telemetry:
    """DPDK's telemetry socket (v2): one JSON answer per command."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        json.loads(self.sock.recv(16384))  # the greeting

    def query(self, cmd):
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(65536))

    def stats(self):
        return self.query("/ethdev/stats,0")["/ethdev/stats"]

    def close(self):
        self.sock.close()


def read_until(proc, stream, marker, timeout, lines):
    """Collect lines of stream into lines until one contains marker."""
    end = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < end:
        ready, _, _ = select.select([stream], [], [], 0.05)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                lines.append(line.decode(errors="replace"))
                if marker in lines[-1]:
                    return True
        elif proc.poll() is not None:
            break
    return False


def finish(proc, grace, stdin=None):
    """Close proc's stdin and collect its stdout until it exits; SIGINT after
    grace seconds, SIGKILL after as many more. Returns (exit status, output)."""
    out = b""
    for sig in (None, signal.SIGINT, signal.SIGKILL):
        if sig is not None:
            proc.send_signal(sig)
        try:
            more, _ = proc.communicate(input=stdin, timeout=grace)
            return proc.returncode, out + (more or b"")
        except subprocess.TimeoutExpired as e:
            out += e.stdout or b""
            stdin = None
    more, _ = proc.communicate()
    return proc.returncode, out + (more or b"")


def xdp_mode(ns, ifname):
    """The mode the interface's XDP program is attached in, as ip shows it."""
    out = subprocess.run(["ip", "-n", ns, "-d", "link", "show", "dev", ifname],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"\bprog/(xdp\w*)", out)
    if not m:
        return "none"
    return {"xdp": "drv", "xdpgeneric": "skb", "xdpoffload": "hw"}.get(m.group(1), m.group(1))


def snapshot(args, pid, tele=None):
    """The receiver's counters (testpmd's), the time, its CPU time and the
    generator's count, read in the same order at both ends of the interval."""
    snap = {"stats": tele.stats()} if tele else {}
    snap.update(t=time.monotonic(), cpu=cpu_seconds(pid))
    if args.scenario != "txonly":
        snap["offered"] = tx_packets(args.gen_ns, args.gen_if)
    return snap


def window(args, a, b):
    secs = b["t"] - a["t"]
    out = {"window_s": secs, "cpu_util": (b["cpu"] - a["cpu"]) / secs}
    if "offered" in a:
        out["offered_mpps"] = (b["offered"] - a["offered"]) / secs / 1e6
    return out


def run_dpdk(args):
    prefix = f"xskrs-bench-{os.getpid()}"
    # stdbuf: testpmd's stdout is a pipe here, and "Press enter to exit" must
    # arrive when it is printed, not when testpmd exits.
    fwd = "io" if args.io else FWD_MODE[args.scenario]
    cmd = ["ip", "netns", "exec", args.ns, "stdbuf", "-oL", "dpdk-testpmd",
           "-l", f"0,{args.cpu}", "--main-lcore", "0", "--no-huge", "-m", "256", "--no-pci",
           "--file-prefix", prefix,
           "--vdev", f"net_af_xdp0,iface={args.ifname},start_queue=0,queue_count=1,"
                     f"busy_budget={args.busy_budget}",
           "--", f"--forward-mode={fwd}", f"--burst={BATCH}",
           f"--rxd={RING}", f"--txd={RING}", f"--total-num-mbufs={MBUFS}",
           "--record-core-cycles", "--record-burst-stats", "--port-topology=loop"]
    if args.scenario == "txonly":
        cmd.append("--txpkts=64")
    lines = []
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    tele = None
    try:
        if not read_until(proc, proc.stdout, "Press enter to exit", 30, lines):
            finish(proc, 5)
            raise RunError("testpmd did not start forwarding:\n" + "\n".join(lines[-40:]))
        started = time.monotonic()
        tele = Telemetry(f"{RUNTIME_DIR}/{prefix}/dpdk_telemetry.v2")
        time.sleep(args.warm)
        a = snapshot(args, proc.pid, tele)
        attached = xdp_mode(args.ns, args.ifname)
        time.sleep(args.secs)
        b = snapshot(args, proc.pid, tele)
        tele.close()
        tele = None
        stopped = time.monotonic()
        # "Press enter to exit": EOF on stdin stops forwarding, and testpmd
        # prints its totals on the way out.
        rc, rest = finish(proc, 10, stdin=b"")
    finally:
        if tele:
            tele.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["rm", "-rf", f"{RUNTIME_DIR}/{prefix}"], check=False)
    text = "\n".join(lines) + "\n" + rest.decode(errors="replace")
    if rc != 0:
        raise RunError(f"testpmd exited {rc}:\n{text[-3000:]}")
    count = "opackets" if args.scenario == "txonly" else "ipackets"
    rec = window(args, a, b)
    pkts = b["stats"][count] - a["stats"][count]
    rec.update(pkts=pkts, mpps=pkts / rec["window_s"] / 1e6,
               dropped=b["stats"]["imissed"] - a["stats"]["imissed"])
    m = re.search(r"CPU cycles/packet=([0-9.]+) \(total cycles=(\d+) / total \w+ packets=(\d+)\) "
                  r"at (\d+) MHz", text)
    bursts = re.search(r"%s-bursts : (\d+)" % ("TX" if args.scenario == "txonly" else "RX"), text)
    if not m or not bursts:
        raise RunError("testpmd printed no cycles/packet or burst line:\n" + text[-3000:])
    cycles, loop_pkts, mhz = int(m.group(2)), int(m.group(3)), int(m.group(4))
    rec.update(busy_ns_pkt=cycles / mhz * 1e3 / loop_pkts if loop_pkts else 0.0,
               ns_per_pass=(stopped - started) * 1e9 / int(bursts.group(1)),
               tsc_mhz=mhz, api="testpmd-io" if args.io else "testpmd", xdp=attached)
    return rec


def run_xsk_rs(args):
    cmd = ["ip", "netns", "exec", args.ns, "taskset", "-c", str(args.cpu)] + args.xsk_cmd + [
        args.scenario, "-i", args.ifname, "-m", "drv", "-b", str(BATCH),
        "-w", str(args.warm), "-d", str(args.secs), "-c"]
    lines = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if not read_until(proc, proc.stderr, "ready", 30, lines):
            finish(proc, 5)
            raise RunError(f"{' '.join(args.xsk_cmd)} did not get ready:\n" + "\n".join(lines))
        # The program times WARM then SECS from just after "ready"; these
        # snapshots bracket the same interval to within the pipe's latency.
        time.sleep(args.warm)
        a = snapshot(args, proc.pid)
        attached = xdp_mode(args.ns, args.ifname)
        time.sleep(args.secs)
        b = snapshot(args, proc.pid)
        out, err = proc.communicate(timeout=10 + args.secs)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RunError(f"{' '.join(args.xsk_cmd)} exited {proc.returncode}:\n"
                       + "\n".join(lines) + err.decode(errors="replace"))
    try:
        line = json.loads(out.decode().strip().splitlines()[-1])
        busy_ns, loop_pkts, polls = line["busy_ns"], line["loop_pkts"], line["polls"]
    except (ValueError, IndexError, KeyError) as e:
        raise RunError(f"no rate line with busy fields ({e}) in: {out.decode()!r}")
    rec = window(args, a, b)
    rec.update(pkts=line["pkts"], mpps=line["mpps"], dropped=line.get("rx_dropped", 0),
               busy_ns_pkt=busy_ns / loop_pkts if loop_pkts else 0.0,
               ns_per_pass=(args.warm + args.secs) * 1e9 / polls if polls else 0.0,
               tsc_mhz=line.get("tsc_mhz", 0.0), api=line.get("api", "?"), xdp=attached)
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--impl", choices=["dpdk", "xsk_rs"], required=True)
    ap.add_argument("--scenario", choices=sorted(FWD_MODE), required=True)
    ap.add_argument("--ns", required=True)
    ap.add_argument("--ifname", required=True)
    ap.add_argument("--gen-ns", required=True)
    ap.add_argument("--gen-if", required=True)
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--warm", type=float, default=0.5)
    ap.add_argument("--secs", type=float, default=1.5)
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--busy-budget", type=int, default=0)
    ap.add_argument("--io", action="store_true", help="testpmd io forwarding (l2fwd only)")
    ap.add_argument("xsk_cmd", nargs="*")
    args = ap.parse_args()
    if args.io and (args.impl != "dpdk" or args.scenario != "l2fwd"):
        ap.error("--io is testpmd's l2fwd without the MAC swap: --impl dpdk --scenario l2fwd only")
    if args.impl == "xsk_rs" and not args.xsk_cmd:
        ap.error("--impl xsk_rs needs the command after --")
    try:
        rec = run_dpdk(args) if args.impl == "dpdk" else run_xsk_rs(args)
    except (RunError, OSError, subprocess.SubprocessError) as e:
        print(f"dpdk_run.py: {args.impl} {args.scenario}: {e}", file=sys.stderr)
        return 1
    attached = rec.pop("xdp")
    if attached == "none" and args.impl == "xsk_rs" and args.scenario == "txonly":
        # The packet layer's TX socket loads no XDP program: sending needs
        # none, and in copy mode the kernel sends through its generic path
        # (xsk_generic_xmit) whatever mode a program would be in. The run
        # counts as the drv run it was asked to be, and says so.
        attached, rec["prog"] = "drv", "none"
    if attached != "drv":
        print(f"dpdk_run.py: {args.impl} {args.scenario}: the XDP program was attached in mode "
              f"'{attached}', not drv", file=sys.stderr)
        return 1
    out = {"kind": "dpdk", "scenario": args.scenario, "mode": attached, "impl": args.impl,
           "api": rec.pop("api"), "run": args.run}
    for k, v in rec.items():
        out[k] = round(v, 4) if isinstance(v, float) else v
    print(json.dumps(out))
    print(f"  {args.impl:6} {out['api']:10} {out['mpps']:.3f} Mpps"
          + (f" (generator {out['offered_mpps']:.3f})" if "offered_mpps" in out else "")
          + f", CPU {out['cpu_util'] * 100:.0f} %, busy {out['busy_ns_pkt']:.1f} ns/pkt,"
          f" {out['ns_per_pass']:.1f} ns/pass", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
