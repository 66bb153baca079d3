/**
 * The Debian package (issue 24): deploy/package-deb.sh from this build gives
 * rack-agent_VERSION_ARCH.deb with the agent under /usr/lib/rack-agent, wrappers in /usr/bin, the
 * unit, the protocol name and the example config as conffiles, the control fields; lintian
 * reports no error and only the warnings deploy/README.md explains; a second build is
 * byte-identical; and installed with `dpkg --root` into a throwaway root (the host's system
 * directories read-only meanwhile, see deb.ts) postinst creates the rack-agent user once, the
 * installed agent checks the installed config, an edited conffile survives a reinstall, and purge
 * leaves nothing behind. Needs root (mount namespace, root-owned files), dpkg-deb and lintian.
 */

import test from 'ava';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { isRoot } from '../helpers/netns.js';
import { buildDeb, contents, dpkg, fields, throwawayRoot } from './deb.js';
import { DEPLOY, ROOT, run, which } from './paths.js';

const missing = !isRoot ? 'needs root (dpkg --root, a mount namespace)'
  : which('dpkg-deb') === undefined ? 'dpkg-deb is not installed' : undefined;

/** The lintian warnings that remain, each explained in deploy/README.md ("The package"). */
const EXPLAINED_WARNINGS = ['embedded-javascript-library', 'maintainer-script-should-not-parse-etc-passwd-or-group', 'no-manual-page'];

const scratches: string[] = [];
test.after.always(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});
let built: Promise<string> | undefined;
/** One build shared by the tests (about 7 s). */
const deb = (): Promise<string> => {
  built ??= buildDeb().then((path) => {
    scratches.push(join(path, '..'));
    return path;
  });
  return built;
};

const maybe = missing === undefined ? test : test.skip;
const title = (s: string): string => (missing === undefined ? s : `${s} [${missing}]`);

maybe(title('the package: name, control fields, conffiles'), async (t) => {
  const path = await deb();
  const arch = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  const f = await fields(path);
  t.is(f.Package, 'rack-agent');
  t.regex(f.Version, /^0\.1\.0\+git\d{14}\.[0-9a-f]{7,}(~dirty)?$/);
  t.is(f.Architecture, arch);
  t.true(path.endsWith(`/rack-agent_${f.Version}_${arch}.deb`), path);
  const node = Number(process.versions.node.split('.')[0]);
  t.is(f.Depends, `nodejs (>= ${node > 20 ? `${node}.0` : '20.19'}), nodejs (<< ${node + 1}), passwd, procps, libc6`);
  t.truthy(f.Maintainer);
  t.truthy(f.Description);
  const conffiles = await run('dpkg-deb', ['--info', path, 'conffiles']);
  t.deepEqual(conffiles.stdout.trim().split('\n'), ['/etc/iproute2/rt_protos.d/rack-agent.conf', '/etc/rack-agent/config.yaml']);
});

maybe(title('the package: the files, owned by root, one mtime, no dev dependencies'), async (t) => {
  const entries = await contents(await deb());
  const byPath = new Map(entries.map((e) => [e.path.replace(/\/$/, ''), e]));
  for (const [path, mode] of [
    ['/usr/bin/rack-agent', '-rwxr-xr-x'],
    ['/usr/bin/agentctl', '-rwxr-xr-x'],
    ['/usr/lib/systemd/system/rack-agent.service', '-rw-r--r--'],
    ['/etc/iproute2/rt_protos.d/rack-agent.conf', '-rw-r--r--'],
    ['/etc/rack-agent/config.yaml', '-rw-r--r--'],
    ['/usr/lib/rack-agent/package.json', '-rw-r--r--'],
    ['/usr/lib/rack-agent/dist/agent/main.js', '-rwxr-xr-x'],
    ['/usr/lib/rack-agent/dist/agent/cli/agentctl.js', '-rwxr-xr-x'],
    ['/usr/lib/rack-agent/netlink/native/build/Release/rack_agent_native.node', '-rw-r--r--'],
    ['/usr/lib/rack-agent/node_modules/raw-socket/build/Release/raw.node', '-rw-r--r--'],
    ['/usr/lib/rack-agent/node_modules/yaml/package.json', '-rw-r--r--'],
    ['/usr/lib/rack-agent/node_modules/winston/package.json', '-rw-r--r--'],
    ['/usr/share/doc/rack-agent/copyright', '-rw-r--r--'],
    ['/usr/share/doc/rack-agent/changelog.gz', '-rw-r--r--'],
    ['/usr/share/doc/rack-agent/README.md', '-rw-r--r--'],
  ] as const) t.is(byPath.get(path)?.mode, mode, path);
  t.is(byPath.get('/usr/lib/rack-agent/node_modules/rack-agent-native')?.mode, 'lrwxrwxrwx', 'the addon package is a relative link');
  const allowed = /^\/(usr\/(bin|lib|share\/doc)|etc\/(rack-agent|iproute2))(\/|$)|^\/((usr|etc|usr\/share)\/)?$/;
  const bad = entries.filter((e) => !allowed.test(e.path));
  t.deepEqual(bad.map((e) => e.path), [], 'nothing outside /usr/{bin,lib,share/doc} and /etc/{rack-agent,iproute2}');
  for (const devOnly of ['ava', 'typescript', '@types/node', '@types/convict']) t.false(byPath.has(`/usr/lib/rack-agent/node_modules/${devOnly}`), devOnly);
  t.false(entries.some((e) => e.path.startsWith('/usr/lib/rack-agent/dist/test')), 'no tests');
  t.false(entries.some((e) => e.path.startsWith('/usr/lib/rack-agent/dist/') && e.path.endsWith('.map')), 'no source maps of ours');
  t.deepEqual([...new Set(entries.map((e) => e.owner))], ['root/root']);
  t.is(new Set(entries.map((e) => e.date)).size, 1, 'one mtime: the commit time');
});

maybe(title('the package: wrappers, unit and example config point at the installed paths'), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rack-debx-'));
  scratches.push(dir);
  const x = await run('dpkg-deb', ['-x', await deb(), dir]);
  t.is(x.code, 0, x.stderr);
  t.regex(readFileSync(join(dir, 'usr/bin/rack-agent'), 'utf8'), /^#!\/bin\/sh\n(#.*\n)*exec \/usr\/bin\/node \/usr\/lib\/rack-agent\/dist\/agent\/main\.js "\$@"\n$/);
  t.regex(readFileSync(join(dir, 'usr/bin/agentctl'), 'utf8'), /\nexec \/usr\/bin\/node \/usr\/lib\/rack-agent\/dist\/agent\/cli\/agentctl\.js "\$@"\n$/);
  const unit = readFileSync(join(dir, 'usr/lib/systemd/system/rack-agent.service'), 'utf8');
  t.regex(unit, /^ExecStart=\/usr\/bin\/rack-agent --config \$\{RACK_AGENT_CONFIG\}$/m);
  t.notRegex(unit, /^ExecStartPre=/m);
  t.regex(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  t.regex(unit, /^Documentation=file:\/usr\/share\/doc\/rack-agent\/README\.md$/m);
  t.notRegex(unit, /\/usr\/local|\/opt\//);
  const original = readFileSync(join(DEPLOY, 'systemd/rack-agent.service'), 'utf8');
  t.is(unit.split('\n').length, original.split('\n').length, 'the same unit, paths changed only');
  t.notThrows(() => loadConfig(join(dir, 'etc/rack-agent/config.yaml')), 'the example config loads');
});

maybe(title('lintian: no errors, and only the warnings deploy/README.md explains'), async (t) => {
  if (which('lintian') === undefined) return t.fail('lintian is missing: apt-get install lintian');
  t.timeout(180_000);
  const r = await run('lintian', ['--tag-display-limit', '0', await deb()]);
  const tags = r.stdout.split('\n').map((l) => /^([EWI]): rack-agent: ([\w.-]+)/.exec(l)).filter((m) => m !== null);
  t.deepEqual(tags.filter((m) => m[1] === 'E').map((m) => m[2]), [], r.stdout);
  t.deepEqual([...new Set(tags.filter((m) => m[1] === 'W').map((m) => m[2]))].sort(), EXPLAINED_WARNINGS, r.stdout);
  const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
  for (const tag of EXPLAINED_WARNINGS) t.true(readme.includes(`\`${tag}\``), `deploy/README.md explains ${tag}`);
});

maybe(title('reproducible: a second build of the same tree is byte-identical'), async (t) => {
  t.timeout(180_000);
  const first = readFileSync(await deb());
  const second = await buildDeb();
  scratches.push(join(second, '..'));
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  t.is(sha(readFileSync(second)), sha(first));
});

maybe(title('dpkg --root: postinst makes the user once, the agent checks its config, a conffile edit stays, purge leaves nothing'), async (t) => {
  t.timeout(180_000);
  const hostPasswd = readFileSync('/etc/passwd', 'utf8');
  const root = throwawayRoot();
  scratches.push(root);
  const path = await deb();
  const users = (): string[] => readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').filter((l) => l.startsWith('rack-agent:'));

  const install = await dpkg(root, '-i', path);
  t.is(install.code, 0, install.stdout + install.stderr);
  t.deepEqual(users().map((l) => l.split(':').slice(4).join(':')), ['rack-agent BGP node agent:/nonexistent:/usr/sbin/nologin']);
  const uid = users()[0].split(':')[2];
  t.true(Number(uid) < 1000, `a system uid: ${uid}`);
  t.true(readFileSync(join(root, 'etc/group'), 'utf8').split('\n').some((l) => l.startsWith('rack-agent:')), 'and its group');
  for (const f of ['usr/bin/rack-agent', 'usr/lib/systemd/system/rack-agent.service', 'etc/iproute2/rt_protos.d/rack-agent.conf']) {
    t.true(existsSync(join(root, f)), f);
  }
  // The installed tree runs: its node_modules and addons are complete.
  const lib = join(root, 'usr/lib/rack-agent/dist/agent');
  const conf = join(root, 'etc/rack-agent/config.yaml');
  const check = await run(process.execPath, [join(lib, 'main.js'), '--check-config', '--config', conf]);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.regex(check.stdout, /valid \(node r1-n03, 2 peers, 2 blocks\)/);
  const ctl = await run(process.execPath, [join(lib, 'cli/agentctl.js'), '--socket', join(root, 'none.sock'), 'status']);
  t.is(ctl.code, 3, ctl.stdout + ctl.stderr);

  // The operator's edit, then the package again (an upgrade's unpack and configure): kept.
  appendFileSync(conf, '# edited by the operator\n');
  const again = await dpkg(root, '-i', path);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.true(readFileSync(conf, 'utf8').endsWith('# edited by the operator\n'), 'the conffile is not overwritten');
  t.is(users().length, 1, 'the user is not made twice');

  // Purge: the package's files, the user, group, /etc/rack-agent (keys too) and /run/rack-agent.
  for (const dir of ['etc/rack-agent/keys', 'run/rack-agent']) mkdirSync(join(root, dir), { recursive: true });
  appendFileSync(join(root, 'etc/rack-agent/keys/r1-tor1.key'), 'secret\n');
  const purge = await dpkg(root, '--purge', 'rack-agent');
  t.is(purge.code, 0, purge.stdout + purge.stderr);
  t.deepEqual(users(), []);
  t.false(readFileSync(join(root, 'etc/group'), 'utf8').includes('rack-agent'));
  t.false(readFileSync(join(root, 'etc/shadow'), 'utf8').includes('rack-agent'));
  const left = (await run('find', [root, '-path', join(root, 'var'), '-prune', '-o', '-print'])).stdout.split('\n')
    .map((p) => p.slice(root.length)).filter((p) => p !== '' && !/^\/etc(\/(passwd|group|shadow|gshadow)-?)?$|^\/run$/.test(p));
  t.deepEqual(left, [], 'purge leaves only the account files');
  t.deepEqual(readdirSync(join(root, 'run')), []);
  t.is(readFileSync('/etc/passwd', 'utf8'), hostPasswd, "the host's users are untouched");
});

test('package.json has package:deb, and the READMEs say how to build and install the package', (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.regex(pkg.scripts['package:deb'] ?? '', /deploy\/package-deb\.sh/);
  const deployReadme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
  t.regex(deployReadme.split('\n## ')[1] ?? '', /apt install \.\/rack-agent_\*\.deb/, 'deploy/README.md leads with apt install');
  t.regex(readFileSync(join(ROOT, 'README.md'), 'utf8'), /npm run package:deb/);
});
