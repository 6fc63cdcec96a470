#!/usr/bin/env bash
# Benchmark, not a test: the Go binding's rxdrop example against the C tool
# it imitates, `xsk_bench rxdrop -a batch`, both built against an installed
# libxsk_rs, on a veth pair between two namespaces made for this run.
#
#   bench/go_rxdrop.sh PREFIX [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-p] [-j FILE]
#
# `xsk_bench txonly` in namespace A generates traffic for the whole run. In
# namespace B the C receiver and the Go receiver then take turns (only one
# process at a time may own the XDP program on an interface), ROUNDS rounds
# of SECONDS each, alternating which goes first. Each run's rx_pps comes from
# its summary line. Prints a table, the median rates and the median of the
# per-round ratios Go/C; exits 1 if that median is below 0.80.
#
# Each run also reports the receiver's CPU time (user + system, from bash's
# `time`) per packet received. In the default busy loop both receivers spin at
# 100 %, so that is only elapsed time per packet; with -p both wait in poll(),
# and CPU ns/pkt then is what a packet costs each of them, which tells more
# than the rate when the generator, not the receiver, is the limit.
#
# -j FILE appends each run's rate to FILE as a JSON line
# ({"kind":"go","impl":"c"|"go",...}, what bench/run.sh collects).
#
# Defaults: -d 5 -r 3 -m drv. VERBOSE=1 also prints every run's summary line
# (rx_ring_full there shows a receiver that did not keep up with the
# generator). Needs root (namespaces, veth, XDP) and go.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
min_ratio=0.80

usage() {
	echo "usage: $0 PREFIX [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-p] [-j FILE]" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
prefix=$1
shift
secs=5 rounds=3 mode=drv poll=() json=""
while getopts "d:r:m:pj:" opt; do
	case $opt in
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
bench_init go-bench "$prefix"
echo "building the Go rxdrop example"
go_offline
(cd "$repo/bindings/go" && go build -o "$bin/go_rxdrop" ./examples/rxdrop)

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
	if [[ $rc -ne 0 || -z $pps || -z $pkts || $pkts -eq 0 ]]; then
		echo "go_rxdrop.sh: $name failed ($rc):" >&2
		cat "$out" "$work/$name.err" >&2
		return 1
	fi
	no_xdp_left "$ns_b" "$if_b" >&2 || { echo "go_rxdrop.sh: XDP program left after $name" >&2; return 1; }
	cpu=$(awk -v p="$pkts" '{ printf "%.0f", ($1 + $2) * 1e9 / p }' "$work/$name.time")
	echo "$pps $cpu"
}

echo "rxdrop over veth, xdp $mode, ${poll[*]:-busy loop}, $rounds rounds of $secs s, generator: xsk_bench txonly -s 64"
printf '%-6s %14s %14s %8s %14s %14s\n' round "C rx_pps" "Go rx_pps" Go/C "C CPU ns/pkt" "Go CPU ns/pkt"
c_all=() go_all=() ratios=() c_cpu_all=() g_cpu_all=()
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then
		read -r c c_cpu < <(run_one "c-$r" "$bin/xsk_bench" rxdrop -a batch)
		read -r g g_cpu < <(run_one "go-$r" "$bin/go_rxdrop")
	else
		read -r g g_cpu < <(run_one "go-$r" "$bin/go_rxdrop")
		read -r c c_cpu < <(run_one "c-$r" "$bin/xsk_bench" rxdrop -a batch)
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
			printf '{"kind":"go","impl":"%s","mode":"%s","run":%d,"mpps":%s}\n' "$impl" "$mode" "$r" \
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
		echo "C  $r: $(grep '^summary: ' "$work/c-$r.out")"
		echo "Go $r: $(grep '^summary: ' "$work/go-$r.out")"
	done
fi
kill "$gen" 2>/dev/null || true
if awk -v r="$r_med" -v m="$min_ratio" 'BEGIN { exit !(r < m) }'; then
	echo "FAIL: median Go/C ratio $r_med is below $min_ratio"
	exit 1
fi
echo "OK: median Go/C ratio $r_med (>= $min_ratio)"
