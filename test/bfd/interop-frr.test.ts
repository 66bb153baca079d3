/**
 * BFD with FRR 8.4 as the ToR: bgpd with `neighbor X bfd 3 100 100`, bfdd reached through zebra
 * (test/helpers/frr.ts runs all three), IPv4 and IPv6 sessions, with the real agent in network
 * namespaces (bfd-lab.ts): sessions Up on both sides, a frozen ToR (bgpd and bfdd SIGSTOPped)
 * detected within Detect Mult x interval and its routes out of the kernel soon after (measured,
 * logged), back after SIGCONT. It fails without BFD: with the 90 s hold time the routes would stay
 * for the whole bound.
 */

import test from 'ava';
import { Agent } from '../helpers/agent.js';
import { Frr } from '../helpers/frr.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';
import { agentDoc, bothUp, remoteUp, freeze, installed, NODE, NODE6, TOR, TOR6, torOptions, V4, V6 } from './bfd-lab.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('BFD interop with FRR', (t) => t.log(`skipped: ${rootSkipReason}`));

nsTest('FRR 8.4 bfdd: BFD Up for IPv4 and IPv6, a frozen ToR detected within 3 x 100 ms, routes out of the kernel, back on SIGCONT', async (t) => {
  const lab = await Lab.create('bfdfrr');
  let tor: Frr | undefined;
  let agent: Agent | undefined;
  try {
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(torNs, { ipv4: `${TOR}/24`, ipv6: `${TOR6}/64` }, nodeNs, { ipv4: `${NODE}/24`, ipv6: `${NODE6}/64` });
    tor = await Frr.start(lab, torNs, torOptions());
    agent = await Agent.start(lab, nodeNs, agentDoc);
    await bothUp(agent, 30_000);
    const f = tor;
    await waitFor(async () => (await f.bfdState(NODE)) === 'Up' && (await f.bfdState(NODE6)) === 'Up', { timeoutMs: 15_000, intervalMs: 200, what: 'FRR to show both BFD sessions Up' });
    await waitFor(async () => {
      const n = await installed(lab, nodeNs);
      return n.v4 === V4.length && n.v6 === V6.length;
    }, { timeoutMs: 20_000, intervalMs: 100, what: "the ToR's routes in the kernel" });
    await remoteUp(agent);
    for (const p of (await agent.status()).peers) {
      t.like(p.bfd, { state: 'Up', remoteState: 'Up', multiplier: 3 });
      t.true((p.bfd?.detectTimeMs ?? 0) <= 300, `detect time ${p.bfd?.detectTimeMs}`);
    }

    const r = await freeze(t, lab, nodeNs, agent, tor);
    t.log(`FRR frozen: BFD Down after ${r.detectMs.ipv4} ms (IPv4), ${r.detectMs.ipv6} ms (IPv6); routes out of the kernel after ${r.routesGoneMs} ms; back ${r.backMs} ms after SIGCONT`);
    t.true(r.detectMs.ipv4 <= 2000 && r.detectMs.ipv6 <= 2000, 'BFD Down within the bound');
    t.true(r.routesGoneMs <= 4000, 'routes gone within the bound');
    await waitFor(async () => (await f.bfdState(NODE)) === 'Up' && (await f.bfdState(NODE6)) === 'Up', { timeoutMs: 15_000, intervalMs: 200, what: 'FRR to show both BFD sessions Up again' });
  } catch (err) {
    if (agent) t.log(agent.logs().split('\n').slice(-80).join('\n'));
    if (tor) t.log(tor.logs().split('\n').slice(-40).join('\n'));
    throw err;
  } finally {
    await agent?.dispose();
    await tor?.dispose();
    await lab.destroy();
  }
});
