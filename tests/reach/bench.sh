# tests/reach/bench.sh: the "bench" part of tests/reach/run.sh (sourced by it,
# which provides step, in_ns, no_xdp_left, $bin, $work, $ns_a/$if_a <->
# $ns_b/$if_b). Tests c-examples/xsk_bench with real packets and exact counts:
#
#   rxdrop  xsk_bench rxdrop -n N on $if_b, peer_send N frames from $ns_a:
#           the summary must say rx_pkts=N. A matrix that runs every value of
#           -a (desc, batch), -m (skb, drv, auto), poll/busy, need_wakeup on/off
#           at least once, plus -c, -f 2048, -b, -q.
#   txonly  xsk_bench txonly -n N -s LEN on $if_a, peer_recv on $if_b: exactly
#           N frames of LEN bytes, sequence 0..N-1 in order, xsk_bench's fixed
#           payload, nothing extra; both API paths, and -B 32 (the kernel's
#           own TX budget) next to the library's default.
#   l2fwd   xsk_bench l2fwd -n N on $if_b, peer_send N frames from $ns_a,
#           peer_recv on $if_a: N frames back with the MACs swapped and every
#           other byte as sent; both API paths.
#   output  the per-second stats line carries all its keys with numbers; the
#           summary line carries every key; SIGINT and SIGTERM end a run with
#           a summary and exit 0.
#   misuse  no such interface -> 1 and the library's message; -z on veth -> 1;
#           bad options -> 2.
# After every run that may attach XDP, no program may be left on either end.
# run.sh builds tests/c/peer_recv.c (and peer_send.c) into $bin.
# Variables and helpers come from run.sh; functions run through step().
# shellcheck shell=bash disable=SC2317,SC2154

bench_n=1000	 # frames per rxdrop/l2fwd case (peer_send bursts them)
bench_tx_n=5000 # frames per txonly case

# bench_rxdrop TAG XDP API ARGS...: rxdrop -n N receives exactly N of
# peer_send's frames.
bench_rxdrop() {
	local tag=$1 xdp=$2 api=$3 out
	shift 3
	out=$work/bench-$tag.out
	burst_into "$ns_b" "$out" "$work/bench-$tag.err" "$ns_a" "$if_a" "$bench_n" 100 \
		timeout 30 "$bin/xsk_bench" rxdrop -i "$if_b" -m "$xdp" -a "$api" -n "$bench_n" -d 20 "$@" || return 1
	# The summary names the mode in effect: auto settles on drv (veth has native XDP).
	summary_expect "$out" mode=rxdrop ifname="$if_b" xdp="${xdp/auto/drv}" bind=copy api="$api" \
		rx_pkts="$bench_n" tx_pkts=0 rx_invalid_descs=0
}

bench_rxdrop_case() {
	local tag=$1
	step "xsk_bench rxdrop $*: $bench_n frames in" "$work/bench-$tag.log" bench_rxdrop "$@"
	step "no XDP program left after rxdrop $tag" "$work/bench-$tag-xdp.log" no_xdp_on_pair
}
bench_rxdrop_case batch-skb-busy skb batch
bench_rxdrop_case desc-skb-poll-nowakeup skb desc -p -W
bench_rxdrop_case batch-drv-poll drv batch -p
bench_rxdrop_case desc-drv-busy-nowakeup drv desc -W
bench_rxdrop_case desc-auto-copy-2048 auto desc -c -f 2048 -b 16 -q 0
bench_rxdrop_case batch-auto-batch1 auto batch -b 1

# peer_ok RC RRC ROUT N: xsk_bench (RC) and peer_recv (RRC) exited 0, and
# peer_recv's result line (in ROUT) says exactly N frames, all as expected.
peer_ok() {
	local rc=$1 rrc=$2 rout=$3 n=$4
	[[ $rc -eq 0 ]] || { echo "xsk_bench exited with $rc"; return 1; }
	[[ $rrc -eq 0 ]] || { echo "peer_recv exited with $rrc"; return 1; }
	grep -qx "peer_recv: frames=$n expected=$n bad=0 extra=0 kernel_drops=0" "$rout" ||
		{ echo "peer_recv's result line is not the expected one"; return 1; }
}

# bench_txonly TAG LEN API ARGS...: peer_recv gets exactly N frames of LEN
# bytes, in order, with xsk_bench's payload.
bench_txonly() {
	local tag=$1 len=$2 api=$3 out err rout rerr rpid rc=0 rrc=0
	shift 3
	out=$work/bench-$tag.out err=$work/bench-$tag.err
	rout=$work/bench-$tag.recv.out rerr=$work/bench-$tag.recv.err
	spawn "$ns_b" "$rout" "$rerr" "$bin/peer_recv" -l "$len" -p fixed -t 20000 -w 300 "$if_b" "$bench_tx_n"
	rpid=$spawned
	wait_ready "$rerr" "$rpid" || return 1
	in_ns "$ns_a" timeout 30 "$bin/xsk_bench" txonly -i "$if_a" -a "$api" -n "$bench_tx_n" -s "$len" \
		-d 20 "$@" >"$out" 2>"$err" || rc=$?
	wait "$rpid" || rrc=$?
	cat "$out" "$err" "$rout" "$rerr"
	peer_ok "$rc" "$rrc" "$rout" "$bench_tx_n" || return 1
	summary_expect "$out" mode=txonly ifname="$if_a" xdp=none bind=copy api="$api" \
		rx_pkts=0 tx_pkts="$bench_tx_n" tx_invalid_descs=0
}

bench_txonly_case() {
	local tag=$1
	step "xsk_bench txonly $*: $bench_tx_n frames out, byte-exact" "$work/bench-$tag.log" bench_txonly "$@"
	step "no XDP program left after txonly $tag" "$work/bench-$tag-xdp.log" no_xdp_on_pair
}
bench_txonly_case batch-60 60 batch
bench_txonly_case desc-1514-poll 1514 desc -p -f 2048
bench_txonly_case batch-64-nowakeup-poll 64 batch -W -p -b 256
bench_txonly_case desc-200-nowakeup 200 desc -W -b 7
bench_txonly_case batch-64-budget32 64 batch -b 256 -B 32

# bench_l2fwd TAG XDP API ARGS...: N frames from peer_send come back with
# their MACs swapped and nothing else changed.
bench_l2fwd() {
	local tag=$1 xdp=$2 api=$3 out err rout rerr pid rpid rc=0 rrc=0
	shift 3
	out=$work/bench-$tag.out err=$work/bench-$tag.err
	rout=$work/bench-$tag.recv.out rerr=$work/bench-$tag.recv.err
	spawn "$ns_b" "$out" "$err" timeout 30 "$bin/xsk_bench" l2fwd -i "$if_b" -m "$xdp" -a "$api" \
		-n "$bench_n" -d 20 "$@"
	pid=$spawned
	wait_ready "$err" "$pid" || return 1
	spawn "$ns_a" "$rout" "$rerr" "$bin/peer_recv" -l 100 -x -t 20000 -w 300 "$if_a" "$bench_n"
	rpid=$spawned
	wait_ready "$rerr" "$rpid" || return 1
	in_ns "$ns_a" "$bin/peer_send" "$if_a" "$bench_n" 100 || return 1
	wait "$pid" || rc=$?
	wait "$rpid" || rrc=$?
	cat "$out" "$err" "$rout" "$rerr"
	peer_ok "$rc" "$rrc" "$rout" "$bench_n" || return 1
	summary_expect "$out" mode=l2fwd ifname="$if_b" xdp="${xdp/auto/drv}" bind=copy api="$api" \
		rx_pkts="$bench_n" tx_pkts="$bench_n" tx_invalid_descs=0 rx_invalid_descs=0
}

bench_l2fwd_case() {
	local tag=$1
	step "xsk_bench l2fwd $*: $bench_n frames back, MACs swapped" "$work/bench-$tag.log" bench_l2fwd "$@"
	step "no XDP program left after l2fwd $tag" "$work/bench-$tag-xdp.log" no_xdp_on_pair
}
bench_l2fwd_case batch-drv drv batch
bench_l2fwd_case desc-skb skb desc
bench_l2fwd_case desc-drv-poll-nowakeup drv desc -p -W -b 32
bench_l2fwd_case batch-skb-poll skb batch -p -f 2048

# bench_output: a 2 s run with a trickle of traffic. Every stats line and the
# summary carry all their keys, with numbers; the run lasts about 2 s.
bench_output() {
	local out=$work/bench-output.out err=$work/bench-output.err pid rc=0 line key n
	local stats_keys=(t rx_pps tx_pps rx_pkts tx_pkts rx_dropped rx_invalid_descs tx_invalid_descs
		rx_ring_full rx_fill_ring_empty_descs tx_ring_empty_descs)
	local sum_num=(queue rx_pkts tx_pkts rx_pps tx_pps rx_dropped rx_invalid_descs tx_invalid_descs
		rx_ring_full rx_fill_ring_empty_descs tx_ring_empty_descs)
	spawn "$ns_b" "$out" "$err" timeout 30 "$bin/xsk_bench" rxdrop -i "$if_b" -d 2
	pid=$spawned
	wait_ready "$err" "$pid" || return 1
	in_ns "$ns_a" "$bin/peer_send" "$if_a" 20 100 50 || return 1
	wait "$pid" || rc=$?
	cat "$out" "$err"
	[[ $rc -eq 0 ]] || { echo "xsk_bench exited with $rc"; return 1; }
	n=$(grep -c '^stats: ' "$out") || true
	[[ $n -ge 1 ]] || { echo "no stats: line in a 2 s run"; return 1; }
	while read -r line; do
		for key in "${stats_keys[@]}"; do
			[[ $line =~ (^|\ )$key=[0-9]+(\.[0-9]+)?(\ |$) ]] ||
				{ echo "stats line without a numeric $key: $line"; return 1; }
		done
	done < <(grep '^stats: ' "$out")
	summary_expect "$out" mode=rxdrop ifname="$if_b" xdp=drv bind=copy api=batch rx_pkts=20 tx_pkts=0 ||
		return 1
	for key in "${sum_num[@]}"; do
		[[ $(summary_field "$out" "$key") =~ ^[0-9]+$ ]] || { echo "summary: $key is not a number"; return 1; }
	done
	[[ $(summary_field "$out" secs) =~ ^[0-9]+\.[0-9]{3}$ ]] || { echo "summary: secs is not S.mmm"; return 1; }
	# -d 2 ends the run after 2 s (and not much more).
	awk -v s="$(summary_field "$out" secs)" 'BEGIN { exit !(s >= 2.0 && s < 3.0) }' ||
		{ echo "summary: secs is not about 2"; return 1; }
}
step "xsk_bench output: stats lines and summary parse, -d 2 lasts 2 s" "$work/bench-output.log" bench_output
step "no XDP program left after the output run" "$work/bench-output-xdp.log" no_xdp_on_pair

# bench_signal SIG MODE IF NS ARGS...: a run without -n or -d ends on SIG with
# its summary and exit 0. No timeout(1) wrapper here: the signal must reach
# xsk_bench itself, and a background job's SIGINT would be ignored by a
# wrapper. A watchdog kills it after 10 s instead.
bench_signal() {
	local sig=$1 mode=$2 ifname=$3 ns=$4 out=$work/bench-signal.out err=$work/bench-signal.err pid rc=0 i
	shift 4
	spawn "$ns" "$out" "$err" "$bin/xsk_bench" "$mode" -i "$ifname" "$@"
	pid=$spawned
	wait_ready "$err" "$pid" || return 1
	[[ $mode == txonly ]] || in_ns "$ns_a" "$bin/peer_send" "$if_a" 7 100 || return 1
	sleep 0.3
	kill "-$sig" "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		echo "xsk_bench still running 10 s after SIG$sig"
	fi
	wait "$pid" || rc=$?
	cat "$out" "$err"
	[[ $rc -eq 0 ]] || { echo "xsk_bench exited with $rc after SIG$sig"; return 1; }
	if [[ $mode == txonly ]]; then
		# Everything it sent completed; how much that was, only it knows.
		summary_expect "$out" mode=txonly rx_pkts=0 && [[ $(summary_field "$out" tx_pkts) -gt 0 ]]
	else
		summary_expect "$out" mode="$mode" rx_pkts=7 tx_pkts=7
	fi
}
step "xsk_bench l2fwd ends on SIGINT with a summary" "$work/bench-sigint.log" \
	bench_signal INT l2fwd "$if_b" "$ns_b" -a desc
step "no XDP program left after SIGINT" "$work/bench-sigint-xdp.log" no_xdp_on_pair
step "xsk_bench txonly ends on SIGTERM with a summary, all sent frames completed" "$work/bench-sigterm.log" \
	bench_signal TERM txonly "$if_a" "$ns_a"
step "no XDP program left after SIGTERM" "$work/bench-sigterm-xdp.log" no_xdp_on_pair

# bench_status WANT NEEDLE ARGS...: xsk_bench ARGS (in $ns_b) exits with WANT
# and says NEEDLE (a fixed string; empty: anything) on stderr.
bench_status() {
	local want=$1 needle=$2 rc=0
	shift 2
	in_ns "$ns_b" timeout 30 "$bin/xsk_bench" "$@" >"$work/bench-status.out" 2>"$work/bench-status.err" ||
		rc=$?
	cat "$work/bench-status.out" "$work/bench-status.err"
	[[ $rc -eq $want ]] || { echo "exit status $rc, expected $want"; return 1; }
	if [[ -n $needle ]] && ! grep -qF -- "$needle" "$work/bench-status.err"; then
		echo "stderr does not say: $needle"
		return 1
	fi
	[[ $want -ne 2 ]] || ! grep -q '^summary: ' "$work/bench-status.out" || { echo "a summary after bad usage"; return 1; }
}
step "xsk_bench on a missing interface: exit 1, the library's message" "$work/bench-nodev.log" \
	bench_status 1 "xsk_rs_socket_create: interface nosuch0: no such device" rxdrop -i nosuch0 -n 1
step "xsk_bench -z on veth: exit 1, says zero-copy is unsupported" "$work/bench-zc.log" \
	bench_status 1 "does not support zero-copy" rxdrop -i "$if_b" -z -n 1
step "no XDP program left after the refused -z" "$work/bench-zc-xdp.log" no_xdp_on_pair
step "xsk_bench txonly -z on veth: exit 1" "$work/bench-zc-tx.log" \
	bench_status 1 "does not support zero-copy" txonly -i "$if_b" -z -n 1
step "xsk_bench with an unknown option: exit 2" "$work/bench-badopt.log" \
	bench_status 2 "bad option" rxdrop -i "$if_b" -X
step "xsk_bench with an unknown mode: exit 2" "$work/bench-badmode.log" \
	bench_status 2 "mode must be" rxfoo -i "$if_b"
step "xsk_bench without -i: exit 2" "$work/bench-noif.log" bench_status 2 "-i IFNAME is required" rxdrop
step "xsk_bench -c -z: exit 2" "$work/bench-cz.log" bench_status 2 "exclude each other" rxdrop -i "$if_b" -c -z
step "xsk_bench -s 59: exit 2" "$work/bench-s59.log" bench_status 2 "-s takes" txonly -i "$if_b" -s 59
step "xsk_bench -s beyond -f: exit 2" "$work/bench-sbig.log" \
	bench_status 2 "must not exceed the frame size" txonly -i "$if_b" -f 2048 -s 3000
step "xsk_bench -b 0: exit 2" "$work/bench-b0.log" bench_status 2 "-b takes" rxdrop -i "$if_b" -b 0
step "xsk_bench -B 31: exit 2" "$work/bench-B31.log" bench_status 2 "-B takes" txonly -i "$if_b" -B 31
step "xsk_bench -B 2049: exit 2" "$work/bench-B2049.log" bench_status 2 "-B takes" txonly -i "$if_b" -B 2049
step "xsk_bench -h: exit 0 with the usage" "$work/bench-help.log" bench_status 0 "usage:" -h
step "no XDP program left after the misuse runs" "$work/bench-misuse-xdp.log" no_xdp_on_pair
