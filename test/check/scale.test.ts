/**
 * 500 next hops in one check (issue 13): a responder namespace holds 500 addresses on one veth;
 * the real Checker and prober (probe-run.ts) run in the other namespace over 500 routes, one per
 * address, with the default 5 s timeout: every next hop answered within it, both probes each, and
 * the event loop never held long (the BGP sessions share it). Then half the responder's
 * addresses go: exactly those 250 rows fail as unreachable, still within the timeout.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import type { CheckAnswer } from '../../agent/control/api.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot } from '../helpers/netns.js';

const RUN = fileURLToPath(new URL('./probe-run.js', import.meta.url));
const N = 500;
const addr = (i: number): string => `10.1.${(i + 1) >> 8}.${(i + 1) & 255}`;

test.serial('500 next hops answered within the 5 s timeout; 250 removed fail as unreachable', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'chk500');
  const dir = mkdtempSync(join(tmpdir(), 'rack-check-'));
  lab.defer(() => rmSync(dir, { recursive: true, force: true }));
  const prober = await lab.namespace('p');
  const responder = await lab.namespace('r');
  const { a, b } = await lab.veth(prober, '10.1.255.254/16', responder, '10.1.255.253/16');
  await lab.sysctl(prober, 'net.ipv4.ip_forward', 1);
  const batch = join(dir, 'addrs.batch');
  writeFileSync(batch, Array.from({ length: N }, (_, i) => `addr add ${addr(i)}/16 dev ${b}\n`).join(''));
  await lab.ip(responder, '-batch', batch);
  const input = join(dir, 'input.json');
  writeFileSync(input, JSON.stringify({ timeout: 5, device: a, routes: Array.from({ length: N }, (_, i) => ({ prefix: `172.16.${i >> 2}.${(i & 3) * 64}/26`, via: addr(i) })) }));

  const run = async (): Promise<{ answer: CheckAnswer; elapsedMs: number; maxLoopDelayMs: number }> => {
    const r = await lab.exec(prober, process.execPath, [RUN, input]);
    if (r.code !== 0) throw new Error(`probe-run exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const all = await run();
  const rows = all.answer.checks.filter((c) => c.name === 'nexthop');
  t.is(rows.length, N);
  const bad = rows.filter((c) => c.status !== 'ok');
  t.deepEqual(bad, [], `${bad.length} not ok, e.g. ${bad[0]?.target}: ${bad[0]?.detail}`);
  t.true(all.answer.ok);
  t.true(all.elapsedMs < 5000, `${all.elapsedMs} ms`);
  t.true(all.maxLoopDelayMs < 250, `event loop held ${all.maxLoopDelayMs} ms`);
  t.log(`500 next hops, 1,000 probes: ${Math.round(all.elapsedMs)} ms, longest event-loop delay ${all.maxLoopDelayMs.toFixed(1)} ms`);

  // Every other address goes away: those next hops are unreachable, the rest ok.
  const gone = join(dir, 'del.batch');
  writeFileSync(gone, Array.from({ length: N }, (_, i) => (i % 2 === 0 ? `addr del ${addr(i)}/16 dev ${b}\n` : '')).join(''));
  await lab.ip(responder, '-batch', gone);
  const half = await run();
  const byTarget = new Map(half.answer.checks.filter((c) => c.name === 'nexthop').map((c) => [c.target, c]));
  let failed = 0;
  for (let i = 0; i < N; i++) {
    const row = byTarget.get(addr(i));
    if (i % 2 === 0) {
      failed += row?.status === 'fail' && /^unreachable/.test(row.detail) ? 1 : 0;
    } else {
      t.is(row?.status, 'ok', `${addr(i)}: ${row?.detail}`);
    }
  }
  t.is(failed, N / 2);
  t.false(half.answer.ok);
  t.true(half.elapsedMs < 5600, `${half.elapsedMs} ms`);
  t.log(`250 dead next hops: ${Math.round(half.elapsedMs)} ms, longest event-loop delay ${half.maxLoopDelayMs.toFixed(1)} ms`);
});
