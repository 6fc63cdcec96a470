"""Tests of the xsk_rs Python module's packet layer (TxSocket, RxSocket,
BiSocket) against an installed libxsk_rs, run like test_xsk_rs:

    XSK_RS_LIB=PREFIX/lib/libxsk_rs.so.0 python3 -X dev -W error -m unittest -v test_packet

They need root: two network namespaces joined by a veth pair made for this
run (test_xsk_rs.VethPair), the sockets made inside one by setns(), an
AF_PACKET peer in the other. Packets go both ways byte for byte and in order
(recv, recv_packed, batch, send, send_many, a BiSocket echoing and its halves
on two threads), the frames are all accounted for afterwards, timeouts are honoured
in both directions, a batch's memoryviews are unusable after its block (and a
view that escapes it is caught), and errors carry the library's message.
JumboTests does the same with 9000-byte packets (multi_buffer=True) on a
pair with MTU 9000: recv gathers them, recv_segments shows their frames,
send sends them as chains.
Without root they are skipped with a reason, except under CI=true.
"""

import array
import ctypes
import errno
import gc
import os
import pickle
import select
import socket
import sys
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xsk_rs  # noqa: E402
from test_xsk_rs import VethPair, WAIT_S, test_frame, ip  # noqa: E402

# Lengths from the shortest Ethernet frame to a full 1500-byte MTU.
LENGTHS = [60, 61, 64, 100, 128, 255, 512, 1000, 1499, 1514]
# Slack on top of a timeout before a wait counts as too long (a shared CI
# machine can stall a thread for a while).
SLACK_S = 1.0
SO_RCVBUFFORCE = 33


class PacketTests(VethPair):
    tag = "p"

    def make(self, cls, **config):
        """A TxSocket, RxSocket or BiSocket on if_a queue 0, made in ns_a."""
        with self.netns(self.ns_a):
            return cls(self.if_a, 0, **config)

    def recv_all(self, rx, count, max=64):
        """Up to count packets from rx through batch(), as bytes."""
        got, deadline = [], time.monotonic() + WAIT_S
        while len(got) < count and time.monotonic() < deadline:
            with rx.batch(max, timeout=0.1) as pkts:
                got += [bytes(mv) for mv in pkts]
        return got

    def peer(self):
        """VethPair's AF_PACKET peer on if_b, with room for the bursts here
        (it also sees its own and other peers' outgoing frames)."""
        s = super().peer()
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        return s

    def send_paced(self, peer, frames, received, ahead, deadline):
        """Sends frames from peer, at most ahead of them beyond len(received)
        (which another thread extends), so that none finds the fill ring empty."""
        for i, frame in enumerate(frames):
            while i - len(received) >= ahead and time.monotonic() < deadline:
                time.sleep(0.001)
            peer.send(frame)

    def assert_rx_frames(self, rx):
        """Every frame of rx is lent to the kernel again."""
        self.assertEqual((rx.free_frames, rx.held_frames, rx.in_flight_frames), (0, 0, rx.total_frames))

    def assert_quiet(self, rx=None, peer=None):
        """Nothing further arrives at either end within 200 ms."""
        time.sleep(0.2)
        if rx is not None:
            self.assertIsNone(rx.recv(), "an unexpected frame reached the XDP socket")
        if peer is not None:
            self.assertEqual(self.peer_recv_for(peer, 0.05), [], "unexpected frames reached the peer")

    def peer_recv_for(self, peer, secs):
        end, got = time.monotonic() + secs, []
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got
            got += self.peer_recv_timeout(peer, left)

    def peer_recv_timeout(self, peer, secs):
        peer.settimeout(secs)
        try:
            data, addr = peer.recvfrom(4096)
        except socket.timeout:
            return []
        return [data] if addr[2] != 4 and data[12:14] == b"\x88\xb5" else []

    # ---- receiving ----

    def test_recv_copies_each_packet(self):
        want = [test_frame(seq, n) for seq, n in enumerate(LENGTHS * 3)]
        rx = self.make(xsk_rs.RxSocket, rx_frames=64)
        with rx, self.peer() as peer:
            self.assertTrue(self.xdp_on(self.ns_a, self.if_a), "the RX half attached no XDP program")
            self.assertEqual(rx.xdp_mode, xsk_rs.XDP_MODE_DRV, "auto settles on native XDP on veth")
            self.assertFalse(rx.is_zerocopy)
            self.assertEqual(rx.total_frames, 64)
            self.assert_rx_frames(rx)
            self.assertIsNone(rx.recv(), "nothing to read yet")
            self.assertFalse(rx.wait(0))
            for frame in want:
                peer.send(frame)
            # fileno() is the socket's: poll(2) on it sees the packets.
            p = select.poll()
            p.register(rx.fileno(), select.POLLIN)
            self.assertEqual(len(p.poll(WAIT_S * 1000)), 1)
            self.assertTrue(rx.wait(0))
            got = [rx.recv(timeout=WAIT_S) for _ in want]
            self.assertEqual(got, want)
            self.assert_quiet(rx, peer)
            self.assertEqual(rx.stats()[:5], (0, 0, 0, 0, 0), rx.stats())
            self.assert_rx_frames(rx)
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a), "closing the RX half left its XDP program")

    def test_batch_lends_packets_in_place(self):
        want = [test_frame(seq, n) for seq, n in enumerate(LENGTHS * 10)]  # 100, more than rx_frames

        def got_want(i):
            return want[i] if i < len(want) else None
        rx = self.make(xsk_rs.RxSocket, rx_frames=64)
        with rx, self.peer() as peer:
            got, sizes, deadline = [], [], time.monotonic() + WAIT_S
            sender = threading.Thread(target=self.send_paced, args=(peer, want, got, 48, deadline))
            sender.start()
            try:
                while len(got) < len(want) and time.monotonic() < deadline:
                    with rx.batch(16, timeout=0.5) as pkts:
                        self.assertIsInstance(pkts, list)
                        self.assertLessEqual(len(pkts), 16)
                        self.assertEqual(rx.held_frames, len(pkts))
                        self.assertEqual(rx.total_frames,
                                         rx.free_frames + rx.held_frames + rx.in_flight_frames)
                        for mv in pkts:
                            self.assertIsInstance(mv, memoryview)
                            self.assertTrue(mv.readonly)
                            self.assertEqual((mv.format, mv.ndim, mv.nbytes), ("B", 1, len(mv)))
                            self.assertEqual(mv, got_want(len(got)))
                            got.append(bytes(mv))
                        sizes.append(len(pkts))
                    self.assertEqual(rx.held_frames, 0)
            finally:
                sender.join()
            self.assertEqual(got, want)
            self.assertGreater(max(sizes), 1, "never more than one packet per batch")
            self.assert_quiet(rx, peer)
            self.assert_rx_frames(rx)
            self.assertEqual(rx.stats().rx_dropped, 0)

    def test_batch_views_are_released_after_the_block(self):
        rx = self.make(xsk_rs.RxSocket, rx_frames=32)
        with rx, self.peer() as peer:
            for seq in range(4):
                peer.send(test_frame(seq, 200))
            self.assertTrue(rx.wait(WAIT_S))
            time.sleep(0.05)
            with rx.batch(64) as pkts:
                self.assertEqual(len(pkts), 4)
                mv = pkts[0]
                self.assertEqual(mv[12:14].tobytes(), b"\x88\xb5")
                # Another batch or a recv would hand out the same frames.
                for call in (lambda: rx.batch().__enter__(), rx.recv):
                    with self.assertRaises(OSError) as cm:
                        call()
                    self.assertEqual(cm.exception.errno, errno.EBUSY)
            self.assertEqual(rx.held_frames, 0)
            self.assertEqual(len(pkts), 4, "the list stays, its views are released")
            for use in (len, bytes, lambda v: v[0], lambda v: v[1:3], lambda v: v.tobytes(), memoryview):
                with self.subTest(use=use), self.assertRaises(ValueError):
                    use(mv)
            # The frames went back: the next 40 packets arrive into them.
            for first in (100, 120):
                for seq in range(first, first + 20):
                    peer.send(test_frame(seq, 90))
                self.assertEqual(self.recv_all(rx, 20), [test_frame(seq, 90) for seq in range(first, first + 20)])
            self.assert_rx_frames(rx)

    def test_batch_released_on_exception_and_empty(self):
        rx = self.make(xsk_rs.RxSocket, rx_frames=16)
        with rx, self.peer() as peer:
            with rx.batch(8) as pkts:
                self.assertEqual(pkts, [])
            peer.send(test_frame(1, 64))
            self.assertTrue(rx.wait(WAIT_S))
            with self.assertRaises(KeyError):
                with rx.batch(8) as pkts:
                    self.assertEqual(len(pkts), 1)
                    raise KeyError("inside")
            self.assertEqual(rx.held_frames, 0)
            with self.assertRaises(ValueError):
                bytes(pkts[0])
            with rx.batch(0) as pkts:
                self.assertEqual(pkts, [])
            with self.assertRaises(ValueError):
                rx.batch(-1)
            self.assertIsNone(rx.recv())
            self.assert_rx_frames(rx)

    def test_exported_view_still_gives_frames_back(self):
        """A view whose buffer is exported (a PickleBuffer, as numpy.frombuffer
        would) cannot be released: leaving the block raises BufferError, but
        the frames go back all the same, so the next batch does not hand out
        the same packets again."""
        rx = self.make(xsk_rs.RxSocket, rx_frames=16)
        exported = None

        def cleanup():
            nonlocal exported
            exported = None
            rx.close()
        self.addCleanup(cleanup)
        with self.peer() as peer:
            for seq in range(2):
                peer.send(test_frame(seq, 100))
            self.assertTrue(rx.wait(WAIT_S))
            time.sleep(0.05)
            with self.assertRaises(BufferError):
                with rx.batch(8) as pkts:
                    self.assertEqual(len(pkts), 2)
                    exported = pickle.PickleBuffer(pkts[0])
            self.assertEqual(rx.held_frames, 0)
            peer.send(test_frame(7, 100))
            self.assertTrue(rx.wait(WAIT_S))
            got = rx.recv(timeout=WAIT_S)
            self.assertEqual(got, test_frame(7, 100), "the next receive gives a new packet, not a held one")
            # Closing unmaps the frames: refused while the export lives.
            with self.assertRaises(BufferError):
                rx.close()
            exported = pkts = None
            gc.collect()
            rx.close()

    def test_escaped_view_is_caught(self):
        """A slice of a packet's view outliving the block: leaving it raises
        BufferError (the frames are given back all the same), and close()
        refuses until the slice is gone, since closing unmaps the frames."""
        rx = self.make(xsk_rs.RxSocket, rx_frames=16)
        kept = obj = None

        def cleanup():
            nonlocal kept, obj
            kept = obj = None
            rx.close()
        self.addCleanup(cleanup)
        with self.peer() as peer:
            for seq in range(2):
                peer.send(test_frame(seq, 100))
            self.assertTrue(rx.wait(WAIT_S))
            time.sleep(0.05)
            with self.assertRaises(BufferError) as cm:
                with rx.batch(8) as pkts:
                    self.assertEqual(len(pkts), 2)
                    kept = pkts[0][14:18]
            self.assertIn("still alive", str(cm.exception))
            self.assertEqual(rx.held_frames, 0)
            with self.assertRaises(BufferError):
                rx.close()
            self.assertFalse(rx.closed)
            peer.send(test_frame(1, 100))
            self.assertEqual(self.recv_all(rx, 1), [test_frame(1, 100)], "the socket still works")
            kept.release()
            # Inside an open block: close() releases the views first, then
            # refuses while the derived view lives; the block still ends.
            peer.send(test_frame(2, 100))
            self.assertTrue(rx.wait(WAIT_S))
            with rx.batch(8) as pkts:
                obj = pkts[0].obj  # the exporter itself counts too
                with self.assertRaises(BufferError):
                    rx.close()
                with self.assertRaises(ValueError):
                    bytes(pkts[0])
                del obj
                rx.close()
            self.assertTrue(rx.closed)
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a))

    def test_close_inside_a_batch(self):
        rx = self.make(xsk_rs.RxSocket, rx_frames=16)
        with self.peer() as peer:
            peer.send(test_frame(7, 300))
            self.assertTrue(rx.wait(WAIT_S))
            with rx.batch(8) as pkts:
                self.assertEqual(bytes(pkts[0]), test_frame(7, 300))
                rx.close()
                with self.assertRaises(ValueError):
                    bytes(pkts[0])
            rx.close()
            for call in (rx.recv, rx.batch().__enter__, rx.wait, rx.stats, rx.fileno,
                         lambda: rx.free_frames, lambda: rx.held_frames, lambda: rx.xdp_mode):
                with self.subTest(call=call), self.assertRaises(OSError) as cm:
                    call()
                self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_recv_packed(self):
        """Packets end to end in one buffer with their lengths, one C call;
        one too long for what is left stays for the next call; a first one
        too long for the whole buffer comes cut, with its full length."""
        rx = self.make(xsk_rs.RxSocket, rx_frames=32)
        with rx, self.peer() as peer:
            want = [test_frame(seq, n) for seq, n in enumerate([60, 300, 1000, 1514, 64, 128, 99])]
            for frame in want:
                peer.send(frame)
            self.assertTrue(rx.wait(WAIT_S))
            time.sleep(0.05)
            buf, lens = array.array("B", bytes(1400)), array.array("I", [0] * 4)
            n = rx.recv_packed(buf, lens)
            self.assertEqual((n, list(lens[:n])), (3, [60, 300, 1000]), "1514 bytes do not fit in the rest")
            self.assertEqual(buf[:1360].tobytes(), b"".join(want[:3]))
            # A bytearray and a ctypes array work too; the first packet is cut.
            small, clens = bytearray(100), (ctypes.c_uint32 * 8)()
            self.assertEqual(rx.recv_packed(small, clens), 1)
            self.assertEqual((clens[0], bytes(small)), (1514, want[3][:100]))
            big = bytearray(8192)
            self.assertEqual(rx.recv_packed(big, clens), 3)
            self.assertEqual(bytes(big[:64 + 128 + 99]), b"".join(want[4:]))
            t0 = time.monotonic()
            self.assertEqual(rx.recv_packed(big, clens, timeout=0.2), 0)
            self.assert_took(t0, 0.2)
            for bad_buf, bad_lens in [(big, [0] * 4), (big, array.array("H", [0] * 4)), (bytes(100), clens)]:
                with self.subTest(buf=type(bad_buf), lens=type(bad_lens)), self.assertRaises(TypeError):
                    rx.recv_packed(bad_buf, bad_lens)
            peer.send(want[0])
            self.assertTrue(rx.wait(WAIT_S))
            with rx.batch(8) as pkts:
                with self.assertRaises(OSError) as cm:
                    rx.recv_packed(big, clens)
                self.assertEqual(cm.exception.errno, errno.EBUSY)
                self.assertEqual([bytes(m) for m in pkts], [want[0]])
            self.assert_rx_frames(rx)

    # ---- sending ----

    def test_send_and_send_many_to_peer(self):
        # TX only: nothing attached. tx_frames 32, so the 32 + 100 packets
        # below need every frame back from the kernel, some several times.
        tx = self.make(xsk_rs.TxSocket, tx_frames=32)
        with tx, self.peer() as peer:
            self.assertFalse(self.xdp_on(self.ns_a, self.if_a), "a TX half attached XDP")
            self.assertEqual(tx.xdp_mode, xsk_rs.XDP_MODE_NONE)
            self.assertEqual((tx.total_frames, tx.free_frames, tx.in_flight_frames), (32, 32, 0))
            self.assertEqual(tx.max_len, 1518)  # veth's MTU 1500 + 18
            singles = [test_frame(seq, n) for seq, n in enumerate(LENGTHS * 3 + [60, 60])]
            for i, frame in enumerate(singles):
                data = frame if i % 3 else bytearray(frame) if i % 2 else memoryview(frame)
                self.assertTrue(tx.send(data, timeout=WAIT_S), "packet %d found no room" % i)
                self.assertEqual(tx.total_frames, tx.free_frames + tx.in_flight_frames)
            many = [test_frame(1000 + seq, LENGTHS[seq % len(LENGTHS)]) for seq in range(100)]
            sent, deadline = 0, time.monotonic() + WAIT_S
            while sent < len(many) and time.monotonic() < deadline:
                n = tx.send_many(many[sent:sent + 24])
                sent += n
                if not n:
                    tx.wait(WAIT_S)
            self.assertEqual(sent, len(many))
            got = self.peer_recv(peer, len(singles) + len(many))
            self.assertEqual(got, singles + many)
            self.assert_quiet(peer=peer)
            # Every frame came back: one send_many now takes all 32.
            self.assertEqual(tx.send_many([test_frame(5000 + i, 64) for i in range(32)]), 32)
            self.assertEqual(self.peer_recv(peer, 32), [test_frame(5000 + i, 64) for i in range(32)])
            self.assertEqual(tx.stats().tx_invalid_descs, 0)

    def test_send_opts_tx_metadata(self):
        # TX metadata (Linux 6.8): a test frame with a timestamp request
        # arrives byte for byte, and its software completion time comes back.
        tx = self.make(xsk_rs.TxSocket, tx_frames=16, zero_copy=False, tx_metadata=xsk_rs.TX_METADATA)
        with tx, self.peer() as peer:
            self.assertEqual(tx.tx_offloads, xsk_rs.TXMD_CHECKSUM | xsk_rs.TXMD_TIMESTAMP)
            self.assertEqual(tx.max_len, 1518)
            frame = test_frame(7, 100)
            before = time.clock_gettime_ns(time.CLOCK_TAI)
            self.assertTrue(tx.send_opts(frame, timestamp=True))
            self.assertEqual(self.peer_recv(peer, 1), [frame])
            stamps, deadline = [], time.monotonic() + WAIT_S
            while not stamps and time.monotonic() < deadline:
                stamps = tx.timestamps()
            self.assertEqual(len(stamps), 1)
            self.assertTrue(before <= stamps[0] <= time.clock_gettime_ns(time.CLOCK_TAI), stamps)
            with self.assertRaises(OSError) as cm:
                tx.send_opts(frame, launch_time=1)
            self.assertEqual(cm.exception.errno, errno.EOPNOTSUPP)
            with self.assertRaises(OSError) as cm:
                tx.send_opts(frame, checksum=(90, 20))  # past the end
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertEqual(tx.free_frames + tx.in_flight_frames, 16)
        plain = self.make(xsk_rs.TxSocket, tx_frames=16)
        with plain:
            self.assertEqual(plain.tx_offloads, 0)
            with self.assertRaises(OSError) as cm:
                plain.send_opts(test_frame(8, 60), checksum=(34, 6))
            self.assertIn("no tx metadata", cm.exception.strerror)

    def test_send_refusals(self):
        tx = self.make(xsk_rs.TxSocket, tx_frames=16)
        with tx, self.peer() as peer:
            for bad, code, words in [(bytes(1519), errno.EMSGSIZE, "1519 bytes"), (b"", errno.EINVAL, "")]:
                with self.subTest(len=len(bad)):
                    with self.assertRaises(OSError) as cm:
                        tx.send(bad)
                    self.assertEqual(cm.exception.errno, code)
                    self.assertEqual(cm.exception.strerror, xsk_rs.last_error())
                    self.assertIn(words, cm.exception.strerror)
                    with self.assertRaises(OSError) as cm:
                        tx.send_many([bad, test_frame(1, 60)])
                    self.assertEqual(cm.exception.errno, code)
            # A bad packet after the first stops the batch before it. Nothing
            # is left reserved by a refused or stopped batch.
            self.assertEqual(tx.reserved_frames, 0)
            self.assertEqual(tx.send_many([test_frame(1, 60), bytes(1519), test_frame(2, 60)]), 1)
            self.assertEqual((tx.reserved_frames, tx.free_frames + tx.in_flight_frames), (0, tx.total_frames))
            self.assertEqual(tx.send_many([]), 0)
            self.assertEqual(tx.send_many(iter([test_frame(3, 80)])), 1)
            self.assertEqual(tx.send_many((test_frame(4, 90), bytearray(test_frame(5, 100)))), 2)
            self.assertEqual(tx.free_frames + tx.in_flight_frames, tx.total_frames)
            self.assertEqual(self.peer_recv(peer, 4), [test_frame(i, 50 + 10 * i) for i in (1, 3, 4, 5)])
            with self.assertRaises(TypeError):
                tx.send(12)
            with self.assertRaises(ValueError):
                tx.send(b"x" * 60, timeout=-1)

    # ---- timeouts ----

    def assert_took(self, t0, secs):
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, secs, "returned before its timeout")
        self.assertLess(took, secs + SLACK_S, "overran its timeout")

    def test_rx_timeouts(self):
        rx = self.make(xsk_rs.RxSocket, rx_frames=16)
        with rx, self.peer() as peer:
            for call, secs, empty in [(lambda s: rx.recv(timeout=s), 0.3, None),
                                      (lambda s: rx.wait(s), 0.25, False)]:
                t0 = time.monotonic()
                self.assertIs(call(secs), empty)
                self.assert_took(t0, secs)
            t0 = time.monotonic()
            with rx.batch(8, timeout=0.2) as pkts:
                self.assertEqual(pkts, [])
            self.assert_took(t0, 0.2)
            # A wait ends when a packet comes, not at its timeout: one sent
            # 0.3 s into a 30 s (and an unlimited) wait.
            for timeout in (30, None):
                timer = threading.Timer(0.3, peer.send, [test_frame(9, 80)])
                t0 = time.monotonic()
                timer.start()
                try:
                    self.assertEqual(rx.recv(timeout=timeout), test_frame(9, 80))
                finally:
                    timer.join()
                self.assert_took(t0, 0.3)
            timer = threading.Timer(0.2, peer.send, [test_frame(10, 80)])
            timer.start()
            try:
                with rx.batch(8, timeout=30) as pkts:
                    self.assertEqual([bytes(m) for m in pkts], [test_frame(10, 80)])
            finally:
                timer.join()
            with self.assertRaises(ValueError):
                rx.wait(-1)
            with self.assertRaises(ValueError):
                rx.recv(timeout=-0.5)

    def test_tx_timeouts(self):
        """With if_a down the kernel sends nothing, so the frames run out:
        send() gives up at its timeout, wait() too; with if_a up again room
        comes back, and every frame is accounted for."""
        tx = self.make(xsk_rs.TxSocket, tx_frames=16)
        with tx, self.peer() as peer:
            ip("-n", self.ns_a, "link", "set", "dev", self.if_a, "down")
            try:
                queued = 0
                while tx.send(test_frame(queued, 60)):
                    queued += 1
                    self.assertLess(queued, 1000, "the kernel kept sending with the interface down")
                self.assertEqual((queued, tx.free_frames, tx.in_flight_frames), (16, 0, 16))
                t0 = time.monotonic()
                self.assertFalse(tx.send(test_frame(999, 60), timeout=0.3))
                self.assert_took(t0, 0.3)
                t0 = time.monotonic()
                self.assertFalse(tx.wait(0.25))
                self.assert_took(t0, 0.25)
                self.assertFalse(tx.wait(0))
            finally:
                ip("-n", self.ns_a, "link", "set", "dev", self.if_a, "up")
            t0 = time.monotonic()
            self.assertTrue(tx.wait(WAIT_S), "no room after the interface came back")
            self.assertLess(time.monotonic() - t0, WAIT_S)
            self.assertTrue(tx.send(test_frame(5000, 60), timeout=WAIT_S))
            self.assertEqual(tx.total_frames, tx.free_frames + tx.in_flight_frames)
            self.assertIn(test_frame(5000, 60), self.peer_recv(peer, 17))

    # ---- both halves ----

    def test_bi_socket_echo(self):
        """A BiSocket sends back what it receives: batch views straight into
        send_many, one C call each way per batch."""
        want = [test_frame(seq, n) for seq, n in enumerate(LENGTHS * 4)]
        bi = self.make(xsk_rs.BiSocket, rx_frames=64, tx_frames=32)
        with bi as (tx, rx), self.peer() as peer:
            self.assertIs(tx, bi.tx)
            self.assertEqual(tx.fileno(), rx.fileno(), "one socket, two halves")
            self.assertEqual((tx.total_frames, rx.total_frames), (32, 64))
            self.assertEqual(rx.xdp_mode, xsk_rs.XDP_MODE_DRV)
            for frame in want:
                peer.send(frame)
            echoed, deadline = 0, time.monotonic() + WAIT_S
            while echoed < len(want) and time.monotonic() < deadline:
                with rx.batch(16, timeout=0.1) as pkts:
                    while pkts:
                        n = tx.send_many(pkts)
                        echoed += n
                        pkts = pkts[n:]
                        if pkts:
                            tx.wait(WAIT_S)
            self.assertEqual(echoed, len(want))
            self.assertEqual(self.peer_recv(peer, len(want)), want)
            self.assert_quiet(rx, peer)
            self.assert_rx_frames(rx)
            self.assertEqual(tx.total_frames, tx.free_frames + tx.in_flight_frames)
            # One half closed: the socket and its program stay for the other.
            rx.close()
            self.assertTrue(self.xdp_on(self.ns_a, self.if_a))
            self.assertFalse(bi.closed)
            self.assertTrue(tx.send(test_frame(77, 64), timeout=WAIT_S))
            self.assertEqual(self.peer_recv(peer, 1), [test_frame(77, 64)])
        self.assertTrue(bi.closed)
        bi.close()
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a))

    def test_bi_halves_on_two_threads(self):
        """The halves run at once on two threads: the RX half receives the
        peer's packets while the TX half sends others to the peer."""
        to_us = [test_frame(seq, LENGTHS[seq % len(LENGTHS)]) for seq in range(300)]
        to_peer = [test_frame(10000 + seq, 64 + seq % 200) for seq in range(300)]
        bi = self.make(xsk_rs.BiSocket, rx_frames=64, tx_frames=64)
        with bi, self.peer() as peer, self.peer() as peer_tx:
            received, errors = [], []

            def receive():
                try:
                    while len(received) < len(to_us) and time.monotonic() < deadline:
                        with bi.rx.batch(32, timeout=0.1) as pkts:
                            received.extend(bytes(mv) for mv in pkts)
                except BaseException as e:  # reported by the main thread
                    errors.append(e)
            deadline = time.monotonic() + WAIT_S
            t = threading.Thread(target=receive)
            t.start()
            try:
                sender = threading.Thread(target=self.send_paced, args=(peer_tx, to_us, received, 48, deadline))
                sender.start()
                for frame in to_peer:
                    self.assertTrue(bi.tx.send(frame, timeout=WAIT_S))
                got = self.peer_recv(peer, len(to_peer))
                sender.join()
            finally:
                t.join()
            self.assertEqual(errors, [])
            self.assertEqual(received, to_us)
            self.assertEqual(got, to_peer)
            self.assert_rx_frames(bi.rx)

    # ---- creation, errors, lifetimes ----

    def test_create_errors(self):
        with self.netns(self.ns_a):
            for cls in (xsk_rs.TxSocket, xsk_rs.RxSocket, xsk_rs.BiSocket):
                with self.subTest(cls=cls.__name__):
                    with self.assertRaises(OSError) as cm:
                        cls("nosuch%d" % os.getpid(), 0)
                    self.assertEqual(cm.exception.errno, errno.ENODEV)
                    self.assertIn("nosuch%d" % os.getpid(), cm.exception.strerror)
                    self.assertEqual(cm.exception.strerror, xsk_rs.last_error())
            for config, code, words in [
                ({"rx_frames": 512, "rx_size": 256}, errno.EINVAL, "rx ring of 256 entries"),
                ({"rx_frames": 512, "fill_size": 512}, errno.EINVAL, "at least 1024"),
                ({"frame_size": 3000}, errno.EINVAL, "frame size 3000"),
                ({"zero_copy": True}, errno.EOPNOTSUPP, "zero-copy"),
                ({"rx_frames": -1}, errno.EINVAL, "rx_frames must be"),
                ({"tx_budget": 1 << 32}, errno.EINVAL, "tx_budget must be"),
            ]:
                with self.subTest(config=config), self.assertRaises(OSError) as cm:
                    xsk_rs.RxSocket(self.if_a, 0, **config)
                self.assertEqual(cm.exception.errno, code, cm.exception)
                self.assertIn(words, cm.exception.strerror)
            with self.assertRaises(OSError) as cm:
                xsk_rs.RxSocket(self.if_a, 3)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIn("queue 3", cm.exception.strerror)
            with self.assertRaises(TypeError) as cm:
                xsk_rs.TxSocket(self.if_a, 0, rx_frame=64)
            self.assertIn("rx_frame", str(cm.exception))
            # A queue in use: a second RX half on it.
            with xsk_rs.RxSocket(self.if_a, 0, rx_frames=16):
                with self.assertRaises(OSError) as cm:
                    xsk_rs.RxSocket(self.if_a, 0, rx_frames=16)
                self.assertEqual(cm.exception.errno, errno.EBUSY, cm.exception)
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a))

    def test_config_reaches_the_library(self):
        """Keywords set the fields of xsk_rs_xdp_config; None keeps the
        library's default."""
        lib = xsk_rs.load()
        d = xsk_rs._xdp_config(lib, {})
        # 88 bytes: the header's xsk_rs_xdp_config, up to multi_buffer and short_frames.
        self.assertEqual((d.sz, d.rx_frames, d.tx_frames, d.frame_size, d.zero_copy, d.need_wakeup,
                          d.huge_page, d.xdp_mode, d.rx_size, d.tx_budget, d.tx_metadata, d.multi_buffer),
                         (88, 4096, 4096, 4096, -1, 1, 0, xsk_rs.XDP_MODE_AUTO, 0, 0, 0, 0))
        self.assertEqual(ctypes.sizeof(xsk_rs.XdpConfig), 88)
        c = xsk_rs._xdp_config(lib, dict(rx_frames=10, zero_copy=False, need_wakeup=False, huge_page=None,
                                         xdp_mode=xsk_rs.XDP_MODE_SKB, frame_size=2048, tx_budget=None,
                                         multi_buffer=True, short_frames=True))
        self.assertEqual((c.rx_frames, c.zero_copy, c.need_wakeup, c.huge_page, c.xdp_mode, c.frame_size,
                          c.tx_budget, c.multi_buffer, c.short_frames), (10, 0, 0, 0, xsk_rs.XDP_MODE_SKB, 2048, 0, 1, 1))
        self.assertEqual(d.short_frames, 0)
        self.assertEqual(ctypes.sizeof(xsk_rs.Pkt), 16)
        bi = self.make(xsk_rs.BiSocket, rx_frames=48, tx_frames=24, frame_size=2048, xdp_mode=xsk_rs.XDP_MODE_SKB,
                       zero_copy=False, need_wakeup=False)
        with bi:
            self.assertEqual((bi.rx.total_frames, bi.tx.total_frames, bi.rx.xdp_mode), (48, 24, xsk_rs.XDP_MODE_SKB))
            self.assertEqual(bi.tx.max_len, 1518)
        tx = self.make(xsk_rs.TxSocket, tx_frames=8, frame_size=2048)
        with tx:
            self.assertEqual(tx.total_frames, 8)

    def test_unclosed_warns(self):
        rx = self.make(xsk_rs.RxSocket, rx_frames=16)
        with self.assertWarns(ResourceWarning) as cm:
            del rx
            gc.collect()
        self.assertIn("unclosed <xsk_rs.RxSocket %s queue 0>" % self.if_a, str(cm.warning))
        bi = self.make(xsk_rs.BiSocket, rx_frames=16, tx_frames=16)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del bi
            gc.collect()
            msgs = sorted(str(w.message) for w in caught)
            caught.clear()
        self.assertEqual(msgs, ["unclosed <xsk_rs.RxSocket %s queue 0>" % self.if_a,
                                "unclosed <xsk_rs.TxSocket %s queue 0>" % self.if_a])
        gc.collect()


# The longest untagged frame on MTU 9000, and a mix of it with 9000-byte and small ones.
JUMBO_MAX = 9014
JUMBO_LENGTHS = [9000, 60, JUMBO_MAX, 1514, 9000, 100, JUMBO_MAX, 9000]


class JumboTests(VethPair):
    """Multi-buffer (multi_buffer=True, Linux 6.6): 9000-byte packets over a
    veth pair with MTU 9000, in 2 KiB frames, in skb and drv mode."""

    tag = "j"
    make = PacketTests.make
    assert_rx_frames = PacketTests.assert_rx_frames
    assert_quiet = PacketTests.assert_quiet

    def peer(self):
        s = super().peer()
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        return s

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for ns, ifname in ((cls.ns_a, cls.if_a), (cls.ns_b, cls.if_b)):
            ip("-n", ns, "link", "set", "dev", ifname, "mtu", "9000")

    def jumbo_recv(self, peer, count):
        """Test frames that arrived on if_b, whole (not our own outgoing ones)."""
        got, deadline = [], time.monotonic() + WAIT_S
        while len(got) < count and time.monotonic() < deadline:
            peer.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, addr = peer.recvfrom(65536)
            except socket.timeout:
                break
            if addr[2] != 4 and data[12:14] == b"\x88\xb5":
                got.append(data)
        return got

    def test_short_frames_refused_without_multi_buffer(self):
        with self.assertRaises(OSError) as cm:
            self.make(xsk_rs.RxSocket, rx_frames=64, frame_size=2048)
        self.assertEqual(cm.exception.errno, errno.EMSGSIZE, cm.exception)
        self.assertIn("9000", cm.exception.strerror)
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a))
        # short_frames=True accepts the drops: created, and longer packets are
        # dropped while short ones arrive.
        rx = self.make(xsk_rs.RxSocket, rx_frames=64, frame_size=2048, short_frames=True,
                       xdp_mode=xsk_rs.XDP_MODE_SKB)
        with rx, self.peer() as peer:
            small = test_frame(1, 100)
            peer.send(test_frame(0, 9000))
            peer.send(small)
            self.assertEqual(rx.recv(timeout=2), small)

    def test_recv_and_recv_segments(self):
        room = 2048 - 256  # copy mode puts each segment 256 bytes into its frame
        for mode in (xsk_rs.XDP_MODE_SKB, xsk_rs.XDP_MODE_DRV):
            frames = [test_frame(seq, JUMBO_LENGTHS[seq % len(JUMBO_LENGTHS)]) for seq in range(24)]
            # 24 packets take about 100 frames: room for the peer's whole burst.
            rx = self.make(xsk_rs.RxSocket, rx_frames=256, frame_size=2048, multi_buffer=True, xdp_mode=mode)
            with self.subTest(mode=mode), rx, self.peer() as peer:
                for f in frames:
                    peer.send(f)
                got = []
                for _ in range(12):
                    got.append(rx.recv(timeout=WAIT_S))
                segs = []
                for _ in range(12):
                    s = rx.recv_segments(timeout=WAIT_S)
                    segs.append(s)
                    got.append(b"".join(s) if s is not None else None)
                self.assertEqual(got, frames)
                for s, f in zip(segs, frames[12:]):
                    self.assertEqual([len(x) for x in s],
                                     [room] * (len(f) // room) + ([len(f) % room] if len(f) % room else []))
                self.assert_rx_frames(rx)
                st = rx.stats()
                self.assertEqual((st.rx_dropped, st.rx_invalid_descs), (0, 0))
                self.assert_quiet(rx=rx)

    def test_send_long_packets_as_chains(self):
        # 20 packets of 5 frames each through a TX half of 32 frames: they come back.
        tx = self.make(xsk_rs.TxSocket, tx_frames=32, frame_size=2048, multi_buffer=True)
        with tx, self.peer() as peer:
            self.assertEqual(tx.max_len, 9018)
            frames = [test_frame(seq, 9000 if seq % 2 else JUMBO_MAX) for seq in range(20)]
            for i, f in enumerate(frames):
                self.assertTrue(tx.send(f, timeout=WAIT_S), "packet %d found no room" % i)
                self.assertEqual(tx.total_frames, tx.free_frames + tx.in_flight_frames)
            self.assertEqual(self.jumbo_recv(peer, len(frames)), frames)
            with self.assertRaises(OSError) as cm:
                tx.send(bytes(9019))
            self.assertEqual(cm.exception.errno, errno.EMSGSIZE)
            self.assertEqual(tx.stats().tx_invalid_descs, 0)

if __name__ == "__main__":
    unittest.main()
