/**
 * The test side of session-driver.ts: starts the driver inside a lab namespace with a SPEC.json,
 * collects its stdout events and sends it commands. `waitFor` polls the events with a deadline and
 * fails at once, with the driver's stderr, if the driver died.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerSpec, SessionStatus } from '../../agent/contracts/engines.js';
import { captureOutput, type Lab, type Output, waitFor } from './netns.js';
import type { DriverSpec } from './session-driver.js';

export type { DriverSpec };

export interface DriverEvent {
  readonly ev: string;
  readonly key?: string;
  readonly [field: string]: unknown;
}

export type DriverSession = SessionStatus & { readonly received: number };

export interface Driver {
  readonly child: ChildProcess;
  /** Every event so far, in order. */
  readonly events: DriverEvent[];
  /** The bound listen port. */
  readonly port: number;
  /** The first event matching, at or after index `from` of `events`. */
  waitFor(predicate: (e: DriverEvent) => boolean, what: string, timeoutMs?: number, from?: number): Promise<DriverEvent>;
  /** The index the next event will have (for `from`). */
  mark(): number;
  status(): Promise<DriverSession[]>;
  session(key: string): Promise<DriverSession | undefined>;
  stop(key: string, communication?: string): void;
  /** The reload path: the manager's apply() with a new peer list; resolves with its diff (keys). */
  apply(peers: readonly PeerSpec[]): Promise<DriverEvent>;
  start(key: string): void;
  exit(): Promise<void>;
  alive(): boolean;
  stderr(): string;
}

const driverScript = fileURLToPath(new URL('./session-driver.js', import.meta.url));

export async function startDriver(lab: Lab, ns: string, spec: DriverSpec, timeoutMs = 10_000): Promise<Driver> {
  const dir = mkdtempSync(join(tmpdir(), 'rack-driver-'));
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  // DRIVER_NODE_OPTIONS (e.g. --trace-gc, --cpu-prof) go to the driver's node only, for debugging.
  const nodeArgs = (process.env.DRIVER_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const child = lab.spawn(ns, process.execPath, [...nodeArgs, driverScript, specPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const output: Output = captureOutput(child);
  let parsed = 0;
  const events: DriverEvent[] = [];
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const sync = (): void => {
    for (; parsed < output.lines.length; parsed++) {
      const line = output.lines[parsed];
      if (line.trim() !== '') events.push(JSON.parse(line) as DriverEvent);
    }
  };
  const send = (cmd: Record<string, unknown>): void => {
    child.stdin?.write(`${JSON.stringify(cmd)}\n`);
  };
  const find = (predicate: (e: DriverEvent) => boolean, from: number): DriverEvent | undefined => {
    sync();
    for (let i = from; i < events.length; i++) if (predicate(events[i])) return events[i];
    if (!alive()) throw new Error(`session driver exited (${child.exitCode ?? child.signalCode}): ${output.stderr().slice(-4000)}`);
    return undefined;
  };
  const waitForEvent = (predicate: (e: DriverEvent) => boolean, what: string, ms = timeoutMs, from = 0): Promise<DriverEvent> =>
    waitFor(() => find(predicate, from), { timeoutMs: ms, what: `driver in ${ns}: ${what}` });
  const ready = await waitForEvent((e) => e.ev === 'ready', 'ready');
  const status = async (): Promise<DriverSession[]> => {
    sync();
    const from = events.length;
    send({ cmd: 'status' });
    const e = await waitForEvent((x) => x.ev === 'status', 'a status answer', 10_000, from);
    return e.sessions as DriverSession[];
  };
  return {
    child,
    events,
    port: ready.port as number,
    waitFor: (predicate, what, ms, from) => waitForEvent(predicate, what, ms, from),
    mark: () => {
      sync();
      return events.length;
    },
    status,
    session: async (key) => (await status()).find((s) => s.key === key),
    stop: (key, communication = '') => send({ cmd: 'stop', key, communication }),
    apply: async (peers) => {
      sync();
      const from = events.length;
      send({ cmd: 'apply', peers });
      return waitForEvent((x) => x.ev === 'applied', 'the apply answer', 10_000, from);
    },
    start: (key) => send({ cmd: 'start', key }),
    exit: async () => {
      if (!alive()) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      send({ cmd: 'exit' });
      await exited;
    },
    alive,
    stderr: () => output.stderr(),
  };
}
