/* cmd_analyze.c - `sockcap analyze`: captures into an SQLite database. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/db.h"
#include "analyze/load.h"
#include "cli/cli.h"
#include "formats/skc.h"

static void usage(FILE *out)
{
	fputs("Usage: sockcap analyze [-o OUT.db] [--max-body SIZE] [-q] FILE...\n\n"
	      "Decode captures (.skc, pcap, pcapng) into an SQLite database: connections,\n"
	      "HTTP/1.x and HTTP/2 transactions, their headers and bodies, and anomalies (gaps,\n"
	      "parse errors, lost data).  Query it with sqlite3 and plain SQL; the schema is in\n"
	      "docs/schema.md.  Several files go into one database; analysing a file again\n"
	      "replaces its rows.  FILE '-' is standard input (then -o is required).\n\n"
	      "A run is one transaction: Ctrl-C, SIGTERM, kill -9 or a crash leave an existing\n"
	      "database as it was, and a new one (mode 0600) appears only when the run succeeds.\n\n"
	      "Options:\n"
	      "  -o, --output FILE   the database (default: the first input with .db as extension)\n"
	      "      --max-body SIZE body bytes kept per message (default 1M; 0 keeps none; k/m/g)\n"
	      "  -q, --quiet         no progress or summary on stderr (losses are still reported)\n"
	      "  -h, --help          show this help\n\n"
	      "Example:\n"
	      "  sockcap analyze -o web.db web.skc\n"
	      "  sqlite3 web.db 'SELECT method, path, status, latency_ns/1e6 AS ms FROM transactions'\n"
	      "  sqlite3 web.db 'SELECT * FROM endpoint_stats'\n", out);
	sc_cli_exit_codes_help(out);
}

static char *default_output(const char *in)
{
	const char *slash = strrchr(in, '/');
	const char *dot = strrchr(in, '.');
	size_t stem = dot && (!slash || dot > slash) && dot != in && dot[-1] != '/' ? (size_t)(dot - in) : strlen(in);
	char *out = malloc(stem + 4);

	if (!out)
		return NULL;
	memcpy(out, in, stem);
	memcpy(out + stem, ".db", 4);
	return out;
}

struct progress {
	const char *path;
	uint64_t total;
	uint64_t last_ns;
	bool tty;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_progress(void *ctx, uint64_t done)
{
	struct progress *p = ctx;
	uint64_t now = mono_ns();

	if (!p->tty || now - p->last_ns < 250000000u)
		return;
	p->last_ns = now;
	if (p->total)
		fprintf(stderr, "\r%s: %3.0f%%", p->path, 100.0 * (double)done / (double)p->total);
	else
		fprintf(stderr, "\r%s: %" PRIu64 " MB", p->path, done >> 20);
}

/* The signal that interrupted the run, or 0.  Set by the handler, read by
 * the sources and the database's progress handler (sc_analyze_opts.stop). */
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

/* What a pcap's reader skipped, on stderr: the skipped frames that carried
 * TCP are traffic lost; frames of an interface whose link type is not
 * decoded may have been. */
static void report_skipped(const char *path, const struct sc_analyze_result *res, bool quiet)
{
	const struct sc_pcap_stats *st = &res->pcap;

	if (!res->have_pcap)
		return;
	if (!quiet && strchr(res->interfaces, '\n')) {
		const char *l = res->interfaces, *nl;

		fprintf(stderr, "%s: interfaces read:\n", path);
		for (; *l; l = nl ? nl + 1 : l + strlen(l)) {
			nl = strchr(l, '\n');
			fprintf(stderr, "  %.*s\n", (int)(nl ? (size_t)(nl - l) : strlen(l)), l);
			if (!nl)
				break;
		}
	}
	if (st->skipped_tcp) {
		fprintf(stderr, "%s: %" PRIu64 " frames carrying TCP were skipped, their bytes are missing from the "
			"streams (all skipped frames: ", path, st->skipped_tcp);
		sc_cli_print_skipped(stderr, st);
		fputs(")\n", stderr);
	}
	if (st->skipped_link_type)
		fprintf(stderr, "%s: %" PRIu64 " frames of interfaces whose link type sockcap does not decode were "
			"skipped:\n%s\n", path, st->skipped_link_type, res->interfaces);
}

static int analyze_one(struct sc_db *db, const char *path, uint64_t max_body, bool quiet, bool *lost)
{
	struct sc_analyze_result res;
	struct sc_analyze_opts o = { .max_body = max_body, .stop = &stop_sig };
	const char *name = strcmp(path, "-") ? path : "standard input";
	struct progress pr = { .path = name, .tty = !quiet && isatty(STDERR_FILENO) };
	struct sc_diag diag = { 0 };
	FILE *f = fopen(path, "rb");
	int rc;

	if (f) {
		fseek(f, 0, SEEK_END);
		pr.total = ftell(f) > 0 ? (uint64_t)ftell(f) : 0;
		fclose(f);
	}
	o.progress = on_progress;
	o.progress_ctx = &pr;
	rc = sc_load_capture(db, path, &o, &res, &diag);
	if (pr.tty && pr.last_ns)
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		if (!stop_sig) /* else the caller says it */
			sc_cli_err("analyze", "%s", diag.msg);
		return SC_EXIT_FATAL;
	}
	if (!quiet) {
		fprintf(stderr, "%s: %" PRIu64 " connections, %" PRIu64 " transactions (%" PRIu64 " complete), %" PRIu64
			" anomalies (%" PRIu64 " parse errors, %" PRIu64 " gaps: %" PRIu64 " bytes missing)\n", name,
			res.connections, res.dec.transactions, res.dec.transactions - res.dec.incomplete_tx, res.dec.anomalies,
			res.dec.parse_errors, res.dec.gaps, res.dec.gap_bytes);
	}
	/* What was lost is said even with -q: the exit status alone does not
	 * tell where. */
	if (res.damage[0])
		fprintf(stderr, "%s: damaged capture:\n%s\n", name, res.damage);
	report_skipped(name, &res, quiet);
	if (sc_analyze_lost(&res)) {
		*lost = true;
		fprintf(stderr, "%s: data was lost or could not be parsed: %" PRIu64 " anomalies, %" PRIu64
			" bytes lost by the capture", name, res.dec.anomalies, res.bytes_lost);
		if (res.pcap.skipped_tcp)
			fprintf(stderr, ", %" PRIu64 " skipped frames carried TCP", res.pcap.skipped_tcp);
		if (res.pcap.skipped_link_type)
			fprintf(stderr, ", %" PRIu64 " frames of a link type not decoded", res.pcap.skipped_link_type);
		fprintf(stderr, "%s\n", res.damage[0] ? ", damaged file" : "");
	}
	return SC_EXIT_OK;
}

int sc_cmd_analyze(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	char *dflt = NULL;
	uint64_t max_body = 1u << 20;
	bool quiet = false, lost = false, existed;
	struct sc_diag diag = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct sc_db *db;
	int c, stdin_inputs = 0, loaded = 0, status = SC_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'm':
			if (sc_cli_parse_size(optarg, &max_body) < 0 || max_body > (1ull << 31)) {
				sc_cli_err("analyze", "--max-body takes a size up to 2g");
				return SC_EXIT_FATAL;
			}
			break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return SC_EXIT_OK;
		default: return sc_cli_try_help("analyze");
		}
	}
	if (optind >= argc) {
		return sc_cli_usage_err("analyze", "no capture file given");
	}
	for (int i = optind; i < argc; i++)
		stdin_inputs += strcmp(argv[i], "-") == 0;
	if (stdin_inputs > 1)
		return sc_cli_usage_err("analyze", "standard input ('-') can be read only once");
	if (out && (strcmp(out, "-") == 0 || strcmp(out, "/dev/stdout") == 0))
		return sc_cli_usage_err("analyze", "a database cannot be written to standard output: give a file (-o FILE.db)");
	if (!out && strcmp(argv[optind], "-") == 0)
		return sc_cli_usage_err("analyze", "reading standard input: give the database with -o FILE.db");
	if (!out) {
		dflt = default_output(argv[optind]);
		if (!dflt)
			return SC_EXIT_FATAL;
		out = dflt;
	}
	/* Ctrl-C or SIGTERM stops the run and rolls it back: the database is
	 * left as it was (a new one is not created). */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	existed = access(out, F_OK) == 0 || errno != ENOENT; /* for the message only */
	db = sc_db_open(out, &diag);
	if (!db) {
		sc_cli_err("analyze", "%s", diag.msg);
		free(dflt);
		return SC_EXIT_FATAL;
	}
	if (sc_db_recovered(db))
		sc_cli_err("analyze", "%s: an earlier run was interrupted before it finished: rolled back", out);
	sc_db_set_stop(db, &stop_sig);
	for (int i = optind; i < argc && !stop_sig; i++) {
		int st = analyze_one(db, argv[i], max_body, quiet, &lost);

		loaded += st != SC_EXIT_FATAL;
		if (st > status)
			status = st;
	}
	if (stop_sig || !loaded) {
		/* Nothing to keep: a new database is not created at all. */
		sc_db_close(db);
		db = NULL;
	} else if (sc_db_commit(db, &diag) < 0) {
		db = NULL;
		if (!stop_sig)
			sc_cli_err("analyze", "%s", diag.msg);
		status = SC_EXIT_FATAL;
	}
	if (stop_sig) {
		sc_cli_err("analyze", existed ? "interrupted (%s): %s is as it was before this run" :
				     "interrupted (%s): %s was not created", strsignal(stop_sig), out);
		status = SC_EXIT_FATAL;
	} else if (!quiet && status == SC_EXIT_OK) {
		fprintf(stderr, "database: %s\n", out);
	}
	free(dflt);
	if (status == SC_EXIT_OK && lost)
		status = SC_EXIT_LOSS;
	return status;
}
