/* test_ipfrag.c - IP fragment reassembly (formats/sc_ipfrag.h): every order
 * of the pieces, duplicates, overlaps that agree and that do not, the
 * lengths RFC 791 and RFC 8200 allow, the timeout and the memory bounds, and
 * that every fragment handed in is accounted for. */
#include <inttypes.h>
#include <stdio.h>

#include "formats/sc_ipfrag.h"
#include "formats/sc_types.h"

#include "sc_test.h"

#define SEC 1000000000ull

static uint8_t payload[65536];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
}

static struct sc_ipfrag_piece piece(uint8_t family, uint32_t id, uint32_t off, size_t len, bool more)
{
	struct sc_ipfrag_piece pc;

	memset(&pc, 0, sizeof(pc));
	pc.family = family;
	pc.proto = 6;
	pc.src[0] = 192;
	pc.src[3] = 1;
	pc.dst[0] = 198;
	pc.dst[3] = 2;
	pc.id = id;
	pc.offset = off;
	pc.more = more;
	pc.data = payload + off;
	pc.len = len;
	return pc;
}

/* fragments == used + dropped + pending, always. */
static void assert_accounted(const struct sc_ipfrag *f)
{
	const struct sc_ipfrag_stats *st = sc_ipfrag_stats(f);

	cr_assert_eq(st->fragments, st->used + st->dropped + sc_ipfrag_pending(f),
		     "fragments %" PRIu64 " used %" PRIu64 " dropped %" PRIu64 " pending %" PRIu64, st->fragments,
		     st->used, st->dropped, sc_ipfrag_pending(f));
}

static void assert_v4_datagram(const uint8_t *d, size_t len, uint32_t id, size_t plen)
{
	cr_assert_eq(len, 20 + plen);
	cr_assert_eq(d[0], 0x45);
	cr_assert_eq((size_t)(d[2] << 8 | d[3]), 20 + plen, "total length");
	cr_assert_eq((uint32_t)(d[4] << 8 | d[5]), id);
	cr_assert_eq(d[6] | d[7], 0, "no flags, offset 0");
	cr_assert_eq(d[9], 6);
	cr_assert(d[12] == 192 && d[15] == 1 && d[16] == 198 && d[19] == 2);
	cr_assert_eq(memcmp(d + 20, payload, plen), 0, "the payload in order");
}

Test(ipfrag, every_order_of_four_pieces_reassembles_once)
{
	static const int perms[24][4] = {
		{ 0, 1, 2, 3 }, { 0, 1, 3, 2 }, { 0, 2, 1, 3 }, { 0, 2, 3, 1 }, { 0, 3, 1, 2 }, { 0, 3, 2, 1 },
		{ 1, 0, 2, 3 }, { 1, 0, 3, 2 }, { 1, 2, 0, 3 }, { 1, 2, 3, 0 }, { 1, 3, 0, 2 }, { 1, 3, 2, 0 },
		{ 2, 0, 1, 3 }, { 2, 0, 3, 1 }, { 2, 1, 0, 3 }, { 2, 1, 3, 0 }, { 2, 3, 0, 1 }, { 2, 3, 1, 0 },
		{ 3, 0, 1, 2 }, { 3, 0, 2, 1 }, { 3, 1, 0, 2 }, { 3, 1, 2, 0 }, { 3, 2, 0, 1 }, { 3, 2, 1, 0 },
	};
	fill();
	for (int p = 0; p < 24; p++) {
		struct sc_ipfrag *f = sc_ipfrag_new();
		int done = 0;

		cr_assert_not_null(f);
		for (int k = 0; k < 4; k++) {
			int i = perms[p][k];
			struct sc_ipfrag_piece pc = piece(SC_AF_INET, 7, (uint32_t)i * 40, i == 3 ? 13 : 40, i != 3);
			const uint8_t *d;
			size_t len;
			int rc = sc_ipfrag_add(f, &pc, SEC, &d, &len);

			cr_assert_eq(rc, k == 3 ? 1 : 0, "order %d step %d", p, k);
			if (rc == 1) {
				assert_v4_datagram(d, len, 7, 133);
				done++;
			}
		}
		cr_assert_eq(done, 1);
		cr_assert_eq(sc_ipfrag_stats(f)->datagrams, 1);
		cr_assert_eq(sc_ipfrag_stats(f)->used, 4);
		cr_assert_eq(sc_ipfrag_pending(f), 0);
		assert_accounted(f);
		sc_ipfrag_free(f);
	}
}

Test(ipfrag, ipv6_datagram_has_the_fragment_headers_next_header)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece a, b;
	const uint8_t *d;
	size_t len;

	fill();
	a = piece(SC_AF_INET6, 0xdeadbeef, 0, 1024, true);
	b = piece(SC_AF_INET6, 0xdeadbeef, 1024, 100, false);
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &a, SEC, &d, &len), 1);
	cr_assert_eq(len, 40 + 1124);
	cr_assert_eq(d[0] >> 4, 6);
	cr_assert_eq(d[4] << 8 | d[5], 1124, "payload length");
	cr_assert_eq(d[6], 6, "next header: TCP");
	cr_assert(d[8] == 192 && d[11] == 1 && d[24] == 198 && d[27] == 2);
	cr_assert_eq(memcmp(d + 40, payload, 1124), 0);
	sc_ipfrag_free(f);
}

Test(ipfrag, exact_duplicates_and_agreeing_overlaps_are_accepted)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece p0 = piece(SC_AF_INET, 1, 0, 64, true), p1 = piece(SC_AF_INET, 1, 64, 64, true),
			       p2 = piece(SC_AF_INET, 1, 128, 10, false), ov = piece(SC_AF_INET, 1, 56, 16, true);
	const uint8_t *d;
	size_t len;

	fill();
	cr_assert_eq(sc_ipfrag_add(f, &p1, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &p1, SEC, &d, &len), 0, "exact duplicate");
	cr_assert_eq(sc_ipfrag_add(f, &ov, SEC, &d, &len), 0, "overlaps p1 with the same bytes");
	cr_assert_eq(sc_ipfrag_add(f, &p2, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &p0, SEC, &d, &len), 1);
	assert_v4_datagram(d, len, 1, 138);
	cr_assert_eq(sc_ipfrag_stats(f)->overlaps, 3);
	cr_assert_eq(sc_ipfrag_stats(f)->used, 5);
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, an_overlap_that_disagrees_gives_the_datagram_up)
{
	static uint8_t other[16];
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece p0 = piece(SC_AF_INET, 1, 0, 64, true), p1 = piece(SC_AF_INET, 1, 64, 10, false),
			       bad = piece(SC_AF_INET, 1, 56, 16, true);
	const uint8_t *d;
	size_t len;

	fill();
	memcpy(other, payload + 56, 16);
	other[3] ^= 1; /* offset 59: a byte both hold */
	bad.data = other;
	cr_assert_eq(sc_ipfrag_add(f, &p0, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &bad, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_conflict, 1, "RFC 5722 §4");
	cr_assert_eq(sc_ipfrag_stats(f)->dropped, 2);
	cr_assert_eq(sc_ipfrag_stats(f)->dropped_tcp, 2);
	/* The last piece now starts a datagram of its own that never completes. */
	cr_assert_eq(sc_ipfrag_add(f, &p1, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_pending(f), 1);
	sc_ipfrag_finish(f);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_incomplete, 1);
	cr_assert_eq(sc_ipfrag_stats(f)->datagrams, 0);
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, inconsistent_lengths_give_the_datagram_up)
{
	const struct {
		const char *what;
		struct sc_ipfrag_piece a, b;
	} c[] = {
		{ "two last fragments that end apart", piece(SC_AF_INET, 1, 8, 8, false),
		  piece(SC_AF_INET, 1, 8, 16, false) },
		{ "bytes past the last fragment's end", piece(SC_AF_INET, 1, 8, 8, false),
		  piece(SC_AF_INET, 1, 16, 8, true) },
		{ "a last fragment that ends before held bytes", piece(SC_AF_INET, 1, 16, 16, true),
		  piece(SC_AF_INET, 1, 0, 8, false) },
		{ "a non-final fragment not a multiple of 8", piece(SC_AF_INET, 1, 0, 16, true),
		  piece(SC_AF_INET, 1, 16, 9, true) },
		{ "an empty fragment", piece(SC_AF_INET, 1, 0, 16, true), piece(SC_AF_INET, 1, 16, 0, true) },
	};

	fill();
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sc_ipfrag *f = sc_ipfrag_new();
		const uint8_t *d;
		size_t len;

		cr_assert_eq(sc_ipfrag_add(f, &c[i].a, SEC, &d, &len), 0);
		cr_assert_eq(sc_ipfrag_add(f, &c[i].b, SEC, &d, &len), 0, "%s", c[i].what);
		cr_assert_eq(sc_ipfrag_stats(f)->gave_up_conflict, 1, "%s", c[i].what);
		cr_assert_eq(sc_ipfrag_stats(f)->dropped, 2, "%s", c[i].what);
		cr_assert_eq(sc_ipfrag_pending(f), 0, "%s", c[i].what);
		assert_accounted(f);
		sc_ipfrag_free(f);
	}
}

Test(ipfrag, past_65535_bytes_is_given_up)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece a = piece(SC_AF_INET, 1, 0, 8, true), b = piece(SC_AF_INET, 1, 65512, 8, false),
			       c = piece(SC_AF_INET6, 1, 65528, 8, false);
	const uint8_t *d;
	size_t len;

	fill();
	/* IPv4: 20 + 65512 + 8 = 65540 > 65535 (RFC 791 §3.1, the "ping of death"). */
	cr_assert_eq(sc_ipfrag_add(f, &a, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_too_big, 1);
	cr_assert_eq(sc_ipfrag_stats(f)->dropped, 2);
	/* IPv6: a payload of 65536 bytes does not fit the payload length. */
	cr_assert_eq(sc_ipfrag_add(f, &c, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_too_big, 2);
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, ipv4_reassembles_up_to_65515_payload_bytes)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	const uint8_t *d;
	size_t len;
	int rc = 0;

	fill();
	for (uint32_t off = 0; off < 65515; off += 1480) {
		uint32_t n = 65515 - off < 1480 ? 65515 - off : 1480;
		struct sc_ipfrag_piece pc = piece(SC_AF_INET, 9, off, n, off + n < 65515);

		rc = sc_ipfrag_add(f, &pc, SEC, &d, &len);
	}
	cr_assert_eq(rc, 1);
	assert_v4_datagram(d, len, 9, 65515);
	sc_ipfrag_free(f);
}

Test(ipfrag, timeout_gives_up_by_capture_time)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece v4 = piece(SC_AF_INET, 1, 0, 8, true), v6 = piece(SC_AF_INET6, 2, 0, 8, true),
			       other = piece(SC_AF_INET, 3, 0, 8, true);
	const uint8_t *d;
	size_t len;

	fill();
	cr_assert_eq(sc_ipfrag_add(f, &v4, 10 * SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &v6, 10 * SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &other, 40 * SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_timeout, 0, "30 s is not past the IPv4 timeout");
	cr_assert_eq(sc_ipfrag_add(f, &other, 40 * SEC + 1, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_timeout, 1, "the IPv4 datagram");
	cr_assert_eq(sc_ipfrag_add(f, &other, 70 * SEC + 1, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_timeout, 3, "then the IPv6 one (60 s) and the third");
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, the_oldest_datagram_makes_room_for_a_new_one)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	const uint8_t *d;
	size_t len;

	fill();
	for (uint32_t id = 0; id <= SC_IPFRAG_MAX_DATAGRAMS; id++) {
		struct sc_ipfrag_piece pc = piece(SC_AF_INET, id, 0, 8, true);

		cr_assert_eq(sc_ipfrag_add(f, &pc, SEC, &d, &len), 0);
	}
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_budget, 1);
	cr_assert_eq(sc_ipfrag_pending(f), SC_IPFRAG_MAX_DATAGRAMS);
	/* Datagram 0 is gone (its last piece starts anew), datagram 1 was kept. */
	{
		struct sc_ipfrag_piece last = piece(SC_AF_INET, 0, 8, 8, false), one = piece(SC_AF_INET, 1, 8, 8, false);

		cr_assert_eq(sc_ipfrag_add(f, &one, SEC, &d, &len), 1, "datagram 1 was kept");
		cr_assert_eq(sc_ipfrag_add(f, &last, SEC, &d, &len), 0, "datagram 0 was given up");
	}
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, memory_stays_within_its_bound)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	const uint8_t *d;
	size_t len;
	uint32_t id;

	fill();
	/* Each datagram holds 64 KiB from a piece at its end: 64 of them fill
	 * the 4 MiB, so the 65th makes the oldest go. */
	for (id = 0; id < 70; id++) {
		struct sc_ipfrag_piece pc = piece(SC_AF_INET, id, 65000, 8, true);

		cr_assert_eq(sc_ipfrag_add(f, &pc, SEC, &d, &len), 0);
	}
	cr_assert_geq(sc_ipfrag_stats(f)->gave_up_budget, 6);
	cr_assert_leq(sc_ipfrag_pending(f), SC_IPFRAG_MAX_BYTES / 65000);
	assert_accounted(f);
	sc_ipfrag_finish(f);
	cr_assert_eq(sc_ipfrag_pending(f), 0);
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, a_late_copy_of_a_reassembled_datagrams_piece_is_a_duplicate)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece a = piece(SC_AF_INET, 5, 0, 16, true), b = piece(SC_AF_INET, 5, 16, 4, false),
			       other = piece(SC_AF_INET, 5, 8, 8, true);
	const uint8_t *d;
	size_t len;

	fill();
	cr_assert_eq(sc_ipfrag_add(f, &a, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 1);
	/* A port mirror's second copy of the last frame. */
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC + 1, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_stats(f)->late_duplicates, 1);
	cr_assert_eq(sc_ipfrag_pending(f), 0);
	/* A piece that was not one of them is a new datagram's. */
	cr_assert_eq(sc_ipfrag_add(f, &other, SEC + 2, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_pending(f), 1);
	assert_accounted(f);
	sc_ipfrag_free(f);
}

Test(ipfrag, datagrams_are_told_apart_by_addresses_protocol_and_id)
{
	struct sc_ipfrag *f = sc_ipfrag_new();
	struct sc_ipfrag_piece a = piece(SC_AF_INET, 5, 0, 16, true), b = piece(SC_AF_INET, 5, 16, 4, false);
	const uint8_t *d;
	size_t len;

	fill();
	cr_assert_eq(sc_ipfrag_add(f, &a, SEC, &d, &len), 0);
	b.proto = 17;
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 0);
	b.proto = 6;
	b.src[3] = 9;
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 0);
	b.src[3] = 1;
	b.id = 6;
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 0);
	b.id = 5;
	b.family = SC_AF_INET6;
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 0);
	cr_assert_eq(sc_ipfrag_pending(f), 5);
	b.family = SC_AF_INET;
	cr_assert_eq(sc_ipfrag_add(f, &b, SEC, &d, &len), 1);
	sc_ipfrag_finish(f);
	cr_assert_eq(sc_ipfrag_stats(f)->gave_up_incomplete, 4);
	cr_assert_eq(sc_ipfrag_stats(f)->dropped_tcp, 3, "the UDP one did not carry TCP");
	assert_accounted(f);
	sc_ipfrag_free(f);
}
