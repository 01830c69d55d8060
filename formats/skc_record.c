/* skc_record.c - encoding and decoding of .skc headers and record bodies.
 * Layouts: formats/SKC-FORMAT.md. */
#include "skc_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "sc_crc32c.h"

const uint8_t sc_skc_file_magic[8] = { 0x89, 'S', 'K', 'C', '\r', '\n', 0x1a, '\n' };
const uint8_t sc_skc_block_magic[4] = { 'S', 'K', 'C', 'B' };

void skc_file_hdr_put(uint8_t out[SC_SKC_FILE_HDR_LEN])
{
	struct sc_wr w;

	sc_wr_init(&w, out, SC_SKC_FILE_HDR_LEN);
	sc_wr_bytes(&w, sc_skc_file_magic, sizeof(sc_skc_file_magic));
	sc_wr_le16(&w, SC_SKC_VERSION_MAJOR);
	sc_wr_le16(&w, SC_SKC_VERSION_MINOR);
	sc_wr_le32(&w, 0);                 /* flags */
	sc_wr_le32(&w, SC_SKC_FILE_HDR_LEN);
	sc_wr_le32(&w, SC_SKC_BLOCK_MAX);
	sc_wr_le32(&w, 0);                 /* reserved */
	sc_wr_le32(&w, sc_crc32c(0, out, 28));
}

void skc_block_hdr_put(uint8_t out[SC_SKC_BLOCK_HDR_LEN], const struct skc_block_hdr *h)
{
	struct sc_wr w;

	sc_wr_init(&w, out, SC_SKC_BLOCK_HDR_LEN);
	sc_wr_bytes(&w, sc_skc_block_magic, sizeof(sc_skc_block_magic));
	sc_wr_le32(&w, 0); /* header CRC, below */
	sc_wr_le64(&w, h->seq);
	sc_wr_le32(&w, h->clen);
	sc_wr_le32(&w, h->ulen);
	sc_wr_le32(&w, h->nrec);
	sc_wr_le32(&w, h->crc);
	uint32_t crc = sc_crc32c(0, out + 8, SC_SKC_BLOCK_HDR_LEN - 8);

	sc_wr_init(&w, out + 4, 4);
	sc_wr_le32(&w, crc);
}

int skc_block_hdr_get(const uint8_t in[SC_SKC_BLOCK_HDR_LEN], struct skc_block_hdr *h)
{
	struct sc_rd r;

	if (memcmp(in, sc_skc_block_magic, sizeof(sc_skc_block_magic)) != 0)
		return SC_EFORMAT;
	sc_rd_init(&r, in + 4, SC_SKC_BLOCK_HDR_LEN - 4);
	h->hdr_crc = sc_rd_le32(&r);
	h->seq = sc_rd_le64(&r);
	h->clen = sc_rd_le32(&r);
	h->ulen = sc_rd_le32(&r);
	h->nrec = sc_rd_le32(&r);
	h->crc = sc_rd_le32(&r);
	if (h->hdr_crc != sc_crc32c(0, in + 8, SC_SKC_BLOCK_HDR_LEN - 8))
		return SC_ECHECKSUM;
	if (h->ulen == 0 || h->ulen > SC_SKC_BLOCK_MAX || h->clen == 0 ||
	    h->clen > ZSTD_COMPRESSBOUND(h->ulen) || h->nrec > h->ulen / SC_SKC_REC_HDR_LEN)
		return SC_ECORRUPT;
	return 0;
}

static void put_ep(struct sc_wr *w, const struct sc_endpoint *ep)
{
	sc_wr_le16(w, ep->port);
	sc_wr_bytes(w, ep->addr, sizeof(ep->addr));
}

static void get_ep(struct sc_rd *r, struct sc_endpoint *ep)
{
	ep->port = sc_rd_le16(r);
	sc_rd_copy(r, ep->addr, sizeof(ep->addr));
}

static void put_view(struct sc_wr *w, struct sc_view v)
{
	sc_wr_str16(w, v.p, v.len);
}

static size_t body_len(const struct sc_skc_rec *rec, int *err)
{
	const struct sc_view *strs[4] = { NULL };
	size_t n = 0, nstr = 0;

	*err = 0;
	switch (rec->type) {
	case SC_SKC_CAPTURE_INFO:
		n = SKC_INFO_FIXED;
		strs[0] = &rec->u.info.hostname;
		strs[1] = &rec->u.info.kernel;
		strs[2] = &rec->u.info.tool;
		strs[3] = &rec->u.info.options;
		nstr = 4;
		break;
	case SC_SKC_PROCESS:
		n = SKC_PROC_FIXED;
		strs[0] = &rec->u.proc.comm;
		nstr = 1;
		break;
	case SC_SKC_SOCK_OPEN:
		n = SKC_OPEN_FIXED;
		strs[0] = &rec->u.open.unix_path;
		nstr = 1;
		break;
	case SC_SKC_DATA:
		n = SC_SKC_DATA_FIXED + (size_t)rec->u.data.cap_len;
		break;
	case SC_SKC_SOCK_CLOSE:
		n = SKC_CLOSE_FIXED;
		break;
	case SC_SKC_LOSS:
		n = SKC_LOSS_FIXED;
		break;
	case SC_SKC_TRAILER:
		n = SKC_TRAILER_FIXED + 16u * SC_LOSS_NREASONS;
		break;
	default:
		*err = SC_EUNSUPP;
		return 0;
	}
	for (size_t i = 0; i < nstr; i++) {
		if (strs[i]->len > UINT16_MAX) {
			*err = SC_ETOOBIG;
			return 0;
		}
		n += 2 + strs[i]->len;
	}
	return n;
}

long sc_skc_encoded_len(const struct sc_skc_rec *rec)
{
	int err;
	size_t n = body_len(rec, &err);

	if (err)
		return err;
	return (long)(SC_SKC_REC_HDR_LEN + n);
}

void skc_rec_put(struct sc_wr *w, const struct sc_skc_rec *rec)
{
	int err;
	size_t n = body_len(rec, &err);

	if (err || n > UINT32_MAX) {
		if (!w->err)
			w->err = err ? err : SC_ETOOBIG;
		return;
	}
	if (!sc_wr_room(w, SC_SKC_REC_HDR_LEN + n))
		return;
	sc_wr_le16(w, rec->type);
	sc_wr_u8(w, 1); /* every type is at version 1 */
	sc_wr_u8(w, 0);
	sc_wr_le32(w, (uint32_t)n);

	switch (rec->type) {
	case SC_SKC_CAPTURE_INFO: {
		const struct sc_skc_capture_info *b = &rec->u.info;

		sc_wr_le64(w, b->start_real_ns);
		sc_wr_le64(w, b->start_mono_ns);
		sc_wr_le32(w, b->snaplen);
		sc_wr_le32(w, b->flags);
		put_view(w, b->hostname);
		put_view(w, b->kernel);
		put_view(w, b->tool);
		put_view(w, b->options);
		break;
	}
	case SC_SKC_PROCESS: {
		const struct sc_skc_process *b = &rec->u.proc;

		sc_wr_le64(w, b->ts_ns);
		sc_wr_le32(w, b->pid);
		sc_wr_le32(w, b->tid);
		sc_wr_le32(w, b->ppid);
		put_view(w, b->comm);
		break;
	}
	case SC_SKC_SOCK_OPEN: {
		const struct sc_skc_sock_open *b = &rec->u.open;

		sc_wr_le64(w, b->sock_id);
		sc_wr_le64(w, b->ts_ns);
		sc_wr_le64(w, b->inode);
		sc_wr_le32(w, b->pid);
		sc_wr_le32(w, b->tid);
		sc_wr_le32(w, (uint32_t)b->fd);
		sc_wr_u8(w, b->how);
		sc_wr_u8(w, b->family);
		sc_wr_u8(w, b->sock_type);
		sc_wr_u8(w, b->flags);
		put_ep(w, &b->local);
		put_ep(w, &b->remote);
		sc_wr_le64(w, b->base_sent);
		sc_wr_le64(w, b->base_recv);
		put_view(w, b->unix_path);
		break;
	}
	case SC_SKC_DATA: {
		const struct sc_skc_data *b = &rec->u.data;

		sc_wr_le64(w, b->sock_id);
		sc_wr_le64(w, b->ts_ns);
		sc_wr_le64(w, b->offset);
		sc_wr_le32(w, b->pid);
		sc_wr_le32(w, b->tid);
		sc_wr_le32(w, b->orig_len);
		sc_wr_u8(w, b->dir);
		sc_wr_u8(w, b->syscall);
		sc_wr_le16(w, 0);
		sc_wr_le32(w, b->cap_len);
		sc_wr_bytes(w, b->payload, b->cap_len);
		break;
	}
	case SC_SKC_SOCK_CLOSE: {
		const struct sc_skc_sock_close *b = &rec->u.close;

		sc_wr_le64(w, b->sock_id);
		sc_wr_le64(w, b->ts_ns);
		sc_wr_le64(w, b->sent_bytes);
		sc_wr_le64(w, b->recv_bytes);
		sc_wr_le32(w, b->pid);
		sc_wr_le32(w, b->tid);
		break;
	}
	case SC_SKC_LOSS: {
		const struct sc_skc_loss *b = &rec->u.loss;

		sc_wr_le64(w, b->sock_id);
		sc_wr_le64(w, b->ts_ns);
		sc_wr_le64(w, b->offset);
		sc_wr_le64(w, b->len);
		sc_wr_le32(w, b->pid);
		sc_wr_le32(w, b->events);
		sc_wr_u8(w, b->dir);
		sc_wr_u8(w, b->reason);
		sc_wr_u8(w, b->syscall);
		sc_wr_u8(w, 0);
		sc_wr_le32(w, 0);
		break;
	}
	case SC_SKC_TRAILER: {
		const struct sc_skc_trailer *b = &rec->u.trailer;

		sc_wr_le64(w, b->end_real_ns);
		sc_wr_le64(w, b->end_mono_ns);
		sc_wr_le64(w, b->records);
		sc_wr_le64(w, b->blocks);
		sc_wr_le64(w, b->data_records);
		sc_wr_le64(w, b->bytes_captured);
		sc_wr_le32(w, SC_LOSS_NREASONS);
		for (unsigned i = 1; i <= SC_LOSS_NREASONS; i++) {
			sc_wr_le64(w, b->lost_bytes[i]);
			sc_wr_le64(w, b->lost_events[i]);
		}
		break;
	}
	}
}

int sc_skc_decode(uint16_t type, uint8_t version, const uint8_t *body, size_t len, struct sc_skc_rec *rec)
{
	struct sc_rd r;

	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->version = version;
	sc_rd_init(&r, body, len);

	/* Version 0 does not exist; every later version starts with version 1's
	 * fields (SKC-FORMAT.md "Records"), so reading them is always right and
	 * anything after them is skipped by the caller. */
	if (version == 0)
		return SC_ECORRUPT;

	switch (type) {
	case SC_SKC_CAPTURE_INFO: {
		struct sc_skc_capture_info *b = &rec->u.info;

		b->start_real_ns = sc_rd_le64(&r);
		b->start_mono_ns = sc_rd_le64(&r);
		b->snaplen = sc_rd_le32(&r);
		b->flags = sc_rd_le32(&r);
		b->hostname = sc_rd_str16(&r);
		b->kernel = sc_rd_str16(&r);
		b->tool = sc_rd_str16(&r);
		b->options = sc_rd_str16(&r);
		break;
	}
	case SC_SKC_PROCESS: {
		struct sc_skc_process *b = &rec->u.proc;

		b->ts_ns = sc_rd_le64(&r);
		b->pid = sc_rd_le32(&r);
		b->tid = sc_rd_le32(&r);
		b->ppid = sc_rd_le32(&r);
		b->comm = sc_rd_str16(&r);
		break;
	}
	case SC_SKC_SOCK_OPEN: {
		struct sc_skc_sock_open *b = &rec->u.open;

		b->sock_id = sc_rd_le64(&r);
		b->ts_ns = sc_rd_le64(&r);
		b->inode = sc_rd_le64(&r);
		b->pid = sc_rd_le32(&r);
		b->tid = sc_rd_le32(&r);
		b->fd = (int32_t)sc_rd_le32(&r);
		b->how = sc_rd_u8(&r);
		b->family = sc_rd_u8(&r);
		b->sock_type = sc_rd_u8(&r);
		b->flags = sc_rd_u8(&r);
		get_ep(&r, &b->local);
		get_ep(&r, &b->remote);
		b->base_sent = sc_rd_le64(&r);
		b->base_recv = sc_rd_le64(&r);
		b->unix_path = sc_rd_str16(&r);
		break;
	}
	case SC_SKC_DATA: {
		struct sc_skc_data *b = &rec->u.data;

		b->sock_id = sc_rd_le64(&r);
		b->ts_ns = sc_rd_le64(&r);
		b->offset = sc_rd_le64(&r);
		b->pid = sc_rd_le32(&r);
		b->tid = sc_rd_le32(&r);
		b->orig_len = sc_rd_le32(&r);
		b->dir = sc_rd_u8(&r);
		b->syscall = sc_rd_u8(&r);
		sc_rd_skip(&r, 2);
		b->cap_len = sc_rd_le32(&r);
		b->payload = sc_rd_bytes(&r, b->cap_len);
		break;
	}
	case SC_SKC_SOCK_CLOSE: {
		struct sc_skc_sock_close *b = &rec->u.close;

		b->sock_id = sc_rd_le64(&r);
		b->ts_ns = sc_rd_le64(&r);
		b->sent_bytes = sc_rd_le64(&r);
		b->recv_bytes = sc_rd_le64(&r);
		b->pid = sc_rd_le32(&r);
		b->tid = sc_rd_le32(&r);
		break;
	}
	case SC_SKC_LOSS: {
		struct sc_skc_loss *b = &rec->u.loss;

		b->sock_id = sc_rd_le64(&r);
		b->ts_ns = sc_rd_le64(&r);
		b->offset = sc_rd_le64(&r);
		b->len = sc_rd_le64(&r);
		b->pid = sc_rd_le32(&r);
		b->events = sc_rd_le32(&r);
		b->dir = sc_rd_u8(&r);
		b->reason = sc_rd_u8(&r);
		b->syscall = sc_rd_u8(&r);
		sc_rd_skip(&r, 5);
		break;
	}
	case SC_SKC_TRAILER: {
		struct sc_skc_trailer *b = &rec->u.trailer;

		b->end_real_ns = sc_rd_le64(&r);
		b->end_mono_ns = sc_rd_le64(&r);
		b->records = sc_rd_le64(&r);
		b->blocks = sc_rd_le64(&r);
		b->data_records = sc_rd_le64(&r);
		b->bytes_captured = sc_rd_le64(&r);
		b->nreasons = sc_rd_le32(&r);
		if (b->nreasons > 255)
			return SC_ECORRUPT;
		for (uint32_t i = 1; i <= b->nreasons && !r.err; i++) {
			uint64_t bytes = sc_rd_le64(&r), events = sc_rd_le64(&r);
			unsigned k = i <= SC_LOSS_NREASONS ? i : SC_LOSS_OTHER;

			b->lost_bytes[k] += bytes;
			b->lost_events[k] += events;
		}
		break;
	}
	default:
		return SC_EUNSUPP;
	}
	return r.err ? SC_ETRUNC : 0;
}

enum sc_file_kind sc_file_detect(const uint8_t *head, size_t len)
{
	static const uint8_t pcapng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	static const uint8_t pcap_magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 }, /* microseconds */
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d }, /* nanoseconds */
	};

	if (len >= sizeof(sc_skc_file_magic) && memcmp(head, sc_skc_file_magic, sizeof(sc_skc_file_magic)) == 0)
		return SC_FILE_SKC;
	if (len < 4)
		return SC_FILE_UNKNOWN;
	if (memcmp(head, pcapng, 4) == 0)
		return SC_FILE_PCAPNG;
	for (size_t i = 0; i < sizeof(pcap_magics) / sizeof(pcap_magics[0]); i++)
		if (memcmp(head, pcap_magics[i], 4) == 0)
			return SC_FILE_PCAP;
	return SC_FILE_UNKNOWN;
}

int sc_file_detect_path(const char *path)
{
	uint8_t head[8];
	size_t n;
	FILE *f;

	if (strcmp(path, "-") == 0) {
		/* Standard input cannot be rewound: one byte, pushed back
		 * (ungetc guarantees one), tells the formats apart; the
		 * reader checks the rest of the magic. */
		int c = getc(stdin);

		if (c == EOF)
			return ferror(stdin) ? -EIO : SC_FILE_UNKNOWN;
		ungetc(c, stdin);
		switch (c) {
		case 0x89: return SC_FILE_SKC;
		case 0x0a: return SC_FILE_PCAPNG;
		case 0xa1: case 0xd4: case 0x4d: return SC_FILE_PCAP;
		}
		return SC_FILE_UNKNOWN;
	}
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return sc_file_detect(head, n);
}

const char *sc_file_kind_name(enum sc_file_kind k)
{
	switch (k) {
	case SC_FILE_SKC: return "skc";
	case SC_FILE_PCAP: return "pcap";
	case SC_FILE_PCAPNG: return "pcapng";
	case SC_FILE_UNKNOWN: break;
	}
	return "unknown";
}
