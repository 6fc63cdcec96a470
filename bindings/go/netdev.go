package xskrs

/*
#include "shim.h"
*/
import "C"

import "unsafe"

// XDPFeatures are the XDP actions a device supports (netdev netlink
// xdp-features; XSK_RS_XDP_FEATURE_* in C).
type XDPFeatures uint64

// The xdp-features bits.
const (
	XDPFeatureBasic       XDPFeatures = C.XSK_RS_XDP_FEATURE_BASIC
	XDPFeatureRedirect    XDPFeatures = C.XSK_RS_XDP_FEATURE_REDIRECT
	XDPFeatureNdoXmit     XDPFeatures = C.XSK_RS_XDP_FEATURE_NDO_XMIT
	XDPFeatureXskZerocopy XDPFeatures = C.XSK_RS_XDP_FEATURE_XSK_ZEROCOPY
	XDPFeatureHwOffload   XDPFeatures = C.XSK_RS_XDP_FEATURE_HW_OFFLOAD
	XDPFeatureRxSG        XDPFeatures = C.XSK_RS_XDP_FEATURE_RX_SG
	XDPFeatureNdoXmitSG   XDPFeatures = C.XSK_RS_XDP_FEATURE_NDO_XMIT_SG
)

// XSKFeatures are the AF_XDP TX metadata a device honours (netdev netlink
// xsk-features; XSK_RS_XSK_FEATURE_* in C).
type XSKFeatures uint64

// The xsk-features bits.
const (
	XSKFeatureTxTimestamp      XSKFeatures = C.XSK_RS_XSK_FEATURE_TX_TIMESTAMP
	XSKFeatureTxChecksum       XSKFeatures = C.XSK_RS_XSK_FEATURE_TX_CHECKSUM
	XSKFeatureTxLaunchTimeFIFO XSKFeatures = C.XSK_RS_XSK_FEATURE_TX_LAUNCH_TIME_FIFO
)

// XDPAttached says how programs sit on a device (XSK_RS_XDP_ATTACHED_*).
type XDPAttached uint32

// The attachment states.
const (
	XDPAttachedNone  XDPAttached = C.XSK_RS_XDP_ATTACHED_NONE
	XDPAttachedDRV   XDPAttached = C.XSK_RS_XDP_ATTACHED_DRV
	XDPAttachedSKB   XDPAttached = C.XSK_RS_XDP_ATTACHED_SKB
	XDPAttachedHW    XDPAttached = C.XSK_RS_XDP_ATTACHED_HW
	XDPAttachedMulti XDPAttached = C.XSK_RS_XDP_ATTACHED_MULTI
)

// NetdevProgram is an XDP program attached to a device.
type NetdevProgram struct {
	ID    uint32
	Name  string // "" when this process may not open it by id
	XskRs bool   // xsk_rs's built-in redirect program (this process's or another's)
}

// NetdevCaps is what an interface offers AF_XDP (xsk_rs_netdev_query). A
// field whose Known flag is false (or a nil slice) is one this kernel does
// not report: the netdev netlink family came in Linux 6.3, xdp-zc-max-segs
// in 6.6 (and only for zero-copy devices), xsk-features and the NAPI ids in
// 6.8.
type NetdevCaps struct {
	Ifindex, MTU                      uint32
	RxQueues, TxQueues, MaxQueues     uint32
	XDPFeatures                       XDPFeatures
	XDPFeaturesKnown                  bool
	XDPZCMaxSegs                      uint32
	XDPZCMaxSegsKnown                 bool
	XSKFeatures                       XSKFeatures
	XSKFeaturesKnown                  bool
	RxNAPIIDs, TxNAPIIDs              []uint32 // per queue; 0: the queue has no NAPI; nil: unknown
	NAPIIDs                           []uint32 // every NAPI instance of the device; nil: unknown
	Attached                          XDPAttached
	SKBProgram, DRVProgram, HWProgram *NetdevProgram // nil: none in that mode
}

func program(id C.uint32_t, name *C.char, ours C.uint32_t) *NetdevProgram {
	if id == 0 {
		return nil
	}
	return &NetdevProgram{ID: uint32(id), Name: C.GoString(name), XskRs: ours != 0}
}

// NetdevInfo asks the kernel what interface name offers AF_XDP, in the
// network namespace of the OS thread that runs it (see the package doc on
// namespaces). On an older kernel it still answers, with the fields it
// cannot know marked unknown.
func NetdevInfo(name string) (*NetdevCaps, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	r := C.xskrs_go_netdev_query(cname)
	if err := check("NetdevInfo", r.r); err != nil {
		return nil, err
	}
	i := &r.info
	known := uint32(i.known)
	c := &NetdevCaps{
		Ifindex: uint32(i.ifindex), MTU: uint32(i.mtu),
		RxQueues: uint32(i.rx_queues), TxQueues: uint32(i.tx_queues), MaxQueues: uint32(i.max_queues),
		XDPFeatures: XDPFeatures(i.xdp_features), XDPFeaturesKnown: known&C.XSK_RS_NETDEV_KNOWN_XDP_FEATURES != 0,
		XDPZCMaxSegs: uint32(i.xdp_zc_max_segs), XDPZCMaxSegsKnown: known&C.XSK_RS_NETDEV_KNOWN_XDP_ZC_MAX_SEGS != 0,
		XSKFeatures: XSKFeatures(i.xsk_features), XSKFeaturesKnown: known&C.XSK_RS_NETDEV_KNOWN_XSK_FEATURES != 0,
		Attached:   XDPAttached(i.xdp_attached),
		SKBProgram: program(i.skb_prog_id, &i.skb_prog_name[0], i.skb_prog_is_xsk_rs),
		DRVProgram: program(i.drv_prog_id, &i.drv_prog_name[0], i.drv_prog_is_xsk_rs),
		HWProgram:  program(i.hw_prog_id, &i.hw_prog_name[0], i.hw_prog_is_xsk_rs),
	}
	if known&C.XSK_RS_NETDEV_KNOWN_NAPI_IDS == 0 {
		return c, nil
	}
	// Each queue's id, then the device's list. The device may change
	// between the calls; an error then is the caller's to see.
	queues := func(n uint32, isTx C.int) ([]uint32, error) {
		ids := make([]uint32, n)
		for q := uint32(0); q < n; q++ {
			var id C.uint32_t
			if err := check("NetdevInfo", C.xskrs_go_netdev_queue_napi_id(cname, C.uint32_t(q), isTx, &id)); err != nil {
				return nil, err
			}
			ids[q] = uint32(id)
		}
		return ids, nil
	}
	var err error
	if c.RxNAPIIDs, err = queues(c.RxQueues, 0); err != nil {
		return nil, err
	}
	if c.TxNAPIIDs, err = queues(c.TxQueues, 1); err != nil {
		return nil, err
	}
	for capacity := 8; ; capacity *= 2 {
		ids := make([]C.uint32_t, capacity)
		var n C.uint32_t
		if err := check("NetdevInfo", C.xskrs_go_netdev_napi_ids(cname, &ids[0], C.uint32_t(capacity), &n)); err != nil {
			return nil, err
		}
		if int(n) <= capacity {
			c.NAPIIDs = make([]uint32, n)
			for k := range c.NAPIIDs {
				c.NAPIIDs[k] = uint32(ids[k])
			}
			return c, nil
		}
	}
}

// KernelFeature is one thing the running kernel's AF_XDP or XDP can do.
type KernelFeature struct {
	Name      string // e.g. "multi-buffer AF_XDP (XDP_USE_SG)"
	Since     string // the first Linux release with it, e.g. "6.6"
	Available bool
	Unknown   bool // its probe could not run (e.g. no CAP_NET_RAW); Available is false then
}

// KernelFeatures probes, once per process, what the running kernel has
// (xsk_rs_kernel_features): by asking the kernel, never from its version.
func KernelFeatures() ([]KernelFeature, error) {
	var bits, unknown C.uint64_t
	if err := check("KernelFeatures", C.xskrs_go_kernel_features(&bits, &unknown)); err != nil {
		return nil, err
	}
	var out []KernelFeature
	for i := 0; i < 64; i++ {
		bit := C.uint64_t(1) << i
		name := C.xsk_rs_feature_name(bit)
		if name == nil {
			continue
		}
		out = append(out, KernelFeature{Name: C.GoString(name), Since: C.GoString(C.xsk_rs_feature_since(bit)),
			Available: bits&bit != 0, Unknown: unknown&bit != 0})
	}
	return out, nil
}
