/**
 * Kernel routes as the restart tests see them: `kernelRoutes` lists one protocol's IPv4 routes of a
 * namespace's main table (prefix -> the `ip route` line), and `RouteWatcher` runs `ip monitor route`
 * there and records every deletion, proven live by canary routes (another protocol's, in
 * 198.51.100.0/24, outside every pool), so a watcher that saw no deletion saw everything.
 * Used by test/netlink/restart.test.ts and test/e2e/tor-reboot.test.ts.
 */

import type { ChildProcess } from 'node:child_process';
import { captureOutput, type Lab, type Output, waitFor } from './netns.js';

const ROUTE_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'local', 'broadcast', 'multicast', 'throw']);

/** The prefix of an `ip route` / `ip monitor` line (after `Deleted`), with /32 made explicit. */
function linePrefix(tokens: readonly string[]): string {
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
    const deadline = Date.now() + 15_000;
    for (;;) {
      const prefix = `198.51.100.${++this.canary}`;
      await this.lab.ip(this.ns, 'route', 'add', 'blackhole', prefix, 'proto', 'static');
      await this.lab.ip(this.ns, 'route', 'del', 'blackhole', prefix, 'proto', 'static');
      const seen = new RegExp(`^Deleted (blackhole )?${prefix.replace(/\./g, '\\.')}(/32)?( |$)`);
      try {
        await waitFor(() => this.output.lines.some((l) => seen.test(l)), {
          timeoutMs: Math.max(100, Math.min(2000, deadline - Date.now())), what: `the route watcher in ${this.ns} to see canary ${prefix} go`,
        });
        return;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
      }
    }
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}
