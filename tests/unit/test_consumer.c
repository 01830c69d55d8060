/* test_consumer.c - the recorder's consumer: ring-buffer events into .skc
 * records, every byte in exactly one DATA or LOSS record, LOSS records in
 * stream order (capture_int.h, SKC-FORMAT.md "What the writer guarantees").
 * Events are built by hand as the BPF side writes them; the records are read
 * back from the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_int.h"
#include "formats/skc.h"
#include "sc_test.h"

struct fixture {
	char path[64];
	struct sc_skc_writer *w;
	struct sc_consumer *c;
};

static void fx_open(struct fixture *f)
{
	int err = 0;

	snprintf(f->path, sizeof(f->path), "/tmp/sc-test-consumer.XXXXXX");
	int fd = mkstemp(f->path);

	cr_assert(fd >= 0);
	close(fd);
	f->w = sc_skc_writer_open(f->path, &(struct sc_skc_writer_opts){ .overwrite = true }, &err);
	cr_assert_not_null(f->w, "writer: %d", err);
	f->c = sc_consumer_new(f->w);
	cr_assert_not_null(f->c);
}

static void fx_close(struct fixture *f)
{
	cr_assert_eq(sc_skc_writer_close(f->w, 0, 0), 0);
	sc_consumer_free(f->c);
}

static void ev_open(struct fixture *f, uint64_t sock)
{
	struct sc_ev_open e = { .h = { .type = SC_EV_OPEN, .dir = 255, .pid = 7, .tid = 7, .ts_ns = 1, .sock_id = sock } };

	e.how = SC_BPF_HOW_CONNECT;
	e.family = 4;
	e.sock_type = 1;
	memcpy(e.comm, "t", 2);
	cr_assert_eq(sc_consumer_event(f->c, &e, sizeof(e)), 0);
}

static void ev_data(struct fixture *f, uint64_t sock, unsigned dir, uint64_t off, uint32_t len, uint64_t ts)
{
	struct {
		struct sc_ev_data e;
		uint8_t payload[256];
	} s = { .e = { .h = { .type = SC_EV_DATA, .dir = (uint8_t)dir, .syscall = SC_BPF_SYS_WRITE, .pid = 7, .tid = 7,
			       .len = len, .ts_ns = ts, .sock_id = sock },
		       .offset = off, .orig_len = len } };

	cr_assert(len <= sizeof(s.payload));
	memset(s.payload, 'a', len);
	cr_assert_eq(sc_consumer_event(f->c, &s, sizeof(s.e) + len), 0);
}

static void ev_loss(struct fixture *f, uint64_t sock, unsigned dir, uint64_t off, uint64_t len, uint64_t ts)
{
	struct sc_ev_loss e = { .h = { .type = SC_EV_LOSS, .dir = (uint8_t)dir, .syscall = SC_BPF_SYS_WRITE, .pid = 7,
				       .tid = 7, .ts_ns = ts, .sock_id = sock },
				.offset = off, .len = len, .reason = SC_BPF_LOSS_RINGBUF_FULL };

	cr_assert_eq(sc_consumer_event(f->c, &e, sizeof(e)), 0);
}

/* The file's DATA and LOSS records of one socket, as "D off len" / "L off
 * len ts" lines. */
static char *records(const char *path)
{
	static char out[4096];
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	size_t n = 0;
	int err = 0;

	out[0] = '\0';
	r = sc_skc_reader_open(path, &err, NULL);
	cr_assert_not_null(r);
	while (sc_skc_reader_next(r, &rec) == 1) {
		if (rec.type == SC_SKC_DATA)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "D%u %llu %llu\n", rec.u.data.dir,
					      (unsigned long long)rec.u.data.offset, (unsigned long long)rec.u.data.cap_len);
		else if (rec.type == SC_SKC_LOSS && rec.u.loss.sock_id)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "L%u %llu %llu t%llu\n", rec.u.loss.dir,
					      (unsigned long long)rec.u.loss.offset, (unsigned long long)rec.u.loss.len,
					      (unsigned long long)rec.u.loss.ts_ns);
		cr_assert(n < sizeof(out));
	}
	sc_skc_reader_close(r);
	unlink(path);
	return out;
}

Test(consumer, in_order_loss_is_written_as_is)
{
	struct fixture f;

	fx_open(&f);
	ev_open(&f, 1);
	ev_data(&f, 1, 0, 0, 100, 10);
	ev_loss(&f, 1, 0, 100, 100, 11);
	ev_data(&f, 1, 0, 200, 100, 12);
	cr_assert_eq(sc_consumer_finish(f.c, 0, 99), 0);
	const struct sc_consumer_stats *st = sc_consumer_stats(f.c);

	cr_assert_eq(st->late_losses, 0);
	cr_assert_eq(st->holes_settled, 0);
	cr_assert_eq(st->loss_trimmed, 0);
	fx_close(&f);
	cr_assert_str_eq(records(f.path), "D0 0 100\nL0 100 100 t11\nD0 200 100\n");
}

Test(consumer, loss_is_trimmed_to_bytes_not_accounted_for)
{
	struct fixture f;

	fx_open(&f);
	ev_open(&f, 1);
	ev_data(&f, 1, 1, 0, 100, 10);
	ev_data(&f, 1, 1, 200, 100, 12);
	/* [50, 350): 50 bytes captured before, 100 after the hole, 50 new. */
	ev_loss(&f, 1, 1, 50, 300, 11);
	cr_assert_eq(sc_consumer_finish(f.c, 0, 99), 0);
	const struct sc_consumer_stats *st = sc_consumer_stats(f.c);

	cr_assert_eq(st->loss_trimmed, 150);
	cr_assert_eq(st->late_losses, 1, "the loss of [100, 200) follows data at 200");
	cr_assert_eq(st->holes_settled, 0);
	fx_close(&f);
	cr_assert_str_eq(records(f.path), "D1 0 100\nD1 200 100\nL1 100 100 t11\nL1 300 50 t11\n");
}

Test(consumer, a_loss_seen_twice_is_written_once)
{
	struct fixture f;
	struct sc_sock_state ks = { .sock_id = 1, .off = { 300, 0 } };

	fx_open(&f);
	ev_open(&f, 1);
	ev_data(&f, 1, 0, 0, 100, 10);
	ev_loss(&f, 1, 0, 100, 200, 11);
	/* The kernel's map still says the loss is pending (it stopped between
	 * writing the event and clearing it). */
	ks.pend[0] = (struct sc_pend){ .off = 100, .len = 200, .ts_ns = 11, .pid = 7, .tid = 7 };
	cr_assert_eq(sc_consumer_final(f.c, &ks, 50), 0);
	cr_assert_eq(sc_consumer_finish(f.c, 0, 99), 0);
	cr_assert_eq(sc_consumer_stats(f.c)->loss_trimmed, 200);
	fx_close(&f);
	cr_assert_str_eq(records(f.path), "D0 0 100\nL0 100 200 t11\n");
}

Test(consumer, a_loss_pending_at_stop_keeps_its_time)
{
	struct fixture f;
	struct sc_sock_state ks = { .sock_id = 1, .off = { 100, 700 } };

	fx_open(&f);
	ev_open(&f, 1);
	ev_data(&f, 1, 1, 0, 200, 10);
	ks.pend[1] = (struct sc_pend){ .off = 200, .len = 500, .ts_ns = 42, .pid = 7, .tid = 7 };
	cr_assert_eq(sc_consumer_final(f.c, &ks, 50), 0);
	cr_assert_eq(sc_consumer_finish(f.c, 0, 99), 0);
	const struct sc_consumer_stats *st = sc_consumer_stats(f.c);

	cr_assert_eq(st->pend_at_stop, 1);
	cr_assert_eq(st->late_losses, 0);
	/* Direction 0 moved 100 bytes nobody reported: a hole, settled at stop. */
	cr_assert_eq(st->holes_settled, 1);
	cr_assert_eq(st->hole_bytes, 100);
	fx_close(&f);
	cr_assert_str_eq(records(f.path), "D1 0 200\nL1 200 500 t42\nL0 0 100 t99\n");
}

Test(consumer, a_hole_behind_later_data_is_settled_late_and_counted)
{
	struct fixture f;

	fx_open(&f);
	ev_open(&f, 1);
	ev_data(&f, 1, 0, 0, 100, 10);
	ev_data(&f, 1, 0, 150, 50, 20);
	cr_assert_eq(sc_consumer_tick(f.c, 20 + SC_HOLE_GRACE_NS / 2), 0);
	cr_assert_eq(sc_consumer_stats(f.c)->holes_settled, 0, "not before the grace period");
	cr_assert_eq(sc_consumer_tick(f.c, 21 + SC_HOLE_GRACE_NS), 0);
	const struct sc_consumer_stats *st = sc_consumer_stats(f.c);

	cr_assert_eq(st->holes_settled, 1);
	cr_assert_eq(st->hole_bytes, 50);
	cr_assert_eq(st->late_losses, 1);
	/* The LOSS that explains the hole arrives after all: nothing more. */
	ev_loss(&f, 1, 0, 100, 50, 15);
	cr_assert_eq(sc_consumer_stats(f.c)->loss_trimmed, 50);
	cr_assert_eq(sc_consumer_finish(f.c, 0, 99), 0);
	fx_close(&f);
	char want[128];

	snprintf(want, sizeof(want), "D0 0 100\nD0 150 50\nL0 100 50 t%llu\n",
		 (unsigned long long)(21 + SC_HOLE_GRACE_NS));
	cr_assert_str_eq(records(f.path), want);
}

Test(consumer, data_after_its_hole_was_settled_is_not_written_twice)
{
	struct fixture f;

	fx_open(&f);
	ev_open(&f, 1);
	ev_data(&f, 1, 0, 0, 100, 10);
	ev_data(&f, 1, 0, 200, 100, 20);
	cr_assert_eq(sc_consumer_tick(f.c, 21 + SC_HOLE_GRACE_NS), 0);
	/* Bytes of the settled hole and of captured data: none is new. */
	ev_data(&f, 1, 0, 150, 100, 15);
	/* Half new. */
	ev_data(&f, 1, 0, 250, 100, 30);
	cr_assert_eq(sc_consumer_finish(f.c, 0, 99), 0);
	cr_assert_eq(sc_consumer_stats(f.c)->overlaps, 150);
	fx_close(&f);
	char want[128];

	snprintf(want, sizeof(want), "D0 0 100\nD0 200 100\nL0 100 100 t%llu\nD0 300 50\n",
		 (unsigned long long)(21 + SC_HOLE_GRACE_NS));
	cr_assert_str_eq(records(f.path), want);
}
