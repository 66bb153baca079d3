#!/usr/bin/env bash
# Builds (once) and prints the path of a Debian 13 (trixie) root for `npm run test:systemd`: a
# minbase root made by mmdebstrap from Debian's archive with systemd as init, dbus, iproute2,
# the .deb's dependencies (Debian's nodejs, 20.19 in trixie; procps for the unit's /bin/kill) and
# libcap2-bin, python3 and python3-apt (Ansible's apt module: role.systemd.ts runs the role in it),
# booted by the tests with `systemd-nspawn -b`. The rack-agent .deb is NOT in it: the tests install
# it over a volatile overlay (the container has no route to the archive: every dependency is here).
#
# Cached under $RACK_AGENT_TEST_CACHE (default /var/cache/rack-agent-test) in a directory named by
# a hash of the suite, mirror, variant and package list, so a changed list builds a new root and an
# unchanged one is reused. Built in DIR.tmp and renamed when complete: an interrupted build is
# never reused. Concurrent callers wait on one lock. Roots of other package lists are removed.
# Installs mmdebstrap and systemd-container (systemd-nspawn) with apt-get when they are missing.
#
#   test/deploy/nspawn/debian-root.sh [--check]    (--check: print the path, build nothing;
#                                                   exit 1 when it is not built yet)
set -euo pipefail
suite=trixie
mirror=${RACK_AGENT_TEST_MIRROR:-http://deb.debian.org/debian}
variant=minbase
packages=systemd,systemd-sysv,dbus,iproute2,procps,nodejs,libcap2-bin,python3,python3-apt
cache=${RACK_AGENT_TEST_CACHE:-/var/cache/rack-agent-test}
key=$(printf '%s\n' "$suite" "$mirror" "$variant" "$packages" | sha256sum | cut -c1-16)
root="$cache/debian-$suite-$key"

if [[ ${1:-} == --check ]]; then
  [[ -d $root ]] && echo "$root" && exit 0
  exit 1
fi
for tool in mmdebstrap:mmdebstrap systemd-nspawn:systemd-container; do
  if ! command -v "${tool%%:*}" >/dev/null && command -v apt-get >/dev/null; then
    apt-get install -y --no-install-recommends "${tool#*:}" >&2 \
      || { apt-get update >&2 && apt-get install -y --no-install-recommends "${tool#*:}" >&2; }
  fi
done
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ ! -d $root ]]; then
  command -v mmdebstrap >/dev/null || { echo "debian-root.sh: mmdebstrap is missing (apt-get install mmdebstrap)" >&2; exit 1; }
  rm -rf "$root.tmp"
  # --mode=root: this machine runs the tests as root. Logs go to stderr; stdout is the path only.
  mmdebstrap --mode=root --variant="$variant" --include="$packages" \
    --customize-hook='echo rack-agent-test >"$1/etc/hostname"' \
    --customize-hook='rm -f "$1/etc/machine-id"; systemd-machine-id-setup --root="$1" >/dev/null' \
    "$suite" "$root.tmp" "$mirror" >&2
  mv "$root.tmp" "$root"
  for old in "$cache"/debian-"$suite"-*; do
    [[ $old == "$root" ]] || rm -rf "$old"
  done
fi
echo "$root"
