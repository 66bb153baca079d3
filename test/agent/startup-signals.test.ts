/**
 * Signals during start-up (issue 11 item 2): the handlers exist before anything else loads
 * (agent/daemon/signals.ts), so a SIGTERM or SIGINT that arrives while the agent is still starting is a
 * clean stop (exit 0, kernel routes untouched), and a SIGHUP is a reload once the agent runs, not
 * the default actions' exits 143, 130 and 129. The start-up is made long enough to hit for sure:
 * 100,000 routes of ours are in the namespace's kernel, so the start-up dump takes a while; the
 * signal goes as soon as the agent logs `rack-agent starting`, before it opens the kernel table.
 */

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { isRoot, Lab, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('start-up signals', (t) => t.log(`skipped: ${rootSkipReason}`));

const NODE = '10.0.4.11';
const ROUTES = 100_000;

const doc: ConfigDoc = {
  node: { name: 'n0', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: 64512, peers: [{ peerIP: '10.0.4.1', asNumber: 64512 }] },
  pools: [{ cidr: '172.16.0.0/12', blockSize: 26, ipipMode: 'Never' }],
  blocks: ['172.31.255.192/26'],
};

let lab: Lab | undefined;
let ns = '';
let agent: Agent | undefined;

test.before(async () => {
  if (!isRoot) return;
  lab = await Lab.create('startsig');
  ns = await lab.namespace('node');
  const peer = await lab.namespace('peer');
  await lab.veth(peer, '10.0.4.1/24', ns, `${NODE}/24`);
  // Routes of ours (protocol 201) as a previous run would have left them.
  const lines = Array.from({ length: ROUTES }, (_, i) => `route add blackhole 10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 proto 201`);
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-test-'));
  try {
    writeFileSync(join(dir, 'routes.batch'), `${lines.join('\n')}\n`);
    await lab.ip(ns, '-batch', join(dir, 'routes.batch'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  agent = await Agent.start(lab, ns, doc, { launch: false });
});

test.after.always(async () => {
  await agent?.dispose().catch(() => undefined);
  await lab?.destroy();
});

/** The previous run's routes (10.64.0.0/15 blackholes of protocol 201) still in the kernel. */
async function leftRoutes(): Promise<number> {
  const { stdout } = await lab!.ip(ns, '-4', 'route', 'show', 'proto', '201', 'root', '10.64.0.0/15');
  return stdout.split('\n').filter((l) => l.startsWith('blackhole 10.6')).length;
}

/** Starts the agent and waits until it logs that it is starting (before it opens the kernel table). */
async function startingAgent(): Promise<Agent> {
  const a = agent!;
  await a.launch(false);
  await waitFor(() => /rack-agent starting/.test(a.logs()), { timeoutMs: 20_000, what: 'the agent to log that it is starting' });
  return a;
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  nsTest(`${signal} during start-up: exit 0, every kernel route stays (5 runs)`, async (t) => {
    for (let run = 0; run < 5; run++) {
      const a = await startingAgent();
      const exit = await a.kill(signal, 30_000);
      if (exit?.code !== 0) t.log(a.logs().split('\n').slice(-30).join('\n'));
      t.deepEqual(exit, { code: 0, signal: null }, `run ${run}`);
      t.regex(a.logs(), new RegExp(`${signal} during start-up: stopping`), `run ${run}: stopped as a start-up stop`);
      a.history.length = 0;
    }
    t.is(await leftRoutes(), ROUTES, 'no route of ours was deleted');
  });
}

nsTest('SIGHUP during start-up: the agent runs on and reloads once it is up', async (t) => {
  const a = await startingAgent();
  a.signal('SIGHUP');
  await waitFor(() => /SIGHUP: reloading the configuration/.test(a.logs()), { timeoutMs: 30_000, what: 'the reload after start-up' });
  t.true(a.running, 'still running');
  t.regex(a.logs(), /rack-agent running[\s\S]*SIGHUP: reloading/);
  t.deepEqual(await a.kill('SIGTERM', 30_000), { code: 0, signal: null });
});
