/* src_pcap.c - pcap/pcapng TCP segments, reassembled, into conversations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/streams.h"
#include "analyze/tcp_reasm.h"
#include "formats/sc_pcap.h"

struct pconn {
	struct sc_conn conn;
	void *st; /* the consumer's */
};

struct psrc {
	const struct sc_stream_ops *ops;
	struct sc_analyze_result *res;
	int err; /* first fatal error from a callback */
};

static void *on_open(void *ctx, const struct sc_tcp_conn_info *ci)
{
	struct psrc *s = ctx;
	struct pconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->conn.src_id = ci->id;
	c->conn.family = ci->family;
	c->conn.local = ci->client;
	c->conn.remote = ci->server;
	c->conn.role = SC_ROLE_NETWORK;
	c->conn.client_is_egress = true; /* side 0 is what the reassembler thinks is the client */
	c->conn.midstream = !ci->roles_from_syn;
	c->conn.open_ns = ci->first_ns;
	c->st = s->ops->open(s->ops->ctx, &c->conn, ci->roles_from_syn);
	if (!c->st) {
		free(c);
		return NULL;
	}
	s->res->connections++;
	return c;
}

static int on_data(void *ctx, void *conn, int side, uint64_t ts, uint64_t off, const uint8_t *p, size_t n)
{
	struct psrc *s = ctx;
	struct pconn *c = conn;

	return s->ops->data(s->ops->ctx, c->st, side == 0, ts, off, p, n);
}

static int on_gap(void *ctx, void *conn, int side, uint64_t ts, uint64_t off, uint64_t n)
{
	struct psrc *s = ctx;
	struct pconn *c = conn;

	return s->ops->gap(s->ops->ctx, c->st, side == 0, ts, off, n);
}

static int on_close(void *ctx, void *conn, uint64_t ts, int how)
{
	struct psrc *s = ctx;
	struct pconn *c = conn;
	bool closed = how != SC_TCP_END_CAPTURE && how != SC_TCP_END_EVICTED;
	int rc;

	if (closed)
		c->conn.close_ns = ts;
	rc = s->ops->end(s->ops->ctx, c->st, ts, closed);
	free(c);
	return rc;
}

int sc_streams_pcap(const char *path, const struct sc_analyze_opts *o, const struct sc_stream_ops *ops,
		    struct sc_analyze_result *res, struct sc_diag *diag)
{
	struct psrc s = { 0 };
	struct sc_tcp_reasm_cb cb = { &s, on_open, on_data, on_gap, on_close };
	struct sc_tcp_reasm *ra = NULL;
	struct sc_pcap *p;
	struct sc_tcp_seg seg;
	struct sc_diag rd = { 0 };
	uint64_t last = 0, n = 0;
	int rc;

	s.ops = ops;
	s.res = res;
	p = sc_pcap_open(path, diag);
	if (!p)
		return diag->err ? diag->err : SC_EFORMAT;
	ra = sc_tcp_reasm_new(&cb, NULL);
	if (!ra) {
		sc_pcap_close(p);
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	}
	while ((rc = sc_pcap_next(p, &seg, &rd)) > 0) {
		if (!res->start_ns || seg.ts_ns < res->start_ns)
			res->start_ns = seg.ts_ns;
		if (seg.ts_ns > last)
			last = seg.ts_ns;
		rc = o->stop && *o->stop ? -EINTR : sc_tcp_reasm_segment(ra, &seg);
		if (rc < 0) {
			rc = s.err ? s.err : rc;
			sc_diag_set(diag, rc, 0, "%s: %s", path, sc_strerror(rc));
			goto out;
		}
		if (o->progress && (++n & 0x3fff) == 0)
			o->progress(o->progress_ctx, sc_pcap_stats(p)->bytes);
	}
	res->status = "complete";
	if (rc < 0 && sc_err_is_fatal(rc)) {
		sc_diag_set(diag, rc, rd.offset, "%s: %s", path, rd.msg);
		goto out;
	}
	if (rc < 0) {
		/* A damaged or truncated file: everything before it is used. */
		res->status = "damaged";
		snprintf(res->damage, sizeof(res->damage), "%s", rd.msg);
	}
	rc = sc_tcp_reasm_finish(ra, last);
	if (rc < 0) {
		rc = s.err ? s.err : rc;
		sc_diag_set(diag, rc, 0, "%s: %s", path, sc_strerror(rc));
		goto out;
	}
	{
		const struct sc_pcap_stats *st = sc_pcap_stats(p);

		res->end_ns = last;
		if (st->frames) {
			/* The capture's time range is its frames', TCP or not. */
			res->start_ns = st->first_ns;
			res->end_ns = st->last_ns;
		}
		res->file_bytes = st->bytes;
		res->bytes_captured = st->tcp_payload_bytes;
		res->bytes_lost = st->truncated_bytes;
		res->have_pcap = true;
		res->pcap = *st;
		sc_pcap_describe_interfaces(p, res->interfaces, sizeof(res->interfaces));
		if (sc_pcap_ninterfaces(p) == 1)
			snprintf(res->tool, sizeof(res->tool), "%s, link type %s", sc_pcap_is_pcapng(p) ? "pcapng" : "pcap",
				 sc_pcap_linktype_name(p));
		else
			snprintf(res->tool, sizeof(res->tool), "%s, %zu interfaces", sc_pcap_is_pcapng(p) ? "pcapng" : "pcap",
				 sc_pcap_ninterfaces(p));
	}
	rc = 0;
out:
	sc_tcp_reasm_free(ra);
	sc_pcap_close(p);
	return rc;
}
