/* sc_pcap.h - TCP segments from pcap and pcapng files.
 *
 * Delivers every TCP segment of a capture (addresses, ports, seq, ack, flags,
 * payload) from the link types sockcap meets in practice: Ethernet (802.1Q and
 * 802.1ad tags, 802.3 with LLC/SNAP, PPPoE, MPLS), Linux cooked capture v1 and
 * v2, raw IP (v4 and v6), BSD loopback (DLT_NULL, DLT_LOOP), PPP, Cisco HDLC,
 * NFLOG and Linux ARCNET; through IP in IP, GRE (and ERSPAN), VXLAN and Geneve
 * tunnels; with IPv4 and IPv6 fragments reassembled (sc_ipfrag.h).  Classic
 * pcap files are read by libpcap; pcapng files by a reader of our own that
 * decodes each interface with its own link type (sc_pcapng.c).
 *
 * Everything that is not delivered is counted by reason, never silently
 * dropped, and `skipped_tcp` says how many of the skipped frames carried TCP
 * (the caller's cue that traffic was lost).  Stream reassembly is the
 * analyzer's job.
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

/* What was read and what was skipped, by reason.
 *
 * Every frame, and every datagram reassembled from fragments, has exactly
 * one outcome:
 *   frames + reassembled == tcp_segments + ip_fragments + skipped_non_ip
 *       + skipped_non_tcp + skipped_truncated + skipped_malformed
 *       + skipped_link_type
 * and every fragment ends in a reassembled datagram or is given up:
 *   ip_fragments == fragments_used + skipped_fragments (+ those still pending
 *   before the end of the file).
 */
struct sc_pcap_stats {
	uint64_t frames;            /* frames read */
	uint64_t bytes;             /* captured bytes of all frames */
	uint64_t first_ns, last_ns; /* timestamps of the first and last frame (any frame) */
	uint64_t tcp_segments;      /* segments delivered */
	uint64_t tcp_payload_bytes; /* payload bytes delivered (sum of len) */
	uint64_t skipped_non_ip;    /* ARP, LLDP, PPP control, unknown ethertypes ... */
	uint64_t skipped_non_tcp;   /* UDP, ICMP, ESP ... */
	uint64_t skipped_truncated; /* cut by the snaplen before the TCP payload, or inside a fragment */
	uint64_t skipped_malformed; /* inconsistent headers (bad IHL, data offset, lengths), unknown interface */
	uint64_t skipped_link_type; /* frames of an interface whose link type is not decoded */
	uint64_t skipped_fragments; /* fragments of datagrams given up (sc_ipfrag.h says why) */
	uint64_t skipped_tcp;       /* skipped frames (and given-up fragments) that carried TCP */
	uint64_t ip_fragments;      /* frames that were IP fragments */
	uint64_t fragments_used;    /* ... that went into a reassembled datagram */
	uint64_t reassembled;       /* datagrams reassembled from fragments */
	uint64_t frag_overlaps;     /* fragments overlapping held bytes that agreed (accepted) */
	uint64_t frag_conflicts;    /* datagrams given up: overlapping bytes that disagreed */
	uint64_t tunneled;          /* segments decapsulated from a tunnel */
	uint64_t len_from_frame;    /* IP length 0 (TSO / BIG TCP): taken from the frame */
	uint64_t skipped_blocks;    /* pcapng blocks without packets (statistics, names, ...) */
	uint64_t truncated_payload; /* segments delivered with len < wire_len */
	uint64_t truncated_bytes;   /* sum of wire_len - len */
};

/* A capture interface: a classic pcap file has one, a pcapng file one per
 * interface description block (over all its sections). */
struct sc_pcap_iface {
	int dlt;               /* DLT_* value */
	uint32_t linktype;     /* LINKTYPE_* value, as in the file */
	char name[64];         /* pcapng if_name, "" if none; printable ASCII ('?' for other bytes) */
	char description[64];  /* pcapng if_description, likewise */
	uint32_t snaplen;
	bool decoded;          /* sockcap decodes its link type */
	uint64_t frames;       /* frames read from it */
	uint64_t tcp_segments; /* segments delivered from its frames */
};

/* The interface of a pcapng packet whose interface id is not described. */
#define SC_PCAP_NO_IFACE UINT32_MAX

struct sc_pcap;

/* Open a pcap or pcapng file ("-" is standard input) with nanosecond
 * timestamps.  Returns NULL and fills `diag` (libpcap's message, ours for
 * pcapng, or "unsupported link type ..." for a classic pcap of a link type
 * sockcap does not decode) on failure. */
struct sc_pcap *sc_pcap_open(const char *path, struct sc_diag *diag);

/* Read from `f` (positioned at the file header).  Takes ownership of `f` on
 * success: sc_pcap_close() closes it. */
struct sc_pcap *sc_pcap_fopen(FILE *f, struct sc_diag *diag);

/* The next TCP segment: 1 and *seg filled, 0 at the end of the file, or a
 * negative error (a truncated or corrupt file: `diag` says where) after which
 * nothing more can be read.  Frames that are not TCP are counted in the stats
 * and skipped. */
int sc_pcap_next(struct sc_pcap *p, struct sc_tcp_seg *seg, struct sc_diag *diag);

/* The first interface's link type (DLT_*, -1 before a pcapng file described
 * one), its name ("EN10MB", "LINUX_SLL2", ..., "none") and snaplen. */
int sc_pcap_linktype(const struct sc_pcap *p);
const char *sc_pcap_linktype_name(const struct sc_pcap *p);
uint32_t sc_pcap_snaplen(const struct sc_pcap *p);

/* The interfaces met so far (all of them once sc_pcap_next() returned 0 or
 * an error); the pointer is valid until the next call. */
size_t sc_pcap_ninterfaces(const struct sc_pcap *p);
const struct sc_pcap_iface *sc_pcap_interface(const struct sc_pcap *p, size_t i);

/* A link type's name: libpcap's ("EN10MB"), or "LINKTYPE_<n>". */
void sc_pcap_linktype_str(const struct sc_pcap_iface *i, char *buf, size_t n);

/* One line per interface into `buf` ("0: EN10MB eth0, 120 frames, 96 TCP
 * segments" / "... not decoded (link type ...)"), NUL-terminated and cut to
 * `n` bytes. */
void sc_pcap_describe_interfaces(const struct sc_pcap *p, char *buf, size_t n);
bool sc_pcap_is_pcapng(const struct sc_pcap *p);
const struct sc_pcap_stats *sc_pcap_stats(const struct sc_pcap *p);
void sc_pcap_close(struct sc_pcap *p);

/* Decode one captured frame of link type `dlt` (caplen bytes at `pkt`, its
 * wire length unknown), without the state sc_pcap_next() keeps: a fragment is
 * counted in ip_fragments and not reassembled.  Returns 1 with *seg filled
 * (ts_ns and frame left to the caller), or 0 when the frame was not delivered
 * (the reason is counted in *st).  Never reads outside `pkt[0..caplen)`.
 * Exposed for tests and fuzzing. */
int sc_pcap_decode(int dlt, const uint8_t *pkt, uint32_t caplen, struct sc_tcp_seg *seg,
		   struct sc_pcap_stats *st);

/* Whether sockcap decodes link type `dlt`. */
bool sc_pcap_dlt_supported(int dlt);

#endif
