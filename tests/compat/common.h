/*
 * common.h: what the differential programs of tests/compat share. They are
 * written against libxdp's API only (<xdp/xsk.h>, <xdp/libxdp.h>) and built
 * twice, against Debian's libxdp and against libxsk_rs-compat, so nothing
 * here may come from either library: test frames (the layout of
 * tests/c/harness.h, which peer_send and peer_recv use), results, waiting,
 * the socket counters, and a tiny XDP program of the caller's own, loaded
 * and attached with raw bpf(2) (no libbpf).
 *
 * Output: every line a program prints on stdout is a result that both
 * builds must print identically (tests/compat/run.sh compares them), so
 * only deterministic values go there; progress and failures go to stderr.
 * "ready" / "ready2" on stderr tell the runner to start the traffic of the
 * next phase. Exit 0 when every check held, 1 otherwise, 2 for bad usage.
 *
 * The including file defines _GNU_SOURCE first.
 */
#ifndef XSK_RS_COMPAT_TEST_COMMON_H
#define XSK_RS_COMPAT_TEST_COMMON_H

#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../c/clock.h"
#include "../c/frame.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static const char *prog_name = "compat";
static unsigned failures;

/* ---- results ------------------------------------------------------------ */

/* A result line: must be the same for both builds. */
__attribute__((format(printf, 1, 2))) static inline void result(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A check: counted, and on failure described on stderr (and in the results,
 * so that the two builds' outputs differ too). */
__attribute__((format(printf, 4, 5))) static inline int check_at(const char *file, int line, int ok,
								   const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return 1;
	failures++;
	fprintf(stderr, "%s: FAIL [%s:%d] ", prog_name, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	result("FAIL at line %d", line);
	return 0;
}
#define CHECK(cond, ...) check_at(__FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__)

__attribute__((format(printf, 1, 2), noreturn)) static inline void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Tells the runner that the next phase's traffic may start. */
static inline void ready(const char *tag)
{
	fprintf(stderr, "%s\n", tag);
	fflush(stderr);
}

static inline int finish(void)
{
	result("checks failed: %u", failures);
	return failures ? 1 : 0;
}

/* ---- time --------------------------------------------------------------- */

#define WAIT_MS 10000 /* longest wait for any traffic */


/* ---- arguments ---------------------------------------------------------- */

/* XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE for "skb" / "drv". */
static inline __u32 mode_flags(const char *mode)
{
	if (!strcmp(mode, "skb"))
		return XDP_FLAGS_SKB_MODE;
	if (!strcmp(mode, "drv"))
		return XDP_FLAGS_DRV_MODE;
	fprintf(stderr, "%s: mode must be skb or drv, not %s\n", prog_name, mode);
	exit(2);
}

static inline unsigned number(const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v > max) {
		fprintf(stderr, "%s: %s is no number up to %u\n", prog_name, s, max);
		exit(2);
	}
	return (unsigned)v;
}

/* ---- test frames (tests/c/frame.h has the layout) ------------------------ */

/* True when f[0..len) is exactly test frame seq of length want_len, as
 * peer_send makes it. */
static inline int frame_is(const uint8_t *f, uint32_t len, uint32_t seq, uint32_t want_len)
{
	uint8_t want[2048];

	if (len != want_len || len > sizeof(want))
		return 0;
	make_frame(want, seq, len);
	return memcmp(f, want, len) == 0;
}

static inline void swap_macs(uint8_t *f)
{
	uint8_t tmp[6];

	memcpy(tmp, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, tmp, 6);
}

/* ---- the socket --------------------------------------------------------- */

/* An anonymous, page-aligned UMEM area. */
static inline void *area_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes: %s", size, strerror(errno));
	return p;
}

/* The kernel's counters. tx_ring_empty_descs is left out of every result:
 * it counts the wakeups that found the TX ring empty, a matter of timing. */
static inline struct xdp_statistics stats_of(const struct xsk_socket *xsk)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(xsk_socket__fd(xsk), SOL_XDP, XDP_STATISTICS, &st, &len))
		die("XDP_STATISTICS: %s", strerror(errno));
	return st;
}

static inline void print_stats(const char *name, const struct xsk_socket *xsk)
{
	struct xdp_statistics st = stats_of(xsk);

	result("%s counters: rx_dropped=%llu rx_invalid_descs=%llu tx_invalid_descs=%llu rx_ring_full=%llu "
	       "rx_fill_ring_empty_descs=%llu",
	       name, (unsigned long long)st.rx_dropped, (unsigned long long)st.rx_invalid_descs,
	       (unsigned long long)st.tx_invalid_descs, (unsigned long long)st.rx_ring_full,
	       (unsigned long long)st.rx_fill_ring_empty_descs);
}

/* Wakes the kernel to send what the TX ring holds. "Try again" answers are
 * not failures: the next kick sends. */
static inline void kick_tx(const struct xsk_socket *xsk)
{
	if (sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
	    errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN && errno != EINTR)
		die("sendto: %s", strerror(errno));
}

/* Waits up to ms for the socket to be readable, waking the kernel for the
 * fill ring first when it asks. */
static inline void wait_rx(const struct xsk_socket *xsk, struct xsk_ring_prod *fill, int ms)
{
	struct pollfd pfd = { .fd = xsk_socket__fd(xsk), .events = POLLIN };

	if (xsk_ring_prod__needs_wakeup(fill))
		recvfrom(pfd.fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	poll(&pfd, 1, ms);
}

/* Lends frames [first, first + n) of frame_size bytes to a fill ring. */
static inline void lend(struct xsk_ring_prod *fill, __u64 first, __u32 n, __u32 frame_size)
{
	__u32 idx = 0;

	if (xsk_ring_prod__reserve(fill, n, &idx) != n)
		die("the fill ring has no room for %u frames", n);
	for (__u32 i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(fill, idx + i) = (first + i) * frame_size;
	xsk_ring_prod__submit(fill, n);
}

/* ---- the caller's own XDP program, by raw bpf(2) ------------------------ */

static inline int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

struct own_prog {
	int xskmap, counter, prog, link;
};

/* A one-entry map of `type` with 4-byte keys and `value_size`-byte values. */
static inline int map_create(__u32 type, __u32 value_size)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = 4;
	a.value_size = value_size;
	a.max_entries = 1;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/*
 * Loads and attaches (bpf_link, mode_flags) a program of the caller's own:
 * it counts every packet in counter[0] and redirects it to xskmap[its RX
 * queue], passing it on when that entry is empty. Returns 0 or -errno.
 */
static inline int own_prog_attach(struct own_prog *p, int ifindex, __u32 flags)
{
	union bpf_attr a;
	char log[4096];

	p->xskmap = map_create(BPF_MAP_TYPE_XSKMAP, 4);
	p->counter = map_create(BPF_MAP_TYPE_ARRAY, 8);
	if (p->xskmap < 0 || p->counter < 0)
		return -errno;

	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0), /* r6 = ctx */
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0), /* key 0 on the stack */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, p->counter),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0), /* no value: skip the count */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1),
		INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD), /* counter[0] += 1 */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, (__s16)offsetof(struct xdp_md, rx_queue_index), 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, p->xskmap),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, XDP_PASS), /* the action when the entry is empty */
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.expected_attach_type = BPF_XDP;
	a.insns = (__u64)(uintptr_t)insns;
	a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	a.license = (__u64)(uintptr_t) "Dual MIT/GPL";
	a.log_buf = (__u64)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = 0;
	p->prog = sys_bpf(BPF_PROG_LOAD, &a);
	if (p->prog < 0) {
		int err = errno;

		fprintf(stderr, "%s: verifier: %s\n", prog_name, log);
		return -err;
	}
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)p->prog;
	a.link_create.target_ifindex = (__u32)ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = flags;
	p->link = sys_bpf(BPF_LINK_CREATE, &a);
	return p->link < 0 ? -errno : 0;
}

/* counter[0] of the caller's program, or -1. */
static inline long long own_prog_count(const struct own_prog *p)
{
	union bpf_attr a;
	__u32 key = 0;
	__u64 value = 0;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)p->counter;
	a.key = (__u64)(uintptr_t)&key;
	a.value = (__u64)(uintptr_t)&value;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) ? -1 : (long long)value;
}

/* Deletes xskmap[key] (before the socket there goes). Returns 0 or -errno. */
static inline int own_map_delete(int map, __u32 key)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)map;
	a.key = (__u64)(uintptr_t)&key;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a) ? -errno : 0;
}

/* Detaches (closing the link) and frees the program and its maps. */
static inline void own_prog_close(struct own_prog *p)
{
	close(p->link);
	close(p->prog);
	close(p->counter);
	close(p->xskmap);
}

#endif
