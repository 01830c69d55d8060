/* hpack.h - HPACK header block decoder (RFC 7541) for the HTTP/2 analyzer.
 *
 * One decoder follows one direction of one HTTP/2 connection: it keeps the
 * dynamic table that the peer's encoder builds, and turns each complete header
 * block (a HEADERS or PUSH_PROMISE payload and its CONTINUATION payloads,
 * concatenated by the caller) into header fields.
 *
 * sockcap often sees a connection from the middle, or loses bytes of it.  The
 * decoder then cannot know the dynamic table, but it can still decode most of
 * what follows exactly: see sc_hpack_set_unknown().  It never guesses: a field
 * whose name or value it cannot know is delivered with SC_HPACK_NAME_UNKNOWN /
 * SC_HPACK_VALUE_UNKNOWN instead.
 *
 * Nothing here prints, exits or keeps global state; one decoder may be used by
 * one thread at a time.
 */
#ifndef SC_HPACK_H
#define SC_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/sc_err.h"
#include "formats/sc_rd.h"

/* SETTINGS_HEADER_TABLE_SIZE before any SETTINGS frame (RFC 9113 §6.5.2). */
#define SC_HPACK_DEFAULT_TABLE_SIZE 4096u

/* Field flags (struct sc_hpack_field.flags). */
#define SC_HPACK_NEVER_INDEXED 0x1u /* literal never indexed (RFC 7541 §6.2.3): a sensitive field */
#define SC_HPACK_NAME_UNKNOWN 0x2u  /* the name is in a table entry the decoder cannot know; name is empty */
#define SC_HPACK_VALUE_UNKNOWN 0x4u /* likewise for the value; value is empty */

/* Caps on what one decoder accepts or keeps.  Every value is a maximum. */
struct sc_hpack_limits {
	uint32_t max_string_len;  /* one encoded string literal, in bytes (SC_ETOOBIG beyond) */
	uint32_t max_header_list; /* one block's decoded fields, as sum(name + value + 32) */
	uint32_t max_fields;      /* fields in one block */
	uint32_t max_table_mem;   /* bytes of dynamic table content the decoder stores */
};

#define SC_HPACK_DEFAULT_MAX_STRING_LEN (1u << 20)
#define SC_HPACK_DEFAULT_MAX_HEADER_LIST (1u << 20)
#define SC_HPACK_DEFAULT_MAX_FIELDS 10000u
#define SC_HPACK_DEFAULT_MAX_TABLE_MEM (1u << 20)

/* One decoded header field.  The views point into memory owned by the
 * decoder: they stay valid until the next sc_hpack_decode(),
 * sc_hpack_set_unknown() or sc_hpack_free() on the same decoder (also across
 * the emit callbacks of the rest of the block), and the caller's block may be
 * released as soon as sc_hpack_decode() returns.  Names and values are raw
 * bytes, not NUL-terminated, not validated as HTTP tokens. */
struct sc_hpack_field {
	struct sc_view name, value;
	unsigned flags; /* SC_HPACK_* */
};

/* Called once per field, in block order (`emit` may be NULL: the table is
 * still kept).  A non-zero return stops decoding;
 * sc_hpack_decode() returns that value as it is and the decoder fails (below),
 * since the rest of the block, which may change the table, was not read. */
typedef int (*sc_hpack_emit_fn)(void *ctx, const struct sc_hpack_field *f);

struct sc_hpack;

/* A decoder for a connection on which `max_table_size` is the
 * SETTINGS_HEADER_TABLE_SIZE in force (SC_HPACK_DEFAULT_TABLE_SIZE for a new
 * connection), with the default limits.  The state is known and the table
 * empty.  Returns NULL with errno = ENOMEM when out of memory. */
struct sc_hpack *sc_hpack_new(uint32_t max_table_size);

/* Releases `h` and everything it owns.  NULL is a no-op. */
void sc_hpack_free(struct sc_hpack *h);

/* The defaults, for callers that change one limit. */
void sc_hpack_limits_default(struct sc_hpack_limits *l);

/* Replaces the limits (copied).  Returns 0, or -EINVAL if a value is 0 or
 * max_table_mem is under 32 bytes (nothing set).  Lowering max_table_mem
 * forgets the oldest stored entries, which makes the state unknown. */
int sc_hpack_set_limits(struct sc_hpack *h, const struct sc_hpack_limits *l);

/* The peer acknowledged SETTINGS_HEADER_TABLE_SIZE = n: the upper bound for
 * later dynamic table size updates.  Call it between blocks.  The table is
 * trimmed to n at once (the encoder has to send an update of at most n before
 * its next field anyway).  If the setting in force is not known (joined
 * mid-connection), pass the largest value the peer could have sent (up to
 * UINT32_MAX): a bound that is too small can turn valid blocks into errors,
 * though never into wrong fields. */
void sc_hpack_set_max_table_size(struct sc_hpack *h, uint32_t n);

/* The table became unknown: the connection was joined mid-stream, or bytes of
 * this direction were lost.  The entries now in the table are forgotten, their
 * number and sizes too, and a failed decoder is reset.  From then on:
 *  - entries inserted later are known exactly, and a reference to one of them
 *    decodes normally (eviction is FIFO and the unknown entries are all older,
 *    so the known ones stay until every unknown one is gone);
 *  - a reference to an older entry yields a field with both UNKNOWN flags, and
 *    a literal whose name is such an entry yields NAME_UNKNOWN and its value
 *    (inserting it, if so asked, as an entry with an unknown name);
 *  - an index that may still be in the table is not an error, since it cannot
 *    be told from a protocol error; one that no table of the current maximum
 *    size can hold (index > 61 + max size / 32) still is;
 *  - the state becomes known again when the decoder can prove that every
 *    unknown entry was evicted: a size update to at most the size of the
 *    known entries (to 0, say), or an insertion after which the known
 *    entries fill the table. */
void sc_hpack_set_unknown(struct sc_hpack *h);

/* True when every entry of the dynamic table is known, names included. */
bool sc_hpack_state_known(const struct sc_hpack *h);

/* Decodes one complete header block of `len` bytes (borrowed for the call),
 * calling `emit(ctx, field)` for each field.  Returns:
 *   0            the whole block was decoded;
 *   SC_ETOOBIG   the block was decoded and the table kept in sync, but the
 *                header list went over max_header_list or max_fields: the
 *                fields before that were emitted, the rest were not;
 *                the decoder remains usable;
 *   SC_EPROTO    a protocol error (index 0, bad Huffman, a size update above
 *                the setting or after a field, integer overflow...);
 *   SC_ETRUNC    the block ends inside a field or a string runs past its end;
 *   SC_ETOOBIG   (with the decoder failed) a string longer than max_string_len;
 *   -ENOMEM      out of memory (fatal);
 *   the callback's non-zero return.
 * Except for the first SC_ETOOBIG case, an error leaves the decoder failed:
 * its table can no longer be trusted, so every later call returns the same
 * error (with a message saying so) until sc_hpack_set_unknown().  Fields
 * decoded before an error have been emitted.  `diag` (may be NULL) gets a
 * message with the offset in the block ("HPACK: index 70 beyond table of 65
 * entries at block offset 3 (RFC 7541 §2.3.3)"). */
int sc_hpack_decode(struct sc_hpack *h, const uint8_t *block, size_t len, sc_hpack_emit_fn emit, void *ctx,
		    struct sc_diag *diag);

/* Inspection of the dynamic table (tests, debugging output). */

/* Entries the decoder holds (known entries; 0 after sc_hpack_set_unknown()). */
size_t sc_hpack_table_len(const struct sc_hpack *h);

/* Sum of their sizes (name + value + 32 each, RFC 7541 §4.1).  An entry with
 * an unknown name counts its value + 32 only. */
uint64_t sc_hpack_table_size(const struct sc_hpack *h);

/* The current maximum table size (the last size update, or the setting). */
uint32_t sc_hpack_table_max_size(const struct sc_hpack *h);

/* Entry `i` (0 = the newest, wire index 62).  Writes *f (OUT) and returns 0,
 * or returns SC_ELIMIT if i >= sc_hpack_table_len(h), or -ENOMEM.  The views
 * are valid until the next call of any sc_hpack_* function on `h`. */
int sc_hpack_table_get(struct sc_hpack *h, size_t i, struct sc_hpack_field *f);

#endif
