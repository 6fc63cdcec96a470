# tests/reach/go.sh: the "go" part of tests/reach/run.sh (sourced by it, which
# provides step, in_ns, no_xdp_left, $bin, $work, $libdir, $ns_a/$if_a <->
# $ns_b/$if_b and exports PKG_CONFIG_PATH). Tests the Go package in
# bindings/go against the installed library, found only through pkg-config:
#
#   style    gofmt -l lists nothing; go vet is clean
#   go test  bindings/go/*_test.go as root: its own namespaces and veth
#            pairs, byte-exact RX (skb, drv) and TX against an AF_PACKET peer,
#            exact counters, Close twice, errors (ENODEV, EBUSY, EINVAL,
#            EOPNOTSUPP) with the library's messages, the Desc layout; the
#            packet layer (packet_test.go): a bi echo both ways, Recv/Release
#            frame accounting, ctx cancellation of RX and TX waits, 2000
#            goroutines waiting at once on few OS threads
#   rxdrop   the Go example bindings/go/examples/rxdrop, built into $bin,
#            receives exactly N of peer_send's frames on $if_b (drv busy
#            loop; skb with poll), then no XDP program is left
#   pktrxdrop  the same for the packet layer's bindings/go/examples/pktrxdrop
#            (drv busy loop; skb waiting in WaitRecv)
#
# Offline: the module has no requirements, and run.sh sets GOPROXY=off, so
# nothing is ever downloaded.
# run.sh sets $repo, $work, $bin, $libdir, $ns_a, ... (SC2154).
# shellcheck shell=bash disable=SC2317,SC2154

go_dir=$repo/bindings/go
go_n=1000 # frames per rxdrop run (peer_send bursts them)

# run.sh exports the offline Go settings (GOPROXY=off, GOFLAGS, GOCACHE, ...).
go_env() { env LD_LIBRARY_PATH="$libdir" "$@"; }

go_fmt_clean() {
	local out
	out=$(gofmt -l "$go_dir") || return 1
	if [[ -n $out ]]; then
		echo "not gofmt-clean:"
		echo "$out"
		return 1
	fi
}

go_vet() { (cd "$go_dir" && go_env go vet ./...); }

go_test() { (cd "$go_dir" && go_env go test -count=1 -v ./...); }

go_build_rxdrop() { (cd "$go_dir" && go_env go build -o "$bin/go_$1" "./examples/$1"); }

# go_rxdrop EXAMPLE API TAG XDP ARGS...: the example (rxdrop or pktrxdrop)
# with -n N receives exactly N frames, and its one summary line says so in
# xsk_bench's format, with api=API.
go_rxdrop() {
	local example=$1 api=$2 tag=$3 xdp=$4 out
	shift 4
	out=$work/go-$example-$tag.out
	burst_into "$ns_b" "$out" "$work/go-$example-$tag.err" "$ns_a" "$if_a" "$go_n" 100 \
		timeout 30 "$bin/go_$example" -i "$if_b" -m "$xdp" -n "$go_n" -d 20 "$@" || return 1
	summary_expect "$out" mode=rxdrop ifname="$if_b" queue=0 xdp="${xdp/auto/drv}" bind=copy api="$api" rx_pkts="$go_n" \
		tx_pkts=0 tx_pps=0 rx_invalid_descs=0 tx_invalid_descs=0 || return 1
	if ! grep -Eq '^summary: .* secs=[0-9]+\.[0-9]{3} .* rx_pps=[0-9]+ .* rx_dropped=[0-9]+ .* rx_ring_full=[0-9]+ rx_fill_ring_empty_descs=[0-9]+ tx_ring_empty_descs=[0-9]+$' "$out"; then
		echo "summary line is not in xsk_bench's format"
		return 1
	fi
}

# go_case EXAMPLE API TAG XDP ARGS...
go_case() {
	local example=$1 tag=$3
	step "Go ${*:1}: $go_n frames in" "$work/go-$example-$tag.log" go_rxdrop "$@"
	step "no XDP program left after Go $example $tag" "$work/go-$example-$tag-xdp.log" no_xdp_left "$ns_b" "$if_b"
}

if ! command -v go >/dev/null || ! command -v gofmt >/dev/null; then
	if $in_ci; then
		fail "Go part: no go/gofmt on PATH, and CI=true forbids skipping"
	else
		echo "SKIP: Go part: no go/gofmt on PATH (install golang-go)"
		skipped=$((skipped + 1))
	fi
else
	step "bindings/go: gofmt -l lists nothing" "$work/go-fmt.log" go_fmt_clean
	step "bindings/go: go vet" "$work/go-vet.log" go_vet
	step "bindings/go: go test (veth, root)" "$work/go-test.log" go_test
	step "bindings/go: rxdrop example builds" "$work/go-build.log" go_build_rxdrop rxdrop
	go_case rxdrop batch drv-busy drv
	go_case rxdrop batch skb-poll skb -p -b 16
	step "bindings/go: pktrxdrop example builds" "$work/go-build-pkt.log" go_build_rxdrop pktrxdrop
	go_case pktrxdrop pkt drv-busy drv
	go_case pktrxdrop pkt skb-wait skb -p -b 16
fi
