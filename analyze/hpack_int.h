/* hpack_int.h - internals shared by the HPACK decoder, its generated Huffman
 * tables and its tests.  Not part of the analyzer's API. */
#ifndef SC_HPACK_INT_H
#define SC_HPACK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/sc_err.h"
#include "formats/sc_rd.h"

/* RFC 7541 §5.1: the integer whose `prefix_bits` (1..8) low bits are in
 * `first`, reading any continuation bytes from `r`.  Returns 0 with *out
 * (OUT), SC_ETRUNC if `r` ends first, or SC_EPROTO if the value is over
 * 2^32-1 or uses more than 5 continuation bytes. */
int sc_hpack_int_decode(struct sc_rd *r, uint8_t first, unsigned prefix_bits, uint32_t *out);

/* The Huffman decoding state machine (scripts/gen-hpack-huffman.py explains
 * it): entry [state * 16 + 4 input bits] is
 * sym << 16 | next state << 4 | SC_HPACK_HUFF_* flags. */
extern const uint32_t sc_hpack_huff_fsm[256 * 16];

#define SC_HPACK_HUFF_SYM 1u     /* a symbol was completed (the value 1 is relied on) */
#define SC_HPACK_HUFF_ACCEPT 2u  /* the string may end after this step */
#define SC_HPACK_HUFF_FAIL 4u    /* EOS was decoded */
#define SC_HPACK_HUFF_LONGPAD 8u /* ending here would leave 8 or more bits of padding */
#define SC_HPACK_HUFF_ROW(e) ((e) & 0xff0u) /* the next state's first entry */

extern const uint32_t sc_hpack_huff_code[257]; /* RFC 7541 Appendix B, aligned to the LSB; 256 = EOS */
extern const uint8_t sc_hpack_huff_len[257];

/* Results of sc_hpack_huff_decode(). */
enum sc_hpack_huff_result {
	SC_HPACK_HUFF_OK = 0,
	SC_HPACK_HUFF_EOS = -1,     /* the EOS symbol in the data */
	SC_HPACK_HUFF_PADLONG = -2, /* padding of 8 bits or more */
	SC_HPACK_HUFF_PADBAD = -3,  /* the last bits are not a prefix of EOS: a 0 in the padding or a cut code */
};

/* Most bytes `n` bytes of Huffman code can decode to: every code is at least
 * 5 bits long. */
static inline size_t sc_hpack_huff_max_decoded(size_t n)
{
	return n / 5 * 8 + (n % 5) * 8 / 5;
}

/* Decodes `len` bytes at `src` into `dst`, which has room for
 * sc_hpack_huff_max_decoded(len) + 1 bytes (the loop stores a byte ahead).  Returns SC_HPACK_HUFF_OK with the
 * decoded length in *out_len (OUT), or a negative sc_hpack_huff_result. */
int sc_hpack_huff_decode(uint8_t *dst, const uint8_t *src, size_t len, size_t *out_len);

/* Encodes `len` bytes (for the tests and fuzz seeds; the analyzer only
 * decodes) into at most `cap` bytes at `dst`, padding with ones.  Returns 0
 * with the encoded length in *out_len (OUT), or SC_ELIMIT if `cap` is too
 * small. */
int sc_hpack_huff_encode(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, size_t *out_len);

#endif
