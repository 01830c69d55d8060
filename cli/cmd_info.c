/* cmd_info.c - `sockcap info`: what a user asks first about a capture. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/sc_pcap.h"
#include "formats/sc_u64map.h"
#include "formats/skc.h"

#define TEXT_LIST_MAX 50 /* rows per table in text output; --json lists all */

struct info_opts {
	bool json;
	bool all;
};

static void usage(FILE *out)
{
	fputs("Usage: sockcap info [--json] [--all] FILE...\n\n"
	      "Summarize capture files (.skc, pcap, pcapng; detected by content): time range,\n"
	      "processes, sockets or connections, bytes per direction, records, losses by\n"
	      "reason, and any damage found.  A damaged or truncated file is read to the end:\n"
	      "everything readable is summarized and each damaged region is reported on stderr.\n\n"
	      "Options:\n"
	      "  -j, --json   print one JSON object per file\n"
	      "  -a, --all    list every process and socket (text output lists the first 50)\n"
	      "  -h, --help   show this help\n", out);
	sc_cli_exit_codes_help(out);
}

static void fmt_wall(char *buf, size_t n, uint64_t ns)
{
	sc_time_fmt(buf, n, ns, 1);
}

/* ---- .skc ----------------------------------------------------------------------- */

struct proc_ent {
	uint32_t pid, ppid;
	char comm[32];
};

struct sock_ent {
	uint64_t id;
	bool have_open, closed;
	struct sc_skc_sock_open open; /* views cleared: they do not outlive the record */
	uint32_t pid;
	uint64_t bytes[2];   /* captured, by direction */
	uint64_t lost[2];    /* LOSS bytes, by direction (unknown direction counted apart) */
	uint64_t end[2];     /* highest stream offset reached */
	uint64_t closed_len[2];
	uint64_t records;
};

struct skc_summary {
	struct sc_u64map procs, socks;
	struct sc_skc_capture_info info;
	char hostname[256], kernel[256], tool[128], options[1024];
	bool have_info;
	uint64_t first_ts, last_ts;
	bool have_ts;
	struct sc_skc_trailer trailer;
	bool have_trailer;
	uint64_t lost_unattributed; /* LOSS bytes with unknown socket or direction */
};

static void copy_view(char *dst, size_t n, struct sc_view v)
{
	size_t k = v.len < n - 1 ? v.len : n - 1;

	if (k)
		memcpy(dst, v.p, k);
	dst[k] = '\0';
}

static struct sock_ent *sock_get(struct skc_summary *s, uint64_t id)
{
	struct sock_ent *e = sc_u64map_get(&s->socks, id);

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->id = id;
	if (sc_u64map_put(&s->socks, id, e) < 0) {
		free(e);
		return NULL;
	}
	return e;
}

static void see_ts(struct skc_summary *s, uint64_t ts)
{
	if (!ts)
		return;
	if (!s->have_ts || ts < s->first_ts)
		s->first_ts = ts;
	if (!s->have_ts || ts > s->last_ts)
		s->last_ts = ts;
	s->have_ts = true;
}

static int skc_collect(struct skc_summary *s, const struct sc_skc_rec *rec)
{
	switch (rec->type) {
	case SC_SKC_CAPTURE_INFO:
		if (s->have_info)
			break;
		s->info = rec->u.info;
		copy_view(s->hostname, sizeof(s->hostname), rec->u.info.hostname);
		copy_view(s->kernel, sizeof(s->kernel), rec->u.info.kernel);
		copy_view(s->tool, sizeof(s->tool), rec->u.info.tool);
		copy_view(s->options, sizeof(s->options), rec->u.info.options);
		s->have_info = true;
		break;
	case SC_SKC_PROCESS: {
		struct proc_ent *p = sc_u64map_get(&s->procs, rec->u.proc.pid);

		if (!p) {
			p = calloc(1, sizeof(*p));
			if (!p || sc_u64map_put(&s->procs, rec->u.proc.pid, p) < 0) {
				free(p);
				return -ENOMEM;
			}
		}
		p->pid = rec->u.proc.pid;
		p->ppid = rec->u.proc.ppid;
		copy_view(p->comm, sizeof(p->comm), rec->u.proc.comm);
		see_ts(s, rec->u.proc.ts_ns);
		break;
	}
	case SC_SKC_SOCK_OPEN: {
		struct sock_ent *e = sock_get(s, rec->u.open.sock_id);

		if (!e)
			return -ENOMEM;
		e->open = rec->u.open;
		e->open.unix_path.p = NULL;
		e->open.unix_path.len = 0;
		e->have_open = true;
		e->pid = rec->u.open.pid;
		see_ts(s, rec->u.open.ts_ns);
		break;
	}
	case SC_SKC_DATA: {
		const struct sc_skc_data *d = &rec->u.data;
		struct sock_ent *e = sock_get(s, d->sock_id);
		unsigned dir = d->dir ? 1 : 0;

		if (!e)
			return -ENOMEM;
		e->bytes[dir] += d->cap_len;
		if (d->offset + d->cap_len > e->end[dir])
			e->end[dir] = d->offset + d->cap_len;
		e->records++;
		if (!e->pid)
			e->pid = d->pid;
		see_ts(s, d->ts_ns);
		break;
	}
	case SC_SKC_SOCK_CLOSE: {
		struct sock_ent *e = sock_get(s, rec->u.close.sock_id);

		if (!e)
			return -ENOMEM;
		e->closed = true;
		e->closed_len[0] = rec->u.close.sent_bytes;
		e->closed_len[1] = rec->u.close.recv_bytes;
		see_ts(s, rec->u.close.ts_ns);
		break;
	}
	case SC_SKC_LOSS: {
		const struct sc_skc_loss *l = &rec->u.loss;
		struct sock_ent *e = l->sock_id ? sock_get(s, l->sock_id) : NULL;

		if (l->sock_id && !e)
			return -ENOMEM;
		if (e && (l->dir == SC_DIR_EGRESS || l->dir == SC_DIR_INGRESS)) {
			e->lost[l->dir] += l->len;
			if (l->offset + l->len > e->end[l->dir])
				e->end[l->dir] = l->offset + l->len;
		} else {
			s->lost_unattributed += l->len;
		}
		see_ts(s, l->ts_ns);
		break;
	}
	case SC_SKC_TRAILER:
		s->trailer = rec->u.trailer;
		s->have_trailer = true;
		break;
	}
	return 0;
}

static uint64_t wall_of(const struct skc_summary *s, uint64_t mono)
{
	if (!s->have_info)
		return mono;
	return s->info.start_real_ns + (mono - s->info.start_mono_ns);
}

static int cmp_sock(const void *a, const void *b)
{
	const struct sock_ent *x = *(const struct sock_ent *const *)a, *y = *(const struct sock_ent *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_ent *x = *(const struct proc_ent *const *)a, *y = *(const struct proc_ent *const *)b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void **map_sorted(const struct sc_u64map *m, int (*cmp)(const void *, const void *))
{
	void **v = calloc(m->n ? m->n : 1, sizeof(*v));
	size_t pos = 0, i = 0;
	uint64_t k;
	void *val;

	if (!v)
		return NULL;
	while (sc_u64map_next(m, &pos, &k, &val))
		v[i++] = val;
	qsort(v, i, sizeof(*v), cmp);
	return v;
}

static const char *comm_of(const struct skc_summary *s, uint32_t pid)
{
	const struct proc_ent *p = sc_u64map_get(&s->procs, pid);

	return p ? p->comm : "?";
}

/* Stream bytes neither captured nor described by a LOSS record: a recorder
 * bug or records lost in damage.  Counted from the highest offset reached and
 * from the stream lengths in SOCK_CLOSE. */
static uint64_t unaccounted(const struct sock_ent *e, unsigned dir)
{
	uint64_t have = e->bytes[dir] + e->lost[dir];
	uint64_t end = e->end[dir];

	if (e->closed && e->closed_len[dir] > end)
		end = e->closed_len[dir];
	return end > have ? end - have : 0;
}

static const char *skc_status(const struct sc_skc_stats *st)
{
	if (st->damaged_blocks)
		return "damaged";
	if (st->unfinished)
		return "unfinished";
	return "complete";
}

static void print_skc_text(const char *path, struct sc_skc_reader *r, struct skc_summary *s,
			   struct sock_ent **socks, struct proc_ent **procs, const struct info_opts *o)
{
	const struct sc_skc_stats *st = sc_skc_reader_stats(r);
	unsigned major, minor;
	char t1[SC_TIME_STRLEN], t2[SC_TIME_STRLEN];
	uint64_t sent = 0, recv = 0, lost_sent = 0, lost_recv = 0, nconn = 0, nacc = 0, nexist = 0;
	uint64_t unacc = 0;

	sc_skc_reader_version(r, &major, &minor);
	printf("file:       %s\n", path);
	printf("format:     sockcap capture (.skc) %u.%u, %" PRIu64 " bytes, %" PRIu64 " blocks, %" PRIu64
	       " bytes of records\n", major, minor, st->file_bytes, st->blocks, st->raw_bytes);
	printf("status:     %s", skc_status(st));
	if (st->unfinished)
		printf(" (no trailer: the recorder did not stop cleanly)");
	putchar('\n');
	if (s->have_info) {
		char h[SC_CLI_ESC_LEN(sizeof(s->hostname))], k[SC_CLI_ESC_LEN(sizeof(s->kernel))];
		char t[SC_CLI_ESC_LEN(sizeof(s->tool))], op[SC_CLI_ESC_LEN(sizeof(s->options))];

		printf("recorded:   on %s (Linux %s) by %s\n", sc_cli_esc(h, sizeof(h), s->hostname, strlen(s->hostname)),
		       sc_cli_esc(k, sizeof(k), s->kernel, strlen(s->kernel)),
		       sc_cli_esc(t, sizeof(t), s->tool, strlen(s->tool)));
		printf("options:    %s\n", s->options[0] ? sc_cli_esc(op, sizeof(op), s->options, strlen(s->options)) : "-");
		if (s->info.snaplen)
			printf("snaplen:    %" PRIu32 " bytes per syscall\n", s->info.snaplen);
	}
	if (s->have_ts) {
		fmt_wall(t1, sizeof(t1), wall_of(s, s->first_ts));
		fmt_wall(t2, sizeof(t2), wall_of(s, s->last_ts));
		printf("time:       %s .. %s (%.9f s)\n", t1, t2, (double)(s->last_ts - s->first_ts) / 1e9);
	}
	printf("records:    %" PRIu64 " (capture_info %" PRIu64 ", process %" PRIu64 ", sock_open %" PRIu64
	       ", data %" PRIu64 ", sock_close %" PRIu64 ", loss %" PRIu64 ", trailer %" PRIu64 ")",
	       st->records, st->by_type[SC_SKC_CAPTURE_INFO], st->by_type[SC_SKC_PROCESS],
	       st->by_type[SC_SKC_SOCK_OPEN], st->by_type[SC_SKC_DATA], st->by_type[SC_SKC_SOCK_CLOSE],
	       st->by_type[SC_SKC_LOSS], st->by_type[SC_SKC_TRAILER]);
	if (st->unknown_records)
		printf(", %" PRIu64 " of unknown types skipped", st->unknown_records);
	if (st->malformed_records)
		printf(", %" PRIu64 " malformed skipped", st->malformed_records);
	putchar('\n');

	printf("processes:  %zu\n", s->procs.n);
	for (size_t i = 0; i < s->procs.n && (o->all || i < TEXT_LIST_MAX); i++) {
		char c[SC_CLI_ESC_LEN(sizeof(procs[i]->comm))];

		printf("  %-8" PRIu32 " %-16s ppid %" PRIu32 "\n", procs[i]->pid,
		       sc_cli_esc(c, sizeof(c), procs[i]->comm, strlen(procs[i]->comm)), procs[i]->ppid);
	}
	if (!o->all && s->procs.n > TEXT_LIST_MAX)
		printf("  ... %zu more (--all lists them)\n", s->procs.n - TEXT_LIST_MAX);

	for (size_t i = 0; i < s->socks.n; i++) {
		const struct sock_ent *e = socks[i];

		sent += e->bytes[0];
		recv += e->bytes[1];
		lost_sent += e->lost[0];
		lost_recv += e->lost[1];
		unacc += unaccounted(e, 0) + unaccounted(e, 1);
		if (e->have_open && e->open.how == SC_HOW_CONNECT)
			nconn++;
		else if (e->have_open && e->open.how == SC_HOW_ACCEPT)
			nacc++;
		else
			nexist++;
	}
	printf("sockets:    %zu (connect %" PRIu64 ", accept %" PRIu64 ", existing or unknown %" PRIu64 ")\n",
	       s->socks.n, nconn, nacc, nexist);
	if (s->socks.n)
		printf("  %-6s %-22s %-9s %-24s %-24s %12s %12s %10s\n", "id", "pid/comm", "how", "local", "remote",
		       "sent", "received", "lost");
	for (size_t i = 0; i < s->socks.n && (o->all || i < TEXT_LIST_MAX); i++) {
		const struct sock_ent *e = socks[i];
		const char *comm = comm_of(s, e->pid);
		char pc[SC_CLI_ESC_LEN(32) + 16], c[SC_CLI_ESC_LEN(32)], l[SC_EP_STRLEN], rm[SC_EP_STRLEN];

		snprintf(pc, sizeof(pc), "%" PRIu32 "/%s", e->pid, sc_cli_esc(c, sizeof(c), comm, strlen(comm)));
		if (e->have_open) {
			sc_endpoint_fmt(l, sizeof(l), e->open.family, &e->open.local);
			sc_endpoint_fmt(rm, sizeof(rm), e->open.family, &e->open.remote);
			if (e->open.family == SC_AF_UNIX) {
				snprintf(l, sizeof(l), "unix");
				snprintf(rm, sizeof(rm), "unix");
			}
		} else {
			snprintf(l, sizeof(l), "?");
			snprintf(rm, sizeof(rm), "?");
		}
		printf("  %-6" PRIu64 " %-22s %-9s %-24s %-24s %12" PRIu64 " %12" PRIu64 " %10" PRIu64 "%s%s\n", e->id,
		       pc, e->have_open ? sc_how_name(e->open.how) : "unseen", l, rm, e->bytes[0], e->bytes[1],
		       e->lost[0] + e->lost[1], e->have_open && (e->open.flags & SC_SOCK_F_MIDSTREAM) ? " mid-stream" : "",
		       e->closed ? "" : " open");
	}
	if (!o->all && s->socks.n > TEXT_LIST_MAX)
		printf("  ... %zu more (--all lists them)\n", s->socks.n - TEXT_LIST_MAX);

	printf("bytes:      sent %" PRIu64 " captured + %" PRIu64 " lost, received %" PRIu64 " captured + %" PRIu64
	       " lost\n", sent, lost_sent, recv, lost_recv);
	printf("losses:    ");
	bool any = false;

	for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++) {
		if (!st->lost_bytes[k] && !st->lost_events[k])
			continue;
		printf("%s %s %" PRIu64 " bytes", any ? "," : "", sc_loss_reason_name(k), st->lost_bytes[k]);
		if (st->lost_events[k])
			printf(" and %" PRIu64 " events", st->lost_events[k]);
		any = true;
	}
	printf("%s\n", any ? "" : " none");
	if (s->lost_unattributed)
		printf("            %" PRIu64 " lost bytes are not attributed to a socket direction\n",
		       s->lost_unattributed);
	if (unacc)
		printf("unaccounted: %" PRIu64 " stream bytes are neither captured nor in a loss record\n", unacc);
	printf("damage:     ");
	if (!st->damaged_blocks) {
		printf("none\n");
	} else {
		printf("%" PRIu64 " regions, %" PRIu64 " bytes skipped, %" PRIu64 " records lost", st->damaged_blocks,
		       st->damaged_bytes, st->damaged_records);
		if (st->damaged_unknown)
			printf(" (and %" PRIu64 " regions with an unknown number of records)", st->damaged_unknown);
		putchar('\n');
	}
}

static void print_skc_json(const char *path, struct sc_skc_reader *r, struct skc_summary *s,
			   struct sock_ent **socks, struct proc_ent **procs)
{
	const struct sc_skc_stats *st = sc_skc_reader_stats(r);
	unsigned major, minor;
	static const char *const tnames[] = { "", "capture_info", "process", "sock_open", "data",
					      "sock_close", "loss", "trailer" };

	sc_skc_reader_version(r, &major, &minor);
	printf("{\"file\":");
	sc_cli_json_str(stdout, path, strlen(path));
	printf(",\"format\":\"skc\",\"version\":\"%u.%u\",\"status\":\"%s\",\"file_bytes\":%" PRIu64
	       ",\"blocks\":%" PRIu64 ",\"record_bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"records_by_type\":{",
	       major, minor, skc_status(st), st->file_bytes, st->blocks, st->raw_bytes, st->records);
	for (unsigned t = 1; t <= SC_SKC_TYPE_MAX; t++)
		printf("%s\"%s\":%" PRIu64, t > 1 ? "," : "", tnames[t], st->by_type[t]);
	printf("},\"unknown_records\":%" PRIu64 ",\"malformed_records\":%" PRIu64, st->unknown_records,
	       st->malformed_records);
	if (s->have_info) {
		printf(",\"capture\":{\"hostname\":");
		sc_cli_json_str(stdout, s->hostname, strlen(s->hostname));
		printf(",\"kernel\":");
		sc_cli_json_str(stdout, s->kernel, strlen(s->kernel));
		printf(",\"tool\":");
		sc_cli_json_str(stdout, s->tool, strlen(s->tool));
		printf(",\"options\":");
		sc_cli_json_str(stdout, s->options, strlen(s->options));
		printf(",\"snaplen\":%" PRIu32 ",\"start_real_ns\":%" PRIu64 ",\"start_mono_ns\":%" PRIu64 "}",
		       s->info.snaplen, s->info.start_real_ns, s->info.start_mono_ns);
	}
	if (s->have_ts)
		printf(",\"time\":{\"first_ns\":%" PRIu64 ",\"last_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "}",
		       wall_of(s, s->first_ts), wall_of(s, s->last_ts), s->last_ts - s->first_ts);
	printf(",\"processes\":[");
	for (size_t i = 0; i < s->procs.n; i++) {
		printf("%s{\"pid\":%" PRIu32 ",\"ppid\":%" PRIu32 ",\"comm\":", i ? "," : "", procs[i]->pid,
		       procs[i]->ppid);
		sc_cli_json_str(stdout, procs[i]->comm, strlen(procs[i]->comm));
		putchar('}');
	}
	printf("],\"sockets\":[");
	uint64_t tot[2] = { 0, 0 }, lost[2] = { 0, 0 }, unacc = 0;

	for (size_t i = 0; i < s->socks.n; i++) {
		const struct sock_ent *e = socks[i];
		const char *comm = comm_of(s, e->pid);
		char l[SC_EP_STRLEN], rm[SC_EP_STRLEN];

		for (unsigned d = 0; d < 2; d++) {
			tot[d] += e->bytes[d];
			lost[d] += e->lost[d];
			unacc += unaccounted(e, d);
		}
		printf("%s{\"id\":%" PRIu64 ",\"pid\":%" PRIu32 ",\"comm\":", i ? "," : "", e->id, e->pid);
		sc_cli_json_str(stdout, comm, strlen(comm));
		if (e->have_open) {
			sc_endpoint_fmt(l, sizeof(l), e->open.family, &e->open.local);
			sc_endpoint_fmt(rm, sizeof(rm), e->open.family, &e->open.remote);
			printf(",\"fd\":%" PRId32 ",\"how\":\"%s\",\"family\":\"%s\",\"local\":\"%s\",\"remote\":\"%s\""
			       ",\"midstream\":%s", e->open.fd, sc_how_name(e->open.how), sc_family_name(e->open.family),
			       l, rm, (e->open.flags & SC_SOCK_F_MIDSTREAM) ? "true" : "false");
		}
		printf(",\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ",\"lost_sent\":%" PRIu64
		       ",\"lost_received\":%" PRIu64 ",\"unaccounted\":%" PRIu64 ",\"closed\":%s}",
		       e->bytes[0], e->bytes[1], e->lost[0], e->lost[1], unaccounted(e, 0) + unaccounted(e, 1),
		       e->closed ? "true" : "false");
	}
	printf("],\"bytes\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"captured\":%" PRIu64
	       ",\"lost_sent\":%" PRIu64 ",\"lost_received\":%" PRIu64 ",\"lost_unattributed\":%" PRIu64
	       ",\"unaccounted\":%" PRIu64 "},\"lost\":{",
	       tot[0], tot[1], st->bytes_captured, lost[0], lost[1], s->lost_unattributed, unacc);
	for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++)
		printf("%s\"%s\":{\"bytes\":%" PRIu64 ",\"events\":%" PRIu64 "}", k > 1 ? "," : "",
		       sc_loss_reason_name(k), st->lost_bytes[k], st->lost_events[k]);
	printf("},\"damage\":[");
	for (size_t i = 0; i < sc_skc_reader_ndamage(r); i++) {
		const struct sc_skc_damage *d = sc_skc_reader_damage(r, i);

		printf("%s{\"offset\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"records\":%" PRId64 ",\"message\":",
		       i ? "," : "", d->offset, d->bytes, d->records);
		sc_cli_json_str(stdout, d->msg, strlen(d->msg));
		putchar('}');
	}
	printf("]}\n");
}

/* Print damage to stderr and decide the exit status. */
static int skc_report(const char *path, struct sc_skc_reader *r, const struct skc_summary *s,
		      struct sock_ent **socks)
{
	const struct sc_skc_stats *st = sc_skc_reader_stats(r);
	struct sc_diag d = { 0 };
	int status = SC_EXIT_OK;
	uint64_t unacc = 0;

	for (size_t i = 0; i < sc_skc_reader_ndamage(r); i++)
		fprintf(stderr, "%s: %s\n", path, sc_skc_reader_damage(r, i)->msg);
	if (st->damaged_blocks > sc_skc_reader_ndamage(r))
		fprintf(stderr, "%s: ... and %" PRIu64 " more damaged regions\n", path,
			st->damaged_blocks - sc_skc_reader_ndamage(r));
	if (st->damaged_blocks)
		status = SC_EXIT_LOSS;
	if (sc_skc_reader_check_trailer(r, &d) < 0) {
		fprintf(stderr, "%s: %s\n", path, d.msg);
		status = SC_EXIT_LOSS;
	}
	for (size_t i = 0; i < s->socks.n; i++)
		unacc += unaccounted(socks[i], 0) + unaccounted(socks[i], 1);
	if (unacc) {
		fprintf(stderr, "%s: %" PRIu64 " stream bytes are neither captured nor described by a loss record\n",
			path, unacc);
		status = SC_EXIT_LOSS;
	}
	if (st->unfinished)
		fprintf(stderr, "%s: unfinished capture: no trailer (the recorder did not stop cleanly); "
			"records written before the stop are all here\n", path);
	return status;
}

static void skc_summary_fini(struct skc_summary *s)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (sc_u64map_next(&s->procs, &pos, &k, &v))
		free(v);
	pos = 0;
	while (sc_u64map_next(&s->socks, &pos, &k, &v))
		free(v);
	sc_u64map_fini(&s->procs);
	sc_u64map_fini(&s->socks);
}

static int info_skc(const char *path, const struct info_opts *o)
{
	struct sc_diag diag = { 0 };
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	struct skc_summary s;
	struct sock_ent **socks = NULL;
	struct proc_ent **procs = NULL;
	int rc, err, status = SC_EXIT_OK;

	memset(&s, 0, sizeof(s));
	sc_u64map_init(&s.procs);
	sc_u64map_init(&s.socks);
	r = sc_skc_reader_open(path, &err, &diag);
	if (!r) {
		sc_cli_err("info", "%s: %s", path, diag.msg);
		return SC_EXIT_FATAL;
	}
	while ((rc = sc_skc_reader_next(r, &rec)) > 0) {
		rc = skc_collect(&s, &rec);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		sc_cli_err("info", "%s: %s", path, sc_strerror(rc));
		status = SC_EXIT_FATAL;
		goto out;
	}
	socks = (struct sock_ent **)map_sorted(&s.socks, cmp_sock);
	procs = (struct proc_ent **)map_sorted(&s.procs, cmp_proc);
	if (!socks || !procs) {
		sc_cli_err("info", "out of memory");
		status = SC_EXIT_FATAL;
		goto out;
	}
	if (o->json)
		print_skc_json(path, r, &s, socks, procs);
	else
		print_skc_text(path, r, &s, socks, procs, o);
	status = skc_report(path, r, &s, socks);
out:
	free(socks);
	free(procs);
	skc_summary_fini(&s);
	sc_skc_reader_close(r);
	return status;
}

/* ---- pcap / pcapng ------------------------------------------------------------------ */

/* A TCP connection by its 4-tuple; `a` is the side that sent the first SYN, or
 * else the first sender seen. */
struct pconn {
	struct sc_endpoint a, b;
	uint8_t family;
	uint64_t segs[2], bytes[2];
	bool syn, fin, rst;
	uint64_t first_ns, last_ns;
	struct pconn *next; /* same hash */
	size_t order;
};

static uint64_t tuple_key(uint8_t family, const struct sc_endpoint *x, const struct sc_endpoint *y)
{
	/* Order-independent: hash the two endpoints in a canonical order. */
	const struct sc_endpoint *lo = x, *hi = y;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	if (c > 0 || (c == 0 && x->port > y->port)) {
		lo = y;
		hi = x;
	}
	uint8_t buf[1 + 2 * (2 + 16)];

	buf[0] = family;
	memcpy(buf + 1, &lo->port, 2);
	memcpy(buf + 3, lo->addr, 16);
	memcpy(buf + 19, &hi->port, 2);
	memcpy(buf + 21, hi->addr, 16);
	return sc_hash_bytes(buf, sizeof(buf), 0);
}

static bool ep_eq(const struct sc_endpoint *x, const struct sc_endpoint *y)
{
	return x->port == y->port && memcmp(x->addr, y->addr, sizeof(x->addr)) == 0;
}

static int cmp_pconn(const void *a, const void *b)
{
	const struct pconn *x = *(const struct pconn *const *)a, *y = *(const struct pconn *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

static int info_pcap(const char *path, const struct info_opts *o)
{
	struct sc_diag diag = { 0 };
	struct sc_pcap *p = sc_pcap_open(path, &diag);
	struct sc_u64map conns;
	struct sc_tcp_seg seg;
	struct pconn **list = NULL;
	size_t nconn = 0;
	int rc, status = SC_EXIT_OK;

	if (!p) {
		sc_cli_err("info", "%s: %s", path, diag.msg);
		return SC_EXIT_FATAL;
	}
	sc_u64map_init(&conns);
	while ((rc = sc_pcap_next(p, &seg, &diag)) > 0) {
		uint64_t key = tuple_key(seg.family, &seg.src, &seg.dst);
		struct pconn *c = sc_u64map_get(&conns, key), *head = c;

		while (c && !(c->family == seg.family && ((ep_eq(&c->a, &seg.src) && ep_eq(&c->b, &seg.dst)) ||
							  (ep_eq(&c->a, &seg.dst) && ep_eq(&c->b, &seg.src)))))
			c = c->next;
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (!c) {
				rc = -ENOMEM;
				break;
			}
			c->family = seg.family;
			/* The SYN without ACK comes from the client. */
			bool from_b = (seg.flags & (SC_TCP_SYN | SC_TCP_ACK)) == (SC_TCP_SYN | SC_TCP_ACK);

			c->a = from_b ? seg.dst : seg.src;
			c->b = from_b ? seg.src : seg.dst;
			c->first_ns = seg.ts_ns;
			c->order = nconn++;
			c->next = head;
			if (sc_u64map_put(&conns, key, c) < 0) {
				free(c);
				rc = -ENOMEM;
				break;
			}
		}
		unsigned d = ep_eq(&c->a, &seg.src) ? 0 : 1;

		c->segs[d]++;
		c->bytes[d] += seg.len;
		c->syn |= (seg.flags & SC_TCP_SYN) != 0;
		c->fin |= (seg.flags & SC_TCP_FIN) != 0;
		c->rst |= (seg.flags & SC_TCP_RST) != 0;
		c->last_ns = seg.ts_ns;
	}
	if (rc == -ENOMEM) {
		sc_cli_err("info", "out of memory");
		status = SC_EXIT_FATAL;
		goto out;
	}

	list = calloc(nconn ? nconn : 1, sizeof(*list));
	if (!list) {
		status = SC_EXIT_FATAL;
		goto out;
	}
	{
		size_t pos = 0, i = 0;
		uint64_t k;
		void *v;

		while (sc_u64map_next(&conns, &pos, &k, &v))
			for (struct pconn *c = v; c; c = c->next)
				list[i++] = c;
		qsort(list, nconn, sizeof(*list), cmp_pconn);
	}

	const struct sc_pcap_stats *st = sc_pcap_stats(p);
	const char *fmt = sc_pcap_is_pcapng(p) ? "pcapng" : "pcap";
	char t1[SC_TIME_STRLEN], t2[SC_TIME_STRLEN], lt[48];
	size_t nif = sc_pcap_ninterfaces(p);

	if (o->json) {
		printf("{\"file\":");
		sc_cli_json_str(stdout, path, strlen(path));
		printf(",\"format\":\"%s\",\"status\":\"%s\",\"linktype\":\"%s\",\"snaplen\":%" PRIu32, fmt,
		       rc < 0 ? "damaged" : "complete", sc_pcap_linktype_name(p), sc_pcap_snaplen(p));
		printf(",\"interfaces\":[");
		for (size_t i = 0; i < nif; i++) {
			const struct sc_pcap_iface *f = sc_pcap_interface(p, i);

			sc_pcap_linktype_str(f, lt, sizeof(lt));
			printf("%s{\"linktype\":\"%s\",\"name\":", i ? "," : "", lt);
			sc_cli_json_str(stdout, f->name, strlen(f->name));
			printf(",\"description\":");
			sc_cli_json_str(stdout, f->description, strlen(f->description));
			printf(",\"snaplen\":%" PRIu32 ",\"decoded\":%s,\"frames\":%" PRIu64 ",\"tcp_segments\":%" PRIu64
			       "}", f->snaplen, f->decoded ? "true" : "false", f->frames, f->tcp_segments);
		}
		putchar(']');
		/* The time range is the frames', whether or not any was TCP. */
		if (st->frames)
			printf(",\"time\":{\"first_ns\":%" PRIu64 ",\"last_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "}",
			       st->first_ns, st->last_ns, st->last_ns - st->first_ns);
		printf(",\"frames\":%" PRIu64 ",\"frame_bytes\":%" PRIu64 ",\"tcp_segments\":%" PRIu64
		       ",\"tcp_payload_bytes\":%" PRIu64 ",\"skipped\":{\"non_ip\":%" PRIu64 ",\"non_tcp\":%" PRIu64
		       ",\"fragments\":%" PRIu64 ",\"truncated\":%" PRIu64 ",\"malformed\":%" PRIu64
		       ",\"link_type\":%" PRIu64 "},\"skipped_tcp\":%" PRIu64 ",\"ip_fragments\":{\"frames\":%" PRIu64
		       ",\"reassembled\":%" PRIu64 ",\"overlaps\":%" PRIu64 ",\"conflicts\":%" PRIu64
		       "},\"tunneled_segments\":%" PRIu64 ",\"ip_length_from_frame\":%" PRIu64
		       ",\"skipped_blocks\":%" PRIu64 ",\"truncated_payload\":{\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64
		       "},\"connections\":[",
		       st->frames, st->bytes, st->tcp_segments, st->tcp_payload_bytes, st->skipped_non_ip,
		       st->skipped_non_tcp, st->skipped_fragments, st->skipped_truncated, st->skipped_malformed,
		       st->skipped_link_type, st->skipped_tcp, st->ip_fragments, st->reassembled, st->frag_overlaps,
		       st->frag_conflicts, st->tunneled, st->len_from_frame, st->skipped_blocks, st->truncated_payload,
		       st->truncated_bytes);
		for (size_t i = 0; i < nconn; i++) {
			char a[SC_EP_STRLEN], b[SC_EP_STRLEN];

			sc_endpoint_fmt(a, sizeof(a), list[i]->family, &list[i]->a);
			sc_endpoint_fmt(b, sizeof(b), list[i]->family, &list[i]->b);
			printf("%s{\"a\":\"%s\",\"b\":\"%s\",\"segments_ab\":%" PRIu64 ",\"segments_ba\":%" PRIu64
			       ",\"bytes_ab\":%" PRIu64 ",\"bytes_ba\":%" PRIu64 ",\"syn\":%s,\"fin\":%s,\"rst\":%s}",
			       i ? "," : "", a, b, list[i]->segs[0], list[i]->segs[1], list[i]->bytes[0],
			       list[i]->bytes[1], list[i]->syn ? "true" : "false", list[i]->fin ? "true" : "false",
			       list[i]->rst ? "true" : "false");
		}
		printf("],\"damage\":[");
		if (rc < 0) {
			printf("{\"message\":");
			sc_cli_json_str(stdout, diag.msg, strlen(diag.msg));
			putchar('}');
		}
		printf("]}\n");
	} else {
		printf("file:       %s\n", path);
		if (nif == 1)
			printf("format:     %s, link type %s, snaplen %" PRIu32 "\n", fmt, sc_pcap_linktype_name(p),
			       sc_pcap_snaplen(p));
		else
			printf("format:     %s, %zu interfaces\n", fmt, nif);
		for (size_t i = 0; nif > 1 && i < nif; i++) {
			const struct sc_pcap_iface *f = sc_pcap_interface(p, i);

			sc_pcap_linktype_str(f, lt, sizeof(lt));
			printf("  %-3zu %-12s %-16s snaplen %-7" PRIu32 " %8" PRIu64 " frames", i, lt,
			       f->name[0] ? f->name : "-", f->snaplen, f->frames);
			if (f->decoded)
				printf(" %8" PRIu64 " TCP segments\n", f->tcp_segments);
			else
				printf("  not decoded (link type not supported)\n");
		}
		printf("status:     %s\n", rc < 0 ? "damaged" : "complete");
		/* The time range is the frames', whether or not any was TCP. */
		if (st->frames) {
			fmt_wall(t1, sizeof(t1), st->first_ns);
			fmt_wall(t2, sizeof(t2), st->last_ns);
			printf("time:       %s .. %s (%.9f s)\n", t1, t2, (double)(st->last_ns - st->first_ns) / 1e9);
		}
		printf("frames:     %" PRIu64 " (%" PRIu64 " bytes captured)\n", st->frames, st->bytes);
		printf("tcp:        %" PRIu64 " segments, %" PRIu64 " payload bytes", st->tcp_segments,
		       st->tcp_payload_bytes);
		if (st->tunneled)
			printf(", %" PRIu64 " from tunnels", st->tunneled);
		if (st->len_from_frame)
			printf(", %" PRIu64 " with the IP length taken from the frame (TSO)", st->len_from_frame);
		putchar('\n');
		if (st->ip_fragments)
			printf("fragments:  %" PRIu64 " IP fragments, %" PRIu64 " datagrams reassembled, %" PRIu64
			       " fragments not reassembled (%" PRIu64 " datagrams with conflicting overlaps)\n",
			       st->ip_fragments, st->reassembled, st->skipped_fragments, st->frag_conflicts);
		printf("skipped:    ");
		sc_cli_print_skipped(stdout, st);
		if (st->skipped_tcp)
			printf("; %" PRIu64 " of them carried TCP", st->skipped_tcp);
		putchar('\n');
		printf("snaplen:    %" PRIu64 " segments cut by the snaplen, %" PRIu64 " payload bytes not captured\n",
		       st->truncated_payload, st->truncated_bytes);
		printf("connections: %zu\n", nconn);
		if (nconn)
			printf("  %-24s    %-24s %8s %8s %12s %12s  %s\n", "client (first SYN)", "server", "segs >",
			       "segs <", "bytes >", "bytes <", "flags");
		for (size_t i = 0; i < nconn && (o->all || i < TEXT_LIST_MAX); i++) {
			char a[SC_EP_STRLEN], b[SC_EP_STRLEN];
			const struct pconn *c = list[i];

			sc_endpoint_fmt(a, sizeof(a), c->family, &c->a);
			sc_endpoint_fmt(b, sizeof(b), c->family, &c->b);
			printf("  %-24s -> %-24s %8" PRIu64 " %8" PRIu64 " %12" PRIu64 " %12" PRIu64 "  %s%s%s\n", a, b,
			       c->segs[0], c->segs[1], c->bytes[0], c->bytes[1], c->syn ? "S" : "-", c->fin ? "F" : "-",
			       c->rst ? "R" : "-");
		}
		if (!o->all && nconn > TEXT_LIST_MAX)
			printf("  ... %zu more (--all lists them)\n", nconn - TEXT_LIST_MAX);
		printf("damage:     %s\n", rc < 0 ? "the file ends in a damaged or truncated record" : "none");
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", path, diag.msg);
		status = SC_EXIT_LOSS;
	}
	if (st->skipped_tcp) {
		fprintf(stderr, "%s: %" PRIu64 " skipped frames carried TCP: their bytes are missing\n", path,
			st->skipped_tcp);
		status = SC_EXIT_LOSS;
	}
	if (st->skipped_link_type) {
		fprintf(stderr, "%s: %" PRIu64 " frames of interfaces whose link type sockcap does not decode\n", path,
			st->skipped_link_type);
		status = SC_EXIT_LOSS;
	}
out:
	free(list);
	{
		size_t pos = 0;
		uint64_t k;
		void *v;

		while (sc_u64map_next(&conns, &pos, &k, &v))
			for (struct pconn *c = v, *n; c; c = n) {
				n = c->next;
				free(c);
			}
	}
	sc_u64map_fini(&conns);
	sc_pcap_close(p);
	return status;
}

int sc_cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct info_opts o = { 0 };
	int c, status = SC_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jah", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'a': o.all = true; break;
		case 'h': usage(stdout); return SC_EXIT_OK;
		default: return sc_cli_try_help("info");
		}
	}
	if (optind >= argc) {
		return sc_cli_usage_err("info", "no capture file given");
	}
	for (int i = optind; i < argc; i++) {
		int kind = sc_file_detect_path(argv[i]), st;

		if (kind < 0) {
			sc_cli_err("info", "%s: %s", argv[i], strerror(-kind));
			st = SC_EXIT_FATAL;
		} else if (kind == SC_FILE_SKC) {
			st = info_skc(argv[i], &o);
		} else if (kind == SC_FILE_PCAP || kind == SC_FILE_PCAPNG) {
			st = info_pcap(argv[i], &o);
		} else {
			sc_cli_err("info", "%s: not a capture file (neither .skc, pcap nor pcapng)", argv[i]);
			st = SC_EXIT_FATAL;
		}
		if (i + 1 < argc && !o.json)
			putchar('\n');
		fflush(stdout);
		if (st > status)
			status = st;
	}
	return status;
}
