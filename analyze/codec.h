/* codec.h - small text codecs shared by the decoders and the exporters: hex
 * digits and base64url (RFC 4648 §5), as HTTP carries them. */
#ifndef SC_CODEC_H
#define SC_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit `c` (either case), or -1. */
static inline int sc_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* base64url without padding into out[0..cap), as HTTP2-Settings carries a
 * SETTINGS payload (RFC 7540 §3.2.1); trailing '=' and the standard alphabet
 * ('+', '/') are tolerated.  Returns the decoded length, or -1 for a byte
 * outside the alphabet, a lone 6-bit group, non-zero leftover bits, or more
 * than `cap` bytes. */
long sc_b64url_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

#endif
