/* cmd_dump.c - `sockcap dump`: one line per record, like `tcpdump -r`. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/sc_pcap.h"
#include "formats/sc_u64map.h"
#include "formats/skc.h"
#include "formats/sc_grow.h"

struct dump_opts {
	bool hex, hex_ascii, date, mono;
	uint64_t snap; /* payload bytes shown escaped on the line */
	bool stream;   /* --stream: raw bytes of one stream instead of lines */
	uint64_t stream_id;
	unsigned stream_dir;
};

static void usage(FILE *out)
{
	fputs("Usage: sockcap dump [-x|-X] [-s N] [--date] [--mono] FILE\n"
	      "       sockcap dump --stream ID:out|in FILE.skc > bytes\n\n"
	      "Print every record of an .skc capture, or every TCP segment of a pcap or pcapng\n"
	      "file, one line each: time, pid/comm, socket, direction, syscall, stream offset,\n"
	      "length and the first payload bytes, printable-escaped.  FILE may be '-' (stdin).\n"
	      "Times are local wall-clock time (set TZ=UTC for UTC).  A damaged file is printed\n"
	      "up to its end; each damaged region is reported on stderr.\n\n"
	      "Options:\n"
	      "  -x           hex dump of each payload after its line (like tcpdump -x)\n"
	      "  -X           hex and ASCII dump of each payload (like tcpdump -X)\n"
	      "  -s, --snap N show at most N payload bytes on the line (default 64, 0: none)\n"
	      "  -d, --date   print the date as well as the time\n"
	      "  -m, --mono   .skc: print raw CLOCK_MONOTONIC seconds instead of wall time\n"
	      "  -S, --stream ID:out|in\n"
	      "               .skc: write the raw bytes of one stream (socket ID from 'info',\n"
	      "               'out' = sent, 'in' = received) to standard output in stream order,\n"
	      "               like Wireshark's Follow TCP Stream; gaps are reported on stderr\n"
	      "  -h, --help   show this help\n", out);
	sc_cli_exit_codes_help(out);
}

static void payload_line(const struct dump_opts *o, const uint8_t *p, size_t len)
{
	if (o->snap && len) {
		fputs(": \"", stdout);
		sc_cli_escape(stdout, p, len, o->snap);
		putchar('"');
	}
	putchar('\n');
	if ((o->hex || o->hex_ascii) && len)
		sc_cli_hexdump(stdout, p, len, o->hex_ascii);
}

/* ---- .skc ---------------------------------------------------------------------------- */

struct dump_state {
	struct sc_u64map comms; /* pid -> char[16] */
	bool have_info;
	uint64_t real0, mono0;
};

static const char *comm_of(struct dump_state *s, uint32_t pid)
{
	const char *c = sc_u64map_get(&s->comms, pid);

	return c ? c : "?";
}

static void print_time(const struct dump_opts *o, const struct dump_state *s, uint64_t ts)
{
	char buf[SC_TIME_STRLEN];

	if (o->mono || !s->have_info) {
		printf("%" PRIu64 ".%09" PRIu64, ts / 1000000000u, ts % 1000000000u);
		return;
	}
	fputs(sc_time_fmt(buf, sizeof(buf), s->real0 + (ts - s->mono0), o->date), stdout);
}

static void print_who(struct dump_state *s, uint32_t pid)
{
	const char *comm = comm_of(s, pid);
	char c[SC_CLI_ESC_LEN(16)];

	printf(" %" PRIu32 "/%s", pid, sc_cli_esc(c, sizeof(c), comm, strlen(comm)));
}

static int dump_skc_rec(const struct dump_opts *o, struct dump_state *s, const struct sc_skc_rec *rec)
{
	char l[SC_EP_STRLEN], r[SC_EP_STRLEN];

	switch (rec->type) {
	case SC_SKC_CAPTURE_INFO: {
		const struct sc_skc_capture_info *b = &rec->u.info;
		char t[SC_TIME_STRLEN];

		s->have_info = true;
		s->real0 = b->start_real_ns;
		s->mono0 = b->start_mono_ns;
		print_time(o, s, b->start_mono_ns);
		fputs(" capture on ", stdout);
		sc_cli_escape(stdout, b->hostname.p, b->hostname.len, 256);
		fputs(" (Linux ", stdout);
		sc_cli_escape(stdout, b->kernel.p, b->kernel.len, 256);
		fputs(") by ", stdout);
		sc_cli_escape(stdout, b->tool.p, b->tool.len, 256);
		printf(", started %s, snaplen %" PRIu32 ", options \"", sc_time_fmt(t, sizeof(t), b->start_real_ns, 1),
		       b->snaplen);
		sc_cli_escape(stdout, b->options.p, b->options.len, SIZE_MAX);
		puts("\"");
		break;
	}
	case SC_SKC_PROCESS: {
		const struct sc_skc_process *b = &rec->u.proc;
		char *c = sc_u64map_get(&s->comms, b->pid);

		if (!c) {
			c = calloc(1, 17);
			if (!c || sc_u64map_put(&s->comms, b->pid, c) < 0) {
				free(c);
				return -ENOMEM;
			}
		}
		size_t n = b->comm.len < 16 ? b->comm.len : 16;

		memcpy(c, b->comm.p, n);
		c[n] = '\0';
		print_time(o, s, b->ts_ns);
		print_who(s, b->pid);
		printf(" process tid %" PRIu32 " ppid %" PRIu32 "\n", b->tid, b->ppid);
		break;
	}
	case SC_SKC_SOCK_OPEN: {
		const struct sc_skc_sock_open *b = &rec->u.open;

		print_time(o, s, b->ts_ns);
		print_who(s, b->pid);
		printf(" sock %" PRIu64 " %s", b->sock_id, sc_how_name(b->how));
		if (b->family == SC_AF_UNIX) {
			printf(" unix \"");
			sc_cli_escape(stdout, b->unix_path.p, b->unix_path.len, 256);
			putchar('"');
		} else {
			sc_endpoint_fmt(l, sizeof(l), b->family, &b->local);
			sc_endpoint_fmt(r, sizeof(r), b->family, &b->remote);
			printf(" %s %s %s", l, b->how == SC_HOW_ACCEPT ? "<" : ">", r);
		}
		printf(" fd %" PRId32 " inode %" PRIu64 "%s\n", b->fd, b->inode,
		       (b->flags & SC_SOCK_F_MIDSTREAM) ? " mid-stream" : "");
		break;
	}
	case SC_SKC_DATA: {
		const struct sc_skc_data *b = &rec->u.data;

		print_time(o, s, b->ts_ns);
		print_who(s, b->pid);
		printf(" sock %" PRIu64 " %s %s off %" PRIu64 " len %" PRIu32, b->sock_id, sc_dir_name(b->dir),
		       sc_syscall_name(b->syscall), b->offset, b->cap_len);
		if (b->orig_len != b->cap_len)
			printf(" of %" PRIu32, b->orig_len);
		payload_line(o, b->payload, b->cap_len);
		break;
	}
	case SC_SKC_SOCK_CLOSE: {
		const struct sc_skc_sock_close *b = &rec->u.close;

		print_time(o, s, b->ts_ns);
		print_who(s, b->pid);
		printf(" sock %" PRIu64 " close sent %" PRIu64 " received %" PRIu64 "\n", b->sock_id, b->sent_bytes,
		       b->recv_bytes);
		break;
	}
	case SC_SKC_LOSS: {
		const struct sc_skc_loss *b = &rec->u.loss;

		print_time(o, s, b->ts_ns);
		if (b->pid)
			print_who(s, b->pid);
		else
			printf(" -");
		if (b->sock_id)
			printf(" sock %" PRIu64, b->sock_id);
		else
			printf(" sock ?");
		printf(" %s LOSS %s", sc_dir_name(b->dir), sc_loss_reason_name(b->reason));
		if (b->reason < 1 || b->reason > SC_LOSS_NREASONS)
			printf("(%u)", b->reason);
		if (b->syscall)
			printf(" %s", sc_syscall_name(b->syscall));
		if (b->len)
			printf(" off %" PRIu64 " len %" PRIu64, b->offset, b->len);
		if (b->events)
			printf(" events %" PRIu32, b->events);
		putchar('\n');
		break;
	}
	case SC_SKC_TRAILER: {
		const struct sc_skc_trailer *b = &rec->u.trailer;
		bool any = false;

		print_time(o, s, b->end_mono_ns);
		printf(" end: %" PRIu64 " records, %" PRIu64 " blocks, %" PRIu64 " data records, %" PRIu64
		       " bytes captured, lost:", b->records, b->blocks, b->data_records, b->bytes_captured);
		for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++) {
			if (!b->lost_bytes[k] && !b->lost_events[k])
				continue;
			printf("%s %s %" PRIu64 " bytes", any ? "," : "", sc_loss_reason_name(k), b->lost_bytes[k]);
			if (b->lost_events[k])
				printf(" %" PRIu64 " events", b->lost_events[k]);
			any = true;
		}
		puts(any ? "" : " none");
		break;
	}
	}
	return 0;
}

static int dump_skc(const char *path, const struct dump_opts *o)
{
	struct sc_diag diag = { 0 };
	struct dump_state s = { 0 };
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	int rc, err, status = SC_EXIT_OK;

	r = sc_skc_reader_open(path, &err, &diag);
	if (!r) {
		sc_cli_err("dump", "%s: %s", path, diag.msg);
		return SC_EXIT_FATAL;
	}
	sc_u64map_init(&s.comms);
	while ((rc = sc_skc_reader_next(r, &rec)) > 0) {
		rc = dump_skc_rec(o, &s, &rec);
		if (rc < 0)
			break;
	}
	fflush(stdout);
	if (rc < 0) {
		sc_cli_err("dump", "%s: %s", path, sc_strerror(rc));
		status = SC_EXIT_FATAL;
	} else {
		const struct sc_skc_stats *st = sc_skc_reader_stats(r);

		for (size_t i = 0; i < sc_skc_reader_ndamage(r); i++)
			fprintf(stderr, "%s: %s\n", path, sc_skc_reader_damage(r, i)->msg);
		if (st->damaged_blocks > sc_skc_reader_ndamage(r))
			fprintf(stderr, "%s: ... and %" PRIu64 " more damaged regions\n", path,
				st->damaged_blocks - sc_skc_reader_ndamage(r));
		if (st->damaged_blocks)
			status = SC_EXIT_LOSS;
		if (sc_skc_reader_check_trailer(r, &diag) < 0) {
			fprintf(stderr, "%s: %s\n", path, diag.msg);
			status = SC_EXIT_LOSS;
		}
		if (st->unknown_records)
			fprintf(stderr, "%s: skipped %" PRIu64 " records of types this sockcap does not know\n", path,
				st->unknown_records);
		if (st->unfinished)
			fprintf(stderr, "%s: unfinished capture: no trailer (the recorder did not stop cleanly)\n", path);
	}
	{
		size_t pos = 0;
		uint64_t k;
		void *v;

		while (sc_u64map_next(&s.comms, &pos, &k, &v))
			free(v);
	}
	sc_u64map_fini(&s.comms);
	sc_skc_reader_close(r);
	return status;
}

/* ---- --stream: one direction of one socket, in stream order ----------------------- */

struct piece {
	uint64_t off;
	uint32_t len;
	uint8_t *bytes; /* NULL: a LOSS */
	uint8_t reason;
};

static int cmp_piece(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return (x->bytes == NULL) - (y->bytes == NULL); /* data before a loss at the same offset */
}

static int dump_stream(const char *path, const struct dump_opts *o)
{
	struct sc_diag diag = { 0 };
	struct sc_skc_reader *r;
	struct sc_skc_rec rec;
	struct piece *pc = NULL;
	size_t n = 0, cap = 0;
	uint64_t pos = 0, gaps = 0;
	bool seen = false;
	int rc, err, status = SC_EXIT_OK;

	r = sc_skc_reader_open(path, &err, &diag);
	if (!r) {
		sc_cli_err("dump", "%s: %s", path, diag.msg);
		return SC_EXIT_FATAL;
	}
	while ((rc = sc_skc_reader_next(r, &rec)) > 0) {
		struct piece p = { 0 };

		if (rec.type == SC_SKC_SOCK_OPEN && rec.u.open.sock_id == o->stream_id) {
			seen = true;
			if (!pos)
				pos = o->stream_dir ? rec.u.open.base_recv : rec.u.open.base_sent;
			continue;
		}
		if (rec.type == SC_SKC_DATA && rec.u.data.sock_id == o->stream_id && rec.u.data.dir == o->stream_dir) {
			p.off = rec.u.data.offset;
			p.len = rec.u.data.cap_len;
			p.bytes = malloc(p.len ? p.len : 1);
			if (!p.bytes) {
				rc = -ENOMEM;
				break;
			}
			memcpy(p.bytes, rec.u.data.payload, p.len);
		} else if (rec.type == SC_SKC_LOSS && rec.u.loss.sock_id == o->stream_id &&
			   rec.u.loss.dir == o->stream_dir && rec.u.loss.len) {
			p.off = rec.u.loss.offset;
			p.len = rec.u.loss.len > UINT32_MAX ? UINT32_MAX : (uint32_t)rec.u.loss.len;
			p.reason = rec.u.loss.reason;
		} else {
			continue;
		}
		if (n == cap) {
			struct piece *np = sc_grow(pc, &cap, sizeof(*pc), 256);

			if (!np) {
				free(p.bytes);
				rc = -ENOMEM;
				break;
			}
			pc = np;
		}
		pc[n++] = p;
	}
	if (rc < 0) {
		sc_cli_err("dump", "%s: %s", path, sc_strerror(rc));
		status = SC_EXIT_FATAL;
		goto out;
	}
	if (!seen && n == 0) {
		sc_cli_err("dump", "%s: no socket %" PRIu64 " in this capture", path, o->stream_id);
		status = SC_EXIT_FATAL;
		goto out;
	}
	qsort(pc, n, sizeof(*pc), cmp_piece);
	for (size_t i = 0; i < n; i++) {
		struct piece *p = &pc[i];
		uint64_t end = p->off + p->len;

		if (end <= pos)
			continue; /* already written (an overlap) */
		if (p->off > pos) {
			fprintf(stderr, "%s: sock %" PRIu64 " %s: %" PRIu64 " bytes missing at offset %" PRIu64
				" (not in the capture)\n", path, o->stream_id, sc_dir_name(o->stream_dir), p->off - pos, pos);
			gaps++;
			pos = p->off;
		}
		if (!p->bytes) {
			fprintf(stderr, "%s: sock %" PRIu64 " %s: %" PRIu64 " bytes lost at offset %" PRIu64 " (%s)\n", path,
				o->stream_id, sc_dir_name(o->stream_dir), end - pos, pos, sc_loss_reason_name(p->reason));
			gaps++;
		} else {
			fwrite(p->bytes + (pos - p->off), 1, (size_t)(end - pos), stdout);
		}
		pos = end;
	}
	if (fflush(stdout) != 0) {
		sc_cli_err("dump", "writing standard output: %s", strerror(errno));
		status = SC_EXIT_FATAL;
	} else if (gaps || sc_skc_reader_stats(r)->damaged_blocks) {
		status = SC_EXIT_LOSS;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(pc[i].bytes);
	free(pc);
	sc_skc_reader_close(r);
	return status;
}

/* ---- pcap ------------------------------------------------------------------------------- */

static void tcp_flags(char *buf, uint8_t f)
{
	/* tcpdump's letters: S F P R U E W, '.' for ACK. */
	char *p = buf;

	if (f & SC_TCP_SYN) *p++ = 'S';
	if (f & SC_TCP_FIN) *p++ = 'F';
	if (f & SC_TCP_PSH) *p++ = 'P';
	if (f & SC_TCP_RST) *p++ = 'R';
	if (f & SC_TCP_URG) *p++ = 'U';
	if (f & SC_TCP_ECE) *p++ = 'E';
	if (f & SC_TCP_CWR) *p++ = 'W';
	if (f & SC_TCP_ACK) *p++ = '.';
	if (p == buf) {
		memcpy(buf, "none", 5);
		return;
	}
	*p = '\0';
}

static int dump_pcap(const char *path, const struct dump_opts *o)
{
	struct sc_diag diag = { 0 };
	struct sc_pcap *p = sc_pcap_open(path, &diag);
	struct sc_tcp_seg seg;
	int rc, status = SC_EXIT_OK;

	if (!p) {
		sc_cli_err("dump", "%s: %s", path, diag.msg);
		return SC_EXIT_FATAL;
	}
	while ((rc = sc_pcap_next(p, &seg, &diag)) > 0) {
		char t[SC_TIME_STRLEN], a[SC_ADDR_STRLEN], b[SC_ADDR_STRLEN], fl[12];

		sc_addr_fmt(a, sizeof(a), seg.family, seg.src.addr);
		sc_addr_fmt(b, sizeof(b), seg.family, seg.dst.addr);
		tcp_flags(fl, seg.flags);
		printf("%s %s %s.%u > %s.%u: Flags [%s], seq %" PRIu32, sc_time_fmt(t, sizeof(t), seg.ts_ns, o->date),
		       seg.family == SC_AF_INET6 ? "IP6" : "IP", a, seg.src.port, b, seg.dst.port, fl, seg.seq);
		if (seg.wire_len)
			printf(":%" PRIu32, seg.seq + seg.wire_len);
		if (seg.flags & SC_TCP_ACK)
			printf(", ack %" PRIu32, seg.ack);
		printf(", win %u, length %" PRIu32, seg.window, seg.wire_len);
		if (seg.len != seg.wire_len)
			printf(" (%" PRIu32 " captured)", seg.len);
		payload_line(o, seg.payload, seg.len);
	}
	fflush(stdout);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", path, diag.msg);
		status = SC_EXIT_LOSS;
	}
	sc_pcap_close(p);
	return status;
}

int sc_cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "snap", required_argument, NULL, 's' },
		{ "date", no_argument, NULL, 'd' },
		{ "mono", no_argument, NULL, 'm' },
		{ "stream", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump_opts o = { .snap = 64 };
	int c, kind;

	optind = 1;
	while ((c = getopt_long(argc, argv, "xXs:dmS:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'x': o.hex = true; break;
		case 'X': o.hex_ascii = true; break;
		case 's':
			if (sc_cli_parse_size(optarg, &o.snap) < 0) {
				sc_cli_err("dump", "bad -s value '%s'", optarg);
				return SC_EXIT_FATAL;
			}
			break;
		case 'd': o.date = true; break;
		case 'm': o.mono = true; break;
		case 'S': {
			char *colon = strchr(optarg, ':');

			if (!colon || (strcmp(colon + 1, "out") != 0 && strcmp(colon + 1, "in") != 0)) {
				sc_cli_err("dump", "--stream takes ID:out or ID:in");
				return SC_EXIT_FATAL;
			}
			*colon = '\0';
			if (sc_cli_parse_size(optarg, &o.stream_id) < 0) {
				sc_cli_err("dump", "bad socket id '%s'", optarg);
				return SC_EXIT_FATAL;
			}
			o.stream = true;
			o.stream_dir = strcmp(colon + 1, "in") == 0 ? SC_DIR_INGRESS : SC_DIR_EGRESS;
			break;
		}
		case 'h': usage(stdout); return SC_EXIT_OK;
		default: return sc_cli_try_help("dump");
		}
	}
	if (optind + 1 != argc) {
		return sc_cli_usage_err("dump", optind >= argc ? "no capture file given" : "one capture file at a time");
	}
	kind = sc_file_detect_path(argv[optind]);
	if (kind < 0) {
		sc_cli_err("dump", "%s: %s", argv[optind], strerror(-kind));
		return SC_EXIT_FATAL;
	}
	if (kind == SC_FILE_SKC)
		return o.stream ? dump_stream(argv[optind], &o) : dump_skc(argv[optind], &o);
	if (o.stream) {
		sc_cli_err("dump", "--stream reads .skc captures; for pcaps use 'sockcap analyze'");
		return SC_EXIT_FATAL;
	}
	if (kind == SC_FILE_PCAP || kind == SC_FILE_PCAPNG)
		return dump_pcap(argv[optind], &o);
	sc_cli_err("dump", "%s: not a capture file (neither .skc, pcap nor pcapng)", argv[optind]);
	return SC_EXIT_FATAL;
}
