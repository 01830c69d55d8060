/* sc_pcap.c - TCP segments out of pcap and pcapng files: the file layer.
 *
 * libpcap reads classic pcap files (both byte orders, every timestamp
 * resolution, the modified formats); sc_pcapng.c reads pcapng files, whose
 * interfaces may each have their own link type.  Each frame goes through the
 * decoder of sc_pkt.c with its interface's link type, fragments through the
 * reassembler of sc_ipfrag.c, and each outcome is counted (sc_pcap.h states
 * the invariants; the tests and the fuzz target check them).
 */
#include "sc_pcap.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sc_pcap_int.h"

/* Reassembled datagrams decoded per frame: a fragment inside a tunnel whose
 * outer packet was itself fragmented needs two; more is not a network. */
#define FRAG_MAX_DEPTH 2

struct sc_pcap {
	/* Exactly one of the two readers. */
	pcap_t *pc;             /* classic pcap, through libpcap */
	struct sc_pcapng *ng;   /* pcapng, ours */
	FILE *ng_file;          /* the stream the pcapng reader reads */
	bool ng_file_owned;
	struct sc_pcap_iface one; /* classic pcap's interface */

	uint64_t frame;  /* frames read so far */
	bool unseekable; /* ftello() failed once (a pipe): stop asking */
	/* Classic pcap: where the next record starts, counted from the record
	 * sizes once the first record has shown the header size, so that
	 * ftello() (an lseek() per call in glibc) is not asked per frame. */
	int64_t next_off;  /* -1: ask ftello() */
	int64_t prev_off; /* where the previous record started, -1 before it */
	uint32_t prev_caplen; /* its caplen */
	uint32_t hdr_len;  /* record header size, 0 until known */
	int err;         /* sticky error from sc_pcap_next, 0 if none */
	bool eof;
	struct sc_diag err_diag; /* repeated for every call after an error */
	struct sc_ipfrag *frag;
	uint64_t skipped_tcp_frames; /* skipped frames that carried TCP (fragments apart) */
	struct sc_pcap_stats st;

	/* sc_pcap_fopen, and standard input: the stream behind our cookie
	 * stream (below), with the bytes read to tell the formats apart. */
	FILE *src;
	bool src_owned;
	uint8_t pre[4];
	size_t npre, pre_off;
};

/* ---- per-frame outcomes --------------------------------------------------------- */

/* Fold the reassembler's counts into the stats. */
static void sync_frag_stats(struct sc_pcap *p)
{
	const struct sc_ipfrag_stats *fs = sc_ipfrag_stats(p->frag);

	p->st.fragments_used = fs->used;
	p->st.skipped_fragments = fs->dropped;
	p->st.frag_overlaps = fs->overlaps;
	p->st.frag_conflicts = fs->gave_up_conflict;
	p->st.skipped_tcp = p->skipped_tcp_frames + fs->dropped_tcp;
}

static void count_skip(struct sc_pcap_stats *st, uint64_t *skipped_tcp, enum sc_pkt_outcome o,
		       const struct sc_pkt_info *info)
{
	switch (o) {
	case SC_PKT_NON_IP: st->skipped_non_ip++; break;
	case SC_PKT_NON_TCP: st->skipped_non_tcp++; break;
	case SC_PKT_TRUNCATED: st->skipped_truncated++; break;
	case SC_PKT_MALFORMED: st->skipped_malformed++; break;
	case SC_PKT_UNSUPPORTED: st->skipped_link_type++; break;
	case SC_PKT_SEGMENT:
	case SC_PKT_FRAGMENT:
		return;
	}
	if (info->tcp)
		(*skipped_tcp)++;
}

static void count_segment(struct sc_pcap_stats *st, const struct sc_tcp_seg *s, const struct sc_pkt_info *info)
{
	st->tcp_segments++;
	st->tcp_payload_bytes += s->len;
	if (s->len < s->wire_len) {
		st->truncated_payload++;
		st->truncated_bytes += s->wire_len - s->len;
	}
	if (info->tunnel)
		st->tunneled++;
	if (info->len_from_frame)
		st->len_from_frame++;
}

int sc_pcap_decode(int dlt, const uint8_t *pkt, uint32_t caplen, struct sc_tcp_seg *seg,
		   struct sc_pcap_stats *st)
{
	struct sc_pkt_info info;
	struct sc_tcp_seg s;
	enum sc_pkt_outcome o;

	memset(&s, 0, sizeof(s));
	st->frames++;
	st->bytes += caplen;
	o = sc_pkt_decode(dlt, pkt, caplen, SIZE_MAX, &s, &info);
	if (o == SC_PKT_FRAGMENT) {
		st->ip_fragments++;
		return 0;
	}
	if (o != SC_PKT_SEGMENT) {
		count_skip(st, &st->skipped_tcp, o, &info);
		return 0;
	}
	count_segment(st, &s, &info);
	*seg = s;
	return 1;
}

bool sc_pcap_dlt_supported(int dlt)
{
	return sc_pkt_dlt_supported(dlt);
}

/* One frame (of interface `ifc`, NULL when its interface is not described)
 * through the decoder and, for fragments, the reassembler.  Returns 1 with
 * *seg filled, 0 when the frame delivered nothing, -ENOMEM. */
static int decode_frame(struct sc_pcap *p, struct sc_pcap_iface *ifc, const uint8_t *data, uint32_t caplen,
			uint32_t wire_len, uint64_t ts, struct sc_tcp_seg *seg)
{
	struct sc_pkt_info info;
	enum sc_pkt_outcome o;
	struct sc_tcp_seg s;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	if (!ifc) {
		p->st.skipped_malformed++;
		return 0;
	}
	if (!ifc->decoded) {
		p->st.skipped_link_type++;
		return 0;
	}
	o = sc_pkt_decode(ifc->dlt, data, caplen, wire_len, &s, &info);
	for (unsigned depth = 0; o == SC_PKT_FRAGMENT; depth++) {
		const uint8_t *dg;
		size_t len;

		if (depth == FRAG_MAX_DEPTH) {
			o = SC_PKT_MALFORMED;
			break;
		}
		p->st.ip_fragments++;
		rc = sc_ipfrag_add(p->frag, &info.frag, ts, &dg, &len);
		sync_frag_stats(p);
		if (rc <= 0)
			return rc;
		p->st.reassembled++;
		o = sc_pkt_decode_ip(dg, len, &s, &info);
	}
	if (o != SC_PKT_SEGMENT) {
		count_skip(&p->st, &p->skipped_tcp_frames, o, &info);
		sync_frag_stats(p);
		return 0;
	}
	count_segment(&p->st, &s, &info);
	ifc->tcp_segments++;
	*seg = s;
	return 1;
}

/* ---- files ------------------------------------------------------------------- */

/* The first 4 bytes of a pcapng file: the section header block's type. */
static const uint8_t PCAPNG_MAGIC[4] = { 0x0A, 0x0D, 0x0D, 0x0A };

/* libpcap reports every failure as text; its truncation messages all say
 * "truncated" ("truncated dump file; tried to read ..."), everything else is
 * damage of another kind. */
static int classify_pcap_error(const char *msg)
{
	if (strstr(msg, "error reading dump file"))
		return -EIO; /* the read itself failed: fatal, not bad data */
	return strstr(msg, "truncated") ? SC_ETRUNC : SC_ECORRUPT;
}

/* Open-time errors: a short file header is still "truncated"; anything else
 * libpcap refuses is not a capture file we can read. */
static int classify_open_error(const char *msg)
{
	return strstr(msg, "truncated") ? SC_ETRUNC : SC_EFORMAT;
}

static struct sc_pcap *pcap_new(struct sc_diag *diag)
{
	struct sc_pcap *p = calloc(1, sizeof(*p));

	if (p)
		p->frag = sc_ipfrag_new();
	if (!p || !p->frag) {
		free(p);
		sc_diag_set(diag, -ENOMEM, 0, "out of memory");
		return NULL;
	}
	p->next_off = p->prev_off = -1;
	return p;
}

static void pcap_free(struct sc_pcap *p)
{
	sc_ipfrag_free(p->frag);
	free(p);
}

/* A classic pcap through libpcap, reading `f` (which libpcap then owns). */
static int open_classic(struct sc_pcap *p, FILE *f, struct sc_diag *diag)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const char *name;
	int dlt;

	p->pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p->pc)
		return sc_diag_set(diag, classify_open_error(errbuf), 0, "%s", errbuf);
	dlt = pcap_datalink(p->pc);
	if (!sc_pkt_dlt_supported(dlt)) {
		/* A file of one interface: nothing in it can be read. */
		name = pcap_datalink_val_to_name(dlt);
		return sc_diag_set(diag, SC_EUNSUPP, 0, "unsupported link type %s (%d)", name ? name : "unknown", dlt);
	}
	p->one.dlt = dlt;
	p->one.linktype = (uint32_t)dlt;
	p->one.snaplen = pcap_snapshot(p->pc) < 0 ? 0 : (uint32_t)pcap_snapshot(p->pc);
	p->one.decoded = true;
	return 0;
}

/*
 * libpcap must get the stream from its first byte, but the format is told by
 * the first 4 bytes, and a pipe cannot give them back.  When the stream
 * cannot seek back, or when it is the caller's (sc_pcap_fopen() must leave it
 * open when it fails, STYLE.md §4, and pcap_close() closes what libpcap got),
 * libpcap reads through a cookie stream of ours that first returns the bytes
 * already read, and whose close closes the stream below only once we own it.
 */
static ssize_t src_read(void *cookie, char *buf, size_t n)
{
	struct sc_pcap *p = cookie;
	size_t got = 0;

	if (p->pre_off < p->npre && n) {
		got = p->npre - p->pre_off < n ? p->npre - p->pre_off : n;
		memcpy(buf, p->pre + p->pre_off, got);
		p->pre_off += got;
		return (ssize_t)got;
	}
	got = fread(buf, 1, n, p->src);
	if (got == 0 && ferror(p->src)) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

static int src_close(void *cookie)
{
	struct sc_pcap *p = cookie;

	if (p->src_owned && p->src != stdin)
		return fclose(p->src);
	return 0;
}

#if defined(__APPLE__)
/* macOS has funopen() but no fopencookie(). */
static int src_read_int(void *cookie, char *buf, int n)
{
	return (int)src_read(cookie, buf, n < 0 ? 0 : (size_t)n);
}

static fpos_t src_seek_pos(void *cookie, fpos_t off, int whence)
{
	struct sc_pcap *p = cookie;

	if (fseeko(p->src, off, whence) < 0)
		return -1;
	return ftello(p->src);
}

static FILE *src_stream(struct sc_pcap *p)
{
	return funopen(p, src_read_int, NULL, src_seek_pos, src_close);
}
#else
/* Seeking is passed through so that ftello() works for diag offsets (the
 * bytes given back are read before libpcap asks). */
static int src_seek(void *cookie, off64_t *off, int whence)
{
	struct sc_pcap *p = cookie;
	off_t pos;

	if (fseeko(p->src, (off_t)*off, whence) < 0)
		return -1;
	pos = ftello(p->src);
	if (pos < 0)
		return -1;
	*off = pos;
	return 0;
}

static FILE *src_stream(struct sc_pcap *p)
{
	cookie_io_functions_t io = { .read = src_read, .write = NULL, .seek = src_seek, .close = src_close };

	return fopencookie(p, "rb", io);
}
#endif

/* Open what `f` holds.  `direct`: f is sc_pcap_open()'s (or stdin) and may be
 * handed to libpcap itself when it can seek back; otherwise it is the
 * caller's.  On success p owns f (stdin is never closed).  On failure f is
 * left open, unless *closed says libpcap already closed it. */
static int open_stream(struct sc_pcap *p, FILE *f, bool direct, bool *closed, struct sc_diag *diag)
{
	FILE *cs;
	int rc, err;

	*closed = false;
	p->npre = fread(p->pre, 1, sizeof(p->pre), f);
	if (p->npre == 0 && ferror(f))
		return sc_diag_set(diag, -EIO, 0, "%s", strerror(EIO));
	if (p->npre == 4 && memcmp(p->pre, PCAPNG_MAGIC, 4) == 0) {
		p->ng = sc_pcapng_open(f, p->pre, diag);
		if (!p->ng)
			return diag && diag->err ? diag->err : SC_EFORMAT;
		p->ng_file = f;
		p->ng_file_owned = f != stdin;
		return 0;
	}
	if (direct && fseeko(f, 0, SEEK_SET) == 0) {
		p->npre = 0;
		rc = open_classic(p, f, diag);
		if (rc < 0 && p->pc) {
			pcap_close(p->pc); /* libpcap owned f (and never closes stdin) */
			p->pc = NULL;
			*closed = f != stdin;
		}
		return rc;
	}
	p->src = f;
	errno = 0;
	cs = src_stream(p);
	if (!cs) {
		err = errno ? errno : ENOMEM;
		return sc_diag_set(diag, -err, 0, "cannot wrap the input stream: %s", strerror(err));
	}
	rc = open_classic(p, cs, diag);
	if (rc < 0) {
		if (p->pc)
			pcap_close(p->pc); /* closes cs, not f */
		else
			fclose(cs);
		p->pc = NULL;
		return rc;
	}
	p->src_owned = true;
	return 0;
}

struct sc_pcap *sc_pcap_open(const char *path, struct sc_diag *diag)
{
	struct sc_pcap *p;
	bool closed;
	FILE *f;
	int err;

	p = pcap_new(diag);
	if (!p)
		return NULL;
	/* Opening the file ourselves reports the errno as -errno and keeps the
	 * path out of the message (the caller prints it, as for every other
	 * diag). */
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		f = fopen(path, "rb");
		if (!f) {
			err = errno;
			sc_diag_set(diag, -err, 0, "%s", strerror(err));
			pcap_free(p);
			return NULL;
		}
	}
	if (open_stream(p, f, true, &closed, diag) < 0) {
		if (!closed && f != stdin)
			fclose(f);
		pcap_free(p);
		return NULL;
	}
	return p;
}

struct sc_pcap *sc_pcap_fopen(FILE *f, struct sc_diag *diag)
{
	struct sc_pcap *p = pcap_new(diag);
	bool closed;

	if (!p)
		return NULL;
	if (open_stream(p, f, false, &closed, diag) < 0) {
		pcap_free(p);
		return NULL;
	}
	return p;
}

static uint64_t ts_to_ns(const struct timeval *tv)
{
	/* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds.  Times
	 * before the epoch are clamped. */
	if (tv->tv_sec < 0 || tv->tv_usec < 0)
		return 0;
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec;
}

/* One record out of the file, whatever its format. */
struct rec {
	struct sc_pcap_iface *ifc; /* NULL: a pcapng packet of an undescribed interface */
	const uint8_t *data;
	uint32_t caplen;
	size_t wire_len;           /* SIZE_MAX when unknown */
	uint64_t ts;
};

/* 1 with *r filled, 0 at the end, or the (sticky) error. */
static int read_classic(struct sc_pcap *p, struct rec *r)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	off_t off = -1;
	int rc;

	/* Where the next record starts, for the diag of a damaged one. */
	if (p->next_off >= 0) {
		off = p->next_off;
	} else if (!p->unseekable) {
		off = ftello(pcap_file(p->pc));
		p->unseekable = off < 0;
	}
	rc = pcap_next_ex(p->pc, &h, &data);
	if (rc == 1) {
		if (off >= 0) {
			/* A record longer than the file's snaplen is read whole but
			 * reported cut to the snaplen: its size is unknown. */
			bpf_u_int32 snap = (bpf_u_int32)pcap_snapshot(p->pc);

			if (!p->hdr_len && p->prev_off >= 0 && p->prev_caplen < snap) {
				/* The record before this one shows the header size: 16,
				 * or 24 in the modified formats. */
				int64_t hdr = off - p->prev_off - (int64_t)p->prev_caplen;

				if (hdr == 16 || hdr == 24)
					p->hdr_len = (uint32_t)hdr;
			}
			p->prev_off = off;
			p->prev_caplen = h->caplen;
			if (p->hdr_len && h->caplen < snap)
				p->next_off = off + p->hdr_len + h->caplen;
			else
				p->next_off = -1;
		}
		r->ifc = &p->one;
		r->data = data;
		r->caplen = h->caplen;
		r->wire_len = h->len ? h->len : SIZE_MAX;
		r->ts = ts_to_ns(&h->ts);
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	/* 0 (a live-capture timeout) cannot happen on a file; treat any other
	 * value as the error libpcap says it is. */
	p->err = rc == 0 ? SC_ECORRUPT : classify_pcap_error(pcap_geterr(p->pc));
	sc_diag_set(&p->err_diag, p->err, off < 0 ? 0 : (uint64_t)off, "frame %" PRIu64 ": %s", p->frame + 1,
		    rc == 0 ? "libpcap returned no packet and no error" : pcap_geterr(p->pc));
	return p->err;
}

static int read_pcapng(struct sc_pcap *p, struct rec *r)
{
	struct sc_pcapng_pkt pkt;
	struct sc_diag d = { 0 };
	int rc = sc_pcapng_next(p->ng, &pkt, &d);

	if (rc == 1) {
		r->ifc = pkt.iface == SC_PCAP_NO_IFACE ? NULL : sc_pcapng_interface(p->ng, pkt.iface);
		r->data = pkt.data;
		r->caplen = pkt.caplen;
		r->wire_len = pkt.wire_len ? pkt.wire_len : SIZE_MAX;
		r->ts = pkt.ts_ns;
		return 1;
	}
	if (rc == 0)
		return 0;
	p->err = rc;
	sc_diag_set(&p->err_diag, rc, d.offset, "frame %" PRIu64 ": %s", p->frame + 1, d.msg);
	return rc;
}

int sc_pcap_next(struct sc_pcap *p, struct sc_tcp_seg *seg, struct sc_diag *diag)
{
	struct rec r = { 0 };
	int rc;

	/* Each turn reads one record, so the loop ends with the file. */
	while (!p->err && !p->eof) {
		rc = p->ng ? read_pcapng(p, &r) : read_classic(p, &r);
		if (rc <= 0) {
			/* Nothing more can be read: fragments still pending never
			 * complete. */
			sc_ipfrag_finish(p->frag);
			sync_frag_stats(p);
			p->st.skipped_blocks = p->ng ? sc_pcapng_skipped_blocks(p->ng) : 0;
			if (rc == 0)
				p->eof = true;
			break;
		}
		p->frame++;
		p->st.frames++;
		p->st.bytes += r.caplen;
		if (p->st.frames == 1 || r.ts < p->st.first_ns)
			p->st.first_ns = r.ts;
		if (r.ts > p->st.last_ns)
			p->st.last_ns = r.ts;
		if (r.ifc)
			r.ifc->frames++;
		rc = decode_frame(p, r.ifc, r.data, r.caplen, r.wire_len, r.ts, seg);
		if (rc < 0) {
			p->err = rc;
			sc_diag_set(&p->err_diag, rc, 0, "frame %" PRIu64 ": %s", p->frame, sc_strerror(rc));
			break;
		}
		if (rc == 1) {
			seg->ts_ns = r.ts;
			seg->frame = p->frame;
			return 1;
		}
	}
	if (p->err) {
		if (diag)
			*diag = p->err_diag;
		return p->err;
	}
	return 0;
}

size_t sc_pcap_ninterfaces(const struct sc_pcap *p)
{
	return p->ng ? sc_pcapng_ninterfaces(p->ng) : 1;
}

const struct sc_pcap_iface *sc_pcap_interface(const struct sc_pcap *p, size_t i)
{
	if (p->ng)
		return sc_pcapng_interface(p->ng, i);
	return i == 0 ? &p->one : NULL;
}

int sc_pcap_linktype(const struct sc_pcap *p)
{
	const struct sc_pcap_iface *i = sc_pcap_interface(p, 0);

	return i ? i->dlt : -1;
}

void sc_pcap_linktype_str(const struct sc_pcap_iface *i, char *buf, size_t n)
{
	const char *name = i->dlt >= 0 ? pcap_datalink_val_to_name(i->dlt) : NULL;

	if (name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "LINKTYPE_%" PRIu32, i->linktype);
}

const char *sc_pcap_linktype_name(const struct sc_pcap *p)
{
	const struct sc_pcap_iface *i = sc_pcap_interface(p, 0);
	const char *name;

	if (!i)
		return "none";
	name = i->dlt >= 0 ? pcap_datalink_val_to_name(i->dlt) : NULL;
	return name ? name : "unknown";
}

uint32_t sc_pcap_snaplen(const struct sc_pcap *p)
{
	const struct sc_pcap_iface *i = sc_pcap_interface(p, 0);

	return i ? i->snaplen : 0;
}

void sc_pcap_describe_interfaces(const struct sc_pcap *p, char *buf, size_t n)
{
	size_t used = 0, ni = sc_pcap_ninterfaces(p);

	if (n)
		buf[0] = '\0';
	for (size_t k = 0; k < ni && used + 1 < n; k++) {
		const struct sc_pcap_iface *i = sc_pcap_interface(p, k);
		char lt[48];
		int w;

		sc_pcap_linktype_str(i, lt, sizeof(lt));
		if (i->decoded)
			w = snprintf(buf + used, n - used, "%s%zu: %s%s%s, %" PRIu64 " frames, %" PRIu64 " TCP segments",
				     k ? "\n" : "", k, lt, i->name[0] ? " " : "", i->name, i->frames, i->tcp_segments);
		else
			w = snprintf(buf + used, n - used, "%s%zu: %s%s%s, %" PRIu64 " frames not decoded (link type not "
				     "supported)", k ? "\n" : "", k, lt, i->name[0] ? " " : "", i->name, i->frames);
		if (w < 0)
			break;
		used += (size_t)w < n - used ? (size_t)w : n - used - 1;
	}
}

bool sc_pcap_is_pcapng(const struct sc_pcap *p)
{
	return p->ng != NULL;
}

const struct sc_pcap_stats *sc_pcap_stats(const struct sc_pcap *p)
{
	return &p->st;
}

void sc_pcap_close(struct sc_pcap *p)
{
	if (!p)
		return;
	if (p->pc)
		pcap_close(p->pc);
	sc_pcapng_close(p->ng);
	if (p->ng_file && p->ng_file_owned)
		fclose(p->ng_file);
	pcap_free(p);
}
