/* skc_int.h - internals shared by the .skc reader, writer and their tests. */
#ifndef SKC_INT_H
#define SKC_INT_H

#include "sc_wr.h"
#include "skc.h"

extern const uint8_t sc_skc_file_magic[8];
extern const uint8_t sc_skc_block_magic[4];

/* Fixed body sizes of version 1 of each record type (SKC-FORMAT.md). */
#define SKC_INFO_FIXED 24u
#define SKC_PROC_FIXED 20u
#define SKC_OPEN_FIXED 92u
#define SKC_CLOSE_FIXED 40u
#define SKC_LOSS_FIXED 48u
#define SKC_TRAILER_FIXED 52u

struct skc_block_hdr {
	uint32_t hdr_crc;
	uint64_t seq;
	uint32_t clen, ulen, nrec, crc;
};

/* Encode the 32-byte block header (computes the header CRC). */
void skc_block_hdr_put(uint8_t out[SC_SKC_BLOCK_HDR_LEN], const struct skc_block_hdr *h);

/* Parse and validate a block header: 0 when the magic, the header CRC and the
 * length limits hold; SC_EFORMAT (no magic), SC_ECHECKSUM or SC_ECORRUPT. */
int skc_block_hdr_get(const uint8_t in[SC_SKC_BLOCK_HDR_LEN], struct skc_block_hdr *h);

/* Encode the 32-byte file header. */
void skc_file_hdr_put(uint8_t out[SC_SKC_FILE_HDR_LEN]);

/* Encode one record (header and body) into `w`; sets w->err if it does not fit.
 * DATA payloads are written whole (the writer splits them first). */
void skc_rec_put(struct sc_wr *w, const struct sc_skc_rec *rec);

#endif
