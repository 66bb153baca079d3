/**
 * BfdClient: the main thread's side of the BFD worker (worker.ts). It starts the worker, sends it
 * the desired sessions (`configure`), keeps the last status snapshot for `agentctl` and metrics
 * (`status`, `session`), and hands every state change to `onChange`, logged at info. A worker that
 * dies is logged and started again with the last configuration. Why a worker: see worker.ts.
 * No BFD peer, no worker: not even node:worker_threads is loaded (issue 12, start-up memory).
 */

import type { Worker } from 'node:worker_threads';
import { type Clock, systemClock } from '../contracts/clock.js';
import type { BfdEngineStatus, BfdPeerConfig } from './engine.js';
import type { ToMain, ToWorker, WorkerOptions } from './protocol.js';
import { ADMIN_DOWN_MAX_MS } from './session.js';
import type { BfdChange, BfdSessionStatus } from './session.js';

export interface BfdLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface BfdClientOptions {
  readonly log: BfdLogger;
  onChange(change: BfdChange): void;
  /** Default 3784 (RFC 5881 section 4); tests may use another. */
  readonly port?: number;
  /** Default 4784 (RFC 5883 section 5); tests may use another. */
  readonly multihopPort?: number;
  readonly statusIntervalMs?: number;
  /** The restart delay after a dead worker and the close's deadline; systemClock by default. */
  readonly clock?: Clock;
}

export const BFD_PORT = 3784;
export const BFD_MULTIHOP_PORT = 4784;

export class BfdClient {
  private worker: Worker | null = null;
  private peers: readonly BfdPeerConfig[] = [];
  private snapshot: BfdEngineStatus = { sessions: [], drops: {} };
  private closing = false;
  private changes = 0;
  private readonly clock: Clock;

  constructor(private readonly options: BfdClientOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Starts the worker when the first session is wanted; an empty set with no worker stays off. */
  configure(peers: readonly BfdPeerConfig[]): void {
    this.peers = peers;
    if (this.worker === null && peers.length === 0) return;
    this.spawn();
    this.post({ type: 'configure', peers });
  }

  status(): BfdEngineStatus {
    return this.snapshot;
  }

  session(key: string): BfdSessionStatus | undefined {
    return this.snapshot.sessions.find((s) => s.key === key);
  }

  /** State changes seen, for metrics. */
  get changeCount(): number {
    return this.changes;
  }

  /**
   * Sessions to AdminDown, sent for up to ADMIN_DOWN_MAX_MS (RFC 5880 section 6.8.16), then the
   * worker ends; one that has not ended a second after that is terminated.
   */
  async close(): Promise<void> {
    this.closing = true;
    const w = this.worker;
    if (w === null) return;
    const done = new Promise<void>((resolve) => {
      // Unref'd (systemClock): the running worker holds the process until its 'exit'.
      const timer = this.clock.setTimeout(() => void w.terminate().then(() => resolve()), ADMIN_DOWN_MAX_MS + 1000);
      w.once('exit', () => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
    this.post({ type: 'close' });
    await done;
    this.worker = null;
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private spawn(): void {
    if (this.worker !== null || this.closing) return;
    const workerData: WorkerOptions = { port: this.options.port ?? BFD_PORT, multihopPort: this.options.multihopPort ?? BFD_MULTIHOP_PORT, statusIntervalMs: this.options.statusIntervalMs ?? 500 };
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData });
    this.worker = w;
    w.on('message', (m: ToMain) => this.onMessage(m));
    w.on('error', (err) => this.options.log.error(`BFD worker failed: ${err.stack ?? err.message}`));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = null;
      if (this.closing) return;
      this.options.log.error('BFD worker exited; starting it again', { code });
      // Its sessions are gone: from the peers' side they time out; ours start over as Down.
      this.snapshot = { sessions: [], drops: {} };
      this.clock.setTimeout(() => this.configure(this.peers), 1000);
    });
  }

  private onMessage(m: ToMain): void {
    switch (m.type) {
      case 'change': {
        this.changes++;
        const c = m.change;
        this.options.log.info(`BFD state change ${c.from} -> ${c.to}${c.to === 'Down' || c.to === 'AdminDown' ? `, diagnostic: ${c.diagText}` : ''}`, { peer: c.key, remoteState: c.remoteState });
        this.options.onChange(c);
        return;
      }
      case 'status':
        this.snapshot = m.status;
        return;
      case 'log':
        this.options.log[m.level](m.message, m.meta);
        return;
      case 'ready':
      case 'closed':
        return;
    }
  }
}
