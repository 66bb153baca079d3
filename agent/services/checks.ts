/**
 * The health checks of anycast services (SPEC.md "Anycast services"), each bounded by its timeout
 * on the injected clock and never blocking the event loop:
 * - tcp: a TCP connect (net.connect) to address:port; passes when the connection opens;
 * - http: a GET (node:http, no keep-alive) of the URL; passes when the status line carries the
 *   expected status (the body is not read);
 * - exec: argv run without a shell as execFile runs it, but spawned in a process group of its own
 *   (execFile cannot), so a timeout kills what it started too; passes on exit 0.
 * A check that takes longer than its timeout has failed: its socket is destroyed, its request
 * aborted, its process group killed (SIGKILL), and the result is given at the timeout without
 * waiting for any of them.
 * node:http and node:child_process are loaded at the first check that needs them (about 1.3 MB of
 * start-up RSS on an agent without such services).
 * Not here: when checks run or what their results mean (monitor.ts, fsm.ts).
 */

import { connect } from 'node:net';

import type { Clock } from '../contracts/clock.js';
import type { ServiceCheck } from '../../config/types.js';
import { ServiceError } from './errors.js';

export interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
}

/** Runs one check of any kind; resolves (never rejects) within `timeoutMs`. */
export type RunCheck = (check: ServiceCheck, timeoutMs: number) => Promise<Outcome>;

/** stderr kept of an exec check (its first non-empty line goes in the detail). */
const EXEC_OUTPUT_LIMIT = 16 * 1024;
const DETAIL_LIMIT = 120;

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/**
 * Settles once: the first of the check's own answer and the timeout wins; `onTimeout` cleans up
 * (destroy, abort, kill) after the result is given.
 */
function bounded(clock: Clock, timeoutMs: number, start: (done: (o: Outcome) => void) => () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: () => void = () => undefined;
    const timer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve({ ok: false, detail: `timed out after ${seconds(timeoutMs)}` });
      cleanup();
    }, timeoutMs);
    const done = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      resolve(o);
    };
    try {
      cleanup = start(done);
    } catch (err) {
      done({ ok: false, detail: (err as Error).message });
    }
  });
}

const http = (): typeof import('node:http') => process.getBuiltinModule('node:http');
const childProcess = (): typeof import('node:child_process') => process.getBuiltinModule('node:child_process');

export function tcpCheck(clock: Clock, address: string, port: number, timeoutMs: number): Promise<Outcome> {
  return bounded(clock, timeoutMs, (done) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => {
      done({ ok: true, detail: 'connected' });
      socket.destroy();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: err.code ?? err.message }));
    return () => socket.destroy();
  });
}

export function httpCheck(clock: Clock, url: string, status: number, timeoutMs: number): Promise<Outcome> {
  return bounded(clock, timeoutMs, (done) => {
    const req = http().request(url, { method: 'GET', agent: false, headers: { 'user-agent': 'rack-agent health check' } }, (res) => {
      const got = res.statusCode ?? 0;
      done({ ok: got === status, detail: got === status ? `HTTP ${got}` : `HTTP ${got}, expected ${status}` });
      req.destroy(); // the status line decides; the body is not needed
    });
    req.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: err.code ?? err.message }));
    req.end();
    return () => req.destroy();
  });
}

export function execCheck(clock: Clock, argv: readonly string[], timeoutMs: number): Promise<Outcome> {
  return bounded(clock, timeoutMs, (done) => {
    // execFile's way (argv, no shell), but spawned detached: a process group of its own, so a
    // timeout kills what the program started too (execFile passes no `detached` to spawn).
    const child = childProcess().spawn(argv[0], argv.slice(1), { detached: true, shell: false, stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < EXEC_OUTPUT_LIMIT) stderr += chunk;
    });
    child.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: err.code ?? err.message }));
    // 'exit', not 'close': a grandchild that keeps stderr open does not hold the result back.
    child.once('exit', (code, signal) => {
      if (code === 0) return done({ ok: true, detail: 'exit 0' });
      const why = code !== null ? `exit ${code}` : `killed by ${signal ?? 'a signal'}`;
      const line = stderr.split('\n').find((l) => l.trim() !== '')?.trim().slice(0, DETAIL_LIMIT);
      done({ ok: false, detail: line === undefined ? why : `${why}: ${line}` });
    });
    return () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
  });
}

/** The checkers over one clock. */
export function checkers(clock: Clock): RunCheck {
  return (check, timeoutMs) => {
    switch (check.kind) {
      case 'tcp': return tcpCheck(clock, check.address, check.port, timeoutMs);
      case 'http': return httpCheck(clock, check.url, check.status, timeoutMs);
      case 'exec': return execCheck(clock, check.argv, timeoutMs);
      default: throw new ServiceError('SERVICE_BAD_CHECK', `unknown check kind ${JSON.stringify((check as { kind: unknown }).kind)}`);
    }
  };
}
