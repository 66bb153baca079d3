/**
 * The smoke of bench:restart (issue 21), part of npm test: the real agent holding 2,000 learned
 * routes from a BIRD 2 route reflector with graceful restart is SIGKILLed and started again
 * (restart-run.ts); it must be ready (`agentctl wait` exits 0) with no route of its protocol
 * deleted from the kernel, none missing at any time, and the main table never below 2,000 of its
 * routes. The route monitor must have seen the first run install all 2,000 (so a restart that saw
 * no deletion was watched). Correctness only, never speed; BIRD as the node is the bench's job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { isRoot, rootSkipReason } from '../helpers/netns.js';
import { restartOnce } from './restart-run.js';
import { parseMonitorLine } from './route-monitor.js';

const COUNT = 2000;

test('monitor lines: deleted or not, prefix, protocol', (t) => {
  t.deepEqual(parseMonitorLine('Deleted 64.0.0.0/26 via 10.1.0.1 dev to-r proto 201 '), { deleted: true, prefix: '64.0.0.0/26', proto: '201' });
  t.deepEqual(parseMonitorLine('64.0.1.0/26 via 10.1.0.1 dev to-r proto bird metric 32'), { deleted: false, prefix: '64.0.1.0/26', proto: 'bird' });
  t.deepEqual(parseMonitorLine('Deleted blackhole 198.51.100.3 proto static'), { deleted: true, prefix: '198.51.100.3/32', proto: 'static' });
  t.deepEqual(parseMonitorLine('10.1.0.0/24 dev to-r scope link src 10.1.0.2'), { deleted: false, prefix: '10.1.0.0/24', proto: 'boot' });
  t.is(parseMonitorLine('local 10.1.0.2 dev to-r table local proto kernel scope host src 10.1.0.2'), undefined);
  t.is(parseMonitorLine('fd00::/64 dev to-r proto kernel metric 256'), undefined);
});

(isRoot ? test : test.skip)(`SIGKILL with ${COUNT.toLocaleString('en')} learned routes: ready again, nothing deleted, the kernel never below ${COUNT}`, async (t) => {
  t.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'rack-restart-smoke-'));
  try {
    const r = await restartOnce('agent', COUNT, { dir, timeoutMs: 25_000, settle: false });
    t.log(`ready ${r.readySeconds.toFixed(2)} s, written ${r.kernel.written}, ${r.samples} table samples, peak RSS ${(r.rss / 2 ** 20).toFixed(1)} MB`);
    t.is(r.kernel.overruns, 0, 'the route monitor lost no event');
    t.true(r.installed >= COUNT, `the monitor saw the first run install its routes (${r.installed})`);
    t.is(r.kernel.deleted, 0, 'no route of the agent deleted during the restart');
    t.is(r.kernel.missingSeconds, 0, 'no route missing at any time');
    t.true(r.samples > 0, 'the table was sampled');
    t.true(r.lowest >= COUNT, `the main table never below ${COUNT} (lowest ${r.lowest})`);
    t.is(r.belowSeconds, 0);
    t.is(r.stale, 0, 'the agent\'s FIB counted no route stale at convergence');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

if (!isRoot) test('restart smoke', (t) => t.log(`skipped: ${rootSkipReason}`));
