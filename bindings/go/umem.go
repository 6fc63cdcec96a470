package xskrs

/*
#include "shim.h"
*/
import "C"

import "unsafe"

// UmemConfig configures NewUmem. A zero field means the library's default, so
// UmemConfig{} is the default UMEM: 4096 frames of 4096 bytes, no headroom, a
// fill ring of 8192 and a completion ring of 4096 entries (the sizes of
// Lending(4096): every frame can be lent at once), aligned frames.
type UmemConfig struct {
	FrameCount    uint32 // number of frames
	FrameSize     uint32 // bytes per frame: 2048 or 4096 (any from 2048 to the page size when unaligned)
	FrameHeadroom uint32 // bytes left free before received data; below FrameSize-256
	FillSize      uint32 // fill ring entries, a power of two; lend the kernel at most half as many frames (see Lending)
	CompSize      uint32 // completion ring entries, a power of two
	Flags         uint32 // UmemUnalignedChunks, UmemTxSwCsum, UmemHugePages, UmemHugePagesFallback
	// TxMetadataLen is the bytes of TX metadata in front of every TX packet
	// (Linux 6.8): 0 or a multiple of 8 from 24 to 248. TX descriptors must
	// then lie at least this far into their frames.
	TxMetadataLen uint32
}

// UmemTxSwCsum is the UmemConfig.Flags bit for XDP_UMEM_TX_SW_CSUM (Linux
// 6.8): copy mode computes requested TX checksums in software at once.
const UmemTxSwCsum uint32 = C.XSK_RS_UMEM_TX_SW_CSUM

// Lending returns a UmemConfig and a SocketConfig whose rings let frames
// frames all be lent to the kernel at once, by the C header's lending rule
// (see xsk_rs_umem_config.fill_size: lend at most half the fill ring):
// FrameCount is frames, FillSize twice frames, CompSize, RxSize and TxSize
// frames, each ring rounded up to a power of two (xsk_rs_config_lend). Every
// other field is zero, the library's default: set them (NoTx, XDPMode, ...)
// before NewUmem and NewSocket. UmemConfig{} and SocketConfig{} have the
// sizes of Lending(4096). The error is an *Error wrapping syscall.EINVAL when
// frames is 0 or above 1<<29.
func Lending(frames uint32) (UmemConfig, SocketConfig, error) {
	r := C.xskrs_go_config_lend(C.uint32_t(frames))
	if err := check("Lending", r.r); err != nil {
		return UmemConfig{}, SocketConfig{}, err
	}
	u := UmemConfig{FrameCount: uint32(r.u.frame_count), FillSize: uint32(r.u.fill_size), CompSize: uint32(r.u.comp_size)}
	return u, SocketConfig{RxSize: uint32(r.s.rx_size), TxSize: uint32(r.s.tx_size)}, nil
}

// Umem is a registered packet buffer area with its fill and completion
// rings. See the package documentation for lifetime and threading rules.
type Umem struct {
	h         *C.xsk_rs_umem
	fill      *C.xsk_rs_fill
	comp      *C.xsk_rs_comp
	area      []byte
	frameSize uint32
	frameMask uint64 // frameSize-1 for aligned frames
	unaligned bool
}

// unalignedAddrMask keeps the base address of an unaligned ring address,
// whose bits 48-63 hold an offset (the kernel's XSK_UNALIGNED_BUF_ADDR_MASK).
const unalignedAddrMask = 1<<48 - 1

// unalignedOffsetShift is where that offset starts (XSK_UNALIGNED_BUF_OFFSET_SHIFT).
const unalignedOffsetShift = 48

// ExtractAddr returns the base address an unaligned-mode ring address carries
// in its low 48 bits (xsk_rs_umem_extract_addr, libxdp's
// xsk_umem__extract_addr). A plain function, computed in Go.
func ExtractAddr(addr uint64) uint64 { return addr & unalignedAddrMask }

// ExtractOffset returns the offset an unaligned-mode ring address carries in
// its top 16 bits (xsk_rs_umem_extract_offset).
func ExtractOffset(addr uint64) uint64 { return addr >> unalignedOffsetShift }

// AddOffsetToAddr returns the offset into the UMEM area that an
// unaligned-mode ring address refers to: its base plus its offset
// (xsk_rs_umem_add_offset_to_addr).
func AddOffsetToAddr(addr uint64) uint64 { return ExtractAddr(addr) + ExtractOffset(addr) }

// NewUmem creates a UMEM with a library-owned area of FrameCount*FrameSize
// bytes, in the calling thread's network namespace (create the sockets that
// use it in the same namespace).
func NewUmem(cfg UmemConfig) (*Umem, error) {
	var c C.xsk_rs_umem_config
	C.xsk_rs_umem_config_init(&c, C.sizeof_xsk_rs_umem_config) // cannot fail: &c is valid, the size is ours
	if cfg.FrameCount != 0 {
		c.frame_count = C.uint32_t(cfg.FrameCount)
	}
	if cfg.FrameSize != 0 {
		c.frame_size = C.uint32_t(cfg.FrameSize)
	}
	if cfg.FrameHeadroom != 0 {
		c.frame_headroom = C.uint32_t(cfg.FrameHeadroom)
	}
	if cfg.FillSize != 0 {
		c.fill_size = C.uint32_t(cfg.FillSize)
	}
	if cfg.CompSize != 0 {
		c.comp_size = C.uint32_t(cfg.CompSize)
	}
	if cfg.Flags != 0 {
		c.flags = C.uint32_t(cfg.Flags)
	}
	c.tx_metadata_len = C.uint32_t(cfg.TxMetadataLen)
	r := C.xskrs_go_umem_create(c)
	if err := check("NewUmem", r); err != nil {
		return nil, err
	}
	h := (*C.xsk_rs_umem)(r.handle)
	u := &Umem{
		h:         h,
		fill:      C.xsk_rs_umem_fill(h),
		comp:      C.xsk_rs_umem_comp(h),
		frameSize: uint32(C.xsk_rs_umem_frame_size(h)),
		unaligned: cfg.Flags&UmemUnalignedChunks != 0,
	}
	u.frameMask = uint64(u.frameSize) - 1
	size := uint64(C.xsk_rs_umem_size(h))
	u.area = unsafe.Slice((*byte)(C.xsk_rs_umem_area(h)), size)
	return u, nil
}

// Close destroys the UMEM and unmaps its area. While a socket still uses it,
// it returns an *Error wrapping syscall.EBUSY and leaves the UMEM open. A
// second Close returns nil.
func (u *Umem) Close() error {
	if u.h == nil {
		return nil
	}
	if err := check("Umem.Close", C.xskrs_go_umem_destroy(u.h)); err != nil {
		return err
	}
	u.h, u.fill, u.comp, u.area = nil, nil, nil, nil
	return nil
}

// Area returns the whole UMEM area (nil after Close). It stays valid until
// Close.
func (u *Umem) Area() []byte { return u.area }

// Size returns the area's size in bytes (0 after Close).
func (u *Umem) Size() uint64 { return uint64(len(u.area)) }

// FrameSize returns the bytes per frame (0 after Close).
func (u *Umem) FrameSize() uint32 {
	if u.h == nil {
		return 0
	}
	return u.frameSize
}

// FrameCount returns the number of frames (0 after Close).
func (u *Umem) FrameCount() uint32 {
	if u.h == nil {
		return 0
	}
	return uint32(uint64(len(u.area)) / uint64(u.frameSize))
}

// FrameHeadroom returns the bytes left free before received data in each
// frame, as configured (0 after Close). Received data starts 256 +
// FrameHeadroom bytes into its frame.
func (u *Umem) FrameHeadroom() uint32 {
	if u.h == nil {
		return 0
	}
	return uint32(C.xsk_rs_umem_frame_headroom(u.h)) // >= 0: the handle is live
}

// FillSize returns the fill ring's entries (0 after Close).
func (u *Umem) FillSize() uint32 {
	if u.fill == nil {
		return 0
	}
	return uint32(C.xsk_rs_fill_size(u.fill))
}

// CompSize returns the completion ring's entries (0 after Close).
func (u *Umem) CompSize() uint32 {
	if u.comp == nil {
		return 0
	}
	return uint32(C.xsk_rs_comp_size(u.comp))
}

// FillNbFree returns how many fill slots are free, at most nb (libxdp's
// xsk_prod_nb_free): from the cached view when it has nb, else after one
// read of the kernel's index. Fill ring: one goroutine at a time.
func (u *Umem) FillNbFree(nb uint32) (int, error) {
	if u.fill == nil {
		return 0, ErrClosed
	}
	return count("FillNbFree", C.xskrs_go_fill_nb_free(u.fill, C.uint32_t(nb)))
}

// CompNbAvail returns how many completed addresses are ready, at most nb
// (libxdp's xsk_cons_nb_avail), without taking them. Completion ring: one
// goroutine at a time.
func (u *Umem) CompNbAvail(nb uint32) (int, error) {
	if u.comp == nil {
		return 0, ErrClosed
	}
	return count("CompNbAvail", C.xskrs_go_comp_nb_avail(u.comp, C.uint32_t(nb)))
}

// Fd returns the UMEM's AF_XDP fd (do not close it), or -1 after Close.
func (u *Umem) Fd() int {
	if u.h == nil {
		return -1
	}
	return int(C.xsk_rs_umem_fd(u.h))
}

// offset turns a ring address into an offset into the area.
func (u *Umem) offset(addr uint64) uint64 {
	if u.unaligned {
		return AddOffsetToAddr(addr)
	}
	return addr
}

// Frame returns length bytes of the area at ring address addr (an RX
// descriptor's Addr, or a frame address for TX), with its capacity cut at
// length. It returns nil when the range does not lie inside the area, when
// length is negative, or after Close.
func (u *Umem) Frame(addr uint64, length int) []byte {
	off := u.offset(addr)
	size := uint64(len(u.area))
	if length < 0 || off > size || uint64(length) > size-off {
		return nil
	}
	end := off + uint64(length)
	return u.area[off:end:end]
}

// FrameStart returns the address of the frame that holds ring address addr,
// the address to hand back with Fill once the packet is done with: addr
// rounded down to its frame, or in unaligned mode ExtractAddr(addr)
// (xsk_rs_umem_frame_start, computed in Go). Arithmetic only: it does not
// check that addr lies in the area.
func (u *Umem) FrameStart(addr uint64) uint64 {
	if u.unaligned {
		return ExtractAddr(addr)
	}
	return addr &^ u.frameMask
}

// Fill puts frame addresses on the fill ring for the kernel to receive into,
// in one call. It returns how many it queued: fewer than len(addrs) when the
// ring is nearly full. The error is ErrClosed after Close, or an *Error when
// the library refuses the call. Fill ring: one goroutine at a time.
func (u *Umem) Fill(addrs []uint64) (int, error) {
	if u.fill == nil {
		return 0, ErrClosed
	}
	if len(addrs) == 0 {
		return 0, nil
	}
	return count("Fill", C.xskrs_go_fill_put(u.fill, (*C.uint64_t)(unsafe.Pointer(&addrs[0])), clamp32(len(addrs))))
}

// FillNeedsWakeup reports whether the kernel wants a wakeup ((*Socket).Poll
// with PollIn) to take fill entries. Fill ring: one goroutine at a time.
func (u *Umem) FillNeedsWakeup() (bool, error) {
	if u.fill == nil {
		return false, ErrClosed
	}
	n, err := count("FillNeedsWakeup", C.xskrs_go_fill_needs_wakeup(u.fill))
	return n > 0, err
}

// Completed takes the addresses of frames the kernel has finished sending
// into addrs, in one call, and returns how many. The error is ErrClosed after
// Close, or an *Error when the library refuses the call. Completion ring: one
// goroutine at a time.
func (u *Umem) Completed(addrs []uint64) (int, error) {
	if u.comp == nil {
		return 0, ErrClosed
	}
	if len(addrs) == 0 {
		return 0, nil
	}
	return count("Completed", C.xskrs_go_comp_take(u.comp, (*C.uint64_t)(unsafe.Pointer(&addrs[0])), clamp32(len(addrs))))
}
