/* model.h - what the analyzer decodes: connections, transactions, anomalies,
 * and the sink interface through which decoders hand them on.
 *
 * Decoders never touch SQLite (ARCHITECTURE.md): they fill these structures
 * and call a struct sc_sink, so the same decoding feeds the SQLite loader,
 * exports, diff, and unit tests that assert on events directly.
 */
#ifndef SC_MODEL_H
#define SC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/sc_rd.h"
#include "formats/sc_types.h"

/* The two directions of an exchange. */
enum sc_side {
	SC_FROM_CLIENT = 0,
	SC_FROM_SERVER = 1,
};

/* What the local end of a connection is.  For pcap input there is no local
 * process: role is SC_ROLE_NETWORK and `local` is the client. */
enum sc_role {
	SC_ROLE_UNKNOWN = 0,
	SC_ROLE_CLIENT,
	SC_ROLE_SERVER,
	SC_ROLE_NETWORK,
};

enum sc_proto {
	SC_PROTO_NONE = 0, /* no payload seen */
	SC_PROTO_UNKNOWN,
	SC_PROTO_HTTP1,
	SC_PROTO_HTTP2,
	SC_PROTO_TLS,
};

const char *sc_role_name(enum sc_role r);
const char *sc_proto_name(enum sc_proto p);

/* One connection (a socket of an .skc capture, a TCP 4-tuple of a pcap). */
struct sc_conn {
	uint64_t id;         /* set by the sink's conn_begin (the database row id) */
	uint64_t capture_id; /* set by the caller */
	uint64_t src_id;     /* .skc socket id, or pcap connection number */
	uint8_t family;      /* enum sc_family */
	struct sc_endpoint local, remote;
	char unix_path[112];
	enum sc_role role;
	uint32_t pid, fd_plus1; /* fd_plus1 = 0: unknown */
	char comm[17];
	bool midstream;      /* joined an established connection */
	uint64_t open_ns, close_ns; /* wall-clock ns, 0 = unknown/still open */
	enum sc_proto proto;
	/* Per side (enum sc_side): bytes seen, gaps and missing bytes. */
	uint64_t bytes[2], gaps[2], gap_bytes[2];
	uint64_t transactions;
	bool client_is_egress; /* .skc: which socket direction carries the client's bytes */
};

/* A header field.  Views point into the transaction's arena. */
#define SC_HDR_TRAILER 0x01       /* a trailer field (after the body) */
#define SC_HDR_NEVER_INDEXED 0x02 /* HPACK never-indexed literal: sensitive */
#define SC_HDR_NAME_UNKNOWN 0x04  /* HPACK: refers to a dynamic-table entry we could not know */
#define SC_HDR_VALUE_UNKNOWN 0x08

struct sc_hdr {
	struct sc_view name, value;
	uint8_t flags;
};

struct sc_hdr_list {
	struct sc_hdr *v;
	size_t n, cap;
};

/* One HTTP exchange: a request and its response (either may be missing). */
struct sc_tx {
	uint64_t conn_id;
	uint32_t stream_id;       /* HTTP/2 stream id, 0 for HTTP/1 */
	const char *version;      /* "HTTP/1.0", "HTTP/1.1", "HTTP/2" */
	struct sc_view method, scheme, authority, path;
	int status;               /* final status, 0 = no response */
	struct sc_view reason;
	int interim_status;       /* last 1xx seen before the final response, 0 = none */
	uint64_t req_start_ns, req_end_ns, resp_start_ns, resp_end_ns; /* wall ns, 0 = unknown */
	uint64_t req_offset, resp_offset; /* stream offsets of the first byte of each message */
	uint64_t req_header_bytes, resp_header_bytes;
	uint64_t req_body_bytes, resp_body_bytes; /* decoded bodies (after de-chunking) */
	struct sc_hdr_list req_hdrs, resp_hdrs;   /* trailers included, flagged */
	struct sc_view req_body, resp_body;       /* at most max_body bytes each */
	bool req_body_cut, resp_body_cut;         /* more bytes than kept */
	struct sc_view content_type, content_encoding; /* of the response */
	bool complete;            /* both messages whole and parsed */
	bool truncated;           /* a message was cut: capture ended, gap, connection closed */
	bool error;               /* a protocol error in this exchange */
	bool headers_incomplete;  /* some header is known to exist but not its content (HPACK) */
	/* HTTP/2 */
	bool rst;                 /* RST_STREAM seen */
	uint32_t rst_code;
	uint32_t promised_by;     /* server push: the stream whose PUSH_PROMISE announced it */
	/* gRPC (application/grpc*) */
	bool grpc;
	int grpc_status;          /* -1: none */
	struct sc_view grpc_message;
	uint32_t grpc_req_msgs, grpc_resp_msgs;
	uint64_t grpc_req_msg_bytes, grpc_resp_msg_bytes;
	uint32_t grpc_compressed_msgs;
};

enum sc_anomaly_kind {
	SC_ANOM_GAP = 1,      /* bytes missing from a stream */
	SC_ANOM_PARSE,        /* a protocol error */
	SC_ANOM_TRUNCATED,    /* a message cut by the end of the stream */
	SC_ANOM_UNKNOWN,      /* content we cannot decode (skipped bytes after a gap, ...) */
};

const char *sc_anomaly_kind_name(enum sc_anomaly_kind k);

struct sc_anomaly {
	uint64_t conn_id;
	enum sc_anomaly_kind kind;
	int side;             /* enum sc_side, or -1 */
	uint64_t offset;      /* stream offset where it was found */
	uint64_t len;         /* bytes concerned, 0 if not applicable */
	uint64_t ts_ns;
	uint32_t stream_id;
	const char *msg;      /* borrowed for the call */
};

struct sc_process {
	uint32_t pid, ppid;
	const char *comm;
};

/* Where decoded things go.  Every callback returns 0 or a negative error
 * that stops the analysis (a database error).  Pointers are borrowed for the
 * duration of the call. */
struct sc_sink {
	void *ctx;
	int (*conn_begin)(void *ctx, struct sc_conn *c); /* sets c->id */
	int (*conn_end)(void *ctx, const struct sc_conn *c);
	int (*tx)(void *ctx, const struct sc_tx *t);
	int (*anomaly)(void *ctx, const struct sc_anomaly *a);
	int (*process)(void *ctx, const struct sc_process *p);
};

#endif
