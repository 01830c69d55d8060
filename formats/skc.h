/* skc.h - reading and writing .skc capture files (formats/SKC-FORMAT.md).
 *
 * The library never prints and never exits.  Errors are returned as negative
 * SC_E* / -errno values (sc_err.h); damage found while reading is reported as a
 * list of sc_skc_damage items, and reading goes on after it.
 */
#ifndef SKC_H
#define SKC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sc_err.h"
#include "sc_rd.h"
#include "sc_types.h"

#define SC_SKC_VERSION_MAJOR 1
#define SC_SKC_VERSION_MINOR 0
#define SC_SKC_BLOCK_MAX (1u << 20)   /* largest uncompressed block, reader and writer */
#define SC_SKC_DATA_CHUNK 65536u      /* the writer splits DATA payloads into chunks of this */
#define SC_SKC_FILE_HDR_LEN 32u
#define SC_SKC_BLOCK_HDR_LEN 32u
#define SC_SKC_REC_HDR_LEN 8u
#define SC_SKC_DATA_FIXED 44u         /* DATA body bytes before the payload */

enum sc_skc_type {
	SC_SKC_CAPTURE_INFO = 1,
	SC_SKC_PROCESS = 2,
	SC_SKC_SOCK_OPEN = 3,
	SC_SKC_DATA = 4,
	SC_SKC_SOCK_CLOSE = 5,
	SC_SKC_LOSS = 6,
	SC_SKC_TRAILER = 7,
	SC_SKC_TYPE_MAX = 7,
};

/* Record bodies.  Views (struct sc_view, payload) point into the reader's
 * current block and are valid until the next sc_skc_reader_next() call; when
 * writing, they are borrowed for the duration of sc_skc_write(). */
struct sc_skc_capture_info {
	uint64_t start_real_ns; /* CLOCK_REALTIME at start */
	uint64_t start_mono_ns; /* CLOCK_MONOTONIC at the same instant */
	uint32_t snaplen;       /* 0: unlimited */
	uint32_t flags;
	struct sc_view hostname, kernel, tool, options;
};

struct sc_skc_process {
	uint64_t ts_ns;
	uint32_t pid, tid, ppid;
	struct sc_view comm;
};

struct sc_skc_sock_open {
	uint64_t sock_id, ts_ns, inode;
	uint32_t pid, tid;
	int32_t fd;
	uint8_t how;       /* enum sc_sock_how */
	uint8_t family;    /* enum sc_family */
	uint8_t sock_type; /* enum sc_sock_type */
	uint8_t flags;     /* SC_SOCK_F_* */
	struct sc_endpoint local, remote;
	uint64_t base_sent, base_recv; /* stream offsets where this file starts (rotation) */
	struct sc_view unix_path;
};

struct sc_skc_data {
	uint64_t sock_id, ts_ns, offset;
	uint32_t pid, tid;
	uint32_t orig_len; /* bytes the syscall moved */
	uint32_t cap_len;  /* bytes at `payload` */
	uint8_t dir;       /* enum sc_dir */
	uint8_t syscall;   /* enum sc_syscall */
	const uint8_t *payload;
};

struct sc_skc_sock_close {
	uint64_t sock_id, ts_ns, sent_bytes, recv_bytes;
	uint32_t pid, tid;
};

struct sc_skc_loss {
	uint64_t sock_id, ts_ns, offset, len;
	uint32_t pid, events;
	uint8_t dir, reason, syscall;
};

struct sc_skc_trailer {
	uint64_t end_real_ns, end_mono_ns;
	uint64_t records, blocks, data_records, bytes_captured;
	uint32_t nreasons; /* entries present in the file (at most 255) */
	/* Index r holds reason r (1..SC_LOSS_NREASONS); index 0 is unused.
	 * Reasons beyond what this build knows are summed into SC_LOSS_OTHER. */
	uint64_t lost_bytes[SC_LOSS_NREASONS + 1];
	uint64_t lost_events[SC_LOSS_NREASONS + 1];
};

struct sc_skc_rec {
	uint16_t type;   /* enum sc_skc_type */
	uint8_t version; /* layout version read from the file (write: ignored) */
	union {
		struct sc_skc_capture_info info;
		struct sc_skc_process proc;
		struct sc_skc_sock_open open;
		struct sc_skc_data data;
		struct sc_skc_sock_close close;
		struct sc_skc_loss loss;
		struct sc_skc_trailer trailer;
	} u;
};

/* Totals counted by a writer (what it wrote) or a reader (what it delivered). */
struct sc_skc_stats {
	uint64_t records;                        /* every record, trailer included */
	uint64_t by_type[SC_SKC_TYPE_MAX + 1];
	uint64_t unknown_records;                /* reader: skipped, type unknown */
	uint64_t malformed_records;              /* reader: skipped, body too short */
	uint64_t bytes_captured;                 /* sum of DATA cap_len */
	uint64_t lost_bytes[SC_LOSS_NREASONS + 1];  /* sum of LOSS len by reason */
	uint64_t lost_events[SC_LOSS_NREASONS + 1]; /* sum of LOSS events by reason */
	uint64_t blocks;                         /* good blocks */
	uint64_t file_bytes;                     /* bytes written / read so far */
	uint64_t raw_bytes;                      /* uncompressed record bytes */
	/* reader only */
	uint64_t damaged_blocks;                 /* damage items */
	uint64_t damaged_bytes;                  /* file bytes skipped */
	uint64_t damaged_records;                /* records declared by skipped blocks */
	uint64_t damaged_unknown;                /* skipped regions whose record count is unknown */
	bool has_trailer;
	bool unfinished;                         /* ended cleanly but without a trailer */
};

/* ---- writer ------------------------------------------------------------ */

struct sc_skc_writer_opts {
	int zstd_level;    /* 0: zstd's default (3) */
	bool overwrite;    /* replace an existing file instead of failing with -EEXIST */
	bool async;        /* compress and write on a background thread */
	unsigned queue;    /* async: sealed blocks that may wait (default 4) */
	/* async: when at least half the queue is waiting, compress with this
	 * (faster, negative) level instead, so that compression falls behind
	 * less; 0 disables.  The file stays valid either way. */
	int fast_level;
};

struct sc_skc_writer;

/* Create `path` (mode 0600, O_EXCL unless opts->overwrite) and write the file
 * header.  `opts` may be NULL.  Returns NULL and sets *err on failure. */
struct sc_skc_writer *sc_skc_writer_open(const char *path, const struct sc_skc_writer_opts *opts, int *err);

/* Write to an open descriptor (e.g. 1 for `-w -`).  Takes ownership of `fd` on
 * success only. */
struct sc_skc_writer *sc_skc_writer_fdopen(int fd, const struct sc_skc_writer_opts *opts, int *err);

/* Append one record.  A DATA record with more than SC_SKC_DATA_CHUNK payload
 * bytes is written as several records with consecutive offsets.  The TRAILER
 * type is refused (sc_skc_writer_close writes it).  Errors from a background
 * write are sticky and returned here.  The record is copied. */
int sc_skc_write(struct sc_skc_writer *w, const struct sc_skc_rec *rec);

/* Seal the current block and write it out; with `async`, wait until every
 * sealed block is on disk.  Does not fsync. */
int sc_skc_writer_flush(struct sc_skc_writer *w);

/* Totals written so far (records, bytes, losses, file bytes). */
const struct sc_skc_stats *sc_skc_writer_stats(const struct sc_skc_writer *w);

/* Write the trailer with the totals counted so far and the given end times,
 * flush, fsync and close.  Always frees `w`; returns the first error met. */
int sc_skc_writer_close(struct sc_skc_writer *w, uint64_t end_real_ns, uint64_t end_mono_ns);

/* Flush and close without a trailer, leaving an unfinished file (tests, and the
 * recorder's rotation never needs it).  Always frees `w`. */
int sc_skc_writer_abandon(struct sc_skc_writer *w);

/* ---- reader ------------------------------------------------------------ */

struct sc_skc_damage {
	uint64_t offset;  /* file offset where the unusable bytes start */
	uint64_t bytes;   /* file bytes skipped */
	int64_t records;  /* records lost, -1 if unknown */
	int err;          /* SC_ECHECKSUM, SC_ETRUNC, SC_ECORRUPT, ... */
	char msg[224];    /* "block at offset 1048608: checksum mismatch, skipped 31 records (52311 bytes)" */
};

struct sc_skc_reader;

/* Open `path` ("-" reads standard input).  Fails (NULL, *err, and `diag` if
 * given) when the file cannot be opened or its first bytes are not an .skc
 * header; damage found later is reported through sc_skc_reader_damage(). */
struct sc_skc_reader *sc_skc_reader_open(const char *path, int *err, struct sc_diag *diag);

/* Read from `f`, positioned at the file header.  With `own`, fclose(f) at close. */
struct sc_skc_reader *sc_skc_reader_fopen(FILE *f, bool own, int *err, struct sc_diag *diag);

/* Read from memory (fuzzing, tests).  `buf` is borrowed until close. */
struct sc_skc_reader *sc_skc_reader_open_mem(const void *buf, size_t len, int *err, struct sc_diag *diag);

/* The next record: returns 1 and fills *rec, 0 at the end of the file, or a
 * negative error that stops reading (I/O error, out of memory).  Damaged
 * blocks are skipped and recorded, unknown record types are skipped and
 * counted.  Views in *rec are valid until the next call. */
int sc_skc_reader_next(struct sc_skc_reader *r, struct sc_skc_rec *rec);

/* Format version read from the header. */
void sc_skc_reader_version(const struct sc_skc_reader *r, unsigned *major, unsigned *minor);

const struct sc_skc_stats *sc_skc_reader_stats(const struct sc_skc_reader *r);

/* Damage items in file order.  At most SC_SKC_DAMAGE_KEEP are kept; the
 * stats' damaged_blocks counts them all. */
#define SC_SKC_DAMAGE_KEEP 1024
size_t sc_skc_reader_ndamage(const struct sc_skc_reader *r);
const struct sc_skc_damage *sc_skc_reader_damage(const struct sc_skc_reader *r, size_t i);

/* Compare what was read with the trailer (when there is one): writes a message
 * into `diag` and returns SC_ECORRUPT when the trailer's totals differ from
 * what was delivered, 0 otherwise.  Call after sc_skc_reader_next returned 0. */
int sc_skc_reader_check_trailer(const struct sc_skc_reader *r, struct sc_diag *diag);

void sc_skc_reader_close(struct sc_skc_reader *r);

/* ---- record encoding (exposed for tests and fuzzing) ------------------- */

/* Decode one record body of `type`/`version` into *rec.  Returns 0, SC_ETRUNC
 * when the body is shorter than its version requires (a malformed record), or
 * SC_EUNSUPP for an unknown type. */
int sc_skc_decode(uint16_t type, uint8_t version, const uint8_t *body, size_t len, struct sc_skc_rec *rec);

/* Encoded size of `rec` (header included), or a negative error when it cannot
 * be encoded (string over 65535 bytes, unknown type). */
long sc_skc_encoded_len(const struct sc_skc_rec *rec);

/* Detect a capture file from its first bytes. */
enum sc_file_kind {
	SC_FILE_UNKNOWN = 0,
	SC_FILE_SKC,
	SC_FILE_PCAP,
	SC_FILE_PCAPNG,
};
enum sc_file_kind sc_file_detect(const uint8_t *head, size_t len);
/* The kind of the file at `path` ("-": standard input, of which one byte is
 * read and pushed back), or -errno when it cannot be read. */
int sc_file_detect_path(const char *path);
const char *sc_file_kind_name(enum sc_file_kind k);

#endif
