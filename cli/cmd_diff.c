/* cmd_diff.c - `sockcap diff A B`: what changed between two recordings of
 * the same traffic.  The comparison is analyze/diff.c; this file loads the
 * inputs and prints. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/diff.h"
#include "analyze/har.h"
#include "analyze/load.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: sockcap diff [--json] [-q] [--ignore-header NAME]... [--no-default-ignore]\n"
	      "                    [--ignore-authority] [--max-body SIZE] A B\n\n"
	      "Compare the HTTP transactions of two captures (.skc, pcap, pcapng) or databases\n"
	      "written by `sockcap analyze`: a recording kept as a regression fixture against a\n"
	      "new run.  Transactions are matched by method, authority and path, connection by\n"
	      "connection and in request order, so an added or removed request is reported once\n"
	      "without shifting the rest.  Matched transactions are compared by status, header\n"
	      "fields (request, response, trailers) and bodies (length and SHA-256; a line diff\n"
	      "for textual bodies up to 64 KiB).  When a capture holds both ends of a local\n"
	      "connection, each exchange is used once (the client's side).\n\n"
	      "Options:\n"
	      "      --ignore-header NAME  do not compare header NAME (any case; repeatable)\n"
	      "      --no-default-ignore   compare the volatile headers too (listed below)\n"
	      "      --ignore-authority    match by method and path only, and do not compare\n"
	      "                            Host / :authority: the same traffic sent to another\n"
	      "                            host or port (a staging server, a replay)\n"
	      "      --json                print one JSON object instead of text\n"
	      "      --max-body SIZE       body bytes kept per message when analysing a capture\n"
	      "                            (default 1M; k/m/g)\n"
	      "  -q, --quiet               print nothing; only the exit status tells\n"
	      "  -h, --help                show this help\n\n"
	      "Headers ignored by default (values that change on every run):\n ", out);
	{
		size_t col = 1;

		for (const char *const *v = sc_diff_volatile_headers; *v; v++) {
			size_t n = strlen(*v) + (v[1] ? 1 : 0);

			if (col + 1 + n > 78) {
				fputs("\n ", out);
				col = 1;
			}
			fprintf(out, " %s%s", *v, v[1] ? "," : "");
			col += 1 + n;
		}
	}
	fputs("\n\nExample:\n"
	      "  sockcap diff baseline.skc today.skc\n"
	      "  sockcap diff --ignore-header etag --json baseline.db today.pcap\n"
	      "\nExit status:\n"
	      "  0  no differences\n"
	      "  1  differences found\n"
	      "  2  usage error, or an input could not be read\n", out);
}

/* ---- Text ----------------------------------------------------------------------------- */

/* Bytes for a terminal: printable ASCII and bytes >= 0x80 as they are (UTF-8
 * text stays readable), backslash and control bytes escaped. */
static void put_bytes(FILE *out, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)p[i];

		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c == '\t')
			fputc('\t', out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void put_str(FILE *out, const struct sc_diff_str *s)
{
	if (s->known)
		put_bytes(out, s->p, s->len);
	else
		fputs("(unknown)", out);
}

/* "GET 127.0.0.1:8000/index.html" */
static void put_key(FILE *out, const struct sc_diff_entry *e)
{
	if (e->method.known)
		put_bytes(out, e->method.p, e->method.len);
	else
		fputs("(no request)", out);
	fputc(' ', out);
	if (e->authority.known)
		put_bytes(out, e->authority.p, e->authority.len);
	if (e->path.known)
		put_bytes(out, e->path.p, e->path.len);
	else if (!e->authority.known)
		fputs("(unknown path)", out);
}

static void put_ref(FILE *out, const char *side, const struct sc_diff_txref *r)
{
	fprintf(out, "%s: connection %" PRId64 ", #%" PRIu32, side, r->conn_id, r->index);
	if (r->stream_id >= 0)
		fprintf(out, ", stream %" PRId64, r->stream_id);
}

static void put_status(FILE *out, int st)
{
	if (st < 0)
		fputs("(none)", out);
	else
		fprintf(out, "%d", st);
}

static void put_body_side(FILE *out, const struct sc_diff_body_side *s)
{
	fprintf(out, "%" PRIu64 " bytes", s->length);
	if (s->stored < s->length)
		fprintf(out, " (%" PRIu64 " stored)", s->stored);
	if (s->length) {
		fputs(" sha256 ", out);
		for (int i = 0; i < 8; i++)
			fprintf(out, "%02x", s->sha256[i]);
		fputs("...", out);
	}
}

static const char *const dir_name[] = { "request", "response" };

static void print_text(FILE *out, const struct sc_diff_result *res)
{
	for (size_t i = 0; i < res->n_entries; i++) {
		const struct sc_diff_entry *e = &res->entries[i];

		if (e->kind != SC_DIFF_CHANGED) {
			fputs(e->kind == SC_DIFF_ADDED ? "added " : "removed ", out);
			put_key(out, e);
			fputs(" (", out);
			put_ref(out, e->kind == SC_DIFF_ADDED ? "B" : "A", e->kind == SC_DIFF_ADDED ? &e->b : &e->a);
			fputs(")\n", out);
			continue;
		}
		fputs("changed ", out);
		put_key(out, e);
		if (e->status_changed) {
			fputs(": status ", out);
			put_status(out, e->status_a);
			fputs(" -> ", out);
			put_status(out, e->status_b);
		}
		fputc('\n', out);
		if (e->version_changed) {
			fputs("  version ", out);
			put_str(out, &e->version_a);
			fputs(" -> ", out);
			put_str(out, &e->version_b);
			fputc('\n', out);
		}
		for (size_t k = 0; k < e->n_fields; k++) {
			const struct sc_diff_field *f = &e->fields[k];

			fprintf(out, "  %s %s ", dir_name[f->dir], f->trailer ? "trailer" : "header");
			put_str(out, &f->name);
			switch (f->op) {
			case SC_DIFF_OP_CHANGED:
				fputs(": ", out);
				put_str(out, &f->a);
				fputs(" -> ", out);
				put_str(out, &f->b);
				break;
			case SC_DIFF_OP_ADDED:
				fputs(" added: ", out);
				put_str(out, &f->b);
				break;
			case SC_DIFF_OP_REMOVED:
				fputs(" removed: ", out);
				put_str(out, &f->a);
				break;
			}
			fputc('\n', out);
		}
		for (size_t k = 0; k < e->n_bodies; k++) {
			const struct sc_diff_body *b = &e->bodies[k];

			fprintf(out, "  %s body: ", dir_name[b->dir]);
			put_body_side(out, &b->a);
			fputs(" -> ", out);
			put_body_side(out, &b->b);
			fputc('\n', out);
			if (b->limited)
				fprintf(out, "  %s body: compared as far as both were stored (cut at --max-body)\n",
					dir_name[b->dir]);
			if (b->text == SC_DIFF_TEXT_TOO_BIG)
				fprintf(out, "  %s body: bodies differ (%" PRIu64 " vs %" PRIu64 " bytes)\n", dir_name[b->dir],
					b->a.length, b->b.length);
			else if (b->text == SC_DIFF_TEXT_TOO_MANY)
				fprintf(out, "  %s body: bodies differ (%" PRIu64 " vs %" PRIu64
					" bytes; too many differences for a line diff)\n", dir_name[b->dir], b->a.length,
					b->b.length);
			for (size_t l = 0; l < b->n_lines; l++) {
				fputs("    ", out);
				put_bytes(out, b->lines[l].p, b->lines[l].len);
				fputc('\n', out);
			}
		}
	}
	if (res->limited)
		fprintf(out, "%" PRIu64 " matched transactions had a body cut at --max-body: only stored bytes were compared\n",
			res->limited);
	if (res->approximate)
		fputs("too many differences for an exact alignment: transactions were matched greedily\n", out);
	fprintf(out, "%" PRIu64 " transactions compared: %" PRIu64 " equal, %" PRIu64 " changed, %" PRIu64
		" added, %" PRIu64 " removed\n", res->equal + res->changed + res->added + res->removed, res->equal,
		res->changed, res->added, res->removed);
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* A JSON string: valid UTF-8 as it is, every other byte as \u00XX (the
 * HAR writer's rule, so both outputs read back alike). */
static void json_bytes(FILE *out, const void *p, size_t len)
{
	sc_har_json_str(out, p, len);
}

static void json_str(FILE *out, const struct sc_diff_str *s)
{
	if (s->known)
		json_bytes(out, s->p, s->len);
	else
		fputs("null", out);
}

static void json_status(FILE *out, int st)
{
	if (st < 0)
		fputs("null", out);
	else
		fprintf(out, "%d", st);
}

static void json_ref(FILE *out, const struct sc_diff_txref *r)
{
	fprintf(out, "{\"connection\": %" PRId64 ", \"index\": %" PRIu32 ", \"transaction\": %" PRId64 ", \"stream\": ",
		r->conn_id, r->index, r->tx_id);
	if (r->stream_id >= 0)
		fprintf(out, "%" PRId64 "}", r->stream_id);
	else
		fputs("null}", out);
}

static void json_body_side(FILE *out, const struct sc_diff_body_side *s)
{
	fprintf(out, "{\"length\": %" PRIu64 ", \"stored\": %" PRIu64 ", \"sha256\": \"", s->length, s->stored);
	for (int i = 0; i < SC_SHA256_LEN; i++)
		fprintf(out, "%02x", s->sha256[i]);
	fputs("\"}", out);
}

static const char *const text_name[] = { "none", "lines", "too_big", "too_many" };
static const char *const op_name[] = { "changed", "added", "removed" };

static void json_entry(FILE *out, const struct sc_diff_entry *e)
{
	fputs("    {\"method\": ", out);
	json_str(out, &e->method);
	fputs(", \"authority\": ", out);
	json_str(out, &e->authority);
	fputs(", \"path\": ", out);
	json_str(out, &e->path);
	if (e->kind != SC_DIFF_ADDED) {
		fputs(", \"a\": ", out);
		json_ref(out, &e->a);
	}
	if (e->kind != SC_DIFF_REMOVED) {
		fputs(", \"b\": ", out);
		json_ref(out, &e->b);
	}
	if (e->kind != SC_DIFF_CHANGED) {
		fputs(", \"status\": ", out);
		json_status(out, e->kind == SC_DIFF_ADDED ? e->status_b : e->status_a);
		fputs("}", out);
		return;
	}
	if (e->status_changed) {
		fputs(", \"status\": {\"a\": ", out);
		json_status(out, e->status_a);
		fputs(", \"b\": ", out);
		json_status(out, e->status_b);
		fputs("}", out);
	}
	if (e->version_changed) {
		fputs(", \"version\": {\"a\": ", out);
		json_str(out, &e->version_a);
		fputs(", \"b\": ", out);
		json_str(out, &e->version_b);
		fputs("}", out);
	}
	fputs(",\n     \"headers\": [", out);
	for (size_t k = 0; k < e->n_fields; k++) {
		const struct sc_diff_field *f = &e->fields[k];

		fprintf(out, "%s\n      {\"direction\": \"%s\", \"trailer\": %s, \"name\": ", k ? "," : "", dir_name[f->dir],
			f->trailer ? "true" : "false");
		json_str(out, &f->name);
		fprintf(out, ", \"change\": \"%s\"", op_name[f->op]);
		if (f->op != SC_DIFF_OP_ADDED) {
			fputs(", \"a\": ", out);
			json_str(out, &f->a);
		}
		if (f->op != SC_DIFF_OP_REMOVED) {
			fputs(", \"b\": ", out);
			json_str(out, &f->b);
		}
		fputs("}", out);
	}
	fputs(e->n_fields ? "],\n     \"bodies\": [" : "], \"bodies\": [", out);
	for (size_t k = 0; k < e->n_bodies; k++) {
		const struct sc_diff_body *b = &e->bodies[k];

		fprintf(out, "%s\n      {\"direction\": \"%s\", \"a\": ", k ? "," : "", dir_name[b->dir]);
		json_body_side(out, &b->a);
		fputs(", \"b\": ", out);
		json_body_side(out, &b->b);
		fprintf(out, ", \"limited\": %s, \"text\": \"%s\", \"diff\": [", b->limited ? "true" : "false",
			text_name[b->text]);
		for (size_t l = 0; l < b->n_lines; l++) {
			if (l)
				fputs(", ", out);
			json_bytes(out, b->lines[l].p, b->lines[l].len);
		}
		fputs("]}", out);
	}
	fputs("]}", out);
}

static void json_side(FILE *out, const char *path, uint64_t conns, uint64_t tx, bool lost)
{
	fputs("{\"input\": ", out);
	json_bytes(out, path, strlen(path));
	fprintf(out, ", \"connections\": %" PRIu64 ", \"transactions\": %" PRIu64 ", \"lost\": %s}", conns, tx,
		lost ? "true" : "false");
}

static void print_json(FILE *out, const struct sc_diff_result *res, const char *pa, const char *pb, bool lost_a,
		       bool lost_b, const struct sc_diff_opts *o)
{
	static const enum sc_diff_kind kinds[] = { SC_DIFF_CHANGED, SC_DIFF_ADDED, SC_DIFF_REMOVED };
	static const char *const kind_name[] = { "changed", "added", "removed" };
	bool first = true;

	fputs("{\n  \"a\": ", out);
	json_side(out, pa, res->conns_a, res->tx_a, lost_a);
	fputs(",\n  \"b\": ", out);
	json_side(out, pb, res->conns_b, res->tx_b, lost_b);
	fputs(",\n  \"ignored_headers\": [", out);
	if (!o->no_default_ignore)
		for (const char *const *v = sc_diff_volatile_headers; *v; v++, first = false) {
			fputs(first ? "" : ", ", out);
			json_bytes(out, *v, strlen(*v));
		}
	for (size_t i = 0; i < o->n_ignore; i++, first = false) {
		fputs(first ? "" : ", ", out);
		json_bytes(out, o->ignore[i], strlen(o->ignore[i]));
	}
	if (o->ignore_authority)
		fprintf(out, "%s\"host\", \":authority\"", first ? "" : ", ");
	fprintf(out, "],\n  \"ignore_authority\": %s", o->ignore_authority ? "true" : "false");
	fprintf(out, ",\n  \"summary\": {\"compared\": %" PRIu64 ", \"equal\": %" PRIu64 ", \"changed\": %" PRIu64
		", \"added\": %" PRIu64 ", \"removed\": %" PRIu64 ", \"limited\": %" PRIu64 ", \"approximate\": %s}",
		res->equal + res->changed + res->added + res->removed, res->equal, res->changed, res->added,
		res->removed, res->limited, res->approximate ? "true" : "false");
	for (size_t k = 0; k < 3; k++) {
		bool any = false;

		fprintf(out, ",\n  \"%s\": [", kind_name[k]);
		for (size_t i = 0; i < res->n_entries; i++) {
			if (res->entries[i].kind != kinds[k])
				continue;
			fputs(any ? ",\n" : "\n", out);
			json_entry(out, &res->entries[i]);
			any = true;
		}
		fputs(any ? "\n  ]" : "]", out);
	}
	fputs("\n}\n", out);
}

/* ---- The command ------------------------------------------------------------------------- */

static struct sc_db *open_input(const char *path, uint64_t max_body, bool *lost)
{
	struct sc_diag diag = { 0 };
	struct sc_db *db;
	FILE *f;

	/* A clear message for the common mistake before the loader's. */
	f = fopen(path, "rb");
	if (!f) {
		sc_cli_err("diff", "%s: %s", path, strerror(errno));
		return NULL;
	}
	fclose(f);
	db = sc_load_input(path, max_body, lost, &diag);
	if (!db)
		sc_cli_err("diff", "%s", diag.msg[0] ? diag.msg : sc_strerror(diag.err));
	return db;
}

static int compare(const char *pa, const char *pb, const struct sc_diff_opts *o, uint64_t max_body, bool json,
		   bool quiet)
{
	struct sc_diff_result res;
	struct sc_diag diag = { 0 };
	struct sc_db *da = NULL, *db = NULL;
	bool lost_a = false, lost_b = false;
	int status = SC_EXIT_FATAL;

	if (strcmp(pa, "-") == 0 || strcmp(pb, "-") == 0) {
		sc_cli_err("diff", "give files, not standard input");
		return SC_EXIT_FATAL;
	}
	da = open_input(pa, max_body, &lost_a);
	if (!da)
		goto out;
	db = open_input(pb, max_body, &lost_b);
	if (!db)
		goto out;
	if (!quiet) {
		if (lost_a)
			sc_cli_err("diff", "%s: data was lost or could not be parsed; differences may come from the capture",
				   pa);
		if (lost_b)
			sc_cli_err("diff", "%s: data was lost or could not be parsed; differences may come from the capture",
				   pb);
	}
	if (sc_diff_run(sc_db_handle(da), sc_db_handle(db), o, &res, &diag) < 0) {
		sc_cli_err("diff", "%s", diag.msg);
		goto out;
	}
	if (!quiet) {
		if (json)
			print_json(stdout, &res, pa, pb, lost_a, lost_b, o);
		else
			print_text(stdout, &res);
	}
	status = res.n_entries ? SC_EXIT_LOSS : SC_EXIT_OK;
	sc_diff_result_fini(&res);
	if (fflush(stdout) != 0) {
		sc_cli_err("diff", "standard output: %s", strerror(errno));
		status = SC_EXIT_FATAL;
	}
out:
	if (da)
		sc_db_close(da);
	if (db)
		sc_db_close(db);
	return status;
}

int sc_cli_compare(const char *a, const char *b, const char *const *ignore, size_t nignore, bool json, bool quiet)
{
	struct sc_diff_opts o = { .ignore = ignore, .n_ignore = nignore };

	return compare(a, b, &o, 1u << 20, json, quiet);
}

int sc_cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ignore-header", required_argument, NULL, 'I' },
		{ "no-default-ignore", no_argument, NULL, 'N' },
		{ "ignore-authority", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_diff_opts o = { 0 };
	const char **ignore;
	uint64_t max_body = 1u << 20;
	bool json = false, quiet = false;
	int c, status;

	/* At most one --ignore-header per argument. */
	ignore = calloc((size_t)argc + 1, sizeof(*ignore));
	if (!ignore) {
		sc_cli_err("diff", "out of memory");
		return SC_EXIT_FATAL;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'I':
			if (!*optarg || strpbrk(optarg, " \t")) {
				sc_cli_err("diff", "--ignore-header takes a header name, not '%s'", optarg);
				free(ignore);
				return SC_EXIT_FATAL;
			}
			ignore[o.n_ignore++] = optarg;
			break;
		case 'N': o.no_default_ignore = true; break;
		case 'A': o.ignore_authority = true; break;
		case 'j': json = true; break;
		case 'm':
			if (sc_cli_parse_size(optarg, &max_body) < 0 || max_body > (1ull << 31)) {
				sc_cli_err("diff", "--max-body takes a size up to 2g");
				free(ignore);
				return SC_EXIT_FATAL;
			}
			break;
		case 'q': quiet = true; break;
		case 'h':
			usage(stdout);
			free(ignore);
			return SC_EXIT_OK;
		default:
			free(ignore);
			return sc_cli_try_help("diff");
		}
	}
	if (argc - optind != 2) {
		free(ignore);
		return sc_cli_usage_err("diff", "give two inputs: A (the reference) and B (the new run)");
	}
	o.ignore = ignore;
	status = compare(argv[optind], argv[optind + 1], &o, max_body, json, quiet);
	free(ignore);
	return status;
}
