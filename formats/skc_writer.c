/* skc_writer.c - streaming .skc writer: records into blocks, blocks into zstd
 * frames, optionally compressed and written on a background thread so that a
 * producer (the recorder draining a ring buffer) never waits on zstd. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "sc_crc32c.h"
#include "skc_int.h"

#define OUT_CAP (SC_SKC_BLOCK_HDR_LEN + ZSTD_COMPRESSBOUND(SC_SKC_BLOCK_MAX))

struct wblock {
	uint8_t *raw;  /* SC_SKC_BLOCK_MAX bytes of records */
	size_t len;
	uint32_t nrec;
	uint64_t seq;
	struct wblock *next;
};

struct sc_skc_writer {
	int fd;
	bool regular; /* fsync only makes sense on a regular file */
	int level;
	int fast_level; /* 0: never switch */
	unsigned queue;
	int err;      /* sticky: first error of the producer or the thread */

	struct wblock *cur;
	uint64_t seq; /* sequence number of the next sealed block */
	struct sc_skc_stats st;

	ZSTD_CCtx *cctx; /* owned by whoever compresses: caller, or the thread */
	uint8_t *out;    /* OUT_CAP bytes */

	/* async mode */
	bool async;
	pthread_t thr;
	bool thr_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct wblock *free_list;
	struct wblock *q_head, *q_tail; /* sealed, waiting for the thread */
	unsigned busy;                  /* blocks queued or being written */
	bool stop;
	uint64_t file_bytes; /* written by the thread, under mu */
	struct sc_skc_stats snap;
};

static int write_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static struct wblock *wblock_new(void)
{
	struct wblock *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->raw = malloc(SC_SKC_BLOCK_MAX);
	if (!b->raw) {
		free(b);
		return NULL;
	}
	return b;
}

static void wblock_free(struct wblock *b)
{
	if (b) {
		free(b->raw);
		free(b);
	}
}

/* Compress and write one sealed block.  Returns bytes written or an error. */
static long emit_block(int fd, ZSTD_CCtx *cctx, uint8_t *out, const struct wblock *b)
{
	struct skc_block_hdr h = { 0 };
	uint8_t hdr[SC_SKC_BLOCK_HDR_LEN];
	size_t clen = ZSTD_compress2(cctx, out, OUT_CAP, b->raw, b->len);
	struct iovec iov[2];
	int rc;

	if (ZSTD_isError(clen))
		return SC_ECOMPRESS;
	h.seq = b->seq;
	h.clen = (uint32_t)clen;
	h.ulen = (uint32_t)b->len;
	h.nrec = b->nrec;
	h.crc = sc_crc32c(0, out, clen);
	skc_block_hdr_put(hdr, &h);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = out;
	iov[1].iov_len = clen;
	rc = write_all(fd, iov, 2);
	if (rc < 0)
		return rc;
	return (long)(sizeof(hdr) + clen);
}

static void *writer_thread(void *arg)
{
	struct sc_skc_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->q_head && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->q_head && w->stop)
			break;
		struct wblock *b = w->q_head;

		w->q_head = b->next;
		if (!w->q_head)
			w->q_tail = NULL;
		int failed = w->err;
		/* A backlog means compression is the bottleneck: trade ratio
		 * for speed until it clears. */
		bool hurry = w->fast_level && w->busy * 2 >= w->queue;

		pthread_mutex_unlock(&w->mu);
		if (w->fast_level)
			ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, hurry ? w->fast_level : w->level);
		long n = failed ? 0 : emit_block(w->fd, w->cctx, w->out, b);
		pthread_mutex_lock(&w->mu);
		if (n < 0 && !w->err)
			w->err = (int)n;
		else if (n > 0)
			w->file_bytes += (uint64_t)n;
		b->len = 0;
		b->nrec = 0;
		b->next = w->free_list;
		w->free_list = b;
		w->busy--;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hand the current block over to be compressed and written. */
static int seal(struct sc_skc_writer *w)
{
	struct wblock *b = w->cur;

	if (w->err)
		return w->err;
	if (b->len == 0)
		return 0;
	b->seq = w->seq++;
	w->st.blocks++;
	w->st.raw_bytes += b->len;
	if (!w->async) {
		long n = emit_block(w->fd, w->cctx, w->out, b);

		if (n < 0)
			return w->err = (int)n;
		w->st.file_bytes += (uint64_t)n;
		b->len = 0;
		b->nrec = 0;
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	b->next = NULL;
	if (w->q_tail)
		w->q_tail->next = b;
	else
		w->q_head = b;
	w->q_tail = b;
	w->busy++;
	pthread_cond_broadcast(&w->cv);
	/* Backpressure: the pool holds `queue` + 1 blocks; wait for one. */
	while (!w->free_list && !w->err)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->free_list) {
		w->cur = w->free_list;
		w->free_list = w->cur->next;
		w->cur->next = NULL;
	} else {
		w->cur = NULL;
	}
	if (!w->cur && !w->err)
		w->err = SC_ELIMIT;
	int err = w->err;

	pthread_mutex_unlock(&w->mu);
	return err;
}

static int append(struct sc_skc_writer *w, const struct sc_skc_rec *rec)
{
	long need = sc_skc_encoded_len(rec);
	struct sc_wr wr;
	int rc;

	if (need < 0)
		return (int)need;
	if ((size_t)need > SC_SKC_BLOCK_MAX)
		return SC_ETOOBIG;
	if (w->cur->len + (size_t)need > SC_SKC_BLOCK_MAX) {
		rc = seal(w);
		if (rc < 0)
			return rc;
	}
	sc_wr_init(&wr, w->cur->raw + w->cur->len, SC_SKC_BLOCK_MAX - w->cur->len);
	skc_rec_put(&wr, rec);
	if (wr.err)
		return wr.err;
	w->cur->len += (size_t)need;
	w->cur->nrec++;

	w->st.records++;
	w->st.by_type[rec->type]++;
	if (rec->type == SC_SKC_DATA) {
		w->st.bytes_captured += rec->u.data.cap_len;
	} else if (rec->type == SC_SKC_LOSS) {
		unsigned k = rec->u.loss.reason;

		if (k < 1 || k > SC_LOSS_NREASONS)
			k = SC_LOSS_OTHER;
		w->st.lost_bytes[k] += rec->u.loss.len;
		w->st.lost_events[k] += rec->u.loss.events;
	}
	return 0;
}

int sc_skc_write(struct sc_skc_writer *w, const struct sc_skc_rec *rec)
{
	if (w->err)
		return w->err;
	if (rec->type == SC_SKC_TRAILER || rec->type < 1 || rec->type > SC_SKC_TYPE_MAX)
		return -EINVAL;
	if (rec->type == SC_SKC_DATA && rec->u.data.cap_len > SC_SKC_DATA_CHUNK) {
		struct sc_skc_rec part = *rec;
		uint32_t done = 0;

		while (done < rec->u.data.cap_len) {
			uint32_t n = rec->u.data.cap_len - done;
			int rc;

			if (n > SC_SKC_DATA_CHUNK)
				n = SC_SKC_DATA_CHUNK;
			part.u.data.offset = rec->u.data.offset + done;
			part.u.data.payload = rec->u.data.payload + done;
			part.u.data.cap_len = n;
			rc = append(w, &part);
			if (rc < 0)
				return rc;
			done += n;
		}
		return 0;
	}
	return append(w, rec);
}

/* Wait until the background thread has written every sealed block. */
static int drain(struct sc_skc_writer *w)
{
	int err;

	if (!w->async)
		return w->err;
	pthread_mutex_lock(&w->mu);
	while (w->busy > 0)
		pthread_cond_wait(&w->cv, &w->mu);
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err;
}

int sc_skc_writer_flush(struct sc_skc_writer *w)
{
	int rc = seal(w);

	if (rc < 0)
		return rc;
	return drain(w);
}

const struct sc_skc_stats *sc_skc_writer_stats(const struct sc_skc_writer *w_const)
{
	struct sc_skc_writer *w = (struct sc_skc_writer *)w_const;

	if (!w->async)
		return &w->st;
	pthread_mutex_lock(&w->mu);
	w->snap = w->st;
	w->snap.file_bytes = w->st.file_bytes + w->file_bytes;
	pthread_mutex_unlock(&w->mu);
	return &w->snap;
}

static void writer_free(struct sc_skc_writer *w)
{
	if (w->thr_started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thr, NULL);
	}
	if (w->async) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	while (w->free_list) {
		struct wblock *b = w->free_list;

		w->free_list = b->next;
		wblock_free(b);
	}
	while (w->q_head) {
		struct wblock *b = w->q_head;

		w->q_head = b->next;
		wblock_free(b);
	}
	wblock_free(w->cur);
	ZSTD_freeCCtx(w->cctx);
	free(w->out);
	free(w);
}

static int finish(struct sc_skc_writer *w, int rc)
{
	int rc2 = w->cur ? sc_skc_writer_flush(w) : w->err;

	if (!rc)
		rc = rc2;
	if (!rc && w->regular && fsync(w->fd) < 0)
		rc = -errno;
	if (close(w->fd) < 0 && !rc)
		rc = -errno;
	w->fd = -1;
	writer_free(w);
	return rc;
}

int sc_skc_writer_close(struct sc_skc_writer *w, uint64_t end_real_ns, uint64_t end_mono_ns)
{
	struct sc_skc_rec t = { .type = SC_SKC_TRAILER };
	long need = sc_skc_encoded_len(&t);
	int rc = w->err;

	if (!rc && w->cur->len + (size_t)need > SC_SKC_BLOCK_MAX)
		rc = seal(w);
	if (!rc) {
		t.u.trailer.end_real_ns = end_real_ns;
		t.u.trailer.end_mono_ns = end_mono_ns;
		t.u.trailer.records = w->st.records;
		t.u.trailer.blocks = w->seq;
		t.u.trailer.data_records = w->st.by_type[SC_SKC_DATA];
		t.u.trailer.bytes_captured = w->st.bytes_captured;
		t.u.trailer.nreasons = SC_LOSS_NREASONS;
		memcpy(t.u.trailer.lost_bytes, w->st.lost_bytes, sizeof(t.u.trailer.lost_bytes));
		memcpy(t.u.trailer.lost_events, w->st.lost_events, sizeof(t.u.trailer.lost_events));
		rc = append(w, &t);
		if (!rc)
			w->st.has_trailer = true;
	}
	return finish(w, rc);
}

int sc_skc_writer_abandon(struct sc_skc_writer *w)
{
	return finish(w, 0);
}

struct sc_skc_writer *sc_skc_writer_fdopen(int fd, const struct sc_skc_writer_opts *opts, int *err)
{
	struct sc_skc_writer *w = calloc(1, sizeof(*w));
	uint8_t hdr[SC_SKC_FILE_HDR_LEN];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct stat sb;
	int rc = -ENOMEM;

	if (!w)
		goto fail;
	w->fd = fd;
	w->regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
	w->level = opts && opts->zstd_level ? opts->zstd_level : ZSTD_CLEVEL_DEFAULT;
	w->async = opts && opts->async;
	if (w->async) {
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
	}
	w->cctx = ZSTD_createCCtx();
	w->out = malloc(OUT_CAP);
	w->cur = wblock_new();
	if (!w->cctx || !w->out || !w->cur)
		goto fail;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level))) {
		rc = -EINVAL;
		goto fail;
	}
	if (w->async) {
		unsigned q = opts->queue ? opts->queue : 4;

		if (q > 64)
			q = 64;
		w->queue = q;
		w->fast_level = opts->fast_level;
		for (unsigned i = 0; i < q; i++) {
			struct wblock *b = wblock_new();

			if (!b)
				goto fail;
			b->next = w->free_list;
			w->free_list = b;
		}
	}
	skc_file_hdr_put(hdr);
	rc = write_all(fd, &iov, 1);
	if (rc < 0)
		goto fail;
	w->st.file_bytes = sizeof(hdr);
	if (w->async) {
		rc = -pthread_create(&w->thr, NULL, writer_thread, w);
		if (rc < 0)
			goto fail;
		w->thr_started = true;
	}
	return w;
fail:
	if (w) {
		w->fd = -1;
		writer_free(w);
	}
	if (err)
		*err = rc;
	return NULL;
}

struct sc_skc_writer *sc_skc_writer_open(const char *path, const struct sc_skc_writer_opts *opts, int *err)
{
	struct sc_skc_writer *w;
	int fd;

	/* Replace by unlink + O_EXCL rather than O_TRUNC so that the new file is
	 * ours with mode 0600, whatever owned or allowed the old one. */
	if (opts && opts->overwrite && unlink(path) < 0 && errno != ENOENT) {
		if (err)
			*err = -errno;
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (err)
			*err = -errno;
		return NULL;
	}
	(void)fchmod(fd, 0600); /* the umask can only have removed bits; be explicit */
	w = sc_skc_writer_fdopen(fd, opts, err);
	if (!w) {
		close(fd);
		unlink(path);
	}
	return w;
}
