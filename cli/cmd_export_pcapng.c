/* cmd_export_pcapng.c - `sockcap export --pcapng OUT INPUT.skc`: an .skc capture as
 * synthesized TCP packets for Wireshark and tshark (analyze/export_pcapng.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "analyze/export_pcapng.h"
#include "cli/cli.h"

int sc_cli_export_pcapng(const char *out, const char *in, bool force, bool quiet)
{
	struct sc_export_pcapng_opts o = { .overwrite = force, .app = "sockcap " PACKAGE_VERSION };
	struct sc_export_pcapng_stats st;
	struct sc_diag diag = { 0 };
	const char *name;
	bool lost;
	int rc;

	if (!out || !*out) {
		sc_cli_err("export", "--pcapng needs an output file");
		return SC_EXIT_FATAL;
	}
	if (!in) {
		sc_cli_err("export", "--pcapng needs an input .skc file (it is read twice, so not standard input)");
		return SC_EXIT_FATAL;
	}
	rc = sc_export_pcapng(in, out, &o, &st, &diag);
	if (rc < 0) {
		sc_cli_err("export", "%s", diag.msg);
		return SC_EXIT_FATAL;
	}
	name = strcmp(out, "-") == 0 ? "standard output" : out;
	if (!quiet) {
		fprintf(stderr, "%s: %" PRIu64 " TCP connections, %" PRIu64 " packets, %" PRIu64 " payload bytes, from %" PRIu64
			" sockets of %s\n", name, st.connections, st.packets, st.payload_bytes, st.sockets, in);
		if (st.mirrored)
			fprintf(stderr, "%s: %" PRIu64 " sockets not exported: the other end of a connection exported from "
				"its client's socket\n", name, st.mirrored);
		if (st.unix_sockets)
			fprintf(stderr, "%s: %" PRIu64 " Unix-domain sockets not exported (not TCP/IP)\n", name,
				st.unix_sockets);
		if (st.other_sockets)
			fprintf(stderr, "%s: %" PRIu64 " sockets not exported: not stream sockets, or their addresses are "
				"unknown\n", name, st.other_sockets);
		if (st.retimed)
			fprintf(stderr, "%s: %" PRIu64 " packets written later than recorded, to keep the file in time order\n",
				name, st.retimed);
	}
	/* What was lost is said even with -q. */
	if (st.gaps)
		fprintf(stderr, "%s: %" PRIu64 " gaps (%" PRIu64 " bytes the recorder lost) left as holes in the TCP "
			"sequence space\n", name, st.gaps, st.gap_bytes);
	if (st.src.damage[0])
		fprintf(stderr, "%s: damaged capture:\n%s\n", in, st.src.damage);
	lost = st.gaps || st.src.bytes_lost || st.src.damage[0];
	return lost ? SC_EXIT_LOSS : SC_EXIT_OK;
}
