/**
 * deploy/ansible without the daemon running: `ansible-playbook --syntax-check` and ansible-lint
 * (production profile) pass; the example inventory renders, for every host, a config that
 * loadConfig and `rack-agent --check-config` accept, with the rack's AS, ToR and key file; the
 * template's validate step keeps a broken config out; check mode shows the diff and changes
 * nothing; the Node.js check refuses an old runtime. The rollout's logic: rollout-logic.test.ts.
 */

import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../config/index.js';
import { ansibleEnv, EXAMPLE_HOSTS, EXAMPLE_INVENTORY, hostDir, overlay, playbook, writeScript } from './ansible.js';
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
  if (!ok) t.fail(`${what} is missing: apt-get install ansible ansible-lint (.ci/setup does)`);
  return ok;
}

test('ansible-playbook --syntax-check passes for every playbook', async (t) => {
  if (!must(t, haveAnsible, 'ansible-playbook')) return;
  for (const book of ['site.yml', 'rollout.yml']) {
    const r = await run('ansible-playbook', ['--syntax-check', '-i', EXAMPLE_INVENTORY, book], { cwd: ANSIBLE_DIR, env: ansibleEnv() });
    t.is(r.code, 0, `${book}: ${r.stdout}${r.stderr}`);
  }
});

test('ansible-lint passes with the production profile', async (t) => {
  if (!must(t, haveLint, 'ansible-lint')) return;
  t.timeout(180_000);
  const r = await run('ansible-lint', ['--nocolor'], { cwd: ANSIBLE_DIR, env: ansibleEnv() });
  t.is(r.code, 0, `${r.stdout}${r.stderr}`);
  t.regex(`${r.stdout}${r.stderr}`, /Passed with production profile/);
});

test('ansible-lint fails a playbook with the usual mistakes (the check can fail)', async (t) => {
  if (!must(t, haveLint, 'ansible-lint')) return;
  t.timeout(180_000);
  const dir = scratch();
  writeFileSync(join(dir, 'bad.yml'), '- hosts: all\n  tasks:\n    - command: ls\n');
  const r = await run('ansible-lint', ['--nocolor', '--offline', 'bad.yml'], { cwd: dir, env: ansibleEnv() });
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
