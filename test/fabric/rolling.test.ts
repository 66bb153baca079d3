/**
 * The rolling restart's smoke (issue 23, rolling.ts), part of npm test: 2 racks x 2 nodes, rack-agent,
 * the probe node r0n1 drained (the ToR must show 65535:0 and LOCAL_PREF 0), restarted with SIGTERM
 * and undrained: no probe lost, no block missing from any kernel, only the node's two sessions
 * reset, every kernel exact after. BIRD-as-node and the runs without a drain are in the bench
 * (`FABRIC_ONLY=rolling npm run bench:fabric`, README "Routing policy and drain").
 */
import test from 'ava';
import { isRoot } from '../helpers/netns.js';
import { rollingRestart } from './rolling.js';
import { runAll } from './scenarios.js';

test.serial('rolling restart smoke: a drained rack-agent node restarts without losing a packet', async (t) => {
  if (!isRoot) return t.fail('needs root');
  t.timeout(90_000);
  const [r] = await runAll({ racks: 2, nodes: 2, model: 'rr' }, ['rack-agent'], { scenarios: [rollingRestart(1, true, 30_000)], quietMs: 2000, timeoutMs: 30_000 });
  t.is(r.error, '', 'every kernel exact after');
  t.regex(r.note, /ToR t0 held 192\.168\.0\.64\/26 with 65535:0 and LOCAL_PREF 0/);
  t.is(r.resets, 2, 'the node\'s IPv4 and IPv6 sessions');
  t.deepEqual(r.unexpectedFlaps, []);
  t.true(r.packets.sent > 100, `probes during the drain and restart (${r.packets.sent})`);
  t.is(r.packets.lost, 0, 'no packet lost');
  t.is(r.lostPairs, 0, `no block missing from a kernel (${r.lost.join(', ')})`);
  t.is(r.healthy.lost, 0);
});
