/**
 * Route reflection (RFC 4456) with real agents in namespaces on one layer-2 segment:
 * - one agent reflector (node.routeReflectorClusterID), two agent clients and a BIRD 2 client:
 *   each client installs the other's block via the ORIGINAL next hop, and BIRD shows
 *   ORIGINATOR_ID and CLUSTER_LIST on a reflected route (none on the reflector's own block);
 * - two agent reflectors with the same cluster ID, then with different ones, every client peering
 *   with both: clients get every route via both; with the same ID each reflector drops what the
 *   other reflects (RFC 4456 section 8, the CLUSTER_LIST check; Calico treats the other as a
 *   non-client), with different IDs each keeps the other's copy as a second path; and while one
 *   reflector is SIGKILLed, and while it comes back, no client loses a route
 *   (projectcalico/calico#2735). Graceful restart is off there: a killed reflector's paths go at
 *   once, so the surviving one must carry everything.
 */
import test, { type ExecutionContext } from 'ava';
import type { RouteAnswer, StatusAnswer } from '../../agent/control/api.js';
import { Agent } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import type { DaemonRoute } from '../helpers/bgp-daemon.js';
import { useLab } from '../helpers/lab-fixture.js';
import { holdsFor, isRoot, waitFor } from '../helpers/netns.js';
import {
  agentDoc, AS, blockOf, expectedRoutes, kernelRoutes, member, type Member, missing, peerTo, RouteWatcher, segment,
} from './rr-lab.js';

const BIRD = member('bird', 20, 20);
const BIRD_BLOCK = blockOf(20).ipv4;

function birdOptions(reflectors: readonly Member[]) {
  return {
    routerId: BIRD.ipv4,
    localAs: AS,
    neighbors: reflectors.map((r) => ({ address: r.ipv4, as: AS, localAddress: BIRD.ipv4, connectRetry: 1, families: ['ipv4'] as const })),
    routes: { ipv4: [BIRD_BLOCK] },
  };
}

/** A client's kernel must hold: own blocks blackholed, every other block via its owner. */
function clientExpected(self: Member, all: readonly Member[]): Map<string, string> {
  const e = expectedRoutes(self, all.filter((m) => m !== BIRD));
  e.set(BIRD_BLOCK, BIRD.ipv4);
  return e;
}

async function routesJson(agent: Agent): Promise<RouteAnswer[]> {
  const r = await agent.ctl(['routes', '-o', 'json']);
  if (r.status !== 0) throw new Error(`agentctl routes exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as RouteAnswer[];
}

function peerOf(s: StatusAnswer, address: string) {
  const p = s.peers.find((x) => x.address === address);
  if (p === undefined) throw new Error(`no peer ${address} in status`);
  return p;
}

test.serial('one reflector: clients learn each other with the original next hop; BIRD sees ORIGINATOR_ID and CLUSTER_LIST', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const rr = member('rr', 10, 10, { clusterId: '10.0.0.1' });
  const c1 = member('c1', 11, 1);
  const c2 = member('c2', 12, 2);
  const lab = await useLab(t, 'rrone');
  const agents = new Map<string, Agent>();
  const ns = await segment(lab, [rr, c1, c2, BIRD]);
  const bird = await Bird.start(lab, ns.get('bird')!, birdOptions([rr]));
  agents.set('rr', await Agent.start(lab, ns.get('rr')!, agentDoc(rr, { peers: [peerTo(c1), peerTo(c2), peerTo(BIRD)] })));
  for (const c of [c1, c2]) agents.set(c.name, await Agent.start(lab, ns.get(c.name)!, agentDoc(c, { peers: [peerTo(rr)] })));
  await agents.get('rr')!.waitEstablished();

  for (const c of [c1, c2]) {
    const want = clientExpected(c, [rr, c1, c2]);
    const got = await waitFor(async () => {
      const k = await kernelRoutes(lab, ns.get(c.name)!);
      return missing(k, want).length === 0 ? k : undefined;
    }, { timeoutMs: 20_000, what: `${c.name} to install every block via its owner` });
    // Learned from the reflector, installed via the originating node: one next hop, not the RR.
    const other = c === c1 ? c2 : c1;
    t.deepEqual(got.get(other.blocks!.ipv4), [other.ipv4]);
    t.deepEqual(got.get(other.blocks!.ipv6), [other.ipv6]);
    const answer = (await routesJson(agents.get(c.name)!)).find((r) => r.prefix === other.blocks!.ipv4);
    t.deepEqual(answer?.nextHops.map((h) => [h.via, h.peer]), [[other.ipv4, rr.ipv4]]);
  }

  // The reflector took each client's blocks as a client's (received and accepted).
  const st = await agents.get('rr')!.status();
  for (const c of [c1, c2]) t.like(peerOf(st, c.ipv4).prefixes, { received: 2, accepted: 2 });

  const routes = await waitFor(async () => {
    const r = await bird.routes('ipv4');
    return [c1, c2, rr].every((m) => r.some((x) => x.prefix === m.blocks!.ipv4)) ? r : undefined;
  }, { timeoutMs: 20_000, what: 'BIRD to learn every agent block' });
  const at = (prefix: string): DaemonRoute => routes.find((r) => r.prefix === prefix)!;
  for (const c of [c1, c2]) {
    t.like(at(c.blocks!.ipv4), { from: rr.ipv4, nextHops: [c.ipv4], originatorId: c.ipv4, clusterList: ['10.0.0.1'] });
  }
  // The reflector's own block is originated, not reflected: neither attribute.
  t.like(at(rr.blocks!.ipv4), { from: rr.ipv4, nextHops: [rr.ipv4], originatorId: undefined, clusterList: [] });
  // BIRD's own route reached the agent clients through the reflector, via BIRD.
  t.deepEqual((await kernelRoutes(lab, ns.get('c1')!)).get(BIRD_BLOCK), [BIRD.ipv4]);
});

/**
 * Two reflectors, clients c1, c2 (agents) and BIRD each peering with both. `ids` are the
 * reflectors' cluster IDs; every reflector knows the other's from bgp.nodes.
 */
async function twoReflectors(t: ExecutionContext, name: string, ids: readonly [string, string]): Promise<void> {
  if (!isRoot) return t.fail('needs root');
  const rr1 = member('rr1', 2, null, { clusterId: ids[0], labels: { routeReflector: 'true' } });
  const rr2 = member('rr2', 3, null, { clusterId: ids[1], labels: { routeReflector: 'true' } });
  const c1 = member('c1', 11, 1);
  const c2 = member('c2', 12, 2);
  const same = ids[0] === ids[1];
  const lab = await useLab(t, name);
  const agents = new Map<string, Agent>();
  const ns = await segment(lab, [rr1, rr2, c1, c2, BIRD]);
  const bird = await Bird.start(lab, ns.get('bird')!, birdOptions([rr1, rr2]));
  const nodes = [rr1, rr2, c1, c2];
  for (const [r, other] of [[rr1, rr2], [rr2, rr1]] as const) {
    const doc = agentDoc(r, { peers: [peerTo(other), peerTo(c1), peerTo(c2), peerTo(BIRD)], nodes, gracefulRestart: false });
    agents.set(r.name, await Agent.start(lab, ns.get(r.name)!, doc));
  }
  for (const c of [c1, c2]) {
    agents.set(c.name, await Agent.start(lab, ns.get(c.name)!, agentDoc(c, { peers: [peerTo(rr1), peerTo(rr2)], nodes, gracefulRestart: false })));
  }
  for (const a of agents.values()) await a.waitEstablished();

  // Clients get every route via both reflectors: an ECMP set of two paths, one next hop.
  for (const c of [c1, c2]) {
    const other = c === c1 ? c2 : c1;
    const want = clientExpected(c, [c1, c2]);
    await waitFor(async () => missing(await kernelRoutes(lab, ns.get(c.name)!), want).length === 0,
      { timeoutMs: 20_000, what: `${c.name} to install every block` });
    const answer = await waitFor(async () => {
      const r = (await routesJson(agents.get(c.name)!)).find((x) => x.prefix === other.blocks!.ipv4);
      return r !== undefined && r.nextHops.length === 2 ? r : undefined;
    }, { timeoutMs: 20_000, what: `${c.name} to hold ${other.name}'s block from both reflectors` });
    t.deepEqual(answer.nextHops.map((h) => [h.via, h.peer]).sort(), [[other.ipv4, rr1.ipv4], [other.ipv4, rr2.ipv4]]);
    t.deepEqual((await kernelRoutes(lab, ns.get(c.name)!)).get(other.blocks!.ipv4), [other.ipv4]);
  }
  const birdRoutes = await waitFor(async () => {
    const r = (await bird.routes('ipv4')).filter((x) => x.prefix === c1.blocks!.ipv4);
    return r.length === 2 ? r : undefined;
  }, { timeoutMs: 20_000, what: 'BIRD to hold c1 block from both reflectors' });
  for (const [r, id] of [[rr1, ids[0]], [rr2, ids[1]]] as const) {
    t.like(birdRoutes.find((x) => x.from === r.ipv4), { nextHops: [c1.ipv4], originatorId: c1.ipv4, clusterList: [id] });
  }

  // Between the reflectors: each reflects its clients' 5 prefixes (c1, c2: 2 each; BIRD: 1) to
  // the other. Same cluster ID: refused (CLUSTER_LIST holds our ID); different: a second path.
  for (const [r, other] of [[rr1, rr2], [rr2, rr1]] as const) {
    const p = await waitFor(async () => {
      const x = peerOf(await agents.get(r.name)!.status(), other.ipv4).prefixes;
      return x.received === 5 ? x : undefined;
    }, { timeoutMs: 20_000, what: `${r.name} to receive 5 prefixes from ${other.name}` });
    t.is(p.accepted, same ? 0 : 5, `${r.name} accepted from ${other.name}`);
    const route = (await routesJson(agents.get(r.name)!)).find((x) => x.prefix === c1.blocks!.ipv4);
    const peers = route?.nextHops.map((h) => h.peer).sort();
    t.deepEqual(peers, same ? [c1.ipv4] : [c1.ipv4, other.ipv4], `${r.name}'s paths for c1's block`);
    t.true(route?.nextHops.every((h) => h.via === c1.ipv4), 'the next hop stays the originating node');
  }

  // Stop one reflector hard; the clients must keep every route all along.
  const watcher = await RouteWatcher.start(lab, [c1, c2].map((c) => ({ name: c.name, ns: ns.get(c.name)!, expected: clientExpected(c, [c1, c2]) })));
  lab.defer(() => watcher.stop().catch(() => undefined));
  await agents.get('rr1')!.kill('SIGKILL');
  for (const c of [c1, c2]) {
    const other = c === c1 ? c2 : c1;
    await waitFor(async () => {
      const r = (await routesJson(agents.get(c.name)!)).find((x) => x.prefix === other.blocks!.ipv4);
      return r !== undefined && r.nextHops.length === 1 && r.nextHops[0].peer === rr2.ipv4;
    }, { timeoutMs: 20_000, what: `${c.name} to drop the killed reflector's path` });
    const st = await agents.get(c.name)!.status();
    t.not(peerOf(st, rr1.ipv4).state, 'Established');
  }
  await waitFor(async () => {
    const r = (await bird.routes('ipv4')).filter((x) => x.prefix === c1.blocks!.ipv4);
    return r.length === 1 && r[0].from === rr2.ipv4;
  }, { timeoutMs: 20_000, what: 'BIRD to keep c1 block via rr2 only' });
  // Watch for a while with one reflector, then while it comes back and re-feeds everyone.
  await holdsFor(async () => (await agents.get('c1')!.status()).peers.some((p) => p.address === rr1.ipv4 && p.state !== 'Established'),
    { forMs: 1500, intervalMs: 250, what: 'rr1 staying down' });
  await agents.get('rr1')!.launch();
  for (const c of [c1, c2]) {
    const other = c === c1 ? c2 : c1;
    await waitFor(async () => {
      const r = (await routesJson(agents.get(c.name)!)).find((x) => x.prefix === other.blocks!.ipv4);
      return r !== undefined && r.nextHops.length === 2;
    }, { timeoutMs: 20_000, what: `${c.name} to hold ${other.name}'s block from both reflectors again` });
  }
  await watcher.stop();
  const samples = watcher.samples();
  t.log(`kernel polls while rr1 was down and back: ${JSON.stringify(samples)}`);
  t.true(Object.values(samples).every((n) => n >= 10), 'the watcher polled each client many times');
  t.deepEqual(watcher.misses, [], 'no client route missing at any poll');
  t.deepEqual(watcher.deletions(), [], 'the kernel reported no deletion of an agent route');
}

test.serial('two reflectors with the same cluster ID: no reflected route between them; none lost when one is killed', (t) =>
  twoReflectors(t, 'rrsame', ['10.0.0.1', '10.0.0.1']));

test.serial('two reflectors with different cluster IDs: both paths; none lost when one is killed', (t) =>
  twoReflectors(t, 'rrdiff', ['10.0.0.1', '10.0.0.2']));
