/**
 * Every (state, event) pair of the FSM against a table of the expected next state and
 * NOTIFICATION, plus invariants that hold for every pair, and the timers' arithmetic. Events with a
 * payload that changes the outcome (TcpConnectionWhileEstablished with and without graceful
 * restart, OpenCollisionDump of either connection) have a row per variant. A NOTIFICATION is any action's `notify`: sendNotification, the
 * Cease to the connection a switch closes, the Cease to a refused connection.
 */

import test from 'ava';
import { DEFAULT_FSM_CONFIG, describeTransition, initialData, keepaliveSeconds, transition, type Action, type EventType, type FsmData, type FsmEvent } from '../../agent/session/fsm.js';
import { STATES, type State } from '../../agent/contracts/engines.js';

const ERR = { code: 3, subcode: 1, data: Uint8Array.of(1) };
const EVENTS: Record<EventType, FsmEvent> = {
  ManualStart: { type: 'ManualStart' },
  ManualStop: { type: 'ManualStop' },
  AutomaticStart: { type: 'AutomaticStart' },
  AutomaticStop: { type: 'AutomaticStop' },
  ConnectRetryTimerExpires: { type: 'ConnectRetryTimerExpires' },
  HoldTimerExpires: { type: 'HoldTimerExpires' },
  KeepaliveTimerExpires: { type: 'KeepaliveTimerExpires' },
  IdleHoldTimerExpires: { type: 'IdleHoldTimerExpires' },
  ErrorForgetTimerExpires: { type: 'ErrorForgetTimerExpires' },
  TcpConnectionConfirmed: { type: 'TcpConnectionConfirmed' },
  TcpConnectionFails: { type: 'TcpConnectionFails' },
  BgpOpen: { type: 'BgpOpen', holdTime: 30 },
  BgpHeaderErr: { type: 'BgpHeaderErr', notify: { code: 1, subcode: 2 } },
  BgpOpenMsgErr: { type: 'BgpOpenMsgErr', notify: { code: 2, subcode: 2 } },
  OpenCollisionDump: { type: 'OpenCollisionDump', dump: 'main' },
  TcpConnectionWhileEstablished: { type: 'TcpConnectionWhileEstablished', gracefulRestart: true },
  NotifMsgVerErr: { type: 'NotifMsgVerErr' },
  NotifMsg: { type: 'NotifMsg' },
  KeepAliveMsg: { type: 'KeepAliveMsg' },
  UpdateMsg: { type: 'UpdateMsg' },
  UpdateMsgErr: { type: 'UpdateMsgErr', notify: ERR },
  RouteRefreshMsg: { type: 'RouteRefreshMsg' },
  BfdDown: { type: 'BfdDown' },
  BfdUp: { type: 'BfdUp' },
  SendHoldTimerExpires: { type: 'SendHoldTimerExpires' },
};

/**
 * `Next` or `Next !code/subcode` when a NOTIFICATION is sent. Columns in EVENTS order. Collision:
 * OpenCollisionDump; WhileEst: TcpConnectionWhileEstablished with graceful restart (the peer's
 * restart, RFC 4724 section 4.2); SHTE: SendHoldTimerExpires (RFC 9687: NOTIFICATION 8 when connected).
 */
const EXPECT: Record<State, string[]> = {
  //         MStart     MStop       AStart     AStop        CRTE            HTE         KTE             IHTE       EFTE       TCC          TCF       BgpOpen         HdrErr      OpenErr         Collision   WhileEst     NotifVer NotifMsg KA            Update          UpdErr          RR            BfdDown BfdUp       SHTE
  Idle:        ['Connect', 'Idle', 'Connect', 'Idle', 'Idle', 'Idle', 'Idle', 'Connect', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle'],
  Connect:     ['Connect', 'Idle', 'Connect', 'Idle', 'Connect', 'Idle', 'Idle', 'Connect', 'Connect', 'OpenSent', 'Active', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Connect', 'Connect'],
  Active:      ['Active', 'Idle', 'Active', 'Idle', 'Connect', 'Idle', 'Idle', 'Active', 'Active', 'OpenSent', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Idle', 'Active', 'Active'],
  OpenSent:    ['OpenSent', 'Idle !6/2', 'OpenSent', 'Idle !6/2', 'Idle !5/0', 'Idle !4/0', 'Idle !5/0', 'OpenSent', 'OpenSent', 'Idle !5/0', 'Active', 'OpenConfirm', 'Idle !1/2', 'Idle !2/2', 'OpenSent !6/7', 'Idle !5/0', 'Idle', 'Idle', 'Idle !5/1', 'Idle !5/1', 'Idle !5/1', 'Idle !5/1', 'Idle', 'OpenSent', 'Idle !8/0'],
  OpenConfirm: ['OpenConfirm', 'Idle !6/2', 'OpenConfirm', 'Idle !6/2', 'Idle !5/0', 'Idle !4/0', 'OpenConfirm', 'OpenConfirm', 'OpenConfirm', 'Idle !5/0', 'Idle', 'Idle !5/2', 'Idle !1/2', 'Idle !5/2', 'OpenSent !6/7', 'Idle !5/0', 'Idle', 'Idle', 'Established', 'Idle !5/2', 'Idle !5/2', 'Idle !5/2', 'Idle', 'OpenConfirm', 'Idle !8/0'],
  Established: ['Established', 'Idle !6/2', 'Established', 'Idle !6/2', 'Idle !5/0', 'Idle !4/0', 'Established', 'Established', 'Established', 'Idle !5/0', 'Active', 'Idle !5/3', 'Idle !1/2', 'Idle !5/3', 'Idle !6/7', 'OpenSent', 'Idle', 'Idle', 'Established', 'Established', 'Idle !3/1', 'Established', 'Idle', 'Established', 'Idle !8/0'],
};

/** Variants of events whose payload changes the outcome: one row per state, as in EXPECT. */
const VARIANTS: readonly { readonly name: string; readonly event: FsmEvent; readonly expect: Record<State, string> }[] = [
  {
    // RFC 4271 section 6.8: without graceful restart the new connection is the one that goes.
    name: 'TcpConnectionWhileEstablished without graceful restart',
    event: { type: 'TcpConnectionWhileEstablished', gracefulRestart: false },
    expect: { Idle: 'Idle', Connect: 'Idle', Active: 'Idle', OpenSent: 'Idle !5/0', OpenConfirm: 'Idle !5/0', Established: 'Established !6/7' },
  },
  {
    // The peer's Cease (RFC 4486) in Established is its own reset: Active at once, no backoff.
    name: 'NotifMsg with a Cease (administrative reset)',
    event: { type: 'NotifMsg', code: 6, subcode: 4 },
    expect: { Idle: 'Idle', Connect: 'Idle', Active: 'Idle', OpenSent: 'Idle', OpenConfirm: 'Idle', Established: 'Active' },
  },
  {
    // RFC 4271 section 6.8: the collision rule dumps the second connection: Cease 7 to it, nothing else changes.
    name: 'OpenCollisionDump of the second connection',
    event: { type: 'OpenCollisionDump', dump: 'second' },
    expect: { Idle: 'Idle', Connect: 'Idle', Active: 'Idle', OpenSent: 'OpenSent !6/7', OpenConfirm: 'OpenConfirm !6/7', Established: 'Established !6/7' },
  },
];

/** Data in a state as the FSM would have it after a normal start (adminDown false). */
function inState(state: State, config = DEFAULT_FSM_CONFIG): FsmData {
  return { ...initialData(config), state, adminDown: false, negotiatedHoldTime: 90 };
}

const CONNECTED: ReadonlySet<State> = new Set(['OpenSent', 'OpenConfirm', 'Established']);
const kinds = (actions: readonly Action[]): string[] => actions.map((a) => (a.kind === 'startTimer' || a.kind === 'stopTimer' ? `${a.kind}:${a.timer}` : a.kind));

/** Every NOTIFICATION an action list sends, on whichever connection. */
const notifications = (actions: readonly Action[]): string[] =>
  actions.flatMap((a) => (a.kind === 'sendNotification' || a.kind === 'refuseConnection' || (a.kind === 'switchConnection' && a.notify) ? [`${a.notify?.code}/${a.notify?.subcode}`] : []));

function checkPair(state: State, event: FsmEvent, expected: string): void {
  const variant = (event.type === 'TcpConnectionWhileEstablished' && !event.gracefulRestart ? ' (no GR)' : '') + (event.type === 'NotifMsg' && event.code !== undefined ? ` (${event.code}/${String(event.subcode)})` : '') + (event.type === 'OpenCollisionDump' && event.dump === 'second' ? ' (second)' : '');
  test(`${state} + ${event.type}${variant} -> ${expected}`, (t) => {
    const d = inState(state);
    const tr = transition(d, event);
    const [want, notify] = expected.split(' !');
    t.is(tr.data.state as string, want);
    t.deepEqual(notifications(tr.actions), notify === undefined ? [] : [notify], notify === undefined ? 'no NOTIFICATION' : 'one NOTIFICATION');
    // Invariants for every pair.
    const k = kinds(tr.actions);
    if ((want === 'Idle' && state !== 'Idle') || (want === 'Active' && state === 'Established')) {
      t.true(k.includes('drop'), 'leaving for Idle drops the connection');
      t.true(k.includes('stopTimer:hold') && k.includes('stopTimer:keepalive') && k.includes('stopTimer:sendHold'), 'and stops the session timers (the send hold timer too)');
    }
    if (want === 'Idle' && CONNECTED.has(state)) t.true(k.includes('sessionDown'), 'a connected session going down says so');
    if (state === 'Established' && want !== 'Established') t.true(k.includes('sessionDown'), 'leaving Established says so');
    if (want === 'OpenSent' && state !== 'OpenSent') t.true(k.includes('startTimer:hold'), 'OpenSent runs the large hold timer');
    if (k.includes('sendNotification')) t.true(k.indexOf('sendNotification') < k.indexOf('drop'), 'the NOTIFICATION goes out before the drop');
    if (notify?.startsWith('5/')) t.is(tr.data.errors, d.errors + 1, 'an FSM error counts for the backoff');
    t.is(tr.reason, event.type);
    const line = describeTransition(state, tr);
    t.is(line, want === state ? undefined : `state change ${state} -> ${want}, reason: ${event.type}`);
  });
}

for (const state of STATES) {
  (Object.keys(EVENTS) as EventType[]).forEach((type, i) => checkPair(state, EVENTS[type], EXPECT[state][i]));
  for (const v of VARIANTS) checkPair(state, v.event, v.expect[state]);
}

test('the peer ends an Established session (FIN, RST, or a Cease for its own reasons): Active at once, listening, no backoff, no error counted; other NOTIFICATIONs back off', (t) => {
  const d = { ...inState('Established'), errors: 2 };
  const quick = [2, 3, 4, 6, 9].map((subcode) => ({ type: 'NotifMsg', code: 6, subcode }));
  for (const e of [{ type: 'TcpConnectionFails' }, ...quick] as FsmEvent[]) {
    const tr = transition(d, e);
    t.is(tr.data.state, 'Active', e.type);
    t.is(tr.data.errors, 2, `${e.type}: errors neither counted nor forgotten`);
    t.false(tr.actions.some((a) => a.kind === 'startTimer' && a.timer === 'idleHold'), `${e.type}: no idle-hold wait`);
    t.false(tr.actions.some((a) => a.kind === 'connect'), `${e.type}: no dial at once: the peer's reconnect is accepted, ours follows`);
    t.true(tr.actions.some((a) => a.kind === 'startTimer' && a.timer === 'connectRetry' && a.seconds === DEFAULT_FSM_CONFIG.connectRetryTime), `${e.type}: dial after the connect-retry time`);
  }
  // An UPDATE error, and the Ceases that ask us to back off: maximum prefixes, connection
  // rejected, collision, out of resources, an unknown subcode.
  for (const [code, subcode] of [[3, 1], [6, 1], [6, 5], [6, 7], [6, 8], [6, 0], [6, 42]]) {
    const other = transition(d, { type: 'NotifMsg', code, subcode });
    t.is(other.data.state, 'Idle', `${code}/${subcode}`);
    t.is(other.data.errors, 3);
    t.true(other.actions.some((a) => a.kind === 'startTimer' && a.timer === 'idleHold' && a.seconds === 20), `${code}/${subcode} backs off (5, 10, 20 s)`);
  }
});

test('the peer restarts (RFC 4724 s4.2): session down, the old connection closed without a NOTIFICATION, OpenSent on the new one', (t) => {
  const tr = transition(inState('Established'), { type: 'TcpConnectionWhileEstablished', gracefulRestart: true });
  t.is(tr.data.state, 'OpenSent');
  t.deepEqual(tr.actions, [
    { kind: 'sessionDown' },
    { kind: 'switchConnection' },
    { kind: 'stopTimer', timer: 'keepalive' },
    { kind: 'stopTimer', timer: 'errorForget' },
    { kind: 'sendOpen' },
    { kind: 'startTimer', timer: 'hold', seconds: 240 },
  ]);
  t.is(tr.data.negotiatedHoldTime, DEFAULT_FSM_CONFIG.holdTime, 'the new connection negotiates its own hold time');
  t.false(tr.data.adminDown);
  t.is(tr.data.errors, 0, 'a restart of the peer is no error of ours');
});

test('without graceful restart a new connection while Established is refused with Cease 7 and the session stays', (t) => {
  const d = inState('Established');
  const tr = transition(d, { type: 'TcpConnectionWhileEstablished', gracefulRestart: false });
  t.deepEqual(tr.actions, [{ kind: 'refuseConnection', notify: { code: 6, subcode: 7 } }]);
  t.deepEqual(tr.data, d);
});

test('OpenCollisionDump in OpenSent and OpenConfirm: switch to the second connection (Cease 7 to the loser), OpenSent again', (t) => {
  for (const state of ['OpenSent', 'OpenConfirm'] as const) {
    const d = { ...inState(state), negotiatedHoldTime: 9 };
    const tr = transition(d, EVENTS.OpenCollisionDump);
    t.is(tr.data.state, 'OpenSent', state);
    t.deepEqual(tr.actions, [
      { kind: 'switchConnection', notify: { code: 6, subcode: 7 } },
      { kind: 'stopTimer', timer: 'keepalive' },
      { kind: 'startTimer', timer: 'hold', seconds: 240 },
    ], state);
    t.is(tr.data.negotiatedHoldTime, DEFAULT_FSM_CONFIG.holdTime, `${state}: the hold time is negotiated again`);
    t.false(tr.actions.some((a) => a.kind === 'sendOpen' || a.kind === 'sessionDown'), `${state}: our OPEN is already on the second connection`);
  }
  t.is(describeTransition('OpenConfirm', transition(inState('OpenConfirm'), EVENTS.OpenCollisionDump)), 'state change OpenConfirm -> OpenSent, reason: OpenCollisionDump');
});

test('OpenCollisionDump of the second connection in OpenSent, OpenConfirm and Established: Cease 7 to it (refuseConnection), the session and its data unchanged', (t) => {
  for (const state of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
    const d = { ...inState(state), negotiatedHoldTime: 9 };
    const tr = transition(d, { type: 'OpenCollisionDump', dump: 'second' });
    t.deepEqual(tr.actions, [{ kind: 'refuseConnection', notify: { code: 6, subcode: 7 } }], state);
    t.deepEqual(tr.data, d, state);
  }
});

test('the idle-hold backoff: 5, 10, 20, 30, 30 s, forgotten after 300 s in Established', (t) => {
  let d = inState('Established');
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const tr = transition({ ...d, state: 'Established' }, EVENTS.HoldTimerExpires);
    const idleHold = tr.actions.find((a) => a.kind === 'startTimer' && a.timer === 'idleHold');
    waits.push(idleHold?.kind === 'startTimer' ? idleHold.seconds : -1);
    d = tr.data;
  }
  t.deepEqual(waits, [5, 10, 20, 30, 30]);
  const forgotten = transition({ ...d, state: 'Established' }, EVENTS.ErrorForgetTimerExpires);
  t.is(forgotten.data.errors, 0);
  const reached = transition(inState('OpenConfirm'), EVENTS.KeepAliveMsg);
  t.true(reached.actions.some((a) => a.kind === 'startTimer' && a.timer === 'errorForget' && a.seconds === 300));
});

test('after ManualStop nothing restarts the session but ManualStart', (t) => {
  const stopped = transition(inState('Established'), EVENTS.ManualStop).data;
  t.true(stopped.adminDown);
  t.is(transition(stopped, EVENTS.IdleHoldTimerExpires).data.state, 'Idle');
  t.is(transition(stopped, EVENTS.AutomaticStart).data.state, 'Idle');
  t.is(transition(stopped, EVENTS.ManualStart).data.state, 'Connect');
  t.false(transition(inState('Established'), EVENTS.HoldTimerExpires).data.adminDown);
});

test('hold time: the smaller of both, keepalive a third, 0 turns both timers off', (t) => {
  const sent = inState('OpenSent', { ...DEFAULT_FSM_CONFIG, holdTime: 9 });
  const tr = transition(sent, { type: 'BgpOpen', holdTime: 90 });
  t.is(tr.data.negotiatedHoldTime, 9);
  t.deepEqual(tr.actions.filter((a) => a.kind === 'startTimer'), [
    { kind: 'startTimer', timer: 'hold', seconds: 9 },
    { kind: 'startTimer', timer: 'keepalive', seconds: 3 },
  ]);
  t.true(tr.actions.some((a) => a.kind === 'sendKeepalive'));
  const zero = transition(sent, { type: 'BgpOpen', holdTime: 0 });
  t.is(zero.data.negotiatedHoldTime, 0);
  t.false(zero.actions.some((a) => a.kind === 'startTimer'));
  t.deepEqual(transition({ ...zero.data, state: 'Established' }, EVENTS.KeepAliveMsg).actions, []);
});

test('a passive session waits in Active and never connects', (t) => {
  const cfg = { ...DEFAULT_FSM_CONFIG, passive: true };
  const started = transition(initialData(cfg), EVENTS.ManualStart);
  t.is(started.data.state, 'Active');
  t.false(started.actions.some((a) => a.kind === 'connect'));
  const retried = transition(started.data, EVENTS.ConnectRetryTimerExpires);
  t.is(retried.data.state, 'Active');
  t.false(retried.actions.some((a) => a.kind === 'connect'));
});

test('an active session connects and retries every connect-retry time', (t) => {
  const started = transition(initialData(), EVENTS.ManualStart);
  t.deepEqual(kinds(started.actions), ['stopTimer:idleHold', 'startTimer:connectRetry', 'connect']);
  const retried = transition(started.data, EVENTS.ConnectRetryTimerExpires);
  t.deepEqual(kinds(retried.actions), ['drop', 'startTimer:connectRetry', 'connect']);
});

test('an administrative stop carries the shutdown communication it was given (RFC 9003)', (t) => {
  const notify = { code: 6, subcode: 2, data: Uint8Array.of(5, 0x6d, 0x61, 0x69, 0x6e, 0x74) };
  const tr = transition(inState('Established'), { type: 'ManualStop', notify });
  t.deepEqual(tr.actions[0], { kind: 'sendNotification', notify });
});

test('UPDATE and ROUTE-REFRESH in Established are delivered and restart the hold timer', (t) => {
  for (const e of [EVENTS.UpdateMsg, EVENTS.RouteRefreshMsg]) {
    t.deepEqual(transition(inState('Established'), e).actions, [
      { kind: 'startTimer', timer: 'hold', seconds: 90 },
      { kind: 'deliver' },
    ]);
  }
});

// Keepalive interval: the configured one, capped at a third of the negotiated hold time (RFC 4271 s10).
const keepaliveRows: [configured: number | undefined, hold: number, want: number][] = [
  [undefined, 90, 30],
  [0, 90, 30],
  [10, 90, 10],
  [60, 90, 30],
  [10, 9, 3],
  [undefined, 3, 1],
  [1, 3, 1],
];
for (const [configured, hold, want] of keepaliveRows) {
  test(`keepaliveSeconds: configured ${String(configured)}, hold ${hold} -> ${want}`, (t) => {
    t.is(keepaliveSeconds({ ...DEFAULT_FSM_CONFIG, ...(configured === undefined ? {} : { keepaliveTime: configured }) }, hold), want);
  });
}

test('OpenSent + BgpOpen starts the keepalive timer at the configured interval', (t) => {
  const d = { ...initialData({ ...DEFAULT_FSM_CONFIG, keepaliveTime: 10 }), state: 'OpenSent' as const };
  const r = transition(d, { type: 'BgpOpen', holdTime: 90 });
  t.deepEqual(r.actions.filter((a) => a.kind === 'startTimer' && a.timer === 'keepalive'), [{ kind: 'startTimer', timer: 'keepalive', seconds: 10 }]);
});

// ---- BFD (RFC 5882 section 4.3) ------------------------------------------------------------

const STRICT = { ...DEFAULT_FSM_CONFIG, bfdStrict: true };

test('strict BFD: BfdDown from every state: Idle, no NOTIFICATION, no idle-hold backoff, held until BfdUp', (t) => {
  for (const state of STATES) {
    const tr = transition(inState(state, STRICT), { type: 'BfdDown' });
    t.is(tr.data.state, 'Idle', state);
    t.true(tr.data.bfdHold, state);
    t.deepEqual(notifications(tr.actions), [], `${state}: the path is broken, no NOTIFICATION`);
    t.false(kinds(tr.actions).includes('startTimer:idleHold'), `${state}: no automatic restart`);
    t.is(tr.data.errors, 0, `${state}: a BFD failure is no error of the session`);
    if (CONNECTED.has(state)) t.true(kinds(tr.actions).includes('sessionDown'), `${state}: routes are handled`);
  }
});

test('strict BFD, held: no start event connects; BfdUp starts the session (or only clears the hold after ManualStop)', (t) => {
  const held = transition(inState('Established', STRICT), { type: 'BfdDown' }).data;
  for (const type of ['ManualStart', 'AutomaticStart', 'IdleHoldTimerExpires', 'ConnectRetryTimerExpires'] as const) {
    const tr = transition(held, { type });
    t.is(tr.data.state, 'Idle', type);
    t.false(kinds(tr.actions).includes('connect'), type);
  }
  t.deepEqual(kinds(transition(held, { type: 'TcpConnectionConfirmed' }).actions), ['drop'], 'an incoming connection is refused');
  const up = transition(held, { type: 'BfdUp' });
  t.is(up.data.state, 'Connect');
  t.false(up.data.bfdHold);
  t.true(kinds(up.actions).includes('connect'));
  const stopped = transition(held, { type: 'ManualStop' }).data;
  const after = transition(stopped, { type: 'BfdUp' });
  t.is(after.data.state, 'Idle', 'an operator stop still holds');
  t.false(after.data.bfdHold);
  // A ManualStart while held is remembered: BfdUp then connects.
  const wanted = transition(stopped, { type: 'BfdDown' }).data;
  const started = transition(transition(wanted, { type: 'ManualStart' }).data, { type: 'BfdUp' });
  t.is(started.data.state, 'Connect');
});

/**
 * Not strict (the default, `bfd.strict: false`): BfdDown takes the session down at once as in strict
 * mode and waits for BfdUp, but the idle-hold timer (its shortest time, no error counted) also
 * starts it again while BFD stays Down. One row per state: the idle-hold seconds started, or none.
 */
const LOOSE_ROWS: readonly { readonly state: State; readonly idleHold: number | null; readonly sessionDown: boolean }[] = [
  { state: 'Idle', idleHold: null, sessionDown: false },
  { state: 'Connect', idleHold: 5, sessionDown: false },
  { state: 'Active', idleHold: 5, sessionDown: false },
  { state: 'OpenSent', idleHold: 5, sessionDown: true },
  { state: 'OpenConfirm', idleHold: 5, sessionDown: true },
  { state: 'Established', idleHold: 5, sessionDown: true },
];

for (const r of LOOSE_ROWS) {
  test(`BFD not strict: ${r.state} + BfdDown -> Idle, no NOTIFICATION, idle hold ${r.idleHold ?? 'untouched'}`, (t) => {
    const d = { ...inState(r.state), errors: 2 };
    const tr = transition(d, { type: 'BfdDown' });
    t.is(tr.data.state, 'Idle');
    t.deepEqual(notifications(tr.actions), []);
    t.is(tr.data.errors, 2, 'a BFD failure is no error of the session');
    t.is(kinds(tr.actions).includes('sessionDown'), r.sessionDown);
    const idle = tr.actions.filter((a) => a.kind === 'startTimer' && a.timer === 'idleHold');
    t.deepEqual(idle, r.idleHold === null ? [] : [{ kind: 'startTimer', timer: 'idleHold', seconds: r.idleHold }]);
    if (r.state === 'Idle') t.false(kinds(tr.actions).includes('stopTimer:idleHold'), 'a running idle hold keeps running');
  });
}

test('BFD not strict: the idle hold starts the session while BFD is still Down, or BfdUp before it; a later BfdDown takes it down again', (t) => {
  const down = transition(inState('Established'), { type: 'BfdDown' }).data;
  const again = transition(down, { type: 'IdleHoldTimerExpires' });
  t.is(again.data.state, 'Connect');
  t.false(again.data.bfdHold);
  t.true(kinds(again.actions).includes('connect'));
  t.is(transition(down, { type: 'TcpConnectionConfirmed' }).data.state, 'Idle', 'before the idle hold, a connection is refused');
  t.is(transition(again.data, { type: 'BfdUp' }).data.state, 'Connect', 'once started, BfdUp changes nothing');
  const early = transition(down, { type: 'BfdUp' });
  t.is(early.data.state, 'Connect', 'BFD Up before the idle hold ends: at once');
  t.true(kinds(early.actions).includes('stopTimer:idleHold'));
  const est = { ...again.data, state: 'Established' as const };
  t.is(transition(est, { type: 'BfdDown' }).data.state, 'Idle');
  // After an operator stop, a BfdDown does not start anything.
  const stopped = transition(inState('Established'), { type: 'ManualStop' }).data;
  t.deepEqual(transition(stopped, { type: 'BfdDown' }).actions, []);
});
