/**
 * What BFD Down does to a Session in process, on a fake clock (RFC 5882 section 4.3, RFC 9384
 * section 4.1): with `bfd.strict` the session waits for BFD Up however long it takes; without it
 * (the default) the idle hold starts it again while BFD stays Down, so a ToR that stops running
 * BFD without AdminDown cannot isolate the node for good. A relabel to strict false releases a
 * held session. The sessions are passive toward a loopback address: a start means Active
 * (listening), no socket is opened here.
 */
import test from 'ava';
import { Session } from '../../agent/session/session.js';
import { peerSpec } from './specs.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { silentLogger } from '../../agent/contracts/log.js';

const IDLE_HOLD_S = 5;

function spec(strict: boolean): PeerSpec {
  const s = peerSpec({ address: '127.0.0.2', localAs: 64512, peerAs: 64512, routerId: '10.0.1.12', passive: true });
  return { ...s, bfd: { ...s.bfd, enabled: true, strict } };
}

function started(strict: boolean): { s: Session; clock: FakeClock } {
  const clock = new FakeClock();
  const s = new Session(spec(strict), { clock, log: silentLogger, listenPort: 179, readPassword: () => '', onEvent: () => undefined, idleHoldSeconds: { min: IDLE_HOLD_S, max: 30 } });
  s.start();
  return { s, clock };
}

const rows: readonly { readonly strict: boolean; readonly after: string; readonly atBfdUp: string }[] = [
  { strict: false, after: 'Active', atBfdUp: 'Active' },
  { strict: true, after: 'Idle', atBfdUp: 'Active' },
];

for (const r of rows) {
  test(`bfd.strict ${r.strict}: BFD Down takes the session to Idle; one hour of BFD Down later it is ${r.after}`, (t) => {
    const { s, clock } = started(r.strict);
    t.is(s.state, 'Active');
    s.bfdDown('BFD: neighbor down (Control Detection Time Expired)', false);
    t.is(s.state, 'Idle');
    t.true(s.heldByBfd);
    clock.advance(IDLE_HOLD_S * 1000 - 1);
    t.is(s.state, 'Idle', 'nothing before the idle hold');
    clock.advance(3600_000);
    t.is(s.state as string, r.after);
    s.bfdUp();
    t.is(s.state as string, r.atBfdUp);
    t.false(s.heldByBfd);
    // BFD takes over again: the next Down takes the session down once more.
    s.bfdDown('BFD: neighbor down (Neighbor Signaled Session Down)', false);
    t.is(s.state, 'Idle');
    s.stop();
  });
}

test('a reload to bfd.strict false releases a session held by BFD; to strict true it holds from the next BFD Down', (t) => {
  const { s, clock } = started(true);
  s.bfdDown('BFD: neighbor down (Control Detection Time Expired)', false);
  clock.advance(60_000);
  t.is(s.state, 'Idle');
  s.relabel(spec(false));
  t.is(s.state, 'Active');
  t.false(s.heldByBfd);
  s.relabel(spec(true));
  s.bfdDown('BFD: neighbor down (Control Detection Time Expired)', false);
  clock.advance(60_000);
  t.is(s.state, 'Idle');
  t.true(s.heldByBfd);
  s.stop();
});

test('bfd.strict false: BFD Up before the idle hold ends starts the session at once', (t) => {
  const { s, clock } = started(false);
  s.bfdDown('BFD: neighbor down (Control Detection Time Expired)', false);
  clock.advance(1000);
  t.is(s.state, 'Idle');
  s.bfdUp();
  t.is(s.state, 'Active');
  s.stop();
});
