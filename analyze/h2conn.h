/* h2conn.h - HTTP/2 (RFC 9113) for one connection: frames in, one
 * transaction per stream out, headers decoded with HPACK (analyze/hpack.h).
 *
 * Fed by analyze/convo.c with the bytes of each side in stream order and the
 * gaps between them.  Input may be split at any byte: the transactions and
 * anomalies (messages included) do not depend on where the splits fall.
 * Completed streams go to env->sink->tx; protocol errors, gaps and
 * truncations to env->sink->anomaly (with the connection, side, stream
 * offset and the RFC section).  A connection error stops decoding of that
 * side; after a gap or a mid-stream join the HPACK state is unknown and
 * headers that depend on it are flagged, never guessed.
 *
 * Transactions (struct sc_tx), one per stream:
 *  - method, scheme, authority, path from the request's pseudo-header fields
 *    (authority from Host when :authority is absent); status from :status of
 *    the final response, interim_status the last 1xx;
 *  - req_hdrs / resp_hdrs: every field in wire order, pseudo-header fields
 *    included (":method", ":path", ... are rows too, so that a query on rows
 *    sees the whole message); trailers follow with SC_HDR_TRAILER; the fields
 *    of interim (1xx) responses are not listed; SC_HDR_NEVER_INDEXED and the
 *    UNKNOWN flags come from HPACK (an unknown part is a NULL view);
 *  - req/resp_header_bytes: HPACK-encoded bytes of the message's header
 *    blocks (head, 1xx, trailers) as on the wire: the fragments of HEADERS /
 *    PUSH_PROMISE / CONTINUATION without frame headers, padding, priority
 *    fields and promised stream ids;  req/resp_body_bytes: DATA payloads
 *    without padding (bytes lost in gaps are not counted);
 *  - req/resp_offset: stream offset of the first frame of each message
 *    (a pushed request: of the PUSH_PROMISE, in the server's stream);
 *    start/end times: timestamps of the calls that delivered the first and
 *    the last frame of the message;
 *  - complete: END_STREAM seen both ways (a promised request counts as
 *    ended), no RST_STREAM, not truncated, no error.  headers_incomplete is
 *    separate: a complete exchange may have fields HPACK could not resolve;
 *  - truncated: part of a message was not seen (joined late, a gap, the
 *    connection or capture ended, GOAWAY left it unprocessed);
 *  - error: a protocol error in the exchange (malformed message, stream
 *    state violation, a connection error that cut it);
 *  - rst/rst_code: RST_STREAM (the stream is emitted at once);
 *    promised_by: the stream whose PUSH_PROMISE opened this one;
 *  - gRPC (content-type application/grpc*, or a grpc-status field): messages
 *    of each direction counted as they complete (prefix + payload, across
 *    DATA frames), their payload bytes summed; grpc_status from grpc-status
 *    (trailers, or the head of a trailers-only response), grpc_message
 *    percent-decoded (the header row keeps the wire form).  A direction whose
 *    DATA was not seen from its first byte is not counted.
 *
 * Settings: a side's SETTINGS_HEADER_TABLE_SIZE bounds the peer's encoder,
 * i.e. the decoder of the blocks the peer sends; SETTINGS_MAX_FRAME_SIZE
 * bounds the frames the peer sends.  Increases apply when the SETTINGS frame
 * is seen, decreases where the peer's ACK is in the peer's byte stream
 * (RFC 9113 §6.5.3): a bound is never smaller than the one in force.
 *
 * Anomaly kinds: SC_ANOM_PARSE for protocol errors ("HTTP/2 frame at offset
 * N: ... (RFC 9113 §x)"), SC_ANOM_GAP for each gap (what it did to the
 * framing), SC_ANOM_TRUNCATED for cut frames and streams at the end and for
 * streams left unprocessed by GOAWAY, SC_ANOM_UNKNOWN for bytes skipped to
 * find a frame boundary, HPACK trouble when the settings were not all seen,
 * and the first frame of an unknown type (later ones are skipped silently).
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
	int interim_status;          /* the 101 that switched (stream 1's interim response), 0 if none */
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
 * With `up`, stream 1 exists at once with the HTTP/1 request (its fields
 * listed as sent, scheme "http" unless given), ended from the client; the
 * HTTP2-Settings are the client's settings, acknowledged by the 101 (RFC
 * 7540 §3.2.1); the client's bytes start with the connection preface.
 * Everything in `up` is copied.  `c` and `env` are borrowed for the
 * decoder's life.  Returns NULL with errno ENOMEM (or EINVAL for a NULL
 * argument). */
struct sc_h2conn *sc_h2conn_new(struct sc_conn *c, const struct sc_dec_env *env, const struct sc_h2_upgrade *up);

/* Frees `h` and every stream not yet emitted (without emitting them: call
 * sc_h2conn_end first).  NULL is a no-op. */
void sc_h2conn_free(struct sc_h2conn *h);

/* Bytes of `side` (enum sc_side) at stream offset `off` (`p` borrowed for
 * the call).  An offset past the previous end is taken as a gap; bytes
 * already seen are dropped.  Returns 0, -EINVAL for bad arguments, or a
 * fatal error (the sink's, -ENOMEM), after which every call returns it;
 * protocol errors are anomalies, not return values. */
int sc_h2conn_data(struct sc_h2conn *h, int side, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n);

/* `n` bytes of `side` at `off` are lost.  Inside the payload of a frame
 * whose header was seen, framing is kept (a DATA body is then incomplete; a
 * header block is lost and the direction's HPACK state becomes unknown);
 * otherwise the direction's HPACK state becomes unknown, its unfinished
 * messages are marked truncated, and decoding resumes at the next plausible
 * frame boundary (a known type with only defined flags, a length within
 * SETTINGS_MAX_FRAME_SIZE, the stream-id and length rules of its type, and
 * the frame after it plausible too).  Returns as sc_h2conn_data(). */
int sc_h2conn_gap(struct sc_h2conn *h, int side, uint64_t ts_ns, uint64_t off, uint64_t n);

/* The connection ended (`closed`) or the capture did.  Reports frames cut
 * short and emits every stream still open, in stream id order, flagged
 * truncated (HTTP/2 ends a message only with END_STREAM, so nothing
 * unfinished is complete).  Later calls do nothing.  Returns as
 * sc_h2conn_data(). */
int sc_h2conn_end(struct sc_h2conn *h, uint64_t ts_ns, bool closed);

/* For a connection joined mid-stream: do the first bytes of either direction
 * (dir 0 = local egress, 1 = ingress) look like HTTP/2?  True when a
 * direction starts with the client preface, or holds two consecutive
 * plausible frame headers (anywhere in its head).  When roles are not known,
 * *client_is_egress is set only when the frames say which side is which and
 * nothing contradicts it: the preface, PUSH_PROMISE or HEADERS on an even
 * stream (server), and the first HPACK field of a HEADERS block (a static
 * request pseudo-header vs :status).  Pure: looks at the bytes only. */
bool sc_h2conn_probe(uint8_t *const head[2], const size_t nhead[2], bool *client_is_egress, bool roles_known);

#endif
