/**
 * Reload (issue 6): SIGHUP and `agentctl reload` apply only what changed. A peer added starts, a
 * peer removed stops, a block changed is announced and blackholed (and the old one withdrawn and
 * deleted), a bad file is refused with every problem and the running config stays. Untouched
 * sessions keep their SINCE throughout; the kernel and the ToR follow.
 */
import test from 'ava';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, type Lab, waitFor } from '../helpers/netns.js';
import { agentDoc, buildFabric, TOR } from './fabric.js';

const kernel = async (lab: Lab, ns: string): Promise<string> => (await lab.ip(ns, 'route', 'show', 'proto', '201')).stdout;

test.serial('reload: add a peer, remove it, change a block, refuse a bad file', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'reload');
  const f = await buildFabric(lab, 2);
  const [n0, n1] = f.agents;
  await n0.waitEstablished();
  await n1.waitEstablished();
  const torSince = (await n0.status()).peers[0].since;
  const sinceKept = async (): Promise<void> => {
    const tor = (await n0.status()).peers.find((p) => p.address === TOR.ipv4);
    t.is(tor?.since, torSince, 'the ToR session was not touched');
    t.is(tor?.state, 'Established');
  };

  // 1. Add a peer (nobody answers there): it starts, the ToR session is untouched.
  const doc = agentDoc(0);
  doc.bgp.peers.push({ peerIP: '10.0.1.99', asNumber: TOR.as });
  n0.writeConfig(doc);
  const added = await n0.ctl(['reload', '-o', 'json']);
  t.is(added.status, 0, added.stdout + added.stderr);
  t.deepEqual(JSON.parse(added.stdout).peersAdded, ['10.0.1.99']);
  const withNew = await n0.status();
  t.deepEqual(withNew.peers.map((p) => p.address), ['10.0.1.1', '10.0.1.99']);
  t.not(withNew.peers[1].state, 'Established');
  await sinceKept();

  // 2. Remove it again, by SIGHUP this time.
  doc.bgp.peers.pop();
  n0.writeConfig(doc);
  n0.signal('SIGHUP');
  await waitFor(async () => (await n0.status()).peers.length === 1, { timeoutMs: 10_000, what: 'the removed peer to go' });
  await sinceKept();

  // 3. Change a block: the new one is blackholed here and reaches n1; the old one goes from both.
  doc.blocks = ['192.168.0.128/26', doc.blocks[1]];
  n0.writeConfig(doc);
  n0.signal('SIGHUP');
  await waitFor(async () => {
    const k = await kernel(lab, f.agentNs[0]);
    return k.includes('blackhole 192.168.0.128/26') && !k.includes('blackhole 192.168.0.0/26');
  }, { timeoutMs: 10_000, what: 'n0 to blackhole its new block and drop the old one' });
  await waitFor(async () => {
    const k = await kernel(lab, f.agentNs[1]);
    return k.includes('192.168.0.128/26 via 10.0.1.11') && !k.includes('192.168.0.0/26') ? k : undefined;
  }, { timeoutMs: 10_000, what: 'n1 to learn the new block and lose the old one' });
  await sinceKept();

  // 4. A bad file: refused with every problem named, nothing changes.
  n0.writeRaw('node:\n  ipv4Address: 10.0.1.11\nbgp:\n  holdTime: 1\n  peers: [{peerIP: 10.0.1.1, asNumber: 64512}]\nbogus: 1\n');
  const bad = await n0.ctl(['reload']);
  t.is(bad.status, 1);
  const said = bad.stdout + bad.stderr;
  for (const key of ['node.ipv4Address', 'bgp.holdTime', 'bogus']) t.true(said.includes(key), `names ${key}: ${said}`);
  n0.signal('SIGHUP');
  await waitFor(() => n0.logs().split('\n').filter((l) => l.includes('reload refused')).length >= 2, { timeoutMs: 10_000, what: 'the SIGHUP refusal in the log' });
  t.true(n0.running);
  await sinceKept();
  t.true((await kernel(lab, f.agentNs[0])).includes('blackhole 192.168.0.128/26'));
  const wait = await n0.ctl(['wait', '--timeout', '10']);
  t.is(wait.status, 0, wait.stdout);
});
