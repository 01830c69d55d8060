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
