/**
 * Routing policy and drain against real BIRD 2 ToRs (issue 23; SPEC.md "Routing policy", "Drain"):
 * one agent between an iBGP ToR (BIRD, route reflector, 10.0.1.1) and an eBGP ToR (BIRD, AS
 * 65001, 10.0.1.2), asserted from the ToRs' side (`birdc show route all`) and the agent's kernel:
 * - export rules: the ToRs see our communities, large communities and MED, the eBGP one our
 *   prepend (the iBGP one no prepend: it would see its own AS);
 * - import rules: the iBGP ToR's default route, outside every pool, is accepted by a rule and lands
 *   in our kernel;
 * - a path received with 65535:0 (from the iBGP ToR, LOCAL_PREF 500) loses to the eBGP ToR's path
 *   without it (`routes -o json` says why);
 * - drain: the iBGP ToR sees 65535:0 and LOCAL_PREF 0, the eBGP ToR 65535:0 and three more
 *   prepends; status says drained (text and JSON); undrain reverts, all without a session reset;
 * - reload: new import rules ask the ToRs for a route refresh (the default route goes, the
 *   sessions stay), new export rules reach the ToRs at once; a ToR without route refresh gets its
 *   session restarted instead (Cease, Other Configuration Change) and sends its routes again.
 */
import test from 'ava';
import { Agent } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import type { DaemonRoute } from '../helpers/bgp-daemon.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { agentDoc, TOR } from './fabric.js';
import { BLOCK, EBGP, NODE, policyDoc, policyLan } from './policy-lab.js';

test.serial('policy and drain: what BIRD ToRs see and what lands in our kernel', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'policy');
  const { torNs, ebgpNs, ns } = await policyLan(lab);
  const neighbor = { address: NODE, localAddress: '', connectRetry: 1, families: ['ipv4'] as const };
  const tor = await Bird.start(lab, torNs, {
    routerId: TOR.ipv4, localAs: TOR.as,
    neighbors: [{ ...neighbor, as: TOR.as, rrClient: true, localAddress: TOR.ipv4 }],
    routes: { ipv4: ['0.0.0.0/0', { prefix: '192.168.9.0/26', localPref: 500, communities: ['65535:0'] }] },
  });
  const tor2 = await Bird.start(lab, ebgpNs, {
    routerId: EBGP.ipv4, localAs: EBGP.as,
    neighbors: [{ ...neighbor, as: TOR.as, localAddress: EBGP.ipv4 }],
    routes: { ipv4: ['192.168.9.0/26'] },
  });
  const doc = policyDoc();
  doc.policy = { ...doc.policy, import: [{ match: { prefix: '0.0.0.0/0', exact: true, peer: { type: 'ibgp' } }, action: 'accept', set: { localPref: 200 } }] };
  const agent = await Agent.start(lab, ns, doc);
  await agent.waitEstablished([TOR.ipv4, EBGP.ipv4]);
  const since = (await agent.status()).peers.map((p) => p.since);

  const seen = (bird: Bird, from: string, check: (r: DaemonRoute) => boolean, what: string): Promise<DaemonRoute> =>
    waitFor(async () => (await bird.routes('ipv4')).find((r) => r.prefix === BLOCK && r.from === from && check(r)), { timeoutMs: 15_000, what });

  // Export rules, as the ToRs read them.
  const ibgp = await seen(tor, NODE, (r) => r.communities.includes('64512:10'), 'the iBGP ToR to get our block with the community');
  t.like(ibgp, { med: 10, localPref: 100, asPath: [], largeCommunities: ['64512:1:2'] });
  const ebgp = await seen(tor2, NODE, (r) => r.communities.includes('64512:10'), 'the eBGP ToR to get our block with the community');
  t.like(ebgp, { med: 10, asPath: [64512, 64512], largeCommunities: ['64512:1:2'] });

  // Import rule: the ToR's default route is installed like any learned route.
  await waitFor(async () => (await lab.ip(ns, 'route', 'show', 'proto', '201')).stdout.includes(`default via ${TOR.ipv4}`), { timeoutMs: 15_000, what: 'the default route in our kernel' });
  const routes = JSON.parse((await agent.ctl(['routes', '-o', 'json'])).stdout) as { prefix: string; localPref: number; peers: string[]; decidedBy: string; communities: string[] }[];
  t.like(routes.find((r) => r.prefix === '0.0.0.0/0'), { localPref: 200, peers: [TOR.ipv4] });
  // RFC 8326: 65535:0 with LOCAL_PREF 500 over iBGP loses to the eBGP path without it.
  t.like(routes.find((r) => r.prefix === '192.168.9.0/26'), { peers: [EBGP.ipv4], decidedBy: 'graceful-shutdown' });
  const detail = await agent.ctl(['routes', '--detail']);
  t.regex(detail.stdout, /0\.0\.0\.0\/0\n {2}Next hops: +via 10\.0\.1\.1[^\n]*\n {2}Peers: +10\.0\.1\.1\n {2}AS path: +\(empty\)\n {2}Local pref: +200/);

  // Drain.
  const drained = await agent.ctl(['drain']);
  t.is(drained.status, 0, drained.stderr);
  await seen(tor, NODE, (r) => r.communities.includes('65535:0') && r.localPref === 0, 'the iBGP ToR to see 65535:0 and LOCAL_PREF 0');
  await seen(tor2, NODE, (r) => r.communities.includes('65535:0') && r.asPath.length === 5, 'the eBGP ToR to see 65535:0 and three more prepends');
  const status = await agent.status();
  t.true(status.drained);
  t.regex((await agent.ctl(['status'])).stdout, /This node is drained/);
  t.deepEqual(status.peers.map((p) => p.since), since, 'no session was reset');

  const undrained = await agent.ctl(['undrain']);
  t.is(undrained.status, 0, undrained.stderr);
  await seen(tor, NODE, (r) => !r.communities.includes('65535:0') && r.localPref === 100 && r.communities.includes('64512:10'), 'the iBGP ToR to see our block undrained');
  await seen(tor2, NODE, (r) => !r.communities.includes('65535:0') && r.asPath.length === 2, 'the eBGP ToR to see our block undrained');
  t.false((await agent.status()).drained);
  t.deepEqual((await agent.status()).peers.map((p) => p.since), since, 'no session was reset');

  // Reload: the default route is refused now (route refresh), our MED changes (re-export).
  doc.policy = {
    import: [{ match: { prefix: '0.0.0.0/0', exact: true }, action: 'reject' }],
    export: [{ match: { pool: '192.168.0.0/16' }, set: { med: 20 } }],
  };
  agent.writeConfig(doc);
  const reloaded = await agent.ctl(['reload', '-o', 'json']);
  t.is(reloaded.status, 0, reloaded.stdout + reloaded.stderr);
  t.like(JSON.parse(reloaded.stdout), { importRulesChanged: true, exportRulesChanged: true, peersRefreshed: [TOR.ipv4, EBGP.ipv4] });
  await waitFor(async () => !(await lab.ip(ns, 'route', 'show', 'proto', '201')).stdout.includes('default'), { timeoutMs: 15_000, what: 'the default route to leave our kernel' });
  await seen(tor, NODE, (r) => r.med === 20 && r.communities.length === 0, 'the iBGP ToR to see the new MED');
  await seen(tor2, NODE, (r) => r.med === 20 && r.asPath.length === 1, 'the eBGP ToR to see the new MED and no prepend');
  t.deepEqual((await agent.status()).peers.map((p) => p.since), since, 'route refresh, not a session reset');
});

test.serial('policy: new import rules restart the session of a ToR without route refresh', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'policyrr');
  const sw = await lab.namespace('sw');
  const torNs = await lab.namespace('tor');
  const ns = await lab.namespace('n0');
  await lab.lan(sw, [{ ns: torNs, addr: { ipv4: `${TOR.ipv4}/24` } }, { ns, addr: { ipv4: `${NODE}/24` } }]);
  const tor = await Bird.start(lab, torNs, {
    routerId: TOR.ipv4, localAs: TOR.as,
    neighbors: [{ address: NODE, as: TOR.as, rrClient: true, localAddress: TOR.ipv4, connectRetry: 1, families: ['ipv4'], routeRefresh: false }],
    routes: { ipv4: ['0.0.0.0/0'] },
  });
  const doc = agentDoc(0);
  doc.node.ipv6Address = '';
  doc.blocks = [BLOCK];
  doc.pools = [doc.pools[0]];
  const agent = await Agent.start(lab, ns, doc);
  const before = await agent.waitEstablished([TOR.ipv4]);
  t.false(before.peers[0].capabilities?.includes('route refresh'), 'BIRD offered no route refresh');
  t.false((await lab.ip(ns, 'route', 'show', 'proto', '201')).stdout.includes('default'), 'outside the pools: refused');
  doc.policy = { import: [{ match: { prefix: '0.0.0.0/0', exact: true } }] };
  agent.writeConfig(doc);
  const reloaded = await agent.ctl(['reload', '-o', 'json']);
  t.like(JSON.parse(reloaded.stdout), { importRulesChanged: true, peersRefreshed: [TOR.ipv4] });
  await waitFor(async () => (await lab.ip(ns, 'route', 'show', 'proto', '201')).stdout.includes(`default via ${TOR.ipv4}`), { timeoutMs: 20_000, what: 'the default route in our kernel after the session restart' });
  await agent.waitEstablished([TOR.ipv4]);
  t.true(agent.logs().includes('sent NOTIFICATION: Cease / Other Configuration Change'), 'the session was restarted');
  t.true((await tor.neighbor(NODE)).established);
});
