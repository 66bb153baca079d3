/**
 * bench:startup (issue 12): where the agent's start-up memory goes. Two views:
 * - the real agent (node dist/agent/main.js --config FILE, as the unit starts it) in a fresh
 *   namespace whose one peer never answers: after STARTUP_WAIT_MS (default 2,500), its peak RSS
 *   (VmHWM), anonymous and file-backed RSS, and the share of the node binary's own pages (smaps);
 *   bare node beside it;
 * - an import ladder: one process per step, each importing the modules of the steps before and
 *   its own (agent/main.ts's graph in start-up order), its VmHWM, RssAnon and RssFile after.
 * BENCH_STARTUP_RUNS (default 3) repeats the agent. RACK_AGENT_V8_FLAGS passes through (agent/
 * v8-flags.ts). A benchmark, not a test: it never fails on size. Root for the namespace.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { MAIN } from '../helpers/agent.js';
import { isRoot, Lab } from '../helpers/netns.js';

const WAIT_MS = Number(process.env.STARTUP_WAIT_MS ?? 2500);
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
const dist = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Start-up order of agent/main.ts's graph (static imports of the entry, then the daemon's). */
const LADDER: readonly (readonly [string, readonly string[]])[] = [
  ['signals, v8-flags', [dist('agent/daemon/signals.js'), dist('agent/daemon/v8-flags.js')]],
  ['winston', ['winston']],
  ['yaml', ['yaml']],
  ['convict', ['convict']],
  ['config/', [dist('config/index.js')]],
  ['agent/daemon/log', [dist('agent/daemon/log.js')]],
  ['netlink/fib (and the addon)', [dist('netlink/fib/index.js')]],
  ['agent/session', [dist('agent/session/manager.js')]],
  ['agent/rib', [dist('agent/rib/rib.js')]],
  ['the daemon (the rest)', [dist('agent/daemon/daemon.js')]],
];

const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

function status(text: string, key: string): number {
  return Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0);
}

/** Rss of the mappings of `file` in /proc/PID/smaps, kB. */
function mappedRss(pid: number, file: string): number {
  let name = '';
  let kb = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const map = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (map !== null) name = map[1];
    else if (name === file && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return kb;
}

function describe(pid: number): string {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  return `peak ${mb(status(st, 'VmHWM'))} (anon ${mb(status(st, 'RssAnon'))}, file ${mb(status(st, 'RssFile'))}, ` +
    `of it the node binary ${mb(mappedRss(pid, process.execPath))})`;
}

async function agentOnce(dir: string, n: number): Promise<string> {
  const lab = await Lab.create(`stup${n}`);
  try {
    const ns = await lab.namespace('n');
    const child = lab.spawn(ns, process.execPath, [MAIN, '--config', join(dir, 'agent.yaml')]);
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    if (child.exitCode !== null || child.pid === undefined) return `exited (${child.exitCode})`;
    return describe(child.pid);
  } finally {
    await lab.destroy();
  }
}

function bare(): string {
  const script = `setTimeout(() => process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8')), ${WAIT_MS})`;
  const st = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return `peak ${mb(status(st, 'VmHWM'))} (anon ${mb(status(st, 'RssAnon'))}, file ${mb(status(st, 'RssFile'))})`;
}

function ladder(): void {
  // -e code resolves bare specifiers from the working directory: the worktree, its node_modules.
  const probe = "import { readFileSync } from 'node:fs'; for (const m of process.argv.slice(1)) await import(m); " +
    "process.stdout.write(readFileSync('/proc/self/status', 'utf8'));";
  const modules: string[] = [];
  let before = 0;
  console.log('  imports, cumulative (one process per line):');
  for (const [what, mods] of LADDER) {
    modules.push(...mods);
    const st = execFileSync(process.execPath, ['--input-type=module', '-e', probe, ...modules], { encoding: 'utf8', cwd: dist('') });
    const hwm = status(st, 'VmHWM');
    const step = before === 0 ? '' : ` (+${((hwm - before) / 1024).toFixed(1)})`;
    console.log(`    + ${what.padEnd(30)} peak ${mb(hwm)}${step}, anon ${mb(status(st, 'RssAnon'))}, file ${mb(status(st, 'RssFile'))}`);
    before = hwm;
  }
}

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('bench:startup needs root (a network namespace); skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rack-bench-startup-'));
  try {
    writeFileSync(join(dir, 'agent.yaml'), stringify({
      node: { name: 'startup', ipv4Address: '10.1.0.2/24' },
      bgp: { asNumber: 65100, peers: [{ peerIP: '10.1.0.1', asNumber: 65100 }] },
      pools: [{ cidr: '64.0.0.0/6', blockSize: 26, ipipMode: 'Never' }],
      blocks: [],
      log: { level: 'info', format: 'json' },
      control: { socket: join(dir, 'agent.sock') },
    }));
    console.log(`bench:startup  the agent ${WAIT_MS} ms after start, its one peer unreachable`);
    console.log(`  bare node:  ${bare()}`);
    for (let n = 0; n < RUNS; n++) console.log(`  rack-agent: ${await agentOnce(dir, n)}`);
    ladder();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
