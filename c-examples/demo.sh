#!/usr/bin/env bash
# Builds c-examples/xsk_bench against an installed libxsk_rs and measures one
# xsk_rs socket sending to another over a veth pair between two network
# namespaces made for this run (removed afterwards, also on Ctrl-C).
#
#   c-examples/demo.sh PREFIX [-d SECONDS] [-m skb|drv|auto] [-s PKT_SIZE]
#
#   -d  how long the sender runs (default 5)
#   -m  XDP mode of the receiving side (default auto)
#   -s  packet size, 60..1514 (default 64)
#
# `xsk_bench rxdrop` receives on veth1 in one namespace; once it is ready,
# `xsk_bench txonly` sends from veth0 in the other for SECONDS. Both print
# their per-second stats (prefixed rx / tx) and their summary line; the
# verdict compares what the receiver got with what the sender's kernel
# completed, so a frame counts as lost only if it really left the sender.
# Ctrl-C ends the run early and still gives the verdict (exit status 130).
#
# Needs root: it creates namespaces and a veth pair, and attaches an XDP program.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
	echo "usage: $0 PREFIX [-d SECONDS] [-m skb|drv|auto] [-s PKT_SIZE]" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
prefix=$1
shift
seconds=5 mode=auto size=64
while getopts d:m:s: opt; do
	case $opt in
	d) seconds=$OPTARG ;;
	m) mode=$OPTARG ;;
	s) size=$OPTARG ;;
	*) usage ;;
	esac
done
[[ $OPTIND -gt $# ]] || usage
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "demo.sh: -d takes a whole number of seconds, at least 1" >&2; exit 2; }
[[ $mode == skb || $mode == drv || $mode == auto ]] || { echo "demo.sh: -m takes skb, drv or auto" >&2; exit 2; }
# 1514: what a veth with the default MTU of 1500 passes.
if ! [[ $size =~ ^[0-9]+$ ]] || ((size < 60 || size > 1514)); then
	echo "demo.sh: -s takes 60..1514" >&2
	exit 2
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "demo.sh: needs root (network namespaces, a veth pair and an XDP program); try: sudo $0 $prefix $*" >&2
	exit 1
fi


# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
use_prefix "$prefix"
lib_init demo # sets $work
make -s -C "$here" O="$work" "$work/xsk_bench"

ns_tx="xskrs-demo-$$-tx" ns_rx="xskrs-demo-$$-rx"
make_pair "$ns_tx" veth0 "$ns_rx" veth1

echo "demo: libxsk_rs $(pkg-config --modversion xsk_rs) from $prefix: xsk_bench txonly on $ns_tx/veth0 ->" \
	"xsk_bench rxdrop on $ns_rx/veth1 (xdp $mode), $size-byte packets, $seconds s"

# Ctrl-C ends the sender's run (it prints its summary) and then this script
# goes on to stop the receiver and give the verdict. The receiver runs in its
# own session, so that it keeps receiving until the sender is done, and the
# display filters ignore SIGINT, so that no line is lost.
interrupted=false
trap 'interrupted=true' INT

setsid ip netns exec "$ns_rx" env LD_LIBRARY_PATH="$libdir" "$work/xsk_bench" rxdrop -i veth1 -m "$mode" >"$work/rx.out" 2>"$work/rx.err" &
rx_pid=$!
bg_pids+=("$rx_pid")
wait_ready "$work/rx.err" "$rx_pid" >&2 || { echo "demo.sh: the receiver failed to start" >&2; exit 1; }
# The receiver's lines, as they come, until it exits.
(
	trap '' INT
	tail -n +1 -f --pid="$rx_pid" "$work/rx.out" | sed -u 's/^/rx  /'
) &
tail_pid=$!
bg_pids+=("$tail_pid")

tx_rc=0
in_ns "$ns_tx" "$work/xsk_bench" txonly -i veth0 -d "$seconds" -s "$size" 2>"$work/tx.err" |
	(trap '' INT && exec tee "$work/tx.out") | (trap '' INT && exec sed -u 's/^/tx  /') || tx_rc=$?

# Every frame the sender counts as completed has been through the receiver's
# XDP program by now (a copy-mode completion comes when the skb is freed);
# give the receiver a moment to empty its RX ring, then stop it.
sleep 0.3
kill -INT "$rx_pid" 2>/dev/null || true
rx_rc=0
wait "$rx_pid" || rx_rc=$?
wait "$tail_pid" || true

field() {
	sed -n 's/^summary: \(.* \)\{0,1\}'"$2"'=\([^ ]*\).*$/\2/p' "$1"
}
sent=$(field "$work/tx.out" tx_pkts)
received=$(field "$work/rx.out" rx_pkts)
if [[ $tx_rc -ne 0 || $rx_rc -ne 0 || -z $sent || -z $received ]]; then
	cat "$work/tx.err" "$work/rx.err" >&2
	echo "verdict: FAILED (sender exit $tx_rc, receiver exit $rx_rc)"
	exit 1
fi
lost=$((sent > received ? sent - received : 0))
# Both rates over the sender's run: the receiver's own secs include waiting.
secs=$(field "$work/tx.out" secs)
read -r pct tx_rate rx_rate < <(awk -v l="$lost" -v s="$sent" -v r="$received" -v t="$secs" \
	'BEGIN { printf "%.3f %.0f %.0f\n", (s ? 100 * l / s : 0), (t ? s / t : 0), (t ? r / t : 0) }')
echo "verdict: sent $sent (completed), received $received, lost $lost ($pct%) in $secs s:" \
	"tx $tx_rate pps, rx $rx_rate pps; receiver's kernel counters:" \
	"rx_dropped=$(field "$work/rx.out" rx_dropped) rx_ring_full=$(field "$work/rx.out" rx_ring_full)" \
	"rx_fill_ring_empty_descs=$(field "$work/rx.out" rx_fill_ring_empty_descs)"
if ((received > sent)); then
	echo "demo.sh: the receiver got more than was sent: something else is on the veth" >&2
	exit 1
fi
$interrupted && exit 130
((received > 0))
