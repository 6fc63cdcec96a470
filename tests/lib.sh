# Shared by the shell test runners (tests/c/run.sh, tests/examples.sh, ...)
# and c-examples/demo.sh: step accounting, a scratch directory, veth pairs in
# network namespaces made for this run, and their removal on exit.
#
#   source "$repo/tests/lib.sh"
#   use_prefix DIR         $prefix, $libdir and PKG_CONFIG_PATH for an
#                          installed libxsk_rs; exits if pkg-config cannot see it
#   lib_init NAME          $work (scratch dir), traps that remove everything
#   step NAME LOG CMD...   run CMD, output in LOG (shown on failure), count it
#   make_pair NS_A IF_A NS_B IF_B
#                          veth pair, one queue per end, IPv6 off, both up
#   no_xdp_left NS IF      fails if IF in NS carries any XDP program
#   wait_ready FILE PID    until FILE has a line "ready"; fails (and stops PID)
#                          if PID exits first or after 10 s
#   need_root              skip (outside CI) or fail (CI=true) without root
#   in_ns NS CMD...        CMD in NS, finding libxsk_rs in $libdir
#   spawn NS OUT ERR CMD...
#                          the same in the background; pid in $spawned
#   [FED_UNTIL=N] fed_by_peer OUT NS PEER PEER_NS PEER_IF CMD...
#                          CMD in NS while PEER (peer_send) sends a 100-byte
#                          frame every 100 ms; CMD must exit 0 having printed
#                          at least 3 lines "received 100 bytes"
#   go_offline             export Go settings that never download anything
#   bench_init NAME DIR    for bench/ scripts: exits 1 without root, then
#                          use_prefix DIR, lib_init NAME, xsk_bench in $bin
#   bench_args SECS ROUNDS MODE
#                          for bench/ scripts: true if SECS and ROUNDS are
#                          positive integers and MODE is skb or drv
#   median                 the median of the numbers on stdin, one a line
#   summary_field FILE KEY, summary_expect FILE KEY=VALUE...
#                          read / check the "summary: k=v ..." line of
#                          xsk_bench and the Go rxdrop example
#   finish                 print the tally and exit 0 only if nothing failed
#   readme_example NAME OUT [LANG]
#                          the ```LANG block (LANG defaults to NAME) between
#                          README.md's <!-- example:NAME:begin/end --> markers,
#                          into OUT
#
# Background processes appended to bg_pids are killed on exit; namespaces made
# by make_pair are deleted.
# shellcheck shell=bash disable=SC2317,SC2154 # $libdir is the caller's

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

use_prefix() {
	prefix=$(cd "$1" 2>/dev/null && pwd) || { echo "$(basename "$0"): no such prefix: $1" >&2; exit 2; }
	libdir="$prefix/lib"
	export PKG_CONFIG_PATH="$libdir/pkgconfig"
	if ! pkg-config --exists xsk_rs; then
		echo "$(basename "$0"): pkg-config finds no xsk_rs under $PKG_CONFIG_PATH" >&2
		exit 1
	fi
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
	local name=$1 out=$2 lang=${3:-$1} readme fence='```'
	readme="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/README.md"
	awk -v b="<!-- example:$name:begin -->" -v e="<!-- example:$name:end -->" \
		'$0 == b { inside = 1; next } $0 == e { inside = 0 } inside' "$readme" |
		awk -v f="$fence$lang" '$0 == f { code = 1; next } /^```/ { code = 0 } code' >"$out"
	[[ -s $out ]] || { echo "no $fence$lang block between the example:$name markers in README.md"; return 1; }
}

wait_ready() {
	local file=$1 pid=$2 i
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$file" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "process $pid exited before it printed ready:"
			cat "$file"
			return 1
		fi
		sleep 0.05
	done
	echo "no ready from process $pid after 10 s"
	kill "$pid" 2>/dev/null || true
	return 1
}

# in_ns NS CMD...: CMD in NS, finding libxsk_rs in $libdir (set by the caller).
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" env LD_LIBRARY_PATH="$libdir" "$@"
}

# spawn NS OUT ERR CMD...: CMD in the background in NS, as in_ns runs it,
# stdout to OUT, stderr to ERR (may be OUT); its pid in $spawned and in bg_pids. Not through
# in_ns: $! must be the program itself (ip netns exec and env exec it), not a
# subshell, so that signals and the exit cleanup reach it.
spawn() {
	local ns=$1 out=$2 err=$3
	shift 3
	if [[ $err == "$out" ]]; then
		ip netns exec "$ns" env LD_LIBRARY_PATH="$libdir" "$@" >"$out" 2>&1 &
	else
		ip netns exec "$ns" env LD_LIBRARY_PATH="$libdir" "$@" >"$out" 2>"$err" &
	fi
	spawned=$!
	bg_pids+=("$spawned")
}

# The Go binding uses the standard library only, so nothing may be downloaded
# (GOPROXY=off); caches under build/ so a fresh clone needs no writable $HOME.
go_offline() {
	local repo_dir
	repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	export GOPROXY=off GOFLAGS=-mod=readonly CGO_ENABLED=1
	export GOCACHE=${GOCACHE:-$repo_dir/build/go-cache} GOPATH=${GOPATH:-$repo_dir/build/go-path}
}

bench_args() {
	[[ $1 =~ ^[1-9][0-9]*$ && $2 =~ ^[1-9][0-9]*$ && ($3 == drv || $3 == skb) ]]
}

bench_init() {
	local repo_dir
	repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	if [[ $(id -u) -ne 0 ]]; then
		echo "$(basename "$0"): needs root (network namespaces, a veth pair, XDP)" >&2
		exit 1
	fi
	use_prefix "$2"
	lib_init "$1"
	bin=$work/bin
	mkdir -p "$bin"
	echo "building xsk_bench against $prefix"
	make -s -C "$repo_dir/c-examples" O="$bin" "$bin/xsk_bench"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# summary_field FILE KEY: KEY's value in FILE's "summary: k=v ..." line (the
# format of xsk_bench and the Go rxdrop example).
summary_field() {
	sed -n 's/^summary: \(.* \)\{0,1\}'"$2"'=\([^ ]*\).*$/\2/p' "$1"
}

# summary_expect FILE KEY=VALUE...: FILE has one summary line, with these values.
summary_expect() {
	local file=$1 kv got rc=0
	shift
	if [[ $(grep -c '^summary: ' "$file") -ne 1 ]]; then
		echo "expected exactly one summary line in $file"
		return 1
	fi
	for kv in "$@"; do
		got=$(summary_field "$file" "${kv%%=*}")
		if [[ $got != "${kv#*=}" ]]; then
			echo "summary: ${kv%%=*} is '$got', expected '${kv#*=}'"
			rc=1
		fi
	done
	return $rc
}

# How many 100-byte frames a snippet has printed into OUT (0 while OUT does not
# exist yet: an empty count would make fed_by_peer's loop test a syntax error,
# which ended the loop before the peer sent anything).
printed() {
	local n
	n=$(grep -cx 'received 100 bytes' "$1" 2>/dev/null)
	echo "${n:-0}"
}

# The README and docstring snippets receive until they have seen a few frames
# (or for a while); the peer keeps sending until the snippet exits, so there is
# no race with its start-up, or, with FED_UNTIL=N, until it has printed N
# frames (for a snippet that stops only after a quiet second).
fed_by_peer() {
	local out=$1 ns=$2 peer=$3 peer_ns=$4 peer_if=$5 pid rc=0 sent=0 until=${FED_UNTIL:-0}
	shift 5
	spawn "$ns" "$out" "$out" timeout 20 "$@"
	pid=$spawned
	while kill -0 "$pid" 2>/dev/null && [[ $sent -lt 100 ]] && ((until == 0 || $(printed "$out") < until)); do
		ip netns exec "$peer_ns" "$peer" "$peer_if" 1 100 || true
		sent=$((sent + 1))
		sleep 0.1
	done
	wait "$pid" || rc=$?
	echo "exit status $rc after the peer sent $sent frames; output:"
	cat "$out"
	[[ $rc -eq 0 ]] && [[ $(printed "$out") -ge 3 ]]
}
