#!/bin/bash
# sockcap info, info --json, dump, analyze (its database printed by
# dbdump.py) and export --har on every sample of TESTLIST: stdout, stderr and the exit status
# equal the committed expected files exactly.
. "$top_srcdir/tests/e2e/lib.sh"
cd "$top_srcdir"
E=tests/e2e/expected
while read -r sample cmds; do
	case $sample in '' | '#'*) continue ;; esac
	for c in $cmds; do
		case $c in
		info) args=(info) ;;
		dump) args=(dump) ;;
		json) args=(info --json) ;;
		analyze) args=(analyze -q -o "$WORK/a.db") ;;
		har) args=(export -q --har -) ;;
		esac
		rm -f "$WORK/a.db"
		TZ=UTC LC_ALL=C "$SOCKCAP" "${args[@]}" "samples/$sample" >"$WORK/out" 2>"$WORK/err"
		st=$?
		if [ "$c" = analyze ]; then
			/usr/bin/python3 "$top_srcdir/tests/e2e/dbdump.py" "$WORK/a.db" >"$WORK/out"
		fi
		expect_file_eq "$sample ${args[*]}: stdout" "$WORK/out" "$E/$sample.$c.out"
		if [ "$c" != json ]; then
			expect_file_eq "$sample ${args[*]}: stderr" "$WORK/err" "$E/$sample.$c.err"
			expect_eq "$sample ${args[*]}: exit status" "$st" "$(cat "$E/$sample.$c.status")"
		fi
	done
done <tests/e2e/TESTLIST
# The JSON is valid JSON.
for f in "$E"/*.json.out; do
	/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" && ok "$(basename "$f") parses" ||
		fail "$(basename "$f") is not JSON"
done
finish
