/*
 * hostile_test: every exported xsk_rs_* function called with hostile input.
 *
 *   hostile_test NS_A IF_A NS_B IF_B skb|drv
 *   hostile_test --list          the function each row covers, one a line
 *
 * One row per exported function (the table `rows` at the bottom). A row calls
 * its function with NULL for each pointer, zero and huge sizes and counts (0,
 * ring size + 1, UINT32_MAX, SIZE_MAX), unknown flags and modes, and ring
 * indices that were never reserved or peeked. What must come back:
 *
 *   - an int call (an errno, a count, a flag): for misuse exactly the
 *     documented negative errno, never a count such as 0, and
 *     xsk_rs_last_error() starting with "<function>: " and naming the argument;
 *     a submit/release/cancel of more than is held: what it did, and a message;
 *   - a pointer call: NULL, and an unsigned getter: 0 (values neither has
 *     otherwise), with the same kind of message;
 *   - never a crash, a leak, or a write to an out-param of a refused call.
 *
 * Where the effect is only visible to the kernel (a submit of more than was
 * reserved, a release of more than was peeked), the row proves it with packets
 * over the veth pair: IF_A carries the xsk_rs sockets, an AF_PACKET socket on
 * IF_B is the peer, as in abi_test.c.
 *
 * tests/c/run.sh compares `--list` with the functions the installed library
 * exports (nm -D) and the installed header declares: a function without a row,
 * or a row without a function, fails the run. Each row must make at least one
 * check. Built with ASan+UBSan and run under valgrind as well. The last line is
 * "hostile_test: N passed, M failed".
 */
#define _GNU_SOURCE /* setns, MAP_ANONYMOUS, syscall */

#include "harness.h"

#include <limits.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* ---- context ------------------------------------------------------------ */

static struct {
	const char *ns_a, *if_a, *ns_b, *if_b;
	int fd_a, fd_b; /* the two namespaces */
	uint32_t mode;  /* XSK_RS_XDP_MODE_SKB or _DRV */
	int peer;       /* AF_PACKET socket on if_b */
} ctx;

#define RING 64     /* every ring the rows create */
#define FRAMES 256  /* UMEM frames */
#define FSIZE 2048  /* UMEM frame size */
#define SETTLE_MS 300 /* how long "nothing arrives" is watched */
#define UNTOUCHED 0xdeadbeefu

/* Whether valgrind runs us: it preloads its vgpreload_*.so into the client. */
static int under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "/vgpreload_");
}

/* The function the running row covers. */
static const char *cur;

/* ---- message checks ----------------------------------------------------- */

/*
 * Leaves a last-error message that does not start with the current row's
 * function name, so that a check after a call sees that call's message, not
 * an older one. (Successful calls do not clear the message.)
 */
static void prime(void)
{
	if (strcmp(cur, "xsk_rs_umem_fd") != 0)
		xsk_rs_umem_fd(NULL);
	else
		xsk_rs_socket_fd(NULL);
}

/* The last error starts with "<cur>: " and contains `what` (if not NULL). */
static int names(const char *what)
{
	const char *m = xsk_rs_last_error();
	size_t n = strlen(cur);

	return m && strncmp(m, cur, n) == 0 && m[n] == ':' && m[n + 1] == ' ' && (!what || strstr(m, what));
}

static int msg_check(int line, int ok, const char *expr, long long got, const char *what)
{
	return check_at(__FILE__, line, ok && names(what), "%s -> %lld, \"%s\"%s%s", expr, got, errmsg(),
			what ? " names " : "", what ? what : "");
}

/* An int call refused with exactly `err` and a message naming `what`. */
#define FAILS(call, err, what)                                                              \
	do {                                                                                \
		int rc_;                                                                    \
		prime();                                                                    \
		rc_ = (call);                                                               \
		msg_check(__LINE__, rc_ == (err), #call " == " #err, rc_, what);            \
	} while (0)

/* An unsigned getter refused: 0 (a value it never has otherwise) and a message. */
#define ZERO_MSG(call, what)                                                                \
	do {                                                                                \
		unsigned long long v_;                                                      \
		prime();                                                                    \
		v_ = (unsigned long long)(call);                                            \
		msg_check(__LINE__, v_ == 0, #call " == 0", (long long)v_, what);           \
	} while (0)

/* A pointer call refused: NULL and a message. */
#define NULL_MSG(call, what)                                                                \
	do {                                                                                \
		const void *p_;                                                             \
		prime();                                                                    \
		p_ = (const void *)(call);                                                  \
		msg_check(__LINE__, p_ == NULL, #call " == NULL", p_ != NULL, what);        \
	} while (0)

/* A count call that did less than asked (n was more than held): `want` and a message. */
#define COUNT_MSG(call, want, what)                                                         \
	do {                                                                                \
		int v_;                                                                     \
		prime();                                                                    \
		v_ = (call);                                                                \
		msg_check(__LINE__, v_ == (want), #call " == " #want, v_, what);            \
	} while (0)

/* A call whose documented value for this input is `want` (no message needed). */
#define VALUE(call, want)                                                                   \
	do {                                                                                \
		long long v_ = (long long)(call), w_ = (long long)(want);                   \
		CHECK(v_ == w_, "%s -> %lld (want %s = %lld)%s%s", #call, v_, #want, w_,    \
		      v_ != w_ ? ": " : "", v_ != w_ ? errmsg() : "");                      \
	} while (0)

/* ---- fixtures ----------------------------------------------------------- */

struct live {
	xsk_rs_umem *umem;
	xsk_rs_socket *sock;
	xsk_rs_fill *fill;
	xsk_rs_comp *comp;
	xsk_rs_rx *rx;
	xsk_rs_tx *tx;
};

static void umem_cfg(xsk_rs_umem_config *c)
{
	xsk_rs_umem_config_init(c, sizeof(*c));
	c->frame_count = FRAMES;
	c->frame_size = FSIZE;
	c->fill_size = c->comp_size = RING;
}

/* A UMEM of FRAMES x FSIZE with RING-entry fill and completion rings. */
static int umem_up(struct live *l)
{
	xsk_rs_umem_config c;
	int rc;

	memset(l, 0, sizeof(*l));
	umem_cfg(&c);
	rc = xsk_rs_umem_create(&l->umem, &c);
	if (!CHECK(rc == 0 && l->umem, "fixture: umem_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return 0;
	l->fill = xsk_rs_umem_fill(l->umem);
	l->comp = xsk_rs_umem_comp(l->umem);
	return 1;
}

/* umem_up plus a socket on if_a queue 0 with RING-entry rings (0: none). */
static int live_up(struct live *l, uint32_t rx_size, uint32_t tx_size, uint32_t mode)
{
	xsk_rs_socket_config s;
	int rc;

	if (!umem_up(l))
		return 0;
	xsk_rs_socket_config_init(&s, sizeof(s));
	s.rx_size = rx_size;
	s.tx_size = tx_size;
	s.xdp_mode = mode;
	rc = xsk_rs_socket_create(&l->sock, ctx.if_a, 0, l->umem, &s);
	if (!CHECK(rc == 0 && l->sock, "fixture: socket_create rx %u tx %u mode %u (rc %d%s%s)", rx_size, tx_size,
		   mode, rc, rc ? ": " : "", rc ? errmsg() : "")) {
		xsk_rs_umem_destroy(l->umem);
		l->umem = NULL;
		return 0;
	}
	l->rx = xsk_rs_socket_rx(l->sock);
	l->tx = xsk_rs_socket_tx(l->sock);
	return 1;
}

static void live_down(struct live *l)
{
	xsk_rs_socket_destroy(l->sock);
	if (l->umem && xsk_rs_umem_destroy(l->umem) != 0)
		CHECK(0, "fixture: umem_destroy: %s", errmsg());
	memset(l, 0, sizeof(*l));
}

/* Kicks TX; the kernel's "try again" answers are not failures. */
static void kick(xsk_rs_socket *s)
{
	int rc = xsk_rs_socket_kick(s);

	if (rc != 0 && rc != -EAGAIN && rc != -EBUSY && rc != -ENOBUFS)
		CHECK(0, "fixture: kick: %d: %s", rc, errmsg());
}

/* Completions ready after kicking for up to ms until there are `want`. */
static uint32_t comp_ready(struct live *l, uint32_t want, unsigned ms)
{
	uint64_t deadline = now_ms() + ms;
	uint32_t idx, n;

	for (;;) {
		n = RING_COUNT(xsk_rs_comp_peek(l->comp, UINT32_MAX, &idx));
		RING_COUNT(xsk_rs_comp_cancel(l->comp, n));
		if (n >= want || now_ms() >= deadline)
			return n;
		kick(l->sock);
		sleep_ms(5);
	}
}

/* Test frame `seq` written into UMEM frame `frame`; its TX descriptor. */
static xsk_rs_desc tx_frame(struct live *l, uint32_t frame, uint32_t seq)
{
	xsk_rs_desc d = { .addr = (uint64_t)frame * FSIZE, .len = frame_len(seq), .options = 0 };

	make_frame(xsk_rs_umem_data(l->umem, d.addr), seq, d.len);
	return d;
}

/* The peer receives exactly the frames seqs[0..n) in order, then nothing. */
static void peer_gets(const uint32_t *seqs, uint32_t n, const char *what)
{
	uint8_t buf[MAX_FRAME];
	uint32_t i, ok = 0;
	int len;

	for (i = 0; i < n; i++) {
		len = peer_recv(ctx.peer, buf, WAIT_MS);
		if (len < 0)
			break;
		ok += frame_seq(buf) == seqs[i] && frame_matches(buf, (uint32_t)len, seqs[i]);
	}
	len = peer_recv(ctx.peer, buf, SETTLE_MS);
	CHECK(ok == n && len < 0, "%s: the peer received exactly %u frame(s) byte-exact (%u ok%s)", what, n, ok,
	      len >= 0 ? ", and an extra one" : "");
}

/* Sends the peer frames first..first+n-1. */
static void peer_burst(uint32_t first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!peer_send(ctx.peer, first + i))
			CHECK(0, "fixture: peer send %u: %s", first + i, strerror(errno));
}

/* RX ring with three frames (seq 0..2) received into frames 0..7 of the fill ring. */
static int rx_three(struct live *l)
{
	uint64_t addrs[8];

	if (!live_up(l, RING, 0, ctx.mode))
		return 0;
	for (int i = 0; i < 8; i++)
		addrs[i] = (uint64_t)i * FSIZE;
	RING_COUNT(xsk_rs_fill_put(l->fill, addrs, 8));
	peer_burst(0, 3);
	return CHECK(rx_ready(l->rx, l->sock, 3, WAIT_MS) == 3, "fixture: 3 frames wait on the RX ring");
}

/* TX-only socket with three completions (frames 10..12, seq 0..2). */
static int comp_three(struct live *l)
{
	xsk_rs_desc d[3];

	if (!live_up(l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return 0;
	peer_drain(ctx.peer);
	for (uint32_t i = 0; i < 3; i++)
		d[i] = tx_frame(l, 10 + i, i);
	RING_COUNT(xsk_rs_tx_put(l->tx, d, 3));
	if (!CHECK(comp_ready(l, 3, WAIT_MS) == 3, "fixture: 3 completions wait on the completion ring"))
		return 0;
	peer_drain(ctx.peer);
	return 1;
}

/*
 * RX socket whose fill ring the kernel has used up to slot n: frames 0..n-1
 * lent, n+1 frames sent. Frames 0..n-1 (seq 0..n-1) wait on the RX ring; the
 * last one is dropped for want of a frame, and looking for one made the kernel
 * publish how far it has consumed the fill ring (it does so only when it runs
 * out), so all RING fill slots are free again.
 */
static int rx_fill_used_up(struct live *l, uint32_t n)
{
	xsk_rs_stats st = { 0 };
	uint64_t addrs[RING], deadline;

	if (!live_up(l, RING, 0, ctx.mode))
		return 0;
	for (uint32_t i = 0; i < n; i++)
		addrs[i] = (uint64_t)i * FSIZE;
	if (!CHECK(RING_COUNT(xsk_rs_fill_put(l->fill, addrs, n)) == n, "fixture: fill_put(%u)", n))
		return 0;
	peer_burst(0, n + 1);
	if (!CHECK(rx_ready(l->rx, l->sock, n, WAIT_MS) == n, "fixture: %u frames wait on the RX ring", n))
		return 0;
	deadline = now_ms() + WAIT_MS;
	while (xsk_rs_socket_stats(l->sock, &st) == 0 && st.rx_dropped == 0 && now_ms() < deadline)
		sleep_ms(5);
	return CHECK(st.rx_dropped == 1, "fixture: frame %u dropped on the used-up fill ring (rx_dropped %llu)", n,
		     (unsigned long long)st.rx_dropped);
}

/*
 * TX-only socket that sent frames 0..n-1 (from frames 10..) and had all n
 * completions taken back: TX and completion rings empty, their indices at slot n.
 */
static int tx_done(struct live *l, uint32_t n)
{
	xsk_rs_desc d[RING];
	uint64_t c[RING];

	if (!live_up(l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return 0;
	peer_drain(ctx.peer);
	for (uint32_t i = 0; i < n; i++)
		d[i] = tx_frame(l, 10 + i, i);
	if (!CHECK(RING_COUNT(xsk_rs_tx_put(l->tx, d, n)) == n, "fixture: tx_put(%u)", n) ||
	    !CHECK(comp_ready(l, n, WAIT_MS) == n, "fixture: %u completions", n) ||
	    !CHECK(RING_COUNT(xsk_rs_comp_take(l->comp, c, RING)) == n, "fixture: comp_take of %u", n))
		return 0;
	peer_drain(ctx.peer);
	return 1;
}

/* ---- rows: library ------------------------------------------------------ */

static void row_version(void)
{
	const char *before = xsk_rs_last_error(), *v = xsk_rs_version();
	unsigned a, b, c;
	char end;

	/* No argument to abuse: the documented value, whatever state the thread is in. */
	CHECK(v && sscanf(v, "%u.%u.%u%c", &a, &b, &c, &end) == 3, "xsk_rs_version() = \"%s\" (N.N.N)",
	      v ? v : "(null)");
	CHECK(xsk_rs_last_error() == before || !strcmp(xsk_rs_last_error(), before),
	      "xsk_rs_version leaves the last error alone");
}

static void *fresh_thread_error(void *arg)
{
	const char **out = arg;

	*out = xsk_rs_last_error();
	*out = *out ? strdup(*out) : NULL;
	return NULL;
}

/*
 * A failure inside a thread-local destructor that runs after the library's own
 * thread-locals are gone (pthread key destructors run after the C++-style TLS
 * destructors that Rust's thread_local! registers).
 */
static pthread_key_t late_key;
static int late_rc = 1;
static char late_msg[128];

static void late_failure(void *arg)
{
	(void)arg;
	late_rc = xsk_rs_umem_fd(NULL);
	snprintf(late_msg, sizeof(late_msg), "%s", xsk_rs_last_error());
}

static void *thread_that_fails(void *arg)
{
	(void)arg;
	xsk_rs_socket_fd(NULL); /* the thread's last error is in use */
	pthread_setspecific(late_key, &late_key);
	return NULL;
}

/* In a child, so that an abort cannot end the whole test: 0 when the late failure got its -EINVAL and message. */
static int late_failure_child(void)
{
	pthread_t t;

	if (pthread_key_create(&late_key, late_failure) != 0 || pthread_create(&t, NULL, thread_that_fails, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	return late_rc == -EINVAL && !strcmp(late_msg, "xsk_rs_umem_fd: umem is NULL") ? 0 : 1;
}

static void row_last_error(void)
{
	char *other = NULL, line[160];
	pthread_t t;
	const char *m, *early;
	pid_t pid;
	int status = 0;

	/* Never NULL: "" on a thread that has seen no failure. */
	if (CHECK(pthread_create(&t, NULL, fresh_thread_error, &other) == 0, "a second thread starts")) {
		pthread_join(t, NULL);
		CHECK(other && !strcmp(other, ""), "a fresh thread's xsk_rs_last_error() is \"\" (got %s%s%s)",
		      other ? "\"" : "", other ? other : "NULL", other ? "\"" : "");
		free(other);
	}
	/* After a failure, its message; a later successful call does not clear it. */
	prime();
	m = xsk_rs_last_error();
	CHECK(m && !strcmp(m, "xsk_rs_umem_fd: umem is NULL"), "after xsk_rs_umem_fd(NULL): \"%s\"", m ? m : "NULL");
	xsk_rs_version();
	xsk_rs_umem_config_init(&(xsk_rs_umem_config){ 0 }, sizeof(xsk_rs_umem_config));
	CHECK(!strcmp(xsk_rs_last_error(), "xsk_rs_umem_fd: umem is NULL"), "successful calls leave it");

	/*
	 * The pointer stays valid for the thread's lifetime: a later failure
	 * overwrites the message in place. (Before, it was freed by the next
	 * failure: valgrind and ASan report the reads below.)
	 */
	early = xsk_rs_last_error();
	xsk_rs_socket_kick(NULL);
	CHECK(xsk_rs_last_error() == early && !strcmp(early, "xsk_rs_socket_kick: sock is NULL"),
	      "a pointer taken before a failure reads that failure's message (\"%s\")", early);
	/* The idiom: gcc evaluates the arguments right to left, so the pointer comes first. */
	snprintf(line, sizeof(line), "%d: %s", xsk_rs_socket_poll(NULL, POLLIN, 0), xsk_rs_last_error());
	CHECK(!strcmp(line, "-22: xsk_rs_socket_poll: sock is NULL"),
	      "printf(\"%%d: %%s\", xsk_rs_socket_poll(NULL, ...), xsk_rs_last_error()) -> \"%s\"", line);

	/* A failure in a thread-local destructor after the library's are gone: an error, not an abort. */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(late_failure_child());
	if (CHECK(pid > 0, "fork"))
		waitpid(pid, &status, 0);
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a failing call in a pthread key destructor at thread exit returns -EINVAL with its message (%s %d)",
	      WIFSIGNALED(status) ? "killed by signal" : "exit status",
	      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void row_strerror(void)
{
	static const int vals[] = { 0, EINVAL, -EINVAL, -EBUSY, -ENODEV, 4095, -4095, INT_MAX, INT_MIN, INT_MIN + 1 };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		const char *s = xsk_rs_strerror(vals[i]);

		CHECK(s && *s, "xsk_rs_strerror(%d) = \"%s\"", vals[i], s ? s : "(null)");
	}
	CHECK(!strcmp(xsk_rs_strerror(EBUSY), xsk_rs_strerror(-EBUSY)), "either sign names the same error");
	CHECK(!strcmp(xsk_rs_strerror(INT_MIN), "unknown error") && !strcmp(xsk_rs_strerror(4095), "unknown error"),
	      "unknown values (INT_MIN, 4095) -> \"unknown error\"");
	/* A caught panic has its own code, past every errno (Linux's end at 4095). */
	CHECK(XSK_RS_ERR_PANIC > 4095 && strstr(xsk_rs_strerror(-XSK_RS_ERR_PANIC), "panic") &&
		      !strcmp(xsk_rs_strerror(XSK_RS_ERR_PANIC), xsk_rs_strerror(-XSK_RS_ERR_PANIC)),
	      "xsk_rs_strerror(-XSK_RS_ERR_PANIC) = \"%s\"", xsk_rs_strerror(-XSK_RS_ERR_PANIC));
	CHECK(!strstr(xsk_rs_strerror(-EFAULT), "internal"), "-EFAULT is only EFAULT (\"%s\")",
	      xsk_rs_strerror(-EFAULT));
	/* The errnos the library returns beyond the common ones: a forked child's, running out of fds. */
	CHECK(strstr(xsk_rs_strerror(-EBADFD), "fork") != NULL, "xsk_rs_strerror(-EBADFD) = \"%s\" names fork",
	      xsk_rs_strerror(-EBADFD));
	CHECK(strcmp(xsk_rs_strerror(-EMFILE), "unknown error") && strcmp(xsk_rs_strerror(-EOVERFLOW), "unknown error"),
	      "-EMFILE and -EOVERFLOW are named (\"%s\", \"%s\")", xsk_rs_strerror(-EMFILE), xsk_rs_strerror(-EOVERFLOW));
}

/* ---- rows: configs ------------------------------------------------------ */

/*
 * For both *_config_init: NULL, and sizes that cannot be a struct (0, sz
 * alone, sizes that cut a field, a longer size that is no multiple of 4,
 * 4097, SIZE_MAX) are refused and leave the struct alone; sizes that end a
 * field (an older header) or exceed the struct (a newer header, by 4 or 16
 * bytes) are filled up to sz and no further, and the bytes past what this
 * library knows are zeroed.
 */
#define CONFIG_INIT_ROW(fn, type)                                                               \
	do {                                                                                    \
		static const size_t bad[] = { 0, 1, 8, 11, 13, 14, sizeof(type) - 2,            \
					      sizeof(type) + 2, 4097, SIZE_MAX / 2, SIZE_MAX }; \
		static const size_t good[] = { 12, 16, sizeof(type) - 4, sizeof(type) + 4 };   \
		_Alignas(type) unsigned char big[sizeof(type) + 16];                             \
		unsigned char want[sizeof(type) + 16];                                          \
		type *c = (type *)(void *)big;                                                  \
		size_t i;                                                                       \
                                                                                                \
		FAILS(fn(NULL, sizeof(type)), -EINVAL, "cfg is NULL");                          \
		FAILS(fn(NULL, 0), -EINVAL, "cfg is NULL");                                     \
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {                            \
			memset(big, 0xa5, sizeof(big));                                         \
			FAILS(fn(c, bad[i]), -EINVAL, "sz");                                    \
			memset(want, 0xa5, sizeof(want));                                       \
			CHECK(!memcmp(big, want, sizeof(big)), "sz %zu: the struct is untouched", bad[i]); \
		}                                                                               \
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {                          \
			memset(big, 0xa5, sizeof(big));                                         \
			VALUE(fn(c, good[i]), 0);                                               \
			memset(want, 0xa5, sizeof(want));                                       \
			CHECK(c->sz == good[i] && !memcmp(big + good[i], want, sizeof(big) - good[i]), \
			      "sz %zu: recorded, nothing written past it", good[i]);            \
		}                                                                               \
		memset(big, 0xa5, sizeof(big));                                                 \
		VALUE(fn(c, sizeof(big)), 0);                                                   \
		memset(want, 0, sizeof(want));                                                  \
		CHECK(c->sz == sizeof(big) && !memcmp(big + sizeof(type), want, 16),            \
		      "a 16-byte longer struct: sz recorded, the unknown tail zeroed");         \
	} while (0)

static void row_socket_config_init(void)
{
	CONFIG_INIT_ROW(xsk_rs_socket_config_init, xsk_rs_socket_config);
}

static void row_umem_config_init(void)
{
	CONFIG_INIT_ROW(xsk_rs_umem_config_init, xsk_rs_umem_config);
}

/*
 * config_lend: both configs NULL, frame counts it cannot size rings for (0,
 * 2^29 + 1, UINT32_MAX), configs that no init filled (sz 0, SIZE_MAX, 12: a
 * struct that ends before comp_size) are refused with nothing written; then
 * lend(1000) gives a fill ring of 2048 and completion, RX and TX rings of
 * 1024 that touch no other field, and a UMEM and socket made from them take
 * all 1000 frames on the fill ring at once and receive.
 */
#define LEND_FRAMES 1000

static void row_config_lend(void)
{
	static uint64_t addrs[LEND_FRAMES];
	static const uint32_t bad_frames[] = { 0, (1u << 29) + 1, UINT32_MAX };
	static const size_t bad_sz[] = { 0, 12, SIZE_MAX };
	xsk_rs_umem_config u, u0;
	xsk_rs_socket_config s, s0;
	struct live l;
	size_t i;
	int rc;

	xsk_rs_umem_config_init(&u0, sizeof(u0));
	xsk_rs_socket_config_init(&s0, sizeof(s0));
	FAILS(xsk_rs_config_lend(NULL, NULL, 64), -EINVAL, "both NULL");
	for (i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
		char what[64];

		u = u0;
		s = s0;
		snprintf(what, sizeof(what), "lend %u frames", bad_frames[i]);
		FAILS(xsk_rs_config_lend(&u, &s, bad_frames[i]), -EINVAL, what);
		CHECK(!memcmp(&u, &u0, sizeof(u)) && !memcmp(&s, &s0, sizeof(s)), "frames %u: nothing written",
		      bad_frames[i]);
	}
	for (i = 0; i < sizeof(bad_sz) / sizeof(bad_sz[0]); i++) {
		u = u0;
		s = s0;
		u.sz = bad_sz[i];
		FAILS(xsk_rs_config_lend(&u, &s, 64), -EINVAL, "ucfg->sz");
		u.sz = u0.sz;
		s.sz = bad_sz[i];
		FAILS(xsk_rs_config_lend(&u, &s, 64), -EINVAL, "scfg->sz");
		s.sz = s0.sz;
		CHECK(!memcmp(&u, &u0, sizeof(u)) && !memcmp(&s, &s0, sizeof(s)), "sz %zu: nothing written", bad_sz[i]);
	}

	u = u0;
	s = s0;
	s.xdp_mode = ctx.mode;
	VALUE(xsk_rs_config_lend(&u, &s, LEND_FRAMES), 0);
	CHECK(u.frame_count == LEND_FRAMES && u.fill_size == 2048 && u.comp_size == 1024 && s.rx_size == 1024 &&
		      s.tx_size == 1024,
	      "lend(%u): frames %u, fill %u, comp %u, rx %u, tx %u (want 1000, 2048, 1024, 1024, 1024)", LEND_FRAMES,
	      u.frame_count, u.fill_size, u.comp_size, s.rx_size, s.tx_size);
	CHECK(u.frame_size == u0.frame_size && u.frame_headroom == u0.frame_headroom && u.flags == u0.flags &&
		      s.bind_flags == s0.bind_flags && s.tx_budget == s0.tx_budget && s.busy_poll_usecs == 0 &&
		      s.busy_poll_budget == 0 && s.prefer_busy_poll == 0,
	      "lend leaves the other fields alone");
	memset(&l, 0, sizeof(l));
	rc = xsk_rs_umem_create(&l.umem, &u);
	if (!CHECK(rc == 0, "umem_create from the lend config (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return;
	rc = xsk_rs_socket_create(&l.sock, ctx.if_a, 0, l.umem, &s);
	if (CHECK(rc == 0, "socket_create from the lend config (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : "")) {
		l.fill = xsk_rs_umem_fill(l.umem);
		l.rx = xsk_rs_socket_rx(l.sock);
		for (i = 0; i < LEND_FRAMES; i++)
			addrs[i] = (uint64_t)i * u.frame_size;
		VALUE(xsk_rs_fill_put(l.fill, addrs, LEND_FRAMES), LEND_FRAMES);
		peer_burst(0, 3);
		VALUE(rx_ready(l.rx, l.sock, 3, WAIT_MS), 3);
	}
	live_down(&l);
}

/* ---- rows: UMEM --------------------------------------------------------- */

/* umem_create with cfg refused as -err, a message naming `what`, *out untouched. */
static void umem_refused(int line, const xsk_rs_umem_config *c, int err, const char *what, const char *desc)
{
	xsk_rs_umem *u = (xsk_rs_umem *)(uintptr_t)UNTOUCHED;
	int rc;

	prime();
	rc = xsk_rs_umem_create(&u, c);
	msg_check(line, rc == err && u == (xsk_rs_umem *)(uintptr_t)UNTOUCHED, desc, rc, what);
	if (rc == 0)
		xsk_rs_umem_destroy(u);
}

#define UMEM_BAD(field, value, err, what)                                                       \
	do {                                                                                    \
		xsk_rs_umem_config c_;                                                          \
		umem_cfg(&c_);                                                                  \
		c_.field = (value);                                                             \
		umem_refused(__LINE__, &c_, err, what, "umem_create " #field " = " #value);     \
	} while (0)

/* The default huge page pool set to 0 pages (and no surplus), under the
 * lock file that tests/hugepages.rs and bench/run.sh take too; restored by
 * hugepool_restore. Returns the lock's fd, or -1 (reported) when it cannot. */
struct hugepool {
	int lock;
	long pages, overcommit;
};

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int hugepool_empty(struct hugepool *p)
{
	p->lock = open("/run/xsk_rs-hugepages.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (!CHECK(p->lock >= 0 && flock(p->lock, LOCK_EX) == 0, "lock /run/xsk_rs-hugepages.lock"))
		return -1;
	p->pages = read_long("/proc/sys/vm/nr_hugepages");
	p->overcommit = read_long("/proc/sys/vm/nr_overcommit_hugepages");
	if (!CHECK(p->pages >= 0 && p->overcommit >= 0 && write_long("/proc/sys/vm/nr_overcommit_hugepages", 0) == 0 &&
			   write_long("/proc/sys/vm/nr_hugepages", 0) == 0,
		   "empty the huge page pool (vm.nr_hugepages %ld)", p->pages)) {
		close(p->lock);
		return -1;
	}
	return 0;
}

static void hugepool_restore(struct hugepool *p)
{
	CHECK(write_long("/proc/sys/vm/nr_hugepages", p->pages) == 0 &&
		      write_long("/proc/sys/vm/nr_overcommit_hugepages", p->overcommit) == 0,
	      "restore vm.nr_hugepages %ld", p->pages);
	close(p->lock);
}

/* KernelPageSize in kB of the mapping at addr, from /proc/self/smaps; -1 if not found. */
static long kernel_page_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256], head[32];
	long kb = -1;
	int in = 0;

	if (!f)
		return -1;
	snprintf(head, sizeof(head), "%08lx-", (unsigned long)(uintptr_t)addr);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strncmp(line, head, strlen(head)) == 0)
			in = 1;
		else if (in && sscanf(line, "KernelPageSize: %ld", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* XSK_RS_UMEM_HUGE_PAGES with an empty pool: -ENOMEM saying how to reserve
 * pages and how to fall back; with XSK_RS_UMEM_HUGE_PAGES_FALLBACK an area in
 * ordinary pages. */
static void huge_page_fallback_rows(void)
{
	struct hugepool p;
	xsk_rs_umem_config c;
	xsk_rs_umem *u = NULL;
	int rc;

	if (under_valgrind()) {
		printf("  note: the huge page rows do not run under valgrind (its mmap has no MAP_HUGETLB)\n");
		return;
	}
	if (hugepool_empty(&p))
		return;
	umem_cfg(&c);
	c.flags = XSK_RS_UMEM_HUGE_PAGES;
	umem_refused(__LINE__, &c, -ENOMEM, "vm.nr_hugepages", "umem_create HUGE_PAGES, empty pool");
	rc = xsk_rs_umem_create(&u, &c);
	CHECK(rc == -ENOMEM && strstr(errmsg(), "XSK_RS_UMEM_HUGE_PAGES_FALLBACK"), "the message names the fallback: %s",
	      errmsg());
	c.flags = XSK_RS_UMEM_HUGE_PAGES | XSK_RS_UMEM_HUGE_PAGES_FALLBACK;
	rc = xsk_rs_umem_create(&u, &c);
	if (CHECK(rc == 0, "umem_create HUGE_PAGES | FALLBACK, empty pool (rc %d%s%s)", rc, rc ? ": " : "",
		  rc ? errmsg() : "")) {
		long kb = kernel_page_kb(xsk_rs_umem_area(u));

		CHECK(kb == sysconf(_SC_PAGESIZE) / 1024, "the fallback area is in ordinary pages (%ld kB)", kb);
		VALUE(xsk_rs_umem_destroy(u), 0);
	}
	hugepool_restore(&p);
}

static void row_umem_create(void)
{
	xsk_rs_umem_config c;
	_Alignas(xsk_rs_umem_config) unsigned char longer[sizeof(c) + 8]; /* a newer header's struct */
	FILE *f;
	int overcommit = -1;

	FAILS(xsk_rs_umem_create(NULL, NULL), -EINVAL, "out is NULL");
	umem_cfg(&c);
	FAILS(xsk_rs_umem_create(NULL, &c), -EINVAL, "out is NULL");
	/* sz not set by init: garbage, 0, huge */
	c.sz = 0;
	umem_refused(__LINE__, &c, -EINVAL, "sz 0", "umem_create cfg.sz = 0");
	c.sz = SIZE_MAX;
	umem_refused(__LINE__, &c, -EINVAL, "sz", "umem_create cfg.sz = SIZE_MAX");
	/* a newer header's longer struct with a non-zero unknown field */
	memset(longer, 0, sizeof(longer));
	umem_cfg(&c);
	c.sz = sizeof(longer);
	memcpy(longer, &c, sizeof(c));
	longer[sizeof(c) + 3] = 1;
	umem_refused(__LINE__, (xsk_rs_umem_config *)(void *)longer, -EINVAL, "non-zero",
		     "umem_create cfg 8 bytes longer, unknown field set");

	UMEM_BAD(frame_size, 0, -EINVAL, "frame size 0");
	UMEM_BAD(frame_size, 1, -EINVAL, "frame size 1");
	UMEM_BAD(frame_size, 2047, -EINVAL, "frame size 2047");
	UMEM_BAD(frame_size, 3000, -EINVAL, "frame size 3000");
	UMEM_BAD(frame_size, 1u << 20, -EINVAL, "frame size");
	UMEM_BAD(frame_size, UINT32_MAX, -EINVAL, "frame size 4294967295");
	UMEM_BAD(frame_count, 0, -EINVAL, "frame count 0");
	UMEM_BAD(frame_headroom, FSIZE - 256, -EINVAL, "headroom");
	UMEM_BAD(frame_headroom, UINT32_MAX, -EINVAL, "headroom");
	UMEM_BAD(fill_size, 0, -EINVAL, "fill ring size 0");
	UMEM_BAD(fill_size, RING + 1, -EINVAL, "fill ring size 65");
	UMEM_BAD(fill_size, UINT32_MAX, -EINVAL, "fill ring size 4294967295");
	UMEM_BAD(comp_size, 0, -EINVAL, "completion ring size 0");
	UMEM_BAD(comp_size, 3, -EINVAL, "completion ring size 3");
	UMEM_BAD(comp_size, UINT32_MAX, -EINVAL, "completion ring size 4294967295");
	UMEM_BAD(flags, 4, -EINVAL, "unknown bits 0x4"); /* 2 is TX_SW_CSUM, 4 the kernel's own TX_METADATA_LEN */
	UMEM_BAD(flags, XSK_RS_UMEM_HUGE_PAGES_FALLBACK, -EINVAL, "without XSK_RS_UMEM_HUGE_PAGES");
	UMEM_BAD(flags, UINT32_MAX, -EINVAL, "unknown bits");
	/*
	 * A huge area: UINT32_MAX frames of 4096 bytes is 16 TiB, which the
	 * mmap refuses -- unless overcommit is "always" (1), where MAP_POPULATE
	 * would try to fault it all in. Not attempted then.
	 */
	f = fopen("/proc/sys/vm/overcommit_memory", "r");
	if (f) {
		if (fscanf(f, "%d", &overcommit) != 1)
			overcommit = -1;
		fclose(f);
	}
	if (overcommit == 0 || overcommit == 2) {
		umem_cfg(&c);
		c.frame_count = UINT32_MAX;
		c.frame_size = 4096;
		/* -ENOMEM from the kernel; valgrind's own mmap answers -EINVAL. */
		umem_refused(__LINE__, &c, under_valgrind() ? -EINVAL : -ENOMEM, "mmap",
			     "umem_create 4294967295 frames of 4096 (16 TiB)");
	} else {
		printf("  note: vm.overcommit_memory is %d, a 16 TiB UMEM is not attempted\n", overcommit);
	}
	huge_page_fallback_rows();
}

static void row_umem_create_with_area(void)
{
	const size_t size = (size_t)FRAMES * FSIZE;
	xsk_rs_umem *u = (xsk_rs_umem *)(uintptr_t)UNTOUCHED;
	xsk_rs_umem_config c;
	char *area;
	int rc;

	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(area != MAP_FAILED, "mmap %zu bytes", size))
		return;
	umem_cfg(&c);
	FAILS(xsk_rs_umem_create_with_area(NULL, area, size, &c), -EINVAL, "out is NULL");
	FAILS(xsk_rs_umem_create_with_area(&u, NULL, size, &c), -EINVAL, "area is NULL");
	FAILS(xsk_rs_umem_create_with_area(&u, NULL, 0, NULL), -EINVAL, "area is NULL");
	FAILS(xsk_rs_umem_create_with_area(&u, area + 1, size - 4096, &c), -EINVAL, "not aligned");
	FAILS(xsk_rs_umem_create_with_area(&u, area + 2048, size - 4096, &c), -EINVAL, "not aligned");
	FAILS(xsk_rs_umem_create_with_area(&u, area, 0, NULL), -EINVAL, "holds 0 frames");
	FAILS(xsk_rs_umem_create_with_area(&u, area, 0, &c), -EINVAL, "holds 0 frames");
	FAILS(xsk_rs_umem_create_with_area(&u, area, FSIZE - 1, NULL), -EINVAL, "holds 0 frames");
	/* more frames than the area holds */
	FAILS(xsk_rs_umem_create_with_area(&u, area, size - 1, &c), -EINVAL, "holds 255 frames");
	c.frame_count = UINT32_MAX;
	FAILS(xsk_rs_umem_create_with_area(&u, area, size, &c), -EINVAL, "asks for 4294967295");
	umem_cfg(&c);
	c.frame_size = 3000;
	FAILS(xsk_rs_umem_create_with_area(&u, area, size, &c), -EINVAL, "frame size 3000");
	umem_cfg(&c);
	c.flags = XSK_RS_UMEM_HUGE_PAGES;
	FAILS(xsk_rs_umem_create_with_area(&u, area, size, &c), -EINVAL, "huge page flags are for xsk_rs_umem_create");
	c.sz = 0;
	FAILS(xsk_rs_umem_create_with_area(&u, area, size, &c), -EINVAL, "sz 0");
	CHECK(u == (xsk_rs_umem *)(uintptr_t)UNTOUCHED, "refused calls leave *out alone");
	/*
	 * size UINT64_MAX with an explicit frame count: only those frames are
	 * registered (the area holds them), so this is a valid call.
	 */
	umem_cfg(&c);
	rc = xsk_rs_umem_create_with_area(&u, area, UINT64_MAX, &c);
	if (CHECK(rc == 0, "size UINT64_MAX, frame_count %u: registers just those frames (rc %d%s%s)", FRAMES, rc,
		  rc ? ": " : "", rc ? errmsg() : "")) {
		CHECK(xsk_rs_umem_size(u) == size && xsk_rs_umem_area(u) == area, "  size %llu, the caller's area",
		      (unsigned long long)xsk_rs_umem_size(u));
		VALUE(xsk_rs_umem_destroy(u), 0);
	}
	munmap(area, size);
}

static void row_umem_destroy(void)
{
	struct live l;
	const char *before;

	VALUE(xsk_rs_umem_destroy(NULL), 0);
	before = xsk_rs_last_error();
	VALUE(xsk_rs_umem_destroy(NULL), 0);
	CHECK(xsk_rs_last_error() == before, "destroy(NULL) twice: a no-op that leaves the last error alone");
	if (!live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return;
	FAILS(xsk_rs_umem_destroy(l.umem), -EBUSY, "still used by 1 socket");
	CHECK(xsk_rs_umem_frame_count(l.umem) == FRAMES, "the refused destroy left the UMEM intact");
	live_down(&l);
}

static void row_umem_area(void)
{
	struct live l;

	NULL_MSG(xsk_rs_umem_area(NULL), "handle is NULL");
	if (umem_up(&l)) {
		CHECK(xsk_rs_umem_area(l.umem) != NULL, "a live UMEM's area is not NULL");
		live_down(&l);
	}
}

static void row_umem_size(void)
{
	struct live l;

	ZERO_MSG(xsk_rs_umem_size(NULL), "handle is NULL");
	if (umem_up(&l)) {
		VALUE(xsk_rs_umem_size(l.umem), (uint64_t)FRAMES * FSIZE);
		live_down(&l);
	}
}

static void row_umem_frame_size(void)
{
	struct live l;

	ZERO_MSG(xsk_rs_umem_frame_size(NULL), "handle is NULL");
	if (umem_up(&l)) {
		VALUE(xsk_rs_umem_frame_size(l.umem), FSIZE);
		live_down(&l);
	}
}

static void row_umem_frame_count(void)
{
	struct live l;

	ZERO_MSG(xsk_rs_umem_frame_count(NULL), "handle is NULL");
	if (umem_up(&l)) {
		VALUE(xsk_rs_umem_frame_count(l.umem), FRAMES);
		live_down(&l);
	}
}

static void row_umem_data(void)
{
	const uint64_t size = (uint64_t)FRAMES * FSIZE;
	xsk_rs_umem_config c;
	xsk_rs_umem *u = NULL;
	struct live l;
	char *a;
	int rc;

	NULL_MSG(xsk_rs_umem_data(NULL, 0), "handle is NULL");
	NULL_MSG(xsk_rs_umem_data(NULL, UINT64_MAX), "handle is NULL");
	if (umem_up(&l)) {
		a = xsk_rs_umem_area(l.umem);
		VALUE(xsk_rs_umem_data(l.umem, size - 1), a + size - 1);
		NULL_MSG(xsk_rs_umem_data(l.umem, size), "outside");
		NULL_MSG(xsk_rs_umem_data(l.umem, UINT64_MAX), "outside");
		NULL_MSG(xsk_rs_umem_data(l.umem, 1ull << 48), "outside");
		live_down(&l);
	}
	/* Unaligned mode: bits 48-63 are an offset added to the base address. */
	umem_cfg(&c);
	c.flags = XSK_RS_UMEM_UNALIGNED_CHUNKS;
	rc = xsk_rs_umem_create(&u, &c);
	if (CHECK(rc == 0, "unaligned UMEM (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : "")) {
		a = xsk_rs_umem_area(u);
		VALUE(xsk_rs_umem_data(u, (5ull << 48) | 100), a + 105);
		VALUE(xsk_rs_umem_data(u, (1ull << 48) | (size - 2)), a + size - 1);
		NULL_MSG(xsk_rs_umem_data(u, (1ull << 48) | (size - 1)), "outside");
		NULL_MSG(xsk_rs_umem_data(u, (0xffffull << 48) | (size - 1)), "outside");
		NULL_MSG(xsk_rs_umem_data(u, UINT64_MAX), "outside");
		VALUE(xsk_rs_umem_destroy(u), 0);
	}
}

static void row_umem_fd(void)
{
	struct live l;

	FAILS(xsk_rs_umem_fd(NULL), -EINVAL, "umem is NULL");
	if (umem_up(&l)) {
		CHECK(xsk_rs_umem_fd(l.umem) >= 0, "a live UMEM's fd is >= 0");
		live_down(&l);
	}
}

static void row_umem_fill(void)
{
	NULL_MSG(xsk_rs_umem_fill(NULL), "handle is NULL");
}

static void row_umem_comp(void)
{
	NULL_MSG(xsk_rs_umem_comp(NULL), "handle is NULL");
}

/* ---- rows: socket ------------------------------------------------------- */

/* socket_create refused as -err with a message naming `what`, *out untouched. */
static void sock_refused(int line, const char *ifname, uint32_t q, xsk_rs_umem *u, const xsk_rs_socket_config *c,
			 int err, const char *what, const char *desc)
{
	xsk_rs_socket *s = (xsk_rs_socket *)(uintptr_t)UNTOUCHED;
	int rc;

	prime();
	rc = xsk_rs_socket_create(&s, ifname, q, u, c);
	msg_check(line, rc == err && s == (xsk_rs_socket *)(uintptr_t)UNTOUCHED, desc, rc, what);
	if (rc == 0)
		xsk_rs_socket_destroy(s);
}

#define SOCK_BAD(field, value, err, what)                                                               \
	do {                                                                                            \
		xsk_rs_socket_config c_;                                                                \
		xsk_rs_socket_config_init(&c_, sizeof(c_));                                             \
		c_.xdp_mode = ctx.mode;                                                                 \
		c_.field = (value);                                                                     \
		sock_refused(__LINE__, ctx.if_a, 0, l.umem, &c_, err, what, "socket_create " #field " = " #value); \
	} while (0)

static void row_socket_create(void)
{
	xsk_rs_socket *s = NULL;
	xsk_rs_socket_config c;
	_Alignas(xsk_rs_socket_config) unsigned char longer[sizeof(c) + 8]; /* a newer header's struct */
	xsk_rs_umem *foreign = NULL;
	struct live l;
	char *huge;
	int rc;

	if (!umem_up(&l))
		return;
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.xdp_mode = ctx.mode;
	FAILS(xsk_rs_socket_create(NULL, ctx.if_a, 0, l.umem, &c), -EINVAL, "out is NULL");
	sock_refused(__LINE__, NULL, 0, l.umem, &c, -EINVAL, "ifname is NULL", "socket_create ifname NULL");
	sock_refused(__LINE__, ctx.if_a, 0, NULL, &c, -EINVAL, "umem is NULL", "socket_create umem NULL");
	/* interface names: empty, too long, a path, not UTF-8, 1 MiB, unknown */
	sock_refused(__LINE__, "", 0, l.umem, &c, -EINVAL, "interface name", "socket_create ifname \"\"");
	sock_refused(__LINE__, "sixteen-bytes-xx", 0, l.umem, &c, -EINVAL, "interface name",
		     "socket_create ifname of 16 bytes");
	sock_refused(__LINE__, "a/b", 0, l.umem, &c, -EINVAL, "interface name", "socket_create ifname \"a/b\"");
	sock_refused(__LINE__, "veth\xff", 0, l.umem, &c, -EINVAL, "UTF-8", "socket_create ifname not UTF-8");
	huge = malloc(1 << 20);
	if (huge) {
		memset(huge, 'x', (1 << 20) - 1);
		huge[(1 << 20) - 1] = 0;
		sock_refused(__LINE__, huge, 0, l.umem, &c, -EINVAL, "interface name", "socket_create ifname of 1 MiB");
		free(huge);
	}
	sock_refused(__LINE__, "xskrs-nosuch0", 0, l.umem, &c, -ENODEV, "xskrs-nosuch0",
		     "socket_create unknown interface");
	/* queues: the veth has one */
	sock_refused(__LINE__, ctx.if_a, 1, l.umem, &c, -EINVAL, "queue 1 out of range", "socket_create queue 1");
	sock_refused(__LINE__, ctx.if_a, UINT32_MAX, l.umem, &c, -EINVAL, "queue 4294967295 out of range",
		     "socket_create queue UINT32_MAX");
	/* the config's own size */
	c.sz = 0;
	sock_refused(__LINE__, ctx.if_a, 0, l.umem, &c, -EINVAL, "sz 0", "socket_create cfg.sz = 0");
	c.sz = SIZE_MAX;
	sock_refused(__LINE__, ctx.if_a, 0, l.umem, &c, -EINVAL, "sz", "socket_create cfg.sz = SIZE_MAX");
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.sz = sizeof(longer);
	memset(longer, 0, sizeof(longer));
	memcpy(longer, &c, sizeof(c));
	longer[sizeof(c) + 7] = 0x80;
	sock_refused(__LINE__, ctx.if_a, 0, l.umem, (xsk_rs_socket_config *)(void *)longer, -EINVAL, "non-zero",
		     "socket_create cfg 8 bytes longer, unknown field set");
	/* ring sizes, bind flags, modes */
	SOCK_BAD(rx_size, 3, -EINVAL, "rx ring size 3");
	SOCK_BAD(rx_size, RING + 1, -EINVAL, "rx ring size 65");
	SOCK_BAD(rx_size, UINT32_MAX, -EINVAL, "rx ring size 4294967295");
	SOCK_BAD(tx_size, UINT32_MAX, -EINVAL, "tx ring size 4294967295");
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.rx_size = c.tx_size = 0;
	sock_refused(__LINE__, ctx.if_a, 0, l.umem, &c, -EINVAL, "both 0", "socket_create rx_size = tx_size = 0");
	SOCK_BAD(bind_flags, 1, -EINVAL, "unknown bits 0x1"); /* XDP_SHARED_UMEM: the library's to set */
	SOCK_BAD(bind_flags, 1u << 5, -EINVAL, "unknown bits 0x20"); /* 1 << 4 is XSK_RS_BIND_SG */
	SOCK_BAD(bind_flags, UINT32_MAX, -EINVAL, "unknown bits");
	SOCK_BAD(bind_flags, XSK_RS_BIND_COPY | XSK_RS_BIND_ZEROCOPY, -EINVAL, "exclude each other");
	SOCK_BAD(xdp_mode, 4, -EINVAL, "XDP mode 4");
	SOCK_BAD(xdp_mode, UINT32_MAX, -EINVAL, "XDP mode 4294967295");
	/* TX budget: 0 or XSK_RS_TX_BUDGET_MIN..tx_size (4096 by default), with a TX ring */
	SOCK_BAD(tx_budget, 1, -EINVAL, "tx budget 1");
	SOCK_BAD(tx_budget, XSK_RS_TX_BUDGET_MIN - 1, -EINVAL, "tx budget 31");
	SOCK_BAD(tx_budget, 4097, -EINVAL, "tx budget 4097 is outside 32..=4096");
	SOCK_BAD(tx_budget, UINT32_MAX, -EINVAL, "tx budget 4294967295");
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.xdp_mode = ctx.mode;
	c.tx_size = 0;
	c.tx_budget = 64;
	sock_refused(__LINE__, ctx.if_a, 0, l.umem, &c, -EINVAL, "tx budget 64: the socket has no tx ring",
		     "socket_create tx_budget without a TX ring");
	SOCK_BAD(prefer_busy_poll, 2, -EINVAL, "prefer_busy_poll is 2");
	SOCK_BAD(prefer_busy_poll, UINT32_MAX, -EINVAL, "prefer_busy_poll is 4294967295");
	SOCK_BAD(busy_poll_budget, 65536, -EINVAL, "busy poll budget 65536");
	SOCK_BAD(busy_poll_budget, UINT32_MAX, -EINVAL, "busy poll budget 4294967295");
	/* veth has no zero-copy: refused after the rings were set on the UMEM's fd */
	SOCK_BAD(bind_flags, XSK_RS_BIND_ZEROCOPY, -EOPNOTSUPP, "zero-copy");
	/* ... nor with multi-buffer: what is missing is still zero-copy itself (6.6 without it: multi-buffer) */
	SOCK_BAD(bind_flags, XSK_RS_BIND_ZEROCOPY | XSK_RS_BIND_SG, -EOPNOTSUPP,
		 kernel_at_least(6, 6) ? "does not support zero-copy" : "6.6");
	/* a UMEM made in another network namespace */
	enter_netns(ctx.fd_b, ctx.ns_b);
	rc = xsk_rs_umem_create(&foreign, NULL);
	enter_netns(ctx.fd_a, ctx.ns_a);
	if (CHECK(rc == 0, "a UMEM created in %s (rc %d)", ctx.ns_b, rc)) {
		xsk_rs_socket_config_init(&c, sizeof(c));
		c.xdp_mode = ctx.mode;
		sock_refused(__LINE__, ctx.if_a, 0, foreign, &c, -EINVAL, "network namespace",
			     "socket_create with a UMEM of another namespace");
		VALUE(xsk_rs_umem_destroy(foreign), 0);
	}
	/* A program built before tx_budget existed passes a shorter sz: what lies past it is not read, and
	 * the budget is the default. Then the largest explicit budget, the TX ring's size. */
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.xdp_mode = ctx.mode;
	c.sz = offsetof(xsk_rs_socket_config, tx_budget);
	c.tx_budget = 1;
	c.busy_poll_budget = UNTOUCHED;
	rc = xsk_rs_socket_create(&s, ctx.if_a, 0, l.umem, &c);
	CHECK(rc == 0 && s, "socket_create with an old header's sz %zu ignores the fields past it (rc %d%s%s)", c.sz,
	      rc, rc ? ": " : "", rc ? errmsg() : "");
	xsk_rs_socket_destroy(s);
	s = NULL;
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.xdp_mode = ctx.mode;
	c.tx_budget = c.tx_size;
	if (kernel_at_least(6, 17)) {
		rc = xsk_rs_socket_create(&s, ctx.if_a, 0, l.umem, &c);
		CHECK(rc == 0 && s, "socket_create with tx_budget = tx_size %u (rc %d%s%s)", c.tx_size, rc,
		      rc ? ": " : "", rc ? errmsg() : "");
		xsk_rs_socket_destroy(s);
		s = NULL;
	} else {
		/* XDP_MAX_TX_SKB_BUDGET came in 6.17: before, an explicit budget is refused by name. */
		sock_refused(__LINE__, ctx.if_a, 0, l.umem, &c, -EOPNOTSUPP, "needs Linux 6.17",
			     "socket_create with tx_budget on a kernel before 6.17");
	}
	/* After all that, the same UMEM still takes a socket (same ring sizes as the zero-copy try). */
	xsk_rs_socket_config_init(&c, sizeof(c));
	c.xdp_mode = ctx.mode;
	rc = xsk_rs_socket_create(&s, ctx.if_a, 0, l.umem, &c);
	CHECK(rc == 0 && s, "the UMEM still takes a socket after every refusal (rc %d%s%s)", rc, rc ? ": " : "",
	      rc ? errmsg() : "");
	xsk_rs_socket_destroy(s);
	live_down(&l);
}

static void row_socket_destroy(void)
{
	struct live l;
	const char *before;

	prime();
	before = xsk_rs_last_error();
	xsk_rs_socket_destroy(NULL);
	xsk_rs_socket_destroy(NULL);
	CHECK(xsk_rs_last_error() == before && !strncmp(before, "xsk_rs_umem_fd: ", 16),
	      "socket_destroy(NULL) twice: a no-op that leaves the last error alone");
	if (live_up(&l, RING, RING, ctx.mode)) {
		xsk_rs_socket_destroy(l.sock);
		l.sock = NULL;
		VALUE(xsk_rs_umem_destroy(l.umem), 0);
		l.umem = NULL;
	}
}

static void row_socket_rx(void)
{
	struct live l;

	NULL_MSG(xsk_rs_socket_rx(NULL), "handle is NULL");
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		VALUE(xsk_rs_socket_rx(l.sock), NULL);
		live_down(&l);
	}
}

static void row_socket_tx(void)
{
	struct live l;

	NULL_MSG(xsk_rs_socket_tx(NULL), "handle is NULL");
	if (live_up(&l, RING, 0, ctx.mode)) {
		VALUE(xsk_rs_socket_tx(l.sock), NULL);
		live_down(&l);
	}
}

static void row_socket_fd(void)
{
	FAILS(xsk_rs_socket_fd(NULL), -EINVAL, "sock is NULL");
}

static void row_socket_kick(void)
{
	struct live l;

	FAILS(xsk_rs_socket_kick(NULL), -EINVAL, "sock is NULL");
	if (live_up(&l, RING, 0, ctx.mode)) {
		FAILS(xsk_rs_socket_kick(l.sock), -EINVAL, "no tx ring");
		live_down(&l);
	}
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		VALUE(xsk_rs_socket_kick(l.sock), 0); /* nothing queued: nothing to do */
		live_down(&l);
	}
}

static void row_socket_poll(void)
{
	struct live l;

	FAILS(xsk_rs_socket_poll(NULL, POLLIN, 0), -EINVAL, "sock is NULL");
	FAILS(xsk_rs_socket_poll(NULL, POLLIN, -1), -EINVAL, "sock is NULL");
	if (!live_up(&l, RING, RING, ctx.mode))
		return;
	VALUE(xsk_rs_socket_poll(l.sock, 0, 0), 0);
	VALUE(xsk_rs_socket_poll(l.sock, POLLIN, 0), 0);
	VALUE(xsk_rs_socket_poll(l.sock, (short)0x4000, 0), 0); /* no such event */
	VALUE(xsk_rs_socket_poll(l.sock, POLLIN, 20), 0);
	/* An empty TX ring is writable: these return at once despite the timeout. */
	VALUE(xsk_rs_socket_poll(l.sock, POLLOUT, -1), 1);
	VALUE(xsk_rs_socket_poll(l.sock, POLLOUT, INT_MIN), 1);
	VALUE(xsk_rs_socket_poll(l.sock, POLLOUT, INT_MAX), 1);
	VALUE(xsk_rs_socket_poll(l.sock, (short)-1, INT_MAX), 1); /* every bit */
	live_down(&l);
}

static void row_socket_stats(void)
{
	xsk_rs_stats st, want;
	struct live l;

	memset(&st, 0xa5, sizeof(st));
	memcpy(&want, &st, sizeof(st));
	FAILS(xsk_rs_socket_stats(NULL, &st), -EINVAL, "sock is NULL");
	FAILS(xsk_rs_socket_stats(NULL, NULL), -EINVAL, "sock is NULL");
	CHECK(!memcmp(&st, &want, sizeof(st)), "a refused stats call leaves *out alone");
	if (live_up(&l, RING, RING, ctx.mode)) {
		FAILS(xsk_rs_socket_stats(l.sock, NULL), -EINVAL, "out is NULL");
		VALUE(xsk_rs_socket_stats(l.sock, &st), 0);
		live_down(&l);
	}
}

static void row_socket_xdp_mode(void)
{
	struct live l;

	FAILS(xsk_rs_socket_xdp_mode(NULL), -EINVAL, "sock is NULL");
	if (live_up(&l, RING, 0, ctx.mode)) {
		VALUE(xsk_rs_socket_xdp_mode(l.sock), ctx.mode);
		live_down(&l);
	}
}

static void row_socket_is_zerocopy(void)
{
	struct live l;

	FAILS(xsk_rs_socket_is_zerocopy(NULL), -EINVAL, "sock is NULL");
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		VALUE(xsk_rs_socket_is_zerocopy(l.sock), 0); /* veth: copy mode */
		live_down(&l);
	}
}

static int bpf_map(uint32_t type, uint32_t key, uint32_t value, uint32_t entries)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = entries;
	return (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
}

static void row_socket_update_xskmap(void)
{
	int xskmap = bpf_map(BPF_MAP_TYPE_XSKMAP, 4, 4, 1);
	int array = bpf_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct live l;

	CHECK(xskmap >= 0 && array >= 0 && devnull >= 0, "an XSKMAP, an array map and /dev/null are open");
	FAILS(xsk_rs_socket_update_xskmap(NULL, xskmap), -EINVAL, "sock is NULL");
	if (live_up(&l, RING, RING, XSK_RS_XDP_MODE_NONE)) {
		FAILS(xsk_rs_socket_update_xskmap(l.sock, -1), -EBADF, "fd -1");
		FAILS(xsk_rs_socket_update_xskmap(l.sock, INT_MIN), -EBADF, "fd");
		FAILS(xsk_rs_socket_update_xskmap(l.sock, INT_MAX), -EBADF, "fd 2147483647");
		FAILS(xsk_rs_socket_update_xskmap(l.sock, devnull), -EINVAL, "not a BPF map");
		FAILS(xsk_rs_socket_update_xskmap(l.sock, array), -EINVAL, "not an XSKMAP");
		FAILS(xsk_rs_socket_update_xskmap(l.sock, xsk_rs_socket_fd(l.sock)), -EINVAL, "not a BPF map");
		VALUE(xsk_rs_socket_update_xskmap(l.sock, xskmap), 0);
		live_down(&l);
	}
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		FAILS(xsk_rs_socket_update_xskmap(l.sock, xskmap), -EINVAL, "no rx ring");
		live_down(&l);
	}
	close(xskmap);
	close(array);
	close(devnull);
}

/* ---- rows: producer rings ----------------------------------------------- */

/* reserve: NULL ring/idx, 0, ring size + 1, UINT32_MAX reserve nothing; then the whole ring. */
#define RESERVE_ROW(reserve, ring)                                                              \
	do {                                                                                    \
		uint32_t idx = UNTOUCHED, idx2 = UNTOUCHED;                                     \
		FAILS(reserve(NULL, 1, &idx), -EINVAL, "handle is NULL");                                     \
		FAILS(reserve(NULL, 0, NULL), -EINVAL, "handle is NULL");                                     \
		FAILS(reserve(ring, 1, NULL), -EINVAL, "idx is NULL");                                        \
		VALUE(reserve(ring, 0, &idx), 0);                                               \
		VALUE(reserve(ring, RING + 1, &idx), 0);                                        \
		FAILS(reserve(ring, UINT32_MAX, &idx), -EINVAL, "more than INT_MAX");           \
		CHECK(idx == UNTOUCHED, "reserves of nothing leave *idx alone");                \
		VALUE(reserve(ring, RING, &idx), RING); /* the refused calls took no slot */    \
		VALUE(reserve(ring, 1, &idx2), 0);                                              \
		CHECK(idx2 == UNTOUCHED, "a reserve on the full ring leaves *idx alone");       \
	} while (0)

static void row_fill_reserve(void)
{
	struct live l;

	if (umem_up(&l)) {
		RESERVE_ROW(xsk_rs_fill_reserve, l.fill);
		live_down(&l);
	}
}

static void row_tx_reserve(void)
{
	struct live l;

	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		RESERVE_ROW(xsk_rs_tx_reserve, l.tx);
		live_down(&l);
	}
}

/* slot accessors: any index is masked into the ring. */
#define SLOT_ROW(slot, ring, type)                                                                      \
	do {                                                                                            \
		static const uint32_t idxs[] = { RING, RING + 1, 1000, 0x80000000u, UINT32_MAX };       \
		type *base = slot(ring, 0);                                                             \
		NULL_MSG(slot(NULL, 0), "handle is NULL");                                              \
		NULL_MSG(slot(NULL, UINT32_MAX), "handle is NULL");                                     \
		for (size_t i_ = 0; i_ < sizeof(idxs) / sizeof(idxs[0]); i_++)                          \
			CHECK(slot(ring, idxs[i_]) == base + (idxs[i_] & (RING - 1)),                   \
			      #slot "(ring, %u) is slot %u of %u", idxs[i_], idxs[i_] & (RING - 1), RING); \
	} while (0)

static void row_fill_addr(void)
{
	struct live l;

	if (umem_up(&l)) {
		SLOT_ROW(xsk_rs_fill_addr, l.fill, uint64_t);
		/* A slot never reserved is still memory of the ring: writable, harmless. */
		*xsk_rs_fill_addr(l.fill, UINT32_MAX) = UINT64_MAX;
		live_down(&l);
	}
}

static void row_tx_desc(void)
{
	struct live l;

	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		SLOT_ROW(xsk_rs_tx_desc, l.tx, xsk_rs_desc);
		live_down(&l);
	}
}

static void row_comp_addr(void)
{
	struct live l;

	if (umem_up(&l)) {
		SLOT_ROW(xsk_rs_comp_addr, l.comp, const uint64_t);
		live_down(&l);
	}
}

static void row_rx_desc(void)
{
	struct live l;

	if (live_up(&l, RING, 0, ctx.mode)) {
		SLOT_ROW(xsk_rs_rx_desc, l.rx, const xsk_rs_desc);
		live_down(&l);
	}
}

/*
 * fill_submit publishes only what was reserved: a submit with nothing reserved
 * gives the kernel no frame (a frame from the peer is dropped, although every
 * unreserved slot holds address 0, a valid frame), and a submit of UINT32_MAX
 * after reserving 2 gives it exactly 2 (of 3 frames sent, 2 arrive).
 */
static void row_fill_submit(void)
{
	xsk_rs_desc d[4];
	struct live l;
	uint32_t idx, n;
	int good = 1;

	FAILS(xsk_rs_fill_submit(NULL, 1), -EINVAL, "handle is NULL");
	if (!live_up(&l, RING, 0, ctx.mode))
		return;
	COUNT_MSG(xsk_rs_fill_submit(l.fill, 5), 0, "0 reserved");
	peer_burst(0, 1);
	VALUE(rx_ready(l.rx, l.sock, 1, SETTLE_MS), 0);
	if (CHECK(RING_COUNT(xsk_rs_fill_reserve(l.fill, 2, &idx)) == 2, "fill_reserve(2)")) {
		*xsk_rs_fill_addr(l.fill, idx) = 7 * FSIZE;
		*xsk_rs_fill_addr(l.fill, idx + 1) = 9 * FSIZE;
		COUNT_MSG(xsk_rs_fill_submit(l.fill, UINT32_MAX), 2, "2 reserved");
		peer_burst(1, 3);
		rx_ready(l.rx, l.sock, 2, WAIT_MS);
		VALUE(rx_ready(l.rx, l.sock, 3, SETTLE_MS), 2);
		n = RING_COUNT(xsk_rs_rx_take(l.rx, d, 4));
		for (uint32_t i = 0; i < n && i < 2; i++) {
			const uint8_t *p = xsk_rs_umem_data(l.umem, d[i].addr);

			good &= d[i].addr / FSIZE == (i ? 9u : 7u) && p && frame_matches(p, d[i].len, 1 + i);
		}
		CHECK(n == 2 && good, "frames 1 and 2 landed byte-exact in the two submitted frames (7, 9)");
	}
	live_down(&l);
}

/*
 * tx_submit likewise: every TX slot holds a valid descriptor of a test frame
 * (seq 100+), so whatever the kernel is handed beyond what was reserved would
 * reach the peer.
 */
static void row_tx_submit(void)
{
	static const uint32_t sent[] = { 0, 1 };
	struct live l;
	uint32_t idx;

	FAILS(xsk_rs_tx_submit(NULL, 1), -EINVAL, "handle is NULL");
	if (!live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return;
	peer_drain(ctx.peer);
	for (uint32_t i = 0; i < RING; i++)
		*xsk_rs_tx_desc(l.tx, i) = tx_frame(&l, 100 + i, 100 + i);
	COUNT_MSG(xsk_rs_tx_submit(l.tx, 5), 0, "0 reserved");
	kick(l.sock);
	peer_gets(NULL, 0, "tx_submit(5) with nothing reserved");
	VALUE(comp_ready(&l, 1, SETTLE_MS), 0);
	if (CHECK(RING_COUNT(xsk_rs_tx_reserve(l.tx, 2, &idx)) == 2, "tx_reserve(2)")) {
		*xsk_rs_tx_desc(l.tx, idx) = tx_frame(&l, 10, 0);
		*xsk_rs_tx_desc(l.tx, idx + 1) = tx_frame(&l, 11, 1);
		COUNT_MSG(xsk_rs_tx_submit(l.tx, UINT32_MAX), 2, "2 reserved");
		comp_ready(&l, 2, WAIT_MS);
		VALUE(comp_ready(&l, 3, SETTLE_MS), 2);
		peer_gets(sent, 2, "tx_submit(UINT32_MAX) after reserving 2");
	}
	live_down(&l);
}

static void row_fill_needs_wakeup(void)
{
	struct live l;

	FAILS(xsk_rs_fill_needs_wakeup(NULL), -EINVAL, "handle is NULL");
	if (live_up(&l, RING, 0, ctx.mode)) {
		int w = xsk_rs_fill_needs_wakeup(l.fill);

		CHECK(w == 0 || w == 1, "fill_needs_wakeup on a live ring is 0 or 1 (got %d)", w);
		live_down(&l);
	}
}

static void row_tx_needs_wakeup(void)
{
	struct live l;

	FAILS(xsk_rs_tx_needs_wakeup(NULL), -EINVAL, "handle is NULL");
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		int w = xsk_rs_tx_needs_wakeup(l.tx);

		CHECK(w == 0 || w == 1, "tx_needs_wakeup on a live ring is 0 or 1 (got %d)", w);
		live_down(&l);
	}
}

/*
 * fill_put: NULL arguments, then a hostile address. The kernel skips a fill
 * entry outside the UMEM (UINT64_MAX) and takes the next one: one frame from
 * the peer lands in the valid frame.
 */
static void row_fill_put(void)
{
	uint64_t addrs[RING + 1];
	xsk_rs_desc d[2];
	struct live l;
	uint32_t n;

	for (uint32_t i = 0; i <= RING; i++)
		addrs[i] = (uint64_t)i * FSIZE;
	FAILS(xsk_rs_fill_put(NULL, addrs, 1), -EINVAL, "handle is NULL");
	if (umem_up(&l)) {
		FAILS(xsk_rs_fill_put(l.fill, NULL, 1), -EINVAL, "array is NULL");
		FAILS(xsk_rs_fill_put(l.fill, NULL, UINT32_MAX), -EINVAL, "array is NULL");
		VALUE(xsk_rs_fill_put(l.fill, NULL, 0), 0);
		VALUE(xsk_rs_fill_put(l.fill, addrs, 0), 0);
		/* An open reserve would be published ahead of the put's own entries. */
		VALUE(xsk_rs_fill_reserve(l.fill, 1, &n), 1);
		*xsk_rs_fill_addr(l.fill, n) = addrs[RING];
		FAILS(xsk_rs_fill_put(l.fill, addrs, 1), -EINVAL, "reserved and not yet submitted");
		RING_COUNT(xsk_rs_fill_submit(l.fill, 1));
		VALUE(xsk_rs_fill_put(l.fill, addrs, RING + 1), RING - 1); /* as many as fit */
		VALUE(xsk_rs_fill_put(l.fill, addrs, 1), 0);
		live_down(&l);
	}
	if (live_up(&l, RING, 0, ctx.mode)) {
		addrs[0] = UINT64_MAX;
		addrs[1] = 5 * FSIZE;
		VALUE(xsk_rs_fill_put(l.fill, addrs, 2), 2);
		peer_burst(0, 1);
		VALUE(rx_ready(l.rx, l.sock, 1, WAIT_MS), 1);
		n = RING_COUNT(xsk_rs_rx_take(l.rx, d, 2));
		CHECK(n == 1 && d[0].addr / FSIZE == 5 && frame_matches(xsk_rs_umem_data(l.umem, d[0].addr), d[0].len, 0),
		      "a fill address of UINT64_MAX is skipped: the frame landed in frame 5");
		live_down(&l);
	}
}

/*
 * tx_put: NULL arguments; a descriptor longer than the interface sends, which
 * tx_put itself refuses (it stops before it, with a message); then
 * descriptors the kernel must reject (address UINT64_MAX, a buffer over the
 * UMEM's end, length UINT32_MAX queued through reserve/submit, which do not
 * check lengths, every unknown option bit) ahead of one valid frame:
 * tx_invalid_descs counts exactly 4, the peer receives only the valid one.
 */
/* put_packets: NULL ring/array; an array that ends inside its chain is
 * -EINVAL and a chain longer than the TX ring -E2BIG (a 0 would read as "ring
 * full" for ever); a whole packet is queued. (No multi-buffer here: the single
 * frames are whole packets.) */
static void row_tx_put_packets(void)
{
	static const uint32_t valid[] = { 30, 31 };
	static xsk_rs_desc big[RING + 1];
	xsk_rs_desc d[3];
	struct live l;
	uint32_t i;

	memset(d, 0, sizeof(d));
	FAILS(xsk_rs_tx_put_packets(NULL, d, 1), -EINVAL, "handle is NULL");
	if (!live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return;
	FAILS(xsk_rs_tx_put_packets(l.tx, NULL, 1), -EINVAL, "array is NULL");
	VALUE(xsk_rs_tx_put_packets(l.tx, NULL, 0), 0);
	peer_drain(ctx.peer);
	d[0] = tx_frame(&l, 30, 30);
	d[1] = tx_frame(&l, 31, 31);
	d[2] = tx_frame(&l, 32, 32);
	d[2].options = XSK_RS_DESC_CONTD;
	FAILS(xsk_rs_tx_put_packets(l.tx, d + 2, 1), -EINVAL, "array ends inside its first packet");
	for (i = 0; i < RING + 1; i++)
		big[i] = (xsk_rs_desc){ .addr = d[0].addr, .len = 60, .options = i < RING ? XSK_RS_DESC_CONTD : 0 };
	FAILS(xsk_rs_tx_put_packets(l.tx, big, RING + 1), -E2BIG, "more than the tx ring's");
	d[2].len = UINT32_MAX;
	FAILS(xsk_rs_tx_put_packets(l.tx, d + 2, 1), -EMSGSIZE, "descriptor 0 is 4294967295 bytes");
	VALUE(xsk_rs_tx_put_packets(l.tx, d, 3), 2); /* the two whole ones, not the chain's start */
	kick(l.sock);
	comp_ready(&l, 2, SETTLE_MS);
	peer_gets(valid, 2, "two whole packets queued by put_packets");
	live_down(&l);
}

static void row_tx_put(void)
{
	static const uint32_t valid[] = { 7 };
	const uint64_t size = (uint64_t)FRAMES * FSIZE;
	xsk_rs_desc d[RING + 1];
	xsk_rs_stats st = { 0 };
	uint64_t deadline;
	uint32_t idx = 0;
	struct live l;

	memset(d, 0, sizeof(d));
	FAILS(xsk_rs_tx_put(NULL, d, 1), -EINVAL, "handle is NULL");
	if (!live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return;
	FAILS(xsk_rs_tx_put(l.tx, NULL, 1), -EINVAL, "array is NULL");
	FAILS(xsk_rs_tx_put(l.tx, NULL, UINT32_MAX), -EINVAL, "array is NULL");
	VALUE(xsk_rs_tx_put(l.tx, NULL, 0), 0);
	peer_drain(ctx.peer);
	d[0] = (xsk_rs_desc){ .addr = UINT64_MAX, .len = 60 };
	d[1] = (xsk_rs_desc){ .addr = size - 30, .len = 60 };
	d[2] = (xsk_rs_desc){ .addr = 0, .len = UINT32_MAX };
	d[3] = tx_frame(&l, 20, 99);
	d[3].options = UINT32_MAX & ~1u; /* not XDP_PKT_CONTD: that would take the next one with it */
	d[4] = tx_frame(&l, 21, 7);
	FAILS(xsk_rs_tx_put(l.tx, d + 2, 3), -EMSGSIZE, "descriptor 0 is 4294967295 bytes");
	COUNT_MSG(xsk_rs_tx_put(l.tx, d, 5), 2, "descriptor 2 is 4294967295 bytes");
	if (CHECK(RING_COUNT(xsk_rs_tx_reserve(l.tx, 1, &idx)) == 1, "tx_reserve(1) for the overlong descriptor")) {
		*xsk_rs_tx_desc(l.tx, idx) = d[2];
		VALUE(xsk_rs_tx_submit(l.tx, 1), 1);
	}
	VALUE(xsk_rs_tx_put(l.tx, d + 3, 2), 2);
	/* Copy mode stops a batch at an invalid descriptor: kick until all are seen. */
	deadline = now_ms() + WAIT_MS;
	do {
		kick(l.sock);
		sleep_ms(5);
		xsk_rs_socket_stats(l.sock, &st);
	} while (st.tx_invalid_descs < 4 && now_ms() < deadline);
	comp_ready(&l, 5, SETTLE_MS);
	xsk_rs_socket_stats(l.sock, &st);
	VALUE(st.tx_invalid_descs, 4);
	peer_gets(valid, 1, "4 invalid TX descriptors and 1 valid one");
	live_down(&l);
}

/* ---- rows: consumer rings ----------------------------------------------- */

/* peek: NULL ring/idx, 0 and UINT32_MAX; three entries wait. */
#define PEEK_ROW(peek, ring)                                                                    \
	do {                                                                                    \
		uint32_t idx = UNTOUCHED, idx2 = UNTOUCHED;                                     \
		FAILS(peek(NULL, 1, &idx), -EINVAL, "handle is NULL");                                        \
		FAILS(peek(ring, 1, NULL), -EINVAL, "idx is NULL");                                           \
		FAILS(peek(ring, UINT32_MAX, NULL), -EINVAL, "idx is NULL");                                  \
		VALUE(peek(ring, 0, &idx), 0);                                                  \
		CHECK(idx == UNTOUCHED, "peek of 0 leaves *idx alone");                         \
		VALUE(peek(ring, UINT32_MAX, &idx), 3); /* the refused calls took nothing */    \
		VALUE(peek(ring, UINT32_MAX, &idx2), 0);                                        \
		CHECK(idx2 == UNTOUCHED, "a peek that finds nothing leaves *idx alone");        \
	} while (0)

static void row_comp_peek(void)
{
	struct live l;

	if (comp_three(&l))
		PEEK_ROW(xsk_rs_comp_peek, l.comp);
	live_down(&l);
}

static void row_rx_peek(void)
{
	struct live l;

	if (rx_three(&l))
		PEEK_ROW(xsk_rs_rx_peek, l.rx);
	live_down(&l);
}

/* Three single-frame packets are three whole packets. */
static void row_rx_peek_packets(void)
{
	struct live l;

	if (rx_three(&l))
		PEEK_ROW(xsk_rs_rx_peek_packets, l.rx);
	live_down(&l);
}

/* chain_len: NULL with n > 0, n 0, a chain, an unfinished chain. */
static void row_desc_chain_len(void)
{
	xsk_rs_desc d[3] = { { .len = 1, .options = XSK_RS_DESC_CONTD },
			     { .len = 1, .options = XSK_RS_DESC_CONTD },
			     { .len = 1, .options = 0 } };

	FAILS(xsk_rs_desc_chain_len(NULL, 1), -EINVAL, "descs is NULL");
	FAILS(xsk_rs_desc_chain_len(NULL, UINT32_MAX), -EINVAL, "descs is NULL");
	VALUE(xsk_rs_desc_chain_len(NULL, 0), 0);
	VALUE(xsk_rs_desc_chain_len(d, 3), 3);
	VALUE(xsk_rs_desc_chain_len(d + 2, 1), 1);
	VALUE(xsk_rs_desc_chain_len(d, 2), 0); /* goes on past them */
}

/*
 * release: a release with nothing peeked frees nothing (the next peek sees
 * all three at the same index); a release of UINT32_MAX after peeking 1
 * releases 1 (the next peek starts one further and sees two).
 */
#define RELEASE_ROW(peek, release, cancel, ring)                                                \
	do {                                                                                    \
		uint32_t i0 = UNTOUCHED, i1 = UNTOUCHED, i2 = UNTOUCHED;                        \
		FAILS(release(NULL, 1), -EINVAL, "handle is NULL");                                  \
		CHECK(RING_COUNT(peek(ring, 1, &i0)) == 1, "peek 1");                           \
		RING_COUNT(cancel(ring, 1));                                                    \
		COUNT_MSG(release(ring, 2), 0, "0 peeked");                                       \
		VALUE(peek(ring, UINT32_MAX, &i1), 3);                                          \
		CHECK(i1 == i0, "  at the same index");                                         \
		RING_COUNT(cancel(ring, 2));                                                    \
		COUNT_MSG(release(ring, UINT32_MAX), 1, "1 peeked");                                \
		VALUE(peek(ring, UINT32_MAX, &i2), 2);                                          \
		CHECK(i2 == i0 + 1, "  starting one further (%u after %u)", i2, i0);            \
		COUNT_MSG(release(ring, 3), 2, "2 peeked");                                       \
		VALUE(peek(ring, UINT32_MAX, &i2), 0);                                          \
	} while (0)

static void row_comp_release(void)
{
	struct live l;

	if (comp_three(&l))
		RELEASE_ROW(xsk_rs_comp_peek, xsk_rs_comp_release, xsk_rs_comp_cancel, l.comp);
	live_down(&l);
}

static void row_rx_release(void)
{
	struct live l;

	if (rx_three(&l))
		RELEASE_ROW(xsk_rs_rx_peek, xsk_rs_rx_release, xsk_rs_rx_cancel, l.rx);
	live_down(&l);
}

/*
 * cancel: with nothing peeked it rewinds nothing; after peeking 3 and
 * releasing 1, a cancel of UINT32_MAX rewinds only the 2 still peeked (an
 * unclamped one would hand out released entries and more than were produced).
 */
#define CANCEL_ROW(peek, release, cancel, ring)                                                 \
	do {                                                                                    \
		uint32_t i0 = UNTOUCHED, i1 = UNTOUCHED;                                        \
		FAILS(cancel(NULL, 1), -EINVAL, "handle is NULL");                                  \
		COUNT_MSG(cancel(ring, 5), 0, "0 peeked");                                        \
		VALUE(peek(ring, UINT32_MAX, &i0), 3);                                          \
		RING_COUNT(release(ring, 1));                                                   \
		COUNT_MSG(cancel(ring, UINT32_MAX), 2, "2 peeked");                                 \
		VALUE(peek(ring, UINT32_MAX, &i1), 2);                                          \
		CHECK(i1 == i0 + 1, "  the two unreleased ones again (%u after %u)", i1, i0);   \
		RING_COUNT(release(ring, 2));                                                   \
	} while (0)

static void row_comp_cancel(void)
{
	struct live l;

	if (comp_three(&l))
		CANCEL_ROW(xsk_rs_comp_peek, xsk_rs_comp_release, xsk_rs_comp_cancel, l.comp);
	live_down(&l);
}

static void row_rx_cancel(void)
{
	struct live l;

	if (rx_three(&l))
		CANCEL_ROW(xsk_rs_rx_peek, xsk_rs_rx_release, xsk_rs_rx_cancel, l.rx);
	live_down(&l);
}

/* take: NULL ring/array, 0, and ring size + 1 with room for it. */
#define TAKE_ROW(take, peek, cancel, ring, type)                                                \
	do {                                                                                    \
		type out[RING + 1];                                                             \
		uint32_t at;                                                                    \
		FAILS(take(NULL, out, 1), -EINVAL, "handle is NULL");                                         \
		VALUE(peek(ring, 1, &at), 1); /* an open peek: take would release it first */   \
		FAILS(take(ring, out, 1), -EINVAL, "peeked and not yet released");                            \
		RING_COUNT(cancel(ring, 1));                                                    \
		FAILS(take(ring, NULL, 1), -EINVAL, "array is NULL");                                         \
		FAILS(take(ring, NULL, UINT32_MAX), -EINVAL, "array is NULL");                                \
		VALUE(take(ring, NULL, 0), 0);                                                  \
		VALUE(take(ring, out, 0), 0);                                                   \
		VALUE(take(ring, out, RING + 1), 3); /* the refused calls took nothing */       \
		VALUE(take(ring, out, RING + 1), 0);                                            \
	} while (0)

static void row_comp_take(void)
{
	struct live l;

	if (comp_three(&l))
		TAKE_ROW(xsk_rs_comp_take, xsk_rs_comp_peek, xsk_rs_comp_cancel, l.comp, uint64_t);
	live_down(&l);
}

static void row_rx_take(void)
{
	struct live l;

	if (rx_three(&l))
		TAKE_ROW(xsk_rs_rx_take, xsk_rs_rx_peek, xsk_rs_rx_cancel, l.rx, xsk_rs_desc);
	live_down(&l);
}

/* ---- rows: span calls --------------------------------------------------- */

/*
 * A span call hands out entries that follow one another in ring memory, so it
 * stops at the ring's end. Each row below sets its ring's index to slot 40 or
 * 8 with all slots free (or 30 entries ready across the end) and asks for
 * UINT32_MAX: it must get the run up to the end, then the rest from slot 0,
 * then nothing, every pointer inside the ring; the put/take of the ring
 * refuses while the run is open; and what was written or read in place is
 * what the kernel took or gave, in ring order.
 */

#define SPAN_UNTOUCHED(type) ((type *)(uintptr_t)UNTOUCHED)

/* NULL ring, NULL out-param, n 0: nothing taken, *out left alone. */
#define SPAN_ARGS(span, ring, type, what)                                                       \
	do {                                                                                    \
		type *p_ = SPAN_UNTOUCHED(type);                                                \
		FAILS(span(NULL, 1, &p_), -EINVAL, "handle is NULL");                                         \
		FAILS(span(NULL, UINT32_MAX, NULL), -EINVAL, "handle is NULL");                               \
		FAILS(span(ring, 1, NULL), -EINVAL, what);                                                    \
		FAILS(span(ring, UINT32_MAX, NULL), -EINVAL, what);                                           \
		VALUE(span(ring, 0, &p_), 0);                                                   \
		CHECK(p_ == SPAN_UNTOUCHED(type), #span ": refused calls and n 0 leave *out alone"); \
	} while (0)

/* Which slot of the ring at `base` p points at, for messages (p may point anywhere). */
static long long slot_of(const void *p, const void *base, size_t entry)
{
	return ((long long)(intptr_t)p - (long long)(intptr_t)base) / (long long)entry;
}

/*
 * The span call returned `got` entries at p; it should be `want` at slot
 * `from` of the ring at base, and end inside the ring.
 */
#define SPAN_AT(got, p, base, want, from, what)                                                 \
	CHECK((got) == (want) && (p) == (base) + (from) && (p) + (got) <= (base) + RING,         \
	      "%s: %u entries at slot %lld (want %u at slot %u)", what, got,                     \
	      slot_of(p, base, sizeof(*(base))), (unsigned)(want), (unsigned)(from))

/*
 * The put/take call `call` refuses while a span is open, naming how many
 * entries are open; the message is that function's.
 */
#define OPEN_REFUSES(fn, call, what)                                                            \
	do {                                                                                    \
		const char *row_ = cur;                                                         \
		cur = #fn;                                                                      \
		FAILS(call, -EINVAL, what);                                                                   \
		cur = row_;                                                                     \
	} while (0)

/*
 * Asks `span` for UINT32_MAX three times: the first run (p1, n1) must be the
 * `first` entries from slot `from` up to the ring's end, the second (p2, n2)
 * the `second` entries from slot 0, the third nothing, with *out left alone.
 */
#define SPAN_WRAP(span, ring, type, base, p1, n1, first, from, p2, n2, second)                  \
	do {                                                                                    \
		type *p3_ = SPAN_UNTOUCHED(type);                                               \
		n1 = RING_COUNT(span(ring, UINT32_MAX, &p1));                                   \
		SPAN_AT(n1, p1, base, first, from, #span "(UINT32_MAX): up to the ring's end"); \
		n2 = RING_COUNT(span(ring, UINT32_MAX, &p2));                                   \
		SPAN_AT(n2, p2, base, second, 0, #span "(UINT32_MAX) again: the rest, from slot 0"); \
		VALUE(span(ring, UINT32_MAX, &p3_), 0);                                         \
		CHECK(p3_ == SPAN_UNTOUCHED(type), "then 0, *out left alone");                  \
	} while (0)

/*
 * The kernel has used the fill ring up to slot 8 and published that: all 64
 * slots are free, 56 of them before the ring's end.
 */
static void row_fill_reserve_span(void)
{
	uint64_t *s1 = SPAN_UNTOUCHED(uint64_t), *s2 = SPAN_UNTOUCHED(uint64_t);
	uint64_t *base, one = 0;
	xsk_rs_desc d[RING + 1];
	uint32_t n1, n2, n, good = 0;
	struct live l;

	if (!rx_fill_used_up(&l, 8)) {
		live_down(&l);
		return;
	}
	SPAN_ARGS(xsk_rs_fill_reserve_span, l.fill, uint64_t, "slots is NULL");
	base = xsk_rs_fill_addr(l.fill, 0);
	/* 64 free: 56 up to the end, then the 8 left from slot 0, then none. */
	SPAN_WRAP(xsk_rs_fill_reserve_span, l.fill, uint64_t, base, s1, n1, RING - 8, 8, s2, n2, 8);
	OPEN_REFUSES(xsk_rs_fill_put, xsk_rs_fill_put(l.fill, &one, 1), "64 entries reserved and not yet submitted");
	/* Frames 0..7 on the RX ring make way; packets 8.. land in frames 8.. in ring order. */
	VALUE(xsk_rs_rx_take(l.rx, d, RING), 8);
	for (uint32_t i = 0; i < n1; i++)
		s1[i] = (uint64_t)(8 + i) * FSIZE;
	for (uint32_t i = 0; i < n2; i++)
		s2[i] = (uint64_t)(8 + n1 + i) * FSIZE;
	RING_COUNT(xsk_rs_fill_submit(l.fill, n1 + n2));
	peer_burst(8, n1 + n2);
	VALUE(rx_ready(l.rx, l.sock, RING, WAIT_MS), RING);
	n = RING_COUNT(xsk_rs_rx_take(l.rx, d, RING + 1));
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = xsk_rs_umem_data(l.umem, d[i].addr);

		good += d[i].addr / FSIZE == 8 + i && p && frame_matches(p, d[i].len, 8 + i);
	}
	CHECK(n == RING && good == RING, "the %u addresses written in place took packets 8..71 in order (%u of %u)",
	      RING, good, n);
	live_down(&l);
}

/* The kernel has sent and completed 40 descriptors: the ring is empty, its index at slot 40. */
static void row_tx_reserve_span(void)
{
	xsk_rs_desc *s1 = SPAN_UNTOUCHED(xsk_rs_desc), *s2 = SPAN_UNTOUCHED(xsk_rs_desc);
	xsk_rs_desc *base, one;
	uint32_t seqs[RING], n1, n2;
	struct live l;

	if (!tx_done(&l, 40)) {
		live_down(&l);
		return;
	}
	SPAN_ARGS(xsk_rs_tx_reserve_span, l.tx, xsk_rs_desc, "slots is NULL");
	base = xsk_rs_tx_desc(l.tx, 0);
	/* 64 free: 24 up to the end, then the 40 left from slot 0, then none. */
	SPAN_WRAP(xsk_rs_tx_reserve_span, l.tx, xsk_rs_desc, base, s1, n1, RING - 40, 40, s2, n2, 40);
	one = tx_frame(&l, 99, 99);
	OPEN_REFUSES(xsk_rs_tx_put, xsk_rs_tx_put(l.tx, &one, 1), "64 entries reserved and not yet submitted");
	/* Every TX slot gets a frame: whatever the kernel sends comes from these writes. */
	for (uint32_t i = 0; i < n1 + n2; i++) {
		seqs[i] = 100 + i;
		*(i < n1 ? &s1[i] : &s2[i - n1]) = tx_frame(&l, 100 + i, seqs[i]);
	}
	RING_COUNT(xsk_rs_tx_submit(l.tx, n1 + n2));
	VALUE(comp_ready(&l, RING, WAIT_MS), RING);
	peer_gets(seqs, n1 + n2, "64 descriptors written in place, across the ring's end");
	live_down(&l);
}

/*
 * 40 completions taken, then 30 frames sent: their completions wait in slots
 * 40..63 and 0..5.
 */
static void row_comp_peek_span(void)
{
	const uint64_t *e1 = SPAN_UNTOUCHED(const uint64_t), *e2 = SPAN_UNTOUCHED(const uint64_t);
	const uint64_t *e3 = SPAN_UNTOUCHED(const uint64_t), *base;
	xsk_rs_desc d[30];
	uint64_t c[RING];
	uint32_t n1, n2, good = 0;
	struct live l;

	if (!tx_done(&l, 40)) {
		live_down(&l);
		return;
	}
	SPAN_ARGS(xsk_rs_comp_peek_span, l.comp, const uint64_t, "entries is NULL");
	VALUE(xsk_rs_comp_peek_span(l.comp, UINT32_MAX, &e3), 0);
	CHECK(e3 == SPAN_UNTOUCHED(const uint64_t), "none ready: 0, *entries left alone");
	for (uint32_t i = 0; i < 30; i++)
		d[i] = tx_frame(&l, 60 + i, 40 + i);
	VALUE(xsk_rs_tx_put(l.tx, d, 30), 30);
	VALUE(comp_ready(&l, 30, WAIT_MS), 30);
	base = xsk_rs_comp_addr(l.comp, 0);
	/* 30 ready: 24 up to the end, then the other 6 from slot 0, then none. */
	SPAN_WRAP(xsk_rs_comp_peek_span, l.comp, const uint64_t, base, e1, n1, 24, 40, e2, n2, 6);
	for (uint32_t i = 0; i < n1 + n2 && n1 + n2 <= 30; i++)
		good += (i < n1 ? e1[i] : e2[i - n1]) == d[i].addr;
	CHECK(good == 30, "read in place: the 30 frames' addresses in the order sent (%u right)", good);
	OPEN_REFUSES(xsk_rs_comp_take, xsk_rs_comp_take(l.comp, c, RING), "30 entries peeked and not yet released");
	RING_COUNT(xsk_rs_comp_release(l.comp, n1 + n2));
	VALUE(xsk_rs_comp_take(l.comp, c, RING), 0);
	peer_drain(ctx.peer);
	live_down(&l);
}

/*
 * 40 frames received and taken, 30 more lent and received: they wait in RX
 * slots 40..63 and 0..5.
 */
static void row_rx_peek_span(void)
{
	const xsk_rs_desc *e1 = SPAN_UNTOUCHED(const xsk_rs_desc), *e2 = SPAN_UNTOUCHED(const xsk_rs_desc);
	const xsk_rs_desc *e3 = SPAN_UNTOUCHED(const xsk_rs_desc), *base;
	xsk_rs_desc d[RING];
	uint64_t addrs[30];
	uint32_t n1, n2, good = 0;
	struct live l;

	if (!rx_fill_used_up(&l, 40)) {
		live_down(&l);
		return;
	}
	SPAN_ARGS(xsk_rs_rx_peek_span, l.rx, const xsk_rs_desc, "entries is NULL");
	VALUE(xsk_rs_rx_take(l.rx, d, RING), 40);
	VALUE(xsk_rs_rx_peek_span(l.rx, UINT32_MAX, &e3), 0);
	CHECK(e3 == SPAN_UNTOUCHED(const xsk_rs_desc), "none ready: 0, *entries left alone");
	for (uint32_t i = 0; i < 30; i++)
		addrs[i] = (uint64_t)(40 + i) * FSIZE;
	VALUE(xsk_rs_fill_put(l.fill, addrs, 30), 30);
	peer_burst(40, 30);
	VALUE(rx_ready(l.rx, l.sock, 30, WAIT_MS), 30);
	base = xsk_rs_rx_desc(l.rx, 0);
	/* 30 ready: 24 up to the end, then the other 6 from slot 0, then none. */
	SPAN_WRAP(xsk_rs_rx_peek_span, l.rx, const xsk_rs_desc, base, e1, n1, 24, 40, e2, n2, 6);
	for (uint32_t i = 0; i < n1 + n2 && n1 + n2 <= 30; i++) {
		const xsk_rs_desc *e = i < n1 ? &e1[i] : &e2[i - n1];
		const uint8_t *p = xsk_rs_umem_data(l.umem, e->addr);

		good += e->addr / FSIZE == 40 + i && p && frame_matches(p, e->len, 40 + i);
	}
	CHECK(good == 30, "read in place: packets 40..69 byte-exact in frames 40..69, in order (%u right)", good);
	OPEN_REFUSES(xsk_rs_rx_take, xsk_rs_rx_take(l.rx, d, RING), "30 entries peeked and not yet released");
	RING_COUNT(xsk_rs_rx_release(l.rx, n1 + n2));
	VALUE(xsk_rs_rx_take(l.rx, d, RING), 0);
	live_down(&l);
}

/* ---- rows: getters ------------------------------------------------------ */

/* A uint64_t call refused: `want` (a value it never has otherwise) and a message. */
#define U64_MSG(call, want, what)                                                           \
	do {                                                                                \
		uint64_t v_;                                                                \
		prime();                                                                    \
		v_ = (call);                                                                \
		msg_check(__LINE__, v_ == (want), #call " == " #want, (long long)v_, what); \
	} while (0)

/* A UMEM with fill 128 / comp 32 and a socket with RX 32 / TX 128: every ring a size of its own. */
static int sizes_up(struct live *l)
{
	xsk_rs_umem_config c;
	xsk_rs_socket_config s;
	int rc;

	memset(l, 0, sizeof(*l));
	umem_cfg(&c);
	c.fill_size = 128;
	c.comp_size = 32;
	rc = xsk_rs_umem_create(&l->umem, &c);
	if (!CHECK(rc == 0, "fixture: umem_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return 0;
	l->fill = xsk_rs_umem_fill(l->umem);
	l->comp = xsk_rs_umem_comp(l->umem);
	xsk_rs_socket_config_init(&s, sizeof(s));
	s.rx_size = 32;
	s.tx_size = 128;
	s.xdp_mode = ctx.mode;
	rc = xsk_rs_socket_create(&l->sock, ctx.if_a, 0, l->umem, &s);
	if (!CHECK(rc == 0, "fixture: socket_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return 0;
	l->rx = xsk_rs_socket_rx(l->sock);
	l->tx = xsk_rs_socket_tx(l->sock);
	return 1;
}

#define SIZE_ROW(fn, ring, want)                                                                \
	do {                                                                                    \
		struct live l_;                                                                 \
		ZERO_MSG(fn(NULL), "handle is NULL");                                           \
		if (sizes_up(&l_))                                                              \
			VALUE(fn(l_.ring), want);                                               \
		live_down(&l_);                                                                 \
	} while (0)

static void row_fill_size(void)
{
	SIZE_ROW(xsk_rs_fill_size, fill, 128);
}

static void row_comp_size(void)
{
	SIZE_ROW(xsk_rs_comp_size, comp, 32);
}

static void row_rx_size(void)
{
	SIZE_ROW(xsk_rs_rx_size, rx, 32);
}

static void row_tx_size(void)
{
	SIZE_ROW(xsk_rs_tx_size, tx, 128);
}

static void row_tx_max_len(void)
{
	SIZE_ROW(xsk_rs_tx_max_len, tx, 1518); /* veth's MTU 1500 + 14 + 4 */
}

/* nb_free: at most nb, what is free (reserved slots are not), 0 for nb 0 -- not -EINVAL. */
static void row_fill_nb_free(void)
{
	uint64_t addrs[8];
	uint32_t idx;
	struct live l;

	for (uint32_t i = 0; i < 8; i++)
		addrs[i] = (uint64_t)i * FSIZE;
	FAILS(xsk_rs_fill_nb_free(NULL, 1), -EINVAL, "handle is NULL");
	FAILS(xsk_rs_fill_nb_free(NULL, 0), -EINVAL, "handle is NULL");
	if (!umem_up(&l))
		return;
	VALUE(xsk_rs_fill_nb_free(l.fill, 0), 0);
	VALUE(xsk_rs_fill_nb_free(l.fill, 5), 5);
	VALUE(xsk_rs_fill_nb_free(l.fill, UINT32_MAX), RING);
	VALUE(xsk_rs_fill_put(l.fill, addrs, 8), 8);
	VALUE(xsk_rs_fill_nb_free(l.fill, UINT32_MAX), RING - 8);
	VALUE(xsk_rs_fill_reserve(l.fill, 4, &idx), 4);
	VALUE(xsk_rs_fill_nb_free(l.fill, UINT32_MAX), RING - 12);
	VALUE(xsk_rs_fill_nb_free(l.fill, RING - 12), RING - 12);
	VALUE(xsk_rs_fill_submit(l.fill, 4), 4);
	VALUE(xsk_rs_fill_nb_free(l.fill, RING), RING - 12); /* the kernel took nothing: no socket */
	live_down(&l);
}

/* tx_nb_free: the slots come back once the kernel has sent what was queued. */
static void row_tx_nb_free(void)
{
	xsk_rs_desc d[3];
	struct live l;

	FAILS(xsk_rs_tx_nb_free(NULL, 1), -EINVAL, "handle is NULL");
	if (!live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return;
	peer_drain(ctx.peer);
	VALUE(xsk_rs_tx_nb_free(l.tx, UINT32_MAX), RING);
	for (uint32_t i = 0; i < 3; i++)
		d[i] = tx_frame(&l, 10 + i, i);
	VALUE(xsk_rs_tx_put(l.tx, d, 3), 3);
	VALUE(xsk_rs_tx_nb_free(l.tx, UINT32_MAX), RING - 3);
	VALUE(xsk_rs_tx_nb_free(l.tx, 2), 2);
	VALUE(comp_ready(&l, 3, WAIT_MS), 3);
	VALUE(xsk_rs_tx_nb_free(l.tx, UINT32_MAX), RING);
	peer_drain(ctx.peer);
	live_down(&l);
}

/* nb_avail: at most nb of what waits; peeked entries are no longer available. */
#define NB_AVAIL_ROW(nb_avail, peek, cancel, ring)                                              \
	do {                                                                                    \
		uint32_t at;                                                                    \
		FAILS(nb_avail(NULL, 1), -EINVAL, "handle is NULL");                            \
		VALUE(nb_avail(ring, 0), 0);                                                    \
		VALUE(nb_avail(ring, 2), 2);                                                    \
		VALUE(nb_avail(ring, UINT32_MAX), 3);                                           \
		VALUE(peek(ring, 1, &at), 1);                                                   \
		VALUE(nb_avail(ring, UINT32_MAX), 2);                                           \
		VALUE(cancel(ring, 1), 1);                                                      \
		VALUE(nb_avail(ring, UINT32_MAX), 3);                                           \
	} while (0)

static void row_comp_nb_avail(void)
{
	struct live l;

	if (comp_three(&l))
		NB_AVAIL_ROW(xsk_rs_comp_nb_avail, xsk_rs_comp_peek, xsk_rs_comp_cancel, l.comp);
	live_down(&l);
}

static void row_rx_nb_avail(void)
{
	struct live l;

	if (rx_three(&l))
		NB_AVAIL_ROW(xsk_rs_rx_nb_avail, xsk_rs_rx_peek, xsk_rs_rx_cancel, l.rx);
	live_down(&l);
}

/* frame_headroom: 0 is an answer (the default), -EINVAL is misuse. */
static void row_umem_frame_headroom(void)
{
	xsk_rs_umem_config c;
	xsk_rs_umem *u = NULL;
	struct live l;
	int rc;

	FAILS(xsk_rs_umem_frame_headroom(NULL), -EINVAL, "umem is NULL");
	if (umem_up(&l)) {
		VALUE(xsk_rs_umem_frame_headroom(l.umem), 0);
		live_down(&l);
	}
	umem_cfg(&c);
	c.frame_headroom = 128;
	rc = xsk_rs_umem_create(&u, &c);
	if (CHECK(rc == 0, "a UMEM with 128 bytes of headroom (rc %d)", rc)) {
		VALUE(xsk_rs_umem_frame_headroom(u), 128);
		VALUE(xsk_rs_umem_destroy(u), 0);
	}
}

/* frame_start: arithmetic on any address; UINT64_MAX only for a NULL UMEM. */
static void row_umem_frame_start(void)
{
	xsk_rs_umem_config c;
	xsk_rs_umem *u = NULL;
	struct live l;
	int rc;

	U64_MSG(xsk_rs_umem_frame_start(NULL, 0), UINT64_MAX, "handle is NULL");
	U64_MSG(xsk_rs_umem_frame_start(NULL, 5 * FSIZE + 100), UINT64_MAX, "handle is NULL");
	if (umem_up(&l)) {
		VALUE(xsk_rs_umem_frame_start(l.umem, 0), 0);
		VALUE(xsk_rs_umem_frame_start(l.umem, 5 * FSIZE), 5 * FSIZE);
		VALUE(xsk_rs_umem_frame_start(l.umem, 5 * FSIZE + 256 + 99), 5 * FSIZE);
		VALUE(xsk_rs_umem_frame_start(l.umem, (uint64_t)FRAMES * FSIZE - 1), (uint64_t)(FRAMES - 1) * FSIZE);
		CHECK(xsk_rs_umem_frame_start(l.umem, UINT64_MAX) == UINT64_MAX - UINT64_MAX % FSIZE,
		      "frame_start(UINT64_MAX) is arithmetic, not a check (%#llx)",
		      (unsigned long long)xsk_rs_umem_frame_start(l.umem, UINT64_MAX));
		live_down(&l);
	}
	/* Unaligned: the chunk's base, the offset in bits 48-63 dropped. */
	umem_cfg(&c);
	c.flags = XSK_RS_UMEM_UNALIGNED_CHUNKS;
	rc = xsk_rs_umem_create(&u, &c);
	if (CHECK(rc == 0, "unaligned UMEM (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : "")) {
		VALUE(xsk_rs_umem_frame_start(u, (256ull << 48) | 1000), 1000);
		VALUE(xsk_rs_umem_frame_start(u, 1000), 1000);
		VALUE(xsk_rs_umem_destroy(u), 0);
	}
}

/* The unaligned-mode helpers: plain functions of a u64, no state, no message. */
static void row_umem_extract_addr(void)
{
	VALUE(xsk_rs_umem_extract_addr(0), 0);
	VALUE(xsk_rs_umem_extract_addr((3ull << 48) | 0x1234), 0x1234);
	CHECK(xsk_rs_umem_extract_addr(UINT64_MAX) == (1ull << 48) - 1, "extract_addr(UINT64_MAX) = 2^48 - 1");
}

static void row_umem_extract_offset(void)
{
	VALUE(xsk_rs_umem_extract_offset(0x1234), 0);
	VALUE(xsk_rs_umem_extract_offset((3ull << 48) | 0x1234), 3);
	VALUE(xsk_rs_umem_extract_offset(UINT64_MAX), 0xffff);
}

static void row_umem_add_offset_to_addr(void)
{
	VALUE(xsk_rs_umem_add_offset_to_addr(0x1234), 0x1234);
	VALUE(xsk_rs_umem_add_offset_to_addr((3ull << 48) | 0x1234), 0x1237);
	CHECK(xsk_rs_umem_add_offset_to_addr(UINT64_MAX) == (1ull << 48) - 1 + 0xffff,
	      "add_offset_to_addr(UINT64_MAX) = 2^48 - 1 + 0xffff");
}

/* queue_id and ifindex: 0 can be an answer (queue 0); -EINVAL is misuse. */
static void row_socket_queue_id(void)
{
	struct live l;

	FAILS(xsk_rs_socket_queue_id(NULL), -EINVAL, "sock is NULL");
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		VALUE(xsk_rs_socket_queue_id(l.sock), 0);
		live_down(&l);
	}
}

static void row_socket_ifindex(void)
{
	struct live l;

	FAILS(xsk_rs_socket_ifindex(NULL), -EINVAL, "sock is NULL");
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		VALUE(xsk_rs_socket_ifindex(l.sock), (int)if_nametoindex(ctx.if_a));
		live_down(&l);
	}
}

/* The map type of a BPF map fd, or -errno. */
static int map_type(int fd)
{
	struct bpf_map_info info;
	union bpf_attr a;

	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uint64_t)(uintptr_t)&info;
	if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)) != 0)
		return -errno;
	return (int)info.type;
}

/* xskmap_fd: the library's XSKMAP when it attached its program, -ENOENT when it attached nothing. */
static void row_socket_xskmap_fd(void)
{
	struct live l;
	int fd;

	FAILS(xsk_rs_socket_xskmap_fd(NULL), -EINVAL, "sock is NULL");
	if (live_up(&l, RING, RING, XSK_RS_XDP_MODE_NONE)) {
		FAILS(xsk_rs_socket_xskmap_fd(l.sock), -ENOENT, "attached no XDP program");
		live_down(&l);
	}
	if (live_up(&l, 0, RING, ctx.mode)) { /* TX-only: nothing attached either */
		FAILS(xsk_rs_socket_xskmap_fd(l.sock), -ENOENT, "attached no XDP program");
		live_down(&l);
	}
	if (live_up(&l, RING, 0, ctx.mode)) {
		fd = xsk_rs_socket_xskmap_fd(l.sock);
		CHECK(fd >= 0 && fd != xsk_rs_socket_fd(l.sock) && map_type(fd) == BPF_MAP_TYPE_XSKMAP,
		      "an RX socket in %s mode: xskmap_fd %d is an XSKMAP (type %d)",
		      ctx.mode == XSK_RS_XDP_MODE_SKB ? "skb" : "drv", fd, fd >= 0 ? map_type(fd) : fd);
		live_down(&l);
		CHECK(fd < 0 || fcntl(fd, F_GETFD) < 0, "the map fd is closed with the last socket");
	}
}

/* ---- rows: layouts, shared rings, UMEM on a caller's fd, program -------- */

/* A layout refused for NULL arguments; then a live ring's layout, matching its size. */
#define LAYOUT_ARGS(layout, rg, size_fn)                                                      \
	do {                                                                                    \
		xsk_rs_ring_layout lay_;                                                        \
		FAILS(layout(NULL, &lay_), -EINVAL, "ring is NULL");                            \
		FAILS(layout(rg, NULL), -EINVAL, "out is NULL");                              \
		memset(&lay_, 0, sizeof(lay_));                                                 \
		VALUE(layout(rg, &lay_), 0);                                                  \
		CHECK(lay_.producer && lay_.consumer && lay_.flags && lay_.ring &&              \
			      lay_.size == size_fn(rg),                                       \
		      #layout ": every pointer set, size %u", lay_.size);                       \
	} while (0)

static void row_fill_layout(void)
{
	xsk_rs_ring_layout lay;
	uint64_t addrs[3] = { 5 * FSIZE, 6 * FSIZE, 7 * FSIZE };
	struct live l;

	FAILS(xsk_rs_fill_layout(NULL, NULL), -EINVAL, "ring is NULL");
	if (!live_up(&l, RING, 0, ctx.mode))
		return;
	LAYOUT_ARGS(xsk_rs_fill_layout, l.fill, xsk_rs_fill_size);
	RING_COUNT(xsk_rs_fill_put(l.fill, addrs, 3));
	VALUE(xsk_rs_fill_layout(l.fill, &lay), 0);
	/* What the library produced is in the shared memory the layout names. */
	CHECK(*lay.producer - *lay.consumer == 3 &&
		      ((uint64_t *)lay.ring)[(*lay.producer - 1) & (lay.size - 1)] == 7 * FSIZE,
	      "fill layout: 3 entries between the indices, the last one frame 7");
	live_down(&l);
}

static void row_comp_layout(void)
{
	xsk_rs_ring_layout lay;
	struct live l;

	FAILS(xsk_rs_comp_layout(NULL, NULL), -EINVAL, "ring is NULL");
	if (!comp_three(&l))
		return;
	LAYOUT_ARGS(xsk_rs_comp_layout, l.comp, xsk_rs_comp_size);
	VALUE(xsk_rs_comp_layout(l.comp, &lay), 0);
	CHECK(*lay.producer - *lay.consumer == 3 &&
		      ((uint64_t *)lay.ring)[*lay.consumer & (lay.size - 1)] == 10 * FSIZE,
	      "completion layout: the 3 completions, frame 10 first");
	live_down(&l);
}

static void row_rx_layout(void)
{
	xsk_rs_ring_layout lay;
	const xsk_rs_desc *d;
	struct live l;

	FAILS(xsk_rs_rx_layout(NULL, NULL), -EINVAL, "ring is NULL");
	if (!rx_three(&l))
		return;
	LAYOUT_ARGS(xsk_rs_rx_layout, l.rx, xsk_rs_rx_size);
	VALUE(xsk_rs_rx_layout(l.rx, &lay), 0);
	d = &((const xsk_rs_desc *)lay.ring)[*lay.consumer & (lay.size - 1)];
	CHECK(*lay.producer - *lay.consumer == 3 && d->len == frame_len(0) &&
		      frame_seq(xsk_rs_umem_data(l.umem, d->addr)) == 0,
	      "rx layout: the 3 received frames, seq 0 first");
	live_down(&l);
}

static void row_tx_layout(void)
{
	xsk_rs_ring_layout lay;
	xsk_rs_desc d;
	struct live l;

	FAILS(xsk_rs_tx_layout(NULL, NULL), -EINVAL, "ring is NULL");
	if (!live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE))
		return;
	LAYOUT_ARGS(xsk_rs_tx_layout, l.tx, xsk_rs_tx_size);
	d = tx_frame(&l, 10, 0);
	RING_COUNT(xsk_rs_tx_put(l.tx, &d, 1));
	VALUE(xsk_rs_tx_layout(l.tx, &lay), 0);
	CHECK(*lay.producer - *lay.consumer == 1 &&
		      ((xsk_rs_desc *)lay.ring)[*lay.consumer & (lay.size - 1)].addr == 10 * FSIZE,
	      "tx layout: the queued descriptor, not yet sent");
	live_down(&l);
}

static void row_socket_fill(void)
{
	struct live l;

	NULL_MSG(xsk_rs_socket_fill(NULL), "handle is NULL");
	if (live_up(&l, RING, 0, ctx.mode)) {
		VALUE(xsk_rs_socket_fill(l.sock), l.fill); /* the first socket: the UMEM's own */
		live_down(&l);
	}
}

static void row_socket_comp(void)
{
	struct live l;

	NULL_MSG(xsk_rs_socket_comp(NULL), "handle is NULL");
	if (live_up(&l, 0, RING, XSK_RS_XDP_MODE_NONE)) {
		VALUE(xsk_rs_socket_comp(l.sock), l.comp);
		live_down(&l);
	}
}

static void row_umem_create_with_fd(void)
{
	const size_t size = (size_t)FRAMES * FSIZE;
	xsk_rs_umem *u = (xsk_rs_umem *)(uintptr_t)UNTOUCHED;
	xsk_rs_umem_config c;
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	char *area;

	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(area != MAP_FAILED && udp >= 0 && devnull >= 0 && xsk >= 0, "an area and three fds"))
		return;
	umem_cfg(&c);
	FAILS(xsk_rs_umem_create_with_fd(NULL, xsk, area, size, &c), -EINVAL, "out is NULL");
	FAILS(xsk_rs_umem_create_with_fd(&u, -1, area, size, &c), -EINVAL, "fd -1");
	FAILS(xsk_rs_umem_create_with_fd(&u, INT_MIN, area, size, &c), -EINVAL, "not a file descriptor");
	FAILS(xsk_rs_umem_create_with_fd(&u, INT_MAX, area, size, &c), -EBADF, "fd 2147483647");
	FAILS(xsk_rs_umem_create_with_fd(&u, devnull, area, size, &c), -ENOTSOCK, "socket domain");
	FAILS(xsk_rs_umem_create_with_fd(&u, udp, area, size, &c), -EINVAL, "not an AF_XDP socket");
	FAILS(xsk_rs_umem_create_with_fd(&u, xsk, NULL, size, &c), -EINVAL, "area is NULL");
	FAILS(xsk_rs_umem_create_with_fd(&u, xsk, area + 1, size, &c), -EINVAL, "not aligned");
	c.frame_size = 3000;
	FAILS(xsk_rs_umem_create_with_fd(&u, xsk, area, size, &c), -EINVAL, "frame size 3000");
	CHECK(u == (xsk_rs_umem *)(uintptr_t)UNTOUCHED, "refused calls leave *out alone");
	CHECK(fcntl(udp, F_GETFD) >= 0 && fcntl(devnull, F_GETFD) >= 0 && fcntl(xsk, F_GETFD) >= 0,
	      "a refused call leaves the caller's fd open");
	umem_cfg(&c);
	VALUE(xsk_rs_umem_create_with_fd(&u, xsk, area, size, &c), 0);
	if (u != (xsk_rs_umem *)(uintptr_t)UNTOUCHED) {
		xsk_rs_umem *u2 = (xsk_rs_umem *)(uintptr_t)UNTOUCHED;

		VALUE(xsk_rs_umem_fd(u), xsk);
		VALUE(xsk_rs_umem_area(u), area);
		VALUE(xsk_rs_umem_frame_count(u), FRAMES);
		/* A fd with a UMEM already: refused, and left open for its owner. */
		FAILS(xsk_rs_umem_create_with_fd(&u2, xsk, area, size, &c), -EBUSY, "register umem");
		CHECK(u2 == (xsk_rs_umem *)(uintptr_t)UNTOUCHED && fcntl(xsk, F_GETFD) >= 0,
		      "the refused call leaves the UMEM's fd open");
		VALUE(xsk_rs_umem_frame_count(u), FRAMES);
		VALUE(xsk_rs_umem_destroy(u), 0);
		CHECK(fcntl(xsk, F_GETFD) < 0 && errno == EBADF, "the UMEM closed the fd it owned");
	} else {
		close(xsk);
	}
	close(udp);
	close(devnull);
	munmap(area, size);
}

static void row_prog_create(void)
{
	xsk_rs_prog *p = (xsk_rs_prog *)(uintptr_t)UNTOUCHED, *q = NULL;

	FAILS(xsk_rs_prog_create(NULL, ctx.if_a, ctx.mode), -EINVAL, "out is NULL");
	FAILS(xsk_rs_prog_create(&p, NULL, ctx.mode), -EINVAL, "ifname is NULL");
	FAILS(xsk_rs_prog_create(&p, ctx.if_a, XSK_RS_XDP_MODE_NONE), -EINVAL, "mode 3");
	FAILS(xsk_rs_prog_create(&p, ctx.if_a, 99), -EINVAL, "mode 99");
	FAILS(xsk_rs_prog_create(&p, ctx.if_a, -1), -EINVAL, "mode -1");
	FAILS(xsk_rs_prog_create(&p, "nosuchif0", ctx.mode), -ENODEV, "nosuchif0");
	CHECK(p == (xsk_rs_prog *)(uintptr_t)UNTOUCHED, "refused calls leave *out alone");
	if (!CHECK(xsk_rs_prog_create(&p, ctx.if_a, ctx.mode) == 0, "attach on %s: %s", ctx.if_a, errmsg()))
		return;
	/* A second handle joins the same program. */
	VALUE(xsk_rs_prog_create(&q, ctx.if_a, XSK_RS_XDP_MODE_AUTO), 0);
	VALUE(xsk_rs_prog_xskmap_fd(q), xsk_rs_prog_xskmap_fd(p));
	CHECK(map_type(xsk_rs_prog_xskmap_fd(p)) == BPF_MAP_TYPE_XSKMAP, "its map is an XSKMAP");
	xsk_rs_prog_destroy(q);
	xsk_rs_prog_destroy(p);
	VALUE(xsk_rs_prog_find(&p, (int)if_nametoindex(ctx.if_a)), -ENOENT); /* the last handle detached it */
}

static void row_prog_find(void)
{
	xsk_rs_prog *p = (xsk_rs_prog *)(uintptr_t)UNTOUCHED, *f = NULL;
	int ifindex = (int)if_nametoindex(ctx.if_a);

	FAILS(xsk_rs_prog_find(NULL, ifindex), -EINVAL, "out is NULL");
	FAILS(xsk_rs_prog_find(&p, -1), -EINVAL, "ifindex -1");
	FAILS(xsk_rs_prog_find(&p, ifindex), -ENOENT, "no XDP program attached");
	FAILS(xsk_rs_prog_find(&p, INT_MAX), -ENOENT, "no XDP program attached");
	CHECK(p == (xsk_rs_prog *)(uintptr_t)UNTOUCHED, "refused calls leave *out alone");
	if (!CHECK(xsk_rs_prog_create(&p, ctx.if_a, ctx.mode) == 0, "attach: %s", errmsg()))
		return;
	VALUE(xsk_rs_prog_find(&f, ifindex), 0);
	VALUE(xsk_rs_prog_ifindex(f), ifindex);
	VALUE(xsk_rs_prog_xskmap_fd(f), xsk_rs_prog_xskmap_fd(p));
	xsk_rs_prog_destroy(p);
	/* The found handle keeps it attached on its own. */
	VALUE(xsk_rs_prog_find(&p, ifindex), 0);
	xsk_rs_prog_destroy(p);
	xsk_rs_prog_destroy(f);
}

static void row_prog_xskmap_fd(void)
{
	FAILS(xsk_rs_prog_xskmap_fd(NULL), -EINVAL, "prog is NULL");
}

static void row_prog_ifindex(void)
{
	FAILS(xsk_rs_prog_ifindex(NULL), -EINVAL, "prog is NULL");
}

static void row_prog_detach(void)
{
	xsk_rs_prog *p = NULL, *f = NULL;
	struct live l;

	FAILS(xsk_rs_prog_detach(NULL), -EINVAL, "prog is NULL");
	if (!live_up(&l, RING, 0, ctx.mode))
		return;
	/* The socket's program, joined and detached while the socket lives. */
	VALUE(xsk_rs_prog_find(&p, (int)if_nametoindex(ctx.if_a)), 0);
	VALUE(xsk_rs_prog_detach(p), 0);
	VALUE(xsk_rs_prog_detach(p), 0); /* detached already */
	VALUE(xsk_rs_prog_find(&f, (int)if_nametoindex(ctx.if_a)), -ENOENT);
	/* A new handle attaches a fresh program while the old references live. */
	VALUE(xsk_rs_prog_create(&f, ctx.if_a, ctx.mode), 0);
	CHECK(f && xsk_rs_prog_xskmap_fd(f) != xsk_rs_prog_xskmap_fd(p), "a fresh program with a map of its own");
	xsk_rs_prog_destroy(f);
	xsk_rs_prog_destroy(p);
	live_down(&l);
}

static void row_prog_destroy(void)
{
	const char *before;

	xsk_rs_prog_destroy(NULL);
	before = xsk_rs_last_error();
	xsk_rs_prog_destroy(NULL);
	CHECK(xsk_rs_last_error() == before, "destroy(NULL): a no-op that leaves the last error alone");
}

/* ---- rows: packet layer ------------------------------------------------- */

#define PKT_FRAMES 64    /* frames of each packet-layer half the rows create */
#define VETH_MAX_LEN 1518 /* xsk_rs_txsock_max_len on veth: MTU 1500 + 14 + 4 */

static void pkt_cfg(xsk_rs_xdp_config *c)
{
	xsk_rs_xdp_config_init(c, sizeof(*c));
	c->rx_frames = c->tx_frames = PKT_FRAMES;
	c->frame_size = FSIZE;
	c->xdp_mode = ctx.mode;
}

/* A TX-only half on if_a queue 0, PKT_FRAMES frames of FSIZE. */
static xsk_rs_txsock *txsock_up(void)
{
	xsk_rs_xdp_config c;
	xsk_rs_txsock *tx = NULL;
	int rc;

	pkt_cfg(&c);
	rc = xsk_rs_txsock_create(ctx.if_a, 0, &c, &tx);
	CHECK(rc == 0 && tx, "fixture: txsock_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : "");
	return tx;
}

/* An RX-only half on if_a queue 0 that has found `n` frames (seq 0..n-1) from the peer. */
static xsk_rs_rxsock *rxsock_up(uint32_t n)
{
	xsk_rs_xdp_config c;
	xsk_rs_rxsock *rx = NULL;
	uint64_t deadline;
	int rc, got = 0;

	pkt_cfg(&c);
	rc = xsk_rs_rxsock_create(ctx.if_a, 0, &c, &rx);
	if (!CHECK(rc == 0 && rx, "fixture: rxsock_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return NULL;
	if (n == 0)
		return rx;
	peer_burst(0, n);
	deadline = now_ms() + WAIT_MS;
	while ((got = xsk_rs_rxsock_seek(rx, n)) >= 0 && (uint32_t)got < n && now_ms() < deadline)
		xsk_rs_rxsock_wait(rx, 10);
	CHECK(got == (int)n, "fixture: %u frames found (%d)", n, got);
	return rx;
}

/* An RX half on which n frames have arrived and none is found (held) yet:
 * the copying receives refuse to take packets someone holds. */
static xsk_rs_rxsock *rxsock_arrived(uint32_t n)
{
	xsk_rs_xdp_config c;
	xsk_rs_rxsock *rx = NULL;
	int rc;

	pkt_cfg(&c);
	rc = xsk_rs_rxsock_create(ctx.if_a, 0, &c, &rx);
	if (!CHECK(rc == 0 && rx, "fixture: rxsock_create (rc %d%s%s)", rc, rc ? ": " : "", rc ? errmsg() : ""))
		return NULL;
	peer_burst(0, n);
	rc = xsk_rs_rxsock_wait(rx, WAIT_MS);
	CHECK(rc == 1, "fixture: a frame arrived (wait -> %d)", rc);
	usleep(50 * 1000); /* the rest of the burst: veth delivers it at once */
	return rx;
}

/* A create refused as -err with a message naming `what`; the out-params untouched, no program left. */
enum { MAKE_TX, MAKE_RX, MAKE_BI };

static void pkt_refused(int line, int which, const char *ifname, uint32_t q, const xsk_rs_xdp_config *c, int err,
			const char *what, const char *desc)
{
	xsk_rs_txsock *tx = (xsk_rs_txsock *)(uintptr_t)UNTOUCHED;
	xsk_rs_rxsock *rx = (xsk_rs_rxsock *)(uintptr_t)UNTOUCHED;
	int rc;

	prime();
	if (which == MAKE_TX)
		rc = xsk_rs_txsock_create(ifname, q, c, &tx);
	else if (which == MAKE_RX)
		rc = xsk_rs_rxsock_create(ifname, q, c, &rx);
	else
		rc = xsk_rs_bisock_create(ifname, q, c, &tx, &rx);
	msg_check(line, rc == err && tx == (xsk_rs_txsock *)(uintptr_t)UNTOUCHED &&
				rx == (xsk_rs_rxsock *)(uintptr_t)UNTOUCHED,
		  desc, rc, what);
	if (rc == 0) {
		if (tx != (xsk_rs_txsock *)(uintptr_t)UNTOUCHED)
			xsk_rs_txsock_destroy(tx);
		if (rx != (xsk_rs_rxsock *)(uintptr_t)UNTOUCHED)
			xsk_rs_rxsock_destroy(rx);
	}
}

#define PKT_BAD(which, field, value, err, what)                                                         \
	do {                                                                                            \
		xsk_rs_xdp_config c_;                                                                   \
		pkt_cfg(&c_);                                                                           \
		c_.field = (value);                                                                     \
		pkt_refused(__LINE__, which, ctx.if_a, 0, &c_, err, what, #which " " #field " = " #value); \
	} while (0)

static void row_xdp_config_init(void)
{
	CONFIG_INIT_ROW(xsk_rs_xdp_config_init, xsk_rs_xdp_config);
}

/* What every create refuses alike: its strings, queue and the config's size and fields. */

/* HugePages_Free from /proc/meminfo (0 when it cannot be read). */
static long free_huge_pages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void pkt_create_common(int which)
{
	_Alignas(xsk_rs_xdp_config) unsigned char longer[sizeof(xsk_rs_xdp_config) + 8];
	xsk_rs_xdp_config c;
	int state;

	pkt_cfg(&c);
	pkt_refused(__LINE__, which, NULL, 0, &c, -EINVAL, "ifname is NULL", "ifname NULL");
	pkt_refused(__LINE__, which, "veth\xff", 0, &c, -EINVAL, "UTF-8", "ifname not UTF-8");
	pkt_refused(__LINE__, which, "", 0, &c, -EINVAL, "interface name", "ifname \"\"");
	pkt_refused(__LINE__, which, "xskrs-nosuch0", 0, &c, -ENODEV, "xskrs-nosuch0", "unknown interface");
	pkt_refused(__LINE__, which, ctx.if_a, 1, &c, -EINVAL, "queue 1 out of range", "queue 1");
	pkt_refused(__LINE__, which, ctx.if_a, UINT32_MAX, &c, -EINVAL, "out of range", "queue UINT32_MAX");
	c.sz = 0;
	pkt_refused(__LINE__, which, ctx.if_a, 0, &c, -EINVAL, "sz 0", "cfg.sz = 0");
	c.sz = 14;
	pkt_refused(__LINE__, which, ctx.if_a, 0, &c, -EINVAL, "sz 14", "cfg.sz = 14 (cuts a field)");
	c.sz = SIZE_MAX;
	pkt_refused(__LINE__, which, ctx.if_a, 0, &c, -EINVAL, "sz", "cfg.sz = SIZE_MAX");
	pkt_cfg(&c);
	c.sz = sizeof(longer);
	memset(longer, 0, sizeof(longer));
	memcpy(longer, &c, sizeof(c));
	longer[sizeof(c) + 7] = 0x80;
	pkt_refused(__LINE__, which, ctx.if_a, 0, (xsk_rs_xdp_config *)(void *)longer, -EINVAL, "non-zero",
		    "cfg 8 bytes longer, unknown field set");
	PKT_BAD(which, zero_copy, 2, -EINVAL, "zero_copy is 2");
	PKT_BAD(which, zero_copy, INT32_MIN, -EINVAL, "zero_copy is -2147483648");
	PKT_BAD(which, need_wakeup, -1, -EINVAL, "need_wakeup is -1");
	PKT_BAD(which, huge_page, 2, -EINVAL, "huge_page is 2");
	PKT_BAD(which, xdp_mode, 4, -EINVAL, "XDP mode 4");
	PKT_BAD(which, xdp_mode, UINT32_MAX, -EINVAL, "XDP mode 4294967295");
	PKT_BAD(which, huge_page_fallback, 2, -EINVAL, "huge_page_fallback is 2");
	PKT_BAD(which, huge_page_fallback, 1, -EINVAL, "huge_page_fallback without huge_page");
	PKT_BAD(which, prefer_busy_poll, 2, -EINVAL, "prefer_busy_poll is 2");
	PKT_BAD(which, busy_poll_budget, 65536, -EINVAL, "busy poll budget 65536");
	PKT_BAD(which, tx_metadata, 8, -EINVAL, "tx_metadata is 0x8");
	PKT_BAD(which, multi_buffer, 2, -EINVAL, "multi_buffer is 2");
	PKT_BAD(which, short_frames, 2, -EINVAL, "short_frames is 2");
	PKT_BAD(which, frame_size, 3000, -EINVAL, "frame size 3000");
	PKT_BAD(which, frame_size, UINT32_MAX, -EINVAL, "frame size 4294967295");
	PKT_BAD(which, frame_headroom, UINT32_MAX, -EINVAL, "headroom");
	PKT_BAD(which, zero_copy, 1, -EOPNOTSUPP, "zero-copy"); /* veth has none */
	if (free_huge_pages() == 0) /* tests/hugepages.rs reserves its own and gives them back */
		PKT_BAD(which, huge_page, 1, -ENOMEM, "vm.nr_hugepages");
	state = xdp_state(ctx.ns_a, ctx.if_a);
	CHECK(state == XDP_NONE, "no XDP program left after the refused creates (ip shows %s)", xdp_state_name(state));
}

static void row_txsock_create(void)
{
	xsk_rs_xdp_config c;
	xsk_rs_txsock *tx = NULL;

	pkt_cfg(&c);
	FAILS(xsk_rs_txsock_create(ctx.if_a, 0, &c, NULL), -EINVAL, "out is NULL");
	pkt_create_common(MAKE_TX);
	PKT_BAD(MAKE_TX, tx_frames, (1u << 29) + 1, -EINVAL, "tx_frames 536870913");
	PKT_BAD(MAKE_TX, tx_frames, UINT32_MAX, -EINVAL, "tx_frames 4294967295");
	PKT_BAD(MAKE_TX, comp_size, 16, -EINVAL, "completion ring of 16");
	PKT_BAD(MAKE_TX, tx_size, 3, -EINVAL, "3");
	PKT_BAD(MAKE_TX, tx_budget, 1, -EINVAL, "tx budget 1");
	/* The RX fields mean nothing to a TX-only socket. */
	pkt_cfg(&c);
	c.rx_size = 3;
	c.fill_size = 1;
	VALUE(xsk_rs_txsock_create(ctx.if_a, 0, &c, &tx), 0);
	xsk_rs_txsock_destroy(tx);
	/* NULL: the defaults (4096 frames of 4096). */
	tx = NULL;
	VALUE(xsk_rs_txsock_create(ctx.if_a, 0, NULL, &tx), 0);
	VALUE(xsk_rs_txsock_free_frames(tx), 4096);
	xsk_rs_txsock_destroy(tx);
}

static void row_rxsock_create(void)
{
	xsk_rs_xdp_config c;

	pkt_cfg(&c);
	FAILS(xsk_rs_rxsock_create(ctx.if_a, 0, &c, NULL), -EINVAL, "out is NULL");
	pkt_create_common(MAKE_RX);
	PKT_BAD(MAKE_RX, rx_frames, (1u << 29) + 1, -EINVAL, "rx_frames 536870913");
	PKT_BAD(MAKE_RX, rx_size, PKT_FRAMES / 2, -EINVAL, "rx ring of 32 entries");
	PKT_BAD(MAKE_RX, fill_size, PKT_FRAMES, -EINVAL, "fill ring of 64 entries");
	PKT_BAD(MAKE_RX, rx_size, 3 * PKT_FRAMES, -EINVAL, "192");
	/* 2048 - 256 - 1024 = 768 bytes cannot hold what MTU 1500 delivers. */
	pkt_cfg(&c);
	c.frame_size = 2048;
	c.frame_headroom = 1024;
	pkt_refused(__LINE__, MAKE_RX, ctx.if_a, 0, &c, -EMSGSIZE, "multi-buffer", "frames shorter than the MTU");
}

static void row_bisock_create(void)
{
	xsk_rs_rxsock *rx = (xsk_rs_rxsock *)(uintptr_t)UNTOUCHED;
	xsk_rs_txsock *tx = (xsk_rs_txsock *)(uintptr_t)UNTOUCHED;
	xsk_rs_xdp_config c;

	pkt_cfg(&c);
	FAILS(xsk_rs_bisock_create(ctx.if_a, 0, &c, NULL, &rx), -EINVAL, "tx_out is NULL");
	CHECK(rx == (xsk_rs_rxsock *)(uintptr_t)UNTOUCHED, "rx_out untouched when tx_out is NULL");
	FAILS(xsk_rs_bisock_create(ctx.if_a, 0, &c, &tx, NULL), -EINVAL, "rx_out is NULL");
	CHECK(tx == (xsk_rs_txsock *)(uintptr_t)UNTOUCHED, "tx_out untouched when rx_out is NULL");
	FAILS(xsk_rs_bisock_create(ctx.if_a, 0, &c, NULL, NULL), -EINVAL, "is NULL");
	pkt_create_common(MAKE_BI);
	PKT_BAD(MAKE_BI, tx_frames, (1u << 29) + 1, -EINVAL, "tx_frames 536870913");
	PKT_BAD(MAKE_BI, rx_frames, (1u << 29) + 1, -EINVAL, "rx_frames 536870913");
	PKT_BAD(MAKE_BI, comp_size, 16, -EINVAL, "completion ring of 16");
	PKT_BAD(MAKE_BI, fill_size, PKT_FRAMES, -EINVAL, "fill ring of 64 entries");
}

static void row_txsock_destroy(void)
{
	xsk_rs_txsock *tx;

	prime();
	xsk_rs_txsock_destroy(NULL);
	CHECK(!strcmp(xsk_rs_last_error(), "xsk_rs_umem_fd: umem is NULL"), "destroy(NULL) is a no-op (\"%s\")",
	      errmsg());
	if ((tx = txsock_up()) != NULL) {
		xsk_rs_buf b[4];

		/* with frames reserved and in flight: nothing leaks (valgrind, ASan) */
		VALUE(xsk_rs_txsock_alloc(tx, b, 4), 4);
		xsk_rs_txsock_destroy(tx);
		CHECK(1, "destroyed with frames reserved");
	}
}

static void row_rxsock_destroy(void)
{
	xsk_rs_rxsock *rx;
	int state;

	prime();
	xsk_rs_rxsock_destroy(NULL);
	CHECK(!strcmp(xsk_rs_last_error(), "xsk_rs_umem_fd: umem is NULL"), "destroy(NULL) is a no-op (\"%s\")",
	      errmsg());
	if ((rx = rxsock_up(2)) != NULL) {
		/* with packets held: nothing leaks, the program goes */
		xsk_rs_rxsock_destroy(rx);
		state = xdp_state(ctx.ns_a, ctx.if_a);
		CHECK(state == XDP_NONE, "destroyed with 2 packets held: no program left (ip shows %s)",
		      xdp_state_name(state));
	}
}

static void row_txsock_seek(void)
{
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_seek(NULL, 1), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	VALUE(xsk_rs_txsock_seek(tx, 0), 0);
	VALUE(xsk_rs_txsock_seek(tx, 3), 3);
	VALUE(xsk_rs_txsock_seek(tx, 1), 3); /* counts what is reserved */
	VALUE(xsk_rs_txsock_seek(tx, UINT32_MAX), PKT_FRAMES); /* as many as there are frames: a count */
	VALUE(xsk_rs_txsock_seek(tx, (uint32_t)INT_MAX + 1), PKT_FRAMES);
	VALUE(xsk_rs_txsock_free_frames(tx), 0);
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_peek(void)
{
	uint8_t *data = (uint8_t *)(uintptr_t)UNTOUCHED, *got = NULL;
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_peek(NULL, 0, 60, &data), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	FAILS(xsk_rs_txsock_peek(tx, 0, 60, NULL), -EINVAL, "data is NULL");
	FAILS(xsk_rs_txsock_peek(tx, 0, 60, &data), -EINVAL, "peek_at 0: only 0 descriptors");
	VALUE(xsk_rs_txsock_seek(tx, 2), 2);
	FAILS(xsk_rs_txsock_peek(tx, 2, 60, &data), -EINVAL, "peek_at 2: only 2 descriptors");
	FAILS(xsk_rs_txsock_peek(tx, UINT32_MAX, 60, &data), -EINVAL, "peek_at 4294967295");
	FAILS(xsk_rs_txsock_peek(tx, 0, VETH_MAX_LEN + 1, &data), -EMSGSIZE, "1519 bytes");
	FAILS(xsk_rs_txsock_peek(tx, 1, UINT32_MAX, &data), -EMSGSIZE, "4294967295 bytes");
	CHECK(data == (uint8_t *)(uintptr_t)UNTOUCHED, "refused peeks leave *data alone");
	VALUE(xsk_rs_txsock_peek(tx, 1, VETH_MAX_LEN, &got), 0);
	CHECK(got != NULL, "peek(1, max_len) gives a frame");
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_commit(void)
{
	uint8_t *data;
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_commit(NULL, 1), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	peer_drain(ctx.peer);
	VALUE(xsk_rs_txsock_commit(tx, 0), 0);
	FAILS(xsk_rs_txsock_commit(tx, 1), -EINVAL, "commit_n 1: only 0 descriptors");
	VALUE(xsk_rs_txsock_seek(tx, 2), 2);
	FAILS(xsk_rs_txsock_commit(tx, 3), -EINVAL, "commit_n 3: only 2");
	FAILS(xsk_rs_txsock_commit(tx, UINT32_MAX), -EINVAL, "commit_n 4294967295");
	FAILS(xsk_rs_txsock_commit(tx, 1), -EINVAL, "descriptor 0 has no packet");
	if (CHECK(xsk_rs_txsock_peek(tx, 0, frame_len(0), &data) == 0, "peek(0, %u)", frame_len(0)))
		make_frame(data, 0, frame_len(0));
	FAILS(xsk_rs_txsock_commit(tx, 2), -EINVAL, "descriptor 1 has no packet");
	xsk_rs_txsock_kick(tx);
	peer_gets(NULL, 0, "refused commits publish nothing");
	VALUE(xsk_rs_txsock_commit(tx, 1), 0);
	VALUE(xsk_rs_txsock_kick(tx), 0);
	peer_gets((const uint32_t[]){ 0 }, 1, "commit(1) publishes the peeked one");
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_kick(void)
{
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_kick(NULL), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	VALUE(xsk_rs_txsock_kick(tx), 0); /* nothing to send: still 0 */
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_alloc(void)
{
	xsk_rs_buf bufs[PKT_FRAMES + 1], want;
	xsk_rs_txsock *tx;
	int n;

	memset(bufs, 0xa5, sizeof(bufs));
	memcpy(&want, &bufs[0], sizeof(want));
	FAILS(xsk_rs_txsock_alloc(NULL, bufs, 1), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	FAILS(xsk_rs_txsock_alloc(tx, NULL, 1), -EINVAL, "bufs is NULL");
	CHECK(!memcmp(&bufs[0], &want, sizeof(want)), "refused allocs leave bufs alone");
	VALUE(xsk_rs_txsock_alloc(tx, NULL, 0), 0);
	VALUE(xsk_rs_txsock_alloc(tx, bufs, 0), 0);
	n = xsk_rs_txsock_alloc(tx, bufs, PKT_FRAMES + 1);
	CHECK(n == PKT_FRAMES && !memcmp(&bufs[PKT_FRAMES], &want, sizeof(want)),
	      "alloc(%d) of %d frames -> %d, and the entry past them untouched", PKT_FRAMES + 1, PKT_FRAMES, n);
	CHECK(n > 0 && bufs[0].len == VETH_MAX_LEN && bufs[1].data == bufs[0].data + FSIZE,
	      "frames of max_len %u bytes, one frame apart", n > 0 ? bufs[0].len : 0);
	VALUE(xsk_rs_txsock_alloc(tx, bufs, 1), 1); /* the same first frame again */
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_submit(void)
{
	uint32_t lens[3] = { 0 };
	xsk_rs_buf bufs[2];
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_submit(NULL, lens, 1), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	peer_drain(ctx.peer);
	FAILS(xsk_rs_txsock_submit(tx, NULL, 1), -EINVAL, "lens is NULL");
	VALUE(xsk_rs_txsock_submit(tx, NULL, 0), 0);
	FAILS(xsk_rs_txsock_submit(tx, lens, 1), -EINVAL, "commit_lens 1: only 0 descriptors");
	if (CHECK(xsk_rs_txsock_alloc(tx, bufs, 2) == 2, "alloc(2)")) {
		make_frame(bufs[0].data, 0, frame_len(0));
		make_frame(bufs[1].data, 1, frame_len(1));
	}
	lens[0] = frame_len(0);
	lens[1] = frame_len(1);
	FAILS(xsk_rs_txsock_submit(tx, lens, 3), -EINVAL, "commit_lens 3: only 2");
	FAILS(xsk_rs_txsock_submit(tx, lens, UINT32_MAX), -EINVAL, "4294967295");
	lens[1] = 0;
	FAILS(xsk_rs_txsock_submit(tx, lens, 2), -EINVAL, "length 1 is 0");
	lens[1] = VETH_MAX_LEN + 1;
	FAILS(xsk_rs_txsock_submit(tx, lens, 2), -EMSGSIZE, "1519 bytes");
	lens[1] = UINT32_MAX;
	FAILS(xsk_rs_txsock_submit(tx, lens, 2), -EMSGSIZE, "4294967295 bytes");
	peer_gets(NULL, 0, "refused submits publish nothing");
	lens[1] = frame_len(1);
	VALUE(xsk_rs_txsock_submit(tx, lens, 2), 0);
	peer_gets((const uint32_t[]){ 0, 1 }, 2, "then submit(2) sends both");
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_send(void)
{
	static uint8_t big[65536];
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_send(NULL, big, 60), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	peer_drain(ctx.peer);
	FAILS(xsk_rs_txsock_send(tx, NULL, 60), -EINVAL, "data is NULL");
	FAILS(xsk_rs_txsock_send(tx, NULL, 0), -EINVAL, "data is NULL");
	FAILS(xsk_rs_txsock_send(tx, big, 0), -EINVAL, "length 0");
	FAILS(xsk_rs_txsock_send(tx, big, VETH_MAX_LEN + 1), -EMSGSIZE, "1519 bytes");
	FAILS(xsk_rs_txsock_send(tx, big, sizeof(big)), -EMSGSIZE, "65536 bytes");
	VALUE(xsk_rs_txsock_seek(tx, 0), 0); /* nothing was left reserved */
	peer_gets(NULL, 0, "refused sends send nothing");
	make_frame(big, 0, frame_len(0));
	VALUE(xsk_rs_txsock_send(tx, big, frame_len(0)), 1);
	peer_gets((const uint32_t[]){ 0 }, 1, "then send sends");
	xsk_rs_txsock_destroy(tx);
}

/* TX metadata (Linux 6.8; before it, -EOPNOTSUPP naming 6.8). */
static void row_umem_tx_metadata_len(void)
{
	xsk_rs_umem_config c;
	xsk_rs_umem *u = NULL;
	struct live l;

	FAILS(xsk_rs_umem_tx_metadata_len(NULL), -EINVAL, "umem is NULL");
	if (umem_up(&l)) {
		VALUE(xsk_rs_umem_tx_metadata_len(l.umem), 0);
		live_down(&l);
	}
	umem_cfg(&c);
	c.tx_metadata_len = 20;
	CHECK(xsk_rs_umem_create(&u, &c) == -EINVAL && strstr(errmsg(), "tx_metadata_len 20"), "tx_metadata_len 20 refused: %s", errmsg());
	c.tx_metadata_len = 256;
	CHECK(xsk_rs_umem_create(&u, &c) == -EINVAL && strstr(errmsg(), "tx_metadata_len 256"), "tx_metadata_len 256 refused: %s", errmsg());
	c.tx_metadata_len = 0;
	c.flags = XSK_RS_UMEM_TX_SW_CSUM;
	CHECK(xsk_rs_umem_create(&u, &c) == -EINVAL && strstr(errmsg(), "TX_SW_CSUM without tx_metadata_len"), "TX_SW_CSUM without tx_metadata_len refused: %s", errmsg());
	c.flags = 0;
	c.reserved = 1;
	CHECK(xsk_rs_umem_create(&u, &c) == -EINVAL && strstr(errmsg(), "reserved"), "reserved refused: %s", errmsg());
	c.reserved = 0;
	c.tx_metadata_len = 32;
	c.flags = XSK_RS_UMEM_TX_SW_CSUM;
	if (!kernel_at_least(6, 8)) {
		CHECK(xsk_rs_umem_create(&u, &c) == -EOPNOTSUPP && strstr(errmsg(), "needs Linux 6.8"),
		      "tx metadata before 6.8 refused: %s", errmsg());
		return;
	}
	VALUE(xsk_rs_umem_create(&u, &c), 0);
	if (u) {
		VALUE(xsk_rs_umem_tx_metadata_len(u), 32);
		VALUE(xsk_rs_umem_destroy(u), 0);
	}
}

static xsk_rs_umem *meta_umem(void)
{
	xsk_rs_umem_config c;
	xsk_rs_umem *u = NULL;
	int rc;

	umem_cfg(&c);
	c.tx_metadata_len = 24;
	rc = xsk_rs_umem_create(&u, &c);
	if (!kernel_at_least(6, 8)) {
		CHECK(rc == -EOPNOTSUPP && strstr(errmsg(), "needs Linux 6.8"), "tx metadata before 6.8: %d (%s)", rc,
		      errmsg());
		return NULL;
	}
	CHECK(rc == 0 && u, "fixture: umem_create with tx_metadata_len 24 (rc %d)", rc);
	return u;
}

static void row_tx_metadata_request(void)
{
	xsk_rs_umem *u;
	struct live l;

	FAILS(xsk_rs_tx_metadata_request(NULL, 24, 0, 0, 0, 0), -EINVAL, "umem is NULL");
	if (umem_up(&l)) {
		FAILS(xsk_rs_tx_metadata_request(l.umem, 24, 0, 0, 0, 0), -EINVAL, "no tx metadata");
		live_down(&l);
	}
	if ((u = meta_umem()) == NULL)
		return;
	FAILS(xsk_rs_tx_metadata_request(u, 0, XSK_RS_TXMD_CHECKSUM, 34, 6, 0), -EINVAL, "no 24 bytes");
	FAILS(xsk_rs_tx_metadata_request(u, FSIZE + 8, XSK_RS_TXMD_CHECKSUM, 34, 6, 0), -EINVAL, "no 24 bytes");
	FAILS(xsk_rs_tx_metadata_request(u, 28, 0, 0, 0, 0), -EINVAL, "no 24 bytes"); /* not 8-aligned */
	FAILS(xsk_rs_tx_metadata_request(u, (uint64_t)FRAMES * FSIZE + 24, 0, 0, 0, 0), -EINVAL, "no 24 bytes");
	FAILS(xsk_rs_tx_metadata_request(u, UINT64_MAX, 0, 0, 0, 0), -EINVAL, "no 24 bytes");
	FAILS(xsk_rs_tx_metadata_request(u, 24, 1 << 3, 0, 0, 0), -EINVAL, "unknown bits");
	VALUE(xsk_rs_tx_metadata_request(u, 24, XSK_RS_TXMD_CHECKSUM, 34, 6, 0), 0);
	VALUE(xsk_rs_tx_metadata_request(u, FSIZE + 64, XSK_RS_TXMD_TIMESTAMP, 0, 0, 0), 0);
	VALUE(xsk_rs_umem_destroy(u), 0);
}

static void row_tx_metadata_timestamp(void)
{
	uint64_t ts = 7;
	xsk_rs_umem *u;

	FAILS(xsk_rs_tx_metadata_timestamp(NULL, 24, &ts), -EINVAL, "umem is NULL");
	if ((u = meta_umem()) == NULL)
		return;
	FAILS(xsk_rs_tx_metadata_timestamp(u, 24, NULL), -EINVAL, "out is NULL");
	FAILS(xsk_rs_tx_metadata_timestamp(u, 8, &ts), -EINVAL, "no 24 bytes");
	VALUE(xsk_rs_tx_metadata_request(u, 24, XSK_RS_TXMD_CHECKSUM, 34, 6, 0), 0);
	FAILS(xsk_rs_tx_metadata_timestamp(u, 24, &ts), -ENOENT, "asked for no timestamp");
	VALUE(ts, 7); /* untouched on failure */
	VALUE(xsk_rs_tx_metadata_request(u, 24, XSK_RS_TXMD_TIMESTAMP, 0, 0, 0), 0);
	VALUE(xsk_rs_tx_metadata_timestamp(u, 24, &ts), 0);
	VALUE(ts, 0); /* not sent: the completion field is still the cleared request */
	VALUE(xsk_rs_umem_destroy(u), 0);
}

static xsk_rs_txsock *meta_txsock_up(void)
{
	xsk_rs_xdp_config c;
	xsk_rs_txsock *tx = NULL;
	int rc;

	pkt_cfg(&c);
	c.tx_metadata = XSK_RS_TX_METADATA;
	c.zero_copy = 0;
	rc = xsk_rs_txsock_create(ctx.if_a, 0, &c, &tx);
	if (!kernel_at_least(6, 8)) {
		CHECK(rc == -EOPNOTSUPP && strstr(errmsg(), "needs Linux 6.8"), "tx metadata before 6.8: %d (%s)", rc,
		      errmsg());
		return NULL;
	}
	CHECK(rc == 0 && tx, "fixture: txsock_create with tx_metadata (rc %d%s%s)", rc, rc ? ": " : "",
	      rc ? errmsg() : "");
	return tx;
}

static void row_txsock_send_opts(void)
{
	static uint8_t big[MAX_FRAME];
	xsk_rs_xdp_config c;
	xsk_rs_txsock *tx = NULL;

	FAILS(xsk_rs_txsock_send_opts(NULL, big, 60, 0, 0, 0, 0), -EINVAL, "tx is NULL");
	pkt_cfg(&c);
	c.tx_metadata = 4;
	CHECK(xsk_rs_txsock_create(ctx.if_a, 0, &c, &tx) == -EINVAL && strstr(errmsg(), "tx_metadata is 0x4"), "tx_metadata is 0x4 refused: %s", errmsg());
	if ((tx = txsock_up()) != NULL) {
		FAILS(xsk_rs_txsock_send_opts(tx, big, 60, 0, 0, 0, 0), -EINVAL, "no tx metadata");
		xsk_rs_txsock_destroy(tx);
	}
	if ((tx = meta_txsock_up()) == NULL)
		return;
	peer_drain(ctx.peer);
	FAILS(xsk_rs_txsock_send_opts(tx, NULL, 60, 0, 0, 0, 0), -EINVAL, "data is NULL");
	FAILS(xsk_rs_txsock_send_opts(tx, big, 0, 0, 0, 0, 0), -EINVAL, "length 0");
	FAILS(xsk_rs_txsock_send_opts(tx, big, 60, 1 << 3, 0, 0, 0), -EINVAL, "unknown bits");
	FAILS(xsk_rs_txsock_send_opts(tx, big, 60, XSK_RS_TXMD_CHECKSUM, 50, 9, 0), -EINVAL, "past the packet");
	FAILS(xsk_rs_txsock_send_opts(tx, big, 60, XSK_RS_TXMD_CHECKSUM, UINT16_MAX, UINT16_MAX, 0), -EINVAL,
	      "past the packet");
	FAILS(xsk_rs_txsock_send_opts(tx, big, 60, XSK_RS_TXMD_LAUNCH_TIME, 0, 0, 1), -EOPNOTSUPP, "launch time");
	FAILS(xsk_rs_txsock_send_opts(tx, big, VETH_MAX_LEN + 1, 0, 0, 0, 0), -EMSGSIZE, "1519 bytes");
	VALUE(xsk_rs_txsock_seek(tx, 0), 0); /* nothing was left reserved */
	peer_gets(NULL, 0, "refused sends send nothing");
	make_frame(big, 0, frame_len(0));
	VALUE(xsk_rs_txsock_send_opts(tx, big, frame_len(0), XSK_RS_TXMD_TIMESTAMP, 0, 0, 0), 1);
	peer_gets((const uint32_t[]){ 0 }, 1, "then send_opts sends");
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_tx_offloads(void)
{
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_tx_offloads(NULL), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) != NULL) {
		VALUE(xsk_rs_txsock_tx_offloads(tx), 0);
		xsk_rs_txsock_destroy(tx);
	}
	if ((tx = meta_txsock_up()) != NULL) {
		VALUE(xsk_rs_txsock_tx_offloads(tx), XSK_RS_TXMD_CHECKSUM | XSK_RS_TXMD_TIMESTAMP);
		xsk_rs_txsock_destroy(tx);
	}
}

static void row_txsock_timestamps(void)
{
	uint64_t ts[4];
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_timestamps(NULL, ts, 4), -EINVAL, "tx is NULL");
	if ((tx = meta_txsock_up()) == NULL)
		return;
	FAILS(xsk_rs_txsock_timestamps(tx, NULL, 1), -EINVAL, "out is NULL");
	VALUE(xsk_rs_txsock_timestamps(tx, NULL, 0), 0);
	VALUE(xsk_rs_txsock_timestamps(tx, ts, 4), 0); /* nothing sent */
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_send_batch(void)
{
	static uint8_t f0[MAX_FRAME], f1[MAX_FRAME], big[VETH_MAX_LEN + 1];
	xsk_rs_pkt p[3];
	xsk_rs_txsock *tx;

	make_frame(f0, 0, frame_len(0));
	make_frame(f1, 1, frame_len(1));
	p[0] = (xsk_rs_pkt){ .data = f0, .len = frame_len(0) };
	p[1] = (xsk_rs_pkt){ .data = f1, .len = frame_len(1) };
	FAILS(xsk_rs_txsock_send_batch(NULL, p, 2), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	peer_drain(ctx.peer);
	FAILS(xsk_rs_txsock_send_batch(tx, NULL, 1), -EINVAL, "pkts is NULL");
	VALUE(xsk_rs_txsock_send_batch(tx, NULL, 0), 0);
	p[1].data = NULL;
	FAILS(xsk_rs_txsock_send_batch(tx, p, 2), -EINVAL, "pkts[1].data is NULL");
	p[1].data = f1;
	p[2] = (xsk_rs_pkt){ .data = big, .len = 0 };
	FAILS(xsk_rs_txsock_send_batch(tx, p + 2, 1), -EINVAL, "length 0");
	p[2].len = VETH_MAX_LEN + 1;
	FAILS(xsk_rs_txsock_send_batch(tx, p + 2, 1), -EMSGSIZE, "1519 bytes");
	peer_gets(NULL, 0, "refused batches send nothing");
	/* The batch stops before the too-long third packet: the two before it go, with a message. */
	COUNT_MSG(xsk_rs_txsock_send_batch(tx, p, 3), 2, NULL);
	CHECK(strstr(xsk_rs_last_error(), "1519 bytes") != NULL, "the message names the length: %s", errmsg());
	peer_gets((const uint32_t[]){ 0, 1 }, 2, "send_batch stopped before the too-long packet");
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_send_packed(void)
{
	static uint8_t data[2 * MAX_FRAME];
	uint32_t lens[2] = { frame_len(0), frame_len(1) };
	size_t size = lens[0] + lens[1];
	xsk_rs_txsock *tx;

	make_frame(data, 0, lens[0]);
	make_frame(data + lens[0], 1, lens[1]);
	FAILS(xsk_rs_txsock_send_packed(NULL, data, size, lens, 2), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	peer_drain(ctx.peer);
	FAILS(xsk_rs_txsock_send_packed(tx, NULL, size, lens, 2), -EINVAL, "data is NULL");
	FAILS(xsk_rs_txsock_send_packed(tx, data, size, NULL, 2), -EINVAL, "lens is NULL");
	FAILS(xsk_rs_txsock_send_packed(tx, data, SIZE_MAX, lens, 2), -EINVAL, "size 18446744073709551615");
	FAILS(xsk_rs_txsock_send_packed(tx, data, size - 1, lens, 2), -EINVAL, "add up to");
	FAILS(xsk_rs_txsock_send_packed(tx, data, 0, lens, 2), -EINVAL, "add up to");
	VALUE(xsk_rs_txsock_send_packed(tx, NULL, 0, NULL, 0), 0);
	lens[0] = 0;
	FAILS(xsk_rs_txsock_send_packed(tx, data, size, lens, 2), -EINVAL, "length 0");
	lens[0] = VETH_MAX_LEN + 1;
	FAILS(xsk_rs_txsock_send_packed(tx, data, sizeof(data), lens, 1), -EMSGSIZE, "1519 bytes");
	lens[0] = UINT32_MAX;
	FAILS(xsk_rs_txsock_send_packed(tx, data, sizeof(data), lens, 1), -EINVAL, "add up to");
	peer_gets(NULL, 0, "refused packed sends send nothing");
	lens[0] = frame_len(0);
	VALUE(xsk_rs_txsock_send_packed(tx, data, size, lens, 2), 2);
	peer_gets((const uint32_t[]){ 0, 1 }, 2, "then send_packed sends both");
	/* It stops before an empty second packet: the first goes, with a message. */
	lens[1] = 0;
	COUNT_MSG(xsk_rs_txsock_send_packed(tx, data, size, lens, 2), 1, "packet 1 is 0 bytes");
	peer_gets((const uint32_t[]){ 0 }, 1, "send_packed stopped before the empty packet");
	xsk_rs_txsock_destroy(tx);
}

static void row_txsock_wait(void)
{
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_wait(NULL, 0), -EINVAL, "tx is NULL");
	FAILS(xsk_rs_txsock_wait(NULL, -1), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) == NULL)
		return;
	VALUE(xsk_rs_txsock_wait(tx, 0), 1);
	VALUE(xsk_rs_txsock_wait(tx, -1), 1);      /* room now: no limit is no wait */
	VALUE(xsk_rs_txsock_wait(tx, INT_MIN), 1); /* any negative: no limit */
	VALUE(xsk_rs_txsock_wait(tx, INT_MAX), 1);
	xsk_rs_txsock_destroy(tx);
}

static void row_rxsock_seek(void)
{
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_seek(NULL, 1), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	VALUE(xsk_rs_rxsock_seek(rx, 0), 0);
	VALUE(xsk_rs_rxsock_seek(rx, UINT32_MAX), 0);
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(3)) == NULL)
		return;
	VALUE(xsk_rs_rxsock_seek(rx, 1), 3);
	VALUE(xsk_rs_rxsock_seek(rx, UINT32_MAX), 3);
	VALUE(xsk_rs_rxsock_held_frames(rx), 3);
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_peek(void)
{
	xsk_rs_pkt p, want;
	xsk_rs_rxsock *rx;

	memset(&p, 0xa5, sizeof(p));
	memcpy(&want, &p, sizeof(p));
	FAILS(xsk_rs_rxsock_peek(NULL, 0, &p), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_peek(rx, 0, &p), -EINVAL, "peek_at 0: only 0");
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(2)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_peek(rx, 0, NULL), -EINVAL, "pkt is NULL");
	FAILS(xsk_rs_rxsock_peek(rx, 2, &p), -EINVAL, "peek_at 2: only 2");
	FAILS(xsk_rs_rxsock_peek(rx, UINT32_MAX, &p), -EINVAL, "peek_at 4294967295");
	CHECK(!memcmp(&p, &want, sizeof(p)), "refused peeks leave *pkt alone");
	VALUE(xsk_rs_rxsock_peek(rx, 1, &p), 0);
	CHECK(p.data && frame_matches(p.data, p.len, 1), "peek(1) is frame 1, byte-exact");
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_commit(void)
{
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_commit(NULL, 1), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(2)) == NULL)
		return;
	VALUE(xsk_rs_rxsock_commit(rx, 0), 0);
	FAILS(xsk_rs_rxsock_commit(rx, 3), -EINVAL, "commit_n 3: only 2");
	FAILS(xsk_rs_rxsock_commit(rx, UINT32_MAX), -EINVAL, "commit_n 4294967295");
	VALUE(xsk_rs_rxsock_held_frames(rx), 2);
	VALUE(xsk_rs_rxsock_commit(rx, 2), 0);
	FAILS(xsk_rs_rxsock_commit(rx, 1), -EINVAL, "commit_n 1: only 0");
	VALUE(xsk_rs_rxsock_in_flight_frames(rx), PKT_FRAMES);
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_recv_batch(void)
{
	xsk_rs_pkt p[4], want;
	xsk_rs_rxsock *rx;

	memset(p, 0xa5, sizeof(p));
	memcpy(&want, &p[0], sizeof(want));
	FAILS(xsk_rs_rxsock_recv_batch(NULL, p, 4), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv_batch(rx, NULL, 1), -EINVAL, "pkts is NULL");
	VALUE(xsk_rs_rxsock_recv_batch(rx, NULL, 0), 0);
	VALUE(xsk_rs_rxsock_recv_batch(rx, p, 4), 0);
	CHECK(!memcmp(&p[0], &want, sizeof(want)), "nothing received: pkts untouched");
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(2)) == NULL)
		return;
	VALUE(xsk_rs_rxsock_recv_batch(rx, p, 4), 2);
	CHECK(!memcmp(&p[2], &want, sizeof(want)), "only the 2 received are written");
	VALUE(xsk_rs_rxsock_recv_batch(rx, p, 1), 1); /* max caps what comes back, not what is held */
	VALUE(xsk_rs_rxsock_held_frames(rx), 2);
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_release(void)
{
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_release(NULL, 1), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(2)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_release(rx, 3), -EINVAL, "commit_n 3: only 2");
	FAILS(xsk_rs_rxsock_release(rx, UINT32_MAX), -EINVAL, "4294967295");
	VALUE(xsk_rs_rxsock_held_frames(rx), 2);
	VALUE(xsk_rs_rxsock_release(rx, 2), 0);
	VALUE(xsk_rs_rxsock_held_frames(rx), 0);
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_recv(void)
{
	uint8_t buf[MAX_FRAME];
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_recv(NULL, buf, sizeof(buf)), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv(rx, NULL, 1), -EINVAL, "buf is NULL");
	FAILS(xsk_rs_rxsock_recv(rx, NULL, UINT32_MAX), -EINVAL, "buf is NULL");
	VALUE(xsk_rs_rxsock_recv(rx, NULL, 0), 0);
	VALUE(xsk_rs_rxsock_recv(rx, buf, sizeof(buf)), 0);
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(2)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv(rx, buf, sizeof(buf)), -EBUSY, "not yet committed");
	VALUE(xsk_rs_rxsock_held_frames(rx), 2);
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_arrived(2)) == NULL)
		return;
	VALUE(xsk_rs_rxsock_recv(rx, NULL, 0), (int)frame_len(0)); /* dropped, its length told */
	VALUE(xsk_rs_rxsock_recv(rx, buf, 1), (int)frame_len(1));
	VALUE(xsk_rs_rxsock_held_frames(rx), 0);
	xsk_rs_rxsock_destroy(rx);
}

/* recv_packet: NULL rx/segs, nothing there, held packets, then single-frame
 * packets as one segment each, released together. */
static void row_rxsock_recv_packet(void)
{
	xsk_rs_pkt segs[4];
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_recv_packet(NULL, segs, 4), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv_packet(rx, NULL, 4), -EINVAL, "segs is NULL");
	VALUE(xsk_rs_rxsock_recv_packet(rx, segs, 4), 0);
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(2)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv_packet(rx, segs, 4), -EBUSY, "not yet committed");
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_arrived(2)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv_packet(rx, segs, 0), -ENOBUFS, "spans 1 frames; segs has room for 0");
	VALUE(xsk_rs_rxsock_held_frames(rx), 0); /* the refused call left it for the next */
	VALUE(xsk_rs_rxsock_recv_packet(rx, segs, 4), 1);
	CHECK(segs[0].len == frame_len(0) && frame_seq(segs[0].data) == 0,
	      "recv_packet: packet 0 as one segment");
	VALUE(xsk_rs_rxsock_held_frames(rx), 1);
	VALUE(xsk_rs_rxsock_release(rx, 1), 0);
	VALUE(xsk_rs_rxsock_recv_packet(rx, segs, 1), 1);
	CHECK(segs[0].len == frame_len(1), "recv_packet: packet 1");
	VALUE(xsk_rs_rxsock_release(rx, 1), 0);
	VALUE(xsk_rs_rxsock_held_frames(rx), 0);
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_recv_packed(void)
{
	uint8_t buf[2 * MAX_FRAME];
	uint32_t lens[4] = { UNTOUCHED, UNTOUCHED, UNTOUCHED, UNTOUCHED };
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_recv_packed(NULL, buf, sizeof(buf), lens, 4), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv_packed(rx, NULL, sizeof(buf), lens, 4), -EINVAL, "buf is NULL");
	FAILS(xsk_rs_rxsock_recv_packed(rx, buf, sizeof(buf), NULL, 4), -EINVAL, "lens is NULL");
	FAILS(xsk_rs_rxsock_recv_packed(rx, buf, SIZE_MAX, lens, 4), -EINVAL, "size 18446744073709551615");
	VALUE(xsk_rs_rxsock_recv_packed(rx, NULL, 0, NULL, 0), 0);
	VALUE(xsk_rs_rxsock_recv_packed(rx, buf, sizeof(buf), lens, 4), 0);
	CHECK(lens[0] == UNTOUCHED, "nothing received: lens untouched");
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(2)) == NULL)
		return;
	FAILS(xsk_rs_rxsock_recv_packed(rx, buf, sizeof(buf), lens, 4), -EBUSY, "not yet committed");
	CHECK(lens[0] == UNTOUCHED, "refused: lens untouched");
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_arrived(2)) == NULL)
		return;
	/* a buffer too short for the first: it comes cut, with its full length */
	VALUE(xsk_rs_rxsock_recv_packed(rx, buf, 10, lens, 4), 1);
	CHECK(lens[0] == frame_len(0) && lens[1] == UNTOUCHED, "lens[0] = %u, the full length; lens[1] untouched",
	      lens[0]);
	VALUE(xsk_rs_rxsock_recv_packed(rx, buf, 0, lens, 4), 1);
	VALUE(xsk_rs_rxsock_held_frames(rx), 0);
	xsk_rs_rxsock_destroy(rx);
}

static void row_rxsock_wait(void)
{
	xsk_rs_rxsock *rx;
	uint64_t t0;

	FAILS(xsk_rs_rxsock_wait(NULL, 0), -EINVAL, "rx is NULL");
	FAILS(xsk_rs_rxsock_wait(NULL, -1), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) == NULL)
		return;
	t0 = now_ms();
	VALUE(xsk_rs_rxsock_wait(rx, 0), 0);
	VALUE(xsk_rs_rxsock_wait(rx, 50), 0);
	CHECK(now_ms() - t0 >= 50, "wait(0) then wait(50) took %llu ms", (unsigned long long)(now_ms() - t0));
	xsk_rs_rxsock_destroy(rx);
	if ((rx = rxsock_up(1)) == NULL)
		return;
	VALUE(xsk_rs_rxsock_wait(rx, -1), 1); /* a packet held: no wait */
	VALUE(xsk_rs_rxsock_wait(rx, INT_MIN), 1);
	xsk_rs_rxsock_destroy(rx);
}

/* A getter of both halves: NULL refused, and `want` from a live half. */
#define TX_GETTER_ROW(fn, want)                                                                 \
	do {                                                                                    \
		xsk_rs_txsock *tx_;                                                             \
		FAILS(fn(NULL), -EINVAL, "tx is NULL");                                         \
		if ((tx_ = txsock_up()) != NULL) {                                              \
			VALUE(fn(tx_), want);                                                   \
			xsk_rs_txsock_destroy(tx_);                                             \
		}                                                                               \
	} while (0)

#define RX_GETTER_ROW(fn, want)                                                                 \
	do {                                                                                    \
		xsk_rs_rxsock *rx_;                                                             \
		FAILS(fn(NULL), -EINVAL, "rx is NULL");                                         \
		if ((rx_ = rxsock_up(0)) != NULL) {                                             \
			VALUE(fn(rx_), want);                                                   \
			xsk_rs_rxsock_destroy(rx_);                                             \
		}                                                                               \
	} while (0)

static void row_txsock_fd(void)
{
	xsk_rs_txsock *tx;

	FAILS(xsk_rs_txsock_fd(NULL), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) != NULL) {
		int fd = xsk_rs_txsock_fd(tx);

		CHECK(fd >= 0 && fcntl(fd, F_GETFD) >= 0, "txsock_fd -> %d, open", fd);
		xsk_rs_txsock_destroy(tx);
		CHECK(fd < 0 || fcntl(fd, F_GETFD) < 0, "closed by destroy");
	}
}

static void row_rxsock_fd(void)
{
	xsk_rs_rxsock *rx;

	FAILS(xsk_rs_rxsock_fd(NULL), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) != NULL) {
		int fd = xsk_rs_rxsock_fd(rx);

		CHECK(fd >= 0 && fcntl(fd, F_GETFD) >= 0, "rxsock_fd -> %d, open", fd);
		xsk_rs_rxsock_destroy(rx);
		CHECK(fd < 0 || fcntl(fd, F_GETFD) < 0, "closed by destroy");
	}
}

static void row_txsock_stats(void)
{
	xsk_rs_stats st, want;
	xsk_rs_txsock *tx;

	memset(&st, 0xa5, sizeof(st));
	memcpy(&want, &st, sizeof(st));
	FAILS(xsk_rs_txsock_stats(NULL, &st), -EINVAL, "tx is NULL");
	FAILS(xsk_rs_txsock_stats(NULL, NULL), -EINVAL, "tx is NULL");
	if ((tx = txsock_up()) != NULL) {
		FAILS(xsk_rs_txsock_stats(tx, NULL), -EINVAL, "out is NULL");
		CHECK(!memcmp(&st, &want, sizeof(st)), "refused stats leave *out alone");
		VALUE(xsk_rs_txsock_stats(tx, &st), 0);
		CHECK(st.tx_invalid_descs == 0 && st.rx_dropped == 0, "fresh counters");
		xsk_rs_txsock_destroy(tx);
	}
}

static void row_rxsock_stats(void)
{
	xsk_rs_stats st, want;
	xsk_rs_rxsock *rx;

	memset(&st, 0xa5, sizeof(st));
	memcpy(&want, &st, sizeof(st));
	FAILS(xsk_rs_rxsock_stats(NULL, &st), -EINVAL, "rx is NULL");
	if ((rx = rxsock_up(0)) != NULL) {
		FAILS(xsk_rs_rxsock_stats(rx, NULL), -EINVAL, "out is NULL");
		CHECK(!memcmp(&st, &want, sizeof(st)), "refused stats leave *out alone");
		VALUE(xsk_rs_rxsock_stats(rx, &st), 0);
		CHECK(st.rx_dropped == 0 && st.rx_invalid_descs == 0, "fresh counters");
		xsk_rs_rxsock_destroy(rx);
	}
}

static void row_txsock_free_frames(void)
{
	TX_GETTER_ROW(xsk_rs_txsock_free_frames, PKT_FRAMES);
}

static void row_txsock_in_flight_frames(void)
{
	TX_GETTER_ROW(xsk_rs_txsock_in_flight_frames, 0);
}

static void row_txsock_max_len(void)
{
	TX_GETTER_ROW(xsk_rs_txsock_max_len, VETH_MAX_LEN);
}

static void row_txsock_reserved_frames(void)
{
	TX_GETTER_ROW(xsk_rs_txsock_reserved_frames, 0);
}

static void row_rxsock_free_frames(void)
{
	RX_GETTER_ROW(xsk_rs_rxsock_free_frames, 0);
}

static void row_rxsock_in_flight_frames(void)
{
	RX_GETTER_ROW(xsk_rs_rxsock_in_flight_frames, PKT_FRAMES);
}

static void row_rxsock_held_frames(void)
{
	RX_GETTER_ROW(xsk_rs_rxsock_held_frames, 0);
}

static void row_txsock_xdp_mode(void)
{
	TX_GETTER_ROW(xsk_rs_txsock_xdp_mode, XSK_RS_XDP_MODE_NONE); /* TX-only: nothing attached */
}

static void row_rxsock_xdp_mode(void)
{
	RX_GETTER_ROW(xsk_rs_rxsock_xdp_mode, ctx.mode);
}

static void row_txsock_is_zerocopy(void)
{
	TX_GETTER_ROW(xsk_rs_txsock_is_zerocopy, 0); /* veth: copy mode */
}

static void row_rxsock_is_zerocopy(void)
{
	RX_GETTER_ROW(xsk_rs_rxsock_is_zerocopy, 0);
}

/* ---- netdev ------------------------------------------------------------- */

static void row_netdev_info_init(void)
{
	static const size_t bad[] = { 0, 1, 8, 13, sizeof(xsk_rs_netdev_info) - 4, 4097, SIZE_MAX };
	_Alignas(xsk_rs_netdev_info) unsigned char big[sizeof(xsk_rs_netdev_info) + 16];
	xsk_rs_netdev_info *i = (xsk_rs_netdev_info *)(void *)big;
	size_t k;

	FAILS(xsk_rs_netdev_info_init(NULL, sizeof(*i)), -EINVAL, "cfg is NULL");
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memset(big, 0xa5, sizeof(big));
		FAILS(xsk_rs_netdev_info_init(i, bad[k]), -EINVAL, "sz");
		CHECK(big[sizeof(size_t)] == 0xa5, "sz %zu: untouched", bad[k]);
	}
	memset(big, 0xa5, sizeof(big));
	VALUE(xsk_rs_netdev_info_init(i, 16), 0); /* an older header: ifindex and mtu */
	CHECK(i->sz == 16 && i->ifindex == 0 && i->mtu == 0 && big[16] == 0xa5, "sz 16: nothing written past it");
	memset(big, 0xa5, sizeof(big));
	VALUE(xsk_rs_netdev_info_init(i, sizeof(*i)), 0);
	CHECK(i->sz == sizeof(*i) && i->known == 0 && i->hw_prog_name[15] == 0 && big[sizeof(*i)] == 0xa5,
	      "sizeof: zeroed, nothing past it");
}

static void row_netdev_query(void)
{
	_Alignas(xsk_rs_netdev_info) unsigned char raw[sizeof(xsk_rs_netdev_info)];
	xsk_rs_netdev_info info, *old = (xsk_rs_netdev_info *)(void *)raw;

	xsk_rs_netdev_info_init(&info, sizeof(info));
	FAILS(xsk_rs_netdev_query(ctx.if_a, NULL), -EINVAL, "info is NULL");
	FAILS(xsk_rs_netdev_query(NULL, &info), -EINVAL, "ifname is NULL");
	FAILS(xsk_rs_netdev_query("a/b", &info), -EINVAL, "a/b");
	FAILS(xsk_rs_netdev_query("xskrs-nonexist", &info), -ENODEV, "xskrs-nonexist");
	CHECK(info.ifindex == 0, "a failed query writes nothing");
	memset(&info, 0, sizeof(info));
	FAILS(xsk_rs_netdev_query(ctx.if_a, &info), -EINVAL, "xsk_rs_netdev_info_init");
	xsk_rs_netdev_info_init(&info, sizeof(info));
	VALUE(xsk_rs_netdev_query(ctx.if_a, &info), 0);
	CHECK(info.sz == sizeof(info) && info.ifindex == if_nametoindex(ctx.if_a) && info.mtu == 1500 &&
		      info.rx_queues == 1 && info.tx_queues == 1,
	      "%s: ifindex %u, mtu %u, %u/%u queues", ctx.if_a, info.ifindex, info.mtu, info.rx_queues,
	      info.tx_queues);
	/* An older caller's 16-byte struct gets ifindex and mtu, nothing past. */
	memset(raw, 0xa5, sizeof(raw));
	VALUE(xsk_rs_netdev_info_init(old, 16), 0);
	VALUE(xsk_rs_netdev_query(ctx.if_a, old), 0);
	CHECK(old->sz == 16 && old->ifindex == info.ifindex && old->mtu == 1500 && raw[16] == 0xa5,
	      "sz 16: ifindex and mtu only");
}

static void row_netdev_queue_napi_id(void)
{
	uint32_t id = UNTOUCHED;
	int rc;

	FAILS(xsk_rs_netdev_queue_napi_id(ctx.if_a, 0, 0, NULL), -EINVAL, "out is NULL");
	FAILS(xsk_rs_netdev_queue_napi_id(NULL, 0, 0, &id), -EINVAL, "ifname is NULL");
	FAILS(xsk_rs_netdev_queue_napi_id("xskrs-nonexist", 0, 0, &id), -ENODEV, "xskrs-nonexist");
	if (kernel_at_least(6, 8)) {
		FAILS(xsk_rs_netdev_queue_napi_id(ctx.if_a, 1, 0, &id), -EINVAL, "queue 1 out of range");
		FAILS(xsk_rs_netdev_queue_napi_id(ctx.if_a, UINT32_MAX, 1, &id), -EINVAL, "out of range");
		CHECK(id == UNTOUCHED, "refusals write nothing");
		rc = xsk_rs_netdev_queue_napi_id(ctx.if_a, 0, 1, &id);
		CHECK(rc == 0 && id == 0, "veth links no NAPI to its TX queue: %d, %u (%s)", rc, id, errmsg());
	} else {
		FAILS(xsk_rs_netdev_queue_napi_id(ctx.if_a, 0, 0, &id), -EOPNOTSUPP, "needs Linux 6.8");
	}
}

static void row_kernel_features(void)
{
	uint64_t bits = 0, unknown = UINT64_MAX;
	int rc;

	FAILS(xsk_rs_kernel_features(NULL, &unknown), -EINVAL, "available is NULL");
	CHECK(unknown == UINT64_MAX, "a refusal writes nothing");
	VALUE(xsk_rs_kernel_features(&bits, NULL), 0); /* unknown may be NULL */
	rc = xsk_rs_kernel_features(&bits, &unknown);
	CHECK(rc == 0 && unknown == 0, "xsk_rs_kernel_features as root: %d, unknown %#llx (%s)", rc,
	      (unsigned long long)unknown, errmsg());
	/* Each probe asks the kernel; the release tells what to expect. */
	CHECK(!!(bits & XSK_RS_FEATURE_MULTI_BUFFER) == kernel_at_least(6, 6), "multi-buffer bit %d on this kernel",
	      !!(bits & XSK_RS_FEATURE_MULTI_BUFFER));
	CHECK(!!(bits & XSK_RS_FEATURE_TX_METADATA) == kernel_at_least(6, 8), "tx metadata bit %d on this kernel",
	      !!(bits & XSK_RS_FEATURE_TX_METADATA));
	CHECK(!!(bits & XSK_RS_FEATURE_NETDEV_NETLINK) == kernel_at_least(6, 3), "netdev netlink bit %d",
	      !!(bits & XSK_RS_FEATURE_NETDEV_NETLINK));
	CHECK(bits & XSK_RS_FEATURE_PREFER_BUSY_POLL, "5.11's busy polling is on every kernel tested");
}

static void row_feature_name(void)
{
	const char *n = xsk_rs_feature_name(XSK_RS_FEATURE_MULTI_BUFFER);

	CHECK(n && strstr(n, "XDP_USE_SG"), "multi-buffer's name: %s", n ? n : "(null)");
	CHECK(!xsk_rs_feature_name(0), "no name for 0");
	CHECK(!xsk_rs_feature_name(XSK_RS_FEATURE_MULTI_BUFFER | XSK_RS_FEATURE_XDP_FRAGS), "no name for two bits");
	CHECK(!xsk_rs_feature_name(UINT64_C(1) << 63), "no name for an unknown bit");
}

static void row_feature_since(void)
{
	const char *v = xsk_rs_feature_since(XSK_RS_FEATURE_TX_METADATA);

	CHECK(v && !strcmp(v, "6.8"), "TX metadata since %s", v ? v : "(null)");
	CHECK(!xsk_rs_feature_since(0), "no release for 0");
	CHECK(!xsk_rs_feature_since(UINT64_C(1) << 62), "no release for an unknown bit");
}

static void row_netdev_napi_ids(void)
{
	uint32_t ids[4], n = UNTOUCHED;

	FAILS(xsk_rs_netdev_napi_ids(ctx.if_a, ids, 4, NULL), -EINVAL, "count is NULL");
	FAILS(xsk_rs_netdev_napi_ids(ctx.if_a, NULL, 4, &n), -EINVAL, "ids is NULL with cap 4");
	FAILS(xsk_rs_netdev_napi_ids(NULL, ids, 4, &n), -EINVAL, "ifname is NULL");
	FAILS(xsk_rs_netdev_napi_ids("xskrs-nonexist", ids, 4, &n), -ENODEV, "xskrs-nonexist");
	CHECK(n == UNTOUCHED, "refusals write nothing");
	if (kernel_at_least(6, 8))
		VALUE(xsk_rs_netdev_napi_ids(ctx.if_a, NULL, 0, &n), 0); /* counting only */
	else
		FAILS(xsk_rs_netdev_napi_ids(ctx.if_a, ids, 4, &n), -EOPNOTSUPP, "needs Linux 6.8");
}

/* ---- IRQ deferral --------------------------------------------------------- */

static void row_irq_defer_config_init(void)
{
	static const size_t bad[] = { 0, 1, 10, 20, 4097, SIZE_MAX }; /* 20 cuts gro_flush_timeout_ns */
	_Alignas(xsk_rs_irq_defer_config) unsigned char big[sizeof(xsk_rs_irq_defer_config) + 16];
	xsk_rs_irq_defer_config *c = (xsk_rs_irq_defer_config *)(void *)big;
	size_t k;

	FAILS(xsk_rs_irq_defer_config_init(NULL, sizeof(*c)), -EINVAL, "cfg is NULL");
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		FAILS(xsk_rs_irq_defer_config_init(c, bad[k]), -EINVAL, "sz");
	memset(big, 0xa5, sizeof(big));
	VALUE(xsk_rs_irq_defer_config_init(c, sizeof(big)), 0);
	CHECK(c->sz == sizeof(big) && c->set == 0 && c->via == XSK_RS_IRQ_DEFER_VIA_AUTO && big[sizeof(*c)] == 0,
	      "defaults, and the tail past this header zeroed");
}

/*
 * A handle on if_a: in drv mode (veth runs NAPI) on 6.13+ through napi-set,
 * NULL otherwise with the reason checked.
 */
static xsk_rs_irq_defer *irq_defer_up(struct live *l)
{
	xsk_rs_irq_defer_config c;
	xsk_rs_irq_defer *h = NULL;
	int rc;

	if (!live_up(l, RING, 0, ctx.mode))
		return NULL;
	xsk_rs_irq_defer_config_init(&c, sizeof(c));
	c.set = XSK_RS_IRQ_DEFER_SET_HARD_IRQS | XSK_RS_IRQ_DEFER_SET_GRO_FLUSH_TIMEOUT;
	c.defer_hard_irqs = 2;
	c.gro_flush_timeout_ns = 200000;
	rc = xsk_rs_irq_defer_create(ctx.if_a, &c, &h);
	if (!kernel_at_least(6, 13))
		CHECK(rc == -EOPNOTSUPP && strstr(errmsg(), "needs Linux 6.13") &&
			      strstr(errmsg(), "/sys shows another network namespace"),
		      "6.1: no napi-set, /sys of another namespace: %d %s", rc, errmsg());
	else if (ctx.mode == XSK_RS_XDP_MODE_SKB)
		CHECK(rc == -ENOENT && strstr(errmsg(), "no NAPI instance"), "skb mode: veth runs no NAPI: %d %s", rc,
		      errmsg());
	else
		CHECK(rc == 0 && h, "drv mode on 6.13+: %d %s", rc, rc ? errmsg() : "");
	return h;
}

static void row_irq_defer_create(void)
{
	xsk_rs_irq_defer_config c;
	xsk_rs_irq_defer *h = (xsk_rs_irq_defer *)(uintptr_t)UNTOUCHED;
	struct live l;

	xsk_rs_irq_defer_config_init(&c, sizeof(c));
	c.set = XSK_RS_IRQ_DEFER_SET_HARD_IRQS;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, NULL), -EINVAL, "out is NULL");
	FAILS(xsk_rs_irq_defer_create(NULL, &c, &h), -EINVAL, "ifname is NULL");
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, NULL, &h), -EINVAL, "cfg is NULL");
	FAILS(xsk_rs_irq_defer_create("xskrs-nonexist", &c, &h), -ENODEV, "xskrs-nonexist");
	c.set = 0;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EINVAL, "nothing to set");
	c.set = 1u << 9;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EINVAL, "unknown bits 0x200");
	c.set = XSK_RS_IRQ_DEFER_SET_HARD_IRQS;
	c.defer_hard_irqs = 0x80000000u;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EINVAL, "above the kernel's most");
	c.defer_hard_irqs = 1;
	c.via = 7;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EINVAL, "cfg->via 7");
	c.via = XSK_RS_IRQ_DEFER_VIA_AUTO;
	c.reserved = 1;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EINVAL, "reserved");
	c.reserved = 0;
	c.sz = 3;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EINVAL, "sz 3");
	c.sz = sizeof(c);
	c.via = XSK_RS_IRQ_DEFER_VIA_SYSFS;
	FAILS(xsk_rs_irq_defer_create(ctx.if_a, &c, &h), -EOPNOTSUPP, "/sys shows another network namespace");
	CHECK(h == (xsk_rs_irq_defer *)(uintptr_t)UNTOUCHED, "refusals write nothing");
	h = irq_defer_up(&l);
	xsk_rs_irq_defer_destroy(h);
	live_down(&l);
}

static void row_irq_defer_via(void)
{
	struct live l;
	xsk_rs_irq_defer *h;

	FAILS(xsk_rs_irq_defer_via(NULL), -EINVAL, "handle is NULL");
	h = irq_defer_up(&l);
	if (h)
		VALUE(xsk_rs_irq_defer_via(h), (int)XSK_RS_IRQ_DEFER_VIA_NAPI_SET);
	xsk_rs_irq_defer_destroy(h);
	live_down(&l);
}

static void row_irq_defer_napi_count(void)
{
	struct live l;
	xsk_rs_irq_defer *h;

	FAILS(xsk_rs_irq_defer_napi_count(NULL), -EINVAL, "handle is NULL");
	h = irq_defer_up(&l);
	if (h)
		VALUE(xsk_rs_irq_defer_napi_count(h), 1); /* veth: one NAPI per RX queue */
	xsk_rs_irq_defer_destroy(h);
	live_down(&l);
}

static void row_irq_defer_restore(void)
{
	struct live l;
	xsk_rs_irq_defer *h;

	FAILS(xsk_rs_irq_defer_restore(NULL), -EINVAL, "handle is NULL");
	h = irq_defer_up(&l);
	if (h) {
		VALUE(xsk_rs_irq_defer_restore(h), 0);
		VALUE(xsk_rs_irq_defer_restore(h), 0); /* restored already */
	}
	xsk_rs_irq_defer_destroy(h);
	live_down(&l);
}

static void row_irq_defer_destroy(void)
{
	struct live l;
	xsk_rs_irq_defer *h;

	xsk_rs_irq_defer_destroy(NULL);
	CHECK(1, "destroy(NULL) is a no-op");
	h = irq_defer_up(&l);
	/* The socket (and veth's NAPI with it) goes first: the restore skips it. */
	live_down(&l);
	xsk_rs_irq_defer_destroy(h);
}

/* ---- the table ---------------------------------------------------------- */

/*
 * One row per exported function. ROW(f) takes f's address, so a row for a
 * function the header no longer declares does not compile; run.sh fails for
 * an exported function that has no row here.
 */
struct row {
	const char *name;
	void (*fn)(void); /* the library function: ties the row to its declaration */
	void (*run)(void);
};

#define ROW(f, r) { #f, (void (*)(void))f, r }

static const struct row rows[] = {
	ROW(xsk_rs_version, row_version),
	ROW(xsk_rs_last_error, row_last_error),
	ROW(xsk_rs_strerror, row_strerror),
	ROW(xsk_rs_umem_config_init, row_umem_config_init),
	ROW(xsk_rs_config_lend, row_config_lend),
	ROW(xsk_rs_umem_create, row_umem_create),
	ROW(xsk_rs_umem_create_with_area, row_umem_create_with_area),
	ROW(xsk_rs_umem_destroy, row_umem_destroy),
	ROW(xsk_rs_umem_area, row_umem_area),
	ROW(xsk_rs_umem_size, row_umem_size),
	ROW(xsk_rs_umem_frame_size, row_umem_frame_size),
	ROW(xsk_rs_umem_frame_count, row_umem_frame_count),
	ROW(xsk_rs_umem_data, row_umem_data),
	ROW(xsk_rs_umem_fd, row_umem_fd),
	ROW(xsk_rs_umem_fill, row_umem_fill),
	ROW(xsk_rs_umem_comp, row_umem_comp),
	ROW(xsk_rs_umem_frame_headroom, row_umem_frame_headroom),
	ROW(xsk_rs_umem_frame_start, row_umem_frame_start),
	ROW(xsk_rs_umem_extract_addr, row_umem_extract_addr),
	ROW(xsk_rs_umem_extract_offset, row_umem_extract_offset),
	ROW(xsk_rs_umem_add_offset_to_addr, row_umem_add_offset_to_addr),
	ROW(xsk_rs_socket_config_init, row_socket_config_init),
	ROW(xsk_rs_socket_create, row_socket_create),
	ROW(xsk_rs_socket_destroy, row_socket_destroy),
	ROW(xsk_rs_socket_rx, row_socket_rx),
	ROW(xsk_rs_socket_tx, row_socket_tx),
	ROW(xsk_rs_socket_fd, row_socket_fd),
	ROW(xsk_rs_socket_kick, row_socket_kick),
	ROW(xsk_rs_socket_poll, row_socket_poll),
	ROW(xsk_rs_socket_stats, row_socket_stats),
	ROW(xsk_rs_socket_xdp_mode, row_socket_xdp_mode),
	ROW(xsk_rs_socket_is_zerocopy, row_socket_is_zerocopy),
	ROW(xsk_rs_socket_update_xskmap, row_socket_update_xskmap),
	ROW(xsk_rs_socket_queue_id, row_socket_queue_id),
	ROW(xsk_rs_socket_ifindex, row_socket_ifindex),
	ROW(xsk_rs_socket_xskmap_fd, row_socket_xskmap_fd),
	ROW(xsk_rs_fill_reserve, row_fill_reserve),
	ROW(xsk_rs_fill_addr, row_fill_addr),
	ROW(xsk_rs_fill_submit, row_fill_submit),
	ROW(xsk_rs_fill_needs_wakeup, row_fill_needs_wakeup),
	ROW(xsk_rs_fill_put, row_fill_put),
	ROW(xsk_rs_fill_reserve_span, row_fill_reserve_span),
	ROW(xsk_rs_tx_reserve, row_tx_reserve),
	ROW(xsk_rs_tx_desc, row_tx_desc),
	ROW(xsk_rs_tx_submit, row_tx_submit),
	ROW(xsk_rs_tx_needs_wakeup, row_tx_needs_wakeup),
	ROW(xsk_rs_tx_put, row_tx_put),
	ROW(xsk_rs_tx_put_packets, row_tx_put_packets),
	ROW(xsk_rs_desc_chain_len, row_desc_chain_len),
	ROW(xsk_rs_tx_reserve_span, row_tx_reserve_span),
	ROW(xsk_rs_comp_peek, row_comp_peek),
	ROW(xsk_rs_comp_addr, row_comp_addr),
	ROW(xsk_rs_comp_release, row_comp_release),
	ROW(xsk_rs_comp_cancel, row_comp_cancel),
	ROW(xsk_rs_comp_take, row_comp_take),
	ROW(xsk_rs_comp_peek_span, row_comp_peek_span),
	ROW(xsk_rs_rx_peek, row_rx_peek),
	ROW(xsk_rs_rx_peek_packets, row_rx_peek_packets),
	ROW(xsk_rs_rx_desc, row_rx_desc),
	ROW(xsk_rs_rx_release, row_rx_release),
	ROW(xsk_rs_rx_cancel, row_rx_cancel),
	ROW(xsk_rs_rx_take, row_rx_take),
	ROW(xsk_rs_rx_peek_span, row_rx_peek_span),
	ROW(xsk_rs_fill_size, row_fill_size),
	ROW(xsk_rs_comp_size, row_comp_size),
	ROW(xsk_rs_rx_size, row_rx_size),
	ROW(xsk_rs_tx_size, row_tx_size),
	ROW(xsk_rs_tx_max_len, row_tx_max_len),
	ROW(xsk_rs_fill_nb_free, row_fill_nb_free),
	ROW(xsk_rs_tx_nb_free, row_tx_nb_free),
	ROW(xsk_rs_comp_nb_avail, row_comp_nb_avail),
	ROW(xsk_rs_rx_nb_avail, row_rx_nb_avail),
	ROW(xsk_rs_xdp_config_init, row_xdp_config_init),
	ROW(xsk_rs_txsock_create, row_txsock_create),
	ROW(xsk_rs_rxsock_create, row_rxsock_create),
	ROW(xsk_rs_bisock_create, row_bisock_create),
	ROW(xsk_rs_txsock_destroy, row_txsock_destroy),
	ROW(xsk_rs_rxsock_destroy, row_rxsock_destroy),
	ROW(xsk_rs_txsock_seek, row_txsock_seek),
	ROW(xsk_rs_txsock_peek, row_txsock_peek),
	ROW(xsk_rs_txsock_commit, row_txsock_commit),
	ROW(xsk_rs_txsock_kick, row_txsock_kick),
	ROW(xsk_rs_txsock_alloc, row_txsock_alloc),
	ROW(xsk_rs_txsock_submit, row_txsock_submit),
	ROW(xsk_rs_txsock_send, row_txsock_send),
	ROW(xsk_rs_txsock_send_opts, row_txsock_send_opts),
	ROW(xsk_rs_txsock_tx_offloads, row_txsock_tx_offloads),
	ROW(xsk_rs_txsock_timestamps, row_txsock_timestamps),
	ROW(xsk_rs_umem_tx_metadata_len, row_umem_tx_metadata_len),
	ROW(xsk_rs_tx_metadata_request, row_tx_metadata_request),
	ROW(xsk_rs_tx_metadata_timestamp, row_tx_metadata_timestamp),
	ROW(xsk_rs_txsock_send_batch, row_txsock_send_batch),
	ROW(xsk_rs_txsock_send_packed, row_txsock_send_packed),
	ROW(xsk_rs_txsock_wait, row_txsock_wait),
	ROW(xsk_rs_rxsock_seek, row_rxsock_seek),
	ROW(xsk_rs_rxsock_peek, row_rxsock_peek),
	ROW(xsk_rs_rxsock_commit, row_rxsock_commit),
	ROW(xsk_rs_rxsock_recv_batch, row_rxsock_recv_batch),
	ROW(xsk_rs_rxsock_release, row_rxsock_release),
	ROW(xsk_rs_rxsock_recv, row_rxsock_recv),
	ROW(xsk_rs_rxsock_recv_packet, row_rxsock_recv_packet),
	ROW(xsk_rs_rxsock_recv_packed, row_rxsock_recv_packed),
	ROW(xsk_rs_rxsock_wait, row_rxsock_wait),
	ROW(xsk_rs_txsock_fd, row_txsock_fd),
	ROW(xsk_rs_rxsock_fd, row_rxsock_fd),
	ROW(xsk_rs_txsock_stats, row_txsock_stats),
	ROW(xsk_rs_rxsock_stats, row_rxsock_stats),
	ROW(xsk_rs_txsock_free_frames, row_txsock_free_frames),
	ROW(xsk_rs_txsock_reserved_frames, row_txsock_reserved_frames),
	ROW(xsk_rs_txsock_in_flight_frames, row_txsock_in_flight_frames),
	ROW(xsk_rs_txsock_max_len, row_txsock_max_len),
	ROW(xsk_rs_rxsock_free_frames, row_rxsock_free_frames),
	ROW(xsk_rs_rxsock_in_flight_frames, row_rxsock_in_flight_frames),
	ROW(xsk_rs_rxsock_held_frames, row_rxsock_held_frames),
	ROW(xsk_rs_txsock_xdp_mode, row_txsock_xdp_mode),
	ROW(xsk_rs_rxsock_xdp_mode, row_rxsock_xdp_mode),
	ROW(xsk_rs_txsock_is_zerocopy, row_txsock_is_zerocopy),
	ROW(xsk_rs_rxsock_is_zerocopy, row_rxsock_is_zerocopy),
	ROW(xsk_rs_fill_layout, row_fill_layout),
	ROW(xsk_rs_comp_layout, row_comp_layout),
	ROW(xsk_rs_rx_layout, row_rx_layout),
	ROW(xsk_rs_tx_layout, row_tx_layout),
	ROW(xsk_rs_socket_fill, row_socket_fill),
	ROW(xsk_rs_socket_comp, row_socket_comp),
	ROW(xsk_rs_umem_create_with_fd, row_umem_create_with_fd),
	ROW(xsk_rs_prog_create, row_prog_create),
	ROW(xsk_rs_prog_find, row_prog_find),
	ROW(xsk_rs_prog_xskmap_fd, row_prog_xskmap_fd),
	ROW(xsk_rs_prog_ifindex, row_prog_ifindex),
	ROW(xsk_rs_prog_detach, row_prog_detach),
	ROW(xsk_rs_prog_destroy, row_prog_destroy),
	ROW(xsk_rs_netdev_info_init, row_netdev_info_init),
	ROW(xsk_rs_netdev_query, row_netdev_query),
	ROW(xsk_rs_netdev_queue_napi_id, row_netdev_queue_napi_id),
	ROW(xsk_rs_netdev_napi_ids, row_netdev_napi_ids),
	ROW(xsk_rs_kernel_features, row_kernel_features),
	ROW(xsk_rs_feature_name, row_feature_name),
	ROW(xsk_rs_feature_since, row_feature_since),
	ROW(xsk_rs_irq_defer_config_init, row_irq_defer_config_init),
	ROW(xsk_rs_irq_defer_create, row_irq_defer_create),
	ROW(xsk_rs_irq_defer_via, row_irq_defer_via),
	ROW(xsk_rs_irq_defer_napi_count, row_irq_defer_napi_count),
	ROW(xsk_rs_irq_defer_restore, row_irq_defer_restore),
	ROW(xsk_rs_irq_defer_destroy, row_irq_defer_destroy),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

int main(int argc, char **argv)
{
	size_t i;

	harness_name = "hostile_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NROWS; i++)
			printf("%s\n", rows[i].name);
		return 0;
	}
	if (pair_args(argc, argv, &ctx.ns_a, &ctx.if_a, &ctx.ns_b, &ctx.if_b, &ctx.mode, "--list"))
		return 2;
	ctx.fd_a = open_netns(ctx.ns_a);
	ctx.fd_b = open_netns(ctx.ns_b);
	enter_netns(ctx.fd_b, ctx.ns_b);
	ctx.peer = peer_open(ctx.if_b, PEER_RCVBUF);
	enter_netns(ctx.fd_a, ctx.ns_a);
	printf("hostile_test: libxsk_rs %s, %s/%s <-> %s/%s, XDP mode %s, %zu rows\n", xsk_rs_version(), ctx.ns_a,
	       ctx.if_a, ctx.ns_b, ctx.if_b, argv[5], NROWS);

	for (i = 0; i < NROWS; i++) {
		unsigned before = passed + failed;

		cur = rows[i].name;
		section(cur);
		rows[i].run();
		cur = rows[i].name;
		CHECK(passed + failed > before, "%s: the row made %u checks", cur, passed + failed - before);
	}
	peer_drain(ctx.peer);
	close(ctx.peer);
	close(ctx.fd_a);
	close(ctx.fd_b);
	printf("hostile_test: %zu rows\n", NROWS);
	printf("hostile_test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
