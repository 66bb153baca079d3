/**
 * BFD keeps time under load (the worker-thread choice, agent/bfd/worker.ts): the real agent takes
 * a full table of 1,000,000 IPv4 /26 from a BIRD 2 route reflector on one session (RIB, and the
 * kernel FIB: every route installed) while a second ToR, another BIRD 2, runs BFD 100 ms x 3 with
 * it. Asserts: every prefix received and installed, and the BFD session never leaves Up, on both
 * sides (the agent's down count and log; BIRD's session state at the end). A main event loop
 * stalled for 300 ms would fail it if BFD ran there. `LOAD_PREFIXES=n` changes the table size.
 */

import test from 'ava';
import { Agent } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';

const PREFIXES = Number(process.env.LOAD_PREFIXES ?? 1_000_000);
// About 12 s here: part of `npm test`. (It once failed at a million because the feed, counted up
// from 10.0.0.0, outgrew its /8 pool at 262,144 prefixes and then covered the lab's own links.)
const run = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('BFD load test', (t) => t.log(`skipped: ${rootSkipReason}`));
const BFD = { minRxMs: 100, minTxMs: 100, multiplier: 3 };

function prefixes(n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    // 64.0.0.0/6 holds 1,048,576 /26: the whole feed fits the pool, and none of it covers the
    // lab's own links (10.201/10.202), which a feed from 10.0.0.0 up would hijack past 10.201.
    const a = (0x40000000 + i * 64) >>> 0;
    out[i] = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/26`;
  }
  return out;
}

run(`a feed of ${PREFIXES} prefixes on one session does not take down a 100 ms x 3 BFD session on another`, async (t) => {
  t.timeout(300_000);
  const lab = await Lab.create('bfdload');
  let rr: Bird | undefined;
  let tor: Bird | undefined;
  let agent: Agent | undefined;
  try {
    const rrNs = await lab.namespace('rr');
    const torNs = await lab.namespace('tor');
    const nodeNs = await lab.namespace('node');
    await lab.veth(rrNs, '10.201.0.1/24', nodeNs, '10.201.0.2/24');
    await lab.veth(torNs, '10.202.0.1/24', nodeNs, '10.202.0.2/24');
    rr = await Bird.start(lab, rrNs, { routerId: '10.201.0.1', localAs: 65100, neighbors: [{ address: '10.201.0.2', as: 65100, localAddress: '10.201.0.1', families: ['ipv4'] }], routes: { ipv4: prefixes(PREFIXES) } });
    tor = await Bird.start(lab, torNs, { routerId: '10.202.0.1', localAs: 65100, neighbors: [{ address: '10.202.0.2', as: 65100, localAddress: '10.202.0.1', families: ['ipv4'], bfd: BFD }] });
    agent = await Agent.start(lab, nodeNs, {
      node: { name: 'n0', ipv4Address: '10.202.0.2/24' },
      bgp: { asNumber: 65100, peers: [{ peerIP: '10.202.0.1', asNumber: 65100, bfd: { enabled: true, ...BFD } }, { peerIP: '10.201.0.1', asNumber: 65100, sourceAddress: 'None' }] },
      pools: [{ cidr: '64.0.0.0/6', blockSize: 26, ipipMode: 'Never' }],
      log: { level: 'info' },
    });
    const a = agent;
    const b = tor;
    await waitFor(async () => (await a.status()).peers.find((p) => p.address === '10.202.0.1')?.bfd?.state === 'Up' && (await b.bfdState('10.202.0.2')) === 'Up',
      { timeoutMs: 30_000, intervalMs: 200, what: 'BFD Up with the ToR' });
    const t0 = Date.now();
    await waitFor(async () => {
      const s = await a.status();
      if (process.env.LOAD_TRACE) console.error(Date.now() - t0, JSON.stringify(s.peers.map((p) => [p.state, p.prefixes.received, p.bfd?.state])), JSON.stringify(s.fib));
      return s.peers.find((p) => p.address === '10.201.0.1')?.prefixes.received === PREFIXES && s.fib.routes >= PREFIXES && s.fib.inSync;
    }, { timeoutMs: PREFIXES > 10_000 ? 180_000 : 20_000, intervalMs: 1000, what: `${PREFIXES} prefixes received and in the kernel` });
    const fed = Date.now() - t0;
    const s = await a.status();
    const bfd = s.peers.find((p) => p.address === '10.202.0.1')?.bfd;
    t.log(`${PREFIXES} prefixes received and installed in ${fed} ms; BFD ${bfd?.state}, up ${bfd?.upCount}, down ${bfd?.downCount}, packets in ${bfd?.packetsIn}`);
    t.is(bfd?.state, 'Up');
    t.is(bfd?.downCount, 0, 'BFD never left Up');
    t.false(a.logs().includes('BFD state change Up -> Down'), 'no BFD Down in the log');
    t.is(await b.bfdState('10.202.0.2'), 'Up', 'BIRD still sees BFD Up');
    t.is(s.peers.find((p) => p.address === '10.202.0.1')?.state, 'Established');
    t.true(!b.logs().includes('BFD session down'), 'BIRD logged no BFD session down');
  } catch (err) {
    if (agent) t.log(JSON.stringify((await agent.status().catch(() => undefined))?.peers.map((p) => [p.address, p.state, p.info, p.prefixes]) ?? []), agent.logs().split('\n').filter((l) => !l.includes('BFD state')).slice(-25).join('\n'));
    throw err;
  } finally {
    await agent?.dispose();
    await tor?.dispose();
    await rr?.dispose();
    await lab.destroy();
  }
});
