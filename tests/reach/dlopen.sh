# shellcheck shell=bash disable=SC2317,SC2154 # step() runs the functions; run.sh sets $work, $bin, $ns_a, ...
# Part of tests/reach/run.sh (sourced): c-examples/xsk_dlopen, which reaches
# libxsk_rs only through dlopen("libxsk_rs.so.0") and dlsym.
#
# Checks that the binary has no link-time dependency on the library (readelf
# NEEDED, and no undefined xsk_rs_ symbol), that it moves frames intact from
# $ns_a/$if_a to $ns_b/$if_b in skb and drv mode (it enters the namespaces
# itself, so it runs in the root namespace with LD_LIBRARY_PATH=$libdir), that
# it reports the loaded library's version, that it runs clean under valgrind,
# that without LD_LIBRARY_PATH it fails with dlerror()'s text, and that a
# library lacking a function is named. No XDP program may be left behind.

dlopen_version=$(pkg-config --modversion xsk_rs)

dlopen_no_link_dependency() {
	local needed undef
	needed=$(readelf -d "$bin/xsk_dlopen" | grep -F '(NEEDED)') || { echo "readelf shows no NEEDED at all"; return 1; }
	echo "$needed"
	grep -q 'libc\.so' <<<"$needed" || { echo "readelf output not understood (no libc)"; return 1; }
	if grep -q 'libxsk_rs' <<<"$needed"; then
		echo "xsk_dlopen is linked against libxsk_rs"
		return 1
	fi
	undef=$(nm -D --undefined-only "$bin/xsk_dlopen") || return 1
	if grep -q 'xsk_rs_' <<<"$undef"; then
		echo "xsk_dlopen refers to xsk_rs_ symbols at link time:"
		grep 'xsk_rs_' <<<"$undef"
		return 1
	fi
}
step "xsk_dlopen has no link-time dependency on libxsk_rs (readelf -d, nm -D)" "$work/dlopen-needed.log" \
	dlopen_no_link_dependency

# dlopen_run MODE COUNT [CMD...]: xsk_dlopen (under CMD, e.g. valgrind) sends
# COUNT frames and all arrive intact; it names the library version it loaded.
dlopen_run() {
	local mode=$1 count=$2 out=$work/dlopen-$1.out rc=0
	shift 2
	env LD_LIBRARY_PATH="$libdir" "$@" "$bin/xsk_dlopen" -m "$mode" "$ns_a" "$if_a" "$ns_b" "$if_b" "$count" \
		>"$out" 2>&1 || rc=$?
	cat "$out"
	echo "exit status $rc"
	[[ $rc -eq 0 ]] || return 1
	grep -q "^xsk_dlopen: loaded libxsk_rs $dlopen_version from $libdir/libxsk_rs.so.0$" "$out" ||
		{ echo "no line naming libxsk_rs $dlopen_version from $libdir"; return 1; }
	grep -q "XDP mode $mode: sent $count, received $count intact, 0 corrupt, 0 duplicate, 0 missing" "$out" ||
		{ echo "no result line with all $count frames intact"; return 1; }
}

step "xsk_dlopen -m skb: 5000 frames intact through dlsym'd functions" "$work/dlopen-skb.log" dlopen_run skb 5000
step "no XDP program left after xsk_dlopen skb" "$work/dlopen-skb-xdp.log" no_xdp_on_pair
step "xsk_dlopen -m drv: 5000 frames intact" "$work/dlopen-drv.log" dlopen_run drv 5000
step "no XDP program left after xsk_dlopen drv" "$work/dlopen-drv-xdp.log" no_xdp_on_pair

# After dlclose nothing of the library may be left allocated: the process-wide
# registry keeps no heap memory once the last socket is gone.
step "xsk_dlopen under valgrind (leak-check=full, error-exitcode=1)" "$work/dlopen-skb-vg.log" \
	dlopen_run skb 500 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
step "no XDP program left after xsk_dlopen under valgrind" "$work/dlopen-vg-xdp.log" no_xdp_on_pair

# Without LD_LIBRARY_PATH the loader must not find the prefix's library; if
# libxsk_rs.so.0 is installed where the loader looks anyway, this cannot be
# tested (a failure under CI=true).
dlopen_missing() {
	local out=$work/dlopen-missing.out rc=0
	env -u LD_LIBRARY_PATH "$bin/xsk_dlopen" "$ns_a" "$if_a" "$ns_b" "$if_b" 10 >"$out" 2>&1 || rc=$?
	cat "$out"
	echo "exit status $rc"
	[[ $rc -eq 1 ]] &&
		grep -qx 'xsk_dlopen: dlopen: libxsk_rs.so.0: cannot open shared object file: No such file or directory' "$out"
}
if ldconfig -p 2>/dev/null | grep -q 'libxsk_rs\.so\.0 '; then
	msg="libxsk_rs.so.0 is in the loader's cache ($(ldconfig -p | grep 'libxsk_rs\.so\.0 ' | head -n 1)),"
	msg+=" so xsk_dlopen cannot be shown to fail without LD_LIBRARY_PATH"
	if $in_ci; then
		fail "$msg"
	else
		echo "SKIP: $msg"
		skipped=$((skipped + 1))
	fi
else
	step "without LD_LIBRARY_PATH: exit 1 with dlerror()'s text" "$work/dlopen-missing.log" dlopen_missing
fi

# A libxsk_rs.so.0 with only xsk_rs_version: the first missing function is named.
dlopen_stub() {
	local dir=$work/stub out=$work/dlopen-stub.out rc=0
	mkdir -p "$dir"
	echo 'const char *xsk_rs_version(void) { return "stub"; }' >"$dir/stub.c"
	gcc -shared -fPIC -Wl,-soname,libxsk_rs.so.0 "$dir/stub.c" -o "$dir/libxsk_rs.so.0" || return 1
	env LD_LIBRARY_PATH="$dir" "$bin/xsk_dlopen" "$ns_a" "$if_a" "$ns_b" "$if_b" 10 >"$out" 2>&1 || rc=$?
	cat "$out"
	echo "exit status $rc"
	[[ $rc -eq 1 ]] && grep -q '^xsk_dlopen: libxsk_rs.so.0 has no xsk_rs_last_error: .*undefined symbol: xsk_rs_last_error' "$out"
}
step "a libxsk_rs.so.0 lacking a function: exit 1 naming it" "$work/dlopen-stub.log" dlopen_stub

dlopen_usage() {
	local rc=0
	"$bin/xsk_dlopen" "$ns_a" "$if_a" >"$work/dlopen-usage.out" 2>&1 || rc=$?
	cat "$work/dlopen-usage.out"
	[[ $rc -eq 2 ]] && grep -q '^usage: xsk_dlopen' "$work/dlopen-usage.out"
}
step "xsk_dlopen with too few arguments: exit 2 with usage" "$work/dlopen-usage.log" dlopen_usage
step "no XDP program left after the failing xsk_dlopen runs" "$work/dlopen-fail-xdp.log" no_xdp_on_pair
