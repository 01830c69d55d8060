/* cli.h - the sockcap program: subcommands and the helpers they share.
 *
 * Programs are thin (ARCHITECTURE.md): parse options, wire a source to a sink,
 * print.  Only code under cli/ prints to the terminal or exits.
 */
#ifndef SC_CLI_H
#define SC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status of every subcommand (documented in `sockcap --help`). */
#define SC_EXIT_OK 0    /* everything read, nothing lost, no differences */
#define SC_EXIT_LOSS 1  /* data lost or damaged input, or differences found */
#define SC_EXIT_FATAL 2 /* usage error or fatal error */

struct sc_cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

int sc_cmd_info(int argc, char **argv);
int sc_cmd_dump(int argc, char **argv);
int sc_cmd_record(int argc, char **argv);
int sc_cmd_analyze(int argc, char **argv);
int sc_cmd_export(int argc, char **argv);
int sc_cmd_diff(int argc, char **argv);

/* `sockcap export --pcapng OUT IN`: the .skc capture `in` (a file: it is read
 * twice) as synthesized TCP packets in the pcapng file `out` ("-": standard
 * output), replacing an existing `out` only with `force`.  Prints a summary
 * on stderr (with `quiet`, only the losses); returns the exit status (0, 1
 * when data was lost, 2). */
int sc_cli_export_pcapng(const char *out, const char *in, bool force, bool quiet);
int sc_cmd_replay(int argc, char **argv);

/* Compare two captures or databases as `sockcap diff` does and print the
 * differences; returns the exit status (0 equal, 1 different, 2 error). */
int sc_cli_compare(const char *a, const char *b, const char *const *ignore, size_t nignore, bool json, bool quiet);

extern const char *sc_cli_progname;

/* "sockcap info: " prefixed message on stderr. */
void sc_cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Usage errors follow the GNU convention: one line saying what is wrong,
 * then "Try 'sockcap CMD --help' for more information.", exit status 2.
 * getopt_long() prints the first line itself for a bad option ("sockcap
 * record: invalid option -- 'z'": main() names each subcommand's argv[0]
 * "sockcap CMD"), so its '?' only needs sc_cli_try_help().  Both return
 * SC_EXIT_FATAL.  `cmd` NULL: the program itself. */
int sc_cli_try_help(const char *cmd);
int sc_cli_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write `len` bytes as a C-like escaped string body: printable ASCII as is,
 * \r \n \t \\ \" and \xNN otherwise.  At most `max` input bytes; "..." is
 * appended when cut. */
void sc_cli_escape(FILE *out, const uint8_t *p, size_t len, size_t max);

/* The same escapes into `buf` (`cap` bytes, at least 8), NUL-terminated, cut
 * with "..." when they do not fit; returns `buf`.  Every string a capture
 * holds (a process name, a hostname, options, a Unix path) is printed
 * through one of these: a recorded escape sequence must never reach the
 * analyst's terminal. */
const char *sc_cli_esc(char *buf, size_t cap, const void *p, size_t len);

/* Room for sc_cli_esc() of `n` bytes, uncut. */
#define SC_CLI_ESC_LEN(n) (4 * (n) + 4)

/* Hex dump like `tcpdump -x` (hex only) or `tcpdump -X` (hex and ASCII). */
void sc_cli_hexdump(FILE *out, const uint8_t *p, size_t len, bool ascii);

/* A JSON string literal with quotes; bytes that are not valid UTF-8 printable
 * text are escaped as \u00NN so the output is always valid JSON. */
void sc_cli_json_str(FILE *out, const void *p, size_t len);


/* Parse a non-negative integer with an optional k/m/g (binary) suffix. */
int sc_cli_parse_size(const char *s, uint64_t *out);

struct sc_pcap_stats;

/* A pcap's skipped frames by reason, the non-zero ones only: "non-IP 3,
 * truncated 1" ("none" when nothing was skipped). */
void sc_cli_print_skipped(FILE *out, const struct sc_pcap_stats *st);

/* Standard lines of every subcommand's --help. */
void sc_cli_exit_codes_help(FILE *out);

#endif
