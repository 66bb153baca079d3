/**
 * Routing policy and drain as FRR 8.4 reads them (issue 23, "Interop": communities, large
 * communities, LOCAL_PREF, MED and graceful shutdown asserted from the ToR's side, here `show bgp
 * ipv4 unicast PREFIX json`): one agent between an iBGP FRR ToR (route reflector) and an eBGP FRR
 * ToR, the export rule of test/e2e/policy-drain.test.ts (BIRD's twin), then `agentctl drain`:
 * both ToRs see 65535:0 (FRR names it `graceful-shutdown`), the iBGP one LOCAL_PREF 0, the eBGP one
 * three more prepends; undrain reverts.
 */
import test from 'ava';
import { Agent } from '../helpers/agent.js';
import type { DaemonRoute } from '../helpers/bgp-daemon.js';
import { Frr } from '../helpers/frr.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { TOR } from './fabric.js';
import { BLOCK, EBGP, NODE, policyDoc, policyLan } from './policy-lab.js';

const GSHUT = (c: readonly string[]): boolean => c.includes('65535:0') || c.includes('graceful-shutdown') || c.includes('gshut');

test.serial('policy and drain: what FRR ToRs see (communities, large communities, MED, LOCAL_PREF, prepend, graceful shutdown)', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'polfrr');
  const { torNs, ebgpNs, ns } = await policyLan(lab);
  const neighbor = { address: NODE, connectRetry: 1, families: ['ipv4'] as const };
  const tor = await Frr.start(lab, torNs, { routerId: TOR.ipv4, localAs: TOR.as, neighbors: [{ ...neighbor, as: TOR.as, rrClient: true }] });
  const tor2 = await Frr.start(lab, ebgpNs, { routerId: EBGP.ipv4, localAs: EBGP.as, neighbors: [{ ...neighbor, as: TOR.as }] });
  const doc = policyDoc();
  const agent = await Agent.start(lab, ns, doc);
  await agent.waitEstablished([TOR.ipv4, EBGP.ipv4]);

  const seen = (frr: Frr, check: (r: DaemonRoute) => boolean, what: string): Promise<DaemonRoute> =>
    waitFor(async () => (await frr.routes('ipv4')).find((r) => r.prefix === BLOCK && r.from === NODE && check(r)), { timeoutMs: 15_000, what });
  const ibgp = await seen(tor, (r) => r.communities.includes('64512:10'), 'the iBGP ToR to get our block with the community');
  t.like(ibgp, { med: 10, localPref: 100, asPath: [], largeCommunities: ['64512:1:2'] });
  const ebgp = await seen(tor2, (r) => r.communities.includes('64512:10'), 'the eBGP ToR to get our block with the community');
  t.like(ebgp, { med: 10, asPath: [64512, 64512], largeCommunities: ['64512:1:2'] });

  t.is((await agent.ctl(['drain'])).status, 0);
  const di = await seen(tor, (r) => GSHUT(r.communities), 'the iBGP ToR to see graceful shutdown');
  t.like(di, { localPref: 0, med: 10 });
  t.true(di.communities.includes('64512:10'), JSON.stringify(di.communities));
  const de = await seen(tor2, (r) => GSHUT(r.communities), 'the eBGP ToR to see graceful shutdown');
  t.deepEqual(de.asPath, [64512, 64512, 64512, 64512, 64512], 'three more prepends toward eBGP');
  t.log(`FRR shows the drained path's communities as ${JSON.stringify(de.communities)}`);

  t.is((await agent.ctl(['undrain'])).status, 0);
  const ui = await seen(tor, (r) => !GSHUT(r.communities), 'the iBGP ToR to see the path without graceful shutdown');
  t.is(ui.localPref, 100);
  const ue = await seen(tor2, (r) => !GSHUT(r.communities), 'the eBGP ToR to see the path without graceful shutdown');
  t.deepEqual(ue.asPath, [64512, 64512]);
});
