/* fuzz_tcp_reasm.c - libFuzzer target for TCP stream reassembly
 * (analyze/tcp_reasm.c).
 *
 * The input drives segments on four tuples (the last one IPv6):
 *
 *   byte 0     bits 0-1: max_conns 1, 2, 3 or default
 *              bits 2-3: max_ooo_bytes 64, 256, 4096 or default
 *              bits 4-5: max_ooo_chunks 1, 3, 16 or default
 *              bit 6: payload bytes are the low byte of their sequence number
 *                     (then every delivered byte is checked against its offset)
 *              bit 7: the callback numbered by byte 1 fails with -77
 *   per segment, 6 bytes then the payload:
 *     ctl      bits 0-1 tuple, bit 2 from the server, bit 3 seq delta << 16,
 *              bit 4 61 s pass first, bit 5 the cursor moves past the payload,
 *              bit 6 the seq is the delta alone (absolute), bit 7 finish first
 *     flags    SC_TCP_* as they are
 *     delta    int16, big-endian: seq = cursor + delta
 *     len      payload bytes present
 *     cut      bits 0-4: wire_len = len + cut; bit 5: no ACK number noted
 *     payload  len bytes (from the input, clipped to what is left, unless bit 6
 *              of byte 0 makes them)
 *
 * Checked with abort(): per side, data and gaps start exactly where the
 * previous one ended and are not empty; no callback for a connection after
 * its close; ids are 1, 2, ...; at most max_conns connections are open; every
 * connection is closed after finish; the stats agree with what the callbacks
 * saw; in the seq-derived payload mode, every byte sits at its offset and no
 * conflict is counted; after a failure, every call returns it and makes no
 * callback.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/tcp_reasm.h"

struct fconn {
	uint64_t id;
	bool closed;
	uint64_t next[2];
	bool have_delta[2];
	uint8_t delta[2]; /* byte - offset, mod 256, in the seq-derived mode */
};

struct fuzz {
	struct fconn **c;
	size_t n, cap;
	bool seq_payload;
	unsigned calls, fail_at;
	bool failed;
	uint64_t data_bytes, gap_bytes, gaps;
	uint64_t open_now, max_conns; /* max_conns 0: the default */
};

static void check(bool ok)
{
	if (!ok)
		abort();
}

static int tick(struct fuzz *f)
{
	check(!f->failed); /* nothing after a failure */
	if (++f->calls == f->fail_at) {
		f->failed = true;
		return -77;
	}
	return 0;
}

static void *f_open(void *ctx, const struct sc_tcp_conn_info *ci)
{
	struct fuzz *f = ctx;
	struct fconn *k;

	check(ci->id == f->n + 1);
	check(ci->family == SC_AF_INET || ci->family == SC_AF_INET6);
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		struct fconn **nc = realloc(f->c, ncap * sizeof(*nc));

		if (!nc)
			abort();
		f->c = nc;
		f->cap = ncap;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		abort();
	k->id = ci->id;
	f->c[f->n++] = k;
	f->open_now++;
	check(!f->max_conns || f->open_now <= f->max_conns);
	/* open cannot fail but by NULL (out of memory): not counted for fail_at */
	check(!f->failed);
	return k;
}

static int f_data(void *ctx, void *conn, int side, uint64_t ts_ns, uint64_t offset, const uint8_t *p, size_t n)
{
	struct fuzz *f = ctx;
	struct fconn *k = conn;

	(void)ts_ns;
	check(!k->closed);
	check(side == 0 || side == 1);
	check(n > 0 && p);
	check(offset == k->next[side]);
	if (f->seq_payload) {
		for (size_t i = 0; i < n; i++) {
			uint8_t d = (uint8_t)(p[i] - (uint8_t)(offset + i));

			if (!k->have_delta[side]) {
				k->have_delta[side] = true;
				k->delta[side] = d;
			}
			check(d == k->delta[side]);
		}
	} else {
		volatile uint8_t sink = 0;

		for (size_t i = 0; i < n; i++)
			sink ^= p[i];
		(void)sink;
	}
	k->next[side] += n;
	f->data_bytes += n;
	return tick(f);
}

static int f_gap(void *ctx, void *conn, int side, uint64_t ts_ns, uint64_t offset, uint64_t n)
{
	struct fuzz *f = ctx;
	struct fconn *k = conn;

	(void)ts_ns;
	check(!k->closed);
	check(side == 0 || side == 1);
	check(n > 0);
	check(offset == k->next[side]);
	k->next[side] += n;
	f->gap_bytes += n;
	f->gaps++;
	return tick(f);
}

static int f_close(void *ctx, void *conn, uint64_t ts_ns, int how)
{
	struct fuzz *f = ctx;
	struct fconn *k = conn;

	(void)ts_ns;
	check(!k->closed);
	check(how >= SC_TCP_END_FIN && how <= SC_TCP_END_EVICTED);
	k->closed = true;
	f->open_now--;
	return tick(f);
}

static const uint64_t max_conns_v[4] = { 1, 2, 3, 0 };
static const uint64_t max_ooo_bytes_v[4] = { 64, 256, 4096, 0 };
static const uint32_t max_ooo_chunks_v[4] = { 1, 3, 16, 0 };

static void tuple(unsigned t, uint8_t *family, struct sc_endpoint *c, struct sc_endpoint *s)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	*family = t == 3 ? SC_AF_INET6 : SC_AF_INET;
	c->addr[0] = s->addr[0] = 10;
	c->addr[3] = 1;
	s->addr[3] = 2;
	c->port = (uint16_t)(40000 + t % 2); /* tuples 0 and 2 differ by the server only */
	s->port = t == 2 ? 8080 : 80;
}

/* Feeds one call's result through the failure rules. */
static void result(struct fuzz *f, int rc, int *sticky)
{
	if (*sticky) {
		check(rc == *sticky);
		return;
	}
	if (rc == 0)
		return;
	check(rc == -77 && f->failed);
	*sticky = rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz f;
	struct sc_tcp_reasm_cb cb = { &f, f_open, f_data, f_gap, f_close };
	struct sc_tcp_reasm_opts o;
	struct sc_tcp_reasm *r;
	uint32_t cursor[4][2];
	uint8_t buf[256 + 31];
	uint64_t ts = 1000000000ull;
	size_t i = 0;
	int sticky = 0;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	o.max_conns = max_conns_v[data[0] & 3];
	o.max_ooo_bytes = max_ooo_bytes_v[(data[0] >> 2) & 3];
	o.max_ooo_chunks = max_ooo_chunks_v[(data[0] >> 4) & 3];
	f.max_conns = o.max_conns;
	f.seq_payload = data[0] & 0x40;
	i = 1;
	if ((data[0] & 0x80) && size > 1)
		f.fail_at = 1u + data[i++];
	r = sc_tcp_reasm_new(&cb, &o);
	if (!r)
		abort();
	for (unsigned t = 0; t < 4; t++) {
		cursor[t][0] = 1000u + 0x40000000u * t;
		cursor[t][1] = 0xfffff000u - 0x10000u * t;
	}
	while (size - i >= 6) {
		uint8_t ctl = data[i], flags = data[i + 1], len = data[i + 4], cut = data[i + 5];
		int16_t delta = (int16_t)(uint16_t)((data[i + 2] << 8) | data[i + 3]);
		unsigned t = ctl & 3, d = (ctl >> 2) & 1;
		struct sc_endpoint ce, se;
		struct sc_tcp_seg seg;

		i += 6;
		if (ctl & 0x80)
			result(&f, sc_tcp_reasm_finish(r, ts), &sticky);
		if (ctl & 0x10)
			ts += 61ull * 1000000000ull;
		ts += 1000000;
		memset(&seg, 0, sizeof(seg));
		tuple(t, &seg.family, &ce, &se);
		seg.ts_ns = ts;
		seg.src = d ? se : ce;
		seg.dst = d ? ce : se;
		if (ctl & 0x40)
			seg.seq = (uint32_t)(int32_t)delta;
		else
			seg.seq = cursor[t][d] + (uint32_t)((int32_t)delta * ((ctl & 8) ? 65536 : 1));
		seg.ack = (cut & 0x20) ? 0 : cursor[t][!d];
		seg.flags = flags;
		seg.window = 1024;
		if (f.seq_payload) {
			uint32_t first = seg.seq + ((flags & SC_TCP_SYN) ? 1u : 0u);

			for (unsigned k = 0; k < len; k++)
				buf[k] = (uint8_t)(first + k);
		} else {
			if (len > size - i)
				len = (uint8_t)(size - i);
			memcpy(buf, data + i, len);
			i += len;
		}
		seg.len = len;
		seg.wire_len = len + (cut & 0x1f);
		/* An exact-size copy, so that ASan sees reads past the payload. */
		uint8_t *p = len ? malloc(len) : NULL;

		if (len && !p)
			abort();
		if (len)
			memcpy(p, buf, len);
		seg.payload = p;
		result(&f, sc_tcp_reasm_segment(r, &seg), &sticky);
		free(p);
		if (ctl & 0x20)
			cursor[t][d] = seg.seq + ((flags & SC_TCP_SYN) ? 1u : 0u) + seg.wire_len;
	}
	result(&f, sc_tcp_reasm_finish(r, ts), &sticky);

	const struct sc_tcp_reasm_stats *st = sc_tcp_reasm_stats(r);

	if (!sticky) {
		for (size_t k = 0; k < f.n; k++)
			check(f.c[k]->closed);
		check(st->bytes == f.data_bytes);
		check(st->gap_bytes == f.gap_bytes);
		check(st->gaps == f.gaps);
		check(st->conns == f.n);
		if (f.seq_payload)
			check(st->conflict_bytes == 0);
	}
	sc_tcp_reasm_free(r);
	for (size_t k = 0; k < f.n; k++)
		free(f.c[k]);
	free(f.c);
	return 0;
}
