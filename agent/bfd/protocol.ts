/**
 * The messages between the main thread (client.ts) and the BFD worker (worker.ts): plain data,
 * structured-cloned by worker_threads. Configuration goes in; state changes, status snapshots and
 * log lines come out (the worker has no logger of its own).
 */

import type { BfdEngineStatus, BfdPeerConfig } from './engine.js';
import type { BfdChange } from './session.js';

/**
 * The longest a removed session sends AdminDown (RFC 5880 section 6.8.16 asks for a Detection
 * Time; engine.ts): 3 s covers 1 s x 3, and bounds the agent's stop whatever the peer's timers.
 * Here because the main thread's close waits for it without loading the engine.
 */
export const ADMIN_DOWN_MAX_MS = 3000;

export interface WorkerOptions {
  /** UDP port of the receive sockets and of the peers: 3784 (RFC 5881 section 4). */
  readonly port: number;
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
