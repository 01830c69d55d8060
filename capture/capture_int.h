/* capture_int.h - internals of the recorder shared by its files and tests. */
#ifndef SC_CAPTURE_INT_H
#define SC_CAPTURE_INT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/sockcap.h"
#include "formats/skc.h"

/* The consumer turns ring-buffer samples into .skc records.  It keeps, per
 * socket direction, which stream bytes it has seen (captured or reported
 * lost).  The kernel side writes a LOSS before any later event of its stream
 * (bpf/sockcap.h, struct sc_pend), so records arrive in stream order; what
 * slips through (threads racing on one socket, a loss the kernel could not
 * keep) shows as a hole, and a hole that stays open for SC_HOLE_GRACE_NS, or
 * is still open when the socket closes or recording stops, becomes a LOSS
 * record with reason ringbuf-full ("settled late").  A LOSS is trimmed to the
 * bytes not accounted for yet.  Every byte the syscalls moved therefore ends
 * up in exactly one DATA or LOSS record. */
#define SC_HOLE_GRACE_NS 1000000000ull
#define SC_MAX_EXTRA 256 /* out-of-order intervals kept per direction */

struct sc_consumer;

struct sc_consumer_stats {
	uint64_t sockets, processes;
	uint64_t bad_samples;
	uint64_t overlaps;
	uint64_t hole_bytes;    /* bytes of holes settled late as ringbuf-full */
	uint64_t holes_settled; /* LOSS records written for them */
	uint64_t late_losses;   /* LOSS records written after later DATA of their stream */
	uint64_t loss_trimmed;  /* bytes of LOSS events already accounted for */
	uint64_t pend_at_stop;  /* losses still pending in the kernel at stop */
};

/* `w` is borrowed; sc_consumer_set_writer() replaces it on rotation. */
struct sc_consumer *sc_consumer_new(struct sc_skc_writer *w);
void sc_consumer_free(struct sc_consumer *c);

/* One ring-buffer sample (untrusted size checked against the ABI).  Returns 0
 * or a writer error. */
int sc_consumer_event(struct sc_consumer *c, const void *data, size_t size);

/* Report holes older than the grace period.  `now_ns` is CLOCK_MONOTONIC. */
int sc_consumer_tick(struct sc_consumer *c, uint64_t now_ns);

/* At stop: the kernel's final state of a socket (from the `socks` map),
 * with its pending losses, which are written at once. */
int sc_consumer_final(struct sc_consumer *c, const struct sc_sock_state *st, uint64_t now_ns);

/* At stop, after every sc_consumer_final(): close out every socket, report
 * every remaining hole, and `dropped_events` events the ring buffer lost. */
int sc_consumer_finish(struct sc_consumer *c, uint64_t dropped_events, uint64_t now_ns);

/* Rotation: report every hole of the current file into it, then switch to
 * `w` and write the PROCESS and SOCK_OPEN records that make it stand alone. */
int sc_consumer_rotate(struct sc_consumer *c, struct sc_skc_writer *w, uint64_t now_ns);

const struct sc_consumer_stats *sc_consumer_stats(const struct sc_consumer *c);

#endif
