/* http1.c - HTTP/1.0 and HTTP/1.1 message parser (RFC 9112, RFC 9110).
 *
 * The scanners below index the caller's buffer directly instead of going
 * through struct sc_rd: line parsing needs look-ahead (CR then LF, a name then
 * whitespace then a colon) and backing off, which the cursor has no getter
 * for.  Every access is guarded by an explicit `i < end` where `end` never
 * exceeds the caller's length.
 *
 * Split independence.  A parse may be repeated on a growing buffer, so every
 * error must be a function of the bytes alone, never of where the earlier
 * calls stopped.  The start-line scanner and the chunk decoder work strictly
 * left to right: the first bad byte (or the byte at which a cap is passed)
 * decides, and it is reported by whichever call first holds it.  Checks that
 * only run on a complete head (header fields, framing fields) run in the same
 * order in every call, after the start line and the head cap.
 */
#include "analyze/codec.h"
#include "analyze/http1.h"

#include <limits.h>
#include <string.h>

/* Bytes of the start line checked in every call until they have all been
 * seen, so that a stream that is not HTTP/1 (TLS, HTTP/2, binary) fails at
 * once.  Bounded so that feeding byte by byte stays linear. */
#define SNIFF_LEN 64

/* ---- Character classes (RFC 9110 §5.6.2, §5.5) ----------------------------- */

static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* field-vchar, SP and HTAB; obs-text (0x80-0xff) is kept as it is. */
static bool is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive comparison of a view with a lower-case literal. */
static bool ieq(struct sc_view v, const char *lit)
{
	size_t n = strlen(lit);

	if (v.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(v.p[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

static bool eq(struct sc_view v, const char *lit)
{
	size_t n = strlen(lit);

	return v.len == n && (n == 0 || memcmp(v.p, lit, n) == 0);
}

static struct sc_view trim_ows(const uint8_t *p, size_t n)
{
	struct sc_view v;

	while (n && is_ows(p[0])) {
		p++;
		n--;
	}
	while (n && is_ows(p[n - 1]))
		n--;
	v.p = p;
	v.len = n;
	return v;
}

/* A comma-separated list (RFC 9110 §5.6.1), element by element, OWS
 * trimmed.  Empty elements are returned too: "" is one empty element, "a,"
 * is "a" and "". */
struct list_iter {
	const uint8_t *p;
	size_t len;
	bool end;
};

static struct list_iter list_start(struct sc_view v)
{
	struct list_iter it = { v.p, v.len, false };

	return it;
}

static bool list_next(struct list_iter *it, struct sc_view *elem)
{
	const uint8_t *comma;
	size_t n;

	if (it->end)
		return false;
	comma = it->len ? memchr(it->p, ',', it->len) : NULL;
	n = comma ? (size_t)(comma - it->p) : it->len;
	*elem = trim_ows(it->p, n);
	if (comma) {
		it->p = comma + 1;
		it->len -= n + 1;
	} else {
		it->end = true;
	}
	return true;
}

/* Index just past the first empty line that follows a non-empty line in
 * buf[0..len), searching LFs from `from` on: "\n\n" or "\n\r\n".  -1 if none. */
static long find_blank(const uint8_t *buf, size_t len, size_t from)
{
	size_t i = from;

	while (i < len) {
		const uint8_t *lf = memchr(buf + i, '\n', len - i);

		if (!lf)
			return -1;
		i = (size_t)(lf - buf);
		if (i + 1 < len && buf[i + 1] == '\n')
			return (long)(i + 2);
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return (long)(i + 3);
		i++;
	}
	return -1;
}

/* ---- Start line (RFC 9112 §3, §4) --------------------------------------------
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   status-line  = HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *   HTTP-version = "HTTP" "/" DIGIT "." DIGIT
 *
 * Scanned left to right over buf[start..avail); the line's LF must lie before
 * start + SC_H1_MAX_LINE.  Running out of bytes gives SC_EAGAIN while the cap
 * has not been reached, SC_ETOOBIG once it has.  With h == NULL only checks. */

#define RAN_OUT 1 /* internal: the scanner needs bytes past `end` */

static int scan_version(const uint8_t *buf, size_t *pi, size_t end, int *minor, const char *what,
			const char *after, struct sc_diag *diag)
{
	static const char http[] = "HTTP/";
	size_t i = *pi;

	for (size_t k = 0; k < 5; k++) {
		if (i + k >= end)
			return RAN_OUT;
		if (buf[i + k] != (uint8_t)http[k])
			return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: expected HTTP-version%s", what,
					   i, after);
	}
	for (size_t k = 5; k < 8; k++) {
		bool ok;

		if (i + k >= end)
			return RAN_OUT;
		ok = k == 6 ? buf[i + k] == '.' : (buf[i + k] >= '0' && buf[i + k] <= '9');
		if (!ok)
			return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: malformed HTTP-version", what,
					   i);
	}
	if (buf[i + 5] != '1' || buf[i + 7] > '1')
		return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: unsupported HTTP version %c.%c", what,
				   i, buf[i + 5], buf[i + 7]);
	*minor = buf[i + 7] - '0';
	*pi = i + 8;
	return 0;
}

static int scan_request_line(const uint8_t *buf, size_t *pi, size_t end, struct sc_h1_head *h,
			     struct sc_diag *diag)
{
	const char *what = "request line";
	size_t i = *pi, m0 = i, t0;
	int minor, rc;

	while (i < end && is_tchar(buf[i]))
		i++;
	if (i >= end)
		return RAN_OUT;
	if (buf[i] != ' ' || i == m0) {
		if (i > m0 && (buf[i] == '\r' || buf[i] == '\n' || buf[i] == '\t'))
			return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: expected SP after the method",
					   what, i);
		return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: invalid character 0x%02x in the method",
				   what, i, buf[i]);
	}
	if (h) {
		h->method.p = buf + m0;
		h->method.len = i - m0;
	}
	t0 = ++i;
	/* RFC 9112 §3.2: no whitespace or CTL; obs-text is let through, as
	 * servers commonly do, since we observe rather than enforce. */
	while (i < end && buf[i] > 0x20 && buf[i] != 0x7f)
		i++;
	if (i >= end)
		return RAN_OUT;
	if (i == t0 && (buf[i] == ' ' || buf[i] == '\r' || buf[i] == '\n'))
		return sc_diag_set(diag, SC_EPROTO, i,
				   "HTTP/1 %s at offset %zu: expected the request-target after the method", what, i);
	if (buf[i] != ' ') {
		if (buf[i] == '\r' || buf[i] == '\n')
			return sc_diag_set(diag, SC_EPROTO, i,
					   "HTTP/1 %s at offset %zu: expected SP after the request-target", what, i);
		return sc_diag_set(diag, SC_EPROTO, i,
				   "HTTP/1 %s at offset %zu: invalid character 0x%02x in the request-target", what, i,
				   buf[i]);
	}
	if (h) {
		h->target.p = buf + t0;
		h->target.len = i - t0;
	}
	i++;
	rc = scan_version(buf, &i, end, &minor, what, " after the request-target", diag);
	if (rc)
		return rc;
	if (i >= end)
		return RAN_OUT;
	if (buf[i] == '\r') {
		if (i + 1 >= end)
			return RAN_OUT;
		if (buf[i + 1] == '\n')
			i++;
	}
	if (buf[i] != '\n')
		return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: expected CRLF after the HTTP-version",
				   what, i);
	if (h)
		h->minor = minor;
	*pi = i + 1;
	return 0;
}

static int scan_status_line(const uint8_t *buf, size_t *pi, size_t end, struct sc_h1_head *h, struct sc_diag *diag)
{
	const char *what = "status line";
	size_t i = *pi, r0, r1;
	int minor, status = 0, rc;

	rc = scan_version(buf, &i, end, &minor, what, "", diag);
	if (rc)
		return rc;
	if (i >= end)
		return RAN_OUT;
	if (buf[i] != ' ')
		return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: expected SP after the HTTP-version",
				   what, i);
	i++;
	for (size_t k = 0; k < 3; k++) {
		if (i + k >= end)
			return RAN_OUT;
		if (buf[i + k] < '0' || buf[i + k] > '9')
			return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: expected a 3-digit status code",
					   what, i);
		status = status * 10 + (buf[i + k] - '0');
	}
	if (status < 100)
		return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: status code %03d out of range", what, i,
				   status);
	i += 3;
	if (i >= end)
		return RAN_OUT;
	/* RFC 9112 §4: the SP before an empty reason is required, but servers
	 * omit it; a recipient loses nothing by tolerating that. */
	if (buf[i] == ' ')
		i++;
	else if (buf[i] != '\r' && buf[i] != '\n')
		return sc_diag_set(diag, SC_EPROTO, i, "HTTP/1 %s at offset %zu: expected SP after the status code",
				   what, i);
	r0 = i;
	while (i < end && is_field_char(buf[i]))
		i++;
	if (i >= end)
		return RAN_OUT;
	r1 = i;
	if (buf[i] == '\r') {
		if (i + 1 >= end)
			return RAN_OUT;
		if (buf[i + 1] == '\n')
			i++;
	}
	if (buf[i] != '\n')
		return sc_diag_set(diag, SC_EPROTO, i,
				   "HTTP/1 %s at offset %zu: invalid character 0x%02x in the reason phrase", what, i,
				   buf[i]);
	if (h) {
		h->minor = minor;
		h->status = status;
		h->reason.p = buf + r0;
		h->reason.len = r1 - r0;
	}
	*pi = i + 1;
	return 0;
}

/* Returns the index just past the start line, SC_EAGAIN, or an error. */
static long scan_start_line(const uint8_t *buf, size_t avail, size_t start, bool request, struct sc_h1_head *h,
			    struct sc_diag *diag)
{
	size_t end = avail - start < SC_H1_MAX_LINE ? avail : start + SC_H1_MAX_LINE;
	size_t i = start;
	int rc;

	rc = request ? scan_request_line(buf, &i, end, h, diag) : scan_status_line(buf, &i, end, h, diag);
	if (rc < 0)
		return rc;
	if (rc == RAN_OUT) {
		if (avail - start < SC_H1_MAX_LINE)
			return SC_EAGAIN;
		return sc_diag_set(diag, SC_ETOOBIG, start, "HTTP/1 %s over %d bytes",
				   request ? "request line" : "status line", SC_H1_MAX_LINE);
	}
	return (long)i;
}

/* ---- Field lines (RFC 9112 §5) -------------------------------------------------
 *
 *   field-line = field-name ":" OWS field-value OWS
 *
 * Parses the lines of buf[i..end), where `end` is just past the section's
 * blank line.  `base` is added to offsets in messages; `what` is "header" or
 * "trailer". */
static int parse_fields(const uint8_t *buf, size_t i, size_t end, struct sc_h1_header *out, size_t cap, size_t *n,
			uint64_t base, const char *what, struct sc_diag *diag)
{
	*n = 0;
	while (i < end) {
		size_t ls = i, le, lf, j, v;
		const uint8_t *p;

		if (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < end && buf[i + 1] == '\n'))
			break; /* the blank line */
		p = memchr(buf + i, '\n', end - i);
		if (!p) /* cannot happen: the section ends in a blank line */
			return sc_diag_set(diag, SC_EPROTO, base + i, "HTTP/1 %s at offset %llu: no line end", what,
					   (unsigned long long)(base + i));
		lf = (size_t)(p - buf);
		le = lf > ls && buf[lf - 1] == '\r' ? lf - 1 : lf;
		/* RFC 9112 §5.2: obs-fold; §2.2: whitespace before the first field.
		 * Either may be read differently by two parsers, so refuse both. */
		if (is_ows(buf[ls]))
			return sc_diag_set(diag, SC_EPROTO, base + ls,
					   "HTTP/1 %s at offset %llu: obs-fold (a line starting with whitespace) is not accepted",
					   what, (unsigned long long)(base + ls));
		if (*n == cap)
			return sc_diag_set(diag, SC_ETOOBIG, base + ls, "HTTP/1 %s at offset %llu: more than %zu %s fields",
					   what, (unsigned long long)(base + ls), cap, what);
		for (j = ls; j < le && is_tchar(buf[j]); j++)
			;
		if (j == le)
			return sc_diag_set(diag, SC_EPROTO, base + ls, "HTTP/1 %s at offset %llu: no colon in the %s field",
					   what, (unsigned long long)(base + ls), what);
		if (buf[j] == ':' && j == ls)
			return sc_diag_set(diag, SC_EPROTO, base + ls, "HTTP/1 %s at offset %llu: empty field name", what,
					   (unsigned long long)(base + ls));
		if (buf[j] != ':') {
			size_t k = j;

			while (k < le && is_ows(buf[k]))
				k++;
			/* RFC 9112 §5.1: whitespace before the colon has been used to
			 * smuggle fields past one parser and not another. */
			if (k > j && k < le && buf[k] == ':')
				return sc_diag_set(diag, SC_EPROTO, base + j,
						   "HTTP/1 %s at offset %llu: whitespace between the field name and the colon",
						   what, (unsigned long long)(base + j));
			return sc_diag_set(diag, SC_EPROTO, base + j,
					   "HTTP/1 %s at offset %llu: invalid character 0x%02x in the field name", what,
					   (unsigned long long)(base + j), buf[j]);
		}
		for (v = j + 1; v < le; v++)
			if (!is_field_char(buf[v]))
				return sc_diag_set(diag, SC_EPROTO, base + v,
						   "HTTP/1 %s at offset %llu: invalid character 0x%02x in the field value",
						   what, (unsigned long long)(base + v), buf[v]);
		out[*n].name.p = buf + ls;
		out[*n].name.len = j - ls;
		out[*n].value = trim_ows(buf + j + 1, le - (j + 1));
		(*n)++;
		i = lf + 1;
	}
	return 0;
}

/* ---- Framing fields (RFC 9112 §6, RFC 9110 §8.6, §7.6.1) --------------------- */

/* Content-Length = 1*DIGIT, possibly repeated as a list of identical values
 * (RFC 9110 §8.6 lets a recipient accept "42, 42"). */
static int parse_content_length(struct sc_view v, int64_t *cl, const char *who, uint64_t off, struct sc_diag *diag)
{
	struct list_iter it = list_start(v);
	struct sc_view e;

	while (list_next(&it, &e)) {
		int64_t n = 0;

		if (e.len == 0)
			return sc_diag_set(diag, SC_EPROTO, off, "HTTP/1 %s: invalid Content-Length value", who);
		for (size_t i = 0; i < e.len; i++) {
			int d = e.p[i] - '0';

			if (d < 0 || d > 9)
				return sc_diag_set(diag, SC_EPROTO, off, "HTTP/1 %s: invalid Content-Length value", who);
			if (n > (SC_H1_MAX_CONTENT_LENGTH - d) / 10)
				return sc_diag_set(diag, SC_ETOOBIG, off, "HTTP/1 %s: Content-Length value over 2^62", who);
			n = n * 10 + d;
		}
		if (*cl >= 0 && *cl != n)
			return sc_diag_set(diag, SC_EPROTO, off, "HTTP/1 %s: conflicting Content-Length values", who);
		*cl = n;
	}
	return 0;
}

/* The name of a transfer-coding: the token before any parameters. */
static struct sc_view coding_name(struct sc_view e)
{
	size_t n = 0;

	while (n < e.len && is_tchar(e.p[n]))
		n++;
	if (n < e.len && e.p[n] != ';' && !is_ows(e.p[n]))
		n = e.len; /* not a token: keep it whole so that it matches nothing */
	e.len = n;
	return e;
}

static int head_facts(const uint8_t *buf, struct sc_h1_head *h, struct sc_diag *diag)
{
	const char *who = h->request ? "request" : "response";
	bool te = false, cl = false, conn_upgrade = false, has_upgrade = false;
	struct sc_view last_coding = { NULL, 0 };
	uint64_t te_off = 0;
	int rc;

	for (size_t k = 0; k < h->nheaders; k++) {
		struct sc_view name = h->headers[k].name, value = h->headers[k].value, e;
		struct list_iter list = list_start(value);
		uint64_t off = (uint64_t)(name.p - buf);

		if (ieq(name, "content-length")) {
			rc = parse_content_length(value, &h->content_length, who, off, diag);
			if (rc)
				return rc;
			cl = true;
		} else if (ieq(name, "transfer-encoding")) {
			te = true;
			te_off = off;
			while (list_next(&list, &e))
				if (e.len)
					last_coding = coding_name(e);
		} else if (ieq(name, "connection")) {
			while (list_next(&list, &e)) {
				if (ieq(e, "close"))
					h->conn_close = true;
				else if (ieq(e, "keep-alive"))
					h->conn_keep_alive = true;
				else if (ieq(e, "upgrade"))
					conn_upgrade = true;
			}
		} else if (ieq(name, "expect")) {
			while (list_next(&list, &e))
				if (ieq(e, "100-continue"))
					h->expect_continue = true;
		} else if (ieq(name, "upgrade")) {
			if (!has_upgrade)
				h->upgrade_proto = value;
			has_upgrade = true;
		} else if (ieq(name, "host")) {
			if (!h->host.p)
				h->host = value;
		} else if (ieq(name, "content-type")) {
			if (!h->content_type.p)
				h->content_type = value;
		} else if (ieq(name, "content-encoding")) {
			if (!h->content_encoding.p)
				h->content_encoding = value;
		}
	}
	/* RFC 9110 §7.8: Upgrade means nothing without the "upgrade" connection
	 * option, which stops intermediaries forwarding it. */
	h->upgrade = conn_upgrade && has_upgrade;
	if (te) {
		h->chunked = ieq(last_coding, "chunked");
		h->te_other = !h->chunked;
		h->te_and_cl = cl;
		/* RFC 9112 §6.3 item 4: a request whose length cannot be known
		 * cannot be read; a response is read until the connection closes. */
		if (h->request && h->te_other)
			return sc_diag_set(diag, SC_EPROTO, te_off, "HTTP/1 request: Transfer-Encoding not ending in chunked");
	}
	return 0;
}

/* ---- Head ---------------------------------------------------------------------- */

static void head_reset(struct sc_h1_head *h, bool request)
{
	static const struct sc_view none = { NULL, 0 };

	/* Not a memset: the header array is 4 KiB and a byte-by-byte feed
	 * would clear it once per byte. */
	h->request = request;
	h->method = h->target = h->reason = none;
	h->status = 0;
	h->minor = 0;
	h->nheaders = 0;
	h->head_len = 0;
	h->content_length = -1;
	h->chunked = h->te_other = h->te_and_cl = false;
	h->conn_close = h->conn_keep_alive = h->upgrade = h->expect_continue = false;
	h->upgrade_proto = h->host = h->content_type = h->content_encoding = none;
}

/* Skips the empty lines RFC 9112 §2.2 allows before a request line. */
static int skip_empty_lines(const uint8_t *buf, size_t len, bool request, size_t *start, struct sc_diag *diag)
{
	size_t i = 0;

	for (unsigned n = 0;; n++) {
		size_t ls = i;

		if (i < len && buf[i] == '\n')
			i++;
		else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
			i += 2;
		else if (i + 1 == len && buf[i] == '\r')
			return SC_EAGAIN;
		else
			break;
		if (n == SC_H1_MAX_EMPTY_LINES)
			return sc_diag_set(diag, SC_EPROTO, ls, "HTTP/1 %s: more than %d empty lines before the %s",
					   request ? "request" : "response", SC_H1_MAX_EMPTY_LINES,
					   request ? "request line" : "status line");
	}
	if (i == len)
		return SC_EAGAIN;
	*start = i;
	return 0;
}

bool sc_h1_only_empty_lines(const uint8_t *buf, size_t len)
{
	size_t start;

	/* SC_EAGAIN: every byte was an empty line (or a last CR without its LF). */
	return len > 0 && skip_empty_lines(buf, len, true, &start, NULL) == SC_EAGAIN;
}

int sc_h1_parse_head(const uint8_t *buf, size_t len, size_t last_len, bool request, struct sc_h1_head *h,
		     struct sc_diag *diag)
{
	size_t start = 0, from;
	long end, line_end;
	int rc;

	rc = skip_empty_lines(buf, len, request, &start, diag);
	if (rc)
		return rc;
	if (last_len < start + SNIFF_LEN) {
		size_t avail = len - start < SNIFF_LEN ? len : start + SNIFF_LEN;

		line_end = scan_start_line(buf, avail, start, request, NULL, diag);
		if (line_end < 0 && line_end != SC_EAGAIN)
			return (int)line_end;
	}
	/* picohttpparser's last_len: a blank line wholly inside the bytes
	 * already searched would have ended the previous call, so one that
	 * ends in the new bytes starts at last_len - 3 or later. */
	from = last_len > start + 3 && last_len <= len ? last_len - 3 : start;
	end = find_blank(buf, len, from);
	if (end < 0) {
		/* The caps, checked once: in the call whose bytes first reach them. */
		bool line_cap = len - start >= SC_H1_MAX_LINE && last_len < start + SC_H1_MAX_LINE;
		bool head_cap = len >= SC_H1_MAX_HEAD && last_len < SC_H1_MAX_HEAD;

		if (line_cap || head_cap) {
			line_end = scan_start_line(buf, len, start, request, NULL, diag);
			if (line_end < 0)
				return (int)line_end;
		}
		if (len >= SC_H1_MAX_HEAD)
			return sc_diag_set(diag, SC_ETOOBIG, 0, "HTTP/1 head over %d bytes", SC_H1_MAX_HEAD);
		return SC_EAGAIN;
	}
	head_reset(h, request);
	line_end = scan_start_line(buf, len, start, request, h, diag);
	if (line_end < 0)
		return (int)line_end;
	if (end > SC_H1_MAX_HEAD)
		return sc_diag_set(diag, SC_ETOOBIG, 0, "HTTP/1 head over %d bytes", SC_H1_MAX_HEAD);
	rc = parse_fields(buf, (size_t)line_end, (size_t)end, h->headers, SC_H1_MAX_HEADERS, &h->nheaders, 0, "header",
			  diag);
	if (rc)
		return rc;
	rc = head_facts(buf, h, diag);
	if (rc)
		return rc;
	h->head_len = (size_t)end;
	return (int)end;
}

bool sc_h1_persistent(const struct sc_h1_head *h)
{
	if (h->conn_close)
		return false;
	return h->minor >= 1 || h->conn_keep_alive;
}

/* ---- Body kind (RFC 9112 §6.3) ------------------------------------------------ */

const char *sc_h1_body_kind_name(enum sc_h1_body_kind kind)
{
	switch (kind) {
	case SC_H1_BODY_NONE: return "none";
	case SC_H1_BODY_LENGTH: return "length";
	case SC_H1_BODY_CHUNKED: return "chunked";
	case SC_H1_BODY_CLOSE: return "close";
	case SC_H1_BODY_TUNNEL: return "tunnel";
	}
	return "?";
}

static enum sc_h1_body_kind by_length(const struct sc_h1_head *h, uint64_t *length, enum sc_h1_body_kind otherwise)
{
	if (h->chunked)
		return SC_H1_BODY_CHUNKED;
	/* A request with another coding is refused by the parser; should one
	 * come here, its end is unknown. */
	if (h->te_other)
		return SC_H1_BODY_CLOSE;
	if (h->content_length > 0) {
		if (length)
			*length = (uint64_t)h->content_length;
		return SC_H1_BODY_LENGTH;
	}
	if (h->content_length == 0)
		return SC_H1_BODY_NONE;
	return otherwise;
}

enum sc_h1_body_kind sc_h1_request_body(const struct sc_h1_head *req, uint64_t *length)
{
	if (length)
		*length = 0;
	return by_length(req, length, SC_H1_BODY_NONE);
}

enum sc_h1_body_kind sc_h1_response_body(const struct sc_h1_head *resp, struct sc_view req_method,
					 uint64_t *length)
{
	int s = resp->status;

	if (length)
		*length = 0;
	if (s == 101)
		return SC_H1_BODY_TUNNEL;
	if (s < 200)
		return SC_H1_BODY_NONE;
	if (eq(req_method, "HEAD"))
		return SC_H1_BODY_NONE;
	if (s < 300 && eq(req_method, "CONNECT"))
		return SC_H1_BODY_TUNNEL;
	if (s == 204 || s == 304)
		return SC_H1_BODY_NONE;
	return by_length(resp, length, SC_H1_BODY_CLOSE);
}

/* ---- Body decoder ---------------------------------------------------------------
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *
 * (RFC 9112 §7.1.)  Chunk-size lines are decoded byte by byte, so any split
 * works without presenting bytes again; extensions are skipped unparsed (they
 * carry no framing) but must not hold CTLs, and whitespace is accepted between
 * the size and CRLF as well as before ';'.  The trailer section is parsed once
 * it is whole, like a head, to deliver views.
 *
 * picohttpparser bounds the framing overhead of a chunked body because its
 * callers pay per chunk; here every wire byte is looked at once and costs the
 * same whether it is data or framing, so there is no overhead cap: the
 * caller can see the overhead as wire - decoded. */

enum {
	ST_DONE,
	ST_LENGTH,   /* LENGTH: `remaining` bytes to go */
	ST_STREAM,   /* CLOSE, TUNNEL: until finish */
	ST_SIZE,     /* chunk-size hex digits */
	ST_SIZE_WS,  /* whitespace after the digits */
	ST_EXT,      /* chunk extensions */
	ST_SIZE_LF,  /* CR seen at the end of the chunk-size line */
	ST_DATA,     /* chunk data: `remaining` bytes to go */
	ST_DATA_END, /* the CRLF after chunk data */
	ST_DATA_LF,  /* its LF */
	ST_TRAILERS, /* the trailer section and the final blank line */
};

void sc_h1_body_init(struct sc_h1_body *b, enum sc_h1_body_kind kind, uint64_t length)
{
	memset(b, 0, offsetof(struct sc_h1_body, trailers));
	memset(&b->st, 0, sizeof(b->st));
	b->kind = kind;
	switch (kind) {
	case SC_H1_BODY_LENGTH:
		b->length = b->remaining = length;
		b->st.state = length ? ST_LENGTH : ST_DONE;
		break;
	case SC_H1_BODY_CHUNKED:
		b->st.state = ST_SIZE;
		break;
	case SC_H1_BODY_CLOSE:
	case SC_H1_BODY_TUNNEL:
		b->st.state = ST_STREAM;
		break;
	default:
		b->st.state = ST_DONE;
		break;
	}
}

bool sc_h1_body_done(const struct sc_h1_body *b)
{
	return !b->st.err && b->st.state == ST_DONE;
}

static int body_fail(struct sc_h1_body *b, int err)
{
	b->st.err = err;
	return err;
}

static int already_failed(const struct sc_h1_body *b, struct sc_diag *diag)
{
	return sc_diag_set(diag, b->st.err, b->wire, "HTTP/1 body: the decoder already failed (%s)",
			   sc_strerror(b->st.err));
}

static int deliver(struct sc_h1_body *b, const uint8_t *p, size_t n, sc_h1_data_fn on_data, void *ctx,
		   uint64_t off, struct sc_diag *diag)
{
	int rc;

	b->decoded += n;
	if (!on_data || n == 0)
		return 0;
	rc = on_data(ctx, p, n);
	if (rc == 0)
		return 0;
	sc_diag_set(diag, rc < 0 ? rc : SC_ELIMIT, off, "HTTP/1 body at offset %llu: stopped by the data callback (%d)",
		    (unsigned long long)off, rc);
	return body_fail(b, rc < 0 ? rc : SC_ELIMIT);
}

/* The trailer section at buf[0..len), or SC_EAGAIN with st.tr_scanned set. */
static long feed_trailers(struct sc_h1_body *b, const uint8_t *buf, size_t len, uint64_t off, struct sc_diag *diag)
{
	size_t from;
	long end;
	int rc;

	if (len == 0)
		return SC_EAGAIN;
	if (buf[0] == '\n')
		return 1;
	if (buf[0] == '\r') {
		if (len < 2)
			return SC_EAGAIN;
		if (buf[1] == '\n')
			return 2;
	}
	from = b->st.tr_scanned > 3 && b->st.tr_scanned <= len ? b->st.tr_scanned - 3 : 0;
	end = find_blank(buf, len, from);
	if ((end < 0 && len >= SC_H1_MAX_TRAILER_LEN) || end > SC_H1_MAX_TRAILER_LEN)
		return sc_diag_set(diag, SC_ETOOBIG, off, "HTTP/1 chunked body at offset %llu: trailer section over %d bytes",
				   (unsigned long long)off, SC_H1_MAX_TRAILER_LEN);
	if (end < 0) {
		b->st.tr_scanned = len;
		return SC_EAGAIN;
	}
	rc = parse_fields(buf, 0, (size_t)end, b->trailers, SC_H1_MAX_TRAILERS, &b->ntrailers, off, "trailer", diag);
	if (rc)
		return rc;
	return end;
}

static int chunk_error(struct sc_h1_body *b, int err, uint64_t off, const char *what, struct sc_diag *diag)
{
	sc_diag_set(diag, err, off, "HTTP/1 chunked body at offset %llu: %s", (unsigned long long)off, what);
	return body_fail(b, err);
}

static int chunk_bad_char(struct sc_h1_body *b, uint64_t off, uint8_t c, const char *where, struct sc_diag *diag)
{
	sc_diag_set(diag, SC_EPROTO, off, "HTTP/1 chunked body at offset %llu: invalid character 0x%02x %s",
		    (unsigned long long)off, c, where);
	return body_fail(b, SC_EPROTO);
}

/* One byte of a chunk-size line, counted against SC_H1_MAX_CHUNK_LINE. */
static int chunk_line_byte(struct sc_h1_body *b, uint8_t c, uint64_t off, struct sc_diag *diag)
{
	int v;

	if (++b->st.line_len > SC_H1_MAX_CHUNK_LINE) {
		sc_diag_set(diag, SC_ETOOBIG, off, "HTTP/1 chunked body at offset %llu: chunk-size line over %d bytes",
			    (unsigned long long)off, SC_H1_MAX_CHUNK_LINE);
		return body_fail(b, SC_ETOOBIG);
	}
	switch (b->st.state) {
	case ST_SIZE:
		v = sc_hexval(c);
		if (v >= 0) {
			if (b->st.ndigits == SC_H1_MAX_CHUNK_DIGITS) {
				sc_diag_set(diag, SC_ETOOBIG, off,
					    "HTTP/1 chunked body at offset %llu: chunk size over %d hex digits",
					    (unsigned long long)off, SC_H1_MAX_CHUNK_DIGITS);
				return body_fail(b, SC_ETOOBIG);
			}
			/* At most 16 digits: the shift cannot overflow. */
			b->remaining = b->remaining << 4 | (uint64_t)v;
			b->st.ndigits++;
			return 0;
		}
		if (b->st.ndigits == 0)
			return chunk_error(b, SC_EPROTO, off, "expected a hex chunk size", diag);
		/* fall through */
	case ST_SIZE_WS:
		if (is_ows(c))
			b->st.state = ST_SIZE_WS;
		else if (c == ';')
			b->st.state = ST_EXT;
		else if (c == '\r')
			b->st.state = ST_SIZE_LF;
		else if (c == '\n')
			goto eol;
		else
			return chunk_bad_char(b, off, c, "after the chunk size", diag);
		return 0;
	case ST_EXT:
		if (c == '\r')
			b->st.state = ST_SIZE_LF;
		else if (c == '\n')
			goto eol;
		else if (!is_field_char(c))
			return chunk_bad_char(b, off, c, "in a chunk extension", diag);
		return 0;
	case ST_SIZE_LF:
		if (c == '\n')
			goto eol;
		return chunk_error(b, SC_EPROTO, off, "expected LF after CR in the chunk-size line", diag);
	default:
		return 0;
	}
eol:
	b->st.state = b->remaining ? ST_DATA : ST_TRAILERS;
	b->st.tr_scanned = 0;
	return 0;
}

int sc_h1_body_feed(struct sc_h1_body *b, const uint8_t *buf, size_t len, sc_h1_data_fn on_data, void *ctx,
		    bool *done, struct sc_diag *diag)
{
	size_t i = 0;
	long n;
	int rc = 0;

	*done = false;
	if (b->st.err)
		return already_failed(b, diag);
	if (len > INT_MAX) /* the count must fit the return value */
		len = INT_MAX;
	while (i < len && b->st.state != ST_DONE) {
		uint64_t off = b->wire + i;
		size_t take;

		switch (b->st.state) {
		case ST_LENGTH:
		case ST_DATA:
			take = len - i < b->remaining ? len - i : (size_t)b->remaining;
			rc = deliver(b, buf + i, take, on_data, ctx, off, diag);
			i += take;
			b->remaining -= take;
			if (rc)
				goto out;
			if (b->remaining == 0)
				b->st.state = b->st.state == ST_LENGTH ? ST_DONE : ST_DATA_END;
			break;
		case ST_STREAM:
			take = len - i;
			rc = deliver(b, buf + i, take, on_data, ctx, off, diag);
			i += take;
			if (rc)
				goto out;
			break;
		case ST_SIZE:
		case ST_SIZE_WS:
		case ST_EXT:
		case ST_SIZE_LF:
			rc = chunk_line_byte(b, buf[i], off, diag);
			if (rc)
				goto out;
			i++;
			break;
		case ST_DATA_END:
		case ST_DATA_LF:
			if (buf[i] == '\r' && b->st.state == ST_DATA_END) {
				b->st.state = ST_DATA_LF;
			} else if (buf[i] == '\n') {
				b->st.state = ST_SIZE;
				b->st.line_len = 0;
				b->st.ndigits = 0;
			} else {
				rc = chunk_error(b, SC_EPROTO, off, "expected CRLF after the chunk data", diag);
				goto out;
			}
			i++;
			break;
		case ST_TRAILERS:
			n = feed_trailers(b, buf + i, len - i, off, diag);
			if (n == SC_EAGAIN)
				goto out;
			if (n < 0) {
				rc = body_fail(b, (int)n);
				goto out;
			}
			i += (size_t)n;
			b->st.state = ST_DONE;
			break;
		default:
			rc = body_fail(b, sc_diag_set(diag, SC_EPROTO, off, "HTTP/1 body: bad decoder state"));
			goto out;
		}
	}
out:
	b->wire += i;
	if (rc)
		return rc;
	*done = b->st.state == ST_DONE;
	return (int)i;
}

int sc_h1_body_finish(struct sc_h1_body *b, struct sc_diag *diag)
{
	const char *where;

	if (b->st.err)
		return already_failed(b, diag);
	switch (b->st.state) {
	case ST_DONE:
		return 0;
	case ST_STREAM:
		b->st.state = ST_DONE;
		return 0;
	case ST_LENGTH:
		sc_diag_set(diag, SC_ETRUNC, b->wire, "HTTP/1 body truncated: %llu of %llu bytes",
			    (unsigned long long)(b->length - b->remaining), (unsigned long long)b->length);
		return body_fail(b, SC_ETRUNC);
	case ST_DATA:
		where = "inside a chunk";
		break;
	case ST_DATA_END:
	case ST_DATA_LF:
		where = "before the CRLF after a chunk";
		break;
	case ST_TRAILERS:
		where = "in the trailer section";
		break;
	default:
		where = "in a chunk-size line";
		break;
	}
	sc_diag_set(diag, SC_ETRUNC, b->wire, "HTTP/1 chunked body truncated %s", where);
	return body_fail(b, SC_ETRUNC);
}

int sc_h1_body_gap(struct sc_h1_body *b, uint64_t n, struct sc_diag *diag)
{
	if (b->st.err)
		return already_failed(b, diag);
	if (n == 0)
		return 0;
	switch (b->st.state) {
	case ST_LENGTH:
	case ST_DATA:
		if (n > b->remaining)
			break;
		b->remaining -= n;
		if (b->remaining == 0)
			b->st.state = b->st.state == ST_LENGTH ? ST_DONE : ST_DATA_END;
		/* fall through */
	case ST_STREAM:
		b->missing += n;
		b->wire += n;
		b->incomplete = true;
		return 0;
	default:
		break;
	}
	if (b->st.state == ST_LENGTH || b->st.state == ST_DATA)
		sc_diag_set(diag, SC_EPROTO, b->wire, "HTTP/1 body at offset %llu: a gap of %llu bytes crosses the end of the %s (%llu bytes left)",
			    (unsigned long long)b->wire, (unsigned long long)n,
			    b->st.state == ST_LENGTH ? "body" : "chunk", (unsigned long long)b->remaining);
	else
		sc_diag_set(diag, SC_EPROTO, b->wire, "HTTP/1 body at offset %llu: a gap of %llu bytes outside body data",
			    (unsigned long long)b->wire, (unsigned long long)n);
	return body_fail(b, SC_EPROTO);
}

/* ---- Resynchronisation --------------------------------------------------------- */

static bool plausible_request(const uint8_t *p, size_t n)
{
	size_t k = 0, t0;

	while (k < n && k <= 20 && ((p[k] >= 'A' && p[k] <= 'Z') || p[k] == '-' || p[k] == '_'))
		k++;
	if (k < 3 || k > 20 || k >= n || p[k] != ' ')
		return false;
	t0 = ++k;
	while (k < n && k < SC_H1_MAX_LINE && p[k] > 0x20 && p[k] != 0x7f)
		k++;
	if (k == t0 || k >= n || p[k] != ' ')
		return false;
	k++;
	if (n - k < 9 || memcmp(p + k, "HTTP/1.", 7) != 0 || (p[k + 7] != '0' && p[k + 7] != '1'))
		return false;
	k += 8;
	if (p[k] == '\r' && k + 1 < n)
		k++;
	return p[k] == '\n' && k < SC_H1_MAX_LINE;
}

static bool plausible_status(const uint8_t *p, size_t n)
{
	size_t lim = n < SC_H1_MAX_LINE ? n : SC_H1_MAX_LINE;

	if (n < 13 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return false;
	if (p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return false;
	if (p[12] != ' ' && p[12] != '\r' && p[12] != '\n')
		return false;
	return memchr(p, '\n', lim) != NULL;
}

long sc_h1_find_head(const uint8_t *buf, size_t len, bool request)
{
	size_t i = 0;

	while (i < len && i <= (size_t)LONG_MAX) {
		const uint8_t *lf;

		if (request ? plausible_request(buf + i, len - i) : plausible_status(buf + i, len - i))
			return (long)i;
		lf = memchr(buf + i, '\n', len - i);
		if (!lf)
			break;
		i = (size_t)(lf - buf) + 1;
	}
	return -1;
}
