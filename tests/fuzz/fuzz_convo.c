/* fuzz_convo.c - the whole decoding pipeline on arbitrary traffic.
 *
 * One connection: protocol detection, the HTTP/1 state machine and the
 * HTTP/2 decoder, the transaction builder.  The input is a header byte
 * (roles known, mid-stream, which local direction is the client) and then
 * events: [op][len16][bytes]: op & 3 = 0 client-side bytes, 1 server-side
 * bytes, 2 a gap of len bytes, 3 the connection closes.  The sink reads every
 * byte of every field it is handed, so ASan checks their bounds and lifetimes.
 */
#include <stdint.h>
#include <string.h>

#include "analyze/convo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink_byte;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink_byte = x;
}

static void touch_view(struct sc_view v)
{
	touch(v.p, v.len);
}

static int on_tx(void *ctx, const struct sc_tx *t)
{
	(void)ctx;
	touch_view(t->method);
	touch_view(t->scheme);
	touch_view(t->authority);
	touch_view(t->path);
	touch_view(t->reason);
	touch_view(t->req_body);
	touch_view(t->resp_body);
	touch_view(t->content_type);
	touch_view(t->content_encoding);
	touch_view(t->grpc_message);
	for (size_t i = 0; i < t->req_hdrs.n; i++) {
		touch_view(t->req_hdrs.v[i].name);
		touch_view(t->req_hdrs.v[i].value);
	}
	for (size_t i = 0; i < t->resp_hdrs.n; i++) {
		touch_view(t->resp_hdrs.v[i].name);
		touch_view(t->resp_hdrs.v[i].value);
	}
	return 0;
}

static int on_anomaly(void *ctx, const struct sc_anomaly *a)
{
	(void)ctx;
	touch((const uint8_t *)a->msg, strlen(a->msg));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_sink sink = { NULL, NULL, NULL, on_tx, on_anomaly, NULL };
	struct sc_dec_stats st = { 0 };
	struct sc_dec_env env = { &sink, 4096, &st };
	struct sc_conn c = { 0 };
	struct sc_convo *cv;
	uint64_t off[2] = { 0, 0 }, ts = 1000;
	size_t pos = 1;
	bool closed = false;

	if (size < 1)
		return 0;
	c.id = 1;
	c.midstream = data[0] & 2;
	c.client_is_egress = !(data[0] & 4);
	cv = sc_convo_new(&c, &env, data[0] & 1);
	if (!cv)
		return 0;
	while (pos + 3 <= size && !closed) {
		uint8_t op = data[pos] & 3;
		size_t n = (size_t)(data[pos + 1] | data[pos + 2] << 8);
		int rc = 0;

		pos += 3;
		ts += 1000;
		if (op == 3) {
			closed = true;
			break;
		}
		if (op == 2) {
			int d = data[pos - 3] >> 7;

			rc = sc_convo_gap(cv, d == 0, ts, off[d], n);
			off[d] += n;
		} else {
			if (n > size - pos)
				n = size - pos;
			/* op 0: the client's bytes; 1: the server's. */
			bool egress = (op == 0) == c.client_is_egress;
			int d = egress ? 0 : 1;

			rc = sc_convo_data(cv, egress, ts, off[d], data + pos, n);
			off[d] += n;
			pos += n;
		}
		if (rc < 0)
			break;
	}
	(void)sc_convo_end(cv, ts + 1, closed);
	sc_convo_free(cv);
	return 0;
}
