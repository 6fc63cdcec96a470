#!/usr/bin/env bash
# Builds c-examples/xsk_demo.c against an installed libxsk_rs and runs it over
# a veth pair between two network namespaces made for this run (and removed
# afterwards, also on Ctrl-C).
#
#   c-examples/demo.sh PREFIX [-d SECONDS] [-m skb|drv|auto] [-s FRAME_LEN]
#
# Needs root: it creates namespaces and a veth pair, and attaches an XDP program.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	echo "usage: $0 PREFIX [-d SECONDS] [-m skb|drv|auto] [-s FRAME_LEN]" >&2
	exit 2
}
[[ $# -ge 1 ]] || usage
prefix=$(cd "$1" && pwd) || { echo "demo.sh: no such prefix: $1" >&2; exit 2; }
shift
demo_args=("$@") # passed to xsk_demo as they are: -d, -m, -s

if [[ $(id -u) -ne 0 ]]; then
	echo "demo.sh: needs root (network namespaces, a veth pair and an XDP program); try: sudo $0 $prefix $*" >&2
	exit 1
fi

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
if ! pkg-config --exists xsk_rs; then
	echo "demo.sh: pkg-config finds no xsk_rs under $PKG_CONFIG_PATH" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xsk_rs-demo.XXXXXX")
ns_tx="" ns_rx=""
cleanup() {
	[[ -n $ns_tx ]] && ip netns del "$ns_tx" 2>/dev/null
	[[ -n $ns_rx ]] && ip netns del "$ns_rx" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2046 # pkg-config output is meant to be split into words
gcc -std=c11 -Wall -Wextra -Werror -pedantic -O2 $(pkg-config --cflags xsk_rs) \
	"$here/xsk_demo.c" -o "$work/xsk_demo" $(pkg-config --libs xsk_rs)

ns_tx="xskrs-demo-$$-tx"
ns_rx="xskrs-demo-$$-rx"
for ns in "$ns_tx" "$ns_rx"; do
	ip netns add "$ns"
	# No IPv6, so no neighbour discovery frames mixed into the count.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
# One queue per end, so every frame lands on queue 0, where the receiver is.
ip -n "$ns_tx" link add veth0 numrxqueues 1 numtxqueues 1 type veth \
	peer name veth1 netns "$ns_rx" numrxqueues 1 numtxqueues 1
ip -n "$ns_tx" link set dev veth0 up
ip -n "$ns_rx" link set dev veth1 up

# Not exec: the trap must still run to remove the namespaces.
LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$work/xsk_demo" "${demo_args[@]}" "$ns_tx" veth0 "$ns_rx" veth1
