#!/usr/bin/env bash
# Usage: tests/c/run.sh PREFIX
#
# Builds C and C++ programs against an *installed* libxsk_rs, finding it only
# through PREFIX/lib/pkgconfig/xsk_rs.pc, the way a user's build would, and runs
# them. Minimal for now: proves the header compiles cleanly as C11 and C++17 and
# that dynamic and static linking both work. Every missing tool is an error.
set -euo pipefail

prefix=$(cd "${1:?usage: $0 PREFIX}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
for tool in cc g++ pkg-config valgrind readelf; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cflags=$(pkg-config --cflags xsk_rs)
libs=$(pkg-config --libs xsk_rs)
libdir=$(pkg-config --variable=libdir xsk_rs)
# `-lxsk_rs` would pick the .so when both are installed; a static link names
# the archive and takes the system libraries from Libs.private.
static_libs=()
for flag in $(pkg-config --static --libs xsk_rs); do
    [[ $flag == -lxsk_rs ]] && flag=-l:libxsk_rs.a
    static_libs+=("$flag")
done

warn=(-Wall -Wextra -Werror -pedantic)
# Ties the library's idea of its version to the installed .pc.
version_def=-DXSK_RS_EXPECTED_VERSION=\"$(pkg-config --modversion xsk_rs)\"
passed=0
failed=0
run() {
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

# shellcheck disable=SC2086 # pkg-config output is a list of flags
build_c_dynamic() {
    cc -std=c11 "${warn[@]}" -Wstrict-prototypes $cflags "$version_def" "$here/smoke.c" -o "$out/smoke" \
        $libs -Wl,-rpath,"$libdir"
}
# shellcheck disable=SC2086
build_c_static() {
    cc -std=c11 "${warn[@]}" $cflags "$version_def" "$here/smoke.c" -o "$out/smoke-static" "${static_libs[@]}" &&
        ! readelf -d "$out/smoke-static" | grep -q 'NEEDED.*libxsk_rs'
}
# The header's extern "C" block: a missing one fails here as mangled names.
# shellcheck disable=SC2086
build_cxx() {
    g++ -std=c++17 "${warn[@]}" $cflags -x c++ "$here/smoke.c" -o "$out/smoke-cxx" \
        $libs -Wl,-rpath,"$libdir"
}

run "C11 header, dynamic link" build_c_dynamic
run "C11 header, static link" build_c_static
run "C++17 header, dynamic link" build_cxx
run "smoke (dynamic) under valgrind" \
    valgrind -q --error-exitcode=99 --leak-check=full "$out/smoke"
run "smoke (static)" "$out/smoke-static"
run "smoke (C++)" "$out/smoke-cxx"

echo "c-tests: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
