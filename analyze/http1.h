/* http1.h - HTTP/1.0 and HTTP/1.1 message parser (RFC 9112, RFC 9110) for the
 * analyzer.
 *
 * Three pieces, all working on bytes the caller holds:
 *  - sc_h1_parse_head() parses a request or response head (start line and
 *    header section) into views of the caller's buffer;
 *  - sc_h1_request_body() / sc_h1_response_body() say how the body that
 *    follows is delimited (RFC 9112 §6.3);
 *  - struct sc_h1_body decodes that body incrementally: Content-Length,
 *    chunked (with trailers), close-delimited, or a tunnel.
 * sc_h1_find_head() looks for the next plausible start line after a capture
 * gap or when a capture joins a connection in the middle.
 *
 * Pairing requests with responses, pipelining and protocol switches are the
 * caller's (the connection state machine's) business.
 *
 * Nothing here allocates, prints, exits or keeps global state.  Every input
 * may be split at any byte: the results (fields, decoded bytes, trailers,
 * errors and their messages) do not depend on where the splits fall.
 *
 * Offsets in diagnostics (diag->offset and "at offset N" in diag->msg) are
 * relative to the first byte of the head (for sc_h1_parse_head) or of the body
 * (for the body decoder, counting wire bytes: chunk framing included); the
 * caller adds the stream offset where that head or body began.
 */
#ifndef SC_HTTP1_H
#define SC_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/sc_err.h"
#include "formats/sc_rd.h"

/* Caps.  Every value is a maximum; going over it is SC_ETOOBIG. */
#define SC_H1_MAX_LINE 8192          /* request line or status line, its CRLF or LF included */
#define SC_H1_MAX_HEAD 65536         /* whole head: empty lines before it, start line, fields, blank line */
#define SC_H1_MAX_HEADERS 128        /* header fields in one head */
#define SC_H1_MAX_EMPTY_LINES 16     /* empty lines skipped before a start line (RFC 9112 §2.2); SC_EPROTO beyond */
#define SC_H1_MAX_CHUNK_LINE 1024    /* chunk-size line, extensions and CRLF included */
#define SC_H1_MAX_CHUNK_DIGITS 16    /* hex digits of a chunk size (so it always fits in 64 bits) */
#define SC_H1_MAX_TRAILERS 64        /* trailer fields after the last chunk */
#define SC_H1_MAX_TRAILER_LEN 8192   /* trailer section, its final blank line included */
#define SC_H1_MAX_CONTENT_LENGTH ((int64_t)1 << 62)

/* One field line.  `name` is the field name as sent (a non-empty token;
 * compare it case-insensitively); `value` is the field value with leading and
 * trailing SP/HTAB removed (may be empty).  Both are views into the buffer
 * given to the call that produced them. */
struct sc_h1_header {
	struct sc_view name, value;
};

struct sc_h1_head {
	bool request;                   /* as asked by the caller */
	struct sc_view method, target;  /* requests; the method is case-sensitive (RFC 9110 §9.1) */
	int status;                     /* responses: 100..999 */
	struct sc_view reason;          /* responses (may be empty) */
	int minor;                      /* HTTP/1.<minor>: 0 or 1 */
	size_t nheaders;
	struct sc_h1_header headers[SC_H1_MAX_HEADERS]; /* in wire order, duplicates kept */
	size_t head_len;                /* bytes of the whole head, leading empty lines and blank line included */

	/* Framing facts from the header fields (RFC 9112 §6). */
	int64_t content_length;         /* -1 when absent; kept even when Transfer-Encoding overrides it */
	bool chunked;                   /* Transfer-Encoding is present and its final coding is chunked */
	bool te_other;                  /* Transfer-Encoding is present and its final coding is not chunked */
	bool te_and_cl;                 /* both Transfer-Encoding and Content-Length: TE wins; RFC 9112 §6.1 has
	                                   the connection closed after this message */

	/* Connection (RFC 9110 §7.6.1) options, matched case-insensitively in every Connection field. */
	bool conn_close, conn_keep_alive;
	bool upgrade;                   /* Connection lists "upgrade" AND an Upgrade field is present */
	struct sc_view upgrade_proto;   /* value of the first Upgrade field ("h2c", "websocket"), else empty */
	bool expect_continue;           /* an Expect field lists 100-continue (case-insensitive) */

	/* Values of the first field of each name (empty view, p == NULL, when absent). */
	struct sc_view host, content_type, content_encoding;
};

/* Parses a message head from buf[0..len) (borrowed).  `request` says whether
 * a request or a response head is expected.
 *
 * Up to SC_H1_MAX_EMPTY_LINES empty lines (CRLF or LF) before the start line
 * are skipped and counted in head_len (RFC 9112 §2.2: some clients send a
 * CRLF after a POST body).  Lines may end in CRLF or a bare LF.
 *
 * Returns:
 *   > 0          the whole head is there: the value is h->head_len; *h is
 *                filled (OUT) and its views point into buf, valid as long as
 *                buf is;
 *   SC_EAGAIN    more bytes are needed (never when len >= SC_H1_MAX_HEAD);
 *   SC_EPROTO    the bytes are not a valid head, or the framing fields are
 *                invalid (conflicting Content-Length values, a request whose
 *                Transfer-Encoding does not end in chunked);
 *   SC_ETOOBIG   a cap above was exceeded (start line, head, field count,
 *                Content-Length over 2^62).
 * On SC_EAGAIN and errors *h is unspecified.  `diag` (may be NULL) gets a
 * message saying what was expected where, e.g.
 *   "HTTP/1 request line at offset 3: expected SP after the method"
 *   "HTTP/1 header at offset 57: no colon in the header field"
 *   "HTTP/1 head over 65536 bytes"
 *   "HTTP/1 response: conflicting Content-Length values".
 *
 * Incremental use: when the call returns SC_EAGAIN, call it again on the same
 * bytes followed by new ones, passing the previous `len` as `last_len` (0 on
 * the first call).  Only the new bytes (from last_len - 3 on) are searched for
 * the end of the head, so feeding a growing buffer byte by byte costs O(n) in
 * all, not O(n^2) (picohttpparser's last_len).  Errors in the first 64 bytes
 * of the start line are reported as soon as they arrive, so that a stream
 * that is not HTTP/1 (TLS, the HTTP/2 preface) is rejected at once; other
 * errors, when the head is complete or a cap is reached.  Either way the
 * error and its message are those a single call on the whole head gives.
 *
 * Framing fields are interpreted as RFC 9112 §6 says, leniently where a
 * passive observer loses nothing: chunked is honoured in HTTP/1.0 messages
 * too; a Content-Length list of identical values counts as one value. */
int sc_h1_parse_head(const uint8_t *buf, size_t len, size_t last_len, bool request, struct sc_h1_head *h,
		     struct sc_diag *diag);

/* Whether buf[0..len) (borrowed, len > 0) holds nothing but up to
 * SC_H1_MAX_EMPTY_LINES empty lines (CRLF or LF; a last CR without its LF
 * counts as the start of one): the empty lines RFC 9112 §2.2 lets a recipient
 * ignore before a start line.  At the end of a stream they are not a message
 * cut short. */
bool sc_h1_only_empty_lines(const uint8_t *buf, size_t len);

/* Whether the connection stays open after this message (RFC 9112 §9.3):
 * "close" ends it; HTTP/1.1 persists by default; HTTP/1.0 only with
 * "keep-alive". */
bool sc_h1_persistent(const struct sc_h1_head *h);

/* How a message body is delimited (RFC 9112 §6.3). */
enum sc_h1_body_kind {
	SC_H1_BODY_NONE,    /* no body: the next message starts right after the head */
	SC_H1_BODY_LENGTH,  /* exactly *length (> 0) bytes */
	SC_H1_BODY_CHUNKED, /* chunked transfer coding, ending with the last chunk and trailers */
	SC_H1_BODY_CLOSE,   /* everything until the connection closes (responses only) */
	SC_H1_BODY_TUNNEL,  /* the connection is no longer HTTP/1: 101 or a 2xx answer to CONNECT */
};

/* "none", "length", "chunked", "close", "tunnel" ("?" for other values). */
const char *sc_h1_body_kind_name(enum sc_h1_body_kind kind);

/* The body of a request parsed by sc_h1_parse_head(): chunked; Content-Length
 * (0 gives NONE); otherwise NONE (HTTP/1.0 and 1.1 alike: a request without
 * either has no body).  *length (OUT, may be NULL) is the length for LENGTH,
 * else 0. */
enum sc_h1_body_kind sc_h1_request_body(const struct sc_h1_head *req, uint64_t *length);

/* The body of a response.  `req_method` is the method of the request it
 * answers (borrowed; an empty view when unknown, e.g. when the capture joined
 * the connection mid-stream).  In order:
 *   101 -> TUNNEL; other 1xx -> NONE (an interim response: the final one
 *   follows for the same request); HEAD -> NONE; CONNECT + 2xx -> TUNNEL;
 *   204, 304 -> NONE; chunked -> CHUNKED; another Transfer-Encoding -> CLOSE;
 *   Content-Length (0 gives NONE) -> LENGTH; else CLOSE.
 * *length (OUT) as for requests. */
enum sc_h1_body_kind sc_h1_response_body(const struct sc_h1_head *resp, struct sc_view req_method,
					 uint64_t *length);

/* Decoded body bytes: p[0..n) is a view into the buffer given to
 * sc_h1_body_feed(), valid during the call.  Return 0 to go on; any other
 * value stops the feed (see sc_h1_body_feed). */
typedef int (*sc_h1_data_fn)(void *ctx, const uint8_t *p, size_t n);

/* Incremental body decoder, in caller storage.  The public fields may be read
 * at any time; `st` is the decoder's own. */
struct sc_h1_body {
	enum sc_h1_body_kind kind;
	uint64_t length;    /* LENGTH: the declared length; else 0 */
	uint64_t remaining; /* LENGTH: bytes left; CHUNKED: bytes left in the current chunk's data */
	uint64_t decoded;   /* body bytes delivered so far (de-chunked) */
	uint64_t missing;   /* body bytes lost in gaps absorbed by sc_h1_body_gap() */
	uint64_t wire;      /* wire bytes consumed so far, framing and gaps included */
	bool incomplete;    /* a gap fell inside the body: its bytes are not all known */
	size_t ntrailers;
	/* Valid after the call that finished the body (*done set), as views into
	 * that call's buf: copy them before releasing it. */
	struct sc_h1_header trailers[SC_H1_MAX_TRAILERS];
	struct {
		int state;          /* private: where in the body the decoder is */
		int err;            /* private: 0, or the sticky error */
		uint32_t line_len;  /* private: bytes of the current chunk-size line so far */
		uint32_t ndigits;   /* private: hex digits of the current chunk size so far */
		size_t tr_scanned;  /* private: bytes of the trailer section already searched for its end */
	} st;
};

/* Starts decoding a body of `kind` (from sc_h1_request_body() or
 * sc_h1_response_body()); `length` is used for LENGTH only. */
void sc_h1_body_init(struct sc_h1_body *b, enum sc_h1_body_kind kind, uint64_t length);

/* Feeds wire bytes buf[0..len) (borrowed for the call).  Decoded body bytes
 * go to on_data (may be NULL: they are only counted).  Returns the number of
 * bytes consumed (>= 0) and sets *done (OUT) when the body has ended: the
 * bytes after it belong to the next message.
 *
 * Without *done, everything is consumed (up to INT_MAX bytes per call),
 * except inside the trailer section of a chunked body while that section is
 * not complete: trailers are delivered as views into one buffer, so the
 * decoder stops at the start of the section and the caller keeps the
 * unconsumed bytes and presents them again followed by new ones (the decoder
 * relies on this to search only the new bytes).  Chunk-size lines are
 * consumed byte by byte and never need presenting again.
 *
 * NONE, a LENGTH body with nothing left, and a finished body report *done
 * with 0 bytes consumed (a call with len 0 is enough).  CLOSE and TUNNEL
 * bodies consume everything and end only at sc_h1_body_finish().
 *
 * Errors:
 *   SC_EPROTO   "HTTP/1 chunked body at offset N: expected a hex chunk size",
 *               "...: expected CRLF after the chunk data", a bad trailer...
 *   SC_ETOOBIG  a chunk-size line over SC_H1_MAX_CHUNK_LINE, a chunk size of
 *               more than 16 hex digits, a trailer section over
 *               SC_H1_MAX_TRAILER_LEN or with more than SC_H1_MAX_TRAILERS
 *               fields;
 *   the value returned by on_data if negative, SC_ELIMIT if positive.
 * An error is sticky: later calls return it again (with a message saying the
 * decoder already failed).  The bytes delivered before an error stay valid;
 * `decoded` and `wire` count them. */
int sc_h1_body_feed(struct sc_h1_body *b, const uint8_t *buf, size_t len, sc_h1_data_fn on_data, void *ctx,
		    bool *done, struct sc_diag *diag);

/* Whether the body has ended (the last feed set *done, or NONE). */
bool sc_h1_body_done(const struct sc_h1_body *b);

/* The stream ended (the connection closed).  Returns 0 when the body ended
 * properly: a finished body, NONE, CLOSE and TUNNEL; otherwise SC_ETRUNC with
 * "HTTP/1 body truncated: 1200 of 5000 bytes",
 * "HTTP/1 chunked body truncated inside a chunk", or the sticky error.  The
 * decoder takes no more bytes afterwards. */
int sc_h1_body_finish(struct sc_h1_body *b, struct sc_diag *diag);

/* n bytes of the stream are missing (a capture gap) at the current position.
 * The gap is absorbed, keeping the framing in sync, when it lies inside body
 * data: a LENGTH body with remaining >= n, a chunked body inside a chunk's data
 * with n <= remaining, or a CLOSE or TUNNEL body (any n).  Then remaining
 * (LENGTH, CHUNKED) goes down by n, missing and wire go up by n, incomplete is
 * set, and 0 is returned.  Otherwise (the gap covers framing or the end of the
 * body) the sync is lost: SC_EPROTO with a message, and the decoder fails (the
 * caller resynchronises, e.g. with sc_h1_find_head()).  n == 0 is a no-op. */
int sc_h1_body_gap(struct sc_h1_body *b, uint64_t n, struct sc_diag *diag);

/* Where the next message head may start in buf[0..len) (borrowed): the offset
 * of the first complete, plausible start line that begins at offset 0 or right
 * after a LF, or -1 when there is none.
 *   request:  a method of 3 to 20 characters from A-Z, '-', '_', SP, a
 *             request-target (no SP or CTL), SP, "HTTP/1.0" or "HTTP/1.1",
 *             then CRLF or LF;
 *   response: "HTTP/1.0" or "HTTP/1.1", SP, a 3-digit status code from 100 to
 *             999, then SP, CR or LF, and the line's LF.
 * The line must fit in SC_H1_MAX_LINE.  A line cut by the end of buf is not
 * reported: keep the bytes after buf's last LF and search again when more
 * arrive.  A plausible line is no promise: if sc_h1_parse_head() then fails,
 * search again from the offset after it. */
long sc_h1_find_head(const uint8_t *buf, size_t len, bool request);

#endif
