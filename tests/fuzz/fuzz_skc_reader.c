/* fuzz_skc_reader.c - the .skc reader on arbitrary bytes.
 *
 * The first input byte picks a mode.  Mode 0: the rest is a whole file.  Mode
 * 1: the rest is split into chunks (u16 length prefix) that become block
 * payloads of records with valid checksums, so that mutations reach the record
 * parser instead of dying at the CRC.  Mode 2: the same, but the chunks are
 * taken as compressed frames (with valid CRCs), to exercise zstd error paths.
 * The reader must deliver what is readable,
 * report the rest as damage, and never crash, hang or over-read.  Every view
 * it hands out is read in full so that ASan checks its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "formats/sc_crc32c.h"
#include "formats/skc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink = x;
}

static void touch_view(struct sc_view v)
{
	touch(v.p, v.len);
}

static void read_file(const uint8_t *data, size_t size)
{
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	struct sc_diag d = { 0 };
	int err;

	r = sc_skc_reader_open_mem(data, size, &err, &d);
	if (!r)
		return;
	/* Records are bounded by the input: at least 8 bytes each once
	 * decompressed, and blocks cannot expand more than zstd allows; the
	 * limit only guards against a reader bug looping forever. */
	for (unsigned long n = 0; n < 10000000ul && sc_skc_reader_next(r, &rec) > 0; n++) {
		switch (rec.type) {
		case SC_SKC_CAPTURE_INFO:
			touch_view(rec.u.info.hostname);
			touch_view(rec.u.info.kernel);
			touch_view(rec.u.info.tool);
			touch_view(rec.u.info.options);
			break;
		case SC_SKC_PROCESS:
			touch_view(rec.u.proc.comm);
			break;
		case SC_SKC_SOCK_OPEN:
			touch_view(rec.u.open.unix_path);
			break;
		case SC_SKC_DATA:
			touch(rec.u.data.payload, rec.u.data.cap_len);
			break;
		}
	}
	for (size_t i = 0; i < sc_skc_reader_ndamage(r); i++)
		touch((const uint8_t *)sc_skc_reader_damage(r, i)->msg, strlen(sc_skc_reader_damage(r, i)->msg));
	(void)sc_skc_reader_check_trailer(r, &d);
	sc_skc_reader_close(r);
}

/* Wrap chunks of the input into blocks with valid headers. */
static void read_built(const uint8_t *data, size_t size, bool raw_frames)
{
	size_t cap = SC_SKC_FILE_HDR_LEN + 8 * (SC_SKC_BLOCK_HDR_LEN + ZSTD_compressBound(size)) + size + 64;
	uint8_t *file = malloc(cap);
	size_t len = SC_SKC_FILE_HDR_LEN, pos = 0;

	if (!file)
		return;
	skc_file_hdr_put(file);
	for (uint64_t seq = 0; seq < 8 && pos + 2 <= size; seq++) {
		size_t n = (size_t)(data[pos] | data[pos + 1] << 8);
		struct skc_block_hdr h = { 0 };
		size_t clen;

		pos += 2;
		if (n > size - pos)
			n = size - pos;
		if (n == 0 || n > SC_SKC_BLOCK_MAX)
			break;
		if (raw_frames) {
			memcpy(file + len + SC_SKC_BLOCK_HDR_LEN, data + pos, n);
			clen = n;
			h.ulen = (uint32_t)(n * 4 > SC_SKC_BLOCK_MAX ? SC_SKC_BLOCK_MAX : n * 4);
		} else {
			clen = ZSTD_compress(file + len + SC_SKC_BLOCK_HDR_LEN, cap - len - SC_SKC_BLOCK_HDR_LEN,
					     data + pos, n, 1);
			if (ZSTD_isError(clen))
				break;
			h.ulen = (uint32_t)n;
		}
		h.seq = seq;
		h.clen = (uint32_t)clen;
		h.nrec = (uint32_t)(h.ulen / 8 < 64 ? h.ulen / 8 : 64);
		h.crc = sc_crc32c(0, file + len + SC_SKC_BLOCK_HDR_LEN, clen);
		skc_block_hdr_put(file + len, &h);
		len += SC_SKC_BLOCK_HDR_LEN + clen;
		pos += n;
	}
	read_file(file, len);
	free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_skc_rec rec;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: read_file(data + 1, size - 1); break;
	case 1: read_built(data + 1, size - 1, false); break;
	case 2: read_built(data + 1, size - 1, true); break;
	}

	/* The record decoder alone, on the input as a record body. */
	if (size >= 3) {
		uint16_t type = (uint16_t)(data[1] % (SC_SKC_TYPE_MAX + 2));

		if (sc_skc_decode(type, data[2], data + 3, size - 3, &rec) == 0 && rec.type == SC_SKC_DATA)
			touch(rec.u.data.payload, rec.u.data.cap_len);
	}
	return 0;
}
