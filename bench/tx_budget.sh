#!/usr/bin/env bash
# Benchmark, not a test: what the socket's TX budget (tx_budget, the kernel's
# XDP_MAX_TX_SKB_BUDGET, Linux 6.17) buys in copy mode. `xsk_bench txonly`
# built against an installed libxsk_rs sends 64-byte frames from namespace A
# for SECONDS per run, with each batch size and each budget; in namespace B
# `xsk_bench rxdrop` receives them through the built-in program in MODE for
# the whole run.
#
#   bench/tx_budget.sh PREFIX [-d SECONDS] [-r ROUNDS] [-m drv|skb]
#                      [-b "BATCH..."] [-B "BUDGET..."]
#
# After one warm-up run, each round runs every (batch, budget) pair once, in an order that rotates
# from round to round, so that a slow stretch of the machine does not land on
# one budget. Prints each run's tx_pps, then a table of the median Mpps per
# budget (rows) and batch (columns). The TX ring is xsk_bench's 2048, so
# budgets run 32 (the kernel's own) to 2048; 0 is the library's default.
#
# With two CPUs or more the sender runs on CPU 0 and the receiver on the last
# CPU (taskset): the veth delivers, runs the XDP program and copies into the
# receiver's UMEM in the sender's syscall, on the sender's CPU, so that CPU
# is the bottleneck, and pinning keeps the scheduler from moving the two
# spinning processes onto one CPU now and then, which made runs of the same
# setting differ by 10 %.
#
# Defaults: -d 3 -r 3 -m drv -b "64 256" -B "32 64 128 256 512 2048 0".
# Needs root (namespaces, veth, XDP).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
	echo "usage: $0 PREFIX [-d SECONDS] [-r ROUNDS] [-m drv|skb] [-b \"BATCH...\"] [-B \"BUDGET...\"]" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
prefix=$1
shift
secs=3 rounds=3 mode=drv batches="64 256" budgets="32 64 128 256 512 2048 0"
while getopts "d:r:m:b:B:" opt; do
	case $opt in
	d) secs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	m) mode=$OPTARG ;;
	b) batches=$OPTARG ;;
	B) budgets=$OPTARG ;;
	*) usage ;;
	esac
done
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
[[ $OPTIND -gt $# ]] || usage
bench_args "$secs" "$rounds" "$mode" || usage
bench_init tx-budget-bench "$prefix"

ns_a="xskrs-tb-$$-a" ns_b="xskrs-tb-$$-b" if_a=veth0 if_b=veth1
make_pair "$ns_a" "$if_a" "$ns_b" "$if_b"

pin_tx=() pin_rx=()
if (($(nproc) >= 2)); then
	pin_tx=(taskset -c 0) pin_rx=(taskset -c "$(($(nproc) - 1))")
fi

# The receiver: rxdrop until killed (on exit, by lib_cleanup).
spawn "$ns_b" "$work/rx.out" "$work/rx.err" "${pin_rx[@]}" "$bin/xsk_bench" rxdrop -i "$if_b" -m "$mode"
rx=$spawned
wait_ready "$work/rx.err" "$rx" >&2 || { echo "tx_budget.sh: receiver not ready" >&2; exit 1; }

# run_one BATCH BUDGET: one txonly run; prints its tx_pps.
run_one() {
	local out=$work/tx-$1-$2.out rc=0 pps
	in_ns "$ns_a" "${pin_tx[@]}" "$bin/xsk_bench" txonly -i "$if_a" -s 64 -b "$1" -B "$2" -d "$secs" \
		>"$out" 2>"$out.err" || rc=$?
	pps=$(summary_field "$out" tx_pps)
	if [[ $rc -ne 0 || -z $pps ]]; then
		echo "tx_budget.sh: txonly -b $1 -B $2 failed ($rc):" >&2
		cat "$out" "$out.err" >&2
		return 1
	fi
	echo "$pps"
}

read -ra batch_list <<<"$batches"
read -ra budget_list <<<"$budgets"
pairs=()
for b in "${batch_list[@]}"; do
	for B in "${budget_list[@]}"; do
		pairs+=("$b $B")
	done
done
declare -A runs
# One run first that counts for nothing: the first run after the receiver
# started has been seen at half the rate of the same setting later.
run_one "${batch_list[0]}" "${budget_list[0]}" >/dev/null
echo "txonly -s 64 over veth, receiver rxdrop with xdp $mode, $rounds rounds of $secs s, TX ring 2048${pin_tx:+, pinned}"
for ((r = 0; r < rounds; r++)); do
	for ((i = 0; i < ${#pairs[@]}; i++)); do
		read -r b B <<<"${pairs[(i + r * ${#pairs[@]} / rounds) % ${#pairs[@]}]}"
		pps=$(run_one "$b" "$B")
		echo "round $((r + 1)) batch $b budget $B: $pps pps"
		runs[$b,$B]+="$pps "
	done
done
kill "$rx" 2>/dev/null || true

echo
printf 'median txonly Mpps\n%-14s' budget
for b in "${batch_list[@]}"; do printf ' %10s' "batch $b"; done
echo
for B in "${budget_list[@]}"; do
	if [[ $B == 0 ]]; then printf '%-14s' "0 (default)"; else printf '%-14s' "$B"; fi
	for b in "${batch_list[@]}"; do
		# shellcheck disable=SC2086 # the runs are a space-separated list
		printf ' %10.3f' "$(printf '%s\n' ${runs[$b,$B]} | median | awk '{ print $1 / 1e6 }')"
	done
	echo
done
