#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
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

void sc_cli_escape(FILE *out, const uint8_t *p, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (c) {
		case '\r': fputs("\\r", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\\': fputs("\\\\", out); break;
		case '"': fputs("\\\"", out); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				fputc(c, out);
			else
				fprintf(out, "\\x%02x", c);
		}
	}
	if (len > n)
		fputs("...", out);
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

int sc_cli_detect(const char *path)
{
	uint8_t head[8];
	size_t n;

	if (strcmp(path, "-") == 0) {
		int c = getc(stdin);

		if (c == EOF)
			return SC_FILE_UNKNOWN;
		ungetc(c, stdin);
		/* One byte tells them apart: 0x89 .skc, 0x0a pcapng, a1/d4/4d pcap. */
		switch (c) {
		case 0x89: return SC_FILE_SKC;
		case 0x0a: return SC_FILE_PCAPNG;
		case 0xa1: case 0xd4: case 0x4d: return SC_FILE_PCAP;
		}
		return SC_FILE_UNKNOWN;
	}
	FILE *f = fopen(path, "rb");

	if (!f)
		return -errno;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return sc_file_detect(head, n);
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
