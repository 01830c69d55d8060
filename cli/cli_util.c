#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/sc_pcap.h"
#include "formats/skc.h"

const char *sc_cli_progname = "sockcap";

void sc_cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (cmd)
		fprintf(stderr, "%s %s: ", sc_cli_progname, cmd);
	else
		fprintf(stderr, "%s: ", sc_cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int sc_cli_try_help(const char *cmd)
{
	fflush(stdout);
	if (cmd)
		fprintf(stderr, "Try '%s %s --help' for more information.\n", sc_cli_progname, cmd);
	else
		fprintf(stderr, "Try '%s --help' for more information.\n", sc_cli_progname);
	return SC_EXIT_FATAL;
}

int sc_cli_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (cmd)
		fprintf(stderr, "%s %s: ", sc_cli_progname, cmd);
	else
		fprintf(stderr, "%s: ", sc_cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return sc_cli_try_help(cmd);
}

/* One byte as sc_cli_escape writes it, into out[0..4]; returns the length. */
static size_t esc_byte(uint8_t c, char out[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\r': memcpy(out, "\\r", 2); return 2;
	case '\n': memcpy(out, "\\n", 2); return 2;
	case '\t': memcpy(out, "\\t", 2); return 2;
	case '\\': memcpy(out, "\\\\", 2); return 2;
	case '"': memcpy(out, "\\\"", 2); return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

void sc_cli_escape(FILE *out, const uint8_t *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;
	char e[5];

	for (size_t i = 0; i < n; i++)
		fwrite(e, 1, esc_byte(p[i], e), out);
	if (len > n)
		fputs("...", out);
}

const char *sc_cli_esc(char *buf, size_t cap, const void *ptr, size_t len)
{
	const uint8_t *p = ptr;
	size_t o = 0;
	char e[5];

	for (size_t i = 0; i < len; i++) {
		size_t k = esc_byte(p[i], e);

		if (o + k + 4 > cap) { /* room for "..." and the NUL */
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, e, k);
		o += k;
	}
	buf[o] = '\0';
	return buf;
}

void sc_cli_hexdump(FILE *out, const uint8_t *p, size_t len, bool ascii)
{
	for (size_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? len - off : 16;

		fprintf(out, "\t0x%04zx:  ", off);
		for (size_t i = 0; i < 16; i++) {
			if (i < n)
				fprintf(out, "%02x", p[off + i]);
			else if (ascii)
				fputs("  ", out);
			if (i % 2 == 1 && (i < n - 1 || ascii) && i != 15)
				fputc(' ', out);
		}
		if (ascii) {
			fputs("  ", out);
			for (size_t i = 0; i < n; i++) {
				uint8_t c = p[off + i];

				fputc(c >= 0x20 && c < 0x7f ? c : '.', out);
			}
		}
		fputc('\n', out);
	}
}

void sc_cli_json_str(FILE *out, const void *ptr, size_t len)
{
	const uint8_t *p = ptr;

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

int sc_cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	unsigned shift = 0;

	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

void sc_cli_exit_codes_help(FILE *out)
{
	fputs("\nExit status:\n"
	      "  0  success: everything was read and nothing was lost\n"
	      "  1  data was lost or the input is damaged (or differences were found)\n"
	      "  2  usage error or fatal error\n", out);
}

void sc_cli_print_skipped(FILE *out, const struct sc_pcap_stats *st)
{
	const struct {
		const char *what;
		uint64_t n;
	} r[] = {
		{ "non-IP", st->skipped_non_ip },
		{ "non-TCP", st->skipped_non_tcp },
		{ "fragments not reassembled", st->skipped_fragments },
		{ "truncated headers", st->skipped_truncated },
		{ "malformed", st->skipped_malformed },
		{ "link type not decoded", st->skipped_link_type },
	};
	bool any = false;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (!r[i].n)
			continue;
		fprintf(out, "%s%s %" PRIu64, any ? ", " : "", r[i].what, r[i].n);
		any = true;
	}
	if (!any)
		fputs("none", out);
}
