/* sc_crc32c.h - CRC-32C (Castagnoli), the checksum of .skc headers and blocks.
 *
 * Written here rather than taken from a library: zlib's crc32 is the IEEE
 * polynomial, and zstd's XXH functions are not part of libzstd's public API.
 */
#ifndef SC_CRC32C_H
#define SC_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of `len` bytes at `p`, continuing from `crc` (0 to start).
 * sc_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t sc_crc32c(uint32_t crc, const void *p, size_t len);

#endif
