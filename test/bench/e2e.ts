/**
 * bench:e2e (issue 12): the real agent (node dist/agent/main.js --config FILE, as the unit
 * starts it) against BIRD 2 with its kernel protocol, doing the same job in the same
 * run: receive N IPv4 /26 over iBGP from a BIRD 2 route reflector (next hop self) and put them in
 * the kernel. Each receiver runs in a fresh lab (namespaces `r` with the reflector, `n` with the
 * receiver); the reflector has loaded its N static routes before the receiver starts. Measured
 * from the receiver's process start until the namespace's main table holds N more prefixes
 * (/proc/PID/net/fib_triestat): seconds, peak RSS (VmHWM) and CPU (utime + stime) of the
 * receiver, and the ratios agent / BIRD. The reflector is kept turning with `birdc show status`
 * every 50 ms (LAB-NOTES: BIRD 2.0.12 may stall near the end of a large feed to a quiet peer).
 * BENCH_E2E_COUNTS=1000,100000 changes the counts (default 100,000 and 1,000,000); BENCH_BIRD=0
 * skips the BIRD receiver; BENCH_E2E_LOG=N prints the agent's last N log lines (with
 * BENCH_E2E_NODE_ARGS=--trace-gc, say); BENCH_E2E_SAMPLE=1 prints the receiver's RSS every 250 ms
 * and, at the end, the agent's heap and external memory and the kernel's time on its route requests
 * (rack_agent_kernel_write_seconds_total) from its metrics; BENCH_E2E_RECONCILE=1
 * waits for the agent's first periodic reconcile (60 s) and prints its peak RSS after it (both
 * turn the agent's metrics on: prom-client adds about 4 MB). With --cpu-prof or --heap-prof in
 * BENCH_E2E_NODE_ARGS (and --cpu-prof-dir=DIR, --heap-prof-dir=DIR) the agent is stopped by SIGTERM
 * once its FIB is complete, so V8 writes the profile.
 * The kernel's own floor in the same run (issue 21): the same N routes as batched RTM_NEWROUTE
 * from a minimal loop (floor-child.ts) into a fresh lab, timed from its first datagram to the same
 * "main table holds N" condition; printed with the ratio agent / floor; beside it the same routes
 * through one kernel nexthop object (nhid), what that route form would save. BENCH_E2E_FLOOR=0
 * skips both.
 * BENCH_E2E_POLICY=1 (issue 23) runs the agent a second time per count with ten import rules
 * (TEN_RULES: nine whose prefix conditions every route fails, then one that accepts it with a
 * LOCAL_PREF, so each prefix runs all ten) and prints the time and CPU ratio rules / none;
 * BENCH_E2E_POLICY=first runs the one with rules first.
 * A benchmark, not a test: it never fails on speed. Root and BIRD 2 only.
 */
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { MAIN } from '../helpers/agent.js';
import { captureOutput, type ExecResult, isRoot, Lab, type Output, waitFor } from '../helpers/netns.js';
import { cpuSeconds, mainPrefixesOf, peakRss, settle, triestatMain } from './proc.js';
import { AS, FIRST, NODE, reflectorConfig, RR } from './tor.js';

const COUNTS = (process.env.BENCH_E2E_COUNTS ?? '100000,1000000').split(',').map(Number);

interface Measured {
  readonly seconds: number;
  readonly rss: number;
  readonly cpu: number;
}

interface Receiver {
  readonly pid: number;
  readonly exited: () => string | null;
}

function birdReceiverConfig(dir: string): string {
  const conf = join(dir, 'node.conf');
  writeFileSync(conf, [
    `router id ${NODE};`,
    'protocol device {}',
    // LAB-NOTES: persist, learn off, export all.
    'protocol kernel k4 { persist; learn off; ipv4 { import none; export all; }; }',
    `protocol bgp tor { local ${NODE} as ${AS}; neighbor ${RR} as ${AS}; direct; connect delay time 0;`,
    '  ipv4 { import all; export none; }; }',
    '',
  ].join('\n'));
  return conf;
}

const agentDoc = {
  node: { name: 'bench', ipv4Address: `${NODE}/24` },
  bgp: { asNumber: AS, peers: [{ peerIP: RR, asNumber: AS }] },
  pools: [{ cidr: '64.0.0.0/6', blockSize: 26, ipipMode: 'Never' }],
  blocks: [],
  log: { level: 'info', format: 'json' },
};

/** Ten import rules every received route runs through (BENCH_E2E_POLICY=1). */
export const TEN_RULES = [
  ...Array.from({ length: 9 }, (_, i) => ({ match: { prefix: `10.${i}.0.0/16`, le: 26 }, action: 'reject' })),
  { match: { prefix: '64.0.0.0/6', ge: 26, le: 26 }, action: 'accept', set: { localPref: 150 } },
];

/** One receiver (`start` spawns it in namespace n) against a fresh reflector; its numbers. */
async function run(name: string, dir: string, count: number, start: (lab: Lab, n: string) => Promise<Receiver>): Promise<Measured> {
  const lab = await Lab.create(name);
  let turning = true;
  let turner: Promise<void> = Promise.resolve();
  try {
    const r = await lab.namespace('r');
    const n = await lab.namespace('n');
    await lab.veth(r, `${RR}/24`, n, `${NODE}/24`);
    const sock = join(dir, `rr-${name}.ctl`);
    rmSync(sock, { force: true });
    lab.spawn(r, 'bird', ['-f', '-c', reflectorConfig(dir, count), '-s', sock, '-P', join(dir, 'rr.pid')]);
    const birdc = (...args: string[]) => lab.exec(r, 'birdc', ['-s', sock, ...args]);
    await waitFor(async () => existsSync(sock) && Number(/(\d+) of \d+ routes/.exec((await birdc('show', 'route', 'count')).stdout)?.[1] ?? 0) >= count,
      { timeoutMs: 300_000, intervalMs: 100, what: `the reflector to load ${count} static routes` });
    const before = triestatMain((await lab.exec(n, 'cat', ['/proc/net/fib_triestat'], { check: true })).stdout);
    const started = performance.now();
    const receiver = await start(lab, n);
    turner = (async () => {
      while (turning) {
        await birdc('show', 'status');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let cpu = 0;
    let rss = 0;
    const sample = process.env.BENCH_E2E_SAMPLE === '1';
    const reconcile = process.env.BENCH_E2E_RECONCILE === '1';
    let lastSample = 0;
    await waitFor(() => {
      const why = receiver.exited();
      if (why !== null) throw new Error(`${name}: the receiver exited: ${why}`);
      const have = mainPrefixesOf(receiver.pid) - before;
      if (sample && performance.now() - lastSample >= 250) {
        lastSample = performance.now();
        const st = readFileSync(`/proc/${receiver.pid}/status`, 'utf8');
        const kb = (k: string): string => `${k} ${((Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0)) / 1024).toFixed(0)}`;
        console.log(`  ${name} t=${((lastSample - started) / 1000).toFixed(2)} s fib=${have} ${kb('VmRSS')} ${kb('RssAnon')} ${kb('VmHWM')} MB`);
      }
      if (have < count) return false;
      cpu = cpuSeconds(receiver.pid);
      rss = peakRss(receiver.pid);
      return true;
    }, { timeoutMs: 600_000, intervalMs: 10, what: `${name}: ${count} routes in the kernel` });
    const seconds = (performance.now() - started) / 1000;
    if (process.env.BENCH_E2E_SNAPSHOT !== undefined && name === 'e2eagent') await snapshot(receiver.pid, process.env.BENCH_E2E_SNAPSHOT);
    if (reconcile && name === 'e2eagent') {
      // The first periodic dump-and-compare of the whole table (60 s after start): its peak.
      const t0 = performance.now();
      await waitFor(async () => /rack_agent_kernel_reconciles_total [2-9]/.test((await scrape(lab, n)).stdout),
        { timeoutMs: 120_000, intervalMs: 500, what: 'the first periodic reconcile' });
      console.log(`  after the first periodic reconcile of ${count.toLocaleString('en')} routes (${((performance.now() - t0) / 1000).toFixed(0)} s later): ` +
        `peak RSS ${(peakRss(receiver.pid) / 2 ** 20).toFixed(1)} MB (was ${(rss / 2 ** 20).toFixed(1)} MB), CPU ${cpuSeconds(receiver.pid).toFixed(2)} s`);
    }
    if (sample && name === 'e2eagent') {
      // The agent's own view (prom-client's process metrics), once the FIB is complete.
      // ... and the kernel's time on our route requests (inside sendto): how close to the kernel's pace.
      console.log((await scrape(lab, n)).stdout.split('\n').filter((l) => /^rack_agent_(nodejs_(heap_size|external|heap_space_size_used)|process_resident|kernel_write_seconds_total)/.test(l)).join('\n'));
    }
    if (name === 'e2eagent' && /--(cpu|heap)-prof\b/.test(process.env.BENCH_E2E_NODE_ARGS ?? '')) {
      // A profile is written at exit: stop the agent as its unit would (SIGTERM), not SIGKILL.
      process.kill(receiver.pid, 'SIGTERM');
      await waitFor(() => receiver.exited() !== null, { timeoutMs: 60_000, intervalMs: 100, what: 'the agent to write its profile and exit' });
    }
    return { seconds, rss, cpu };
  } finally {
    turning = false;
    await turner;
    await lab.destroy();
    await settle();
  }
}

/** The agent's metrics, fetched from inside its namespace. */
function scrape(lab: Lab, ns: string): Promise<ExecResult> {
  return lab.exec(ns, process.execPath, ['-e', "fetch('http://127.0.0.1:9180/metrics').then(r => r.text()).then(t => process.stdout.write(t))"]);
}

/**
 * With BENCH_E2E_SNAPSHOT=DIR (and BENCH_E2E_NODE_ARGS=--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR):
 * a heap snapshot of the agent once its FIB is complete, for finding what holds its memory.
 */
async function snapshot(pid: number, dir: string): Promise<void> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let size = -1;
  await waitFor(() => {
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (file === undefined) return false;
    const now = statSync(join(dir, file)).size;
    const done = now > 0 && now === size;
    size = now;
    return done;
  }, { timeoutMs: 300_000, intervalMs: 1000, what: 'the heap snapshot' });
}

/** The agent as its unit runs it (node, dist/agent/main.js, --config), plus BENCH_E2E_NODE_ARGS. */
async function agent(dir: string, count: number, policy: object = {}): Promise<Measured> {
  const config = join(dir, 'agent.yaml');
  const metrics = process.env.BENCH_E2E_SAMPLE === '1' || process.env.BENCH_E2E_RECONCILE === '1' ? { metrics: { listen: '127.0.0.1:9180' } } : {};
  writeFileSync(config, stringify({ ...agentDoc, ...metrics, ...policy, control: { socket: join(dir, 'agent.sock') } }));
  const nodeArgs = (process.env.BENCH_E2E_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  let out: Output | undefined;
  try {
    return await run('e2eagent', dir, count, async (lab, n) => {
      const child = lab.spawn(n, process.execPath, [...nodeArgs, MAIN, '--config', config]);
      const o = captureOutput(child);
      out = o;
      const exited = (): string | null => (child.exitCode === null && child.signalCode === null ? null
        : `exit ${child.exitCode ?? child.signalCode}: ${o.lines.slice(-20).join('\n')}${o.stderr()}`);
      return { pid: child.pid ?? 0, exited };
    });
  } finally {
    const tail = Number(process.env.BENCH_E2E_LOG ?? 0);
    if (tail > 0 && out !== undefined) console.log([...out.lines.slice(-tail), out.stderr()].join('\n'));
  }
}

async function bird(dir: string, count: number): Promise<Measured> {
  return run('e2ebird', dir, count, async (lab, n) => {
    const child = lab.spawn(n, 'bird', ['-f', '-c', birdReceiverConfig(dir), '-s', join(dir, 'node.ctl'), '-P', join(dir, 'node.pid')]);
    return { pid: child.pid ?? 0, exited: () => (child.exitCode === null && child.signalCode === null ? null : `exit ${child.exitCode ?? child.signalCode}`) };
  });
}

/**
 * The kernel alone: floor-child.ts in namespace n of a fresh lab, the agent's link and next hop;
 * with `nhid`, the routes through one kernel nexthop object instead (a measurement of what that
 * route form would save, issue 21).
 */
async function kernelFloor(count: number, form: 'via' | 'nhid' = 'via'): Promise<number> {
  const lab = await Lab.create('e2efloor');
  try {
    const r = await lab.namespace('r');
    const n = await lab.namespace('n');
    const { b } = await lab.veth(r, `${RR}/24`, n, `${NODE}/24`);
    const ifindex = (JSON.parse((await lab.ip(n, '-j', 'link', 'show', 'dev', b)).stdout) as Array<{ ifindex: number }>)[0].ifindex;
    const child = fileURLToPath(new URL('./floor-child.js', import.meta.url));
    const { stdout } = await lab.exec(n, process.execPath, [child, String(count), String(FIRST), String(ifindex), RR, ...(form === 'nhid' ? ['nhid'] : [])], { check: true });
    const result = JSON.parse(stdout) as { seconds: number; errors: number };
    if (result.errors !== 0) throw new Error(`kernel floor: ${result.errors} requests refused`);
    return result.seconds;
  } finally {
    await lab.destroy();
    await settle();
  }
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const line = (m: Measured): string => `${m.seconds.toFixed(2)} s, peak RSS ${mb(m.rss)}, CPU ${m.cpu.toFixed(2)} s`;

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('bench:e2e needs root (network namespaces); skipped');
    return;
  }
  if (!existsSync('/usr/sbin/bird')) {
    console.log('bench:e2e needs BIRD 2 (apt-get install bird2); skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rack-bench-e2e-'));
  try {
    await settle();
    for (const count of COUNTS) {
      // BENCH_E2E_POLICY=first: the run with rules before the one without (to see an order effect).
      const policyFirst = process.env.BENCH_E2E_POLICY === 'first';
      const early = policyFirst ? await agent(dir, count, { policy: { import: TEN_RULES } }) : undefined;
      const ours = await agent(dir, count);
      const ruled = policyFirst ? early : process.env.BENCH_E2E_POLICY === '1' ? await agent(dir, count, { policy: { import: TEN_RULES } }) : undefined;
      const ref = process.env.BENCH_BIRD === '0' ? undefined : await bird(dir, count);
      const floor = process.env.BENCH_E2E_FLOOR === '0' ? undefined : await kernelFloor(count);
      const nhFloor = process.env.BENCH_E2E_FLOOR === '0' ? undefined : await kernelFloor(count, 'nhid').catch((err: Error) => err);
      console.log(`bench:e2e  ${count.toLocaleString('en')} IPv4 /26 from a BIRD 2 route reflector, process start -> all in the kernel FIB`);
      console.log(`  rack-agent:       ${line(ours)}${ref === undefined ? '; BIRD 2 skipped (BENCH_BIRD=0)' : ''}`);
      if (ref !== undefined) {
        console.log(`  BIRD 2 + kernel:  ${line(ref)}`);
        console.log(`  agent / BIRD:     time ${(ours.seconds / ref.seconds).toFixed(2)} (goal <= 0.6), ` +
          `memory ${(ours.rss / ref.rss).toFixed(1)}x, CPU ${(ours.cpu / Math.max(0.01, ref.cpu)).toFixed(2)}`);
      }
      if (ruled !== undefined) {
        console.log(`  ten import rules: ${line(ruled)}`);
        console.log(`  rules / none:     time ${(ruled.seconds / ours.seconds).toFixed(2)}, CPU ${(ruled.cpu / ours.cpu).toFixed(2)}, memory ${(ruled.rss / ours.rss).toFixed(2)}`);
      }
      if (floor !== undefined) {
        console.log(`  kernel floor:     ${floor.toFixed(floor < 1 ? 3 : 2)} s (batched RTM_NEWROUTE, 512 a datagram, from a minimal loop)`);
        console.log(`  agent / floor:    ${(ours.seconds / floor).toFixed(2)}${ref === undefined ? '' : `   BIRD / floor: ${(ref.seconds / floor).toFixed(2)}`}`);
        console.log(nhFloor instanceof Error || nhFloor === undefined
          ? `  nexthop floor:    not measured (${nhFloor?.message.split('\n')[0] ?? 'skipped'})`
          : `  nexthop floor:    ${nhFloor.toFixed(nhFloor < 1 ? 3 : 2)} s (the same routes through one kernel nexthop object, nhid: ${(nhFloor / floor).toFixed(2)} of the floor; not the route form SPEC.md gives)`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
