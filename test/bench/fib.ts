/**
 * bench:fib: N IPv4 /26 routes (100,000 and 1,000,000; BENCH_FIB_COUNTS=n,m to change) put into
 * the kernel three ways, each in a fresh network namespace, all in this run:
 * - the Fib (test/helpers/fib-driver.ts in the namespace): from handing it the N RibChanges (1,024
 *   per turn of the event loop, as a RIB would pass on UPDATEs) to the last answer from the kernel
 *   (desired routes, diff, encoding and the kernel's work included);
 * - `ip -batch` with one `route add` per line;
 * - BIRD 2's kernel protocol exporting N static routes: from enabling the static protocol (the
 *   config already parsed) until the kernel's main table holds all N (/proc/net/fib_triestat).
 * Then the Fib runs one full reconcile (dump our table of N routes and compare) and the bench
 * prints its time and the driver's peak RSS (VmHWM) before and after it (issue 12: the reconcile
 * fits the same memory budget).
 * Prints seconds, the Fib's CPU (user/system) and its ratio to each reference. Target: no slower
 * than BIRD 2. A benchmark, not a test: it never fails on speed. BENCH_BIRD=0 skips BIRD.
 * Root only (network namespaces).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberToIpv4 } from '../../agent/bgp/ip.js';
import { FibClient } from '../helpers/fib-client.js';
import { isRoot, Lab, waitFor } from '../helpers/netns.js';
import { peakRss } from './proc.js';

const COUNTS = (process.env.BENCH_FIB_COUNTS ?? '100000,1000000').split(',').map(Number);
const FIRST = 0x0a400000; // 10.64.0.0
const PROTO = 201;
const TICKS = 100;

interface Result {
  seconds: number;
  cpu?: { user: number; system: number };
  reconcile?: { seconds: number; rssBefore: number; rssAfter: number };
}

const prefixAt = (i: number): string => `${numberToIpv4((FIRST + i * 64) >>> 0)}/26`;

async function node(lab: Lab): Promise<string> {
  const n = await lab.namespace('n');
  const p = await lab.namespace('p');
  await lab.veth(n, '10.1.0.1/24', p, '10.1.0.2/24');
  return n;
}

/** Prefixes in the main table, from fib_triestat (instant even at a million routes). */
async function mainPrefixes(lab: Lab, ns: string): Promise<number> {
  const { stdout } = await lab.exec(ns, 'cat', ['/proc/net/fib_triestat'], { check: true });
  return triestatMain(stdout);
}

function triestatMain(text: string): number {
  return Number(/Prefixes:\s+(\d+)/.exec(text.slice(text.indexOf('Main:')))?.[1] ?? 0);
}

/** The same through a process in the namespace: no process started per poll (BIRD is timed). */
function mainPrefixesOf(pid: number): number {
  return triestatMain(readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8'));
}

/** Busy and total jiffies of all CPUs (/proc/stat's first line). */
function cpuJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

/**
 * Deleting a namespace with a million routes goes on in the kernel (LAB-NOTES): wait until the
 * machine is mostly idle over a 500 ms window (at most 15 s) before the next measurement.
 */
async function settle(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const a = cpuJiffies();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const b = cpuJiffies();
    if ((b.busy - a.busy) / Math.max(1, b.total - a.total) < 0.25) return;
  }
}

async function withLab<T>(name: string, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create(name);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
    await settle();
  }
}

async function fib(count: number): Promise<Result> {
  return withLab('benchfib', async (lab) => {
    const n = await node(lab);
    const client = await FibClient.start(lab, n, {
      protocol: PROTO, table: 254, tunnelDevice: 'tunl0', nodeIpv4Address: '10.1.0.1/24', pools: [], reconcileIntervalMs: 0,
    });
    const before = await mainPrefixes(lab, n);
    // Handed on as the RIB does, a batch per turn of the event loop (about 4 UPDATEs' worth).
    const generated = await client.command({
      cmd: 'generate', first: numberToIpv4(FIRST), count, len: 26, nextHop: '10.1.0.2', chunk: 1024,
    }, 600_000);
    const idle = await client.command({ cmd: 'idle' }, 600_000);
    const installed = (await mainPrefixes(lab, n)) - before;
    if (installed < count) throw new Error(`the Fib installed ${installed} of ${count} routes`);
    const cpu = idle.cpu as { user: number; system: number };
    const rssBefore = peakRss(client.pid);
    const t0 = performance.now();
    await client.command({ cmd: 'reconcile' }, 600_000);
    const reconcile = { seconds: (performance.now() - t0) / 1000, rssBefore, rssAfter: peakRss(client.pid) };
    await client.exit();
    return { seconds: (Number(generated.ms) + Number(idle.ms)) / 1000, cpu, reconcile };
  });
}

async function ipBatch(count: number, dir: string): Promise<Result> {
  const file = join(dir, `batch-${count}`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`route add ${prefixAt(i)} via 10.1.0.2 proto ${PROTO}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return withLab('benchip', async (lab) => {
    const n = await node(lab);
    const started = performance.now();
    await lab.exec(n, 'ip', ['-batch', file], { check: true });
    return { seconds: (performance.now() - started) / 1000 };
  });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function bird(count: number, dir: string): Promise<Result | string> {
  if (!existsSync('/usr/sbin/bird')) return 'BIRD 2 is not installed (apt-get install bird2)';
  const routes = join(dir, `bird-routes-${count}.conf`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`route ${prefixAt(i)} via 10.1.0.2;`);
  writeFileSync(routes, `${lines.join('\n')}\n`);
  const conf = join(dir, 'bird.conf');
  writeFileSync(conf, [
    'router id 10.1.0.1;',
    'protocol device {}',
    // LAB-NOTES: persist, learn off, export all; the metric is BIRD's default.
    'protocol kernel k4 { persist; learn off; ipv4 { import none; export all; }; }',
    'protocol static s4 { disabled; ipv4;',
    `include "${routes}";`,
    '}',
    '',
  ].join('\n'));
  return withLab('benchbird', async (lab) => {
    const n = await node(lab);
    const sock = join(dir, 'bird.ctl');
    rmSync(sock, { force: true });
    const child = lab.spawn(n, 'bird', ['-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')]);
    const birdc = (...args: string[]) => lab.exec(n, 'birdc', ['-s', sock, ...args]);
    await waitFor(async () => existsSync(sock) && /k4\s+Kernel\s+master4\s+up/.test((await birdc('show', 'protocols')).stdout),
      { timeoutMs: 120_000, intervalMs: 50, what: 'BIRD to parse its config and bring the kernel protocol up' });
    const pid = child.pid ?? 0;
    const before = mainPrefixesOf(pid);
    const ticks = cpuTicks(pid);
    const started = performance.now();
    await birdc('enable', 's4');
    await waitFor(() => mainPrefixesOf(pid) - before >= count,
      { timeoutMs: 600_000, intervalMs: 20, what: `BIRD to install ${count} routes` });
    const seconds = (performance.now() - started) / 1000;
    const cpu = (cpuTicks(child.pid ?? 0) - ticks) / TICKS;
    return { seconds, cpu: { user: cpu, system: 0 } };
  });
}

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('bench:fib needs root (network namespaces); skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rack-bench-fib-'));
  try {
    for (const count of COUNTS) {
      const ours = await fib(count);
      const batch = await ipBatch(count, dir);
      const reference = process.env.BENCH_BIRD === '0' ? 'skipped (BENCH_BIRD=0)' : await bird(count, dir);
      console.log(`bench:fib  ${count.toLocaleString('en')} IPv4 /26 routes, each way in a fresh namespace`);
      console.log(`  rack-agent Fib: ${ours.seconds.toFixed(2)} s (process CPU so far: user ${ours.cpu?.user.toFixed(2)} s, system ${ours.cpu?.system.toFixed(2)} s)`);
      const r = ours.reconcile;
      if (r !== undefined) {
        console.log(`  reconcile (dump ${count.toLocaleString('en')} and compare): ${r.seconds.toFixed(2)} s; driver peak RSS ` +
          `${(r.rssBefore / 2 ** 20).toFixed(0)} MB before, ${(r.rssAfter / 2 ** 20).toFixed(0)} MB after`);
      }
      console.log(`  ip -batch:      ${batch.seconds.toFixed(2)} s   ratio Fib / ip -batch: ${(ours.seconds / batch.seconds).toFixed(2)}`);
      if (typeof reference === 'string') {
        console.log(`  BIRD 2 kernel protocol: ${reference}`);
      } else {
        console.log(`  BIRD 2 kernel protocol: ${reference.seconds.toFixed(2)} s (BIRD CPU ${reference.cpu?.user.toFixed(2)} s)   ` +
          `ratio Fib / BIRD 2: ${(ours.seconds / reference.seconds).toFixed(2)} (target: at most 1)`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
