/* skc_reader.c - forward-only .skc reader with bounded memory.
 *
 * Memory: one input window (a block header plus the largest compressed payload
 * a valid header may declare), one decompressed block, and a zstd context whose
 * window is limited to one block.  Nothing the file declares can make the
 * reader allocate more.
 *
 * Damage: any block that cannot be used becomes one sc_skc_damage item, and the
 * reader resynchronises on the next block magic whose header validates
 * (SKC-FORMAT.md "Damage and resynchronisation").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "sc_crc32c.h"
#include "skc_int.h"

#define IN_CAP (SC_SKC_BLOCK_HDR_LEN + ZSTD_COMPRESSBOUND(SC_SKC_BLOCK_MAX))
#define FILL_CHUNK 65536u

struct sc_skc_reader {
	FILE *f;
	bool own;

	/* Input window: bytes [ipos, ilen) of buf are file bytes starting at
	 * file offset ioff + ipos.  In memory mode buf is the caller's buffer. */
	uint8_t *buf;
	bool buf_owned;
	size_t ipos, ilen, icap;
	uint64_t ioff;
	bool eof;
	int io_err;

	ZSTD_DCtx *dctx;
	uint8_t *blk;        /* decompressed records of the current block */
	size_t blk_len, blk_pos;
	uint32_t blk_nrec, blk_done;
	uint64_t blk_off;    /* file offset of the current block's header */
	bool in_block;

	bool have_seq;
	uint64_t next_seq;
	/* Damage item (index + 1) of a skipped region of unknown content since
	 * the last good block, so a sequence jump can be attributed to it. */
	size_t unknown_dmg;

	unsigned major, minor;
	struct sc_skc_stats st;
	struct sc_skc_damage *dmg;
	size_t ndmg;
	bool done;
	struct sc_skc_trailer trailer;
	uint64_t trailer_blocks_seen; /* blocks with a valid header before the trailer's */
	uint64_t trailer_records_seen; /* records (any type) before the trailer */
	uint64_t blocks_seen;         /* blocks whose header validated */
};

static const char *type_name(uint16_t t)
{
	switch (t) {
	case SC_SKC_CAPTURE_INFO: return "CAPTURE_INFO";
	case SC_SKC_PROCESS: return "PROCESS";
	case SC_SKC_SOCK_OPEN: return "SOCK_OPEN";
	case SC_SKC_DATA: return "DATA";
	case SC_SKC_SOCK_CLOSE: return "SOCK_CLOSE";
	case SC_SKC_LOSS: return "LOSS";
	case SC_SKC_TRAILER: return "TRAILER";
	}
	return "unknown";
}

static void add_damage(struct sc_skc_reader *r, uint64_t off, uint64_t bytes, int64_t records, int err,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add_damage(struct sc_skc_reader *r, uint64_t off, uint64_t bytes, int64_t records, int err,
		       const char *fmt, ...)
{
	va_list ap;

	r->st.damaged_blocks++;
	r->st.damaged_bytes += bytes;
	if (records >= 0)
		r->st.damaged_records += (uint64_t)records;
	else
		r->st.damaged_unknown++;
	if (r->ndmg >= SC_SKC_DAMAGE_KEEP)
		return;
	if (!r->dmg) {
		r->dmg = calloc(SC_SKC_DAMAGE_KEEP, sizeof(*r->dmg));
		if (!r->dmg)
			return; /* counted above; the text is lost, not the fact */
	}
	struct sc_skc_damage *d = &r->dmg[r->ndmg++];

	d->offset = off;
	d->bytes = bytes;
	d->records = records;
	d->err = err;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

static size_t avail(const struct sc_skc_reader *r)
{
	return r->ilen - r->ipos;
}

static uint64_t cur_off(const struct sc_skc_reader *r)
{
	return r->ioff + r->ipos;
}

/* Make at least `n` (<= icap) bytes available; false at end of file (fewer
 * remain; what there is stays available) or on an I/O error (io_err set).
 * Reads only what is asked for, so that a reader on a pipe from a live
 * recorder delivers each block as soon as it is complete. */
static bool fill(struct sc_skc_reader *r, size_t n)
{
	if (n > r->icap)
		n = r->icap;
	while (avail(r) < n) {
		if (r->eof || !r->f)
			return false;
		if (r->ipos > 0) {
			memmove(r->buf, r->buf + r->ipos, avail(r));
			r->ioff += r->ipos;
			r->ilen -= r->ipos;
			r->ipos = 0;
		}
		size_t want = n - avail(r);
		size_t got = fread(r->buf + r->ilen, 1, want, r->f);

		r->ilen += got;
		r->st.file_bytes += got;
		if (got < want) {
			if (ferror(r->f)) {
				r->io_err = errno ? -errno : -EIO;
				return false;
			}
			r->eof = true;
		}
	}
	return true;
}

static void consume(struct sc_skc_reader *r, size_t n)
{
	r->ipos += n;
}

/* Skip forward from the current position + 1 to the next offset that starts a
 * valid block header, or to the end of the input.  Returns the number of bytes
 * skipped (from the current position). */
static uint64_t resync(struct sc_skc_reader *r)
{
	uint64_t start = cur_off(r);
	struct skc_block_hdr h;

	if (avail(r) > 0)
		consume(r, 1);
	for (;;) {
		(void)fill(r, FILL_CHUNK);
		if (r->io_err)
			return cur_off(r) - start;
		if (avail(r) < SC_SKC_BLOCK_HDR_LEN) {
			/* Less than a header is left: nothing can start here. */
			if (!r->eof && r->f)
				continue;
			consume(r, avail(r));
			return cur_off(r) - start;
		}
		const uint8_t *p = r->buf + r->ipos;
		size_t n = avail(r) - (SC_SKC_BLOCK_HDR_LEN - 1);

		for (size_t i = 0; i < n; i++) {
			const uint8_t *q = memchr(p + i, 'S', n - i);

			if (!q)
				break;
			i = (size_t)(q - p);
			if (skc_block_hdr_get(q, &h) == 0) {
				consume(r, i);
				return cur_off(r) - start;
			}
		}
		consume(r, n);
	}
}

static void describe_end(char *buf, size_t n, const struct sc_skc_reader *r)
{
	if (avail(r) == 0 && (r->eof || !r->f))
		snprintf(buf, n, "to the end of the file");
	else
		snprintf(buf, n, "up to the block at offset %" PRIu64, cur_off(r));
}

/* Report a block whose header was valid but whose payload is unusable, and
 * resynchronise.  `what` completes "block at offset X: ". */
static void bad_block(struct sc_skc_reader *r, const struct skc_block_hdr *h, int err, const char *what)
{
	uint64_t off = cur_off(r);
	uint64_t skipped = resync(r);

	add_damage(r, off, skipped, h->nrec, err, "block at offset %" PRIu64 ": %s, skipped %" PRIu32
		   " records (%" PRIu64 " bytes)", off, what, h->nrec, skipped);
	r->have_seq = true;
	r->next_seq = h->seq + 1;
}

/* Load the next good block into r->blk.  Returns 1, 0 at end, or a fatal error. */
static int next_block(struct sc_skc_reader *r)
{
	struct skc_block_hdr h;
	char where[64];

	for (;;) {
		uint64_t off = cur_off(r);

		if (!fill(r, SC_SKC_BLOCK_HDR_LEN)) {
			if (r->io_err)
				return r->io_err;
			size_t left = avail(r);

			if (left == 0)
				return 0;
			consume(r, left);
			add_damage(r, off, left, -1, SC_ETRUNC,
				   "block at offset %" PRIu64 ": truncated header (%zu of %u bytes), skipped %zu bytes",
				   off, left, SC_SKC_BLOCK_HDR_LEN, left);
			return 0;
		}
		int rc = skc_block_hdr_get(r->buf + r->ipos, &h);

		if (rc == SC_ECHECKSUM || rc == SC_ECORRUPT) {
			uint64_t skipped = resync(r);

			describe_end(where, sizeof(where), r);
			add_damage(r, off, skipped, -1, rc, "block at offset %" PRIu64 ": %s, skipped %" PRIu64
				   " bytes %s", off, rc == SC_ECHECKSUM ? "header checksum mismatch" : "header lengths out of range",
				   skipped, where);
			r->unknown_dmg = r->dmg ? r->ndmg : 0;
			continue;
		}
		if (rc < 0) {
			uint64_t skipped = resync(r);

			describe_end(where, sizeof(where), r);
			add_damage(r, off, skipped, -1, SC_ECORRUPT, "no block header at offset %" PRIu64
				   ": skipped %" PRIu64 " bytes of unknown content %s", off, skipped, where);
			r->unknown_dmg = r->dmg ? r->ndmg : 0;
			continue;
		}
		r->blocks_seen++;
		if (r->have_seq && h.seq > r->next_seq && r->unknown_dmg) {
			struct sc_skc_damage *d = &r->dmg[r->unknown_dmg - 1];
			size_t n = strlen(d->msg);

			snprintf(d->msg + n, sizeof(d->msg) - n, " (blocks %" PRIu64 "..%" PRIu64 ")", r->next_seq,
				 h.seq - 1);
		} else if (r->have_seq && h.seq > r->next_seq) {
			add_damage(r, off, 0, -1, SC_ECORRUPT, "block at offset %" PRIu64 ": blocks %" PRIu64 "..%" PRIu64
				   " are missing (sequence jumps from %" PRIu64 " to %" PRIu64 ")", off, r->next_seq,
				   h.seq - 1, r->next_seq - 1, h.seq);
		}
		r->have_seq = true;
		r->next_seq = h.seq + 1;
		r->unknown_dmg = 0;

		if (!fill(r, SC_SKC_BLOCK_HDR_LEN + h.clen)) {
			if (r->io_err)
				return r->io_err;
			size_t got = avail(r) - SC_SKC_BLOCK_HDR_LEN;
			char what[128];

			snprintf(what, sizeof(what), "truncated: %zu of %" PRIu32 " payload bytes present", got,
				 h.clen);
			bad_block(r, &h, SC_ETRUNC, what);
			continue;
		}
		const uint8_t *payload = r->buf + r->ipos + SC_SKC_BLOCK_HDR_LEN;

		if (sc_crc32c(0, payload, h.clen) != h.crc) {
			bad_block(r, &h, SC_ECHECKSUM, "checksum mismatch");
			continue;
		}
		/* One frame, exactly: ZSTD_decompressDCtx would also accept several
		 * concatenated frames. */
		size_t fsz = ZSTD_findFrameCompressedSize(payload, h.clen);

		if (ZSTD_isError(fsz) || fsz != h.clen) {
			char what[128];

			snprintf(what, sizeof(what), "zstd: %s",
				 ZSTD_isError(fsz) ? ZSTD_getErrorName(fsz) : "payload is not exactly one frame");
			bad_block(r, &h, SC_ECOMPRESS, what);
			continue;
		}
		size_t un = ZSTD_decompressDCtx(r->dctx, r->blk, SC_SKC_BLOCK_MAX, payload, h.clen);

		if (ZSTD_isError(un) || un != h.ulen) {
			char what[128];

			if (ZSTD_isError(un))
				snprintf(what, sizeof(what), "zstd: %s", ZSTD_getErrorName(un));
			else
				snprintf(what, sizeof(what), "decompressed to %zu bytes, header declares %" PRIu32, un,
					 h.ulen);
			bad_block(r, &h, SC_ECOMPRESS, what);
			continue;
		}
		consume(r, SC_SKC_BLOCK_HDR_LEN + h.clen);
		r->blk_len = un;
		r->blk_pos = 0;
		r->blk_nrec = h.nrec;
		r->blk_done = 0;
		r->blk_off = off;
		r->in_block = true;
		r->st.blocks++;
		r->st.raw_bytes += un;
		return 1;
	}
}

static void count(struct sc_skc_reader *r, const struct sc_skc_rec *rec)
{
	r->st.records++;
	r->st.by_type[rec->type]++;
	if (rec->type == SC_SKC_DATA) {
		r->st.bytes_captured += rec->u.data.cap_len;
	} else if (rec->type == SC_SKC_LOSS) {
		unsigned k = rec->u.loss.reason;

		if (k < 1 || k > SC_LOSS_NREASONS)
			k = SC_LOSS_OTHER;
		r->st.lost_bytes[k] += rec->u.loss.len;
		r->st.lost_events[k] += rec->u.loss.events;
	} else if (rec->type == SC_SKC_TRAILER) {
		r->st.has_trailer = true;
		r->trailer = rec->u.trailer;
		/* The trailer's block is counted in blocks_seen already. */
		r->trailer_blocks_seen = r->blocks_seen - 1;
		r->trailer_records_seen = r->st.records - 1 + r->st.unknown_records + r->st.malformed_records;
	}
}

int sc_skc_reader_next(struct sc_skc_reader *r, struct sc_skc_rec *rec)
{
	for (;;) {
		if (r->done)
			return 0;
		if (!r->in_block) {
			int rc = next_block(r);

			if (rc < 0)
				return rc;
			if (rc == 0) {
				r->done = true;
				r->st.unfinished = !r->st.has_trailer;
				return 0;
			}
		}
		size_t left = r->blk_len - r->blk_pos;

		if (left == 0) {
			if (r->blk_done != r->blk_nrec)
				add_damage(r, r->blk_off, 0, r->blk_done < r->blk_nrec ? (int64_t)(r->blk_nrec - r->blk_done) : -1,
					   SC_ECORRUPT, "block at offset %" PRIu64 ": holds %" PRIu32
					   " records, its header declares %" PRIu32, r->blk_off, r->blk_done, r->blk_nrec);
			r->in_block = false;
			continue;
		}
		struct sc_rd rd;

		sc_rd_init(&rd, r->blk + r->blk_pos, left);
		uint16_t type = sc_rd_le16(&rd);
		uint8_t version = sc_rd_u8(&rd);
		(void)sc_rd_u8(&rd); /* flags */
		uint32_t len = sc_rd_le32(&rd);
		size_t body_left = sc_rd_left(&rd);

		if (rd.err || len > body_left) {
			uint32_t lost = r->blk_nrec > r->blk_done ? r->blk_nrec - r->blk_done : 0;

			if (rd.err)
				add_damage(r, r->blk_off, 0, lost, SC_ECORRUPT, "block at offset %" PRIu64
					   ", record %" PRIu32 " at block offset %zu: %zu bytes left, too few for a "
					   "record header; skipped %" PRIu32 " records", r->blk_off, r->blk_done,
					   r->blk_pos, left, lost);
			else
				add_damage(r, r->blk_off, 0, lost, SC_ECORRUPT, "block at offset %" PRIu64
					   ", record %" PRIu32 " at block offset %zu: length %" PRIu32
					   " exceeds the %zu bytes left in the block; skipped %" PRIu32 " records",
					   r->blk_off, r->blk_done, r->blk_pos, len, body_left, lost);
			r->in_block = false;
			continue;
		}
		const uint8_t *body = rd.p;
		size_t rec_pos = r->blk_pos;

		r->blk_pos += SC_SKC_REC_HDR_LEN + len;
		r->blk_done++;
		if (type < 1 || type > SC_SKC_TYPE_MAX) {
			r->st.unknown_records++;
			continue;
		}
		int rc = sc_skc_decode(type, version, body, len, rec);

		if (rc < 0) {
			r->st.malformed_records++;
			add_damage(r, r->blk_off, 0, 1, SC_ECORRUPT, "block at offset %" PRIu64 ", record %" PRIu32
				   " at block offset %zu: %s version %u body of %" PRIu32
				   " bytes is malformed; skipped 1 record", r->blk_off, r->blk_done - 1, rec_pos,
				   type_name(type), version, len);
			continue;
		}
		count(r, rec);
		return 1;
	}
}

static struct sc_skc_reader *reader_new(int *err, struct sc_diag *diag)
{
	struct sc_skc_reader *r = calloc(1, sizeof(*r));

	if (!r)
		goto nomem;
	r->dctx = ZSTD_createDCtx();
	r->blk = malloc(SC_SKC_BLOCK_MAX);
	if (!r->dctx || !r->blk)
		goto nomem;
	/* Blocks are at most 1 MiB, so no valid frame needs a larger window. */
	if (ZSTD_isError(ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, 20)))
		goto nomem;
	return r;
nomem:
	sc_skc_reader_close(r);
	if (err)
		*err = -ENOMEM;
	sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	return NULL;
}

/* Read and check the file header.  Returns 0 or an error that makes the
 * input unusable (not .skc, unknown major version, I/O). */
static int read_file_header(struct sc_skc_reader *r, struct sc_diag *diag)
{
	struct sc_rd rd;
	size_t have;

	if (!fill(r, SC_SKC_FILE_HDR_LEN) && r->io_err)
		return sc_diag_set(diag, r->io_err, 0, "read error: %s", sc_strerror(r->io_err));
	have = avail(r);
	if (have < sizeof(sc_skc_file_magic) || memcmp(r->buf + r->ipos, sc_skc_file_magic, 8) != 0)
		return sc_diag_set(diag, SC_EFORMAT, 0, "not an .skc capture file (bad magic)");
	if (have < SC_SKC_FILE_HDR_LEN) {
		consume(r, have);
		add_damage(r, 0, have, -1, SC_ETRUNC, "file header truncated: %zu of %u bytes", have,
			   SC_SKC_FILE_HDR_LEN);
		return 0;
	}
	sc_rd_init(&rd, r->buf + r->ipos + 8, SC_SKC_FILE_HDR_LEN - 8);
	unsigned major = sc_rd_le16(&rd), minor = sc_rd_le16(&rd);
	(void)sc_rd_le32(&rd); /* flags */
	uint32_t hlen = sc_rd_le32(&rd);
	(void)sc_rd_le32(&rd); /* block max: informative */
	(void)sc_rd_le32(&rd);
	uint32_t crc = sc_rd_le32(&rd);
	bool crc_ok = crc == sc_crc32c(0, r->buf + r->ipos, 28);

	if (crc_ok && major != SC_SKC_VERSION_MAJOR)
		return sc_diag_set(diag, SC_EVERSION, 8, "unsupported .skc version %u.%u (this build reads %u.x)", major,
				   minor, SC_SKC_VERSION_MAJOR);
	r->major = major;
	r->minor = minor;
	r->have_seq = true; /* the first block is number 0 */
	if (!crc_ok) {
		add_damage(r, 0, 0, 0, SC_ECHECKSUM, "file header at offset 0: checksum mismatch, reading blocks anyway");
		hlen = SC_SKC_FILE_HDR_LEN;
	} else if (hlen < SC_SKC_FILE_HDR_LEN || hlen > 4096) {
		add_damage(r, 16, 0, 0, SC_ECORRUPT, "file header at offset 0: header length %" PRIu32
			   " out of range 32..4096, assuming 32", hlen);
		hlen = SC_SKC_FILE_HDR_LEN;
	}
	if (!fill(r, hlen) && r->io_err)
		return sc_diag_set(diag, r->io_err, 0, "read error: %s", sc_strerror(r->io_err));
	consume(r, avail(r) < hlen ? avail(r) : hlen);
	return 0;
}

struct sc_skc_reader *sc_skc_reader_fopen(FILE *f, bool own, int *err, struct sc_diag *diag)
{
	struct sc_skc_reader *r = reader_new(err, diag);
	int rc;

	if (!r)
		return NULL;
	r->f = f;
	r->icap = IN_CAP;
	r->buf = malloc(r->icap);
	r->buf_owned = true;
	if (!r->buf) {
		r->own = false;
		sc_skc_reader_close(r);
		if (err)
			*err = -ENOMEM;
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		return NULL;
	}
	rc = read_file_header(r, diag);
	if (rc < 0) {
		r->own = false; /* transfer only on success */
		sc_skc_reader_close(r);
		if (err)
			*err = rc;
		return NULL;
	}
	r->own = own;
	return r;
}

struct sc_skc_reader *sc_skc_reader_open(const char *path, int *err, struct sc_diag *diag)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	struct sc_skc_reader *r;

	if (!f) {
		int e = -errno;

		if (err)
			*err = e;
		sc_diag_set(diag, e, 0, "%s: %s", path, sc_strerror(e));
		return NULL;
	}
	r = sc_skc_reader_fopen(f, !is_stdin, err, diag);
	if (!r && !is_stdin)
		fclose(f);
	return r;
}

struct sc_skc_reader *sc_skc_reader_open_mem(const void *buf, size_t len, int *err, struct sc_diag *diag)
{
	struct sc_skc_reader *r = reader_new(err, diag);
	int rc;

	if (!r)
		return NULL;
	r->buf = (uint8_t *)buf; /* never written in memory mode */
	r->ilen = r->icap = len;
	r->eof = true;
	rc = read_file_header(r, diag);
	if (rc < 0) {
		sc_skc_reader_close(r);
		if (err)
			*err = rc;
		return NULL;
	}
	return r;
}

void sc_skc_reader_version(const struct sc_skc_reader *r, unsigned *major, unsigned *minor)
{
	*major = r->major;
	*minor = r->minor;
}

const struct sc_skc_stats *sc_skc_reader_stats(const struct sc_skc_reader *r)
{
	return &r->st;
}

size_t sc_skc_reader_ndamage(const struct sc_skc_reader *r)
{
	return r->ndmg;
}

const struct sc_skc_damage *sc_skc_reader_damage(const struct sc_skc_reader *r, size_t i)
{
	return i < r->ndmg ? &r->dmg[i] : NULL;
}

int sc_skc_reader_check_trailer(const struct sc_skc_reader *r, struct sc_diag *diag)
{
	const struct sc_skc_trailer *t = &r->trailer;
	uint64_t seen = r->trailer_records_seen;

	if (!r->st.has_trailer)
		return 0;
	if (t->records > seen)
		return sc_diag_set(diag, SC_ECORRUPT, 0, "trailer counts %" PRIu64 " records, %" PRIu64
				   " were readable: %" PRIu64 " lost", t->records, seen, t->records - seen);
	if (t->records < seen)
		return sc_diag_set(diag, SC_ECORRUPT, 0, "trailer counts %" PRIu64 " records, the file holds %" PRIu64,
				   t->records, seen);
	if (t->blocks != r->trailer_blocks_seen)
		return sc_diag_set(diag, SC_ECORRUPT, 0, "trailer counts %" PRIu64 " blocks before it, %" PRIu64
				   " were found", t->blocks, r->trailer_blocks_seen);
	return 0;
}

void sc_skc_reader_close(struct sc_skc_reader *r)
{
	if (!r)
		return;
	if (r->own && r->f)
		fclose(r->f);
	if (r->buf_owned)
		free(r->buf);
	ZSTD_freeDCtx(r->dctx);
	free(r->blk);
	free(r->dmg);
	free(r);
}
