/**
 * rollout.yml's logic without the daemon: one batch per rack in order, the gate on every host,
 * the last good config kept, and at the first failing rack its rollback and the stop (later racks
 * untouched), a batch that is not one whole rack refused, an unreachable server failing its rack
 * without stopping the rest of the rack's rollback. The gate is a stand-in agentctl that fails
 * exactly when a host's config holds the broken ToR AS; rollout.test.ts runs the same with real
 * agents and BIRD ToRs.
 */

import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batches, copyInventory, EXAMPLE_HOSTS, hostDir, overlay, playbook, results, writeScript } from './ansible.js';
import { AGENT_MAIN, which } from './paths.js';

const haveAnsible = which('ansible-playbook') !== undefined;
const scratches: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rack-rollout-logic-'));
  scratches.push(dir);
  return dir;
}

test.after.always(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

function must(t: { fail: (m: string) => void }, ok: boolean, what: string): boolean {
  if (!ok) t.fail(`${what} is missing: apt-get install ansible (.ci/setup does)`);
  return ok;
}

/** ROOT/bin/rack-agent: the built agent (its --check-config is the template's validate step). */
function installAgent(root: string): void {
  writeScript(join(root, 'bin', 'rack-agent'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(AGENT_MAIN)} "$@"\n`);
}

/**
 * A stand-in agentctl for the rollout logic: `wait` fails when the host's config holds the broken
 * ToR AS 65299 (the real agent would not reach Established), passes otherwise, and logs each call.
 */
function fakeAgentctl(root: string): void {
  writeScript(join(root, 'bin', 'agentctl'), `#!/bin/sh
# agentctl --socket ROOT/hosts/HOST/run/rack-agent/agent.sock wait --timeout N
sock=$2
host_dir=$(dirname "$(dirname "$(dirname "$sock")")")
echo "$(basename "$host_dir") $3" >> ${JSON.stringify(join(root, 'agentctl.log'))}
if grep -q 'asNumber: 65299' "$host_dir/etc/config.yaml"; then echo "peer not Established"; exit 1; fi
exit 0
`);
}

function breakRack2(inventory: string): void {
  writeFileSync(join(inventory, 'group_vars', 'rack_r2.yml'),
    '---\nrack_agent_rack: r2\nrack_agent_rack_as: 65102\nrack_agent_tors:\n  - { name: r2-tor1, address: 10.0.2.1, as: 65299 }\n');
}

test.serial('rollout: rack by rack; a rack failing the gate gets its last good config back and the rollout stops', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(300_000);
  const root = scratch();
  installAgent(root);
  fakeAgentctl(root);
  const inventory = copyInventory(join(root, 'inventory'));
  const config = (h: string): string => readFileSync(join(hostDir(root, h), 'etc', 'config.yaml'), 'utf8');
  const lastGood = (h: string): string => readFileSync(join(hostDir(root, h), 'etc', 'last-good', 'config.yaml'), 'utf8');

  // 1. The first rollout: one batch per rack, each gated, each host's config kept as last good.
  const first = await playbook(root, ['rollout.yml'], { vars: overlay(root), inventory, json: true });
  t.is(first.code, 0, first.stdout + first.stderr);
  const doc1 = first.json!;
  t.deepEqual(batches(doc1), [['r1-n1', 'r1-n2'], ['r2-n1', 'r2-n2']]);
  t.deepEqual(results(doc1, 'rack_agent : Health gate (').map(([play, host, r]) => [play, host, r.rc]),
    [[0, 'r1-n1', 0], [0, 'r1-n2', 0], [1, 'r2-n1', 0], [1, 'r2-n2', 0]]);
  for (const h of EXAMPLE_HOSTS) t.is(lastGood(h), config(h));
  const good = Object.fromEntries(EXAMPLE_HOSTS.map((h) => [h, config(h)]));

  // 2. A fabric-wide change (hold time) with a broken ToR AS for rack 2: rack 1 takes the change
  // and passes; rack 2 fails, gets its last good config back, passes again, and the run fails.
  breakRack2(inventory);
  writeFileSync(join(root, 'agentctl.log'), '');
  const broken = await playbook(root, ['rollout.yml'], { vars: overlay(root, { rack_agent_hold_time: 27 }), inventory, json: true });
  t.not(broken.code, 0);
  const doc2 = broken.json!;
  t.deepEqual(batches(doc2), [['r1-n1', 'r1-n2'], ['r2-n1', 'r2-n2']]);
  t.deepEqual(results(doc2, 'rack_agent : Health gate (').map(([play, host, r]) => [play, host, r.rc]),
    [[0, 'r1-n1', 0], [0, 'r1-n2', 0], [1, 'r2-n1', 1], [1, 'r2-n2', 1]]);
  t.deepEqual(results(doc2, 'rack_agent : Health gate after the rollback').map(([, host, r]) => [host, r.rc]), [['r2-n1', 0], ['r2-n2', 0]]);
  const stops = results(doc2, 'rack_agent : Stop the rollout at this rack');
  t.deepEqual(stops.map(([, host, r]) => [host, r.failed]), [['r2-n1', true], ['r2-n2', true]]);
  t.regex(String(stops[0][2].msg), /Rack r2 failed the health gate on r2-n1, r2-n2; the rollout stops here/);
  t.regex(String(stops[0][2].msg), /gate after the rollback passed/);
  for (const h of ['r1-n1', 'r1-n2']) {
    t.regex(config(h), /holdTime: 27/);
    t.is(lastGood(h), config(h));
  }
  for (const h of ['r2-n1', 'r2-n2']) {
    t.is(config(h), good[h], `${h}: previous config restored`);
    t.is(lastGood(h), good[h]);
  }
  // The stand-in saw the broken config on rack 2 before the rollback, then the good one.
  t.deepEqual(readFileSync(join(root, 'agentctl.log'), 'utf8').trim().split('\n').sort(),
    ['r1-n1 wait', 'r1-n2 wait', 'r2-n1 wait', 'r2-n1 wait', 'r2-n2 wait', 'r2-n2 wait']);

  // 3. Racks in the other order: rack 2 fails first, and rack 1 is not touched at all.
  const reversed = await playbook(root, ['rollout.yml'], {
    vars: overlay(root, { rack_agent_hold_time: 33, rollout_racks: ['rack_r2', 'rack_r1'] }), inventory, json: true,
  });
  t.not(reversed.code, 0);
  t.deepEqual(batches(reversed.json!), [['r2-n1', 'r2-n2']]);
  for (const h of ['r1-n1', 'r1-n2']) t.regex(config(h), /holdTime: 27/, `${h} untouched`);
  for (const h of ['r2-n1', 'r2-n2']) t.is(config(h), good[h]);
});

test.serial('rollout refuses a batch that is not one whole rack', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(180_000);
  const root = scratch();
  installAgent(root);
  fakeAgentctl(root);
  // --limit across racks: two hosts of different racks end up in the first batch of two.
  const r = await playbook(root, ['rollout.yml', '--limit', 'r1-n1,r2-n1'], { vars: overlay(root), json: true });
  t.not(r.code, 0);
  t.regex(JSON.stringify(r.json), /one whole rack/);
  t.false(existsSync(join(hostDir(root, 'r1-n1'), 'etc', 'config.yaml')));
  t.false(existsSync(join(hostDir(root, 'r2-n1'), 'etc', 'config.yaml')));
});

test.serial('rollout: an unreachable server fails its rack, and the rest of the rack is still rolled back', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(300_000);
  const root = scratch();
  installAgent(root);
  fakeAgentctl(root);
  const config = (h: string): string => readFileSync(join(hostDir(root, h), 'etc', 'config.yaml'), 'utf8');
  t.is((await playbook(root, ['rollout.yml'], { vars: overlay(root) })).code, 0);
  const good = config('r2-n1');
  // r2-n2 is now behind a connection that is refused: every task there is unreachable.
  const r = await playbook(root, ['rollout.yml'], {
    vars: overlay(root, {
      rack_agent_hold_time: 27,
      ansible_connection: "{{ 'ssh' if inventory_hostname == 'r2-n2' else 'local' }}",
      ansible_host: '127.0.0.1',
      ansible_port: 1,
    }),
    json: true,
  });
  t.not(r.code, 0);
  const stops = Object.fromEntries(results(r.json!, 'rack_agent : Stop the rollout at this rack').map(([, host, x]) => [host, String(x.msg)]));
  t.deepEqual(Object.keys(stops).sort(), ['r2-n1', 'r2-n2']);
  t.regex(stops['r2-n1'], /failed the health gate on r2-n2;.* r2-n1: last good config restored, gate after the rollback passed/);
  t.regex(stops['r2-n2'], /r2-n2: unreachable, nothing restored/);
  t.regex(config('r1-n1'), /holdTime: 27/);
  t.is(config('r2-n1'), good);
});
