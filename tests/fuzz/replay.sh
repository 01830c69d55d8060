#!/bin/sh
# Replay every committed fuzz corpus through its target (make check).
set -u
rc=0
for t in tests/fuzz/replay_*; do
	[ -x "$t" ] || continue
	name=${t##*/replay_}
	dir="$top_srcdir/tests/fuzz/corpus/$name"
	if [ ! -d "$dir" ]; then
		echo "no corpus for $name at $dir" >&2
		rc=1
		continue
	fi
	"$t" "$dir" || rc=1
done
exit $rc
