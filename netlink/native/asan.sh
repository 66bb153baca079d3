#!/bin/sh
# Runs the addon's tests against an AddressSanitizer build of rack-agent-native (issue 11: use
# after close). Builds build/Release/rack_agent_native.node with -fsanitize=address in place, runs
# the tests that drive the addon with libasan preloaded into node (node itself is not
# instrumented; the addon is), and rebuilds the normal addon on the way out, even on failure.
# Every process that finds an error writes $REPORTS/asan.<pid>: the run is clean only if none
# does and the tests pass. Leak detection is off: node does not free everything at exit.
# ASan sees the addon's own memory (sockets, send jobs, read chunks) and its calls into libc; it
# does not see reads inside node itself (node is not instrumented): the issue-11 use after close
# (napi_make_callback on a destroyed async context) shows here only as the probe's SIGSEGV, and
# valgrind.sh is what names it.
#
#   npm run test:asan            (root: the tests use network namespaces)
#   ASAN_TESTS="dist/test/netlink/channel.test.js" npm run test:asan
#
# Needs gcc's libasan (Debian: libgcc-12-dev, installed with gcc) and npm_config_nodedir (/usr).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
gyp=${NODE_GYP:-$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js}
[ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "asan.sh: no libasan.so (gcc -print-file-name=libasan.so)" >&2; exit 2; }
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

tests=${ASAN_TESTS:-"dist/test/netlink/close-in-flight.test.js dist/test/netlink/send-queue.test.js dist/test/netlink/channel.test.js dist/test/session/socket-options.test.js dist/test/netlink/fib.test.js dist/test/bfd/worker-teardown.test.js dist/test/bfd/ttl.test.js"}
REPORTS=$(mktemp -d /tmp/rack-agent-asan.XXXXXX)

rebuild_normal() {
  (cd "$here" && node "$gyp" rebuild >/dev/null 2>&1) || echo "asan.sh: rebuilding the normal addon failed: run node-gyp rebuild in $here" >&2
}
trap rebuild_normal EXIT

echo "asan.sh: building the addon with -fsanitize=address"
(cd "$here" && CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" LDFLAGS="-fsanitize=address" \
  node "$gyp" rebuild >"$REPORTS/build.log" 2>&1) || { cat "$REPORTS/build.log" >&2; exit 1; }
nm -D "$here/build/Release/rack_agent_native.node" | grep -q __asan_init || { echo "asan.sh: the build is not instrumented" >&2; exit 1; }

# Only node gets the sanitizer: the tests run ip, sh and BIRD through `ip` (PATH), and iproute2
# has errors of its own under ASan (a strncpy overlap in print_route). This `ip` drops LD_PRELOAD
# except for `ip netns exec NS <node>`, which is how the tests start node children in namespaces.
real_ip=$(command -v ip)
node_bin=$(readlink -f "$(command -v node)")
mkdir "$REPORTS/bin"
{
  echo '#!/bin/sh'
  echo "if [ \"\$1\" = netns ] && [ \"\$2\" = exec ] && [ \"\$(readlink -f \"\$4\")\" = '$node_bin' ]; then"
  echo "  exec '$real_ip' \"\$@\""
  echo 'fi'
  echo 'unset LD_PRELOAD'
  echo "exec '$real_ip' \"\$@\""
} >"$REPORTS/bin/ip"
chmod +x "$REPORTS/bin/ip"

echo "asan.sh: running $tests (reports in $REPORTS)"
cd "$repo"
npm run build >/dev/null
status=0
PATH="$REPORTS/bin:$PATH" LD_PRELOAD="$libasan" ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$REPORTS/asan" \
  npx ava $tests || status=$?

if ls "$REPORTS"/asan.* >/dev/null 2>&1; then
  echo "asan.sh: AddressSanitizer reports:" >&2
  cat "$REPORTS"/asan.* >&2
  exit 1
fi
[ "$status" -eq 0 ] || { echo "asan.sh: tests failed under ASan (status $status)" >&2; exit "$status"; }
echo "asan.sh: clean: no AddressSanitizer report, tests passed"
rm -rf "$REPORTS"
