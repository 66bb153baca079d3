/**
 * deploy/ansible without the daemon running: `ansible-playbook --syntax-check` and ansible-lint
 * (production profile) pass; the example inventory renders, for every host, a config that
 * loadConfig and `rack-agent --check-config` accept, with the rack's AS, ToR and key file; the
 * template's validate step keeps a broken config out; check mode shows the diff and changes
 * nothing; the Node.js check refuses an old runtime. The rollout's rack-by-rack logic (batches,
 * gate, rollback, stop) runs here with a stand-in agentctl that fails the gate exactly when a
 * host's config holds the broken ToR AS; rollout.test.ts runs the same with real agents.
 */

import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../config/index.js';
import {
  batches, copyInventory, EXAMPLE_HOSTS, EXAMPLE_INVENTORY, hostDir, overlay, playbook, results, writeScript,
} from './ansible.js';
import { roleDefaults } from './role-defaults.js';
import { AGENT_MAIN, ANSIBLE_DIR, DEPLOY, ROOT, run, which } from './paths.js';

const haveAnsible = which('ansible-playbook') !== undefined;
const haveLint = which('ansible-lint') !== undefined;
const scratches: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rack-ansible-'));
  scratches.push(dir);
  return dir;
}

test.after.always(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

/** ROOT/bin/rack-agent: the built agent (its --check-config is the template's validate step). */
function installAgent(root: string): void {
  writeScript(join(root, 'bin', 'rack-agent'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(AGENT_MAIN)} "$@"\n`);
}

const vault = parse(readFileSync(join(EXAMPLE_INVENTORY, 'group_vars/racks/vault.yml'), 'utf8')) as {
  vault_rack_agent_md5_keys: Record<string, string>;
};
const expected: Record<string, { as: number; tor: string; torName: string; ipv4: string; block: string }> = {
  'r1-n1': { as: 65101, tor: '10.0.1.1', torName: 'r1-tor1', ipv4: '10.0.1.11/24', block: '192.168.1.0/26' },
  'r1-n2': { as: 65101, tor: '10.0.1.1', torName: 'r1-tor1', ipv4: '10.0.1.12/24', block: '192.168.1.64/26' },
  'r2-n1': { as: 65102, tor: '10.0.2.1', torName: 'r2-tor1', ipv4: '10.0.2.21/24', block: '192.168.2.0/26' },
  'r2-n2': { as: 65102, tor: '10.0.2.1', torName: 'r2-tor1', ipv4: '10.0.2.22/24', block: '192.168.2.64/26' },
};

function must(t: { fail: (m: string) => void }, ok: boolean, what: string): boolean {
  if (!ok) t.fail(`${what} is missing: apt-get install ansible ansible-lint (.ci/run does)`);
  return ok;
}

test('ansible-playbook --syntax-check passes for every playbook', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  for (const book of ['site.yml', 'rollout.yml']) {
    const r = await run('ansible-playbook', ['--syntax-check', '-i', EXAMPLE_INVENTORY, book], { cwd: ANSIBLE_DIR });
    t.is(r.code, 0, `${book}: ${r.stdout}${r.stderr}`);
  }
});

test('ansible-lint passes with the production profile', async (t) => {
  if (!must(t, haveLint, 'ansible-lint')) return;
  t.timeout(180_000);
  const r = await run('ansible-lint', ['--nocolor'], { cwd: ANSIBLE_DIR });
  t.is(r.code, 0, `${r.stdout}${r.stderr}`);
  t.regex(`${r.stdout}${r.stderr}`, /Passed with production profile/);
});

test('ansible-lint fails a playbook with the usual mistakes (the check can fail)', async (t) => {
  if (!must(t, haveLint, 'ansible-lint')) return;
  t.timeout(180_000);
  const dir = scratch();
  writeFileSync(join(dir, 'bad.yml'), '- hosts: all\n  tasks:\n    - command: ls\n');
  const r = await run('ansible-lint', ['--nocolor', '--offline', 'bad.yml'], { cwd: dir });
  t.not(r.code, 0);
  t.regex(`${r.stdout}${r.stderr}`, /fqcn|name\[/);
});

test('the role requires the Node.js version package.json names', (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const min = /^>=\s*(\d+\.\d+(?:\.\d+)?)$/.exec(pkg.engines.node)?.[1] ?? '';
  const role = String(roleDefaults().rack_agent_node_min_version);
  const norm = (v: string): string => [...v.split('.'), '0', '0'].slice(0, 3).join('.');
  t.regex(min, /^\d/);
  t.is(norm(role), norm(min));
});

test.serial('the example inventory renders a config for every host that the agent accepts', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(180_000);
  const root = scratch();
  installAgent(root);
  const r = await playbook(root, ['site.yml'], { vars: overlay(root) });
  t.is(r.code, 0, r.stdout + r.stderr);
  for (const host of EXAMPLE_HOSTS) {
    const want = expected[host];
    const file = join(hostDir(root, host), 'etc', 'config.yaml');
    const config = loadConfig(file);
    t.is(config.node.name, host);
    t.is(config.node.ipv4Address, want.ipv4);
    t.is(config.node.asNumber, want.as, `${host}: AS per rack`);
    t.is(config.bgp.asNumber, 64512);
    t.deepEqual(config.node.labels, { rack: host.slice(0, 2) });
    t.deepEqual(config.blocks, [want.block]);
    t.deepEqual(config.pools.map((p) => [p.cidr, p.blockSize, p.ipipMode]), [['192.168.0.0/16', 26, 'CrossSubnet']]);
    t.is(config.bgp.peers.length, 1);
    const [peer] = config.bgp.peers;
    t.is(peer.address, want.tor);
    t.is(peer.asNumber, want.as, `${host}: iBGP to its route reflector`);
    t.is(peer.scope, 'node');
    t.is(peer.ttlSecurity, 1);
    const keyFile = join(hostDir(root, host), 'etc', 'keys', `${want.torName}.key`);
    t.is(peer.passwordFile, keyFile);
    t.is(statSync(keyFile).mode & 0o777, 0o600);
    t.is(readFileSync(keyFile, 'utf8'), `${vault.vault_rack_agent_md5_keys[want.torName]}\n`);
    t.is(statSync(file).mode & 0o777, 0o640);
    t.false(readFileSync(file, 'utf8').includes(vault.vault_rack_agent_md5_keys[want.torName]), 'the key stays out of the config');
    // Must-show 4: the agent's own check accepts it (the template's validate ran it as well).
    const check = await run(process.execPath, [AGENT_MAIN, '--check-config', '--config', file]);
    t.is(check.code, 0, check.stderr);
    t.is(readFileSync(join(hostDir(root, host), 'iproute2', 'rack-agent.conf'), 'utf8'),
      readFileSync(join(DEPLOY, 'iproute2', 'rt_protos.d', 'rack-agent.conf'), 'utf8'));
  }
  t.false(r.stdout.includes(vault.vault_rack_agent_md5_keys['r1-tor1']), 'no key in ansible output');
  // A second run changes nothing.
  const again = await playbook(root, ['site.yml'], { vars: overlay(root), json: true });
  t.is(again.code, 0);
  t.deepEqual(Object.values(again.json?.stats ?? {}).map((s) => s.changed), [0, 0, 0, 0]);
});

test.serial('one AS for the whole fabric: rack_agent_as_mode single', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(180_000);
  const root = scratch();
  installAgent(root);
  const r = await playbook(root, ['site.yml'], { vars: overlay(root, { rack_agent_as_mode: 'single' }) });
  t.is(r.code, 0, r.stdout + r.stderr);
  for (const host of EXAMPLE_HOSTS) {
    const config = loadConfig(join(hostDir(root, host), 'etc', 'config.yaml'));
    t.is(config.node.asNumber, 64512);
    t.is(config.bgp.peers[0].asNumber, 64512);
  }
});

test.serial('a config --check-config refuses never replaces the old one', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(180_000);
  const root = scratch();
  installAgent(root);
  t.is((await playbook(root, ['site.yml'], { vars: overlay(root) })).code, 0);
  const file = join(hostDir(root, 'r1-n1'), 'etc', 'config.yaml');
  const before = readFileSync(file, 'utf8');
  // A block outside every pool: valid YAML, refused by the agent's cross-checks.
  const r = await playbook(root, ['site.yml', '--limit', 'r1-n1'], { vars: overlay(root, { rack_agent_blocks: ['10.99.0.0/26'] }) });
  t.not(r.code, 0);
  t.regex(r.stdout, /failed to validate/);
  t.regex(r.stdout, /blocks\[0\]/);
  t.is(readFileSync(file, 'utf8'), before);
});

test.serial('check mode shows the config diff and changes nothing', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(180_000);
  const root = scratch();
  installAgent(root);
  t.is((await playbook(root, ['site.yml'], { vars: overlay(root) })).code, 0);
  const files = EXAMPLE_HOSTS.map((h) => join(hostDir(root, h), 'etc', 'config.yaml'));
  const before = files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]);
  const r = await playbook(root, ['rollout.yml', '--check', '--diff'], { vars: overlay(root, { rack_agent_hold_time: 45 }) });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.notRegex(r.stdout, /fatal:|rescued=[1-9]|failed=[1-9]/);
  t.regex(r.stdout, /^-\s+holdTime: 30$/m);
  t.regex(r.stdout, /^\+\s+holdTime: 45$/m);
  t.is(r.stdout.match(/^\+\s+holdTime: 45$/gm)?.length, 4, 'one diff per host');
  t.false(r.stdout.includes(Object.values(vault.vault_rack_agent_md5_keys)[0]), 'no key in the diff');
  t.deepEqual(files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]), before);
});

test.serial('the role stops on a Node.js older than the package needs', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  t.timeout(180_000);
  const root = scratch();
  const r = await playbook(root, ['site.yml', '--limit', 'r1-n1'], { vars: overlay(root, { rack_agent_node_min_version: '99.0.0' }) });
  t.not(r.code, 0);
  t.regex(r.stdout, /needs Node\.js >= 99\.0\.0/);
  t.false(existsSync(join(hostDir(root, 'r1-n1'), 'etc', 'config.yaml')));
});

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
