/**
 * Shared by deb.test.ts: building the Debian package from this build (deploy/package-deb.sh
 * --no-build), reading it with dpkg-deb, and installing it into a throwaway root with
 * `dpkg --root --force-script-chrootless`: the maintainer scripts then run on this machine with
 * DPKG_ROOT set and must keep to it. As a safety net every such dpkg runs in a private mount
 * namespace where the host's /etc, /usr, /run and /var are read-only, so a script that ignored
 * DPKG_ROOT fails (and the test with it) instead of changing this machine's users or files.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY, ROOT, run, type RunResult } from './paths.js';

export const PACKAGE_DEB = join(DEPLOY, 'package-deb.sh');

/** Builds the package into a fresh folder; the .deb's path. */
export async function buildDeb(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'rack-deb-'));
  const r = await run(PACKAGE_DEB, ['--no-build', out], { cwd: ROOT });
  if (r.code !== 0) throw new Error(`package-deb.sh failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1) ?? '';
}

/** `dpkg-deb -c` as [mode, owner, path] rows, path without the leading `.`. */
export async function contents(deb: string): Promise<Array<{ mode: string; owner: string; date: string; path: string }>> {
  const r = await run('dpkg-deb', ['-c', deb]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n').map((line) => {
    const [mode, owner, , date, time, ...rest] = line.split(/\s+/);
    return { mode, owner, date: `${date} ${time}`, path: rest.join(' ').replace(/ -> .*$/, '').replace(/^\./, '') };
  });
}

/** The control file's fields. */
export async function fields(deb: string): Promise<Record<string, string>> {
  const r = await run('dpkg-deb', ['-f', deb]);
  const out: Record<string, string> = {};
  let last = '';
  for (const line of r.stdout.split('\n')) {
    const m = /^([\w-]+): (.*)$/.exec(line);
    if (m) out[(last = m[1])] = m[2];
    else if (line.startsWith(' ') && last !== '') out[last] += `\n${line}`;
  }
  return out;
}

/**
 * An empty Debian root: a dpkg database and the four account files with root (and nobody) only.
 */
export function throwawayRoot(): string {
  return dpkgRootAt(mkdtempSync(join(tmpdir(), 'rack-debroot-')));
}

/** The same skeleton at `root` (created); `root`. */
export function dpkgRootAt(root: string): string {
  for (const dir of ['etc', 'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/log']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\nnogroup:*::\n', { mode: 0o640 });
  return root;
}

/**
 * A stand-in package rack-agent_VERSION_all.deb in `dir` for the role's tests, laid out like the
 * real one: `programs` (name -> script) in /usr/lib/rack-agent, wrappers that exec them in
 * /usr/bin, no maintainer scripts. Its path.
 */
export async function fakeDeb(dir: string, version: string, programs: Record<string, string>): Promise<string> {
  const tree = mkdtempSync(join(tmpdir(), 'rack-fakedeb-'));
  try {
    mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
    mkdirSync(join(tree, 'usr/bin'), { recursive: true });
    writeFileSync(join(tree, 'DEBIAN/control'), `Package: rack-agent\nVersion: ${version}\nArchitecture: all\n`
      + 'Maintainer: test <test@example.org>\nDescription: stand-in for the role tests\n');
    mkdirSync(join(tree, 'usr/lib/rack-agent'), { recursive: true });
    for (const [name, body] of Object.entries(programs)) {
      writeFileSync(join(tree, 'usr/lib/rack-agent', name), body, { mode: 0o755 });
      writeFileSync(join(tree, 'usr/bin', name), `#!/bin/sh\nexec /usr/lib/rack-agent/${name} "$@"\n`, { mode: 0o755 });
    }
    mkdirSync(dir, { recursive: true });
    const deb = join(dir, `rack-agent_${version}_all.deb`);
    const r = await run('dpkg-deb', ['--root-owner-group', '--build', tree, deb]);
    if (r.code !== 0) throw new Error(`dpkg-deb: ${r.stderr}`);
    return deb;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** The host's system directories made read-only in a private mount namespace, then `argv`. */
const READ_ONLY_HOST = 'for d in /etc /usr /run /var; do mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 97; done; exec "$@"';

export function hostReadOnly(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', READ_ONLY_HOST, 'sh', ...argv], { env });
}

/** dpkg on the throwaway root (dependencies are not there: nodejs and passwd are the host's). */
export function dpkg(root: string, ...args: string[]): Promise<RunResult> {
  return hostReadOnly(['dpkg', `--root=${root}`, `--log=${join(root, 'var/log/dpkg.log')}`, '--force-script-chrootless', '--force-depends', ...args]);
}
