/* streams.h - the byte streams of a capture's connections, without decoding.
 *
 * A source (an .skc file's sockets, a pcap's reassembled TCP connections)
 * calls these for every connection: open, then each direction's bytes in
 * stream order with the gaps between them, both directions interleaved in
 * capture-time order, then end.  The analyzer plugs in protocol decoding
 * (analyze.c); the pcapng exporter and replay plug in their own consumers.
 */
#ifndef SC_STREAMS_H
#define SC_STREAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/model.h"
#include "formats/sc_err.h"

struct sc_analyze_opts;
struct sc_analyze_result;

struct sc_stream_ops {
	void *ctx;
	/* A connection.  `c` is owned by the source and stays valid (and may be
	 * completed, e.g. by a late SOCK_OPEN) until `end`.  Returns the
	 * consumer's state for it, or NULL to fail with -ENOMEM.
	 * `roles_known`: c->client_is_egress is right (connect/accept, SYN). */
	void *(*open)(void *ctx, struct sc_conn *c, bool roles_known);
	/* Bytes in local direction `egress` (pcap: client -> server as far as the
	 * source knows) at stream offset `off`, wall-clock time `ts_ns`. */
	int (*data)(void *ctx, void *st, bool egress, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n);
	int (*gap)(void *ctx, void *st, bool egress, uint64_t ts_ns, uint64_t off, uint64_t n);
	/* The connection ended (`closed`) or the capture did; release `st`. */
	int (*end)(void *ctx, void *st, uint64_t ts_ns, bool closed);
	/* A process of an .skc capture (may be NULL). */
	int (*process)(void *ctx, const struct sc_process *p);
};

int sc_streams_skc(const char *path, const struct sc_analyze_opts *o, const struct sc_stream_ops *ops,
		   struct sc_analyze_result *res, struct sc_diag *diag);
int sc_streams_pcap(const char *path, const struct sc_analyze_opts *o, const struct sc_stream_ops *ops,
		    struct sc_analyze_result *res, struct sc_diag *diag);
/* Detects the format by content and calls one of the above. */
int sc_streams_file(const char *path, const struct sc_analyze_opts *o, const struct sc_stream_ops *ops,
		    struct sc_analyze_result *res, struct sc_diag *diag);

#endif
