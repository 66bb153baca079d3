/**
 * Issue 19 items 1 and 2: a peer that stops reading in the middle of our full-table feed. The session
 * driver announces PREFIXES IPv4 /26s (more than the transmitter's 1 MiB high-water mark once
 * encoded) to a raw BGP peer (raw-peer.ts) whose namespaces have small TCP buffers, so the driver's
 * socket fills within the first second. Each case ends with the peer coming back on a new
 * connection: it must get the whole table and the End-of-RIB again (the transmitter once kept
 * waiting for a 'drain' of the dead connection and never sent the next session anything but
 * KEEPALIVEs).
 * - frozen: the peer sends nothing more either, so the driver's 3 s hold timer ends the session;
 * - send hold (RFC 9687): the peer keeps sending KEEPALIVEs but reads nothing; a send hold time of
 *   4 s closes the session with NOTIFICATION 8, logged and counted;
 * - stop: the driver is told to exit while its socket is full: it is gone within the close linger.
 */

import test, { type ExecutionContext } from 'ava';
import { decodeMessage } from '../../agent/bgp/message.js';
import { endOfRibFamily } from '../../agent/bgp/update.js';
import { startDriver, type Driver } from '../helpers/driver-client.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { RawPeer } from './raw-client.js';
import { driverSpec, peerSpec } from './specs.js';
import { numberToIpv4 } from '../../agent/bgp/ip.js';

const PREFIXES = 300_000;
const run = isRoot ? test.serial : test.skip;
if (!isRoot) test('stalled peer', (t) => t.log(`skipped: ${rootSkipReason}`));

const AGENT = '10.9.0.2';
const PEER = '10.9.0.1';

/** n consecutive /26 prefixes from 10.64.0.0. */
function announce(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${numberToIpv4((0x0a400000 + i * 64) >>> 0)}/26`);
}
const TABLE = announce(PREFIXES);

interface Setup {
  readonly lab: Lab;
  readonly driver: Driver;
  readonly peer: RawPeer;
}

async function setup(t: ExecutionContext, name: string, sendHoldTime: number | null): Promise<Setup> {
  const lab = await useLab(t, name);
  const a = await lab.namespace('a');
  const p = await lab.namespace('p');
  await lab.veth(p, `${PEER}/24`, a, `${AGENT}/24`);
  // Small socket buffers: the driver's 1 MiB high-water mark is reached with a few hundred
  // thousand prefixes, not millions.
  for (const ns of [a, p]) {
    await lab.exec(ns, 'sysctl', ['-qw', 'net.ipv4.tcp_rmem=4096 16384 32768']);
    await lab.exec(ns, 'sysctl', ['-qw', 'net.ipv4.tcp_wmem=4096 16384 32768']);
  }
  const driver = await startDriver(lab, a, driverSpec([
    peerSpec({ address: PEER, localAs: 65000, peerAs: 65001, routerId: AGENT, families: ['ipv4'], passive: true, holdTime: 3, sendHoldTime }),
  ], { announce: { ipv4: TABLE, ipv6: [] }, nextHop: { ipv4: AGENT, ipv6: '' } }), 20_000);
  const peer = await RawPeer.start(lab, p);
  return { lab, driver, peer };
}

/** Connects and completes the OPEN exchange; the driver starts its feed on our KEEPALIVE. */
async function connect(s: Setup, holdTime: number, after = 0): Promise<number> {
  await s.driver.waitFor((e) => e.ev === 'state' && e.to === 'Active', 'the driver listening (Active)', 10_000, after);
  const from = s.peer.mark();
  const conn = await s.peer.connect(AGENT, 179);
  await s.peer.establish(conn, { asn: 65001, routerId: PEER, holdTime }, from);
  return conn;
}

/** Reads `conn` to the End-of-RIB; the number of prefixes announced on it. */
async function wholeTable(s: Setup, conn: number): Promise<number> {
  let count = 0;
  let seen = 0;
  await waitFor(() => {
    const events = s.peer.events;
    s.peer.mark();
    for (; seen < events.length; seen++) {
      const e = events[seen];
      if (e.ev !== 'message' || e.conn !== conn || e.type !== 2) continue;
      const m = decodeMessage(Buffer.from(e.hex as string, 'hex'));
      if (m.type !== 'update') continue;
      if (endOfRibFamily(m)) return true;
      count += m.nlri.length;
    }
    return undefined;
  }, { timeoutMs: 20_000, what: `the End-of-RIB on connection ${conn} (${count} prefixes so far)` });
  return count;
}

/** The first state change out of Established after index `from`. */
const leftEstablished = (s: Setup, from: number) =>
  s.driver.waitFor((e) => e.ev === 'state' && e.from === 'Established', 'the session to leave Established', 20_000, from);

run('a peer that freezes mid-feed until the hold timer fires, then comes back, gets the whole table and End-of-RIB again', async (t) => {
  const s = await setup(t, 'frozen', 0);
  const first = await connect(s, 90);
  const mark = s.driver.mark();
  s.peer.command({ cmd: 'pause', conn: first });
  const down = await leftEstablished(s, mark);
  t.is(down.reason, 'HoldTimerExpires');
  const session = await s.driver.session(PEER);
  t.is(session?.lastError, 'Hold timer expired');
  t.is(session?.sendHoldExpired, 0, 'send hold time 0: off');

  s.peer.command({ cmd: 'destroy', conn: first });
  const second = await connect(s, 90, mark);
  t.is(await wholeTable(s, second), PREFIXES);
  await s.driver.exit();
});

run('RFC 9687: a peer that sends KEEPALIVEs but reads nothing is closed after the send hold time with NOTIFICATION 8; it then gets the whole table again', async (t) => {
  const s = await setup(t, 'sendhold', 4);
  const first = await connect(s, 90);
  t.is((await s.driver.session(PEER))?.holdTime, 3);
  const mark = s.driver.mark();
  s.peer.command({ cmd: 'pause', conn: first });
  s.peer.command({ cmd: 'keepalives', conn: first, ms: 500 });
  const started = performance.now();
  const down = await leftEstablished(s, mark);
  const seconds = (performance.now() - started) / 1000;
  t.is(down.reason, 'SendHoldTimerExpires');
  t.true(seconds >= 3.5 && seconds < 10, `closed after ${seconds.toFixed(1)} s (send hold time 4 s)`);
  const session = await s.driver.session(PEER);
  t.is(session?.lastError, 'Send hold timer expired');
  t.is(session?.sendHoldExpired, 1);
  t.is(session?.messagesOut.notification, 1, 'NOTIFICATION 8 tried');
  t.regex(s.driver.stderr(), /"level":"warn","message":"send hold timer expired: nothing could be written to the peer for \d+ s/);
  t.regex(s.driver.stderr(), /"peer":"10\.9\.0\.1"/);

  s.peer.command({ cmd: 'keepalives', conn: first, ms: 0 });
  s.peer.command({ cmd: 'destroy', conn: first });
  const second = await connect(s, 90, mark);
  t.is(await wholeTable(s, second), PREFIXES);
  t.is((await s.driver.session(PEER))?.state, 'Established');
  await s.driver.exit();
});

run('a stop while the socket to a peer is full finishes promptly', async (t) => {
  const s = await setup(t, 'stopfull', 0);
  const first = await connect(s, 90);
  s.peer.command({ cmd: 'pause', conn: first });
  s.peer.command({ cmd: 'keepalives', conn: first, ms: 500 });
  // The feed has begun; with the peer not reading, the driver's small socket buffer is full at once.
  await waitFor(async () => ((await s.driver.session(PEER))?.messagesOut.update ?? 0) > 0, { timeoutMs: 10_000, what: 'the feed to start' });
  t.is((await s.driver.session(PEER))?.state, 'Established');
  const started = performance.now();
  await s.driver.exit();
  const seconds = (performance.now() - started) / 1000;
  // Bounded by the connection's close linger (3 s, connection.ts) plus the driver's own 3 s exit
  // backstop (its stdin stays open); the agent's stop (shutdown.ts) exits 200 ms after the close.
  t.true(seconds < 7.5, `the driver exited after ${seconds.toFixed(1)} s`);
});
