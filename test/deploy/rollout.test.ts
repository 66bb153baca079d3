/**
 * The real rollout (deploy issue, must-show 3): two racks of two servers, each server a network
 * namespace, a BIRD 2 ToR route reflector per rack (iBGP in the rack's AS, TCP MD5 with the example
 * vault's keys, GTSM), joined by a bridge in the ToR's namespace. rollout.yml (local connection,
 * the test-only netns service mode, the .deb from deploy/package-deb.sh into each server's own dpkg
 * root) installs the package,
 * renders the configs, starts the agents (as user nobody with only the unit's capabilities) and
 * passes the gate rack by rack. Then a broken change for rack 2 (a wrong ToR AS: valid for
 * --check-config) fails rack 2's gate: the rollout stops at rack 2, rack 2's previous config is
 * back and its gate passes again, and rack 1's sessions stay Established the whole time (polled
 * during the run) in the same agent processes. Before that, check mode shows the broken change as
 * a diff of rack 2's configs and changes nothing.
 *
 * Needs root, BIRD 2, ansible and the daemon (package.json bin entries rack-agent and agentctl).
 * Until the daemon exists the test is skipped with that reason in its title.
 */

import test from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isRoot, Lab, waitFor } from '../helpers/netns.js';
import {
  batches, copyInventory, EXAMPLE_INVENTORY, hostDir, overlay, playbook, RACKS, results, type PlaybookRun,
} from './ansible.js';
import { dpkgRootAt } from './deb.js';
import { DEPLOY, ROOT, run, which } from './paths.js';

interface Rack {
  name: 'r1' | 'r2';
  as: number;
  subnet: string;
  tor: { name: string; address: string };
  hosts: Array<{ name: string; address: string; block: string }>;
}

const LAYOUT: readonly Rack[] = [
  { name: 'r1', as: 65101, subnet: '10.0.1', tor: { name: 'r1-tor1', address: '10.0.1.1' }, hosts: [
    { name: 'r1-n1', address: '10.0.1.11', block: '192.168.1.0/26' },
    { name: 'r1-n2', address: '10.0.1.12', block: '192.168.1.64/26' },
  ] },
  { name: 'r2', as: 65102, subnet: '10.0.2', tor: { name: 'r2-tor1', address: '10.0.2.1' }, hosts: [
    { name: 'r2-n1', address: '10.0.2.21', block: '192.168.2.0/26' },
    { name: 'r2-n2', address: '10.0.2.22', block: '192.168.2.64/26' },
  ] },
];

function daemonMissing(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  for (const name of ['rack-agent', 'agentctl']) {
    const target = pkg.bin?.[name];
    if (target === undefined) return `package.json has no bin entry ${name} yet (the daemon issue)`;
    if (!existsSync(join(ROOT, target))) return `${target} is not built`;
  }
  return undefined;
}

const missing = !isRoot ? 'needs root for network namespaces'
  : !existsSync('/usr/sbin/bird') ? 'BIRD 2 is not installed'
  : which('ansible-playbook') === undefined ? 'ansible is not installed'
  : daemonMissing();

const TITLE = 'rollout in namespaces: rack by rack with real agents and BIRD ToRs; a broken rack 2 is rolled back and stops the rollout';

const vault = parse(readFileSync(join(EXAMPLE_INVENTORY, 'group_vars/racks/vault.yml'), 'utf8')) as {
  vault_rack_agent_md5_keys: Record<string, string>;
};

function birdConfig(rack: Rack, logFile: string): string {
  const key = vault.vault_rack_agent_md5_keys[rack.tor.name];
  return [
    `router id ${rack.tor.address};`,
    `log "${logFile}" all;`,
    'protocol device { scan time 1; }',
    'template bgp node {',
    `  local ${rack.tor.address} as ${rack.as};`,
    '  direct;',
    '  rr client;',
    `  rr cluster id ${rack.tor.address};`,
    `  password "${key}";`,
    '  ttl security on;',
    '  hold time 30;',
    '  connect delay time 1;',
    '  connect retry time 2;',
    '  error wait time 1, 4;',
    '  ipv4 { import all; export all; };',
    '}',
    ...rack.hosts.map((h) => `protocol bgp ${h.name.replace('-', '_')} from node { neighbor ${h.address} as ${rack.as}; }`),
    '',
  ].join('\n');
}

/** The state of every BGP protocol of a BIRD: {r1_n1: 'Established', ...}. */
async function birdStates(lab: Lab, ns: string, sock: string): Promise<Record<string, string>> {
  const { stdout } = await lab.exec(ns, 'birdc', ['-s', sock, 'show', 'protocols']);
  const states: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\w+)\s+BGP\s+\S+\s+\w+\s+\S+\s+(\w+)/.exec(line);
    if (m) states[m[1]] = m[2];
  }
  return states;
}

(missing === undefined ? test.serial : test.skip)(missing === undefined ? TITLE : `${TITLE} [cannot run yet: ${missing}]`, async (t) => {
  t.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), 'rack-rollout-'));
  // The agents run as nobody: they must reach their files under the scratch directory.
  chmodSync(root, 0o755);
  for (const rack of LAYOUT) for (const h of rack.hosts) mkdirSync(hostDir(root, h.name), { recursive: true, mode: 0o755 });
  const lab = await Lab.create('roll');
  let last: PlaybookRun | undefined;
  const tors: Record<string, { ns: string; sock: string; log: string }> = {};
  const netns: Record<string, string> = {};
  try {
    // The fabric: per rack a ToR namespace with a bridge, each server a namespace on it.
    for (const rack of LAYOUT) {
      const tor = await lab.namespace(`${rack.name}t`);
      await lab.ip(tor, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0');
      for (const h of rack.hosts) {
        const ns = await lab.namespace(h.name.replace('-', ''));
        netns[h.name] = ns;
        const { a } = await lab.veth(tor, {}, ns, `${h.address}/24`);
        await lab.ip(tor, 'link', 'set', a, 'master', 'br0');
      }
      await lab.ip(tor, 'addr', 'add', `${rack.tor.address}/24`, 'dev', 'br0');
      await lab.ip(tor, 'link', 'set', 'br0', 'up');
      const conf = join(root, `${rack.name}-tor.conf`);
      const sock = join(root, `${rack.name}-tor.ctl`);
      const log = join(root, `${rack.name}-tor.log`);
      writeFileSync(conf, birdConfig(rack, log));
      lab.spawn(tor, 'bird', ['-f', '-c', conf, '-s', sock, '-P', join(root, `${rack.name}-tor.pid`)]);
      await waitFor(() => existsSync(sock), { timeoutMs: 10_000, what: `BIRD of ${rack.name} to open its socket` });
      tors[rack.name] = { ns: tor, sock, log };
    }

    // The package, as an operator builds it (from this build), installed into each server's own
    // dpkg root (the role's TEST ONLY rack_agent_dpkg_root: `dpkg --root` instead of apt).
    const pkg = await run(join(DEPLOY, 'package-deb.sh'), ['--no-build', join(root, 'pkg')], { cwd: ROOT });
    t.is(pkg.code, 0, pkg.stderr);
    const deb = pkg.stdout.trim().split('\n').at(-1) ?? '';
    for (const rack of LAYOUT) for (const h of rack.hosts) dpkgRootAt(join(hostDir(root, h.name), 'root'));
    const inventory = copyInventory(join(root, 'inventory'));
    const vars = (extra: Record<string, unknown> = {}): Record<string, unknown> => overlay(root, {
      rack_agent_manage_service: true,
      rack_agent_service_mode: 'netns',
      lab_netns: netns,
      rack_agent_netns: '{{ lab_netns[inventory_hostname] }}',
      rack_agent_package: deb,
      rack_agent_dpkg_root: `${join(root, 'hosts')}/{{ inventory_hostname }}/root`,
      rack_agent_gate_timeout: 30,
      // As the unit runs it: an unprivileged user with only the unit's three capabilities.
      rack_agent_netns_as_user: true,
      rack_agent_user: 'nobody',
      rack_agent_group: 'nogroup',
      // The socket gets the agent's group, as in production (the unit's @chown).
      rack_agent_control_group: 'nogroup',
      ...extra,
    }, { perHostBin: true });
    const agentctl = (host: string, ...args: string[]) =>
      run(join(hostDir(root, host), 'bin', 'agentctl'), ['--socket', join(hostDir(root, host), 'run', 'rack-agent', 'agent.sock'), ...args]);

    // 1. The first rollout: install, render, start, gate; rack 1, then rack 2.
    last = await playbook(root, ['rollout.yml'], { vars: vars(), inventory, json: true });
    t.is(last.code, 0, 'the first rollout passes');
    const doc1 = last.json!;
    t.deepEqual(batches(doc1), [RACKS.rack_r1, RACKS.rack_r2].map((r) => [...r]));
    t.deepEqual(results(doc1, 'rack_agent : Health gate (').map(([play, host, r]) => [play, host, r.rc]),
      [[0, 'r1-n1', 0], [0, 'r1-n2', 0], [1, 'r2-n1', 0], [1, 'r2-n2', 0]]);
    for (const rack of LAYOUT) {
      const states = await birdStates(lab, tors[rack.name].ns, tors[rack.name].sock);
      t.deepEqual(states, Object.fromEntries(rack.hosts.map((h) => [h.name.replace('-', '_'), 'Established'])), `${rack.name} ToR`);
      // Each server learnt its neighbour's block through the route reflector, into the kernel.
      for (const [i, h] of rack.hosts.entries()) {
        const other = rack.hosts[1 - i];
        await waitFor(async () => {
          const { stdout } = await lab.exec(netns[h.name], 'ip', ['route', 'show', 'proto', '201']);
          return stdout.includes(`${other.block} via ${other.address}`) && stdout.includes(`blackhole ${h.block}`);
        }, { timeoutMs: 10_000, what: `${h.name}: the route to ${other.block} and its own blackhole` });
        const status = await agentctl(h.name, 'status', '-o', 'json');
        const answer = JSON.parse(status.stdout) as { peers: Array<{ address: string; state: string; asNumber: number }> };
        t.deepEqual(answer.peers.map((p) => [p.address, p.asNumber, p.state]), [[rack.tor.address, rack.as, 'Established']]);
      }
    }
    // The control socket as the unit would leave it: the agent's user, the config's group, 0660.
    const sock = await run('stat', ['-c', '%U:%G %a', join(hostDir(root, 'r1-n1'), 'run', 'rack-agent', 'agent.sock')]);
    t.is(sock.stdout.trim(), 'nobody:nogroup 660');
    const pidsBefore = Object.fromEntries(LAYOUT[0].hosts.map((h) =>
      [h.name, readFileSync(join(hostDir(root, h.name), 'run', 'rack-agent.pid'), 'utf8').trim()]));
    const rack2Good = Object.fromEntries(LAYOUT[1].hosts.map((h) =>
      [h.name, readFileSync(join(hostDir(root, h.name), 'etc', 'config.yaml'), 'utf8')]));

    // 2. The broken change: rack 2's ToR with a wrong AS. Rack 1 is watched all along.
    writeFileSync(join(inventory, 'group_vars', 'rack_r2.yml'),
      '---\nrack_agent_rack: r2\nrack_agent_rack_as: 65102\nrack_agent_tors:\n  - { name: r2-tor1, address: 10.0.2.1, as: 65299 }\n');
    // Check mode first: the diff of rack 2's configs, and nothing changes anywhere.
    const check = await playbook(root, ['rollout.yml', '--check', '--diff'], { vars: vars(), inventory });
    t.is(check.code, 0, check.stdout + check.stderr);
    t.notRegex(check.stdout, /fatal:|rescued=[1-9]|failed=[1-9]/);
    t.is(check.stdout.match(/^-\s+asNumber: 65102$/gm)?.length, 2, 'one diff per rack 2 host');
    t.is(check.stdout.match(/^\+\s+asNumber: 65299$/gm)?.length, 2);
    t.notRegex(check.stdout, /changed: \[r1-n/);
    for (const h of LAYOUT[1].hosts) {
      t.is(readFileSync(join(hostDir(root, h.name), 'etc', 'config.yaml'), 'utf8'), rack2Good[h.name]);
    }
    const rack1Samples: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const states = await birdStates(lab, tors.r1.ns, tors.r1.sock);
        rack1Samples.push(Object.values(states).join(','));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      last = await playbook(root, ['rollout.yml'], { vars: vars({ rack_agent_gate_timeout: 20 }), inventory, json: true });
    } finally {
      watching = false;
      await watcher;
    }
    t.not(last.code, 0, 'the broken rollout fails');
    const doc2 = last.json!;
    t.deepEqual(batches(doc2), [RACKS.rack_r1, RACKS.rack_r2].map((r) => [...r]));
    t.deepEqual(results(doc2, 'rack_agent : Health gate (').map(([play, host, r]) => [play, host, r.rc]),
      [[0, 'r1-n1', 0], [0, 'r1-n2', 0], [1, 'r2-n1', 1], [1, 'r2-n2', 1]], 'rack 2 fails its gate');
    t.deepEqual(results(doc2, 'rack_agent : Health gate after the rollback').map(([, host, r]) => [host, r.rc]),
      [['r2-n1', 0], ['r2-n2', 0]], 'rack 2 passes again with its previous config');
    t.deepEqual(results(doc2, 'rack_agent : Stop the rollout at this rack').map(([, host, r]) => [host, r.failed]),
      [['r2-n1', true], ['r2-n2', true]]);
    // The agents did get the wrong AS (the ToR was told so), and now have their old config.
    t.regex(readFileSync(tors.r2.log, 'utf8'), /Bad peer AS/i);
    for (const h of LAYOUT[1].hosts) {
      t.is(readFileSync(join(hostDir(root, h.name), 'etc', 'config.yaml'), 'utf8'), rack2Good[h.name]);
      t.is((await agentctl(h.name, 'wait', '--timeout', '30')).code, 0);
    }
    // Rack 1: Established in every sample taken during the run, same agent processes.
    t.true(rack1Samples.length > 10, `${rack1Samples.length} samples`);
    t.log(`rack 1 sampled ${rack1Samples.length} times during the broken rollout, always ${rack1Samples[0]}`);
    t.deepEqual([...new Set(rack1Samples)], ['Established,Established']);
    for (const h of LAYOUT[0].hosts) {
      t.is(readFileSync(join(hostDir(root, h.name), 'run', 'rack-agent.pid'), 'utf8').trim(), pidsBefore[h.name]);
    }
  } finally {
    if (!t.passed) {
      if (last !== undefined) t.log(last.stdout.slice(-20_000), last.stderr.slice(-5000));
      for (const h of Object.keys(netns)) {
        const log = join(hostDir(root, h), 'run', 'rack-agent.log');
        if (existsSync(log)) t.log(`${h} agent log (tail):\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
      }
    }
    await lab.destroy();
    rmSync(root, { recursive: true, force: true });
  }
});
