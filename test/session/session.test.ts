/**
 * Sessions over real TCP between network namespaces: two session drivers (each a SessionManager in
 * its own process) or a driver and the raw test peer. OPEN exchange with IPv4 and IPv6 routes both
 * ways whichever side starts first, connection collision resolved by BGP identifier (RFC 4271
 * section 6.8) both ways, hold timer expiry when the peer is frozen (SIGSTOP) and recovery after
 * SIGCONT, Cease with an RFC 9003 shutdown communication, a connection from an unknown address
 * refused, TCP MD5 with the right and a wrong key.
 */

import test, { type ExecutionContext } from 'ava';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NotificationMessage } from '../../agent/bgp/notification.js';
import type { OpenMessage } from '../../agent/bgp/open.js';
import { buildOpen } from '../../agent/session/negotiate.js';
import { type Driver, startDriver } from '../helpers/driver-client.js';
import { useLab } from '../helpers/lab-fixture.js';
import { holdsFor, isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { RawPeer } from './raw-client.js';
import { driverSpec, peerSpec } from './specs.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('session tests', (t) => t.log(`skipped: ${rootSkipReason}`));

const A = { ipv4: '10.0.0.1', ipv6: 'fd00::1' };
const B = { ipv4: '10.0.0.2', ipv6: 'fd00::2' };

async function newLab(t: ExecutionContext, name: string): Promise<{ lab: Lab; a: string; b: string }> {
  const lab = await useLab(t, name);
  const a = await lab.namespace('a');
  const b = await lab.namespace('b');
  await lab.veth(a, { ipv4: `${A.ipv4}/24`, ipv6: `${A.ipv6}/64` }, b, { ipv4: `${B.ipv4}/24`, ipv6: `${B.ipv6}/64` });
  return { lab, a, b };
}

/** The node (A, AS 65101) and its ToR (B, AS 65100), eBGP, each announcing one prefix per family. */
function specA(o: Partial<PeerSpec> = {}): ReturnType<typeof driverSpec> {
  return driverSpec([peerSpec({ address: B.ipv4, localAs: 65101, peerAs: 65100, routerId: A.ipv4, ...o })], {
    announce: { ipv4: ['192.168.1.0/26'], ipv6: ['fd10:1::/64'] },
    nextHop: A,
  });
}

function specB(o: Partial<PeerSpec> = {}): ReturnType<typeof driverSpec> {
  return driverSpec([peerSpec({ address: A.ipv4, localAs: 65100, peerAs: 65101, routerId: B.ipv4, ...o })], {
    announce: { ipv4: ['192.168.2.0/26'], ipv6: ['fd10:2::/64'] },
    nextHop: B,
  });
}

const announced = (d: Driver, key: string, prefix: string, from = 0): Promise<unknown> =>
  d.waitFor((e) => e.ev === 'update' && e.key === key && (e.announced as string[] | undefined)?.includes(prefix) === true, `${prefix} from ${key}`, 10_000, from);

async function routesBothWays(t: ExecutionContext, a: Driver, b: Driver, from = { a: 0, b: 0 }): Promise<void> {
  await announced(a, B.ipv4, '192.168.2.0/26', from.a);
  await announced(a, B.ipv4, 'fd10:2::/64', from.a);
  await announced(b, A.ipv4, '192.168.1.0/26', from.b);
  await announced(b, A.ipv4, 'fd10:1::/64', from.b);
  const sa = await a.session(B.ipv4);
  t.is(sa?.state, 'Established');
  t.is(sa?.received, 2);
  t.true(sa?.capabilities.includes('ipv6 unicast'));
  t.true(sa?.capabilities.includes('4-octet AS'));
}

nsTest('Established and routes both ways when the node starts first', async (t) => {
  const { lab, a, b } = await newLab(t, 'first');
  const da = await startDriver(lab, a, specA());
  // The ToR is not there yet: the node's connect is refused and it says so.
  await waitFor(async () => (await da.session(B.ipv4))?.lastError === 'Socket: Connection refused', { timeoutMs: 10_000, what: 'connection refused in status' });
  const db = await startDriver(lab, b, specB());
  await routesBothWays(t, da, db);
});

nsTest('Established and routes both ways when the ToR starts first', async (t) => {
  const { lab, a, b } = await newLab(t, 'second');
  const db = await startDriver(lab, b, specB({ passive: true }));
  await db.waitFor((e) => e.ev === 'state' && e.to === 'Active', 'the ToR waiting');
  const da = await startDriver(lab, a, specA());
  await routesBothWays(t, da, db);
});

/**
 * The raw peer is connected to by the agent and connects to it as well; both connections carry an
 * OPEN. RFC 4271 section 6.8: the connection opened by the side with the higher BGP identifier wins.
 */
async function collision(t: ExecutionContext, rawId: string, winner: 'agent' | 'peer'): Promise<void> {
  const { lab, a, b } = await newLab(t, winner === 'agent' ? 'collidea' : 'collidep');
  const raw = await RawPeer.start(lab, b);
  raw.command({ cmd: 'listen', port: 179 });
  await raw.waitFor((e) => e.ev === 'listening', 'listening');
  const agent = await startDriver(lab, a, specA({ families: ['ipv4'] }));
  const out = (await raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
  await raw.message(out, 1, 0, 'the agent\'s OPEN on its own connection');
  const from = raw.mark();
  const inc = await raw.connect(A.ipv4, 179);
  await raw.message(inc, 1, from, 'the agent\'s OPEN on the peer\'s connection');
  const open: OpenMessage = buildOpen({ asn: 65100, routerId: rawId, holdTime: 90, families: ['ipv4'] });
  const [keep, lose] = winner === 'agent' ? [out, inc] : [inc, out];
  raw.sendMessage(inc, open);
  if (winner === 'agent') raw.sendMessage(out, open);
  const cease = (await raw.message(lose, 3, 0, 'Cease on the losing connection')) as NotificationMessage;
  t.deepEqual([cease.code, cease.subcode], [6, 7]);
  await raw.waitFor((e) => e.ev === 'closed' && e.conn === lose, 'the losing connection closed');
  await raw.message(keep, 4, 0, 'KEEPALIVE on the surviving connection');
  raw.sendMessage(keep, { type: 'keepalive' });
  await agent.waitFor((e) => e.ev === 'established', 'Established on the surviving connection');
  t.is((await agent.session(B.ipv4))?.state, 'Established');
}

nsTest('collision: the peer has the higher identifier, its connection survives', (t) => collision(t, '10.0.0.200', 'peer'));
nsTest('collision: the agent has the higher identifier, its connection survives', (t) => collision(t, '9.9.9.9', 'agent'));

nsTest('hold timer expires when the peer is frozen (SIGSTOP) and the session recovers after SIGCONT', async (t) => {
  const { lab, a, b } = await newLab(t, 'hold');
  const da = await startDriver(lab, a, specA({ holdTime: 3 }));
  const db = await startDriver(lab, b, specB({ holdTime: 3 }));
  await da.waitFor((e) => e.ev === 'established', 'Established');
  t.is((await da.session(B.ipv4))?.holdTime, 3);
  const mark = da.mark();
  db.child.kill('SIGSTOP');
  try {
    const down = await da.waitFor((e) => e.ev === 'down', 'down after the hold time', 10_000, mark);
    t.is(down.reason, 'Hold timer expired');
    t.is((await da.session(B.ipv4))?.lastError, 'Hold timer expired');
  } finally {
    db.child.kill('SIGCONT');
  }
  const again = da.mark();
  await da.waitFor((e) => e.ev === 'established', 'Established again after SIGCONT', 20_000, again);
  await announced(da, B.ipv4, '192.168.2.0/26', again);
});

nsTest('administrative stop sends Cease with the RFC 9003 text; start brings the session back', async (t) => {
  const { lab, a, b } = await newLab(t, 'cease');
  const da = await startDriver(lab, a, specA({ gracefulRestart: { enabled: false, restartTime: 0 } }));
  const db = await startDriver(lab, b, specB());
  await da.waitFor((e) => e.ev === 'established', 'Established');
  const mark = db.mark();
  da.stop(B.ipv4, 'maintenance window 42');
  const down = await db.waitFor((e) => e.ev === 'down', 'the ToR to see the Cease', 10_000, mark);
  t.is(down.reason, 'Received: Cease / Administrative Shutdown: "maintenance window 42"');
  t.is(down.gracefulRestart, null);
  const sa = await da.session(B.ipv4);
  t.is(sa?.state, 'Idle');
  t.false(sa?.enabled);
  // Stopped means stopped: no reconnection while the operator's stop holds.
  await holdsFor(async () => (await da.session(B.ipv4))?.state === 'Idle', { forMs: 2500, intervalMs: 250, what: 'the stopped session staying Idle' });
  const again = da.mark();
  da.start(B.ipv4);
  await da.waitFor((e) => e.ev === 'established', 'Established after start', 15_000, again);
});

nsTest('a connection from an address that is no configured peer is closed at once', async (t) => {
  const { lab, a, b } = await newLab(t, 'unknown');
  const c = await lab.namespace('c');
  await lab.veth(a, '10.0.3.1/24', c, '10.0.3.2/24');
  const da = await startDriver(lab, a, specA({ passive: true }));
  const raw = await RawPeer.start(lab, c);
  const conn = await raw.connect('10.0.3.1', 179);
  await raw.waitFor((e) => e.ev === 'closed' && e.conn === conn, 'the agent to close the stranger');
  t.false(raw.events.some((e) => e.ev === 'message'), 'not even an OPEN was sent');
  await waitFor(() => da.stderr().includes('refused a BGP connection from 10.0.3.2: not a configured peer'), { timeoutMs: 5000, what: 'the warning' });
  t.regex(da.stderr(), /"level":"warn","message":"refused a BGP connection from 10.0.3.2/);
  t.true(da.alive());
  void b;
});

nsTest('TCP MD5: the right key comes up, a wrong key never does', async (t) => {
  const { lab, a, b } = await newLab(t, 'md5');
  const dir = mkdtempSync(join(tmpdir(), 'rack-md5-'));
  lab.defer(() => rmSync(dir, { recursive: true, force: true }));
  const key = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `${text}\n`);
    chmodSync(path, 0o600);
    return path;
  };
  const good = key('good', 'rack-secret-1');
  const bad = key('bad', 'not-the-secret');
  const da = await startDriver(lab, a, specA({ passwordFile: good }));
  const db = await startDriver(lab, b, specB({ passwordFile: bad, passive: true }));
  await holdsFor(async () => (await da.session(B.ipv4))?.state !== 'Established', { forMs: 3000, intervalMs: 250, what: 'no session with a wrong key' });
  t.false(db.events.some((e) => e.ev === 'established'));
  t.true(((await lab.counter(b, 'TcpExt', 'TCPMD5Failure')) ?? 0) > 0, 'the kernel dropped segments with the wrong signature');
  await db.exit();
  const db2 = await startDriver(lab, b, specB({ passwordFile: key('good2', 'rack-secret-1'), passive: true }));
  await db2.waitFor((e) => e.ev === 'established', 'Established with the right key', 20_000);
  await routesBothWays(t, da, db2);
});

nsTest('GTSM: up when both ends use it, never up against a peer sending TTL 1', async (t) => {
  const { lab, a, b } = await newLab(t, 'gtsm');
  const da = await startDriver(lab, a, specA({ ttlSecurity: 1 }));
  // eBGP direct without GTSM sends TTL 1: below the floor of 255, so the kernel drops it.
  const db = await startDriver(lab, b, specB({ ttlSecurity: 0, ttl: 1 }));
  await holdsFor(async () => (await da.session(B.ipv4))?.state !== 'Established', { forMs: 3000, intervalMs: 250, what: 'no session below the TTL floor' });
  t.false(db.events.some((e) => e.ev === 'established'));
  await db.exit();
  const db2 = await startDriver(lab, b, specB({ ttlSecurity: 1 }));
  await db2.waitFor((e) => e.ev === 'established', 'Established with GTSM on both ends', 20_000);
  await routesBothWays(t, da, db2);
});

nsTest('a NOTIFICATION from the peer is shown as the last error', async (t) => {
  const { lab, a, b } = await newLab(t, 'badas');
  const da = await startDriver(lab, a, specA());
  // The ToR expects another AS and refuses the node's OPEN.
  await startDriver(lab, b, specB({ peerAs: 65999 }));
  await waitFor(async () => (await da.session(B.ipv4))?.lastError === 'Received: OPEN Message Error / Bad Peer AS', { timeoutMs: 10_000, what: 'Received: Bad Peer AS' });
  t.not((await da.session(B.ipv4))?.state, 'Established');
});

nsTest('IPv6 transport: Established over fd00::/64 through the dual-stack listener, both families', async (t) => {
  const { lab, a, b } = await newLab(t, 'v6');
  const da = await startDriver(lab, a, driverSpec([peerSpec({ address: B.ipv6, localAs: 65101, peerAs: 65100, routerId: A.ipv4 })], {
    announce: { ipv4: ['192.168.1.0/26'], ipv6: ['fd10:1::/64'] }, nextHop: A,
  }));
  const db = await startDriver(lab, b, driverSpec([peerSpec({ address: A.ipv6, localAs: 65100, peerAs: 65101, routerId: B.ipv4, passive: true })], {
    announce: { ipv4: ['192.168.2.0/26'], ipv6: ['fd10:2::/64'] }, nextHop: B,
  }));
  await announced(da, B.ipv6, 'fd10:2::/64');
  await announced(da, B.ipv6, '192.168.2.0/26');
  await announced(db, A.ipv6, 'fd10:1::/64');
  const s = await da.session(B.ipv6);
  t.is(s?.family, 'ipv6');
  t.is(s?.state, 'Established');
});
