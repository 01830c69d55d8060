/* sinkq.h - a sink that runs another sink on its own thread.
 *
 * Decoding a capture and writing its rows to SQLite each take a core's worth
 * of time; with the database behind a queue the two overlap.  The front sink
 * copies what each callback borrows (transactions with their header fields
 * and kept body bytes, anomalies, processes, connections) into chunks; a
 * worker thread hands the copies to the target sink in the order they were
 * made, so the target sees exactly the calls it would have seen directly.
 *
 * conn_begin is the exception: it must return the connection's id at once,
 * so the target's conn_begin runs on the caller's thread.  A target used
 * behind a queue must therefore keep conn_begin independent of what its
 * other callbacks touch (the SQLite sink only numbers connections there).
 *
 * Memory is bounded: at most SC_SINKQ_CHUNKS chunks of SC_SINKQ_CHUNK bytes
 * are in flight (a record larger than a chunk gets a chunk of its own size,
 * which counts as one); the decoder waits when the writer is behind.
 */
#ifndef SC_SINKQ_H
#define SC_SINKQ_H

#include "analyze/model.h"

#define SC_SINKQ_CHUNK (1u << 20)
#define SC_SINKQ_CHUNKS 8

struct sc_sinkq;

/* Start the worker thread for `target` (copied) and fill `front` with the
 * queueing callbacks.  Returns 0, or -errno when the thread or memory could
 * not be had. */
int sc_sinkq_start(struct sc_sinkq **qp, const struct sc_sink *target, struct sc_sink *front);

/* Hand over what is queued, wait for the worker, free the queue.  Returns 0
 * or the first error a target callback returned (later calls were skipped). */
int sc_sinkq_finish(struct sc_sinkq *q);

#endif
