/**
 * Runs a Fib inside a network namespace for tests and benchmarks (netlink sockets belong to the
 * namespace of the process that opens them, so the Fib must live in a child started with
 * `ip netns exec`). Options come as JSON in argv[2] (FibOptions without the logger, plus
 * `testBlock`, see below); commands arrive as NDJSON on stdin, answers and log lines leave as NDJSON
 * on stdout. Every answer repeats the command's `id`.
 *
 *   {"cmd":"apply","changes":[{"prefix":"10.0.0.0/26","best":[{"peer":"10.1.0.2","nextHop":"10.1.0.2"}]}]}
 *   {"cmd":"generate","first":"10.0.0.0","count":100000,"len":26,"nextHop":"10.1.0.2","skip":[5]}
 *   {"cmd":"converged"} {"cmd":"snapshot"} {"cmd":"idle"} {"cmd":"reconcile"} {"cmd":"routes"}
 *   {"cmd":"block","ms":1000[,"untilFile":PATH]}   busy-blocks the event loop (the ENOBUFS test):
 *                               for ms, or until PATH exists (ms then bounds it); says
 *                               {"event":"blocking"} first
 *   {"cmd":"exit"}
 * Events: {"event":"ready"}, {"event":"log","level","message","meta"}, {"event":"<cmd>","id",...}.
 * A `best` path is {peer, nextHop, nextHopLinkLocal?, peerAddress?}; peer 'local' is an own block.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipv4ToNumber } from '../../agent/bgp/ip.js';
import { parsePrefix } from '../../agent/bgp/prefix.js';
import type { PathAttributes } from '../../agent/bgp/attributes.js';
import { Fib, type FibOptions } from '../../netlink/fib/index.js';
import type { Logger } from '../../netlink/fib/types.js';
import type { RibChange, RibPath } from '../../agent/contracts/engines.js';

export interface DriverPath {
  peer: string;
  nextHop?: string;
  nextHopLinkLocal?: string;
  peerAddress?: string;
}

export interface DriverChange {
  prefix: string;
  best: DriverPath[];
}

export type DriverOptions = Omit<FibOptions, 'logger'>;

const attributes = {} as PathAttributes;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const logger: Logger = {
  error: (message, meta) => emit({ event: 'log', level: 'error', message, meta }),
  warn: (message, meta) => emit({ event: 'log', level: 'warn', message, meta }),
  info: (message, meta) => emit({ event: 'log', level: 'info', message, meta }),
  debug: (message, meta) => {
    if (process.env.FIB_DRIVER_DEBUG === '1') emit({ event: 'log', level: 'debug', message, meta });
  },
};

export function toPath(p: DriverPath): RibPath {
  return {
    peer: p.peer,
    pathId: 0,
    nextHop: p.nextHop ?? '',
    nextHopLinkLocal: p.nextHopLinkLocal ?? '',
    peerAddress: p.peerAddress ?? p.peer,
    attributes,
  };
}

export function toChange(c: DriverChange): RibChange {
  return { prefix: parsePrefix(c.prefix), best: c.best.map(toPath), old: [] };
}

/** `count` consecutive IPv4 prefixes of length `len` from `first`, all via `nextHop`, minus `skip` indexes. */
export function generate(first: string, count: number, len: number, nextHop: string, skip: readonly number[] = []): RibChange[] {
  const out: RibChange[] = [];
  const step = 2 ** (32 - len);
  const base = ipv4ToNumber(first);
  const skipped = new Set(skip);
  const best = [toPath({ peer: nextHop, nextHop })];
  for (let i = 0; i < count; i++) {
    if (skipped.has(i)) continue;
    out.push({ prefix: { afi: 1, len, addr: (base + i * step) >>> 0 }, best, old: [] });
  }
  return out;
}

function block(ms: number, untilFile: string | undefined): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else runs, the netlink sockets fill up
    if (untilFile !== undefined && existsSync(untilFile)) return;
  }
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as DriverOptions;
  const fib = new Fib({ ...options, logger });
  await fib.start();
  emit({ event: 'ready', snapshot: fib.snapshot() });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let cmd: { cmd: string; id?: unknown; [k: string]: unknown };
    try {
      cmd = JSON.parse(line) as typeof cmd;
    } catch (err) {
      emit({ event: 'error', message: `bad command: ${String(err)}` });
      continue;
    }
    const reply = (fields: Record<string, unknown> = {}): void => {
      const cpu = process.cpuUsage();
      emit({ event: cmd.cmd, id: cmd.id, ...fields, cpu: { user: cpu.user / 1e6, system: cpu.system / 1e6 } });
    };
    switch (cmd.cmd) {
      case 'apply': {
        const started = performance.now();
        fib.apply((cmd.changes as DriverChange[]).map(toChange));
        reply({ ms: performance.now() - started });
        break;
      }
      case 'generate': {
        // As the RIB hands them on, UPDATE by UPDATE: `chunk` changes per turn of the event loop
        // (0: all at once).
        const changes = generate(String(cmd.first), Number(cmd.count), Number(cmd.len ?? 26), String(cmd.nextHop),
          (cmd.skip as number[] | undefined) ?? []);
        const chunk = Number(cmd.chunk ?? 0);
        const started = performance.now();
        if (chunk <= 0) {
          fib.apply(changes);
          reply({ count: changes.length, ms: performance.now() - started });
          break;
        }
        for (let at = 0; at < changes.length; at += chunk) {
          fib.apply(changes.slice(at, at + chunk));
          await new Promise((resolve) => setImmediate(resolve));
        }
        reply({ count: changes.length, ms: performance.now() - started });
        break;
      }
      case 'converged':
        fib.markConverged();
        reply();
        break;
      case 'snapshot':
        reply({ snapshot: fib.snapshot() });
        break;
      case 'routes':
        reply({ routes: fib.routes() });
        break;
      case 'idle': {
        const started = performance.now();
        void fib.whenIdle().then(() => reply({ ms: performance.now() - started, snapshot: fib.snapshot() }));
        break;
      }
      case 'reconcile':
        void fib.reconcile().then(() => reply({ snapshot: fib.snapshot() }));
        break;
      case 'block':
        // stdout is a pipe, written synchronously: the test sees this before the loop stops.
        emit({ event: 'blocking', id: cmd.id });
        block(Number(cmd.ms), typeof cmd.untilFile === 'string' ? cmd.untilFile : undefined);
        reply();
        break;
      case 'exit':
        // The kernel's answer to the datagram in flight comes back before the process ends.
        void fib.close().then(() => {
          reply();
          process.exit(0);
        });
        break;
      default:
        emit({ event: 'error', id: cmd.id, message: `unknown command ${cmd.cmd}` });
    }
  }
  fib.close();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    emit({ event: 'fatal', message: String(err), stack: (err as Error).stack });
    process.exit(1);
  });
}
