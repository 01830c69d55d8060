/* test_tcp_reasm.c - TCP stream reassembly (analyze/tcp_reasm.h).
 *
 * Every callback is written to a text log ("open 1 client=40000 syn",
 * "data 1 0 @0 \"GET\"", "gap 1 1 @5 +3", "close 1 fin") and most tests
 * compare the whole log, so the exact callback sequence is asserted.  The
 * recorder also checks on every call that each side's offsets are contiguous
 * and that nothing follows a close.  The last tests feed every order of a set
 * of segments and a large randomly reordered and duplicated stream.  Every
 * payload is handed over from a copy that ends right before a PROT_NONE page,
 * so that a read past a segment's bytes faults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyze/tcp_reasm.h"

#include "sc_test.h"

/* ---- Recording callbacks ---------------------------------------------------- */

struct rconn {
	struct sc_tcp_conn_info ci;
	bool closed;
	int how;
	uint64_t next[2];      /* offset the next data or gap must start at */
	uint8_t *buf[2];       /* delivered data bytes, gaps left out */
	size_t blen[2], bcap[2];
	uint64_t gap_bytes[2];
};

struct rec {
	char *log;
	size_t len, cap;
	bool nolog;        /* large tests: keep the streams only */
	struct rconn **c;  /* by id - 1 */
	size_t n, ncap;
	int calls;
	int fail_at;       /* return -77 from this callback (1-based); 0: never */
	uint64_t ts[8];    /* ts_ns of the first data and gap callbacks */
	size_t nts;
	bool open_null;    /* `open` returns NULL */
};

static void logf_(struct rec *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct rec *rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rc->nolog)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	if (rc->len + (size_t)n + 1 > rc->cap) {
		size_t ncap = (rc->len + (size_t)n + 1) * 2;

		rc->log = realloc(rc->log, ncap);
		cr_assert_not_null(rc->log);
		rc->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(rc->log + rc->len, rc->cap - rc->len, fmt, ap);
	va_end(ap);
	rc->len += (size_t)n;
}

static const char *log_str(struct rec *rc)
{
	return rc->log ? rc->log : "";
}

static int tick(struct rec *rc)
{
	return ++rc->calls == rc->fail_at ? -77 : 0;
}

static void *cb_open(void *ctx, const struct sc_tcp_conn_info *ci)
{
	struct rec *rc = ctx;
	struct rconn *k;

	if (rc->open_null)
		return NULL;
	cr_assert_eq(ci->id, rc->n + 1, "ids are 1, 2, ... in order");
	k = calloc(1, sizeof(*k));
	cr_assert_not_null(k);
	k->ci = *ci;
	if (rc->n == rc->ncap) {
		rc->ncap = rc->ncap ? rc->ncap * 2 : 16;
		rc->c = realloc(rc->c, rc->ncap * sizeof(*rc->c));
		cr_assert_not_null(rc->c);
	}
	rc->c[rc->n++] = k;
	logf_(rc, "open %" PRIu64 " client=%u %s\n", ci->id, ci->client.port, ci->roles_from_syn ? "syn" : "nosyn");
	(void)tick(rc);
	return k;
}

static int cb_data(void *ctx, void *conn, int side, uint64_t ts_ns, uint64_t offset, const uint8_t *p, size_t n)
{
	struct rec *rc = ctx;
	struct rconn *k = conn;

	if (rc->nts < 8)
		rc->ts[rc->nts++] = ts_ns;
	cr_assert(!k->closed, "data after close");
	cr_assert(side == 0 || side == 1);
	cr_assert_gt(n, 0);
	cr_assert_eq(offset, k->next[side], "data at %" PRIu64 ", expected %" PRIu64, offset, k->next[side]);
	k->next[side] += n;
	if (k->blen[side] + n > k->bcap[side]) {
		k->bcap[side] = (k->blen[side] + n) * 2;
		k->buf[side] = realloc(k->buf[side], k->bcap[side]);
		cr_assert_not_null(k->buf[side]);
	}
	memcpy(k->buf[side] + k->blen[side], p, n);
	k->blen[side] += n;
	logf_(rc, "data %" PRIu64 " %d @%" PRIu64 " \"", k->ci.id, side, offset);
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			logf_(rc, "%c", p[i]);
		else
			logf_(rc, "\\x%02x", p[i]);
	}
	logf_(rc, "\"\n");
	return tick(rc);
}

static int cb_gap(void *ctx, void *conn, int side, uint64_t ts_ns, uint64_t offset, uint64_t n)
{
	struct rec *rc = ctx;
	struct rconn *k = conn;

	if (rc->nts < 8)
		rc->ts[rc->nts++] = ts_ns;
	cr_assert(!k->closed, "gap after close");
	cr_assert(side == 0 || side == 1);
	cr_assert_gt(n, 0);
	cr_assert_eq(offset, k->next[side], "gap at %" PRIu64 ", expected %" PRIu64, offset, k->next[side]);
	k->next[side] += n;
	k->gap_bytes[side] += n;
	logf_(rc, "gap %" PRIu64 " %d @%" PRIu64 " +%" PRIu64 "\n", k->ci.id, side, offset, n);
	return tick(rc);
}

static const char *how_name(int how)
{
	switch (how) {
	case SC_TCP_END_FIN: return "fin";
	case SC_TCP_END_RST: return "rst";
	case SC_TCP_END_CAPTURE: return "capture";
	case SC_TCP_END_REUSED: return "reused";
	case SC_TCP_END_EVICTED: return "evicted";
	default: return "?";
	}
}

static int cb_close(void *ctx, void *conn, uint64_t ts_ns, int how)
{
	struct rec *rc = ctx;
	struct rconn *k = conn;

	(void)ts_ns;
	cr_assert(!k->closed, "closed twice");
	k->closed = true;
	k->how = how;
	logf_(rc, "close %" PRIu64 " %s\n", k->ci.id, how_name(how));
	return tick(rc);
}

/* ---- Feeding segments ------------------------------------------------------- */

#define CPORT 40000
#define SPORT 80

struct t {
	struct sc_tcp_reasm *r;
	struct rec rec;
	uint64_t ts;   /* advances by 1 ms per segment */
	uint16_t cport;
	uint8_t family;
};

static void t_init(struct t *t, const struct sc_tcp_reasm_opts *o)
{
	struct sc_tcp_reasm_cb cb = { NULL, cb_open, cb_data, cb_gap, cb_close };

	memset(t, 0, sizeof(*t));
	cb.ctx = &t->rec;
	t->r = sc_tcp_reasm_new(&cb, o);
	cr_assert_not_null(t->r);
	t->ts = 1000000000ull;
	t->cport = CPORT;
	t->family = SC_AF_INET;
}

static void t_fini(struct t *t)
{
	sc_tcp_reasm_free(t->r);
	for (size_t i = 0; i < t->rec.n; i++) {
		free(t->rec.c[i]->buf[0]);
		free(t->rec.c[i]->buf[1]);
		free(t->rec.c[i]);
	}
	free(t->rec.c);
	free(t->rec.log);
}

/* ---- Guard page ---------------------------------------------------------------- */

#define GUARD_CAP (1u << 20) /* the largest payload a test hands over */

/* p[0..len) copied so that it ends right before a PROT_NONE page.  The copy
 * lives until the next call: the reassembler must not keep the pointer. */
static const uint8_t *guarded(const void *p, uint32_t len)
{
	static uint8_t *end;

	if (!end) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		uint8_t *map = mmap(NULL, GUARD_CAP + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		cr_assert(map != MAP_FAILED);
		end = map + GUARD_CAP;
		cr_assert_eq(mprotect(end, page, PROT_NONE), 0);
	}
	cr_assert(len <= GUARD_CAP, "payload of %u bytes is larger than the guarded buffer", len);
	memcpy(end - len, p, len);
	return end - len;
}

/* A segment from the client (from_server 0) or the server, `len` bytes
 * present of `wire_len`. */
static int t_segx(struct t *t, int from_server, uint32_t seq, uint32_t ack, uint8_t flags, const void *p,
		  uint32_t len, uint32_t wire_len)
{
	struct sc_endpoint c = { t->cport, { 10, 0, 0, 1 } }, s = { SPORT, { 10, 0, 0, 2 } };
	struct sc_tcp_seg seg;

	if (t->family == SC_AF_INET6) {
		memset(c.addr, 0, 16);
		memset(s.addr, 0, 16);
		c.addr[0] = s.addr[0] = 0x20;
		c.addr[1] = s.addr[1] = 0x01;
		c.addr[15] = 1;
		s.addr[15] = 2;
	}
	memset(&seg, 0, sizeof(seg));
	seg.ts_ns = t->ts;
	t->ts += 1000000;
	seg.family = t->family;
	seg.src = from_server ? s : c;
	seg.dst = from_server ? c : s;
	seg.seq = seq;
	seg.ack = ack;
	seg.flags = flags;
	seg.window = 65535;
	seg.payload = p && len ? guarded(p, len) : p;
	seg.len = len;
	seg.wire_len = wire_len;
	return sc_tcp_reasm_segment(t->r, &seg);
}

/* A segment whose payload is the string `s`; must succeed. */
static void t_seg(struct t *t, int from_server, uint32_t seq, uint32_t ack, uint8_t flags, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	int rc = t_segx(t, from_server, seq, ack, flags, n ? s : NULL, n, n);

	cr_assert_eq(rc, 0, "segment: %d", rc);
}

static void t_finish(struct t *t)
{
	int rc = sc_tcp_reasm_finish(t->r, t->ts);

	cr_assert_eq(rc, 0, "finish: %d", rc);
}

#define A SC_TCP_ACK
#define S SC_TCP_SYN
#define F SC_TCP_FIN
#define R SC_TCP_RST
#define P (SC_TCP_PSH | SC_TCP_ACK)

/* Client ISN 1000 (data from 1001), server ISN 5000 (data from 5001). */
static void handshake(struct t *t)
{
	t_seg(t, 0, 1000, 0, S, "");
	t_seg(t, 1, 5000, 1001, S | A, "");
	t_seg(t, 0, 1001, 5001, A, "");
}

static void assert_log(struct t *t, const char *want)
{
	cr_assert_str_eq(log_str(&t->rec), want);
}

/* ---- Basic streams ------------------------------------------------------------ */

Test(tcp_reasm, in_order_stream_delivered_at_once_and_closed_by_fins)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "GET / ");
	t_seg(&t, 0, 1007, 5001, P, "HTTP/1.1");
	t_seg(&t, 1, 5001, 1015, P, "200 OK");
	t_seg(&t, 0, 1015, 5007, F | A, "");
	t_seg(&t, 1, 5007, 1016, F | A, "");
	t_seg(&t, 0, 1016, 5008, A, "");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"GET / \"\n"
		       "data 1 0 @6 \"HTTP/1.1\"\n"
		       "data 1 1 @0 \"200 OK\"\n"
		       "close 1 fin\n");
	const struct sc_tcp_reasm_stats *st = sc_tcp_reasm_stats(t.r);

	cr_assert_eq(st->conns, 1);
	cr_assert_eq(st->segments, 9);
	cr_assert_eq(st->bytes, 20);
	cr_assert_eq(st->gaps, 0);
	cr_assert_eq(st->ooo_segments, 0);
	cr_assert_eq(st->ignored_segments, 0, "the final pure ACK is not counted");
	t_finish(&t);
	cr_assert_eq(t.rec.n, 1);
	t_fini(&t);
}

Test(tcp_reasm, out_of_order_segment_buffered_until_hole_filled)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1005, 5001, P, "EFGH");
	t_seg(&t, 0, 1009, 5001, P, "IJ");
	assert_log(&t, "open 1 client=40000 syn\n");
	t_seg(&t, 0, 1001, 5001, P, "ABCD");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n"
		       "data 1 0 @4 \"EFGH\"\n"
		       "data 1 0 @8 \"IJ\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ooo_segments, 2);
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->bytes, 10);
	t_fini(&t);
}

Test(tcp_reasm, buffered_bytes_keep_the_time_of_their_segment_and_gaps_the_time_given_up)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);                      /* ts 1.000, 1.001, 1.002 s */
	t_seg(&t, 0, 1005, 5001, P, "EF");  /* 1.003 */
	t_seg(&t, 0, 1001, 5001, P, "AB");  /* 1.004 */
	t.ts = 7000000000ull;
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"AB\"\n"
		       "gap 1 0 @2 +2\n"
		       "data 1 0 @4 \"EF\"\n"
		       "close 1 capture\n");
	cr_assert_eq(t.rec.nts, 3);
	cr_assert_eq(t.rec.ts[0], 1004000000ull);
	cr_assert_eq(t.rec.ts[1], 7000000000ull);
	cr_assert_eq(t.rec.ts[2], 1003000000ull);
	t_fini(&t);
}

Test(tcp_reasm, reordered_and_retransmitted_segments_deliver_each_byte_once)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "ABCD");
	t_seg(&t, 0, 1009, 5001, P, "IJKL");
	t_seg(&t, 0, 1009, 5001, P, "IJKL");  /* duplicate of a buffered copy */
	t_seg(&t, 0, 1001, 5001, P, "ABCD");  /* duplicate of delivered bytes */
	t_seg(&t, 0, 1003, 5001, P, "CDEFGH"); /* half old, half new */
	t_seg(&t, 0, 1011, 5001, P, "KLMN");  /* half buffered, half new */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n"
		       "data 1 0 @4 \"EFGH\"\n"
		       "data 1 0 @8 \"IJKL\"\n"
		       "data 1 0 @12 \"MN\"\n");
	const struct sc_tcp_reasm_stats *st = sc_tcp_reasm_stats(t.r);

	cr_assert_eq(st->retrans_bytes, 4 + 4 + 2 + 2);
	cr_assert_eq(st->conflict_bytes, 0);
	cr_assert_eq(st->bytes, 14);
	t_fini(&t);
}

Test(tcp_reasm, overlapping_conflicting_bytes_keep_first_copy_and_count_conflict)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1005, 5001, P, "efgh");       /* buffered first */
	t_seg(&t, 0, 1001, 5001, P, "ABCDEfgHIJ"); /* overlaps it: E and H differ */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n"
		       "data 1 0 @4 \"efgh\"\n"
		       "data 1 0 @8 \"IJ\"\n");
	const struct sc_tcp_reasm_stats *st = sc_tcp_reasm_stats(t.r);

	cr_assert_eq(st->conflict_bytes, 2);
	cr_assert_eq(st->retrans_bytes, 2);
	t_fini(&t);
}

Test(tcp_reasm, overlapping_buffered_segments_first_copy_kept_across_several_pieces)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1003, 5001, P, "cd");
	t_seg(&t, 0, 1007, 5001, P, "gh");
	t_seg(&t, 0, 1002, 5001, P, "BXDEFYHI"); /* spans both: fills 1002, 1005-1006, 1009 */
	t_seg(&t, 0, 1001, 5001, P, "A");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"A\"\n"
		       "data 1 0 @1 \"B\"\n"
		       "data 1 0 @2 \"cd\"\n"
		       "data 1 0 @4 \"EF\"\n"
		       "data 1 0 @6 \"gh\"\n"
		       "data 1 0 @8 \"I\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->conflict_bytes, 4); /* X D Y H against c d g h */
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->retrans_bytes, 0);
	t_fini(&t);
}

Test(tcp_reasm, sequence_numbers_wrap_around_2_32)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 0xfffffffdu, 0, S, "");           /* data starts at 0xfffffffe */
	t_seg(&t, 1, 0xffffffffu, 0xfffffffeu, S | A, ""); /* data starts at 0 */
	t_seg(&t, 0, 0x00000002u, 0, P, "EFG");        /* out of order, after the wrap */
	t_seg(&t, 0, 0xfffffffeu, 0, P, "ABCDE");      /* crosses 2^32; E overlaps the first copy */
	t_seg(&t, 1, 0x00000000u, 0x5, P, "xyz");
	t_seg(&t, 0, 0x00000005u, 3, F | A, "");
	t_seg(&t, 1, 0x00000003u, 6, F | A, "");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n"
		       "data 1 0 @4 \"EFG\"\n"
		       "data 1 1 @0 \"xyz\"\n"
		       "close 1 fin\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->retrans_bytes, 1);
	t_fini(&t);
}

Test(tcp_reasm, no_syn_seen_roles_from_first_sender_and_offsets_from_first_seq)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 1, 777000, 123, P, "response");  /* the server speaks first in this capture */
	t_seg(&t, 0, 123, 777008, P, "next request");
	t_seg(&t, 1, 777008, 135, P, "!");
	assert_log(&t, "open 1 client=80 nosyn\n"
		       "data 1 0 @0 \"response\"\n"
		       "data 1 1 @0 \"next request\"\n"
		       "data 1 0 @8 \"!\"\n");
	cr_assert_eq(t.rec.c[0]->ci.server.port, CPORT);
	cr_assert_not(t.rec.c[0]->ci.roles_from_syn);
	t_fini(&t);
}

Test(tcp_reasm, bytes_before_the_first_seq_seen_without_syn_are_dropped)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 100, 0, P, "CD");
	t_seg(&t, 0, 98, 0, P, "AB");  /* before offset 0: nothing left */
	t_seg(&t, 0, 99, 0, P, "BCDE"); /* B dropped, CD duplicates, E new */
	assert_log(&t, "open 1 client=40000 nosyn\n"
		       "data 1 0 @0 \"CD\"\n"
		       "data 1 0 @2 \"E\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 1);
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->retrans_bytes, 2);
	t_fini(&t);
}

Test(tcp_reasm, synack_seen_first_fixes_roles)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 1, 5000, 1001, S | A, ""); /* the SYN was not captured */
	t_seg(&t, 0, 1001, 5001, P, "hello");
	t_seg(&t, 1, 5001, 1006, P, "world");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"hello\"\n"
		       "data 1 1 @0 \"world\"\n");
	cr_assert(t.rec.c[0]->ci.roles_from_syn);
	cr_assert_eq(t.rec.c[0]->ci.server.port, SPORT);
	t_fini(&t);
}

Test(tcp_reasm, syn_payload_starts_at_offset_0)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 1000, 0, S, "fast open"); /* TCP Fast Open */
	t_seg(&t, 0, 1010, 0, P, "!");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"fast open\"\n"
		       "data 1 0 @9 \"!\"\n");
	t_fini(&t);
}

Test(tcp_reasm, retransmitted_syn_and_synack_are_not_a_new_connection)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 1000, 0, S, "");
	t_seg(&t, 0, 1000, 0, S, "");
	t_seg(&t, 1, 5000, 1001, S | A, "");
	t_seg(&t, 1, 5000, 1001, S | A, "");
	t_seg(&t, 0, 1001, 5001, P, "x");
	t_seg(&t, 0, 1000, 0, S, ""); /* late copy after data */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"x\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 3);
	t_fini(&t);
}

Test(tcp_reasm, ipv6_connection_both_directions)
{
	struct t t;

	t_init(&t, NULL);
	t.family = SC_AF_INET6;
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "v6");
	t_seg(&t, 1, 5001, 1003, P, "ok");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"v6\"\n"
		       "data 1 1 @0 \"ok\"\n");
	cr_assert_eq(t.rec.c[0]->ci.family, SC_AF_INET6);
	cr_assert_eq(t.rec.c[0]->ci.client.addr[15], 1);
	t_fini(&t);
}

Test(tcp_reasm, pure_acks_and_keepalives_deliver_nothing)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "abc");
	t_seg(&t, 1, 5001, 1004, A, "");  /* pure ACK */
	t_seg(&t, 0, 1003, 5001, A, "");  /* zero-length keep-alive (seq - 1) */
	t_seg(&t, 0, 1003, 5001, A, "c"); /* keep-alive with one old byte */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"abc\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 0);
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->retrans_bytes, 1);
	t_fini(&t);
}

Test(tcp_reasm, segment_without_payload_pointer_is_einval)
{
	struct t t;

	t_init(&t, NULL);
	cr_assert_eq(t_segx(&t, 0, 1, 0, P, NULL, 3, 3), -EINVAL);
	t_seg(&t, 0, 1, 0, P, "ok"); /* still usable */
	assert_log(&t, "open 1 client=40000 nosyn\n"
		       "data 1 0 @0 \"ok\"\n");
	t_fini(&t);
}

/* ---- Gaps --------------------------------------------------------------------- */

Test(tcp_reasm, snaplen_cut_gives_gap_of_exact_size)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	cr_assert_eq(t_segx(&t, 0, 1001, 5001, P, "HEAD", 4, 1400), 0);
	t_seg(&t, 0, 2401, 5001, P, "next");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"HEAD\"\n"
		       "gap 1 0 @4 +1396\n"
		       "data 1 0 @1400 \"next\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->gap_bytes, 1396);
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->gaps, 1);
	t_fini(&t);
}

Test(tcp_reasm, snaplen_cut_out_of_order_gap_kept_in_place)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	cr_assert_eq(t_segx(&t, 0, 1005, 5001, P, "EF", 2, 10), 0); /* 1005..1014, 8 cut */
	t_seg(&t, 0, 1015, 5001, P, "after");
	cr_assert_eq(t_segx(&t, 0, 1005, 5001, P, "EFGHIJKLMN", 10, 10), 0); /* full copy: too late */
	t_seg(&t, 0, 1001, 5001, P, "ABCD");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n"
		       "data 1 0 @4 \"EF\"\n"
		       "gap 1 0 @6 +8\n"
		       "data 1 0 @14 \"after\"\n");
	t_fini(&t);
}

Test(tcp_reasm, hole_never_filled_becomes_gap_at_finish)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "AB");
	t_seg(&t, 0, 1006, 5001, P, "FG");
	t_seg(&t, 0, 1010, 5001, P, "J");
	cr_assert_eq(t_segx(&t, 1, 5001, 1003, P, "xy", 2, 5), 0);
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"AB\"\n"
		       "data 1 1 @0 \"xy\"\n"
		       "gap 1 1 @2 +3\n"
		       "gap 1 0 @2 +3\n"
		       "data 1 0 @5 \"FG\"\n"
		       "gap 1 0 @7 +2\n"
		       "data 1 0 @9 \"J\"\n"
		       "close 1 capture\n");
	t_fini(&t);
}

Test(tcp_reasm, ooo_byte_cap_exceeded_declares_gap_then_delivers)
{
	struct sc_tcp_reasm_opts o = { .max_ooo_bytes = 200 };
	char big[100];
	struct t t;

	memset(big, 'b', sizeof(big));
	t_init(&t, &o);
	handshake(&t);
	/* Each piece costs its bytes plus a fixed overhead (under 90 bytes): two
	 * small ones fit, the big one needs room for itself. */
	t_seg(&t, 0, 1011, 5001, P, "0123456789");
	t_seg(&t, 0, 1031, 5001, P, "abcdefghij");
	assert_log(&t, "open 1 client=40000 syn\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->cap_hits, 0);
	cr_assert_eq(t_segx(&t, 0, 1051, 5001, P, big, 100, 100), 0);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "gap 1 0 @0 +10\n"
		       "data 1 0 @10 \"0123456789\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->cap_hits, 1);
	t_seg(&t, 0, 1001, 5001, P, "late"); /* the hole was given up on */
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->retrans_bytes, 4);
	cr_assert_eq(t_segx(&t, 0, 1151, 5001, P, big, 100, 100), 0);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "gap 1 0 @0 +10\n"
		       "data 1 0 @10 \"0123456789\"\n"
		       "gap 1 0 @20 +10\n"
		       "data 1 0 @30 \"abcdefghij\"\n"
		       "gap 1 0 @40 +10\n"
		       "data 1 0 @50 \"" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
		       "data 1 0 @150 \"" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->cap_hits, 3);
	t_fini(&t);
}

Test(tcp_reasm, ooo_chunk_cap_exceeded_gives_up_lowest_hole)
{
	struct sc_tcp_reasm_opts o = { .max_ooo_chunks = 2 };
	struct t t;

	t_init(&t, &o);
	handshake(&t);
	t_seg(&t, 0, 1003, 5001, P, "C");
	t_seg(&t, 0, 1005, 5001, P, "E");
	t_seg(&t, 0, 1004, 5001, P, "D"); /* three pieces: C D E now contiguous after the hole */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "gap 1 0 @0 +2\n"
		       "data 1 0 @2 \"C\"\n"
		       "data 1 0 @3 \"D\"\n"
		       "data 1 0 @4 \"E\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->cap_hits, 1);
	t_fini(&t);
}

Test(tcp_reasm, far_jump_ignored_unless_the_peer_acknowledged_it)
{
	struct t t;
	uint32_t far = 1001 + 4 + (1u << 30) + 10;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "ABCD");
	t_seg(&t, 0, far, 5001, P, "far"); /* nothing vouches for 1 GiB of missing bytes */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 1);
	t_seg(&t, 1, 5001, far, A, ""); /* the server has received up to there */
	t_seg(&t, 0, far, 5001, P, "far");
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCD\"\n"
		       "gap 1 0 @4 +1073741834\n"
		       "data 1 0 @1073741838 \"far\"\n"
		       "close 1 capture\n");
	t_fini(&t);
}

Test(tcp_reasm, jump_below_the_limit_is_a_plain_hole)
{
	struct t t;
	uint32_t ahead = 1001 + (1u << 30) - 1;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, ahead, 5001, P, "z");
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "gap 1 0 @0 +1073741823\n"
		       "data 1 0 @1073741823 \"z\"\n"
		       "close 1 capture\n");
	t_fini(&t);
}

/* ---- Endings ---------------------------------------------------------------------- */

Test(tcp_reasm, fin_on_both_sides_closes_with_fin_after_buffered_data)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1004, 5001, F | P, "DEF"); /* data and FIN out of order */
	t_seg(&t, 1, 5001, 1001, F | A, "");
	assert_log(&t, "open 1 client=40000 syn\n");
	t_seg(&t, 0, 1001, 5001, P, "ABC");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABC\"\n"
		       "data 1 0 @3 \"DEF\"\n"
		       "close 1 fin\n");
	t_seg(&t, 0, 1008, 5002, A, "");   /* final ACK */
	t_seg(&t, 1, 5001, 1001, F | A, ""); /* retransmitted FIN: ignored */
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 1);
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABC\"\n"
		       "data 1 0 @3 \"DEF\"\n"
		       "close 1 fin\n");
	t_fini(&t);
}

Test(tcp_reasm, bytes_after_fin_are_dropped_and_the_first_fin_wins)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1006, 5001, P, "FGHIJ"); /* buffered beyond the FIN to come */
	t_seg(&t, 0, 1001, 5001, F | P, "ABCDEFG"); /* FIN at offset 7 */
	t_seg(&t, 0, 1010, 5001, F | A, "");  /* another FIN further on: ignored */
	t_seg(&t, 0, 1009, 5001, P, "x");     /* beyond the FIN */
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"ABCDE\"\n"
		       "data 1 0 @5 \"FG\"\n"
		       "close 1 capture\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 2);
	t_fini(&t);
}

Test(tcp_reasm, rst_closes_with_rst_after_flushing_holes)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "AB");
	t_seg(&t, 0, 1005, 5001, P, "EF");
	cr_assert_eq(t_segx(&t, 0, 1009, 5001, P, "IJ", 2, 4), 0);
	t_seg(&t, 1, 5001, 1003, P, "ok");
	t_seg(&t, 1, 5003, 1003, R | A, "");
	t_seg(&t, 0, 1003, 5003, P, "CD"); /* data after the RST */
	t_seg(&t, 1, 5003, 0, R, "");      /* and the RST it provokes */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"AB\"\n"
		       "data 1 1 @0 \"ok\"\n"
		       "gap 1 0 @2 +2\n"
		       "data 1 0 @4 \"EF\"\n"
		       "gap 1 0 @6 +2\n"
		       "data 1 0 @8 \"IJ\"\n"
		       "gap 1 0 @10 +2\n"
		       "close 1 rst\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 2);
	t_fini(&t);
}

Test(tcp_reasm, rst_answering_a_syn_closes_the_attempt)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 1000, 0, S, "");
	t_seg(&t, 1, 0, 1001, R | A, ""); /* connection refused */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "close 1 rst\n");
	t_fini(&t);
}

Test(tcp_reasm, rst_far_out_of_window_is_ignored)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "AB");
	t_seg(&t, 0, 1003 + (1u << 30), 5001, R, "");
	t_seg(&t, 0, 1003 - (1u << 30), 5001, R, "");
	t_seg(&t, 0, 1003, 5001, P, "CD");
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"AB\"\n"
		       "data 1 0 @2 \"CD\"\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 2);
	t_fini(&t);
}

Test(tcp_reasm, fin_or_rst_alone_on_an_unknown_tuple_opens_nothing)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 1, 1, F | A, "");
	t_seg(&t, 0, 1, 1, R, "");
	t_seg(&t, 0, 1, 1, R | A, "x");
	t_seg(&t, 0, 1, 1, A, "");
	t_seg(&t, 0, 1, 1, S | F, ""); /* invalid flags */
	assert_log(&t, "");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 4);
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->conns, 0);
	t_fini(&t);
}

Test(tcp_reasm, port_reuse_with_new_syn_after_fin_gives_two_connections)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, F | P, "one");
	t_seg(&t, 1, 5001, 1005, F | P, "1");
	t_seg(&t, 0, 1005, 5003, A, "");
	t_seg(&t, 0, 90000, 0, S, ""); /* the same ports again */
	t_seg(&t, 1, 70000, 90001, S | A, "");
	t_seg(&t, 0, 90001, 70001, P, "two");
	t_seg(&t, 1, 70001, 90004, P, "2");
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"one\"\n"
		       "data 1 1 @0 \"1\"\n"
		       "close 1 fin\n"
		       "open 2 client=40000 syn\n"
		       "data 2 0 @0 \"two\"\n"
		       "data 2 1 @0 \"2\"\n"
		       "close 2 capture\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->conns, 2);
	t_fini(&t);
}

Test(tcp_reasm, late_copy_of_the_handshake_after_close_is_not_a_new_connection)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, F | P, "x");
	t_seg(&t, 1, 5001, 1003, F | A, "");
	t_seg(&t, 1, 5000, 1001, S | A, ""); /* a delayed duplicate SYN-ACK */
	t_seg(&t, 0, 1000, 0, S, "");        /* and SYN */
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"x\"\n"
		       "close 1 fin\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 2);
	t_fini(&t);
}

Test(tcp_reasm, new_syn_on_open_tuple_closes_previous_as_reused)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "AB");
	t_seg(&t, 0, 1005, 5001, P, "EF"); /* a hole, flushed by the reuse */
	t_seg(&t, 1, 9000, 0, S, "");      /* reverse direction: the old server connects back */
	t_seg(&t, 1, 9001, 0, P, "new");
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"AB\"\n"
		       "gap 1 0 @2 +2\n"
		       "data 1 0 @4 \"EF\"\n"
		       "close 1 reused\n"
		       "open 2 client=80 syn\n"
		       "data 2 0 @0 \"new\"\n"
		       "close 2 capture\n");
	t_fini(&t);
}

Test(tcp_reasm, late_segments_ignored_while_closed_tuple_lingers_then_open_new_connection)
{
	struct t t;

	t_init(&t, NULL);
	handshake(&t);
	t_seg(&t, 0, 1001, 5001, P, "AB");
	t_seg(&t, 1, 5001, 1003, R, "");
	t_seg(&t, 0, 1003, 5001, P, "CD");
	t.ts += SC_TCP_REASM_LINGER_NS;
	t_seg(&t, 0, 1005, 5001, P, "EF"); /* more than the linger time later */
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 syn\n"
		       "data 1 0 @0 \"AB\"\n"
		       "close 1 rst\n"
		       "open 2 client=40000 nosyn\n"
		       "data 2 0 @0 \"EF\"\n"
		       "close 2 capture\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 1);
	t_fini(&t);
}

Test(tcp_reasm, max_conns_evicts_least_recently_active)
{
	struct sc_tcp_reasm_opts o = { .max_conns = 2 };
	struct t t;

	t_init(&t, &o);
	t.cport = 1;
	t_seg(&t, 0, 100, 0, P, "a");
	t.cport = 2;
	t_seg(&t, 0, 100, 0, P, "b");
	t.cport = 1;
	t_seg(&t, 0, 101, 0, P, "a");
	t_seg(&t, 0, 105, 0, P, "hole"); /* buffered: flushed by the eviction */
	t.cport = 3;
	t_seg(&t, 0, 100, 0, P, "c"); /* evicts 2, the least recently active */
	t.cport = 2;
	t_seg(&t, 0, 101, 0, P, "late"); /* its tuple lingers as closed */
	t.cport = 4;
	t_seg(&t, 0, 100, 0, P, "d"); /* evicts 1 */
	t_finish(&t);
	assert_log(&t, "open 1 client=1 nosyn\n"
		       "data 1 0 @0 \"a\"\n"
		       "open 2 client=2 nosyn\n"
		       "data 2 0 @0 \"b\"\n"
		       "data 1 0 @1 \"a\"\n"
		       "close 2 evicted\n"
		       "open 3 client=3 nosyn\n"
		       "data 3 0 @0 \"c\"\n"
		       "gap 1 0 @2 +3\n"
		       "data 1 0 @5 \"hole\"\n"
		       "close 1 evicted\n"
		       "open 4 client=4 nosyn\n"
		       "data 4 0 @0 \"d\"\n"
		       "close 3 capture\n"
		       "close 4 capture\n");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->evictions, 2);
	t_fini(&t);
}

Test(tcp_reasm, closed_tuples_remembered_are_bounded)
{
	struct t t;

	t_init(&t, NULL);
	t.rec.nolog = true;
	for (uint32_t i = 0; i <= SC_TCP_REASM_MAX_CLOSED; i++) {
		t.cport = (uint16_t)i;
		t.family = i >> 16 ? SC_AF_INET6 : SC_AF_INET;
		t_seg(&t, 0, 100, 0, P, "x");
		t_seg(&t, 1, 0, 0, R, "");
		t.ts -= 2000000; /* all within the linger time */
	}
	/* The first tuple was forgotten: its late data opens a connection. */
	t.cport = 0;
	t.family = SC_AF_INET;
	t_seg(&t, 0, 101, 0, P, "y");
	/* The second is still remembered. */
	t.cport = 1;
	t_seg(&t, 0, 101, 0, P, "y");
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->conns, SC_TCP_REASM_MAX_CLOSED + 2);
	cr_assert_eq(sc_tcp_reasm_stats(t.r)->ignored_segments, 1);
	t_finish(&t);
	t_fini(&t);
}

Test(tcp_reasm, finish_empties_the_reassembler_which_stays_usable)
{
	struct t t;

	t_init(&t, NULL);
	t_seg(&t, 0, 100, 0, P, "a");
	t_finish(&t);
	t_seg(&t, 0, 101, 0, P, "b"); /* no closed tuple remembered across finish */
	t_finish(&t);
	assert_log(&t, "open 1 client=40000 nosyn\n"
		       "data 1 0 @0 \"a\"\n"
		       "close 1 capture\n"
		       "open 2 client=40000 nosyn\n"
		       "data 2 0 @0 \"b\"\n"
		       "close 2 capture\n");
	t_fini(&t);
}

/* ---- Errors ------------------------------------------------------------------------- */

Test(tcp_reasm, callback_error_is_returned_and_sticks)
{
	struct t t;

	t_init(&t, NULL);
	t.rec.fail_at = 3; /* open, data "A", then data "B" fails */
	t_seg(&t, 0, 100, 0, P, "A");
	t_seg(&t, 0, 102, 0, P, "C");
	cr_assert_eq(t_segx(&t, 0, 101, 0, P, "B", 1, 1), -77);
	cr_assert_eq(t_segx(&t, 0, 103, 0, P, "D", 1, 1), -77);
	cr_assert_eq(sc_tcp_reasm_finish(t.r, 0), -77);
	assert_log(&t, "open 1 client=40000 nosyn\n"
		       "data 1 0 @0 \"A\"\n"
		       "data 1 0 @1 \"B\"\n");
	t_fini(&t); /* frees the buffered "C" without callbacks */
}

Test(tcp_reasm, close_callback_error_is_returned)
{
	struct t t;

	t_init(&t, NULL);
	t.rec.fail_at = 3;
	t_seg(&t, 0, 100, 0, P, "A");
	cr_assert_eq(sc_tcp_reasm_finish(t.r, 0), -77);
	t_fini(&t);
}

Test(tcp_reasm, open_returning_null_is_enomem)
{
	struct t t;

	t_init(&t, NULL);
	t.rec.open_null = true;
	cr_assert_eq(t_segx(&t, 0, 100, 0, P, "A", 1, 1), -ENOMEM);
	cr_assert_eq(t_segx(&t, 0, 100, 0, P, "A", 1, 1), -ENOMEM);
	t_fini(&t);
}

Test(tcp_reasm, new_requires_every_callback_and_free_null_is_noop)
{
	struct sc_tcp_reasm_cb cb = { NULL, cb_open, cb_data, NULL, cb_close };

	errno = 0;
	cr_assert_null(sc_tcp_reasm_new(&cb, NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(sc_tcp_reasm_new(NULL, NULL));
	sc_tcp_reasm_free(NULL);
}

/* ---- Orders and volume ----------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(tcp_reasm, every_order_of_six_overlapping_segments_gives_the_same_stream)
{
	static const struct {
		uint32_t off, len;
		bool fin;
	} segs[6] = { { 0, 10, false }, { 5, 15, false }, { 20, 10, false },
		      { 25, 15, false }, { 40, 1, false }, { 38, 12, true } };
	uint8_t content[50];
	int perm[6] = { 0, 1, 2, 3, 4, 5 }, c[6] = { 0 };
	unsigned orders = 0;

	for (int i = 0; i < 50; i++)
		content[i] = (uint8_t)('A' + i % 26);
	/* Heap's algorithm, iteratively: every one of the 720 orders once. */
	for (int i = 0;;) {
		struct t t;

		t_init(&t, NULL);
		t.rec.nolog = true;
		handshake(&t);
		t_seg(&t, 1, 5001, 1001, F | A, "");
		for (int j = 0; j < 6; j++) {
			uint8_t fl = (uint8_t)(P | (segs[perm[j]].fin ? F : 0));

			cr_assert_eq(t_segx(&t, 0, 1001 + segs[perm[j]].off, 5002, fl, content + segs[perm[j]].off,
					    segs[perm[j]].len, segs[perm[j]].len),
				     0);
		}
		struct rconn *k = t.rec.c[0];

		cr_assert_eq(t.rec.n, 1);
		cr_assert(k->closed);
		cr_assert_eq(k->how, SC_TCP_END_FIN);
		cr_assert_eq(k->blen[0], 50);
		cr_assert_eq(memcmp(k->buf[0], content, 50), 0);
		cr_assert_eq(k->gap_bytes[0] + k->gap_bytes[1], 0);
		/* Overlaps: 5 + 5 + 2 + 1 bytes, but [40, 41) is the only segment
		 * that can come after everything is delivered and closed: then it is
		 * ignored. */
		const struct sc_tcp_reasm_stats *st = sc_tcp_reasm_stats(t.r);

		cr_assert((st->retrans_bytes == 13 && st->ignored_segments == 0) ||
				  (st->retrans_bytes == 12 && st->ignored_segments == 1 && perm[5] == 4),
			  "retrans %" PRIu64 " ignored %" PRIu64, st->retrans_bytes, st->ignored_segments);
		cr_assert_eq(st->conflict_bytes, 0);
		t_fini(&t);
		orders++;

		while (i < 6 && c[i] >= i) {
			c[i] = 0;
			i++;
		}
		if (i == 6)
			break;
		int a = i % 2 ? c[i] : 0, tmp = perm[a];

		perm[a] = perm[i];
		perm[i] = tmp;
		c[i]++;
		i = 0;
	}
	cr_assert_eq(orders, 720);
}

/* A 2 MiB stream per side cut into random segments (1..3000 bytes), sent in
 * an order shuffled within a window of 64 segments with 10% duplicates (some
 * shifted to overlap), starting just below 2^32 so that the sequence numbers
 * wrap. */
Test(tcp_reasm, large_random_reordered_duplicated_stream_delivered_exactly)
{
	enum { LEN = 2u << 20, WIN = 64 };
	struct seg {
		uint32_t off, len;
		int side;
	};
	uint8_t *content[2];
	struct seg *side_segs[2] = { NULL, NULL }, *segs;
	size_t ns[2] = { 0, 0 }, n = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	const uint32_t isn[2] = { 0xffff0000u, 0x7ffffff0u };
	struct t t;

	for (int s = 0; s < 2; s++) {
		size_t cap = 0;

		content[s] = malloc(LEN);
		cr_assert_not_null(content[s]);
		for (uint32_t i = 0; i < LEN; i++)
			content[s][i] = (uint8_t)rng_next(&rng);
		for (uint32_t off = 0; off < LEN;) {
			uint32_t len = 1 + (uint32_t)(rng_next(&rng) % 3000);

			if (len > LEN - off)
				len = LEN - off;
			for (int copies = rng_next(&rng) % 10 == 0 ? 2 : 1; copies > 0; copies--) {
				if (ns[s] == cap) {
					cap = cap ? cap * 2 : 4096;
					side_segs[s] = realloc(side_segs[s], cap * sizeof(**side_segs));
					cr_assert_not_null(side_segs[s]);
				}
				/* a duplicate may cover only a tail of the segment */
				uint32_t cut = copies == 2 ? (uint32_t)(rng_next(&rng) % len) : 0;

				side_segs[s][ns[s]++] = (struct seg){ off + cut, len - cut, s };
			}
			off += len;
		}
	}
	/* Merge the sides in a random interleaving, then shuffle inside
	 * consecutive windows. */
	segs = malloc((ns[0] + ns[1]) * sizeof(*segs));
	cr_assert_not_null(segs);
	for (size_t i0 = 0, i1 = 0; i0 < ns[0] || i1 < ns[1];) {
		bool pick0 = i1 == ns[1] || (i0 < ns[0] && rng_next(&rng) % 2);

		segs[n++] = pick0 ? side_segs[0][i0++] : side_segs[1][i1++];
	}
	for (size_t w = 0; w < n; w += WIN) {
		size_t m = n - w < WIN ? n - w : WIN;

		for (size_t i = m - 1; i > 0; i--) {
			size_t j = (size_t)(rng_next(&rng) % (i + 1));
			struct seg tmp = segs[w + i];

			segs[w + i] = segs[w + j];
			segs[w + j] = tmp;
		}
	}
	t_init(&t, NULL);
	t.rec.nolog = true;
	t_seg(&t, 0, isn[0], 0, S, "");
	t_seg(&t, 1, isn[1], isn[0] + 1, S | A, "");
	for (size_t i = 0; i < n; i++) {
		const struct seg *g = &segs[i];

		cr_assert_eq(t_segx(&t, g->side, isn[g->side] + 1 + g->off, 0, P, content[g->side] + g->off, g->len,
				    g->len),
			     0);
	}
	t_seg(&t, 0, isn[0] + 1 + LEN, 0, F | A, "");
	t_seg(&t, 1, isn[1] + 1 + LEN, 0, F | A, "");
	struct rconn *k = t.rec.c[0];

	cr_assert_eq(t.rec.n, 1);
	cr_assert(k->closed);
	cr_assert_eq(k->how, SC_TCP_END_FIN);
	for (int s = 0; s < 2; s++) {
		cr_assert_eq(k->blen[s], LEN);
		cr_assert_eq(memcmp(k->buf[s], content[s], LEN), 0, "side %d differs", s);
		cr_assert_eq(k->gap_bytes[s], 0);
	}
	const struct sc_tcp_reasm_stats *st = sc_tcp_reasm_stats(t.r);

	cr_assert_eq(st->bytes, 2ull * LEN);
	cr_assert_eq(st->gaps, 0);
	cr_assert_eq(st->cap_hits, 0);
	cr_assert_eq(st->conflict_bytes, 0);
	cr_assert_gt(st->ooo_segments, 1000);
	cr_assert_gt(st->retrans_bytes, 0);
	t_fini(&t);
	free(segs);
	free(side_segs[0]);
	free(side_segs[1]);
	free(content[0]);
	free(content[1]);
}
