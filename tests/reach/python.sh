# tests/reach/python.sh: the "python" part of tests/reach/run.sh (sourced by
# it, which provides step, in_ns, no_xdp_left, $bin, $work, $libdir, $repo and
# the pair $ns_a/$if_a <-> $ns_b/$if_b). Tests bindings/python/xsk_rs.py (ctypes,
# standard library only) against the installed library, with python3 -X dev
# -W error so that warnings, unclosed resources among them, are errors:
#
#   unittest      bindings/python/test_xsk_rs.py, the library given explicitly
#                 (XSK_RS_LIB=$libdir/libxsk_rs.so.0, no LD_LIBRARY_PATH): the
#                 layouts and function table against the installed header; as
#                 root its own namespaces and veth pair: byte-exact RX from and
#                 TX to an AF_PACKET peer, exact counters, errors (ENODEV,
#                 EINVAL, EOPNOTSUPP, EBUSY, EBADF) with the library's messages,
#                 close twice, ResourceWarning for unclosed objects; and
#                 bindings/python/test_packet.py, the packet layer (TxSocket,
#                 RxSocket, BiSocket) on a pair of its own: byte-exact recv,
#                 recv_packed, zero-copy batches and send/send_many both ways,
#                 a BiSocket echoing and its halves on two threads, every frame
#                 accounted for, timeouts honoured (a down interface for TX),
#                 a batch's views unusable after its block and an escaped view
#                 caught
#   find_library  with LD_LIBRARY_PATH=$libdir (and no XSK_RS_LIB),
#                 ctypes.util.find_library finds it (Python 3.11 runs
#                 `ld -t -L<each LD_LIBRARY_PATH dir>`), the module loads it by
#                 that route, and the file mapped is $libdir's; without
#                 LD_LIBRARY_PATH it is not found and the error says how to fix it
#   peer_send     the module receives peer_send's frames (the C sender) on
#                 $if_a: every one byte for byte, in order, no drops; then no
#                 XDP program is left
#   docstring     the example at the top of the module's docstring, taken
#                 from xsk_rs.__doc__ with its "eth0" swapped for $if_a,
#                 receives peer_send's frames and ends by itself
# shellcheck shell=bash disable=SC2317,SC2154 # variables come from run.sh

py_dir=$repo/bindings/python
py=(python3 -B -X dev -W error)
py_n=500 # frames peer_send bursts at the Python receiver

py_unittest() {
	(cd "$py_dir" && env -u LD_LIBRARY_PATH XSK_RS_LIB="$libdir/libxsk_rs.so.0" "${py[@]}" -m unittest -v \
		test_xsk_rs test_packet)
}

py_find_library() {
	env -u XSK_RS_LIB LD_LIBRARY_PATH="$libdir" PYTHONPATH="$py_dir" "${py[@]}" - "$libdir" <<-'EOF'
		import ctypes.util, os, sys
		import xsk_rs
		libdir = sys.argv[1]
		found = ctypes.util.find_library("xsk_rs")
		print("ctypes.util.find_library('xsk_rs') ->", found)
		assert found == "libxsk_rs.so.0", found
		route = xsk_rs.library()
		print("xsk_rs.library() ->", route, "version", xsk_rs.version())
		assert route == ("find_library", "libxsk_rs.so.0"), route
		with open("/proc/self/maps") as f:
		    mapped = {os.path.realpath(l.split()[-1]) for l in f if "libxsk_rs.so" in l}
		print("mapped:", mapped)
		assert mapped == {os.path.realpath(os.path.join(libdir, "libxsk_rs.so.0"))}, mapped
	EOF
}

py_not_found() {
	local out rc=0
	if /sbin/ldconfig -p | grep -q 'libxsk_rs\.so'; then
		echo "libxsk_rs is installed system-wide, so this check cannot show the not-found error:"
		/sbin/ldconfig -p | grep 'libxsk_rs\.so'
		return 1
	fi
	out=$(env -u LD_LIBRARY_PATH -u XSK_RS_LIB PYTHONPATH="$py_dir" "${py[@]}" -c '
import ctypes.util, xsk_rs
print("find_library without LD_LIBRARY_PATH ->", ctypes.util.find_library("xsk_rs"))
xsk_rs.version()' 2>&1) || rc=$?
	echo "exit status $rc; output:"
	echo "$out"
	[[ $rc -ne 0 ]] &&
		grep -q "find_library without LD_LIBRARY_PATH -> None" <<<"$out" &&
		grep -q "FileNotFoundError: .*libxsk_rs not found.*To fix: set XSK_RS_LIB=" <<<"$out"
}

# The receiver: byte-exact check of each frame against peer_send's layout.
py_rx_script() {
	cat >"$work/py_rx.py" <<-'EOF'
		import struct, sys, time
		import xsk_rs
		ifname, count, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		hdr = bytes.fromhex("02 58 53 4b 00 02 02 58 53 4b 00 01 88 b5")
		def want(seq):
		    return hdr + struct.pack(">I", seq) + bytes((seq * 131 + i * 7 + 1) & 0xFF for i in range(length - 18))
		got, bad = 0, 0
		with xsk_rs.Umem() as umem, xsk_rs.Socket(ifname, 0, umem) as sock:
		    print("route", xsk_rs.library(), file=sys.stderr)
		    umem.fill(range(0, 2048 * umem.frame_size, umem.frame_size))
		    print("ready", file=sys.stderr, flush=True)
		    deadline = time.monotonic() + 10
		    while got < count and time.monotonic() < deadline:
		        batch = sock.receive(64)
		        if not batch:
		            sock.poll(xsk_rs.POLLIN, 100)
		            continue
		        for addr, n in batch:
		            if umem.read(addr, n) != want(got):
		                bad += 1
		                print("frame %d differs: %s" % (got, umem.read(addr, n)[:24].hex()))
		            got += 1
		        umem.fill([addr - addr % umem.frame_size for addr, _ in batch])
		    time.sleep(0.2)
		    extra = len(sock.receive(64))
		    st = sock.stats()
		print("received %d frames (%d differ, %d extra) %s" % (got, bad, extra, st))
		sys.exit(0 if (got, bad, extra) == (count, 0, 0) and st.rx_dropped == 0 and st.rx_ring_full == 0 else 1)
	EOF
}

py_peer_send_rx() {
	local len=$1 out=$work/py-rx-$1.out
	py_rx_script
	burst_into "$ns_a" "$out" "$out" "$ns_b" "$if_b" "$py_n" "$len" \
		env PYTHONPATH="$py_dir" timeout 30 "${py[@]}" "$work/py_rx.py" "$if_a" "$py_n" "$len" &&
		grep -q "^received $py_n frames (0 differ, 0 extra)" "$out"
}

# The docstring's example: the indented block after the summary line, up to
# the first line that is not indented. It names "eth0" exactly once.
py_doc_example_extract() {
	env PYTHONPATH="$py_dir" "${py[@]}" - "$if_a" >"$work/py_doc_example.py" <<-'EOF'
		import sys, textwrap
		import xsk_rs
		lines = xsk_rs.__doc__.split("\n")[2:]
		end = next(i for i, l in enumerate(lines) if l and not l.startswith(" "))
		code = textwrap.dedent("\n".join(lines[:end]))
		assert code.count('"eth0"') == 1, code
		print(code.replace('"eth0"', repr(sys.argv[1])))
	EOF
	cat "$work/py_doc_example.py"
	grep -q 'xsk_rs.Socket(' "$work/py_doc_example.py"
}

# The example runs until a second passes without a packet: peer_send sends
# one 100-byte frame every 100 ms until it has printed three of them (stdout
# unbuffered), then stops, and the example must exit 0 by itself.
py_doc_example_run() {
	FED_UNTIL=3 fed_by_peer "$work/py-doc.out" "$ns_a" "$bin/peer_send" "$ns_b" "$if_b" \
		env PYTHONPATH="$py_dir" "${py[@]}" -u "$work/py_doc_example.py"
}

step "python: unittest, library from XSK_RS_LIB=$libdir/libxsk_rs.so.0" "$work/py-unittest.log" py_unittest
step "python: find_library finds $libdir through LD_LIBRARY_PATH" "$work/py-find.log" py_find_library
step "python: without a route the import error says how to fix it" "$work/py-notfound.log" py_not_found
step "python: receives $py_n peer_send frames of 60 bytes on $if_a, byte-exact" "$work/py-rx60.log" \
	py_peer_send_rx 60
step "python: receives $py_n peer_send frames of 1500 bytes on $if_a, byte-exact" "$work/py-rx1500.log" \
	py_peer_send_rx 1500
step "python: the module docstring's example extracts" "$work/py-doc-extract.log" py_doc_example_extract
[[ -s $work/py_doc_example.py ]] &&
	step "python: the module docstring's example receives frames on $if_a" "$work/py-doc-run.log" py_doc_example_run
step "python: no XDP program left on $if_a" "$work/py-xdp.log" no_xdp_left "$ns_a" "$if_a"
