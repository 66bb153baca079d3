/**
 * Watching routes across a restart: the kernel routes of one protocol in a namespace, an
 * `ip monitor route` watcher that records every deletion (proven live by canary routes, so a
 * watcher that saw nothing saw everything), and a poll of a daemon's RIB for one prefix.
 * Used by the restart tests (test/netlink/restart*.test.ts) and the route reflection tests.
 * Not here: namespaces (netns.ts), daemons (bird.ts, frr.ts).
 */

import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { captureOutput, type Lab, type Output, waitFor } from './netns.js';

const ROUTE_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'local', 'broadcast', 'multicast', 'throw']);

/** The prefix of an `ip route` / `ip monitor` line (after `Deleted`), with /32 made explicit. */
export function linePrefix(tokens: readonly string[]): string {
  const at = ROUTE_TYPES.has(tokens[0]) ? 1 : 0;
  const p = tokens[at] ?? '';
  return p.includes('/') ? p : `${p}/32`;
}

/** Routes of one protocol (ours: 201) in the namespace's main table, prefix -> the whole line. */
export async function kernelRoutes(lab: Lab, ns: string, proto = '201'): Promise<Map<string, string>> {
  const { stdout } = await lab.ip(ns, '-4', 'route', 'show', 'proto', proto);
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) if (line.trim() !== '') out.set(linePrefix(line.trim().split(/\s+/)), line.trim());
  return out;
}

/**
 * Proves an `ip monitor` in `ns` live: a blackhole 198.51.100.<next()> of protocol `static` added
 * and deleted until `seen(prefix)` says its deletion showed (once it has, all before it has). A
 * freshly spawned monitor may not have joined the group yet, so an unseen canary is followed by
 * another, until 15 s have passed.
 */
export async function canarySync(lab: Lab, ns: string, next: () => number, seen: (prefix: string) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const prefix = `198.51.100.${next()}`;
    await lab.ip(ns, 'route', 'add', 'blackhole', prefix, 'proto', 'static');
    await lab.ip(ns, 'route', 'del', 'blackhole', prefix, 'proto', 'static');
    try {
      await waitFor(() => seen(prefix), { timeoutMs: Math.max(100, Math.min(2000, deadline - Date.now())), what: `${what} to see canary ${prefix} go` });
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
  }
}

/** `ip monitor route` in a namespace: every deletion seen, proven live with canary routes. */
export class RouteWatcher {
  private readonly child: ChildProcess;
  private readonly output: Output;
  private canary = 0;

  constructor(private readonly lab: Lab, private readonly ns: string) {
    this.child = lab.spawn(ns, 'ip', ['-4', 'monitor', 'route']);
    this.output = captureOutput(this.child);
  }

  /** Prefixes of every `Deleted` line so far, canaries excluded. */
  deletions(): string[] {
    return this.output.lines
      .filter((l) => l.startsWith('Deleted '))
      .map((l) => linePrefix(l.slice('Deleted '.length).trim().split(/\s+/)))
      .filter((p) => !p.startsWith('198.51.100.'));
  }

  /**
   * A blackhole of protocol `static` added and deleted: once its deletion shows, all before it has.
   * A freshly spawned `ip monitor` may not have joined the group yet, so a canary that goes unseen
   * is followed by another one, until the deadline.
   */
  async sync(): Promise<void> {
    await canarySync(this.lab, this.ns, () => ++this.canary, (prefix) => {
      const seen = new RegExp(`^Deleted (blackhole )?${prefix.replace(/\./g, '\\.')}(/32)?( |$)`);
      return this.output.lines.some((l) => seen.test(l));
    }, `the route watcher in ${this.ns}`);
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/** Polls a daemon's RIB for one prefix (`has`) every 50 ms until stopped; every answer is kept. */
export class RibPoll {
  readonly samples: { readonly at: number; readonly present: boolean }[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly has: () => Promise<boolean>) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const present = await this.has().catch(() => false);
      this.samples.push({ at: Date.now(), present });
      await delay(50);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done.catch(() => undefined);
  }

  get missing(): number {
    return this.samples.filter((s) => !s.present).length;
  }
}
