/**
 * Control socket abuse against the REAL agent (issue 6 must-show 4; test/control/abuse.test.ts
 * does the same in depth against a stand-in): 1,000 garbage lines, a 10 MB line, 100 clients at
 * once, a client that never reads. Afterwards the daemon answers, its BGP session to the ToR is
 * the same session (SINCE unchanged, Established), and its memory grew only within a loose bound.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rawClient } from '../control/helpers.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { buildFabric } from './fabric.js';

async function rssKiB(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

test.serial('the real daemon shrugs off control socket abuse', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'abuse');
  const f = await buildFabric(lab, 1);
  const agent = f.agents[0];
  const before = await agent.waitEstablished();
  const since = before.peers[0].since;
  const pid = agent.pid as number;
  const rss0 = await rssKiB(pid);

  const garbage = await rawClient(agent.socket);
  const lines = Array.from({ length: 1000 }, (_, i) => Buffer.concat([Buffer.from(i % 2 ? '{"id":' : '#'), randomBytes(50).map((b) => (b === 10 ? 32 : b)), Buffer.from('\n')]));
  garbage.send(Buffer.concat(lines));
  const answers = await garbage.answersAtLeast(1000, 30_000);
  t.true(answers.slice(0, 1000).every((a) => a.ok === false), 'every garbage line answered with an error');
  garbage.close();

  const big = await rawClient(agent.socket);
  big.socket.on('error', () => undefined);
  big.socket.write(Buffer.alloc(10 * 1024 * 1024, 0x61));
  t.is(((await big.answersAtLeast(1, 30_000))[0].error as { code: string }).code, 'TOO_LARGE');
  big.close();

  const clients = await Promise.all(Array.from({ length: 100 }, () => rawClient(agent.socket)));
  clients.forEach((c, i) => c.send(`{"id":${i},"cmd":"status"}\n`));
  const all = await Promise.all(clients.map((c) => c.answersAtLeast(1, 30_000)));
  t.true(all.every((a, i) => a[0].id === i && a[0].ok === true), '100 clients answered');
  for (const c of clients) c.close();

  const sleeper = await rawClient(agent.socket);
  sleeper.socket.on('error', () => undefined);
  sleeper.socket.pause();
  sleeper.send(Array.from({ length: 20_000 }, (_, i) => `{"id":${i},"cmd":"status"}\n`).join(''));
  await waitFor(() => agent.logs().includes('does not read its answers'), { timeoutMs: 30_000, what: 'the non-reading client to be dropped' });
  sleeper.socket.resume();
  sleeper.close();

  const after = await agent.status();
  t.is(after.peers[0].state, 'Established');
  t.is(after.peers[0].since, since, 'the BGP session was never touched');
  const rss1 = await rssKiB(pid);
  t.log(`RSS ${Math.round(rss0 / 1024)} MiB -> ${Math.round(rss1 / 1024)} MiB`);
  t.true(rss1 - rss0 < 96 * 1024, `RSS grew by ${Math.round((rss1 - rss0) / 1024)} MiB`);
  t.is((await agent.ctl(['wait', '--timeout', '10'])).status, 0);
});
