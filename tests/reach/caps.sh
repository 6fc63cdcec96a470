# shellcheck shell=bash disable=SC2317,SC2154 # step() runs the functions; run.sh sets $work, $bin, $ns_a, ...
# Part of tests/reach/run.sh (sourced): c-examples/xsk_caps.
#
# xsk_caps on the shared pair, its lines checked against `ip -d link show`:
# the MTU and queue counts, no program; then, with xsk_dump holding the
# library's program on $if_b in skb and in drv mode, the program's mode, id
# and name as ip shows them, and veth's xdp-features on the peer ($if_a),
# which gains ndo-xmit only while $if_b runs native XDP. Then a missing
# interface fails with the library's message.

# caps_line OUT KEY: the rest of xsk_caps's line that starts with KEY.
caps_line() { sed -n "s/^$2  *//p" "$1" | head -n 1; }

caps_plain() {
	local out=$work/caps-plain.out ipout mtu
	in_ns "$ns_b" "$bin/xsk_caps" "$if_b" >"$out" || return 1
	cat "$out"
	ipout=$(ip -n "$ns_b" -d link show dev "$if_b")
	mtu=$(grep -oE ' mtu [0-9]+' <<<"$ipout" | awk '{ print $2 }')
	[[ $(caps_line "$out" mtu) == "$mtu (frames up to $((mtu + 18)) bytes)" ]] || { echo "mtu: ip says $mtu"; return 1; }
	[[ $(caps_line "$out" queues) == "rx 1 tx 1 (max $(grep -oE 'numrxqueues [0-9]+' <<<"$ipout" | awk '{ print $2 }'))" ]] ||
		{ echo "queues differ from ip's"; return 1; }
	[[ $(caps_line "$out" "xdp attached") == none ]] || return 1
	! grep -q '^xdp prog' "$out" || return 1
	# This kernel's veth: no zero-copy, whatever else it has.
	if [[ $(caps_line "$out" xdp-features) != unknown* ]]; then
		[[ $(caps_line "$out" xdp-features) == "basic redirect rx-sg" ]] || return 1
	fi
}

caps_attached() {
	local mode=$1
	local out=$work/caps-$mode.out peer=$work/caps-$mode-peer.out err=$work/caps-$mode-dump.err pid id name rc=0
	spawn "$ns_b" /dev/null "$err" "$bin/xsk_dump" -i "$if_b" -m "$mode" -w /dev/null -d 10
	pid=$spawned
	wait_ready "$err" "$pid" || return 1
	in_ns "$ns_b" "$bin/xsk_caps" "$if_b" >"$out" || rc=1
	in_ns "$ns_a" "$bin/xsk_caps" "$if_a" >"$peer" || rc=1
	read -r id name < <(ip -n "$ns_b" -d link show dev "$if_b" | grep -oE 'prog/xdp id [0-9]+ name [^ ]+' | awk '{ print $3, $5 }')
	kill -INT "$pid"
	wait "$pid" || true
	cat "$out" "$peer"
	[[ $rc -eq 0 ]] || return 1
	echo "ip: id $id name $name"
	[[ $(caps_line "$out" "xdp attached") == "$mode" ]] || return 1
	[[ $(caps_line "$out" "xdp prog $mode") == "id $id name $name (xsk_rs built-in)" && $name == xsk_rs_redirect ]] || return 1
	if [[ $(caps_line "$peer" xdp-features) != unknown* ]]; then
		if [[ $mode == drv ]]; then
			[[ $(caps_line "$peer" xdp-features) == "basic redirect ndo-xmit rx-sg ndo-xmit-sg" ]] || return 1
		else
			[[ $(caps_line "$peer" xdp-features) == "basic redirect rx-sg" ]] || return 1
		fi
	fi
	if [[ $(caps_line "$out" "napi instances") != "" ]]; then
		# veth runs one NAPI per RX queue in drv mode, none in skb mode.
		[[ $(caps_line "$out" "napi instances" | awk '{ print $1 }') == "$([[ $mode == drv ]] && echo 1 || echo 0)" ]] || return 1
	fi
}

caps_missing() {
	local out=$work/caps-missing.out rc=0
	in_ns "$ns_b" "$bin/xsk_caps" xskrs-nonexist >"$out" 2>&1 || rc=$?
	cat "$out"
	[[ $rc -eq 1 ]] && grep -q '^xsk_caps: xsk_rs_netdev_query: interface xskrs-nonexist: no such device' "$out"
}

step "xsk_caps: MTU, queues and no program as ip -d link shows them" "$work/caps-plain.log" caps_plain
for mode in skb drv; do
	step "xsk_caps ($mode): the program's id and name as ip shows them, the peer's xdp-features" \
		"$work/caps-$mode.log" caps_attached "$mode"
	step "no XDP program left after xsk_caps ($mode)" "$work/caps-$mode-xdp.log" no_xdp_on_pair
done
step "xsk_caps: a missing interface fails with the library's message" "$work/caps-missing.log" caps_missing
