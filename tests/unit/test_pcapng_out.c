/* test_pcapng_out.c - synthesized packets and the pcapng writer (analyze/pcapng_out.h).
 *
 * Checksums against known vectors: RFC 1071's worked example, real IPv4
 * headers, a real IPv4 TCP segment, and every IPv6 TCP segment of a committed
 * capture (tests/pcaps/ipv6-raw.pcap, whose checksums tshark finds good),
 * rebuilt field by field from what formats/sc_pcap.h decodes and compared
 * byte for byte.  The pcapng blocks are pinned byte for byte, and files the
 * writer makes are read back with libpcap and with sc_pcap.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/pcapng_out.h"
#include "formats/sc_pcap.h"

#include "sc_test.h"

static char tmpdir[] = "/tmp/sc-test-pcapng-XXXXXX";

static void setup_tmp(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static const char *const tmp_names[] = { "one.pcapng", "excl.pcapng", "read.pcapng" };

static char *tmp_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static void teardown_tmp(void)
{
	for (size_t i = 0; i < sizeof(tmp_names) / sizeof(tmp_names[0]); i++)
		unlink(tmp_path(tmp_names[i]));
	rmdir(tmpdir);
}

TestSuite(pcapng_out, .init = setup_tmp, .fini = teardown_tmp);

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		cr_assert_eq(sscanf(hex, "%2x", &v), 1);
		cr_assert_lt(n, cap);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- checksums ------------------------------------------------------------------------ */

Test(pcapng_out, inet_checksum_matches_the_rfc1071_example)
{
	/* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (carries
	 * folded); the checksum is its complement. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(sc_pcapng_inet_checksum(b, sizeof(b)), 0x220d);
	/* An odd length pads with a zero byte. */
	cr_assert_eq(sc_pcapng_inet_checksum(b, 7), (uint16_t)~0xdcfb);
	cr_assert_eq(sc_pcapng_inet_checksum(NULL, 0), 0xffff);
}

Test(pcapng_out, ipv4_header_checksums_match_known_headers)
{
	/* A textbook header (RFC 791 fields, checksum b861) and the SYN of
	 * samples/curl-pyhttp.pcap as first committed (checksum 780f). */
	static const char *const hdrs[][2] = {
		{ "450000730000400040110000c0a80001c0a800c7", "b861" },
		{ "4500003cc4aa4000400600007f0000017f000001", "780f" },
	};

	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		uint8_t h[20], want[2];

		cr_assert_eq(unhex(h, sizeof(h), hdrs[i][0]), 20);
		unhex(want, sizeof(want), hdrs[i][1]);
		cr_assert_eq(sc_pcapng_inet_checksum(h, 20), (uint16_t)(want[0] << 8 | want[1]), "header %zu", i);
		/* With the checksum in place the header sums to 0xffff. */
		h[10] = want[0];
		h[11] = want[1];
		cr_assert_eq(sc_pcapng_inet_checksum(h, 20), 0);
	}
}

/* Frame 4 of samples/curl-pyhttp.pcap as first committed: curl's GET (89
 * payload bytes: an odd length) on the loopback.  Its TCP checksum field held
 * only the pseudo-header sum (fe81, CHECKSUM_PARTIAL: loopback offloads the
 * rest), so the complete checksum, ca8b, was computed separately and
 * tshark -o tcp.check_checksum:TRUE finds it good. */
static const char CURL_GET[] =
	"4500008d817040004006baf87f0000017f000001d6208bb3408c4d6cf709795580180040"
	"ca8b00000101080a2667b5941c9ba35f474554202f696e6465782e68746d6c2048545450"
	"2f312e310d0a486f73743a203132372e302e302e313a33353736330d0a557365722d4167"
	"656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a";

Test(pcapng_out, tcp_checksum_of_a_real_ipv4_segment)
{
	uint8_t p[256], src[16] = { 0 }, dst[16] = { 0 };
	size_t n = unhex(p, sizeof(p), CURL_GET);

	cr_assert_eq(n, 141);
	memcpy(src, p + 12, 4);
	memcpy(dst, p + 16, 4);
	p[20 + 16] = p[20 + 17] = 0;
	cr_assert_eq(sc_pcapng_tcp_checksum(SC_AF_INET, src, dst, p + 20, n - 20), 0xca8b);
}

/* Rebuild a decoded segment with sc_pcapng_encode_tcp(), taking the TCP
 * options (which sc_pcap does not keep) from the original bytes. */
static long rebuild(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap, int dlt)
{
	struct sc_pcap_stats st = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcapng_tcp t = { 0 };
	size_t ip_len, tcp_hlen;

	cr_assert_eq(sc_pcap_decode(dlt, pkt, (uint32_t)len, &seg, &st), 1);
	ip_len = seg.family == SC_AF_INET6 ? 40 : (size_t)(pkt[0] & 0x0f) * 4;
	tcp_hlen = (size_t)(pkt[ip_len + 12] >> 4) * 4;
	t.family = seg.family;
	t.src = seg.src.addr;
	t.dst = seg.dst.addr;
	t.sport = seg.src.port;
	t.dport = seg.dst.port;
	t.seq = seg.seq;
	t.ack = seg.ack;
	t.flags = seg.flags;
	t.window = seg.window;
	t.ip_id = seg.family == SC_AF_INET ? (uint16_t)(pkt[4] << 8 | pkt[5]) : 0;
	t.opts = pkt + ip_len + 20;
	t.opts_len = tcp_hlen - 20;
	t.payload = seg.payload;
	t.len = seg.len;
	return sc_pcapng_encode_tcp(out, cap, &t);
}

Test(pcapng_out, encode_tcp_rebuilds_a_real_ipv4_packet_exactly)
{
	uint8_t p[256], out[256];
	size_t n = unhex(p, sizeof(p), CURL_GET);
	long m = rebuild(p, n, out, sizeof(out), (int)SC_PCAPNG_LINKTYPE_RAW);

	cr_assert_eq(m, (long)n);
	cr_assert_arr_eq(out, p, n);
}

Test(pcapng_out, encode_tcp_rebuilds_every_ipv6_segment_of_a_capture)
{
	char path[4096], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *pkt;
	pcap_t *pc;
	int rc, frames = 0, with_payload = 0;

	snprintf(path, sizeof(path), "%s/tests/pcaps/ipv6-raw.pcap", sc_test_srcdir());
	pc = pcap_open_offline(path, errbuf);
	cr_assert_not_null(pc, "%s", errbuf);
	while ((rc = pcap_next_ex(pc, &h, &pkt)) == 1) {
		uint8_t out[SC_PCAPNG_PKT_MAX], zeroed[SC_PCAPNG_PKT_MAX];
		long m = rebuild(pkt, h->caplen, out, sizeof(out), pcap_datalink(pc));

		frames++;
		cr_assert_eq((pkt[0] >> 4), 6);
		cr_assert_eq(m, (long)h->caplen, "frame %d", frames);
		cr_assert_arr_eq(out, pkt, h->caplen, "frame %d differs", frames);
		/* The checksum function alone, on the segment with its field zeroed. */
		memcpy(zeroed, pkt, h->caplen);
		zeroed[40 + 16] = zeroed[40 + 17] = 0;
		cr_assert_eq(sc_pcapng_tcp_checksum(SC_AF_INET6, pkt + 8, pkt + 24, zeroed + 40, h->caplen - 40),
			     (uint16_t)(pkt[40 + 16] << 8 | pkt[40 + 17]), "frame %d", frames);
		if (h->caplen > 40u + (size_t)(pkt[40 + 12] >> 4) * 4)
			with_payload++;
	}
	cr_assert_eq(rc, PCAP_ERROR_BREAK);
	pcap_close(pc);
	cr_assert_eq(frames, 24);
	cr_assert_gt(with_payload, 0);
}

Test(pcapng_out, encode_tcp_refuses_what_ip_cannot_carry)
{
	static uint8_t buf[70000], payload[65535];
	uint8_t a[16] = { 192, 0, 2, 1 }, b[16] = { 192, 0, 2, 2 }, opt3[3] = { 1, 1, 1 };
	struct sc_pcapng_tcp t = { .family = SC_AF_INET, .src = a, .dst = b, .sport = 1, .dport = 2,
				   .payload = payload };

	t.len = 65535 - 40;
	cr_assert_eq(sc_pcapng_encode_tcp(buf, sizeof(buf), &t), 65535);
	t.len = 65535 - 39; /* one byte over IPv4's total length */
	cr_assert_eq(sc_pcapng_encode_tcp(buf, sizeof(buf), &t), SC_ETOOBIG);
	t.family = SC_AF_INET6; /* the payload length excludes the IPv6 header */
	t.len = 65535 - 20;
	cr_assert_eq(sc_pcapng_encode_tcp(buf, sizeof(buf), &t), 65535 + 40);
	t.len = 65535 - 19;
	cr_assert_eq(sc_pcapng_encode_tcp(buf, sizeof(buf), &t), SC_ETOOBIG);
	t.len = 10;
	cr_assert_eq(sc_pcapng_encode_tcp(buf, 69, &t), SC_ETOOBIG); /* 70 bytes needed */
	cr_assert_eq(sc_pcapng_encode_tcp(buf, 70, &t), 70);
	t.opts = opt3;
	t.opts_len = 3;
	cr_assert_eq(sc_pcapng_encode_tcp(buf, sizeof(buf), &t), SC_EUNSUPP);
	t.opts_len = 0;
	t.family = SC_AF_UNIX;
	cr_assert_eq(sc_pcapng_encode_tcp(buf, sizeof(buf), &t), SC_EUNSUPP);
}

/* ---- blocks --------------------------------------------------------------------------- */

static const uint8_t SHB[] = {
	0x0a, 0x0d, 0x0d, 0x0a, 0x2c, 0x00, 0x00, 0x00, /* type, total length 44 */
	0x4d, 0x3c, 0x2b, 0x1a,                         /* byte-order magic, little-endian */
	0x01, 0x00, 0x00, 0x00,                         /* version 1.0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* section length -1 */
	0x04, 0x00, 0x07, 0x00, 's', 'o', 'c', 'k', 'c', 'a', 'p', 0x00, /* shb_userappl */
	0x00, 0x00, 0x00, 0x00,                         /* opt_endofopt */
	0x2c, 0x00, 0x00, 0x00,
};

static const uint8_t IDB[] = {
	0x01, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, /* type, total length 40 */
	0x65, 0x00, 0x00, 0x00,                         /* LINKTYPE_RAW, reserved */
	0xff, 0xff, 0x00, 0x00,                         /* snaplen 65535 */
	0x02, 0x00, 0x02, 0x00, 'l', 'o', 0x00, 0x00,   /* if_name */
	0x09, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, /* if_tsresol: 10^-9 */
	0x00, 0x00, 0x00, 0x00,
	0x28, 0x00, 0x00, 0x00,
};

static const uint8_t EPB[] = {
	0x06, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, /* type, total length 52 */
	0x00, 0x00, 0x00, 0x00,                         /* interface 0 */
	0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, /* timestamp high, low (ns) */
	0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, /* captured, original length */
	0x45, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, /* packet, padded */
	0x01, 0x00, 0x02, 0x00, 'h', 'i', 0x00, 0x00,   /* opt_comment */
	0x00, 0x00, 0x00, 0x00,
	0x34, 0x00, 0x00, 0x00,
};

static const uint8_t PKT5[5] = { 0x45, 0x01, 0x02, 0x03, 0x04 };
#define TS5 ((1ull << 32) | 2u)

Test(pcapng_out, blocks_have_the_specified_bytes)
{
	uint8_t b[256];

	cr_assert_eq(sc_pcapng_encode_shb(b, sizeof(b), "sockcap", NULL), (long)sizeof(SHB));
	cr_assert_arr_eq(b, SHB, sizeof(SHB));
	cr_assert_eq(sc_pcapng_encode_idb(b, sizeof(b), SC_PCAPNG_LINKTYPE_RAW, "lo"), (long)sizeof(IDB));
	cr_assert_arr_eq(b, IDB, sizeof(IDB));
	cr_assert_eq(sc_pcapng_encode_epb(b, sizeof(b), TS5, PKT5, sizeof(PKT5), "hi", 2), (long)sizeof(EPB));
	cr_assert_arr_eq(b, EPB, sizeof(EPB));
}

Test(pcapng_out, blocks_without_options)
{
	static const uint8_t shb[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0x00, 0x00, 0x00,
	};
	uint8_t b[256];

	cr_assert_eq(sc_pcapng_encode_shb(b, sizeof(b), NULL, NULL), (long)sizeof(shb));
	cr_assert_arr_eq(b, shb, sizeof(shb));
	/* An EPB without a comment has no options at all: 32 + 8 bytes. */
	cr_assert_eq(sc_pcapng_encode_epb(b, sizeof(b), TS5, PKT5, sizeof(PKT5), NULL, 0), 40);
	cr_assert_eq(b[4], 40);
	cr_assert_eq(b[36], 40);
	/* A packet of a multiple of 4 bytes needs no padding. */
	cr_assert_eq(sc_pcapng_encode_epb(b, sizeof(b), 0, PKT5, 4, NULL, 0), 36);
}

Test(pcapng_out, blocks_that_do_not_fit_are_refused)
{
	uint8_t b[64];
	static char longc[SC_PCAPNG_COMMENT_MAX + 100];

	cr_assert_eq(sc_pcapng_encode_shb(b, sizeof(SHB) - 1, "sockcap", NULL), SC_ETOOBIG);
	cr_assert_eq(sc_pcapng_encode_idb(b, sizeof(IDB) - 1, SC_PCAPNG_LINKTYPE_RAW, "lo"), SC_ETOOBIG);
	cr_assert_eq(sc_pcapng_encode_epb(b, sizeof(EPB) - 1, TS5, PKT5, sizeof(PKT5), "hi", 2), SC_ETOOBIG);
	cr_assert_eq(sc_pcapng_encode_epb(NULL, 0, 0, PKT5, SC_PCAPNG_PKT_MAX + 1, NULL, 0), SC_ETOOBIG);
	{
		/* Comments are cut at SC_PCAPNG_COMMENT_MAX bytes. */
		static uint8_t big[2048];

		memset(longc, 'x', sizeof(longc) - 1);
		cr_assert_eq(sc_pcapng_encode_epb(big, sizeof(big), 0, PKT5, 4, longc, sizeof(longc) - 1),
			     32 + 4 + 4 + SC_PCAPNG_COMMENT_MAX + 4);
		cr_assert_eq(big[32 + 2] | big[32 + 3] << 8, SC_PCAPNG_COMMENT_MAX);
	}
}

/* ---- the writer ----------------------------------------------------------------------- */

static const struct sc_pcapng_writer_opts WOPTS = { .app = "sockcap", .comment = "made by a test", .if_name = "lo" };

Test(pcapng_out, writer_file_is_the_blocks_in_order)
{
	uint8_t want[512];
	size_t n = 0, len;
	long k;
	struct sc_pcapng_writer *w;
	uint8_t *got;
	struct stat sb;
	struct sc_diag d = { 0 };
	mode_t um = umask(0);

	w = sc_pcapng_writer_open(tmp_path("one.pcapng"), &WOPTS, &d);
	umask(um);
	cr_assert_not_null(w, "%s", d.msg);
	cr_assert_eq(sc_pcapng_writer_packet(w, TS5, PKT5, sizeof(PKT5), "hi", 2), 0);
	cr_assert_eq(sc_pcapng_writer_packet(w, TS5 + 1, PKT5, 4, NULL, 0), 0);
	k = sc_pcapng_encode_shb(want, sizeof(want), "sockcap", "made by a test");
	cr_assert_gt(k, 0);
	n += (size_t)k;
	k = sc_pcapng_encode_idb(want + n, sizeof(want) - n, SC_PCAPNG_LINKTYPE_RAW, "lo");
	cr_assert_gt(k, 0);
	n += (size_t)k;
	cr_assert_eq(sc_pcapng_encode_epb(want + n, sizeof(want) - n, TS5, PKT5, sizeof(PKT5), "hi", 2),
		     (long)sizeof(EPB));
	n += sizeof(EPB);
	k = sc_pcapng_encode_epb(want + n, sizeof(want) - n, TS5 + 1, PKT5, 4, NULL, 0);
	cr_assert_eq(k, 36);
	n += (size_t)k;
	cr_assert_eq(sc_pcapng_writer_bytes(w), n);
	cr_assert_eq(stat(tmp_path("one.pcapng"), &sb), -1, "nothing at the path before the close");
	cr_assert_eq(sc_pcapng_writer_close(w, &d), 0, "%s", d.msg);
	got = slurp(tmp_path("one.pcapng"), &len);
	cr_assert_eq(len, n);
	cr_assert_arr_eq(got, want, n);
	free(got);
	cr_assert_eq(stat(tmp_path("one.pcapng"), &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600, "captured content is 0600 whatever the umask");
}

Test(pcapng_out, writer_refuses_an_existing_file_unless_told)
{
	struct sc_pcapng_writer_opts o = WOPTS;
	struct sc_pcapng_writer *w;
	struct sc_diag d = { 0 };
	size_t len;
	uint8_t *got;
	FILE *f = fopen(tmp_path("excl.pcapng"), "w");

	cr_assert_not_null(f);
	fputs("precious", f);
	fclose(f);
	w = sc_pcapng_writer_open(tmp_path("excl.pcapng"), &o, &d);
	cr_assert_null(w);
	cr_assert_eq(d.err, -EEXIST);
	got = slurp(tmp_path("excl.pcapng"), &len);
	cr_assert_eq(len, 8, "the existing file is left alone");
	free(got);
	o.overwrite = true;
	w = sc_pcapng_writer_open(tmp_path("excl.pcapng"), &o, &d);
	cr_assert_not_null(w);
	cr_assert_eq(sc_pcapng_writer_close(w, &d), 0);
	got = slurp(tmp_path("excl.pcapng"), &len);
	cr_assert_eq(got[0], 0x0a);
	free(got);
	cr_assert_null(sc_pcapng_writer_open("/nonexistent-dir/x.pcapng", NULL, &d));
	cr_assert_eq(d.err, -ENOENT);
	cr_assert_str_eq(d.msg, "cannot create /nonexistent-dir/x.pcapng: directory /nonexistent-dir does not exist");
}

Test(pcapng_out, writer_reports_a_full_disk)
{
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	struct sc_pcapng_writer *w;
	int err = 0, rc = 0;
	static uint8_t pkt[SC_PCAPNG_PKT_MAX];

	if (fd < 0)
		SC_SKIP("no /dev/full here");
	w = sc_pcapng_writer_fdopen(fd, &WOPTS, &err);
	cr_assert_not_null(w);
	/* Enough packets to fill the buffer: the failed flush is sticky. */
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = sc_pcapng_writer_packet(w, 0, pkt, sizeof(pkt), NULL, 0);
	cr_assert_eq(rc, -ENOSPC);
	cr_assert_eq(sc_pcapng_writer_packet(w, 0, pkt, 1, NULL, 0), -ENOSPC);
	cr_assert_eq(sc_pcapng_writer_close(w, NULL), -ENOSPC);
}

Test(pcapng_out, writer_file_reads_back_with_libpcap_and_sc_pcap)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 }, pkt[256];
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	const char *payload = "GET / HTTP/1.1\r\n\r\n";
	struct sc_pcapng_tcp t = { .family = SC_AF_INET, .src = a, .dst = b, .sport = 40000, .dport = 8080,
				   .seq = 0x11223344u, .ack = 0x55667788u, .flags = SC_TCP_PSH | SC_TCP_ACK,
				   .window = 512, .ip_id = 7, .payload = (const uint8_t *)payload };
	uint64_t ts = 1700000000123456789ull;
	struct sc_pcapng_writer *w;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct sc_diag diag = { 0 };
	struct sc_tcp_seg seg;
	struct sc_pcap *sp;
	long n4, n6;
	pcap_t *pc;

	a[0] = 192, a[1] = 0, a[2] = 2, a[3] = 1;
	b[0] = 192, b[1] = 0, b[2] = 2, b[3] = 2;
	t.len = strlen(payload);
	w = sc_pcapng_writer_open(tmp_path("read.pcapng"), &WOPTS, &diag);
	cr_assert_not_null(w);
	n4 = sc_pcapng_encode_tcp(pkt, sizeof(pkt), &t);
	cr_assert_eq(n4, 20 + 20 + (long)t.len);
	cr_assert_eq(sc_pcapng_writer_packet(w, ts, pkt, (size_t)n4, "first", 5), 0);
	t.family = SC_AF_INET6;
	t.src = v6a;
	t.dst = v6b;
	n6 = sc_pcapng_encode_tcp(pkt, sizeof(pkt), &t);
	cr_assert_eq(n6, 40 + 20 + (long)t.len);
	cr_assert_eq(sc_pcapng_writer_packet(w, ts + 1, pkt, (size_t)n6, NULL, 0), 0);
	cr_assert_eq(sc_pcapng_writer_close(w, &diag), 0);

	pc = pcap_open_offline_with_tstamp_precision(tmp_path("read.pcapng"), PCAP_TSTAMP_PRECISION_NANO, errbuf);
	cr_assert_not_null(pc, "%s", errbuf);
	cr_assert_eq(pcap_datalink(pc), DLT_RAW);
	cr_assert_eq(pcap_next_ex(pc, &h, &data), 1);
	cr_assert_eq(h->caplen, (bpf_u_int32)n4);
	cr_assert_eq(h->len, (bpf_u_int32)n4);
	cr_assert_eq((uint64_t)h->ts.tv_sec, ts / 1000000000u);
	cr_assert_eq((uint64_t)h->ts.tv_usec, ts % 1000000000u); /* nanoseconds with PRECISION_NANO */
	cr_assert_eq(pcap_next_ex(pc, &h, &data), 1);
	cr_assert_eq(h->caplen, (bpf_u_int32)n6);
	cr_assert_eq(pcap_next_ex(pc, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(pc);

	sp = sc_pcap_open(tmp_path("read.pcapng"), &diag);
	cr_assert_not_null(sp, "%s", diag.msg);
	cr_assert(sc_pcap_is_pcapng(sp));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sc_pcap_next(sp, &seg, &diag), 1, "%s", diag.msg);
		cr_assert_eq(seg.family, i ? SC_AF_INET6 : SC_AF_INET);
		cr_assert_eq(seg.ts_ns, ts + (uint64_t)i);
		cr_assert_arr_eq(seg.src.addr, i ? v6a : a, 16);
		cr_assert_arr_eq(seg.dst.addr, i ? v6b : b, 16);
		cr_assert_eq(seg.src.port, 40000);
		cr_assert_eq(seg.dst.port, 8080);
		cr_assert_eq(seg.seq, 0x11223344u);
		cr_assert_eq(seg.ack, 0x55667788u);
		cr_assert_eq(seg.flags, SC_TCP_PSH | SC_TCP_ACK);
		cr_assert_eq(seg.window, 512);
		cr_assert_eq(seg.len, t.len);
		cr_assert_arr_eq(seg.payload, payload, t.len);
	}
	cr_assert_eq(sc_pcap_next(sp, &seg, &diag), 0);
	sc_pcap_close(sp);
}
