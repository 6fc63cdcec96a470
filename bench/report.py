#!/usr/bin/env python3
"""Turn benchmark results (JSON Lines) into BENCHMARKS.md and a PNG chart.

    python3 bench/report.py RESULTS.jsonl --md BENCHMARKS.md --png bench/mpps.png

Run by `make bench` after the runs. Every line of RESULTS.jsonl is one JSON
object whose "kind" is one of:

  meta   the machine and the configuration (at most one line)
  rate   one throughput run: scenario, mode, batch, lib, api, run, mpps, pkts, secs
  setup  one set-up time: lib, mode, run, ms, umem_ms, socket_ms
  ipp    callgrind count of a packet loop: scenario, lib, api, batch, instr, pkts
  go     one Go-vs-C rxdrop run: impl (go|c), api (batch|pkt; absent means
         batch, as in results from before the packet layer), mode, run, mpps
  py     one Python-vs-C rxdrop run (bench/py_rxdrop.sh): phase (rate|drain),
         impl (c-pkt, c-span, py-batch, py-packed, ...), mode, batch, run, mpps
  dpdk   one run of DPDK's AF_XDP PMD (dpdk-testpmd) or of an xsk_rs command
         beside it (bench/dpdk_run.py): scenario, mode, impl (dpdk|xsk_rs), api
         (testpmd, the forward mode matching the scenario; testpmd-io, io
         forwarding in l2fwd; or the xsk_rs build's api: pkt, span), run, mpps,
         pkts, window_s, cpu_util, busy_ns_pkt, ns_per_pass, tsc_mhz, dropped,
         offered_mpps (the generator's rate in the same interval; absent for
         txonly) and prog ("none" when the receiver attached no XDP program:
         the packet layer's TX-only socket in txonly)
  dpdk_meta  that step's own date and set-up, or "skipped" with the reason
         (at most one line)
  jumbo  one multi-buffer run (xskbench -S, bench/run.sh step 7): a rate line
         of 9000-byte packets with len, bytes and gbps
  jumbo_fail  a jumbo run the library could not start: scenario, mode, lib,
         api, run, error
  jumbo_meta  that step's set-up (at most one line)
  busy   one busy-polling rxdrop run (drv mode, batch 64): variant, lib, api,
         run, mpps, secs, the socket's busy_poll_usecs, busy_poll_budget,
         prefer_busy_poll and napi_id (SO_INCOMING_NAPI_ID), the device's
         defer_hard_irqs and gro_flush_timeout, NET_RX softirqs per second on
         the generator's CPU (netrx_gen_per_s) and the receiver's
         (netrx_rx_per_s), gen_tx_dropped (veth drops at the generator), polls
         and cpu_s (xskbench -c)

The headline comparison is xsk_rs api=span against libxdp api=inline; any
other (lib, api) pair in the input gets columns of its own. xsk_rs
api=compat (xskbench's libxdp text built against xsk_rs-compat) has a
target and a section of its own against libxdp. The packet
layer (xsk_rs api=pkt, its C ABI; api=pkt-rust, the Rust API) also gets a
section and a target of its own, against both of those in the same run. Kinds that are
absent give a one-line "no data" section, so a quick run that produced only
some kinds still renders. The output depends on the input only (the date is
the one in the meta line, rows and columns are sorted), so the same input
gives the same markdown. Malformed input exits 1 with file:line.
"""

import argparse
import json
import math
import os
import statistics
import sys

BASE = ("libxdp", "inline")  # the reference every ratio divides by
HEAD = ("xsk_rs", "span")  # the path the targets are about: in-place batch calls

SCENARIOS = ["rxdrop", "txonly", "l2fwd"]
MODES = ["skb", "drv"]
LIBS = ["libxdp", "xsk_rs"]
PAGES = ["base", "huge"]  # a set-up's UMEM pages
APIS = ["inline", "compat", "span", "batch", "desc", "pkt", "pkt-rust"]
# libxdp's API on xsk_rs: xskbench's libxdp build compiled against
# xsk_rs-compat.
COMPAT = ("xsk_rs", "compat")
# The packet layer's builds: C ABI (xskbench -DXSKBENCH_API_PKT) and Rust
# (examples/bench_pkt.rs).
PKT = [("xsk_rs", "pkt"), ("xsk_rs", "pkt-rust")]
IMPLS = ["c", "go"]
GO_APIS = ["batch", "pkt"]  # the ring-level batch calls, the packet layer
DPDK_IMPLS = ["dpdk", "xsk_rs"]
# A receiver that took this share of what the generator sent kept up with it.
# Not 1.00: xskbench counts over its own interval and the generator is read
# over the runner's, a few milliseconds apart, and the generator's rate moves.
KEPT_UP = 0.95
# A receiver busy this share of the interval (busy ns/pkt × CPU times its
# rate) has no headroom left: it limits the rate as much as the generator.
MAX_BUSY_SHARE = 0.90
# A busy-polling receiver that was on its CPU less than this share of the
# interval shared the core with something else.
MIN_CPU_UTIL = 0.90

# Targets from the issue.
MIN_RATE_RATIO = 1.00
MIN_SETUP_SPEEDUP = 10.0
MIN_HUGE_SETUP_SPEEDUP = 2.0  # libxdp median ms / xsk_rs with a hugepage UMEM
MAX_IPP_RATIO = 1.00
MIN_GO_RATIO = {"batch": 0.80, "pkt": 0.90}
MIN_PY_RATIO = 0.50  # Python's zero-copy batch receive against C's packet layer
PY_PHASES = ["rate", "drain"]
MIN_PKT_SPAN_RATIO = 0.97  # packet layer median Mpps / span path's
MIN_PKT_BASE_RATIO = 1.00  # packet layer median Mpps / libxdp's
MIN_COMPAT_RATIO = 0.98  # xsk_rs-compat median Mpps / libxdp's
MAX_COMPAT_IPP_RATIO = 1.00  # xsk_rs-compat instructions per packet / libxdp's

# Field types per kind. "num" is an int or a finite float; bools are neither.
FIELDS = {
    "rate": {"scenario": "str", "mode": "mode", "batch": "pos", "lib": "lib",
             "api": "str", "run": "int", "mpps": "num", "pkts": "int", "secs": "num"},
    "setup": {"lib": "lib", "mode": "mode", "run": "int", "ms": "num",
              "umem_ms": "num", "socket_ms": "num", "pages": "pages"},
    "ipp": {"scenario": "str", "lib": "lib", "api": "str", "batch": "pos",
            "instr": "int", "pkts": "pos"},
    "go": {"impl": "impl", "api": "goapi", "mode": "mode", "run": "int", "mpps": "num"},
    "py": {"phase": "str", "impl": "str", "mode": "mode", "batch": "pos", "run": "int", "mpps": "num"},
    "dpdk": {"scenario": "str", "mode": "mode", "impl": "dpdk_impl", "api": "str", "run": "int",
             "mpps": "num", "pkts": "int", "window_s": "num", "cpu_util": "num",
             "busy_ns_pkt": "num", "ns_per_pass": "num", "tsc_mhz": "num", "dropped": "int"},
    "jumbo": {"scenario": "str", "mode": "mode", "batch": "pos", "lib": "lib", "api": "str", "run": "int",
              "mpps": "num", "pkts": "int", "secs": "num", "len": "int", "bytes": "int", "gbps": "num",
              "rx_dropped": "int"},
    "jumbo_fail": {"scenario": "str", "mode": "mode", "lib": "lib", "api": "str", "run": "int",
                   "error": "str"},
    "busy": {"variant": "str", "lib": "lib", "api": "str", "run": "int", "mpps": "num", "secs": "num",
             "busy_poll_usecs": "int", "busy_poll_budget": "int", "prefer_busy_poll": "int",
             "napi_id": "int", "defer_hard_irqs": "int", "gro_flush_timeout": "int",
             "netrx_gen_per_s": "int", "netrx_rx_per_s": "int", "gen_tx_dropped": "int",
             "polls": "int", "cpu_s": "num"},
}
# Optional fields of a kind, typed when present.
OPTIONAL_FIELDS = {"dpdk": {"offered_mpps": "num", "prog": "str"}}
DPDK_META_FIELDS = {
    "date": "str", "skipped": "str", "dpdk": "str", "xsk_rs": "str", "xsk_rs_cmd": "str", "runs": "int",
    "secs": "num", "warm": "num", "busy_budget": "int",
}
# Fields a record may leave out, and the value it then has.
DEFAULTS = {"go": {"api": "batch"}, "setup": {"pages": "base"}}
# Meta fields are all optional (a missing one prints as "?"), but typed.
META_FIELDS = {
    "date": "str", "kernel": "str", "cpu": "str", "cores": "int", "mem_gib": "num",
    "libxdp": "str", "libbpf": "str", "xsk_rs": "str", "gcc": "str",
    "runs": "int", "secs": "num", "pkt_size": "int", "frame_size": "int",
    "ring": "int", "fill": "int", "frames": "int", "generator": "str",
    "notes": "strlist",
}
# What identifies one record of a kind; a second record with the same
# identity is an error, not something to average silently.
IDENTITY = {
    "rate": ("scenario", "mode", "batch", "lib", "api", "run"),
    "setup": ("lib", "mode", "run", "pages"),
    "ipp": ("scenario", "lib", "api", "batch"),
    "go": ("impl", "api", "mode", "run"),
    "py": ("phase", "impl", "mode", "batch", "run"),
    "dpdk": ("scenario", "mode", "impl", "api", "run"),
    "jumbo": ("scenario", "mode", "lib", "api", "run"),
    "jumbo_fail": ("scenario", "mode", "lib", "api", "run"),
    "busy": ("variant", "lib", "api", "run"),
}
JUMBO_META_FIELDS = {
    "runs": "int", "secs": "num", "len": "int", "mtu": "int", "frame_size": "int", "batch": "int",
    "generator": "str",
}


class ReportError(Exception):
    """Malformed input or a missing tool: the message is printed, exit 1."""


# ---------------------------------------------------------------- input


def type_ok(value, kind):
    if isinstance(value, bool):
        return False
    if kind == "str":
        return isinstance(value, str) and value != ""
    if kind == "int":
        return isinstance(value, int) and value >= 0
    if kind == "pos":
        return isinstance(value, int) and value > 0
    if kind == "num":
        return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
    if kind == "strlist":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "mode":
        return value in MODES
    if kind == "lib":
        return value in LIBS
    if kind == "pages":
        return value in PAGES
    if kind == "impl":
        return value in IMPLS
    if kind == "goapi":
        return value in GO_APIS
    if kind == "dpdk_impl":
        return value in DPDK_IMPLS
    raise AssertionError(kind)


TYPE_TEXT = {
    "str": "a non-empty string", "int": "an integer >= 0", "pos": "an integer > 0",
    "num": "a finite number >= 0", "strlist": "a list of strings",
    "mode": "one of " + "|".join(MODES), "lib": "one of " + "|".join(LIBS),
    "pages": "one of " + "|".join(PAGES),
    "impl": "one of " + "|".join(IMPLS), "goapi": "one of " + "|".join(GO_APIS),
    "dpdk_impl": "one of " + "|".join(DPDK_IMPLS),
}


def check_fields(obj, fields, required):
    for name, kind in fields.items():
        if name not in obj:
            if required:
                raise ReportError(f'"{obj["kind"]}" line lacks "{name}"')
            continue
        if not type_ok(obj[name], kind):
            raise ReportError(f'"{name}" must be {TYPE_TEXT[kind]}, got {json.dumps(obj[name])}')


def load(path):
    """Read RESULTS.jsonl into {"meta": dict or None, kind: [records]}."""
    data = {"meta": None, "dpdk_meta": None, "jumbo_meta": None, "rate": [], "setup": [], "ipp": [], "go": [],
            "py": [], "dpdk": [], "jumbo": [], "jumbo_fail": [], "busy": []}
    seen = {}
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ReportError(f"{path}: {e.strerror}")
    with f:
        for lineno, raw in enumerate(f, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ReportError(f"{where}: not UTF-8: {e.reason} at byte {e.start}")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ReportError(f"{where}: bad JSON: {e.msg} (column {e.colno})")
            except ValueError as e:
                raise ReportError(f"{where}: bad JSON: {e}")
            if not isinstance(obj, dict):
                raise ReportError(f"{where}: expected a JSON object")
            kind = obj.get("kind")
            try:
                if kind == "meta":
                    if data["meta"] is not None:
                        raise ReportError(f"a second meta line (the first is line {seen['meta']})")
                    check_fields(obj, META_FIELDS, required=False)
                    data["meta"] = obj
                    seen["meta"] = lineno
                elif kind == "dpdk_meta":
                    if data["dpdk_meta"] is not None:
                        raise ReportError(
                            f"a second dpdk_meta line (the first is line {seen['dpdk_meta']})")
                    check_fields(obj, DPDK_META_FIELDS, required=False)
                    data["dpdk_meta"] = obj
                    seen["dpdk_meta"] = lineno
                elif kind == "jumbo_meta":
                    if data["jumbo_meta"] is not None:
                        raise ReportError(
                            f"a second jumbo_meta line (the first is line {seen['jumbo_meta']})")
                    check_fields(obj, JUMBO_META_FIELDS, required=False)
                    data["jumbo_meta"] = obj
                    seen["jumbo_meta"] = lineno
                elif kind in FIELDS:
                    for name, value in DEFAULTS.get(kind, {}).items():
                        obj.setdefault(name, value)
                    check_fields(obj, FIELDS[kind], required=True)
                    check_fields(obj, OPTIONAL_FIELDS.get(kind, {}), required=False)
                    key = (kind,) + tuple(obj[k] for k in IDENTITY[kind])
                    if key in seen:
                        raise ReportError(f'repeats the "{kind}" record of line {seen[key]}')
                    seen[key] = lineno
                    data[kind].append(obj)
                else:
                    raise ReportError(f'unknown "kind": {json.dumps(kind)}')
            except ReportError as e:
                raise ReportError(f"{where}: {e}")
    return data


# ---------------------------------------------------------------- helpers


def order(value, known):
    """Sort key: known values in their given order, then the rest by name."""
    return (known.index(value), "") if value in known else (len(known), str(value))


def pair_key(pair):
    lib, api = pair
    return (order(lib, LIBS), order(api, APIS))


def row_key(row):
    scenario, mode, batch = row
    return (order(scenario, SCENARIOS), order(mode, MODES), batch)


def row_name(row):
    scenario, mode, batch = row
    return f"{scenario} {mode} b{batch}"


def ratio(num, den):
    return num / den if den else None


def f3(x):
    return "–" if x is None else f"{x:.3f}"


def f2(x):
    return "–" if x is None else f"{x:.2f}"


def f1(x):
    return "–" if x is None else f"{x:.1f}"


def table(header, rows, align=None):
    """A markdown table; align is a string of 'l'/'r' per column."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def rate_summary(rates):
    """{(scenario, mode, batch): {(lib, api): [mpps, ...]}}"""
    out = {}
    for r in rates:
        row = (r["scenario"], r["mode"], r["batch"])
        out.setdefault(row, {}).setdefault((r["lib"], r["api"]), []).append(r["mpps"])
    return out


def headline_ratios(summary):
    """[(row, xsk_rs span median / libxdp inline median)] for rows with both."""
    out = []
    for row in sorted(summary, key=row_key):
        runs = summary[row]
        if BASE in runs and HEAD in runs:
            r = ratio(statistics.median(runs[HEAD]), statistics.median(runs[BASE]))
            if r is not None:
                out.append((row, r))
    return out


def setup_speedups(setups, pages="base"):
    """{mode: libxdp median ms / xsk_rs median ms} for modes with both libs;
    libxdp always with ordinary pages, xsk_rs with `pages`."""
    out = {}
    for mode in sorted({s["mode"] for s in setups}, key=lambda m: order(m, MODES)):
        ms = {lib: [s["ms"] for s in setups if s["mode"] == mode and s["lib"] == lib
                    and s["pages"] == ("base" if lib == "libxdp" else pages)]
              for lib in LIBS}
        if ms["libxdp"] and ms["xsk_rs"]:
            r = ratio(statistics.median(ms["libxdp"]), statistics.median(ms["xsk_rs"]))
            if r is not None:
                out[mode] = r
    return out


def ipp_table(ipps):
    """{(scenario, batch): {(lib, api): instructions per packet}}"""
    out = {}
    for r in ipps:
        out.setdefault((r["scenario"], r["batch"]), {})[(r["lib"], r["api"])] = r["instr"] / r["pkts"]
    return out


def ipp_row_key(row):
    return (order(row[0], SCENARIOS), row[1])


def go_runs(gos, api, mode):
    """[(run, c mpps or None, go mpps or None)] sorted by run."""
    by_run = {}
    for g in gos:
        if g["api"] == api and g["mode"] == mode:
            by_run.setdefault(g["run"], {})[g["impl"]] = g["mpps"]
    return [(run, v.get("c"), v.get("go")) for run, v in sorted(by_run.items())]


def go_pairs(gos):
    """The (api, mode) pairs with results, batch before pkt, skb before drv."""
    return sorted({(g["api"], g["mode"]) for g in gos}, key=lambda p: (order(p[0], GO_APIS), order(p[1], MODES)))


GO_API_TEXT = {"batch": "Go batch path", "pkt": "Go packet layer (Recv)"}


def go_median_ratio(runs):
    """Median of the per-run Go/C ratios, as bench/go_rxdrop.sh computes it."""
    ratios = [ratio(go, c) for _, c, go in runs if c is not None and go is not None]
    ratios = [r for r in ratios if r is not None]
    return statistics.median(ratios) if ratios else None


def py_groups(pys):
    """{(phase, mode, batch): {impl: {run: mpps}}}."""
    groups = {}
    for p in pys:
        groups.setdefault((p["phase"], p["mode"], p["batch"]), {}).setdefault(p["impl"], {})[p["run"]] = p["mpps"]
    return groups


def py_group_key(key):
    return (order(key[0], PY_PHASES), order(key[1], MODES), key[2])


def py_c_impl(impls):
    """The C reference of a group (c-pkt, or c-span where xskbench had no
    packet-layer build), or None."""
    cs = sorted(i for i in impls if i.startswith("c-"))
    return cs[0] if cs else None


def py_median_ratio(impls, impl, c):
    """Median of the per-run impl/C ratios, as bench/py_rxdrop.sh computes it."""
    ratios = [ratio(v, impls[c][run]) for run, v in impls[impl].items() if run in impls[c]]
    ratios = [r for r in ratios if r is not None]
    return statistics.median(ratios) if ratios else None


# ---------------------------------------------------------------- sections


def meta_get(meta, name):
    if meta is None or name not in meta:
        return "?"
    return str(meta[name])


def section_header(meta):
    date = meta_get(meta, "date")
    return [
        "# xsk_rs benchmarks",
        "",
        f"_Generated by `make bench` on {date} by bench/report.py, do not edit._",
        "",
    ]


def section_machine(meta):
    lines = ["## Machine", ""]
    if meta is None:
        return lines + ["No meta record in the input.", ""]
    g = lambda name: meta_get(meta, name)  # noqa: E731
    lines += [
        f"- Kernel: {g('kernel')}",
        f"- CPU: {g('cpu')}, {g('cores')} cores",
        f"- Memory: {g('mem_gib')} GiB",
        f"- Libraries: libxdp {g('libxdp')}, libbpf {g('libbpf')}, xsk_rs {g('xsk_rs')}, gcc {g('gcc')}",
        f"- Config: {g('frames')} frames of {g('frame_size')} B, rings {g('ring')} "
        f"(fill {g('fill')}), packets of {g('pkt_size')} B",
        f"- Runs: {g('runs')} × {g('secs')} s per library and scenario, libraries alternating",
        f"- Generator: {g('generator')}",
    ]
    notes = meta.get("notes") or []
    if notes:
        lines.append("- Notes:")
        lines += [f"  - {n}" for n in notes]
    return lines + [""]


def pass_miss(ok):
    return "PASS" if ok else "MISS"


NO_DATA = "–"


def target_rate(data):
    name = f"(a) xsk_rs span / libxdp inline median Mpps ≥ {MIN_RATE_RATIO:.2f} on every scenario"
    summary = rate_summary(data["rate"])
    ratios = headline_ratios(summary)
    if not ratios:
        return [[name, "no data", NO_DATA]]
    row, worst = min(ratios, key=lambda x: x[1])
    measured = f"min {worst:.3f} ({row_name(row)}) over {len(ratios)} of {len(summary)} scenarios"
    if worst < MIN_RATE_RATIO:
        result = "MISS"
    elif len(ratios) < len(summary):
        # A scenario without both sides is not known to pass.
        result = "INCOMPLETE"
    else:
        result = "PASS"
    return [[name, measured, result]]


def target_setup(data):
    name = f"(b) set-up ≥ {MIN_SETUP_SPEEDUP:.0f}× faster than libxdp (median ms libxdp / xsk_rs)"
    return setup_target_rows(data, name, MIN_SETUP_SPEEDUP, "base", "only one library measured")


def target_huge_setup(data):
    name = (f"(b2) set-up with a hugepage UMEM ≥ {MIN_HUGE_SETUP_SPEEDUP:.0f}× faster than libxdp's median "
            "in the same run (median ms libxdp / xsk_rs huge)")
    return setup_target_rows(data, name, MIN_HUGE_SETUP_SPEEDUP, "huge", "no hugepage run, or no libxdp run")


def setup_target_rows(data, name, minimum, pages, missing):
    """One row per mode: libxdp's median set-up over xsk_rs's (with `pages`)."""
    speedups = setup_speedups(data["setup"], pages)
    modes = sorted({s["mode"] for s in data["setup"]}, key=lambda m: order(m, MODES))
    if not modes:
        return [[name, "no data", NO_DATA]]
    rows = []
    for mode in modes:
        if mode in speedups:
            r = speedups[mode]
            rows.append([f"{name}, {mode}", f"{r:.1f}×", pass_miss(r >= minimum)])
        else:
            rows.append([f"{name}, {mode}", missing, NO_DATA])
    return rows


def target_ipp(data):
    name = "(c) instructions/packet of xsk_rs span (batch path) ≤ libxdp inline"
    ipp = ipp_table(data["ipp"])
    if not ipp:
        return [[name, "no data", NO_DATA]]
    rows = []
    for row in sorted(ipp, key=ipp_row_key):
        label = f"{name}, {row[0]} b{row[1]}"
        if BASE in ipp[row] and HEAD in ipp[row]:
            base, head = ipp[row][BASE], ipp[row][HEAD]
            rows.append([label, f"{head:.1f} vs {base:.1f} ({head / base:.3f})",
                         pass_miss(head <= base * MAX_IPP_RATIO)])
        else:
            rows.append([label, "not both paths counted", NO_DATA])
    return rows


def target_go(data):
    rows = []
    for api in GO_APIS:
        name = f"(d) {GO_API_TEXT[api]} ≥ {MIN_GO_RATIO[api]:.1f}× C (median of per-run Go/C)"
        modes = [m for a, m in go_pairs(data["go"]) if a == api]
        if not modes:
            rows.append([name, "no data", NO_DATA])
        for mode in modes:
            r = go_median_ratio(go_runs(data["go"], api, mode))
            if r is not None:
                rows.append([f"{name}, {mode}", f"{r:.3f}", pass_miss(r >= MIN_GO_RATIO[api])])
            else:
                rows.append([f"{name}, {mode}", "no run with both Go and C", NO_DATA])
    return rows


def target_py(data):
    name = f"(e) Python batch receive ≥ {MIN_PY_RATIO:.2f}× C packet layer (median of per-run rates)"
    groups = {k: v for k, v in py_groups(data["py"]).items() if k[0] == "rate"}
    if not groups:
        return [[name, "no data", NO_DATA]]
    rows = []
    for key in sorted(groups, key=py_group_key):
        impls = groups[key]
        c = py_c_impl(impls)
        label = f"{name}, {key[1]} b{key[2]}"
        r = py_median_ratio(impls, "py-batch", c) if c and "py-batch" in impls else None
        if r is None:
            rows.append([label, "no run with both py-batch and C", NO_DATA])
        else:
            rows.append([label, f"{r:.3f} (vs {c})", pass_miss(r >= MIN_PY_RATIO)])
    return rows


def target_pkt(data):
    name = (f"(f) packet layer median Mpps ≥ {MIN_PKT_SPAN_RATIO:.2f}× xsk_rs span and "
            f"≥ {MIN_PKT_BASE_RATIO:.2f}× libxdp")
    summary = rate_summary(data["rate"])
    rows = []
    for pkt in PKT:
        for row in sorted(summary, key=row_key):
            per = summary[row]
            if pkt not in per:
                continue
            label = f"{name}, {pkt[1]} {row_name(row)}"
            if HEAD not in per or BASE not in per:
                rows.append([label, "span or libxdp not measured", NO_DATA])
                continue
            med = statistics.median(per[pkt])
            r_span = ratio(med, statistics.median(per[HEAD]))
            r_base = ratio(med, statistics.median(per[BASE]))
            if r_span is None or r_base is None:
                rows.append([label, "a median of 0", NO_DATA])
                continue
            rows.append([label, f"{r_span:.3f} of span, {r_base:.3f} of libxdp",
                         pass_miss(r_span >= MIN_PKT_SPAN_RATIO and r_base >= MIN_PKT_BASE_RATIO)])
    return rows or [[name, "no data", NO_DATA]]


def target_compat(data):
    """xsk_rs-compat against libxdp: every measured row's median Mpps, and
    every counted scenario's instructions per packet."""
    name = (f"(g) libxdp's API on xsk_rs-compat: median Mpps ≥ {MIN_COMPAT_RATIO:.2f}× libxdp, "
            f"instructions/packet ≤ {MAX_COMPAT_IPP_RATIO:.2f}× libxdp's")
    summary = rate_summary(data["rate"])
    rows = []
    for row in sorted(summary, key=row_key):
        per = summary[row]
        if COMPAT not in per:
            continue
        label = f"{name}, {row_name(row)}"
        r = ratio(statistics.median(per[COMPAT]), statistics.median(per[BASE])) if BASE in per else None
        if r is None:
            rows.append([label, "libxdp not measured", NO_DATA])
        else:
            rows.append([label, f"{r:.3f}", pass_miss(r >= MIN_COMPAT_RATIO)])
    ipp = ipp_table(data["ipp"])
    for row in sorted(ipp, key=ipp_row_key):
        if COMPAT not in ipp[row]:
            continue
        label = f"{name}, ipp {row[0]} b{row[1]}"
        if BASE not in ipp[row]:
            rows.append([label, "libxdp not counted", NO_DATA])
            continue
        base, compat = ipp[row][BASE], ipp[row][COMPAT]
        rows.append([label, f"{compat:.1f} vs {base:.1f} ({compat / base:.3f})",
                     pass_miss(compat <= base * MAX_COMPAT_IPP_RATIO)])
    return rows or [[name, "no data", NO_DATA]]


def section_targets(data):
    rows = (target_rate(data) + target_setup(data) + target_huge_setup(data) + target_ipp(data) + target_go(data) + target_py(data)
            + target_pkt(data) + target_compat(data))
    return ["## Targets", ""] + table(["Target", "Measured", "Result"], rows, "lll") + [""]


def spread(values, runs):
    text = f"{min(values):.3f}–{max(values):.3f}"
    if runs is None or len(values) != runs:
        text += f" (n={len(values)})"
    return text


def section_throughput(data, png_link):
    lines = ["## Throughput", ""]
    summary = rate_summary(data["rate"])
    if not summary:
        return lines + ["No throughput results in the input.", ""]
    meta = data["meta"] or {}
    runs = meta.get("runs")
    pairs = {p for per_row in summary.values() for p in per_row}
    extra = sorted(pairs - {BASE, HEAD}, key=pair_key)

    header = ["Scenario", "Mode", "Batch",
              "libxdp inline Mpps", "spread", "xsk_rs span Mpps", "spread", "xsk_rs/libxdp"]
    for lib, api in extra:
        header += [f"{lib} {api} Mpps", f"{lib} {api}/libxdp"]
    rows = []
    for row in sorted(summary, key=row_key):
        per = summary[row]
        med = {p: statistics.median(v) for p, v in per.items()}
        cells = [row[0], row[1], str(row[2])]
        for p in (BASE, HEAD):
            cells += [f3(med.get(p)), spread(per[p], runs) if p in per else "–"]
        cells.append(f2(ratio(med[HEAD], med[BASE])) if HEAD in med and BASE in med else "–")
        for p in extra:
            cells.append(f3(med.get(p)))
            cells.append(f2(ratio(med[p], med[BASE])) if p in med and BASE in med else "–")
        rows.append(cells)
    lines += table(header, rows, "lll" + "r" * (len(header) - 3))
    lines += [
        "",
        "Median over the runs; spread is min–max (n = runs when it differs from the "
        "configured count). Ratios divide medians by the libxdp inline median.",
        "",
    ]
    if png_link:
        lines += [f"![Median Mpps per scenario, min–max error bars]({png_link})", ""]
    return lines


def section_pkt(data):
    """The packet layer (C ABI and Rust) beside the span path and libxdp:
    median Mpps, its ratios, and instructions per packet where counted."""
    lines = ["## Packet layer", ""]
    summary = rate_summary(data["rate"])
    rows_with = [row for row in sorted(summary, key=row_key) if any(p in summary[row] for p in PKT)]
    if not rows_with:
        return lines + ["No packet-layer results in the input.", ""]
    lines += [
        "The packet layer hands out packets and frames, never ring entries or frame addresses. "
        "**pkt** is its C ABI (xskbench built with `-DXSKBENCH_API_PKT`), **pkt-rust** its Rust API "
        "(`examples/bench_pkt.rs`, no C in the loop); both run at batch 64 in the same rounds as libxdp "
        "and the span path, on the same veth pair and generator, with the same timing and counting. "
        "rxdrop: `recv_batch` then `release` (Rust: drop the `RxBatch`); txonly: `alloc` + `submit` "
        "(Rust: `seek_n`, `peek_at`, `commit_n`, `kick`), every TX frame written once before the loop as "
        "the other builds do, counting frames the kernel gave back; l2fwd: `recv_batch`, each packet "
        "copied into a TX frame from `alloc` with its MACs swapped, `submit`, `release`: the two halves "
        "own separate frames (RX 1024, all lent; TX 2048), so forwarding copies where the ring builds "
        "send the received frame in place. Ratios divide medians; instructions per packet (ipp) are "
        "callgrind's count of the same loop, batch 64, drv (a `rep movsb` copy counts one instruction "
        "per byte, which inflates the packet layer's reclaim of completed TX frames).",
        "",
    ]
    ipp = ipp_table(data["ipp"])
    header = ["Scenario", "Mode", "Batch", "libxdp Mpps", "span Mpps"]
    for _, api in PKT:
        header += [f"{api} Mpps", f"{api}/span", f"{api}/libxdp"]
    header += ["span ipp"] + [f"{api} ipp" for _, api in PKT]
    rows = []
    for row in rows_with:
        per = summary[row]
        med = {p: statistics.median(v) for p, v in per.items()}
        cells = [row[0], row[1], str(row[2]), f3(med.get(BASE)), f3(med.get(HEAD))]
        for p in PKT:
            cells.append(f3(med.get(p)))
            cells.append(f3(ratio(med[p], med[HEAD])) if p in med and HEAD in med else "–")
            cells.append(f3(ratio(med[p], med[BASE])) if p in med and BASE in med else "–")
        counts = ipp.get((row[0], row[2]), {})
        cells += [f1(counts.get(HEAD))] + [f1(counts.get(p)) for p in PKT]
        rows.append(cells)
    return lines + table(header, rows, "lll" + "r" * (len(header) - 3)) + [""]


def section_compat(data):
    """libxdp's API on xsk_rs (xsk_rs-compat) beside libxdp itself."""
    lines = ["## libxdp's API on xsk_rs (xsk_rs-compat)", ""]
    summary = rate_summary(data["rate"])
    rows_with = [row for row in sorted(summary, key=row_key) if COMPAT in summary[row]]
    if not rows_with:
        return lines + ["No xsk_rs-compat results in the input.", ""]
    lines += [
        "**compat** is xskbench's libxdp build, the same source (`bench/backend_libxdp.h`, libxdp's inline "
        "ring functions), compiled against xsk_rs-compat instead of libxdp (`-DXSKBENCH_COMPAT`, "
        "`pkg-config xsk_rs-compat`): a libxdp program moved to xsk_rs by its build flags alone. It runs "
        "in the same rounds as libxdp at every batch. Ratios divide medians by libxdp's; instructions per "
        "packet (ipp) are callgrind's count of the same loop, batch 64, drv.",
        "",
    ]
    ipp = ipp_table(data["ipp"])
    header = ["Scenario", "Mode", "Batch", "libxdp Mpps", "compat Mpps", "spread", "compat/libxdp",
              "libxdp ipp", "compat ipp"]
    runs = (data["meta"] or {}).get("runs")
    rows = []
    for row in rows_with:
        per = summary[row]
        med = {p: statistics.median(v) for p, v in per.items()}
        counts = ipp.get((row[0], row[2]), {})
        rows.append([row[0], row[1], str(row[2]), f3(med.get(BASE)), f3(med[COMPAT]),
                     spread(per[COMPAT], runs), f3(ratio(med[COMPAT], med[BASE])) if BASE in med else "–",
                     f1(counts.get(BASE)), f1(counts.get(COMPAT))])
    return lines + table(header, rows, "lll" + "r" * (len(header) - 3)) + [""]


def section_setup(data):
    lines = ["## Set-up time", ""]
    setups = data["setup"]
    if not setups:
        return lines + ["No set-up results in the input.", ""]
    lines += [
        "Time from before UMEM creation until the first packet is received. UMEM: map and register the",
        "area (4096 frames of 4096 bytes, 16 MiB; pages faulted in and pinned); socket: rings, bind and",
        "the XDP program; the rest is waiting for the first packet. xsk_rs huge: the same with",
        "XSK_RS_UMEM_HUGE_PAGES (8 pages of 2 MiB, reserved by bench/run.sh for the run).",
        "",
    ]
    speedups = {p: setup_speedups(setups, p) for p in PAGES}
    rows = []
    modes = sorted({s["mode"] for s in setups}, key=lambda m: order(m, MODES))
    for mode in modes:
        for lib, pages in [(lib, p) for lib in LIBS for p in PAGES]:
            these = [s for s in setups if s["mode"] == mode and s["lib"] == lib and s["pages"] == pages]
            if not these:
                continue
            ms = [s["ms"] for s in these]
            sp = speedups[pages]
            speedup = f"{sp[mode]:.1f}×" if lib == "xsk_rs" and mode in sp else "–"
            rows.append([lib + (" huge" if pages == "huge" else ""), mode, str(len(these)),
                         f2(statistics.median(ms)), f2(min(ms)), f2(max(ms)),
                         f2(statistics.median(s["umem_ms"] for s in these)),
                         f2(statistics.median(s["socket_ms"] for s in these)),
                         speedup])
    header = ["Library", "Mode", "Runs", "median ms", "min ms", "max ms",
              "median UMEM ms", "median socket ms", "libxdp/xsk_rs"]
    return lines + table(header, rows, "ll" + "r" * 7) + [""]


def section_ipp(data):
    lines = ["## Instructions per packet", ""]
    ipp = ipp_table(data["ipp"])
    if not ipp:
        return lines + ["No instruction counts in the input.", ""]
    lines += [
        "User-space instructions of the packet loop (callgrind) divided by the packets it handled.",
        "",
    ]
    pairs = sorted({p for per in ipp.values() for p in per}, key=pair_key)
    others = [p for p in pairs if p != BASE]
    header = ["Scenario", "Batch"] + [f"{lib} {api}" for lib, api in pairs]
    header += [f"{lib} {api}/libxdp" for lib, api in others]
    rows = []
    for row in sorted(ipp, key=ipp_row_key):
        per = ipp[row]
        cells = [row[0], str(row[1])] + [f1(per.get(p)) for p in pairs]
        for p in others:
            cells.append(f2(ratio(per[p], per[BASE])) if p in per and BASE in per else "–")
        rows.append(cells)
    return lines + table(header, rows, "ll" + "r" * (len(header) - 2)) + [""]


def section_go(data):
    lines = ["## Go vs C", ""]
    gos = data["go"]
    if not gos:
        return lines + ["No Go-vs-C results in the input.", ""]
    lines += [
        "rxdrop through the Go binding against C, taking turns on the same veth pair "
        "(bench/go_rxdrop.sh): API batch is the ring-level example (`Receive` + `Fill`) against "
        "`xsk_bench rxdrop -a batch`; API pkt is the packet layer (`RxSocket.Recv` + `Release`) "
        "against xskbench's packet-layer build.",
        "",
    ]
    rows = []
    for api, mode in go_pairs(gos):
        runs = go_runs(gos, api, mode)
        for run, c, go in runs:
            r = ratio(go, c) if c is not None and go is not None else None
            rows.append([api, mode, str(run), f3(c), f3(go), f3(r)])
        cs = [c for _, c, _ in runs if c is not None]
        gs = [g for _, _, g in runs if g is not None]
        rows.append([f"**{api}**", f"**{mode} median**", "",
                     f3(statistics.median(cs) if cs else None),
                     f3(statistics.median(gs) if gs else None),
                     f3(go_median_ratio(runs))])
    header = ["API", "Mode", "Run", "C Mpps", "Go Mpps", "Go/C"]
    lines += table(header, rows, "lllrrr")
    lines += ["", "The median row's Go/C is the median of the per-run ratios.", ""]
    return lines


def section_py(data):
    lines = ["## Python vs C", ""]
    groups = py_groups(data["py"])
    if not groups:
        return lines + ["No Python-vs-C results in the input.", ""]
    lines += [
        "rxdrop through the Python module (bench/py_rxdrop.py) against xskbench's C rxdrop on the packet "
        "layer (c-pkt; c-span, the ring API, where xskbench had no packet-layer build), taking turns on the "
        "same veth pair. py-batch: `with rx.batch(n) as pkts`, zero-copy memoryviews; py-packed: "
        "`rx.recv_packed` into one reused array; py-recv: one `rx.recv()` per packet; py-ring: the ring API "
        "(`Socket.receive` + `Umem.fill`). Python counts packets and bytes, C packets only. "
        "**rate**: Mpps with the generator running (it, not the receiver, is usually the limit on veth); "
        "**drain**: Mpps taking 1024 packets from a full RX ring, what a packet costs each receiver.",
        "",
    ]
    rows = []
    for key in sorted(groups, key=py_group_key):
        impls = groups[key]
        c = py_c_impl(impls)
        for impl in sorted(impls, key=lambda i: (not i.startswith("c-"), order(i, ["py-batch", "py-packed",
                                                                                  "py-recv", "py-ring"]))):
            values = list(impls[impl].values())
            r = py_median_ratio(impls, impl, c) if c and impl != c else None
            rows.append([key[0], key[1], str(key[2]), impl, str(len(values)), f3(statistics.median(values)),
                         f"{min(values):.3f}–{max(values):.3f}", f3(r) if r is not None else "–"])
    header = ["Phase", "Mode", "Batch", "Receiver", "Runs", "median Mpps", "spread", "/C"]
    lines += table(header, rows, "llllrrrr")
    lines += ["", "/C is the median of the per-run ratios to the C receiver of the same phase and mode.", ""]
    return lines


DPDK_METHOD = [
    "How it is measured (bench/dpdk_run.py):",
    "",
    "- The same veth pair and generator as the rows above; the receiver busy-polls one queue "
    "on CPU 1. DPDK runs as `dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 256 --no-pci "
    "--vdev net_af_xdp0,iface=veth1,start_queue=0,queue_count=1,busy_budget=0 -- "
    "--forward-mode=rxonly|txonly|macswap --burst=64 --rxd=2048 --txd=2048 "
    "--total-num-mbufs=16384 --port-topology=loop --record-core-cycles --record-burst-stats`; "
    "its forwarding lcore is on CPU 1, its main lcore waits on stdin on CPU 0. The xsk_rs side "
    "is each command named above with xskbench's arguments (`SCENARIO -i veth1 -m drv -b 64 -c`), "
    "pinned to CPU 1; the table's api names its flavour.",
    "- The packet layer (xsk_rs pkt, xskbench's -DXSKBENCH_API_PKT build, its C ABI): rxdrop is "
    "`xsk_rs_rxsock_recv_batch` + `_release` (which lends the frames again); txonly is "
    "`xsk_rs_txsock_alloc` + `_submit` (commit and kick; completions are taken back inside "
    "alloc); l2fwd receives a batch, copies each packet into a TX frame from alloc with its MAC "
    "addresses swapped, submits, and releases the batch. Its RX and TX halves own separate "
    "frames, so it copies every forwarded packet where testpmd's macswap and the ring API "
    "(xsk_rs span, the reference the first DPDK run measured) swap in place: that copy is in its "
    "l2fwd figures. It kicks TX only after it sent; the span build kicks TX (a sendto) on "
    "every pass, empty ones too, as in the libxdp rows, and so has more ns/pass.",
    "- l2fwd: macswap, not io, is the match, since xskbench's l2fwd swaps the MAC addresses of "
    "every packet as macswap does. testpmd io, where it appears, forwards without touching the "
    "packet: it is testpmd's cheapest forwarding, shown for scale, not the comparison.",
    "- The PMD keeps 2048 frames on its fill ring (mbufs of its pool, which is the UMEM), "
    "xskbench 1024 (both builds): a receiver that is off its core for a while drops later "
    "with the PMD, which shows in contended rounds only.",
    "- The PMD hands libxdp no XDP mode, so the kernel attaches the program natively: every "
    "run here is drv (checked while it runs), in copy mode (veth has no zero-copy). The one "
    "exception is the packet layer's txonly: its TX-only socket loads no XDP program, since "
    "sending needs none, and in copy mode the kernel sends through its generic path "
    "(xsk_generic_xmit) whatever mode a program is attached in, so its drv row is the same "
    "send path as the others'. "
    "libxdp runs without its dispatcher (no bpffs), as in the libxdp rows. As with libxdp, the "
    "PMD's socket sends at most the kernel's default 32 descriptors per sendto() in copy mode, "
    "where xsk_rs sets XDP_MAX_TX_SKB_BUDGET to its TX ring size: in txonly and l2fwd DPDK "
    "makes more sendto() calls per packet. busy_budget=0: the "
    "default (64) sets SO_PREFER_BUSY_POLL and makes every empty poll a recvfrom() that "
    "busy-polls the kernel's NAPI from the receiver's core, work that xsk_rs does not ask "
    "the kernel for.",
    "- Alternating rounds (DPDK, xsk_rs pkt, xsk_rs span, [DPDK io], DPDK, ...); each run warms "
    "up, then counts over the interval: testpmd's port counters read through its telemetry "
    "socket at both ends, xskbench's own count. Over the same interval: the receiver's CPU "
    "time (utime + stime from /proc/PID/stat) and the generator's rate (veth0's tx_packets).",
    f"- The generator limits a scenario when both receivers of a pair took at least {KEPT_UP:.0%} "
    f"of what it sent (took/sent, medians) and neither was busy {MAX_BUSY_SHARE:.0%} of the time: "
    "the Mpps columns then measure the generator, and the comparison is cost per packet "
    "(busy ns/pkt). Not 100 %: xskbench counts over its own interval, a few milliseconds off the "
    "one over which the generator is read; and drops cannot be compared instead, as the PMD "
    "reports no ring-full drops.",
    "- Cost per packet: both receivers spin at 100 % of their core whatever the load (CPU "
    "time / packets is then only 1 / rate), so CPU time cannot say what a packet costs. "
    "Both instead count busy time the same way: testpmd's --record-core-cycles reads the TSC "
    "before each rx_burst and adds the ticks up to the end of the pass when it received "
    "something (txonly: every pass); xskbench -c does the same around each pass of its loop "
    "(REC_START / REC_END, in the ring and the packet-layer builds alike), counting passes "
    "that moved a packet or a completion. Busy ns/pkt is that total over the whole run, "
    "divided by the run's packets. It includes the syscalls a pass makes (kicks) and all "
    "the per-packet work of each model: testpmd's rxonly gets an mbuf per packet from the PMD "
    "(its header written, a fresh mbuf taken from the pool for the fill ring) and frees it, "
    "where xskbench hands the frame straight back to the fill ring. It also "
    "depends on how many packets a pass finds: a receiver that polls faster finds fewer per "
    "pass and pays its per-pass cost over fewer packets, so the figure favours the slower "
    "poller (ns/pass is the mean time of a pass, busy or empty). The TSC counts wall time, "
    "so only rounds in which every receiver had its core to itself are used. Callgrind "
    "counts, as for xskbench above, would be full batches only, but testpmd under valgrind "
    "takes about 100 s to start and its PMD is stripped, so the loop cannot be singled out.",
    "",
]

# testpmd's forward mode that matches each scenario (api "testpmd").
DPDK_FWD = {"rxdrop": "rxonly", "txonly": "txonly", "l2fwd": "macswap"}
# Receivers in table order: the matching testpmd, the packet layer, the ring
# API's span build, testpmd io (l2fwd only), then any other.
DPDK_RECEIVERS = [("dpdk", "testpmd"), ("xsk_rs", "pkt"), ("xsk_rs", "span"), ("dpdk", "testpmd-io")]
DPDK_LABEL = {("xsk_rs", "pkt"): "xsk_rs pkt (packet layer)", ("xsk_rs", "span"): "xsk_rs span (ring API)",
              ("dpdk", "testpmd-io"): "DPDK testpmd io"}


def dpdk_summary(recs):
    """{scenario: {(impl, api): [records sorted by run]}}"""
    out = {}
    for r in sorted(recs, key=lambda r: r["run"]):
        out.setdefault(r["scenario"], {}).setdefault((r["impl"], r["api"]), []).append(r)
    return out


def busy_share(r):
    """The share of the interval a receiver spent in busy passes."""
    return r["busy_ns_pkt"] * r["mpps"] / 1e3


def clean_rounds(receivers):
    """(rounds to use, all rounds, clean?) for a scenario's receivers: the
    rounds in which every receiver was on its core at least MIN_CPU_UTIL of
    the interval, or every round when there is none."""
    runs = {key: {r["run"]: r for r in recs} for key, recs in receivers.items()}
    every = sorted(set().union(*(set(v) for v in runs.values())))
    clean = [n for n in every
             if all(n in v and v[n]["cpu_util"] >= MIN_CPU_UTIL for v in runs.values())]
    return (clean, every, True) if clean else (every, every, False)


def dpdk_verdict(sc, clean, d, x):
    """Why the Mpps or the busy ns/pkt of a pair is the comparison."""
    busiest = max(d["share"], x["share"])
    if not clean:
        return ("no round had every receiver on its core, so both columns say more about "
                "the other load on the machine than about the receivers")
    if sc == "txonly":
        return "each side is its own sender, so Mpps compares them"
    if d["took"] is None or x["took"] is None or min(d["took"], x["took"]) < KEPT_UP:
        return "at least one receiver did not keep up with the generator, so Mpps compares them"
    if busiest >= MAX_BUSY_SHARE:
        return (f"both took ≥ {KEPT_UP:.0%} of what the generator sent, but a receiver was busy "
                f"{busiest:.0%} of the time: it limits the rate as much as the generator does, "
                "and the two Mpps are the rate they reach together; busy ns/pkt says what a "
                "packet costs each")
    return (f"**generator-limited**: both took ≥ {KEPT_UP:.0%} of what the generator sent "
            f"and were busy at most {busiest:.0%} of the time, so Mpps measures the "
            "generator, not the receivers; compare busy ns/pkt")


def section_dpdk(data):
    lines = ["## DPDK's AF_XDP PMD against xsk_rs", ""]
    meta = data["dpdk_meta"]
    recs = data["dpdk"]
    if meta and "skipped" in meta:
        return lines + [f"Skipped on {meta_get(meta, 'date')}: {meta['skipped']}.", ""]
    if not recs:
        return lines + ["No DPDK results in the input.", ""]
    if meta:
        cmds = ", ".join(f"`{c.strip()}`" for c in meta_get(meta, "xsk_rs_cmd").split(","))
        lines += [
            f"Measured on {meta_get(meta, 'date')} (this step's own date, which can differ from the "
            f"one at the top): DPDK "
            f"{meta_get(meta, 'dpdk')} (Debian's dpdk-dev), xsk_rs {meta_get(meta, 'xsk_rs')} through "
            f"{cmds}, "
            f"{meta_get(meta, 'runs')} rounds of {meta_get(meta, 'secs')} s after "
            f"{meta_get(meta, 'warm')} s of warm-up, busy_budget={meta_get(meta, 'busy_budget')}.",
            "",
        ]
    summary = dpdk_summary(recs)
    scenarios = sorted(summary, key=lambda s: order(s, SCENARIOS))
    rows, verdicts = [], []
    for sc in scenarios:
        receivers = summary[sc]
        used, every, clean = clean_rounds(receivers)
        med = {}
        for key in sorted(receivers, key=lambda k: order(k, DPDK_RECEIVERS)):
            these = [r for r in receivers[key] if r["run"] in used]
            if not these:
                continue
            mpps = [r["mpps"] for r in these]
            offered = [r["offered_mpps"] for r in these if "offered_mpps" in r]
            took = [r["mpps"] / r["offered_mpps"] for r in these if r.get("offered_mpps")]
            m = {
                "mpps": statistics.median(mpps),
                "offered": statistics.median(offered) if offered else None,
                "took": statistics.median(took) if took else None,
                "busy": statistics.median(r["busy_ns_pkt"] for r in these),
                "pass": statistics.median(r["ns_per_pass"] for r in these),
                "share": statistics.median(busy_share(r) for r in these),
                "cpu": statistics.median(r["cpu_util"] for r in these),
            }
            med[key] = m
            label = DPDK_LABEL.get(key)
            if label is None:
                label = (f"DPDK testpmd {DPDK_FWD.get(sc, '?')}" if key == ("dpdk", "testpmd")
                         else f"{key[0]} {key[1]}")
            used_text = f"{len(these)} of {len(every)}" + ("" if clean else " (none clean)")
            rows.append([sc, these[0]["mode"], label, used_text, f3(m["mpps"]),
                         f"{min(mpps):.3f}–{max(mpps):.3f}", f3(m["offered"]),
                         f2(m["took"]), f"{m['cpu'] * 100:.0f} %", f1(m["busy"]),
                         f"{m['share'] * 100:.0f} %", f1(m["pass"])])
        d = med.get(("dpdk", "testpmd"))
        if d is None:
            continue
        for key in sorted((k for k in med if k[0] == "xsk_rs"), key=lambda k: order(k, DPDK_RECEIVERS)):
            x = med[key]
            verdicts.append(f"- {sc}, xsk_rs {key[1]} against testpmd {DPDK_FWD.get(sc, '?')}: Mpps "
                            f"×{f2(ratio(x['mpps'], d['mpps']))}, busy ns/pkt "
                            f"×{f2(ratio(x['busy'], d['busy']))}; {dpdk_verdict(sc, clean, d, x)}.")
        io = med.get(("dpdk", "testpmd-io"))
        if io is not None:
            verdicts.append(f"- {sc}, testpmd io (no MAC swap) against macswap: Mpps "
                            f"×{f2(ratio(io['mpps'], d['mpps']))}, busy ns/pkt "
                            f"×{f2(ratio(io['busy'], d['busy']))}.")
    header = ["Scenario", "Mode", "Receiver", "Rounds used", "median Mpps", "spread",
              "generator Mpps", "took/sent", "CPU", "busy ns/pkt", "busy", "ns/pass"]
    lines += table(header, rows, "lll" + "r" * 9)
    lines += ["",
              f"Rounds used: those in which every receiver of the scenario was on its core at least "
              f"{MIN_CPU_UTIL:.0%} of the interval (CPU, from utime + stime); another process on "
              "CPU 1 takes time from a receiver, and the TSC that busy ns/pkt counts keeps running "
              "while it is off its core. Medians over those rounds; spread is min–max. took/sent "
              "is the receiver's count over the generator's in the same interval; busy is the "
              "share of the interval the receiver spent in passes that moved packets "
              "(busy ns/pkt × Mpps). ×: xsk_rs (or io) over testpmd's matching mode, medians; "
              "below 1 is less busy time per packet, above 1 more Mpps.", ""]
    lines += verdicts + [""] if verdicts else []
    return lines + DPDK_METHOD


# The busy-poll variants in the order bench/run.sh runs them; others follow
# sorted.
BUSY_VARIANTS = ["off", "busy", "busy-b8-noprefer", "defer", "busy+defer", "busy+defer-20us"]
BUSY_PAIRS = [("libxdp", "inline"), ("xsk_rs", "span")]


def busy_settings(rec):
    """"20 µs, budget 64, prefer; defer 2, gro 200 µs" for a record."""
    sock = "off"
    if rec["busy_poll_usecs"] or rec["busy_poll_budget"] or rec["prefer_busy_poll"]:
        sock = f'{rec["busy_poll_usecs"]} µs, budget {rec["busy_poll_budget"]}'
        sock += ", prefer" if rec["prefer_busy_poll"] else ""
    dev = "none"
    if rec["defer_hard_irqs"] or rec["gro_flush_timeout"]:
        dev = f'defer {rec["defer_hard_irqs"]}, gro {rec["gro_flush_timeout"] / 1000:g} µs'
    return sock, dev


def section_busy(data):
    lines = ["## Busy polling", ""]
    recs = data["busy"]
    if not recs:
        return lines + ["No busy-polling results in the input.", ""]
    lines += [
        "rxdrop in drv mode on the veth pair, batch 64, libxdp and xsk_rs (span) alternating, "
        "fed by the same generator on CPU 0, the receiver on CPU 1. Socket: SO_BUSY_POLL, "
        "SO_BUSY_POLL_BUDGET and SO_PREFER_BUSY_POLL (libxdp through setsockopt on its fd, "
        "xsk_rs through its socket config); with them the loop calls recvfrom on every empty "
        "pass, as xdpsock -B does. Device: napi_defer_hard_irqs and gro_flush_timeout of the "
        "receiving veth, the same for both libraries. NET_RX/s: NET_RX softirqs per second on "
        "each CPU (/proc/softirqs); drops/s: packets veth dropped at the generator because the "
        "receiving end's ring was full.",
        "",
    ]
    variants = sorted({r["variant"] for r in recs}, key=lambda v: order(v, BUSY_VARIANTS))
    # A receiver that was off its CPU for part of the interval (another
    # process took the core) dropped for want of fill buffers, not because of
    # the variant: such runs are left out of the medians while others remain.
    def kept(rs):
        full = [r for r in rs if r["secs"] and r["cpu_s"] / r["secs"] >= MIN_CPU_UTIL]
        return full or rs

    by = {}
    for r in recs:
        by.setdefault((r["variant"], r["lib"], r["api"]), []).append(r)

    def med(variant, pair, field):
        rs = kept(by.get((variant,) + pair, []))
        return statistics.median(r[field] for r in rs) if rs else None

    rows = []
    for v in variants:
        vr = [r for r in recs if r["variant"] == v]
        sock, dev = busy_settings(vr[0])
        x, l = med(v, BUSY_PAIRS[1], "mpps"), med(v, BUSY_PAIRS[0], "mpps")
        off_x, off_l = med("off", BUSY_PAIRS[1], "mpps"), med("off", BUSY_PAIRS[0], "mpps")
        kr = kept(vr)
        napis = sorted({r["napi_id"] for r in vr})
        busy = vr[0]["busy_poll_usecs"] > 0
        drops = statistics.median(r["gen_tx_dropped"] / r["secs"] for r in kr if r["secs"])
        rows.append([v, sock, dev, f3(l), f3(x), f3(ratio(x, l) if x and l else None),
                     f2(ratio(l, off_l) if l and off_l else None), f2(ratio(x, off_x) if x and off_x else None),
                     ", ".join(map(str, napis)) if busy else "–",
                     f"{statistics.median(r['netrx_gen_per_s'] for r in kr):,.0f}",
                     f"{statistics.median(r['netrx_rx_per_s'] for r in kr):,.0f}",
                     f"{drops:,.0f}", f"{len(kr)}/{len(vr)}"])
    header = ["Variant", "Socket", "Device", "libxdp Mpps", "xsk_rs Mpps", "xsk_rs/libxdp",
              "libxdp vs off", "xsk_rs vs off", "NAPI id", "NET_RX/s CPU 0", "NET_RX/s CPU 1", "drops/s",
              "Runs kept"]
    lines += table(header, rows, "lllrrrrrrrrrr")
    busy_recs = [r for r in recs if r["busy_poll_usecs"] > 0]
    zero = busy_recs and all(r["napi_id"] == 0 for r in busy_recs)
    gen_side = sum(r["netrx_gen_per_s"] for r in recs) > 10 * max(1, sum(r["netrx_rx_per_s"] for r in recs))
    lines += ["", "Medians over the runs kept: a run whose receiver was on its CPU less than "
              f"{MIN_CPU_UTIL:.0%} of the interval (cpu_s; the machine is shared) starved its fill ring "
              "for reasons of its own and is left out while others remain. \"vs off\" is each library "
              "against its own median without either setting.", "",
              "Why busy polling does not help on veth, and the deferral hurts:", ""]
    lines.append(
        "- The socket has no NAPI to poll: "
        + ("every busy-polling run's socket reported SO_INCOMING_NAPI_ID 0. "
           if zero else "SO_INCOMING_NAPI_ID is in the NAPI id column. ")
        + "Since Linux 6.13 an AF_XDP socket learns its NAPI id at bind, from the NAPI linked to its "
        "RX queue (net/xdp/xsk.c, xsk_bind: `rxq->napi`; 6.13 did it for zero-copy only, a later "
        "fix for copy mode too), and veth links none to its queues (netdev queue-get shows "
        "napi-id 0; `Capabilities::napi_ids` lists the NAPI instance it does have). On 6.1 and "
        "6.12 a copy-mode socket took the id from its packets and reports veth's NAPI "
        "(tests/busy_poll.rs), so this part is specific to 6.13 and later. "
        "With id 0, sk_busy_loop in recvfrom returns at once: busy polling becomes a syscall per "
        "empty pass and nothing else (perf on the receiver's CPU: the time is in the recvfrom path, "
        "no napi_busy_loop).")
    lines.append(
        "- veth's receive runs on the sender's CPU: its NAPI is scheduled by the peer's transmit "
        "(veth_xmit → __veth_xdp_flush → napi_schedule), so the XDP program, the copy into the "
        "UMEM and the RX ring writes run in the generator's softirq on CPU 0"
        + (" (the NET_RX columns)" if gen_side else "")
        + ". The receiver on CPU 1 only reads rings; nothing it does can poll that NAPI sooner.")
    lines.append(
        "- The deferral stalls veth's NAPI: with napi_defer_hard_irqs > 0 and a non-zero "
        "gro_flush_timeout, napi_complete_done arms a timer and returns false, so veth_poll "
        "leaves rx_notify_masked set and the sender's transmits stop scheduling the NAPI; it runs "
        "when the timer fires (gro_flush_timeout later, or when a busy poller would poll it, which "
        "here none can). NET_RX softirqs drop by an order of magnitude, veth's 256-entry ring "
        "fills between timer runs and the sender's packets are dropped (drops/s). A 20 µs "
        "timeout keeps the ring from overflowing but not the rate: the NAPI still runs only from "
        "the timer, and the sender's copy-mode TX completions (freed when veth's NAPI consumes "
        "its skbs) wait for it. Without the deferral the same busy-poll settings cost little or "
        "nothing in rate.")
    lines.append(
        "- Budget and prefer change nothing here: both act in napi_busy_loop, which never runs "
        "without a NAPI id. gro_flush_timeout alone does nothing (XDP redirect leaves GRO empty), "
        "and napi_defer_hard_irqs alone does nothing (a zero timeout disables the deferral).")
    lines.append(
        "- On a NIC whose driver links its NAPIs to its queues (most do since 6.9: ice, i40e, mlx5, "
        "...), the socket gets the queue's NAPI id and busy polling runs the driver's NAPI from the "
        "application's thread; the deferral then keeps the device's interrupt masked while it does. "
        "That is where these settings help; see the README's \"Huge pages and busy polling\".")
    lines.append("")
    return lines


# ---------------------------------------------------------------- chart


def import_pyplot():
    """matplotlib with the Agg backend. The bench script installs it with apt
    (python3-matplotlib), which puts it where only the system interpreter
    looks; a python3 of the same version from elsewhere on PATH (pyenv) gets
    that directory added rather than failing."""
    try:
        import matplotlib
    except ImportError:
        dist = "/usr/lib/python3/dist-packages"
        if sys.version_info[:2] == (3, 11) and os.path.isdir(dist) and dist not in sys.path:
            sys.path.append(dist)
        try:
            import matplotlib
        except ImportError:
            raise ReportError(
                f"matplotlib is not importable by {sys.executable}; "
                "install python3-matplotlib (apt) or run with /usr/bin/python3")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def draw_chart(data, png_path):
    """Grouped bars of median Mpps per scenario row: libxdp inline and xsk_rs
    batch, with min–max error bars. Returns False when there is nothing to draw."""
    summary = rate_summary(data["rate"])
    rows = [row for row in sorted(summary, key=row_key)
            if BASE in summary[row] or HEAD in summary[row]]
    if not rows:
        return False
    plt = import_pyplot()
    fig, ax = plt.subplots(figsize=(14, 5), dpi=100)
    width = 0.38
    series = [(BASE, "libxdp inline", "#7f7f7f", -width / 2),
              (HEAD, "xsk_rs span", "#1f77b4", width / 2)]
    for pair, label, color, offset in series:
        xs, heights, low, high = [], [], [], []
        for i, row in enumerate(rows):
            values = summary[row].get(pair)
            if not values:
                continue
            med = statistics.median(values)
            xs.append(i + offset)
            heights.append(med)
            low.append(med - min(values))
            high.append(max(values) - med)
        if not xs:
            continue
        ax.bar(xs, heights, width, yerr=[low, high], capsize=3, label=label,
               color=color, error_kw={"elinewidth": 1, "ecolor": "black"})
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([row_name(r) for r in rows], rotation=30, ha="right")
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylabel("Mpps")
    # Headroom above the tallest error bar, so the legend does not cover a bar.
    ax.set_ylim(0, max(max(v) for row in rows for v in summary[row].values()) * 1.15)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    meta = data["meta"]
    ax.set_title(f"AF_XDP median Mpps (min–max bars), kernel {meta_get(meta, 'kernel')}, "
                 f"{meta_get(meta, 'date')}")
    ax.legend(loc="best", ncols=2)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png_path)), exist_ok=True)
    # No software/date metadata, so the same input gives the same file.
    fig.savefig(png_path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return True


# ---------------------------------------------------------------- main


def render(data, png_link):
    lines = []
    lines += section_header(data["meta"])
    lines += section_machine(data["meta"])
    lines += section_targets(data)
    lines += section_throughput(data, png_link)
    lines += section_pkt(data)
    lines += section_compat(data)
    lines += section_setup(data)
    lines += section_ipp(data)
    lines += section_go(data)
    lines += section_py(data)
    lines += section_dpdk(data)
    lines += section_jumbo(data)
    lines += section_busy(data)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def section_jumbo(data):
    """Multi-buffer throughput at 9000 bytes: libxdp against xsk_rs, each mode
    and scenario, with the runs a library could not start."""
    lines = ["## Jumbo frames", ""]
    recs, fails, meta = data["jumbo"], data["jumbo_fail"], data["jumbo_meta"] or {}
    if not recs and not fails:
        return lines + ["No data (bench/run.sh step jumbo did not run).", ""]
    lines += [
        f"Multi-buffer (`XDP_USE_SG`, xskbench -S) on the veth pair with MTU {meta.get('mtu', '?')}: "
        f"{meta.get('len', '?')}-byte packets over {meta.get('frame_size', '?')}-byte frames, batch "
        f"{meta.get('batch', '?')}, median of {meta.get('runs', '?')} runs of {meta.get('secs', '?')} s. rxdrop is "
        f"fed by {meta.get('generator', '?')}. Gbps counts Ethernet frame bytes (no preamble or FCS).",
        "",
    ]
    groups = {}
    for r in recs:
        groups.setdefault((r["scenario"], r["mode"], r["lib"], r["api"]), []).append(r)
    failed = {}
    for r in fails:
        failed.setdefault((r["scenario"], r["mode"], r["lib"], r["api"]), []).append(r)
    keys = sorted(set(groups) | set(failed),
                  key=lambda k: (order(k[0], SCENARIOS), order(k[1], MODES), order(k[2], LIBS), order(k[3], APIS)))
    rows = []
    for k in keys:
        runs = groups.get(k, [])
        if runs:
            gbps = statistics.median(r["gbps"] for r in runs)
            mpps = statistics.median(r["mpps"] for r in runs)
            drop = statistics.median(r["rx_dropped"] for r in runs)
            base = groups.get((k[0], k[1]) + BASE, [])
            vs = ratio(mpps, statistics.median(r["mpps"] for r in base)) if base and k[2:] != BASE else None
            rows.append([k[0], k[1], f"{k[2]} {k[3]}", f2(gbps), f3(mpps),
                         f2(vs) if vs is not None else "", str(int(drop)), str(len(runs))])
        else:
            rows.append([k[0], k[1], f"{k[2]} {k[3]}", "failed", "", "", "", "0"])
    lines += table(["Scenario", "Mode", "Library", "Gbps", "Mpps", "/libxdp", "rx_dropped", "Runs"], rows,
                   "lllrrrrr")
    lines += [""]
    for k in keys:
        if k in failed:
            errs = sorted({r["error"] for r in failed[k]})
            lines.append(f"- {k[2]} {k[3]}, {k[0]} {k[1]}: could not start ({len(failed[k])} runs): "
                         + "; ".join(f"`{e}`" for e in errs))
    return lines + [""]


def main():
    ap = argparse.ArgumentParser(description="Write BENCHMARKS.md and a chart from bench results.")
    ap.add_argument("results", help="JSON Lines file written by the bench runs")
    ap.add_argument("--md", required=True, help="markdown file to write")
    ap.add_argument("--png", required=True, help="chart to write (linked from the markdown)")
    args = ap.parse_args()
    try:
        data = load(args.results)
        drawn = draw_chart(data, args.png)
    except ReportError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    png_link = None
    if drawn:
        md_dir = os.path.dirname(os.path.abspath(args.md))
        png_link = os.path.relpath(os.path.abspath(args.png), md_dir).replace(os.sep, "/")
    else:
        print("report.py: no throughput results, no chart written", file=sys.stderr)
    text = render(data, png_link)
    with open(args.md, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
