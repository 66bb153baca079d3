/**
 * bench:rr (issue 21): the real agent as a route reflector (RFC 4456) for N iBGP clients, against
 * BIRD 2 as the reflector in the same run with the same load generator (run.ts, clients.ts). Each
 * reflector runs in a fresh lab; the machine settles between runs. Prints one table: time until
 * every client holds every other client's blocks, the reflector's CPU, peak RSS, bytes and write
 * syscalls, the clients' reads per UPDATE, the 1% churn's propagation time, the generator's own
 * CPU, and the ratios agent / BIRD.
 * Environment: BENCH_RR_COUNTS=200,1000 (default 200,1000,2000); BENCH_BIRD=0 skips BIRD;
 * BENCH_RR_FROZEN=1 freezes one client in every run, =0 in none (default: in runs of 2,000 and
 * more); BENCH_RR_DEADLINE=seconds per phase (default 300); BENCH_RR_PROCS=generator processes
 * (default 1); BENCH_RR_WINDOW=clients in their handshake at once (default 8: BIRD 2 listens
 * with a backlog of 8; 32 made BIRD slower here, with dropped SYNs and resets);
 * BENCH_RR_PROGRESS=1 prints progress every 5 s to stderr; BENCH_RR_NODE_ARGS are given to the
 * agent's node (--cpu-prof, say), BENCH_RR_GEN_ARGS to the generators'; BENCH_RR_BIRD_TURN=0
 * stops the birdc that keeps BIRD's main loop turning (run.ts).
 * A benchmark, not a test: it never fails on speed. Root and BIRD 2 (for the BIRD rows) only.
 */
import { existsSync } from 'node:fs';
import { isRoot } from '../../helpers/netns.js';
import { settle } from '../proc.js';
import { type Reflector, type RrResult, runRr } from './run.js';

const COUNTS = (process.env.BENCH_RR_COUNTS ?? '200,1000,2000').split(',').map(Number);
const DEADLINE_S = Number(process.env.BENCH_RR_DEADLINE ?? 300);
const PROCS = Number(process.env.BENCH_RR_PROCS ?? 1);
const WINDOW = Number(process.env.BENCH_RR_WINDOW ?? 8);

function frozenIn(n: number): boolean {
  const env = process.env.BENCH_RR_FROZEN;
  return env === '1' || (env !== '0' && n >= 2000);
}

const HEAD = ['nodes', 'reflector', 'converged s', 'CPU s', 'peak RSS MB', 'bytes sent', 'writes', 'reads/UPDATE', 'churn s', 'generator CPU s'];

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');

function row(r: RrResult): string[] {
  return [
    `${r.n.toLocaleString('en')}${frozenIn(r.n) ? ' (1 frozen)' : ''}`, r.reflector === 'agent' ? 'rack-agent' : 'BIRD 2',
    r.converged ? fmt(r.seconds) : 'no', fmt(r.cpu), fmt(r.rss / 2 ** 20, 1), r.wchar.toLocaleString('en'),
    r.syscw.toLocaleString('en'), fmt(r.readsPerUpdate), fmt(r.churnSeconds, 3), fmt(r.generatorCpu),
  ];
}

function ratio(a: RrResult, b: RrResult): string[] {
  const q = (x: number, y: number): string => fmt(x / y);
  return [
    '', 'agent / BIRD', a.converged && b.converged ? q(a.seconds, b.seconds) : '-', q(a.cpu, Math.max(0.01, b.cpu)), q(a.rss, b.rss),
    q(a.wchar, b.wchar), q(a.syscw, b.syscw), q(a.readsPerUpdate, b.readsPerUpdate), q(a.churnSeconds, b.churnSeconds), '',
  ];
}

function table(rows: readonly string[][]): string {
  const widths = HEAD.map((_, k) => Math.max(...[HEAD, ...rows].map((r) => r[k].length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  return [line(HEAD), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function problems(r: RrResult): string[] {
  const t = r.totals;
  const out: string[] = [];
  if (r.failure !== undefined) out.push(r.failure);
  out.push(`OPEN after connect: slowest ${t.openWaitMaxMs.toFixed(0)} ms, ${t.openWaitOver1s} over 1 s`);
  if (t.own > 0) out.push(`${t.own} own routes reflected back to their originator`);
  if (t.unknown > 0) out.push(`${t.unknown} prefixes outside the plan`);
  if (t.noOriginatorId > 0 || t.noClusterList > 0) out.push(`reflected routes without ORIGINATOR_ID: ${t.noOriginatorId}, without CLUSTER_LIST: ${t.noClusterList}`);
  if (t.malformed > 0 || t.resets > 0 || t.retries > 0) out.push(`malformed streams ${t.malformed}, session resets ${t.resets}, connects retried ${t.retries}`);
  out.push(...t.notifications, ...t.errors);
  return out.map((p) => `  ${r.reflector} ${r.n}: ${p}`);
}

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('bench:rr needs root (network namespaces); skipped');
    return;
  }
  const withBird = process.env.BENCH_BIRD !== '0' && existsSync('/usr/sbin/bird');
  if (!withBird) console.log('bench:rr: BIRD 2 skipped (BENCH_BIRD=0 or not installed)');
  const rows: string[][] = [];
  const notes: string[] = [];
  await settle();
  for (const n of COUNTS) {
    const results = new Map<Reflector, RrResult>();
    for (const reflector of (withBird ? ['agent', 'bird'] : ['agent']) as Reflector[]) {
      const r = await runRr({
        n, reflector, frozen: frozenIn(n), procs: PROCS, window: WINDOW, deadlineMs: DEADLINE_S * 1000, progress: process.env.BENCH_RR_PROGRESS === '1',
      });
      results.set(reflector, r);
      rows.push(row(r));
      notes.push(...problems(r));
      console.log(`bench:rr ${n} ${reflector}: ${r.converged ? `converged in ${fmt(r.seconds)} s, churn ${fmt(r.churnSeconds, 3)} s` : r.failure}`);
      await settle();
    }
    const a = results.get('agent');
    const b = results.get('bird');
    if (a !== undefined && b !== undefined) rows.push(ratio(a, b));
  }
  console.log('\nbench:rr  N iBGP clients (2 IPv4 /26 + 1 IPv6 /122 each) -> one route reflector; first connect -> every client holds every other client\'s blocks');
  console.log('CPU, bytes and writes: the reflector\'s, from just before the clients connect until they converged; peak RSS: VmHWM at the end\n');
  console.log(table(rows));
  if (notes.length > 0) console.log(`\n${notes.join('\n')}`);
}

await main();
