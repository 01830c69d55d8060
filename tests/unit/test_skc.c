/* test_skc.c - the .skc writer and reader (formats/SKC-FORMAT.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "formats/sc_crc32c.h"
#include "formats/sc_u64map.h"
#include "formats/skc_int.h"
#include "sc_test.h"
#include "formats/sc_grow.h"

/* ---- helpers --------------------------------------------------------------------------- */

static struct sc_view V(const char *s)
{
	struct sc_view v = { (const uint8_t *)s, strlen(s) };

	return v;
}

static char tmpdir[] = "/tmp/sc-test-skc-XXXXXX";

static void setup_tmp(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static char *tmp_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* One record of every type, with distinctive values. */
#define NSAMPLE 7
static const uint8_t payload5[] = "hello";

static void sample(struct sc_skc_rec r[NSAMPLE])
{
	memset(r, 0, NSAMPLE * sizeof(*r));
	r[0].type = SC_SKC_CAPTURE_INFO;
	r[0].u.info = (struct sc_skc_capture_info){ 1700000000123456789ull, 5000000000ull, 0, 0, V("host-a"),
						    V("6.18.0"), V("sockcap 0.1.0"), V("record -w x.skc") };
	r[1].type = SC_SKC_PROCESS;
	r[1].u.proc = (struct sc_skc_process){ 5000000100ull, 42, 43, 1, V("curl") };
	r[2].type = SC_SKC_SOCK_OPEN;
	r[2].u.open.sock_id = 7;
	r[2].u.open.ts_ns = 5000000200ull;
	r[2].u.open.inode = 123456;
	r[2].u.open.pid = 42;
	r[2].u.open.tid = 43;
	r[2].u.open.fd = 5;
	r[2].u.open.how = SC_HOW_CONNECT;
	r[2].u.open.family = SC_AF_INET;
	r[2].u.open.sock_type = SC_SOCK_STREAM;
	r[2].u.open.local = (struct sc_endpoint){ 40000, { 127, 0, 0, 1 } };
	r[2].u.open.remote = (struct sc_endpoint){ 8080, { 127, 0, 0, 1 } };
	r[2].u.open.base_sent = 3;
	r[2].u.open.base_recv = 4;
	r[3].type = SC_SKC_DATA;
	r[3].u.data = (struct sc_skc_data){ 7, 5000000300ull, 0, 42, 43, 5, 5, SC_DIR_EGRESS, SC_SYS_SENDTO, payload5 };
	r[4].type = SC_SKC_LOSS;
	r[4].u.loss = (struct sc_skc_loss){ 7, 5000000400ull, 0, 1000, 42, 0, SC_DIR_INGRESS,
					    SC_LOSS_NOT_USER_MEMORY, SC_SYS_SENDFILE };
	r[5].type = SC_SKC_SOCK_CLOSE;
	r[5].u.close = (struct sc_skc_sock_close){ 7, 5000000500ull, 5, 1000, 42, 43 };
	r[6].type = SC_SKC_PROCESS;
	r[6].u.proc = (struct sc_skc_process){ 5000000600ull, 99, 99, 42, V("nginx") };
}

static void assert_rec_eq(const struct sc_skc_rec *a, const struct sc_skc_rec *b)
{
	cr_assert_eq(a->type, b->type);
	switch (a->type) {
	case SC_SKC_CAPTURE_INFO:
		cr_assert_eq(a->u.info.start_real_ns, b->u.info.start_real_ns);
		cr_assert_eq(a->u.info.start_mono_ns, b->u.info.start_mono_ns);
		cr_assert_eq(a->u.info.snaplen, b->u.info.snaplen);
		cr_assert(a->u.info.hostname.len == b->u.info.hostname.len &&
			  !memcmp(a->u.info.hostname.p, b->u.info.hostname.p, a->u.info.hostname.len));
		cr_assert(a->u.info.options.len == b->u.info.options.len &&
			  !memcmp(a->u.info.options.p, b->u.info.options.p, a->u.info.options.len));
		break;
	case SC_SKC_PROCESS:
		cr_assert_eq(a->u.proc.ts_ns, b->u.proc.ts_ns);
		cr_assert_eq(a->u.proc.pid, b->u.proc.pid);
		cr_assert_eq(a->u.proc.tid, b->u.proc.tid);
		cr_assert_eq(a->u.proc.ppid, b->u.proc.ppid);
		cr_assert(a->u.proc.comm.len == b->u.proc.comm.len &&
			  !memcmp(a->u.proc.comm.p, b->u.proc.comm.p, a->u.proc.comm.len));
		break;
	case SC_SKC_SOCK_OPEN:
		cr_assert_eq(a->u.open.sock_id, b->u.open.sock_id);
		cr_assert_eq(a->u.open.inode, b->u.open.inode);
		cr_assert_eq(a->u.open.fd, b->u.open.fd);
		cr_assert_eq(a->u.open.how, b->u.open.how);
		cr_assert_eq(a->u.open.family, b->u.open.family);
		cr_assert_eq(a->u.open.local.port, b->u.open.local.port);
		cr_assert_arr_eq(a->u.open.local.addr, b->u.open.local.addr, 16);
		cr_assert_eq(a->u.open.remote.port, b->u.open.remote.port);
		cr_assert_arr_eq(a->u.open.remote.addr, b->u.open.remote.addr, 16);
		cr_assert_eq(a->u.open.base_sent, b->u.open.base_sent);
		cr_assert_eq(a->u.open.base_recv, b->u.open.base_recv);
		break;
	case SC_SKC_DATA:
		cr_assert_eq(a->u.data.sock_id, b->u.data.sock_id);
		cr_assert_eq(a->u.data.ts_ns, b->u.data.ts_ns);
		cr_assert_eq(a->u.data.offset, b->u.data.offset);
		cr_assert_eq(a->u.data.orig_len, b->u.data.orig_len);
		cr_assert_eq(a->u.data.cap_len, b->u.data.cap_len);
		cr_assert_eq(a->u.data.dir, b->u.data.dir);
		cr_assert_eq(a->u.data.syscall, b->u.data.syscall);
		cr_assert_arr_eq(a->u.data.payload, b->u.data.payload, a->u.data.cap_len);
		break;
	case SC_SKC_LOSS:
		cr_assert_eq(a->u.loss.sock_id, b->u.loss.sock_id);
		cr_assert_eq(a->u.loss.offset, b->u.loss.offset);
		cr_assert_eq(a->u.loss.len, b->u.loss.len);
		cr_assert_eq(a->u.loss.dir, b->u.loss.dir);
		cr_assert_eq(a->u.loss.reason, b->u.loss.reason);
		cr_assert_eq(a->u.loss.syscall, b->u.loss.syscall);
		break;
	case SC_SKC_SOCK_CLOSE:
		cr_assert_eq(a->u.close.sock_id, b->u.close.sock_id);
		cr_assert_eq(a->u.close.sent_bytes, b->u.close.sent_bytes);
		cr_assert_eq(a->u.close.recv_bytes, b->u.close.recv_bytes);
		break;
	}
}

/* Write `nblocks` blocks, each holding the sample records (the first block
 * also the rest), flushing between blocks; then the trailer. */
static uint8_t *write_blocks(const char *name, int nblocks, bool async, size_t *len)
{
	struct sc_skc_writer_opts o = { .async = async };
	struct sc_skc_rec r[NSAMPLE];
	struct sc_skc_writer *w;
	int err = 0;

	sample(r);
	w = sc_skc_writer_open(tmp_path(name), &o, &err);
	cr_assert_not_null(w, "writer_open: %s", sc_strerror(err));
	for (int b = 0; b < nblocks; b++) {
		for (int i = 0; i < NSAMPLE; i++)
			cr_assert_eq(sc_skc_write(w, &r[i]), 0);
		if (b + 1 < nblocks)
			cr_assert_eq(sc_skc_writer_flush(w), 0);
	}
	cr_assert_eq(sc_skc_writer_close(w, 1700000001000000000ull, 6000000000ull), 0);
	return slurp(tmp_path(name), len);
}

/* Offsets of the block headers of a well-formed file. */
static size_t block_offsets(const uint8_t *buf, size_t len, size_t *offs, uint32_t *nrec, size_t max)
{
	size_t n = 0, off = SC_SKC_FILE_HDR_LEN;

	while (off + SC_SKC_BLOCK_HDR_LEN <= len && n < max) {
		struct skc_block_hdr h;

		cr_assert_eq(skc_block_hdr_get(buf + off, &h), 0);
		offs[n] = off;
		nrec[n] = h.nrec;
		n++;
		off += SC_SKC_BLOCK_HDR_LEN + h.clen;
	}
	cr_assert_eq(off, len);
	return n;
}

/* Read everything; returns the number of records delivered. */
static size_t read_all(struct sc_skc_reader *r)
{
	struct sc_skc_rec rec;
	size_t n = 0;
	int rc;

	while ((rc = sc_skc_reader_next(r, &rec)) > 0)
		n++;
	cr_assert_eq(rc, 0, "reader_next: %s", sc_strerror(rc));
	return n;
}

/* Build one block around raw record bytes (for records the writer refuses to make). */
static size_t raw_block(uint8_t *out, size_t cap, uint64_t seq, const uint8_t *recs, size_t len, uint32_t nrec)
{
	struct skc_block_hdr h = { 0 };
	size_t clen = ZSTD_compress(out + SC_SKC_BLOCK_HDR_LEN, cap - SC_SKC_BLOCK_HDR_LEN, recs, len, 3);

	cr_assert(!ZSTD_isError(clen));
	h.seq = seq;
	h.clen = (uint32_t)clen;
	h.ulen = (uint32_t)len;
	h.nrec = nrec;
	h.crc = sc_crc32c(0, out + SC_SKC_BLOCK_HDR_LEN, clen);
	skc_block_hdr_put(out, &h);
	return SC_SKC_BLOCK_HDR_LEN + clen;
}

static size_t encode(uint8_t *out, size_t cap, const struct sc_skc_rec *rec)
{
	struct sc_wr w;

	sc_wr_init(&w, out, cap);
	skc_rec_put(&w, rec);
	cr_assert_eq(w.err, 0);
	return (size_t)(w.p - out);
}

TestSuite(skc, .init = setup_tmp);

/* ---- exact bytes --------------------------------------------------------------------- */

Test(skc, crc32c_matches_the_castagnoli_check_value)
{
	cr_assert_eq(sc_crc32c(0, "123456789", 9), 0xE3069283u);
	cr_assert_eq(sc_crc32c(0, "", 0), 0u);
	/* Incremental use equals one call, across the 8-byte fast path. */
	const char *s = "The quick brown fox jumps over the lazy dog";
	uint32_t c = sc_crc32c(0, s, 10);

	cr_assert_eq(sc_crc32c(c, s + 10, strlen(s) - 10), sc_crc32c(0, s, strlen(s)));
	cr_assert_eq(sc_crc32c(0, s, strlen(s)), 0x22620404u);
	/* Every length and alignment, against the bitwise definition. */
	static uint8_t buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n += 7) {
			uint32_t want = 0xffffffffu;

			for (size_t i = 0; i < n; i++) {
				want ^= buf[off + i];
				for (int k = 0; k < 8; k++)
					want = (want >> 1) ^ (0x82F63B78u & (0u - (want & 1)));
			}
			cr_assert_eq(sc_crc32c(0, buf + off, n), ~want, "off %zu len %zu", off, n);
		}
}

Test(skc, file_header_has_the_documented_bytes)
{
	uint8_t h[32];
	static const uint8_t want[28] = { 0x89, 'S', 'K', 'C', '\r', '\n', 0x1a, '\n', 1, 0, 0, 0, 0, 0,
					  0,    0,   32,  0,   0,    0,    0,    0,    0x10, 0, 0, 0, 0, 0 };

	skc_file_hdr_put(h);
	cr_assert_arr_eq(h, want, 28);
	uint32_t crc = sc_crc32c(0, want, 28);

	cr_assert_eq(h[28] | h[29] << 8 | h[30] << 16 | (uint32_t)h[31] << 24, crc);
}

Test(skc, data_record_has_the_documented_bytes)
{
	struct sc_skc_rec r = { .type = SC_SKC_DATA };
	uint8_t out[128];
	static const uint8_t want[] = {
		4, 0, 1, 0, 49, 0, 0, 0,                          /* type, version, flags, body length */
		8, 7, 6, 5, 4, 3, 2, 1,                           /* sock_id */
		0xe8, 3, 0, 0, 0, 0, 0, 0,                        /* ts_ns 1000 */
		5, 0, 0, 0, 0, 0, 0, 0,                           /* offset 5 */
		42, 0, 0, 0, 43, 0, 0, 0,                         /* pid, tid */
		9, 0, 0, 0,                                       /* orig_len */
		1, 5, 0, 0,                                       /* dir in, sendto, reserved */
		5, 0, 0, 0,                                       /* cap_len */
		'h', 'e', 'l', 'l', 'o',
	};

	r.u.data = (struct sc_skc_data){ 0x0102030405060708ull, 1000, 5, 42, 43, 9, 5, SC_DIR_INGRESS, SC_SYS_SENDTO,
					 payload5 };
	cr_assert_eq(encode(out, sizeof(out), &r), sizeof(want));
	cr_assert_arr_eq(out, want, sizeof(want));
	cr_assert_eq(sc_skc_encoded_len(&r), (long)sizeof(want));
}

Test(skc, sock_open_record_has_the_documented_bytes)
{
	struct sc_skc_rec r = { .type = SC_SKC_SOCK_OPEN };
	uint8_t out[128];

	r.u.open.sock_id = 1;
	r.u.open.ts_ns = 2;
	r.u.open.inode = 3;
	r.u.open.pid = 4;
	r.u.open.tid = 5;
	r.u.open.fd = -1;
	r.u.open.how = SC_HOW_ACCEPT;
	r.u.open.family = SC_AF_INET6;
	r.u.open.sock_type = SC_SOCK_STREAM;
	r.u.open.flags = SC_SOCK_F_MIDSTREAM;
	r.u.open.local.port = 0x1f90;
	r.u.open.local.addr[15] = 1;
	r.u.open.remote.port = 0x1234;
	r.u.open.remote.addr[0] = 0xfe;
	r.u.open.base_sent = 0x0807060504030201ull;
	r.u.open.base_recv = 0x11;
	r.u.open.unix_path = V("");
	size_t n = encode(out, sizeof(out), &r);

	cr_assert_eq(n, 8 + 92 + 2);
	cr_assert_eq(out[0], 3);
	cr_assert_eq(out[4], 94);
	cr_assert_eq(out[8 + 32], 0xff); /* fd -1 */
	cr_assert_eq(out[8 + 35], 0xff);
	cr_assert_eq(out[8 + 36], SC_HOW_ACCEPT);
	cr_assert_eq(out[8 + 37], 6);
	cr_assert_eq(out[8 + 38], 1);
	cr_assert_eq(out[8 + 39], 1);
	cr_assert_eq(out[8 + 40], 0x90); /* local port, little-endian */
	cr_assert_eq(out[8 + 41], 0x1f);
	cr_assert_eq(out[8 + 42 + 15], 1);
	cr_assert_eq(out[8 + 58], 0x34);
	cr_assert_eq(out[8 + 60], 0xfe);
	static const uint8_t bases[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0, 0, 0, 0, 0, 0, 0 };

	cr_assert_arr_eq(out + 8 + 76, bases, 16);
	cr_assert_eq(out[8 + 92], 0); /* empty unix path */
	cr_assert_eq(out[8 + 93], 0);
}

Test(skc, block_header_round_trips_and_rejects_bad_crc_and_lengths)
{
	struct skc_block_hdr h = { 0, 5, 100, 200, 3, 0xdeadbeef }, g;
	uint8_t b[32];

	skc_block_hdr_put(b, &h);
	cr_assert_eq(skc_block_hdr_get(b, &g), 0);
	cr_assert_eq(g.seq, 5);
	cr_assert_eq(g.clen, 100);
	cr_assert_eq(g.ulen, 200);
	cr_assert_eq(g.nrec, 3);
	cr_assert_eq(g.crc, 0xdeadbeef);
	b[20] ^= 1;
	cr_assert_eq(skc_block_hdr_get(b, &g), SC_ECHECKSUM);
	b[0] = 'X';
	cr_assert_eq(skc_block_hdr_get(b, &g), SC_EFORMAT);

	h.ulen = SC_SKC_BLOCK_MAX + 1;
	skc_block_hdr_put(b, &h);
	cr_assert_eq(skc_block_hdr_get(b, &g), SC_ECORRUPT);
	h.ulen = 200;
	h.clen = UINT32_MAX;
	skc_block_hdr_put(b, &h);
	cr_assert_eq(skc_block_hdr_get(b, &g), SC_ECORRUPT);
	h.clen = 100;
	h.nrec = 26; /* > 200 / 8 */
	skc_block_hdr_put(b, &h);
	cr_assert_eq(skc_block_hdr_get(b, &g), SC_ECORRUPT);
}

/* ---- round trips ------------------------------------------------------------------------ */

Test(skc, every_record_type_round_trips_through_a_file)
{
	struct sc_skc_rec want[NSAMPLE], got;
	struct sc_skc_reader *r;
	size_t len;
	uint8_t *buf = write_blocks("rt.skc", 1, false, &len);
	int err;

	sample(want);
	r = sc_skc_reader_open(tmp_path("rt.skc"), &err, NULL);
	cr_assert_not_null(r);
	for (int i = 0; i < NSAMPLE; i++) {
		cr_assert_eq(sc_skc_reader_next(r, &got), 1);
		cr_assert_eq(got.version, 1);
		assert_rec_eq(&want[i], &got);
	}
	cr_assert_eq(sc_skc_reader_next(r, &got), 1);
	cr_assert_eq(got.type, SC_SKC_TRAILER);
	cr_assert_eq(got.u.trailer.records, NSAMPLE);
	cr_assert_eq(got.u.trailer.blocks, 0);
	cr_assert_eq(got.u.trailer.data_records, 1);
	cr_assert_eq(got.u.trailer.bytes_captured, 5);
	cr_assert_eq(got.u.trailer.lost_bytes[SC_LOSS_NOT_USER_MEMORY], 1000);
	cr_assert_eq(got.u.trailer.end_real_ns, 1700000001000000000ull);
	cr_assert_eq(got.u.trailer.end_mono_ns, 6000000000ull);
	cr_assert_eq(sc_skc_reader_next(r, &got), 0);

	const struct sc_skc_stats *st = sc_skc_reader_stats(r);

	cr_assert_eq(st->records, NSAMPLE + 1);
	cr_assert(st->has_trailer);
	cr_assert(!st->unfinished);
	cr_assert_eq(st->damaged_blocks, 0);
	cr_assert_eq(st->file_bytes, len);
	cr_assert_eq(sc_skc_reader_check_trailer(r, NULL), 0);
	sc_skc_reader_close(r);
	free(buf);
}

Test(skc, async_writer_writes_the_same_bytes_as_the_sync_writer)
{
	size_t l1, l2;
	uint8_t *a = write_blocks("sync.skc", 5, false, &l1);
	uint8_t *b = write_blocks("async.skc", 5, true, &l2);

	cr_assert_eq(l1, l2);
	cr_assert_arr_eq(a, b, l1);
	free(a);
	free(b);
}

Test(skc, large_payload_is_split_into_chunks_with_consecutive_offsets)
{
	struct sc_skc_writer *w;
	struct sc_skc_rec rec = { .type = SC_SKC_DATA }, got;
	size_t big = 3 * SC_SKC_BLOCK_MAX + 12345;
	uint8_t *p = malloc(big);
	int err;

	for (size_t i = 0; i < big; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 13));
	rec.u.data = (struct sc_skc_data){ 1, 10, 1000, 1, 1, (uint32_t)big, (uint32_t)big, 0, SC_SYS_WRITEV, p };
	w = sc_skc_writer_open(tmp_path("big.skc"), NULL, &err);
	cr_assert_not_null(w);
	cr_assert_eq(sc_skc_write(w, &rec), 0);
	cr_assert_eq(sc_skc_writer_close(w, 0, 0), 0);

	struct sc_skc_reader *r = sc_skc_reader_open(tmp_path("big.skc"), &err, NULL);
	uint64_t off = 1000;
	size_t n = 0, chunks = 0;

	cr_assert_not_null(r);
	while (sc_skc_reader_next(r, &got) > 0) {
		if (got.type != SC_SKC_DATA)
			continue;
		cr_assert_eq(got.u.data.offset, off);
		cr_assert_leq(got.u.data.cap_len, SC_SKC_DATA_CHUNK);
		cr_assert_eq(got.u.data.orig_len, big);
		cr_assert_arr_eq(got.u.data.payload, p + n, got.u.data.cap_len);
		off += got.u.data.cap_len;
		n += got.u.data.cap_len;
		chunks++;
	}
	cr_assert_eq(n, big);
	cr_assert_eq(chunks, (big + SC_SKC_DATA_CHUNK - 1) / SC_SKC_DATA_CHUNK);
	cr_assert_geq(sc_skc_reader_stats(r)->blocks, 4);
	cr_assert_eq(sc_skc_reader_stats(r)->damaged_blocks, 0);
	sc_skc_reader_close(r);
	free(p);
}

Test(skc, writer_refuses_to_overwrite_unless_asked_and_creates_mode_0600)
{
	struct sc_skc_writer_opts o = { .overwrite = true };
	struct sc_skc_writer *w;
	struct stat sb;
	int err = 0;

	umask(022);
	w = sc_skc_writer_open(tmp_path("x.skc"), NULL, &err);
	cr_assert_not_null(w);
	cr_assert_eq(sc_skc_writer_close(w, 0, 0), 0);
	cr_assert_eq(stat(tmp_path("x.skc"), &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);

	cr_assert_null(sc_skc_writer_open(tmp_path("x.skc"), NULL, &err));
	cr_assert_eq(err, -EEXIST);
	chmod(tmp_path("x.skc"), 0644);
	w = sc_skc_writer_open(tmp_path("x.skc"), &o, &err);
	cr_assert_not_null(w);
	cr_assert_eq(sc_skc_writer_close(w, 0, 0), 0);
	cr_assert_eq(stat(tmp_path("x.skc"), &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
}

Test(skc, writer_refuses_trailer_records_and_overlong_strings)
{
	struct sc_skc_rec t = { .type = SC_SKC_TRAILER }, p = { .type = SC_SKC_PROCESS };
	struct sc_skc_writer *w;
	static char big[70000];
	int err;

	memset(big, 'a', sizeof(big));
	p.u.proc.comm.p = (const uint8_t *)big;
	p.u.proc.comm.len = sizeof(big);
	w = sc_skc_writer_open(tmp_path("r.skc"), NULL, &err);
	cr_assert_not_null(w);
	cr_assert_eq(sc_skc_write(w, &t), -EINVAL);
	cr_assert_eq(sc_skc_write(w, &p), SC_ETOOBIG);
	cr_assert_eq(sc_skc_writer_close(w, 0, 0), 0);
}

Test(skc, abandoned_file_is_unfinished_not_damaged)
{
	struct sc_skc_rec r[NSAMPLE];
	struct sc_skc_writer *w;
	struct sc_skc_reader *rd;
	int err;

	sample(r);
	w = sc_skc_writer_open(tmp_path("u.skc"), NULL, &err);
	for (int i = 0; i < NSAMPLE; i++)
		sc_skc_write(w, &r[i]);
	cr_assert_eq(sc_skc_writer_abandon(w), 0);
	rd = sc_skc_reader_open(tmp_path("u.skc"), &err, NULL);
	cr_assert_eq(read_all(rd), NSAMPLE);
	cr_assert(sc_skc_reader_stats(rd)->unfinished);
	cr_assert_eq(sc_skc_reader_stats(rd)->damaged_blocks, 0);
	cr_assert_eq(sc_skc_reader_ndamage(rd), 0);
	sc_skc_reader_close(rd);
}

/* ---- damage ------------------------------------------------------------------------------ */

Test(skc, truncation_at_every_offset_keeps_intact_blocks_and_says_exactly_what_was_lost)
{
	size_t len, offs[8];
	uint32_t nrec[8];
	uint8_t *buf = write_blocks("t.skc", 3, false, &len);
	size_t nb = block_offsets(buf, len, offs, nrec, 8);

	cr_assert_eq(nb, 3);
	for (size_t cut = 0; cut < len; cut++) {
		/* Copy into an exact-size buffer so that an over-read is caught. */
		uint8_t *c = malloc(cut ? cut : 1);
		struct sc_diag d = { 0 };
		int err = 0;

		memcpy(c, buf, cut);
		struct sc_skc_reader *r = sc_skc_reader_open_mem(c, cut, &err, &d);

		if (cut < 8) {
			cr_assert_null(r);
			cr_assert_eq(err, SC_EFORMAT);
			cr_assert_str_eq(d.msg, "not an .skc capture file (bad magic)");
			free(c);
			continue;
		}
		cr_assert_not_null(r, "cut %zu", cut);
		size_t got = read_all(r);
		const struct sc_skc_stats *st = sc_skc_reader_stats(r);
		char want[256] = "";
		size_t want_recs = 0;
		size_t k = 0;

		/* Block k is the one the cut falls in (or starts at). */
		while (k + 1 < nb && offs[k + 1] <= cut)
			want_recs += nrec[k++];
		if (cut < SC_SKC_FILE_HDR_LEN) {
			snprintf(want, sizeof(want), "file header truncated: %zu of 32 bytes", cut);
			want_recs = 0;
		} else if (cut == offs[k]) {
			want[0] = '\0';
		} else if (cut < offs[k] + 32) {
			snprintf(want, sizeof(want), "block at offset %zu: truncated header (%zu of 32 bytes), skipped %zu bytes",
				 offs[k], cut - offs[k], cut - offs[k]);
		} else {
			struct skc_block_hdr h;

			skc_block_hdr_get(buf + offs[k], &h);
			snprintf(want, sizeof(want), "block at offset %zu: truncated: %zu of %u payload bytes present, "
				 "skipped %u records (%zu bytes)",
				 offs[k], cut - offs[k] - 32, h.clen, h.nrec, cut - offs[k]);
		}
		cr_assert_eq(got, want_recs, "cut %zu: %zu records, want %zu", cut, got, want_recs);
		cr_assert(st->unfinished, "cut %zu", cut);
		if (want[0]) {
			cr_assert_eq(sc_skc_reader_ndamage(r), 1, "cut %zu", cut);
			cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg, want, "cut %zu", cut);
		} else {
			cr_assert_eq(sc_skc_reader_ndamage(r), 0, "cut %zu: %s", cut,
				     sc_skc_reader_ndamage(r) ? sc_skc_reader_damage(r, 0)->msg : "");
		}
		sc_skc_reader_close(r);
		free(c);
	}
	free(buf);
}

Test(skc, flipped_payload_byte_costs_one_block_with_a_checksum_message)
{
	size_t len, offs[8];
	uint32_t nrec[8];
	uint8_t *buf = write_blocks("f.skc", 3, false, &len);

	block_offsets(buf, len, offs, nrec, 8);
	for (size_t pos = offs[1] + 32; pos < offs[2]; pos++) {
		uint8_t *c = malloc(len);
		char want[256];
		int err;

		memcpy(c, buf, len);
		c[pos] ^= 0x40;
		struct sc_skc_reader *r = sc_skc_reader_open_mem(c, len, &err, NULL);

		cr_assert_eq(read_all(r), nrec[0] + nrec[2]);
		cr_assert_eq(sc_skc_reader_ndamage(r), 1);
		snprintf(want, sizeof(want), "block at offset %zu: checksum mismatch, skipped %u records (%zu bytes)",
			 offs[1], nrec[1], offs[2] - offs[1]);
		cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg, want);
		cr_assert(sc_skc_reader_stats(r)->has_trailer);
		cr_assert_eq(sc_skc_reader_stats(r)->damaged_records, nrec[1]);
		struct sc_diag d = { 0 };

		cr_assert_eq(sc_skc_reader_check_trailer(r, &d), SC_ECORRUPT);
		snprintf(want, sizeof(want), "trailer counts %u records, %u were readable: %u lost",
			 nrec[0] + nrec[1] + nrec[2] - 1, nrec[0] + nrec[2] - 1, nrec[1]);
		cr_assert_str_eq(d.msg, want);
		sc_skc_reader_close(r);
		free(c);
	}
	free(buf);
}

Test(skc, flipped_header_byte_resynchronises_on_the_next_block)
{
	size_t len, offs[8];
	uint32_t nrec[8];
	uint8_t *buf = write_blocks("h.skc", 3, false, &len);

	block_offsets(buf, len, offs, nrec, 8);
	for (size_t pos = offs[1]; pos < offs[1] + 32; pos++) {
		uint8_t *c = malloc(len);
		char want[256];
		int err;

		memcpy(c, buf, len);
		c[pos] ^= 0x01;
		struct sc_skc_reader *r = sc_skc_reader_open_mem(c, len, &err, NULL);

		cr_assert_eq(read_all(r), nrec[0] + nrec[2], "pos %zu", pos);
		cr_assert_eq(sc_skc_reader_ndamage(r), 1);
		if (pos < offs[1] + 4)
			snprintf(want, sizeof(want), "no block header at offset %zu: skipped %zu bytes of unknown content "
				 "up to the block at offset %zu (blocks 1..1)", offs[1], offs[2] - offs[1], offs[2]);
		else
			snprintf(want, sizeof(want), "block at offset %zu: header checksum mismatch, skipped %zu bytes up to "
				 "the block at offset %zu (blocks 1..1)", offs[1], offs[2] - offs[1], offs[2]);
		cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg, want, "pos %zu", pos);
		sc_skc_reader_close(r);
		free(c);
	}
	free(buf);
}

Test(skc, flipped_file_header_byte_is_reported_and_every_record_is_read)
{
	size_t len;
	uint8_t *buf = write_blocks("fh.skc", 2, false, &len);
	int err;

	buf[12] ^= 0x80; /* flags */
	struct sc_skc_reader *r = sc_skc_reader_open_mem(buf, len, &err, NULL);

	cr_assert_eq(read_all(r), 2 * NSAMPLE + 1);
	cr_assert_eq(sc_skc_reader_ndamage(r), 1);
	cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg,
			 "file header at offset 0: checksum mismatch, reading blocks anyway");
	sc_skc_reader_close(r);
	free(buf);
}

Test(skc, garbage_between_blocks_is_skipped_and_measured)
{
	size_t len, offs[8];
	uint32_t nrec[8];
	uint8_t *buf = write_blocks("g.skc", 2, false, &len);
	uint8_t *c = malloc(len + 1000);
	int err;

	block_offsets(buf, len, offs, nrec, 8);
	memcpy(c, buf, offs[1]);
	memset(c + offs[1], 'S', 1000); /* many false magic starts */
	memcpy(c + offs[1] + 1000, buf + offs[1], len - offs[1]);
	struct sc_skc_reader *r = sc_skc_reader_open_mem(c, len + 1000, &err, NULL);
	char want[200];

	cr_assert_eq(read_all(r), nrec[0] + nrec[1]);
	cr_assert_eq(sc_skc_reader_ndamage(r), 1);
	snprintf(want, sizeof(want), "no block header at offset %zu: skipped 1000 bytes of unknown content up to the "
		 "block at offset %zu", offs[1], offs[1] + 1000);
	cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg, want);
	cr_assert_eq(sc_skc_reader_stats(r)->damaged_bytes, 1000);
	sc_skc_reader_close(r);
	free(buf);
	free(c);
}

Test(skc, missing_block_is_reported_by_its_sequence_number)
{
	size_t len, offs[8];
	uint32_t nrec[8];
	uint8_t *buf = write_blocks("m.skc", 4, false, &len);
	int err;

	block_offsets(buf, len, offs, nrec, 8);
	/* Cut blocks 1 and 2 out cleanly. */
	size_t gap = offs[3] - offs[1];

	memmove(buf + offs[1], buf + offs[3], len - offs[3]);
	struct sc_skc_reader *r = sc_skc_reader_open_mem(buf, len - gap, &err, NULL);
	char want[200];

	cr_assert_eq(read_all(r), nrec[0] + nrec[3]);
	cr_assert_eq(sc_skc_reader_ndamage(r), 1);
	snprintf(want, sizeof(want), "block at offset %zu: blocks 1..2 are missing (sequence jumps from 0 to 3)", offs[1]);
	cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg, want);
	struct sc_diag d = { 0 };

	cr_assert_eq(sc_skc_reader_check_trailer(r, &d), SC_ECORRUPT);
	sc_skc_reader_close(r);
	free(buf);
}

static size_t file_with_block(uint8_t *out, size_t cap, const uint8_t *recs, size_t len, uint32_t nrec)
{
	skc_file_hdr_put(out);
	return SC_SKC_FILE_HDR_LEN + raw_block(out + SC_SKC_FILE_HDR_LEN, cap - SC_SKC_FILE_HDR_LEN, 0, recs, len, nrec);
}

Test(skc, unknown_record_types_are_skipped_and_counted)
{
	struct sc_skc_rec s[NSAMPLE], got;
	uint8_t recs[1024], file[2048];
	size_t n = 0;
	int err;

	sample(s);
	n += encode(recs + n, sizeof(recs) - n, &s[1]);
	/* type 99, version 3, 6-byte body */
	static const uint8_t unk[] = { 99, 0, 3, 0, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6 };

	memcpy(recs + n, unk, sizeof(unk));
	n += sizeof(unk);
	n += encode(recs + n, sizeof(recs) - n, &s[3]);
	size_t flen = file_with_block(file, sizeof(file), recs, n, 3);
	struct sc_skc_reader *r = sc_skc_reader_open_mem(file, flen, &err, NULL);

	cr_assert_eq(sc_skc_reader_next(r, &got), 1);
	cr_assert_eq(got.type, SC_SKC_PROCESS);
	cr_assert_eq(sc_skc_reader_next(r, &got), 1);
	cr_assert_eq(got.type, SC_SKC_DATA);
	assert_rec_eq(&s[3], &got);
	cr_assert_eq(sc_skc_reader_next(r, &got), 0);
	cr_assert_eq(sc_skc_reader_stats(r)->unknown_records, 1);
	cr_assert_eq(sc_skc_reader_ndamage(r), 0);
	sc_skc_reader_close(r);
}

Test(skc, newer_version_of_a_known_type_is_read_by_its_known_fields)
{
	struct sc_skc_rec s[NSAMPLE], got;
	uint8_t recs[1024], file[2048];
	size_t n;
	int err;

	sample(s);
	n = encode(recs, sizeof(recs), &s[3]);
	/* Version 2 appends 4 bytes after the payload. */
	recs[2] = 2;
	recs[4] += 4;
	memcpy(recs + n, "\xaa\xbb\xcc\xdd", 4);
	n += 4;
	size_t flen = file_with_block(file, sizeof(file), recs, n, 1);
	struct sc_skc_reader *r = sc_skc_reader_open_mem(file, flen, &err, NULL);

	cr_assert_eq(sc_skc_reader_next(r, &got), 1);
	cr_assert_eq(got.version, 2);
	assert_rec_eq(&s[3], &got);
	cr_assert_eq(sc_skc_reader_next(r, &got), 0);
	cr_assert_eq(sc_skc_reader_ndamage(r), 0);
	sc_skc_reader_close(r);
}

Test(skc, short_body_is_a_malformed_record_with_an_exact_message)
{
	uint8_t recs[64], file[512];
	struct sc_skc_rec got;
	int err;
	/* A DATA record whose body is 12 bytes: far less than version 1's 44. */
	static const uint8_t bad[] = { 4, 0, 1, 0, 12, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	memcpy(recs, bad, sizeof(bad));
	size_t flen = file_with_block(file, sizeof(file), recs, sizeof(bad), 1);
	struct sc_skc_reader *r = sc_skc_reader_open_mem(file, flen, &err, NULL);

	cr_assert_eq(sc_skc_reader_next(r, &got), 0);
	cr_assert_eq(sc_skc_reader_stats(r)->malformed_records, 1);
	cr_assert_eq(sc_skc_reader_ndamage(r), 1);
	cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg,
			 "block at offset 32, record 0 at block offset 0: DATA version 1 body of 12 bytes is malformed; "
			 "skipped 1 record");
	sc_skc_reader_close(r);
}

Test(skc, declared_lengths_of_2_32_minus_1_are_rejected_without_allocating)
{
	uint8_t recs[64], file[512];
	struct sc_skc_rec got;
	struct rlimit rl = { 512u << 20, 512u << 20 };
	int err;

#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
	/* An allocation of 4 GiB would now fail: the reader must not try. */
	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
#else
	(void)rl;
#endif
	/* A record claiming 4294967295 body bytes. */
	static const uint8_t rec_big[] = { 4, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };

	memcpy(recs, rec_big, sizeof(rec_big));
	size_t flen = file_with_block(file, sizeof(file), recs, sizeof(rec_big), 1);
	struct sc_skc_reader *r = sc_skc_reader_open_mem(file, flen, &err, NULL);

	cr_assert_eq(sc_skc_reader_next(r, &got), 0);
	cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg,
			 "block at offset 32, record 0 at block offset 0: length 4294967295 exceeds the 4 bytes left "
			 "in the block; skipped 1 records");
	sc_skc_reader_close(r);

	/* A DATA body claiming a cap_len of 4294967295 inside a 44-byte body. */
	uint8_t d[8 + 44] = { 4, 0, 1, 0, 44, 0, 0, 0 };

	memset(d + 8 + 40, 0xff, 4);
	flen = file_with_block(file, sizeof(file), d, sizeof(d), 1);
	r = sc_skc_reader_open_mem(file, flen, &err, NULL);
	cr_assert_eq(sc_skc_reader_next(r, &got), 0);
	cr_assert_eq(sc_skc_reader_stats(r)->malformed_records, 1);
	sc_skc_reader_close(r);

	/* A block header (valid CRC) declaring 4294967295 compressed bytes. */
	struct skc_block_hdr h = { 0, 0, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0 };

	skc_file_hdr_put(file);
	skc_block_hdr_put(file + 32, &h);
	memset(file + 64, 0, 100);
	r = sc_skc_reader_open_mem(file, 164, &err, NULL);
	cr_assert_eq(sc_skc_reader_next(r, &got), 0);
	cr_assert_eq(sc_skc_reader_ndamage(r), 1);
	cr_assert_str_eq(sc_skc_reader_damage(r, 0)->msg,
			 "block at offset 32: header lengths out of range, skipped 132 bytes to the end of the file");
	sc_skc_reader_close(r);
}

Test(skc, unsupported_major_version_is_refused_with_its_number)
{
	uint8_t h[32];
	struct sc_diag d = { 0 };
	int err;

	skc_file_hdr_put(h);
	h[8] = 2;
	uint32_t crc = sc_crc32c(0, h, 28);

	h[28] = (uint8_t)crc;
	h[29] = (uint8_t)(crc >> 8);
	h[30] = (uint8_t)(crc >> 16);
	h[31] = (uint8_t)(crc >> 24);
	cr_assert_null(sc_skc_reader_open_mem(h, 32, &err, &d));
	cr_assert_eq(err, SC_EVERSION);
	cr_assert_str_eq(d.msg, "unsupported .skc version 2.0 (this build reads 1.x)");
}

Test(skc, trailer_with_more_loss_reasons_than_known_sums_them_into_other)
{
	uint8_t body[52 + 16 * 8] = { 0 };
	struct sc_skc_rec rec;

	body[48] = 8; /* nreasons */
	for (int i = 0; i < 8; i++)
		body[52 + 16 * i] = (uint8_t)(10 + i); /* lost bytes of reason i+1 */
	cr_assert_eq(sc_skc_decode(SC_SKC_TRAILER, 1, body, sizeof(body), &rec), 0);
	cr_assert_eq(rec.u.trailer.lost_bytes[1], 10);
	cr_assert_eq(rec.u.trailer.lost_bytes[5], 14);
	cr_assert_eq(rec.u.trailer.lost_bytes[SC_LOSS_OTHER], 15 + 16 + 17);
}

Test(skc, reader_on_a_pipe_delivers_what_the_file_reader_delivers)
{
	size_t len;
	uint8_t *buf = write_blocks("p.skc", 3, false, &len);
	int fds[2], err;

	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();

	if (pid == 0) {
		close(fds[0]);
		for (size_t off = 0; off < len;) {
			size_t n = len - off < 777 ? len - off : 777; /* odd-sized writes */
			ssize_t w = write(fds[1], buf + off, n);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "rb");
	struct sc_skc_reader *r = sc_skc_reader_fopen(f, true, &err, NULL);

	cr_assert_not_null(r);
	cr_assert_eq(read_all(r), 3 * NSAMPLE + 1);
	cr_assert_eq(sc_skc_reader_ndamage(r), 0);
	cr_assert(sc_skc_reader_stats(r)->has_trailer);
	sc_skc_reader_close(r);
	free(buf);
}

Test(skc, input_before_a_guard_page_is_never_over_read)
{
	size_t len;
	uint8_t *buf = write_blocks("gp.skc", 2, false, &len);
	long pg = sysconf(_SC_PAGESIZE);
	size_t span = ((len + (size_t)pg - 1) / (size_t)pg) * (size_t)pg;
	uint8_t *m = mmap(NULL, span + (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err;

	cr_assert_neq(m, MAP_FAILED);
	cr_assert_eq(mprotect(m + span, (size_t)pg, PROT_NONE), 0);
	for (size_t cut = 8; cut <= len; cut += 13) {
		uint8_t *p = m + span - cut;

		memcpy(p, buf, cut);
		struct sc_skc_reader *r = sc_skc_reader_open_mem(p, cut, &err, NULL);

		cr_assert_not_null(r);
		read_all(r);
		sc_skc_reader_close(r);
	}
	munmap(m, span + (size_t)pg);
	free(buf);
}

/* ---- shared helpers in formats/ ------------------------------------------------------------ */

Test(types, ipv6_addresses_are_formatted_as_rfc_5952_says)
{
	char b[SC_ADDR_STRLEN];
	uint8_t a[16] = { 0 };

	a[15] = 1;
	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, a), "::1");
	memset(a, 0, 16);
	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, a), "::");
	uint8_t c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 };

	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, c), "2001:db8::1:0:0:1");
	uint8_t d[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, d), "fe80::1");
	uint8_t e[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1 };

	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, e), "::ffff:10.0.0.1");
	uint8_t f[16] = { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 };

	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, f), "1:2:3:4:5:6:7:8");
	uint8_t g[16] = { 0, 1, 0, 0, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 };

	cr_assert_str_eq(sc_addr_fmt(b, sizeof(b), SC_AF_INET6, g), "1:0:3:4:5:6:7:8");
	struct sc_endpoint ep = { 443, { 0 } };

	ep.addr[15] = 1;
	cr_assert_str_eq(sc_endpoint_fmt(b, sizeof(b), SC_AF_INET6, &ep), "[::1]:443");
	struct sc_endpoint ep4 = { 80, { 10, 1, 2, 3 } };

	cr_assert_str_eq(sc_endpoint_fmt(b, sizeof(b), SC_AF_INET, &ep4), "10.1.2.3:80");
}

Test(types, u64map_survives_deletes_with_collisions_and_key_zero)
{
	struct sc_u64map m;
	static int vals[5000];

	sc_u64map_init(&m);
	for (uint64_t k = 0; k < 5000; k++)
		cr_assert_eq(sc_u64map_put(&m, k * 4096, &vals[k]), 0);
	cr_assert_eq(m.n, 5000);
	for (uint64_t k = 0; k < 5000; k += 2)
		cr_assert_eq(sc_u64map_del(&m, k * 4096), &vals[k]);
	for (uint64_t k = 0; k < 5000; k++)
		cr_assert_eq(sc_u64map_get(&m, k * 4096), k % 2 ? &vals[k] : NULL, "key %" PRIu64, k);
	cr_assert_eq(m.n, 2500);
	size_t pos = 0, n = 0;
	uint64_t key;
	void *v;

	while (sc_u64map_next(&m, &pos, &key, &v))
		n++;
	cr_assert_eq(n, 2500);
	sc_u64map_fini(&m);
}

/* ---- sc_grow (formats/sc_grow.h) ------------------------------------------------------- */

Test(grow, doubles_from_min_and_refuses_a_size_that_overflows)
{
	size_t cap = 0;
	uint32_t *v = sc_grow(NULL, &cap, sizeof(*v), 4), *t;

	cr_assert_not_null(v);
	cr_assert_eq(cap, 4);
	v[3] = 7;
	v = sc_grow(v, &cap, sizeof(*v), 4);
	cr_assert_not_null(v);
	cr_assert_eq(cap, 8);
	cr_assert_eq(v[3], 7);
	/* Twice this many elements would not fit in size_t bytes: refused, and the
	 * array and its capacity stay as they were. */
	cap = SIZE_MAX / sizeof(*v) / 2 + 1;
	t = sc_grow(v, &cap, sizeof(*v), 4);
	cr_assert_null(t);
	cr_assert_eq(cap, SIZE_MAX / sizeof(*v) / 2 + 1);
	cap = SIZE_MAX / 2 + 1; /* doubling wraps */
	cr_assert_null(sc_grow(v, &cap, 1, 4));
	cr_assert_eq(cap, SIZE_MAX / 2 + 1);
	free(v);
}
