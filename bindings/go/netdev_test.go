package xskrs

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// ipLinkProg returns the id and name of the XDP program `ip -d link show`
// reports on ifname in ns ("prog/xdp id N name NAME"), or 0 and "".
func ipLinkProg(t *testing.T, ns, ifname string) (uint32, string) {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-d", "link", "show", "dev", ifname).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show: %v\n%s", err, out)
	}
	w := strings.Fields(string(out))
	for i := 0; i+4 < len(w); i++ {
		if strings.HasPrefix(w[i], "prog/xdp") && w[i+1] == "id" && w[i+3] == "name" {
			id, _ := strconv.Atoi(w[i+2])
			return uint32(id), w[i+4]
		}
	}
	return 0, ""
}

// TestNetdevInfo: veth's capabilities before and with the library's program
// in each mode, checked against ip -d link; zero-copy refused with the
// missing feature named.
func TestNetdevInfo(t *testing.T) {
	needRoot(t)
	const veth = XDPFeatureBasic | XDPFeatureRedirect | XDPFeatureRxSG
	for _, mode := range []XDPMode{XDPModeSKB, XDPModeDRV} {
		mode := mode
		t.Run(mode.String(), func(t *testing.T) {
			p := newPair(t)
			var before, with, peer *NetdevCaps
			var id uint32
			var name string
			err := inNetns(p.nsB, func() error {
				var err error
				if before, err = NetdevInfo(p.ifB); err != nil {
					return err
				}
				u, err := NewUmem(UmemConfig{FrameCount: 64, FrameSize: 2048})
				if err != nil {
					return err
				}
				defer u.Close()
				if _, err := NewSocket(p.ifB, 0, u, SocketConfig{BindFlags: BindZerocopy, XDPMode: mode}); !errors.Is(err, syscall.EOPNOTSUPP) ||
					(before.XDPFeaturesKnown && !strings.Contains(err.Error(), "lacks xsk-zerocopy")) {
					t.Errorf("zero-copy on veth: %v", err)
				}
				s, err := NewSocket(p.ifB, 0, u, SocketConfig{NoTx: true, XDPMode: mode})
				if err != nil {
					return err
				}
				defer s.Close()
				// While the socket lives: ip's view, and the peer's.
				id, name = ipLinkProg(t, p.nsB, p.ifB)
				if err := inNetns(p.nsA, func() (err error) { peer, err = NetdevInfo(p.ifA); return }); err != nil {
					return err
				}
				with, err = NetdevInfo(p.ifB)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if before.MTU != 1500 || before.RxQueues != 1 || before.TxQueues != 1 || before.Attached != XDPAttachedNone {
				t.Errorf("before: %+v", before)
			}
			if before.XDPFeaturesKnown && (before.XDPFeatures != veth || before.XDPFeatures&XDPFeatureXskZerocopy != 0) {
				t.Errorf("veth's xdp-features %#x, want %#x", before.XDPFeatures, veth)
			}
			prog, state := with.SKBProgram, XDPAttachedSKB
			if mode == XDPModeDRV {
				prog, state = with.DRVProgram, XDPAttachedDRV
			}
			if with.Attached != state || prog == nil || prog.ID != id || prog.Name != name || name != "xsk_rs_redirect" || !prog.XskRs {
				t.Errorf("attached %v %+v, ip says id %d name %q", with.Attached, prog, id, name)
			}
			// The peer may redirect into a veth running native XDP.
			want := veth
			if mode == XDPModeDRV {
				want |= XDPFeatureNdoXmit | XDPFeatureNdoXmitSG
			}
			if peer.XDPFeaturesKnown && peer.XDPFeatures != want {
				t.Errorf("peer's xdp-features %#x, want %#x", peer.XDPFeatures, want)
			}
			if with.RxNAPIIDs != nil {
				napis := 0
				if mode == XDPModeDRV {
					napis = 1
				}
				if len(with.NAPIIDs) != napis || len(with.RxNAPIIDs) != 1 || with.RxNAPIIDs[0] != 0 {
					t.Errorf("NAPI: device %v, queues %v (veth links none to a queue)", with.NAPIIDs, with.RxNAPIIDs)
				}
			}
		})
	}
	if _, err := NetdevInfo("xskrs-nonexist"); !errors.Is(err, syscall.ENODEV) {
		t.Errorf("missing interface: %v", err)
	}
}

// kernelAtLeast: the running kernel's release (uname) is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	rel := make([]byte, 0, len(uts.Release))
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	parts := strings.SplitN(string(rel), ".", 3)
	if len(parts) < 2 {
		t.Fatalf("kernel release %q", rel)
	}
	ma, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(parts[1])
	return ma > major || (ma == major && mi >= minor)
}

// TestKernelFeatures: every feature the library knows, each as the running
// kernel's release says it should be.
func TestKernelFeatures(t *testing.T) {
	feats, err := KernelFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) != 8 {
		t.Fatalf("%d features: %+v", len(feats), feats)
	}
	for _, f := range feats {
		var want bool
		switch {
		case strings.Contains(f.Name, "XDP_USE_SG"):
			want = kernelAtLeast(t, 6, 6)
		case strings.Contains(f.Name, "tx_metadata_len"):
			want = kernelAtLeast(t, 6, 8)
		default:
			continue
		}
		if f.Available != want {
			t.Errorf("%s (since %s): available %v", f.Name, f.Since, f.Available)
		}
	}
}

// TestIRQDeferral: refusals without a NAPI instance or with another
// namespace's /sys, then napi-set on drv-mode veth (Linux 6.13+): one NAPI
// set, restored, closed twice.
func TestIRQDeferral(t *testing.T) {
	needRoot(t)
	p := newPair(t)
	two, gro := uint32(2), uint64(200000)
	napiSet := kernelAtLeast(t, 6, 13)
	err := inNetns(p.nsA, func() error {
		if _, err := NewIRQDeferral(p.ifA, IRQDeferConfig{}); !errors.Is(err, syscall.EINVAL) ||
			!strings.Contains(err.Error(), "nothing to set") {
			t.Errorf("empty config: %v", err)
		}
		want := syscall.EOPNOTSUPP
		if napiSet {
			want = syscall.ENOENT
		}
		if _, err := NewIRQDeferral(p.ifA, IRQDeferConfig{DeferHardIRQs: &two}); !errors.Is(err, want) {
			t.Errorf("no socket (veth runs no NAPI): %v, want %v", err, want)
		}
		if _, err := NewIRQDeferral(p.ifA, IRQDeferConfig{DeferHardIRQs: &two, Via: IRQDeferViaSysfs}); !errors.Is(err, syscall.EOPNOTSUPP) ||
			!strings.Contains(err.Error(), "/sys shows another network namespace") {
			t.Errorf("sysfs of another namespace: %v", err)
		}
		if !napiSet {
			return nil
		}
		u, err := NewUmem(UmemConfig{FrameCount: 64, FrameSize: 2048})
		if err != nil {
			return err
		}
		defer u.Close()
		s, err := NewSocket(p.ifA, 0, u, SocketConfig{NoTx: true, XDPMode: XDPModeDRV})
		if err != nil {
			return err
		}
		defer s.Close()
		d, err := NewIRQDeferral(p.ifA, IRQDeferConfig{DeferHardIRQs: &two, GROFlushTimeoutNs: &gro})
		if err != nil {
			return err
		}
		via, err := d.Via()
		n, err2 := d.NAPICount()
		if err != nil || err2 != nil || via != IRQDeferViaNAPISet || n != 1 {
			t.Errorf("via %v n %d: %v %v", via, n, err, err2)
		}
		if err := d.Restore(); err != nil {
			t.Errorf("restore: %v", err)
		}
		d.Close()
		d.Close()
		if _, err := d.Via(); !errors.Is(err, syscall.EBADF) {
			t.Errorf("after close: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
