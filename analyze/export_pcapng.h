/* export_pcapng.h - an .skc capture as a pcapng file of synthesized TCP packets.
 *
 * Each TCP connection recorded in the .skc becomes one TCP conversation that
 * Wireshark and tshark can follow and decode (HTTP/1, HTTP/2):
 *  - a three-way handshake at the socket's open time, unless the socket was
 *    joined mid-stream (or continues a rotated file);
 *  - the recorded bytes of each direction, each recorded chunk (one DATA
 *    record: one syscall, or a 64 KiB part of one) split into segments of at
 *    most SC_PCAPNG_MSS bytes with PSH on the last; seq = ISN + 1 + stream
 *    offset, ack = the next byte expected from the peer at that moment;
 *  - bytes the recorder lost are left out of the sequence space, so TCP
 *    analysis shows "previous segment not captured" there, and the next
 *    segment of that direction carries a comment saying how many bytes;
 *  - FIN, FIN and ACK at close when the socket was closed during the capture.
 * The first packet of a connection carries a comment naming the process and
 * the socket ("pid 1234 comm curl sock 5 fd 3 role client").
 *
 * A connection between two local processes is usually recorded twice, once
 * per socket; only one socket of such a pair is exported (the connect()ing
 * one when both are known), found by a first pass over the file's SOCK_OPEN
 * and SOCK_CLOSE records (see export_pcapng.c).  Unix-domain and non-stream
 * sockets cannot be expressed as TCP and are skipped and counted.
 */
#ifndef SC_EXPORT_PCAPNG_H
#define SC_EXPORT_PCAPNG_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "formats/sc_err.h"

struct sc_export_pcapng_opts {
	bool overwrite;  /* replace an existing output file */
	const char *app; /* written as the section's shb_userappl, e.g. "sockcap 0.1.0"; may be NULL */
};

struct sc_export_pcapng_stats {
	uint64_t sockets;         /* sockets the capture holds (the source's connections) */
	uint64_t connections;     /* TCP conversations written (with at least one packet) */
	uint64_t packets;
	uint64_t payload_bytes;
	uint64_t mirrored;        /* skipped: the other end of a connection that is exported */
	uint64_t unix_sockets;    /* skipped: Unix-domain */
	uint64_t other_sockets;   /* skipped: not a stream socket, or no addresses (SOCK_OPEN lost) */
	uint64_t gaps, gap_bytes; /* lost byte ranges left as holes in the sequence space */
	uint64_t retimed;         /* packets written later than their time to keep the file in time order */
	uint64_t file_bytes;      /* bytes of pcapng written */
	struct sc_analyze_result src; /* what the reader found: status, damage, bytes lost */
};

/* Export the .skc capture `in` to the pcapng file `out` ("-": standard
 * output), created by the rule of formats/sc_out.h (0600, never through a
 * symbolic link, an existing file replaced only with o->overwrite, put in
 * place only when complete).  `in` is read twice, so it must be a file.
 * Returns 0 when the input was read to its end (damage and gaps are reported
 * in `st`, not as errors), or a negative error with `diag` (required):
 * -EEXIST for an existing `out`, SC_EUNSUPP for pcap input, standard input or
 * `out` naming `in`, SC_EFORMAT for a file that is not a capture, -errno for
 * I/O ("writing web.pcapng: No space left on device").  On failure nothing
 * is left at `out`. */
int sc_export_pcapng(const char *in, const char *out, const struct sc_export_pcapng_opts *o,
		     struct sc_export_pcapng_stats *st, struct sc_diag *diag);

#endif
