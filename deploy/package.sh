#!/usr/bin/env bash
# Builds the packaged tree the Ansible role installs: rack-agent-VERSION.tar.gz holding
# rack-agent-VERSION/{package.json, package-lock.json, README.md, deploy/README.md,
# dist/{agent,config,netlink}, netlink/native
# (with its compiled addon), node_modules (production dependencies only)}. VERSION is package.json's
# version plus the git commit (0.1.0+5e581ed, 0.1.0+5e581ed.dirty with uncommitted changes), so
# every build is a new release directory on the servers. Runs on a build machine of the servers'
# architecture and Node major version (the addon is native code), from a checkout that has been
# `npm ci`'d; builds first. Needs no network.
#
#   deploy/package.sh [--no-build] [OUTDIR]     (default OUTDIR: dist/package)
# --no-build packs dist/ as it is (tests that run from a fresh build use it).
set -euo pipefail
build=1
if [[ ${1:-} == --no-build ]]; then build=0; shift; fi
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/dist/package}" && cd "${1:-$root/dist/package}" && pwd)
cd "$root"

version=$(node -p 'require("./package.json").version')
if commit=$(git rev-parse --short HEAD 2>/dev/null); then
  git diff --quiet HEAD -- 2>/dev/null || commit="$commit.dirty"
  version="$version+$commit"
fi
name="rack-agent-$version"

[[ -d node_modules ]] || { echo "package.sh: run npm ci first" >&2; exit 1; }
if ((build)); then npm run --silent build; fi
addon=netlink/native/build/Release/rack_agent_native.node
[[ -f $addon ]] || { echo "package.sh: $addon is missing (npm ci builds it)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tree="$stage/$name"
mkdir -p "$tree/dist" "$tree/netlink/native/build/Release"
mkdir -p "$tree/deploy"
cp package.json package-lock.json README.md "$tree/"
cp deploy/README.md "$tree/deploy/"   # the unit's Documentation=
for part in agent config netlink; do
  [[ -d dist/$part ]] && cp -a "dist/$part" "$tree/dist/"
done
find "$tree/dist" -name '*.map' -delete
cp netlink/native/package.json netlink/native/index.cjs "$tree/netlink/native/"
cp "$addon" "$tree/netlink/native/build/Release/"
# The bin entries are the built JavaScript with a node shebang: executable, as npm link makes them.
node -e 'const b = require(process.argv[1]).bin ?? {}; for (const f of typeof b === "string" ? [b] : Object.values(b)) require("fs").chmodSync(require("path").join(process.argv[2], f), 0o755)' \
  "$root/package.json" "$tree"
# node_modules as installed, then without the dev dependencies (offline: the lock file is enough).
cp -a node_modules "$tree/"
(cd "$tree" && npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund >/dev/null)
# A relative symlink (node_modules/rack-agent-native -> ../netlink/native) survives the move.
[[ -e $tree/node_modules/rack-agent-native/index.cjs ]] || { echo "package.sh: rack-agent-native link broken" >&2; exit 1; }

tar -C "$stage" --owner=0 --group=0 -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
