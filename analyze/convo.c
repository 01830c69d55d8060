/* convo.c - role and protocol detection, then dispatch to a decoder. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/convo.h"
#include "analyze/h2conn.h"
#include "analyze/http1.h"

/* Until the protocol is known, events are kept (copied) up to these bounds;
 * past them the connection is declared undecodable. */
#define DETECT_MAX_BYTES 65536u
#define DETECT_MAX_EVENTS 64u

static const uint8_t h2_preface[24] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct pend {
	bool egress, gap;
	uint64_t ts, off, n;
	uint8_t *data;
};

struct sc_convo {
	struct sc_conn *c;
	const struct sc_dec_env *env;
	bool roles_known;
	bool decided;
	struct pend *q;
	size_t nq, qbytes;
	/* First bytes of each local direction (0 egress, 1 ingress), kept only
	 * until the protocol is decided. */
	uint8_t *head[2];
	size_t nhead[2];
	bool head_gap[2]; /* a gap came before or inside the head */
	struct sc_h1conn *h1;
	struct sc_h2conn *h2;
};

int sc_convo_anomaly(const struct sc_dec_env *env, const struct sc_conn *c, enum sc_anomaly_kind kind, int side,
		     uint64_t off, uint64_t len, uint64_t ts_ns, uint32_t stream_id, const char *fmt, ...)
{
	struct sc_anomaly a = { 0 };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a.conn_id = c->id;
	a.kind = kind;
	a.side = side;
	a.offset = off;
	a.len = len;
	a.ts_ns = ts_ns;
	a.stream_id = stream_id;
	a.msg = msg;
	env->stats->anomalies++;
	if (kind == SC_ANOM_PARSE)
		env->stats->parse_errors++;
	return env->sink->anomaly ? env->sink->anomaly(env->sink->ctx, &a) : 0;
}

struct sc_convo *sc_convo_new(struct sc_conn *c, const struct sc_dec_env *env, bool roles_known)
{
	struct sc_convo *cv = calloc(1, sizeof(*cv));

	if (!cv)
		return NULL;
	cv->c = c;
	cv->env = env;
	cv->roles_known = roles_known;
	return cv;
}

static void drop_queue(struct sc_convo *cv)
{
	for (size_t i = 0; i < cv->nq; i++)
		free(cv->q[i].data);
	free(cv->q);
	cv->q = NULL;
	cv->nq = 0;
	cv->qbytes = 0;
	for (int d = 0; d < 2; d++) {
		free(cv->head[d]);
		cv->head[d] = NULL;
		cv->nhead[d] = 0;
	}
}

void sc_convo_free(struct sc_convo *cv)
{
	if (!cv)
		return;
	drop_queue(cv);
	sc_h1conn_free(cv->h1);
	sc_h2conn_free(cv->h2);
	free(cv);
}

static int side_of(const struct sc_convo *cv, bool egress)
{
	return egress == cv->c->client_is_egress ? SC_FROM_CLIENT : SC_FROM_SERVER;
}

/* ---- detection ----------------------------------------------------------------------- */

static bool is_tchar(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Does p start like an HTTP/1 request line?  A method token of up to 20
 * characters, a space, and a plausible request-target start. */
static bool looks_request(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && i < 21 && is_tchar(p[i]))
		i++;
	if (i == 0 || i > 20 || i + 1 >= n || p[i] != ' ')
		return false;
	if (i == 3 && memcmp(p, "PRI", 3) == 0)
		return false; /* the HTTP/2 preface */
	uint8_t t = p[i + 1];

	return t == '/' || t == '*' || is_tchar(t) || t == '[';
}

static bool looks_response(const uint8_t *p, size_t n)
{
	return n >= 8 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1');
}

static bool looks_tls(const uint8_t *p, size_t n)
{
	/* A TLS record: handshake (22) or alert/ccs/appdata, version 3.x. */
	return n >= 3 && (p[0] == 22 || p[0] == 21 || p[0] == 20 || p[0] == 23) && p[1] == 3 && p[2] <= 4;
}

static bool prefix_of(const uint8_t *p, size_t n, const uint8_t *want, size_t wn)
{
	return memcmp(p, want, n < wn ? n : wn) == 0;
}

enum verdict { V_WAIT, V_DONE };

/* Decide proto (and, when unknown, roles) from what we have.  `final`: no
 * more bytes will come. */
static enum verdict detect(struct sc_convo *cv, bool final)
{
	struct sc_conn *c = cv->c;

	for (int d = 0; d < 2; d++) {
		const uint8_t *p = cv->head[d];
		size_t n = cv->nhead[d];
		bool egress = d == 0;

		if (n == 0 || cv->head_gap[d])
			continue;
		if (n >= sizeof(h2_preface) && memcmp(p, h2_preface, sizeof(h2_preface)) == 0) {
			c->proto = SC_PROTO_HTTP2;
			c->client_is_egress = egress;
			return V_DONE;
		}
		if (prefix_of(p, n, h2_preface, sizeof(h2_preface)) && !final)
			return V_WAIT; /* could still be the preface */
		if (looks_request(p, n)) {
			c->proto = SC_PROTO_HTTP1;
			if (!cv->roles_known)
				c->client_is_egress = egress;
			return V_DONE;
		}
		if (looks_response(p, n)) {
			c->proto = SC_PROTO_HTTP1;
			if (!cv->roles_known)
				c->client_is_egress = !egress;
			return V_DONE;
		}
		if (looks_tls(p, n)) {
			c->proto = SC_PROTO_TLS;
			if (!cv->roles_known && p[0] == 22)
				c->client_is_egress = egress;
			return V_DONE;
		}
	}
	/* Joined mid-stream or after a gap: an HTTP/1 head further in. */
	for (int d = 0; d < 2; d++) {
		if (cv->nhead[d] && (cv->head_gap[d] || cv->c->midstream)) {
			long at_req = sc_h1_find_head(cv->head[d], cv->nhead[d], true);
			long at_resp = sc_h1_find_head(cv->head[d], cv->nhead[d], false);

			if (at_req >= 0 || at_resp >= 0) {
				c->proto = SC_PROTO_HTTP1;
				if (!cv->roles_known)
					c->client_is_egress = (at_req >= 0 && (at_resp < 0 || at_req <= at_resp)) == (d == 0);
				return V_DONE;
			}
		}
	}
	if (cv->c->midstream && sc_h2conn_probe(cv->head, cv->nhead, &c->client_is_egress, cv->roles_known)) {
		c->proto = SC_PROTO_HTTP2;
		return V_DONE;
	}
	bool enough = cv->nhead[0] >= 256 || cv->nhead[1] >= 256 || cv->qbytes >= DETECT_MAX_BYTES ||
		      cv->nq >= DETECT_MAX_EVENTS;

	if (final || enough) {
		c->proto = cv->nhead[0] || cv->nhead[1] || cv->nq ? SC_PROTO_UNKNOWN : SC_PROTO_NONE;
		return V_DONE;
	}
	return V_WAIT;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static int start_decoder(struct sc_convo *cv)
{
	struct sc_conn *c = cv->c;

	c->role = c->role == SC_ROLE_NETWORK ? SC_ROLE_NETWORK
		: c->role != SC_ROLE_UNKNOWN ? c->role
		: (c->client_is_egress ? SC_ROLE_CLIENT : SC_ROLE_SERVER);
	if (c->proto == SC_PROTO_HTTP1) {
		cv->h1 = sc_h1conn_new(c, cv->env);
		if (!cv->h1)
			return -ENOMEM;
	} else if (c->proto == SC_PROTO_HTTP2) {
		cv->h2 = sc_h2conn_new(c, cv->env, NULL);
		if (!cv->h2)
			return -ENOMEM;
	}
	return 0;
}

static int switch_to_h2(struct sc_convo *cv)
{
	struct sc_h2_upgrade up;
	int rc = sc_h1conn_upgrade_info(cv->h1, &up);

	if (rc < 0)
		return rc;
	cv->h2 = sc_h2conn_new(cv->c, cv->env, &up);
	if (!cv->h2)
		return -ENOMEM;
	cv->c->proto = SC_PROTO_HTTP2;
	/* What HTTP/1 had buffered past the switch belongs to HTTP/2. */
	for (int side = 0; side < 2; side++) {
		const uint8_t *p;
		size_t n;
		uint64_t off, ts;

		sc_h1conn_rest(cv->h1, side, &p, &n, &off, &ts);
		if (n) {
			rc = sc_h2conn_data(cv->h2, side, ts, off, p, n);
			if (rc < 0)
				return rc;
		}
	}
	sc_h1conn_free(cv->h1);
	cv->h1 = NULL;
	return 0;
}

static int deliver(struct sc_convo *cv, bool egress, bool gap, uint64_t ts, uint64_t off, const uint8_t *p, uint64_t n)
{
	int side = side_of(cv, egress);
	int rc = 0;

	if (gap) {
		cv->c->gaps[side]++;
		cv->c->gap_bytes[side] += n;
		cv->env->stats->gaps++;
		cv->env->stats->gap_bytes += n;
	} else {
		cv->c->bytes[side] += n;
	}
	if (cv->h1) {
		rc = gap ? sc_h1conn_gap(cv->h1, side, ts, off, n) : sc_h1conn_data(cv->h1, side, ts, off, p, (size_t)n);
		if (rc == SC_H1_UPGRADE_H2)
			rc = switch_to_h2(cv);
	} else if (cv->h2) {
		rc = gap ? sc_h2conn_gap(cv->h2, side, ts, off, n) : sc_h2conn_data(cv->h2, side, ts, off, p, (size_t)n);
	} else if (gap) {
		rc = sc_convo_anomaly(cv->env, cv->c, SC_ANOM_GAP, side, off, n, ts, 0,
				      "%llu bytes missing from the %s stream", (unsigned long long)n,
				      side == SC_FROM_CLIENT ? "client" : "server");
	}
	return rc;
}

static int decide_and_flush(struct sc_convo *cv, bool final)
{
	int rc;

	if (detect(cv, final) == V_WAIT)
		return 0;
	cv->decided = true;
	rc = start_decoder(cv);
	for (size_t i = 0; i < cv->nq && rc >= 0; i++) {
		struct pend *e = &cv->q[i];

		rc = deliver(cv, e->egress, e->gap, e->ts, e->off, e->data, e->n);
	}
	drop_queue(cv);
	return rc < 0 ? rc : 0;
}

static int enqueue(struct sc_convo *cv, bool egress, bool gap, uint64_t ts, uint64_t off, const uint8_t *p, uint64_t n)
{
	struct pend *nq = realloc(cv->q, (cv->nq + 1) * sizeof(*cv->q));
	struct pend *e;

	if (!nq)
		return -ENOMEM;
	cv->q = nq;
	e = &cv->q[cv->nq];
	*e = (struct pend){ egress, gap, ts, off, n, NULL };
	if (!gap && n) {
		e->data = malloc((size_t)n);
		if (!e->data)
			return -ENOMEM;
		memcpy(e->data, p, (size_t)n);
		cv->qbytes += n;
	}
	cv->nq++;
	return 0;
}

int sc_convo_data(struct sc_convo *cv, bool egress, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n)
{
	int d = egress ? 0 : 1;
	int rc;

	if (n == 0)
		return 0;
	if (cv->decided)
		return deliver(cv, egress, false, ts_ns, off, p, n);
	if (cv->nhead[d] < DETECT_MAX_BYTES) {
		size_t k = n < DETECT_MAX_BYTES - cv->nhead[d] ? n : DETECT_MAX_BYTES - cv->nhead[d];
		uint8_t *nh = realloc(cv->head[d], cv->nhead[d] + k);

		if (!nh)
			return -ENOMEM;
		cv->head[d] = nh;
		memcpy(cv->head[d] + cv->nhead[d], p, k);
		cv->nhead[d] += k;
	}
	rc = enqueue(cv, egress, false, ts_ns, off, p, n);
	if (rc < 0)
		return rc;
	return decide_and_flush(cv, false);
}

int sc_convo_gap(struct sc_convo *cv, bool egress, uint64_t ts_ns, uint64_t off, uint64_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if (cv->decided)
		return deliver(cv, egress, true, ts_ns, off, NULL, n);
	/* What follows a gap does not start at a message boundary. */
	cv->head_gap[egress ? 0 : 1] = true;
	rc = enqueue(cv, egress, true, ts_ns, off, NULL, n);
	if (rc < 0)
		return rc;
	return decide_and_flush(cv, false);
}

int sc_convo_end(struct sc_convo *cv, uint64_t ts_ns, bool closed)
{
	int rc = 0;

	if (!cv->decided)
		rc = decide_and_flush(cv, true);
	if (rc < 0)
		return rc;
	if (cv->h1)
		rc = sc_h1conn_end(cv->h1, ts_ns, closed);
	else if (cv->h2)
		rc = sc_h2conn_end(cv->h2, ts_ns, closed);
	return rc;
}
