#!/usr/bin/env bash
# Tests the installed C library the way a C user meets it.
#
#   tests/c/run.sh PREFIX        (PREFIX: where libxsk_rs was installed)
#
# Everything is compiled with the flags `pkg-config --cflags --libs xsk_rs`
# gives for PREFIX, never from target/, and strictly (-Wall -Wextra -Werror
# -pedantic): abi_test.c (shared, static, and with ASan+UBSan), hostile_test.c,
# packet_test.c, threads_test.c, netdev_test.c and jumbo_test.c (shared, and with ASan+UBSan),
# header_cpp.cpp (C++17), and the C examples in README.md: the packet layer's
# (which, from a prefix outside the loader's path, starts only with
# LD_LIBRARY_PATH or the README's rpath) and the rings one. hostile_test must
# have a row for every function the library exports and the header declares,
# and no other. Then, on a veth pair between two namespaces made for this run,
# abi_test, hostile_test, packet_test, threads_test and netdev_test run in skb and drv mode,
# plain, under ASan+UBSan and under valgrind (errors and leaks fatal in both);
# so does jumbo_test, on a second pair whose ends carry MTU 9000;
# threads_test also under helgrind (a data race is fatal); abi_test also
# statically linked; both README examples receive frames from a peer; and
# after each run the interface must carry no XDP program.
#
# Needs root for the packet tests. Without root they are skipped with a reason,
# except under CI=true, where that is a failure. Exits non-zero on any failure.
# VERBOSE=1 prints every test program's full output, not only on failure.

# Most functions below run through step(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [[ $# -ne 1 ]]; then
	echo "usage: $0 PREFIX" >&2
	exit 2
fi
if_a=veth0 if_b=veth1
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
use_prefix "$1"
lib_init c-tests

# ---- build ---------------------------------------------------------------

# Word splitting of the pkg-config output is intended throughout.
cflags=$(pkg-config --cflags xsk_rs)
libs=$(pkg-config --libs xsk_rs)
strict_c=(-std=c11 -Wall -Wextra -Werror -pedantic)
strict_cxx=(-std=c++17 -Wall -Wextra -Werror -pedantic)
echo "xsk_rs $(pkg-config --modversion xsk_rs) from $prefix: cflags '$cflags' libs '$libs'"

# shellcheck disable=SC2086
step "abi_test.c builds against the shared library" "$work/build-abi.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/abi_test.c" -o "$work/abi_test" $libs

# shellcheck disable=SC2086
step "hostile_test.c builds against the shared library" "$work/build-hostile.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/hostile_test.c" -o "$work/hostile_test" $libs

# shellcheck disable=SC2086
step "packet_test.c builds against the shared library" "$work/build-packet.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/packet_test.c" -o "$work/packet_test" $libs

# shellcheck disable=SC2086
step "netdev_test.c builds against the shared library" "$work/build-netdev.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/netdev_test.c" -o "$work/netdev_test" $libs

# shellcheck disable=SC2086
step "jumbo_test.c builds against the shared library" "$work/build-jumbo.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/jumbo_test.c" -o "$work/jumbo_test" $libs

# shellcheck disable=SC2086
step "threads_test.c builds against the shared library" "$work/build-threads.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/threads_test.c" -o "$work/threads_test" $libs -pthread

# ASan+UBSan: the tests are instrumented, the Rust library is not, but every
# malloc goes through ASan, so LeakSanitizer sees the library's leaks too.
# -fno-sanitize-recover: the first UBSan report ends the run.
# shellcheck disable=SC2054 # the comma belongs to -fsanitize
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
for t in abi_test hostile_test packet_test threads_test netdev_test jumbo_test; do
	# shellcheck disable=SC2086
	step "$t.c builds with ASan+UBSan" "$work/build-$t-asan.log" \
		gcc "${strict_c[@]}" -O1 -g "${sanitize[@]}" $cflags "$here/$t.c" -o "$work/$t-asan" $libs -pthread
done

# Coverage: one hostile_test row per exported function, no row for anything
# else. The rows name their function (ROW() takes its address, so a row for a
# function the header lost does not compile); this catches the other way round.
hostile_rows_cover_exports() {
	local rows exported declared
	rows=$(LD_LIBRARY_PATH="$libdir" "$work/hostile_test" --list | sort) || return 1
	exported=$(nm -D --defined-only "$libdir/libxsk_rs.so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
	declared=$(grep -oE '\<xsk_rs_[a-z0-9_]+\(' "$prefix/include/xsk_rs.h" | tr -d '(' | sort -u)
	echo "$(wc -l <<<"$rows") rows, $(wc -l <<<"$exported") exported functions, $(wc -l <<<"$declared") declared"
	[[ $rows == "$exported" && $rows == "$declared" ]] && return 0
	echo "exported or declared, without a hostile_test row:"
	comm -13 <(echo "$rows") <(sort -u <(echo "$exported") <(echo "$declared"))
	echo "hostile_test rows for no exported and declared function:"
	comm -23 <(echo "$rows") <(comm -12 <(echo "$exported") <(echo "$declared"))
	return 1
}
[[ -x $work/hostile_test ]] &&
	step "hostile_test has one row per exported function" "$work/coverage.log" hostile_rows_cover_exports

# shellcheck disable=SC2086
step "header_cpp.cpp builds as C++17" "$work/build-cpp.log" \
	g++ "${strict_cxx[@]}" -O2 $cflags "$here/header_cpp.cpp" -o "$work/header_cpp" $libs

# Static: libxsk_rs.a plus its Libs.private, everything else dynamic.
static_libs=()
for w in $(pkg-config --static --libs xsk_rs); do
	if [[ $w == -lxsk_rs ]]; then
		# shellcheck disable=SC2054 # the commas belong to -Wl options
		static_libs+=(-Wl,-Bstatic -lxsk_rs -Wl,-Bdynamic)
	else
		static_libs+=("$w")
	fi
done
# shellcheck disable=SC2086
step "abi_test.c builds against libxsk_rs.a" "$work/build-static.log" \
	gcc "${strict_c[@]}" -O2 -g $cflags "$here/abi_test.c" -o "$work/abi_test_static" "${static_libs[@]}"
if [[ -x $work/abi_test_static ]]; then
	static_is_static() { ! readelf -d "$work/abi_test_static" | grep -F 'libxsk_rs.so'; }
	step "the static build needs no libxsk_rs.so" "$work/static-needed.log" static_is_static
fi

step "README.md has a C example between the markers" "$work/extract.log" readme_example c "$work/readme_example.c"
# shellcheck disable=SC2086
[[ -s $work/readme_example.c ]] &&
	step "README example builds" "$work/build-readme.log" \
		gcc "${strict_c[@]}" -O2 $cflags "$work/readme_example.c" -o "$work/readme_example" $libs
# The expert path's example (rings), in "The C API in brief".
step "README.md has the rings example between the markers" "$work/extract-rings.log" \
	readme_example c-rings "$work/readme_rings.c" c
# shellcheck disable=SC2086
[[ -s $work/readme_rings.c ]] &&
	step "README rings example builds" "$work/build-readme-rings.log" \
		gcc "${strict_c[@]}" -O2 $cflags "$work/readme_rings.c" -o "$work/readme_rings" $libs

# A prefix outside the loader's path (README, "Build and install"): the
# example does not start without LD_LIBRARY_PATH, and does when built with the
# rpath the README shows (run without arguments, it prints its usage: the
# library was loaded).
readme_needs_the_loader_path() {
	local rc=0 out
	if /sbin/ldconfig -p | grep -q 'libxsk_rs\.so'; then
		echo "libxsk_rs is installed system-wide, so this check cannot show the loader's error:"
		/sbin/ldconfig -p | grep 'libxsk_rs\.so'
		return 1
	fi
	out=$(env -u LD_LIBRARY_PATH "$work/readme_example" 2>&1) || rc=$?
	echo "without LD_LIBRARY_PATH: exit status $rc: $out"
	[[ $rc -eq 127 ]] && grep -q 'libxsk_rs\.so\.0: cannot open shared object file' <<<"$out"
}
readme_rpath_runs() {
	local rc=0 out
	# shellcheck disable=SC2086
	gcc "${strict_c[@]}" -O2 $cflags "$work/readme_example.c" -o "$work/readme_rpath" $libs \
		-Wl,-rpath,"$(pkg-config --variable=libdir xsk_rs)" || return 1
	readelf -d "$work/readme_rpath" | grep -E 'R(UN)?PATH'
	out=$(env -u LD_LIBRARY_PATH "$work/readme_rpath" 2>&1) || rc=$?
	echo "built with the rpath, without LD_LIBRARY_PATH: exit status $rc: $out"
	[[ $rc -eq 2 ]] && grep -q '^usage: ' <<<"$out"
}
if [[ -x $work/readme_example ]]; then
	step "README example: a private prefix needs LD_LIBRARY_PATH" "$work/readme-loader.log" readme_needs_the_loader_path
	step "README example: built with the README's rpath it runs without" "$work/readme-rpath.log" readme_rpath_runs
fi

# shellcheck disable=SC2086
step "peer_send.c builds" "$work/build-peer.log" \
	gcc "${strict_c[@]}" -O2 $cflags "$here/peer_send.c" -o "$work/peer_send"

[[ -x $work/header_cpp ]] &&
	step "header_cpp runs" "$work/run-cpp.log" env LD_LIBRARY_PATH="$libdir" "$work/header_cpp"

# ---- packet tests --------------------------------------------------------

need_root
for tool in ip valgrind readelf; do
	command -v "$tool" >/dev/null || { fail "$tool is not installed"; finish; }
done

# One veth pair for the whole run, in namespaces named after this process.
ns_a="xskrs-c-$$-a"
ns_b="xskrs-c-$$-b"
step "veth pair $ns_a/$if_a <-> $ns_b/$if_b" "$work/pair.log" make_pair "$ns_a" "$if_a" "$ns_b" "$if_b"
# jumbo_test's pair: MTU 9000 on both ends (the other tests expect 1500).
jns_a="xskrs-c-$$-ja"
jns_b="xskrs-c-$$-jb"
jumbo_pair() {
	make_pair "$@" && ip -n "$1" link set dev "$2" mtu 9000 && ip -n "$3" link set dev "$4" mtu 9000
}
step "veth pair $jns_a/$if_a <-> $jns_b/$if_b, MTU 9000" "$work/jpair.log" jumbo_pair "$jns_a" "$if_a" "$jns_b" "$if_b"
if [[ $failed -ne 0 ]]; then
	finish
fi

# The pair the next run_case uses: the MTU 1500 one but for jumbo_test.
use_pair() { t_ns_a=$1 t_ns_b=$2; }
use_pair "$ns_a" "$ns_b"

# run_test LOG NAME MODE CMD...: the test (abi_test, hostile_test, ...) must
# exit 0 and end with its "NAME: N passed, 0 failed" line.
run_test() {
	local log=$1 name=$2 mode=$3
	shift 3
	"$@" "$t_ns_a" "$if_a" "$t_ns_b" "$if_b" "$mode" >"$log.out" 2>&1
	local rc=$?
	cat "$log.out"
	# The failures again, so that the tail shown for a failed step has them.
	grep -E '^  FAIL ' "$log.out" || true
	grep -Eq "^$name: [0-9]+ passed, 0 failed\$" "$log.out" && [[ $rc -eq 0 ]]
}

# run_case CASE NAME MODE CMD...
run_case() {
	local case=$1 name=$2 mode=$3 t0=$SECONDS
	shift 3
	step "$case" "$work/$case.log" run_test "$work/$case" "$name" "$mode" "$@"
	echo "      $(grep -E "^$name: [0-9]+ passed" "$work/$case.out" | tail -n 1 || true) in $((SECONDS - t0)) s"
	step "no XDP program left on $if_a after $case" "$work/$case-xdp.log" no_xdp_left "$t_ns_a" "$if_a"
}

# Leaks and errors are fatal. abort_on_error stays off so that the exit status
# is ASan's (1 for an error, 23 for a leak) and no core file is written.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=exitcode=23
# lsan.supp, like valgrind.supp below, is for allocations that are not leaks
# (none so far); each entry must say why.
[[ -f $here/lsan.supp ]] && LSAN_OPTIONS+=":suppressions=$here/lsan.supp:print_suppressions=1"

# valgrind.supp, if present, holds suppressions for what valgrind cannot model
# (bpf(2) out-parameters, say); each entry should say why it is there.
vg_supp=()
[[ -f $here/valgrind.supp ]] && vg_supp=(--suppressions="$here/valgrind.supp")
# shellcheck disable=SC2054 # the comma belongs to --errors-for-leak-kinds
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible "${vg_supp[@]}")

# helgrind: threads_test drives one socket from three threads at once, as the
# header allows; any unsynchronised access between them, in the test or inside
# the library, is a reported race and fails the run.
hg=(valgrind --tool=helgrind --error-exitcode=1)

for t in abi_test hostile_test packet_test threads_test netdev_test jumbo_test; do
	[[ -x $work/$t ]] || continue
	if [[ $t == jumbo_test ]]; then use_pair "$jns_a" "$jns_b"; else use_pair "$ns_a" "$ns_b"; fi
	for mode in skb drv; do
		run_case "$t-$mode" "$t" "$mode" env LD_LIBRARY_PATH="$libdir" "$work/$t"
		[[ -x $work/$t-asan ]] &&
			run_case "$t-asan-$mode" "$t" "$mode" env LD_LIBRARY_PATH="$libdir" "$work/$t-asan"
		run_case "$t-valgrind-$mode" "$t" "$mode" env LD_LIBRARY_PATH="$libdir" XSK_RS_TEST_SLACK_MS=250 \
			"${vg[@]}" "$work/$t"
		[[ $t == threads_test ]] &&
			run_case "$t-helgrind-$mode" "$t" "$mode" env LD_LIBRARY_PATH="$libdir" "${hg[@]}" "$work/$t"
	done
done
use_pair "$ns_a" "$ns_b"
if [[ -x $work/abi_test_static ]]; then
	run_case abi_test-static-skb abi_test skb "$work/abi_test_static"
fi

if [[ -x $work/readme_example ]]; then
	step "README example receives frames from the peer" "$work/readme-run.log" \
		fed_by_peer "$work/readme.out" "$ns_a" "$work/peer_send" "$ns_b" "$if_b" "$work/readme_example" "$if_a" 4
	step "no XDP program left on $if_a after the README example" "$work/readme-xdp.log" no_xdp_left "$ns_a" "$if_a"
fi
if [[ -x $work/readme_rings ]]; then
	step "README rings example receives frames from the peer" "$work/readme-rings-run.log" \
		fed_by_peer "$work/readme-rings.out" "$ns_a" "$work/peer_send" "$ns_b" "$if_b" "$work/readme_rings" "$if_a" 4
	step "no XDP program left on $if_a after the README rings example" "$work/readme-rings-xdp.log" \
		no_xdp_left "$ns_a" "$if_a"
fi

finish
