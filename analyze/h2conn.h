/* h2conn.h - HTTP/2 (RFC 9113) for one connection: frames in, one
 * transaction per stream out, headers decoded with HPACK (analyze/hpack.h).
 *
 * Fed by analyze/convo.c with the bytes of each side in stream order and the
 * gaps between them.  Input may be split at any byte.  Completed streams go to
 * env->sink->tx; protocol errors, gaps and truncations to env->sink->anomaly
 * (with the connection, side, stream offset and the RFC section).  A
 * connection error stops decoding of that side; after a gap or a mid-stream
 * join the HPACK state is unknown and headers that depend on it are flagged,
 * never guessed.
 */
#ifndef SC_H2CONN_H
#define SC_H2CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/convo.h"
#include "analyze/model.h"

/* An HTTP/1.1 request that was upgraded with "Upgrade: h2c" (RFC 7540 §3.2;
 * RFC 9113 §3.1 deprecates it, but peers still do it): it becomes stream 1,
 * half-closed from the client, and its response arrives as HTTP/2 frames. */
struct sc_h2_upgrade {
	struct sc_view method, path, authority, scheme;
	struct sc_hdr *hdrs;         /* the request's header fields, borrowed */
	size_t nhdrs;
	struct sc_view settings;     /* HTTP2-Settings value (base64url SETTINGS payload) */
	uint64_t req_start_ns, req_end_ns;
	uint64_t req_header_bytes, req_body_bytes;
	struct sc_view req_body;     /* at most max_body bytes, borrowed */
	uint64_t req_offset;
};

/* Caps (STYLE.md §5).  Going over one is a connection error for that
 * direction (an SC_ANOM_PARSE anomaly; the direction stops decoding). */
#define SC_H2_MAX_FRAME_LEN 0xffffffu       /* hard cap on a frame length: 2^24-1 (RFC 9113 §4.1, §6.5.2) */
#define SC_H2_DEFAULT_MAX_FRAME 16384u      /* SETTINGS_MAX_FRAME_SIZE before any SETTINGS (RFC 9113 §6.5.2) */
#define SC_H2_MAX_CONTINUATIONS 1024u       /* CONTINUATION frames after one HEADERS or PUSH_PROMISE */
#define SC_H2_MAX_HEADER_BLOCK (1u << 20)   /* one header block, all its fragments together */
#define SC_H2_MAX_STREAMS 10000u            /* streams tracked at once; more are decoded (HPACK) but not kept */

struct sc_h2conn;

/* `up` is NULL for prior knowledge (or a mid-stream join, when c->midstream).
 * Everything in `up` is copied. */
struct sc_h2conn *sc_h2conn_new(struct sc_conn *c, const struct sc_dec_env *env, const struct sc_h2_upgrade *up);
void sc_h2conn_free(struct sc_h2conn *h);

/* Bytes of `side` (enum sc_side) at stream offset `off`.  Returns 0 or a
 * fatal (sink) error; protocol errors are anomalies, not return values. */
int sc_h2conn_data(struct sc_h2conn *h, int side, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n);
int sc_h2conn_gap(struct sc_h2conn *h, int side, uint64_t ts_ns, uint64_t off, uint64_t n);
/* Emit every stream still open, flagged truncated (or complete where the
 * protocol allows, e.g. a finished response on a closed connection). */
int sc_h2conn_end(struct sc_h2conn *h, uint64_t ts_ns, bool closed);

/* For a connection joined mid-stream: do the first bytes of either direction
 * (dir 0 = local egress, 1 = ingress) look like HTTP/2 frames?  When they do,
 * and roles are not known, *client_is_egress is set from what the frames
 * show.  Pure: looks at the bytes only. */
bool sc_h2conn_probe(uint8_t *const head[2], const size_t nhead[2], bool *client_is_egress, bool roles_known);

#endif
