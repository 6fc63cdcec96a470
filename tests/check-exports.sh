#!/usr/bin/env bash
# Usage: tests/check-exports.sh LIBRARY VERSION_SCRIPT [HEADER]
#
# Checks what a shared library exports against its linker version script
# (abi/xsk_rs.map, compat/compat.map), and fails listing what is wrong:
#  - every exported function carries a symbol version (name@@NODE), and NODE
#    is a node of the script; nothing is exported unversioned;
#  - the library defines exactly the script's nodes, each with the parent the
#    script gives it (a binary's version needs name them);
#  - the exported functions are exactly the script's global: entries, each
#    listed once (a stray #[no_mangle] item, in this crate or a dependency,
#    is local by the script's `local: *`; this catches a script that lets one
#    through, or one that lists a function twice).
# Given HEADER (xsk_rs.h), also: the exported functions are exactly the
# xsk_rs_* functions the header declares. cbindgen skips functions that a
# macro generates, so such a function would be callable but unusable from C;
# and a function the header declares but the script leaves out would be
# declared but missing at link time.
set -euo pipefail
export LC_ALL=C # sort, uniq and comm agree on one order
# shellcheck source=abi/elf.sh
source "$(dirname "$0")/../abi/elf.sh"

# FILE without its C comments (/* */ over any number of lines, several on a
# line; and // to the end of a line).
uncomment() {
	perl -0777 -pe 's{/\*.*?\*/|//[^\n]*}{ }gs' "$1"
}

so=${1:?usage: $0 LIBRARY VERSION_SCRIPT [HEADER]}
map=${2:?usage: $0 LIBRARY VERSION_SCRIPT [HEADER]}
header=${3-}
command -v readelf >/dev/null || { echo "error: readelf (binutils) is required" >&2; exit 1; }
for f in "$so" "$map" ${header:+"$header"}; do
	[[ -f $f ]] || { echo "error: $f: no such file" >&2; exit 1; }
done
name=$(basename "$so")
errors=0
problem() {
	echo "error: $name: $1" >&2
	[[ -z ${2-} ]] || sed 's/^/  /' <<<"$2" >&2
	errors=$((errors + 1))
}

# The script as tokens, comments dropped: NODE { global: name ; ... local: * ; } PARENT ;
# (ld also takes # to the end of a line as a comment in a version script.)
tokens=$(perl -0777 -pe 's{/\*.*?\*/|#[^\n]*}{ }gs' "$map" |
	sed -e 's/[{};]/ & /g' | tr -s ' \t\n' '\n\n\n' | grep -v '^$' || true)
# "NODE PARENT" per node (PARENT "-" for none) and "NAME NODE" per global: entry.
parsed=$(awk '
	state == "" && $0 != ";" { node = $0; state = "open"; next }
	state == "open" && $0 == "{" { state = "in"; global = 0; next }
	state == "in" && $0 == "global:" { global = 1; next }
	state == "in" && $0 == "local:" { global = 0; next }
	state == "in" && $0 == "}" { state = "parent"; parent = "-"; next }
	state == "in" && $0 != ";" { if (global) print "sym", $0, node; next }
	state == "parent" && $0 == ";" { print "node", node, parent; state = ""; next }
	state == "parent" { parent = $0; next }
' <<<"$tokens")
map_nodes=$(awk '$1 == "node" { print $2, $3 }' <<<"$parsed")
map_syms=$(awk '$1 == "sym" { print $2, $3 }' <<<"$parsed" | sort)
[[ -n $map_nodes && -n $map_syms ]] || { echo "error: $map: no version node with global: entries" >&2; exit 1; }

lib_syms=$(elf_exports "$so")
exported=$(awk '{ print $1 }' <<<"$lib_syms" | sort -u)
[[ -n $lib_syms ]] || { echo "error: $so exports nothing at all" >&2; exit 1; }

unversioned=$(awk '$2 == "-" || $2 ~ /^\(hidden\)/ { print $1 }' <<<"$lib_syms")
[[ -z $unversioned ]] || problem "exported without a default symbol version (name@@NODE):" "$unversioned"

[[ $lib_syms == "$map_syms" ]] ||
	problem "exports differ from $map's entries (< library, > script):" \
		"$(diff <(echo "$lib_syms") <(echo "$map_syms") | grep '^[<>]' || true)"

dups=$(awk '{ print $1 }' <<<"$map_syms" | uniq -d)
[[ -z $dups ]] || problem "$map lists these more than once:" "$dups"

lib_nodes=$(elf_nodes "$so")
[[ $(sort <<<"$lib_nodes") == "$(sort <<<"$map_nodes")" ]] ||
	problem "version nodes (and parents) differ from $map's (< library, > script):" \
		"$(diff <(sort <<<"$lib_nodes") <(sort <<<"$map_nodes") | grep '^[<>]' || true)"

if [[ -n $header ]]; then
	# Declarations only: a function the header merely mentions in a comment
	# (as cbindgen leaves a skipped one) is not declared.
	declared=$(uncomment "$header" | grep -oE '(^|[^A-Za-z0-9_])xsk_rs_[a-z0-9_]+\(' |
		grep -oE 'xsk_rs_[a-z0-9_]+' | sort -u)
	[[ $declared == "$exported" ]] ||
		problem "exports differ from the functions $header declares (< library, > header):" \
			"$(diff <(echo "$exported") <(echo "$declared") | grep '^[<>]' || true)"
fi

[[ $errors -eq 0 ]] || exit 1
echo "check-exports: $name exports $(wc -l <<<"$exported") functions, all versioned" \
	"($(awk '{ print $1 }' <<<"$map_nodes" | paste -sd, -)) as $(basename "$map") says${header:+, all declared in $(basename "$header")}"
