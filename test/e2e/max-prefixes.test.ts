/**
 * maxPrefixes end to end: a BIRD 2 ToR announces more prefixes than the agent's peer allows; the
 * agent ends the session with Cease / Maximum Number of Prefixes Reached (RFC 4486 subcode 1; BIRD
 * does not send the N bit, so no Hard Reset around it), BIRD reports exactly that, the session
 * stays down, and none of the peer's routes is in the kernel.
 */
import test from 'ava';
import { Agent } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('max-prefixes test', (t) => t.log(`skipped: ${rootSkipReason}`));

nsTest('more prefixes than maxPrefixes: Cease subcode 1, the session stays down, nothing installed', async (t) => {
  const lab = await useLab(t, 'maxpfx');
  const torNs = await lab.namespace('tor');
  const nodeNs = await lab.namespace('node');
  await lab.veth(torNs, '10.0.3.1/24', nodeNs, '10.0.3.11/24');
  const routes = Array.from({ length: 20 }, (_, i) => `172.16.${i}.0/26`);
  const tor = await Bird.start(lab, torNs, {
    routerId: '10.0.3.1', localAs: 64512, routes: { ipv4: routes },
    neighbors: [{ address: '10.0.3.11', as: 64512, localAddress: '10.0.3.1', connectRetry: 1, families: ['ipv4'], gracefulRestart: true }],
  });
  const agent = await Agent.start(lab, nodeNs, {
    node: { name: 'n0', ipv4Address: '10.0.3.11/24' },
    bgp: { asNumber: 64512, gracefulRestart: { enabled: true, restartTime: 30 }, peers: [{ peerIP: '10.0.3.1', asNumber: 64512, maxPrefixes: 10 }] },
    pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
    blocks: ['172.31.255.192/26'],
    log: { level: 'info' },
  });
  const n = await waitFor(async () => {
    const s = await tor.neighbor('10.0.3.11');
    return /Maximum number of prefixes reached/i.test(s.lastError) ? s : undefined;
  }, { timeoutMs: 20_000, what: 'BIRD to receive Cease / Maximum Number of Prefixes Reached' });
  t.regex(n.lastError, /^Received: /);
  t.notRegex(n.lastError, /Hard reset/i);
  const status = await agent.status();
  t.is(status.peers[0]?.state, 'Idle');
  t.regex(status.peers[0]?.lastError ?? '', /Maximum Number of Prefixes Reached/);
  const { stdout } = await lab.ip(nodeNs, '-4', 'route', 'show', 'proto', '201');
  t.deepEqual(stdout.trim().split('\n').map((l) => l.trim()), ['blackhole 172.31.255.192/26'], 'only our own block');
  t.regex(agent.logs(), /ceasing the session: maximum number of prefixes reached \(10\)/);
});
