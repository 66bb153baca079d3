/**
 * BFD with FRR 8.4 as the ToR: bgpd with `neighbor X bfd 3 100 100`, bfdd reached through zebra
 * (test/helpers/frr.ts runs all three), IPv4 and IPv6 sessions, with the real agent in network
 * namespaces (bfd-lab.ts): sessions Up on both sides, a frozen ToR (bgpd and bfdd SIGSTOPped)
 * detected within Detect Mult x interval and its routes out of the kernel soon after (measured,
 * logged), back after SIGCONT. It fails without BFD: with the 90 s hold time the routes would stay
 * for the whole bound.
 */

import test from 'ava';
import { Frr } from '../helpers/frr.js';
import { isRoot, rootSkipReason } from '../helpers/netns.js';
import { bfdInterop } from './bfd-lab.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('BFD interop with FRR', (t) => t.log(`skipped: ${rootSkipReason}`));

nsTest('FRR 8.4 bfdd: BFD Up for IPv4 and IPv6, a frozen ToR detected within 3 x 100 ms, routes out of the kernel, back on SIGCONT', async (t) => {
  const frr = { name: 'FRR', lab: 'bfdfrr', start: Frr.start.bind(Frr), bfdState: (tor: Frr, address: string) => tor.bfdState(address), torUpMs: 15_000 };
  await bfdInterop(t, frr, async ({ torUp, freezeTor }) => {
    await freezeTor();
    await torUp('FRR to show both BFD sessions Up again');
  });
});
