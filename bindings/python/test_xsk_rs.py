"""Tests of the xsk_rs Python module against an installed libxsk_rs.

    XSK_RS_LIB=PREFIX/lib/libxsk_rs.so.0 python3 -X dev -W error -m unittest -v test_xsk_rs

LibraryTests need only the library: constants, struct layouts and the function
table against the installed header (compiled with gcc), config defaults, the
loader's errors. VethTests need root: they make two network namespaces joined
by a veth pair (one queue per end, IPv6 off; names carry the PID; removed in
tearDownClass), create the UMEM and socket inside one namespace by calling
libc's setns() through ctypes (Python 3.11 has no os.setns), and talk to an
AF_PACKET socket in the other: frames received and sent byte for byte, in
order, the kernel's counters, error paths and closing. Without root they are
skipped with a reason, except under CI=true, where that is a failure.
"""

import contextlib
import ctypes
import errno
import gc
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xsk_rs  # noqa: E402

IN_CI = os.environ.get("CI") in ("true", "1")
ETH_P_ALL = 0x0003
ETHERTYPE = 0x88B5
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000
WAIT_S = 5.0
FRAME = 2048


def require(what):
    """Skips (or, under CI=true, fails) a test class that cannot run here."""
    if IN_CI:
        raise AssertionError("%s, and CI=true forbids skipping these tests" % what)
    raise unittest.SkipTest(what)


# Exceptions raised in __del__ (a ResourceWarning made an error by -W error,
# for instance) do not fail a test by themselves: collect them and fail.
_unraisable = []
_default_hook = sys.unraisablehook


def _hook(u):
    _unraisable.append("%s: %r" % (u.err_msg or "exception ignored", u.exc_value))
    _default_hook(u)


sys.unraisablehook = _hook


class Base(unittest.TestCase):
    def tearDown(self):
        gc.collect()
        errs, _unraisable[:] = list(_unraisable), []
        self.assertEqual(errs, [], "exceptions in finalizers (unclosed resources?)")


def kernel_at_least(major, minor):
    """Whether the running kernel is major.minor or later."""
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(m.group(1)), int(m.group(2))) >= (major, minor)


def test_frame(seq, length):
    """The test frame layout of tests/c/peer_send.c."""
    hdr = bytes([0x02, 0x58, 0x53, 0x4B, 0x00, 0x02, 0x02, 0x58, 0x53, 0x4B, 0x00, 0x01, 0x88, 0xB5])
    body = bytes((seq * 131 + i * 7 + 1) & 0xFF for i in range(length - 18))
    return hdr + struct.pack(">I", seq) + body


def loaded_library_path():
    """The file the dynamic loader mapped for libxsk_rs, from /proc/self/maps."""
    xsk_rs.load()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if os.path.basename(path).startswith("libxsk_rs.so"):
                return path
    return None


def c_type(ret):
    """A C return type as the function table test compares it: the scalar
    types by name, any pointer as "pointer"."""
    return "pointer" if ret.endswith("*") else ret


def py_type(restype):
    """A ctypes restype of xsk_rs._FUNCS in the terms of c_type."""
    scalars = {None: "void", ctypes.c_int: "int", ctypes.c_uint32: "uint32_t", ctypes.c_uint64: "uint64_t"}
    return scalars.get(restype, "pointer")


def find_header():
    """xsk_rs.h next to the loaded library (PREFIX/include), else pkg-config's."""
    lib = loaded_library_path()
    if lib:
        h = os.path.join(os.path.dirname(os.path.dirname(lib)), "include", "xsk_rs.h")
        if os.path.exists(h):
            return h
    try:
        out = subprocess.run(["pkg-config", "--variable=includedir", "xsk_rs"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    h = os.path.join(out, "xsk_rs.h")
    return h if os.path.exists(h) else None


class LibraryTests(Base):
    """What needs the library but no privileges."""

    @classmethod
    def setUpClass(cls):
        cls.header = find_header()

    def need_header(self):
        if not self.header:
            require("cannot find xsk_rs.h next to the loaded library or through pkg-config")
        if not shutil.which("gcc"):
            require("gcc is needed to compare layouts with the header")

    def test_version(self):
        self.assertRegex(xsk_rs.version(), r"^\d+\.\d+\.\d+")
        self.assertIn(xsk_rs.library()[0], ("load()", "XSK_RS_LIB", "find_library", "soname"))

    def test_umem_refuses_huge_page_flags(self):
        with self.assertRaises(OSError) as e:
            xsk_rs.Umem(frame_count=64, frame_size=2048, flags=xsk_rs.UMEM_HUGE_PAGES)
        self.assertEqual(e.exception.errno, errno.EINVAL)
        self.assertIn("huge_page=True", str(e.exception))

    def test_strerror(self):
        self.assertTrue(xsk_rs.strerror(-errno.ENODEV))
        self.assertEqual(xsk_rs.strerror(-errno.ENODEV), xsk_rs.strerror(errno.ENODEV))

    def test_layout_and_constants_match_header(self):
        self.need_header()
        structs = {
            "xsk_rs_desc": xsk_rs.Desc, "xsk_rs_umem_config": xsk_rs.UmemConfig,
            "xsk_rs_socket_config": xsk_rs.SocketConfig, "xsk_rs_stats": xsk_rs._CStats,
            "xsk_rs_xdp_config": xsk_rs.XdpConfig, "xsk_rs_pkt": xsk_rs.Pkt, "xsk_rs_buf": xsk_rs.Buf,
            "xsk_rs_irq_defer_config": xsk_rs.IrqDeferConfig, "xsk_rs_netdev_info": xsk_rs._NetdevInfo,
        }
        consts = ["XDP_MODE_AUTO", "XDP_MODE_SKB", "XDP_MODE_DRV", "XDP_MODE_NONE", "BIND_COPY",
                  "BIND_ZEROCOPY", "BIND_NEED_WAKEUP", "TX_BUDGET_MIN", "UMEM_UNALIGNED_CHUNKS", "UMEM_HUGE_PAGES",
                  "UMEM_HUGE_PAGES_FALLBACK", "ERR_PANIC", "IRQ_DEFER_VIA_AUTO", "IRQ_DEFER_VIA_NAPI_SET",
                  "IRQ_DEFER_VIA_SYSFS", "BIND_SG", "BIND_SHORT_FRAMES", "DESC_CONTD", "UMEM_TX_SW_CSUM",
                  "TX_METADATA", "TX_SW_CSUM", "DESC_TX_METADATA", "TXMD_TIMESTAMP", "TXMD_CHECKSUM",
                  "TXMD_LAUNCH_TIME"]
        lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "%s"' % self.header,
                 "int main(void) {"]
        expect = []
        for cname, cls in structs.items():
            lines.append('printf("%%s %%zu\\n", "%s", sizeof(struct %s));' % (cname, cname))
            expect.append("%s %d" % (cname, ctypes.sizeof(cls)))
            for fname, _ in cls._fields_:
                lines.append('printf("%%s.%%s %%zu %%zu\\n", "%s", "%s", offsetof(struct %s, %s), '
                             'sizeof(((struct %s *)0)->%s));' % (cname, fname, cname, fname, cname, fname))
                field = getattr(cls, fname)
                expect.append("%s.%s %d %d" % (cname, fname, field.offset, field.size))
        for c in consts:
            lines.append('printf("%%s %%lld\\n", "%s", (long long)(XSK_RS_%s));' % (c, c))
            expect.append("%s %d" % (c, getattr(xsk_rs, c)))
        lines.append("return 0; }")
        with tempfile.TemporaryDirectory() as d:
            src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
            with open(src, "w") as f:
                f.write("\n".join(lines) + "\n")
            subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", src, "-o", exe], check=True)
            out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
        self.assertEqual(out.splitlines(), expect)
        # Struct fields in the header's order, and no field missing.
        with open(self.header) as f:
            text = f.read()
        for cname, cls in structs.items():
            body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (cname, cname), text, re.S).group(1)
            body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
            fields = re.findall(r"\b(\w+)(?:\[\w+\])?;", body)
            self.assertEqual(fields, [n for n, _ in cls._fields_], cname)

    def test_function_table_covers_header(self):
        self.need_header()
        with open(self.header) as f:
            text = re.sub(r"/\*.*?\*/|//[^\n]*", "", f.read(), flags=re.S)
        protos = {}
        for ret, name, params in re.findall(r"([\w *]+?)\s*\b(xsk_rs_\w+)\(([^()]*)\);", text):
            params = params.strip()
            ret = " ".join(ret.split()).replace(" *", "*")
            protos[name] = (c_type(ret), 0 if params in ("", "void") else params.count(",") + 1)
        table = {name: (py_type(restype), len(argtypes)) for name, restype, argtypes in xsk_rs._FUNCS}
        self.assertGreater(len(protos), 40)
        self.assertEqual(table, protos)

    def test_config_init_defaults(self):
        lib = xsk_rs.load()
        u = xsk_rs._config(xsk_rs.UmemConfig, lib.xsk_rs_umem_config_init, {"frame_size": 2048})
        self.assertEqual((u.sz, u.frame_count, u.frame_size, u.frame_headroom, u.fill_size, u.comp_size, u.flags),
                         (ctypes.sizeof(xsk_rs.UmemConfig), 4096, 2048, 0, 8192, 4096, 0))
        s = xsk_rs._config(xsk_rs.SocketConfig, lib.xsk_rs_socket_config_init, {"rx_size": 0})
        self.assertEqual((s.sz, s.rx_size, s.tx_size, s.bind_flags, s.xdp_mode, s.tx_budget, s.busy_poll_usecs,
                          s.busy_poll_budget, s.prefer_busy_poll),
                         (ctypes.sizeof(xsk_rs.SocketConfig), 0, 4096, xsk_rs.BIND_NEED_WAKEUP,
                          xsk_rs.XDP_MODE_AUTO, 0, 0, 0, 0))

    def test_lending(self):
        u, s = xsk_rs.lending(1000)
        self.assertEqual((u, s), (dict(frame_count=1000, fill_size=2048, comp_size=1024),
                                  dict(rx_size=1024, tx_size=1024)))
        lib = xsk_rs.load()
        du = xsk_rs._config(xsk_rs.UmemConfig, lib.xsk_rs_umem_config_init, {})
        ds = xsk_rs._config(xsk_rs.SocketConfig, lib.xsk_rs_socket_config_init, {})
        u, s = xsk_rs.lending(4096)
        self.assertEqual((u["frame_count"], u["fill_size"], u["comp_size"], s["rx_size"], s["tx_size"]),
                         (du.frame_count, du.fill_size, du.comp_size, ds.rx_size, ds.tx_size),
                         "the defaults are lending(4096)")
        for bad in (0, (1 << 29) + 1, (1 << 32) - 1):
            with self.assertRaises(OSError) as cm:
                xsk_rs.lending(bad)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIn("lend %d frames" % bad, cm.exception.strerror)
        for bad in (-1, 1 << 32, 2.0):
            with self.assertRaises(OSError) as cm:
                xsk_rs.lending(bad)
            self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_addr_helpers(self):
        for addr, want in [(0, (0, 0, 0)), ((3 << 48) | 0x1234, (0x1234, 3, 0x1237)),
                           ((1 << 64) - 1, ((1 << 48) - 1, 0xFFFF, (1 << 48) - 1 + 0xFFFF))]:
            got = (xsk_rs.extract_addr(addr), xsk_rs.extract_offset(addr), xsk_rs.add_offset_to_addr(addr))
            self.assertEqual(got, want, hex(addr))

    def test_load_twice(self):
        path = xsk_rs.library()[1]
        self.assertIs(xsk_rs.load(path), xsk_rs.load())
        with self.assertRaises(OSError) as cm:
            xsk_rs.load("/nonexistent/libxsk_rs.so.0")
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        self.assertIn("already loaded", str(cm.exception))

    def run_loader(self, env, code="import xsk_rs; print(xsk_rs.library()[0], xsk_rs.version())"):
        env = dict(env, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
        return subprocess.run([sys.executable, "-B", "-X", "dev", "-W", "error", "-c", code],
                              capture_output=True, text=True, env=env)

    def test_explicit_path_errors_do_not_fall_back(self):
        r = self.run_loader({"PATH": os.environ.get("PATH", ""), "XSK_RS_LIB": "/nonexistent/libxsk_rs.so.0"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("XSK_RS_LIB=/nonexistent/libxsk_rs.so.0", r.stderr)
        self.assertIn("FileNotFoundError", r.stderr)

    def test_explicit_path_loads(self):
        lib = loaded_library_path()
        self.assertIsNotNone(lib)
        r = self.run_loader({"PATH": os.environ.get("PATH", ""), "XSK_RS_LIB": lib})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["XSK_RS_LIB", xsk_rs.version()])
        r = self.run_loader({"PATH": os.environ.get("PATH", "")},
                            "import xsk_rs; xsk_rs.load(%r); print(xsk_rs.library()[0])" % lib)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "load()"), r.stderr)


# ---- network namespaces, veth ---------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.setns.restype = ctypes.c_int


def _setns(fd, what):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns(%s): %s" % (what, os.strerror(e)))


def ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


class VethPair(Base):
    """A veth pair between two namespaces made for this class's tests
    (if_a in ns_a, if_b in ns_b), and helpers; no tests of its own. Each
    subclass sets its own tag, so that no two classes share names."""

    tag = ""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            require("packet tests need root (namespaces, veth, XDP); rerun as root to run them")
        pid = os.getpid()
        cls.ns_a, cls.ns_b = "xskpy-%d%s-a" % (pid, cls.tag), "xskpy-%d%s-b" % (pid, cls.tag)
        cls.if_a, cls.if_b = "xp%d%sa" % (pid, cls.tag), "xp%d%sb" % (pid, cls.tag)
        cls.made = []
        # This thread's namespace, to return to after each setns.
        cls.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            for ns in (cls.ns_a, cls.ns_b):
                ip("netns", "add", ns)
                cls.made.append(ns)
                # No IPv6: no neighbour discovery frames on the veth.
                ip("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                   "net.ipv6.conf.default.disable_ipv6=1")
            ip("-n", cls.ns_a, "link", "add", cls.if_a, "numrxqueues", "1", "numtxqueues", "1", "type", "veth",
               "peer", "name", cls.if_b, "netns", cls.ns_b, "numrxqueues", "1", "numtxqueues", "1")
            ip("-n", cls.ns_a, "link", "set", "dev", cls.if_a, "up")
            ip("-n", cls.ns_b, "link", "set", "dev", cls.if_b, "up")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for ns in cls.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        os.close(cls.home)

    @contextlib.contextmanager
    def netns(self, name):
        """Runs the block with this thread in network namespace name."""
        fd = os.open("/run/netns/" + name, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(fd, name)
        finally:
            os.close(fd)
        try:
            yield
        finally:
            _setns(self.home, "back home")

    def open_pair(self, frame_count=256, **sock_args):
        """A Umem and a Socket on if_a queue 0, made inside ns_a."""
        with self.netns(self.ns_a):
            umem = xsk_rs.Umem(frame_count=frame_count, frame_size=FRAME)
            try:
                sock = xsk_rs.Socket(self.if_a, 0, umem, **sock_args)
            except BaseException:
                umem.close()
                raise
        return umem, sock

    def peer(self):
        """An AF_PACKET socket on if_b, made inside ns_b."""
        with self.netns(self.ns_b):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            try:
                s.bind((self.if_b, ETH_P_ALL))
            except BaseException:
                s.close()
                raise
        return s

    def peer_recv(self, peer, count):
        """Test frames that arrived on if_b (not our own outgoing ones)."""
        got, deadline = [], time.monotonic() + WAIT_S
        while len(got) < count and time.monotonic() < deadline:
            peer.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, addr = peer.recvfrom(4096)
            except socket.timeout:
                break
            if addr[2] != PACKET_OUTGOING and data[12:14] == b"\x88\xb5":
                got.append(data)
        return got

    def xdp_on(self, ns, ifname):
        out = ip("-n", ns, "-d", "link", "show", "dev", ifname)
        return re.search(r"(^|\s)(xdp|xdpgeneric|xdpdrv|xdpoffload|xdpmulti|prog/xdp\w*)(\s|$)", out) is not None

    def tearDown(self):
        super().tearDown()
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a), "an XDP program was left on %s" % self.if_a)


class KernelFeaturesTests(unittest.TestCase):
    """kernel_features against the running kernel's release."""

    def test_kernel_features(self):
        feats = xsk_rs.kernel_features()
        self.assertEqual(len(feats), 8, feats)
        release = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
        by_flag = {name.split("(")[-1].rstrip(")"): v for name, v in feats.items()}
        self.assertEqual(by_flag["XDP_USE_SG"], (release >= (6, 6), "6.6"))
        self.assertEqual(by_flag["tx_metadata_len"], (release >= (6, 8), "6.8"))
        self.assertEqual(by_flag["SO_PREFER_BUSY_POLL"], (True, "5.11"))


class NetdevTests(VethPair):
    """netdev_info on the veth pair, against ip -d link."""

    tag = "n"

    def ip_prog(self, ns, ifname):
        """(id, name) of the program ip -d link shows on ifname, or (0, "")."""
        words = ip("-n", ns, "-d", "link", "show", "dev", ifname).split()
        for i, w in enumerate(words[:-4]):
            if w.startswith("prog/xdp") and words[i + 1] == "id" and words[i + 3] == "name":
                return int(words[i + 2]), words[i + 4]
        return 0, ""

    def test_netdev_info(self):
        veth = {"basic", "redirect", "rx-sg"}
        with self.netns(self.ns_a):
            before = xsk_rs.netdev_info(self.if_a)
        self.assertEqual((before["mtu"], before["rx_queues"], before["tx_queues"]), (1500, 1, 1))
        self.assertEqual((before["xdp_attached"], before["programs"]), ("none", {}))
        if before["xdp_features"] is not None:
            self.assertEqual(before["xdp_features"], veth)
        for mode, name in ((xsk_rs.XDP_MODE_SKB, "skb"), (xsk_rs.XDP_MODE_DRV, "drv")):
            umem, sock = self.open_pair(tx_size=0, xdp_mode=mode)
            with umem, sock:
                with self.netns(self.ns_a):
                    info = xsk_rs.netdev_info(self.if_a)
                with self.netns(self.ns_b):
                    peer = xsk_rs.netdev_info(self.if_b)
                pid, pname = self.ip_prog(self.ns_a, self.if_a)
                self.assertEqual(info["xdp_attached"], name)
                self.assertEqual(info["programs"], {name: dict(id=pid, name="xsk_rs_redirect", xsk_rs=True)})
                self.assertEqual(pname, "xsk_rs_redirect")
                if peer["xdp_features"] is not None:
                    # veth's peer may redirect into it only while it runs native XDP.
                    want = veth | ({"ndo-xmit", "ndo-xmit-sg"} if name == "drv" else set())
                    self.assertEqual(peer["xdp_features"], want)
                if info["napi_ids"] is not None:
                    self.assertEqual(len(info["napi_ids"]), 1 if name == "drv" else 0, info)
                    self.assertEqual(info["rx_napi_ids"], [0], "veth links no NAPI to its queues")
        with self.netns(self.ns_a):
            with self.assertRaises(OSError) as cm:
                xsk_rs.netdev_info("xskrs-nonexist")
        self.assertEqual(cm.exception.errno, errno.ENODEV)

    def test_irq_deferral(self):
        napi_set = kernel_at_least(6, 13)
        with self.netns(self.ns_a):
            with self.assertRaises(OSError) as cm:
                xsk_rs.IrqDeferral(self.if_a)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIn("nothing to set", str(cm.exception))
            # No socket: veth runs no NAPI (6.13+); 6.1 cannot use this /sys.
            with self.assertRaises(OSError) as cm:
                xsk_rs.IrqDeferral(self.if_a, defer_hard_irqs=2)
            self.assertEqual(cm.exception.errno, errno.ENOENT if napi_set else errno.EOPNOTSUPP, cm.exception)
            with self.assertRaises(OSError) as cm:
                xsk_rs.IrqDeferral(self.if_a, defer_hard_irqs=2, via=xsk_rs.IRQ_DEFER_VIA_SYSFS)
            self.assertEqual(cm.exception.errno, errno.EOPNOTSUPP)
            self.assertIn("/sys shows another network namespace", str(cm.exception))
        if not napi_set:
            return
        umem, sock = self.open_pair(tx_size=0, xdp_mode=xsk_rs.XDP_MODE_DRV)
        with umem, sock:
            with self.netns(self.ns_a):
                d = xsk_rs.IrqDeferral(self.if_a, defer_hard_irqs=2, gro_flush_timeout_ns=200000)
            with d:
                self.assertEqual((d.via, d.napi_count), (xsk_rs.IRQ_DEFER_VIA_NAPI_SET, 1))
                d.restore()
                d.restore()
            with self.assertRaises(OSError) as cm:
                d.via
            self.assertEqual(cm.exception.errno, errno.EBADF)


class VethTests(VethPair):
    """The ring API: packets over the veth pair between an AF_PACKET peer
    and a Umem and Socket."""

    def wait_stats(self, sock, pred):
        deadline = time.monotonic() + WAIT_S
        st = sock.stats()
        while not pred(st) and time.monotonic() < deadline:
            time.sleep(0.02)
            st = sock.stats()
        return st

    def receive(self, umem, sock, count, refill=True):
        """Up to count (addr, bytes) from sock, polling; frames go back on the fill ring."""
        got, deadline = [], time.monotonic() + WAIT_S
        while len(got) < count and time.monotonic() < deadline:
            batch = sock.receive(64)
            if not batch:
                sock.poll(xsk_rs.POLLIN, 100)
                continue
            got += [(addr, umem.read(addr, length)) for addr, length in batch]
            if refill:
                self.assertEqual(umem.fill([addr - addr % FRAME for addr, _ in batch]), len(batch))
        return got

    # ---- traffic ----

    def test_receive_from_peer(self):
        lengths = [60, 61, 64, 100, 128, 255, 512, 1000, 1499, 1500] * 3
        want = [test_frame(seq, n) for seq, n in enumerate(lengths)]
        umem, sock = self.open_pair()
        with umem, sock, self.peer() as peer:
            self.assertTrue(self.xdp_on(self.ns_a, self.if_a), "the socket attached no XDP program")
            self.assertEqual(sock.poll(xsk_rs.POLLOUT, 0), 1, "an empty TX ring is writable")
            self.assertFalse(sock.is_zerocopy)
            self.assertEqual(sock.xdp_mode, xsk_rs.XDP_MODE_DRV, "auto settles on native XDP on veth")
            self.assertGreater(sock.fd, 2)
            self.assertEqual(umem.fill(range(0, umem.size, FRAME)), 256)
            self.assertEqual(sock.poll(xsk_rs.POLLIN, 0), 0, "nothing to read yet")
            for frame in want:
                peer.send(frame)
            got = self.receive(umem, sock, len(want))
            self.assertEqual(len(got), len(want))
            self.no_more_frames(sock, peer)
            for i, ((addr, data), frame) in enumerate(zip(got, want)):
                self.assertEqual(addr // FRAME, (addr + len(data) - 1) // FRAME, "frame %d crosses a chunk" % i)
                self.assertEqual(data, frame, "frame %d differs" % i)
            st = sock.stats()
            self.assertEqual((st.rx_dropped, st.rx_invalid_descs, st.tx_invalid_descs, st.rx_ring_full,
                              st.rx_fill_ring_empty_descs), (0, 0, 0, 0, 0), st)
        self.assertFalse(self.xdp_on(self.ns_a, self.if_a), "closing the socket left its XDP program")

    def test_transmit_to_peer(self):
        lengths = [60, 64, 99, 256, 777, 1024, 1500, 60] * 2
        want = [test_frame(1000 + seq, n) for seq, n in enumerate(lengths)]
        # TX only, and XDP_MODE_NONE: nothing is attached, and no frame can be
        # redirected to a socket without an RX ring. (xsk_rs 0.1.0 attaches its
        # program for TX-only sockets too unless the mode is NONE.) An explicit
        # TX budget reaches the library.
        umem, sock = self.open_pair(frame_count=64, rx_size=0, xdp_mode=xsk_rs.XDP_MODE_NONE,
                                    tx_budget=xsk_rs.TX_BUDGET_MIN)
        with umem, sock, self.peer() as peer:
            self.assertFalse(self.xdp_on(self.ns_a, self.if_a), "XDP_MODE_NONE attached XDP")
            descs = []
            for i, frame in enumerate(want):
                view = umem.frame(i * FRAME, len(frame))
                view[:] = frame
                view.release()
                descs.append((i * FRAME, len(frame)))
            self.assertEqual(sock.transmit(descs), len(descs))
            done = self.wait_completed(umem, sock, len(descs))
            self.assertEqual(done, [a for a, _ in descs])
            got = self.peer_recv(peer, len(want))
            self.assertEqual(len(got), len(want))
            self.no_more_frames(sock, peer)
            for i, (data, frame) in enumerate(zip(got, want)):
                self.assertEqual(data, frame, "frame %d differs" % i)
            self.assertEqual(sock.stats().tx_invalid_descs, 0)
            with self.assertRaises(OSError) as cm:
                sock.receive()
            self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_stats(self):
        umem, sock = self.open_pair(frame_count=64)
        with umem, sock, self.peer() as peer:
            st = sock.stats()
            self.assertIsInstance(st, xsk_rs.Stats)
            self.assertEqual(st[:5], (0, 0, 0, 0, 0), st)
            # Frames that find the fill ring empty are dropped and counted.
            for seq in range(4):
                peer.send(test_frame(seq, 100))
            st = self.wait_stats(sock, lambda s: s.rx_dropped >= 4)
            self.assertEqual(st.rx_dropped, 4, st)
            self.assertEqual(st.rx_fill_ring_empty_descs, 4, st)
            self.assertEqual(sock.receive(), [])
            # With frames on the fill ring they arrive, and nothing more is dropped.
            umem.fill(range(0, 32 * FRAME, FRAME))
            for seq in range(8):
                peer.send(test_frame(seq, 200))
            got = self.receive(umem, sock, 8)
            self.assertEqual([d for _, d in got], [test_frame(seq, 200) for seq in range(8)])
            self.assertEqual(sock.stats()[:5], st[:5])
            # A TX descriptor outside the UMEM is rejected and counted, and the
            # next batch still goes out.
            sock.transmit([(umem.size, 60)])
            deadline = time.monotonic() + WAIT_S
            while sock.stats().tx_invalid_descs == 0 and time.monotonic() < deadline:
                sock.kick()
                time.sleep(0.01)
            st = sock.stats()
            self.assertEqual(st.tx_invalid_descs, 1, st)
            # Kernels differ: older ones skip an invalid descriptor silently,
            # newer ones also return its address on the completion ring.
            bad = umem.completed()
            self.assertIn(bad, ([], [umem.size]))
            umem.write(40 * FRAME, test_frame(77, 90))
            self.assertEqual(sock.transmit([xsk_rs.Desc(40 * FRAME, 90, 0)]), 1)
            self.assertEqual(self.peer_recv(peer, 1), [test_frame(77, 90)])
            self.assertEqual(self.wait_completed(umem, sock, 1), [40 * FRAME])
            self.assertEqual(sock.stats()[:5], st[:5])
            self.no_more_frames(sock, peer)

    def wait_completed(self, umem, sock, count):
        done, deadline = [], time.monotonic() + WAIT_S
        while len(done) < count and time.monotonic() < deadline:
            c = umem.completed(64)
            done += c
            if not c:
                sock.kick()
                sock.poll(xsk_rs.POLLOUT, 10)
        return done

    def no_more_frames(self, sock, peer):
        """Nothing further arrives at either end within 200 ms."""
        time.sleep(0.2)
        if sock._rx:
            self.assertEqual(sock.receive(), [], "an unexpected frame reached the XDP socket")
        peer.settimeout(0.01)
        extra = []
        with contextlib.suppress(socket.timeout):
            while True:
                data, addr = peer.recvfrom(4096)
                if addr[2] != PACKET_OUTGOING:
                    extra.append(data)
        self.assertEqual(extra, [], "unexpected frames reached the peer")

    # ---- errors and lifetimes ----

    def test_no_such_interface(self):
        with self.netns(self.ns_a), xsk_rs.Umem(frame_count=64, frame_size=FRAME) as umem:
            with self.assertRaises(OSError) as cm:
                xsk_rs.Socket("nosuch%d" % os.getpid(), 0, umem)
        e = cm.exception
        self.assertEqual(e.errno, errno.ENODEV)
        self.assertIn("nosuch%d" % os.getpid(), e.strerror)
        self.assertIn("xsk_rs_socket_create", e.strerror)
        self.assertEqual(e.strerror, xsk_rs.last_error())
        # The interface exists in ns_a only: from our own namespace, ENODEV too.
        with xsk_rs.Umem(frame_count=64, frame_size=FRAME) as umem:
            with self.assertRaises(OSError) as cm:
                xsk_rs.Socket(self.if_a, 0, umem)
        self.assertEqual(cm.exception.errno, errno.ENODEV)

    def test_bad_config(self):
        with self.assertRaises(OSError) as cm:
            xsk_rs.Umem(frame_size=1000)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertIn("frame size 1000", cm.exception.strerror)
        with self.netns(self.ns_a), xsk_rs.Umem(frame_count=64, frame_size=FRAME) as umem:
            for args, words in [({"rx_size": 1000}, "1000"), ({"queue": 3}, "queue 3"),
                                ({"rx_size": 0, "tx_size": 0}, ""), ({"tx_budget": 31}, "tx budget 31"),
                                ({"tx_size": 64, "tx_budget": 65}, "tx budget 65")]:
                queue = args.pop("queue", 0)
                with self.subTest(args=args, queue=queue):
                    with self.assertRaises(OSError) as cm:
                        xsk_rs.Socket(self.if_a, queue, umem, **args)
                    self.assertEqual(cm.exception.errno, errno.EINVAL, cm.exception)
                    self.assertIn(words, cm.exception.strerror)
            with self.assertRaises(OSError) as cm:
                xsk_rs.Socket(self.if_a, 0, umem, bind_flags=xsk_rs.BIND_ZEROCOPY)
            self.assertEqual(cm.exception.errno, errno.EOPNOTSUPP, cm.exception)

    def test_last_error_is_per_thread(self):
        with self.assertRaises(OSError):
            xsk_rs.Umem(frame_size=1000)
        mine = xsk_rs.last_error()
        theirs = []

        def other():
            with xsk_rs.Umem(frame_count=64, frame_size=FRAME) as umem:
                try:
                    xsk_rs.Socket("nosuch%d" % os.getpid(), 0, umem)
                except OSError as e:
                    theirs.append((e.errno, e.strerror, xsk_rs.last_error()))
        t = threading.Thread(target=other)
        t.start()
        t.join()
        self.assertEqual(len(theirs), 1)
        self.assertEqual(theirs[0][0], errno.ENODEV)
        self.assertEqual(theirs[0][1], theirs[0][2])
        self.assertEqual(xsk_rs.last_error(), mine)

    def test_close_order_and_twice(self):
        umem, sock = self.open_pair(frame_count=64)
        view = umem.frame(0, 64)
        with self.assertRaises(OSError) as cm:
            umem.close()
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        self.assertIn("xsk_rs_umem_destroy", cm.exception.strerror)
        self.assertFalse(umem.closed)
        self.assertEqual(umem.fill([0]), 1, "the UMEM still works after the refused close")
        sock.close()
        sock.close()
        self.assertTrue(sock.closed)
        umem.close()
        umem.close()
        self.assertTrue(umem.closed)
        # A view taken before close stays mapped: no crash, just no kernel.
        view[:4] = b"abcd"
        self.assertEqual(bytes(view[:4]), b"abcd")
        view.release()
        calls = [lambda: sock.receive(), lambda: sock.transmit([(0, 60)]), sock.kick, sock.poll, sock.stats,
                 lambda: sock.fd, lambda: sock.is_zerocopy, lambda: sock.xdp_mode, lambda: umem.fill([0]), umem.completed,
                 lambda: umem.frame(0, 1), lambda: umem.read(0, 1), lambda: umem.write(0, b"x"),
                 lambda: umem.fd, lambda: xsk_rs.Socket(self.if_a, 0, umem)]
        for i, call in enumerate(calls):
            with self.subTest(call=i), self.assertRaises(OSError) as cm:
                call()
            self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_frame_bounds(self):
        with xsk_rs.Umem(frame_count=16, frame_size=FRAME) as umem:
            self.assertEqual(umem.size, 16 * FRAME)
            self.assertEqual(len(umem.frame(umem.size - 10, 10)), 10)
            for addr, length in [(umem.size, 1), (umem.size - 10, 11), (-1, 1), (0, -1), (1 << 60, 1), (1 << 64, 1)]:
                with self.subTest(addr=addr, length=length), self.assertRaises(ValueError):
                    umem.frame(addr, length)
            self.assertEqual(umem.write(3 * FRAME + 5, b"hello"), 5)
            self.assertEqual(umem.read(3 * FRAME + 5, 5), b"hello")
            self.assertEqual(umem.completed(), [])
            self.assertEqual(umem.fill(a * FRAME for a in range(4)), 4)

    def test_getters(self):
        """Sizes, fill levels, headroom, frame starts, ifindex, queue id and
        the XSKMAP fd, each with a value of its own."""
        with self.netns(self.ns_a):
            umem = xsk_rs.Umem(frame_count=64, frame_size=FRAME, frame_headroom=128, fill_size=128, comp_size=32)
            sock = xsk_rs.Socket(self.if_a, 0, umem, rx_size=32, tx_size=64, xdp_mode=xsk_rs.XDP_MODE_DRV)
        try:
            self.assertEqual((umem.frame_headroom, umem.fill_size, umem.comp_size, sock.rx_size, sock.tx_size),
                             (128, 128, 32, 32, 64))
            self.assertEqual(sock.tx_max_len, 1518)  # veth's MTU 1500 + 18
            with self.assertRaises(OSError) as cm:  # too long to send: not a "ring full" 0
                sock.transmit([(0, 1519)], kick=False)
            self.assertEqual(cm.exception.errno, errno.EMSGSIZE, cm.exception)
            self.assertEqual([umem.frame_start(a) for a in (0, FRAME, 5 * FRAME + 300)], [0, FRAME, 5 * FRAME])
            self.assertEqual((umem.fill_nb_free(), umem.fill_nb_free(5)), (128, 5))
            self.assertEqual(umem.fill([0, FRAME, 2 * FRAME]), 3)
            self.assertEqual(umem.fill_nb_free(), 125)
            self.assertEqual((umem.comp_nb_avail(), sock.rx_nb_avail(), sock.tx_nb_free()), (0, 0, 64))
            with self.netns(self.ns_a):
                want = socket.if_nametoindex(self.if_a)
            self.assertEqual((sock.ifindex, sock.queue_id), (want, 0))
            self.assertGreaterEqual(sock.xskmap_fd, 0)
            self.assertNotEqual(sock.xskmap_fd, sock.fd)
        finally:
            sock.close()
            umem.close()
        umem, sock = self.open_pair(frame_count=16, xdp_mode=xsk_rs.XDP_MODE_NONE)
        try:
            with self.assertRaises(OSError) as cm:
                sock.xskmap_fd
            self.assertEqual(cm.exception.errno, errno.ENOENT)
            self.assertIn("no XDP program", cm.exception.strerror)
        finally:
            sock.close()
            umem.close()
        with xsk_rs.Umem(frame_count=16, frame_size=FRAME, flags=xsk_rs.UMEM_UNALIGNED_CHUNKS) as umem:
            self.assertEqual(umem.frame_start((256 << 48) | 1000), 1000)

    def test_lending_lends_every_frame(self):
        u, s = xsk_rs.lending(1000)
        with self.netns(self.ns_a):
            umem = xsk_rs.Umem(**u)
            sock = xsk_rs.Socket(self.if_a, 0, umem, **s)
        with umem, sock:
            self.assertEqual((umem.frame_count, umem.fill_size, umem.comp_size, sock.rx_size, sock.tx_size),
                             (1000, 2048, 1024, 1024, 1024))
            self.assertEqual(umem.fill(range(0, umem.size, umem.frame_size)), 1000)

    def test_refused_ring_call_raises(self):
        """A ring call the library refuses returns a negative errno, which the
        module raises as OSError, never passes on as a count: here fill()
        while a raw reserve is open on the fill ring."""
        lib, idx = xsk_rs.load(), ctypes.c_uint32()
        with xsk_rs.Umem(frame_count=16, frame_size=FRAME, fill_size=16) as umem:
            self.assertEqual(lib.xsk_rs_fill_reserve(umem._fill, 1, ctypes.byref(idx)), 1)
            with self.assertRaises(OSError) as cm:
                umem.fill([0])
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIn("xsk_rs_fill_put: 1 entries reserved and not yet submitted", cm.exception.strerror)
            self.assertEqual(lib.xsk_rs_fill_submit(umem._fill, 2), 1, "submit says how many it handed over")
            self.assertEqual(umem.fill([FRAME]), 1)
        self.assertEqual(lib.xsk_rs_fill_put(None, None, 1), -errno.EINVAL, "misuse is negative, not 0")
        self.assertEqual(lib.xsk_rs_fill_needs_wakeup(None), -errno.EINVAL)

    def test_unclosed_warns(self):
        umem = xsk_rs.Umem(frame_count=16, frame_size=FRAME)
        with self.assertWarns(ResourceWarning):
            del umem
            gc.collect()
        umem, sock = self.open_pair(frame_count=16)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del umem, sock
            gc.collect()
            first = [str(w.message) for w in caught]
            # The record of the socket's warning holds the socket (source=),
            # which holds its Umem: dropping it lets the Umem go.
            caught.clear()
            gc.collect()
            second = [str(w.message) for w in caught]
        self.assertEqual(first, ["unclosed <xsk_rs.Socket %s queue 0>" % self.if_a])
        self.assertEqual(second, ["unclosed <xsk_rs.Umem 16 x 2048 bytes>"])


if __name__ == "__main__":
    unittest.main()
