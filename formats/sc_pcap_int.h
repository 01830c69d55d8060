/* sc_pcap_int.h - internals shared by the parts of the pcap reader: the frame
 * decoder (sc_pkt.c), the pcapng block reader (sc_pcapng.c) and the file
 * layer (sc_pcap.c).  Only formats/ and its tests include it.
 */
#ifndef SC_PCAP_INT_H
#define SC_PCAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sc_ipfrag.h"
#include "sc_pcap.h"

/* ---- the frame decoder (sc_pkt.c) ---------------------------------------------- */

/* What became of one frame (or one reassembled datagram). */
enum sc_pkt_outcome {
	SC_PKT_SEGMENT,     /* a TCP segment: *seg is filled */
	SC_PKT_FRAGMENT,    /* an IP fragment: info->frag is filled, for sc_ipfrag_add() */
	SC_PKT_NON_IP,      /* ARP, LLDP, PPP control, unknown ethertypes ... */
	SC_PKT_NON_TCP,     /* UDP (not a tunnel we decode), ICMP, ESP ... */
	SC_PKT_TRUNCATED,   /* cut by the snaplen before the TCP payload (or inside a fragment) */
	SC_PKT_MALFORMED,   /* inconsistent headers */
	SC_PKT_UNSUPPORTED, /* a link type we do not decode */
};

/* Tunnels entered before giving up on a frame: real networks nest two (VXLAN
 * in an outer VLAN + MPLS path, say); the cap bounds a frame of headers. */
#define SC_PKT_MAX_TUNNELS 4

struct sc_pkt_info {
	bool tcp;            /* an IP header of the frame said TCP, whatever the outcome */
	bool tunnel;         /* decapsulated from GRE, VXLAN, Geneve or IP in IP */
	bool len_from_frame; /* IPv4 total length or IPv6 payload length 0 (TSO, BIG TCP) */
	struct sc_ipfrag_piece frag; /* SC_PKT_FRAGMENT: views into the frame */
};

/* Decode one frame of link type `dlt` (a DLT_* value, or LINKTYPE_RAW):
 * caplen bytes at `pkt`, `wire_len` its length on the wire (SIZE_MAX when
 * unknown).  Never reads outside pkt[0..caplen).  `seg`'s ts_ns and frame are
 * left to the caller. */
enum sc_pkt_outcome sc_pkt_decode(int dlt, const uint8_t *pkt, size_t caplen, size_t wire_len, struct sc_tcp_seg *seg,
				  struct sc_pkt_info *info);

/* Decode a whole IP datagram (as sc_ipfrag_add() returns one). */
enum sc_pkt_outcome sc_pkt_decode_ip(const uint8_t *dgram, size_t len, struct sc_tcp_seg *seg,
				     struct sc_pkt_info *info);

/* Whether sc_pkt_decode() knows link type `dlt`. */
bool sc_pkt_dlt_supported(int dlt);

/* The DLT_* value libpcap uses for a LINKTYPE_* value read from a file (they
 * differ for a few historical types, LINKTYPE_RAW among them). */
int sc_pkt_linktype_to_dlt(uint32_t linktype);

/* ---- the pcapng block reader (sc_pcapng.c) -------------------------------------- */

struct sc_pcapng;

/* One packet out of a pcapng file: a view into the reader's buffer, valid
 * until the next call. */
struct sc_pcapng_pkt {
	uint32_t iface;       /* index into the file's interfaces (over all sections) */
	uint64_t ts_ns;
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wire_len;    /* 0 when the block does not say (simple packet block) */
	uint64_t offset;      /* file offset of the block */
};

/* Start reading `f` whose first 4 bytes (`magic`, the section header block's
 * type) were already read.  Does not own `f`.  NULL with `diag` on failure
 * (a section header that is not one, no memory). */
struct sc_pcapng *sc_pcapng_open(FILE *f, const uint8_t magic[4], struct sc_diag *diag);

/* The next packet: 1, 0 at the end of the file, or a negative error (damage:
 * `diag` says what and where) after which nothing more is read.  Blocks that
 * carry no packet are skipped and counted. */
int sc_pcapng_next(struct sc_pcapng *g, struct sc_pcapng_pkt *pkt, struct sc_diag *diag);

/* The interfaces described so far. */
size_t sc_pcapng_ninterfaces(const struct sc_pcapng *g);
struct sc_pcap_iface *sc_pcapng_interface(struct sc_pcapng *g, size_t i);

/* Blocks skipped because they carry no packet (statistics, name
 * resolution, decryption secrets, custom, unknown types). */
uint64_t sc_pcapng_skipped_blocks(const struct sc_pcapng *g);
uint64_t sc_pcapng_offset(const struct sc_pcapng *g);

void sc_pcapng_close(struct sc_pcapng *g);

#endif
