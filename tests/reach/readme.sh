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

# readme_runs NAME CMD...: CMD (the snippet) receives on if_b while the peer
# sends one 100-byte frame every 100 ms; it must exit 0 and report 3 frames.
readme_runs() {
	local out=$work/$1.out pid rc sent=0
	shift
	spawn "$ns_b" "$out" "$out" timeout 20 "$@" "$if_b"
	pid=$spawned
	while kill -0 "$pid" 2>/dev/null && [[ $sent -lt 100 ]]; do
		ip netns exec "$ns_a" "$bin/peer_send" "$if_a" 1 100 || true
		sent=$((sent + 1))
		sleep 0.1
	done
	rc=0
	wait "$pid" || rc=$?
	echo "exit status $rc after the peer sent $sent frames; output:"
	cat "$out"
	[[ $rc -eq 0 ]] && [[ $(grep -cx 'received 100 bytes' "$out") -ge 3 ]]
}

step "README Go snippet builds" "$work/readme-go-build.log" readme_go_builds
[[ -x $bin/readme_go ]] &&
	step "README Go snippet receives frames" "$work/readme-go-run.log" readme_runs readme-go "$bin/readme_go"
step "no XDP program left on $if_b after the Go snippet" "$work/readme-go-xdp.log" no_xdp_left "$ns_b" "$if_b"

step "README Python snippet extracts" "$work/readme-py.log" readme_example python "$work/readme.py"
[[ -s $work/readme.py ]] &&
	step "README Python snippet receives frames" "$work/readme-py-run.log" readme_runs readme-py \
		env PYTHONPATH="$repo/bindings/python" python3 -X dev -W error "$work/readme.py"
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
