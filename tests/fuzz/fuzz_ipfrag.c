/* fuzz_ipfrag.c - libFuzzer target for IP fragment reassembly
 * (formats/sc_ipfrag.c).
 *
 * The input is a sequence of fragments, 6 bytes of header each:
 *   flags (bit 0: IPv6, bit 1: more fragments, bit 2: not TCP), id (1 byte,
 *   so that fragments meet), offset in 8-byte units (2 bytes, big-endian),
 *   length (1 byte), time step in seconds (1 byte),
 * then `length` bytes of data (fewer at the end of the input).  Beyond memory
 * errors it traps when a reassembled datagram is not one (header, length) or
 * a fragment is not accounted for: fragments == used + dropped + pending,
 * and nothing pending after sc_ipfrag_finish().
 *
 * Seeds in tests/fuzz/corpus/ipfrag/.
 */
#include <stdint.h>
#include <string.h>

#include "formats/sc_ipfrag.h"
#include "formats/sc_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void check(const struct sc_ipfrag *f)
{
	const struct sc_ipfrag_stats *st = sc_ipfrag_stats(f);

	if (st->fragments != st->used + st->dropped + sc_ipfrag_pending(f) || st->dropped_tcp > st->dropped)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	uint64_t ts = 1;
	size_t pos = 0;

	if (!f)
		return 0;
	while (size - pos >= 6) {
		struct sc_ipfrag_piece pc;
		const uint8_t *h = data + pos, *d;
		size_t len;
		int rc;

		memset(&pc, 0, sizeof(pc));
		pc.family = (h[0] & 1) ? SC_AF_INET6 : SC_AF_INET;
		pc.more = (h[0] & 2) != 0;
		pc.proto = (h[0] & 4) ? 17 : 6;
		pc.src[0] = 10;
		pc.dst[0] = 11;
		pc.id = h[1];
		pc.offset = (uint32_t)(h[2] << 8 | h[3]) * 8;
		pc.len = h[4];
		ts += (uint64_t)h[5] * 1000000000u;
		pos += 6;
		if (pc.len > size - pos)
			pc.len = size - pos;
		pc.data = data + pos;
		pos += pc.len;
		rc = sc_ipfrag_add(f, &pc, ts, &d, &len);
		if (rc == 1) {
			size_t hl = pc.family == SC_AF_INET ? 20 : 40;
			uint8_t x = 0;

			if (len <= hl || len > hl + 65535 || (d[0] >> 4) != (pc.family == SC_AF_INET ? 4 : 6))
				__builtin_trap();
			if (pc.family == SC_AF_INET && (size_t)(d[2] << 8 | d[3]) != len)
				__builtin_trap();
			if (pc.family == SC_AF_INET6 && (size_t)(d[4] << 8 | d[5]) != len - 40)
				__builtin_trap();
			for (size_t i = 0; i < len; i++)
				x ^= d[i];
			sink = x;
		}
		check(f);
	}
	sc_ipfrag_finish(f);
	if (sc_ipfrag_pending(f) != 0)
		__builtin_trap();
	check(f);
	sc_ipfrag_free(f);
	return 0;
}
