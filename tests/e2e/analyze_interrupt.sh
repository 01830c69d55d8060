#!/usr/bin/env bash
# analyze_interrupt.sh - `sockcap analyze` into a database never damages it:
# Ctrl-C, SIGTERM or kill -9 in the middle of a large load leave an existing
# database exactly as it was (the content hash and integrity_check before and
# after), a new one is not created, re-analysing keeps memory flat, and
# outputs that cannot be written say why (path and reason).
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3 setpriv

DB=$WORK/t.db
http_script 3 300 | "$SKCGEN" "$WORK/small.skc"
http_script 2 100 | "$SKCGEN" "$WORK/other.skc"
# About two seconds of analysis and a database of about 130 MB.
http_script 50000 1000 2 | "$SKCGEN" "$WORK/big.skc"

state() { # the database's content and integrity (sqlite3 rolls back a hot journal first)
	sqlite3 "$1" .sha3sum "PRAGMA integrity_check"
}

# wait_hot DB PID: until the run has begun to change DB itself, or PID
# ended.  SQLite syncs the journal and writes its magic into the journal's
# header before it changes the first page of the database (a hot journal).
wait_hot() {
	local i=0
	while [ $i -lt 500 ] && kill -0 "$2" 2>/dev/null; do
		[ "$(od -An -tx1 -N8 "$1-journal" 2>/dev/null | tr -d ' ')" = d9d505f920a163d7 ] && return 0
		sleep 0.02
		i=$((i + 1))
	done
	return 1
}

"$SOCKCAP" analyze -q -o "$DB" "$WORK/small.skc"
expect_eq "a new database: mode 0600 under umask 022" "$( (umask 022; "$SOCKCAP" analyze -q -o "$WORK/m.db" \
	"$WORK/small.skc"); stat -c %a "$WORK/m.db")" 600
"$SOCKCAP" analyze -q -o "$DB" "$WORK/big.skc" # so that the next runs replace its rows, too
before=$(state "$DB")

# ---- Ctrl-C and SIGTERM --------------------------------------------------------------------
for sig in INT TERM; do
	name=$([ $sig = INT ] && echo Interrupt || echo Terminated)
	"$SOCKCAP" analyze -q -o "$DB" "$WORK/other.skc" "$WORK/big.skc" 2>"$WORK/$sig.err" &
	pid=$!
	wait_hot "$DB" $pid && ok "SIG$sig: the run was changing the database" || fail "SIG$sig: no hot journal seen"
	kill -$sig $pid
	wait $pid
	expect_eq "SIG$sig: exit 2 and the message" "$?:$(cat "$WORK/$sig.err")" \
		"2:sockcap analyze: interrupted ($name): $DB is as it was before this run"
	expect_eq "SIG$sig: the database is exactly as before, and whole" "$(state "$DB")" "$before"
done

# ---- kill -9 ---------------------------------------------------------------------------------
"$SOCKCAP" analyze -q -o "$DB" "$WORK/other.skc" "$WORK/big.skc" 2>/dev/null &
pid=$!
wait_hot "$DB" $pid && ok "kill -9: the run was changing the database" || fail "kill -9: no hot journal seen"
kill -KILL $pid
wait $pid 2>/dev/null
[ "$(od -An -tx1 -N8 "$DB-journal" | tr -d ' ')" = d9d505f920a163d7 ] && ok "kill -9: a hot journal is left" ||
	fail "kill -9: no hot journal left"
cp "$DB" "$WORK/k.db"
cp "$DB-journal" "$WORK/k.db-journal"
expect_eq "kill -9: the database is exactly as before, and whole" "$(state "$DB")" "$before"
"$SOCKCAP" analyze -q -o "$WORK/k.db" "$WORK/other.skc" 2>"$WORK/k.err"
expect_eq "kill -9: the next run says it rolled the interrupted one back" "$?:$(cat "$WORK/k.err")" \
	"0:sockcap analyze: $WORK/k.db: an earlier run was interrupted before it finished: rolled back"
expect_eq "kill -9: and adds its capture to the old content" \
	"$(sqlite3 "$WORK/k.db" "SELECT count(*) FROM captures; PRAGMA integrity_check")" "$(printf '3\nok')"

# ---- a new database ----------------------------------------------------------------------------
mkdir "$WORK/new"
"$SOCKCAP" analyze -q -o "$WORK/new/n.db" "$WORK/big.skc" 2>"$WORK/new.err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
expect_eq "SIGINT into a new database: exit 2 and the message" "$?:$(cat "$WORK/new.err")" \
	"2:sockcap analyze: interrupted (Interrupt): $WORK/new/n.db was not created"
expect_eq "SIGINT into a new database: nothing left behind" "$(ls -A "$WORK/new")" ""
"$SOCKCAP" analyze -q -o "$WORK/new/n.db" "$WORK/big.skc" 2>/dev/null &
pid=$!
sleep 0.5
kill -KILL $pid
wait $pid 2>/dev/null
[ ! -e "$WORK/new/n.db" ] && ok "kill -9 into a new database: it does not exist" || fail "kill -9: n.db exists"
rm -f "$WORK"/new/.n.db.* # the temporary file kill -9 leaves (docs/schema.md)

# ---- memory does not grow with the rows replaced ------------------------------------------------
peak_kib() { # CMD...: the command's peak RSS in KiB
	/usr/bin/python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
first=$(peak_kib "$SOCKCAP" analyze -q -o "$WORK/mem.db" "$WORK/big.skc")
again=$(peak_kib "$SOCKCAP" analyze -q -o "$WORK/mem.db" "$WORK/big.skc")
echo "peak RSS: first analysis $first KiB, again into the same database $again KiB"
[ "$again" -lt $((first + 32768)) ] && ok "re-analysing stays within 32 MiB of the first run" ||
	fail "re-analysing took $again KiB against $first KiB"
expect_eq "re-analysing replaced the rows" "$(sqlite3 "$WORK/mem.db" "SELECT count(*) FROM transactions")" 100000

# ---- what cannot be written is said, with the path and the reason ---------------------------------
"$SOCKCAP" analyze -o "$WORK/t.txt.db" /etc/hostname 2>"$WORK/err"
expect_eq "not a capture: exit 2" "$?" 2
[ ! -e "$WORK/t.txt.db" ] && ok "not a capture: no database left behind" || fail "an empty database was left"
"$SOCKCAP" analyze -o "$WORK/nodir/t.db" "$WORK/small.skc" 2>"$WORK/err"
expect_eq "a missing directory: exit 2 and why" "$?:$(cat "$WORK/err")" \
	"2:sockcap analyze: cannot create $WORK/nodir/t.db: directory $WORK/nodir does not exist"
if [ "$(id -u)" -eq 0 ]; then
	mkdir "$WORK/ro"
	chmod 755 "$WORK" "$WORK/ro"
	chmod 644 "$WORK/small.skc"
	cp "$DB" "$WORK/ro/root.db"
	chmod 644 "$WORK/ro/root.db"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	as_nobody "$SOCKCAP" analyze -o "$WORK/ro/t.db" "$WORK/small.skc" 2>"$WORK/err"
	expect_eq "a directory not writable: exit 2 and why" "$?:$(cat "$WORK/err")" \
		"2:sockcap analyze: cannot create $WORK/ro/t.db: Permission denied (directory $WORK/ro)"
	as_nobody "$SOCKCAP" analyze -o "$WORK/ro/root.db" "$WORK/small.skc" 2>"$WORK/err"
	expect_eq "a database not writable: exit 2 and why" "$?:$(cat "$WORK/err")" \
		"2:sockcap analyze: $WORK/ro/root.db: Permission denied"
	chmod 700 "$WORK"
fi

# ---- standard input and output -----------------------------------------------------------------
"$SOCKCAP" analyze -o - "$WORK/small.skc" 2>"$WORK/err"
expect_eq "-o -: exit 2 and why" "$?:$(head -1 "$WORK/err")" \
	"2:sockcap analyze: a database cannot be written to standard output: give a file (-o FILE.db)"
[ ! -e ./- ] && [ ! -e "$WORK/-" ] && ok "-o -: no file named '-'" || fail "-o -: a file named '-' was written"
"$SOCKCAP" analyze -q -o "$WORK/stdin.db" - <"$WORK/small.skc"
expect_eq "analyze - reads standard input" \
	"$(sqlite3 "$WORK/stdin.db" "SELECT count(*), min(c.path LIKE 'stdin:%') FROM transactions t JOIN captures c ON c.id = t.capture_id")" \
	"3|1"
"$SOCKCAP" dump - <"$WORK/small.skc" >"$WORK/dump-stdin.out"
"$SOCKCAP" dump "$WORK/small.skc" >"$WORK/dump-file.out"
expect_file_eq "dump - reads standard input" "$WORK/dump-stdin.out" "$WORK/dump-file.out"

# ---- symbolic links ------------------------------------------------------------------------------
ln -s "$DB" "$WORK/link.db"
ln -s "$WORK/absent.db" "$WORK/dangling.db"
for l in link dangling; do
	"$SOCKCAP" analyze -q -o "$WORK/$l.db" "$WORK/small.skc" 2>"$WORK/err"
	expect_eq "-o onto a $l symlink: exit 2 and why" "$?:$(cat "$WORK/err")" \
		"2:sockcap analyze: $WORK/$l.db is a symbolic link: not followed (give the database's own path)"
done
[ ! -e "$WORK/absent.db" ] && ok "the dangling link's target is not created" || fail "absent.db was created"
expect_eq "the link's target is untouched" "$(state "$DB")" "$before"

finish
