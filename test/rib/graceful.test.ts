/**
 * Graceful restart, receiving side (RFC 4724 section 4.2) with a fake clock: stale paths kept,
 * replaced as they are re-learned, the rest removed at End-of-RIB, at the restart timer, at the
 * stale timer, or at once when the new session does not preserve the family; converged() waits.
 */

import test from 'ava';
import { announce, down, endOfRib, established, harness, spec } from './helpers.js';
import type { PeerGracefulRestart } from '../../agent/contracts/engines.js';

const a = spec('10.0.1.1');
const b = spec('10.0.1.2');
const GR = { restartTime: 120, families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[] };
const keeps = (ipv4: boolean, ipv6 = ipv4): PeerGracefulRestart => ({
  restartTime: 120,
  restarting: true,
  notification: true,
  families: [
    { afi: 1, safi: 1, forwarding: ipv4 },
    { afi: 2, safi: 1, forwarding: ipv6 },
  ],
});

function restarting() {
  const h = harness({ staleTime: 300 });
  h.feed(established(a), established(b), endOfRib(a), endOfRib(a, 'ipv6'), endOfRib(b), endOfRib(b, 'ipv6'));
  h.feed(announce(a, ['192.168.1.0/26', '192.168.2.0/26', 'fd00:100::/122'], '10.0.1.1'));
  h.feed(down(a, GR));
  h.sink.clear();
  return h;
}

test('down with graceful restart: the paths stay, and nothing changes for the FIB or peers', (t) => {
  const h = restarting();
  t.deepEqual(h.sink.batches, []);
  t.deepEqual(h.sink.updates, []);
  t.is(h.rib.prefixCount(), 3);
  t.true(h.rib.best('192.168.1.0/26')[0].stale);
  t.false(h.rib.converged(), 'waiting for the restarting peer');
});

test('re-learned paths replace the stale ones without a change; End-of-RIB removes the rest', (t) => {
  const h = restarting();
  h.feed(established(a, { peerGracefulRestart: keeps(true) }));
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1'));
  t.deepEqual(h.sink.changeLines(), [], 'an equal path is no change');
  t.false(h.rib.best('192.168.1.0/26')[0].stale);
  h.feed(endOfRib(a, 'ipv4'));
  t.deepEqual(h.sink.changeLines(), ['192.168.2.0/26: -']);
  t.is(h.rib.prefixCount('ipv6'), 1, 'IPv6 waits for its own End-of-RIB');
  t.false(h.rib.converged());
  h.feed(endOfRib(a, 'ipv6'));
  t.is(h.rib.prefixCount('ipv6'), 0);
  t.true(h.rib.converged());
  t.deepEqual(h.rib.peerCounts(a.key), { received: 1, accepted: 1, advertised: 0 });
});

test('a re-learned path with other attributes is a change', (t) => {
  const h = restarting();
  h.feed(established(a, { peerGracefulRestart: keeps(true) }), announce(a, ['192.168.1.0/26'], '10.0.1.9'));
  t.deepEqual(h.sink.changeLines(), ['192.168.1.0/26: 10.0.1.1@10.0.1.9']);
});

test('the restart timer ends the stale paths when the peer does not come back', (t) => {
  const h = restarting();
  h.clock.advance(119_000);
  h.feed();
  t.is(h.rib.prefixCount(), 3);
  h.clock.advance(1_000);
  h.feed();
  t.is(h.rib.prefixCount(), 0);
  t.deepEqual(h.sink.changeLines().sort(), ['192.168.1.0/26: -', '192.168.2.0/26: -', 'fd00:100::/122: -']);
  t.true(h.rib.converged());
  t.deepEqual(h.rib.peerCounts(a.key), { received: 0, accepted: 0, advertised: 0 });
});

test('once back, the stale timer ends what End-of-RIB never came for', (t) => {
  const h = restarting();
  h.clock.advance(60_000);
  h.feed(established(a, { peerGracefulRestart: keeps(true) }));
  h.clock.advance(120_000); // the restart timer no longer runs
  h.feed();
  t.is(h.rib.prefixCount(), 3);
  h.clock.advance(180_000); // 300 s stale time
  h.feed();
  t.is(h.rib.prefixCount(), 0);
});

test('a new session that does not preserve a family drops its stale paths at once', (t) => {
  const h = restarting();
  h.feed(established(a, { peerGracefulRestart: keeps(true, false) }));
  t.deepEqual(h.sink.changeLines(), ['fd00:100::/122: -']);
  t.is(h.rib.prefixCount('ipv4'), 2);
  h.sink.clear();
  const h2 = restarting();
  h2.feed(established(a)); // no graceful-restart capability at all
  t.is(h2.rib.prefixCount(), 0);
});

test('families not preserved at the down are flushed at once', (t) => {
  const h = harness();
  h.feed(established(a), announce(a, ['192.168.1.0/26', 'fd00:100::/122'], '10.0.1.1'));
  h.sink.clear();
  h.feed(down(a, { restartTime: 120, families: ['ipv4'] }));
  t.deepEqual(h.sink.changeLines(), ['fd00:100::/122: -']);
  t.is(h.rib.prefixCount('ipv4'), 1);
  t.false(h.rib.converged(), 'IPv4 is still restarting');
  h.sink.clear();
  h.feed(established(a, { peerGracefulRestart: keeps(true) }), endOfRib(a, 'ipv4'));
  t.deepEqual(h.sink.changeLines(), ['192.168.1.0/26: -'], 'its End-of-RIB ends the stale IPv4 path');
});

test('a second down during the restart keeps everything stale and restarts the timer', (t) => {
  const h = restarting();
  h.clock.advance(100_000);
  h.feed(established(a, { peerGracefulRestart: keeps(true) }), announce(a, ['192.168.1.0/26'], '10.0.1.1'));
  h.feed(down(a, GR));
  h.clock.advance(100_000);
  h.feed();
  t.is(h.rib.prefixCount(), 3, 'a new 120 s restart time runs');
  h.clock.advance(20_000);
  h.feed();
  t.is(h.rib.prefixCount(), 0);
});

test('down without graceful restart during a restart flushes the stale paths too', (t) => {
  const h = restarting();
  h.feed(down(a));
  t.is(h.rib.prefixCount(), 0);
  h.clock.advance(200_000);
  h.feed();
  t.true(h.rib.converged());
});
