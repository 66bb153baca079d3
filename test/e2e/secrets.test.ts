/**
 * No secret in any output (issue 6): an agent whose ToR session uses TCP MD5 from a password file
 * comes up against BIRD 2 with the same key, and the key is nowhere in its debug log, its status
 * answers, its routes answer or its reload answer.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot } from '../helpers/netns.js';
import { agentAddress, agentDoc, TOR } from './fabric.js';

const KEY = 'MARKER-md5-s3cret-4b1d';

test.serial('the MD5 key never appears in logs or answers', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'secret');
  const tor = await lab.namespace('tor');
  const n0 = await lab.namespace('n0');
  await lab.veth(tor, `${TOR.ipv4}/24`, n0, `${agentAddress(0).ipv4}/24`);
  await Bird.start(lab, tor, {
    routerId: TOR.ipv4,
    localAs: TOR.as,
    neighbors: [{ address: agentAddress(0).ipv4, as: TOR.as, rrClient: true, password: KEY, connectRetry: 1, families: ['ipv4'] }],
  });
  const doc = agentDoc(0);
  doc.node.ipv6Address = '';
  doc.pools = [doc.pools[0]];
  doc.blocks = [doc.blocks[0]];
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-secret-'));
  const keyFile = join(dir, 'tor.key');
  writeFileSync(keyFile, `${KEY}\n`);
  chmodSync(keyFile, 0o600);
  doc.bgp.peers = [{ peerIP: TOR.ipv4, asNumber: TOR.as, passwordFile: keyFile }];
  const agent = await Agent.start(lab, n0, doc, { dir });
  await agent.waitEstablished();
  const outputs = [
    (await agent.ctl(['status', '-o', 'json'])).stdout,
    (await agent.ctl(['status'])).stdout,
    (await agent.ctl(['peers', '-o', 'json'])).stdout,
    (await agent.ctl(['routes', '-o', 'json'])).stdout,
    (await agent.ctl(['reload', '-o', 'json'])).stdout,
  ];
  t.true(outputs[0].includes('"state":"Established"'), 'the MD5 session is up');
  const log = agent.logs();
  t.true(log.includes('OpenConfirm -> Established') && log.includes(' debug '), 'the debug log of the MD5 session was captured');
  for (const text of [...outputs, log]) t.false(text.includes('s3cret'), text.slice(0, 2000));
});
