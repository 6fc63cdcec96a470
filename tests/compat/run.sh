#!/usr/bin/env bash
# Differential tests of libxsk_rs-compat against libxdp.
#
#   tests/compat/run.sh PREFIX        (PREFIX: where make install put libxsk_rs
#                                      and libxsk_rs-compat)
#
# The programs here (rx, tx, l2fwd, shared, unaligned, inhibit; see each
# file's opening comment) are written against libxdp's API only and use every
# function and inline helper of <xdp/xsk.h> and the <xdp/libxdp.h> subset.
# Each is compiled twice with strict flags (-Wall -Wextra -Werror -pedantic):
# against Debian's libxdp-dev (-lxdp -lbpf) and against xsk_rs-compat
# (pkg-config from PREFIX only). Both builds run the same scenario on veth
# pairs between two namespaces made for this run, in skb and drv mode, with
# tests/c's peer_send / peer_recv on the far side checking bytes; their
# result lines (packets, bytes checked, return codes, the kernel's counters)
# must be identical and every check must hold. No XDP program may be left on
# an interface afterwards. The compat builds also run under valgrind (errors
# and leaks fatal) and, built with ASan+UBSan, once more.
#
# Functions the installed libxdp lacks (xsk_umem__create_with_fd,
# xsk_umem__create_opts, xsk_socket__create_opts: libxdp 1.4 and 1.5; Debian
# 12 has 1.3.1) cannot be built against it: rx and l2fwd built with
# -DCOMPAT_OPTS use them, against xsk_rs-compat only, and their results are
# compared with the libxdp build of the plain rx and l2fwd. The runner says
# so when it happens.
#
# Also checked: the install layout (headers in include/xsk_rs-compat/xdp, the
# .pc's flags), the library's soname and that it exports exactly the
# functions its headers declare, and that the headers build as C++17.
#
# Needs root, network namespaces and libxdp-dev. Without them it is skipped
# with a reason, except under CI=true, where that is a failure. VERBOSE=1
# prints every step's output.
# shellcheck disable=SC2317 # functions run through step()
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
lib_init compat-tests

# skip_or_fail REASON: the whole run cannot happen.
skip_or_fail() {
	if $in_ci; then
		fail "$1, and CI=true forbids skipping"
	else
		echo "SKIP: $1"
		skipped=$((skipped + 1))
	fi
	finish
}

pkg-config --exists xsk_rs-compat || { fail "pkg-config finds no xsk_rs-compat under $PKG_CONFIG_PATH"; finish; }
pkg-config --exists libxdp libbpf ||
	skip_or_fail "libxdp-dev and libbpf-dev are not installed (apt-get install libxdp-dev libbpf-dev)"

programs=(rx tx l2fwd shared unaligned inhibit)
opts_programs=(rx l2fwd)
strict=(-std=gnu11 -Wall -Wextra -Werror -pedantic -O2 -g)
# shellcheck disable=SC2054 # the comma belongs to -fsanitize
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
# Word splitting of pkg-config output is intended throughout.
compat_cflags=$(pkg-config --cflags xsk_rs-compat)
compat_libs=$(pkg-config --libs xsk_rs-compat)
libxdp_cflags=$(pkg-config --cflags libxdp libbpf)
libxdp_libs="$(pkg-config --libs libxdp) $(pkg-config --libs libbpf)"
libxdp_version=$(pkg-config --modversion libxdp)
libxdp_header="$(pkg-config --variable=includedir libxdp)/xdp/xsk.h"
echo "xsk_rs-compat $(pkg-config --modversion xsk_rs-compat) from $prefix: cflags '$compat_cflags' libs '$compat_libs'"
echo "libxdp $libxdp_version: cflags '$libxdp_cflags' libs '$libxdp_libs'"

# ---- install layout, exports, headers -------------------------------------

layout_ok() {
	local f rc=0
	for f in xsk.h libxdp.h; do
		[[ -f $prefix/include/xsk_rs-compat/xdp/$f ]] || { echo "missing include/xsk_rs-compat/xdp/$f"; rc=1; }
	done
	[[ ! -e $prefix/include/xdp ]] || { echo "include/xdp exists: it would shadow a real libxdp"; rc=1; }
	grep -qw -- "-I$prefix/include/xsk_rs-compat" <<<"$compat_cflags" || { echo "cflags lack -I$prefix/include/xsk_rs-compat"; rc=1; }
	grep -qw -- "-lxsk_rs-compat" <<<"$compat_libs" || { echo "libs lack -lxsk_rs-compat"; rc=1; }
	grep -qw -- "-lxsk_rs" <<<"$compat_libs" || { echo "libs lack -lxsk_rs (Requires: xsk_rs)"; rc=1; }
	return "$rc"
}
step "install layout and xsk_rs-compat.pc" "$work/layout.log" layout_ok

so=$(readlink -f "$libdir/libxsk_rs-compat.so")
soname_ok() {
	readelf -d "$so" | grep -E 'SONAME|NEEDED'
	readelf -d "$so" | grep -q 'SONAME.*\[libxsk_rs-compat\.so\.[0-9]*\]' &&
		readelf -d "$so" | grep -q 'NEEDED.*\[libxsk_rs\.so\.[0-9]*\]'
}
step "libxsk_rs-compat has a versioned soname and needs libxsk_rs" "$work/soname.log" soname_ok

# The functions the headers declare (comments stripped by the preprocessor),
# and the library's dynamic symbols: the same set, libxdp's names only.
exports_ok() {
	local declared exported
	declared=$(printf '#include <xdp/xsk.h>\n#include <xdp/libxdp.h>\n' |
		gcc -E -P -DXSK_RS_COMPAT_NO_LIBBPF -I"$prefix/include/xsk_rs-compat" -I"$prefix/include" - |
		grep -oE '\<(xsk_[a-z_]+|libxdp_[a-z_]+|xdp_multiprog__[a-z_]+)[[:space:]]*\(' | tr -d '( \t' | sort -u)
	exported=$(nm -D --defined-only "$so" | awk 'NF >= 3 && $2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
	echo "$(wc -l <<<"$declared") declared, $(wc -l <<<"$exported") exported"
	[[ $declared == "$exported" ]] && ! grep -q '^xsk_rs_' <<<"$exported" && return 0
	echo "declared, not exported:"
	comm -23 <(echo "$declared") <(echo "$exported")
	echo "exported, not declared:"
	comm -13 <(echo "$declared") <(echo "$exported")
	return 1
}
step "libxsk_rs-compat exports exactly the functions its headers declare" "$work/exports.log" exports_ok

# Every function and inline helper the headers declare is called by some
# program here (the exported set is the declared set, checked above).
programs_cover_api() {
	local fn code missing=()
	# Calls only: the programs' lines that are not comments.
	code=$(grep -hvE '^[[:space:]]*(/\*|//|\*( |/|$))' "$here"/*.c)
	for fn in $(nm -D --defined-only "$so" | awk 'NF >= 3 && $2 == "T" { sub(/@.*/, "", $3); print $3 }'); do
		grep -qE "\<${fn}[[:space:]]*\(" <<<"$code" || missing+=("$fn")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	echo "no program calls: ${missing[*]}"
	return 1
}
step "the programs call every function of the compat headers" "$work/cover.log" programs_cover_api

cxx_ok() {
	printf '#include <xdp/xsk.h>\n#include <xdp/libxdp.h>\nint main() { struct xsk_ring_cons r = {}; __u32 i = 0;\n%s\n}\n' \
		'return (int)xsk_ring_cons__peek(&r, 0, &i) + (int)xsk_umem__extract_offset(0);' >"$work/header.cpp"
	# shellcheck disable=SC2086
	g++ -std=c++17 -Wall -Wextra -Werror -pedantic $compat_cflags "$work/header.cpp" -o "$work/header_cpp" $compat_libs
}
step "the compat headers build as C++17" "$work/cxx.log" cxx_ok

# ---- builds ----------------------------------------------------------------

mkdir -p "$work/libxdp" "$work/compat" "$work/compat-asan"
for p in "${programs[@]}"; do
	# shellcheck disable=SC2086
	step "$p.c builds against libxdp $libxdp_version" "$work/build-libxdp-$p.log" \
		gcc "${strict[@]}" $libxdp_cflags "$here/$p.c" -o "$work/libxdp/$p" $libxdp_libs
	# shellcheck disable=SC2086
	step "$p.c builds against xsk_rs-compat" "$work/build-compat-$p.log" \
		gcc "${strict[@]}" $compat_cflags "$here/$p.c" -o "$work/compat/$p" $compat_libs
	# shellcheck disable=SC2086
	step "$p.c builds against xsk_rs-compat with ASan+UBSan" "$work/build-asan-$p.log" \
		gcc "${strict[@]/-O2/-O1}" "${sanitize[@]}" $compat_cflags "$here/$p.c" -o "$work/compat-asan/$p" $compat_libs
done
libxdp_has_opts=false
if grep -q 'xsk_socket__create_opts' "$libxdp_header" && grep -q 'xsk_umem__create_with_fd' "$libxdp_header"; then
	libxdp_has_opts=true
else
	echo "NOTE: libxdp $libxdp_version ($libxdp_header) lacks xsk_umem__create_with_fd, xsk_umem__create_opts and"
	echo "      xsk_socket__create_opts (libxdp 1.4/1.5): ${opts_programs[*]} built with -DCOMPAT_OPTS, which use them,"
	echo "      run against xsk_rs-compat only and must give the results of the libxdp build of the plain programs"
fi
for p in "${opts_programs[@]}"; do
	# shellcheck disable=SC2086
	step "$p.c -DCOMPAT_OPTS builds against xsk_rs-compat" "$work/build-compat-opts-$p.log" \
		gcc "${strict[@]}" -DCOMPAT_OPTS $compat_cflags "$here/$p.c" -o "$work/compat/$p-opts" $compat_libs
	if $libxdp_has_opts; then
		# shellcheck disable=SC2086
		step "$p.c -DCOMPAT_OPTS builds against libxdp $libxdp_version" "$work/build-libxdp-opts-$p.log" \
			gcc "${strict[@]}" -DCOMPAT_OPTS $libxdp_cflags "$here/$p.c" -o "$work/libxdp/$p-opts" $libxdp_libs
	fi
done
# The peers: tests/c's, against libxsk_rs's header only for harness.h.
for peer in peer_send peer_recv; do
	# shellcheck disable=SC2046
	step "$peer.c builds" "$work/build-$peer.log" \
		gcc -std=c11 -Wall -Wextra -Werror -pedantic -O2 $(pkg-config --cflags xsk_rs) "$repo/tests/c/$peer.c" -o "$work/$peer"
done
[[ $failed -eq 0 ]] || finish

# ---- packet tests ------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || skip_or_fail "the packet tests need root (namespaces, veth, XDP)"
ns_a="xskrs-compat-$$-a" ns_b="xskrs-compat-$$-b"
# Two veth pairs: veth0 (A) <-> veth1 (B), veth2 (A) <-> veth3 (B).
pairs() {
	make_pair "$ns_a" veth0 "$ns_b" veth1 &&
		ip -n "$ns_a" link add veth2 numrxqueues 1 numtxqueues 1 type veth \
			peer name veth3 netns "$ns_b" numrxqueues 1 numtxqueues 1 &&
		ip -n "$ns_a" link set dev veth2 up && ip -n "$ns_b" link set dev veth3 up
}
step "veth pairs $ns_a/veth0 <-> $ns_b/veth1, $ns_a/veth2 <-> $ns_b/veth3" "$work/pairs.log" pairs ||
	true
if [[ $failed -ne 0 ]]; then
	$in_ci || { echo "SKIP: cannot make network namespaces and veth pairs here"; skipped=$((skipped + 1)); failed=0; }
	finish
fi

COUNT=400    # frames per forwarding flow: fewer than any fill ring lends, so none is ever short
RX_COUNT=64  # rx: what its RX ring of 64 holds
LEN=300

# wait_line FILE LINE PID: until FILE has LINE; fails if PID exits first or after 20 s.
wait_line() {
	local file=$1 line=$2 pid=$3 i
	for ((i = 0; i < 400; i++)); do
		grep -qx "$line" "$file" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "process $pid exited before it printed $line"
			return 1
		fi
		sleep 0.05
	done
	echo "no $line from process $pid after 20 s"
	return 1
}

peer() { ip netns exec "$ns_b" "$work/$1" "${@:2}"; }

# scenario NAME OUT CMD...: runs program NAME (CMD: the build, maybe under
# valgrind, with its arguments added here) with its traffic; its result
# lines, and the peers' verdicts, go to OUT.
scenario() {
	local name=$1 out=$2 pid p1="" p2="" q rc=0
	shift 2
	: >"$out"
	case $name in
	rx)
		spawn "$ns_a" "$out.prog" "$out.err" "$@" veth0 "$mode" "$RX_COUNT" "$LEN"
		pid=$spawned
		wait_line "$out.err" ready "$pid" || rc=1
		peer peer_send veth1 3 1400 || rc=1
		peer peer_send veth1 "$RX_COUNT" "$LEN" || rc=1
		wait_line "$out.err" ready2 "$pid" || rc=1
		peer peer_send veth1 100 "$LEN" || rc=1
		;;
	tx)
		spawn "$ns_b" "$out.p1" "$out.p1err" "$work/peer_recv" -l "$LEN" -w 300 veth1 "$COUNT"
		p1=$spawned
		wait_line "$out.p1err" ready "$p1" || rc=1
		spawn "$ns_a" "$out.prog" "$out.err" "$@" veth0 "$mode" "$COUNT" "$LEN"
		pid=$spawned
		;;
	l2fwd | unaligned)
		spawn "$ns_b" "$out.p1" "$out.p1err" "$work/peer_recv" -x -l "$LEN" -w 300 veth1 "$COUNT"
		p1=$spawned
		wait_line "$out.p1err" ready "$p1" || rc=1
		spawn "$ns_a" "$out.prog" "$out.err" "$@" veth0 "$mode" "$COUNT" "$LEN"
		pid=$spawned
		wait_line "$out.err" ready "$pid" || rc=1
		peer peer_send veth1 "$COUNT" "$LEN" || rc=1
		;;
	shared)
		# Flow A: 100-byte frames veth1 -> veth0 -> veth2 -> veth3; flow B:
		# 200-byte frames veth3 -> veth2 -> veth0 -> veth1.
		spawn "$ns_b" "$out.p1" "$out.p1err" "$work/peer_recv" -l 100 -w 300 veth3 "$COUNT"
		p1=$spawned
		spawn "$ns_b" "$out.p2" "$out.p2err" "$work/peer_recv" -l 200 -w 300 veth1 "$COUNT"
		p2=$spawned
		wait_line "$out.p1err" ready "$p1" || rc=1
		wait_line "$out.p2err" ready "$p2" || rc=1
		spawn "$ns_a" "$out.prog" "$out.err" "$@" veth0 veth2 "$mode" "$COUNT"
		pid=$spawned
		wait_line "$out.err" ready "$pid" || rc=1
		peer peer_send veth1 "$COUNT" 100 || rc=1
		peer peer_send veth3 "$COUNT" 200 || rc=1
		;;
	inhibit)
		spawn "$ns_a" "$out.prog" "$out.err" "$@" veth0 "$mode" 100 "$LEN"
		pid=$spawned
		wait_line "$out.err" ready "$pid" || rc=1
		peer peer_send veth1 100 "$LEN" || rc=1
		wait_line "$out.err" ready2 "$pid" || rc=1
		peer peer_send veth1 100 "$LEN" || rc=1
		;;
	esac
	wait "$pid" || { echo "$name exited with status $?"; rc=1; }
	cat "$out.prog" >>"$out"
	for q in $p1 $p2; do
		wait "$q" || { echo "peer_recv exited with status $?"; rc=1; }
	done
	[[ -z $p1 ]] || cat "$out.p1" >>"$out"
	[[ -z $p2 ]] || cat "$out.p2" >>"$out"
	echo "---- results"
	cat "$out"
	echo "---- stderr"
	grep -v '^libbpf: elf: skipping unrecognized data section' "$out.err" || true
	grep -qx 'checks failed: 0' "$out" || rc=1
	return "$rc"
}

# After a run the interfaces carry no program, and the kernel has released
# the queue of the process that just exited (libxdp does not retry a bind
# that finds it still held).
settle() {
	no_xdp_left "$ns_a" veth0 && no_xdp_left "$ns_a" veth2 && sleep 0.1
}

same() {
	if diff -u "$1" "$2"; then
		echo "identical: $(wc -l <"$1") result lines"
	else
		return 1
	fi
}

# The runs. valgrind: errors and definite or possible leaks are fatal.
# shellcheck disable=SC2054 # the comma belongs to --errors-for-leak-kinds
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible)
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for mode in skb drv; do
	for p in "${programs[@]}"; do
		res=$work/res-$p-$mode
		step "$p $mode: libxdp build" "$res.libxdp.log" scenario "$p" "$res.libxdp" "$work/libxdp/$p"
		step "no XDP program left after $p $mode (libxdp)" "$res.libxdp.xdp.log" settle
		step "$p $mode: xsk_rs-compat build" "$res.compat.log" scenario "$p" "$res.compat" "$work/compat/$p"
		step "no XDP program left after $p $mode (compat)" "$res.compat.xdp.log" settle
		step "$p $mode: same results from libxdp and xsk_rs-compat" "$res.same.log" same "$res.libxdp" "$res.compat"
		if [[ $mode == skb ]]; then
			step "$p $mode: xsk_rs-compat build under valgrind" "$res.vg.log" \
				scenario "$p" "$res.vg" "${vg[@]}" "$work/compat/$p"
			step "no XDP program left after $p $mode (valgrind)" "$res.vg.xdp.log" settle
			step "$p $mode: same results under valgrind" "$res.vg.same.log" same "$res.libxdp" "$res.vg"
		else
			step "$p $mode: xsk_rs-compat build with ASan+UBSan" "$res.asan.log" \
				scenario "$p" "$res.asan" "$work/compat-asan/$p"
			step "no XDP program left after $p $mode (ASan)" "$res.asan.xdp.log" settle
			step "$p $mode: same results with ASan+UBSan" "$res.asan.same.log" same "$res.libxdp" "$res.asan"
		fi
	done
	for p in "${opts_programs[@]}"; do
		res=$work/res-$p-$mode
		step "$p -DCOMPAT_OPTS $mode: xsk_rs-compat build" "$res.opts.log" scenario "$p" "$res.opts" "$work/compat/$p-opts"
		step "no XDP program left after $p -DCOMPAT_OPTS $mode" "$res.opts.xdp.log" settle
		if $libxdp_has_opts; then
			step "$p -DCOMPAT_OPTS $mode: libxdp build" "$res.libxdp-opts.log" \
				scenario "$p" "$res.libxdp-opts" "$work/libxdp/$p-opts"
			step "no XDP program left after $p -DCOMPAT_OPTS $mode (libxdp)" "$res.libxdp-opts.xdp.log" settle
			step "$p -DCOMPAT_OPTS $mode: same results from libxdp and xsk_rs-compat" "$res.opts.same.log" \
				same "$res.libxdp-opts" "$res.opts"
		else
			step "$p -DCOMPAT_OPTS $mode: same results as libxdp $libxdp_version's build of plain $p" \
				"$res.opts.same.log" same "$res.libxdp" "$res.opts"
		fi
	done
done

finish
