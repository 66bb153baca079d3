/**
 * One bench:rr run, usable as a library (bench.ts, rr-smoke.test.ts): a fresh lab with namespace
 * `r` (the reflector: the real agent as its unit runs it, or BIRD 2) and namespace `g` (the load
 * generator: one or more generator.js processes, the clients' N addresses added in one `ip -batch`),
 * joined by one veth. Measured: from the generators' first connect until every client (but a
 * frozen one) holds every other client's blocks; the reflector's CPU seconds (utime + stime spent
 * from just before the clients connect until then), bytes and write syscalls (/proc/PID/io wchar
 * and syscw over the same span), its peak RSS (VmHWM at the end); the clients' reads per UPDATE;
 * then 1% churn and the time until every client holds the change. A run that passes its deadline
 * returns `converged: false` and a `failure` naming the progress; it never throws for slowness.
 * Not here: the clients (clients.ts), the table (bench.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { MAIN } from '../../helpers/agent.js';
import { captureOutput, Lab, type Output, type Veth, waitFor } from '../../helpers/netns.js';
import { cpuSeconds, peakRss } from '../proc.js';
import type { FleetSpec, Totals } from './clients.js';
import { addressBatch, agentConfig, birdConfig, HOLD_TIME } from './configs.js';
import type { GeneratorEvent } from './generator.js';
import { clientAddress, frozenClient, LINK_V4_LENGTH, LINK_V6_LENGTH, numberToIpv4, PORT, REFLECTOR_V4, REFLECTOR_V6 } from './plan.js';

const GENERATOR = fileURLToPath(new URL('./generator.js', import.meta.url));

export type Reflector = 'agent' | 'bird';

export interface RrOptions {
  readonly n: number;
  readonly reflector: Reflector;
  /** One client never reads (left out of the convergence condition). */
  readonly frozen?: boolean;
  /** Generator processes (the clients split evenly); default 1. */
  readonly procs?: number;
  /** For the initial convergence; churn gets the same. */
  readonly deadlineMs: number;
  /** Most clients in their handshake at once (clients.ts), over all generator processes; default 8, 0: no limit. */
  readonly window?: number;
  /** Progress to stderr every 5 s. */
  readonly progress?: boolean;
  /** The cluster id the reflector is configured with; '' configures no reflection. */
  readonly clusterId?: string;
}

export interface RrResult {
  readonly n: number;
  readonly reflector: Reflector;
  readonly converged: boolean;
  /** NaN unless converged. */
  readonly seconds: number;
  readonly cpu: number;
  readonly rss: number;
  readonly wchar: number;
  readonly syscw: number;
  readonly readsPerUpdate: number;
  /** NaN unless the churn propagated. */
  readonly churnSeconds: number;
  readonly generatorCpu: number;
  readonly totals: Totals;
  readonly failure?: string;
}

class Generator {
  readonly events: GeneratorEvent[] = [];
  progress: Extract<GeneratorEvent, { ev: 'progress' }> | undefined;
  private partial = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      for (const p of parts) {
        const e = JSON.parse(p) as GeneratorEvent;
        if (e.ev === 'progress') this.progress = e;
        else this.events.push(e);
      }
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  find<K extends GeneratorEvent['ev']>(ev: K): Extract<GeneratorEvent, { ev: K }> | undefined {
    return this.events.find((e) => e.ev === ev) as Extract<GeneratorEvent, { ev: K }> | undefined;
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }
}

function procIo(pid: number): { wchar: number; syscw: number } {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { wchar: field('wchar'), syscw: field('syscw') };
}

function vmRss(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // gone: the caller reports the exit
  }
}

function sumTotals(all: readonly Totals[]): Totals {
  const t: Totals = {
    reads: 0, bytes: 0, updates: 0, own: 0, unknown: 0, noOriginatorId: 0, noClusterList: 0, malformed: 0, resets: 0, retries: 0,
    openWaitMaxMs: 0, openWaitOver1s: 0, notifications: [], errors: [],
  };
  for (const x of all) {
    for (const k of ['reads', 'bytes', 'updates', 'own', 'unknown', 'noOriginatorId', 'noClusterList', 'malformed', 'resets', 'retries', 'openWaitOver1s'] as const) t[k] += x[k];
    t.openWaitMaxMs = Math.max(t.openWaitMaxMs, x.openWaitMaxMs);
    t.notifications.push(...x.notifications);
    t.errors.push(...x.errors);
  }
  return t;
}

interface Started {
  readonly pid: number;
  readonly exited: () => string | null;
}

async function startReflector(lab: Lab, r: string, dir: string, o: RrOptions): Promise<Started> {
  let child: ChildProcess;
  let out: Output;
  if (o.reflector === 'agent') {
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, stringify(agentConfig(o.n, join(dir, 'agent.sock'), { clusterId: o.clusterId })));
    const nodeArgs = (process.env.BENCH_RR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const agent = lab.spawn(r, process.execPath, [...nodeArgs, MAIN, '--config', config]);
    child = agent;
    if (nodeArgs.some((a) => /^--(cpu|heap)-prof$/.test(a))) {
      // V8 writes a profile at exit: stop the agent as its unit would (SIGTERM) before the lab kills it.
      lab.own({
        dispose: async () => {
          agent.kill('SIGTERM');
          await waitFor(() => agent.exitCode !== null || agent.signalCode !== null, { timeoutMs: 60_000, what: 'the agent to write its profile' });
        },
      });
    }
  } else {
    const config = join(dir, 'bird.conf');
    writeFileSync(config, birdConfig(o.n, { clusterId: o.clusterId }));
    child = lab.spawn(r, 'bird', ['-f', '-c', config, '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')]);
  }
  out = captureOutput(child);
  if (o.reflector === 'bird' && process.env.BENCH_RR_BIRD_TURN !== '0') {
    // LAB-NOTES: BIRD 2.0.12 may stall about 3 s near the end of a feed until its poll times out;
    // one birdc attached asking `show status` every 50 ms keeps its main loop turning.
    await waitFor(() => existsSync(join(dir, 'bird.ctl')), { timeoutMs: 20_000, what: 'BIRD\'s control socket' });
    const birdc = lab.spawn(r, 'birdc', ['-s', join(dir, 'bird.ctl')], { stdio: ['pipe', 'pipe', 'ignore'] });
    birdc.stdout?.resume();
    const turner = setInterval(() => birdc.stdin?.write('show status\n'), 50);
    lab.defer(() => clearInterval(turner));
  }
  const exited = (): string | null => (child.exitCode === null && child.signalCode === null ? null
    : `${o.reflector} exited ${child.exitCode ?? child.signalCode}: ${[...out.lines.slice(-10), out.stderr()].join('\n')}`);
  await waitFor(async () => {
    const why = exited();
    if (why !== null) throw new Error(why);
    return (await lab.exec(r, 'ss', ['-Hltn', `sport = :${PORT}`])).stdout.trim() !== '';
  }, { timeoutMs: 60_000, intervalMs: 50, what: `${o.reflector} to listen on port ${PORT}` });
  return { pid: child.pid ?? 0, exited };
}

const absNow = (): number => performance.timeOrigin + performance.now();

/** Waits until every generator reported `ev`; false at the deadline. Progress to stderr if asked. */
async function allReport(gens: readonly Generator[], ev: 'converged' | 'churned', reflector: Started, o: RrOptions, what: string): Promise<boolean> {
  const t0 = performance.now();
  let lastPrint = t0;
  try {
    await waitFor(() => {
      const why = reflector.exited();
      if (why !== null) throw new Error(why);
      const gone = gens.find((g) => g.child.exitCode !== null || g.child.signalCode !== null);
      if (gone !== undefined) throw new Error(`a generator exited ${gone.child.exitCode ?? gone.child.signalCode}`);
      if (o.progress === true && performance.now() - lastPrint >= 5000) {
        lastPrint = performance.now();
        process.stderr.write(`  [${o.reflector} ${o.n}] ${what} ${((lastPrint - t0) / 1000).toFixed(0)} s: ${progressText(gens, o.n)}, ` +
          `reflector RSS ${(vmRss(reflector.pid) / 2 ** 20).toFixed(0)} MB\n`);
      }
      return gens.every((g) => g.find(ev) !== undefined);
    }, { timeoutMs: o.deadlineMs, intervalMs: 20, what });
    return true;
  } catch (err) {
    if ((err as Error).message.startsWith('timed out')) return false;
    throw err;
  }
}

function progressText(gens: readonly Generator[], n: number): string {
  const sum = (k: 'up' | 'done' | 'target' | 'resets' | 'opening' | 'retries'): number => gens.reduce((a, g) => a + (g.progress?.[k] ?? 0), 0);
  return `sessions up ${sum('up')}/${n}, clients converged ${sum('done')}/${sum('target')}, in handshake ${sum('opening')}, ` +
    `connects retried ${sum('retries')}, resets ${sum('resets')}`;
}

function span(gens: readonly Generator[], ev: 'converged' | 'churned'): number {
  const got = gens.map((g) => g.find(ev)!);
  return (Math.max(...got.map((e) => e.finished)) - Math.min(...got.map((e) => e.started))) / 1000;
}

/**
 * The kernel's neighbour table is one for every namespace, and it refuses new entries it may
 * collect past gc_thresh3 (1,024 on this machine; a host setting we do not touch): with an ARP
 * entry per client on the reflector's side, SYN-ACKs to clients past about the 1,020th were
 * dropped (BIRD stopped at 1,022 sessions). Permanent entries are not counted against it, so the
 * reflector's side gets one per client, pointing at the generator's side of the link.
 */
async function permanentNeighbours(lab: Lab, r: string, g: string, link: Veth, n: number, dir: string): Promise<void> {
  const mac = /link\/ether ([0-9a-f:]+)/.exec((await lab.ip(g, 'link', 'show', link.b)).stdout)?.[1];
  if (mac === undefined) throw new Error('no MAC address on the generator side of the link');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`neigh replace ${numberToIpv4(clientAddress(i))} lladdr ${mac} dev ${link.a} nud permanent`);
  writeFileSync(join(dir, 'neigh.batch'), `${lines.join('\n')}\n`);
  await lab.ip(r, '-batch', join(dir, 'neigh.batch'));
}

export async function runRr(o: RrOptions): Promise<RrResult> {
  const lab = await Lab.create(`rr${o.reflector}`);
  const dir = mkdtempSync(join(tmpdir(), 'rack-bench-rr-'));
  lab.defer(() => rmSync(dir, { recursive: true, force: true }));
  const gens: Generator[] = [];
  try {
    const r = await lab.namespace('r');
    const g = await lab.namespace('g');
    const link = await lab.veth(r, { ipv4: `${REFLECTOR_V4}/${LINK_V4_LENGTH}`, ipv6: `${REFLECTOR_V6}/${LINK_V6_LENGTH}` },
      g, `${numberToIpv4(clientAddress(0))}/${LINK_V4_LENGTH}`);
    if (o.n > 1) {
      writeFileSync(join(dir, 'addresses.batch'), addressBatch(o.n, link.b));
      await lab.ip(g, '-batch', join(dir, 'addresses.batch'));
      await permanentNeighbours(lab, r, g, link, o.n, dir);
    }
    const reflector = await startReflector(lab, r, dir, o);
    const procs = Math.max(1, Math.min(o.procs ?? 1, o.n));
    const frozen = frozenClient(o.n, o.frozen === true);
    for (let p = 0; p < procs; p++) {
      const spec: FleetSpec = {
        n: o.n, from: Math.floor((p * o.n) / procs), to: Math.floor(((p + 1) * o.n) / procs), frozen,
        host: REFLECTOR_V4, port: PORT, holdTime: HOLD_TIME, window: (o.window ?? 8) === 0 ? 0 : Math.max(1, Math.round((o.window ?? 8) / procs)),
      };
      const genArgs = (process.env.BENCH_RR_GEN_ARGS ?? '').split(' ').filter((a) => a !== '');
      const child = lab.spawn(g, process.execPath, [...genArgs, GENERATOR], { env: { ...process.env, BENCH_RR_GEN: JSON.stringify(spec) }, stdio: ['pipe', 'pipe', 'inherit'] });
      gens.push(new Generator(child));
    }
    await waitFor(() => gens.every((x) => x.find('ready') !== undefined), { timeoutMs: 20_000, what: 'the generators to start' });

    const io0 = procIo(reflector.pid);
    const cpu0 = cpuSeconds(reflector.pid);
    const gen0 = gens.reduce((a, x) => a + cpuSeconds(x.pid), 0);
    for (const x of gens) x.send('start');
    const converged = await allReport(gens, 'converged', reflector, o, 'convergence');
    const cpu = cpuSeconds(reflector.pid) - cpu0;
    const io1 = procIo(reflector.pid);
    const generatorCpu = gens.reduce((a, x) => a + cpuSeconds(x.pid), 0) - gen0;
    const seconds = converged ? span(gens, 'converged') : NaN;
    const failure = converged ? undefined : `${o.reflector}: did not converge in ${(o.deadlineMs / 1000).toFixed(0)} s: ${progressText(gens, o.n)}`;
    const initial = await stats(gens);
    let churned = false;
    if (converged) {
      for (const x of gens) x.send('churn');
      churned = await allReport(gens, 'churned', reflector, o, 'churn');
    }
    const totals = sumTotals(await stats(gens, 1));
    const first = sumTotals(initial);
    return {
      n: o.n, reflector: o.reflector, converged, seconds, cpu, rss: peakRss(reflector.pid),
      wchar: io1.wchar - io0.wchar, syscw: io1.syscw - io0.syscw,
      readsPerUpdate: first.reads / Math.max(1, first.updates),
      churnSeconds: churned ? span(gens, 'churned') : NaN, generatorCpu, totals,
      failure: failure ?? (converged && !churned ? `${o.reflector}: churn did not propagate in ${(o.deadlineMs / 1000).toFixed(0)} s: ${progressText(gens, o.n)}` : undefined),
    };
  } finally {
    for (const x of gens) x.send('stop');
    // Let them exit on their own (a --cpu-prof is written at exit); the lab kills what is left.
    await waitFor(() => gens.every((x) => x.child.exitCode !== null || x.child.signalCode !== null), { timeoutMs: 10_000, what: 'the generators to exit' })
      .catch(() => undefined);
    await lab.destroy();
  }
}

/** Each generator's totals so far (the `skip` earlier stats answers of each are passed over). */
async function stats(gens: readonly Generator[], skip = 0): Promise<Totals[]> {
  for (const x of gens) x.send('stats');
  const answers = (x: Generator) => x.events.filter((e): e is Extract<GeneratorEvent, { ev: 'stats' }> => e.ev === 'stats');
  await waitFor(() => gens.every((x) => answers(x).length > skip), { timeoutMs: 10_000, what: 'the generators\' totals' });
  return gens.map((x) => answers(x)[skip].totals);
}
