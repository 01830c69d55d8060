/* record.c - load the BPF programs, drain their ring buffer into .skc files.
 *
 * open -> set rodata and map sizes -> load -> attach, one cleanup path
 * (libbpf-tools).  The ring buffer is drained with epoll (ring_buffer__poll);
 * records go to an .skc writer that compresses on its own thread, so draining
 * never waits on zstd.
 */
#include "config.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bpf/sockcap.skel.h"
#include "capture/capture_int.h"
#include "capture/record.h"

#define DEFAULT_RING (16ull << 20)
#define LOG_TAIL_LINES 30
#define TICK_NS 200000000ull
#define FLUSH_NS 1000000000ull
#define DRAIN_MS 5

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- logging: libbpf's messages are kept, the verifier's tail is shown on failure ---- */

struct logbuf {
	char *lines[LOG_TAIL_LINES];
	unsigned next, n;
	const struct sc_record_opts *opts;
};

/* libbpf's print callback is process-global; it points at the run in
 * progress (one per process). */
static struct logbuf *active_log;

static void say(const struct sc_record_opts *o, enum sc_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const struct sc_record_opts *o, enum sc_log_level lvl, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->log(o->log_ctx, lvl, buf);
}

static void keep_line(struct logbuf *lb, const char *line, size_t n)
{
	char *l = strndup(line, n);

	if (!l)
		return;
	free(lb->lines[lb->next]);
	lb->lines[lb->next] = l;
	lb->next = (lb->next + 1) % LOG_TAIL_LINES;
	if (lb->n < LOG_TAIL_LINES)
		lb->n++;
}

/* libbpf hands the verifier's log over as one long warning: keep its last
 * lines, where the verifier says what it rejected, and drop the debug chatter. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct logbuf *lb = active_log;
	char *msg = NULL;
	const char *p;

	if (!lb || level == LIBBPF_DEBUG)
		return 0;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (p = msg; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n)
			keep_line(lb, p, n);
		p += n + (nl ? 1 : 0);
	}
	if (level == LIBBPF_WARN && lb->opts->log)
		lb->opts->log(lb->opts->log_ctx, SC_LOG_DEBUG, msg);
	free(msg);
	return 0;
}

static void log_tail(struct logbuf *lb)
{
	unsigned start = (lb->next + LOG_TAIL_LINES - lb->n) % LOG_TAIL_LINES;

	for (unsigned i = 0; i < lb->n; i++) {
		const char *l = lb->lines[(start + i) % LOG_TAIL_LINES];

		if (l)
			say(lb->opts, SC_LOG_WARN, "  %s", l);
	}
}

static void logbuf_free(struct logbuf *lb)
{
	for (unsigned i = 0; i < LOG_TAIL_LINES; i++)
		free(lb->lines[i]);
}

/* ---- preflight ------------------------------------------------------------------------ */

static uint64_t cap_eff(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

int sc_record_preflight(struct sc_diag *diag)
{
	uint64_t caps = cap_eff();
	bool admin = caps & (1ull << 21);
	bool bpf_perfmon = (caps & (1ull << 39)) && (caps & (1ull << 38));

	if (!admin && !bpf_perfmon)
		return sc_diag_set(diag, -EPERM, 0, "needs root, or CAP_BPF and CAP_PERFMON (effective capabilities: %#llx)",
				   (unsigned long long)caps);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return sc_diag_set(diag, -ENOTSUP, 0, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s); the recorder's "
				   "CO-RE programs need CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
	return 0;
}

/* Per-syscall tracepoints are looked up in tracefs, which may not be
 * mounted (BPF-NOTES.md): mount it ourselves. */
static int ensure_tracefs(struct sc_diag *diag)
{
	struct stat sb;

	if (stat("/sys/kernel/tracing/events/syscalls", &sb) == 0 ||
	    stat("/sys/kernel/debug/tracing/events/syscalls", &sb) == 0)
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0 && errno != EBUSY)
		return sc_diag_set(diag, -errno, 0, "cannot mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
	if (stat("/sys/kernel/tracing/events/syscalls", &sb) != 0)
		return sc_diag_set(diag, -ENOENT, 0, "tracefs has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS is off?)");
	return 0;
}

/* ---- the run ----------------------------------------------------------------------------- */

struct run {
	const struct sc_record_opts *o;
	struct sockcap_bpf *skel;
	struct ring_buffer *rb;
	struct sc_skc_writer *w;
	struct sc_consumer *cons;
	struct sc_record_summary *sum;
	uint64_t start_real, start_mono;
	char hostname[256], kernel[256], tool[64];
	uint64_t files;
	uint64_t prev_files_records, prev_files_captured; /* totals of rotated-out files */
	uint64_t prev_lost[SC_LOSS_NREASONS + 1];
	int err;
};

static int sample_cb(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	int rc = sc_consumer_event(r->cons, data, size);

	if (rc < 0) {
		r->err = rc;
		return rc; /* stops ring_buffer__poll */
	}
	return 0;
}

static char *file_name(const char *path, uint64_t n)
{
	char *s;

	/* tcpdump -C names: FILE, FILE1, FILE2, ... */
	if (n == 0)
		return strdup(path);
	if (asprintf(&s, "%s%llu", path, (unsigned long long)n) < 0)
		return NULL;
	return s;
}

static int write_info(struct run *r)
{
	struct sc_skc_rec rec = { .type = SC_SKC_CAPTURE_INFO };
	const char *opts = r->o->cmdline ? r->o->cmdline : "";

	rec.u.info.start_real_ns = r->start_real;
	rec.u.info.start_mono_ns = r->start_mono;
	rec.u.info.snaplen = r->o->snaplen;
	rec.u.info.hostname = (struct sc_view){ (const uint8_t *)r->hostname, strlen(r->hostname) };
	rec.u.info.kernel = (struct sc_view){ (const uint8_t *)r->kernel, strlen(r->kernel) };
	rec.u.info.tool = (struct sc_view){ (const uint8_t *)r->tool, strlen(r->tool) };
	rec.u.info.options = (struct sc_view){ (const uint8_t *)opts, strlen(opts) > 4096 ? 4096 : strlen(opts) };
	return sc_skc_write(r->w, &rec);
}

static int open_writer(struct run *r, struct sc_diag *diag)
{
	/* Level 1 by default: HTTP compresses well at it, and it leaves the
	 * CPU to the service being observed; -5 while blocks queue up. */
	struct sc_skc_writer_opts wo = { .zstd_level = r->o->zstd_level ? r->o->zstd_level : 1,
					 .overwrite = r->o->overwrite, .async = true, .queue = 8, .fast_level = -5 };
	char *name;
	int err = 0;

	if (strcmp(r->o->path, "-") == 0) {
		if (isatty(STDOUT_FILENO))
			return sc_diag_set(diag, -EINVAL, 0, "refusing to write a binary capture to a terminal");
		r->w = sc_skc_writer_fdopen(STDOUT_FILENO, &wo, &err);
		if (!r->w)
			return sc_diag_set(diag, err, 0, "standard output: %s", sc_strerror(err));
		return 0;
	}
	name = file_name(r->o->path, r->files);
	if (!name)
		return sc_diag_set(diag, -ENOMEM, 0, "out of memory");
	r->w = sc_skc_writer_open(name, &wo, &err);
	if (!r->w) {
		if (err == -EEXIST)
			sc_diag_set(diag, err, 0, "%s exists; use -f to replace it", name);
		else
			sc_diag_set(diag, err, 0, "%s: %s", name, sc_strerror(err));
		free(name);
		return err;
	}
	free(name);
	return 0;
}

static void add_file_totals(struct run *r)
{
	const struct sc_skc_stats *st = sc_skc_writer_stats(r->w);

	r->prev_files_records += st->records;
	r->prev_files_captured += st->bytes_captured;
	for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++)
		r->prev_lost[k] += st->lost_bytes[k];
}

static int rotate(struct run *r, struct sc_diag *diag)
{
	struct sc_skc_writer *old = r->w;
	uint64_t mono = now_ns(CLOCK_MONOTONIC);
	int rc;

	r->files++;
	rc = open_writer(r, diag);
	if (rc < 0)
		return rc;
	rc = write_info(r);
	/* Settle holes into the old file, then declare live sockets in the new. */
	if (!rc) {
		struct sc_skc_writer *nw = r->w;

		r->w = old;
		rc = sc_consumer_rotate(r->cons, nw, mono);
		add_file_totals(r);
		int rc2 = sc_skc_writer_close(old, now_ns(CLOCK_REALTIME), mono);

		r->w = nw;
		if (!rc)
			rc = rc2;
	}
	if (rc < 0)
		return sc_diag_set(diag, rc, 0, "rotating to a new file: %s", sc_strerror(rc));
	say(r->o, SC_LOG_INFO, "rotated to file %llu", (unsigned long long)r->files);
	return 0;
}

static uint64_t ring_size(uint64_t want);

static int set_rodata(struct run *r)
{
	const struct sc_record_opts *o = r->o;
	struct sockcap_bpf *s = r->skel;

	for (unsigned i = 0; i < o->npids && i < SC_MAX_PIDS; i++)
		s->rodata->targ_pids[i] = o->pids[i];
	s->rodata->n_pids = o->npids;
	for (unsigned i = 0; i < o->nports && i < SC_MAX_PORTS; i++)
		s->rodata->targ_ports[i] = o->ports[i];
	s->rodata->n_ports = o->nports;
	if (o->comm) {
		strncpy((char *)s->rodata->targ_comm, o->comm, SC_COMM_LEN - 1);
		s->rodata->filter_comm = true;
	}
	s->rodata->self_tgid = (uint32_t)getpid();
	s->rodata->wakeup_bytes = ring_size(o->ring_bytes) / 8;
	s->bss->snaplen = o->snaplen;
	return 0;
}

static uint64_t ring_size(uint64_t want)
{
	uint64_t sz = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!want)
		want = DEFAULT_RING;
	while (sz < want && sz < (1ull << 31))
		sz <<= 1;
	return sz;
}

/* Choose the programs of one attach mode; the others are not loaded. */
static void choose_programs(struct sockcap_bpf *s, enum sc_attach_mode mode)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, s->obj) {
		const char *n = bpf_program__name(p);
		bool on;

		switch (mode) {
		case SC_ATTACH_RAW: on = strncmp(n, "sc_raw_", 7) == 0; break;
		case SC_ATTACH_TRACEPOINTS: on = strncmp(n, "sc_tp_", 6) == 0; break;
		default: on = strcmp(n, "sc_exit_only") == 0 || strcmp(n, "sc_tp_enter_close") == 0; break;
		}
		bpf_program__set_autoload(p, on);
	}
}

static const char *mode_name(enum sc_attach_mode m)
{
	switch (m) {
	case SC_ATTACH_RAW: return "raw_syscalls";
	case SC_ATTACH_TRACEPOINTS: return "tracepoints";
	default: return "sys_exit";
	}
}

static int load_and_attach(struct run *r, enum sc_attach_mode mode, struct logbuf *lb, struct sc_diag *diag)
{
	struct bpf_program *p;
	int err;

	/* Our own buffer for the verifier's log, large enough that its end
	 * (where the reason is) is not cut off. */
	static char vlog[4u << 20];
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_buf = vlog, .kernel_log_size = sizeof(vlog),
		    .kernel_log_level = 1);

	vlog[0] = '\0';
	r->skel = sockcap_bpf__open_opts(&oo);
	if (!r->skel)
		return sc_diag_set(diag, -errno, 0, "opening the BPF object failed: %s", strerror(errno));
	set_rodata(r);
	err = bpf_map__set_max_entries(r->skel->maps.events, (uint32_t)ring_size(r->o->ring_bytes));
	if (err)
		return sc_diag_set(diag, err, 0, "ring buffer size: %s", strerror(-err));
	choose_programs(r->skel, mode);
	err = sockcap_bpf__load(r->skel);
	if (err) {
		say(r->o, SC_LOG_WARN, "loading the BPF programs failed; libbpf's last messages:");
		log_tail(lb);
		if (vlog[0]) {
			/* The last lines of the verifier's log say what it rejected. */
			size_t len = strnlen(vlog, sizeof(vlog));
			const char *tail = vlog + len;
			int lines = 0;

			while (tail > vlog && lines < 25)
				if (*--tail == '\n')
					lines++;
			say(r->o, SC_LOG_WARN, "the verifier's log ends with:\n%s", tail);
		}
		return sc_diag_set(diag, err, 0, "the BPF verifier rejected the %s programs (%s); the log tail is above",
				   mode_name(mode), strerror(-err));
	}
	bpf_object__for_each_program(p, r->skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			err = -errno;
			return sc_diag_set(diag, err, 0, "attaching %s to %s failed: %s", bpf_program__name(p),
					   bpf_program__section_name(p), strerror(-err));
		}
		/* The skeleton does not own links made this way: keep them in
		 * the program's slot so that destroy detaches them. */
		for (int i = 0; i < r->skel->skeleton->prog_cnt; i++)
			if (*r->skel->skeleton->progs[i].prog == p)
				*r->skel->skeleton->progs[i].link = l;
	}
	return 0;
}

static void sum_counters(struct run *r, uint64_t cnt[SC_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(cnt, 0, sizeof(uint64_t) * SC_CNT_MAX);
	if (ncpu <= 0)
		return;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (uint32_t k = 0; k < SC_CNT_MAX; k++) {
		if (bpf_map__lookup_elem(r->skel->maps.counters, &k, sizeof(k), vals, sizeof(*vals) * (size_t)ncpu, 0))
			continue;
		for (int i = 0; i < ncpu; i++)
			cnt[k] += vals[i];
	}
	free(vals);
}

/* After detaching: the kernel's last word on every socket it tracked. */
static int final_states(struct run *r)
{
	int fd = bpf_map__fd(r->skel->maps.socks);
	uint64_t key, next;
	struct sc_sock_state st;
	uint64_t mono = now_ns(CLOCK_MONOTONIC);
	void *prev = NULL;
	int rc;

	if (fd < 0)
		return fd;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st) != 0)
			continue;
		rc = sc_consumer_final(r->cons, &st, mono);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sc_record_check(enum sc_attach_mode mode, struct sc_diag *diag)
{
	struct sc_record_opts o = { .path = "-", .attach = mode };
	struct logbuf lb = { .opts = &o };
	struct run r = { .o = &o };
	int rc = sc_record_preflight(diag);

	if (rc < 0)
		return rc;
	if (mode == SC_ATTACH_AUTO)
		mode = SC_ATTACH_EXIT;
	active_log = &lb;
	libbpf_set_print(libbpf_print);
	rc = mode == SC_ATTACH_RAW ? 0 : ensure_tracefs(diag);
	if (!rc)
		rc = load_and_attach(&r, mode, &lb, diag);
	sockcap_bpf__destroy(r.skel);
	libbpf_set_print(NULL);
	active_log = NULL;
	logbuf_free(&lb);
	return rc;
}

int sc_record_run(const struct sc_record_opts *o, struct sc_record_summary *sum, struct sc_diag *diag)
{
	struct logbuf lb = { .opts = o };
	struct run r = { .o = o, .sum = sum };
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct utsname un;
	uint64_t cnt[SC_CNT_MAX];
	uint64_t t0, last_tick, last_flush;
	enum sc_attach_mode mode;
	int rc;

	memset(sum, 0, sizeof(*sum));
	rc = sc_record_preflight(diag);
	if (rc < 0)
		return rc;
	active_log = &lb;
	libbpf_set_print(libbpf_print);
	(void)setrlimit(RLIMIT_MEMLOCK, &rl); /* older kernels charge BPF maps to it */

	/* sys_exit only is the measured cheapest mode (bench/record.sh);
	 * per-syscall tracepoints are the fallback. */
	mode = o->attach == SC_ATTACH_AUTO ? SC_ATTACH_EXIT : o->attach;
	rc = mode == SC_ATTACH_RAW ? 0 : ensure_tracefs(diag);
	if (rc < 0)
		goto out;
	rc = load_and_attach(&r, mode, &lb, diag);
	if (rc < 0 && o->attach == SC_ATTACH_AUTO) {
		say(o, SC_LOG_WARN, "%s attach failed (%s); trying per-syscall tracepoints", mode_name(mode), diag->msg);
		sockcap_bpf__destroy(r.skel);
		r.skel = NULL;
		mode = SC_ATTACH_TRACEPOINTS;
		rc = ensure_tracefs(diag);
		if (rc == 0)
			rc = load_and_attach(&r, mode, &lb, diag);
	}
	if (rc < 0)
		goto out;
	snprintf(sum->attach, sizeof(sum->attach), "%s", mode_name(mode));

	uname(&un);
	snprintf(r.hostname, sizeof(r.hostname), "%s", un.nodename);
	snprintf(r.kernel, sizeof(r.kernel), "%s", un.release);
	snprintf(r.tool, sizeof(r.tool), "sockcap %s", PACKAGE_VERSION);
	r.start_real = now_ns(CLOCK_REALTIME);
	r.start_mono = now_ns(CLOCK_MONOTONIC);
	rc = open_writer(&r, diag);
	if (rc < 0)
		goto out;
	r.cons = sc_consumer_new(r.w);
	if (!r.cons) {
		rc = sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		goto out;
	}
	rc = write_info(&r);
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "writing the capture: %s", sc_strerror(rc));
		goto out;
	}
	r.rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events), sample_cb, &r, NULL);
	if (!r.rb) {
		rc = sc_diag_set(diag, -errno, 0, "ring buffer: %s", strerror(errno));
		goto out;
	}
	say(o, SC_LOG_INFO, "recording to %s (%s, ring buffer %llu KiB); Ctrl-C to stop",
	    strcmp(o->path, "-") == 0 ? "standard output" : o->path, sum->attach,
	    (unsigned long long)(ring_size(o->ring_bytes) >> 10));

	t0 = last_tick = last_flush = now_ns(CLOCK_MONOTONIC);
	for (;;) {
		/* Events are submitted without a wakeup until an eighth of the
		 * ring is full (bpf/sockcap.bpf.c): poll briefly, then drain
		 * whatever is there anyway. */
		int n = ring_buffer__poll(r.rb, DRAIN_MS);
		uint64_t now = now_ns(CLOCK_MONOTONIC);

		if (n >= 0)
			n = ring_buffer__consume(r.rb);
		if (n < 0 && n != -EINTR) {
			rc = r.err ? r.err : n;
			sc_diag_set(diag, rc, 0, "draining the ring buffer: %s", sc_strerror(rc));
			goto out;
		}
		if (o->stop && *o->stop)
			break;
		if (o->duration_ns && now - t0 >= o->duration_ns)
			break;
		if (o->count_bytes && r.prev_files_captured + sc_skc_writer_stats(r.w)->bytes_captured >= o->count_bytes)
			break;
		if (now - last_tick >= TICK_NS) {
			last_tick = now;
			rc = sc_consumer_tick(r.cons, now);
			if (rc < 0) {
				sc_diag_set(diag, rc, 0, "writing the capture: %s", sc_strerror(rc));
				goto out;
			}
		}
		if (now - last_flush >= FLUSH_NS) {
			/* Bound what a crash can lose to about a second. */
			last_flush = now;
			rc = sc_skc_writer_flush(r.w);
			if (rc < 0) {
				sc_diag_set(diag, rc, 0, "writing the capture: %s", sc_strerror(rc));
				goto out;
			}
		}
		if (o->rotate_bytes && strcmp(o->path, "-") != 0 &&
		    sc_skc_writer_stats(r.w)->file_bytes >= o->rotate_bytes) {
			rc = rotate(&r, diag);
			if (rc < 0)
				goto out;
		}
	}

	/* Stop: detach first so that nothing new arrives, then drain what is
	 * in the ring, then ask the kernel how far every stream got. */
	for (int i = 0; i < r.skel->skeleton->prog_cnt; i++) {
		struct bpf_link **l = r.skel->skeleton->progs[i].link;

		if (*l) {
			bpf_link__destroy(*l);
			*l = NULL;
		}
	}
	if (ring_buffer__consume(r.rb) < 0 && r.err) {
		rc = r.err;
		sc_diag_set(diag, rc, 0, "writing the capture: %s", sc_strerror(rc));
		goto out;
	}
	sum_counters(&r, cnt);
	rc = final_states(&r);
	if (!rc)
		rc = sc_consumer_finish(r.cons, cnt[SC_CNT_RB_DROP_EVENTS], now_ns(CLOCK_MONOTONIC));
	if (rc < 0) {
		sc_diag_set(diag, rc, 0, "writing the capture: %s", sc_strerror(rc));
		goto out;
	}
	{
		const struct sc_skc_stats *st = sc_skc_writer_stats(r.w);
		const struct sc_consumer_stats *cs = sc_consumer_stats(r.cons);

		add_file_totals(&r);
		sum->files = r.files + 1;
		sum->sockets = cs->sockets;
		sum->processes = cs->processes;
		sum->records = r.prev_files_records + 1; /* + the trailer */
		sum->bytes_captured = r.prev_files_captured;
		sum->bytes_moved = sum->bytes_captured;
		for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++) {
			sum->lost_bytes[k] = r.prev_lost[k];
			sum->bytes_moved += r.prev_lost[k];
		}
		sum->lost_events = cnt[SC_CNT_RB_DROP_EVENTS];
		sum->rb_drop_bytes = cnt[SC_CNT_RB_DROP_BYTES];
		sum->bad_samples = cs->bad_samples;
		sum->overlaps = cs->overlaps;
		sum->late_losses = cs->late_losses;
		sum->holes_settled = cs->holes_settled;
		sum->hole_bytes = cs->hole_bytes;
		sum->pend_losses = cnt[SC_CNT_PEND_EVENTS] + cs->pend_at_stop;
		sum->loss_trimmed = cs->loss_trimmed;
		sum->syscalls = cnt[SC_CNT_SYSCALLS];
		sum->seconds = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
		(void)st;
	}
	rc = sc_skc_writer_close(r.w, now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC));
	r.w = NULL;
	if (rc < 0)
		sc_diag_set(diag, rc, 0, "closing the capture: %s", sc_strerror(rc));
out:
	if (r.w)
		(void)sc_skc_writer_close(r.w, now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC));
	ring_buffer__free(r.rb);
	sc_consumer_free(r.cons);
	sockcap_bpf__destroy(r.skel);
	libbpf_set_print(NULL);
	active_log = NULL;
	logbuf_free(&lb);
	return rc;
}
