#!/usr/bin/env bash
# The whole suite in two pytest processes side by side: the tests that talk to the
# session's Neo4j (marked `neo4j`; Community Neo4j has one database, which they clear,
# so they run one at a time) with a few slow others (together marked `first_half`),
# and all the others. Each half writes its own log, printed
# when both are done; the run fails when either half fails or runs no tests.
# Usage: scripts/test-suite.sh PYTHON  (NEO4J_URI set to a running Neo4j)
set -uo pipefail
py=${1:?usage: test-suite.sh PYTHON}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

half() {  # name, marker expression, extra pytest arguments...
	local name=$1 expr=$2; shift 2
	"$py" -m pytest -m "$expr" -p no:cacheprovider --basetemp="$logs/$name-tmp" \
		--durations=15 "$@" >"$logs/$name.log" 2>&1
	echo $? >"$logs/$name.rc"
}

start=$(date +%s)
half first "first_half" tests &
half second "not first_half" --doctest-modules src api tests &
wait

status=0
for name in second first; do
	rc=$(cat "$logs/$name.rc")
	echo "================================ the $name half (exit $rc) ================================"
	cat "$logs/$name.log"
	if [ "$rc" -eq 5 ]; then echo "the $name half ran no tests: that is a failure"; fi
	if [ "$rc" -ne 0 ]; then status=1; fi
done
echo "whole suite: $(( $(date +%s) - start )) s of pytest, both halves side by side"
exit $status
