/**
 * The BFD state machine (RFC 5880 section 6.8.6) as a table: every local state against every event,
 * received packets once per remote state, with the expected next state and diagnostic; then the
 * timer arithmetic (sections 6.8.3, 6.8.4, 6.8.7) and the Poll/Final sequence.
 */

import test from 'ava';
import { controlFor, detectionTimeUs, initialBfd, peerDetectionTimeUs, SLOW_TX_US, transition, txIntervalUs, type BfdData, type BfdEvent } from '../../agent/bfd/fsm.js';
import { BFD_STATES, type BfdState, type ControlPacket } from '../../agent/bfd/packet.js';

const WANTED = { desiredMinTx: 100_000, requiredMinRx: 100_000, detectMult: 3 };
const LOCAL = 0xa1;
const REMOTE = 0xb2;

function peer(state: BfdState, extra: Partial<ControlPacket> = {}): ControlPacket {
  return {
    version: 1, diag: 0, state, poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false, detectMult: 3,
    myDiscr: REMOTE, yourDiscr: LOCAL, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0, ...extra,
  };
}

function run(d: BfdData, ...events: BfdEvent[]): BfdData {
  for (const e of events) d = transition(d, e).data;
  return d;
}

/** Reaches each local state the way a session does. */
function inState(s: BfdState): BfdData {
  const admin = initialBfd(LOCAL, WANTED);
  const down = run(admin, { type: 'Start' });
  switch (s) {
    case 'AdminDown': return admin;
    case 'Down': return down;
    case 'Init': return run(down, { type: 'Packet', packet: peer('Down', { yourDiscr: 0 }) });
    case 'Up': return run(down, { type: 'Packet', packet: peer('Init') });
  }
}

for (const s of BFD_STATES) test(`reaching ${s}`, (t) => t.is(inState(s).state, s));

type Row = readonly [BfdState, string, BfdEvent, BfdState, number | undefined];
const pk = (s: BfdState, extra?: Partial<ControlPacket>): BfdEvent => ({ type: 'Packet', packet: peer(s, extra) });
const TABLE: Row[] = [
  // local state, label, event, next state, diag (undefined: unchanged)
  ['AdminDown', 'Start', { type: 'Start' }, 'Down', 0],
  ['AdminDown', 'Stop', { type: 'Stop' }, 'AdminDown', undefined],
  ['AdminDown', 'rx AdminDown', pk('AdminDown'), 'AdminDown', undefined],
  ['AdminDown', 'rx Down', pk('Down'), 'AdminDown', undefined],
  ['AdminDown', 'rx Init', pk('Init'), 'AdminDown', undefined],
  ['AdminDown', 'rx Up', pk('Up'), 'AdminDown', undefined],
  ['AdminDown', 'TxTimer', { type: 'TxTimerExpires' }, 'AdminDown', undefined],
  ['AdminDown', 'DetectTimer', { type: 'DetectTimerExpires' }, 'AdminDown', undefined],
  ['AdminDown', 'Retune', { type: 'Retune', wanted: { ...WANTED, desiredMinTx: 300_000 } }, 'AdminDown', undefined],
  ['Down', 'Start', { type: 'Start' }, 'Down', undefined],
  ['Down', 'Stop', { type: 'Stop' }, 'AdminDown', 7],
  ['Down', 'rx AdminDown', pk('AdminDown'), 'Down', undefined],
  ['Down', 'rx Down', pk('Down'), 'Init', 0],
  ['Down', 'rx Down, Your Discriminator 0 (first contact)', pk('Down', { yourDiscr: 0 }), 'Init', 0],
  ['Down', 'rx Init', pk('Init'), 'Up', 0],
  ['Down', 'rx Up', pk('Up'), 'Down', undefined],
  ['Down', 'TxTimer', { type: 'TxTimerExpires' }, 'Down', undefined],
  ['Down', 'DetectTimer', { type: 'DetectTimerExpires' }, 'Down', undefined],
  ['Down', 'Retune', { type: 'Retune', wanted: { ...WANTED, desiredMinTx: 300_000 } }, 'Down', undefined],
  ['Init', 'Start', { type: 'Start' }, 'Init', undefined],
  ['Init', 'Stop', { type: 'Stop' }, 'AdminDown', 7],
  ['Init', 'rx AdminDown', pk('AdminDown'), 'Down', 3],
  ['Init', 'rx Down', pk('Down'), 'Init', undefined],
  ['Init', 'rx Init', pk('Init'), 'Up', 0],
  ['Init', 'rx Up', pk('Up'), 'Up', 0],
  ['Init', 'rx Init, Your Discriminator 0', pk('Init', { yourDiscr: 0 }), 'Init', undefined],
  ['Init', 'TxTimer', { type: 'TxTimerExpires' }, 'Init', undefined],
  ['Init', 'DetectTimer', { type: 'DetectTimerExpires' }, 'Down', 1],
  ['Init', 'Retune', { type: 'Retune', wanted: { ...WANTED, desiredMinTx: 300_000 } }, 'Init', undefined],
  ['Up', 'Start', { type: 'Start' }, 'Up', undefined],
  ['Up', 'Stop', { type: 'Stop' }, 'AdminDown', 7],
  ['Up', 'rx AdminDown', pk('AdminDown'), 'Down', 3],
  ['Up', 'rx Down', pk('Down'), 'Down', 3],
  ['Up', 'rx Init', pk('Init'), 'Up', undefined],
  ['Up', 'rx Up', pk('Up'), 'Up', undefined],
  ['Up', 'rx Up, Your Discriminator 0', pk('Up', { yourDiscr: 0 }), 'Up', undefined],
  ['Up', 'rx Down, Your Discriminator 0 (the peer restarted its session)', pk('Down', { yourDiscr: 0 }), 'Down', 3],
  ['Init', 'rx Down, Your Discriminator 0', pk('Down', { yourDiscr: 0 }), 'Init', undefined],
  ['Up', 'TxTimer', { type: 'TxTimerExpires' }, 'Up', undefined],
  ['Up', 'DetectTimer', { type: 'DetectTimerExpires' }, 'Down', 1],
  ['Up', 'Retune', { type: 'Retune', wanted: { ...WANTED, desiredMinTx: 300_000 } }, 'Up', undefined],
];

// Every state meets every kind of event (packets once per remote state).
const KINDS = ['Start', 'Stop', 'rx AdminDown', 'rx Down', 'rx Init', 'rx Up', 'TxTimer', 'DetectTimer', 'Retune'];
test('the table covers every (state, event) pair', (t) => {
  for (const s of BFD_STATES) for (const k of KINDS) t.true(TABLE.some((r) => r[0] === s && r[1] === k), `${s} x ${k}`);
});

for (const [from, label, event, to, diag] of TABLE) {
  test(`${from} + ${label} -> ${to}`, (t) => {
    const d = inState(from);
    const r = transition(d, event);
    t.is(r.data.state, to);
    t.is(r.data.diag, diag ?? d.diag);
    // RFC 5880 section 6.8.6: discarded by the packet's State, not ours.
    const zeroMine = event.type === 'Packet' && event.packet.yourDiscr === 0 && event.packet.state !== 'Down' && event.packet.state !== 'AdminDown';
    if (zeroMine) t.is(r.discarded, 'ZERO_YOUR_DISCRIMINATOR');
    else t.is(r.discarded, undefined);
    // A state change always tells the peer at once. A session that never started sends nothing
    // periodically; a Stop goes on sending AdminDown at the interval in force (section 6.8.16).
    if (to !== from) t.true(r.actions.some((a) => a.kind === 'send'));
    if (from === 'AdminDown' && to === 'AdminDown' && event.type !== 'TxTimerExpires') t.false(r.actions.some((a) => a.kind === 'startTimer'));
    if (event.type === 'Stop' && from !== 'AdminDown') {
      t.deepEqual(r.actions.filter((a) => a.kind === 'startTimer'), [{ kind: 'startTimer', timer: 'tx', us: txIntervalUs(d) }]);
      t.true(r.actions.some((a) => a.kind === 'stopTimer' && a.timer === 'detect'));
    }
    // Never both P and F.
    for (const a of r.actions) if (a.kind === 'send') t.false(controlFor(r.data, a.final).poll && a.final);
  });
}

test('section 6.8.3: at least 1 s between packets while not Up, the configured interval once Up', (t) => {
  const down = inState('Down');
  t.is(txIntervalUs(down), SLOW_TX_US);
  t.is(controlFor(down, false).desiredMinTx, SLOW_TX_US);
  const up = inState('Up');
  t.is(controlFor(up, false).desiredMinTx, 100_000);
  t.is(txIntervalUs(up), 100_000);
  // Going Up changed DesiredMinTx: a Poll Sequence runs until the peer's Final.
  t.true(up.polling);
  t.true(controlFor(up, false).poll);
  const done = run(up, pk('Up', { final: true }));
  t.false(done.polling);
  t.false(controlFor(done, false).poll);
});

test('section 6.8.4: Detection Time is the remote Detect Mult times max(our RequiredMinRx, its DesiredMinTx)', (t) => {
  const up = run(inState('Up'), pk('Up', { detectMult: 5, desiredMinTx: 250_000 }));
  t.is(detectionTimeUs(up), 5 * 250_000);
  const fast = run(inState('Up'), pk('Up', { detectMult: 2, desiredMinTx: 10_000 }));
  t.is(detectionTimeUs(fast), 2 * 100_000);
  const r = transition(fast, pk('Up'));
  t.deepEqual(r.actions.find((a) => a.kind === 'startTimer' && a.timer === 'detect'), { kind: 'startTimer', timer: 'detect', us: 300_000 });
});

test('section 6.8.7: the transmit interval is max(DesiredMinTx, the peer\'s RequiredMinRx); RequiredMinRx 0 stops periodic packets', (t) => {
  const slowPeer = run(inState('Up'), pk('Up', { final: true, requiredMinRx: 400_000 }));
  t.is(txIntervalUs(slowPeer), 400_000);
  const silent = transition(slowPeer, pk('Up', { requiredMinRx: 0 }));
  t.is(txIntervalUs(silent.data), 0);
  t.true(silent.actions.some((a) => a.kind === 'stopTimer' && a.timer === 'tx'));
});

test('a Poll from the peer is answered at once with a Final, without P', (t) => {
  const up = run(inState('Up'), pk('Up', { final: true }));
  const r = transition(up, pk('Up', { poll: true }));
  const send = r.actions.find((a) => a.kind === 'send');
  t.deepEqual(send, { kind: 'send', final: true });
  t.false(controlFor(r.data, true).poll);
  t.true(controlFor(r.data, true).final);
});

test('Poll/Final: a larger DesiredMinTx and a smaller RequiredMinRx take effect only at the Final', (t) => {
  const up = run(inState('Up'), pk('Up', { final: true }));
  const slower = transition(up, { type: 'Retune', wanted: { desiredMinTx: 300_000, requiredMinRx: 50_000, detectMult: 3 } });
  t.true(slower.data.polling);
  t.true(slower.actions.some((a) => a.kind === 'send'));
  t.is(controlFor(slower.data, false).desiredMinTx, 300_000);
  t.true(controlFor(slower.data, false).poll);
  t.is(txIntervalUs(slower.data), 100_000); // still the old, faster rate
  t.is(slower.data.rxInForce, 100_000); // still the old, longer detection
  const fin = run(slower.data, pk('Up', { final: true }));
  t.false(fin.polling);
  t.is(txIntervalUs(fin), 300_000);
  t.is(detectionTimeUs(fin), 3 * 100_000); // max(50 ms, the peer's 100 ms)
});

test('Poll/Final: a smaller DesiredMinTx applies at once; a Retune while not Up needs no Poll', (t) => {
  const up = run(inState('Up'), pk('Up', { final: true }));
  const faster = transition(up, { type: 'Retune', wanted: { ...WANTED, desiredMinTx: 50_000 } }).data;
  t.is(faster.txInForce, 50_000);
  const down = transition(inState('Down'), { type: 'Retune', wanted: { ...WANTED, desiredMinTx: 2_000_000 } }).data;
  t.false(down.polling);
  t.is(txIntervalUs(down), 2_000_000);
});

test('going down resets the slow rate and, on detection expiry, forgets the remote discriminator', (t) => {
  const up = run(inState('Up'), pk('Up', { final: true }));
  const down = run(up, { type: 'DetectTimerExpires' });
  t.is(down.state, 'Down');
  t.is(down.remoteDiscr, 0);
  t.is(txIntervalUs(down), SLOW_TX_US);
  t.is(controlFor(down, false).diag, 1);
  const told = run(up, pk('Down'));
  t.is(told.remoteDiscr, REMOTE);
  t.is(told.diag, 3);
});

test('the C bit the peer sends is remembered (RFC 5882 section 4.3)', (t) => {
  t.true(run(inState('Up'), pk('Up', { cpi: true })).remoteCpi);
  t.false(run(inState('Up'), pk('Up')).remoteCpi);
  t.false(controlFor(inState('Up'), false).cpi); // ours: the agent is the control plane
});

test('section 6.8.16: after a Stop from Up, AdminDown (diag 7) goes on at the Up interval, not the 1 s of a session coming up', (t) => {
  const up = run(inState('Up'), pk('Up', { final: true }));
  const stopped = transition(up, { type: 'Stop' });
  t.is(txIntervalUs(stopped.data), 100_000);
  const tick = transition(stopped.data, { type: 'TxTimerExpires' });
  t.deepEqual(tick.actions, [{ kind: 'send', final: false }, { kind: 'startTimer', timer: 'tx', us: 100_000 }]);
  t.like(controlFor(tick.data, false), { state: 'AdminDown', diag: 7, desiredMinTx: 100_000 });
  // The Detection Time the peer runs for us: our Detect Mult (3) x the interval we send at.
  t.is(peerDetectionTimeUs(stopped.data), 300_000);
});
