#include "analyze/analyze.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "formats/skc.h"

int sc_analyze_file(const char *path, const struct sc_analyze_opts *o, const struct sc_sink *sink,
		    struct sc_analyze_result *res, struct sc_diag *diag)
{
	uint8_t head[8];
	size_t n;
	FILE *f = fopen(path, "rb");

	memset(res, 0, sizeof(*res));
	if (!f)
		return sc_diag_set(diag, -errno, 0, "%s: %s", path, strerror(errno));
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	switch (sc_file_detect(head, n)) {
	case SC_FILE_SKC:
		res->format = "skc";
		return sc_analyze_skc(path, o, sink, res, diag);
	case SC_FILE_PCAP:
		res->format = "pcap";
		return sc_analyze_pcap(path, o, sink, res, diag);
	case SC_FILE_PCAPNG:
		res->format = "pcapng";
		return sc_analyze_pcap(path, o, sink, res, diag);
	case SC_FILE_UNKNOWN:
		break;
	}
	return sc_diag_set(diag, SC_EFORMAT, 0, "%s: not a capture file (neither .skc, pcap nor pcapng)", path);
}
