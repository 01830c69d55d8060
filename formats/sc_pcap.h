/* sc_pcap.h - TCP segments from pcap and pcapng files, through libpcap.
 *
 * Delivers every TCP segment of a capture (addresses, ports, seq, ack, flags,
 * payload) from the link types sockcap meets in practice: Ethernet (with
 * 802.1Q/802.1ad VLAN tags), Linux cooked capture v1 and v2, raw IP (v4 and
 * v6) and BSD loopback (DLT_NULL, DLT_LOOP).  Everything else is counted and
 * skipped, never silently dropped.  Stream reassembly is the analyzer's job.
 */
#ifndef SC_PCAP_H
#define SC_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sc_err.h"
#include "sc_types.h"

/* TCP flags, as on the wire. */
#define SC_TCP_FIN 0x01u
#define SC_TCP_SYN 0x02u
#define SC_TCP_RST 0x04u
#define SC_TCP_PSH 0x08u
#define SC_TCP_ACK 0x10u
#define SC_TCP_URG 0x20u
#define SC_TCP_ECE 0x40u
#define SC_TCP_CWR 0x80u

/* One TCP segment.  `payload` points into libpcap's packet buffer (or the
 * buffer given to sc_pcap_decode) and is valid until the next call. */
struct sc_tcp_seg {
	uint64_t ts_ns;    /* capture timestamp, ns since the epoch */
	uint64_t frame;    /* 1-based frame number in the file */
	uint8_t family;    /* SC_AF_INET or SC_AF_INET6 */
	struct sc_endpoint src, dst;
	uint32_t seq, ack;
	uint8_t flags;     /* SC_TCP_* */
	uint16_t window;
	const uint8_t *payload;
	uint32_t len;      /* payload bytes present at `payload` */
	uint32_t wire_len; /* payload bytes the segment carried (len < wire_len: cut by the snaplen) */
};

/* What was read and what was skipped, by reason. */
struct sc_pcap_stats {
	uint64_t frames;            /* frames read */
	uint64_t bytes;             /* captured bytes of all frames */
	uint64_t tcp_segments;      /* segments delivered */
	uint64_t tcp_payload_bytes; /* payload bytes delivered (sum of len) */
	uint64_t skipped_non_ip;    /* ARP, LLDP, unknown ethertypes ... */
	uint64_t skipped_non_tcp;   /* UDP, ICMP, ... */
	uint64_t skipped_fragments; /* IPv4 fragments and IPv6 fragment headers */
	uint64_t skipped_truncated; /* cut by the snaplen before the end of the TCP header */
	uint64_t skipped_malformed; /* inconsistent headers (bad IHL, data offset, lengths) */
	uint64_t truncated_payload; /* segments delivered with len < wire_len */
	uint64_t truncated_bytes;   /* sum of wire_len - len */
};

struct sc_pcap;

/* Open a pcap or pcapng file ("-" is standard input) with nanosecond
 * timestamps.  Returns NULL and fills `diag` (libpcap's message, or
 * "unsupported link type ...") on failure. */
struct sc_pcap *sc_pcap_open(const char *path, struct sc_diag *diag);

/* Read from `f` (positioned at the file header).  Takes ownership of `f` on
 * success: sc_pcap_close() closes it. */
struct sc_pcap *sc_pcap_fopen(FILE *f, struct sc_diag *diag);

/* The next TCP segment: 1 and *seg filled, 0 at the end of the file, or a
 * negative error (a truncated or corrupt file: `diag` says where) after which
 * nothing more can be read.  Frames that are not TCP are counted in the stats
 * and skipped. */
int sc_pcap_next(struct sc_pcap *p, struct sc_tcp_seg *seg, struct sc_diag *diag);

int sc_pcap_linktype(const struct sc_pcap *p);        /* DLT_* value */
const char *sc_pcap_linktype_name(const struct sc_pcap *p); /* "EN10MB", "LINUX_SLL2", ... */
uint32_t sc_pcap_snaplen(const struct sc_pcap *p);
bool sc_pcap_is_pcapng(const struct sc_pcap *p);
const struct sc_pcap_stats *sc_pcap_stats(const struct sc_pcap *p);
void sc_pcap_close(struct sc_pcap *p);

/* Decode one captured frame of link type `dlt` (caplen bytes at `pkt`).
 * Returns 1 with *seg filled (ts_ns and frame left to the caller), or 0 when
 * the frame was skipped (the reason is counted in *st).  Never reads outside
 * `pkt[0..caplen)`.  Exposed for tests and fuzzing. */
int sc_pcap_decode(int dlt, const uint8_t *pkt, uint32_t caplen, struct sc_tcp_seg *seg,
		   struct sc_pcap_stats *st);

/* Whether sockcap decodes link type `dlt`. */
bool sc_pcap_dlt_supported(int dlt);

#endif
