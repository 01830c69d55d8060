# lib.sh - helpers for the end-to-end tests (sourced).
#
# The environment comes from make check: SOCKCAP (the program), top_srcdir,
# top_builddir.  Every test works in its own temporary directory, starts what
# it needs, and stops only the processes it started, by PID.
set -u

: "${SOCKCAP:?run through make check}"
: "${top_srcdir:?run through make check}"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/sc-e2e-$TEST_NAME.XXXXXX")
PIDS=""
FAILS=0

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ "$FAILS" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT

# skip REASON: exit 77 (automake's SKIP), or fail under CI=true.
skip() {
	if [ "${CI:-}" = "true" ]; then
		echo "FAIL (skipped under CI=true): $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

ok() {
	echo "ok: $*"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# expect_file_eq WHAT GOT_FILE WANT_FILE: exact comparison with a diff on failure.
expect_file_eq() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		fail "$1 differs from $3:"
		diff -u "$3" "$2" | head -60
	fi
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT.
wait_port() {
	local i=0 limit=$(( ${2:-10} * 10 ))
	while [ $i -lt $limit ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start CMD...: run in the background, remember its PID in $LAST_PID.
start() {
	"$@" &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

# stop PID [SIGNAL]: signal one process we started and wait for it (bounded).
stop() {
	local pid=$1 sig=${2:-TERM} i=0
	kill -"$sig" "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$TEST_NAME: $FAILS failures"
		exit 1
	fi
	echo "$TEST_NAME: passed"
	exit 0
}

# ---- recorder and servers ----------------------------------------------------------

# need_bpf: root and a kernel where the recorder's programs load.
need_bpf() {
	need_root
	"$SOCKCAP" record --check -q 2>"$WORK/bpf-check.err" ||
		skip "the BPF programs do not load here: $(cat "$WORK/bpf-check.err")"
}

# start_recorder FILE ARGS...: record in the background until stop_recorder;
# returns once the programs are attached.
REC_N=0
start_recorder() {
	local file=$1 i=0
	shift
	REC_N=$((REC_N + 1))
	REC_LOG="$WORK/record-$REC_N.log"
	: >"$REC_LOG"
	"$SOCKCAP" record -w "$file" "$@" 2>"$REC_LOG" &
	REC_PID=$!
	PIDS="$PIDS $REC_PID"
	while ! grep -q "recording to" "$REC_LOG" 2>/dev/null; do
		if ! kill -0 "$REC_PID" 2>/dev/null || [ $i -ge 300 ]; then
			cat "$REC_LOG"
			fail "the recorder did not start"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# stop_recorder: SIGINT (like Ctrl-C), wait; REC_STATUS is its exit status.
stop_recorder() {
	local i=0
	kill -INT "$REC_PID" 2>/dev/null
	while kill -0 "$REC_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$REC_PID"
	REC_STATUS=$?
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$REC_PID" | tr '\n' ' ')
}

# start_pyhttp PORT DIR: python3's http.server on 127.0.0.1.
start_pyhttp() {
	start /usr/bin/python3 -m http.server --bind 127.0.0.1 "$1" --directory "$2" >"$WORK/pyhttp-$1.log" 2>&1
	PY_PID=$LAST_PID
	wait_port "$1" || fail "python3 http.server did not start on $1"
}

# start_nginx DIR H1_PORT H2_PORT SENDFILE(on|off): nginx with its own config
# in DIR (docroot DIR/www), HTTP/1.1 on H1_PORT and h2c on H2_PORT.
start_nginx() {
	local dir=$1 h1=$2 h2=$3 sf=${4:-off}
	mkdir -p "$dir/www" "$dir/logs" "$dir/tmp"
	cat >"$dir/nginx.conf" <<CONF
user root;
worker_processes 1;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile $sf;
	tcp_nopush off;
	keepalive_requests 100000;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	types { text/html html; text/plain txt; application/octet-stream bin; }
	default_type application/octet-stream;
	server { listen 127.0.0.1:$h1; root $dir/www; }
	server { listen 127.0.0.1:$h2 http2; root $dir/www; }
}
CONF
	start nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
	NGINX_PID=$LAST_PID
	wait_port "$h1" && wait_port "$h2" || { cat "$dir/logs/error.log"; fail "nginx did not start"; }
}

# info_json FILE PYTHON-EXPR: evaluate an expression over `sockcap info --json`
# (bound to `j`; helpers: socks(comm=..., how=...) filters j["sockets"]).
info_json() {
	"$SOCKCAP" info --json "$1" >"$WORK/info.json" 2>"$WORK/info.err"
	/usr/bin/python3 - "$WORK/info.json" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
def socks(**kw):
    return [s for s in j["sockets"] if all(s.get(k) == v for k, v in kw.items())]
print(eval(sys.argv[2]))
PY
}

# ---- generated captures ----------------------------------------------------------------

SKCGEN=$top_builddir/tests/e2e/skcgen

# http_script N BODY [REQS]: a tests/e2e/skcgen script of N connections
# (client sockets of pid 100, comm curl), each with REQS (default 1)
# keep-alive GETs carrying an Authorization and a Cookie field, each answered
# with BODY bytes.
http_script() {
	awk -v n="$1" -v b="$2" -v r="${3:-1}" 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "open %d connect 127.0.0.1:%d 127.0.0.1:8080 100 curl\n", i, 10000 + i % 50000
			for (j = 1; j <= r; j++) {
				printf "send %d GET /item/%d/%d HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\n", i, i, j
				printf "Authorization: Bearer secret-%d\\r\\nCookie: session=s%d\\r\\n\\r\\n\n", i, i
				printf "recv %d HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\n", i
				printf "Content-Length: %d\\r\\n\\r\\n\n", b
				printf "recvfill %d %d x\n", i, b
			}
			printf "close %d\n", i
		}
	}'
}
