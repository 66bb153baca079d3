/**
 * Kernel watchers for the fabric lab: one `ip -o monitor route link` per node namespace, both
 * families (proved live by a canary route first, as kernel-watch.ts does), every change to a route
 * of the pools (192.168.0.0/16, fd00:10::/48) in the main table recorded with the time it arrived
 * (`-o`: an ECMP route and its next hops on one line, `via inet6` ones included), and the analysis
 * a scenario needs: per node, when its kernel last changed after an instant (convergence) and which
 * expected blocks were missing or wrong meanwhile (loss; an ECMP route shrunk to some of its next
 * hops still carries its block: `serves`).
 * `kernelBlocks` is the authoritative dump used by the final exactness check.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';
import { canarySync } from '../helpers/kernel-watch.js';
import type { KernelEntry } from './topology.js';

export interface RouteEvent {
  readonly at: number;
  readonly prefix: string;
  /** The new entry; undefined for a deletion. */
  readonly entry: KernelEntry | undefined;
}

/** A prefix of the fabric's pools (192.168.0.0/16, fd00:10::/48). */
export const isFabricPrefix = (prefix: string): boolean => prefix.startsWith('192.168.') || prefix.startsWith('fd00:10:');

/**
 * A route line (`ip route` or `ip monitor`) -> [prefix, entry], or undefined if not a fabric block:
 * other tables (the local table's addresses) and the kernel's own routes (IPv6 puts a /128 of each
 * address on lo into main) are not.
 */
export function parseRouteLine(line: string): [string, KernelEntry | undefined] | undefined {
  const deleted = line.startsWith('Deleted ');
  const tokens = (deleted ? line.slice(8) : line).trim().split(/\s+/);
  if (tokens.includes('table') || tokens.includes('kernel')) return undefined;
  const at = tokens[0] === 'blackhole' || tokens[0] === 'unicast' ? 1 : 0;
  const p = tokens[at] ?? '';
  if (!/^[\d.:a-f]+(\/\d+)?$/.test(p)) return undefined;
  const prefix = p.includes('/') ? p : `${p}/${p.includes(':') ? 128 : 32}`;
  if (!isFabricPrefix(prefix)) return undefined;
  if (deleted) return [prefix, undefined];
  if (tokens[0] === 'blackhole') return [prefix, 'blackhole'];
  const hops = nextHops(line);
  if (hops.length === 1 && !hops[0].includes('%') && !hops[0].startsWith('inet6 ')) return [prefix, hops[0]];
  return [prefix, hops.length > 0 ? hops.sort().join(',') : tokens.slice(1).join(' ')];
}

/**
 * Every live next hop of a route line (`ip -o` writes a multipath route's `nexthop via ...` parts on
 * its one line): the gateway, a link-local one as `fe80%<dev>`, an IPv4 route's IPv6 one (`via
 * inet6`, RTA_VIA) prefixed `inet6 `; a hop marked `dead` (its device down) is not one.
 */
export function nextHops(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/\bvia (inet6 )?(\S+)(?: dev (\S+))?([^\\]*)/g)) {
    if (/\bdead\b/.test(m[4])) continue;
    const gw = m[2].startsWith('fe80:') && m[3] !== undefined ? `fe80%${m[3]}` : m[2];
    out.push(`${m[1] ?? ''}${gw}`);
  }
  return out;
}

/** The node's fabric routes now, both families, from one dump (table all; other tables are skipped). */
export async function kernelBlocks(lab: Lab, ns: string): Promise<Map<string, KernelEntry>> {
  const { stdout } = await lab.ip(ns, '-o', 'route', 'show', 'table', 'all');
  const out = new Map<string, KernelEntry>();
  for (const line of stdout.split('\n')) {
    const parsed = parseRouteLine(line);
    if (parsed?.[1] !== undefined) out.set(parsed[0], parsed[1]);
  }
  return out;
}

/** `ip monitor link` line of a device that is no longer up -> its name. */
export function linkDown(line: string): string | undefined {
  const m = /^\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>/.exec(line);
  return m !== null && !m[2].split(',').includes('UP') ? m[1] : undefined;
}

export class KernelWatch {
  readonly events: RouteEvent[] = [];
  /** prefix -> the device it leaves by, to replay the kernel's silent flush on link down. */
  private readonly devs = new Map<string, string>();
  private readonly child: ChildProcess;
  private readonly canaries: string[] = [];
  private partial = '';
  private canary = 0;

  private constructor(private readonly lab: Lab, readonly ns: string) {
    // -o: a multipath route is one line (its next hops joined by '\\'), so one line is one change.
    this.child = lab.spawn(ns, 'ip', ['-o', 'monitor', 'route', 'link']);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      const at = Date.now();
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) {
        if (line.includes('198.51.100.')) this.canaries.push(line);
        this.onLine(at, line);
      }
    });
  }

  /**
   * IPv4 flushes the routes over a device that goes down without an RTM_DELROUTE for them
   * (fib_sync_down_dev), so the watcher records those deletions itself, at the link event. IPv6
   * announces its deletions; recording one twice changes nothing.
   */
  private onLine(at: number, line: string): void {
    const down = linkDown(line);
    if (down !== undefined) {
      for (const [prefix, dev] of this.devs) {
        if (dev !== down) continue;
        this.devs.delete(prefix);
        this.events.push({ at, prefix, entry: undefined });
      }
      return;
    }
    const parsed = parseRouteLine(line);
    if (parsed === undefined) return;
    const dev = /\bdev (\S+)/.exec(line)?.[1];
    if (parsed[1] === undefined || dev === undefined) this.devs.delete(parsed[0]);
    else this.devs.set(parsed[0], dev);
    this.events.push({ at, prefix: parsed[0], entry: parsed[1] });
  }

  /** Starts a watcher and waits until a canary shows that `ip monitor` has joined the group. */
  static async start(lab: Lab, ns: string): Promise<KernelWatch> {
    const w = new KernelWatch(lab, ns);
    await w.sync();
    const { stdout } = await lab.ip(ns, '-o', 'route', 'show', 'table', 'all');
    for (const line of stdout.split('\n')) {
      const p = parseRouteLine(line);
      const dev = /\bdev (\S+)/.exec(line)?.[1];
      if (p?.[1] !== undefined && dev !== undefined && !w.devs.has(p[0])) w.devs.set(p[0], dev);
    }
    return w;
  }

  /** A canary blackhole added and deleted until its deletion is seen (a fresh monitor may not have joined yet). */
  private async sync(): Promise<void> {
    await canarySync(this.lab, this.ns, () => ++this.canary, (prefix) => this.canaries.some((l) => l.startsWith('Deleted') && l.includes(`${prefix} `)), `the watcher in ${this.ns}`);
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/**
 * Whether a kernel entry still carries a block's traffic as `want` means it: the same entry, or,
 * for an ECMP route, a non-empty part of its next hops (a dual-homed node shrunk to one uplink
 * loses nothing). Pure.
 */
export function serves(want: KernelEntry, got: KernelEntry | undefined): boolean {
  if (got === undefined) return false;
  if (got === want) return true;
  const hops = new Set(want.split(','));
  return hops.size > 1 && got.split(',').every((h) => hops.has(h));
}

export interface NodeImpact {
  /** ms from `since` to this node's last fabric route change (0: the kernel never changed). */
  readonly convergedMs: number;
  /**
   * Expected blocks that were absent or pointed elsewhere at some moment after `since` (an ECMP
   * route shrunk to some of its next hops is not lost: `serves`).
   */
  readonly lost: readonly string[];
  /** Sum over blocks of the time they were absent or wrong, ms. */
  readonly lostMs: number;
  readonly changes: number;
}

/**
 * Replays a watcher's events after `since` over the state `before` (a dump at `since`) against what
 * the node must hold, up to `until`. Pure.
 */
export function impact(events: readonly RouteEvent[], before: ReadonlyMap<string, KernelEntry>,
  expected: ReadonlyMap<string, KernelEntry>, since: number, until: number, convergedFrom = since): NodeImpact {
  const state = new Map(before);
  const badFrom = new Map<string, number>();
  const lost = new Set<string>();
  let lostMs = 0;
  const mark = (prefix: string, at: number): void => {
    const want = expected.get(prefix);
    if (want === undefined) return;
    const ok = serves(want, state.get(prefix));
    if (!ok && !badFrom.has(prefix)) {
      badFrom.set(prefix, at);
      lost.add(prefix);
    } else if (ok && badFrom.has(prefix)) {
      lostMs += at - (badFrom.get(prefix) ?? at);
      badFrom.delete(prefix);
    }
  };
  for (const p of expected.keys()) mark(p, since);
  let last = 0;
  let changes = 0;
  for (const e of events) {
    if (e.at < since || e.at > until) continue;
    if (e.entry === undefined) state.delete(e.prefix);
    else state.set(e.prefix, e.entry);
    changes += 1;
    last = Math.max(last, e.at);
    mark(e.prefix, e.at);
  }
  for (const from of badFrom.values()) lostMs += until - from;
  return { convergedMs: last === 0 ? 0 : Math.max(0, last - convergedFrom), lost: [...lost], lostMs, changes };
}
