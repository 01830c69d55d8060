/* analyze.h - a capture file in, connections and transactions out to a sink.
 *
 * Reads an .skc capture (sockets, ordered by their recorded stream offsets,
 * with LOSS records and offset holes as gaps) or a pcap/pcapng file (TCP
 * reassembled per 4-tuple), runs every connection through protocol detection
 * and the HTTP/1 and HTTP/2 decoders, and reports to `sink`.  Memory is
 * bounded by the connections open at once, not by the size of the capture.
 */
#ifndef SC_ANALYZE_H
#define SC_ANALYZE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "analyze/convo.h"
#include "analyze/model.h"
#include "formats/sc_err.h"
#include "formats/sc_pcap.h"

struct sc_analyze_opts {
	uint64_t max_body; /* body bytes kept per message */
	/* Called now and then with bytes read so far (may be NULL). */
	void (*progress)(void *ctx, uint64_t done_bytes);
	void *progress_ctx;
	/* When non-NULL, the analysis stops with -EINTR soon after *stop becomes
	 * non-zero (a signal handler's flag; borrowed). */
	const volatile sig_atomic_t *stop;
};

/* What the file said about itself, and what the analysis found. */
struct sc_analyze_result {
	const char *format;          /* "skc", "pcap", "pcapng" */
	char hostname[256], kernel[256], tool[128], options[1024];
	uint64_t start_ns, end_ns;   /* wall clock */
	uint64_t file_bytes;
	const char *status;          /* "complete", "unfinished", "damaged" */
	char damage[2048];           /* the reader's damage messages, one per line */
	uint64_t bytes_captured;     /* payload bytes read */
	uint64_t bytes_lost;         /* bytes the recorder or the snaplen lost */
	uint64_t connections;
	struct sc_dec_stats dec;     /* transactions, anomalies, parse errors, gaps */
	bool have_pcap;              /* a pcap or pcapng file: `pcap` and `interfaces` hold */
	struct sc_pcap_stats pcap;   /* frames read and skipped, by reason */
	char interfaces[1024];       /* the capture interfaces, one line each (sc_pcap_describe_interfaces) */
};

/* Whether the analysis knows traffic was lost or not understood: anomalies,
 * damage, bytes the capture lost, skipped frames that carried TCP, or frames
 * of an interface whose link type is not decoded (they may have). */
bool sc_analyze_lost(const struct sc_analyze_result *res);

/* Analyze `path` (format detected from content) into `sink`.  Returns 0 when
 * the file was read to its end (damage is reported in `res`, not as an
 * error), or a negative error: the file cannot be opened or is not a capture
 * (diag says why), or the sink failed. */
int sc_analyze_file(const char *path, const struct sc_analyze_opts *o, const struct sc_sink *sink,
		    struct sc_analyze_result *res, struct sc_diag *diag);

#endif
