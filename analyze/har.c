/* har.c - HAR 1.2 export of a sockcap database (contract and choices in har.h). */
#include "config.h"

#include "analyze/codec.h"
#include "analyze/har.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- UTF-8, JSON strings, base64 ------------------------------------------------ */

/* The sequence at p[0..n), n >= 1: its length (1..4) when valid, 0 when p[0]
 * cannot start a valid sequence here, or -n when p[0..n) is the valid start
 * of a sequence that the end of the input cuts.  RFC 3629 §4 (Unicode table
 * 3-7): only the second byte has a narrower range, which is what rules out
 * overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90..BF, F5..FF). */
static int utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	int need;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return -i;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

bool sc_har_utf8_valid(const void *ptr, size_t len, size_t *tail)
{
	const uint8_t *p = ptr;
	size_t i = 0;

	while (i < len) {
		int k = utf8_seq(p + i, len - i);

		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		if (k < 0 && tail) {
			*tail = len - i;
			return true;
		}
		return false;
	}
	if (tail)
		*tail = 0;
	return true;
}

size_t sc_har_json_str(FILE *out, const void *ptr, size_t len)
{
	const uint8_t *p = ptr;
	size_t i = 0, start = 0, latin1 = 0;

	fputc('"', out);
	while (i < len) {
		uint8_t c = p[i];
		char esc[8];
		int k;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_seq(p + i, len - i)) > 0) {
			i += (size_t)k;
			continue;
		}
		if (i > start)
			fwrite(p + start, 1, i - start, out);
		switch (c) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default:
			/* A control character, DEL, or a byte outside any valid
			 * sequence: the latter becomes U+0080..U+00FF (Latin-1) so
			 * that no byte is lost and the output stays UTF-8. */
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			fputs(esc, out);
			if (c >= 0x80)
				latin1++;
		}
		start = ++i;
	}
	if (i > start)
		fwrite(p + start, 1, i - start, out);
	fputc('"', out);
	return latin1;
}

static const char b64_alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sc_har_base64(char *dst, const void *src, size_t len)
{
	const uint8_t *s = src;
	size_t o = 0, i = 0;

	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		dst[o++] = b64_alphabet[v >> 18];
		dst[o++] = b64_alphabet[(v >> 12) & 63];
		dst[o++] = b64_alphabet[(v >> 6) & 63];
		dst[o++] = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		dst[o++] = b64_alphabet[v >> 18];
		dst[o++] = b64_alphabet[(v >> 12) & 63];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		dst[o++] = b64_alphabet[v >> 18];
		dst[o++] = b64_alphabet[(v >> 12) & 63];
		dst[o++] = b64_alphabet[(v >> 6) & 63];
		dst[o++] = '=';
	}
	return o;
}

/* A quoted base64 string, encoded through a fixed buffer (bodies may be large). */
static void base64_str(FILE *out, const uint8_t *p, size_t len)
{
	char buf[SC_HAR_BASE64_LEN(3 * 1024)];

	fputc('"', out);
	for (size_t off = 0; off < len;) {
		size_t n = len - off < 3 * 1024 ? len - off : 3 * 1024;

		fwrite(buf, 1, sc_har_base64(buf, p + off, n), out);
		off += n;
	}
	fputc('"', out);
}

/* ---- A pretty-printing JSON writer --------------------------------------------------- */

/* Nesting is fixed by the HAR layout (at most 7 levels); the bit masks hold
 * per level whether nothing was written yet and whether it is one line. */
#define JW_MAX_DEPTH 16

struct jw {
	FILE *out;
	int depth;
	uint32_t empty;   /* bit d: the container at depth d has no member yet */
	uint32_t compact; /* bit d: the container at depth d is written on one line */
	size_t latin1;    /* bytes written as \u00XX so far */
};

static void jw_indent(struct jw *w)
{
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* Before a member or an element of the current container. */
static void jw_sep(struct jw *w)
{
	uint32_t bit = 1u << w->depth;

	if (w->depth == 0)
		return;
	if (!(w->empty & bit))
		fputc(',', w->out);
	if (w->compact & bit) {
		if (!(w->empty & bit))
			fputc(' ', w->out);
	} else {
		jw_indent(w);
	}
	w->empty &= ~bit;
}

static void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	if (key) {
		w->latin1 += sc_har_json_str(w->out, key, strlen(key));
		fputs(": ", w->out);
	}
}

static void jw_open(struct jw *w, const char *key, char c, bool compact)
{
	jw_key(w, key);
	fputc(c, w->out);
	w->depth++;
	assert(w->depth < JW_MAX_DEPTH); /* the HAR layout below is fixed */
	w->empty |= 1u << w->depth;
	if (compact || (w->compact & (1u << (w->depth - 1))))
		w->compact |= 1u << w->depth;
	else
		w->compact &= ~(1u << w->depth);
}

static void jw_close(struct jw *w, char c)
{
	uint32_t bit = 1u << w->depth;
	bool multi_line = !(w->empty & bit) && !(w->compact & bit);

	w->depth--;
	if (multi_line)
		jw_indent(w);
	fputc(c, w->out);
	if (w->depth == 0)
		fputc('\n', w->out);
}

static size_t jw_str(struct jw *w, const char *key, const void *p, size_t len)
{
	size_t n;

	jw_key(w, key);
	n = sc_har_json_str(w->out, p, len);
	w->latin1 += n;
	return n;
}

static void jw_cstr(struct jw *w, const char *key, const char *s)
{
	jw_str(w, key, s, strlen(s));
}

static void jw_int(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	fprintf(w->out, "%" PRId64, v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->out);
}

/* Nanoseconds as milliseconds with every digit (exact decimal), or -1. */
static void jw_ms(struct jw *w, const char *key, int64_t ns)
{
	jw_key(w, key);
	if (ns < 0)
		fputs("-1", w->out);
	else
		fprintf(w->out, "%" PRId64 ".%06" PRId64, ns / 1000000, ns % 1000000);
}

/* ---- The export ---------------------------------------------------------------------- */

struct bytes {
	const uint8_t *p; /* NULL: SQL NULL */
	size_t len;
};

/* Borrowed until the statement steps, resets or is finalized. */
static struct bytes col_bytes(sqlite3_stmt *s, int i)
{
	struct bytes b = { NULL, 0 };

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return b;
	/* The blob accessor returns TEXT as stored, with no conversion and
	 * with embedded NULs intact. */
	b.p = sqlite3_column_blob(s, i);
	b.len = (size_t)sqlite3_column_bytes(s, i);
	if (!b.p)
		b.p = (const uint8_t *)"";
	return b;
}

static bool col_null(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL;
}

static bool ieq(struct bytes b, const char *s)
{
	size_t n = strlen(s);

	if (!b.p || b.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = b.p[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]))
			return false;
	}
	return true;
}

static void trim(struct bytes *b)
{
	while (b->len && (b->p[0] == ' ' || b->p[0] == '\t')) {
		b->p++;
		b->len--;
	}
	while (b->len && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t'))
		b->len--;
}

/* Split `*rest` at the first `sep`: returns the part before, leaves the part after. */
static struct bytes split(struct bytes *rest, uint8_t sep, bool *found)
{
	struct bytes head = *rest;
	const uint8_t *q = rest->len ? memchr(rest->p, sep, rest->len) : NULL;

	*found = q != NULL;
	if (!q) {
		rest->p += rest->len;
		rest->len = 0;
		return head;
	}
	head.len = (size_t)(q - rest->p);
	rest->len -= head.len + 1;
	rest->p = q + 1;
	return head;
}

enum {
	TX_ID, TX_CONN, TX_STREAM, TX_VERSION, TX_METHOD, TX_SCHEME, TX_AUTHORITY, TX_PATH, TX_STATUS, TX_REASON,
	TX_INTERIM, TX_REQ_START, TX_REQ_END, TX_RESP_START, TX_RESP_END, TX_REQ_HDR, TX_REQ_BODY, TX_RESP_HDR,
	TX_RESP_BODY, TX_CTYPE, TX_CENC, TX_COMPLETE, TX_TRUNC, TX_ERROR, TX_HDR_INCOMPLETE, TX_RST, TX_PROMISED,
	TX_GRPC_STATUS, TX_GRPC_MSG, TX_ROLE, TX_PID, TX_COMM, TX_FAMILY, TX_LADDR, TX_LPORT, TX_RADDR, TX_RPORT,
	TX_OPEN,
};

#define TX_COLUMNS \
	"t.id, t.connection_id, t.stream_id, t.http_version, t.method, t.scheme, t.authority, t.path, t.status, " \
	"t.reason, t.interim_status, t.req_start_ns, t.req_end_ns, t.resp_start_ns, t.resp_end_ns, " \
	"t.req_header_bytes, t.req_body_bytes, t.resp_header_bytes, t.resp_body_bytes, t.content_type, " \
	"t.content_encoding, t.complete, t.truncated, t.error, t.headers_incomplete, t.rst_code, t.promised_by, " \
	"t.grpc_status, t.grpc_message, c.role, c.pid, c.comm, c.family, c.local_addr, c.local_port, " \
	"c.remote_addr, c.remote_port, c.open_ns"

/* "::ffff:a.b.c.d" is the IPv4 address a.b.c.d seen by an IPv6 socket. */
#define V4(x) "(CASE WHEN " x " LIKE '::ffff:%.%' THEN substr(" x ", 8) ELSE " x " END)"

/* The server sides of connections whose client side the same capture holds
 * (har.h: SC_HAR_ROLES_AUTO).  A join rather than a correlated EXISTS, so
 * that SQLite evaluates it once, with an automatic index on the ports,
 * instead of scanning the connections again for every transaction. */
#define MIRRORED \
	"SELECT s.id FROM connections s JOIN connections m ON m.capture_id = s.capture_id " \
	"AND m.local_port = s.remote_port AND m.remote_port = s.local_port " \
	"WHERE s.role = 'server' AND m.role = 'client' " \
	"AND s.family IN ('ipv4', 'ipv6') AND m.family IN ('ipv4', 'ipv6') " \
	"AND " V4("m.local_addr") " = " V4("s.remote_addr") " AND " V4("m.remote_addr") " = " V4("s.local_addr") " " \
	"AND (m.open_ns IS NULL OR s.close_ns IS NULL OR m.open_ns <= s.close_ns) " \
	"AND (s.open_ns IS NULL OR m.close_ns IS NULL OR s.open_ns <= m.close_ns)"

static const char *const role_filter[] = {
	[SC_HAR_ROLES_AUTO] = "c.id NOT IN (" MIRRORED ")",
	[SC_HAR_ROLES_ALL] = "1",
	[SC_HAR_ROLES_CLIENT] = "c.role = 'client'",
	[SC_HAR_ROLES_SERVER] = "c.role = 'server'",
	[SC_HAR_ROLES_NETWORK] = "c.role = 'network'",
};

struct har {
	sqlite3 *db;
	const struct sc_har_opts *o;
	struct sc_har_stats *st;
	struct sc_diag *diag;
	struct jw w;
	sqlite3_stmt *hdr;   /* the fields of one message part, in order */
	sqlite3_stmt *named; /* the fields of one message head with a given name */
	sqlite3_stmt *body;
	int err;             /* sticky: the first error */
};

static int db_fail(struct har *h, const char *what)
{
	if (!h->err)
		h->err = sc_diag_set(h->diag, -EIO, 0, "sqlite: %s: %s", what, sqlite3_errmsg(h->db));
	return h->err;
}

static int oom(struct har *h)
{
	if (!h->err)
		h->err = sc_diag_set(h->diag, -ENOMEM, 0, "HAR export: out of memory");
	return h->err;
}

/* Step `s`: 1 for a row, 0 when done, <0 after an error (recorded). */
static int step(struct har *h, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(h, what);
}

static int prepare(struct har *h, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(h->db, sql, -1, s, NULL) != SQLITE_OK)
		return db_fail(h, "prepare");
	return 0;
}

static void bind_part(sqlite3_stmt *s, int64_t txid, const char *dir)
{
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, txid);
	sqlite3_bind_text(s, 2, dir, -1, SQLITE_STATIC);
}

static bool redacted_name(const struct har *h, struct bytes name)
{
	static const char *const always[] = { "authorization", "proxy-authorization", "cookie", "set-cookie" };

	if (!h->o->redact)
		return false;
	if (!name.p)
		return true; /* the value might be any of them */
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (ieq(name, always[i]))
			return true;
	for (size_t i = 0; i < h->o->n_redact_headers; i++)
		if (ieq(name, h->o->redact_headers[i]))
			return true;
	return false;
}

static bool redacted_cname(const struct har *h, const char *name)
{
	struct bytes b = { (const uint8_t *)name, strlen(name) };

	return redacted_name(h, b);
}

static const char redacted_text[] = "REDACTED";

/* One header object from the current row of h->hdr or h->named
 * (columns: name, value, never_indexed, hpack_unknown). */
static void write_header(struct har *h, sqlite3_stmt *s)
{
	struct bytes name = col_bytes(s, 0), value = col_bytes(s, 1);
	bool unknown = sqlite3_column_int(s, 3) || !name.p || !value.p;
	bool redact = redacted_name(h, name) || (h->o->redact && sqlite3_column_int(s, 2));
	size_t latin1 = 0;

	jw_open(&h->w, NULL, '{', true);
	latin1 += jw_str(&h->w, "name", name.p ? name.p : (const uint8_t *)"", name.len);
	if (redact && value.p) {
		jw_cstr(&h->w, "value", redacted_text);
		h->st->redacted++;
	} else {
		latin1 += jw_str(&h->w, "value", value.p ? value.p : (const uint8_t *)"", value.len);
	}
	if (unknown) {
		jw_bool(&h->w, "_unknown", true);
		h->st->unknown_headers++;
	}
	if (latin1)
		jw_bool(&h->w, "_latin1", true);
	jw_close(&h->w, '}');
}

/* "headers" or "_trailers" of one message: an array of header objects.
 * Trailers are written only when there are some. */
static int write_headers(struct har *h, int64_t txid, const char *dir, bool trailers)
{
	int rc;
	bool any = false;

	bind_part(h->hdr, txid, dir);
	sqlite3_bind_int(h->hdr, 3, trailers);
	while ((rc = step(h, h->hdr, "headers")) > 0) {
		if (!any)
			jw_open(&h->w, trailers ? "_trailers" : "headers", '[', false);
		any = true;
		write_header(h, h->hdr);
	}
	if (!any && !trailers) {
		jw_open(&h->w, "headers", '[', false);
		any = true;
	}
	if (any)
		jw_close(&h->w, ']');
	sqlite3_reset(h->hdr);
	return rc;
}

/* A copy of the value of the first field `lname` (lower case) in the head of
 * message `dir`; *out NULL when there is none. */
static int first_value(struct har *h, int64_t txid, const char *dir, const char *lname, char **out, size_t *len)
{
	int rc;

	*out = NULL;
	*len = 0;
	bind_part(h->named, txid, dir);
	sqlite3_bind_text(h->named, 3, lname, -1, SQLITE_STATIC);
	while ((rc = step(h, h->named, "headers")) > 0) {
		struct bytes v = col_bytes(h->named, 1);

		if (!v.p)
			continue;
		*out = malloc(v.len + 1);
		if (!*out) {
			rc = oom(h);
			break;
		}
		memcpy(*out, v.p, v.len);
		(*out)[v.len] = '\0';
		*len = v.len;
		break;
	}
	sqlite3_reset(h->named);
	return rc < 0 ? rc : 0;
}

/* ---- Cookies ---- */

/* An HTTP-date (RFC 9110 §5.6.7, and the two obsolete forms, and the
 * Netscape cookie form) as ISO 8601; false when it is none of them. */
static bool http_date_iso(struct bytes d, char *iso, size_t cap)
{
	static const char *const fmts[] = {
		"%a, %d %b %Y %H:%M:%S GMT", "%a, %d-%b-%Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
		"%a %b %d %H:%M:%S %Y",
	};
	char buf[64];

	if (d.len == 0 || d.len >= sizeof(buf) || memchr(d.p, '\0', d.len))
		return false;
	memcpy(buf, d.p, d.len);
	buf[d.len] = '\0';
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(buf, fmts[i], &tm);
		if (!end || *end)
			continue;
		time_t t = timegm(&tm);
		struct tm g;

		if (t == (time_t)-1 || !gmtime_r(&t, &g))
			continue;
		return strftime(iso, cap, "%Y-%m-%dT%H:%M:%S.000Z", &g) > 0;
	}
	return false;
}

/* "a=b" -> name a, value b; a part without '=' is a name with an empty value. */
static void name_value(struct bytes part, struct bytes *name, struct bytes *value)
{
	bool eq;

	*value = part;
	*name = split(value, '=', &eq);
	if (!eq)
		value->p = (const uint8_t *)"";
	trim(name);
	trim(value);
}

static void write_cookie_value(struct har *h, struct bytes value, bool redact)
{
	if (redact)
		jw_cstr(&h->w, "value", redacted_text);
	else
		jw_str(&h->w, "value", value.p, value.len);
}

/* Cookie: a=b; c=d (RFC 6265 §4.2) -> one cookie per pair. */
static void cookies_from_cookie(struct har *h, struct bytes v, bool redact)
{
	while (v.len) {
		bool more;
		struct bytes part = split(&v, ';', &more), name, value;

		trim(&part);
		if (!part.len)
			continue;
		name_value(part, &name, &value);
		jw_open(&h->w, NULL, '{', true);
		jw_str(&h->w, "name", name.p, name.len);
		write_cookie_value(h, value, redact);
		jw_close(&h->w, '}');
	}
}

/* Set-Cookie: a=b; Path=/; Domain=x; Expires=...; HttpOnly; Secure (RFC 6265 §5.2). */
static void cookie_from_set_cookie(struct har *h, struct bytes v, bool redact)
{
	bool more;
	struct bytes first = split(&v, ';', &more), name, value;

	name_value(first, &name, &value);
	jw_open(&h->w, NULL, '{', true);
	jw_str(&h->w, "name", name.p, name.len);
	write_cookie_value(h, value, redact);
	while (v.len) {
		struct bytes part = split(&v, ';', &more), an, av;
		char iso[40];

		name_value(part, &an, &av);
		if (ieq(an, "path")) {
			jw_str(&h->w, "path", av.p, av.len);
		} else if (ieq(an, "domain")) {
			jw_str(&h->w, "domain", av.p, av.len);
		} else if (ieq(an, "expires")) {
			if (http_date_iso(av, iso, sizeof(iso)))
				jw_cstr(&h->w, "expires", iso);
			else
				jw_str(&h->w, "_expires", av.p, av.len);
		} else if (ieq(an, "httponly")) {
			jw_bool(&h->w, "httpOnly", true);
		} else if (ieq(an, "secure")) {
			jw_bool(&h->w, "secure", true);
		}
	}
	jw_close(&h->w, '}');
}

/* "cookies": from Cookie fields of a request, or Set-Cookie of a response. */
static int write_cookies(struct har *h, int64_t txid, const char *dir)
{
	bool request = strcmp(dir, "request") == 0;
	int rc;

	jw_open(&h->w, "cookies", '[', false);
	bind_part(h->named, txid, dir);
	sqlite3_bind_text(h->named, 3, request ? "cookie" : "set-cookie", -1, SQLITE_STATIC);
	while ((rc = step(h, h->named, "cookies")) > 0) {
		struct bytes name = col_bytes(h->named, 0), v = col_bytes(h->named, 1);
		bool redact = redacted_name(h, name) || (h->o->redact && sqlite3_column_int(h->named, 2));

		if (!v.p)
			continue;
		if (request)
			cookies_from_cookie(h, v, redact);
		else
			cookie_from_set_cookie(h, v, redact);
	}
	sqlite3_reset(h->named);
	jw_close(&h->w, ']');
	return rc < 0 ? rc : 0;
}

/* ---- URLs and query strings ---- */

static bool uri_char(uint8_t c)
{
	/* RFC 3986 §2: unreserved, reserved, and '%' of existing escapes. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->failed = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_uri(struct buf *b, struct bytes s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (uri_char(c)) {
			buf_add(b, &c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_add(b, e, 3);
		}
	}
}

/* Percent-decode `s` with '+' as a space (application/x-www-form-urlencoded)
 * into `dst` (room for s.len bytes).  Returns the decoded length, or -1 when
 * an escape is malformed or the result is not UTF-8. */
static long form_decode(struct bytes s, uint8_t *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (s.len - i < 3 || sc_hexval(s.p[i + 1]) < 0 || sc_hexval(s.p[i + 2]) < 0)
				return -1;
			c = (uint8_t)(sc_hexval(s.p[i + 1]) << 4 | sc_hexval(s.p[i + 2]));
			i += 2;
		}
		dst[o++] = c;
	}
	return sc_har_utf8_valid(dst, o, NULL) ? (long)o : -1;
}

static void write_decoded(struct har *h, const char *key, struct bytes s, uint8_t *tmp)
{
	long n = form_decode(s, tmp);

	if (n >= 0)
		jw_str(&h->w, key, tmp, (size_t)n);
	else
		jw_str(&h->w, key, s.p, s.len);
}

/* name=value pairs separated by '&' (the query of a URL, or a form body), as
 * objects in the array opened by the caller. */
static int write_pairs(struct har *h, struct bytes q)
{
	uint8_t *tmp = malloc(q.len + 1);

	if (!tmp)
		return oom(h);
	while (q.len) {
		bool more, eq;
		struct bytes value = split(&q, '&', &more), name;

		if (!value.len)
			continue;
		name = split(&value, '=', &eq);
		jw_open(&h->w, NULL, '{', true);
		write_decoded(h, "name", name, tmp);
		write_decoded(h, "value", value, tmp);
		jw_close(&h->w, '}');
	}
	free(tmp);
	return 0;
}

static bool is_absolute_form(struct bytes path)
{
	/* scheme ":" "//" before any '/': RFC 3986 §3.1 (a scheme is a letter,
	 * then letters, digits, '+', '-' or '.'). */
	size_t i = 0;

	if (!path.len || !((path.p[0] | 0x20) >= 'a' && (path.p[0] | 0x20) <= 'z'))
		return false;
	while (i < path.len && path.p[i] != ':' && path.p[i] != '/')
		i++;
	return path.len - i >= 3 && memcmp(path.p + i, "://", 3) == 0;
}

/* ---- Bodies ---- */

static bool textual_mime(struct bytes m)
{
	static const char *const suffixes[] = {
		"json", "ndjson", "xml", "javascript", "ecmascript", "yaml", "csv", "x-www-form-urlencoded",
	};
	bool found;
	struct bytes type, sub;

	if (!m.p)
		return false;
	sub = split(&m, ';', &found);
	trim(&sub);
	type = split(&sub, '/', &found);
	if (!found)
		return false;
	if (ieq(type, "text"))
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);

		if (sub.len >= n) {
			struct bytes tail = { sub.p + sub.len - n, n };

			/* A structured suffix (RFC 6839: +json, +xml) or the subtype itself. */
			if (ieq(tail, suffixes[i]) && (sub.len == n || sub.p[sub.len - n - 1] == '+' ||
						       sub.p[sub.len - n - 1] == '-'))
				return true;
		}
	}
	return false;
}

static bool identity_coding(struct bytes enc)
{
	trim(&enc);
	return !enc.p || enc.len == 0 || ieq(enc, "identity");
}

/* "text" (or base64 "text" and "encoding") and the cut "comment" of one
 * body; returns whether the bytes were written as text and, in *pn, how many
 * were written.  `data` NULL: the database kept none of it. */
static bool write_body(struct har *h, struct bytes data, uint64_t length, bool textual, size_t *pn)
{
	size_t n = data.p ? data.len : 0, tail = 0;
	bool cut, text = false;
	char comment[96];

	if (n > h->o->max_body)
		n = (size_t)h->o->max_body;
	cut = n < length;
	if (data.p || length == 0) {
		if (textual && sc_har_utf8_valid(data.p, n, cut ? &tail : NULL)) {
			n -= tail; /* a character cut by the end of a truncated body */
			jw_str(&h->w, "text", data.p ? data.p : (const uint8_t *)"", n);
			text = true;
		} else {
			jw_key(&h->w, "text");
			base64_str(h->w.out, data.p, n);
			jw_cstr(&h->w, "encoding", "base64");
		}
	}
	if (cut) {
		snprintf(comment, sizeof(comment), "cut at %zu of %" PRIu64 " bytes", n, length);
		jw_cstr(&h->w, "comment", comment);
		h->st->bodies_cut++;
	}
	*pn = n;
	return text;
}

/* The body row of message `dir`: found (1), none (0), error (<0).  Its
 * columns stay valid until h->body is reset. */
static int body_row(struct har *h, int64_t txid, const char *dir, struct bytes *data, uint64_t *length)
{
	int rc;

	bind_part(h->body, txid, dir);
	rc = step(h, h->body, "bodies");
	if (rc > 0) {
		*data = col_bytes(h->body, 0);
		*length = (uint64_t)sqlite3_column_int64(h->body, 1);
	} else {
		data->p = NULL;
		data->len = 0;
		*length = 0;
	}
	return rc;
}

/* ---- Entries ---- */

static int64_t col_i64_or(sqlite3_stmt *s, int i, int64_t dflt)
{
	return col_null(s, i) ? dflt : sqlite3_column_int64(s, i);
}

static void write_request(struct har *h, sqlite3_stmt *t)
{
	int64_t id = sqlite3_column_int64(t, TX_ID);
	struct bytes method = col_bytes(t, TX_METHOD), scheme = col_bytes(t, TX_SCHEME);
	struct bytes authority = col_bytes(t, TX_AUTHORITY), path = col_bytes(t, TX_PATH);
	struct bytes version = col_bytes(t, TX_VERSION), role = col_bytes(t, TX_ROLE);
	struct buf url = { 0 };
	bool origin_form = !path.p || path.len == 0 || path.p[0] == '/';
	bool absolute = path.p && is_absolute_form(path);
	struct bytes query = { NULL, 0 };

	jw_open(&h->w, "request", '{', false);
	jw_str(&h->w, "method", method.p ? method.p : (const uint8_t *)"", method.len);

	if (absolute) {
		buf_uri(&url, path);
	} else {
		if (scheme.p && scheme.len)
			buf_uri(&url, scheme);
		else
			buf_add(&url, "http", 4);
		buf_add(&url, "://", 3);
		if (authority.p) {
			buf_uri(&url, authority);
		} else {
			/* The server's end: remote, unless this socket is the server. */
			bool server = role.p && ieq(role, "server");
			struct bytes addr = col_bytes(t, server ? TX_LADDR : TX_RADDR);
			int port_col = server ? TX_LPORT : TX_RPORT;
			bool v6 = addr.p && memchr(addr.p, ':', addr.len);
			char port[16];

			if (addr.p && !col_null(t, port_col)) {
				if (v6)
					buf_add(&url, "[", 1);
				buf_uri(&url, addr);
				if (v6)
					buf_add(&url, "]", 1);
				snprintf(port, sizeof(port), ":%d", sqlite3_column_int(t, port_col));
				buf_add(&url, port, strlen(port));
			}
		}
		if (origin_form && path.p)
			buf_uri(&url, path);
	}
	if (url.failed)
		oom(h);
	jw_str(&h->w, "url", url.p ? url.p : "", url.len);
	free(url.p);
	if (path.p && !origin_form && !absolute)
		jw_str(&h->w, "_target", path.p, path.len); /* CONNECT's authority-form, OPTIONS' "*" */
	jw_str(&h->w, "httpVersion", version.p ? version.p : (const uint8_t *)"", version.len);
	write_cookies(h, id, "request");
	write_headers(h, id, "request", false);
	write_headers(h, id, "request", true);

	jw_open(&h->w, "queryString", '[', false);
	if (path.p) {
		struct bytes rest = path;
		bool q, frag;

		split(&rest, '?', &q);
		if (q) {
			query = split(&rest, '#', &frag);
			write_pairs(h, query);
		}
	}
	jw_close(&h->w, ']');

	/* postData when the request had a body. */
	if (!col_null(t, TX_METHOD)) {
		struct bytes data;
		uint64_t length;
		int rc = body_row(h, id, "request", &data, &length);
		uint64_t body_bytes = (uint64_t)col_i64_or(t, TX_REQ_BODY, 0);

		if (rc > 0 || body_bytes > 0) {
			char *ctype = NULL, *cenc = NULL;
			size_t ctype_len = 0, cenc_len = 0, n = 0;
			struct bytes mt, enc;
			bool text;

			/* The body row's columns stay valid: these use h->named. */
			first_value(h, id, "request", "content-type", &ctype, &ctype_len);
			first_value(h, id, "request", "content-encoding", &cenc, &cenc_len);
			mt.p = (const uint8_t *)ctype;
			mt.len = ctype_len;
			enc.p = (const uint8_t *)cenc;
			enc.len = cenc_len;
			if (rc <= 0)
				length = body_bytes;
			jw_open(&h->w, "postData", '{', false);
			jw_str(&h->w, "mimeType", ctype ? ctype : "", ctype_len);
			text = write_body(h, data, length, textual_mime(mt) && identity_coding(enc), &n);
			jw_open(&h->w, "params", '[', false);
			if (text && n == length && mt.p) {
				struct bytes sub = mt;
				bool semi;
				struct bytes essence = split(&sub, ';', &semi);

				trim(&essence);
				if (ieq(essence, "application/x-www-form-urlencoded")) {
					struct bytes form = { data.p, n };

					write_pairs(h, form);
				}
			}
			jw_close(&h->w, ']');
			jw_close(&h->w, '}');
			free(ctype);
			free(cenc);
		}
		sqlite3_reset(h->body);
	}
	jw_int(&h->w, "headersSize", col_i64_or(t, TX_REQ_HDR, -1));
	jw_int(&h->w, "bodySize", col_i64_or(t, TX_REQ_BODY, -1));
	jw_close(&h->w, '}');
}

static void write_response(struct har *h, sqlite3_stmt *t)
{
	int64_t id = sqlite3_column_int64(t, TX_ID);
	bool seen = !col_null(t, TX_STATUS);
	struct bytes reason = col_bytes(t, TX_REASON), version = col_bytes(t, TX_VERSION);
	struct bytes ctype = col_bytes(t, TX_CTYPE), cenc = col_bytes(t, TX_CENC);
	char *location = NULL;
	size_t location_len = 0;

	jw_open(&h->w, "response", '{', false);
	jw_int(&h->w, "status", seen ? sqlite3_column_int64(t, TX_STATUS) : 0);
	jw_str(&h->w, "statusText", reason.p ? reason.p : (const uint8_t *)"", reason.len);
	jw_str(&h->w, "httpVersion", version.p ? version.p : (const uint8_t *)"", version.len);
	write_cookies(h, id, "response");
	write_headers(h, id, "response", false);
	write_headers(h, id, "response", true);

	jw_open(&h->w, "content", '{', false);
	if (seen) {
		struct bytes data;
		uint64_t length;
		int rc = body_row(h, id, "response", &data, &length);
		size_t n;

		if (rc <= 0)
			length = (uint64_t)col_i64_or(t, TX_RESP_BODY, 0);
		jw_int(&h->w, "size", (int64_t)length);
		jw_str(&h->w, "mimeType", ctype.p ? ctype.p : (const uint8_t *)"", ctype.len);
		if (!identity_coding(cenc))
			jw_str(&h->w, "_contentEncoding", cenc.p, cenc.len);
		write_body(h, data, length, textual_mime(ctype) && identity_coding(cenc), &n);
		sqlite3_reset(h->body);
	} else {
		jw_int(&h->w, "size", 0);
		jw_cstr(&h->w, "mimeType", "");
	}
	jw_close(&h->w, '}');

	first_value(h, id, "response", "location", &location, &location_len);
	if (location && redacted_cname(h, "location"))
		jw_cstr(&h->w, "redirectURL", redacted_text); /* it is the Location field's value */
	else
		jw_str(&h->w, "redirectURL", location ? location : "", location_len);
	free(location);
	jw_int(&h->w, "headersSize", col_i64_or(t, TX_RESP_HDR, -1));
	jw_int(&h->w, "bodySize", col_i64_or(t, TX_RESP_BODY, -1));
	jw_close(&h->w, '}');
}

static void iso_time(char *out, size_t cap, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	size_t n;

	if (ns < 0 || !gmtime_r(&s, &tm) || (n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, cap, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + n, cap - n, ".%03dZ", (int)(ns / 1000000 % 1000));
}

static void write_entry(struct har *h, sqlite3_stmt *t)
{
	int64_t req_start = col_i64_or(t, TX_REQ_START, -1), req_end = col_i64_or(t, TX_REQ_END, -1);
	int64_t resp_start = col_i64_or(t, TX_RESP_START, -1), resp_end = col_i64_or(t, TX_RESP_END, -1);
	int64_t t0, a, b, c;
	struct bytes role = col_bytes(t, TX_ROLE), family = col_bytes(t, TX_FAMILY);
	char when[40], conn[24];

	/* The first byte seen: the request's, or the response's when the
	 * request was not captured.  Then the ends of send, wait and receive,
	 * each no earlier than the previous one (har.h). */
	t0 = req_start >= 0 ? req_start : resp_start >= 0 ? resp_start : col_i64_or(t, TX_OPEN, 0);
	if (t0 < 0)
		t0 = 0;
	a = req_start >= 0 && req_end > t0 ? req_end : t0;
	b = resp_start > a ? resp_start : a;
	c = resp_end > b ? resp_end : b;

	jw_open(&h->w, NULL, '{', false);
	iso_time(when, sizeof(when), t0);
	jw_cstr(&h->w, "startedDateTime", when);
	jw_ms(&h->w, "time", c - t0);
	write_request(h, t);
	write_response(h, t);
	jw_open(&h->w, "cache", '{', true);
	jw_close(&h->w, '}');
	jw_open(&h->w, "timings", '{', true);
	jw_ms(&h->w, "blocked", -1);
	jw_ms(&h->w, "dns", -1);
	jw_ms(&h->w, "connect", -1);
	jw_ms(&h->w, "ssl", -1);
	jw_ms(&h->w, "send", a - t0);
	jw_ms(&h->w, "wait", b - a);
	jw_ms(&h->w, "receive", c - b);
	jw_close(&h->w, '}');
	if (family.p && (ieq(family, "ipv4") || ieq(family, "ipv6"))) {
		struct bytes addr = col_bytes(t, role.p && ieq(role, "server") ? TX_LADDR : TX_RADDR);

		if (addr.p)
			jw_str(&h->w, "serverIPAddress", addr.p, addr.len);
	}
	snprintf(conn, sizeof(conn), "%" PRId64, (int64_t)sqlite3_column_int64(t, TX_CONN));
	jw_cstr(&h->w, "connection", conn);
	jw_int(&h->w, "_transactionId", sqlite3_column_int64(t, TX_ID));
	if (!col_null(t, TX_STREAM))
		jw_int(&h->w, "_streamId", sqlite3_column_int64(t, TX_STREAM));
	if (!col_null(t, TX_PID))
		jw_int(&h->w, "_pid", sqlite3_column_int64(t, TX_PID));
	if (!col_null(t, TX_COMM)) {
		struct bytes comm = col_bytes(t, TX_COMM);

		jw_str(&h->w, "_comm", comm.p, comm.len);
	}
	jw_str(&h->w, "_role", role.p ? role.p : (const uint8_t *)"", role.len);
	jw_bool(&h->w, "_complete", sqlite3_column_int(t, TX_COMPLETE));
	jw_bool(&h->w, "_truncated", sqlite3_column_int(t, TX_TRUNC));
	jw_bool(&h->w, "_error", sqlite3_column_int(t, TX_ERROR));
	jw_bool(&h->w, "_headersIncomplete", sqlite3_column_int(t, TX_HDR_INCOMPLETE));
	if (!col_null(t, TX_INTERIM))
		jw_int(&h->w, "_interimStatus", sqlite3_column_int64(t, TX_INTERIM));
	if (!col_null(t, TX_RST))
		jw_int(&h->w, "_rstCode", sqlite3_column_int64(t, TX_RST));
	if (!col_null(t, TX_PROMISED))
		jw_int(&h->w, "_promisedBy", sqlite3_column_int64(t, TX_PROMISED));
	if (!col_null(t, TX_GRPC_STATUS))
		jw_int(&h->w, "_grpcStatus", sqlite3_column_int64(t, TX_GRPC_STATUS));
	if (!col_null(t, TX_GRPC_MSG)) {
		struct bytes m = col_bytes(t, TX_GRPC_MSG);

		if (redacted_cname(h, "grpc-message")) /* the trailer's value */
			jw_cstr(&h->w, "_grpcMessage", redacted_text);
		else
			jw_str(&h->w, "_grpcMessage", m.p, m.len);
	}
	jw_close(&h->w, '}');
}

static int count(struct har *h, const char *sql, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(h, sql, &s);

	if (rc == 0) {
		rc = step(h, s, "count");
		if (rc > 0) {
			*n = sqlite3_column_int64(s, 0);
			rc = 0;
		} else if (rc == 0) {
			rc = db_fail(h, "count");
		}
	}
	sqlite3_finalize(s);
	return rc;
}

int sc_har_write(sqlite3 *db, FILE *out, const struct sc_har_opts *o, struct sc_har_stats *st,
		 struct sc_diag *diag)
{
	struct sc_har_stats dummy;
	struct har h = { .db = db, .o = o, .st = st ? st : &dummy, .diag = diag, .w = { .out = out } };
	sqlite3_stmt *tx = NULL;
	char sql[2048];
	int64_t total = 0, lossy = 0;
	int rc;

	memset(h.st, 0, sizeof(*h.st));
	if ((unsigned)o->roles >= sizeof(role_filter) / sizeof(role_filter[0]))
		return sc_diag_set(diag, -EINVAL, 0, "HAR export: unknown role filter %d", (int)o->roles);
	snprintf(sql, sizeof(sql),
		 "SELECT " TX_COLUMNS " FROM transactions t JOIN connections c ON c.id = t.connection_id WHERE %s "
		 "ORDER BY coalesce(t.req_start_ns, t.resp_start_ns, c.open_ns, 0), t.id",
		 role_filter[o->roles]);
	if (prepare(&h, sql, &tx) < 0 ||
	    prepare(&h, "SELECT name, value, never_indexed, hpack_unknown FROM headers "
			"WHERE transaction_id = ?1 AND direction = ?2 AND is_trailer = ?3 ORDER BY idx", &h.hdr) < 0 ||
	    prepare(&h, "SELECT name, value, never_indexed, hpack_unknown FROM headers "
			"WHERE transaction_id = ?1 AND direction = ?2 AND is_trailer = 0 AND lower(name) = ?3 "
			"ORDER BY idx", &h.named) < 0 ||
	    prepare(&h, "SELECT data, length, truncated FROM bodies WHERE transaction_id = ?1 AND direction = ?2",
		    &h.body) < 0 ||
	    count(&h, "SELECT count(*) FROM transactions", &total) < 0 ||
	    /* The exit status rule of every command: an unfinished capture (no
	     * trailer, nothing lost) is said, but it is not damage. */
	    count(&h, "SELECT count(*) FROM captures WHERE coalesce(status, '') NOT IN ('complete', 'unfinished') "
		      "OR coalesce(bytes_lost, 0) > 0 OR coalesce(anomalies, 0) > 0", &lossy) < 0)
		goto out;
	h.st->input_lossy = lossy > 0;

	jw_open(&h.w, NULL, '{', false);
	jw_open(&h.w, "log", '{', false);
	jw_cstr(&h.w, "version", "1.2");
	jw_open(&h.w, "creator", '{', true);
	jw_cstr(&h.w, "name", "sockcap");
	jw_cstr(&h.w, "version", PACKAGE_VERSION);
	jw_close(&h.w, '}');
	jw_open(&h.w, "entries", '[', false);
	while (!h.err && (rc = step(&h, tx, "transactions")) > 0) {
		write_entry(&h, tx);
		h.st->entries++;
		if (ferror(out))
			break;
	}
	if (h.err)
		goto out;
	jw_close(&h.w, ']');
	jw_close(&h.w, '}');
	jw_close(&h.w, '}');
	h.st->skipped = (uint64_t)total - h.st->entries;
out:
	h.st->latin1_bytes = h.w.latin1;
	sqlite3_finalize(tx);
	sqlite3_finalize(h.hdr);
	sqlite3_finalize(h.named);
	sqlite3_finalize(h.body);
	if (!h.err && (fflush(out) != 0 || ferror(out))) {
		int e = errno ? errno : EIO; /* the failed write's (ENOSPC, EIO, ...) */

		h.err = sc_diag_set(diag, -e, 0, "writing the HAR: %s", strerror(e));
	}
	return h.err;
}
