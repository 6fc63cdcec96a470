#!/usr/bin/env bash
# Usage: tests/check-version.sh PREFIX [VERSION]
#
# Everything that names the release agrees with VERSION (default: Cargo.toml's
# [package] version): the installed file names and sonames of libxsk_rs and
# libxsk_rs-compat (under PREFIX, as `make install` put them), their .pc
# files, the header's XSK_RS_VERSION_* macros, xsk_rs_version() of the
# installed library, the Python package's pyproject.toml, the version nodes of
# the linker scripts (none for a later release), and the git tags (each v*
# tag's commit has that version in Cargo.toml).
#
# And the ABI baseline (abi/, named by abi/BASELINE) is the last release's:
#  - a version with a dated section in CHANGELOG.md ("## [0.4.0] - 2026-11-29")
#    is a release, and carries its own baseline (`make abi-baseline` is one of
#    its steps);
#  - any other version is on its way to the next release: CHANGELOG.md has an
#    "## [Unreleased]" section, and the baseline is the newest tag's;
#  - once a release is tagged, its baseline files never change: what they say
#    is what that release shipped.
# Fails listing every disagreement.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:?usage: $0 PREFIX [VERSION]}
lib=$prefix/lib
errors=0
bad() { echo "error: $*" >&2; errors=$((errors + 1)); }
# shellcheck source=abi/elf.sh
source "$repo/abi/elf.sh"
# The [package] version in a Cargo.toml on stdin.
cargo_version() { awk -F'"' '/^\[/ { p = ($0 == "[package]") } p && /^version *=/ { print $2; exit }'; }

version=${2:-$(cargo_version <"$repo/Cargo.toml")}
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
	{ echo "error: version '$version' is not MAJOR.MINOR.PATCH" >&2; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}
[[ $(cargo_version <"$repo/Cargo.toml") == "$version" ]] || bad "Cargo.toml's version is not $version"

for name in xsk_rs xsk_rs-compat; do
	while read -r wrong; do bad "$wrong"; done < <(elf_lib_installed "$lib" "lib$name" "$version" || true)
	pc=$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --modversion "$name" 2>&1) || true
	[[ $pc == "$version" ]] || bad "$name.pc says version '$pc'"
done

header=$prefix/include/xsk_rs.h
for want in "MAJOR $major" "MINOR $minor" "PATCH $patch" "STRING \"$version\""; do
	grep -qx "#define XSK_RS_VERSION_${want% *} ${want#* }" "$header" ||
		bad "$header lacks #define XSK_RS_VERSION_$want"
done

runtime=$(python3 - "$lib/libxsk_rs.so.$major" <<-'PY' 2>&1
	import ctypes, sys
	lib = ctypes.CDLL(sys.argv[1])
	lib.xsk_rs_version.restype = ctypes.c_char_p
	print(lib.xsk_rs_version().decode())
	PY
) || true
[[ $runtime == "$version" ]] || bad "xsk_rs_version() of the installed library is '$runtime'"

py=$(awk -F'"' '/^\[/ { p = ($0 == "[project]") } p && /^version *=/ { print $2; exit }' \
	"$repo/bindings/python/pyproject.toml")
[[ $py == "$version" ]] || bad "bindings/python/pyproject.toml says version '$py'"

# A node names the release that first shipped its functions: none may be
# newer than this one.
for map in "$repo/abi/xsk_rs.map" "$repo/compat/compat.map"; do
	while read -r node; do
		[[ $node =~ _([0-9]+)\.([0-9]+)$ ]] || { bad "$map: node $node is not NAME_MAJOR.MINOR"; continue; }
		((BASH_REMATCH[1] < major || (BASH_REMATCH[1] == major && BASH_REMATCH[2] <= minor))) ||
			bad "$map: node $node is for a release after $version"
	done < <(perl -0777 -pe 's{/\*.*?\*/|#[^\n]*}{ }gs' "$map" | grep -oE '^[A-Z][A-Z0-9_]*_[0-9.]+ *\{' | tr -d ' {')
done

# Each release tag this commit descends from sits on a commit of that
# version (a clone without tags has nothing to check here).
tags=()
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
	mapfile -t tags < <(git -C "$repo" tag --merged HEAD --list 'v[0-9]*' | sort -V)
fi
for tag in "${tags[@]}"; do
	at=$(git -C "$repo" show "$tag:Cargo.toml" 2>/dev/null | cargo_version)
	[[ "v$at" == "$tag" ]] || bad "tag $tag is on a commit whose Cargo.toml says version '$at'"
done

baseline=$(cat "$repo/abi/BASELINE" 2>/dev/null || true)
[[ $baseline =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || bad "abi/BASELINE says '$baseline', not a release version"
if grep -Eq "^## \[$version\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$" "$repo/CHANGELOG.md"; then
	[[ $baseline == "$version" ]] ||
		bad "$version is a release (CHANGELOG.md dates it), but abi/BASELINE says '$baseline': run make abi-baseline"
else
	grep -qx '## \[Unreleased\]' "$repo/CHANGELOG.md" ||
		bad "CHANGELOG.md has neither a dated '## [$version]' section nor '## [Unreleased]'"
	if [[ ${#tags[@]} -gt 0 ]]; then
		[[ "v$baseline" == "${tags[-1]}" ]] ||
			bad "$version is not released yet, so the ABI baseline must be the last release's (${tags[-1]}), not '$baseline'"
	elif [[ $(printf '%s\n' "$baseline" "$version" | sort -V | head -n 1) != "$baseline" || $baseline == "$version" ]]; then
		bad "abi/BASELINE '$baseline' is not a release before $version"
	fi
fi
if [[ -n $baseline ]] && git -C "$repo" rev-parse -q --verify "refs/tags/v$baseline" >/dev/null; then
	git -C "$repo" diff --quiet "v$baseline" -- abi/BASELINE 'abi/*.abi' 'abi/*.constants' ||
		bad "the ABI baseline in abi/ differs from what v$baseline shipped: a release's baseline never changes"
fi

[[ $errors -eq 0 ]] || exit 1
echo "check-version: $version everywhere: file names, sonames, .pc, header, xsk_rs_version()," \
	"pyproject.toml, version nodes, tags; ABI baseline ${baseline} as the changelog and tags say"
