/* sockcap.c - command dispatch for the sockcap program. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/cli.h"

#ifndef SC_WITH_CAPTURE
int sc_cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sc_cli_err("record", "this sockcap was built without the eBPF recorder "
		   "(configure --enable-capture needs Linux, libbpf, libelf, clang and bpftool)");
	return SC_EXIT_FATAL;
}
#endif

static const struct sc_cli_cmd commands[] = {
	{ "record", "record socket payloads with eBPF into an .skc file (root)", sc_cmd_record },
	{ "analyze", "decode captures into an SQLite database of connections and HTTP transactions", sc_cmd_analyze },
	{ "replay", "resend a capture's requests to a target, record the replay and compare", sc_cmd_replay },
	{ "export", "write a capture as HAR 1.2 (--har) or as TCP packets in pcapng for Wireshark (--pcapng)", sc_cmd_export },
	{ "diff", "compare the HTTP transactions of two captures or databases (regression fixtures)", sc_cmd_diff },
	{ "info", "summarize a capture (.skc, pcap, pcapng): time, processes, sockets, bytes, losses, damage", sc_cmd_info },
	{ "dump", "print every record or TCP segment of a capture, like tcpdump -r", sc_cmd_dump },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: %s COMMAND [OPTIONS] [ARGS]\n"
		     "       %s COMMAND --help\n"
		     "       %s --version\n\n"
		     "Capture HTTP traffic at the socket layer with eBPF, and analyze it offline.\n\n"
		     "Commands:\n",
		sc_cli_progname, sc_cli_progname, sc_cli_progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\nCapture files are detected by their content, not by their name.\n", out);
	sc_cli_exit_codes_help(out);
}

int main(int argc, char **argv)
{
	/* SQLite's memory statistics take a global mutex on every allocation
	 * and nothing reads them (5% of an analyze).  Process-wide, so here,
	 * before SQLite initialises. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc < 2)
		return sc_cli_usage_err(NULL, "missing command (record, analyze, replay, export, diff, info, dump)");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return SC_EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("sockcap %s\n", PACKAGE_VERSION);
		return SC_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* getopt_long() prefixes its messages with argv[0]: "sockcap
			 * record: invalid option -- 'z'", as GNU tools say it. */
			static char name[32];

			snprintf(name, sizeof(name), "%s %s", sc_cli_progname, commands[i].name);
			argv[1] = name;
			return commands[i].run(argc - 1, argv + 1);
		}
	if (argv[1][0] == '-' && argv[1][1] == '-')
		return sc_cli_usage_err(NULL, "unrecognized option '%s'", argv[1]);
	if (argv[1][0] == '-' && argv[1][1])
		return sc_cli_usage_err(NULL, "invalid option -- '%c'", argv[1][1]);
	return sc_cli_usage_err(NULL, "unknown command '%s'", argv[1]);
}
