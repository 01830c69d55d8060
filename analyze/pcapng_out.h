/* pcapng_out.h - writing pcapng files of synthesized IPv4/IPv6 TCP packets.
 *
 * Three layers, each usable alone:
 *  - packet encoding: an IPv4 or IPv6 header and a TCP header (with the
 *    checksums computed) in front of a payload, as raw IP;
 *  - block encoding: the Section Header Block, the Interface Description
 *    Block and Enhanced Packet Blocks of pcapng (draft-ietf-opsawg-pcapng),
 *    into a caller's buffer;
 *  - a writer that creates a file, writes one section with one interface and
 *    appends packets.
 *
 * Files are written little-endian: pcapng is host-endian per section and the
 * byte-order magic 0x1A2B3C4D, written little-endian, tells readers so.  The
 * one interface has link type LINKTYPE_RAW (101): the packets start with
 * the IP header, IPv4 and IPv6 told apart by the version nibble.  There is no
 * link layer to reconstruct from socket payloads, and invented Ethernet
 * addresses would only be noise in Wireshark's columns.  Timestamps are in
 * nanoseconds (if_tsresol = 9).
 *
 * Nothing here prints.  Errors are negative SC_E* or -errno (sc_err.h).
 */
#ifndef SC_PCAPNG_OUT_H
#define SC_PCAPNG_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/sc_err.h"
#include "formats/sc_types.h"

#define SC_PCAPNG_LINKTYPE_RAW 101u
#define SC_PCAPNG_SNAPLEN 65535u /* no packet we build is longer (see SC_PCAPNG_MSS) */
/* Payload bytes per synthesized segment.  A power of two below the largest
 * payload of an IPv4 packet without options (65535 - 20 - 20) and of an IPv6
 * packet without jumbograms, so that no packet needs fragments, and within
 * every tool's default snaplen. */
#define SC_PCAPNG_MSS 32768u
#define SC_PCAPNG_TCP_OPTS_MAX 40u
/* The longest IP packet sc_pcapng_encode_tcp() may have to build. */
#define SC_PCAPNG_PKT_MAX (40u + 20u + SC_PCAPNG_TCP_OPTS_MAX + SC_PCAPNG_MSS)
#define SC_PCAPNG_COMMENT_MAX 1024u /* opt_comment bytes kept per packet */

/* ---- packets ---------------------------------------------------------------------- */

/* RFC 1071 Internet checksum of `n` bytes: the one's complement of the one's
 * complement sum of the bytes taken as big-endian 16-bit words (an odd last
 * byte padded with zero).  Store the result big-endian. */
uint16_t sc_pcapng_inet_checksum(const void *p, size_t n);

/* The TCP checksum of segment `seg` (TCP header with its checksum field as
 * given, usually zero, then payload; `len` bytes) between `src` and `dst`
 * (16 bytes each; IPv4 uses the first 4): the sum covers the pseudo-header of
 * RFC 9293 §3.1 (IPv4) or RFC 8200 §8.1 (IPv6).  `family` is SC_AF_INET or
 * SC_AF_INET6. */
uint16_t sc_pcapng_tcp_checksum(unsigned family, const uint8_t src[16], const uint8_t dst[16], const uint8_t *seg,
				size_t len);

/* One TCP segment to build.  Pointers are borrowed for the call. */
struct sc_pcapng_tcp {
	uint8_t family;              /* SC_AF_INET or SC_AF_INET6 */
	const uint8_t *src, *dst;    /* 16 bytes each, IPv4 in the first 4 */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;               /* SC_TCP_* of formats/sc_pcap.h */
	uint16_t window;
	uint16_t ip_id;              /* IPv4 identification */
	const uint8_t *opts;         /* TCP options, padded to a multiple of 4 bytes */
	size_t opts_len;             /* at most SC_PCAPNG_TCP_OPTS_MAX */
	const uint8_t *payload;
	size_t len;
};

/* Encode the IP packet (IPv4: 20-byte header, DF, TTL 64; IPv6: 40-byte
 * header, hop limit 64) carrying `t` into `buf`, both checksums computed.
 * Returns the packet's length, SC_ETOOBIG when it does not fit in `cap` or
 * in an IP length field, or SC_EUNSUPP for another family or bad options. */
long sc_pcapng_encode_tcp(uint8_t *buf, size_t cap, const struct sc_pcapng_tcp *t);

/* ---- blocks ---------------------------------------------------------------------- */

/* Section Header Block, version 1.0, section length -1 (not given), with
 * shb_userappl `app` and an opt_comment `comment` when non-NULL (NUL-terminated,
 * cut at SC_PCAPNG_COMMENT_MAX bytes).  Returns the block's length or
 * SC_ETOOBIG when it does not fit in `cap`. */
long sc_pcapng_encode_shb(uint8_t *buf, size_t cap, const char *app, const char *comment);

/* Interface Description Block: `linktype`, snaplen SC_PCAPNG_SNAPLEN,
 * if_name `name` when non-NULL, and if_tsresol 9 (nanoseconds).  Returns the
 * block's length or SC_ETOOBIG. */
long sc_pcapng_encode_idb(uint8_t *buf, size_t cap, uint16_t linktype, const char *name);

/* Enhanced Packet Block on interface 0 at `ts_ns` (ns since the epoch) with
 * the `len` bytes at `pkt` (captured = original length) and an opt_comment of
 * `comment_len` bytes when comment_len > 0 (cut at SC_PCAPNG_COMMENT_MAX).
 * Returns the block's length or SC_ETOOBIG. */
long sc_pcapng_encode_epb(uint8_t *buf, size_t cap, uint64_t ts_ns, const uint8_t *pkt, size_t len,
			  const char *comment, size_t comment_len);

/* ---- the writer ------------------------------------------------------------------ */

struct sc_pcapng_writer_opts {
	bool overwrite;      /* replace an existing file instead of failing with -EEXIST */
	const char *app;     /* shb_userappl (e.g. "sockcap 0.1.0"), or NULL */
	const char *comment; /* the section's opt_comment, or NULL */
	const char *if_name; /* the interface's if_name, or NULL */
};

struct sc_pcapng_writer;

/* Create `path` by the rule of formats/sc_out.h (mode 0600, never through a
 * symbolic link, an existing file replaced only with opts->overwrite, "-"
 * standard output, a device or FIFO written into; atomic: nothing appears at
 * `path` until sc_pcapng_writer_close() succeeds) and write the section
 * header and the interface (LINKTYPE_RAW).  `opts` may be NULL.  Returns
 * NULL with `diag` on failure. */
struct sc_pcapng_writer *sc_pcapng_writer_open(const char *path, const struct sc_pcapng_writer_opts *opts,
						struct sc_diag *diag);

/* The same on an open descriptor (the tests).  Takes ownership of `fd` on
 * success only. */
struct sc_pcapng_writer *sc_pcapng_writer_fdopen(int fd, const struct sc_pcapng_writer_opts *opts, int *err);

/* Append one packet (an IP packet, at most SC_PCAPNG_PKT_MAX bytes) with an
 * optional comment.  Output is buffered.  Errors are sticky: after a failed
 * write every call returns the first error. */
int sc_pcapng_writer_packet(struct sc_pcapng_writer *w, uint64_t ts_ns, const uint8_t *pkt, size_t len,
			    const char *comment, size_t comment_len);

/* Bytes written to the file so far (flushed or not). */
uint64_t sc_pcapng_writer_bytes(const struct sc_pcapng_writer *w);

/* Flush, fsync and put the file in place (sc_out_commit).  Always frees `w`
 * (NULL is a no-op); returns the first error met, including the sticky one,
 * with `diag` ("writing web.pcapng: No space left on device"), and then the
 * partial file is removed. */
int sc_pcapng_writer_close(struct sc_pcapng_writer *w, struct sc_diag *diag);

/* Give up: close and remove what was written.  Frees `w`; NULL is a no-op. */
void sc_pcapng_writer_abort(struct sc_pcapng_writer *w);

#endif
