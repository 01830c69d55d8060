#!/usr/bin/env bash
# safe_outputs.sh - every file sockcap writes with captured content in it is
# created 0600, never through a symbolic link, replaced only with -f, and
# never left half-written: a full disk (a small tmpfs mounted here, and
# /dev/full) says ENOSPC plainly, exits 2 and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
need_root

SMALL=$WORK/small
mkdir "$SMALL"
mount -t tmpfs -o size=128k,mode=0700 sockcap-test "$SMALL" || skip "cannot mount a tmpfs"
trap 'umount "$SMALL" 2>/dev/null; cleanup' EXIT
umask 022 # what most users have: the files must be 0600 anyway

# entries DIR: every name in DIR, hidden ones too (a temporary file left
# behind would show here).
entries() {
	ls -A "$1" | tr '\n' ' '
}

http_script 3 300 | "$SKCGEN" "$WORK/small.skc"
http_script 3000 30 | "$SKCGEN" "$WORK/big.skc" # exports far larger than the tmpfs

# ---- a full disk ---------------------------------------------------------------------
# big.skc used to crash: a write failing inside a synthesized handshake left
# the source a NULL state, which it then ended (export_pcapng.c x_end).
"$SOCKCAP" export --pcapng "$SMALL/x.pcapng" "$WORK/big.skc" 2>"$WORK/err"
expect_eq "export --pcapng onto a full disk: exit 2 and why" "$?:$(cat "$WORK/err")" \
	"2:sockcap export: writing $SMALL/x.pcapng: No space left on device"
expect_eq "export --pcapng onto a full disk: nothing left behind" "$(entries "$SMALL")" ""
"$SOCKCAP" export --har "$SMALL/x.har" "$WORK/big.skc" 2>"$WORK/err"
expect_eq "export --har onto a full disk: exit 2 and why" "$?:$(cat "$WORK/err")" \
	"2:sockcap export: writing $SMALL/x.har: No space left on device"
expect_eq "export --har onto a full disk: nothing left behind" "$(entries "$SMALL")" ""
"$SOCKCAP" export --pcapng /dev/full "$WORK/small.skc" 2>"$WORK/err"
expect_eq "export --pcapng to /dev/full: exit 2 and why" "$?:$(cat "$WORK/err")" \
	"2:sockcap export: writing /dev/full: No space left on device"
"$SOCKCAP" export --har /dev/full "$WORK/small.skc" 2>"$WORK/err"
expect_eq "export --har to /dev/full: exit 2 and why" "$?:$(cat "$WORK/err")" \
	"2:sockcap export: writing /dev/full: No space left on device"
[ -c /dev/full ] && ok "/dev/full is still a device" || fail "/dev/full was replaced"

# ---- modes -------------------------------------------------------------------------------
mkdir "$WORK/out"
"$SOCKCAP" export -q --har "$WORK/out/web.har" "$WORK/small.skc"
"$SOCKCAP" export -q --pcapng "$WORK/out/web.pcapng" "$WORK/small.skc"
for f in web.har web.pcapng; do
	expect_eq "$f: mode 0600 under umask 022" "$(stat -c %a "$WORK/out/$f")" 600
done
expect_eq "no temporary files left" "$(entries "$WORK/out")" "web.har web.pcapng "

# ---- one overwrite rule --------------------------------------------------------------------
for kind in har pcapng; do
	printf 'precious' >"$WORK/out/old.$kind"
	chmod 644 "$WORK/out/old.$kind"
	"$SOCKCAP" export -q --$kind "$WORK/out/old.$kind" "$WORK/small.skc" 2>"$WORK/err"
	expect_eq "export --$kind over an existing file: exit 2 and why" "$?:$(cat "$WORK/err")" \
		"2:sockcap export: $WORK/out/old.$kind exists; -f replaces it"
	expect_eq "export --$kind: the existing file is left alone" "$(cat "$WORK/out/old.$kind")" precious
	ln "$WORK/out/old.$kind" "$WORK/out/second-name.$kind"
	"$SOCKCAP" export -q -f --$kind "$WORK/out/old.$kind" "$WORK/small.skc"
	expect_eq "export -f --$kind replaces it: mode 0600" "$?:$(stat -c %a "$WORK/out/old.$kind")" 0:600
	expect_eq "export -f --$kind: a new file, the old one is not truncated" \
		"$(cat "$WORK/out/second-name.$kind")" precious
done

# ---- symbolic links --------------------------------------------------------------------------
printf 'victim' >"$WORK/victim"
for kind in har pcapng; do
	ln -s "$WORK/victim" "$WORK/out/link.$kind"
	ln -s "$WORK/absent.$kind" "$WORK/out/dangling.$kind"
	"$SOCKCAP" export -q --$kind "$WORK/out/link.$kind" "$WORK/small.skc" 2>"$WORK/err"
	expect_eq "export --$kind onto a symlink: exit 2 and why" "$?:$(cat "$WORK/err")" \
		"2:sockcap export: $WORK/out/link.$kind exists; -f replaces it"
	"$SOCKCAP" export -q --$kind "$WORK/out/dangling.$kind" "$WORK/small.skc" 2>/dev/null
	expect_eq "export --$kind onto a dangling symlink: exit 2" "$?" 2
	[ ! -e "$WORK/absent.$kind" ] && ok "export --$kind: the dangling link's target is not created" ||
		fail "export --$kind created the target of a dangling link"
	"$SOCKCAP" export -q -f --$kind "$WORK/out/link.$kind" "$WORK/small.skc"
	[ -f "$WORK/out/link.$kind" ] && [ ! -L "$WORK/out/link.$kind" ] &&
		ok "export -f --$kind replaces the link itself" || fail "export -f --$kind: still a link"
	expect_eq "export -f --$kind: the link's target is untouched" "$(cat "$WORK/victim")" victim
done
# A link to a device that root owns is followed: /dev/stdout works.
"$SOCKCAP" export -q --pcapng /dev/stdout "$WORK/small.skc" >"$WORK/stdout.pcapng"
"$SOCKCAP" export -q --pcapng - "$WORK/small.skc" >"$WORK/dash.pcapng"
cmp -s "$WORK/stdout.pcapng" "$WORK/dash.pcapng" && ok "--pcapng /dev/stdout = --pcapng -" ||
	fail "--pcapng /dev/stdout differs from -"

finish
