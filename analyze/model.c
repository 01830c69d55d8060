#include "analyze/model.h"

const char *sc_role_name(enum sc_role r)
{
	switch (r) {
	case SC_ROLE_CLIENT: return "client";
	case SC_ROLE_SERVER: return "server";
	case SC_ROLE_NETWORK: return "network";
	case SC_ROLE_UNKNOWN: break;
	}
	return "unknown";
}

const char *sc_proto_name(enum sc_proto p)
{
	switch (p) {
	case SC_PROTO_NONE: return "none";
	case SC_PROTO_HTTP1: return "http/1";
	case SC_PROTO_HTTP2: return "h2";
	case SC_PROTO_TLS: return "tls";
	case SC_PROTO_UNKNOWN: break;
	}
	return "unknown";
}

const char *sc_anomaly_kind_name(enum sc_anomaly_kind k)
{
	switch (k) {
	case SC_ANOM_GAP: return "gap";
	case SC_ANOM_PARSE: return "parse_error";
	case SC_ANOM_TRUNCATED: return "truncated";
	case SC_ANOM_UNKNOWN: return "undecoded";
	}
	return "unknown";
}
