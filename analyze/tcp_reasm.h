/* tcp_reasm.h - TCP stream reassembly for the analyzer.
 *
 * TCP segments in (struct sc_tcp_seg, from formats/sc_pcap.h), and for every
 * connection two ordered byte streams out, one per direction, through
 * callbacks.  Every byte position of a stream is reported exactly once, either
 * as data or as part of an explicit gap, in increasing offset order: for one
 * side of one connection, each `data` or `gap` callback starts where the
 * previous one ended.  Nothing is silently skipped.
 *
 * A connection is the unordered 4-tuple (family, both endpoints).  Side 0 is
 * client -> server, side 1 server -> client.  The client is the sender of a
 * SYN without ACK, or the receiver of a SYN-ACK when the SYN was not captured;
 * when neither was captured it is the first endpoint seen sending data
 * (struct sc_tcp_conn_info.roles_from_syn is then false).
 *
 * Rules that decide what happens with odd input (each is bounded):
 *  - Stream offset 0 is the byte after the SYN (ISN + 1); without a SYN it is
 *    the first byte seen from that side.  Bytes before offset 0 (a capture that
 *    starts with reordered segments) are dropped and the segment is counted in
 *    ignored_segments if nothing of it was left.
 *  - Sequence numbers compare in 32-bit serial arithmetic (RFC 1982), relative
 *    to the next expected byte.  A segment starting SC_TCP_REASM_MAX_JUMP bytes
 *    or more ahead of it is believed (the bytes in between become a gap) only
 *    if the peer's latest ACK has reached the segment's start; otherwise it is
 *    ignored and counted.  An RST SC_TCP_REASM_MAX_JUMP or more away from the
 *    expected sequence number, in either direction, is ignored likewise (an
 *    RST from a side that has sent nothing yet is always taken).
 *  - Retransmitted bytes already delivered are dropped and counted in
 *    retrans_bytes.  The reassembler keeps no copy of delivered bytes, so they
 *    are not compared: conflict_bytes counts only bytes that differ from a
 *    copy still buffered out of order.  Where copies overlap, the first copy
 *    wins, including a hole left by a snaplen cut.
 *  - A segment cut by the snaplen (len < wire_len) delivers its len bytes and
 *    then a gap of wire_len - len bytes.  A later full retransmission does not
 *    fill that gap.
 *  - Out-of-order data is copied and buffered, per connection at most
 *    max_ooo_bytes (counted as payload plus a fixed per-piece overhead) in at
 *    most max_ooo_chunks pieces.  Past either cap the hole before the lowest
 *    buffered piece (of the side just fed, if it has any) is declared a gap
 *    (cap_hits) and what follows is delivered, until under both caps.  The buffer may exceed the cap by one segment for the
 *    duration of one sc_tcp_reasm_segment() call.
 *  - FIN ends its side at the FIN's sequence number; bytes after it are
 *    dropped.  A second FIN at another position is ignored (the first wins),
 *    and so is a FIN before bytes already reported.
 *    When both sides have delivered everything up to their FIN the connection
 *    closes with SC_TCP_END_FIN.
 *  - RST closes the connection at once: buffered pieces are delivered with
 *    gaps for the holes between them, then a gap up to the highest byte seen
 *    on that side, then close with SC_TCP_END_RST.  Payload carried by an RST
 *    is ignored.
 *  - A SYN (or SYN-ACK) on an open tuple is a retransmission when its ISN + 1
 *    is that side's offset 0, the handshake when that side has not sent
 *    anything yet and the segment is a SYN-ACK, and otherwise a new
 *    connection: the open one is closed with SC_TCP_END_REUSED first.
 *    Simultaneous open (a SYN without ACK from both ends) is therefore seen as
 *    a reuse.  SYN with FIN or RST is invalid and ignored.
 *  - After a connection has closed, its tuple is remembered for
 *    SC_TCP_REASM_LINGER_NS of capture time (at most SC_TCP_REASM_MAX_CLOSED
 *    tuples, oldest forgotten first): late segments on it (final ACKs,
 *    retransmitted FINs, data after an RST, late copies of its SYNs) are
 *    ignored and counted, and only a new SYN starts a new connection.  Later,
 *    any segment with data or a SYN starts one.
 *  - A segment with no payload, SYN, FIN or RST (a pure ACK, a zero-length
 *    keep-alive) delivers nothing and is not counted as ignored; its ACK is
 *    still noted for the jump rule above.  A FIN or RST on a tuple that is not
 *    open cannot open a connection and is counted as ignored.
 *  - At most max_conns connections are open: opening one more first closes
 *    the least recently active one with SC_TCP_END_EVICTED (like RST: buffered
 *    pieces and holes flushed first).
 *
 * Memory is O(open connections + buffered out-of-order bytes + remembered
 * closed tuples); a connection's buffers are freed when it closes.  Nothing
 * here prints, exits or keeps global state; one reassembler may be used by one
 * thread at a time.
 */
#ifndef SC_TCP_REASM_H
#define SC_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/sc_err.h"
#include "formats/sc_pcap.h"
#include "formats/sc_types.h"

/* How a connection ended (the `how` of the close callback). */
enum sc_tcp_end {
	SC_TCP_END_FIN = 1,     /* both sides' FIN reached, everything delivered */
	SC_TCP_END_RST = 2,     /* an RST from either side */
	SC_TCP_END_CAPTURE = 3, /* still open at sc_tcp_reasm_finish() */
	SC_TCP_END_REUSED = 4,  /* a new SYN on the same tuple */
	SC_TCP_END_EVICTED = 5, /* closed to make room: max_conns connections were open */
};

/* Sequence jump beyond which a segment needs the peer's ACK to be believed:
 * the largest TCP window (65535 << 14) is just under 1 GiB. */
#define SC_TCP_REASM_MAX_JUMP (1u << 30)
/* How long (capture time) a closed tuple ignores segments without SYN: Linux's
 * TIME_WAIT. */
#define SC_TCP_REASM_LINGER_NS (60ull * 1000000000ull)
/* Closed tuples remembered at most. */
#define SC_TCP_REASM_MAX_CLOSED 65536u

#define SC_TCP_REASM_DEFAULT_MAX_OOO_BYTES (4ull << 20)
#define SC_TCP_REASM_DEFAULT_MAX_OOO_CHUNKS 4096u
#define SC_TCP_REASM_DEFAULT_MAX_CONNS (1ull << 20)

struct sc_tcp_conn_info {
	uint64_t id;  /* 1, 2, ... in order of opening */
	uint8_t family; /* SC_AF_INET or SC_AF_INET6 */
	struct sc_endpoint client, server; /* side 0 = client -> server; IPv4 uses addr[0..3], the rest is 0 */
	bool roles_from_syn; /* false: opened by a segment without SYN; the client is then the first
				sender seen (the consumer may decide otherwise from the content) */
	uint64_t first_ns; /* timestamp of the segment that opened the connection */
};

/* The consumer.  Every callback may return non-zero to stop: the reassembler
 * returns that value from the call that made the callback and fails (below).
 * `ctx` is passed back as it is.  All four callbacks must be set. */
struct sc_tcp_reasm_cb {
	void *ctx;
	/* A new connection.  `ci` is valid during the call only.  Returns the
	 * consumer's pointer for it, handed back to the other callbacks; NULL
	 * means out of memory (the call fails with -ENOMEM). */
	void *(*open)(void *ctx, const struct sc_tcp_conn_info *ci);
	/* n > 0 in-order bytes of one side (0 client -> server, 1 server -> client)
	 * at stream `offset`.  `p` is borrowed, valid during the call only.
	 * `ts_ns` is the capture time of the segment that carried the bytes. */
	int (*data)(void *ctx, void *conn, int side, uint64_t ts_ns, uint64_t offset, const uint8_t *p,
		    size_t n);
	/* n > 0 bytes of that side at `offset` are missing: never captured, cut by
	 * the snaplen, or given up on at a cap, an RST or the end.  `ts_ns` is the
	 * time of the segment (or finish) that made the reassembler give up. */
	int (*gap)(void *ctx, void *conn, int side, uint64_t ts_ns, uint64_t offset, uint64_t n);
	/* The connection ended (enum sc_tcp_end); no callback for `conn` follows,
	 * so the consumer may free it now. */
	int (*close)(void *ctx, void *conn, uint64_t ts_ns, int how);
};

/* Limits; a field left 0 takes its default. */
struct sc_tcp_reasm_opts {
	uint64_t max_ooo_bytes;  /* per connection, both sides together (SC_TCP_REASM_DEFAULT_MAX_OOO_BYTES) */
	uint32_t max_ooo_chunks; /* buffered pieces per connection (SC_TCP_REASM_DEFAULT_MAX_OOO_CHUNKS) */
	uint64_t max_conns;      /* open connections (SC_TCP_REASM_DEFAULT_MAX_CONNS) */
};

struct sc_tcp_reasm_stats {
	uint64_t conns;            /* connections opened */
	uint64_t segments;         /* segments given to sc_tcp_reasm_segment() */
	uint64_t bytes;            /* bytes delivered through `data` */
	uint64_t retrans_bytes;    /* duplicate bytes dropped: already delivered, or equal to a buffered copy */
	uint64_t conflict_bytes;   /* bytes that differed from a buffered copy (the buffered copy was kept) */
	uint64_t ooo_segments;     /* segments of which some bytes had to be buffered */
	uint64_t gap_bytes;        /* bytes reported through `gap` */
	uint64_t gaps;             /* `gap` callbacks */
	uint64_t cap_hits;         /* gaps declared because of max_ooo_bytes or max_ooo_chunks */
	uint64_t ignored_segments; /* segments with payload, SYN, FIN or RST that had no effect */
	uint64_t evictions;        /* connections closed with SC_TCP_END_EVICTED */
};

struct sc_tcp_reasm;

/* A reassembler reporting to `cb` (copied).  `o` may be NULL (all defaults).
 * Returns NULL with errno set: EINVAL if a callback is missing, ENOMEM. */
struct sc_tcp_reasm *sc_tcp_reasm_new(const struct sc_tcp_reasm_cb *cb, const struct sc_tcp_reasm_opts *o);

/* Feeds one segment (borrowed: its payload is copied if it must be kept).
 * Segments should come in capture order; timestamps only serve the callbacks
 * and the linger rule.  Returns 0; -EINVAL for a segment with len > 0 and no
 * payload (nothing done, the reassembler stays usable); -ENOMEM; or a
 * callback's non-zero return.  After -ENOMEM or a callback's failure the
 * reassembler has failed: every later call returns that same value, and only
 * sc_tcp_reasm_stats() and sc_tcp_reasm_free() are useful.  A wire_len below
 * len is taken as len. */
int sc_tcp_reasm_segment(struct sc_tcp_reasm *r, const struct sc_tcp_seg *seg);

/* End of the capture at `ts_ns`: for each open connection in order of id,
 * delivers what is buffered with gaps for the holes, a gap up to the highest
 * byte seen on each side, and closes it with SC_TCP_END_CAPTURE.  Closed
 * tuples are forgotten too, so the reassembler is empty afterwards and may be
 * fed again (ids and stats continue).  Returns as sc_tcp_reasm_segment(). */
int sc_tcp_reasm_finish(struct sc_tcp_reasm *r, uint64_t ts_ns);

const struct sc_tcp_reasm_stats *sc_tcp_reasm_stats(const struct sc_tcp_reasm *r);

/* Releases `r` and all its state without making any callback (call
 * sc_tcp_reasm_finish() first to have open connections closed; the consumer's
 * pointers of connections still open are not handed back and remain the
 * consumer's).  NULL is a no-op. */
void sc_tcp_reasm_free(struct sc_tcp_reasm *r);

#endif
