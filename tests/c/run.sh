#!/usr/bin/env bash
# Tests the installed C library the way a C user meets it.
#
#   tests/c/run.sh PREFIX        (PREFIX: where libxsk_rs was installed)
#
# Everything is compiled with the flags `pkg-config --cflags --libs xsk_rs`
# gives for PREFIX, never from target/, and strictly (-Wall -Wextra -Werror
# -pedantic): abi_test.c (shared and static), header_cpp.cpp (C++17), and the
# C example in README.md. Then, on a veth pair between two namespaces made for
# this run, abi_test runs in skb and drv mode, statically linked, and under
# valgrind; the README example receives frames from a peer; and after each run
# the interface must carry no XDP program.
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

step "peer_send.c builds" "$work/build-peer.log" \
	gcc "${strict_c[@]}" -O2 "$here/peer_send.c" -o "$work/peer_send"

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
if [[ $failed -ne 0 ]]; then
	finish
fi

# run_abi LOG MODE CMD...: abi_test must exit 0 and end with its
# "N passed, 0 failed" line.
run_abi() {
	local log=$1 mode=$2
	shift 2
	"$@" "$ns_a" "$if_a" "$ns_b" "$if_b" "$mode" >"$log.out" 2>&1
	local rc=$?
	cat "$log.out"
	grep -Eq '^abi_test: [0-9]+ passed, 0 failed$' "$log.out" && [[ $rc -eq 0 ]]
}

# run_case NAME MODE CMD...
run_case() {
	local name=$1 mode=$2
	shift 2
	step "$name" "$work/$name.log" run_abi "$work/$name" "$mode" "$@"
	grep -E '^abi_test: ' "$work/$name.out" | tail -n 1 || true
	step "no XDP program left on $if_a after $name" "$work/$name-xdp.log" no_xdp_left "$ns_a" "$if_a"
}

run_case abi_test-skb skb env LD_LIBRARY_PATH="$libdir" "$work/abi_test"
run_case abi_test-drv drv env LD_LIBRARY_PATH="$libdir" "$work/abi_test"
if [[ -x $work/abi_test_static ]]; then
	run_case abi_test-static skb "$work/abi_test_static"
fi
# valgrind.supp, if present, holds suppressions for what valgrind cannot model
# (bpf(2) out-parameters, say); each entry should say why it is there.
vg_supp=()
[[ -f $here/valgrind.supp ]] && vg_supp=(--suppressions="$here/valgrind.supp")
run_case abi_test-valgrind skb env LD_LIBRARY_PATH="$libdir" \
	valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
	"${vg_supp[@]}" "$work/abi_test"

if [[ -x $work/readme_example ]]; then
	step "README example receives frames from the peer" "$work/readme-run.log" \
		fed_by_peer "$work/readme.out" "$ns_a" "$work/peer_send" "$ns_b" "$if_b" "$work/readme_example" "$if_a" 4
	step "no XDP program left on $if_a after the README example" "$work/readme-xdp.log" no_xdp_left "$ns_a" "$if_a"
fi

finish
