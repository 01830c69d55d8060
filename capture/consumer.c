/* consumer.c - ring-buffer samples into .skc records, with every stream byte
 * accounted for (capture_int.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_int.h"
#include "formats/sc_u64map.h"

/* The BPF side writes formats/ values into events; keep the two in step. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(SC_BPF_SYS_READ, SC_SYS_READ) && SAME(SC_BPF_SYS_WRITE, SC_SYS_WRITE) &&
		       SAME(SC_BPF_SYS_READV, SC_SYS_READV) && SAME(SC_BPF_SYS_WRITEV, SC_SYS_WRITEV) &&
		       SAME(SC_BPF_SYS_SENDTO, SC_SYS_SENDTO) && SAME(SC_BPF_SYS_RECVFROM, SC_SYS_RECVFROM) &&
		       SAME(SC_BPF_SYS_SENDMSG, SC_SYS_SENDMSG) && SAME(SC_BPF_SYS_RECVMSG, SC_SYS_RECVMSG) &&
		       SAME(SC_BPF_SYS_SENDFILE, SC_SYS_SENDFILE) && SAME(SC_BPF_SYS_CONNECT, SC_SYS_CONNECT) &&
		       SAME(SC_BPF_SYS_ACCEPT, SC_SYS_ACCEPT) && SAME(SC_BPF_SYS_SPLICE, SC_SYS_SPLICE) &&
		       SAME(SC_BPF_SYS_SENDMMSG, SC_SYS_SENDMMSG) && SAME(SC_BPF_SYS_RECVMMSG, SC_SYS_RECVMMSG),
	       "bpf/sockcap.h syscall codes must equal formats/sc_types.h");
_Static_assert(SAME(SC_BPF_LOSS_SNAPLEN, SC_LOSS_SNAPLEN) && SAME(SC_BPF_LOSS_NOT_USER_MEMORY, SC_LOSS_NOT_USER_MEMORY) &&
		       SAME(SC_BPF_LOSS_UNSUPPORTED, SC_LOSS_UNSUPPORTED) && SAME(SC_BPF_LOSS_READ_FAULT, SC_LOSS_READ_FAULT) &&
		       SAME(SC_BPF_LOSS_OTHER, SC_LOSS_OTHER),
	       "bpf/sockcap.h loss reasons must equal formats/sc_types.h");
_Static_assert(SAME(SC_BPF_HOW_CONNECT, SC_HOW_CONNECT) && SAME(SC_BPF_HOW_ACCEPT, SC_HOW_ACCEPT) &&
		       SAME(SC_BPF_HOW_EXISTING, SC_HOW_EXISTING),
	       "bpf/sockcap.h socket origins must equal formats/sc_types.h");
/* The ABI layouts the consumer reads (bpf/sockcap.h). */
_Static_assert(sizeof(struct sc_ev_hdr) == 32, "sc_ev_hdr");
_Static_assert(sizeof(struct sc_ev_data) == 48, "sc_ev_data");
_Static_assert(sizeof(struct sc_ev_loss) == 56, "sc_ev_loss");
_Static_assert(sizeof(struct sc_ev_close) == 48, "sc_ev_close");
_Static_assert(sizeof(struct sc_ev_proc) == 56, "sc_ev_proc");
_Static_assert(offsetof(struct sc_ev_open, comm) == 112 && sizeof(struct sc_ev_open) == 240, "sc_ev_open");
_Static_assert(sizeof(struct sc_pend) == 40, "sc_pend");
_Static_assert(offsetof(struct sc_sock_state, pend) == 64 && sizeof(struct sc_sock_state) == 144, "sc_sock_state");

struct ivl {
	uint64_t start, end;
	uint64_t seen_ns; /* when the hole below it was first noticed */
};

struct cdir {
	uint64_t next;   /* every byte below is accounted for */
	uint64_t maxend; /* highest offset known to have moved */
	struct ivl *extra; /* sorted, disjoint intervals above next */
	size_t n;
	bool have_data;
	uint64_t data_max_off; /* highest offset of a DATA record written */
};

struct csock {
	uint64_t id;
	uint32_t pid;
	bool have_open;   /* an OPEN event (or placeholder) was written */
	bool closed;      /* kernel says closed, CLOSE event dropped */
	struct sc_skc_sock_open open;
	char path[SC_UNIX_PATH_LEN + 1];
	struct cdir d[2];
};

struct cproc {
	uint32_t pid, ppid;
	char comm[SC_COMM_LEN + 1];
};

struct sc_consumer {
	struct sc_skc_writer *w;
	struct sc_u64map socks; /* sock_id -> csock */
	struct sc_u64map procs; /* pid -> cproc */
	struct sc_consumer_stats st;
	uint64_t last_ts;
};

struct sc_consumer *sc_consumer_new(struct sc_skc_writer *w)
{
	struct sc_consumer *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->w = w;
	sc_u64map_init(&c->socks);
	sc_u64map_init(&c->procs);
	return c;
}

static void csock_free(struct csock *s)
{
	if (s) {
		free(s->d[0].extra);
		free(s->d[1].extra);
		free(s);
	}
}

void sc_consumer_free(struct sc_consumer *c)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	if (!c)
		return;
	while (sc_u64map_next(&c->socks, &pos, &k, &v))
		csock_free(v);
	pos = 0;
	while (sc_u64map_next(&c->procs, &pos, &k, &v))
		free(v);
	sc_u64map_fini(&c->socks);
	sc_u64map_fini(&c->procs);
	free(c);
}

const struct sc_consumer_stats *sc_consumer_stats(const struct sc_consumer *c)
{
	return &c->st;
}

static size_t cstrnlen(const char *s, size_t max)
{
	const char *z = memchr(s, '\0', max);

	return z ? (size_t)(z - s) : max;
}

static int write_proc(struct sc_consumer *c, const struct cproc *p, uint64_t ts)
{
	struct sc_skc_rec r = { .type = SC_SKC_PROCESS };

	r.u.proc.ts_ns = ts;
	r.u.proc.pid = p->pid;
	r.u.proc.tid = p->pid;
	r.u.proc.ppid = p->ppid;
	r.u.proc.comm.p = (const uint8_t *)p->comm;
	r.u.proc.comm.len = strlen(p->comm);
	return sc_skc_write(c->w, &r);
}

/* Remember a process; write a PROCESS record when it is new or renamed. */
static int see_proc(struct sc_consumer *c, uint32_t pid, uint32_t ppid, const char *comm, uint64_t ts)
{
	struct cproc *p = sc_u64map_get(&c->procs, pid);
	size_t n = cstrnlen(comm, SC_COMM_LEN);

	if (p && strlen(p->comm) == n && memcmp(p->comm, comm, n) == 0)
		return 0;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p || sc_u64map_put(&c->procs, pid, p) < 0) {
			free(p);
			return -ENOMEM;
		}
		c->st.processes++;
	}
	p->pid = pid;
	p->ppid = ppid;
	memcpy(p->comm, comm, n);
	p->comm[n] = '\0';
	return write_proc(c, p, ts);
}

static struct csock *sock_get(struct sc_consumer *c, uint64_t id)
{
	struct csock *s = sc_u64map_get(&c->socks, id);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	if (sc_u64map_put(&c->socks, id, s) < 0) {
		free(s);
		return NULL;
	}
	c->st.sockets++;
	return s;
}

/* Every LOSS record of a socket direction goes through here: it counts the
 * ones that follow later data of their stream, which the writer's ordering
 * guarantee (SKC-FORMAT.md) allows only for what slipped through. */
static int put_loss(struct sc_consumer *c, const struct csock *s, unsigned dir, uint64_t off, uint64_t len,
		    unsigned reason, unsigned syscall, uint32_t pid, uint64_t ts)
{
	struct sc_skc_rec r = { .type = SC_SKC_LOSS };
	const struct cdir *d = &s->d[dir];

	if (d->have_data && d->data_max_off > off)
		c->st.late_losses++;
	r.u.loss.sock_id = s->id;
	r.u.loss.ts_ns = ts;
	r.u.loss.offset = off;
	r.u.loss.len = len;
	r.u.loss.pid = pid;
	r.u.loss.dir = (uint8_t)dir;
	r.u.loss.reason = (uint8_t)reason;
	r.u.loss.syscall = (uint8_t)syscall;
	return sc_skc_write(c->w, &r);
}

/* Report every hole below `upto` in one direction as ringbuf-full: the
 * fallback for lost bytes whose LOSS the kernel side could not keep. */
static int settle(struct sc_consumer *c, struct csock *s, unsigned dir, uint64_t upto, uint64_t ts)
{
	struct cdir *d = &s->d[dir];
	int rc;

	while (d->next < upto) {
		uint64_t end = upto;

		if (d->n > 0 && d->extra[0].start < upto)
			end = d->extra[0].start;
		if (end > d->next) {
			rc = put_loss(c, s, dir, d->next, end - d->next, SC_LOSS_RINGBUF_FULL, 0, s->pid, ts);
			if (rc < 0)
				return rc;
			c->st.hole_bytes += end - d->next;
			c->st.holes_settled++;
		}
		d->next = end;
		if (d->n > 0 && d->extra[0].start <= d->next) {
			if (d->extra[0].end > d->next)
				d->next = d->extra[0].end;
			memmove(d->extra, d->extra + 1, (d->n - 1) * sizeof(*d->extra));
			d->n--;
		}
	}
	return 0;
}

/* Mark stream bytes [off, off + len) as accounted for. */
static int cover(struct sc_consumer *c, struct csock *s, unsigned dir, uint64_t off, uint64_t len, uint64_t now)
{
	struct cdir *d = &s->d[dir];
	uint64_t end = off + len;

	if (len == 0)
		return 0;
	if (end > d->maxend)
		d->maxend = end;
	if (off <= d->next) {
		if (end <= d->next) {
			c->st.overlaps += len;
			return 0;
		}
		c->st.overlaps += d->next - off;
		d->next = end;
		while (d->n > 0 && d->extra[0].start <= d->next) {
			if (d->extra[0].end > d->next)
				d->next = d->extra[0].end;
			memmove(d->extra, d->extra + 1, (d->n - 1) * sizeof(*d->extra));
			d->n--;
		}
		return 0;
	}
	/* Beyond a hole: keep the interval until the hole fills or ages. */
	size_t i = 0;

	while (i < d->n && d->extra[i].end < off)
		i++;
	if (i < d->n && d->extra[i].start <= end) {
		/* Touches or overlaps extra[i]: merge (and with its successors). */
		struct ivl *x = &d->extra[i];

		if (off < x->start)
			x->start = off;
		if (end > x->end)
			x->end = end;
		while (i + 1 < d->n && d->extra[i + 1].start <= x->end) {
			if (d->extra[i + 1].end > x->end)
				x->end = d->extra[i + 1].end;
			memmove(&d->extra[i + 1], &d->extra[i + 2], (d->n - i - 2) * sizeof(*d->extra));
			d->n--;
		}
		return 0;
	}
	if (d->n == SC_MAX_EXTRA) {
		/* Too many holes at once: the lowest one is surely lost. */
		int rc = settle(c, s, dir, d->extra[0].start, now);

		if (rc < 0)
			return rc;
		return cover(c, s, dir, off, len, now);
	}
	if (!d->extra) {
		d->extra = calloc(SC_MAX_EXTRA, sizeof(*d->extra));
		if (!d->extra)
			return -ENOMEM;
	}
	memmove(&d->extra[i + 1], &d->extra[i], (d->n - i) * sizeof(*d->extra));
	d->extra[i] = (struct ivl){ off, end, now };
	d->n++;
	return 0;
}

/* The first run of bytes in [from, end) that is not accounted for yet:
 * false when there is none. */
static bool first_hole(const struct cdir *d, uint64_t from, uint64_t end, uint64_t *hs, uint64_t *he)
{
	uint64_t cur = from > d->next ? from : d->next;

	for (size_t i = 0; i < d->n && cur < end; i++) {
		if (d->extra[i].end <= cur)
			continue;
		if (d->extra[i].start > cur) {
			*hs = cur;
			*he = d->extra[i].start < end ? d->extra[i].start : end;
			return true;
		}
		cur = d->extra[i].end;
	}
	if (cur >= end)
		return false;
	*hs = cur;
	*he = end;
	return true;
}

/* Write a loss of [off, off + len), trimmed to the bytes not accounted for
 * yet, so that no byte is counted twice: a pending loss read from the kernel
 * at stop may have reached the ring buffer too, and a hole settled late may
 * meet the LOSS that explains it.  One record per run of unaccounted bytes. */
static int loss_trimmed(struct sc_consumer *c, struct csock *s, unsigned dir, uint64_t off, uint64_t len,
			unsigned reason, unsigned syscall, uint32_t pid, uint64_t ts)
{
	struct cdir *d = &s->d[dir];
	uint64_t end = off + len < off ? UINT64_MAX : off + len;
	uint64_t hs, he, written = 0;
	int rc;

	for (uint64_t from = off; from < end && first_hole(d, from, end, &hs, &he); from = he) {
		rc = put_loss(c, s, dir, hs, he - hs, reason, syscall, pid, ts);
		if (rc == 0)
			rc = cover(c, s, dir, hs, he - hs, ts);
		if (rc < 0)
			return rc;
		written += he - hs;
	}
	c->st.loss_trimmed += (end - off) - written;
	if (end > d->maxend)
		d->maxend = end;
	return 0;
}

static int write_open(struct sc_consumer *c, struct csock *s)
{
	struct sc_skc_rec r = { .type = SC_SKC_SOCK_OPEN };

	r.u.open = s->open;
	r.u.open.unix_path.p = (const uint8_t *)s->path;
	r.u.open.unix_path.len = strlen(s->path);
	s->have_open = true;
	return sc_skc_write(c->w, &r);
}

/* A socket whose OPEN event was lost: write what is known so that the file
 * never has data for a socket it does not declare. */
static int ensure_open(struct sc_consumer *c, struct csock *s, uint64_t ts)
{
	if (s->have_open)
		return 0;
	memset(&s->open, 0, sizeof(s->open));
	s->open.sock_id = s->id;
	s->open.ts_ns = ts;
	s->open.pid = s->open.tid = s->pid;
	s->open.fd = -1;
	s->open.how = SC_HOW_EXISTING;
	s->open.flags = SC_SOCK_F_MIDSTREAM;
	s->path[0] = '\0';
	return write_open(c, s);
}

static int close_sock(struct sc_consumer *c, struct csock *s, uint64_t sent, uint64_t recv, uint64_t ts,
		      uint32_t pid, uint32_t tid)
{
	struct sc_skc_rec r = { .type = SC_SKC_SOCK_CLOSE };
	int rc = ensure_open(c, s, ts);

	if (!rc)
		rc = settle(c, s, 0, sent, ts);
	if (!rc)
		rc = settle(c, s, 1, recv, ts);
	if (rc < 0)
		return rc;
	r.u.close.sock_id = s->id;
	r.u.close.ts_ns = ts;
	r.u.close.sent_bytes = sent > s->d[0].maxend ? sent : s->d[0].maxend;
	r.u.close.recv_bytes = recv > s->d[1].maxend ? recv : s->d[1].maxend;
	r.u.close.pid = pid;
	r.u.close.tid = tid;
	rc = sc_skc_write(c->w, &r);
	sc_u64map_del(&c->socks, s->id);
	csock_free(s);
	return rc;
}

static int on_open(struct sc_consumer *c, const struct sc_ev_open *e)
{
	struct csock *s;
	int rc;

	if (e->h.flags & SC_OPEN_F_REPLACED) {
		struct csock *old = sc_u64map_get(&c->socks, e->replaced_id);

		if (old) {
			rc = close_sock(c, old, e->replaced_off[0], e->replaced_off[1], e->h.ts_ns, 0, 0);
			if (rc < 0)
				return rc;
		}
	}
	rc = see_proc(c, e->h.pid, e->ppid, e->comm, e->h.ts_ns);
	if (rc < 0)
		return rc;
	s = sock_get(c, e->h.sock_id);
	if (!s)
		return -ENOMEM;
	if (s->have_open)
		return 0; /* a duplicate (two threads met a new socket at once) */
	memset(&s->open, 0, sizeof(s->open));
	s->pid = e->h.pid;
	s->open.sock_id = e->h.sock_id;
	s->open.ts_ns = e->h.ts_ns;
	s->open.inode = e->inode;
	s->open.pid = e->h.pid;
	s->open.tid = e->h.tid;
	s->open.fd = e->fd;
	s->open.how = e->how;
	s->open.family = e->family;
	s->open.sock_type = e->sock_type;
	s->open.flags = (e->h.flags & SC_OPEN_F_MIDSTREAM) ? SC_SOCK_F_MIDSTREAM : 0;
	s->open.local.port = e->lport;
	s->open.remote.port = e->rport;
	memcpy(s->open.local.addr, e->laddr, 16);
	memcpy(s->open.remote.addr, e->raddr, 16);
	if (e->family == SC_AF_UNIX) {
		size_t n;

		/* An abstract address starts with a NUL; show it as '@', as ss does. */
		if (e->unix_path[0] == '\0' && e->unix_path[1] != '\0') {
			s->path[0] = '@';
			n = cstrnlen(e->unix_path + 1, SC_UNIX_PATH_LEN - 1);
			memcpy(s->path + 1, e->unix_path + 1, n);
			s->path[n + 1] = '\0';
		} else {
			n = cstrnlen(e->unix_path, SC_UNIX_PATH_LEN);
			memcpy(s->path, e->unix_path, n);
			s->path[n] = '\0';
		}
	}
	return write_open(c, s);
}

static int on_data(struct sc_consumer *c, const struct sc_ev_data *e, size_t size)
{
	struct sc_skc_rec r = { .type = SC_SKC_DATA };
	struct csock *s;
	struct cdir *d;
	unsigned dir = e->h.dir ? 1 : 0;
	uint64_t end, hs, he, written = 0;
	int rc;

	if (e->h.len == 0 || e->h.len > SC_CHUNK_MAX || sizeof(*e) + e->h.len > size ||
	    e->offset + e->h.len < e->offset) {
		c->st.bad_samples++;
		return 0;
	}
	s = sock_get(c, e->h.sock_id);
	if (!s)
		return -ENOMEM;
	if (!s->pid)
		s->pid = e->h.pid;
	d = &s->d[dir];
	r.u.data.sock_id = e->h.sock_id;
	r.u.data.ts_ns = e->h.ts_ns;
	r.u.data.pid = e->h.pid;
	r.u.data.tid = e->h.tid;
	r.u.data.orig_len = e->orig_len;
	r.u.data.dir = (uint8_t)dir;
	r.u.data.syscall = e->h.syscall;
	/* Only the bytes not accounted for yet (all of them, unless a hole was
	 * settled before its data arrived): a byte is never in two records. */
	end = e->offset + e->h.len;
	for (uint64_t from = e->offset; from < end && first_hole(d, from, end, &hs, &he); from = he) {
		r.u.data.offset = hs;
		r.u.data.cap_len = (uint32_t)(he - hs);
		r.u.data.payload = (const uint8_t *)(e + 1) + (hs - e->offset);
		rc = sc_skc_write(c->w, &r);
		if (rc < 0)
			return rc;
		if (!d->have_data || hs > d->data_max_off)
			d->data_max_off = hs;
		d->have_data = true;
		rc = cover(c, s, dir, hs, he - hs, e->h.ts_ns);
		if (rc < 0)
			return rc;
		written += he - hs;
	}
	c->st.overlaps += e->h.len - written;
	if (end > d->maxend)
		d->maxend = end;
	return 0;
}

static int on_loss(struct sc_consumer *c, const struct sc_ev_loss *e)
{
	struct csock *s = sock_get(c, e->h.sock_id);

	if (!s)
		return -ENOMEM;
	if (!s->pid)
		s->pid = e->h.pid;
	return loss_trimmed(c, s, e->h.dir ? 1 : 0, e->offset, e->len, e->reason, e->h.syscall, e->h.pid, e->h.ts_ns);
}

int sc_consumer_event(struct sc_consumer *c, const void *data, size_t size)
{
	const struct sc_ev_hdr *h = data;

	if (size < sizeof(*h)) {
		c->st.bad_samples++;
		return 0;
	}
	c->last_ts = h->ts_ns;
	switch (h->type) {
	case SC_EV_DATA:
		if (size < sizeof(struct sc_ev_data))
			break;
		return on_data(c, data, size);
	case SC_EV_LOSS:
		if (size < sizeof(struct sc_ev_loss))
			break;
		return on_loss(c, data);
	case SC_EV_OPEN:
		if (size < sizeof(struct sc_ev_open))
			break;
		return on_open(c, data);
	case SC_EV_CLOSE: {
		const struct sc_ev_close *e = data;
		struct csock *s;

		if (size < sizeof(*e))
			break;
		s = sock_get(c, h->sock_id);
		if (!s)
			return -ENOMEM;
		return close_sock(c, s, e->sent, e->recv, h->ts_ns, h->pid, h->tid);
	}
	case SC_EV_PROC: {
		const struct sc_ev_proc *e = data;

		if (size < sizeof(*e))
			break;
		return see_proc(c, h->pid, e->ppid, e->comm, h->ts_ns);
	}
	}
	c->st.bad_samples++;
	return 0;
}

int sc_consumer_tick(struct sc_consumer *c, uint64_t now_ns)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (sc_u64map_next(&c->socks, &pos, &k, &v)) {
		struct csock *s = v;

		for (unsigned dir = 0; dir < 2; dir++) {
			struct cdir *d = &s->d[dir];

			while (d->n > 0 && d->extra[0].seen_ns + SC_HOLE_GRACE_NS < now_ns) {
				int rc = ensure_open(c, s, now_ns);

				if (!rc)
					rc = settle(c, s, dir, d->extra[0].start, now_ns);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

int sc_consumer_final(struct sc_consumer *c, const struct sc_sock_state *st, uint64_t now_ns)
{
	struct csock *s;

	if (st->flags & SC_SOCK_IGNORED)
		return 0;
	s = sc_u64map_get(&c->socks, st->sock_id);
	if (!s) {
		if (!st->off[0] && !st->off[1] && !(st->flags & SC_SOCK_CLOSED))
			return 0; /* seen by the kernel, dropped before any byte moved */
		s = sock_get(c, st->sock_id);
		if (!s)
			return -ENOMEM;
		s->pid = st->pid;
	}
	for (unsigned dir = 0; dir < 2; dir++) {
		const struct sc_pend *p = &st->pend[dir];

		if (st->off[dir] > s->d[dir].maxend)
			s->d[dir].maxend = st->off[dir];
		if (p->len) {
			/* A loss the kernel side could not write before it stopped. */
			int rc = ensure_open(c, s, now_ns);

			if (!rc)
				rc = loss_trimmed(c, s, dir, p->off, p->len, SC_LOSS_RINGBUF_FULL, p->syscall, p->pid,
						  p->ts_ns);
			if (rc < 0)
				return rc;
			c->st.pend_at_stop++;
		}
	}
	if (st->flags & SC_SOCK_CLOSED)
		s->closed = true;
	return 0;
}

int sc_consumer_finish(struct sc_consumer *c, uint64_t dropped_events, uint64_t now_ns)
{
	size_t pos = 0;
	uint64_t k;
	void *v;
	int rc;

	/* Closing removes from the map: collect the closed ones first. */
	for (;;) {
		struct csock *closing = NULL;

		pos = 0;
		while (sc_u64map_next(&c->socks, &pos, &k, &v)) {
			struct csock *s = v;

			rc = ensure_open(c, s, now_ns);
			if (!rc)
				rc = settle(c, s, 0, s->d[0].maxend, now_ns);
			if (!rc)
				rc = settle(c, s, 1, s->d[1].maxend, now_ns);
			if (rc < 0)
				return rc;
			if (s->closed) {
				closing = s;
				break;
			}
		}
		if (!closing)
			break;
		rc = close_sock(c, closing, closing->d[0].maxend, closing->d[1].maxend, now_ns, 0, 0);
		if (rc < 0)
			return rc;
	}
	if (dropped_events) {
		struct sc_skc_rec r = { .type = SC_SKC_LOSS };

		r.u.loss.ts_ns = now_ns;
		r.u.loss.dir = SC_DIR_UNKNOWN;
		r.u.loss.reason = SC_LOSS_RINGBUF_FULL;
		r.u.loss.events = dropped_events > UINT32_MAX ? UINT32_MAX : (uint32_t)dropped_events;
		return sc_skc_write(c->w, &r);
	}
	return 0;
}

int sc_consumer_rotate(struct sc_consumer *c, struct sc_skc_writer *w, uint64_t now_ns)
{
	size_t pos = 0;
	uint64_t k;
	void *v;
	int rc;

	/* Settle the old file: holes below what was seen cannot be filled any
	 * more once it is closed. */
	while (sc_u64map_next(&c->socks, &pos, &k, &v)) {
		struct csock *s = v;

		rc = ensure_open(c, s, now_ns);
		for (unsigned dir = 0; dir < 2 && !rc; dir++)
			rc = settle(c, s, dir, s->d[dir].maxend, now_ns);
		if (rc < 0)
			return rc;
	}
	c->w = w;
	pos = 0;
	while (sc_u64map_next(&c->procs, &pos, &k, &v)) {
		rc = write_proc(c, v, now_ns);
		if (rc < 0)
			return rc;
	}
	pos = 0;
	while (sc_u64map_next(&c->socks, &pos, &k, &v)) {
		struct csock *s = v;

		s->open.flags |= SC_SOCK_F_CONTINUED;
		s->open.base_sent = s->d[0].next;
		s->open.base_recv = s->d[1].next;
		rc = write_open(c, s);
		if (rc < 0)
			return rc;
	}
	return 0;
}
