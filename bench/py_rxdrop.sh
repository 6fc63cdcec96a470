#!/usr/bin/env bash
# Benchmark, not a test: Python rxdrop (bench/py_rxdrop.py over
# bindings/python/xsk_rs.py) against xskbench's C rxdrop on the packet layer,
# both against an installed libxsk_rs, taking turns on one veth pair between
# two namespaces made for this run.
#
#   bench/py_rxdrop.sh PREFIX [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-b BATCH] [-a "APIS"] [-j FILE]
#
# `xsk_bench txonly -s 64 -b 64` (c-examples) on CPU 0 in namespace A
# generates traffic for the whole run, as in bench/run.sh; the receivers run
# one at a time on CPU 1 in namespace B, ROUNDS rounds of a 0.5 s warm-up and
# SECONDS counted, each round in a different order. The C reference is
# xskbench built with -DXSKBENCH_API_PKT (recv_batch + release per batch); in a
# tree whose bench/xskbench.c lacks that build, it is the span build (the ring
# API's in-place calls), and the output says so. The Python receivers are
# py_rxdrop.py's APIS (default "batch packed": the zero-copy batch of
# memoryviews, and recv_packed into one reused array; also "recv", one packet
# per call, and "ring", the ring API's Socket.receive + Umem.fill); each
# counts packets and bytes, where C counts packets only.
#
# Two phases, each ROUNDS rounds: "rate", the receive rate over SECONDS after
# a 0.5 s warm-up (what the target is about; on veth the generator usually
# limits it), and "drain", the rate of taking 1024 packets from a full RX ring
# (xskbench's -n 1024: what a packet costs each receiver when every batch is
# full). Prints every round's Mpps, the medians, and for each Python API the
# median of its per-round ratios to C; exits 1 when the rate phase's ratio
# of "batch" is below 0.50. -j FILE appends a JSON line per run to FILE
# ({"kind":"py","phase":"rate"|"drain","impl":"c-pkt"|"c-span"|"py-batch"|...,
# "mode","batch","run","mpps"}: what bench/run.sh collects for bench/report.py).
#
# Defaults: -d 2 -r 5 -m drv -b 64 -a "batch packed". Python is $PYTHON
# (default python3). Needs root (namespaces, veth, XDP) and a C compiler.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
min_ratio=0.50

usage() {
	echo "usage: $0 PREFIX [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-b BATCH] [-a \"APIS\"] [-j FILE]" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
prefix=$1
shift
secs=2 rounds=5 mode=drv batch=64 apis="batch packed" json="" warm=0.5
while getopts "d:r:m:b:a:j:" opt; do
	case $opt in
	d) secs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	m) mode=$OPTARG ;;
	b) batch=$OPTARG ;;
	a) apis=$OPTARG ;;
	j) json=$OPTARG ;;
	*) usage ;;
	esac
done
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
[[ $OPTIND -gt $# ]] || usage
bench_args "$secs" "$rounds" "$mode" || usage
[[ $batch =~ ^[1-9][0-9]*$ && $batch -le 1024 ]] || usage
read -r -a py_apis <<<"$apis"
for a in "${py_apis[@]}"; do
	[[ $a =~ ^(batch|packed|recv|ring)$ ]] || usage
done
[[ " ${py_apis[*]} " == *" batch "* ]] || { echo "py_rxdrop.sh: -a must include batch (the target is about it)" >&2; exit 2; }
python=${PYTHON:-python3}
bench_init py-bench "$prefix"

# The C reference: the packet layer's build of xskbench where this tree has it.
# shellcheck disable=SC2054 # -Wl,-z,now is one argument
cflags=(-O2 -g -std=gnu11 -Wall -Wextra -Werror -Wl,-z,now)
if grep -q XSKBENCH_API_PKT "$here/xskbench.c"; then
	c_impl=c-pkt c_def=(-DXSKBENCH_API_PKT)
	c_what="xskbench -DXSKBENCH_API_PKT (C, packet layer: recv_batch + release)"
else
	c_impl=c-span c_def=(-DXSKBENCH_API_SPAN)
	c_what="xskbench -DXSKBENCH_API_SPAN (C, ring API in place): this tree's xskbench has no packet-layer build yet"
fi
echo "building xskbench ($c_impl)"
# shellcheck disable=SC2046 # pkg-config output is a list of words
cc "${cflags[@]}" "${c_def[@]}" "$here/xskbench.c" -o "$bin/xskbench-$c_impl" \
	$(pkg-config --cflags --libs xsk_rs) -Wl,-rpath,"$libdir"

ns_a="xskrs-pb-$$-a" ns_b="xskrs-pb-$$-b" if_a=veth0 if_b=veth1
make_pair "$ns_a" "$if_a" "$ns_b" "$if_b"

spawn "$ns_a" "$work/gen.out" "$work/gen.err" taskset -c 0 "$bin/xsk_bench" txonly -i "$if_a" -s 64 -b 64
gen=$spawned
wait_ready "$work/gen.err" "$gen" >&2 || { echo "py_rxdrop.sh: generator not ready" >&2; exit 1; }

# until_free: the previous receiver's queue and program are gone (the kernel
# releases both asynchronously after a process exits).
until_free() {
	local i
	for ((i = 0; i < 100; i++)); do
		no_xdp_left "$ns_b" "$if_b" >/dev/null && return 0
		sleep 0.02
	done
	echo "py_rxdrop.sh: an XDP program stayed on $if_b" >&2
	return 1
}

# run_one IMPL ARGS...: one run on CPU 1 in ns B with ARGS (-w/-d or -n);
# prints its Mpps.
run_one() {
	local impl=$1 out=$work/run.out cmd try
	shift
	if [[ $impl == c-* ]]; then
		cmd=("$bin/xskbench-$impl" rxdrop)
	else
		cmd=(env XSK_RS_LIB="$libdir/libxsk_rs.so.0" "$python" "$here/py_rxdrop.py" -a "${impl#py-}")
	fi
	# A queue the kernel is still releasing refuses a bind with EBUSY: retry.
	for ((try = 1; try <= 10; try++)); do
		until_free
		if in_ns "$ns_b" taskset -c 1 "${cmd[@]}" -i "$if_b" -m "$mode" -b "$batch" "$@" \
			>"$out" 2>"$work/run.err"; then
			"$python" -c 'import json, sys; print(json.loads(sys.stdin.read())["mpps"])' <"$out"
			return 0
		fi
		grep -qi busy "$work/run.err" || break
		sleep 0.1
	done
	echo "py_rxdrop.sh: $impl failed:" >&2
	cat "$out" "$work/run.err" >&2
	return 1
}

impls=("$c_impl")
for a in "${py_apis[@]}"; do impls+=("py-$a"); done

# phase NAME ARGS...: ROUNDS rounds of every receiver with ARGS, each round
# in a different order; prints the table and each Python API's median
# per-round ratio to C, and sets ratio_batch to that of "batch".
phase() {
	local name=$1 r k impl a ratio
	shift
	local -A all=() got=()
	printf '%-6s' round
	for impl in "${impls[@]}"; do printf ' %12s' "$impl"; done
	echo
	for ((r = 1; r <= rounds; r++)); do
		for ((k = 0; k < ${#impls[@]}; k++)); do
			impl=${impls[(k + r - 1) % ${#impls[@]}]}
			got[$impl]=$(run_one "$impl" "$@") || exit 1
		done
		printf '%-6s' "$r"
		for impl in "${impls[@]}"; do
			printf ' %12s' "${got[$impl]}"
			all[$impl]+="${got[$impl]} "
			[[ $impl == "$c_impl" ]] ||
				all[$impl/c]+="$(awk -v p="${got[$impl]}" -v c="${got[$c_impl]}" 'BEGIN { printf "%.4f", (c > 0 ? p / c : 0) }') "
			if [[ -n $json ]]; then
				printf '{"kind":"py","phase":"%s","impl":"%s","mode":"%s","batch":%d,"run":%d,"mpps":%s}\n' \
					"$name" "$impl" "$mode" "$batch" "$r" "${got[$impl]}" >>"$json"
			fi
		done
		echo
	done
	printf '%-6s' median
	for impl in "${impls[@]}"; do
		# shellcheck disable=SC2086 # a list of numbers
		printf ' %12.4f' "$(printf '%s\n' ${all[$impl]} | median)"
	done
	echo
	for a in "${py_apis[@]}"; do
		# shellcheck disable=SC2086
		ratio=$(printf '%s\n' ${all[py-$a/c]} | median)
		printf '%s: py-%s/%s median of per-round ratios %.3f\n' "$name" "$a" "$c_impl" "$ratio"
		[[ $a == batch ]] && ratio_batch=$ratio
	done
	return 0
}

echo "rxdrop over veth, xdp $mode, batch $batch; generator xsk_bench txonly -s 64 -b 64 on CPU 0, receivers on CPU 1"
echo "C: $c_what; Python: $($python --version)"
echo
echo "== rate: Mpps over ${secs} s after ${warm} s warm-up, $rounds rounds"
phase rate -w "$warm" -d "$secs"
rate_ratio=$ratio_batch
echo
echo "== drain: Mpps taking 1024 packets from a full ring (xskbench -n 1024), $rounds rounds"
phase drain -n 1024
echo
if awk -v r="$rate_ratio" -v m="$min_ratio" 'BEGIN { exit !(r < m) }'; then
	echo "MISS: the Python batch receive rate is $rate_ratio of C's, below $min_ratio"
	exit 1
fi
echo "OK: the Python batch receive rate is $rate_ratio of C's (>= $min_ratio)"
