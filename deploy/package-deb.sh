#!/usr/bin/env bash
# Builds the Debian package rack-agent_VERSION_ARCH.deb with dpkg-deb, from the release tree that
# deploy/package.sh makes (so the tarball and the package hold the same agent):
#   /usr/lib/rack-agent/       package.json, dist/{agent,config,netlink}, the compiled addon,
#                              the production node_modules
#   /usr/bin/{rack-agent,agentctl}   wrappers: /usr/bin/node on the dist entry points
#   /usr/lib/systemd/system/rack-agent.service   deploy/systemd's unit, /usr/local/bin -> /usr/bin
#   /etc/iproute2/rt_protos.d/rack-agent.conf    `proto rack-agent` (conffile)
#   /etc/rack-agent/config.yaml      config/examples/tor-ibgp.yaml (conffile: never overwritten)
#   /usr/share/doc/rack-agent/       copyright, changelog.gz, README.md (deploy/README.md)
# and deploy/debian's maintainer scripts (the user in postinst, purge in postrm).
#
# VERSION: package.json's version, then +git<commit time, UTC>.<commit> (ordered by commit
# time, so apt upgrades), ~dirty when the tree has uncommitted changes. Reproducible: two builds
# of one commit (and one built addon) are byte-identical: SOURCE_DATE_EPOCH is the commit time,
# every file's mtime is clamped to it, owners are root (--root-owner-group), modes normalised,
# xz single-threaded. Architecture and the Node.js major come from the build machine: raw-socket
# is a NAN addon tied to Node's ABI, hence Depends: nodejs (>= 20.19), nodejs (<< next major).
#
#   deploy/package-deb.sh [--no-build] [OUTDIR]     (default OUTDIR: dist/package)
# --no-build packs dist/ as it is. Prints the .deb's path.
set -euo pipefail
build=()
if [[ ${1:-} == --no-build ]]; then build=(--no-build); shift; fi
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/dist/package}" && cd "${1:-$root/dist/package}" && pwd)
cd "$root"
for tool in dpkg-deb dpkg strip gzip; do
  command -v "$tool" >/dev/null || { echo "package-deb.sh: $tool is missing" >&2; exit 1; }
done

upstream=$(node -p 'require("./package.json").version')
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$epoch
version="$upstream+git$(date -u -d "@$epoch" +%Y%m%d%H%M%S).$(git rev-parse --short HEAD 2>/dev/null || echo none)"
git diff --quiet HEAD -- 2>/dev/null || version="$version~dirty"
arch=$(dpkg --print-architecture)
major=$(node -p 'process.versions.node.split(".")[0]')
low=$(node -p '(+process.argv[1] > 20) ? process.argv[1] + ".0" : "20.19"' "$major")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tarball=$(deploy/package.sh "${build[@]}" "$stage" | tail -n 1)
pkg="$stage/pkg"
lib="$pkg/usr/lib/rack-agent"
mkdir -p "$pkg/usr/lib" "$pkg/DEBIAN"
tar -C "$stage" -xzf "$tarball"
mv "$stage/$(basename "$tarball" .tar.gz)" "$lib"
# Documentation goes to /usr/share/doc; the lock file is for building, not running.
rm -f "$lib/README.md" "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
rm -rf "$lib/deploy"
# Only the addons themselves, stripped: not the compilers' intermediate files and Makefiles.
for b in "$lib"/node_modules/*/build; do
  [[ -d $b ]] || continue
  find "$b" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$b/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
done
find "$lib" -name '*.node' -exec strip --strip-unneeded --remove-section=.comment {} + -exec chmod 0644 {} +
# What npm packs beside the code that nothing runs: readmes and changelogs (the licenses stay),
# linters' and VCS files, and the scope folders npm prune emptied.
find "$lib/node_modules" -type f \( -iname '*.md' -o -iname '*.markdown' -o -iname 'changelog*' -o -iname 'history*' \
  -o -name '.eslintrc*' -o -name '.npmignore' -o -name '.git*' -o -name '.travis.yml' -o -name '.editorconfig' \) \
  ! -iname 'licen[cs]e*' ! -iname 'copying*' ! -iname 'notice*' -delete
find "$lib/node_modules" -depth -type d -empty -delete

mkdir -p "$pkg/usr/bin"
for bin in rack-agent agentctl; do
  entry=$(node -p 'require("./package.json").bin[process.argv[1]]' "$bin")
  printf '#!/bin/sh\n# rack-agent package: %s on the system Node.js.\nexec /usr/bin/node /usr/lib/rack-agent/%s "$@"\n' \
    "$bin" "$entry" >"$pkg/usr/bin/$bin"
done
install -D -m 0644 deploy/systemd/rack-agent.service "$pkg/usr/lib/systemd/system/rack-agent.service"
sed -i -e 's|/usr/local/bin/|/usr/bin/|g' \
  -e 's|^Documentation=.*|Documentation=file:/usr/share/doc/rack-agent/README.md|' \
  -e 's|^# Install as /etc/systemd/system/rack-agent.service (the Ansible role rack_agent does)|# Installed by the rack-agent package (the Ansible role installs it in /etc/systemd/system)|' \
  "$pkg/usr/lib/systemd/system/rack-agent.service"
install -D -m 0644 deploy/iproute2/rt_protos.d/rack-agent.conf "$pkg/etc/iproute2/rt_protos.d/rack-agent.conf"
{
  printf '# The example config of the rack-agent package (config/examples/tor-ibgp.yaml): edit it for\n'
  printf '# this server, check it with `rack-agent --check-config`, then `systemctl enable --now rack-agent`.\n'
  printf '# A conffile: upgrades never overwrite your edits. Reference: /usr/share/doc/rack-agent/README.md.\n'
  cat config/examples/tor-ibgp.yaml
} >"$stage/config.yaml"
install -D -m 0644 "$stage/config.yaml" "$pkg/etc/rack-agent/config.yaml"

doc="$pkg/usr/share/doc/rack-agent"
install -D -m 0644 deploy/debian/copyright "$doc/copyright"
install -m 0644 deploy/README.md "$doc/README.md"
printf 'rack-agent (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- rack-agent maintainers <rack-agent@lists.example.org>  %s\n' \
  "$version" "$(git rev-parse HEAD 2>/dev/null || echo none)" "$(date -u -R -d "@$epoch")" | gzip -9n >"$doc/changelog.gz"

install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$pkg/DEBIAN/"
printf '/etc/iproute2/rt_protos.d/rack-agent.conf\n/etc/rack-agent/config.yaml\n' >"$pkg/DEBIAN/conffiles"
(cd "$pkg" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
size=$(du -sk --apparent-size --exclude=DEBIAN "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<EOF
Package: rack-agent
Version: $version
Architecture: $arch
Maintainer: rack-agent maintainers <rack-agent@lists.example.org>
Installed-Size: $size
Depends: nodejs (>= $low), nodejs (<< $((major + 1))), passwd, procps, libc6
Section: net
Priority: optional
Description: BGP node agent for bare-metal fabrics
 rack-agent announces a server's container address blocks to its top-of-rack
 switches over BGP and programs the routes it learns into the kernel (Calico's
 BGP agent design). It runs as a hardened systemd service (Type=notify with a
 watchdog) as the system user rack-agent; agentctl queries it over a Unix
 socket.
EOF

# Modes as Debian wants them (npm leaves some group-writable), then one mtime for everything.
chmod -R u+rwX,go+rX,go-w "$pkg"
chmod 0755 "$pkg/usr/bin/rack-agent" "$pkg/usr/bin/agentctl"
find "$pkg" -exec touch --no-dereference -d "@$epoch" {} +
deb="$out/rack-agent_${version}_${arch}.deb"
dpkg-deb --root-owner-group --threads-max=1 -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
