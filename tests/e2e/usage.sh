#!/bin/bash
# Usage errors, the GNU way, for the program and every subcommand: one line
# saying what is wrong, then "Try 'sockcap CMD --help' for more
# information.", nothing on standard output, exit status 2.  --help prints
# to standard output and exits 0.
. "$top_srcdir/tests/e2e/lib.sh"

# usage_is WHAT WANT_STDERR ARGS...: exit 2, empty stdout, exactly WANT_STDERR.
usage_is() {
	local what=$1 want=$2
	shift 2
	"$SOCKCAP" "$@" >"$WORK/out" 2>"$WORK/err"
	local st=$?
	expect_eq "$what: exit status" "$st" 2
	expect_eq "$what: nothing on standard output" "$(cat "$WORK/out")" ""
	expect_eq "$what: message" "$(cat "$WORK/err")" "$want"
}

try() { printf "Try 'sockcap%s --help' for more information." "${1:+ $1}"; }

for cmd in record analyze replay export diff info dump; do
	usage_is "$cmd -z" "sockcap $cmd: invalid option -- 'z'
$(try "$cmd")" "$cmd" -z
	usage_is "$cmd --bogus" "sockcap $cmd: unrecognized option '--bogus'
$(try "$cmd")" "$cmd" --bogus x
	"$SOCKCAP" "$cmd" --help >"$WORK/help" 2>"$WORK/help.err"
	expect_eq "$cmd --help: exit 0" "$?" 0
	head -1 "$WORK/help" | grep -q "^Usage: sockcap $cmd" && [ ! -s "$WORK/help.err" ] &&
		ok "$cmd --help: usage on standard output" || fail "$cmd --help: $(head -3 "$WORK/help")"
done

# An option that needs an argument, given none.
usage_is "record -w" "sockcap record: option requires an argument -- 'w'
$(try record)" record -w
usage_is "analyze --max-body" "sockcap analyze: option '--max-body' requires an argument
$(try analyze)" analyze --max-body
usage_is "replay --target" "sockcap replay: option '--target' requires an argument
$(try replay)" replay --target
usage_is "export --har" "sockcap export: option '--har' requires an argument
$(try export)" export --har
usage_is "diff --ignore-header" "sockcap diff: option '--ignore-header' requires an argument
$(try diff)" diff --ignore-header
usage_is "dump -s" "sockcap dump: option requires an argument -- 's'
$(try dump)" dump -s

# Operands missing or too many.
usage_is "record without -w" "sockcap record: -w FILE is required
$(try record)" record
usage_is "analyze without input" "sockcap analyze: no capture file given
$(try analyze)" analyze
usage_is "export without output" "sockcap export: say what to write: --har FILE (or --pcapng FILE)
$(try export)" export x.skc
usage_is "export without input" "sockcap export: no input given
$(try export)" export --har x.har
usage_is "diff with one input" "sockcap diff: give two inputs: A (the reference) and B (the new run)
$(try diff)" diff a.skc
usage_is "info without input" "sockcap info: no capture file given
$(try info)" info
usage_is "dump with two inputs" "sockcap dump: one capture file at a time
$(try dump)" dump a.skc b.skc

# The program itself.
usage_is "no command" "sockcap: missing command (record, analyze, replay, export, diff, info, dump)
$(try)"
usage_is "unknown command" "sockcap: unknown command 'frobnicate'
$(try)" frobnicate
usage_is "unknown option" "sockcap: unrecognized option '--frobnicate'
$(try)" --frobnicate
usage_is "unknown short option" "sockcap: invalid option -- 'z'
$(try)" -z
"$SOCKCAP" --help >"$WORK/help" 2>&1
expect_eq "sockcap --help: exit 0" "$?" 0
finish
