package xskrs

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// IRQDeferVia says how an IRQDeferral sets its values
// (XSK_RS_IRQ_DEFER_VIA_* in C).
type IRQDeferVia uint32

// The ways.
const (
	// IRQDeferViaAuto: netdev napi-set where the kernel has it (6.13), else
	// the per-device sysfs files where /sys shows the thread's namespace.
	IRQDeferViaAuto IRQDeferVia = C.XSK_RS_IRQ_DEFER_VIA_AUTO
	// IRQDeferViaNAPISet: every NAPI instance of the device (Linux 6.13).
	IRQDeferViaNAPISet IRQDeferVia = C.XSK_RS_IRQ_DEFER_VIA_NAPI_SET
	// IRQDeferViaSysfs: /sys/class/net/DEV/napi_defer_hard_irqs and
	// gro_flush_timeout.
	IRQDeferViaSysfs IRQDeferVia = C.XSK_RS_IRQ_DEFER_VIA_SYSFS
)

// IRQDeferConfig is what NewIRQDeferral sets; nil fields are left as they
// are.
type IRQDeferConfig struct {
	DeferHardIRQs       *uint32 // empty NAPI polls before the device's interrupt is re-armed
	GROFlushTimeoutNs   *uint64 // how long a deferred NAPI waits for a busy poll before softirq runs it
	IRQSuspendTimeoutNs *uint64 // Linux 6.13, per-NAPI configuration only
	Via                 IRQDeferVia
}

// IRQDeferral is a device's IRQ deferral, set by NewIRQDeferral and put back
// by Restore or Close. A process killed with SIGKILL cannot restore: the
// device keeps deferring its interrupts (see the C header).
type IRQDeferral struct {
	mu sync.Mutex
	h  *C.xsk_rs_irq_defer
}

// NewIRQDeferral sets cfg on interface ifname, in the network namespace of
// the OS thread that runs it. On veth the NAPI instances exist only while
// XDP runs in drv mode: create it after the socket. Errors: EINVAL, ENODEV,
// ENOENT (no NAPI instance), EPERM, EOPNOTSUPP (naming napi-set and sysfs).
func NewIRQDeferral(ifname string, cfg IRQDeferConfig) (*IRQDeferral, error) {
	var set C.uint32_t
	var deferIRQs C.uint32_t
	var gro, suspend C.uint64_t
	if cfg.DeferHardIRQs != nil {
		set |= C.XSK_RS_IRQ_DEFER_SET_HARD_IRQS
		deferIRQs = C.uint32_t(*cfg.DeferHardIRQs)
	}
	if cfg.GROFlushTimeoutNs != nil {
		set |= C.XSK_RS_IRQ_DEFER_SET_GRO_FLUSH_TIMEOUT
		gro = C.uint64_t(*cfg.GROFlushTimeoutNs)
	}
	if cfg.IRQSuspendTimeoutNs != nil {
		set |= C.XSK_RS_IRQ_DEFER_SET_IRQ_SUSPEND_TIMEOUT
		suspend = C.uint64_t(*cfg.IRQSuspendTimeoutNs)
	}
	cname := C.CString(ifname)
	defer C.free(unsafe.Pointer(cname))
	r := C.xskrs_go_irq_defer_create(cname, set, deferIRQs, gro, suspend, C.uint32_t(cfg.Via))
	if err := check("NewIRQDeferral", r); err != nil {
		return nil, err
	}
	d := &IRQDeferral{h: (*C.xsk_rs_irq_defer)(r.handle)}
	runtime.SetFinalizer(d, (*IRQDeferral).Close)
	return d, nil
}

func (d *IRQDeferral) call(op string, f func(*C.xsk_rs_irq_defer) C.struct_xskrs_go_ret) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		return 0, &Error{Op: op, Errno: syscall.EBADF, Msg: "IRQDeferral is closed"}
	}
	return count(op, f(d.h))
}

// Via says how the values were set (IRQDeferViaNAPISet or IRQDeferViaSysfs).
func (d *IRQDeferral) Via() (IRQDeferVia, error) {
	n, err := d.call("IRQDeferral.Via", func(h *C.xsk_rs_irq_defer) C.struct_xskrs_go_ret { return C.xskrs_go_irq_defer_via(h) })
	return IRQDeferVia(n), err
}

// NAPICount is the number of NAPI instances set (0 for sysfs, which sets
// the device).
func (d *IRQDeferral) NAPICount() (int, error) {
	return d.call("IRQDeferral.NAPICount", func(h *C.xsk_rs_irq_defer) C.struct_xskrs_go_ret {
		return C.xskrs_go_irq_defer_napi_count(h)
	})
}

// Restore puts the previous values back now; later calls do nothing.
func (d *IRQDeferral) Restore() error {
	_, err := d.call("IRQDeferral.Restore", func(h *C.xsk_rs_irq_defer) C.struct_xskrs_go_ret {
		return C.xskrs_go_irq_defer_restore(h)
	})
	return err
}

// Close restores (unless Restore did; failures are not reported) and frees.
// Closing twice is a no-op.
func (d *IRQDeferral) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h != nil {
		C.xsk_rs_irq_defer_destroy(d.h)
		d.h = nil
		runtime.SetFinalizer(d, nil)
	}
	return nil
}
