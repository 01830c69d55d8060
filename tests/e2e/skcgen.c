/* skcgen.c - write an .skc capture from a script, for tests that need a
 * capture no recorder run can give cheaply (gigabytes of compressible
 * payload, exact losses, chosen addresses).
 *
 *   skcgen OUT.skc < SCRIPT
 *
 * One command per line; '#' starts a comment.  Every line advances the
 * clock by 1 ms.  Sockets are numbered by the script; each direction keeps
 * its stream offset.
 *
 *   open ID connect|accept LOCAL_IP:PORT REMOTE_IP:PORT [PID [COMM]]
 *   send ID TEXT          egress bytes (from the socket's process); TEXT takes
 *   recv ID TEXT          the C escapes \r \n \t \\ \xNN, the rest as is
 *   sendfill ID N CHAR    N egress bytes of CHAR (k/m/g suffixes)
 *   recvfill ID N CHAR
 *   loss ID out|in N      N bytes lost (ring buffer full) at the current offset
 *   close ID
 *   openunix ID PATH [PID [COMM]]   a Unix-domain stream socket (PATH and COMM
 *                                   take the escapes too)
 *   set hostname|kernel|tool|options TEXT   the capture's CAPTURE_INFO strings
 *                                   (escapes too); only before any other line
 *
 * `skcgen -u OUT.skc` leaves the file unfinished (no trailer).
 * Exit status 0, or 2 with a message naming the line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/skc.h"

#define MAX_SOCKS 65536

struct sock {
	bool open;
	uint64_t off[2];
	uint32_t pid;
};

static struct sock socks[MAX_SOCKS];
static char info_str[4][4096]; /* hostname, kernel, tool, options */
static size_t info_len[4];
static bool info_written;
static uint64_t now_ns = 1700000000000000000ull;
static unsigned line_no;

static int die(const char *what)
{
	fprintf(stderr, "skcgen: line %u: %s\n", line_no, what);
	return 2;
}

static int endpoint(const char *s, struct sc_endpoint *ep)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(ep, 0, sizeof(*ep));
	ep->port = (uint16_t)atoi(colon + 1);
	return inet_pton(AF_INET, host, ep->addr) == 1 ? 0 : -1;
}

static uint64_t size_arg(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': v <<= 10; break;
	case 'm': v <<= 20; break;
	case 'g': v <<= 30; break;
	}
	return v;
}

/* Unescape `s` in place; returns its length. */
static size_t unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\' || !r[1]) {
			*w++ = *r;
			continue;
		}
		r++;
		switch (*r) {
		case 'r': *w++ = '\r'; break;
		case 'n': *w++ = '\n'; break;
		case 't': *w++ = '\t'; break;
		case 'x': {
			char hex[3] = { r[1], r[1] ? r[2] : 0, 0 };

			*w++ = (char)strtoul(hex, NULL, 16);
			r += 2;
			break;
		}
		default: *w++ = *r;
		}
	}
	return (size_t)(w - s);
}

static int data(struct sc_skc_writer *w, unsigned id, unsigned dir, const uint8_t *p, size_t n)
{
	struct sc_skc_rec rec = { .type = SC_SKC_DATA };

	rec.u.data.sock_id = id;
	rec.u.data.ts_ns = now_ns;
	rec.u.data.offset = socks[id].off[dir];
	rec.u.data.pid = rec.u.data.tid = socks[id].pid;
	rec.u.data.orig_len = rec.u.data.cap_len = (uint32_t)n;
	rec.u.data.dir = (uint8_t)dir;
	rec.u.data.syscall = dir == SC_DIR_EGRESS ? SC_SYS_WRITE : SC_SYS_READ;
	rec.u.data.payload = p;
	socks[id].off[dir] += n;
	return sc_skc_write(w, &rec);
}

static int write_info(struct sc_skc_writer *w)
{
	struct sc_skc_rec info = { .type = SC_SKC_CAPTURE_INFO };

	info_written = true;
	info.u.info.start_real_ns = now_ns;
	info.u.info.start_mono_ns = now_ns;
	info.u.info.hostname = (struct sc_view){ (const uint8_t *)info_str[0], info_len[0] };
	info.u.info.kernel = (struct sc_view){ (const uint8_t *)info_str[1], info_len[1] };
	info.u.info.tool = (struct sc_view){ (const uint8_t *)info_str[2], info_len[2] };
	info.u.info.options = (struct sc_view){ (const uint8_t *)info_str[3], info_len[3] };
	return sc_skc_write(w, &info) < 0 ? die("write failed") : 0;
}

static int set_info(char *save)
{
	static const char *const keys[4] = { "hostname", "kernel", "tool", "options" };
	char *key = strtok_r(NULL, " \t\n", &save), *text = save ? save + strspn(save, " \t") : NULL;

	if (info_written)
		return die("set comes before every other line");
	for (int i = 0; key && text && i < 4; i++) {
		if (strcmp(key, keys[i]) == 0) {
			text[strcspn(text, "\n")] = '\0';
			snprintf(info_str[i], sizeof(info_str[i]), "%s", text);
			info_len[i] = unescape(info_str[i]);
			return 0;
		}
	}
	return die("set hostname|kernel|tool|options TEXT");
}

static int command(struct sc_skc_writer *w, char *line)
{
	char *save = NULL, *cmd = strtok_r(line, " \t\n", &save), *ids;
	struct sc_skc_rec rec = { 0 };
	unsigned long id;

	if (!cmd || *cmd == '#')
		return 0;
	if (strcmp(cmd, "set") == 0)
		return set_info(save);
	if (!info_written && write_info(w))
		return 2;
	ids = strtok_r(NULL, " \t\n", &save);
	if (!ids)
		return die("no socket id");
	id = strtoul(ids, NULL, 10);
	if (id == 0 || id >= MAX_SOCKS)
		return die("socket id out of range");
	now_ns += 1000000;
	if (strcmp(cmd, "open") == 0 || strcmp(cmd, "openunix") == 0) {
		bool unix_sock = cmd[4] == 'u';
		char *how = unix_sock ? NULL : strtok_r(NULL, " \t\n", &save), *l = strtok_r(NULL, " \t\n", &save);
		char *r = unix_sock ? NULL : strtok_r(NULL, " \t\n", &save), *pid = strtok_r(NULL, " \t\n", &save);
		char *comm = strtok_r(NULL, " \t\n", &save);

		rec.type = SC_SKC_SOCK_OPEN;
		rec.u.open.sock_id = id;
		rec.u.open.ts_ns = now_ns;
		rec.u.open.inode = 1000 + id;
		rec.u.open.fd = (int32_t)(3 + id % 1000);
		rec.u.open.family = SC_AF_INET;
		rec.u.open.sock_type = SC_SOCK_STREAM;
		if (unix_sock) {
			if (!l)
				return die("openunix ID PATH [PID [COMM]]");
			rec.u.open.how = SC_HOW_CONNECT;
			rec.u.open.family = SC_AF_UNIX;
			rec.u.open.unix_path = (struct sc_view){ (const uint8_t *)l, unescape(l) };
		} else {
			if (!how || !l || !r)
				return die("open ID connect|accept LOCAL REMOTE [PID [COMM]]");
			rec.u.open.how = strcmp(how, "accept") == 0 ? SC_HOW_ACCEPT : SC_HOW_CONNECT;
			if (endpoint(l, &rec.u.open.local) < 0 || endpoint(r, &rec.u.open.remote) < 0)
				return die("bad address (IPv4:PORT)");
		}
		socks[id] = (struct sock){ .open = true, .pid = pid ? (uint32_t)atoi(pid) : 100 };
		rec.u.open.pid = rec.u.open.tid = socks[id].pid;
		if (comm) {
			struct sc_skc_rec pr = { .type = SC_SKC_PROCESS };

			pr.u.proc.ts_ns = now_ns;
			pr.u.proc.pid = pr.u.proc.tid = socks[id].pid;
			pr.u.proc.comm = (struct sc_view){ (const uint8_t *)comm, unescape(comm) };
			if (sc_skc_write(w, &pr) < 0)
				return die("write failed");
		}
		return sc_skc_write(w, &rec) < 0 ? die("write failed") : 0;
	}
	if (!socks[id].open)
		return die("socket not open");
	if (strcmp(cmd, "send") == 0 || strcmp(cmd, "recv") == 0) {
		char *text = save ? save + strspn(save, " \t") : NULL;
		size_t n;

		if (!text)
			return die("no text");
		text[strcspn(text, "\n")] = '\0';
		n = unescape(text);
		return data(w, id, cmd[0] == 's' ? SC_DIR_EGRESS : SC_DIR_INGRESS, (const uint8_t *)text, n) < 0 ?
			       die("write failed") :
			       0;
	}
	if (strcmp(cmd, "sendfill") == 0 || strcmp(cmd, "recvfill") == 0) {
		char *ns = strtok_r(NULL, " \t\n", &save), *cs = strtok_r(NULL, " \t\n", &save);
		static uint8_t buf[SC_SKC_DATA_CHUNK];
		uint64_t n;

		if (!ns || !cs)
			return die("fill ID N CHAR");
		n = size_arg(ns);
		memset(buf, cs[0], sizeof(buf));
		while (n) {
			size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);

			if (data(w, id, cmd[0] == 's' ? SC_DIR_EGRESS : SC_DIR_INGRESS, buf, k) < 0)
				return die("write failed");
			n -= k;
		}
		return 0;
	}
	if (strcmp(cmd, "loss") == 0) {
		char *ds = strtok_r(NULL, " \t\n", &save), *ns = strtok_r(NULL, " \t\n", &save);
		unsigned dir;

		if (!ds || !ns)
			return die("loss ID out|in N");
		dir = strcmp(ds, "in") == 0 ? SC_DIR_INGRESS : SC_DIR_EGRESS;
		rec.type = SC_SKC_LOSS;
		rec.u.loss.sock_id = id;
		rec.u.loss.ts_ns = now_ns;
		rec.u.loss.offset = socks[id].off[dir];
		rec.u.loss.len = size_arg(ns);
		rec.u.loss.pid = socks[id].pid;
		rec.u.loss.events = 1;
		rec.u.loss.dir = (uint8_t)dir;
		rec.u.loss.reason = SC_LOSS_RINGBUF_FULL;
		rec.u.loss.syscall = dir == SC_DIR_EGRESS ? SC_SYS_WRITE : SC_SYS_READ;
		socks[id].off[dir] += rec.u.loss.len;
		return sc_skc_write(w, &rec) < 0 ? die("write failed") : 0;
	}
	if (strcmp(cmd, "close") == 0) {
		rec.type = SC_SKC_SOCK_CLOSE;
		rec.u.close.sock_id = id;
		rec.u.close.ts_ns = now_ns;
		rec.u.close.sent_bytes = socks[id].off[SC_DIR_EGRESS];
		rec.u.close.recv_bytes = socks[id].off[SC_DIR_INGRESS];
		rec.u.close.pid = rec.u.close.tid = socks[id].pid;
		socks[id].open = false;
		return sc_skc_write(w, &rec) < 0 ? die("write failed") : 0;
	}
	return die("unknown command");
}

int main(int argc, char **argv)
{
	struct sc_skc_writer_opts wo = { .zstd_level = 3, .overwrite = true };
	struct sc_skc_writer *w;
	char *line = NULL;
	const char *out;
	size_t cap = 0;
	int err = 0, st = 0;
	bool unfinished = argc == 3 && strcmp(argv[1], "-u") == 0;

	if (argc != 2 && !unfinished) {
		fprintf(stderr, "usage: skcgen [-u] OUT.skc < SCRIPT\n");
		return 2;
	}
	out = argv[argc - 1];
	w = sc_skc_writer_open(out, &wo, &err);
	if (!w) {
		fprintf(stderr, "skcgen: %s: %s\n", out, sc_strerror(err));
		return 2;
	}
	info_len[0] = (size_t)snprintf(info_str[0], sizeof(info_str[0]), "skcgen");
	info_len[2] = (size_t)snprintf(info_str[2], sizeof(info_str[2]), "skcgen");
	while (!st && getline(&line, &cap, stdin) > 0) {
		line_no++;
		st = command(w, line);
	}
	free(line);
	if (!st && !info_written)
		st = write_info(w);
	if (st || unfinished) {
		sc_skc_writer_abandon(w);
		return st;
	}
	if (sc_skc_writer_close(w, now_ns + 1000000, now_ns + 1000000) < 0) {
		fprintf(stderr, "skcgen: %s: closing failed\n", out);
		return 2;
	}
	return 0;
}
