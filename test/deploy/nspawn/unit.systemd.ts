/**
 * The unit under a real systemd (issue 24), run by `npm run test:systemd` (not by `npm test`: it
 * takes about a minute, most of it the watchdog's 30 s and the restart after it). A Debian 13
 * container (world.ts; container.ts over debian-root.sh's cached root) boots with systemd as
 * PID 1, its network a lab namespace with a veth to a BIRD 2 ToR namespace (iBGP route reflector, AS 64512,
 * announcing two blocks of other nodes). The .deb built from this build (deploy/package-deb.sh) is
 * installed inside with apt, the packaged unit unchanged, and each proof is its own test, in order
 * on the one container: the package installs; Type=notify is active only after READY=1;
 * `agentctl wait` passes against the ToR; the hardening holds (read-only system, capabilities
 * exactly the unit's); `systemctl reload` applies a changed config; `systemctl stop` leaves the
 * routes in the kernel and the next start keeps them (0 deleted); the watchdog restarts a
 * SIGSTOPped agent within WatchdogSec; a config failing --check-config is not restarted.
 *
 * Skipped only where systemd-nspawn is missing (or not root). Needs Debian's archive the first
 * time (the root is cached, see debian-root.sh). The container and both namespaces are torn down
 * even on failure (the lab owns them).
 */

import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureOutput, holdsFor, isRoot, waitFor } from '../../helpers/netns.js';
import { UNIT, which } from '../paths.js';
import { parseUnit, value, words } from '../unit-file.js';
import { AS, bootWorld, LEARNT, NODE, TOR, type World } from './world.js';

const missing = !isRoot ? 'needs root' : which('systemd-nspawn') === undefined ? 'systemd-nspawn is missing (apt-get install systemd-container)' : undefined;
const serial = missing === undefined ? test.serial : test.serial.skip;
const title = (s: string): string => (missing === undefined ? s : `${s} [${missing}]`);

const UNIT_NAME = 'rack-agent.service';
const unit = parseUnit(readFileSync(UNIT, 'utf8'));
const WATCHDOG_S = Number.parseInt(value(unit, 'Service', 'WatchdogSec') ?? '', 10);

function config(blocks: readonly string[], extra = ''): string {
  return [
    `node: { name: ct-n13, ipv4Address: ${NODE}/24 }`,
    `bgp:`,
    `  asNumber: ${AS}`,
    `  peers: [{ peerIP: ${TOR}, asNumber: ${AS}, scope: node }]`,
    'pools: [{ cidr: 192.168.0.0/16, blockSize: 26, ipipMode: Never }]',
    `blocks: [${blocks.join(', ')}]`,
    'log: { level: info, format: json }',
    extra,
    '',
  ].join('\n');
}

/** Linux capability numbers (capability.h) of the ones the unit may name. */
const CAP_BITS: Record<string, number> = { CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13 };

let world: World | undefined;
const w = (): World => {
  if (world === undefined) throw new Error('the container did not come up (see the before hook)');
  return world;
};

/** Puts a config in the container as /etc/rack-agent/config.yaml. */
async function putConfig(text: string): Promise<void> {
  const name = `config-${Date.now()}.yaml`;
  writeFileSync(join(w().share, name), text);
  await w().ct.must(`cp /mnt/test/${name} /etc/rack-agent/config.yaml`);
}

/** The routes of protocol rack-agent (201) in the container's namespace, sorted. */
async function agentRoutes(): Promise<string[]> {
  const r = await w().lab.ip(w().ns, 'route', 'show', 'proto', '201');
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => l.trim()).sort();
}

/** The agent's PID inside the container; throws when it is not running (`kill -STOP 0` would stop the test). */
async function mainPid(): Promise<number> {
  const pid = Number(await w().ct.show(UNIT_NAME, 'MainPID'));
  if (!(pid > 1)) throw new Error(`${UNIT_NAME} has no main process (MainPID=${pid})`);
  return pid;
}

test.before(async () => {
  if (missing === undefined) world = await bootWorld('sysd');
});

test.after.always(async () => {
  if (world !== undefined) console.log(`test:systemd: proofs done ${((Date.now() - world.started) / 1000).toFixed(1)} s after the start`);
  await world?.lab.destroy();
});

serial(title('apt installs the .deb on Debian 13: the rack-agent user, the unit loaded, Node.js 20.19'), async (t) => {
  const { ct, deb } = w();
  const out = await ct.must(`apt-get install -y /mnt/test/${deb} 2>&1`);
  t.regex(out, /Setting up rack-agent \(/);
  t.regex(await ct.must('id rack-agent'), /uid=\d+\(rack-agent\) gid=\d+\(rack-agent\)/);
  t.is(await ct.show(UNIT_NAME, 'LoadState'), 'loaded');
  t.is(await ct.show(UNIT_NAME, 'FragmentPath'), '/usr/lib/systemd/system/rack-agent.service');
  t.regex(await ct.must('node --version'), /^v20\.(19|[2-9]\d)\./);
  await putConfig(config(['192.168.0.0/26']));
});

serial(title('Type=notify: the unit is active only after the agent sent READY=1'), async (t) => {
  const { ct } = w();
  // systemd logs each notification and each state change at debug level.
  await ct.must('systemd-analyze log-level debug');
  await ct.must(`systemctl start ${UNIT_NAME}`);
  await ct.must('systemd-analyze log-level info');
  const pid = await mainPid();
  let entries = await ct.journal(UNIT_NAME);
  await waitFor(async () => (entries = await ct.journal(UNIT_NAME)).some((e) => /Changed start -> running/.test(e.message)),
    { timeoutMs: 5000, what: 'the journal to show the start' });
  const ready = entries.findIndex((e) => new RegExp(`notification message from PID ${pid}[: ].*READY=1`).test(e.message));
  const running = entries.findIndex((e) => /Changed start -> running/.test(e.message));
  t.true(ready >= 0, 'systemd got READY=1 from the main PID');
  t.true(ready < running, 'READY=1 came before the unit left activating');
  t.false(entries.slice(0, ready).some((e) => /-> running/.test(e.message)), 'not running before READY=1');
  t.is(await ct.show(UNIT_NAME, 'ActiveState'), 'active');
  t.is(await ct.show(UNIT_NAME, 'Type'), 'notify');
});

serial(title('agentctl wait passes against the BIRD ToR; the ToR has the node\'s block'), async (t) => {
  const { ct, bird } = w();
  const r = await ct.sh('agentctl wait --timeout 30');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true((await bird.neighbor(NODE)).established);
  await waitFor(async () => (await bird.routes('ipv4')).some((x) => x.prefix === '192.168.0.0/26'),
    { timeoutMs: 10_000, what: 'the node\'s block at the ToR' });
  await waitFor(async () => (await agentRoutes()).filter((x) => x.includes(`via ${TOR}`)).length === LEARNT.length,
    { timeoutMs: 10_000, what: 'the ToR\'s blocks in the node\'s kernel' });
  t.pass();
});

serial(title('hardening: the agent cannot write outside /run/rack-agent; its capabilities are exactly the unit\'s'), async (t) => {
  const { ct } = w();
  const pid = await mainPid();
  // Root inside the agent's own mount namespace: a refusal is the sandbox's, not file modes'.
  const attempts: Record<string, string> = {};
  for (const dir of ['/etc/rack-agent', '/usr/lib/rack-agent', '/var/lib', '/var/log', '/root', '/home', '/run/rack-agent']) {
    const r = await ct.sh(`nsenter -t ${pid} -m -- sh -c 'echo x > ${dir}/.probe && rm ${dir}/.probe && echo written' 2>&1`);
    attempts[dir] = r.stdout.includes('written') ? 'written' : /Read-only file system|Permission denied|No such file/.exec(r.stdout)?.[0] ?? r.stdout.trim();
  }
  t.deepEqual(attempts, {
    '/etc/rack-agent': 'Read-only file system', '/usr/lib/rack-agent': 'Read-only file system', '/var/lib': 'Read-only file system',
    '/var/log': 'Read-only file system', '/root': 'Read-only file system', '/home': 'Read-only file system', '/run/rack-agent': 'written',
  });
  const status = await ct.must(`cat /proc/${pid}/status`);
  const field = (name: string): bigint => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? 'ffff'}`);
  const expected = [...words(unit, 'Service', 'CapabilityBoundingSet')].reduce((m, c) => m | (1n << BigInt(CAP_BITS[c] ?? 63)), 0n);
  t.deepEqual(['CapEff', 'CapPrm', 'CapBnd', 'CapAmb'].map((f) => [f, field(f).toString(16)]),
    ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb'].map((f) => [f, expected.toString(16)]));
  t.regex(status, /^NoNewPrivs:\s+1$/m);
  t.regex(status, /^Seccomp:\s+2$/m);
  t.is((await ct.must(`stat -c %U /proc/${pid}`)).trim(), 'rack-agent');
});

serial(title('systemctl reload applies a changed config (a second block) in the same process'), async (t) => {
  const { ct, bird } = w();
  const pid = await mainPid();
  await putConfig(config(['192.168.0.0/26', '192.168.0.64/26']));
  await ct.must(`systemctl reload ${UNIT_NAME}`);
  await waitFor(async () => (await bird.routes('ipv4')).some((x) => x.prefix === '192.168.0.64/26'),
    { timeoutMs: 10_000, what: 'the new block at the ToR' });
  t.true((await agentRoutes()).some((r) => r.startsWith('blackhole 192.168.0.64/26')));
  t.is(await mainPid(), pid);
});

serial(title('systemctl stop leaves the routes in the kernel; the next start keeps them (0 deleted)'), async (t) => {
  const { ct, lab, ns } = w();
  const before = await agentRoutes();
  t.is(before.length, LEARNT.length + 2, before.join('\n'));
  const monitor = lab.spawn(ns, 'ip', ['monitor', 'route']);
  const seen = captureOutput(monitor);
  try {
    await ct.must(`systemctl stop ${UNIT_NAME}`);
    t.is(await ct.show(UNIT_NAME, 'ActiveState'), 'inactive');
    t.deepEqual(await agentRoutes(), before, 'after stop');
    await ct.must(`systemctl start ${UNIT_NAME}`);
    const r = await ct.sh('agentctl wait --timeout 30');
    t.is(r.code, 0, r.stdout + r.stderr);
    t.deepEqual(await agentRoutes(), before, 'after the next start');
  } finally {
    monitor.kill('SIGTERM');
  }
  t.deepEqual(seen.lines.filter((l) => l.startsWith('Deleted') && /proto (201|rack-agent)/.test(l)), [], 'no route deleted');
});

serial(title(`the watchdog restarts a SIGSTOPped agent within WatchdogSec (${WATCHDOG_S} s)`), async (t) => {
  const { ct } = w();
  t.timeout(180_000);
  const pid = await mainPid();
  const restarts = Number(await ct.show(UNIT_NAME, 'NRestarts'));
  const stoppedAt = Date.now();
  await ct.must(`kill -STOP ${pid}`);
  let entries = await ct.journal(UNIT_NAME);
  await waitFor(async () => (entries = await ct.journal(UNIT_NAME)).some((e) => e.realtimeUs / 1000 >= stoppedAt - 1000 && /Watchdog timeout/.test(e.message)),
    { timeoutMs: (WATCHDOG_S + 10) * 1000, intervalMs: 500, what: 'the watchdog to fire' });
  const fired = entries.find((e) => e.realtimeUs / 1000 >= stoppedAt - 1000 && /Watchdog timeout/.test(e.message))!;
  const afterS = (fired.realtimeUs / 1000 - stoppedAt) / 1000;
  t.log(`watchdog fired ${afterS.toFixed(1)} s after SIGSTOP`);
  t.true(afterS <= WATCHDOG_S + 1, `${afterS} s`);
  await waitFor(async () => (await ct.show(UNIT_NAME, 'ActiveState')) === 'active' && (await mainPid()) !== pid,
    { timeoutMs: 60_000, intervalMs: 500, what: 'the restarted agent' });
  t.is(Number(await ct.show(UNIT_NAME, 'NRestarts')), restarts + 1);
  t.log(`active again ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after SIGSTOP`);
  const r = await ct.sh('agentctl wait --timeout 30');
  t.is(r.code, 0, r.stdout + r.stderr);
});

serial(title('a config failing --check-config fails the unit once: no restart loop'), async (t) => {
  const { ct } = w();
  const restartSec = Number.parseInt(value(unit, 'Service', 'RestartSec') ?? '', 10);
  const seen = (await ct.journal(UNIT_NAME)).length;
  await putConfig(config(['192.168.0.0/26'], 'bogusKey: 1'));
  const r = await ct.sh(`systemctl restart ${UNIT_NAME}`);
  t.not(r.code, 0);
  // A start by hand sets NRestarts (automatic restarts) back to 0.
  const restarts = Number(await ct.show(UNIT_NAME, 'NRestarts'));
  t.is(restarts, 0);
  const failed = async (): Promise<boolean> => (await ct.show(UNIT_NAME, 'ActiveState')) === 'failed'
    && Number(await ct.show(UNIT_NAME, 'NRestarts')) === restarts;
  await holdsFor(failed, { forMs: (restartSec + 3) * 1000, intervalMs: 500, what: 'failed without a restart' });
  t.is(await ct.show(UNIT_NAME, 'Result'), 'exit-code');
  const after = (await ct.journal(UNIT_NAME)).slice(seen).map((e) => e.message);
  t.true(after.some((m) => /status=78\/CONFIG/.test(m)), after.join('\n'));
  t.false(after.some((m) => /Scheduled restart job/.test(m)), after.join('\n'));
  // The good config back: it starts again.
  await putConfig(config(['192.168.0.0/26']));
  await ct.must(`systemctl reset-failed ${UNIT_NAME}; systemctl start ${UNIT_NAME}`);
  t.is(await ct.show(UNIT_NAME, 'ActiveState'), 'active');
});
