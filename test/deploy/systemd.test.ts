/**
 * deploy/systemd/rack-agent.service: `systemd-analyze verify` accepts it without a single warning
 * (in a scratch root holding systemd's own units and stand-ins for the programs it runs; nothing
 * is started), `systemd-analyze security --offline` rates it, and every hardening setting the
 * deploy issue asks for is asserted, one row each. The unit's paths agree with the Ansible role's
 * defaults and the config schema's default socket.
 */

import test from 'ava';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { roleDefaults } from './role-defaults.js';
import { run, UNIT, which } from './paths.js';
import { parseUnit, value, values, words } from './unit-file.js';

const text = readFileSync(UNIT, 'utf8');
const unit = parseUnit(text);
const CAPS = ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'];

type Check = (unit: ReturnType<typeof parseUnit>) => boolean;
const is = (section: string, key: string, want: string): [string, Check] =>
  [`${section}.${key}=${want}`, (u) => value(u, section, key) === want];
const set = (section: string, key: string, want: readonly string[]): [string, Check] =>
  [`${section}.${key} is exactly ${want.join(' ')}`, (u) => {
    const got = words(u, section, key);
    return got.size === want.length && want.every((w) => got.has(w));
  }];
const absent = (section: string, key: string): [string, Check] =>
  [`${section}.${key} is not set`, (u) => values(u, section, key).length === 0];

const rows: Array<[string, Check]> = [
  // Identity and privileges
  is('Service', 'User', 'rack-agent'),
  is('Service', 'Group', 'rack-agent'),
  set('Service', 'AmbientCapabilities', CAPS),
  set('Service', 'CapabilityBoundingSet', CAPS),
  is('Service', 'NoNewPrivileges', 'yes'),
  // File system
  is('Service', 'ProtectSystem', 'strict'),
  is('Service', 'ProtectHome', 'yes'),
  is('Service', 'PrivateTmp', 'yes'),
  is('Service', 'PrivateDevices', 'yes'),
  is('Service', 'PrivateMounts', 'yes'),
  is('Service', 'ProtectProc', 'invisible'),
  is('Service', 'UMask', '0007'),
  is('Service', 'RuntimeDirectory', 'rack-agent'),
  is('Service', 'RuntimeDirectoryMode', '0750'),
  // Kernel
  is('Service', 'ProtectKernelTunables', 'yes'),
  is('Service', 'ProtectKernelModules', 'yes'),
  is('Service', 'ProtectKernelLogs', 'yes'),
  is('Service', 'ProtectControlGroups', 'yes'),
  is('Service', 'ProtectClock', 'yes'),
  is('Service', 'ProtectHostname', 'yes'),
  set('Service', 'RestrictAddressFamilies', ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK']),
  is('Service', 'RestrictNamespaces', 'yes'),
  is('Service', 'RestrictRealtime', 'yes'),
  is('Service', 'RestrictSUIDSGID', 'yes'),
  is('Service', 'LockPersonality', 'yes'),
  is('Service', 'RemoveIPC', 'yes'),
  is('Service', 'SystemCallArchitectures', 'native'),
  // In this order: systemd applies the lists one after the other (@chown back for the socket's group).
  ['Service.SystemCallFilter is @system-service, then ~@privileged, then @chown', (u) =>
    values(u, 'Service', 'SystemCallFilter').join(' | ') === '@system-service | ~@privileged | @chown'],
  is('Service', 'SystemCallErrorNumber', 'EPERM'),
  // What would break the agent (V8's JIT; the host's network namespace and its capabilities)
  absent('Service', 'MemoryDenyWriteExecute'),
  absent('Service', 'PrivateNetwork'),
  absent('Service', 'PrivateUsers'),
  absent('Service', 'IPAddressDeny'),
  // Lifecycle
  is('Service', 'Type', 'notify'),
  is('Service', 'NotifyAccess', 'main'),
  ['Service.WatchdogSec is set', (u) => /^[1-9]\d*s?$/.test(value(u, 'Service', 'WatchdogSec') ?? '')],
  // The agent exits 78 on a bad config itself. RestartPreventExitStatus only looks at the main
  // process: an ExecStartPre exiting 78 was restarted every RestartSec (npm run test:systemd).
  absent('Service', 'ExecStartPre'),
  is('Service', 'ExecReload', '/bin/kill -HUP $MAINPID'),
  is('Service', 'Restart', 'on-failure'),
  is('Service', 'RestartPreventExitStatus', '78'),
  ['Unit.StartLimitIntervalSec and StartLimitBurst are set', (u) =>
    /^\d+/.test(value(u, 'Unit', 'StartLimitIntervalSec') ?? '') && /^\d+$/.test(value(u, 'Unit', 'StartLimitBurst') ?? '')],
  is('Service', 'KillMode', 'mixed'),
  is('Service', 'KillSignal', 'SIGTERM'),
  ['Service.TimeoutStopSec is set', (u) => /^\d+s?$/.test(value(u, 'Service', 'TimeoutStopSec') ?? '')],
  is('Install', 'WantedBy', 'multi-user.target'),
];

for (const [title, check] of rows) {
  test(`unit: ${title}`, (t) => {
    t.true(check(unit));
  });
}

test('unit: the table catches a missing setting (the checks can fail)', (t) => {
  const weakened = parseUnit(text.replace(/^ProtectSystem=strict$/m, 'ProtectSystem=full').replace(/^CapabilityBoundingSet=.*$/m, ''));
  const failing = rows.filter(([, check]) => !check(weakened)).map(([title]) => title);
  t.deepEqual(failing, ['Service.CapabilityBoundingSet is exactly CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW', 'Service.ProtectSystem=strict']);
});

test('unit: paths agree with the Ansible role and the config default socket', (t) => {
  const d = roleDefaults();
  const env = values(unit, 'Service', 'Environment');
  t.true(env.includes(`RACK_AGENT_CONFIG=${String(d.rack_agent_config_file)}`), env.join(' | '));
  // As the package installs it: deploy/package-deb.sh puts the programs in /usr/bin.
  const packaged = (value(unit, 'Service', 'ExecStart') ?? '').replace('/usr/local/bin/', '/usr/bin/');
  t.is(packaged, `${String(d.rack_agent_bin_dir)}/rack-agent --config \${RACK_AGENT_CONFIG}`);
  t.is(d.rack_agent_socket, '/run/rack-agent/agent.sock');
  // The netns test mode grants what the unit grants.
  t.deepEqual(d.rack_agent_capabilities, [...words(unit, 'Service', 'AmbientCapabilities')]);
  t.is(dirname(String(d.rack_agent_socket)), `/run/${value(unit, 'Service', 'RuntimeDirectory') ?? ''}`);
  // The config schema's default socket is in the unit's RuntimeDirectory.
  const dir = mkdtempSync(join(tmpdir(), 'rack-unit-'));
  try {
    writeFileSync(join(dir, 'c.yaml'), 'node: { ipv4Address: 10.0.0.1/24 }\nbgp: { asNumber: 64512 }\n');
    t.is(loadConfig(join(dir, "c.yaml")).control.socket, String(d.rack_agent_socket));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A scratch root for systemd-analyze --root: systemd's own units (for the targets the unit names)
 * and an executable stand-in for every program an Exec line runs.
 */
function scratchRoot(units: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rack-systemd-'));
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('usr/bin', join(root, 'bin'));
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const [name, body] of Object.entries(units)) {
    writeFileSync(join(root, 'etc/systemd/system', name), body);
    for (const key of ['ExecStartPre', 'ExecStart', 'ExecReload', 'ExecStop', 'ExecStartPost']) {
      for (const line of values(parseUnit(body), 'Service', key)) {
        const program = line.replace(/^[-@+!:]+/, '').split(/\s+/)[0];
        const stand = join(root, program);
        mkdirSync(dirname(stand), { recursive: true });
        writeFileSync(stand, '#!/bin/sh\n');
        chmodSync(stand, 0o755);
      }
    }
  }
  return root;
}

const analyze = which('systemd-analyze');

test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  if (analyze === undefined) {
    t.fail('systemd-analyze is missing: apt-get install systemd (.ci/setup does)');
    return;
  }
  const root = scratchRoot({ 'rack-agent.service': text });
  try {
    const r = await run(analyze, ['verify', `--root=${root}`, '/etc/systemd/system/rack-agent.service']);
    t.is(r.code, 0, r.stderr);
    t.is(`${r.stdout}${r.stderr}`.trim(), '');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('systemd-analyze verify in this set-up reports a broken unit (the check can fail)', async (t) => {
  if (analyze === undefined) {
    t.fail('systemd-analyze is missing');
    return;
  }
  const broken = text.replace(/^Type=notify$/m, 'Type=notfy').replace(/^UMask=0007$/m, 'UMask=0007\nProtectSytem=strict');
  const root = scratchRoot({ 'rack-agent.service': broken });
  try {
    const r = await run(analyze, ['verify', `--root=${root}`, '/etc/systemd/system/rack-agent.service']);
    const out = `${r.stdout}${r.stderr}`;
    t.regex(out, /Failed to parse service type/);
    t.regex(out, /Unknown key 'ProtectSytem'/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('systemd-analyze security --offline rates the unit OK (exposure at most 2.0 of 10)', async (t) => {
  if (analyze === undefined) {
    t.fail('systemd-analyze is missing');
    return;
  }
  const root = scratchRoot({ 'rack-agent.service': text });
  try {
    const r = await run(analyze, ['security', '--offline=true', `--root=${root}`, '--threshold=20', '--no-pager',
      '/etc/systemd/system/rack-agent.service']);
    const level = /Overall exposure level for rack-agent\.service: ([\d.]+) (\w+)/.exec(r.stdout);
    t.truthy(level, r.stdout + r.stderr);
    t.log(`exposure ${level?.[1] ?? '?'} ${level?.[2] ?? ''}`);
    t.true(Number(level?.[1]) <= 2.0);
    t.is(r.code, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
