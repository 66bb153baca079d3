/**
 * Issue 19 item 1 against a real peer: BIRD 2 is frozen (SIGSTOP) while the session driver feeds
 * it PREFIXES IPv4 /26s, with small TCP buffers in both namespaces, so the driver's socket fills
 * past the transmitter's 1 MiB high-water mark. The driver's 3 s hold timer ends the session; its
 * connection is destroyed after the close linger without ever draining. Then BIRD comes back
 * (SIGCONT), reconnects, and must be sent the whole table again: it counts every prefix. Before
 * the fix the transmitter kept waiting for the dead connection's 'drain' and BIRD got nothing.
 */

import test from 'ava';
import { existsSync } from 'node:fs';
import { startDriver } from '../helpers/driver-client.js';
import { Bird } from '../helpers/bird.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';
import { driverSpec, peerSpec } from './specs.js';
import { numberToIpv4 } from '../../agent/bgp/ip.js';

const PREFIXES = 600_000;
const haveBird = existsSync('/usr/sbin/bird');
const run = isRoot && haveBird ? test : test.skip;
if (!isRoot || !haveBird) test('stalled BIRD', (t) => t.log(`skipped: ${!isRoot ? rootSkipReason : 'BIRD 2 is not installed'}`));

const AGENT = '10.9.1.2';
const BIRD = '10.9.1.1';

/** n consecutive /26 prefixes from 10.64.0.0. */
function table(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${numberToIpv4((0x0a400000 + i * 64) >>> 0)}/26`);
}

run('BIRD 2 frozen (SIGSTOP) mid-feed until the hold timer fires, then resumed, gets the whole table again', async (t) => {
  const lab = await useLab(t, 'stallbird');
  const a = await lab.namespace('a');
  const b = await lab.namespace('b');
  await lab.veth(b, `${BIRD}/24`, a, `${AGENT}/24`);
  for (const ns of [a, b]) {
    await lab.exec(ns, 'sysctl', ['-qw', 'net.ipv4.tcp_rmem=4096 16384 32768'], { check: true });
    await lab.exec(ns, 'sysctl', ['-qw', 'net.ipv4.tcp_wmem=4096 16384 32768'], { check: true });
  }
  const driver = await startDriver(lab, a, driverSpec([
    peerSpec({ address: BIRD, localAs: 65000, peerAs: 65001, routerId: AGENT, families: ['ipv4'], passive: true, holdTime: 3, sendHoldTime: 0 }),
  ], { announce: { ipv4: table(PREFIXES), ipv6: [] }, nextHop: { ipv4: AGENT, ipv6: '' } }), 30_000);
  const bird = await Bird.start(lab, b, {
    routerId: BIRD, localAs: 65001,
    neighbors: [{ address: AGENT, as: 65000, holdTime: 3, connectRetry: 1, families: ['ipv4'] }],
  });

  // Frozen as soon as the session is up: it reads a little of the feed, then nothing.
  await driver.waitFor((e) => e.ev === 'established', 'Established with BIRD', 20_000, 0);
  bird.pause();
  const mark = driver.mark();
  const down = await driver.waitFor((e) => e.ev === 'state' && e.from === 'Established', 'the hold timer to end the session', 20_000, mark);
  t.is(down.reason, 'HoldTimerExpires');
  // The dead connection's socket is destroyed after the close linger, never drained: no socket to
  // BIRD is the driver's any more (the kernel may keep the orphan, FIN-WAIT-1, with its unsent bytes).
  await waitFor(async () => !(await lab.exec(a, 'ss', ['-tnpH', 'dst', BIRD])).stdout.includes('users:'), { timeoutMs: 10_000, what: 'the old connection released by the driver' });

  bird.resume();
  await driver.waitFor((e) => e.ev === 'state' && e.to === 'Established', 'Established again', 30_000, mark);
  let accepted = 0;
  await waitFor(async () => {
    const n = await bird.neighbor(AGENT);
    accepted = n.established ? (n.accepted.ipv4 ?? 0) : 0;
    return accepted === PREFIXES;
  }, { timeoutMs: 30_000, intervalMs: 200, what: `BIRD to hold ${PREFIXES} prefixes (has ${accepted})` });
  t.is(accepted, PREFIXES);
  await driver.exit();
});
