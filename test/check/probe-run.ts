/**
 * Runs one data-plane check with the real Checker and prober (raw sockets, this namespace's
 * kernel) over routes read from a JSON file, for tests that need more next hops than a BGP
 * fabric gives cheaply. Usage (inside a namespace): `node probe-run.js INPUT.json`, where INPUT
 * is `{timeout, device, routes: [{prefix, via}]}`; prints `{answer, elapsedMs, maxLoopDelayMs}`.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { Checker } from '../../agent/check/checker.js';
import type { CheckSources } from '../../agent/check/sources.js';
import { createLog } from '../../agent/daemon/log.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { timeout: number; device: string; routes: { prefix: string; via: string }[] };
const mtu = (name: string): number | null => {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'));
  } catch {
    return null;
  }
};
const sources: CheckSources = {
  settings: () => ({ interval: 0, timeout: input.timeout, tunnelDevice: 'tunl0', ipipWanted: false, ipv6: false }),
  sessions: () => [],
  fib: () => ({ routes: input.routes.length, desired: input.routes.length, inSync: true, converged: true, pending: 0, errors: [] }),
  routes: () => input.routes.map((r) => ({ prefix: r.prefix, kind: 'unicast' as const, installed: true, nextHops: [{ via: r.via }] })),
  link: (name) => { const m = mtu(name); return m === null ? null : { up: true, mtu: m, kind: 'veth' }; },
  deviceFor: () => input.device,
};
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const t0 = performance.now();
const answer = await new Checker(sources, { log: createLog({ level: 'error', format: 'json' }).log }).run();
const elapsedMs = performance.now() - t0;
loop.disable();
process.stdout.write(`${JSON.stringify({ answer, elapsedMs, maxLoopDelayMs: loop.max / 1e6 })}\n`);
