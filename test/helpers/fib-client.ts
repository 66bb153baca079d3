/**
 * The test side of fib-driver.ts: starts the driver inside a Lab namespace, sends commands, waits
 * for answers by id (failing at once, with the driver's stderr, if it dies), and reads the kernel
 * back with `ip -j route` in the same namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FibSnapshot } from '../../netlink/fib/types.js';
import type { DriverChange, DriverOptions } from './fib-driver.js';
import { captureOutput, type Lab, type Output, waitFor } from './netns.js';

const driverScript = fileURLToPath(new URL('./fib-driver.js', import.meta.url));

export interface DriverEvent {
  event: string;
  id?: number;
  [field: string]: unknown;
}

export class FibClient {
  private readonly out: Output;
  private nextId = 1;

  private constructor(readonly child: ChildProcess) {
    this.out = captureOutput(child);
  }

  static async start(lab: Lab, ns: string, options: DriverOptions, timeoutMs = 30_000): Promise<FibClient> {
    const child = lab.spawn(ns, process.execPath, [driverScript, JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const client = new FibClient(child);
    await client.waitEvent((e) => e.event === 'ready', 'driver ready', timeoutMs);
    return client;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  events(): DriverEvent[] {
    const out: DriverEvent[] = [];
    for (const line of this.out.lines) {
      if (line.startsWith('{')) out.push(JSON.parse(line) as DriverEvent);
    }
    return out;
  }

  logs(level?: string): Array<{ level: string; message: string; meta?: Record<string, unknown> }> {
    return this.events()
      .filter((e) => e.event === 'log' && (level === undefined || e.level === level))
      .map((e) => ({ level: String(e.level), message: String(e.message), meta: e.meta as Record<string, unknown> | undefined }));
  }

  stderr(): string {
    return this.out.stderr();
  }

  async waitEvent(match: (e: DriverEvent) => boolean, what: string, timeoutMs = 30_000): Promise<DriverEvent> {
    return waitFor(() => {
      const found = this.events().find(match);
      if (found === undefined && this.exited) {
        throw new Error(`fib driver exited (${this.child.exitCode ?? this.child.signalCode}) waiting for ${what}: ` +
          `${this.out.stderr()}\n${this.out.lines.slice(-20).join('\n')}`);
      }
      return found;
    }, { timeoutMs, intervalMs: 20, what });
  }

  /** Sends a command and waits for its answer. */
  async command(cmd: Record<string, unknown>, timeoutMs = 30_000): Promise<DriverEvent> {
    const id = this.nextId++;
    this.child.stdin?.write(`${JSON.stringify({ ...cmd, id })}\n`);
    return this.waitEvent((e) => e.id === id && e.event !== 'log', `answer to ${String(cmd.cmd)}`, timeoutMs);
  }

  apply(changes: DriverChange[]): Promise<DriverEvent> {
    return this.command({ cmd: 'apply', changes });
  }

  async idle(timeoutMs = 30_000): Promise<FibSnapshot> {
    return (await this.command({ cmd: 'idle' }, timeoutMs)).snapshot as FibSnapshot;
  }

  async snapshot(): Promise<FibSnapshot> {
    return (await this.command({ cmd: 'snapshot' })).snapshot as FibSnapshot;
  }

  async reconcile(timeoutMs = 60_000): Promise<FibSnapshot> {
    return (await this.command({ cmd: 'reconcile' }, timeoutMs)).snapshot as FibSnapshot;
  }

  /** Sends a command without waiting (block: the answer comes when the loop is free again). */
  send(cmd: Record<string, unknown>): number {
    const id = this.nextId++;
    this.child.stdin?.write(`${JSON.stringify({ ...cmd, id })}\n`);
    return id;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) {
        resolve();
        return;
      }
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.write(`${JSON.stringify({ cmd: 'exit', id: this.nextId++ })}\n`);
    await done;
  }
}

/** One route of `ip -j route`, as iproute2 prints it. */
export interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  flags?: string[];
  nexthops?: Array<{ gateway?: string; dev?: string; flags?: string[]; weight?: number }>;
}

/** `ip -j [-6] route show table T [proto P]` inside the namespace. */
export async function kernelRoutes(lab: Lab, ns: string, options: { family?: 4 | 6; table?: number; proto?: number | string } = {}): Promise<IpRoute[]> {
  const args = ['-j', `-${options.family ?? 4}`, 'route', 'show', 'table', String(options.table ?? 254)];
  if (options.proto !== undefined) args.push('proto', String(options.proto));
  const { stdout } = await lab.ip(ns, ...args);
  return stdout.trim() === '' ? [] : JSON.parse(stdout) as IpRoute[];
}

/** dst -> route, for the routes of one protocol. */
export async function routesByDst(lab: Lab, ns: string, proto: number, family: 4 | 6 = 4, table = 254): Promise<Map<string, IpRoute>> {
  const routes = await kernelRoutes(lab, ns, { family, table, proto });
  return new Map(routes.map((r) => [r.dst, r]));
}
