/**
 * bench:restart (issue 21): SIGKILL a node holding N learned routes and start it again, the real
 * agent and BIRD 2 (graceful restart, kernel protocol with `persist` and `graceful restart`,
 * `bird -R`) each in a fresh lab against the same BIRD 2 route reflector with graceful restart on
 * (restart-run.ts says what is measured and how). Prints, per N: ready seconds (new process start
 * -> ready), kernel routes of the node's protocol deleted and written (added or replaced) during
 * the restart, the seconds some route was missing from the kernel, the lowest table count sampled,
 * peak RSS and CPU seconds of the new process, and the ratios agent / BIRD. Goals (issue 21, at
 * 1,000,000): ready <= 1.0x BIRD, 0 deleted, peak RSS <= 200 MB.
 * BENCH_RESTART_COUNTS=2000,100000 (default 1,000,000); BENCH_BIRD=0 skips BIRD;
 * BENCH_RESTART_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the restarted agent (stopped by
 * SIGTERM at ready so V8 writes the profile); BENCH_RESTART_LOG=N prints the restarted node's first
 * N log lines (the agent's are timestamped) and its start time. A benchmark, not a test: it never fails on speed.
 * Root and BIRD 2 only.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../helpers/netns.js';
import { settle } from './proc.js';
import { type RestartResult, restartOnce } from './restart-run.js';

const COUNTS = (process.env.BENCH_RESTART_COUNTS ?? '1000000').split(',').map(Number);
const NODE_ARGS = (process.env.BENCH_RESTART_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const LOG_LINES = Number(process.env.BENCH_RESTART_LOG ?? 0);

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const HEAD = ['N', 'node', 'ready s', 'deleted', 'rewritten', 'kernel out-of-date s', 'lowest', 'peak RSS MB', 'CPU s'];

function row(r: RestartResult): string[] {
  const lost = r.kernel.overruns > 0 ? ` (${r.kernel.overruns} overruns: low)` : '';
  return [r.count.toLocaleString('en'), r.kind === 'agent' ? 'rack-agent' : 'BIRD 2', r.readySeconds.toFixed(2),
    `${r.kernel.deleted}${lost}`, String(r.kernel.written), Math.max(r.kernel.missingSeconds, r.belowSeconds).toFixed(3),
    r.lowest.toLocaleString('en'), mb(r.rss), r.cpu.toFixed(2)];
}

function print(rows: string[][]): void {
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  console.log(line(HEAD));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('bench:restart needs root (network namespaces); skipped');
    return;
  }
  if (!existsSync('/usr/sbin/bird')) {
    console.log('bench:restart needs BIRD 2 (apt-get install bird2); skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rack-bench-restart-'));
  const rows: string[][] = [];
  const ratios: string[] = [];
  const notes: string[] = [];
  try {
    await settle();
    for (const count of COUNTS) {
      const ours = await restartOnce('agent', count, { dir, nodeArgs: NODE_ARGS, logLines: LOG_LINES });
      rows.push(row(ours));
      notes.push(`  ${count.toLocaleString('en')}: the agent's FIB counted ${ours.stale ?? '?'} routes stale at convergence (its log)`);
      if (process.env.BENCH_BIRD === '0') continue;
      const ref = await restartOnce('bird', count, { dir, logLines: LOG_LINES });
      rows.push(row(ref));
      ratios.push(`  ${count.toLocaleString('en')}: agent / BIRD ready ${(ours.readySeconds / ref.readySeconds).toFixed(2)} (goal <= 1.0), ` +
        `peak RSS ${(ours.rss / ref.rss).toFixed(1)}x (${mb(ours.rss)} MB, goal <= 200 MB at 1,000,000), CPU ${(ours.cpu / Math.max(0.01, ref.cpu)).toFixed(2)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('bench:restart  SIGKILL with N IPv4 /26 learned from a BIRD 2 route reflector (graceful restart), start again -> ready');
  print(rows);
  for (const r of ratios) console.log(r);
  for (const n of notes) console.log(n);
  console.log('  deleted / rewritten: RTM_DELROUTE / RTM_NEWROUTE of the node\'s own protocol during the restart; ' +
    'out-of-date: seconds some route was missing (ip monitor) or the table was below N (fib_triestat every 10 ms)');
}

await main();
