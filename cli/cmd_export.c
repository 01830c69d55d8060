/* cmd_export.c - `sockcap export`: a capture or a database in other formats.
 *
 * --har writes HAR 1.2 (analyze/har.h); --pcapng is parsed here and handed
 * to sc_cli_export_pcapng() (cli/cmd_export_pcapng.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/har.h"
#include "analyze/load.h"
#include "cli/cli.h"
#include "formats/sc_out.h"

/* Body bytes kept per message when a capture is analysed for the export and
 * no --max-body is given: the default of `sockcap analyze`. */
#define EXPORT_DEFAULT_MAX_BODY (1u << 20)

static void usage(FILE *out)
{
	fputs("Usage: sockcap export --har OUT.har [OPTIONS] INPUT\n"
	      "       sockcap export --pcapng OUT.pcapng [-f] INPUT.skc\n\n"
	      "Export the HTTP transactions of INPUT, a capture (.skc, pcap, pcapng) or a database\n"
	      "written by `sockcap analyze`.  A capture is analysed in memory first.\n\n"
	      "Options:\n"
	      "      --har FILE            write a HAR 1.2 log of every transaction ('-': stdout)\n"
	      "      --pcapng FILE         write an .skc capture as TCP packets in a pcapng\n"
	      "  -f, --force               replace an existing output file (default: refuse)\n"
	      "      --max-body SIZE       body bytes per message in the HAR (default: all that the\n"
	      "                            database holds; a capture is analysed with 1M; k/m/g)\n"
	      "      --redact              replace the values of Authorization, Proxy-Authorization,\n"
	      "                            Cookie, Set-Cookie, HPACK never-indexed fields and\n"
	      "                            fields whose name was lost with REDACTED (and the\n"
	      "                            values of the parsed cookies)\n"
	      "      --redact-header NAME  redact NAME too (case-insensitive; repeatable; implies\n"
	      "                            --redact)\n"
	      "      --role ROLE           which connections: auto (default), all, client, server,\n"
	      "                            network\n"
	      "  -q, --quiet               no summary on stderr (losses are still reported)\n"
	      "  -h, --help                show this help\n\n"
	      "Connections: a TCP connection recorded from both of its ends in an .skc holds every\n"
	      "exchange twice (role client and role server).  --role auto exports it once, from the\n"
	      "client's socket: a server socket is left out when the capture has a client socket\n"
	      "with the mirrored addresses and ports whose lifetime overlaps it.  Pcaps hold each\n"
	      "connection once (role network).\n\n"
	      "HAR fields beyond the specification start with '_' (_streamId, _pid, _comm, _role,\n"
	      "_truncated, _error, _headersIncomplete, _trailers, _grpcStatus, ...).  Bytes that are\n"
	      "not UTF-8 are written as the characters U+0080..U+00FF of the same value, and their\n"
	      "header objects say \"_latin1\": true; fields whose name or value was lost with the\n"
	      "HPACK state say \"_unknown\": true.  Bodies are text when their media type is\n"
	      "textual and they are UTF-8, else base64.\n\n"
	      "Example:\n"
	      "  sockcap export --har web.har --redact web.skc\n", out);
	sc_cli_exit_codes_help(out);
}

static int export_har(const char *out_path, const char *input, const struct sc_har_opts *o, uint64_t load_max_body,
		      bool force, bool quiet)
{
	struct sc_har_stats st;
	struct sc_diag diag = { 0 };
	bool lost = false, to_stdout = strcmp(out_path, "-") == 0;
	struct stat si, so;
	struct sc_out *out;
	struct sc_db *db;
	int rc;

	/* Even with -f: replacing the input by its own export loses it. */
	if (!to_stdout && stat(input, &si) == 0 && stat(out_path, &so) == 0 && si.st_dev == so.st_dev &&
	    si.st_ino == so.st_ino) {
		sc_cli_err("export", "%s: the output would overwrite the input", out_path);
		return SC_EXIT_FATAL;
	}
	/* Before the analysis, so that an existing output fails at once. */
	if (sc_out_open(&out, out_path, force ? SC_OUT_FORCE : 0, &diag) < 0) {
		sc_cli_err("export", "%s", diag.msg);
		return SC_EXIT_FATAL;
	}
	db = sc_load_input(input, load_max_body, &lost, &diag);
	if (!db) {
		sc_cli_err("export", "%s", diag.msg);
		sc_out_abort(out);
		return SC_EXIT_FATAL;
	}
	if (!sc_out_stream(out)) {
		rc = sc_diag_set(&diag, -errno, 0, "%s: %s", out_path, strerror(errno));
	} else {
		rc = sc_har_write(sc_db_handle(db), sc_out_stream(out), o, &st, &diag);
		if (rc < 0 && ferror(sc_out_stream(out)))
			sc_diag_set(&diag, rc, 0, "writing %s: %s", to_stdout ? "standard output" : out_path,
				    strerror(-rc));
	}
	sc_db_close(db);
	if (rc < 0)
		sc_out_abort(out); /* an incomplete document is of no use */
	else
		rc = sc_out_commit(out, &diag);
	if (rc < 0) {
		sc_cli_err("export", "%s", diag.msg);
		return SC_EXIT_FATAL;
	}
	if (!quiet) {
		fprintf(stderr, "%s: %" PRIu64 " entries", to_stdout ? "stdout" : out_path, st.entries);
		if (st.skipped && o->roles == SC_HAR_ROLES_AUTO)
			fprintf(stderr, ", %" PRIu64 " server-side copies of exchanges recorded from both ends left out"
				" (--role all keeps them)", st.skipped);
		else if (st.skipped)
			fprintf(stderr, ", %" PRIu64 " transactions of other roles left out", st.skipped);
		if (o->redact)
			fprintf(stderr, ", %" PRIu64 " values redacted", st.redacted);
		if (st.bodies_cut)
			fprintf(stderr, ", %" PRIu64 " bodies cut", st.bodies_cut);
		if (st.unknown_headers)
			fprintf(stderr, ", %" PRIu64 " header fields unknown (HPACK state lost)", st.unknown_headers);
		if (st.latin1_bytes)
			fprintf(stderr, ", %" PRIu64 " bytes that are not UTF-8 written as U+0080..U+00FF",
				st.latin1_bytes);
		fputc('\n', stderr);
	}
	if (lost || st.input_lossy) /* even with -q: the status alone does not say where */
		fprintf(stderr, "%s: data was lost or could not be parsed in the capture\n", input);
	return lost || st.input_lossy ? SC_EXIT_LOSS : SC_EXIT_OK;
}

int sc_cmd_export(int argc, char **argv)
{
	enum { OPT_HAR = 256, OPT_PCAPNG, OPT_MAX_BODY, OPT_REDACT, OPT_REDACT_HEADER, OPT_ROLE };
	static const struct option longopts[] = {
		{ "har", required_argument, NULL, OPT_HAR },
		{ "pcapng", required_argument, NULL, OPT_PCAPNG },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY },
		{ "redact", no_argument, NULL, OPT_REDACT },
		{ "redact-header", required_argument, NULL, OPT_REDACT_HEADER },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const roles[] = {
		[SC_HAR_ROLES_AUTO] = "auto", [SC_HAR_ROLES_ALL] = "all", [SC_HAR_ROLES_CLIENT] = "client",
		[SC_HAR_ROLES_SERVER] = "server", [SC_HAR_ROLES_NETWORK] = "network",
	};
	struct sc_har_opts o = { .max_body = SC_HAR_NO_CAP, .roles = SC_HAR_ROLES_AUTO };
	const char *har = NULL, *pcapng = NULL, *input;
	const char **names = NULL;
	uint64_t load_max_body = EXPORT_DEFAULT_MAX_BODY;
	bool quiet = false, force = false, found;
	int c, status = SC_EXIT_OK;

	/* Every --redact-header is an argument of ours: argc bounds their number. */
	names = calloc((size_t)argc, sizeof(*names));
	if (!names) {
		sc_cli_err("export", "out of memory");
		return SC_EXIT_FATAL;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "fqh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HAR: har = optarg; break;
		case OPT_PCAPNG: pcapng = optarg; break;
		case OPT_MAX_BODY:
			if (sc_cli_parse_size(optarg, &o.max_body) < 0 || o.max_body > (1ull << 31)) {
				sc_cli_err("export", "--max-body takes a size up to 2g");
				status = SC_EXIT_FATAL;
				goto out;
			}
			load_max_body = o.max_body;
			break;
		case OPT_REDACT: o.redact = true; break;
		case OPT_REDACT_HEADER:
			if (!*optarg) {
				sc_cli_err("export", "--redact-header takes a field name");
				status = SC_EXIT_FATAL;
				goto out;
			}
			names[o.n_redact_headers++] = optarg;
			o.redact = true;
			break;
		case OPT_ROLE:
			found = false;
			for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
				if (strcmp(optarg, roles[i]) == 0) {
					o.roles = (enum sc_har_roles)i;
					found = true;
				}
			if (!found) {
				sc_cli_err("export", "--role takes auto, all, client, server or network");
				status = SC_EXIT_FATAL;
				goto out;
			}
			break;
		case 'f': force = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); goto out;
		default: status = sc_cli_try_help("export"); goto out;
		}
	}
	o.redact_headers = names;
	if (!har && !pcapng) {
		status = sc_cli_usage_err("export", "say what to write: --har FILE (or --pcapng FILE)");
		goto out;
	}
	if (optind + 1 != argc) {
		status = sc_cli_usage_err("export", optind >= argc ? "no input given" : "one input at a time");
		goto out;
	}
	input = argv[optind];
	if (strcmp(input, "-") == 0) {
		sc_cli_err("export", "give a file, not standard input");
		status = SC_EXIT_FATAL;
		goto out;
	}
	if (har && pcapng && strcmp(har, "-") == 0 && strcmp(pcapng, "-") == 0) {
		sc_cli_err("export", "--har and --pcapng cannot both write to standard output");
		status = SC_EXIT_FATAL;
		goto out;
	}
	if (pcapng)
		status = sc_cli_export_pcapng(pcapng, input, force, quiet);
	if (har && status != SC_EXIT_FATAL) {
		int st = export_har(har, input, &o, load_max_body, force, quiet);

		if (st > status)
			status = st;
	}
out:
	free(names);
	return status;
}
