#!/usr/bin/env bash
# Installs the Debian packages that pkg/deb/build.sh made, uses them the way a
# Debian user would, and removes them again.
#
#   tests/deb/run.sh DEBDIR        (DEBDIR: libxsk-rs0, libxsk-rs-dev,
#                                   libxsk-rs-compat0, libxsk-rs-compat-dev)
#
# Refuses to start (exit 1) if any libxsk-rs package is installed, or
# libxsk_rs is in /usr/include, /usr/lib, the loader's cache or pkg-config's
# path: the test purges what it installs, so it must never meet a user's own
# copy. Then, with no PKG_CONFIG_PATH, LD_LIBRARY_PATH or rpath anywhere:
#
#   - dpkg -i libxsk-rs0 and libxsk-rs-dev, then the compat pair; dpkg
#     --verify finds every file as packaged; the ldconfig trigger ran
#   - pkg-config --modversion xsk_rs is the packages' upstream version
#   - README.md's C example (the example:c block) builds with a plain
#     `cc ... $(pkg-config --cflags --libs xsk_rs)`, needs libxsk_rs.so.0,
#     which resolves to /usr/lib/<multiarch>, and on a veth pair between two
#     namespaces made for this run prints "received 100 bytes" for each frame
#     tests/c/peer_send sends it, and nothing else; no XDP program is left
#   - a program written against libxdp's <xdp/xsk.h> builds with pkg-config
#     xsk_rs-compat and creates and deletes a UMEM through libxsk_rs-compat
#   - Python: `pip install ./bindings/python` into a fresh venv (pip's default
#     build isolation: setuptools comes from PyPI), and again with
#     --no-build-isolation --no-index into a venv of Debian's /usr/bin/python3
#     on its own setuptools and wheel (python3-setuptools, python3-wheel); from
#     outside the repository, with no XSK_RS_LIB or PYTHONPATH, each imports
#     the installed module (only xsk_rs.py: no test file), which finds
#     libxsk_rs.so.0 through ldconfig's cache and maps /usr/lib/<multiarch>'s,
#     and whose library and distribution versions are the packages'
#   - dpkg --purge of all four leaves nothing: the file lists of /usr and
#     /etc equal those taken before, ldconfig -p and pkg-config know no
#     xsk_rs, dpkg knows none of the packages
#
# A trap purges the packages on any exit and removes the namespaces and the
# venvs. Needs root; without it the run is skipped with a reason, except
# under CI=true, where that is a failure. Exits non-zero on any failure.
# VERBOSE=1 shows every step's output.

# Most functions below run through step(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [[ $# -ne 1 ]]; then
	echo "usage: $0 DEBDIR" >&2
	exit 2
fi
debdir=$(cd "$1" 2>/dev/null && pwd) || { echo "$(basename "$0"): no such directory: $1" >&2; exit 2; }
# shellcheck source=tests/lib.sh
source "$repo/tests/lib.sh"
lib_init deb-tests
need_root

for tool in dpkg dpkg-deb dpkg-architecture pkg-config cc readelf ldd /sbin/ldconfig ip python3 /usr/bin/python3; do
	command -v "$tool" >/dev/null || { fail "$tool is not installed"; finish; }
done

packages=(libxsk-rs0 libxsk-rs-dev libxsk-rs-compat0 libxsk-rs-compat-dev)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$ma # lib.sh's in_ns/spawn put it on LD_LIBRARY_PATH; each command here unsets that
declare -A deb
for pkg in "${packages[@]}"; do
	found=("$debdir/${pkg}_"*"_$arch.deb")
	if [[ ${#found[@]} -ne 1 || ! -f ${found[0]} ]]; then
		fail "exactly one ${pkg}_*_$arch.deb in $debdir (found: ${found[*]})"
		finish
	fi
	deb[$pkg]=${found[0]}
done
debversion=$(dpkg-deb -f "${deb[libxsk-rs0]}" Version)
upstream=${debversion#*:}
upstream=${upstream%-*}
for pkg in "${packages[@]}"; do
	v=$(dpkg-deb -f "${deb[$pkg]}" Version)
	[[ $v == "$debversion" ]] || { fail "$pkg is version $v, libxsk-rs0 $debversion"; finish; }
done
echo "packages $debversion (upstream $upstream) for $arch from $debdir"

# Every command that builds, loads or runs against the packages goes through
# this: nothing may point the tools at a private prefix.
clean=(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR -u LD_LIBRARY_PATH -u LIBRARY_PATH -u CPATH
	-u C_INCLUDE_PATH -u XSK_RS_LIB -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1)
# PYTHONDONTWRITEBYTECODE: Debian's python3, run as root, would otherwise
# write __pycache__ files under /usr, which the file list comparison catches.

# ---- refuse to meet a user's own libxsk_rs ---------------------------------

# Package states other than not-installed (config-files included).
our_packages_known() {
	{ dpkg-query -W -f='${Package} ${db:Status-Status}\n' 'libxsk-rs*' 2>/dev/null || true; } |
		awk '$2 != "not-installed"'
}
preflight() {
	local found=() f
	while read -r f; do found+=("package $f"); done < <(our_packages_known)
	# Every file the packages hold (dpkg -i would overwrite a file no package
	# owns, and the purge delete it), and any libxsk_rs elsewhere in /usr.
	while read -r f; do
		[[ -e $f || -L $f ]] && found+=("$f")
	done < <(for pkg in "${!deb[@]}"; do
		dpkg-deb --fsys-tarfile "${deb[$pkg]}" | tar -t | sed -n 's|^\./|/|; /[^/]$/p'
	done | LC_ALL=C sort -u)
	for f in /usr/include/xsk_rs.h /usr/include/xsk_rs-compat /usr/lib/libxsk_rs* /usr/lib/*/libxsk_rs* \
		/usr/local/include/xsk_rs.h /usr/local/lib/libxsk_rs*; do
		[[ -e $f || -L $f ]] && found+=("$f")
	done
	while read -r f; do found+=("in ldconfig's cache: $f"); done < <(/sbin/ldconfig -p | grep 'libxsk_rs' || true)
	"${clean[@]}" pkg-config --exists xsk_rs && found+=("pkg-config finds xsk_rs: $("${clean[@]}" pkg-config --variable=pcfiledir xsk_rs)")
	[[ ${#found[@]} -eq 0 ]] && return 0
	echo "libxsk_rs is already on this system; this test installs and purges the packages, so it does not run:"
	printf '  %s\n' "${found[@]}"
	return 1
}
if ! preflight; then
	fail "no libxsk_rs installed before the test (remove the above: dpkg --purge libxsk-rs-compat-dev libxsk-rs-compat0 libxsk-rs-dev libxsk-rs0, or make uninstall PREFIX=...)"
	finish
fi

snapshot() { find /usr /etc 2>/dev/null | LC_ALL=C sort || true; }
snapshot >"$work/files-before"
echo "$(wc -l <"$work/files-before") paths under /usr and /etc before"

# Purges whatever of ours is installed: on any exit, and as the test's last
# act (then the trap finds nothing). Nothing of ours was there before.
purge_ours() {
	local pkgs
	pkgs=$(our_packages_known | awk '{ print $1 }')
	[[ -z $pkgs ]] && return 0
	# shellcheck disable=SC2086 # one word per package
	dpkg --purge $pkgs
}
on_exit() {
	purge_ours >"$work/trap-purge.log" 2>&1 || cat "$work/trap-purge.log"
	lib_cleanup
}
trap on_exit EXIT

# ---- install ---------------------------------------------------------------

step "dpkg -i libxsk-rs0 libxsk-rs-dev" "$work/install.log" \
	dpkg -i "${deb[libxsk-rs0]}" "${deb[libxsk-rs-dev]}"
step "dpkg -i libxsk-rs-compat0 libxsk-rs-compat-dev" "$work/install-compat.log" \
	dpkg -i "${deb[libxsk-rs-compat0]}" "${deb[libxsk-rs-compat-dev]}"
installed_as_packaged() {
	local pkg status out rc=0
	for pkg in "${packages[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$pkg" 2>&1) || true
		echo "$pkg: $status"
		[[ $status == "ii $debversion" ]] || rc=1
	done
	# dpkg --verify: every file there, with the md5sum the package gives.
	out=$(dpkg --verify "${packages[@]}" 2>&1) || rc=1
	[[ -z $out ]] || { echo "dpkg --verify: $out"; rc=1; }
	return "$rc"
}
step "all four installed at $debversion, every file as packaged" "$work/status.log" installed_as_packaged
in_loader_cache() {
	local out
	out=$(/sbin/ldconfig -p | grep 'libxsk_rs') || true
	echo "$out"
	grep -q "libxsk_rs\.so\.0 .*=> \(/usr\)\?/lib/$ma/libxsk_rs\.so\.0\$" <<<"$out" &&
		grep -q "libxsk_rs-compat\.so\.0 .*=> \(/usr\)\?/lib/$ma/libxsk_rs-compat\.so\.0\$" <<<"$out"
}
step "the ldconfig trigger put both libraries in the loader's cache" "$work/ldconfig.log" in_loader_cache

# ---- C ---------------------------------------------------------------------

modversions() {
	local v cv
	v=$("${clean[@]}" pkg-config --modversion xsk_rs) || return 1
	cv=$("${clean[@]}" pkg-config --modversion xsk_rs-compat) || return 1
	echo "xsk_rs $v, xsk_rs-compat $cv, libdir $("${clean[@]}" pkg-config --variable=libdir xsk_rs)"
	[[ $v == "$upstream" && $cv == "$upstream" ]]
}
step "pkg-config --modversion xsk_rs and xsk_rs-compat are $upstream" "$work/modversion.log" modversions

step "README.md has a C example between the markers" "$work/extract.log" readme_example c "$work/rx_lengths.c"
# As the README says: cc -o rx_lengths rx_lengths.c $(pkg-config --cflags --libs xsk_rs)
build_plain() {
	local out=$1 src=$2 pc=$3 flags
	flags=$("${clean[@]}" pkg-config --cflags --libs "$pc") || return 1
	echo "cc -o $out $src $flags"
	# shellcheck disable=SC2086 # the flags are meant to be split
	"${clean[@]}" cc -o "$out" "$src" $flags
}
[[ -s $work/rx_lengths.c ]] &&
	step "README example builds with plain cc and pkg-config xsk_rs" "$work/build-readme.log" \
		build_plain "$work/rx_lengths" "$work/rx_lengths.c" xsk_rs

# links_system BINARY LIB: LIB.so.0 is in BINARY's NEEDED, there is no rpath,
# and the loader resolves it to /usr/lib/<multiarch> (merged /usr: /lib is
# the same directory).
links_system() {
	local bin=$1 lib=$2 dyn got want
	dyn=$(readelf -d "$bin") || return 1
	grep -E 'NEEDED|R(UN)?PATH' <<<"$dyn"
	grep -q "(NEEDED).*\[$lib\.so\.0\]\$" <<<"$dyn" || { echo "no NEEDED $lib.so.0"; return 1; }
	if grep -qE 'R(UN)?PATH' <<<"$dyn"; then
		echo "an rpath: the packages must be found without one"
		return 1
	fi
	"${clean[@]}" ldd "$bin"
	got=$("${clean[@]}" ldd "$bin" | awk -v l="$lib.so.0" '$1 == l { print $3 }')
	want=/usr/lib/$ma/$lib.so.0
	echo "$lib.so.0 => $got (want $want, the package's)"
	[[ -n $got && $(realpath "$got") == "$(realpath "$want")" ]]
}
[[ -x $work/rx_lengths ]] &&
	step "README example needs libxsk_rs.so.0, found in /usr/lib/$ma" "$work/needed.log" \
		links_system "$work/rx_lengths" libxsk_rs

# peer_send (tests/c) includes the installed header, now the package's.
step "peer_send.c builds" "$work/build-peer.log" \
	build_plain "$work/peer_send" "$repo/tests/c/peer_send.c" xsk_rs

# A program written for libxdp: creates and deletes a UMEM (no interface
# needed) through libxsk_rs-compat, which calls libxsk_rs.
cat >"$work/compat_umem.c" <<-'EOF'
	#include <stdio.h>
	#include <sys/mman.h>
	#include <xdp/xsk.h>

	int main(void)
	{
		struct xsk_ring_prod fill;
		struct xsk_ring_cons comp;
		struct xsk_umem *umem;
		size_t size = 64 * XSK_UMEM__DEFAULT_FRAME_SIZE;
		void *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int rc;

		if (area == MAP_FAILED)
			return 1;
		rc = xsk_umem__create(&umem, area, size, &fill, &comp, NULL);
		if (rc) {
			printf("xsk_umem__create: %d\n", rc);
			return 1;
		}
		printf("umem fd %s, fill ring of %u\n", xsk_umem__fd(umem) >= 0 ? "open" : "missing", fill.size);
		rc = xsk_umem__delete(umem);
		printf("delete %d\n", rc);
		return rc != 0;
	}
EOF
step "a libxdp program builds with plain cc and pkg-config xsk_rs-compat" "$work/build-compat.log" \
	build_plain "$work/compat_umem" "$work/compat_umem.c" xsk_rs-compat
if [[ -x $work/compat_umem ]]; then
	step "it needs libxsk_rs-compat.so.0, found in /usr/lib/$ma" "$work/compat-needed.log" \
		links_system "$work/compat_umem" libxsk_rs-compat
	compat_runs() {
		local out
		out=$("${clean[@]}" "$work/compat_umem") || { echo "$out"; return 1; }
		echo "$out"
		# 2048: XSK_RING_PROD__DEFAULT_NUM_DESCS, the size of a NULL config's ring
		[[ $out == $'umem fd open, fill ring of 2048\ndelete 0' ]]
	}
	step "it creates and deletes a UMEM through libxsk_rs-compat" "$work/compat-run.log" compat_runs
fi

# ---- the README example on veth --------------------------------------------

ns_a="xskrs-deb-$$-a" ns_b="xskrs-deb-$$-b" if_a=veth0 if_b=veth1
pair_up=false
step "veth pair $ns_a/$if_a <-> $ns_b/$if_b" "$work/pair.log" make_pair "$ns_a" "$if_a" "$ns_b" "$if_b" && pair_up=true
# fed_by_peer: at least 3 lines "received 100 bytes" and exit 0; here also
# nothing but those lines, and 4 of them (the example's COUNT), or more if
# one batch brought several.
readme_receives() {
	fed_by_peer "$work/readme.out" "$ns_a" "$work/peer_send" "$ns_b" "$if_b" \
		"${clean[@]}" "$work/rx_lengths" "$if_a" 4 || return 1
	if grep -vqx 'received 100 bytes' "$work/readme.out" || [[ $(printed "$work/readme.out") -lt 4 ]]; then
		echo "expected 4 or more lines 'received 100 bytes' and nothing else"
		return 1
	fi
}
if [[ -x $work/rx_lengths && -x $work/peer_send ]] && $pair_up; then
	step "README example receives peer_send's frames on $if_a" "$work/readme-run.log" readme_receives
	step "no XDP program left on $if_a" "$work/readme-xdp.log" no_xdp_left "$ns_a" "$if_a"
fi

# ---- Python ----------------------------------------------------------------

# py_check VENV: the installed module, imported from outside the repository
# with no XSK_RS_LIB or PYTHONPATH, loads the package's library.
py_check() {
	(cd "$work" && "${clean[@]}" "$1/bin/python" -X dev -W error - "/usr/lib/$ma/libxsk_rs.so.0" "$upstream") <<-'EOF'
		import importlib.metadata, importlib.util, os, sys, sysconfig
		import xsk_rs
		want_lib, want = sys.argv[1:]
		site = sysconfig.get_paths()["purelib"]
		print("module", xsk_rs.__file__, "(site-packages:", site + ")")
		assert os.path.dirname(xsk_rs.__file__) == site, "not the installed module"
		files = sorted(str(f) for f in importlib.metadata.files("xsk_rs") if f.suffix == ".py")
		print("installed modules", files)
		assert files == ["xsk_rs.py"], files
		for t in ("test_xsk_rs", "test_packet"):
		    assert importlib.util.find_spec(t) is None, t + " is importable"
		route = xsk_rs.library()
		print("xsk_rs.library() ->", route)
		assert route == ("find_library", "libxsk_rs.so.0"), route
		with open("/proc/self/maps") as f:
		    mapped = {os.path.realpath(l.split()[-1]) for l in f if "libxsk_rs" in l}
		print("mapped", mapped)
		assert mapped == {os.path.realpath(want_lib)}, mapped
		lib, dist = xsk_rs.version(), importlib.metadata.version("xsk_rs")
		print("xsk_rs.version()", lib, "distribution", dist, "packages", want)
		assert lib == want and dist == want, (lib, dist, want)
	EOF
}

# pip builds in the source directory (build/, *.egg-info): each install takes
# a copy of bindings/python (the test files too, which must not be
# installed), so the checkout stays clean.
py_source() {
	rm -rf "$1" && mkdir -p "$1" &&
		tar -C "$repo/bindings/python" --exclude=./build --exclude='./*.egg-info' --exclude=./__pycache__ -cf - . |
		tar -C "$1" -xf -
}
# pip's default: an isolated build environment, setuptools from PyPI.
py_isolated() {
	local v=$work/venv
	py_source "$work/py-src" && "${clean[@]}" python3 -m venv "$v" || return 1
	"${clean[@]}" "$v/bin/pip" install "$work/py-src"
}
step "pip install ./bindings/python into a fresh venv" "$work/pip.log" py_isolated
[[ -x $work/venv/bin/python ]] &&
	step "the installed module loads /usr/lib/$ma/libxsk_rs.so.0 by itself" "$work/py.log" py_check "$work/venv"

# Offline, without build isolation: Debian's python3 with its own setuptools
# and wheel (the venv sees them through --system-site-packages).
py_offline() {
	local v=$work/venv-debian
	"${clean[@]}" /usr/bin/python3 -m venv --system-site-packages "$v" || return 1
	if ! "${clean[@]}" "$v/bin/python" -c 'import setuptools, wheel; print("setuptools", setuptools.__version__, "wheel", wheel.__version__)'; then
		echo "Debian's python3 needs python3-setuptools and python3-wheel for this"
		return 1
	fi
	py_source "$work/py-src-offline" || return 1
	"${clean[@]}" "$v/bin/pip" install --no-build-isolation --no-index "$work/py-src-offline"
}
step "pip install --no-build-isolation --no-index ./bindings/python, Debian's python3" "$work/pip-offline.log" py_offline
[[ -x $work/venv-debian/bin/python ]] &&
	step "that module loads /usr/lib/$ma/libxsk_rs.so.0 by itself" "$work/py-offline.log" py_check "$work/venv-debian"

# ---- purge -----------------------------------------------------------------

step "dpkg --purge all four" "$work/purge.log" dpkg --purge "${packages[@]}"
none_known() {
	local left
	left=$(our_packages_known)
	dpkg -l 'libxsk-rs*' 2>&1 | sed -n '6,$p'
	[[ -z $left ]] || { echo "still known to dpkg: $left"; return 1; }
}
step "dpkg knows none of the packages" "$work/purged.log" none_known
same_files() {
	snapshot >"$work/files-after"
	echo "$(wc -l <"$work/files-after") paths under /usr and /etc after"
	diff "$work/files-before" "$work/files-after"
}
step "/usr and /etc hold the same paths as before" "$work/files.log" same_files
not_in_cache() {
	if /sbin/ldconfig -p | grep 'libxsk_rs'; then
		return 1
	fi
	echo "ldconfig -p: no libxsk_rs"
}
step "ldconfig -p lists no libxsk_rs" "$work/cache-after.log" not_in_cache
no_pc() { ! "${clean[@]}" pkg-config --exists xsk_rs && ! "${clean[@]}" pkg-config --exists xsk_rs-compat; }
step "pkg-config --exists xsk_rs and xsk_rs-compat fail" "$work/pc-after.log" no_pc

finish
