/* replay.h - resend a capture's client requests to a target and record what
 * happens, as a new .skc capture.
 *
 * HTTP/1 requests are sent as their recorded bytes; HTTP/2 requests are sent
 * again from their decoded headers and bodies through libnghttp2 (the HPACK
 * encoding and flow control of a new connection cannot be the recorded
 * ones), over prior knowledge or, when the recording did, an h2c upgrade.
 * Order within each connection is kept; recorded connections run
 * concurrently.  Requests whose recorded bytes have gaps are skipped and
 * reported.  Only the target is ever contacted.
 */
#ifndef SC_REPLAY_H
#define SC_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/sc_err.h"

struct sc_replay_opts {
	const char *host;      /* target host (numeric address or name) */
	uint16_t port;         /* target port */
	const char *out;       /* the .skc to write */
	bool overwrite;
	double speed;          /* 0: as fast as possible; else recorded timing / speed */
	uint64_t timeout_ms;   /* per response (default 10000) */
	unsigned max_parallel; /* connections at once (default 32) */
	uint64_t max_body;     /* body bytes kept when analysing the input */
};

/* One request of the plan, for --dry-run and the report. */
struct sc_replay_req {
	uint64_t conn;          /* recorded connection id (connections.id) */
	const char *proto;      /* "HTTP/1.1", "HTTP/2", "h2c-upgrade" */
	char method[16];
	char target[256];       /* path, cut */
	bool skipped;
	const char *why;        /* when skipped */
};

struct sc_replay_result {
	uint64_t connections;   /* replayed */
	uint64_t requests;      /* sent */
	uint64_t skipped;
	uint64_t failed_conns;  /* could not connect, or the target broke the exchange */
	char first_error[256];
};

struct sc_replay;

/* Analyse `input` (a capture) and build the plan.  NULL and `diag` when the
 * input cannot be read or is not a capture. */
struct sc_replay *sc_replay_plan(const char *input, const struct sc_replay_opts *o, struct sc_diag *diag);
void sc_replay_free(struct sc_replay *r);

/* The plan, request by request in recorded order. */
size_t sc_replay_nreq(const struct sc_replay *r);
const struct sc_replay_req *sc_replay_req(const struct sc_replay *r, size_t i);

/* Run the plan against the target and write opts->out.  Returns 0 (see
 * `res` for failures of single connections) or a fatal error (the output
 * cannot be written). */
int sc_replay_run(struct sc_replay *r, struct sc_replay_result *res, struct sc_diag *diag);

#endif
