# shellcheck shell=bash disable=SC2317,SC2154 # step() runs the functions; run.sh sets $work, $bin, $ns_a, ...
# Part of tests/reach/run.sh (sourced): c-examples/xsk_dump.
#
# xsk_dump captures in $ns_b on $if_b while peer_send sends numbered frames
# from $ns_a. Every file is read back with tcpdump (the only reader used, so
# CI needs tcpdump) and checked by pcap_check.py below: the pcap header (ns
# magic, version, snaplen, link type) and every record parsed from the file
# itself, then tcpdump -xx's view of every packet against the bytes peer_send
# sends, exact counts, caplen/len, non-decreasing nanosecond timestamps that
# fall within the run. Then: -d with no traffic, SIGINT and SIGTERM, a snap
# length, -w - (stdout), a full disk (a tiny tmpfs) and /dev/full, and misuse.
# Both skb and drv modes are used, and no XDP program may be left after a run.

command -v tcpdump >/dev/null || fail "tcpdump is not installed (xsk_dump's files are read back with it)"
command -v python3 >/dev/null || fail "python3 is not installed (it checks tcpdump's reading of the files)"

cat >"$work/pcap_check.py" <<'EOF'
"""Checks a pcap file from xsk_dump against what peer_send sent.

usage: pcap_check.py PCAP TCPDUMP_OUT COUNT LEN SNAPLEN T_START T_END

PCAP is parsed directly for the header and record framing; TCPDUMP_OUT is
`tcpdump -r PCAP -nn -tt --nano -xx`, whose packets are compared byte for byte
with peer_send's frames 0..COUNT-1 of LEN bytes, cut to SNAPLEN. T_START and
T_END (seconds since the epoch) bound every timestamp.
"""
import re
import struct
import sys


def frame(seq, length):
    f = bytes([0x02, 0x58, 0x53, 0x4B, 0x00, 0x02, 0x02, 0x58, 0x53, 0x4B, 0x00, 0x01, 0x88, 0xB5])
    f += struct.pack(">I", seq)
    return f + bytes((seq * 131 + i * 7 + 1) & 0xFF for i in range(length - 18))


def main():
    path, dump, count, length, snap = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    t_start, t_end = (int(float(t) * 1e9) for t in sys.argv[6:8])
    errors = []
    data = open(path, "rb").read()
    if len(data) < 24:
        sys.exit(f"{path}: {len(data)} bytes, shorter than a pcap header")
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    if (magic, major, minor, snaplen, linktype) != (0xA1B23C4D, 2, 4, snap, 1):
        errors.append(f"header: magic {magic:#x} version {major}.{minor} snaplen {snaplen} linktype {linktype}, "
                      f"want 0xa1b23c4d 2.4 {snap} 1")
    # The file's own records: whole, lengths consistent.
    recs, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            errors.append(f"record header cut short at offset {off}")
            break
        sec, nsec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        if off + 16 + incl > len(data):
            errors.append(f"record at offset {off} cut short ({incl} bytes announced)")
            break
        if nsec >= 1_000_000_000 or incl > orig or incl > snap:
            errors.append(f"record at offset {off}: nsec {nsec} incl_len {incl} orig_len {orig}")
        recs.append((sec * 1_000_000_000 + nsec, incl, orig))
        off += 16 + incl
    if len(recs) != count:
        errors.append(f"the file holds {len(recs)} records, want {count}")
    want_cap = min(length, snap)
    for i, (ts, incl, orig) in enumerate(recs):
        if (incl, orig) != (want_cap, length):
            errors.append(f"record {i}: incl_len {incl} orig_len {orig}, want {want_cap} {length}")
        if not t_start <= ts <= t_end:
            errors.append(f"record {i}: timestamp {ts} outside the run [{t_start}, {t_end}]")
        if i and ts < recs[i - 1][0]:
            errors.append(f"record {i}: timestamp {ts} before the previous one {recs[i - 1][0]}")

    # tcpdump's reading: "SEC.NSEC ... length L:" then "\t0xOFFS:  hhhh hhhh ..." lines.
    pkts = []
    for line in open(dump):
        m = re.match(r"^(\d+)\.(\d{9}) .*, length (\d+)", line)
        if m:
            pkts.append([int(m[1]) * 1_000_000_000 + int(m[2]), int(m[3]), bytearray()])
            continue
        m = re.match(r"^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4} ?)+)", line)
        if m and pkts:
            pkts[-1][2] += bytes.fromhex(m[1].replace(" ", ""))
    if len(pkts) != count:
        errors.append(f"tcpdump read {len(pkts)} packets, want {count}")
    for i, (ts, wire, got) in enumerate(pkts):
        want = frame(i, length)[:snap]
        if wire != length or bytes(got) != want:
            errors.append(f"tcpdump packet {i}: length {wire}, {len(got)} bytes captured, "
                          f"bytes {'match' if bytes(got) == want else 'DIFFER'}; want length {length}, "
                          f"{len(want)} bytes of frame {i}\n  got  {bytes(got[:32]).hex()}\n  want {want[:32].hex()}")
        if i < len(recs) and ts != recs[i][0]:
            errors.append(f"tcpdump packet {i}: timestamp {ts}, the file says {recs[i][0]}")
    for e in errors[:20]:
        print(e)
    if errors:
        sys.exit(f"{path}: {len(errors)} problems")
    print(f"{path}: {count} packets of {length} bytes (caplen {want_cap}), all bytes right, "
          f"timestamps non-decreasing within the run; the file is {len(data)} bytes, every record whole")


main()
EOF

# dump_read PCAP NAME: tcpdump reads the whole file, with no complaint.
dump_read() {
	local pcap=$1 name=$2
	if ! tcpdump -r "$pcap" -nn -tt --nano -xx >"$work/$name.tcpdump" 2>"$work/$name.tcpdump-err"; then
		echo "tcpdump -r $pcap failed:"
		cat "$work/$name.tcpdump-err"
		return 1
	fi
	# tcpdump reports a cut-short file on stderr ("truncated dump file").
	if grep -Eiv '^reading from file .*snapshot length' "$work/$name.tcpdump-err"; then
		echo "tcpdump complained about $pcap"
		return 1
	fi
}

dump_now() { date +%s.%N; }

# dump_summary_ok ERR COUNT MODE: the summary line names COUNT packets, the
# XDP mode in use (auto settles on skb or drv) and no kernel drops.
dump_summary_ok() {
	local err=$1 count=$2 mode=$3
	[[ $mode == auto ]] && mode='(skb|drv)'
	grep -E "^xsk_dump: captured $count packets .* queue 0 \(XDP mode $mode\) in .* kernel: rx_dropped=0 rx_ring_full=0 rx_invalid_descs=0 .*; no drops$" "$err"
}

# dump_count NAME MODE COUNT SENT LEN [SNAP]: xsk_dump -c COUNT while the peer
# sends SENT frames of LEN bytes; the file must hold exactly frames 0..COUNT-1.
dump_count() {
	local name=$1 mode=$2 count=$3 sent=$4 len=$5 snap=${6:-262144} pcap err t0 t1
	local snap_opt=()
	[[ $snap != 262144 ]] && snap_opt=(-s "$snap")
	pcap=$work/$name.pcap err=$work/$name.err
	t0=$(dump_now)
	burst_into "$ns_b" /dev/null "$err" "$ns_a" "$if_a" "$sent" "$len" \
		"$bin/xsk_dump" -i "$if_b" -m "$mode" -w "$pcap" -c "$count" "${snap_opt[@]}" || return 1
	t1=$(dump_now)
	dump_summary_ok "$err" "$count" "$mode" || { echo "no summary line with $count packets and no drops"; return 1; }
	dump_read "$pcap" "$name" &&
		python3 "$work/pcap_check.py" "$pcap" "$work/$name.tcpdump" "$count" "$len" "$snap" "$t0" "$t1"
}

step "xsk_dump -m skb -c 1000 captures exactly frames 0..999 of 1100 sent, bytes right" "$work/dump-skb.log" \
	dump_count dump-skb skb 1000 1100 100
step "no XDP program left on $if_b after xsk_dump skb" "$work/dump-skb-xdp.log" no_xdp_left "$ns_b" "$if_b"

step "xsk_dump -m drv -c 300 captures 300 frames of 1500 bytes, bytes right" "$work/dump-drv.log" \
	dump_count dump-drv drv 300 300 1500
step "no XDP program left on $if_b after xsk_dump drv" "$work/dump-drv-xdp.log" no_xdp_left "$ns_b" "$if_b"

step "xsk_dump -s 64: 200-byte frames recorded with caplen 64, len 200, first 64 bytes right" \
	"$work/dump-snap.log" dump_count dump-snap skb 50 50 200 64
step "no XDP program left on $if_b after xsk_dump -s 64" "$work/dump-snap-xdp.log" no_xdp_left "$ns_b" "$if_b"

# -d 1 with no traffic: exits by itself after about a second, with a valid,
# empty pcap (a header only).
dump_duration() {
	local pcap=$work/dump-dur.pcap err=$work/dump-dur.err rc=0 t0 t1 ms
	t0=$(dump_now)
	in_ns "$ns_b" timeout 10 "$bin/xsk_dump" -i "$if_b" -m skb -w "$pcap" -d 1 2>"$err" || rc=$?
	t1=$(dump_now)
	ms=$(python3 -c 'import sys; print(int((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$t0" "$t1")
	cat "$err"
	echo "xsk_dump -d 1 ran for $ms ms, exit status $rc"
	[[ $rc -eq 0 ]] || return 1
	((ms >= 1000 && ms < 4000)) || { echo "want 1000..4000 ms"; return 1; }
	dump_summary_ok "$err" 0 skb || return 1
	[[ $(stat -c %s "$pcap") -eq 24 ]] || { echo "want a 24-byte file (header only)"; return 1; }
	dump_read "$pcap" dump-dur &&
		python3 "$work/pcap_check.py" "$pcap" "$work/dump-dur.tcpdump" 0 100 262144 "$t0" "$t1"
}
step "xsk_dump -d 1 without traffic stops by itself with a valid empty pcap" "$work/dump-dur.log" dump_duration
step "no XDP program left on $if_b after xsk_dump -d 1" "$work/dump-dur-xdp.log" no_xdp_left "$ns_b" "$if_b"

# dump_signal NAME SIG MODE COUNT: no -c or -d; the peer sends COUNT frames,
# then SIG stops xsk_dump; the file must hold all COUNT, every record whole.
dump_signal() {
	local name=$1 sig=$2 mode=$3 count=$4 pcap err pid rc t0 t1
	pcap=$work/$name.pcap err=$work/$name.err
	t0=$(dump_now)
	spawn "$ns_b" /dev/null "$err" "$bin/xsk_dump" -i "$if_b" -m "$mode" -w "$pcap"
	pid=$spawned
	wait_ready "$err" "$pid" || { cat "$err"; return 1; }
	ip netns exec "$ns_a" "$bin/peer_send" "$if_a" "$count" 300 || return 1
	sleep 0.5
	kill -s "$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	t1=$(dump_now)
	cat "$err"
	[[ $rc -eq 0 ]] || { echo "xsk_dump exited with $rc after SIG$sig"; return 1; }
	dump_summary_ok "$err" "$count" "$mode" || { echo "no summary line with $count packets and no drops"; return 1; }
	dump_read "$pcap" "$name" &&
		python3 "$work/pcap_check.py" "$pcap" "$work/$name.tcpdump" "$count" 300 262144 "$t0" "$t1"
}
step "SIGINT stops xsk_dump (skb) with all 500 frames whole in the file" "$work/dump-int.log" \
	dump_signal dump-int INT skb 500
step "no XDP program left on $if_b after SIGINT" "$work/dump-int-xdp.log" no_xdp_left "$ns_b" "$if_b"
step "SIGTERM stops xsk_dump (drv) with all 500 frames whole in the file" "$work/dump-term.log" \
	dump_signal dump-term TERM drv 500
step "no XDP program left on $if_b after SIGTERM" "$work/dump-term-xdp.log" no_xdp_left "$ns_b" "$if_b"

# -w -: the pcap goes to stdout.
dump_stdout() {
	local pcap=$work/dump-stdout.pcap err=$work/dump-stdout.err pid rc=0 t0 t1
	t0=$(dump_now)
	spawn "$ns_b" "$pcap" "$err" "$bin/xsk_dump" -i "$if_b" -w - -c 20
	pid=$spawned
	wait_ready "$err" "$pid" || { cat "$err"; return 1; }
	ip netns exec "$ns_a" "$bin/peer_send" "$if_a" 20 1000 || return 1
	wait "$pid" || rc=$?
	t1=$(dump_now)
	cat "$err"
	[[ $rc -eq 0 ]] || return 1
	dump_summary_ok "$err" 20 auto || return 1
	dump_read "$pcap" dump-stdout &&
		python3 "$work/pcap_check.py" "$pcap" "$work/dump-stdout.tcpdump" 20 1000 262144 "$t0" "$t1"
}
step "xsk_dump -w - writes the pcap to stdout" "$work/dump-stdout.log" dump_stdout
step "no XDP program left on $if_b after xsk_dump -w -" "$work/dump-stdout-xdp.log" no_xdp_left "$ns_b" "$if_b"

# A full disk: a 256 KiB tmpfs (in a mount namespace of its own, so nothing
# outlives the test) fills up during the capture; and /dev/full, which fails
# the first write that reaches it. Both must end in exit 1 naming the error.
dump_disk_full() {
	local dir=$work/small err=$work/dump-full.err rc=0
	mkdir -p "$dir"
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=256k xsk_dump_test "$1" || exit 99
		ip netns exec "$2" env LD_LIBRARY_PATH="$3" "$4" -i "$5" -w "$1/full.pcap" -c 1000 2>"$6" &
		for ((i = 0; i < 100; i++)); do grep -qx ready "$6" && break; sleep 0.1; done
		ip netns exec "$7" "$8" "$9" 1000 1500
		wait $!' _ "$dir" "$ns_b" "$libdir" "$bin/xsk_dump" "$if_b" "$err" "$ns_a" "$bin/peer_send" "$if_a" ||
		rc=$?
	cat "$err"
	echo "exit status $rc"
	[[ $rc -eq 1 ]] && grep -q "^xsk_dump: writing $dir/full.pcap: No space left on device$" "$err" &&
		grep -q 'the file is INCOMPLETE (write error)$' "$err"
}
step "a full disk during the capture: exit 1, 'No space left on device'" "$work/dump-full.log" dump_disk_full
step "no XDP program left on $if_b after the full disk" "$work/dump-full-xdp.log" no_xdp_left "$ns_b" "$if_b"

dump_dev_full() {
	local err=$work/dump-devfull.err rc=0
	in_ns "$ns_b" "$bin/xsk_dump" -i "$if_b" -w /dev/full -d 0.3 2>"$err" || rc=$?
	cat "$err"
	echo "exit status $rc"
	[[ $rc -eq 1 ]] && grep -q '^xsk_dump: writing /dev/full: No space left on device$' "$err"
}
step "-w /dev/full: exit 1, 'No space left on device'" "$work/dump-devfull.log" dump_dev_full
step "no XDP program left on $if_b after /dev/full" "$work/dump-devfull-xdp.log" no_xdp_left "$ns_b" "$if_b"

# dump_misuse WANT_RC GREP_ERE ARGS...: exit status WANT_RC, stderr matching GREP_ERE.
dump_misuse() {
	local want=$1 pattern=$2 rc=0
	shift 2
	in_ns "$ns_b" "$bin/xsk_dump" "$@" >"$work/misuse.out" 2>&1 || rc=$?
	cat "$work/misuse.out"
	echo "exit status $rc"
	[[ $rc -eq $want ]] && grep -Eq -e "$pattern" "$work/misuse.out"
}
step "nonexistent interface: exit 1 with the library's message" "$work/dump-noif.log" \
	dump_misuse 1 '^xsk_dump: capturing on nope0 queue 0 \(XDP mode auto\): xsk_rs_socket_create: .*nope0' \
	-i nope0 -w "$work/noif.pcap" -d 1
step "queue out of range: exit 1 with the library's message" "$work/dump-noq.log" \
	dump_misuse 1 'xsk_rs_socket_create: .*queue 7' -i "$if_b" -q 7 -w "$work/noq.pcap" -d 1
step "unwritable path: exit 1 naming the file" "$work/dump-nopath.log" \
	dump_misuse 1 "^xsk_dump: opening $work/no/such/dir/x.pcap: No such file or directory$" \
	-i "$if_b" -w "$work/no/such/dir/x.pcap" -d 1
step "no XDP program left on $if_b after the misuse runs" "$work/dump-misuse-xdp.log" no_xdp_left "$ns_b" "$if_b"
step "bad option: exit 2 with usage" "$work/dump-badopt.log" dump_misuse 2 '^usage: xsk_dump' -i "$if_b" -w x -Z
step "bad mode: exit 2" "$work/dump-badmode.log" dump_misuse 2 '-m takes auto, skb or drv' -i "$if_b" -w x -m fast
step "-c 0: exit 2" "$work/dump-badcount.log" dump_misuse 2 '-c wants a number' -i "$if_b" -w x -c 0
step "-s 70000x: exit 2" "$work/dump-badsnap.log" dump_misuse 2 '-s wants a number' -i "$if_b" -w x -s 70000x
step "-d -1: exit 2" "$work/dump-baddur.log" dump_misuse 2 '-d wants a positive number' -i "$if_b" -w x -d -1
step "no -w: exit 2 with usage" "$work/dump-now.log" dump_misuse 2 '^usage: xsk_dump' -i "$if_b"
step "no -i: exit 2 with usage" "$work/dump-noi.log" dump_misuse 2 '^usage: xsk_dump' -w x
