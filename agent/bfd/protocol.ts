/**
 * The messages between the main thread (client.ts) and the BFD worker (worker.ts): plain data,
 * structured-cloned by worker_threads. Configuration goes in; state changes, status snapshots and
 * log lines come out (the worker has no logger of its own).
 */

import type { BfdEngineStatus, BfdPeerConfig } from './engine.js';
import type { BfdChange } from './session.js';

export interface WorkerOptions {
  /** UDP port of the receive sockets and of the peers: 3784 (RFC 5881 section 4). */
  readonly port: number;
  /** UDP port of multihop BFD: 4784 (RFC 5883 section 5). */
  readonly multihopPort: number;
  readonly statusIntervalMs: number;
}

export type ToWorker =
  | { readonly type: 'configure'; readonly peers: readonly BfdPeerConfig[] }
  | { readonly type: 'close' };

export type ToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'change'; readonly change: BfdChange }
  | { readonly type: 'status'; readonly status: BfdEngineStatus }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly meta: Record<string, unknown> }
  | { readonly type: 'closed' };
