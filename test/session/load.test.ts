/**
 * Must-show 3 (projectcalico/calico issue 7086): a BIRD 2 route reflector sends 1,000,000 IPv4 /26
 * prefixes to the session driver over iBGP while the same driver holds a second session, to
 * another BIRD 2, with a hold time of 3 s (keepalive 1 s). Both ends of that session watch the
 * hold timer, so an event loop blocked for about 3 s anywhere in the driver would drop it. Asserts:
 * every prefix arrives, the 3 s session never leaves Established (neither in the driver's state
 * changes nor in BIRD's protocol state and since-time), and the driver stays up. The driver's
 * worst event loop delay is logged, not asserted (speed belongs to benchmarks).
 */

import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDriver } from '../helpers/driver-client.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';
import { driverSpec, peerSpec } from './specs.js';

const PREFIXES = Number(process.env.LOAD_PREFIXES ?? 1_000_000);
const haveBird = existsSync('/usr/sbin/bird');
const run = isRoot && haveBird ? test : test.skip;
if (!isRoot || !haveBird) test('load test', (t) => t.log(`skipped: ${!isRoot ? rootSkipReason : 'BIRD 2 is not installed'}`));

function routesFile(path: string, n: number): void {
  const lines: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const a = (0x0a000000 + i * 64) >>> 0;
    lines[i] = `route ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/26 blackhole;`;
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** `node BGP --- up 15:44:47.123 Established` -> ['15:44:47.123', 'Established']. */
function protocolLine(stdout: string): [string, string] | undefined {
  const m = /^node\s+BGP\s+\S+\s+\S+\s+(\S+)\s+(\S+)/m.exec(stdout);
  return m ? [m[1], m[2]] : undefined;
}

/**
 * BIRD prints `since` as wall time derived from its monotonic clock at each query, so the same
 * instant can differ by a millisecond between two queries; a flap moves it by seconds.
 */
function sinceMs(line: [string, string] | undefined): number {
  const m = /^(\d+):(\d+):(\d+)(?:\.(\d+))?$/.exec(line?.[0] ?? '');
  if (!m) return Number.NaN;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number((m[4] ?? '0').padEnd(3, '0').slice(0, 3));
}

run(`a full table of ${PREFIXES} prefixes on one session does not drop a 3 s hold-time session`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rack-load-'));
  const lab = await useLab(t, 'load');
  lab.defer(() => rmSync(dir, { recursive: true, force: true }));
  const a = await lab.namespace('a');
  const r = await lab.namespace('r');
  const b = await lab.namespace('b');
  await lab.veth(r, '10.1.0.1/24', a, '10.1.0.2/24');
  await lab.veth(b, '10.2.0.1/24', a, '10.2.0.2/24');
  routesFile(join(dir, 'routes.conf'), PREFIXES);
  writeFileSync(join(dir, 'rr.conf'), [
    'router id 10.1.0.1;',
    'protocol device {}',
    'protocol static { ipv4;',
    `include "${join(dir, 'routes.conf')}";`,
    '}',
    'protocol bgp node { local 10.1.0.1 as 65100; neighbor 10.1.0.2 as 65100; direct; rr client; rr cluster id 10.1.0.1;',
    '  ipv4 { import all; export all; next hop self; }; }',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'b.conf'), [
    'router id 10.2.0.1;',
    'protocol device {}',
    'protocol bgp node { local 10.2.0.1 as 65200; neighbor 10.2.0.2 as 65100; hold time 3; keepalive time 1;',
    '  ipv4 { import all; export none; }; }',
    '',
  ].join('\n'));
  const bird = (ns: string, name: string): string => {
    const sock = join(dir, `${name}.ctl`);
    lab.spawn(ns, 'bird', ['-f', '-c', join(dir, `${name}.conf`), '-s', sock, '-P', join(dir, `${name}.pid`)]);
    return sock;
  };
  const birdc = async (ns: string, sock: string, ...args: string[]): Promise<string> => (await lab.exec(ns, 'birdc', ['-s', sock, ...args])).stdout;

  const bSock = bird(b, 'b');
  const agent = await startDriver(lab, a, driverSpec([
    peerSpec({ address: '10.1.0.1', localAs: 65100, peerAs: 65100, routerId: '10.1.0.2', families: ['ipv4'], passive: false }),
    peerSpec({ address: '10.2.0.1', localAs: 65100, peerAs: 65200, routerId: '10.1.0.2', families: ['ipv4'], holdTime: 3 }),
  ]));
  await agent.waitFor((e) => e.ev === 'established' && e.key === '10.2.0.1', 'the 3 s session', 20_000);
  await waitFor(async () => protocolLine(await birdc(b, bSock, 'show', 'protocols', 'node'))?.[1] === 'Established', { timeoutMs: 10_000, what: 'BIRD B Established' });
  const before = protocolLine(await birdc(b, bSock, 'show', 'protocols', 'node'));
  t.is((await agent.session('10.2.0.1'))?.holdTime, 3);

  const started = performance.now();
  const rrSock = bird(r, 'rr');
  let received = 0;
  await waitFor(async () => {
    // LAB-NOTES: a quiet receiver can stall BIRD 2.0.12's sender for 3 s; a query keeps it turning.
    if (existsSync(rrSock)) await birdc(r, rrSock, 'show', 'status');
    received = (await agent.session('10.1.0.1'))?.received ?? 0;
    return received >= PREFIXES;
  }, { timeoutMs: 50_000, intervalMs: 50, what: `${PREFIXES} prefixes (have ${received})` });
  const seconds = (performance.now() - started) / 1000;

  t.is((await agent.session('10.1.0.1'))?.received, PREFIXES);
  const drops = agent.events.slice(0, agent.mark()).filter((e) => e.ev === 'state' && e.key === '10.2.0.1' && e.from === 'Established');
  t.deepEqual(drops, [], 'the 3 s session never left Established in the driver');
  const s = await agent.session('10.2.0.1');
  t.is(s?.state, 'Established');
  t.is(s?.lastError, '');
  const after = protocolLine(await birdc(b, bSock, 'show', 'protocols', 'node'));
  t.is(after?.[1], 'Established', 'BIRD B: still Established');
  t.true(Math.abs(sinceMs(after) - sinceMs(before)) <= 100, `BIRD B: Established since the same time (${String(before?.[0])}, then ${String(after?.[0])})`);
  t.true(agent.alive());
  const status = agent.events.filter((e) => e.ev === 'status').pop();
  t.log(`driver events ${agent.mark()}, stdout bytes ${JSON.stringify(agent.events).length}, stderr ${agent.stderr().length}`);
  await agent.exit();
  t.log(`${PREFIXES} prefixes in ${seconds.toFixed(1)} s; driver event loop delay max ${String(status?.loopDelayMaxMs)} ms`);
});
