/* cmd_replay.c - `sockcap replay`: resend a capture's requests, compare. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/replay.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
	fputs("Usage: sockcap replay INPUT --target http://HOST:PORT [OPTIONS]\n\n"
	      "Resend the client requests of a capture (.skc, pcap, pcapng) to a target, write\n"
	      "what was sent and received as a new .skc capture, and compare the responses\n"
	      "with the recorded ones as `sockcap diff` does.  HTTP/1 requests are sent as\n"
	      "their recorded bytes; HTTP/2 requests are sent again from their headers and\n"
	      "bodies, with prior knowledge or the recorded h2c upgrade.  The order within\n"
	      "each connection is kept and recorded connections run concurrently.  Requests\n"
	      "whose recorded bytes have gaps are skipped and reported.  Only the target is\n"
	      "contacted.\n\n"
	      "Options:\n"
	      "  -t, --target URL      http://HOST:PORT to send to (required)\n"
	      "  -w, --write FILE      the replay's capture (default: INPUT with .replay.skc)\n"
	      "  -f, --force           replace that file if it exists\n"
	      "      --speed X         keep the recorded timing, X times faster (default: as fast as possible)\n"
	      "      --timeout MS      wait at most MS for each response (default 10000)\n"
	      "      --dry-run         print the plan and contact nothing\n"
	      "      --ignore-header N ignore header N when comparing (repeatable)\n"
	      "      --json            the comparison as JSON\n"
	      "  -q, --quiet           only the exit status\n"
	      "  -h, --help            show this help\n", out);
	sc_cli_exit_codes_help(out);
}

static int parse_target(const char *url, char *host, size_t hn, uint16_t *port)
{
	const char *p = url, *colon, *end;
	unsigned long v;
	char *e;

	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strstr(p, "://"))
		return -1;
	end = p + strcspn(p, "/");
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (!rb || rb[1] != ':')
			return -1;
		colon = rb + 1;
		if ((size_t)(rb - p - 1) >= hn)
			return -1;
		memcpy(host, p + 1, (size_t)(rb - p - 1));
		host[rb - p - 1] = '\0';
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		if (!colon || (size_t)(colon - p) >= hn || colon == p)
			return -1;
		memcpy(host, p, (size_t)(colon - p));
		host[colon - p] = '\0';
	}
	v = strtoul(colon + 1, &e, 10);
	if (e != end || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int sc_cmd_replay(int argc, char **argv)
{
	enum { OPT_SPEED = 256, OPT_TIMEOUT, OPT_DRY, OPT_IGNORE, OPT_JSON };
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "write", required_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'f' },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "ignore-header", required_argument, NULL, OPT_IGNORE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_replay_opts o = { 0 };
	struct sc_replay_result res;
	struct sc_diag diag = { 0 };
	struct sc_replay *r;
	const char *target = NULL, *ignore[64];
	char host[256], *dflt = NULL;
	size_t nignore = 0;
	bool dry = false, json = false, quiet = false;
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:w:fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': target = optarg; break;
		case 'w': o.out = optarg; break;
		case 'f': o.overwrite = true; break;
		case OPT_SPEED:
			o.speed = strtod(optarg, NULL);
			if (!(o.speed > 0)) {
				sc_cli_err("replay", "--speed takes a positive number");
				return SC_EXIT_FATAL;
			}
			break;
		case OPT_TIMEOUT:
			if (sc_cli_parse_size(optarg, &o.timeout_ms) < 0 || !o.timeout_ms) {
				sc_cli_err("replay", "--timeout takes milliseconds");
				return SC_EXIT_FATAL;
			}
			break;
		case OPT_DRY: dry = true; break;
		case OPT_IGNORE:
			if (nignore == sizeof(ignore) / sizeof(ignore[0])) {
				sc_cli_err("replay", "too many --ignore-header");
				return SC_EXIT_FATAL;
			}
			ignore[nignore++] = optarg;
			break;
		case OPT_JSON: json = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return SC_EXIT_OK;
		default: return sc_cli_try_help("replay");
		}
	}
	if (optind + 1 != argc || !target) {
		return sc_cli_usage_err("replay", !target ? "--target http://HOST:PORT is required" : "one capture to replay");
	}
	if (parse_target(target, host, sizeof(host), &o.port) < 0) {
		sc_cli_err("replay", "bad target '%s': give http://HOST:PORT", target);
		return SC_EXIT_FATAL;
	}
	o.host = host;
	if (!o.out) {
		const char *in = argv[optind];
		size_t n = strlen(in);

		dflt = malloc(n + 16);
		if (!dflt)
			return SC_EXIT_FATAL;
		memcpy(dflt, in, n + 1);
		char *dot = strrchr(dflt, '.'), *slash = strrchr(dflt, '/');

		if (dot && (!slash || dot > slash))
			*dot = '\0';
		strcat(dflt, ".replay.skc");
		o.out = dflt;
	}
	r = sc_replay_plan(argv[optind], &o, &diag);
	if (!r) {
		sc_cli_err("replay", "%s", diag.msg);
		free(dflt);
		return SC_EXIT_FATAL;
	}
	if (dry || !quiet) {
		FILE *out = dry ? stdout : stderr;
		size_t skipped = 0;

		for (size_t i = 0; i < sc_replay_nreq(r); i++) {
			const struct sc_replay_req *q = sc_replay_req(r, i);

			if (q->skipped)
				skipped++;
			if (dry || q->skipped)
				fprintf(out, "%s connection %" PRIu64 " %s %s %s%s%s\n", q->skipped ? "skip" : "send", q->conn,
					q->proto, q->method, q->target, q->skipped ? ": " : "", q->skipped ? q->why : "");
		}
		if (dry) {
			printf("%zu requests, %zu skipped; would send to %s:%u\n", sc_replay_nreq(r), skipped, host, o.port);
			sc_replay_free(r);
			free(dflt);
			return SC_EXIT_OK;
		}
	}
	if (sc_replay_run(r, &res, &diag) < 0) {
		sc_cli_err("replay", "%s", diag.msg);
		sc_replay_free(r);
		free(dflt);
		return SC_EXIT_FATAL;
	}
	if (!quiet)
		fprintf(stderr, "replayed %" PRIu64 " requests on %" PRIu64 " connections to %s:%u (%" PRIu64
			" skipped, %" PRIu64 " connections failed%s%s); capture: %s\n", res.requests, res.connections, host,
			o.port, res.skipped, res.failed_conns, res.first_error[0] ? ": " : "", res.first_error, o.out);
	status = sc_cli_compare(argv[optind], o.out, ignore, nignore, json, quiet);
	if (status == SC_EXIT_OK && (res.skipped || res.failed_conns))
		status = SC_EXIT_LOSS;
	sc_replay_free(r);
	free(dflt);
	return status;
}
