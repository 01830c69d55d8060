#include "sc_types.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *sc_syscall_name(unsigned sys)
{
	static const char *const names[] = {
		[SC_SYS_UNKNOWN] = "unknown", [SC_SYS_READ] = "read",	  [SC_SYS_WRITE] = "write",
		[SC_SYS_READV] = "readv",     [SC_SYS_WRITEV] = "writev", [SC_SYS_SENDTO] = "sendto",
		[SC_SYS_RECVFROM] = "recvfrom", [SC_SYS_SENDMSG] = "sendmsg", [SC_SYS_RECVMSG] = "recvmsg",
		[SC_SYS_SENDFILE] = "sendfile", [SC_SYS_CONNECT] = "connect", [SC_SYS_ACCEPT] = "accept",
		[SC_SYS_SPLICE] = "splice",   [SC_SYS_SENDMMSG] = "sendmmsg", [SC_SYS_RECVMMSG] = "recvmmsg",
		[SC_SYS_USER] = "user",
	};

	return sys <= SC_SYS_MAX ? names[sys] : "unknown";
}

const char *sc_loss_reason_name(unsigned reason)
{
	static const char *const names[] = {
		[SC_LOSS_RINGBUF_FULL] = "ringbuf-full",
		[SC_LOSS_SNAPLEN] = "snaplen",
		[SC_LOSS_NOT_USER_MEMORY] = "not-in-user-memory",
		[SC_LOSS_UNSUPPORTED] = "unsupported",
		[SC_LOSS_READ_FAULT] = "read-fault",
		[SC_LOSS_OTHER] = "other",
	};

	return reason >= 1 && reason <= SC_LOSS_NREASONS ? names[reason] : "unknown-reason";
}

const char *sc_how_name(unsigned how)
{
	switch (how) {
	case SC_HOW_CONNECT: return "connect";
	case SC_HOW_ACCEPT: return "accept";
	case SC_HOW_EXISTING: return "existing";
	}
	return "unknown";
}

const char *sc_family_name(unsigned family)
{
	switch (family) {
	case SC_AF_UNIX: return "unix";
	case SC_AF_INET: return "ipv4";
	case SC_AF_INET6: return "ipv6";
	}
	return "unknown";
}

const char *sc_dir_name(unsigned dir)
{
	switch (dir) {
	case SC_DIR_EGRESS: return "out";
	case SC_DIR_INGRESS: return "in";
	}
	return "unknown";
}

char *sc_addr_fmt(char *buf, size_t n, unsigned family, const uint8_t addr[16])
{
	if (n == 0)
		return buf;
	if (family == SC_AF_INET) {
		snprintf(buf, n, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
		return buf;
	}
	if (family != SC_AF_INET6) {
		snprintf(buf, n, "-");
		return buf;
	}
	/* RFC 5952 text form: lower case, the longest run (>= 2) of zero groups
	 * compressed, IPv4-mapped addresses in dotted form. */
	uint16_t g[8];
	int best = -1, bestlen = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(addr[2 * i] << 8 | addr[2 * i + 1]);
	if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
		snprintf(buf, n, "::ffff:%u.%u.%u.%u", addr[12], addr[13], addr[14], addr[15]);
		return buf;
	}
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < 8 && off < n; i++) {
		int w;

		if (i == best) {
			w = snprintf(buf + off, n - off, "::");
			i += bestlen - 1;
		} else {
			w = snprintf(buf + off, n - off, "%s%x", (i > 0 && i != best + bestlen) ? ":" : "", g[i]);
		}
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}

char *sc_endpoint_fmt(char *buf, size_t n, unsigned family, const struct sc_endpoint *ep)
{
	char a[SC_ADDR_STRLEN];

	sc_addr_fmt(a, sizeof(a), family, ep->addr);
	if (family == SC_AF_INET6)
		snprintf(buf, n, "[%s]:%u", a, ep->port);
	else if (family == SC_AF_INET)
		snprintf(buf, n, "%s:%u", a, ep->port);
	else
		snprintf(buf, n, "-");
	return buf;
}

char *sc_time_fmt(char *buf, size_t n, uint64_t wall_ns, int date)
{
	time_t secs = (time_t)(wall_ns / 1000000000u);
	unsigned long frac = (unsigned long)(wall_ns % 1000000000u);
	struct tm tm;
	char hms[32];

	if (!localtime_r(&secs, &tm)) {
		snprintf(buf, n, "%llu.%09lu", (unsigned long long)(wall_ns / 1000000000u), frac);
		return buf;
	}
	strftime(hms, sizeof(hms), date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%09lu", hms, frac);
	return buf;
}
