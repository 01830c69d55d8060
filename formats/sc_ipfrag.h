/* sc_ipfrag.h - IPv4 and IPv6 fragment reassembly for the pcap reader.
 *
 * The frame decoder (sc_pkt.c) hands every fragment it meets to
 * sc_ipfrag_add(); when a datagram is whole, the reassembler returns it as a
 * plain IP datagram (a rebuilt 20-byte IPv4 or 40-byte IPv6 header and the
 * payload), which the decoder decodes like any captured packet.
 *
 * Fragments may arrive in any order, duplicated or overlapping.  Overlapping
 * bytes that agree with what is held are accepted (a retransmitted or
 * differently split fragment); bytes that disagree make the datagram
 * ambiguous, and it is given up: RFC 5722 §4 tells an IPv6 receiver to discard
 * such a datagram, Linux applies the same rule to IPv4, and an observer cannot
 * know which copy the host kept.
 *
 * Memory is bounded by design: at most SC_IPFRAG_MAX_BYTES of payload held
 * over all datagrams and SC_IPFRAG_MAX_DATAGRAMS datagrams at once (the oldest
 * is given up to make room), each datagram at most 65535 bytes (RFC 791 §3.1,
 * RFC 8200 §4.5), and a datagram is given up when its first fragment is older
 * than the reassembly timeout (capture time).  Everything given up is counted
 * by reason, with the number of fragments it held; nothing is dropped silently.
 */
#ifndef SC_IPFRAG_H
#define SC_IPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_IPFRAG_MAX_BYTES (4u << 20)   /* payload held over all pending datagrams */
#define SC_IPFRAG_MAX_DATAGRAMS 1024u    /* pending datagrams */
#define SC_IPFRAG_TIMEOUT_V4_NS (30ull * 1000000000u) /* Linux's ipfrag_time */
#define SC_IPFRAG_TIMEOUT_V6_NS (60ull * 1000000000u) /* RFC 8200 §4.5 */

/* One fragment, as the decoder found it.  `data` is borrowed (copied by
 * sc_ipfrag_add). */
struct sc_ipfrag_piece {
	uint8_t family;    /* SC_AF_INET or SC_AF_INET6 */
	uint8_t proto;     /* IPv4 protocol, or the IPv6 fragment header's next header */
	uint8_t src[16], dst[16]; /* IPv4 addresses in the first 4 bytes, rest 0 */
	uint32_t id;       /* identification (16 bits in IPv4) */
	uint32_t offset;   /* byte offset of `data` in the datagram's payload */
	bool more;         /* more fragments follow (MF / M flag) */
	const uint8_t *data;
	size_t len;        /* all captured: the decoder never hands a cut fragment */
};

/* Counts, cumulative.  Every fragment handed in ends in exactly one of
 * `used`, `dropped` or pending: fragments == used + dropped + pending. */
struct sc_ipfrag_stats {
	uint64_t fragments;   /* fragments handed in */
	uint64_t datagrams;   /* datagrams reassembled */
	uint64_t used;        /* fragments that went into a reassembled datagram */
	uint64_t dropped;     /* fragments of datagrams given up */
	uint64_t dropped_tcp; /* ... of which the datagram carried TCP */
	uint64_t overlaps;    /* fragments overlapping held bytes that agreed (accepted) */
	uint64_t late_duplicates; /* fragments of a datagram already reassembled (counted in used) */
	/* Datagrams given up, by reason. */
	uint64_t gave_up_conflict;   /* overlapping bytes disagreed, or inconsistent lengths */
	uint64_t gave_up_too_big;    /* past 65535 bytes */
	uint64_t gave_up_timeout;    /* incomplete after the reassembly timeout */
	uint64_t gave_up_budget;     /* evicted to stay within the memory bounds */
	uint64_t gave_up_incomplete; /* still incomplete at the end of the capture */
};

struct sc_ipfrag;

/* NULL when out of memory. */
struct sc_ipfrag *sc_ipfrag_new(void);

/* Hand in one fragment captured at `ts_ns`.  Returns 1 when it completed a
 * datagram: *dgram and *len then hold the whole IP datagram (header rebuilt),
 * valid until the next call on `f`.  Returns 0 when the fragment is held, or
 * was counted as dropped or duplicate; -ENOMEM when memory ran out (the
 * fragment is counted as dropped). */
int sc_ipfrag_add(struct sc_ipfrag *f, const struct sc_ipfrag_piece *pc, uint64_t ts_ns, const uint8_t **dgram,
		  size_t *len);

/* The end of the capture: every pending datagram is given up (incomplete). */
void sc_ipfrag_finish(struct sc_ipfrag *f);

/* Fragments held in pending datagrams right now. */
uint64_t sc_ipfrag_pending(const struct sc_ipfrag *f);

const struct sc_ipfrag_stats *sc_ipfrag_stats(const struct sc_ipfrag *f);

void sc_ipfrag_free(struct sc_ipfrag *f);

#endif
