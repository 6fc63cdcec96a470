# Part of tests/reach/run.sh: c-examples/xsk_reflect, the packet layer's L2
# reflector (a bi socket: recv_batch, alloc + submit, release).
#
#   reflect  xsk_reflect IFNAME 0 N on $if_b, peer_recv -x on $if_a, peer_send
#            N frames of LEN bytes from $ns_a: exactly N frames come back, in
#            order, MACs swapped and every other byte as sent; for 60-byte,
#            1000-byte and 1500-byte frames (peer_send's longest).
#   misuse   no such interface -> 1 and the library's message; bad usage -> 2.
# After every run no XDP program may be left on either end.
# Variables and helpers come from run.sh; functions run through step().
# shellcheck shell=bash disable=SC2317,SC2154

reflect_n=1000

# reflect_case LEN: reflect_n frames of LEN bytes come back swapped.
reflect_case() {
	local len=$1 out err rout rerr pid rpid rc=0 rrc=0
	out=$work/reflect-$len.out err=$work/reflect-$len.err
	rout=$work/reflect-$len.recv.out rerr=$work/reflect-$len.recv.err
	spawn "$ns_b" "$out" "$err" timeout 30 "$bin/xsk_reflect" "$if_b" 0 "$reflect_n"
	pid=$spawned
	wait_ready "$err" "$pid" || return 1
	spawn "$ns_a" "$rout" "$rerr" "$bin/peer_recv" -l "$len" -x -t 20000 -w 300 "$if_a" "$reflect_n"
	rpid=$spawned
	wait_ready "$rerr" "$rpid" || return 1
	in_ns "$ns_a" "$bin/peer_send" "$if_a" "$reflect_n" "$len" || return 1
	wait "$pid" || rc=$?
	wait "$rpid" || rrc=$?
	cat "$out" "$err" "$rout" "$rerr"
	[[ $rc -eq 0 ]] || { echo "xsk_reflect exited with $rc"; return 1; }
	[[ $rrc -eq 0 ]] || { echo "peer_recv exited with $rrc"; return 1; }
	grep -qx "peer_recv: frames=$reflect_n expected=$reflect_n bad=0 extra=0 kernel_drops=0" "$rout"
}

for len in 60 1000 1500; do
	step "xsk_reflect: $reflect_n frames of $len bytes back, MACs swapped, byte-exact" \
		"$work/reflect-$len.log" reflect_case "$len"
	step "no XDP program left after xsk_reflect ($len bytes)" "$work/reflect-$len-xdp.log" no_xdp_on_pair
done

reflect_misuse() {
	local out rc=0
	out=$(in_ns "$ns_b" "$bin/xsk_reflect" xskrs-nosuch0 2>&1) || rc=$?
	echo "no such interface: exit $rc: $out"
	[[ $rc -eq 1 ]] && grep -q 'xsk_reflect: xsk_rs_bisock_create: .*xskrs-nosuch0' <<<"$out" || return 1
	rc=0
	out=$(in_ns "$ns_b" "$bin/xsk_reflect" 2>&1) || rc=$?
	echo "no arguments: exit $rc: $out"
	[[ $rc -eq 2 ]] && grep -q '^usage: ' <<<"$out"
}
step "xsk_reflect: a missing interface is 1 with the library's message, bad usage 2" \
	"$work/reflect-misuse.log" reflect_misuse
step "no XDP program left after the xsk_reflect misuse runs" "$work/reflect-misuse-xdp.log" no_xdp_on_pair
