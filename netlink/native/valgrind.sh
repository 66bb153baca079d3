#!/bin/sh
# Runs test/helpers/close-probe.js (sends in flight and queued at close and at env teardown, nlClose inside a
# receive callback) and test/bfd/worker-teardown-child.js (the BFD worker terminated with its UDP
# sockets open) under valgrind memcheck, in a network namespace of its own that is deleted
# afterwards. It complements asan.sh:
# ASan instruments only the addon, but the use after close of issue 11 was a read inside node
# (napi_make_callback on an async context napi_async_destroy had freed), which only valgrind,
# seeing every instruction, reports. Any memcheck error fails the run. Needs root and `npm run
# build` first; takes about a minute (node is ~30x slower under valgrind).
#
#   npm run test:valgrind
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
probe="$repo/dist/test/helpers/close-probe.js"
[ -f "$probe" ] || { echo "valgrind.sh: $probe missing: npm run build" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }
# Named like test/helpers/netns.ts names its namespaces: ra<pid>x<random>-<lab>.
ns="ra$$x$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-valgrind"
logs=$(mktemp -d /tmp/rack-agent-valgrind.XXXXXX)
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up

status=0
for run in "raw 50" "queue 10" "channel 50" "callback 20" "worker 3"; do
  set -- $run
  echo "valgrind.sh: close-probe $1 $2"
  if ! ip netns exec "$ns" valgrind -q --error-exitcode=99 --log-file="$logs/$1.%p.log" \
      node "$probe" "$1" "$2"; then
    status=1
  fi
done
# The BFD worker terminated with its UDP sockets open and polling (udp.c's async cleanup hook).
teardown="$repo/dist/test/bfd/worker-teardown-child.js"
echo "valgrind.sh: worker-teardown-child 3"
if ! ip netns exec "$ns" valgrind -q --error-exitcode=99 --log-file="$logs/teardown.%p.log" \
    node "$teardown" 3 3784; then
  status=1
fi
if grep -l 'Invalid \|uninitialised\|Mismatched' "$logs"/*.log >/dev/null 2>&1 || [ "$status" -ne 0 ]; then
  echo "valgrind.sh: memcheck errors (logs in $logs):" >&2
  cat "$logs"/*.log >&2
  exit 1
fi
echo "valgrind.sh: clean: no memcheck error"
rm -rf "$logs"
