/* h2_support.c - sc_convo_anomaly() for tests and fuzz targets that link a
 * decoder without analyze/convo.c.  Same contract as convo.c's: fill a
 * struct sc_anomaly, count it in env->stats, hand it to the sink. */
#include <stdarg.h>
#include <stdio.h>

#include "analyze/convo.h"

int sc_convo_anomaly(const struct sc_dec_env *env, const struct sc_conn *c, enum sc_anomaly_kind kind, int side,
		     uint64_t off, uint64_t len, uint64_t ts_ns, uint32_t stream_id, const char *fmt, ...)
{
	struct sc_anomaly a = { 0 };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a.conn_id = c->id;
	a.kind = kind;
	a.side = side;
	a.offset = off;
	a.len = len;
	a.ts_ns = ts_ns;
	a.stream_id = stream_id;
	a.msg = msg;
	env->stats->anomalies++;
	if (kind == SC_ANOM_PARSE)
		env->stats->parse_errors++;
	return env->sink->anomaly ? env->sink->anomaly(env->sink->ctx, &a) : 0;
}
