/**
 * The node-to-node mesh and the move off it that Calico's docs describe, with real agents in
 * namespaces: four agents peer with each other from `bgp.nodes` (nodeToNodeMesh: true) and each
 * installs the other three blocks; then a route reflector (a fifth agent with
 * node.routeReflectorClusterID, labelled, out of the mesh as in Calico) is added and every node
 * gets a `peerSelector: has(routeReflector)` peer (config rewritten, SIGHUP); then the mesh is
 * turned off (rewritten, SIGHUP, one node after the other). A RouteWatcher polls every agent's
 * kernel table and listens to `ip monitor route` in each namespace for the whole of both reloads:
 * no route may be missing at any poll and the kernel may report no deletion of an agent route.
 */
import test from 'ava';
import type { RouteAnswer } from '../../agent/control/api.js';
import { Agent } from '../helpers/agent.js';
import { holdsFor, isRoot, Lab, waitFor } from '../helpers/netns.js';
import { agentDoc, expectedRoutes, kernelRoutes, member, type Member, missing, RouteWatcher, segment } from './rr-lab.js';

const nodes: Member[] = [0, 1, 2, 3].map((i) => member(`n${i}`, 11 + i, i + 1, { labels: { rack: 'r1' } }));
const rr = member('rr', 10, 10, { clusterId: '10.0.0.1', labels: { routeReflector: 'true' } });
const MESH = 'node-to-node mesh';

function nodeDoc(m: Member, step: 'mesh' | 'mesh+rr' | 'rr') {
  if (step === 'mesh') return agentDoc(m, { mesh: true, nodes });
  return agentDoc(m, { mesh: step === 'mesh+rr', nodes: [...nodes, rr], peers: [{ peerSelector: 'has(routeReflector)' }] });
}

async function routesJson(agent: Agent): Promise<RouteAnswer[]> {
  const r = await agent.ctl(['routes', '-o', 'json']);
  if (r.status !== 0) throw new Error(`agentctl routes exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as RouteAnswer[];
}

/** The peers each of `m`'s learned blocks' paths came from, by prefix. */
async function pathSources(agent: Agent): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await routesJson(agent)) if (r.kind === 'unicast') out.set(r.prefix, r.nextHops.map((h) => h.peer).sort());
  return out;
}

test('a mesh of four agents moves to a route reflector and off the mesh without losing a route', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await Lab.create('mesh');
  const agents = new Map<string, Agent>();
  let watcher: RouteWatcher | undefined;
  try {
    const ns = await segment(lab, [...nodes, rr]);
    for (const m of nodes) agents.set(m.name, await Agent.start(lab, ns.get(m.name)!, nodeDoc(m, 'mesh')));

    // 1. The mesh: three mesh peers each, every other block installed via its owner.
    for (const m of nodes) {
      const s = await agents.get(m.name)!.waitEstablished();
      t.deepEqual(s.peers.map((p) => [p.address, p.type]), nodes.filter((o) => o !== m).map((o) => [o.ipv4, MESH]));
      const want = expectedRoutes(m, nodes);
      t.is(want.size, 8);
      await waitFor(async () => missing(await kernelRoutes(lab, ns.get(m.name)!), want).length === 0,
        { timeoutMs: 20_000, what: `${m.name} to install the other three blocks` });
    }
    watcher = await RouteWatcher.start(lab, nodes.map((m) => ({ name: m.name, ns: ns.get(m.name)!, expected: expectedRoutes(m, nodes) })));

    // 2. Add the reflector: it selects every non-reflector node; each node selects it (SIGHUP).
    agents.set('rr', await Agent.start(lab, ns.get('rr')!, agentDoc(rr, { mesh: true, nodes: [...nodes, rr], peers: [{ peerSelector: '!has(routeReflector)' }] })));
    for (const m of nodes) {
      const a = agents.get(m.name)!;
      a.writeConfig(nodeDoc(m, 'mesh+rr'));
      a.signal('SIGHUP');
    }
    const s = await agents.get('rr')!.waitEstablished(undefined, 30_000);
    t.deepEqual(s.peers.map((p) => p.address), nodes.map((m) => m.ipv4));
    for (const m of nodes) {
      const a = agents.get(m.name)!;
      const st = await a.waitEstablished();
      t.deepEqual(st.peers.map((p) => [p.address, p.type === MESH]), [[rr.ipv4, false], ...nodes.filter((o) => o !== m).map((o) => [o.ipv4, true])]);
      // Every other node's block now has two paths: the mesh session and the reflector.
      await waitFor(async () => {
        const src = await pathSources(a);
        return nodes.filter((o) => o !== m).every((o) => [o.blocks!.ipv4, o.blocks!.ipv6].every((b) => src.get(b)?.join() === [o.ipv4, rr.ipv4].sort().join()));
      }, { timeoutMs: 20_000, what: `${m.name} to learn every block from the reflector too` });
      const want = expectedRoutes(m, [...nodes, rr]);
      await waitFor(async () => missing(await kernelRoutes(lab, ns.get(m.name)!), want).length === 0,
        { timeoutMs: 20_000, what: `${m.name} to install the reflector's own block` });
      watcher.expect(m.name, want);
    }

    // 3. Mesh off, one node after the other; the reflector carries everything.
    for (const m of nodes) {
      const a = agents.get(m.name)!;
      a.writeConfig(nodeDoc(m, 'rr'));
      a.signal('SIGHUP');
    }
    for (const m of nodes) {
      const a = agents.get(m.name)!;
      await waitFor(async () => {
        const st = await a.status();
        return st.peers.length === 1 && st.peers[0].address === rr.ipv4 && st.peers[0].state === 'Established';
      }, { timeoutMs: 20_000, what: `${m.name} to keep only its reflector peer` });
      await waitFor(async () => {
        const src = await pathSources(a);
        return [...src.values()].every((peers) => peers.join() === rr.ipv4) && src.size === 2 * nodes.length;
      }, { timeoutMs: 20_000, what: `${m.name} to hold every block from the reflector alone` });
    }
    // A last look after the dust settles: sessions refused, retries, nothing may go.
    await holdsFor(async () => missing(await kernelRoutes(lab, ns.get('n0')!), expectedRoutes(nodes[0], [...nodes, rr])).length === 0,
      { forMs: 1500, intervalMs: 100, what: 'n0 keeping every route' });
    await watcher.stop();
    const samples = watcher.samples();
    t.log(`kernel polls during both reloads: ${JSON.stringify(samples)}`);
    t.true(Object.values(samples).every((n) => n >= 10), 'the watcher polled each node many times');
    t.deepEqual(watcher.misses, [], 'no route missing at any poll');
    t.deepEqual(watcher.deletions(), [], 'the kernel reported no deletion of an agent route');
    for (const m of nodes) {
      const k = await kernelRoutes(lab, ns.get(m.name)!);
      const other = nodes[(nodes.indexOf(m) + 1) % nodes.length];
      t.deepEqual(k.get(other.blocks!.ipv4), [other.ipv4], `${m.name}: ${other.name}'s block via ${other.name}, not the reflector`);
    }
  } catch (err) {
    for (const a of agents.values()) t.log(`--- ${a.ns}\n${a.logs().split('\n').slice(-25).join('\n')}`);
    throw err;
  } finally {
    await watcher?.stop().catch(() => undefined);
    for (const a of agents.values()) await a.dispose().catch(() => undefined);
    await lab.destroy();
  }
});
