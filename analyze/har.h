/* har.h - the transactions of a sockcap database as a HAR 1.2 log.
 *
 * HAR 1.2: http://www.softwareishard.com/blog/har-12-spec/.  One entry per
 * transaction (docs/schema.md), ordered by the time of its first byte.
 *
 * Which connections (enum sc_har_roles, default SC_HAR_ROLES_AUTO): an .skc
 * capture of a TCP connection whose two ends are both on the recorded host
 * holds it twice, once per socket (role 'client' and role 'server'), each
 * with its own copy of every exchange.  AUTO exports each exchange once: the
 * transactions of a 'server' connection are left out when the same capture
 * has a 'client' connection that mirrors it -- same address family, its local
 * address and port equal to the server's remote ones and the other way round
 * (an IPv4-mapped IPv6 address "::ffff:a.b.c.d" equals a.b.c.d), and the two
 * sockets' lifetimes [open_ns, close_ns] overlap (so a later connection that
 * reuses the port pair is not taken for it).  The client side is kept
 * because it is what a browser's HAR shows.  Everything else is exported:
 * pcap connections (role 'network', each held once), 'unknown', Unix
 * sockets (their endpoints do not tell connections apart) and server
 * sockets whose client was not recorded.
 *
 * What the log holds beyond the HAR fields, and how bytes become JSON:
 *  - Strings are the bytes on the wire.  Valid UTF-8 passes through; control
 *    characters, '"' and '\' are escaped; each byte that is not part of a
 *    valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing
 *    above U+10FFFF) is written as "\u00XX", the character with the byte's
 *    value (Latin-1).  Header objects that needed this carry "_latin1": true,
 *    so that a reader knows to map such characters back to bytes.
 *  - request.url: "scheme://authority" and the path.  The scheme defaults to
 *    "http"; the authority is :authority or Host, else the server's
 *    address:port.  Bytes a URI may not hold (controls, space, non-ASCII,
 *    "<>\^`{|}) are percent-encoded, so the url is always a valid URI.
 *  - queryString: split on '&', names and values percent-decoded with '+' as
 *    a space (application/x-www-form-urlencoded); a name or value whose
 *    decoding fails (bad escape, or not UTF-8 after decoding) stays raw.
 *  - headers: every field in wire order (HTTP/2 pseudo-headers included);
 *    trailers go into "_trailers" of the request or response.  A field whose
 *    name or value was lost with the HPACK state (headers.hpack_unknown) is
 *    exported with the part that is known and "" for the unknown part, and
 *    "_unknown": true; nothing is invented.
 *  - Bodies: "text" when the message's media type is textual (text/..., and
 *    subtypes ending in json, xml, javascript, ecmascript, yaml, csv,
 *    x-www-form-urlencoded) and there is no Content-Encoding, and the bytes
 *    are valid UTF-8 (a sequence cut by the end of a truncated body is
 *    dropped); else the bytes in base64 (RFC 4648) with "encoding":
 *    "base64".  A body shorter than its full length has "comment": "cut at N
 *    of M bytes".  content.size is the full decoded length (content codings
 *    such as gzip are not undone; "_contentEncoding" names them).
 *  - timings: send, wait and receive are the intervals between the first and
 *    last byte of the request and of the response, made monotonic (an
 *    interval that would be negative, e.g. a response that began before the
 *    request ended, is 0 and the next one starts later); unknown ones are 0,
 *    and time is their sum.  blocked, dns, connect and ssl are -1.
 *  - Custom fields: _transactionId, _streamId (HTTP/2), _pid, _comm, _role,
 *    _complete, _truncated, _error, _headersIncomplete, and where set
 *    _interimStatus, _rstCode, _promisedBy, _grpcStatus, _grpcMessage.
 *  - Redaction (opts.redact): the values of Authorization,
 *    Proxy-Authorization, Cookie, Set-Cookie, of every field the HPACK
 *    encoder sent as never-indexed, of every field whose name is unknown, and
 *    of each name in opts.redact_headers (ASCII case-insensitive) become
 *    "REDACTED", in headers and trailers; the cookies parsed from a redacted
 *    Cookie or Set-Cookie keep their names and get "REDACTED" as value, and
 *    redirectURL and _grpcMessage follow Location and grpc-message.  The url
 *    and queryString are not redacted.
 */
#ifndef SC_HAR_H
#define SC_HAR_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/sc_err.h"

/* opts.max_body when the bodies are exported as the database holds them. */
#define SC_HAR_NO_CAP UINT64_MAX

enum sc_har_roles {
	SC_HAR_ROLES_AUTO = 0, /* each exchange once (see above) */
	SC_HAR_ROLES_ALL,      /* every connection */
	SC_HAR_ROLES_CLIENT,   /* only connections with role = 'client' */
	SC_HAR_ROLES_SERVER,   /* role = 'server' */
	SC_HAR_ROLES_NETWORK,  /* role = 'network' (pcaps) */
};

struct sc_har_opts {
	uint64_t max_body;                  /* body bytes per message; SC_HAR_NO_CAP: all that is stored */
	bool redact;
	const char *const *redact_headers;  /* borrowed; extra field names to redact (with redact) */
	size_t n_redact_headers;
	enum sc_har_roles roles;
};

struct sc_har_stats {
	uint64_t entries;          /* transactions written */
	uint64_t skipped;          /* transactions left out by the role rule */
	uint64_t redacted;         /* header values replaced by REDACTED */
	uint64_t unknown_headers;  /* fields exported with "_unknown": true */
	uint64_t bodies_cut;       /* bodies with "cut at N of M bytes" */
	uint64_t latin1_bytes;     /* bytes written as \u00XX because they were not UTF-8 */
	bool input_lossy;          /* a capture in the database lost data, is damaged or has anomalies */
};

/* Write every selected transaction of `db` (a sockcap database, borrowed) as
 * one HAR 1.2 JSON document to `out`.  `st` (may be NULL) gets the counts.
 * `o` is required; the strings it points to are borrowed for the call.
 * Returns 0, or with `diag`: -EIO when SQLite fails, the write's -errno
 * (ferror(out) is then set) when writing `out` fails, -ENOMEM, -EINVAL for an
 * unknown o->roles.  On error `out` holds an incomplete document. */
int sc_har_write(sqlite3 *db, FILE *out, const struct sc_har_opts *o, struct sc_har_stats *st,
		 struct sc_diag *diag);

/* ---- Building blocks, exported for the unit tests ---- */

/* Write p[0..len) as a JSON string literal with its quotes, as described
 * above (valid UTF-8 through, escapes, other bytes as \u00XX).  Returns the
 * number of bytes written as \u00XX because they were not valid UTF-8.
 * Errors of `out` are left in ferror(out). */
size_t sc_har_json_str(FILE *out, const void *p, size_t len);

/* Whether p[0..len) is valid UTF-8 (RFC 3629).  With `tail` non-NULL, an
 * incomplete but so far valid sequence in the last bytes is allowed and
 * *tail gets its length (0..3); with `tail` NULL it makes the input invalid. */
bool sc_har_utf8_valid(const void *p, size_t len, size_t *tail);

/* Base64 (RFC 4648 §4, with '=' padding) of src[0..len) into dst, which must
 * hold SC_HAR_BASE64_LEN(len) bytes; no terminating NUL.  Returns the number
 * of characters written. */
#define SC_HAR_BASE64_LEN(n) ((((n) + 2) / 3) * 4)
size_t sc_har_base64(char *dst, const void *src, size_t len);

#endif
