#!/usr/bin/env bash
# Usage: tests/check-exports.sh path/to/libxsk_rs.so [path/to/xsk_rs.h]
#
# Fails, listing them, if the shared library defines any dynamic symbol whose
# name does not start with xsk_rs_. rustc's own version script for a cdylib
# exports only #[no_mangle] items, so a stray one (a non-prefixed extern fn or
# static, in this crate or a dependency) is what this catches.
#
# Given the header too, also fails for an exported symbol the header does not
# declare: cbindgen skips functions that a macro generates, so such a function
# would be callable but undocumented and unusable from C.
set -euo pipefail

so=${1:?usage: $0 path/to/libxsk_rs.so [path/to/xsk_rs.h]}
header=${2-}
command -v nm >/dev/null || { echo "error: nm (binutils) is required" >&2; exit 1; }
[[ -f $so ]] || { echo "error: $so: no such file" >&2; exit 1; }
[[ -z $header || -f $header ]] || { echo "error: $header: no such file" >&2; exit 1; }

# `nm -D --defined-only` prints "VALUE TYPE NAME[@VERSION]".
symbols=$(nm -D --defined-only "$so" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' | sort -u)
ours=$(grep -c '^xsk_rs_' <<<"$symbols" || true)
stray=$(grep -v '^xsk_rs_' <<<"$symbols" || true)

if [[ -n $stray ]]; then
    echo "error: $so exports symbols outside the xsk_rs_ namespace:" >&2
    sed 's/^/  /' <<<"$stray" >&2
    exit 1
fi
if [[ $ours -eq 0 ]]; then
    echo "error: $so exports no xsk_rs_ symbol at all" >&2
    exit 1
fi

if [[ -n $header ]]; then
    undeclared=()
    while read -r sym; do
        # A function "name(" or an extern object "name;" / "name[".
        grep -Eq "(^|[^A-Za-z0-9_])${sym}[[:space:]]*[(;[]" "$header" || undeclared+=("$sym")
    done <<<"$symbols"
    if [[ ${#undeclared[@]} -gt 0 ]]; then
        echo "error: $so exports symbols that $header does not declare:" >&2
        printf '  %s\n' "${undeclared[@]}" >&2
        exit 1
    fi
fi
echo "check-exports: $so exports $ours symbols, all xsk_rs_*${header:+ and declared in $header}"
