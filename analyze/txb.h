/* txb.h - building one transaction: copies of header fields and body bytes
 * in storage the builder owns, then handed to the sink and released.
 *
 * Decoders (HTTP/1, HTTP/2) parse zero-copy views into their input; what
 * must outlive the input is copied here.  Memory per transaction is bounded:
 * header bytes by the arena cap, each body by max_body (the rest is counted,
 * not kept).
 */
#ifndef SC_TXB_H
#define SC_TXB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/arena.h"
#include "analyze/convo.h"
#include "analyze/model.h"

#define SC_TXB_ARENA_CAP (4u << 20) /* header names/values and other strings of one transaction */

enum sc_txb_dir { SC_TXB_REQ = 0, SC_TXB_RESP = 1 };

struct sc_txb {
	struct sc_tx tx;
	struct sc_arena arena;
	uint8_t *body[2];   /* kept body bytes, heap, at most max_body */
	size_t body_cap[2];
	uint64_t max_body;
	bool overflow;      /* a copy failed (cap or memory): the transaction lost detail */
};

/* Start a transaction on connection `conn_id`; fields zeroed, grpc_status -1.
 * `b` must be zeroed (calloc) before its first init; later inits reuse its
 * storage. */
void sc_txb_init(struct sc_txb *b, uint64_t conn_id, uint64_t max_body);
void sc_txb_fini(struct sc_txb *b);

/* Copy `p[0..n)` into the transaction and point `*field` at it (e.g.
 * &b->tx.method).  Returns 0 or -ENOMEM (the field is left empty). */
int sc_txb_set(struct sc_txb *b, struct sc_view *field, const void *p, size_t n);

/* Append a header field to the request's or response's list (copied).
 * NULL name or value with the UNKNOWN flags stores an unknown part. */
int sc_txb_add_hdr(struct sc_txb *b, enum sc_txb_dir dir, const void *name, size_t nlen, const void *value,
		   size_t vlen, uint8_t flags);

/* Body bytes of one message: counted in req/resp_body_bytes, kept up to
 * max_body. */
int sc_txb_body(struct sc_txb *b, enum sc_txb_dir dir, const uint8_t *p, size_t n);

/* Fill the body views, hand the transaction to the sink, count it, and
 * release its storage (the builder is ready for sc_txb_init again). */
int sc_txb_emit(struct sc_txb *b, const struct sc_dec_env *env, struct sc_conn *c);

/* The first header named `name` (ASCII case-insensitive), or NULL. */
const struct sc_hdr *sc_txb_find_hdr(const struct sc_hdr_list *l, const char *name);

#endif
