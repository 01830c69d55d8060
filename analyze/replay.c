/* replay.c - plan from a capture, resend to a target, record as .skc.
 *
 * The plan comes from two readings of the input: the analysis (which
 * requests, where each starts in the client's byte stream, their HTTP/2
 * headers and bodies) and a pass over the raw streams (the client's exact
 * bytes, and where they have gaps).  Each recorded connection then runs on
 * its own thread against the target; everything sent and received is
 * written to the output .skc as DATA records (syscall "user"), so the replay
 * can be analysed and compared like any capture.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "analyze/codec.h"
#include "analyze/http1.h"
#include "analyze/load.h"
#include "analyze/replay.h"
#include "analyze/streams.h"
#include "formats/sc_u64map.h"
#include "formats/skc.h"
#include "formats/sc_grow.h"

#define CONN_BYTES_MAX (64u << 20) /* client bytes kept per recorded connection */

enum rproto { RP_H1, RP_H2, RP_H2C };

struct rhdr {
	char *name, *value;
	size_t nlen, vlen;
};

struct rreq {
	struct sc_replay_req info;
	uint64_t rec_start;   /* recorded request start, wall ns */
	uint64_t req_offset;  /* in the client stream */
	uint32_t stream_id;
	/* HTTP/1: the recorded bytes; HTTP/2: headers and body */
	uint8_t *raw;
	size_t rawlen;
	struct rhdr *hdrs;
	size_t nhdrs;
	uint8_t *body;
	size_t bodylen;
	uint64_t txid;
};

struct rgap {
	uint64_t off, len;
};

struct rconn {
	uint64_t id, source_id;
	enum rproto proto;
	uint16_t client_port; /* to tell the client direction of a pcap stream */
	struct rreq *reqs;
	size_t nreqs;
	uint8_t *client;      /* the client's bytes, from stream offset 0 */
	size_t clen, ccap;
	bool too_big;
	struct rgap *gaps;
	size_t ngaps;
	/* h2c upgrade: the HTTP/1.1 request and its HTTP2-Settings payload */
	uint8_t *upgrade_raw;
	size_t upgrade_len;
	uint8_t settings[256];
	size_t settings_len;
};

struct sc_replay {
	struct sc_replay_opts o;
	char *input;
	struct rconn *conns;
	size_t nconns;
	struct sc_replay_req **plan; /* pointers into conns' reqs, recorded order */
	size_t nplan;
	uint64_t rec_t0;
	/* run */
	pthread_mutex_t mu;
	struct sc_skc_writer *w;
	int werr;
	uint64_t next_sock;
	uint64_t run_t0;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct sc_replay_result *res;
	pthread_mutex_t slots_mu;
	pthread_cond_t slots_cv;
	unsigned running;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- planning: the analysis --------------------------------------------------------------- */

static char *col_dup(sqlite3_stmt *s, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);
	char *d = malloc((size_t)n + 1);

	if (!d)
		return NULL;
	if (n)
		memcpy(d, p, (size_t)n);
	d[n] = '\0';
	if (len)
		*len = (size_t)n;
	return d;
}

/* Which recorded sockets carry each exchange once: the clients' when the
 * capture has them (a host recording both ends of a local connection holds
 * it twice), else a pcap's connections, else the servers'. */
static const char *pick_role(sqlite3 *db)
{
	static const char *const roles[] = { "client", "network", "server" };
	sqlite3_stmt *s;

	for (size_t i = 0; i < 3; i++) {
		int n = 0;

		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM connections WHERE role = ?1 AND protocol IN ('http/1', 'h2')",
				       -1, &s, NULL) != SQLITE_OK)
			return "client";
		sqlite3_bind_text(s, 1, roles[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (n)
			return roles[i];
	}
	return "client";
}

static int load_h2_request(sqlite3 *db, struct rreq *q)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT name, value, hpack_unknown FROM headers WHERE transaction_id = ?1 AND "
				   "direction = 'request' AND is_trailer = 0 ORDER BY idx", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)q->txid);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int(s, 2)) {
			q->info.skipped = true;
			q->info.why = "some of its headers were not known (HPACK state lost)";
			break;
		}
		if (q->nhdrs == cap) {
			struct rhdr *nh = sc_grow(q->hdrs, &cap, sizeof(*nh), 16);

			if (!nh) {
				rc = -ENOMEM;
				break;
			}
			q->hdrs = nh;
		}
		struct rhdr *h = &q->hdrs[q->nhdrs];

		h->name = col_dup(s, 0, &h->nlen);
		h->value = col_dup(s, 1, &h->vlen);
		if (!h->name || !h->value) {
			free(h->name);
			free(h->value);
			rc = -ENOMEM;
			break;
		}
		q->nhdrs++;
	}
	sqlite3_finalize(s);
	if (rc < 0 || q->info.skipped)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT data, length, truncated FROM bodies WHERE transaction_id = ?1 AND "
				   "direction = 'request'", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)q->txid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int(s, 2)) {
			q->info.skipped = true;
			q->info.why = "its body was not fully kept (raise --max-body)";
		} else {
			q->body = (uint8_t *)col_dup(s, 0, &q->bodylen);
			if (!q->body)
				rc = -ENOMEM;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

static int load_conns(struct sc_replay *r, sqlite3 *db)
{
	const char *role = pick_role(db);
	sqlite3_stmt *c, *t;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT id, source_id, protocol, local_port FROM connections WHERE role = ?1 AND "
				   "protocol IN ('http/1', 'h2') ORDER BY open_ns, id", -1, &c, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_prepare_v2(db, "SELECT id, http_version, method, path, req_offset, req_start_ns, stream_id "
				   "FROM transactions WHERE connection_id = ?1 AND method IS NOT NULL "
				   "ORDER BY coalesce(req_start_ns, 0), coalesce(stream_id, 0), id", -1, &t, NULL) != SQLITE_OK) {
		sqlite3_finalize(c);
		return -EIO;
	}
	sqlite3_bind_text(c, 1, role, -1, SQLITE_STATIC);
	while (rc == 0 && sqlite3_step(c) == SQLITE_ROW) {
		struct rconn *nc = realloc(r->conns, (r->nconns + 1) * sizeof(*nc));
		struct rconn *k;

		if (!nc) {
			rc = -ENOMEM;
			break;
		}
		r->conns = nc;
		k = &r->conns[r->nconns++];
		memset(k, 0, sizeof(*k));
		k->id = (uint64_t)sqlite3_column_int64(c, 0);
		k->source_id = (uint64_t)sqlite3_column_int64(c, 1);
		k->proto = strcmp((const char *)sqlite3_column_text(c, 2), "h2") == 0 ? RP_H2 : RP_H1;
		k->client_port = (uint16_t)sqlite3_column_int(c, 3);
		sqlite3_reset(t);
		sqlite3_bind_int64(t, 1, (sqlite3_int64)k->id);
		while (rc == 0 && sqlite3_step(t) == SQLITE_ROW) {
			struct rreq *nq = realloc(k->reqs, (k->nreqs + 1) * sizeof(*nq));
			struct rreq *q;
			const char *m = (const char *)sqlite3_column_text(t, 2);
			const char *p = (const char *)sqlite3_column_text(t, 3);
			const char *ver = (const char *)sqlite3_column_text(t, 1);

			if (!nq) {
				rc = -ENOMEM;
				break;
			}
			k->reqs = nq;
			q = &k->reqs[k->nreqs++];
			memset(q, 0, sizeof(*q));
			q->txid = (uint64_t)sqlite3_column_int64(t, 0);
			q->req_offset = (uint64_t)sqlite3_column_int64(t, 4);
			q->rec_start = (uint64_t)sqlite3_column_int64(t, 5);
			q->stream_id = (uint32_t)sqlite3_column_int64(t, 6);
			q->info.conn = k->id;
			q->info.proto = ver && strcmp(ver, "HTTP/2") == 0 ? "HTTP/2" : "HTTP/1.1";
			snprintf(q->info.method, sizeof(q->info.method), "%s", m ? m : "");
			snprintf(q->info.target, sizeof(q->info.target), "%s", p ? p : "");
			if (q->rec_start && (!r->rec_t0 || q->rec_start < r->rec_t0))
				r->rec_t0 = q->rec_start;
			if (strcmp(q->info.proto, "HTTP/2") == 0 && k->proto == RP_H2)
				rc = load_h2_request(db, q);
		}
	}
	sqlite3_finalize(c);
	sqlite3_finalize(t);
	return rc;
}

/* ---- planning: the client's bytes ------------------------------------------------------ */

struct gather {
	struct sc_replay *r;
	struct sc_u64map by_source; /* source_id -> rconn */
};

struct gconn {
	struct rconn *k;
	bool client_egress;
};

static void *g_open(void *ctx, struct sc_conn *c, bool roles_known)
{
	struct gather *g = ctx;
	struct gconn *x = calloc(1, sizeof(*x));

	(void)roles_known;
	if (!x)
		return NULL;
	x->k = sc_u64map_get(&g->by_source, c->src_id);
	if (x->k) {
		/* .skc: the socket's role says it; pcap: the analysis put the
		 * client's port in local_port. */
		if (c->role == SC_ROLE_NETWORK)
			x->client_egress = c->local.port == x->k->client_port;
		else
			x->client_egress = c->client_is_egress;
	}
	return x;
}

static int g_data(void *ctx, void *st, bool egress, uint64_t ts, uint64_t off, const uint8_t *p, size_t n)
{
	struct gconn *x = st;
	struct rconn *k = x->k;

	(void)ctx;
	(void)ts;
	if (!k || egress != x->client_egress || k->too_big)
		return 0;
	if (off + n > CONN_BYTES_MAX) {
		k->too_big = true;
		return 0;
	}
	if (off + n > k->ccap) {
		size_t ncap = k->ccap ? k->ccap : 4096;
		uint8_t *nb;

		while (ncap < off + n)
			ncap *= 2;
		nb = realloc(k->client, ncap);
		if (!nb)
			return -ENOMEM;
		k->client = nb;
		k->ccap = ncap;
	}
	memcpy(k->client + off, p, n);
	if (off + n > k->clen)
		k->clen = (size_t)(off + n);
	return 0;
}

static int g_gap(void *ctx, void *st, bool egress, uint64_t ts, uint64_t off, uint64_t n)
{
	struct gconn *x = st;
	struct rconn *k = x->k;
	struct rgap *ng;

	(void)ctx;
	(void)ts;
	if (!k || egress != x->client_egress)
		return 0;
	ng = realloc(k->gaps, (k->ngaps + 1) * sizeof(*ng));
	if (!ng)
		return -ENOMEM;
	k->gaps = ng;
	k->gaps[k->ngaps++] = (struct rgap){ off, n };
	return 0;
}

static int g_end(void *ctx, void *st, uint64_t ts, bool closed)
{
	(void)ctx;
	(void)ts;
	(void)closed;
	free(st);
	return 0;
}

static bool hits_gap(const struct rconn *k, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < k->ngaps; i++)
		if (k->gaps[i].off < end && k->gaps[i].off + k->gaps[i].len > start)
			return true;
	return false;
}

/* Where the client's stream ends: its captured bytes or its last gap. */
static uint64_t stream_end(const struct rconn *k)
{
	uint64_t end = k->clen;

	for (size_t i = 0; i < k->ngaps; i++)
		if (k->gaps[i].off + k->gaps[i].len > end)
			end = k->gaps[i].off + k->gaps[i].len;
	return end;
}

static const uint8_t h2_preface[24] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Turn each connection's bytes into the requests of the plan. */
static int build_requests(struct sc_replay *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		struct rconn *k = &r->conns[i];

		if (k->proto == RP_H2 && k->clen >= sizeof(h2_preface) &&
		    memcmp(k->client, h2_preface, sizeof(h2_preface)) != 0) {
			/* HTTP/2 that did not start with the preface: an h2c
			 * upgrade.  The HTTP/1.1 request is everything before it. */
			const uint8_t *pre = memmem(k->client, k->clen, h2_preface, sizeof(h2_preface));
			struct sc_h1_head hd;
			struct sc_diag d;
			size_t end = pre ? (size_t)(pre - k->client) : k->clen;

			k->proto = RP_H2C;
			if (sc_h1_parse_head(k->client, end, 0, true, &hd, &d) > 0) {
				k->upgrade_raw = k->client;
				k->upgrade_len = end;
				for (size_t h = 0; h < hd.nheaders; h++) {
					const struct sc_view *nm = &hd.headers[h].name, *v = &hd.headers[h].value;
					long n;

					if (nm->len != 14 || strncasecmp((const char *)nm->p, "http2-settings", 14) != 0)
						continue;
					n = sc_b64url_decode(v->p, v->len, k->settings, sizeof(k->settings));
					k->settings_len = n > 0 ? (size_t)n : 0;
				}
			}
		}
		for (size_t j = 0; j < k->nreqs; j++) {
			struct rreq *q = &k->reqs[j];

			if (q->info.skipped)
				continue;
			if (k->proto == RP_H2C && q->stream_id == 1) {
				q->info.proto = "h2c-upgrade";
				if (!k->upgrade_raw || hits_gap(k, 0, k->upgrade_len)) {
					q->info.skipped = true;
					q->info.why = "the upgrade request was not captured whole";
				}
				continue;
			}
			if (k->proto != RP_H1)
				continue;
			/* The last request runs to the end of the client's stream,
			 * which a trailing gap extends past the captured bytes. */
			uint64_t end = j + 1 < k->nreqs ? k->reqs[j + 1].req_offset : stream_end(k);

			if (k->too_big) {
				q->info.skipped = true;
				q->info.why = "the connection's requests exceed 64 MiB";
			} else if (end <= q->req_offset || end > k->clen || hits_gap(k, q->req_offset, end)) {
				q->info.skipped = true;
				q->info.why = "its recorded bytes have gaps";
			} else {
				q->raw = k->client + q->req_offset;
				q->rawlen = (size_t)(end - q->req_offset);
			}
		}
	}
	return 0;
}

static int cmp_plan(const void *a, const void *b)
{
	const struct rreq *x = *(const struct rreq *const *)a, *y = *(const struct rreq *const *)b;

	if (x->rec_start != y->rec_start)
		return x->rec_start < y->rec_start ? -1 : 1;
	return x->txid < y->txid ? -1 : x->txid > y->txid;
}

struct sc_replay *sc_replay_plan(const char *input, const struct sc_replay_opts *o, struct sc_diag *diag)
{
	struct sc_replay *r = calloc(1, sizeof(*r));
	struct sc_analyze_opts ao = { .max_body = o->max_body ? o->max_body : (64u << 20) };
	struct sc_analyze_result res;
	struct gather g;
	struct sc_stream_ops ops = { &g, g_open, g_data, g_gap, g_end, NULL };
	struct sc_db *db = NULL;
	bool lost;
	int rc;

	if (!r) {
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		return NULL;
	}
	r->o = *o;
	r->input = strdup(input);
	if (sc_load_is_db(input)) {
		sc_diag_set(diag, SC_EUNSUPP, 0, "%s: replay needs the capture, not a database: it sends the recorded bytes",
			    input);
		goto fail;
	}
	db = sc_load_input(input, ao.max_body, &lost, diag);
	if (!db)
		goto fail;
	rc = load_conns(r, sc_db_handle(db));
	sc_db_close(db);
	db = NULL;
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "%s: reading the analysis: %s", input, sc_strerror(rc));
		goto fail;
	}
	g.r = r;
	sc_u64map_init(&g.by_source);
	for (size_t i = 0; i < r->nconns; i++)
		if (sc_u64map_put(&g.by_source, r->conns[i].source_id, &r->conns[i]) < 0) {
			sc_u64map_fini(&g.by_source);
			sc_diag_set(diag, -ENOMEM, 0, "out of memory");
			goto fail;
		}
	memset(&res, 0, sizeof(res));
	rc = sc_streams_file(input, &ao, &ops, &res, diag);
	sc_u64map_fini(&g.by_source);
	if (rc < 0)
		goto fail;
	build_requests(r);
	for (size_t i = 0; i < r->nconns; i++)
		r->nplan += r->conns[i].nreqs;
	r->plan = calloc(r->nplan ? r->nplan : 1, sizeof(*r->plan));
	if (!r->plan) {
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		goto fail;
	}
	{
		struct rreq **tmp = (struct rreq **)r->plan;
		size_t n = 0;

		for (size_t i = 0; i < r->nconns; i++)
			for (size_t j = 0; j < r->conns[i].nreqs; j++)
				tmp[n++] = &r->conns[i].reqs[j];
		qsort(tmp, n, sizeof(*tmp), cmp_plan);
	}
	return r;
fail:
	sc_db_close(db);
	sc_replay_free(r);
	return NULL;
}

void sc_replay_free(struct sc_replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nconns; i++) {
		struct rconn *k = &r->conns[i];

		for (size_t j = 0; j < k->nreqs; j++) {
			struct rreq *q = &k->reqs[j];

			for (size_t h = 0; h < q->nhdrs; h++) {
				free(q->hdrs[h].name);
				free(q->hdrs[h].value);
			}
			free(q->hdrs);
			free(q->body);
		}
		free(k->reqs);
		free(k->client);
		free(k->gaps);
	}
	free(r->conns);
	free(r->plan);
	free(r->input);
	free(r);
}

size_t sc_replay_nreq(const struct sc_replay *r)
{
	return r->nplan;
}

const struct sc_replay_req *sc_replay_req(const struct sc_replay *r, size_t i)
{
	return i < r->nplan ? &((struct rreq *)r->plan[i])->info : NULL;
}

/* ---- running: recording what goes over the wire ----------------------------------------- */

struct wire {
	struct sc_replay *r;
	struct rconn *k;
	int fd;
	uint64_t sock_id;
	uint64_t off[2]; /* bytes sent, received */
	bool failed;
	char err[160];
};

static void wire_fail(struct wire *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void wire_fail(struct wire *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static void record(struct sc_replay *r, const struct sc_skc_rec *rec)
{
	pthread_mutex_lock(&r->mu);
	if (!r->werr) {
		int rc = sc_skc_write(r->w, rec);

		if (rc < 0)
			r->werr = rc;
	}
	pthread_mutex_unlock(&r->mu);
}

static void record_data(struct wire *w, unsigned dir, const uint8_t *p, size_t n)
{
	struct sc_skc_rec rec = { .type = SC_SKC_DATA };

	if (!n)
		return;
	rec.u.data.sock_id = w->sock_id;
	rec.u.data.ts_ns = mono_ns();
	rec.u.data.offset = w->off[dir];
	rec.u.data.pid = rec.u.data.tid = (uint32_t)getpid();
	rec.u.data.orig_len = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
	rec.u.data.cap_len = rec.u.data.orig_len;
	rec.u.data.dir = (uint8_t)dir;
	rec.u.data.syscall = SC_SYS_USER;
	rec.u.data.payload = p;
	record(w->r, &rec);
	w->off[dir] += n;
}

static int send_all(struct wire *w, const uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = send(w->fd, p + done, n - done, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			wire_fail(w, "send: %s", strerror(errno));
			return -errno;
		}
		done += (size_t)k;
	}
	record_data(w, SC_DIR_EGRESS, p, n);
	return 0;
}

/* Receive into buf; 0 at EOF, -ETIMEDOUT, -errno. */
static ssize_t recv_some(struct wire *w, uint8_t *buf, size_t cap)
{
	struct pollfd pfd = { w->fd, POLLIN, 0 };
	uint64_t timeout = w->r->o.timeout_ms ? w->r->o.timeout_ms : 10000;
	ssize_t n;
	int rc;

	do
		rc = poll(&pfd, 1, (int)timeout);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		wire_fail(w, "no answer within %" PRIu64 " ms", timeout);
		return -ETIMEDOUT;
	}
	do
		n = recv(w->fd, buf, cap, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		wire_fail(w, "recv: %s", strerror(errno));
		return -errno;
	}
	record_data(w, SC_DIR_INGRESS, buf, (size_t)n);
	return n;
}

static void pace(struct sc_replay *r, uint64_t rec_start)
{
	if (r->o.speed <= 0 || !rec_start || rec_start < r->rec_t0)
		return;
	uint64_t due = r->run_t0 + (uint64_t)((double)(rec_start - r->rec_t0) / r->o.speed);
	uint64_t now = mono_ns();

	if (due > now) {
		struct timespec ts = { (time_t)((due - now) / 1000000000u), (long)((due - now) % 1000000000u) };

		nanosleep(&ts, NULL);
	}
}

/* Read one whole HTTP/1 response (interim ones included) from the target.
 * `rbuf` keeps bytes past it for the next response. */
struct rbuf {
	uint8_t *p;
	size_t len, cap;
};

static int rbuf_fill(struct wire *w, struct rbuf *b)
{
	ssize_t n;

	if (b->len == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 65536;
		uint8_t *np;

		if (ncap > (SC_H1_MAX_HEAD + (1u << 20)))
			ncap = SC_H1_MAX_HEAD + (1u << 20);
		if (ncap <= b->cap) {
			wire_fail(w, "response head too large");
			return -E2BIG;
		}
		np = realloc(b->p, ncap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = ncap;
	}
	n = recv_some(w, b->p + b->len, b->cap - b->len);
	if (n <= 0)
		return n < 0 ? (int)n : 0;
	b->len += (size_t)n;
	return 1;
}

static void rbuf_drop(struct rbuf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static int read_response(struct wire *w, struct rbuf *b, const char *method, bool *closed)
{
	struct sc_h1_head hd;
	struct sc_diag d = { 0 };
	struct sc_view m = { (const uint8_t *)method, strlen(method) };

	for (;;) {
		size_t last = 0;
		int r;

		for (;;) {
			r = sc_h1_parse_head(b->p, b->len, last, false, &hd, &d);
			if (r != SC_EAGAIN)
				break;
			last = b->len;
			int f = rbuf_fill(w, b);

			if (f <= 0) {
				if (f == 0)
					wire_fail(w, "the target closed the connection before a response");
				return -EIO;
			}
		}
		if (r < 0) {
			wire_fail(w, "bad response from the target: %s", d.msg);
			return -EPROTO;
		}
		rbuf_drop(b, (size_t)r);
		if (hd.status >= 100 && hd.status < 200 && hd.status != 101)
			continue; /* interim */
		uint64_t len;
		struct sc_h1_body body;
		enum sc_h1_body_kind kind = sc_h1_response_body(&hd, m, &len);
		bool done = false;

		*closed = !sc_h1_persistent(&hd);
		if (kind == SC_H1_BODY_TUNNEL)
			return 0;
		sc_h1_body_init(&body, kind, len);
		for (;;) {
			long used = sc_h1_body_feed(&body, b->p, b->len, NULL, NULL, &done, &d);

			if (used < 0) {
				wire_fail(w, "bad response body from the target: %s", d.msg);
				return -EPROTO;
			}
			rbuf_drop(b, (size_t)used);
			if (done)
				return 0;
			int f = rbuf_fill(w, b);

			if (f < 0)
				return -EIO;
			if (f == 0) {
				*closed = true;
				if (sc_h1_body_finish(&body, &d) == 0)
					return 0;
				wire_fail(w, "the target closed the connection inside a response");
				return -EIO;
			}
		}
	}
}

static void run_h1(struct wire *w)
{
	struct rconn *k = w->k;
	struct rbuf b = { 0 };

	for (size_t j = 0; j < k->nreqs && !w->failed; j++) {
		struct rreq *q = &k->reqs[j];
		bool closed = false;

		if (q->info.skipped)
			continue;
		pace(w->r, q->rec_start);
		if (send_all(w, q->raw, q->rawlen) < 0)
			break;
		pthread_mutex_lock(&w->r->mu);
		w->r->res->requests++;
		pthread_mutex_unlock(&w->r->mu);
		if (read_response(w, &b, q->info.method, &closed) < 0 || closed)
			break;
	}
	free(b.p);
}

/* ---- HTTP/2 through nghttp2 ---------------------------------------------------------- */

struct h2run {
	struct wire *w;
	nghttp2_session *s;
	size_t open_streams;
};

static ssize_t h2_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
	struct h2run *h = user;

	(void)s;
	(void)flags;
	return send_all(h->w, data, len) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : (ssize_t)len;
}

static int h2_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct h2run *h = user;

	(void)s;
	(void)id;
	(void)code;
	if (h->open_streams)
		h->open_streams--;
	return 0;
}

struct body_src {
	const uint8_t *p;
	size_t len, off;
};

static ssize_t h2_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			    nghttp2_data_source *src, void *user)
{
	struct body_src *b = src->ptr;
	size_t n = b->len - b->off < len ? b->len - b->off : len;

	(void)s;
	(void)id;
	(void)user;
	memcpy(buf, b->p + b->off, n);
	b->off += n;
	if (b->off == b->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static void run_h2(struct wire *w)
{
	struct rconn *k = w->k;
	nghttp2_session_callbacks *cb;
	struct h2run h = { w, NULL, 0 };
	struct body_src *bodies = calloc(k->nreqs ? k->nreqs : 1, sizeof(*bodies));
	uint8_t buf[65536];
	int rc;

	if (!bodies || nghttp2_session_callbacks_new(&cb) != 0) {
		free(bodies);
		wire_fail(w, "out of memory");
		return;
	}
	nghttp2_session_callbacks_set_send_callback(cb, h2_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_stream_close);
	rc = nghttp2_session_client_new(&h.s, cb, &h);
	nghttp2_session_callbacks_del(cb);
	if (rc != 0) {
		free(bodies);
		wire_fail(w, "nghttp2: %s", nghttp2_strerror(rc));
		return;
	}
	if (k->proto == RP_H2C) {
		/* The recorded HTTP/1.1 upgrade request, then its 101, then the
		 * rest in HTTP/2 with stream 1 answering the upgrade request. */
		struct rbuf b = { 0 };
		bool closed = false;

		pace(w->r, k->nreqs ? k->reqs[0].rec_start : 0);
		if (send_all(w, k->upgrade_raw, k->upgrade_len) < 0 || read_response(w, &b, "GET", &closed) < 0)
			goto out;
		rc = nghttp2_session_upgrade2(h.s, k->settings, k->settings_len, 0, NULL);
		if (rc != 0) {
			wire_fail(w, "nghttp2 upgrade: %s", nghttp2_strerror(rc));
			free(b.p);
			goto out;
		}
		h.open_streams++;
		pthread_mutex_lock(&w->r->mu);
		w->r->res->requests++;
		pthread_mutex_unlock(&w->r->mu);
		if (b.len && nghttp2_session_mem_recv(h.s, b.p, b.len) < 0)
			wire_fail(w, "nghttp2: bad frames after the upgrade");
		free(b.p);
	}
	nghttp2_submit_settings(h.s, NGHTTP2_FLAG_NONE, NULL, 0);
	for (size_t j = 0; j < k->nreqs && !w->failed; j++) {
		struct rreq *q = &k->reqs[j];
		nghttp2_nv *nva;
		nghttp2_data_provider dp;

		if (q->info.skipped || (k->proto == RP_H2C && q->stream_id == 1))
			continue;
		pace(w->r, q->rec_start);
		nva = calloc(q->nhdrs ? q->nhdrs : 1, sizeof(*nva));
		if (!nva) {
			wire_fail(w, "out of memory");
			break;
		}
		for (size_t i = 0; i < q->nhdrs; i++) {
			nva[i].name = (uint8_t *)q->hdrs[i].name;
			nva[i].namelen = q->hdrs[i].nlen;
			nva[i].value = (uint8_t *)q->hdrs[i].value;
			nva[i].valuelen = q->hdrs[i].vlen;
			nva[i].flags = NGHTTP2_NV_FLAG_NONE;
		}
		bodies[j] = (struct body_src){ q->body, q->bodylen, 0 };
		dp.source.ptr = &bodies[j];
		dp.read_callback = h2_read_body;
		rc = nghttp2_submit_request(h.s, NULL, nva, q->nhdrs, q->bodylen ? &dp : NULL, NULL);
		free(nva);
		if (rc < 0) {
			wire_fail(w, "nghttp2 request: %s", nghttp2_strerror(rc));
			break;
		}
		h.open_streams++;
		pthread_mutex_lock(&w->r->mu);
		w->r->res->requests++;
		pthread_mutex_unlock(&w->r->mu);
		if (w->r->o.speed > 0 && nghttp2_session_send(h.s) != 0)
			break;
	}
	while (!w->failed && (nghttp2_session_want_write(h.s) || h.open_streams)) {
		ssize_t n;

		if (nghttp2_session_send(h.s) != 0) {
			wire_fail(w, "nghttp2: send failed");
			break;
		}
		if (!h.open_streams)
			break;
		n = recv_some(w, buf, sizeof(buf));
		if (n <= 0) {
			if (n == 0)
				wire_fail(w, "the target closed the connection with %zu streams open", h.open_streams);
			break;
		}
		if (nghttp2_session_mem_recv(h.s, buf, (size_t)n) < 0) {
			wire_fail(w, "nghttp2: bad frames from the target");
			break;
		}
	}
	if (!w->failed) {
		nghttp2_session_terminate_session(h.s, NGHTTP2_NO_ERROR);
		nghttp2_session_send(h.s);
	}
out:
	nghttp2_session_del(h.s);
	free(bodies);
}

/* ---- connections ---------------------------------------------------------------------- */

static void endpoint_of(const struct sockaddr_storage *ss, uint8_t *family, struct sc_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		*family = SC_AF_INET;
		ep->port = ntohs(a->sin_port);
		memcpy(ep->addr, &a->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		*family = SC_AF_INET6;
		ep->port = ntohs(a->sin6_port);
		memcpy(ep->addr, &a->sin6_addr, 16);
	}
}

static void *conn_thread(void *arg)
{
	struct wire *w = arg;
	struct sc_replay *r = w->r;
	struct sc_skc_rec rec = { .type = SC_SKC_SOCK_OPEN };
	struct sockaddr_storage la;
	socklen_t ll = sizeof(la);
	int one = 1;

	w->fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0 || connect(w->fd, (struct sockaddr *)&r->addr, r->addrlen) < 0) {
		wire_fail(w, "connect: %s", strerror(errno));
		goto done;
	}
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	getsockname(w->fd, (struct sockaddr *)&la, &ll);
	rec.u.open.sock_id = w->sock_id;
	rec.u.open.ts_ns = mono_ns();
	rec.u.open.pid = rec.u.open.tid = (uint32_t)getpid();
	rec.u.open.fd = w->fd;
	rec.u.open.how = SC_HOW_CONNECT;
	rec.u.open.sock_type = SC_SOCK_STREAM;
	endpoint_of(&la, &rec.u.open.family, &rec.u.open.local);
	endpoint_of(&r->addr, &rec.u.open.family, &rec.u.open.remote);
	record(r, &rec);
	if (w->k->proto == RP_H1)
		run_h1(w);
	else
		run_h2(w);
	memset(&rec, 0, sizeof(rec));
	rec.type = SC_SKC_SOCK_CLOSE;
	rec.u.close.sock_id = w->sock_id;
	rec.u.close.ts_ns = mono_ns();
	rec.u.close.sent_bytes = w->off[0];
	rec.u.close.recv_bytes = w->off[1];
	rec.u.close.pid = rec.u.close.tid = (uint32_t)getpid();
	record(r, &rec);
done:
	if (w->fd >= 0)
		close(w->fd);
	pthread_mutex_lock(&r->mu);
	if (w->failed) {
		r->res->failed_conns++;
		if (!r->res->first_error[0])
			snprintf(r->res->first_error, sizeof(r->res->first_error), "recorded connection %" PRIu64 ": %s",
				 w->k->id, w->err);
	}
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->slots_mu);
	r->running--;
	pthread_cond_broadcast(&r->slots_cv);
	pthread_mutex_unlock(&r->slots_mu);
	return NULL;
}

static int resolve(struct sc_replay *r, struct sc_diag *diag)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[8];
	int rc;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", r->o.port);
	rc = getaddrinfo(r->o.host, port, &hints, &ai);
	if (rc != 0)
		return sc_diag_set(diag, -EINVAL, 0, "target %s:%s: %s", r->o.host, port, gai_strerror(rc));
	memcpy(&r->addr, ai->ai_addr, ai->ai_addrlen);
	r->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int sc_replay_run(struct sc_replay *r, struct sc_replay_result *res, struct sc_diag *diag)
{
	struct sc_skc_writer_opts wo = { .overwrite = r->o.overwrite };
	struct sc_skc_rec rec = { .type = SC_SKC_CAPTURE_INFO };
	struct sc_skc_rec proc = { .type = SC_SKC_PROCESS };
	struct utsname un;
	struct wire *wires;
	pthread_t *th;
	char opts[512], tool[64];
	unsigned maxp = r->o.max_parallel ? r->o.max_parallel : 32;
	int err = 0, rc;

	memset(res, 0, sizeof(*res));
	r->res = res;
	rc = resolve(r, diag);
	if (rc < 0)
		return rc;
	r->w = sc_skc_writer_open(r->o.out, &wo, &err);
	if (!r->w) {
		if (err == -EEXIST)
			return sc_diag_set(diag, err, 0, "%s exists; use -f to replace it", r->o.out);
		return sc_diag_set(diag, err, 0, "%s: %s", r->o.out, sc_strerror(err));
	}
	uname(&un);
	snprintf(opts, sizeof(opts), "replay %s --target %s:%u", r->input, r->o.host, r->o.port);
	snprintf(tool, sizeof(tool), "sockcap %s (replay)", PACKAGE_VERSION);
	rec.u.info.start_real_ns = real_ns();
	rec.u.info.start_mono_ns = mono_ns();
	rec.u.info.hostname = (struct sc_view){ (const uint8_t *)un.nodename, strlen(un.nodename) };
	rec.u.info.kernel = (struct sc_view){ (const uint8_t *)un.release, strlen(un.release) };
	rec.u.info.tool = (struct sc_view){ (const uint8_t *)tool, strlen(tool) };
	rec.u.info.options = (struct sc_view){ (const uint8_t *)opts, strlen(opts) };
	proc.u.proc.ts_ns = rec.u.info.start_mono_ns;
	proc.u.proc.pid = proc.u.proc.tid = (uint32_t)getpid();
	proc.u.proc.ppid = (uint32_t)getppid();
	proc.u.proc.comm = (struct sc_view){ (const uint8_t *)"sockcap", 7 };
	rc = sc_skc_write(r->w, &rec);
	if (!rc)
		rc = sc_skc_write(r->w, &proc);
	if (rc < 0) {
		sc_skc_writer_abandon(r->w);
		return sc_diag_set(diag, rc, 0, "%s: %s", r->o.out, sc_strerror(rc));
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->slots_mu, NULL);
	pthread_cond_init(&r->slots_cv, NULL);
	wires = calloc(r->nconns ? r->nconns : 1, sizeof(*wires));
	th = calloc(r->nconns ? r->nconns : 1, sizeof(*th));
	if (!wires || !th) {
		free(wires);
		free(th);
		sc_skc_writer_abandon(r->w);
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	}
	r->run_t0 = mono_ns();
	for (size_t i = 0; i < r->nplan; i++)
		if (((struct rreq *)r->plan[i])->info.skipped)
			res->skipped++;
	for (size_t i = 0; i < r->nconns; i++) {
		struct rconn *k = &r->conns[i];
		bool any = false;

		for (size_t j = 0; j < k->nreqs; j++)
			any |= !k->reqs[j].info.skipped;
		if (!any)
			continue;
		/* Start each connection when its first request was recorded
		 * (with --speed), at most max_parallel at once. */
		pace(r, k->nreqs ? k->reqs[0].rec_start : 0);
		pthread_mutex_lock(&r->slots_mu);
		while (r->running >= maxp)
			pthread_cond_wait(&r->slots_cv, &r->slots_mu);
		r->running++;
		pthread_mutex_unlock(&r->slots_mu);
		wires[i] = (struct wire){ r, k, -1, ++r->next_sock, { 0, 0 }, false, "" };
		res->connections++;
		if (pthread_create(&th[i], NULL, conn_thread, &wires[i]) != 0) {
			wires[i].r = NULL;
			pthread_mutex_lock(&r->slots_mu);
			r->running--;
			pthread_mutex_unlock(&r->slots_mu);
			res->failed_conns++;
		}
	}
	for (size_t i = 0; i < r->nconns; i++)
		if (wires[i].r)
			pthread_join(th[i], NULL);
	free(wires);
	free(th);
	rc = r->werr;
	{
		int rc2 = sc_skc_writer_close(r->w, real_ns(), mono_ns());

		if (!rc)
			rc = rc2;
	}
	r->w = NULL;
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->slots_mu);
	pthread_cond_destroy(&r->slots_cv);
	if (rc < 0)
		return sc_diag_set(diag, rc, 0, "%s: %s", r->o.out, sc_strerror(rc));
	return 0;
}
