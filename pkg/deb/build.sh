#!/usr/bin/env bash
# Builds the Debian binary packages of xsk_rs from a staged install tree.
#
#   pkg/deb/build.sh STAGE OUTDIR VERSION
#
# STAGE is what the Makefile's install target put under DESTDIR with Debian's
# layout:
#
#   make install DESTDIR=STAGE PREFIX=/usr \
#       LIBDIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH) LDCONFIG=
#
# VERSION is the upstream version (Cargo.toml's, e.g. 0.4.0); the packages
# are VERSION-REVISION (DEB_REVISION, default 1: the Debian packaging of an
# upstream release, not a native package), and the Debian changelog says so.
# Into OUTDIR go, for the host architecture:
#
#   libxsk-rs0            libxsk_rs.so.VERSION and its soname link, symbols,
#                         shlibs, the ldconfig trigger
#   libxsk-rs-dev         xsk_rs.h, the dev link, libxsk_rs.a, xsk_rs.pc
#   libxsk-rs-compat0     libxsk_rs-compat.so.VERSION and its soname link, ...
#   libxsk-rs-compat-dev  include/xsk_rs-compat/xdp/*.h, the dev link,
#                         xsk_rs-compat.pc
#
# The way debhelper would, but with dpkg-dev's tools only (no debian/ source
# tree, no network): the package trees are laid out in a scratch
# OUTDIR/build/debian/<package>, binaries stripped as dh_strip does, symbols
# files generated from the libraries' dynamic symbols, Depends computed by
# dpkg-shlibdeps, DEBIAN/control written by dpkg-gencontrol from
# pkg/deb/control, and the .debs built by dpkg-deb --root-owner-group. Every
# staged file must land in exactly one package. Then lintian checks the .debs:
# any error or warning fails the build (exit 1); info and pedantic tags are
# shown. Needs dpkg-dev, binutils and lintian.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=abi/elf.sh
source "$repo/abi/elf.sh"
me=$(basename "$0")

die() {
	echo "$me: $*" >&2
	exit 1
}

if [[ $# -ne 3 ]]; then
	echo "usage: $0 STAGE OUTDIR VERSION" >&2
	exit 2
fi
version=$3
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be MAJOR.MINOR.PATCH, not '$version'"
stage=$(cd "$1" 2>/dev/null && pwd) || die "no such staging tree: $1"
mkdir -p "$2"
out=$(cd "$2" && pwd)
revision=${DEB_REVISION:-1}
[[ $revision =~ ^[0-9][0-9a-z.+~]*$ ]] || die "DEB_REVISION must be a Debian revision, not '$revision'"
debversion=$version-$revision
major=${version%%.*}

for tool in dpkg-architecture dpkg-deb dpkg-gencontrol dpkg-shlibdeps readelf strip gzip lintian; do
	command -v "$tool" >/dev/null || die "needs $tool (apt-get install dpkg-dev binutils lintian)"
done
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$ma

# ---- the staged tree -----------------------------------------------------

# check_library STEM: checks the staged library STEM.so.VERSION, its soname
# link and its SONAME, as the Makefile installs them.
check_library() {
	local wrong
	wrong=$(elf_lib_installed "$stage/$libdir" "$1" "$version") || die "staged $wrong"
}
check_library libxsk_rs
check_library libxsk_rs-compat
for pc in xsk_rs xsk_rs-compat; do
	f=$stage/$libdir/pkgconfig/$pc.pc
	[[ -f $f ]] || die "$libdir/pkgconfig/$pc.pc is not in $stage"
	grep -qx "Version: $version" "$f" || die "$pc.pc does not say Version: $version"
	grep -qx 'prefix=/usr' "$f" || die "$pc.pc's prefix is not /usr (staged with PREFIX=/usr?)"
	grep -qx "libdir=\${prefix}/lib/$ma" "$f" || die "$pc.pc's libdir is not \${prefix}/lib/$ma"
done

# ---- the package trees ---------------------------------------------------

build=$out/build
rm -rf "$build"
mkdir -p "$build/debian"
cp "$here/control" "$build/debian/control"
packages=(libxsk-rs0 libxsk-rs-dev libxsk-rs-compat0 libxsk-rs-compat-dev)

# The Debian changelog's one entry: dated like the upstream release in
# CHANGELOG.md ("## [VERSION] - YYYY-MM-DD"), else SOURCE_DATE_EPOCH, else
# the last commit. Its date also stamps every file and the .debs themselves
# (as dpkg-buildpackage does), so a rebuild gives the same bytes.
release_date=""
[[ -f $repo/CHANGELOG.md ]] &&
	release_date=$(sed -n "s/^## \[$version\] - \([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\).*/\1/p" "$repo/CHANGELOG.md" | sed -n 1p)
if [[ -n $release_date ]]; then
	SOURCE_DATE_EPOCH=$(date -u -d "$release_date 00:00:00" +%s)
elif [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
	SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null) || SOURCE_DATE_EPOCH=$(date +%s)
fi
export SOURCE_DATE_EPOCH
maintainer=$(sed -n 's/^Maintainer: //p' "$here/control")
cat >"$build/debian/changelog" <<-EOF
	xsk-rs ($debversion) unstable; urgency=medium

	  * Upstream release $version, packaged from its install tree by pkg/deb/build.sh.

	 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF

# put PACKAGE PATH...: copies staged paths (files, links, directories) into
# PACKAGE's tree, and records them as claimed.
claimed=$build/claimed
: >"$claimed"
put() {
	local pkg=$1 p
	shift
	for p in "$@"; do
		[[ -e $stage/$p || -L $stage/$p ]] || die "$p is not in $stage"
		mkdir -p "$build/debian/$pkg/$(dirname "$p")"
		cp -a "$stage/$p" "$build/debian/$pkg/$p"
		(cd "$stage" && find "$p" ! -type d) >>"$claimed"
	done
}
put libxsk-rs0 "$libdir/libxsk_rs.so.$version" "$libdir/libxsk_rs.so.$major"
put libxsk-rs-dev usr/include/xsk_rs.h "$libdir/libxsk_rs.so" "$libdir/libxsk_rs.a" "$libdir/pkgconfig/xsk_rs.pc"
put libxsk-rs-compat0 "$libdir/libxsk_rs-compat.so.$version" "$libdir/libxsk_rs-compat.so.$major"
put libxsk-rs-compat-dev usr/include/xsk_rs-compat "$libdir/libxsk_rs-compat.so" "$libdir/pkgconfig/xsk_rs-compat.pc"
unclaimed=$(cd "$stage" && find . ! -type d | sed 's|^\./||' | sort | comm -23 - <(sort "$claimed"))
[[ -z $unclaimed ]] || die "staged files that no package takes (add them to a package in $me):
$unclaimed"
twice=$(sort "$claimed" | uniq -d)
[[ -z $twice ]] || die "staged files taken by two packages: $twice"

# As dh_strip: no debug information, no .comment or .note (the build-id note
# stays). strip keeps .dynsym and the version sections, but that is checked,
# since the symbol versions are what the symbols files and binaries rely on.
strip_shared() {
	local f=$1 before
	before=$(elf_exports "$f"; elf_nodes "$f")
	strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
	[[ $before == "$(elf_exports "$f"; elf_nodes "$f")" ]] ||
		die "strip changed the exported symbols or their versions of $f"
}
strip_shared "$build/debian/libxsk-rs0/$libdir/libxsk_rs.so.$version"
strip_shared "$build/debian/libxsk-rs-compat0/$libdir/libxsk_rs-compat.so.$version"
strip --strip-debug --remove-section=.comment --remove-section=.note --enable-deterministic-archives \
	"$build/debian/libxsk-rs-dev/$libdir/libxsk_rs.a"

# symbols FILE PACKAGE: the Debian symbols file of a library, every defined
# dynamic symbol with the upstream version that introduced it. A symbol in
# the version node NAME_X.Y (XSK_RS_0.4, XSK_RS_COMPAT_0.4) is there since
# X.Y.0 (NAME_X.Y.Z: since X.Y.Z); an unversioned one (@Base, or a node
# without a version number) gets VERSION, the most a binary can need.
symbols() {
	local file=$1 pkg=$2
	echo "$(elf_soname "$file") $pkg #MINVER#"
	echo "* Build-Depends-Package: ${pkg%"$major"}-dev"
	# Each node's own definition symbol is listed too, as NODE@NODE, the
	# way dpkg-gensymbols writes it; an unversioned symbol is NAME@Base.
	{ awk '{ print $1, $1 }' < <(elf_nodes "$file"); elf_exports "$file"; } |
		awk -v v="$version" '{
			name = $1; node = ($2 == "-") ? "Base" : $2
			since = v
			if (match(node, /_[0-9]+\.[0-9]+(\.[0-9]+)?$/)) {
				since = substr(node, RSTART + 1)
				if (split(since, p, ".") == 2) since = since ".0"
			}
			printf " %s@%s %s\n", name, node, since
		}' | LC_ALL=C sort -u
}
# shlibs: the older, per-library form (udebs and tools that predate symbols
# files still read it), as dh_makeshlibs writes it.
runtime_meta() {
	local pkg=$1 stem=$2 d=$build/debian/$1/DEBIAN
	mkdir -p "$d"
	symbols "$build/debian/$pkg/$libdir/$stem.so.$version" "$pkg" >"$d/symbols"
	echo "$stem $major $pkg (>= $version)" >"$d/shlibs"
	# Policy 8.1.1: a package with a shared library in the loader's path
	# refreshes ld.so.cache through the ldconfig trigger, not a maintainer script.
	echo "activate-noawait ldconfig" >"$d/triggers"
}
runtime_meta libxsk-rs0 libxsk_rs
runtime_meta libxsk-rs-compat0 libxsk_rs-compat

# Documentation: copyright (DEP-5), the Debian changelog and the upstream
# one, each package its own (gzip -n: no name or time stamp, so that the
# Multi-Arch: same packages of two architectures carry identical files).
for pkg in "${packages[@]}"; do
	doc=$build/debian/$pkg/usr/share/doc/$pkg
	mkdir -p "$doc"
	cp "$here/copyright" "$doc/copyright"
	gzip -9nc "$build/debian/changelog" >"$doc/changelog.Debian.gz"
	[[ -f $repo/CHANGELOG.md ]] && gzip -9nc "$repo/CHANGELOG.md" >"$doc/changelog.gz"
done

# Modes as dh_fixperms sets them: shared libraries are not executable.
for pkg in "${packages[@]}"; do
	find "$build/debian/$pkg" -type d -exec chmod 755 {} +
	find "$build/debian/$pkg" -type f -exec chmod 644 {} +
done

# ---- control files and the .debs -----------------------------------------

# dpkg-shlibdeps finds libxsk_rs.so.0 for the compat library in
# debian/libxsk-rs0 (a package build tree), with its symbols file.
cd "$build"
for pkg in libxsk-rs0 libxsk-rs-compat0; do
	case $pkg in
	libxsk-rs0) lib=libxsk_rs.so.$version ;;
	libxsk-rs-compat0) lib=libxsk_rs-compat.so.$version ;;
	esac
	dpkg-shlibdeps -T"debian/$pkg.substvars" -pshlibs -e"debian/$pkg/$libdir/$lib"
	echo "$pkg: $(sed -n 's/^shlibs:Depends=//p' "debian/$pkg.substvars")"
done

rm -f "$out"/*_"$debversion"_"$arch".deb
debs=()
for pkg in "${packages[@]}"; do
	d=debian/$pkg
	mkdir -p "$d/DEBIAN"
	touch "debian/$pkg.substvars"
	(cd "$d" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0r md5sum) >"$d/DEBIAN/md5sums"
	dpkg-gencontrol -p"$pkg" -P"$d" -T"debian/$pkg.substvars" -fdebian/files
	find "$d/DEBIAN" -type f -exec chmod 644 {} +
	find "$d" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	deb=$out/${pkg}_${debversion}_$arch.deb
	dpkg-deb --root-owner-group --build "$d" "$deb" >/dev/null
	debs+=("$deb")
	echo "built $(basename "$deb"): $(dpkg-deb -f "$deb" Installed-Size) kB installed, Depends: $(dpkg-deb -f "$deb" Depends)"
done

# ---- lintian -------------------------------------------------------------

# Tags that cannot apply to binary packages built outside a Debian source
# tree, and why (none other may be suppressed; fix the package instead):
suppress=(
	# The first changelog entry of a package for Debian's archive closes its
	# ITP bug; these packages are not uploaded to Debian, so there is no such
	# bug (the tag's own text: "can be ignored if the package is not intended
	# for Debian").
	initial-upload-closes-no-bugs
)
# shellcheck disable=SC2054 # the comma belongs to --fail-on
lintian_args=(--display-info --pedantic --fail-on error,warning --no-cfg)
[[ ${#suppress[@]} -gt 0 ]] && lintian_args+=(--suppress-tags "$(
	IFS=,
	echo "${suppress[*]}"
)")
echo "lintian ${lintian_args[*]}"
if ! lintian "${lintian_args[@]}" "${debs[@]}"; then
	echo "$me: lintian reports errors or warnings (above)" >&2
	exit 1
fi
echo "lintian: no errors or warnings"
