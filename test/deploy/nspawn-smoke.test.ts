/**
 * The smoke of `npm run test:systemd` inside `npm test` (the container proofs themselves take a
 * minute and are kept out: test/deploy/nspawn/unit.systemd.ts): the root-building script parses,
 * names the packages the .deb depends on, and answers `--check` without building anything; the
 * separate ava config finds exactly the proofs file.
 */

import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_ROOT_SCRIPT } from './nspawn/container.js';
import { ROOT, run } from './paths.js';

test('debian-root.sh parses and its package list covers the .deb\'s Depends', async (t) => {
  const syntax = await run('bash', ['-n', DEBIAN_ROOT_SCRIPT]);
  t.is(syntax.code, 0, syntax.stderr);
  const script = readFileSync(DEBIAN_ROOT_SCRIPT, 'utf8');
  const packages = /^packages=(.*)$/m.exec(script)?.[1].split(',') ?? [];
  const control = readFileSync(join(ROOT, 'deploy', 'package-deb.sh'), 'utf8');
  const depends = (/^Depends: (.*)$/m.exec(control)?.[1] ?? '').split(',').map((d) => d.trim().split(' ')[0]);
  // passwd and libc6 are in every minbase root.
  t.deepEqual(depends.filter((d) => !['passwd', 'libc6'].includes(d) && !packages.includes(d)), []);
  t.true(packages.includes('systemd') && packages.includes('systemd-sysv'));
  t.regex(script, /^suite=trixie$/m);
});

test('debian-root.sh --check builds nothing: a path or exit 1', async (t) => {
  const r = await run(DEBIAN_ROOT_SCRIPT, ['--check'], { env: { ...process.env, RACK_AGENT_TEST_CACHE: '/nonexistent/rack-agent-test' } });
  t.is(r.code, 1);
  t.is(r.stdout, '');
});

test('npm run test:systemd runs the proofs file, npm test does not', (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; ava: { files: string[] } };
  t.regex(pkg.scripts['test:systemd'], /ava --config ava\.systemd\.config\.js/);
  t.deepEqual(pkg.ava.files, ['dist/test/**/*.test.js']);
  t.true(existsSync(join(ROOT, 'dist', 'test', 'deploy', 'nspawn', 'unit.systemd.js')));
  t.regex(readFileSync(join(ROOT, 'ava.systemd.config.js'), 'utf8'), /dist\/test\/deploy\/nspawn\/\*\.systemd\.js/);
});
