#!/usr/bin/env bash
# Tests every way of reaching libxsk_rs from outside Rust, against an installed
# prefix only (never target/): the C examples (c-examples/), the Go package
# (bindings/go) and the Python module (bindings/python), plus the README's
# snippet for each language.
#
#   tests/reach/run.sh PREFIX          all parts
#   ONLY="bench dump" tests/reach/run.sh PREFIX
#
# Builds the C examples with c-examples/Makefile (pkg-config for PREFIX), makes
# one veth pair between two namespaces for this run ($ns_a/$if_a <-> $ns_b/$if_b,
# one queue each), then sources each part, tests/reach/<part>.sh, in turn. A
# part calls step() for each check and must leave no XDP program behind. Parts
# may make further pairs with make_pair; all are removed on exit.
#
# Needs root for the packet tests: without it they are skipped with a reason,
# except under CI=true, where that is a failure. VERBOSE=1 shows all output.
# shellcheck disable=SC2317
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [[ $# -ne 1 ]]; then
	echo "usage: $0 PREFIX" >&2
	exit 2
fi
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
use_prefix "$1"
lib_init reach-tests

go_offline

parts=(bench dump reflect dlopen caps go python readme)
[[ -n ${ONLY:-} ]] && read -r -a parts <<<"$ONLY"

bin="$work/bin"
step "c-examples build against $prefix" "$work/build-examples.log" \
	make -C "$repo/c-examples" O="$bin"
# The peers share tests/c/harness.h, which includes the installed header (for
# types only: they do not link the library).
for peer in peer_send peer_recv; do
	# shellcheck disable=SC2046 # word splitting of the cflags is intended
	step "$peer.c builds" "$work/build-$peer.log" \
		gcc -std=c11 -Wall -Wextra -Werror -pedantic -O2 $(pkg-config --cflags xsk_rs) \
		"$repo/tests/c/$peer.c" -o "$bin/$peer"
done

need_root
ns_a="xskrs-r-$$-a" ns_b="xskrs-r-$$-b" if_a=veth0 if_b=veth1
step "veth pair $ns_a/$if_a <-> $ns_b/$if_b" "$work/pair.log" make_pair "$ns_a" "$if_a" "$ns_b" "$if_b"
[[ $failed -eq 0 ]] || finish

# burst_into NS OUT ERR PEER_NS PEER_IF COUNT LEN CMD...: starts CMD in NS
# (stdout to OUT, stderr to ERR, which may be OUT), waits for its "ready", has
# peer_send send COUNT frames of LEN bytes out of PEER_IF in PEER_NS, then
# waits for CMD and shows what it printed. Fails if any of that fails.
burst_into() {
	local ns=$1 out=$2 err=$3 peer_ns=$4 peer_if=$5 count=$6 len=$7 pid rc=0
	shift 7
	spawn "$ns" "$out" "$err" "$@"
	pid=$spawned
	wait_ready "$err" "$pid" || return 1
	ip netns exec "$peer_ns" "$bin/peer_send" "$peer_if" "$count" "$len" || { kill "$pid"; return 1; }
	wait "$pid" || rc=$?
	cat "$out"
	[[ $err == "$out" ]] || cat "$err"
	[[ $rc -eq 0 ]] || { echo "the receiver exited with $rc"; return 1; }
}

# no_xdp_on_pair: neither end of the shared pair carries a program.
no_xdp_on_pair() { no_xdp_left "$ns_a" "$if_a" && no_xdp_left "$ns_b" "$if_b"; }

for part in "${parts[@]}"; do
	echo "--- $part"
	# shellcheck disable=SC1090
	source "$here/$part.sh"
done
finish
