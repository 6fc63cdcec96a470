# Shared by the shell test runners (tests/c/run.sh, tests/examples.sh, ...)
# and c-examples/demo.sh: step accounting, a scratch directory, veth pairs in
# network namespaces made for this run, and their removal on exit.
#
#   source "$repo/tests/lib.sh"
#   lib_init NAME          $work (scratch dir), traps that remove everything
#   step NAME LOG CMD...   run CMD, output in LOG (shown on failure), count it
#   make_pair NS_A IF_A NS_B IF_B
#                          veth pair, one queue per end, IPv6 off, both up
#   no_xdp_left NS IF      fails if IF in NS carries any XDP program
#   need_root              skip (outside CI) or fail (CI=true) without root
#   finish                 print the tally and exit 0 only if nothing failed
#   readme_example LANG OUT
#                          the ```LANG block between README.md's
#                          <!-- example:LANG:begin/end --> markers, into OUT
#
# Background processes appended to bg_pids are killed on exit; namespaces made
# by make_pair are deleted.
# shellcheck shell=bash disable=SC2317

in_ci=false
[[ ${CI:-} == true || ${CI:-} == 1 ]] && in_ci=true
passed=0 failed=0 skipped=0
bg_pids=() lib_netns=() work="" lib_name=""

lib_cleanup() {
	local pid ns
	for pid in "${bg_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for ns in "${lib_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[[ -n $work ]] && rm -rf "$work"
}

lib_init() {
	lib_name=$1
	work=$(mktemp -d "${TMPDIR:-/tmp}/xsk_rs-$lib_name.XXXXXX")
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
}

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

step() {
	local name=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		[[ ${VERBOSE:-} == 1 ]] && cat "$log"
		pass "$name"
	else
		echo "---- output of: $name"
		tail -n 200 "$log"
		echo "----"
		fail "$name"
	fi
}

finish() {
	echo "$lib_name: $passed passed, $failed failed, $skipped skipped"
	[[ $failed -eq 0 ]] && exit 0
	exit 1
}

need_root() {
	[[ $(id -u) -eq 0 ]] && return 0
	if $in_ci; then
		fail "packet tests need root (namespaces, veth, XDP), and CI=true forbids skipping them"
	else
		echo "SKIP: packet tests need root (namespaces, veth, XDP); rerun as root to run them"
		skipped=$((skipped + 1))
	fi
	finish
}

make_pair() {
	local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4 ns
	for ns in "$ns_a" "$ns_b"; do
		ip netns add "$ns" || return 1
		lib_netns+=("$ns")
		# No IPv6, so no neighbour discovery frames on the veth.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	# One queue per end: every frame then reaches queue 0, where the sockets are.
	ip -n "$ns_a" link add "$if_a" numrxqueues 1 numtxqueues 1 type veth \
		peer name "$if_b" netns "$ns_b" numrxqueues 1 numtxqueues 1 &&
		ip -n "$ns_a" link set dev "$if_a" up &&
		ip -n "$ns_b" link set dev "$if_b" up
}

no_xdp_left() {
	local ns=$1 ifname=$2 out
	out=$(ip -n "$ns" -d link show dev "$ifname") || return 1
	if grep -Eq '(^|[[:space:]])(xdp|xdpgeneric|xdpdrv|xdpoffload|xdpmulti|prog/xdp[a-z]*)([[:space:]]|$)' <<<"$out"; then
		echo "$out"
		return 1
	fi
}

readme_example() {
	local lang=$1 out=$2 readme fence='```'
	readme="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/README.md"
	awk -v b="<!-- example:$lang:begin -->" -v e="<!-- example:$lang:end -->" \
		'$0 == b { inside = 1; next } $0 == e { inside = 0 } inside' "$readme" |
		awk -v f="$fence$lang" '$0 == f { code = 1; next } /^```/ { code = 0 } code' >"$out"
	[[ -s $out ]] || { echo "no $fence$lang block between the example:$lang markers in README.md"; return 1; }
}
