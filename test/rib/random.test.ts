/**
 * Seeded random event streams through the Rib (announcements, withdrawals, refused routes,
 * sessions going down with and without graceful restart, coming back, End-of-RIB, route refresh,
 * local block changes), checking after every tick what must always hold:
 * - the RibChange stream, applied to a model FIB, equals the Loc-RIB's best sets;
 * - the OutboundUpdates, applied to a model Adj-RIB-Out per peer, hold exactly `advertised` routes,
 *   and exactly the Loc-RIB routes whose best path came from elsewhere (for the eBGP peer, which
 *   is sent everything not its own);
 * - a model of every peer's accepted announcements matches the candidate counts per prefix and the
 *   `accepted` counters.
 * RIB_SEED=n RIB_EVENTS=n change the run; a failure names the seed.
 */

import test from 'ava';
import { formatPrefix, parsePrefix } from '../../agent/bgp/prefix.js';
import type { PeerSpec, SessionEvent } from '../../agent/contracts/engines.js';
import { announce, down, endOfRib, established, harness, spec, withdraw } from './helpers.js';

const SEED = Number(process.env.RIB_SEED ?? 20261121);
const EVENTS = Number(process.env.RIB_EVENTS ?? 3000);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const peers: PeerSpec[] = [
  spec('10.0.1.1'),
  spec('10.0.1.2', { routeReflectorClient: true }),
  spec('10.0.9.1', { peerAs: 65001 }),
  spec('10.0.8.1', { peerAs: 65002 }),
];
const EBGP = peers[3];
const PREFIXES = [
  ...Array.from({ length: 24 }, (_, i) => `192.168.${i}.0/26`),
  '192.168.0.7/32',
  '10.99.0.0/24', // outside the pools: always refused
  'fd00:100::/122',
  'fd00:100::40/122',
];
const BLOCKS = ['192.168.0.0/26', 'fd00:100::/122', '192.168.1.0/26'];

test(`random event streams keep the change stream, the outbound stream and the counters consistent (seed ${SEED})`, (t) => {
  const random = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const h = harness({ node: { asNumber: 64512, routerId: '10.0.1.13', clusterId: '224.0.0.1', ipv4: '10.0.1.13', ipv6: 'fd00:1::13' } });
  const fib = new Map<string, string>();
  const adjOut = new Map<string, Map<string, string>>(peers.map((p) => [p.key, new Map()]));
  const up = new Set<string>();
  /** What each peer announced and policy accepted: peer -> prefix -> next hop. */
  const model = new Map<string, Map<string, string>>(peers.map((p) => [p.key, new Map()]));
  let blocks: string[] = [];

  const inPools = (p: string): boolean => p.startsWith('192.168.') || p.startsWith('fd00:100:');
  const sent = (peer: PeerSpec): void => {
    const out = adjOut.get(peer.key)!;
    for (const { peer: key, update } of h.sink.updates) {
      if (key !== peer.key) continue;
      for (const w of update.withdraw ?? []) t.true(out.delete(formatPrefix(w)), `withdrawn but never sent: ${formatPrefix(w)} (seed ${SEED})`);
      for (const g of update.announce ?? []) for (const p of g.prefixes) out.set(formatPrefix(p), g.attributes.nextHop ?? g.attributes.mpReach?.nextHops[0] ?? '');
    }
  };

  for (let n = 0; n < EVENTS; n++) {
    const peer = pick(peers);
    const r = random();
    const events: SessionEvent[] = [];
    if (!up.has(peer.key) || r < 0.03) {
      adjOut.set(peer.key, new Map()); // a new session starts empty
      events.push(established(peer));
      up.add(peer.key);
      // A new session starts afresh; stale paths from a graceful restart go at once too, since the
      // new session offers no graceful-restart capability (RFC 4724 4.2).
      model.set(peer.key, new Map());
    } else if (r < 0.06) {
      const gr = random() < 0.5 ? { restartTime: 60, families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[] } : null;
      events.push(down(peer, gr));
      up.delete(peer.key);
      adjOut.set(peer.key, new Map());
      if (gr === null) model.set(peer.key, new Map());
    } else if (r < 0.08) {
      events.push(endOfRib(peer, random() < 0.5 ? 'ipv4' : 'ipv6'));
    } else if (r < 0.09) {
      events.push({ type: 'route-refresh', peer, family: 'ipv4' });
    } else if (r < 0.1) {
      blocks = BLOCKS.filter(() => random() < 0.5);
      h.rib.setLocalBlocks(blocks);
    } else if (r < 0.35) {
      const list = PREFIXES.filter(() => random() < 0.2);
      events.push(withdraw(peer, list));
      for (const p of list) model.get(peer.key)!.delete(p);
    } else {
      const list = PREFIXES.filter(() => random() < 0.2);
      const nh = pick(['10.0.5.1', '10.0.5.2', '10.0.5.3']);
      const lp = pick([100, 100, 200]);
      events.push(announce(peer, list, nh, peer.internal ? { localPref: lp } : {}));
      for (const p of list) {
        if (inPools(p) && !blocks.includes(p)) model.get(peer.key)!.set(p, nh);
        else model.get(peer.key)!.delete(p);
      }
    }
    h.sink.clear();
    h.feed(...events);
    // A refresh re-sends: the model Adj-RIB-Out is rebuilt from what was sent after it.
    if (events.some((e) => e.type === 'route-refresh')) {
      const out = adjOut.get(peer.key)!;
      for (const k of [...out.keys()]) if (!k.includes(':')) out.delete(k);
    }
    // Own blocks refuse what peers sent for them.
    for (const m of model.values()) for (const b of blocks) m.delete(b);
    for (const c of h.sink.batches.flat()) {
      const key = formatPrefix(c.prefix);
      if (c.best.length === 0) fib.delete(key);
      else fib.set(key, c.best.map((p) => `${p.peer}@${p.nextHop}`).join(','));
    }
    for (const p of peers) sent(p);

    const routes = h.rib.routes();
    const loc = new Map(routes.map((x) => [x.prefix, x]));
    t.deepEqual(
      [...fib.entries()].sort(),
      routes.map((x) => [x.prefix, x.kind === 'blackhole' ? 'local@' : x.nextHops.map((v) => `${v.peer}@${v.via}`).join(',')]).sort(),
      `change stream vs Loc-RIB after event ${n} (seed ${SEED})`,
    );
    for (const p of peers) {
      if (!up.has(p.key)) continue;
      t.is(adjOut.get(p.key)!.size, h.rib.peerCounts(p.key).advertised, `advertised count of ${p.key} after event ${n} (seed ${SEED})`);
    }
    for (const p of peers) t.is(h.rib.peerCounts(p.key).accepted, model.get(p.key)!.size, `accepted count of ${p.key} after event ${n} (seed ${SEED})`);
    if (up.has(EBGP.key)) {
      const want = routes.filter((x) => x.kind === 'blackhole' || x.nextHops[0].peer !== EBGP.key).map((x) => x.prefix).sort();
      t.deepEqual([...adjOut.get(EBGP.key)!.keys()].sort(), want, `what the eBGP peer holds after event ${n} (seed ${SEED})`);
    }
    const candidates = routes.reduce((s, x) => s + x.paths, 0);
    const accepted = peers.reduce((s, p) => s + h.rib.peerCounts(p.key).accepted, 0);
    t.is(candidates, accepted + routes.filter((x) => x.kind === 'blackhole').length, `candidates vs counters after event ${n} (seed ${SEED})`);
    for (const b of blocks) t.is(loc.get(formatPrefix(parsePrefix(b)))?.kind, 'blackhole');
  }
});
