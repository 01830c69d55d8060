/* fuzz_pcap.c - libFuzzer target for the pcap reader: formats/sc_pcap.c, the
 * frame decoder (sc_pkt.c), the pcapng block reader (sc_pcapng.c) and IP
 * fragment reassembly (sc_ipfrag.c).
 *
 * Each input is used twice:
 *   (a) data[0] picks a link type (index into `dlts`, modulo its size) and the
 *       rest is one captured frame for sc_pcap_decode();
 *   (b) the whole input is a pcap or pcapng file, read through
 *       sc_pcap_fopen(fmemopen(...)) and sc_pcap_next() until the end, an
 *       error or MAX_SEGMENTS segments.
 * Beyond memory errors (ASan) it traps on broken invariants: a payload outside
 * the frame, len > wire_len, a frame not counted exactly once, or a fragment
 * neither reassembled nor counted as given up at the end of the file.
 *
 * Seeds in tests/fuzz/corpus/pcap/: frame-<dlt>-*.bin start with the selector
 * byte of that link type; the *.pcap / *.pcapng files are the committed test
 * captures of tests/pcaps/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "formats/sc_pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEGMENTS 100000

/* Older libpcap headers lack these. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

/* Selector byte -> link type.  Append only: the seed corpus encodes indices. */
static const int dlts[] = {
	DLT_EN10MB,     /* 0 */
	DLT_LINUX_SLL,  /* 1 */
	DLT_LINUX_SLL2, /* 2 */
	DLT_RAW,        /* 3 */
	101,            /* 4: LINKTYPE_RAW as stored in files */
	DLT_IPV4,       /* 5 */
	DLT_IPV6,       /* 6 */
	DLT_NULL,       /* 7 */
	DLT_LOOP,       /* 8 */
	DLT_PPP,        /* 9 */
	50,             /* 10: PPP_SERIAL */
	104,            /* 11: C_HDLC */
	51,             /* 12: PPP_ETHER */
	239,            /* 13: NFLOG */
	129,            /* 14: ARCNET_LINUX */
};

static volatile uint8_t sink;

/* sc_pcap.h's invariants; `ended`: no fragment may be pending. */
static void check_stats(const struct sc_pcap_stats *st, bool ended)
{
	uint64_t other = st->ip_fragments + st->skipped_non_ip + st->skipped_non_tcp + st->skipped_truncated +
			 st->skipped_malformed + st->skipped_link_type;

	if (st->frames + st->reassembled != st->tcp_segments + other)
		__builtin_trap();
	if (st->fragments_used + st->skipped_fragments > st->ip_fragments ||
	    (ended && st->fragments_used + st->skipped_fragments != st->ip_fragments))
		__builtin_trap();
	if (st->tcp_payload_bytes > st->bytes || st->truncated_payload > st->tcp_segments)
		__builtin_trap();
}

/* Read every payload byte, so that ASan sees any that is out of bounds. */
static void touch(const struct sc_tcp_seg *seg)
{
	uint8_t x = 0;

	if (seg->len > seg->wire_len)
		__builtin_trap();
	for (uint32_t i = 0; i < seg->len; i++)
		x ^= seg->payload[i];
	sink = x;
}

static void fuzz_decode(const uint8_t *data, size_t size)
{
	struct sc_pcap_stats st;
	struct sc_tcp_seg seg;
	const uint8_t *pkt = data + 1;
	uint32_t caplen = size - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(size - 1);

	memset(&st, 0, sizeof(st));
	if (sc_pcap_decode(dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))], pkt, caplen, &seg, &st) == 1) {
		if (seg.payload < pkt || seg.len > (size_t)(pkt + caplen - seg.payload))
			__builtin_trap();
		touch(&seg);
	}
	if (st.frames != 1 || st.reassembled != 0)
		__builtin_trap();
	check_stats(&st, false);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *p;
	bool ended = false;
	FILE *f;

	/* Read-only use of the buffer; fmemopen's prototype is not const. */
	f = fmemopen((void *)(uintptr_t)data, size, "rb");
	if (!f)
		return;
	p = sc_pcap_fopen(f, &diag);
	if (!p) {
		fclose(f); /* still ours when sc_pcap_fopen fails */
		return;
	}
	for (unsigned n = 0; n < MAX_SEGMENTS; n++) {
		int rc = sc_pcap_next(p, &seg, &diag);

		if (rc != 1) {
			/* An error must be sticky. */
			if (rc < 0 && sc_pcap_next(p, &seg, &diag) != rc)
				__builtin_trap();
			ended = true;
			break;
		}
		touch(&seg);
	}
	check_stats(sc_pcap_stats(p), ended);
	sc_pcap_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0; /* fmemopen rejects an empty buffer */
	fuzz_decode(data, size);
	fuzz_file(data, size);
	return 0;
}
