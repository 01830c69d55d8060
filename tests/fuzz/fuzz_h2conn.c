/* fuzz_h2conn.c - libFuzzer target for the HTTP/2 connection decoder
 * (analyze/h2conn.c), with HPACK, the transaction builder and the stream map
 * behind it.
 *
 * Input:
 *   byte 0       bit 0: mid-stream join; bit 1: h2c upgrade (stream 1 from an
 *                HTTP/1 request; the next byte is the length of its
 *                HTTP2-Settings value, which follows); bits 2-3: max_body
 *                (0, 16, 4096, 1 MiB); bit 4: sc_h2conn_end(closed);
 *                bits 5-7: how the second run cuts each chunk (see below)
 *   chunks       ctl byte: bit 0 side; bit 1 a gap (no bytes follow);
 *                bits 2-7 timestamp step; then a 2-byte big-endian length
 *                (clipped to what is left), then the bytes
 *
 * The connection is driven twice: with each chunk in one call, then with
 * each chunk cut into pieces of 1 to 8 bytes.  The decoder promises identical
 * results for any split, so both runs must give the same digest of every
 * transaction and anomaly.  The sink reads every field and every byte of
 * every view (so ASan checks them) and checks the flags' promises.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef FUZZ_H2_VERBOSE
#include <stdio.h> /* -DFUZZ_H2_VERBOSE: print both runs' events (debugging a finding) */
#endif

#include "analyze/h2conn.h"

struct digest {
	uint64_t h;
	unsigned ntx, nanom;
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		d->h ^= b[i];
		d->h *= 0x100000001b3ull;
	}
}

static void mix_u64(struct digest *d, uint64_t v)
{
	mix(d, &v, sizeof(v));
}

static void mix_view(struct digest *d, struct sc_view v)
{
	if (v.len && !v.p)
		__builtin_trap();
	mix_u64(d, v.len);
	if (v.len)
		mix(d, v.p, v.len);
}

static void check_hdrs(struct digest *d, const struct sc_hdr_list *l)
{
	mix_u64(d, l->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct sc_hdr *h = &l->v[i];

		if ((h->flags & SC_HDR_NAME_UNKNOWN) && (h->name.p || h->name.len))
			__builtin_trap();
		if ((h->flags & SC_HDR_VALUE_UNKNOWN) && (h->value.p || h->value.len))
			__builtin_trap();
		mix_view(d, h->name);
		mix_view(d, h->value);
		mix_u64(d, h->flags);
	}
}

static int sink_tx(void *ctx, const struct sc_tx *t)
{
	struct digest *d = ctx;
	bool unknown = false;

	d->ntx++;
	mix_u64(d, t->stream_id);
	mix(d, t->version, strlen(t->version));
	mix_view(d, t->method);
	mix_view(d, t->scheme);
	mix_view(d, t->authority);
	mix_view(d, t->path);
	mix_u64(d, (uint64_t)(int64_t)t->status);
	mix_view(d, t->reason);
	mix_u64(d, (uint64_t)(int64_t)t->interim_status);
	mix_u64(d, t->req_start_ns);
	mix_u64(d, t->req_end_ns);
	mix_u64(d, t->resp_start_ns);
	mix_u64(d, t->resp_end_ns);
	mix_u64(d, t->req_offset);
	mix_u64(d, t->resp_offset);
	mix_u64(d, t->req_header_bytes);
	mix_u64(d, t->resp_header_bytes);
	mix_u64(d, t->req_body_bytes);
	mix_u64(d, t->resp_body_bytes);
	check_hdrs(d, &t->req_hdrs);
	check_hdrs(d, &t->resp_hdrs);
	mix_view(d, t->req_body);
	mix_view(d, t->resp_body);
	if (t->req_body.len > t->req_body_bytes || t->resp_body.len > t->resp_body_bytes)
		__builtin_trap();
	mix_u64(d, (uint64_t)t->req_body_cut << 1 | t->resp_body_cut);
	mix_view(d, t->content_type);
	mix_view(d, t->content_encoding);
	mix_u64(d, (uint64_t)t->complete | (uint64_t)t->truncated << 1 | (uint64_t)t->error << 2 |
			   (uint64_t)t->headers_incomplete << 3 | (uint64_t)t->rst << 4 | (uint64_t)t->grpc << 5);
	mix_u64(d, t->rst_code);
	mix_u64(d, t->promised_by);
	mix_u64(d, (uint64_t)(int64_t)t->grpc_status);
	mix_view(d, t->grpc_message);
	mix_u64(d, t->grpc_req_msgs);
	mix_u64(d, t->grpc_resp_msgs);
	mix_u64(d, t->grpc_req_msg_bytes);
	mix_u64(d, t->grpc_resp_msg_bytes);
	mix_u64(d, t->grpc_compressed_msgs);
	/* Promises: a complete exchange was neither cut nor in error, and a
	 * header that could not be known is counted as such. */
	if (t->complete && (t->truncated || t->error || t->rst))
		__builtin_trap();
	for (size_t i = 0; i < t->req_hdrs.n; i++)
		unknown |= (t->req_hdrs.v[i].flags & (SC_HDR_NAME_UNKNOWN | SC_HDR_VALUE_UNKNOWN)) != 0;
	for (size_t i = 0; i < t->resp_hdrs.n; i++)
		unknown |= (t->resp_hdrs.v[i].flags & (SC_HDR_NAME_UNKNOWN | SC_HDR_VALUE_UNKNOWN)) != 0;
	if (unknown && !t->headers_incomplete)
		__builtin_trap();
	if (t->stream_id == 0 || strcmp(t->version, "HTTP/2") != 0)
		__builtin_trap();
#ifdef FUZZ_H2_VERBOSE
	fprintf(stderr, "tx %u status %d complete %d truncated %d error %d hi %d req %llu/%llu resp %llu/%llu t %llu-%llu %llu-%llu "
		"nh %zu/%zu digest %016llx\n",
		t->stream_id, t->status, t->complete, t->truncated, t->error, t->headers_incomplete,
		(unsigned long long)t->req_header_bytes, (unsigned long long)t->req_body_bytes,
		(unsigned long long)t->resp_header_bytes, (unsigned long long)t->resp_body_bytes,
		(unsigned long long)t->req_start_ns, (unsigned long long)t->req_end_ns,
		(unsigned long long)t->resp_start_ns, (unsigned long long)t->resp_end_ns, t->req_hdrs.n, t->resp_hdrs.n,
		(unsigned long long)d->h);
#endif
	return 0;
}

static int sink_anomaly(void *ctx, const struct sc_anomaly *a)
{
	struct digest *d = ctx;

	d->nanom++;
	mix_u64(d, a->kind);
	mix_u64(d, (uint64_t)(int64_t)a->side);
	mix_u64(d, a->offset);
	mix_u64(d, a->len);
	mix_u64(d, a->stream_id);
	mix(d, a->msg, strlen(a->msg));
	if (a->kind < SC_ANOM_GAP || a->kind > SC_ANOM_UNKNOWN)
		__builtin_trap();
#ifdef FUZZ_H2_VERBOSE
	fprintf(stderr, "anomaly %d side %d off %llu len %llu stream %u: %s\n", a->kind, a->side,
		(unsigned long long)a->offset, (unsigned long long)a->len, a->stream_id, a->msg);
#endif
	return 0;
}

static const uint64_t max_bodies[4] = { 0, 16, 4096, 1u << 20 };

static void drive(const uint8_t *data, size_t size, unsigned cut, struct digest *dg)
{
	struct sc_dec_stats stats = { 0 };
	struct sc_sink sink = { .ctx = dg, .tx = sink_tx, .anomaly = sink_anomaly };
	struct sc_dec_env env = { .sink = &sink, .max_body = max_bodies[(data[0] >> 2) & 3], .stats = &stats };
	struct sc_conn conn = { .id = 1, .midstream = (data[0] & 1) != 0 };
	struct sc_hdr hdrs[2] = {
		{ { (const uint8_t *)"Host", 4 }, { (const uint8_t *)"fuzz", 4 }, 0 },
		{ { (const uint8_t *)"Upgrade", 7 }, { (const uint8_t *)"h2c", 3 }, 0 },
	};
	struct sc_h2_upgrade up = {
		.method = { (const uint8_t *)"POST", 4 },
		.path = { (const uint8_t *)"/up", 3 },
		.authority = { (const uint8_t *)"fuzz", 4 },
		.hdrs = hdrs,
		.nhdrs = 2,
		.req_body = { (const uint8_t *)"body", 4 },
		.req_body_bytes = 10,
		.req_header_bytes = 50,
	};
	struct sc_h2conn *h;
	uint64_t off[2] = { 0, 0 }, ts = 0;
	size_t pos = 1;
	unsigned piece = 0;

	if (data[0] & 2) {
		size_t n = size > 1 ? data[1] : 0;

		pos = size > 1 ? 2 : size;
		if (n > size - pos)
			n = size - pos;
		up.settings.p = data + pos;
		up.settings.len = n;
		pos += n;
		off[0] = 50;
	}
	h = sc_h2conn_new(&conn, &env, (data[0] & 2) ? &up : NULL);
	if (!h)
		return;
	while (size - pos >= 3) {
		uint8_t ctl = data[pos];
		int side = ctl & 1;
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];

		pos += 3;
		ts += ctl >> 2;
		if (ctl & 2) {
			if (sc_h2conn_gap(h, side, ts, off[side], len + 1) < 0)
				__builtin_trap();
			off[side] += len + 1;
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		for (size_t at = 0; at < len;) {
			/* Pieces of 1..8 bytes, in a pattern set by byte 0. */
			size_t k = cut ? 1 + (piece++ * (cut + 2) + cut) % 8 : len;
			uint8_t *copy;

			if (k > len - at)
				k = len - at;
			copy = malloc(k); /* exact size: ASan sees reads past it */
			if (!copy)
				break;
			memcpy(copy, data + pos + at, k);
			if (sc_h2conn_data(h, side, ts, off[side] + at, copy, k) < 0)
				__builtin_trap();
			free(copy);
			at += k;
		}
		off[side] += len;
		pos += len;
	}
	if (sc_h2conn_end(h, ts + 1, (data[0] & 0x10) != 0) < 0)
		__builtin_trap();
	sc_h2conn_free(h);
	if (stats.transactions != dg->ntx || stats.anomalies != dg->nanom)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest a = { 0xcbf29ce484222325ull, 0, 0 }, b = a;

	if (size < 1)
		return 0;
	drive(data, size, 0, &a);
#ifdef FUZZ_H2_VERBOSE
	fprintf(stderr, "---- second run, cut pattern %d\n", 1 + (data[0] >> 5));
#endif
	drive(data, size, 1 + (data[0] >> 5), &b);
	if (a.h != b.h || a.ntx != b.ntx || a.nanom != b.nanom)
		__builtin_trap(); /* results depend on where the input was split */
	return 0;
}
