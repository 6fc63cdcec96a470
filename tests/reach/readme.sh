# Part of tests/reach/run.sh: the README's dlopen, Go and Python snippets,
# taken from between their markers, built against the installed prefix and run
# as a reader would use them; the Go and Python ones receive on the shared
# pair. (The linked C snippet is tests/c/run.sh's.)
# shellcheck shell=bash disable=SC2154 # variables come from run.sh

readme_go_builds() {
	local dir=$work/readme-go
	mkdir -p "$dir"
	readme_example go "$dir/main.go" || return 1
	# The snippet imports the package by its module path; the replace points it
	# at this checkout, so nothing is downloaded.
	cat >"$dir/go.mod" <<-GOMOD
		module readme

		go 1.19

		require xsk_rs/bindings/go v0.0.0

		replace xsk_rs/bindings/go => $repo/bindings/go
	GOMOD
	(cd "$dir" && go build -o "$bin/readme_go" .)
}

step "README Go snippet builds" "$work/readme-go-build.log" readme_go_builds
[[ -x $bin/readme_go ]] &&
	step "README Go snippet receives frames" "$work/readme-go-run.log" \
		fed_by_peer "$work/readme-go.out" "$ns_b" "$bin/peer_send" "$ns_a" "$if_a" "$bin/readme_go" "$if_b"
step "no XDP program left on $if_b after the Go snippet" "$work/readme-go-xdp.log" no_xdp_left "$ns_b" "$if_b"

step "README Python snippet extracts" "$work/readme-py.log" readme_example python "$work/readme.py"
[[ -s $work/readme.py ]] &&
	step "README Python snippet receives frames" "$work/readme-py-run.log" \
		fed_by_peer "$work/readme-py.out" "$ns_b" "$bin/peer_send" "$ns_a" "$if_a" \
		env PYTHONPATH="$repo/bindings/python" python3 -X dev -W error "$work/readme.py" "$if_b"
step "no XDP program left on $if_b after the Python snippet" "$work/readme-py-xdp.log" no_xdp_left "$ns_b" "$if_b"

# The dlopen snippet: compiled with the header's --cflags only, no libxsk_rs
# in NEEDED, and it runs (loads, creates and destroys a UMEM) with the prefix
# on LD_LIBRARY_PATH.
readme_dlopen() {
	local src=$work/readme_dlopen.c exe=$bin/readme_dlopen out
	readme_example dlopen "$src" c || return 1
	# shellcheck disable=SC2046 # pkg-config output is meant to be split
	gcc -std=c11 -Wall -Wextra -Werror -pedantic -O2 $(pkg-config --cflags xsk_rs) "$src" -o "$exe" -ldl || return 1
	if readelf -d "$exe" | grep -F 'libxsk_rs'; then
		echo "the dlopen snippet links libxsk_rs"
		return 1
	fi
	out=$(env LD_LIBRARY_PATH="$libdir" "$exe") || { echo "$out"; return 1; }
	echo "$out"
	[[ $out == "libxsk_rs $(pkg-config --modversion xsk_rs)" ]]
}
step "README dlopen snippet builds without linking and runs" "$work/readme-dlopen.log" readme_dlopen
