/**
 * `node dist/test/fabric/flap-probe.js` (root): the session-flap scenario alone on a small fabric
 * (FABRIC_RACKS 1 x FABRIC_NODES 2, FABRIC_MODEL rr), for one node agent (PROBE_KIND rack-agent |
 * bird) and PROBE_FLAPS flaps (1000), printing after every PROBE_EVERY-th (100) flap the flapping
 * agent's VmRSS, its RssAnon / RssFile (/proc/PID/status) and CPU, and for rack-agent the V8 heap
 * from its Prometheus endpoint (prom-client's default metrics: heap used / total per space, external;
 * PROBE_METRICS=0: node 0 as the fabric starts it, without the endpoint).
 * PROBE_SNAPSHOT_AT (e.g. "10,500") takes a V8 heap snapshot of the flapping rack-agent at those
 * flaps (Node's --heapsnapshot-signal=SIGUSR2 in NODE_OPTIONS, into PROBE_SNAPSHOT_DIR). PROBE_FREEZE=1
 * freezes ToR t0 for 12 s first (its sessions' hold timers expire), as bench:fabric does earlier;
 * PROBE_RESET_TOR=0 keeps the error wait that leaves in the ToR (flaps.ts clears it by default). Flags for the
 * agent: RACK_AGENT_V8_FLAGS as for the agent itself. Used to find where RSS grows (NOTES-i15b.md).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { isRoot, Lab, waitFor } from '../helpers/netns.js';
import { procStat, startRackAgent } from './daemons.js';
import { buildFabric, disposeFabric, rackAgentDoc, type Fabric } from './fabric.js';
import { sessionFlaps } from './flaps.js';
import { torFreeze } from './scenarios.js';
import { waitConverged } from './converge.js';
import type { Model, NodeAgentKind } from './topology.js';

const METRICS = '127.0.0.1:9464';
const snapDir = process.env.PROBE_SNAPSHOT_DIR ?? '/tmp/flap-probe-heap';
const snapAt = new Set((process.env.PROBE_SNAPSHOT_AT ?? '').split(',').filter((x) => x !== '').map(Number));
if (snapAt.size > 0) {
  mkdirSync(snapDir, { recursive: true });
  process.env.NODE_OPTIONS = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapDir}`;
}

function statusKb(pid: number | undefined, key: string): number {
  if (pid === undefined) return 0;
  return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

async function heap(f: Fabric): Promise<string> {
  const r = await f.lab.exec(f.nodes[0].ns, 'curl', ['-s', `http://${METRICS}/metrics`]);
  const v = (re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? NaN) / 1048576;
  const spaces = [...r.stdout.matchAll(/^rack_agent_nodejs_heap_space_size_used_bytes\{space="(\w+)"\} (\S+)/gm)]
    .filter((m) => Number(m[2]) > 512 * 1024).map((m) => `${m[1].replace('_space', '')} ${(Number(m[2]) / 1048576).toFixed(1)}`);
  return `heap used ${v(/^rack_agent_nodejs_heap_size_used_bytes (\S+)/m).toFixed(1)} / total ${v(/^rack_agent_nodejs_heap_size_total_bytes (\S+)/m).toFixed(1)} MB, external ${v(/^rack_agent_nodejs_external_memory_bytes (\S+)/m).toFixed(1)} MB; used by space: ${spaces.join(', ')}`;
}

async function snapshot(pid: number, flap: number): Promise<void> {
  const before = new Set(readdirSync(snapDir));
  process.kill(pid, 'SIGUSR2');
  const file = await waitFor(() => readdirSync(snapDir).find((x) => !before.has(x) && x.endsWith('.heapsnapshot')), { timeoutMs: 60_000, what: 'a heap snapshot' });
  // The file appears when writing starts; wait until its size stops changing.
  let size = -1;
  await waitFor(() => { const s = readFileSync(`${snapDir}/${file}`).length; const done = s === size && s > 0; size = s; return done; }, { timeoutMs: 120_000, intervalMs: 500, what: 'the heap snapshot written' });
  process.stdout.write(`  heap snapshot after flap ${flap}: ${snapDir}/${file}\n`);
}

async function main(): Promise<number> {
  if (!isRoot) return 1;
  const plan = { racks: Number(process.env.FABRIC_RACKS ?? 1), nodes: Number(process.env.FABRIC_NODES ?? 2), model: (process.env.FABRIC_MODEL ?? 'rr') as Model };
  const kind = (process.env.PROBE_KIND ?? 'rack-agent') as NodeAgentKind;
  const flaps = Number(process.env.PROBE_FLAPS ?? 1000);
  const every = Number(process.env.PROBE_EVERY ?? 100);
  const lab = await Lab.create('fprobe');
  const out: Partial<Fabric> = {};
  try {
    const f = await buildFabric(lab, plan, kind, out);
    const n0 = f.nodes[0];
    const metrics = kind === 'rack-agent' && process.env.PROBE_METRICS !== '0';
    if (metrics) {
      // Node 0 again, with its metrics endpoint on the namespace's loopback.
      await n0.agent.dispose();
      n0.agent = await startRackAgent(lab, n0.ns, (b) => ({ ...rackAgentDoc(plan, n0.plan, b), metrics: { listen: METRICS } }), n0.blocks);
    }
    if (process.env.PROBE_FREEZE === '1') {
      // The ToR frozen past the hold time first, as bench:fabric does before the flaps: BIRD's error wait.
      await torFreeze(12).run(f);
      await waitConverged(f, 60_000);
    }
    await waitConverged(f, 60_000);
    const t0 = Date.now();
    const cpu0 = procStat(n0.agent.pid()).cpuMs;
    const line = async (flap: number): Promise<void> => {
      const pid = n0.agent.pid();
      const p = procStat(pid);
      const mem = `RSS ${(p.rssKb / 1024).toFixed(1)} MB (anon ${(statusKb(pid, 'RssAnon') / 1024).toFixed(1)}, file ${(statusKb(pid, 'RssFile') / 1024).toFixed(1)})`;
      process.stdout.write(`flap ${flap} at ${((Date.now() - t0) / 1000).toFixed(0)} s: ${mem}, CPU ${p.cpuMs - cpu0} ms${metrics ? `; ${await heap(f)}` : ''}\n`);
      if (snapAt.has(flap) && pid !== undefined) await snapshot(pid, flap);
    };
    await line(0);
    const sc = sessionFlaps(flaps, async (i) => { if (i === 10 || i % every === 0) await line(i); }, process.env.PROBE_RESET_TOR !== '0');
    await sc.run(f);
    await waitConverged(f, 60_000);
    process.stdout.write(`${sc.note?.()}\n`);
    return 0;
  } finally {
    await disposeFabric(out);
    await lab.destroy();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`flap-probe failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
