/**
 * The reload diff (manager.ts diffPeers) as a table, and Session.relabel in process (no sockets):
 * a spec that differs only in `type` or `passive` is relabelled, not restarted, so a mesh peer that
 * becomes a selected route-reflector peer keeps its session (test/rib/mesh.test.ts shows it with
 * real agents); any other difference still restarts the session.
 */
import test from 'ava';
import { diffPeers, RELABEL_ONLY } from '../../agent/session/manager.js';
import { Session } from '../../agent/session/session.js';
import { peerSpec } from './specs.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { silentLogger } from '../../agent/contracts/log.js';

const base = peerSpec({ address: '10.0.1.11', localAs: 64512, peerAs: 64512, routerId: '10.0.1.12', type: 'node-to-node mesh', passive: true });
const other = peerSpec({ address: '10.0.1.13', localAs: 64512, peerAs: 64512, routerId: '10.0.1.12' });

type Verdict = 'unchanged' | 'relabelled' | 'changed';
const rows: [string, Partial<PeerSpec>, Verdict][] = [
  ['same spec', {}, 'unchanged'],
  ['mesh peer becomes a selected peer', { type: 'node specific', passive: false }, 'relabelled'],
  ['only the type', { type: 'global' }, 'relabelled'],
  ['only passive', { passive: false }, 'relabelled'],
  ['only the send hold time (RFC 9687, local only)', { sendHoldTime: 600 }, 'relabelled'],
  ['hold time', { holdTime: 9 }, 'changed'],
  ['route-reflector client', { routeReflectorClient: true }, 'changed'],
  ['type and next-hop mode', { type: 'global', nextHopMode: 'Self' }, 'changed'],
  ['families', { families: ['ipv4'] }, 'changed'],
  ['graceful restart', { gracefulRestart: { enabled: false, restartTime: 120 } }, 'changed'],
];

for (const [name, change, verdict] of rows) {
  test(`diffPeers: ${name} -> ${verdict}`, (t) => {
    const next = { ...base, ...change };
    const d = diffPeers([base, other], [next, other]);
    t.deepEqual(d.added, []);
    t.deepEqual(d.removed, []);
    t.deepEqual(d.unchanged, verdict === 'unchanged' ? [next, other] : [other]);
    t.deepEqual(d.relabelled, verdict === 'relabelled' ? [next] : []);
    t.deepEqual(d.changed, verdict === 'changed' ? [next] : []);
  });
}

test('diffPeers: added and removed are neither relabelled nor changed', (t) => {
  const d = diffPeers([base], [other]);
  t.deepEqual([d.added, d.removed, d.changed, d.relabelled, d.unchanged], [[other], [base], [], [], []]);
});

test('RELABEL_ONLY names fields a running session does not depend on', (t) => {
  t.deepEqual([...RELABEL_ONLY].sort(), ['bfd', 'passive', 'sendHoldTime', 'type']);
});

test('a change of bfd alone (enable, disable, retune) relabels: the BGP session is not restarted', (t) => {
  const on = { ...base, bfd: { enabled: true, minRxMs: 100, minTxMs: 100, multiplier: 3, strict: false, multihop: 'auto' as const, minTtl: 0 } };
  const retuned = { ...on, bfd: { ...on.bfd, minTxMs: 300 } };
  for (const [a, b] of [[base, on], [on, retuned], [retuned, base]] as const) {
    const d = diffPeers([a], [b]);
    t.deepEqual(d.relabelled, [b]);
    t.deepEqual(d.changed, []);
  }
});

// The in-process sessions name a loopback peer: were passive not applied, start() would only
// try 127.0.0.2, never a host outside.
const loop = { ...base, key: '127.0.0.2', address: '127.0.0.2' };
const loopOther = { ...loop, key: '127.0.0.3', address: '127.0.0.3' };

function session(spec: PeerSpec): Session {
  return new Session(spec, { clock: new FakeClock(), log: silentLogger, listenPort: 179, readPassword: () => '', onEvent: () => undefined });
}

test('Session.relabel: status shows the new type; the FSM takes the new passive flag at the next start', (t) => {
  const s = session({ ...loop, passive: false, type: 'node-to-node mesh' });
  s.relabel({ ...loop, passive: true, type: 'global' });
  t.is(s.status().type, 'global');
  t.is(s.spec.type, 'global');
  t.is(s.state, 'Idle');
  // Passive: ManualStart goes to Active and waits; an active session would go to Connect.
  s.start();
  t.is(s.state, 'Active');
  s.stop();
  t.is(s.state, 'Idle');
});

test('Session.relabel refuses another peer\'s spec', (t) => {
  const s = session(loop);
  t.throws(() => s.relabel(loopOther), { message: /127\.0\.0\.3 is not 127\.0\.0\.2/ });
  t.is(s.spec, loop);
});
