/* record.h - the recorder: eBPF programs on the syscall tracepoints, their
 * ring buffer drained into an .skc file.
 *
 * Linux only (libbpf, libelf).  The library does not print: progress and
 * libbpf's messages go to the `log` callback; errors come back as a negative
 * code with a struct sc_diag.
 */
#ifndef SC_RECORD_H
#define SC_RECORD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "formats/sc_err.h"
#include "formats/sc_types.h"

#define SC_RECORD_MAX_PIDS 8
#define SC_RECORD_MAX_PORTS 8

enum sc_attach_mode {
	SC_ATTACH_AUTO = 0,    /* the cheapest mode measured by bench/record.sh, else tracepoints */
	SC_ATTACH_RAW,         /* tp_btf on raw_syscalls:sys_enter and sys_exit */
	SC_ATTACH_TRACEPOINTS, /* one tracepoint pair per syscall */
	SC_ATTACH_EXIT,        /* tp_btf on raw_syscalls:sys_exit only (+ sys_enter_close) */
};

enum sc_log_level { SC_LOG_INFO, SC_LOG_WARN, SC_LOG_DEBUG };

struct sc_record_opts {
	const char *path;      /* output file; "-" writes to standard output */
	bool overwrite;        /* replace an existing file */
	uint32_t pids[SC_RECORD_MAX_PIDS];
	unsigned npids;        /* 0: every process but sockcap itself */
	uint16_t ports[SC_RECORD_MAX_PORTS];
	unsigned nports;       /* 0: every port */
	const char *comm;      /* only tasks with this name, or NULL */
	uint32_t snaplen;      /* bytes kept per syscall, 0: all */
	uint64_t duration_ns;  /* stop after this long, 0: until *stop */
	uint64_t count_bytes;  /* stop once this many payload bytes are captured, 0: no limit */
	uint64_t ring_bytes;   /* ring buffer size, 0: 16 MiB (rounded up to a power of 2) */
	uint64_t rotate_bytes; /* -C: start a new file past this size, 0: never */
	enum sc_attach_mode attach;
	int zstd_level;        /* 0: default */
	const char *cmdline;   /* recorded in CAPTURE_INFO */
	volatile sig_atomic_t *stop; /* set by the caller's signal handler */
	void (*log)(void *ctx, enum sc_log_level level, const char *msg);
	void *log_ctx;
};

struct sc_record_summary {
	char attach[24];           /* "raw_syscalls" or "tracepoints" */
	uint64_t files;            /* files written (rotation) */
	uint64_t sockets;          /* sockets seen */
	uint64_t processes;
	uint64_t records;
	uint64_t bytes_captured;
	uint64_t bytes_moved;      /* captured + lost: what the syscalls moved */
	uint64_t lost_bytes[SC_LOSS_NREASONS + 1];
	uint64_t lost_events;      /* ring buffer events dropped (all kinds) */
	uint64_t rb_drop_bytes;    /* payload bytes in dropped DATA events (kernel count) */
	uint64_t bad_samples;      /* ring buffer samples that failed validation */
	uint64_t overlaps;         /* bytes delivered twice (should be 0) */
	uint64_t late_losses;      /* LOSS records written after later data of their stream */
	uint64_t holes_settled;    /* holes found and settled late, as ringbuf-full LOSS records */
	uint64_t hole_bytes;       /* their bytes */
	uint64_t pend_losses;      /* LOSS records the kernel wrote from a socket's pending loss */
	uint64_t loss_trimmed;     /* bytes of LOSS events already accounted for (not counted twice) */
	uint64_t syscalls;
	double seconds;
};

/* Record until opts->stop is set, the duration or byte count is reached, or
 * an error.  Returns 0 (the summary says whether anything was lost) or a
 * negative error with `diag` filled ("needs root or CAP_BPF and CAP_PERFMON",
 * "the kernel has no BTF ...", "the BPF verifier rejected ...").  The output
 * file is complete (trailer, fsync) whenever the return is 0. */
int sc_record_run(const struct sc_record_opts *opts, struct sc_record_summary *sum, struct sc_diag *diag);

/* Whether this machine can load the recorder: 0, or the reason in `diag`
 * (not root, no BTF).  Cheap; loads nothing. */
int sc_record_preflight(struct sc_diag *diag);

/* Preflight, then load and attach the programs of `mode` and detach them
 * again: 0 when recording would work here. */
int sc_record_check(enum sc_attach_mode mode, struct sc_diag *diag);

#endif
