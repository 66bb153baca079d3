/**
 * One restart under measurement (bench:restart and its smoke, issue 21): a fresh lab with a BIRD 2
 * route reflector (namespace `r`: N static IPv4 /26, next hop self, `graceful restart on`, so it
 * keeps a restarting node's routes and sends it the whole table again, End-of-RIB last, RFC 4724)
 * and a node (namespace `n`): the real agent (gracefulRestart enabled) or BIRD 2 (BGP with
 * `graceful restart on`, a kernel protocol with `persist` and `graceful restart on`, restarted with
 * `bird -R`, so its kernel protocol waits for the end of the graceful-restart recovery before it
 * syncs and does not flush the routes of the previous run). The node learns the N routes and puts
 * them in the kernel; then it is SIGKILLed and started again. Measured from the new process's start:
 * - ready: the agent when `agentctl wait` (started with it) exits 0 (every peer Established, its
 *   End-of-RIB in, the kernel in sync); BIRD when its log says `Graceful restart done`, its kernel
 *   protocol has pruned (its first sync after the recovery: `Pruning table`) and birdc answers
 *   after that (BIRD is one thread: the answer comes after the prune ends);
 * - the kernel: the node's own protocol's deletions and writes (route-monitor.ts), the time some
 *   route was missing, the lowest main-table count sampled every few ms;
 * - the new process's peak RSS (VmHWM) and CPU seconds at ready.
 * Not here: the table (restart.ts), the smoke's assertions (restart.test.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AGENTCTL, MAIN } from '../helpers/agent.js';
import { captureOutput, Lab, type Output, waitFor } from '../helpers/netns.js';
import { cpuSeconds, peakRss, settle, triestatMain } from './proc.js';
import { type RouteCounts, RouteMonitor, TableSampler } from './route-monitor.js';
import { AS, NODE, reflectorConfig, RR } from './tor.js';


export type NodeKind = 'agent' | 'bird';

export interface RestartOptions {
  /** Scratch directory (configs, sockets, the routes file, reused across runs of one count). */
  readonly dir: string;
  /** Extra node arguments for the restarted agent (--cpu-prof ...): it is then stopped by SIGTERM at ready. */
  readonly nodeArgs?: readonly string[];
  /** How long the restarted node may take to be ready (ms). */
  readonly timeoutMs?: number;
  /** The agent's config, changed (the smoke's negative proof). */
  readonly agentDoc?: (doc: Record<string, unknown>) => Record<string, unknown>;
  /** Wait for the machine to go quiet after the lab is gone (the bench's runs; the smoke skips it). */
  readonly settle?: boolean;
  /** Print the restarted node's first this many log lines at ready (its start time beside them). */
  readonly logLines?: number;
}

export interface RestartResult {
  readonly kind: NodeKind;
  readonly count: number;
  /** Process start -> ready, seconds. */
  readonly readySeconds: number;
  readonly rss: number;
  readonly cpu: number;
  readonly kernel: RouteCounts;
  /** The main table's lowest count minus the routes that were there before the node (connected). */
  readonly lowest: number;
  /** Seconds the sampled table held fewer than N of the node's routes. */
  readonly belowSeconds: number;
  readonly samples: number;
  /** Routes of the node's protocol the monitor saw written in the first run (the monitor proven to count them). */
  readonly installed: number;
  /** The agent's log: routes its FIB counted stale at convergence (`deleting stale routes of ours`); undefined for BIRD. */
  readonly stale?: number;
}

function birdNodeConfig(dir: string): string {
  const conf = join(dir, 'node.conf');
  writeFileSync(conf, [
    'log stderr all;',
    `router id ${NODE};`,
    'protocol device {}',
    // persist: a killed BIRD leaves its routes; graceful restart: after `bird -R` the kernel
    // protocol syncs only once the recovery is over (BGP End-of-RIB), so nothing stale is flushed.
    'protocol kernel k4 { persist; learn off; graceful restart on; debug { events }; ipv4 { import none; export all; }; }',
    `protocol bgp tor { local ${NODE} as ${AS}; neighbor ${RR} as ${AS}; direct; connect delay time 0; graceful restart on;`,
    '  ipv4 { import all; export none; }; }',
    '',
  ].join('\n'));
  return conf;
}

function agentConfig(dir: string, change: RestartOptions['agentDoc']): string {
  const doc = {
    node: { name: 'bench', ipv4Address: `${NODE}/24` },
    bgp: { asNumber: AS, gracefulRestart: { enabled: true, restartTime: 120 }, peers: [{ peerIP: RR, asNumber: AS }] },
    pools: [{ cidr: '64.0.0.0/6', blockSize: 26, ipipMode: 'Never' }],
    blocks: [],
    log: { level: 'info', format: 'json' },
    control: { socket: join(dir, 'agent.sock') },
  };
  const conf = join(dir, 'agent.yaml');
  writeFileSync(conf, stringify(change === undefined ? doc : change(doc)));
  return conf;
}

const exitedOf = (child: ChildProcess, out: Output): (() => string | null) => () =>
  (child.exitCode === null && child.signalCode === null ? null
    : `exit ${child.exitCode ?? child.signalCode}: ${out.lines.slice(-20).join('\n')}${out.stderr()}`);

/** A node process and how to tell it is ready. */
interface Node {
  readonly child: ChildProcess;
  readonly ready: () => Promise<boolean>;
  readonly exited: () => string | null;
  readonly out: Output;
}

/** Starts the node (`restart`: the run after the SIGKILL). */
function startNode(lab: Lab, n: string, kind: NodeKind, dir: string, restart: boolean, options: RestartOptions): Node {
  if (kind === 'agent') {
    const config = agentConfig(dir, options.agentDoc);
    const child = lab.spawn(n, process.execPath, [...(restart ? options.nodeArgs ?? [] : []), MAIN, '--config', config]);
    const out = captureOutput(child);
    // agentctl wait keeps connecting to an agent that is still starting; the socket is a file.
    const wait = lab.spawn(n, process.execPath, [AGENTCTL, '--socket', join(dir, 'agent.sock'), 'wait', '--timeout', '900']);
    const waited = new Promise<number | null>((resolve) => wait.once('exit', (code) => resolve(code)));
    let code: number | null | undefined;
    void waited.then((c) => { code = c; });
    return {
      child,
      out,
      exited: exitedOf(child, out),
      ready: async () => {
        if (code !== undefined && code !== 0) throw new Error(`agentctl wait exited ${code}: ${out.lines.slice(-20).join('\n')}`);
        return code === 0;
      },
    };
  }
  const sock = join(dir, 'node.ctl');
  const child = lab.spawn(n, 'bird', ['-f', ...(restart ? ['-R'] : []), '-c', birdNodeConfig(dir), '-s', sock, '-P', join(dir, 'node.pid')]);
  // BIRD logs to stderr (`log stderr all`): its lines are what readiness reads.
  const captured = captureOutput(child);
  const out: Output = { lines: [], stderr: captured.stderr };
  const log = (): string[] => captured.stderr().split('\n');
  const birdc = async (...args: string[]): Promise<string> => (await lab.exec(n, 'birdc', ['-s', sock, ...args])).stdout;
  const synced = (): boolean => {
    if (!restart) return false;
    const lines = log();
    const done = lines.findIndex((l) => l.includes('Graceful restart done'));
    return done >= 0 && lines.slice(done).some((l) => l.includes('Pruning table'));
  };
  return {
    child,
    out,
    exited: exitedOf(child, out),
    ready: async () => {
      if (restart) return synced() && /Established/.test(await birdc('show', 'protocols', 'tor'));
      return /Established/.test(await birdc('show', 'protocols', 'tor'));
    },
  };
}

/** The ToR's session to the node is down (it saw the node die): it keeps the routes as a GR helper. */
async function torSawDown(birdcTor: (...args: string[]) => Promise<string>): Promise<void> {
  await waitFor(async () => !/Established/.test(await birdcTor('show', 'protocols', 'node')),
    { timeoutMs: 30_000, intervalMs: 20, what: 'the ToR to see the node\'s session end' });
}

/** One lab: the node learns `count` routes, is SIGKILLed and started again; the restart's numbers. */
export async function restartOnce(kind: NodeKind, count: number, options: RestartOptions): Promise<RestartResult> {
  const { dir } = options;
  const timeoutMs = options.timeoutMs ?? 900_000;
  const lab = await Lab.create(`rst${kind}`);
  let turning = true;
  let turner: Promise<void> = Promise.resolve();
  let monitor: RouteMonitor | undefined;
  try {
    const r = await lab.namespace('r');
    const n = await lab.namespace('n');
    await lab.veth(r, `${RR}/24`, n, `${NODE}/24`);
    const sock = join(dir, `rr-${kind}.ctl`);
    lab.spawn(r, 'bird', ['-f', '-c', reflectorConfig(dir, count, { gracefulRestart: true }), '-s', sock, '-P', join(dir, 'rr.pid')]);
    const birdc = async (...args: string[]): Promise<string> => (await lab.exec(r, 'birdc', ['-s', sock, ...args])).stdout;
    await waitFor(async () => existsSync(sock) && Number(/(\d+) of \d+ routes/.exec(await birdc('show', 'route', 'count'))?.[1] ?? 0) >= count,
      { timeoutMs: 300_000, intervalMs: 100, what: `the reflector to load ${count} static routes` });
    // LAB-NOTES: BIRD 2.0.12 may stall near the end of a large feed to a quiet peer; keep it turning.
    turner = (async () => {
      while (turning) {
        await birdc('show', 'status');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    monitor = new RouteMonitor(lab, n, kind === 'agent' ? '201' : 'bird');
    await monitor.sync();
    const base = triestatMain((await lab.exec(n, 'cat', ['/proc/net/fib_triestat'], { check: true })).stdout);

    const first = startNode(lab, n, kind, dir, false, options);
    await waitFor(async () => {
      const why = first.exited();
      if (why !== null) throw new Error(`${kind}: the first run exited: ${why}`);
      return triestatMain((await lab.exec(n, 'cat', ['/proc/net/fib_triestat'])).stdout) - base >= count && first.ready();
    }, { timeoutMs, intervalMs: 100, what: `${kind}: ${count} routes in the kernel (first run)` });

    await monitor.sync();
    const installed = monitor.counts().written;
    monitor.reset();
    const sampler = new TableSampler(monitor.pid, base + count);
    first.child.kill('SIGKILL');
    await waitFor(() => first.exited() !== null, { timeoutMs: 10_000, what: `${kind} to die` });
    await torSawDown(birdc);

    const started = performance.now();
    const startedAt = new Date().toISOString();
    const node = startNode(lab, n, kind, dir, true, options);
    const pid = node.child.pid ?? 0;
    let cpu = 0;
    let rss = 0;
    await waitFor(async () => {
      const why = node.exited();
      if (why !== null) throw new Error(`${kind}: the restarted node exited: ${why}`);
      if (!(await node.ready())) return false;
      cpu = cpuSeconds(pid);
      rss = peakRss(pid);
      return true;
    }, { timeoutMs, intervalMs: 10, what: `${kind}: ready after the restart (${count} routes)` });
    const readySeconds = (performance.now() - started) / 1000;
    const staleLine = kind === 'agent' ? node.out.lines.find((l) => l.includes('deleting stale routes of ours')) : undefined;
    const stale = staleLine === undefined ? undefined : Number(/"stale":(\d+)/.exec(staleLine)?.[1]);
    if ((options.logLines ?? 0) > 0) console.log([`  ${kind} restarted at ${startedAt}, ready after ${readySeconds.toFixed(2)} s:`, ...node.out.lines.slice(0, options.logLines)].join('\n'));
    await monitor.sync();
    const table = sampler.stop();
    const kernel = monitor.counts();
    if (kind === 'agent' && (options.nodeArgs ?? []).some((a) => /^--(cpu|heap)-prof$/.test(a))) {
      node.child.kill('SIGTERM'); // V8 writes the profile at exit
      await waitFor(() => node.exited() !== null, { timeoutMs: 60_000, intervalMs: 100, what: 'the agent to write its profile' });
    }
    return { kind, count, readySeconds, rss, cpu, kernel, lowest: table.lowest - base, belowSeconds: table.belowSeconds, samples: table.samples, installed, stale };
  } finally {
    turning = false;
    await turner;
    monitor?.stop();
    await lab.destroy();
    if (options.settle !== false) await settle();
  }
}
