/* sc_types.h - the event model shared by capture files, pcaps and the analyzer.
 *
 * The numeric values below are written to .skc files (formats/SKC-FORMAT.md):
 * they are stable and must not be renumbered.
 */
#ifndef SC_TYPES_H
#define SC_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Direction of bytes relative to the local end of a socket (the traced process),
 * or, for pcap connections, relative to the side that opened the connection. */
enum sc_dir {
	SC_DIR_EGRESS = 0,  /* sent by the local process / by the client */
	SC_DIR_INGRESS = 1, /* received by the local process / from the server */
	SC_DIR_UNKNOWN = 255,
};

/* Address families, independent of the host's AF_* values (AF_INET6 is 10 on
 * Linux and 30 on macOS). */
enum sc_family {
	SC_AF_UNSPEC = 0,
	SC_AF_UNIX = 1,
	SC_AF_INET = 4,
	SC_AF_INET6 = 6,
};

/* Syscalls that move socket bytes (DATA.syscall, LOSS.syscall). */
enum sc_syscall {
	SC_SYS_UNKNOWN = 0,
	SC_SYS_READ = 1,
	SC_SYS_WRITE = 2,
	SC_SYS_READV = 3,
	SC_SYS_WRITEV = 4,
	SC_SYS_SENDTO = 5,
	SC_SYS_RECVFROM = 6,
	SC_SYS_SENDMSG = 7,
	SC_SYS_RECVMSG = 8,
	SC_SYS_SENDFILE = 9,
	SC_SYS_CONNECT = 10,
	SC_SYS_ACCEPT = 11,
	SC_SYS_SPLICE = 12,
	SC_SYS_SENDMMSG = 13,
	SC_SYS_RECVMMSG = 14,
	SC_SYS_USER = 15, /* written from user space (sockcap replay) */
	SC_SYS_MAX = 15,
};

/* Why bytes or events are missing (LOSS.reason). */
enum sc_loss_reason {
	SC_LOSS_RINGBUF_FULL = 1,
	SC_LOSS_SNAPLEN = 2,
	SC_LOSS_NOT_USER_MEMORY = 3,
	SC_LOSS_UNSUPPORTED = 4,
	SC_LOSS_READ_FAULT = 5,
	SC_LOSS_OTHER = 6,
	SC_LOSS_NREASONS = 6, /* highest known reason */
};

/* How a socket became known (SOCK_OPEN.how). */
enum sc_sock_how {
	SC_HOW_CONNECT = 1,
	SC_HOW_ACCEPT = 2,
	SC_HOW_EXISTING = 3,
};

enum sc_sock_type {
	SC_SOCK_STREAM = 1,
	SC_SOCK_DGRAM = 2,
	SC_SOCK_SEQPACKET = 5,
};

#define SC_SOCK_F_MIDSTREAM 0x01u /* already open when first seen */
#define SC_SOCK_F_CONTINUED 0x02u /* continued from the previous file of a rotation */

/* One end of a connection.  IPv4 addresses use addr[0..3] in network order. */
struct sc_endpoint {
	uint16_t port;
	uint8_t addr[16];
};

/* Static names ("sendto", "ringbuf-full", "connect"); "?" style fallbacks for
 * unknown values are written into `buf` (at least 16 bytes) by the _r forms. */
const char *sc_syscall_name(unsigned sys);
const char *sc_loss_reason_name(unsigned reason);
const char *sc_how_name(unsigned how);
const char *sc_family_name(unsigned family);
const char *sc_dir_name(unsigned dir);

/* Format an address ("127.0.0.1", "::1") or an address and port
 * ("127.0.0.1:8080", "[::1]:8080") into `buf`.  Returns `buf`.  A family other
 * than IPv4/IPv6 gives "-". */
#define SC_ADDR_STRLEN 48
#define SC_EP_STRLEN 56
char *sc_addr_fmt(char *buf, size_t n, unsigned family, const uint8_t addr[16]);
char *sc_endpoint_fmt(char *buf, size_t n, unsigned family, const struct sc_endpoint *ep);

/* Wall-clock nanoseconds to "HH:MM:SS.nnnnnnnnn" in local time (like tcpdump)
 * or, with `date`, "YYYY-MM-DD HH:MM:SS.nnnnnnnnn". */
#define SC_TIME_STRLEN 40
char *sc_time_fmt(char *buf, size_t n, uint64_t wall_ns, int date);

#endif
