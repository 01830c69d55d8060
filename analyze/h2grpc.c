/* h2grpc.c - gRPC over HTTP/2: length-prefixed messages counted in DATA,
 * grpc-status and grpc-message.
 */
#include "analyze/codec.h"
#include "analyze/h2conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "formats/sc_rd.h"

/* ---- gRPC -------------------------------------------------------------------------
 * Messages in DATA (gRPC over HTTP/2, "Length-Prefixed-Message"):
 *
 *   +---------------+-----------------------------------------+---------------+
 *   | Compressed (1)| Message-Length (4, big endian)          | Message ...   |
 *   +---------------+-----------------------------------------+---------------+
 *
 * They cross DATA frame boundaries freely, so the 5-byte prefix is collected
 * byte by byte.  A message is counted once all its bytes have arrived. */

void sc_h2_grpc_start(struct h2s *st, int side, bool web)
{
	struct grpc *g = &st->g[side];

	if (g->state != G_OFF)
		return;
	/* Only from the first body byte on: a parser started later would read
	 * message bytes as prefixes. */
	g->state = st->data_seen[side] || st->gap[side] || !st->seen[side] ? G_LOST : G_ON;
	g->web = web;
}

void sc_h2_grpc_feed(struct sc_h2conn *h, struct h2s *st, int side, const uint8_t *p, size_t n)
{
	struct grpc *g = &st->g[side];
	struct sc_tx *t = &st->b->tx;

	while (n && g->state == G_ON) {
		if (g->hn < 5) {
			size_t k = 5u - g->hn < n ? 5u - g->hn : n;
			struct sc_rd r;
			uint8_t flag;

			memcpy(g->hdr + g->hn, p, k);
			g->hn = (uint8_t)(g->hn + k);
			p += k;
			n -= k;
			if (g->hn < 5)
				break;
			sc_rd_init(&r, g->hdr, 5);
			flag = sc_rd_u8(&r);
			g->flag = flag;
			g->len = g->left = sc_rd_be32(&r);
			if (flag & ~(g->web ? 0x81u : 0x01u)) {
				g->state = G_LOST;
				sc_h2_stream_error(h, st, side, h->d[side].foff,
						   "gRPC message on stream %u from the %s has flags 0x%02x (gRPC over HTTP/2: "
						   "Compressed-Flag is 0 or 1)",
					     st->id, side_names[side], flag);
				break;
			}
		}
		size_t k = g->left < n ? g->left : n;

		g->left -= (uint32_t)k;
		p += k;
		n -= k;
		if (g->left == 0) {
			g->hn = 0;
			if (g->flag & 0x80)
				continue; /* grpc-web trailers frame: not a message */
			if (side == SC_FROM_CLIENT) {
				t->grpc_req_msgs++;
				t->grpc_req_msg_bytes += g->len;
			} else {
				t->grpc_resp_msgs++;
				t->grpc_resp_msg_bytes += g->len;
			}
			if (g->flag & 1)
				t->grpc_compressed_msgs++;
		}
	}
}

/* Percent-decoding of grpc-message (gRPC over HTTP/2: "Percent-Encoded",
 * RFC 3986 §2.1); a '%' not followed by two hex digits is kept as it is, as
 * the gRPC spec asks decoders to do.  The header row keeps the wire form. */
void sc_h2_grpc_message_set(struct h2s *st, struct sc_view v)
{
	uint8_t *buf = malloc(v.len ? v.len : 1);
	size_t n = 0;

	if (!buf) {
		st->b->overflow = true;
		return;
	}
	for (size_t i = 0; i < v.len; i++) {
		int hi = i + 2 < v.len && v.p[i] == '%' ? sc_hexval(v.p[i + 1]) : -1;
		int lo = hi >= 0 ? sc_hexval(v.p[i + 2]) : -1;

		if (lo >= 0) {
			buf[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else {
			buf[n++] = v.p[i];
		}
	}
	(void)sc_txb_set(st->b, &st->b->tx.grpc_message, buf, n);
	free(buf);
}

int sc_h2_status_digits(struct sc_view v, int maxlen)
{
	int x = 0;

	if (v.len == 0 || v.len > (size_t)maxlen)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (v.p[i] - '0');
	}
	return x;
}
