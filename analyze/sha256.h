/* sha256.h - SHA-256 (FIPS 180-4), for content hashes of stored bodies.
 *
 * Written here rather than linked: sqlite3 has no SHA, and the project links
 * no crypto library (libzstd's XXH64 is internal and only 64 bits).  This is
 * a content fingerprint users compare by eye and across runs, not a security
 * primitive: no constant-time concerns.
 */
#ifndef SC_SHA256_H
#define SC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SC_SHA256_LEN 32

struct sc_sha256 {
	uint32_t h[8];
	uint64_t nbytes;   /* message length so far */
	uint8_t buf[64];   /* partial block */
	size_t buf_len;
};

void sc_sha256_init(struct sc_sha256 *s);
/* Add `len` bytes at `p` (borrowed; `p` may be NULL when `len` is 0). */
void sc_sha256_update(struct sc_sha256 *s, const void *p, size_t len);
/* Write the digest to `out`; `s` must be initialised again before reuse. */
void sc_sha256_final(struct sc_sha256 *s, uint8_t out[SC_SHA256_LEN]);
/* One call: the digest of p[0..len). */
void sc_sha256_digest(const void *p, size_t len, uint8_t out[SC_SHA256_LEN]);

#endif
