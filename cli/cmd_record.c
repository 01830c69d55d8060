/* cmd_record.c - `sockcap record`: capture socket payloads with eBPF. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/record.h"
#include "cli/cli.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *out)
{
	fputs("Usage: sockcap record -w FILE [OPTIONS]\n\n"
	      "Record the payloads of socket syscalls (read/write, send/recv, readv/writev,\n"
	      "sendmsg/recvmsg, sendmmsg/recvmmsg) of every process, with pids, addresses\n"
	      "and timestamps, into a compressed .skc capture.  Loads eBPF programs on the\n"
	      "syscall tracepoints: needs root (or CAP_BPF and CAP_PERFMON) and a kernel with\n"
	      "BTF.  Nothing is changed in the observed programs.  Bytes that cannot be\n"
	      "captured (ring buffer full, --snaplen, sendfile/splice, ...) are counted and\n"
	      "recorded as losses.  Ctrl-C (or SIGTERM) stops cleanly.\n\n"
	      "Options:\n"
	      "  -w, --write FILE     write the capture to FILE ('-': standard output)\n"
	      "  -f, --force          replace FILE if it exists (default: refuse)\n"
	      "  -p, --pid PID        only this process and its threads (repeatable, up to 8)\n"
	      "  -c, --comm NAME      only tasks named NAME (as in /proc/PID/comm)\n"
	      "      --port N         only TCP connections with local or remote port N (repeatable, up to 8)\n"
	      "  -s, --snaplen N      keep at most N bytes per syscall (default: all)\n"
	      "  -d, --duration SEC   stop after SEC seconds\n"
	      "      --count-bytes N  stop once N payload bytes are captured\n"
	      "  -B, --buffer-size N  ring buffer size (default 16M; k/m/g suffixes)\n"
	      "  -C SIZE              start a new file (FILE1, FILE2, ...) when FILE exceeds SIZE\n"
	      "      --attach MODE    exit (raw_syscalls sys_exit only, default), raw (sys_enter and\n"
	      "                       sys_exit) or tracepoints (one pair per syscall)\n"
	      "      --zstd-level N   compression level (default 1; negative levels are faster)\n"
	      "  -q, --quiet          no progress or summary on stderr\n"
	      "      --check          load and attach the BPF programs, then exit: 0 if recording works here\n"
	      "  -h, --help           show this help\n", out);
	sc_cli_exit_codes_help(out);
}

static void log_cb(void *ctx, enum sc_log_level level, const char *msg)
{
	bool quiet = *(bool *)ctx;

	if (level == SC_LOG_DEBUG || (quiet && level == SC_LOG_INFO))
		return;
	fprintf(stderr, "sockcap record: %s\n", msg);
}

static char *join_args(int argc, char **argv)
{
	size_t n = 1;
	char *s, *p;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	p = s;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		memcpy(p, argv[i], l);
		p += l;
		*p++ = i + 1 < argc ? ' ' : '\0';
	}
	if (argc == 0)
		*p = '\0';
	return s;
}

static int parse_u64(const char *what, const char *s, uint64_t *out)
{
	if (sc_cli_parse_size(s, out) < 0) {
		sc_cli_err("record", "bad %s '%s'", what, s);
		return -1;
	}
	return 0;
}

int sc_cmd_record(int argc, char **argv)
{
	enum { OPT_PORT = 256, OPT_COUNT, OPT_ATTACH, OPT_ZSTD, OPT_CHECK };
	static const struct option longopts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "snaplen", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count-bytes", required_argument, NULL, OPT_COUNT },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "attach", required_argument, NULL, OPT_ATTACH },
		{ "zstd-level", required_argument, NULL, OPT_ZSTD },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_record_opts o = { 0 };
	struct sc_record_summary sum;
	struct sc_diag diag = { 0 };
	bool quiet = false, check = false;
	uint64_t v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "w:fp:c:s:d:B:C:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': o.path = optarg; break;
		case 'f': o.overwrite = true; break;
		case 'p':
			if (parse_u64("pid", optarg, &v) < 0 || v == 0 || v > INT32_MAX)
				return SC_EXIT_FATAL;
			if (o.npids == SC_RECORD_MAX_PIDS) {
				sc_cli_err("record", "at most %d -p options", SC_RECORD_MAX_PIDS);
				return SC_EXIT_FATAL;
			}
			o.pids[o.npids++] = (uint32_t)v;
			break;
		case 'c':
			if (strlen(optarg) == 0 || strlen(optarg) > 15) {
				sc_cli_err("record", "-c takes a task name of 1 to 15 characters");
				return SC_EXIT_FATAL;
			}
			o.comm = optarg;
			break;
		case OPT_PORT:
			if (parse_u64("port", optarg, &v) < 0 || v == 0 || v > 65535) {
				sc_cli_err("record", "--port takes 1..65535");
				return SC_EXIT_FATAL;
			}
			if (o.nports == SC_RECORD_MAX_PORTS) {
				sc_cli_err("record", "at most %d --port options", SC_RECORD_MAX_PORTS);
				return SC_EXIT_FATAL;
			}
			o.ports[o.nports++] = (uint16_t)v;
			break;
		case 's':
			if (parse_u64("snaplen", optarg, &v) < 0 || v > UINT32_MAX)
				return SC_EXIT_FATAL;
			o.snaplen = (uint32_t)v;
			break;
		case 'd': {
			char *end;
			double secs = strtod(optarg, &end);

			if (*end || !(secs > 0) || secs > 1e9) {
				sc_cli_err("record", "bad duration '%s'", optarg);
				return SC_EXIT_FATAL;
			}
			o.duration_ns = (uint64_t)(secs * 1e9);
			break;
		}
		case OPT_COUNT:
			if (parse_u64("byte count", optarg, &o.count_bytes) < 0)
				return SC_EXIT_FATAL;
			break;
		case 'B':
			if (parse_u64("buffer size", optarg, &o.ring_bytes) < 0 || o.ring_bytes < 4096 ||
			    o.ring_bytes > (1ull << 31)) {
				sc_cli_err("record", "--buffer-size takes 4k..2g");
				return SC_EXIT_FATAL;
			}
			break;
		case 'C':
			if (parse_u64("file size", optarg, &o.rotate_bytes) < 0 || o.rotate_bytes < 65536) {
				sc_cli_err("record", "-C takes a size of at least 64k");
				return SC_EXIT_FATAL;
			}
			break;
		case OPT_ATTACH:
			if (strcmp(optarg, "raw") == 0) {
				o.attach = SC_ATTACH_RAW;
			} else if (strcmp(optarg, "tracepoints") == 0) {
				o.attach = SC_ATTACH_TRACEPOINTS;
			} else if (strcmp(optarg, "exit") == 0) {
				o.attach = SC_ATTACH_EXIT;
			} else {
				sc_cli_err("record", "--attach takes exit, raw or tracepoints");
				return SC_EXIT_FATAL;
			}
			break;
		case OPT_ZSTD:
		{
			char *end;
			long lvl = strtol(optarg, &end, 10);

			if (*end || lvl < -7 || lvl > 19 || lvl == 0) {
				sc_cli_err("record", "--zstd-level takes -7..-1 or 1..19");
				return SC_EXIT_FATAL;
			}
			o.zstd_level = (int)lvl;
		}
			break;
		case 'q': quiet = true; break;
		case OPT_CHECK: check = true; break;
		case 'h': usage(stdout); return SC_EXIT_OK;
		default: return sc_cli_try_help("record");
		}
	}
	if (check) {
		rc = sc_record_check(o.attach, &diag);
		if (rc < 0) {
			sc_cli_err("record", "%s", diag.msg);
			return SC_EXIT_FATAL;
		}
		if (!quiet)
			fprintf(stderr, "sockcap record: the BPF programs load and attach here\n");
		return SC_EXIT_OK;
	}
	if (!o.path || optind < argc) {
		return sc_cli_usage_err("record", o.path ? "unexpected argument '%s'" : "-w FILE is required%s",
					o.path ? argv[optind] : "");
	}
	if (o.rotate_bytes && strcmp(o.path, "-") == 0) {
		sc_cli_err("record", "-C needs a file, not standard output");
		return SC_EXIT_FATAL;
	}

	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char *cmdline = join_args(argc + 1, argv - 1);

	o.cmdline = cmdline;
	o.stop = &stop_flag;
	o.log = log_cb;
	o.log_ctx = &quiet;
	rc = sc_record_run(&o, &sum, &diag);
	free(cmdline);
	if (rc < 0) {
		sc_cli_err("record", "%s", diag.msg);
		return SC_EXIT_FATAL;
	}

	uint64_t lost = 0;

	for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++)
		lost += sum.lost_bytes[k];
	if (!quiet) {
		fprintf(stderr, "sockcap record: %.1f s, %" PRIu64 " sockets, %" PRIu64 " processes, %" PRIu64
			" records in %" PRIu64 " file%s\n", sum.seconds, sum.sockets, sum.processes, sum.records,
			sum.files, sum.files == 1 ? "" : "s");
		fprintf(stderr, "sockcap record: %" PRIu64 " bytes moved by the syscalls: %" PRIu64 " captured, %" PRIu64
			" lost\n", sum.bytes_moved, sum.bytes_captured, lost);
		for (unsigned k = 1; k <= SC_LOSS_NREASONS; k++)
			if (sum.lost_bytes[k])
				fprintf(stderr, "sockcap record:   lost %" PRIu64 " bytes: %s\n", sum.lost_bytes[k],
					sc_loss_reason_name(k));
		if (sum.lost_events)
			fprintf(stderr, "sockcap record: the ring buffer dropped %" PRIu64 " events (%" PRIu64
				" payload bytes); try a larger --buffer-size\n", sum.lost_events, sum.rb_drop_bytes);
		if (lost || sum.late_losses || sum.holes_settled)
			fprintf(stderr, "sockcap record: %" PRIu64 " LOSS records written after later data of their stream; %"
				PRIu64 " holes (%" PRIu64 " bytes) settled late\n", sum.late_losses, sum.holes_settled,
				sum.hole_bytes);
		if (sum.bad_samples)
			fprintf(stderr, "sockcap record: %" PRIu64 " malformed ring buffer samples ignored\n",
				sum.bad_samples);
	}
	return lost || sum.lost_events || sum.bad_samples ? SC_EXIT_LOSS : SC_EXIT_OK;
}
