/**
 * What a restart does to one protocol's kernel routes, seen from inside the node's namespace
 * (bench:restart and its smoke): an `ip -4 monitor route` (RTM_NEWROUTE / RTM_DELROUTE on the
 * route multicast group, with a large receive buffer) whose lines are counted as they stream, not
 * kept: deletions, additions or replacements (the kernel notifies a replace as RTM_NEWROUTE), and
 * the time some deleted route was missing; beside it a sampler of the main table's prefix count
 * (/proc/PID/net/fib_triestat, PID the monitor's) that keeps the lowest count seen and the time
 * spent below a floor. `sync()` proves the monitor live with canary routes (kernel-watch.ts): once
 * a canary's deletion shows, every event before it has been counted. A receive buffer overrun
 * (ENOBUFS: events lost) is counted, never hidden.
 * Not here: namespaces (netns.ts), the daemons.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { canarySync } from '../helpers/kernel-watch.js';
import type { Lab } from '../helpers/netns.js';
import { triestatMain } from './proc.js';

/**
 * Receive buffer asked of `ip monitor` (bytes): a million replaces arrive faster than it prints.
 * The kernel caps it at net.core.rmem_max (global, not per namespace; 4 MB here): overruns stay possible.
 */
const RCVBUF = 256 * 2 ** 20;

/** One line of `ip monitor route`: deleted or not, its prefix and its protocol token; undefined if no route line. */
export function parseMonitorLine(line: string): { readonly deleted: boolean; readonly prefix: string; readonly proto: string } | undefined {
  const deleted = line.startsWith('Deleted ');
  const tokens = (deleted ? line.slice(8) : line).trim().split(/\s+/);
  const at = tokens[0] === 'blackhole' || tokens[0] === 'unreachable' || tokens[0] === 'prohibit' ? 1 : 0;
  const prefix = tokens[at];
  if (prefix === undefined || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(prefix)) return undefined;
  const p = tokens.indexOf('proto');
  return { deleted, prefix: prefix.includes('/') ? prefix : `${prefix}/32`, proto: p < 0 ? 'boot' : tokens[p + 1] ?? '' };
}

export interface RouteCounts {
  /** RTM_DELROUTE of the protocol. */
  readonly deleted: number;
  /** RTM_NEWROUTE of the protocol: routes added or rewritten. */
  readonly written: number;
  /** Seconds during which at least one deleted route had not come back. */
  readonly missingSeconds: number;
  /** Receive buffer overruns reported by `ip monitor`: events were lost, the counts are low. */
  readonly overruns: number;
}

export class RouteMonitor {
  private readonly child: ChildProcess;
  private partial = '';
  private deleted = 0;
  private written = 0;
  private readonly missing = new Set<string>();
  private missingSince = 0;
  private missingMs = 0;
  private overruns = 0;
  private overrunsBefore = 0;
  private canary = 0;
  private readonly canariesGone = new Set<string>();

  constructor(private readonly lab: Lab, private readonly ns: string, private readonly proto: string) {
    this.child = lab.spawn(ns, 'ip', ['-4', '-rcvbuf', String(RCVBUF), 'monitor', 'route']);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.take(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.overruns += chunk.split('No buffer space').length - 1;
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  private take(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    const now = performance.now();
    for (const line of lines) {
      const route = parseMonitorLine(line);
      if (route === undefined) continue;
      if (route.prefix.startsWith('198.51.100.')) {
        if (route.deleted) this.canariesGone.add(route.prefix);
        continue;
      }
      if (route.proto !== this.proto) continue;
      if (route.deleted) {
        this.deleted += 1;
        if (this.missing.size === 0) this.missingSince = now;
        this.missing.add(route.prefix);
      } else {
        this.written += 1;
        if (this.missing.delete(route.prefix) && this.missing.size === 0) this.missingMs += now - this.missingSince;
      }
    }
  }

  /** Returns once every event before this call has been counted (a canary's deletion seen). */
  async sync(): Promise<void> {
    await canarySync(this.lab, this.ns, () => ++this.canary, (prefix) => this.canariesGone.has(`${prefix}/32`), `the route monitor in ${this.ns}`);
  }

  /** Counts from now on (after a sync: the first run's installation is not the restart's). */
  reset(): void {
    this.deleted = 0;
    this.written = 0;
    this.missingMs = 0;
    this.missing.clear();
    this.overrunsBefore = this.overruns;
  }

  counts(): RouteCounts {
    const open = this.missing.size > 0 ? performance.now() - this.missingSince : 0;
    return { deleted: this.deleted, written: this.written, missingSeconds: (this.missingMs + open) / 1000, overruns: this.overruns - this.overrunsBefore };
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/** The main table's prefix count every `intervalMs`, read through a process in the namespace. */
export class TableSampler {
  private timer: NodeJS.Timeout | undefined;
  private lowest = Infinity;
  private belowMs = 0;
  private last = 0;
  samples = 0;

  constructor(private readonly pid: number, private readonly floor: number, intervalMs = 10) {
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const now = performance.now();
    let count: number;
    try {
      count = triestatMain(readFileSync(`/proc/${this.pid}/net/fib_triestat`, 'utf8'));
    } catch {
      return; // the monitor is gone: the run is over
    }
    this.samples += 1;
    if (count < this.lowest) this.lowest = count;
    if (count < this.floor) this.belowMs += now - this.last;
    this.last = now;
  }

  /** The lowest count seen and the seconds spent below the floor; the sampler stops. */
  stop(): { readonly lowest: number; readonly belowSeconds: number; readonly samples: number } {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return { lowest: this.lowest, belowSeconds: this.belowMs / 1000, samples: this.samples };
  }
}
