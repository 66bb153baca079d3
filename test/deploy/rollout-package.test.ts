/**
 * rollout.yml's package rollback (issue 24) without the daemon: rack r1 gets a good stand-in
 * package (1.0.0+good), then a broken one (1.0.0+bad, whose agentctl `wait` fails): the gate fails,
 * the package the bad one replaced is still on the host (rack_agent_package_dir) and is
 * re-installed, the gate passes again on it, and the rollout stops. Packages go into each host's own
 * dpkg root (the role's TEST ONLY rack_agent_dpkg_root); nothing is started (manage_service off).
 * The config rollback and the real agents: rollout-logic.test.ts, rollout.test.ts.
 */

import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../helpers/netns.js';
import { hostDir, overlay, playbook, RACKS, results } from './ansible.js';
import { dpkgRootAt, fakeDeb } from './deb.js';
import { AGENT_MAIN, run, which } from './paths.js';

const missing = !isRoot ? 'needs root (dpkg --root)' : which('ansible-playbook') === undefined ? 'ansible is not installed'
  : which('dpkg-deb') === undefined ? 'dpkg-deb is not installed' : undefined;

/** The stand-in agent: the real --check-config (the role validates with it), nothing else. */
const AGENT = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(AGENT_MAIN)} "$@"\n`;
const agentctl = (ok: boolean): string => `#!/bin/sh\n${ok ? 'exit 0' : 'echo "peer not Established"; exit 1'}\n`;

(missing === undefined ? test.serial : test.serial.skip)(`rollout: a package failing the gate is replaced by the previous one, kept on the host${missing ? ` [${missing}]` : ''}`, async (t) => {
  t.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), 'rack-rollout-pkg-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const hosts = RACKS.rack_r1;
  const good = await fakeDeb(join(root, 'build'), '1.0.0+good', { 'rack-agent': AGENT, agentctl: agentctl(true) });
  const bad = await fakeDeb(join(root, 'build'), '1.0.0+bad', { 'rack-agent': AGENT, agentctl: agentctl(false) });
  for (const h of hosts) dpkgRootAt(join(hostDir(root, h), 'root'));
  const rollout = (deb: string) => playbook(root, ['rollout.yml'], {
    vars: {
      ...overlay(root, { rack_agent_package: deb, rack_agent_dpkg_root: `${join(root, 'hosts')}/{{ inventory_hostname }}/root` }, { perHostBin: true }),
      rollout_racks: ['rack_r1'],
    },
    json: true,
  });
  const installed = async (h: string): Promise<string> =>
    (await run('dpkg-query', [`--root=${join(hostDir(root, h), 'root')}`, '-W', '-f', '${Version}', 'rack-agent'])).stdout;

  const first = await rollout(good);
  t.is(first.code, 0, first.stdout + first.stderr);
  for (const h of hosts) t.is(await installed(h), '1.0.0+good');

  const second = await rollout(bad);
  t.not(second.code, 0, 'the bad package stops the rollout');
  const doc = second.json!;
  t.deepEqual(results(doc, 'rack_agent : Health gate (').map(([, host, r]) => [host, r.rc]), hosts.map((h) => [h, 1]));
  t.deepEqual(results(doc, 'rack_agent : Re-install the previous package into').map(([, host, r]) => [host, r.rc]), hosts.map((h) => [h, 0]));
  t.deepEqual(results(doc, 'rack_agent : Health gate after the rollback').map(([, host, r]) => [host, r.rc]), hosts.map((h) => [h, 0]));
  t.deepEqual(results(doc, 'rack_agent : Stop the rollout at this rack').map(([, host, r]) => [host, r.failed]), hosts.map((h) => [h, true]));
  for (const h of hosts) {
    t.is(await installed(h), '1.0.0+good', `${h}: the previous package is back`);
    t.deepEqual(readdirSync(join(hostDir(root, h), 'packages')).sort(), ['rack-agent_1.0.0+bad_all.deb', 'rack-agent_1.0.0+good_all.deb']);
  }
  t.false(existsSync(join(hostDir(root, 'r2-n1'), 'root')), 'rack 2 untouched');
});
