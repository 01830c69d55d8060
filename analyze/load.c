#include "analyze/load.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/sinkq.h"
#include "formats/skc.h"

static uint64_t file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n > 0 ? (uint64_t)n : 0;
}

bool sc_load_is_db(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return false;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return n == sizeof(head) && memcmp(head, magic, sizeof(magic)) == 0;
}

int sc_load_capture(struct sc_db *db, const char *path, const struct sc_analyze_opts *o,
		    struct sc_analyze_result *res, struct sc_diag *diag)
{
	struct sc_capture_meta m = { 0 };
	struct sc_diag wdiag = { 0 };
	struct sc_sink dbsink, sink;
	struct sc_sinkq *q;
	int qrc;
	char abs[PATH_MAX];
	int kind, rc;

	kind = sc_file_detect_path(path);
	if (kind < 0)
		return sc_diag_set(diag, kind, 0, "%s: %s", path, strerror(-kind));
	if (kind == SC_FILE_UNKNOWN)
		return sc_diag_set(diag, SC_EFORMAT, 0, "%s: not a capture file (neither .skc, pcap nor pcapng)",
				   strcmp(path, "-") ? path : "standard input");
	if (strcmp(path, "-") == 0) {
		/* Standard input has no path to know it again by: each analysis
		 * of it is a capture of its own (docs/schema.md). */
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(abs, sizeof(abs), "stdin:%lld%09ld", (long long)now.tv_sec, now.tv_nsec);
	} else if (!realpath(path, abs)) {
		return sc_diag_set(diag, -errno, 0, "%s: %s", path, strerror(errno));
	}
	m.path = abs;
	m.format = sc_file_kind_name((enum sc_file_kind)kind);
	m.file_bytes = strcmp(path, "-") ? file_size(path) : 0;
	/* The database's own errors are written from the writer thread: into
	 * wdiag, which is read only after the thread is joined. */
	rc = sc_db_begin_capture(db, &m, o->max_body, &dbsink, &wdiag);
	if (rc < 0) {
		*diag = wdiag;
		return rc;
	}
	rc = sc_sinkq_start(&q, &dbsink, &sink);
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "cannot start the database writer: %s", strerror(-rc));
		goto rollback;
	}
	rc = sc_analyze_file(path, o, &sink, res, diag);
	qrc = sc_sinkq_finish(q);
	if (qrc < 0) {
		/* The writer's failure is what stopped the analysis. */
		if (wdiag.err)
			*diag = wdiag;
		else
			sc_diag_set(diag, qrc, 0, "database writer: %s", strerror(-qrc));
		rc = qrc;
	}
	if (rc < 0)
		goto rollback;
	m.hostname = res->hostname[0] ? res->hostname : NULL;
	m.kernel = res->kernel[0] ? res->kernel : NULL;
	m.tool = res->tool[0] ? res->tool : NULL;
	m.options = res->options[0] ? res->options : NULL;
	m.start_ns = res->start_ns;
	m.end_ns = res->end_ns;
	m.status = res->status;
	m.bytes_captured = res->bytes_captured;
	m.bytes_lost = res->bytes_lost;
	m.damage = res->damage[0] ? res->damage : NULL;
	m.connections = res->connections;
	m.transactions = res->dec.transactions;
	m.anomalies = res->dec.anomalies;
	m.pcap = res->have_pcap ? &res->pcap : NULL;
	m.interfaces = res->have_pcap ? res->interfaces : NULL;
	return sc_db_end_capture(db, &m, true, diag);
rollback: {
		struct sc_diag d2 = { 0 };

		sc_db_end_capture(db, &m, false, &d2);
		return rc;
	}
}

struct sc_db *sc_load_input(const char *path, uint64_t max_body, bool *lost, struct sc_diag *diag)
{
	struct sc_analyze_opts o = { .max_body = max_body };
	struct sc_analyze_result res;
	struct sc_db *db;

	*lost = false;
	if (sc_load_is_db(path))
		return sc_db_open_ro(path, diag);
	db = sc_db_open(":memory:", diag);
	if (!db)
		return NULL;
	if (sc_load_capture(db, path, &o, &res, diag) < 0) {
		sc_db_close(db);
		return NULL;
	}
	*lost = sc_analyze_lost(&res);
	return db;
}
