#!/usr/bin/env bash
# The fault suite of issue 21 ("nothing lost, nothing leaked"): Go tests
# that start their own Postgres and Redis server processes (private ports,
# data directories under a temporary directory; see tasks/faulttest), stop,
# freeze (SIGSTOP), thaw and kill them and the worker (kill -9), and print
# one line per case:
#
#   FAULT <case> lost=N duplicated=M
#
# The script prints those lines and fails unless every case ran and every
# count is zero. It needs Postgres server binaries, redis-server and Go; it
# never touches the shared services. Extra `go test` flags (e.g. -race)
# come from FAULT_GOFLAGS.
#
# Cases: one line per package, "<package> <go test -run pattern>". Every
# test a pattern selects reports through faulttest.Report. Cases 3 and 4
# use the shared test Postgres (TEST_DATABASE_URL, set by make).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -x /usr/local/go/bin/go ]] && ! command -v go >/dev/null 2>&1; then
	export PATH="/usr/local/go/bin:$PATH"
fi

CASES=(
	"./tasks/ ^TestFault" # 1 long Postgres outage, archived tasks; 2 kill -9 of the worker; 5 Redis freeze
	". ^TestFault"        # 3 replicas started at the same instant on an empty database
	"./alerts/ ^TestFault" # 4 poison input from Alertmanager (NUL, the same alert twice, oversize keys)
)

log=$(mktemp -t opsbot-faults.XXXXXX)
trap 'rm -f "$log"' EXIT
status=0
for c in "${CASES[@]}"; do
	read -r pkg pattern <<<"$c"
	echo "==> go test -run '$pattern' $pkg"
	# shellcheck disable=SC2086 # FAULT_GOFLAGS is a list of flags
	if ! go test -count=1 -v -timeout 10m ${FAULT_GOFLAGS:-} -run "$pattern" "$pkg" >>"$log" 2>&1; then
		status=1
		echo "    FAILED: the output follows"
		grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s*$)' "$log" | tail -n 60 | sed 's/^/    /'
	fi
done

echo "==> Fault cases"
lines=$(grep -oE 'FAULT .*lost=[0-9]+ duplicated=[0-9]+' "$log" || true)
if [[ -z $lines ]]; then
	echo "    no case reported (was a server binary missing? the tests skip then)"
	grep -E -- '--- SKIP' "$log" | sed 's/^/    /' || true
	exit 1
fi
echo "$lines" | sed 's/^FAULT /    /'
if echo "$lines" | grep -vqE 'lost=0 duplicated=0$'; then
	status=1
fi
if ((status != 0)); then
	echo "==> FAIL: something was lost or duplicated, or a case failed"
	exit 1
fi
echo "==> ok: $(echo "$lines" | wc -l) cases, nothing lost, nothing duplicated"
