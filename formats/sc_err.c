#include "sc_err.h"

#include <stdio.h>
#include <string.h>

const char *sc_strerror(int err)
{
	switch (err) {
	case SC_OK: return "success";
	case SC_EAGAIN: return "need more input";
	case SC_ETRUNC: return "truncated input";
	case SC_ECORRUPT: return "corrupt data";
	case SC_EFORMAT: return "unknown file format";
	case SC_EVERSION: return "unsupported format version";
	case SC_ETOOBIG: return "declared length over limit";
	case SC_ECHECKSUM: return "checksum mismatch";
	case SC_EPROTO: return "protocol error";
	case SC_EUNSUPP: return "not supported";
	case SC_ECOMPRESS: return "compression error";
	case SC_ELIMIT: return "limit reached";
	}
	if (err < 0 && err > SC_ERR_BASE)
		return strerror(-err);
	return "unknown error";
}

int sc_err_is_fatal(int err)
{
	return err < 0 && err > SC_ERR_BASE;
}

int sc_diag_set(struct sc_diag *d, int err, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return err;
	d->err = err;
	d->offset = offset;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return err;
}
