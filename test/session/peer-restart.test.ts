/**
 * Two connections from one peer, over real TCP between network namespaces: a session driver (the
 * agent's SessionManager, A) against the raw test peer (B), which keeps its first connection open
 * and opens another, as a ToR does that rebooted without its FIN or RST reaching us.
 * - RFC 4724 section 4.2: with the graceful-restart capability in the peer's OPEN, the new
 *   connection is the peer's restart: the old one is closed without a NOTIFICATION, the session
 *   goes down keeping the peer's routes (`down` with gracefulRestart), and comes back Established on
 *   the new connection at once, not at hold expiry.
 * - Without the capability, RFC 4271 section 6.8 as before: Cease 7 on the new connection, the
 *   Established session stays.
 * - A collision resolved from OpenConfirm (the peer's connection wins) goes back to OpenSent
 *   through the FSM, logged once.
 */

import test, { type ExecutionContext } from 'ava';
import type { NotificationMessage } from '../../agent/bgp/notification.js';
import type { OpenMessage } from '../../agent/bgp/open.js';
import { buildOpen } from '../../agent/session/negotiate.js';
import { type Driver, startDriver } from '../helpers/driver-client.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason } from '../helpers/netns.js';
import { RawPeer } from './raw-client.js';
import { driverSpec, peerSpec } from './specs.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('peer restart tests', (t) => t.log(`skipped: ${rootSkipReason}`));

const A = '10.0.0.1';
const B = '10.0.0.2';

interface Setup {
  readonly agent: Driver;
  readonly raw: RawPeer;
}

/** The agent (A, AS 65101) dials the raw peer (B, AS 65100) listening on 179. */
async function setup(t: ExecutionContext, name: string, idleHoldSeconds = 1): Promise<Setup> {
  const lab = await useLab(t, name);
  const a = await lab.namespace('a');
  const b = await lab.namespace('b');
  await lab.veth(a, `${A}/24`, b, `${B}/24`);
  const raw = await RawPeer.start(lab, b);
  raw.command({ cmd: 'listen', port: 179 });
  await raw.waitFor((e) => e.ev === 'listening', 'listening');
  const agent = await startDriver(lab, a, driverSpec([peerSpec({ address: B, localAs: 65101, peerAs: 65100, routerId: A, families: ['ipv4'] })], {
    announce: { ipv4: ['192.168.1.0/26'], ipv6: [] },
    nextHop: { ipv4: A, ipv6: '' },
    idleHoldSeconds,
    connectRetrySeconds: 30,
  }));
  return { agent, raw };
}

/** The raw peer's OPEN: IPv4 unicast, with or without graceful restart (R and F as given). */
function rawOpen(routerId: string, gr: { restarting: boolean } | null): OpenMessage {
  return buildOpen({
    asn: 65100, routerId, holdTime: 90, families: ['ipv4'],
    ...(gr ? { gracefulRestart: { restartTime: 120, restarting: gr.restarting, forwarding: gr.restarting } } : {}),
  });
}

/** OPEN, the agent's OPEN and KEEPALIVE, our KEEPALIVE, Established at the driver. */
async function establish(s: Setup, conn: number, open: OpenMessage, from: number, agentFrom: number): Promise<void> {
  s.raw.sendMessage(conn, open);
  await s.raw.message(conn, 1, from, 'the agent\'s OPEN');
  await s.raw.message(conn, 4, from, 'the agent\'s KEEPALIVE');
  s.raw.sendMessage(conn, { type: 'keepalive' });
  await s.agent.waitFor((e) => e.ev === 'established', 'Established', 10_000, agentFrom);
}

nsTest('a new connection while Established with graceful restart is the peer\'s restart: old one closed, routes kept, Established on the new one', async (t) => {
  const s = await setup(t, 'peerrestart');
  const old = (await s.raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
  await establish(s, old, rawOpen('10.0.0.200', { restarting: false }), 0, 0);

  // The ToR rebooted: it connects again while its old connection still looks alive to us.
  const rawMark = s.raw.mark();
  const agentMark = s.agent.mark();
  const started = Date.now();
  const fresh = await s.raw.connect(A, 179);
  // The restarted peer's OPEN (R and F set) decides: the connect alone changes nothing.
  s.raw.sendMessage(fresh, rawOpen('10.0.0.200', { restarting: true }));
  await s.raw.waitFor((e) => e.ev === 'closed' && e.conn === old, 'the old connection closed by the agent', rawMark);
  t.false(s.raw.events.slice(rawMark).some((e) => e.ev === 'message' && e.conn === old && e.type === 3), 'no NOTIFICATION on the old connection (RFC 4724: it is considered reset)');
  const down = await s.agent.waitFor((e) => e.ev === 'down' && e.key === B, 'down', 10_000, agentMark);
  t.deepEqual(down.gracefulRestart, { restartTime: 120, families: ['ipv4'] }, 'the peer\'s routes are kept as stale');
  t.is(down.reason, 'Peer restarted: new connection while Established');
  const change = await s.agent.waitFor((e) => e.ev === 'state' && e.from === 'Established', 'the state change', 10_000, agentMark);
  t.deepEqual([change.to, change.reason], ['OpenSent', 'TcpConnectionWhileEstablished']);

  // The agent answers the OPEN on the new connection: its OPEN, its KEEPALIVE, ours, Established.
  await s.raw.message(fresh, 1, rawMark, 'the agent\'s OPEN on the new connection');
  await s.raw.message(fresh, 4, rawMark, 'the agent\'s KEEPALIVE on the new connection');
  s.raw.sendMessage(fresh, { type: 'keepalive' });
  await s.agent.waitFor((e) => e.ev === 'established', 'Established on the new connection', 10_000, agentMark);
  t.true(Date.now() - started < 10_000, 'Established again long before the 90 s hold time');
  const status = await s.agent.session(B);
  t.is(status?.state, 'Established');
  t.is(status?.lastError, '');
  t.false(s.raw.events.slice(rawMark).some((e) => e.ev === 'message' && e.conn === fresh && e.type === 3), 'no NOTIFICATION on the new connection');
  t.is(s.agent.stderr().split('\n').filter((l) => l.includes('state change Established -> OpenSent, reason: TcpConnectionWhileEstablished')).length, 1, 'logged once');
});

nsTest('with graceful restart a new connection that ends without an OPEN (a superseded connect) leaves the session alone', async (t) => {
  const s = await setup(t, 'peernoopen');
  const old = (await s.raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
  await establish(s, old, rawOpen('10.0.0.200', { restarting: false }), 0, 0);
  const rawMark = s.raw.mark();
  const agentMark = s.agent.mark();
  const fresh = await s.raw.connect(A, 179);
  s.raw.command({ cmd: 'close', conn: fresh });
  await s.raw.waitFor((e) => e.ev === 'closed' && e.conn === fresh, 'the new connection closed', rawMark);
  // The session is still the old connection's: a ROUTE-REFRESH on it is answered there.
  const refreshMark = s.raw.mark();
  s.raw.sendMessage(old, { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
  await s.raw.message(old, 2, refreshMark, 'the agent\'s routes again on the old connection');
  const status = await s.agent.session(B);
  t.is(status?.state, 'Established');
  t.false(s.agent.events.slice(agentMark).some((e) => e.ev === 'down' || e.ev === 'state'), 'no down, no state change');
  t.false(s.raw.events.slice(rawMark).some((e) => e.ev === 'closed' && e.conn === old), 'the old connection stays');
});

nsTest('with graceful restart a NOTIFICATION on the old connection before the new one\'s OPEN ends the session as the peer said, not as a restart', async (t) => {
  const s = await setup(t, 'peerceaseopen');
  const old = (await s.raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
  await establish(s, old, rawOpen('10.0.0.200', { restarting: false }), 0, 0);
  const agentMark = s.agent.mark();
  const fresh = await s.raw.connect(A, 179);
  // What a peer does when its configuration changes: Cease on the old connection, then at once the
  // OPEN of the new one. Both can reach the agent in one turn of its loop.
  s.raw.sendMessage(old, { type: 'notification', code: 6, subcode: 6, data: new Uint8Array(0) });
  s.raw.sendMessage(fresh, rawOpen('10.0.0.200', { restarting: false }));
  const down = await s.agent.waitFor((e) => e.ev === 'down' && e.key === B, 'down', 10_000, agentMark);
  t.regex(down.reason as string, /^Received: Cease/);
  t.false(s.agent.stderr().includes('taken as its restart'), 'not taken as the peer\'s restart');
});

for (const [how, end] of [['its FIN', 'close'], ['a Cease', 'cease']] as const) {
  nsTest(`a peer that ends the session itself with ${how} is accepted back at once, not after the idle-hold time`, async (t) => {
    // Idle hold 30 s and connect retry 30 s: only listening at once lets the peer back in quickly.
    const s = await setup(t, `peerend${end}`, 30);
    const old = (await s.raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
    await establish(s, old, rawOpen('10.0.0.200', null), 0, 0);
    const agentMark = s.agent.mark();
    if (end === 'cease') s.raw.sendMessage(old, { type: 'notification', code: 6, subcode: 4, data: new Uint8Array(0) });
    s.raw.command({ cmd: 'close', conn: old });
    const down = await s.agent.waitFor((e) => e.ev === 'down' && e.key === B, 'down', 10_000, agentMark);
    if (end === 'cease') t.regex(down.reason as string, /^Received: Cease/);
    const change = await s.agent.waitFor((e) => e.ev === 'state' && e.from === 'Established', 'the state change', 10_000, agentMark);
    t.is(change.to, 'Active', 'listening, not Idle');
    const rawMark = s.raw.mark();
    const started = Date.now();
    const fresh = await s.raw.connect(A, 179);
    await establish(s, fresh, rawOpen('10.0.0.200', null), rawMark, agentMark);
    t.true(Date.now() - started < 10_000, 'Established again well inside the 30 s idle-hold and connect-retry times');
    t.is((await s.agent.session(B))?.state, 'Established');
  });
}

nsTest('without graceful restart a new connection while Established gets Cease 7 and the session stays', async (t) => {
  const s = await setup(t, 'peernogr');
  const old = (await s.raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
  await establish(s, old, rawOpen('10.0.0.200', null), 0, 0);
  const rawMark = s.raw.mark();
  const agentMark = s.agent.mark();
  const fresh = await s.raw.connect(A, 179);
  const cease = (await s.raw.message(fresh, 3, rawMark, 'Cease on the new connection')) as NotificationMessage;
  t.deepEqual([cease.code, cease.subcode], [6, 7]);
  await s.raw.waitFor((e) => e.ev === 'closed' && e.conn === fresh, 'the new connection closed', rawMark);
  t.false(s.raw.events.slice(rawMark).some((e) => e.ev === 'message' && e.conn === fresh && e.type === 1), 'no OPEN on the refused connection');
  // The old connection still carries the session: a KEEPALIVE on it is answered by nothing bad.
  s.raw.sendMessage(old, { type: 'keepalive' });
  const status = await s.agent.session(B);
  t.is(status?.state, 'Established');
  t.false(s.agent.events.slice(agentMark).some((e) => e.ev === 'down' || e.ev === 'state'), 'no down, no state change');
  t.false(s.raw.events.slice(rawMark).some((e) => e.ev === 'closed' && e.conn === old), 'the old connection stays');
});

nsTest('a collision won by the peer\'s connection from OpenConfirm goes back to OpenSent through the FSM, logged once', async (t) => {
  const s = await setup(t, 'collideoc');
  const out = (await s.raw.waitFor((e) => e.ev === 'accepted', 'the agent\'s connection')).conn as number;
  // The peer's identifier is higher: its own connection wins (RFC 4271 section 6.8).
  const open = rawOpen('10.0.0.200', null);
  s.raw.sendMessage(out, open);
  await s.raw.message(out, 4, 0, 'the agent\'s KEEPALIVE: OpenConfirm on its connection');
  const rawMark = s.raw.mark();
  const inc = await s.raw.connect(A, 179);
  await s.raw.message(inc, 1, rawMark, 'the agent\'s OPEN on the peer\'s connection');
  s.raw.sendMessage(inc, open);
  const cease = (await s.raw.message(out, 3, rawMark, 'Cease on the agent\'s connection')) as NotificationMessage;
  t.deepEqual([cease.code, cease.subcode], [6, 7]);
  await s.raw.message(inc, 4, rawMark, 'KEEPALIVE on the peer\'s connection');
  s.raw.sendMessage(inc, { type: 'keepalive' });
  await s.agent.waitFor((e) => e.ev === 'established', 'Established on the peer\'s connection');
  const changes = s.agent.events.filter((e) => e.ev === 'state').map((e) => `${String(e.from)} -> ${String(e.to)}: ${String(e.reason)}`);
  t.deepEqual(changes, [
    'Idle -> Connect: ManualStart',
    'Connect -> OpenSent: TcpConnectionConfirmed',
    'OpenSent -> OpenConfirm: BgpOpen',
    'OpenConfirm -> OpenSent: OpenCollisionDump',
    'OpenSent -> OpenConfirm: BgpOpen',
    'OpenConfirm -> Established: KeepAliveMsg',
  ]);
  t.is(s.agent.stderr().split('\n').filter((l) => l.includes('state change OpenConfirm -> OpenSent, reason: OpenCollisionDump')).length, 1, 'logged once');
});
