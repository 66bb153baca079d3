/**
 * BFD with BIRD 2 as the ToR (`protocol bfd`, `bfd on`), IPv4 and IPv6, with the real agent in
 * network namespaces (bfd-lab.ts): sessions Up on both sides, a SIGSTOPped ToR detected within
 * Detect Mult x interval and its routes out of the kernel soon after (measured, logged), back after
 * SIGCONT. Then reload: BFD retuned on a peer without its BGP session moving, and switched off on the other.
 * It fails without BFD: with the 90 s hold time the routes would stay for the whole 8 s bound.
 */

import test from 'ava';
import { Bird } from '../helpers/bird.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';
import { agentDoc, AS, BFD, bfdInterop, DROP_BFD, installed, nft, nftCounter, TOR, TOR6, V4 } from './bfd-lab.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('BFD interop with BIRD', (t) => t.log(`skipped: ${rootSkipReason}`));

const bird = { name: 'BIRD', lab: 'bfdbird', start: Bird.start.bind(Bird), bfdState: (tor: Bird, address: string) => tor.bfdState(address), torUpMs: 10_000 };

/** Counts what the node sends to the IPv6 ToR's BFD port with State AdminDown (RFC 5880 s4.1: the top 2 bits of byte 1). */
const COUNT_ADMIN_DOWN = `table inet bfdcount {
  counter admindown { }
  chain out { type filter hook output priority 0; ip6 daddr ${TOR6} udp dport 3784 @th,72,2 0 counter name "admindown"; }
}
`;

nsTest('BIRD 2: BFD Up for IPv4 and IPv6, a frozen ToR detected within 3 x 100 ms, routes out of the kernel, back on SIGCONT; reload retunes without a flap', async (t) => {
  await bfdInterop(t, bird, async ({ agent, freezeTor, lab, nodeNs }) => {
    for (const p of (await agent.status()).peers) {
      t.like(p.bfd, { minRxMs: 100, minTxMs: 100, txIntervalMs: 100 });
      t.not(p.bfd?.remoteDiscriminator, 0);
    }
    const detail = await agent.ctl(['peers', TOR]);
    t.regex(detail.stdout, /BFD:\s+Up since/);
    t.regex(detail.stdout, /BFD timers:\s+tx 100 ms, detect 300 ms/);

    await freezeTor();

    // Reload: retune one peer (Poll Sequence) and switch BFD off on the other: no BGP flap.
    const before = (await agent.status()).peers;
    const since = new Map<string, string>(before.map((p) => [p.address, p.since]));
    // BIRD may restart its own BFD session after SIGCONT (its detection timer fired while frozen):
    // a second Down then, legitimately. What counts is that the reload adds none.
    const downs = before.find((p) => p.address === TOR)?.bfd?.downCount ?? 0;
    t.true(downs >= 1, 'the freeze was seen');
    const est4 = agent.logs().split('\n').filter((l) => l.includes('[session 10.0.3.1] state change') && l.includes('-> Established')).length;
    await nft(lab, nodeNs, COUNT_ADMIN_DOWN);
    agent.writeConfig({ ...agentDoc, bgp: { ...agentDoc.bgp, peers: [{ peerIP: TOR, asNumber: 64512, bfd: { minTxMs: 200, minRxMs: 200 } }, { peerIP: TOR6, asNumber: 64512, bfd: { enabled: false } }] } });
    const reload = await agent.ctl(['reload']);
    t.is(reload.status, 0, reload.stdout + reload.stderr);
    await waitFor(async () => {
      const p = (await agent.status()).peers;
      const v4 = p.find((x) => x.address === TOR);
      const v6 = p.find((x) => x.address === TOR6);
      return v4?.bfd?.txIntervalMs === 200 && v4.bfd.state === 'Up' && v6 !== undefined && v6.bfd === undefined;
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'BFD retuned on the IPv4 peer and gone from the IPv6 peer' });
    const after = await agent.status();
    const v4 = after.peers.find((p) => p.address === TOR);
    t.is(v4?.state, 'Established');
    t.is(v4?.since, since.get(TOR) ?? '', 'the retuned peer\'s BGP session did not move');
    t.is(agent.logs().split('\n').filter((l) => l.includes('[session 10.0.3.1] state change') && l.includes('-> Established')).length, est4, 'no IPv4 BGP flap');
    // BFD off on our side sends AdminDown (RFC 5880 section 6.8.16). RFC 5882 section 3.2 says the
    // peer must not take that as a failure, but BIRD 2.0.12 ends its BGP session (Cease): observed,
    // so the session must at least come back at once, not held by BFD.
    await agent.waitEstablished([TOR6], 15_000);
    t.false(agent.logs().includes('[session fd00:3::1] BFD: neighbor down (Administratively Down)'));
    // RFC 5880 section 6.8.16: AdminDown for a Detection Time (3 x 100 ms at 75-100 ms), not once.
    const adminDown = await waitFor(async () => {
      const n = await nftCounter(lab, nodeNs, 'bfdcount', 'admindown');
      return n >= 3 ? n : undefined;
    }, { timeoutMs: 5_000, intervalMs: 100, what: 'at least 3 AdminDown packets to the IPv6 ToR' });
    t.log(`AdminDown packets sent when BFD was switched off: ${adminDown}`);
    t.true(adminDown <= 6, `${adminDown} AdminDown packets: a Detection Time's worth, then the session closed`);
    t.like(after.peers.find((p) => p.address === TOR)?.bfd, { downCount: downs }, 'the retune took BFD down nowhere');
    t.log(`BFD parameters: ${JSON.stringify(BFD)}`);
  });
});

/**
 * A ToR whose BFD goes silent without AdminDown (nftables drops UDP 3784 both ways in its
 * namespace): both BFD sessions go Down and take BGP down. The IPv4 peer has `bfd.strict: false`
 * (the default): its BGP session comes back Established while BFD stays Down. The IPv6 peer has
 * `strict: true` (RFC 9384-style): it stays down until the drop goes, then BFD Up, then BGP.
 */
nsTest('BIRD 2: BFD silent without AdminDown: strict false brings BGP back while BFD stays Down, strict true waits for BFD Up', async (t) => {
  const doc = { ...agentDoc, bgp: { ...agentDoc.bgp, peers: [{ peerIP: TOR, asNumber: AS, bfd: { strict: false } }, { peerIP: TOR6, asNumber: AS, bfd: { strict: true } }] } };
  await bfdInterop(t, { ...bird, lab: 'bfdstrict', doc }, async ({ agent, lab, nodeNs, torNs }) => {
    const peer = async (address: string) => (await agent.status()).peers.find((p) => p.address === address);
    await nft(lab, torNs, DROP_BFD);
    await waitFor(async () => (await peer(TOR))?.bfd?.state === 'Down' && (await peer(TOR6))?.bfd?.state === 'Down', { timeoutMs: 5_000, intervalMs: 50, what: 'both BFD sessions Down' });
    const t0 = Date.now();
    // Not strict: BGP back (after our idle hold of 5 s) with BFD still Down, routes installed.
    await waitFor(async () => {
      const p = await peer(TOR);
      return p?.state === 'Established' && p.bfd?.state === 'Down';
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'the IPv4 peer (strict false) Established while its BFD is Down' });
    t.log(`strict false: BGP Established ${Date.now() - t0} ms after BFD Down, BFD still Down`);
    await waitFor(async () => (await installed(lab, nodeNs)).v4 === V4.length, { timeoutMs: 20_000, intervalMs: 100, what: 'the IPv4 routes back while BFD is Down' });
    // Strict: still down, after longer than the idle hold that brought the IPv4 peer back.
    const held = await peer(TOR6);
    t.not(held?.state, 'Established');
    t.is(held?.bfd?.state, 'Down');
    t.is((await installed(lab, nodeNs)).v6, 0);
    // The index the next line will have: the log ends with a newline, so the last element is ''.
    const markAt = agent.logs().split('\n').length - 1;
    await nft(lab, torNs, 'delete table inet bfddrop\n');
    await waitFor(async () => {
      const p = await peer(TOR6);
      return p?.state === 'Established' && p.bfd?.state === 'Up';
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'the IPv6 peer (strict true) BFD Up, then Established' });
    const lines = agent.logs().split('\n');
    const after = (what: (l: string) => boolean) => lines.findIndex((l, i) => i >= markAt && what(l));
    const bfdUp = after((l) => l.includes('BFD state change') && l.includes('-> Up') && l.includes(TOR6));
    const est6 = after((l) => l.includes(`[session ${TOR6}] state change`) && l.includes('-> Established'));
    t.true(bfdUp > 0 && est6 > bfdUp, `the strict session came up only after BFD Up (lines ${bfdUp}, ${est6})`);
    // The IPv4 peer's BFD comes Up too and takes over; its BGP session did not move for it.
    await waitFor(async () => (await peer(TOR))?.bfd?.state === 'Up', { timeoutMs: 15_000, intervalMs: 200, what: 'the IPv4 BFD Up again' });
    t.is((await peer(TOR))?.state, 'Established');
  });
});
