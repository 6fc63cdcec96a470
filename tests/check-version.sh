#!/usr/bin/env bash
# Usage: tests/check-version.sh PREFIX
#
# Everything that names the release agrees with Cargo.toml's [package]
# version: the installed file names and sonames of libxsk_rs and
# libxsk_rs-compat (under PREFIX, as `make install` put them), their .pc
# files, the header's XSK_RS_VERSION_* macros, xsk_rs_version() of the
# installed library, the Python package's pyproject.toml, CHANGELOG.md (a
# section for a release version), the version nodes of the linker scripts (none
# for a later release), and the git tags (each v* tag's commit has that
# version in Cargo.toml). Fails listing every disagreement.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:?usage: $0 PREFIX}
lib=$prefix/lib
errors=0
bad() { echo "error: $*" >&2; errors=$((errors + 1)); }

version=$(awk -F'"' '/^\[/ { p = ($0 == "[package]") } p && /^version *=/ { print $2; exit }' "$repo/Cargo.toml")
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?$ ]] ||
	{ echo "error: Cargo.toml's version '$version' is not semver" >&2; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]} pre=${BASH_REMATCH[4]}

for name in xsk_rs xsk_rs-compat; do
	real=$lib/lib$name.so.$version
	[[ -f $real && ! -L $real ]] || bad "$real is not installed"
	[[ $(readlink "$lib/lib$name.so.$major" 2>/dev/null) == "lib$name.so.$version" ]] ||
		bad "$lib/lib$name.so.$major does not link to lib$name.so.$version"
	[[ $(readlink "$lib/lib$name.so" 2>/dev/null) == "lib$name.so.$version" ]] ||
		bad "$lib/lib$name.so does not link to lib$name.so.$version"
	[[ -f $real ]] && { readelf -d "$real" | grep -q "(SONAME).*\[lib$name\.so\.$major\]" ||
		bad "$real's SONAME is not lib$name.so.$major"; }
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

# A release has its changelog section; a pre-release (0.5.0-dev) need not.
if [[ -z $pre ]]; then
	grep -Eq "^## \[$version\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$" "$repo/CHANGELOG.md" ||
		bad "CHANGELOG.md has no '## [$version] - YYYY-MM-DD' section"
fi

# A node names the release that first shipped its functions: none may be
# newer than this one.
for map in "$repo/abi/xsk_rs.map" "$repo/compat/compat.map"; do
	while read -r node; do
		[[ $node =~ _([0-9]+)\.([0-9]+)$ ]] || { bad "$map: node $node is not NAME_MAJOR.MINOR"; continue; }
		((BASH_REMATCH[1] < major || (BASH_REMATCH[1] == major && BASH_REMATCH[2] <= minor))) ||
			bad "$map: node $node is for a release after $version"
	done < <(sed -e 's|/\*.*\*/||g' "$map" | grep -oE '^[A-Z][A-Z0-9_]*_[0-9.]+ *\{' | tr -d ' {')
done

# Each release tag sits on a commit of that version (a shallow clone may
# lack the tags; then there is nothing to check).
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
	while read -r tag; do
		[[ -n $tag ]] || continue
		at=$(git -C "$repo" show "$tag:Cargo.toml" 2>/dev/null |
			awk -F'"' '/^\[/ { p = ($0 == "[package]") } p && /^version *=/ { print $2; exit }')
		[[ "v$at" == "$tag" ]] || bad "tag $tag is on a commit whose Cargo.toml says version '$at'"
	done < <(git -C "$repo" tag --list 'v[0-9]*')
fi

[[ $errors -eq 0 ]] || exit 1
echo "check-version: $version everywhere: file names, sonames, .pc, header, xsk_rs_version()," \
	"pyproject.toml, CHANGELOG.md, version nodes, tags"
