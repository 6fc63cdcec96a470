#!/usr/bin/env bash
# Usage: tests/abi/selftest.sh
#
# abi/check.py's and tests/check-exports.sh's own test: a small C library (fixture.h, fixture.c) built
# once as the baseline and then in variants, each one change a release could
# make, with full debug info and a version script, as libxsk_rs is. Each
# variant must pass or fail the check as the ABI policy says, and a failure
# must name what broke. Needs gcc, abidw and abidiff; no root.
# shellcheck disable=SC2317 # step runs the functions
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
lib_init abi-selftest

check=$repo/abi/check.py
header=$here/fixture.h

# libfx.so built from fixture.c with -D flags, the version script MAP (a
# file in $work) and soname SONAME: build NAME SONAME MAP [-DFLAG...]
build() {
	local name=$1 soname=$2 map=$3
	shift 3
	gcc -shared -fPIC -g -O0 "$@" -I"$here" "$here/fixture.c" -o "$work/$name.so" \
		-Wl,-soname,"$soname" ${map:+-Wl,--version-script="$work/$map"}
}

cat >"$work/v1.map" <<'MAP'
FX_1.0 {
	global: fx_config_init; fx_desc_len; fx_pkt_len; fx_old; fx_param;
	local: *;
};
MAP
cat >"$work/new-node.map" <<'MAP'
FX_1.0 {
	global: fx_config_init; fx_desc_len; fx_pkt_len; fx_old; fx_param;
	local: *;
};
FX_1.1 {
	global: fx_new;
} FX_1.0;
MAP
cat >"$work/same-node.map" <<'MAP'
FX_1.0 {
	global: fx_config_init; fx_desc_len; fx_pkt_len; fx_old; fx_param; fx_new;
	local: *;
};
MAP
cat >"$work/moved.map" <<'MAP'
FX_1.0 {
	global: fx_config_init; fx_desc_len; fx_pkt_len; fx_param;
	local: *;
};
FX_1.1 {
	global: fx_old;
} FX_1.0;
MAP

baseline() {
	build base libfx.so.1 v1.map &&
		python3 "$check" --write --header "$header" "$work/base.abi" "$work/base.so" &&
		grep -q "soname='libfx.so.1'" "$work/base.abi" &&
		grep -qx 'FX_FLAG_B 2' "$work/base.constants"
}
step "a baseline is recorded" "$work/baseline.log" baseline

# expect pass|fail NAME SONAME MAP PATTERN [-DFLAG...]: the check of the
# variant against the baseline passes or fails, and prints PATTERN (ERE).
expect() {
	local want=$1 name=$2 soname=$3 map=$4 pattern=$5 rc=0 out
	shift 5
	build "$name" "$soname" "$map" "$@" || return 1
	out=$(python3 "$check" --header "${HEADER:-$header}" "$work/base.abi" "$work/$name.so" 2>&1) || rc=$?
	echo "$out"
	echo "exit status $rc"
	case $want in
	pass) [[ $rc -eq 0 ]] || return 1 ;;
	fail) [[ $rc -eq 1 ]] || return 1 ;;
	esac
	grep -Eq "$pattern" <<<"$out" || { echo "no line matching: $pattern"; return 1; }
}

t() {
	local desc=$1
	shift
	step "$desc" "$work/$2.log" expect "$@"
}
t "the same library is compatible" pass same libfx.so.1 v1.map 'compatible with'
t "an sz-first struct grown at its end is compatible" \
	pass sz-grown libfx.so.1 v1.map 'compatible with' -DAPPEND_SZ_FIELD
t "an sz-first struct grown at its end, with a field before changed, is a break" \
	fail sz-changed libfx.so.1 v1.map 'struct fx_config: only appending' -DAPPEND_SZ_FIELD -DCHANGE_SZ_FIELD
t "a struct used in arrays that grows is a break" \
	fail desc-grown libfx.so.1 v1.map "fx_desc" -DAPPEND_DESC_FIELD
t "an sz-first struct's reserved field given a name is compatible" \
	pass sz-named libfx.so.1 v1.map 'compatible with' -DNAME_RESERVED
t "an sz-first struct's reserved field given another type is a break" \
	fail sz-retyped libfx.so.1 v1.map 'struct fx_config: only appending' -DRESERVED_TYPE
t "a changed return type is a break" fail ret libfx.so.1 v1.map 'fx_desc_len' -DCHANGE_RET
t "a field put into a struct's padding is a break" \
	fail padded libfx.so.1 v1.map 'struct fx_pkt: programs put it in arrays' -DPAD_FIELD
t "a removed function is a break" fail removed libfx.so.1 v1.map 'fx_old' -DREMOVE_FN
t "a changed parameter type is a break" fail param libfx.so.1 v1.map 'fx_param' -DCHANGE_PARAM
t "a function added in a new node is compatible and listed" \
	pass added libfx.so.1 new-node.map 'added fx_new@FX_1.1' -DADD_FN
t "a function added to a released node is a break" \
	fail added-same libfx.so.1 same-node.map 'fx_new is new but in node FX_1.0' -DADD_FN
t "a function moved to another node is a break" \
	fail moved libfx.so.1 moved.map 'fx_old: symbol version FX_1.0 -> FX_1.1'
t "unversioned functions are refused" fail unversioned libfx.so.1 '' 'unversioned functions'
t "a removal with a new soname starts a new ABI series" \
	pass new-series libfx.so.2 v1.map 'soname libfx.so.1 -> libfx.so.2: a new ABI series' -DREMOVE_FN

# The constants come from the header: variants of it with one #define changed.
sed 's/^#define FX_FLAG_B (1 << 1)$/#define FX_FLAG_B (1 << 3)/' "$header" >"$work/const-changed.h"
sed 's/^#define FX_FLAG_B (1 << 1)$/&\n#define FX_FLAG_C (1 << 2)/' "$header" >"$work/const-added.h"
HEADER=$work/const-changed.h t "a constant given another value is a break" \
	fail const-changed libfx.so.1 v1.map 'constant FX_FLAG_B: 2 -> 8'
sed '/^#define FX_FLAG_B /d' "$header" >"$work/const-removed.h"
HEADER=$work/const-removed.h t "a removed constant is a break" \
	fail const-removed libfx.so.1 v1.map 'constant FX_FLAG_B: 2 -> \(removed\)'
HEADER=$work/const-added.h t "an added constant is compatible and listed" \
	pass const-added libfx.so.1 v1.map 'added constant FX_FLAG_C'

# A release commit (--release): its baseline is its own (abi/BASELINE), the
# previous release's comes from that release's tag. A throw-away git
# repository holds release 1.0.0 (the baseline above, tagged v1.0.0), then
# records release 1.1.0 from LIB: release LIB.
release() {
	local r=$work/rel-$1
	rm -rf "$r" && mkdir -p "$r/abi" && cd "$r" || return 1
	git init -q . && git config user.email t@t && git config user.name t &&
		cp "$work/base.abi" abi/fx.abi && cp "$work/base.constants" abi/fx.constants &&
		echo 1.0.0 >abi/BASELINE && git add abi && git commit -qm 1.0.0 && git tag v1.0.0 &&
		python3 "$check" --write --header "$header" abi/fx.abi "$work/$1.so" && echo 1.1.0 >abi/BASELINE &&
		git add abi && git commit -qm 1.1.0
}
# at_release LIB: the check of LIB in the release 1.1.0 repository of release().
at_release() {
	(cd "$work/rel-$2" && python3 "$check" --release 1.1.0 --header "$header" abi/fx.abi "$work/$1.so")
}
release_ok() {
	release added && at_release added added
}
step "a release equal to its own baseline, compatible with the last: passes" "$work/rel-ok.log" release_ok
release_stale() {
	local rc=0 out
	out=$(at_release sz-grown added 2>&1) || rc=$?
	echo "$out"
	[[ $rc -eq 1 ]] && grep -q 'the baseline is stale' <<<"$out"
}
step "a release that differs from its own baseline: stale, fails" "$work/rel-stale.log" release_stale
release_breaks() {
	local rc=0 out
	release removed && { out=$(at_release removed removed 2>&1) || rc=$?; }
	echo "$out"
	[[ $rc -eq 1 ]] && grep -q 'fx_old' <<<"$out" && grep -q 'baseline v1.0.0:abi/fx.abi' <<<"$out"
}
step "a break recorded as the release's own baseline still fails against the last release" \
	"$work/rel-break.log" release_breaks

# What the versions do at load time, as the README says: a program that uses
# a function of a newer node is refused by a library without that node, by
# name; a program linked against an unversioned build (as every release before
# 0.4.0 was) runs with the versioned library. prog NAME LIB: a program calling
# fx_old (and fx_new with -DADD_FN) linked against $work/LIB.so.
prog() {
	local name=$1 lib=$2
	shift 2
	mkdir -p "$work/$name.d" && cp "$work/$lib.so" "$work/$name.d/libfx.so" &&
		printf '#include "fixture.h"\nint main(void) {\n#ifdef ADD_FN\n\tfx_new();\n#endif\n\treturn fx_old() == 1 ? 0 : 1;\n}\n' \
			>"$work/$name.c" &&
		gcc "$@" -I"$here" "$work/$name.c" -o "$work/$name" -L"$work/$name.d" -lfx
}
# run_with PROG LIB: PROG with LIB.so as the libfx.so.1 it needs.
run_with() {
	mkdir -p "$work/run-$2" && cp "$work/$2.so" "$work/run-$2/libfx.so.1" &&
		LD_LIBRARY_PATH=$work/run-$2 "$work/$1"
}
newer_refused() {
	local rc=0 out
	prog prog-new added -DADD_FN || return 1
	readelf -V "$work/prog-new" | grep -q 'Name: FX_1.1' || { echo "the program records no FX_1.1"; return 1; }
	run_with prog-new added || return 1
	out=$(run_with prog-new base 2>&1) || rc=$?
	echo "$out"
	[[ $rc -ne 0 ]] && grep -q "version \`FX_1.1' not found" <<<"$out"
}
step "a program needing a newer node is refused by name on an older library" "$work/load-newer.log" newer_refused
unversioned_runs() {
	prog prog-old unversioned && run_with prog-old base
}
step "a program built against an unversioned build runs with the versioned one" "$work/load-old.log" unversioned_runs

# tests/check-exports.sh on the variants built above: it passes only when the
# library's versions are exactly the script's.
exports() {
	local want=$1 so=$2 map=$3 pattern=$4 rc=0 out
	out=$(bash "$repo/tests/check-exports.sh" "$work/$so.so" "$work/$map" 2>&1) || rc=$?
	echo "$out"
	echo "exit status $rc"
	{ [[ $want == pass && $rc -eq 0 ]] || [[ $want == fail && $rc -eq 1 ]]; } && grep -Eq "$pattern" <<<"$out"
}
step "check-exports: versions as the script says" "$work/exports-ok.log" \
	exports pass added new-node.map 'exports 6 functions, all versioned \(FX_1.0,FX_1.1\)'
step "check-exports: a node the script lacks" "$work/exports-extra.log" \
	exports fail added v1.map '< fx_new FX_1.1'
step "check-exports: a function in another node than the script's" "$work/exports-moved.log" \
	exports fail moved new-node.map '> fx_old FX_1.0'
sed 's/^} FX_1.0;$/};/' "$work/new-node.map" >"$work/orphan.map"
step "check-exports: a node whose parent differs" "$work/exports-parent.log" \
	exports fail added orphan.map '> FX_1.1 -'
step "check-exports: unversioned exports" "$work/exports-unversioned.log" \
	exports fail unversioned v1.map 'exported without a default symbol version'

finish
