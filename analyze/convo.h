/* convo.h - one connection's conversation: bytes of both directions in,
 * protocol events out.
 *
 * Sources (.skc sockets, reassembled pcap TCP streams) call these with the
 * bytes of each direction in stream order and the gaps between them, both
 * directions interleaved in capture-time order.  The conversation decides
 * which side is the client (from connect/accept or the SYN, else from the
 * first bytes), detects the protocol from content (never from ports), and
 * drives the matching decoder, which reports to the sink.
 */
#ifndef SC_CONVO_H
#define SC_CONVO_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/model.h"

/* Settings and counters shared by every conversation of an analysis. */
struct sc_dec_stats {
	uint64_t transactions, anomalies, parse_errors, gaps, gap_bytes;
	uint64_t truncated, incomplete_tx;
};

struct sc_dec_env {
	const struct sc_sink *sink;
	uint64_t max_body;          /* body bytes kept per message (0: none) */
	struct sc_dec_stats *stats;
};

struct sc_convo;

/* `c` is borrowed for the conversation's life; its role, proto and counters
 * are updated as the conversation goes.  `roles_known`: c->client_is_egress
 * is right (connect/accept, SYN); otherwise the first bytes decide. */
struct sc_convo *sc_convo_new(struct sc_conn *c, const struct sc_dec_env *env, bool roles_known);
void sc_convo_free(struct sc_convo *cv);

/* Bytes moving in local direction `egress` (true: local -> remote; for pcap,
 * client -> server as far as the source knows), at stream offset `off`,
 * captured at wall-clock `ts_ns`.  Returns 0 or a fatal error (the sink's). */
int sc_convo_data(struct sc_convo *cv, bool egress, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n);

/* `n` bytes are missing at `off` in that direction. */
int sc_convo_gap(struct sc_convo *cv, bool egress, uint64_t ts_ns, uint64_t off, uint64_t n);

/* The connection ended (`closed`: it was closed; else the capture ended with
 * it open).  Pending transactions are flushed. */
int sc_convo_end(struct sc_convo *cv, uint64_t ts_ns, bool closed);

/* ---- decoders (analyze/h1conn.c, analyze/h2conn.c) ---------------------------- */

/* Report an anomaly for connection `c` (counts it in env->stats). */
int sc_convo_anomaly(const struct sc_dec_env *env, const struct sc_conn *c, enum sc_anomaly_kind kind, int side,
		     uint64_t off, uint64_t len, uint64_t ts_ns, uint32_t stream_id, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));

struct sc_h1conn;
struct sc_h1conn *sc_h1conn_new(struct sc_conn *c, const struct sc_dec_env *env);
void sc_h1conn_free(struct sc_h1conn *h);
/* Returns 0, a fatal error, or SC_H1_UPGRADE_H2 when the connection switched
 * to HTTP/2 (101 with Upgrade: h2c): the bytes of each side after the switch
 * are then obtained with sc_h1conn_take_rest(). */
#define SC_H1_UPGRADE_H2 1
int sc_h1conn_data(struct sc_h1conn *h, int side, uint64_t ts_ns, uint64_t off, const uint8_t *p, size_t n);
int sc_h1conn_gap(struct sc_h1conn *h, int side, uint64_t ts_ns, uint64_t off, uint64_t n);
int sc_h1conn_end(struct sc_h1conn *h, uint64_t ts_ns, bool closed);

struct sc_h2_upgrade;
/* After SC_H1_UPGRADE_H2: the upgraded request (views valid until the next
 * call on `h`), and for each side the bytes HTTP/1 had received beyond the
 * switch, with the stream offset and time of their first byte. */
int sc_h1conn_upgrade_info(struct sc_h1conn *h, struct sc_h2_upgrade *up);
void sc_h1conn_rest(struct sc_h1conn *h, int side, const uint8_t **p, size_t *n, uint64_t *off, uint64_t *ts_ns);

#endif
