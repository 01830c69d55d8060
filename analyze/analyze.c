/* analyze.c - a capture's streams through protocol decoding into a sink. */
#include "analyze/analyze.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/streams.h"
#include "formats/skc.h"

int sc_streams_file(const char *path, const struct sc_analyze_opts *o, const struct sc_stream_ops *ops,
		    struct sc_analyze_result *res, struct sc_diag *diag)
{
	int kind = sc_file_detect_path(path);

	if (kind < 0)
		return sc_diag_set(diag, kind, 0, "%s: %s", path, strerror(-kind));
	switch (kind) {
	case SC_FILE_SKC:
		res->format = "skc";
		return sc_streams_skc(path, o, ops, res, diag);
	case SC_FILE_PCAP:
		res->format = "pcap";
		return sc_streams_pcap(path, o, ops, res, diag);
	case SC_FILE_PCAPNG:
		res->format = "pcapng";
		return sc_streams_pcap(path, o, ops, res, diag);
	case SC_FILE_UNKNOWN:
		break;
	}
	return sc_diag_set(diag, SC_EFORMAT, 0, "%s: not a capture file (neither .skc, pcap nor pcapng)", path);
}

/* ---- the analyzer's consumer: one conversation per connection ------------------------ */

struct actx {
	const struct sc_sink *sink;
	struct sc_dec_env env;
};

struct aconn {
	struct sc_conn *c;
	struct sc_convo *cv;
};

static void *a_open(void *ctx, struct sc_conn *c, bool roles_known)
{
	struct actx *a = ctx;
	struct aconn *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	if (a->sink->conn_begin && a->sink->conn_begin(a->sink->ctx, c) < 0) {
		free(x);
		return NULL;
	}
	x->c = c;
	x->cv = sc_convo_new(c, &a->env, roles_known);
	if (!x->cv) {
		free(x);
		return NULL;
	}
	return x;
}

static int a_data(void *ctx, void *st, bool egress, uint64_t ts, uint64_t off, const uint8_t *p, size_t n)
{
	(void)ctx;
	return sc_convo_data(((struct aconn *)st)->cv, egress, ts, off, p, n);
}

static int a_gap(void *ctx, void *st, bool egress, uint64_t ts, uint64_t off, uint64_t n)
{
	(void)ctx;
	return sc_convo_gap(((struct aconn *)st)->cv, egress, ts, off, n);
}

static int a_end(void *ctx, void *st, uint64_t ts, bool closed)
{
	struct actx *a = ctx;
	struct aconn *x = st;
	struct sc_conn *c = x->c;
	int rc = ts || closed ? sc_convo_end(x->cv, ts, closed) : 0;

	/* A pcap has no local end: `local` is the client, as the conversation
	 * settled it. */
	if (c->role == SC_ROLE_NETWORK && !c->client_is_egress) {
		struct sc_endpoint t = c->local;

		c->local = c->remote;
		c->remote = t;
	}
	if (rc >= 0 && a->sink->conn_end)
		rc = a->sink->conn_end(a->sink->ctx, c);
	sc_convo_free(x->cv);
	free(x);
	return rc;
}

static int a_process(void *ctx, const struct sc_process *p)
{
	struct actx *a = ctx;

	return a->sink->process ? a->sink->process(a->sink->ctx, p) : 0;
}

bool sc_analyze_lost(const struct sc_analyze_result *res)
{
	return res->dec.anomalies || res->damage[0] || res->bytes_lost || res->pcap.skipped_tcp ||
	       res->pcap.skipped_link_type;
}

int sc_analyze_file(const char *path, const struct sc_analyze_opts *o, const struct sc_sink *sink,
		    struct sc_analyze_result *res, struct sc_diag *diag)
{
	struct actx a = { sink, { sink, o->max_body, NULL } };
	struct sc_stream_ops ops = { &a, a_open, a_data, a_gap, a_end, a_process };

	memset(res, 0, sizeof(*res));
	a.env.stats = &res->dec;
	return sc_streams_file(path, o, &ops, res, diag);
}
