#!/usr/bin/env bash
# Benchmark, not a test: a Go rxdrop against the C program it imitates, both
# built against an installed libxsk_rs, on a veth pair between two namespaces
# made for this run.
#
#   bench/go_rxdrop.sh PREFIX [-a batch|pkt] [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-p] [-j FILE]
#
# -a batch (the default): the Go binding's ring-level rxdrop example
# (bindings/go/examples/rxdrop: Receive + Fill) against `xsk_bench rxdrop -a
# batch`; the target is 0.80 of C.
# -a pkt: the packet layer, bindings/go/examples/pktrxdrop (RxSocket Recv +
# Release) against the C packet layer's rxdrop, xskbench built with
# -DXSKBENCH_API_PKT (bench/xskbench.c, recv_batch + release, same geometry);
# both warm up for 1 s (xskbench's default) before counting. The target is
# 0.90 of C. Without bench/backend_xsk_rs_pkt.h (a tree from before
# xskbench's packet build) the C side is `xsk_bench rxdrop -a batch`
# instead, and the table says so. xskbench has no poll mode: -p with -a pkt
# is refused unless the C side is xsk_bench.
#
# `xsk_bench txonly` in namespace A generates traffic for the whole run. In
# namespace B the C receiver and the Go receiver then take turns (only one
# process at a time may own the XDP program on an interface), ROUNDS rounds
# of SECONDS each, alternating which goes first. Each run's rx_pps comes from
# its summary line (xskbench: its JSON line's mpps). Prints a table, the
# median rates and the median of the per-round ratios Go/C; exits 1 if that
# median is below the target.
#
# Each run also reports the receiver's CPU time (user + system, from bash's
# `time`) per packet received. In the default busy loop both receivers spin at
# 100 %, so that is only elapsed time per packet; with -p both wait in poll(),
# and CPU ns/pkt then is what a packet costs each of them, which tells more
# than the rate when the generator, not the receiver, is the limit. (With a
# warm-up, -a pkt, the CPU time covers it too, for both receivers alike.)
#
# -j FILE appends each run's rate to FILE as a JSON line
# ({"kind":"go","impl":"c"|"go","api":"batch"|"pkt",...}, what bench/run.sh
# collects).
#
# Defaults: -a batch -d 5 -r 3 -m drv. VERBOSE=1 also prints every run's summary line
# (rx_ring_full there shows a receiver that did not keep up with the
# generator). Needs root (namespaces, veth, XDP) and go.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
	echo "usage: $0 PREFIX [-a batch|pkt] [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-p] [-j FILE]" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
prefix=$1
shift
secs=5 rounds=3 mode=drv poll=() json="" api=batch
while getopts "a:d:r:m:pj:" opt; do
	case $opt in
	a) api=$OPTARG ;;
	j) json=$OPTARG ;;
	p) poll=(-p) ;;
	d) secs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	m) mode=$OPTARG ;;
	*) usage ;;
	esac
done
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
[[ $OPTIND -gt $# ]] || usage
bench_args "$secs" "$rounds" "$mode" || usage
# c_cmd/go_cmd: the two receivers (run_one adds -i, -m, -d and -p); c_name
# names the C one in the table.
case $api in
batch)
	min_ratio=0.80 go_example=rxdrop
	c_cmd=(xsk_bench rxdrop -a batch) go_cmd=(go_rxdrop) c_name="xsk_bench rxdrop -a batch"
	;;
pkt)
	min_ratio=0.90 go_example=pktrxdrop
	if [[ -f $here/backend_xsk_rs_pkt.h ]]; then
		[[ ${#poll[@]} -eq 0 ]] || { echo "$0: -p: xskbench's packet build has no poll mode" >&2; usage; }
		c_cmd=(xskbench-pkt rxdrop -w 1) go_cmd=(go_pktrxdrop -w 1) c_name="xskbench rxdrop, packet layer (-DXSKBENCH_API_PKT)"
	else
		c_cmd=(xsk_bench rxdrop -a batch) go_cmd=(go_pktrxdrop) c_name="xsk_bench rxdrop -a batch (ring level: this tree has no xskbench packet build)"
	fi
	;;
*) usage ;;
esac
bench_init go-bench "$prefix"
if [[ ${c_cmd[0]} == xskbench-pkt ]]; then
	echo "building xskbench's packet-layer build against $prefix"
	# shellcheck disable=SC2046 # pkg-config output is a list of words
	cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wl,-z,now -DXSKBENCH_API_PKT "$here/xskbench.c" \
		-o "$bin/xskbench-pkt" $(pkg-config --cflags --libs xsk_rs) -Wl,-rpath,"$libdir"
fi
echo "building the Go $go_example example"
go_offline
(cd "$repo/bindings/go" && go build -o "$bin/go_$go_example" "./examples/$go_example")
c_cmd[0]=$bin/${c_cmd[0]} go_cmd[0]=$bin/${go_cmd[0]}

ns_a="xskrs-gb-$$-a" ns_b="xskrs-gb-$$-b" if_a=veth0 if_b=veth1
make_pair "$ns_a" "$if_a" "$ns_b" "$if_b"

# The generator: txonly until killed (on exit, by lib_cleanup).
spawn "$ns_a" "$work/gen.out" "$work/gen.err" "$bin/xsk_bench" txonly -i "$if_a" -s 64
gen=$spawned
wait_ready "$work/gen.err" "$gen" >&2 || { echo "go_rxdrop.sh: generator not ready" >&2; exit 1; }

# run_one NAME CMD...: runs a receiver in ns B; prints its rx_pps and its
# CPU nanoseconds per packet received.
run_one() {
	local name=$1 out=$work/$1.out rc=0 pps pkts cpu TIMEFORMAT='%U %S'
	shift
	{ time in_ns "$ns_b" "$@" -i "$if_b" -m "$mode" -d "$secs" "${poll[@]}" >"$out" 2>"$work/$name.err" ||
		rc=$?; } 2>"$work/$name.time"
	pps=$(summary_field "$out" rx_pps)
	pkts=$(summary_field "$out" rx_pkts)
	if [[ -z $pps ]] && grep -q '^{"kind":"rate"' "$out"; then # xskbench's JSON line
		pps=$(sed -n 's/^{"kind":"rate".*"mpps":\([0-9.]*\).*$/\1/p' "$out" | awk '{ printf "%.0f", $1 * 1e6 }')
		pkts=$(sed -n 's/^{"kind":"rate".*"pkts":\([0-9]*\).*$/\1/p' "$out")
	fi
	if [[ $rc -ne 0 || -z $pps || -z $pkts || $pkts -eq 0 ]]; then
		echo "go_rxdrop.sh: $name failed ($rc):" >&2
		cat "$out" "$work/$name.err" >&2
		return 1
	fi
	no_xdp_left "$ns_b" "$if_b" >&2 || { echo "go_rxdrop.sh: XDP program left after $name" >&2; return 1; }
	cpu=$(awk -v p="$pkts" '{ printf "%.0f", ($1 + $2) * 1e9 / p }' "$work/$name.time")
	echo "$pps $cpu"
}

echo "rxdrop over veth, api $api, xdp $mode, ${poll[*]:-busy loop}, $rounds rounds of $secs s, generator: xsk_bench txonly -s 64"
echo "C: $c_name; Go: bindings/go/examples/$go_example"
printf '%-6s %14s %14s %8s %14s %14s\n' round "C rx_pps" "Go rx_pps" Go/C "C CPU ns/pkt" "Go CPU ns/pkt"
c_all=() go_all=() ratios=() c_cpu_all=() g_cpu_all=()
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then
		read -r c c_cpu < <(run_one "c-$r" "${c_cmd[@]}")
		read -r g g_cpu < <(run_one "go-$r" "${go_cmd[@]}")
	else
		read -r g g_cpu < <(run_one "go-$r" "${go_cmd[@]}")
		read -r c c_cpu < <(run_one "c-$r" "${c_cmd[@]}")
	fi
	[[ -n ${c:-} && -n ${g:-} ]] || exit 1
	if [[ $c -eq 0 ]]; then
		echo "go_rxdrop.sh: the C receiver got nothing in round $r; is the generator running?" >&2
		exit 1
	fi
	ratio=$(awk -v g="$g" -v c="$c" 'BEGIN { printf "%.3f", g / c }')
	printf '%-6s %14s %14s %8s %14s %14s\n' "$r" "$c" "$g" "$ratio" "$c_cpu" "$g_cpu"
	if [[ -n $json ]]; then
		for impl in c go; do
			pps=$c
			[[ $impl == go ]] && pps=$g
			printf '{"kind":"go","impl":"%s","api":"%s","mode":"%s","run":%d,"mpps":%s}\n' "$impl" "$api" "$mode" "$r" \
				"$(awk -v p="$pps" 'BEGIN { printf "%.4f", p / 1e6 }')" >>"$json"
		done
	fi
	c_all+=("$c") go_all+=("$g") ratios+=("$ratio") c_cpu_all+=("$c_cpu") g_cpu_all+=("$g_cpu")
	c="" g=""
done
c_med=$(printf '%s\n' "${c_all[@]}" | median)
g_med=$(printf '%s\n' "${go_all[@]}" | median)
r_med=$(printf '%s\n' "${ratios[@]}" | median)
cc_med=$(printf '%s\n' "${c_cpu_all[@]}" | median)
gc_med=$(printf '%s\n' "${g_cpu_all[@]}" | median)
printf '%-6s %14.0f %14.0f %8.3f %14.0f %14.0f\n' median "$c_med" "$g_med" "$r_med" "$cc_med" "$gc_med"
if [[ ${VERBOSE:-} == 1 ]]; then
	for ((r = 1; r <= rounds; r++)); do
		echo "C  $r: $(grep '^summary: \|^{"kind"' "$work/c-$r.out")"
		echo "Go $r: $(grep '^summary: ' "$work/go-$r.out")"
	done
fi
kill "$gen" 2>/dev/null || true
if awk -v r="$r_med" -v m="$min_ratio" 'BEGIN { exit !(r < m) }'; then
	echo "FAIL: median Go/C ratio $r_med is below $min_ratio"
	exit 1
fi
echo "OK: median Go/C ratio $r_med (>= $min_ratio)"
