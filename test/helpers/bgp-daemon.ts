/**
 * What the BIRD 2 and FRR test harnesses (bird.ts, frr.ts) share: the typed options a daemon is
 * generated from, the normalised answers of their queries, and the process plumbing (temp dir,
 * start with a readiness check, graceful stop, SIGSTOP/SIGCONT). Tests written against `BgpDaemon`
 * run unchanged against either daemon, which is how the interop matrix covers both ToRs.
 *
 * Not here: the daemons' config syntax and output parsing (bird.ts, frr.ts), namespaces (netns.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atLastResort } from './last-resort.js';
import { waitFor } from './netns.js';

export type Family = 'ipv4' | 'ipv6';

/** A route the daemon originates: a prefix, optionally with attributes set on it. */
export type StaticRoute = string | {
  readonly prefix: string;
  readonly med?: number;
  /** Only sent to iBGP peers (RFC 4271 5.1.5). */
  readonly localPref?: number;
  /** `'65000:1'` form. */
  readonly communities?: readonly string[];
  /** BIRD only: ASes put in the path of the static route (before the daemon's own AS), first one leftmost. */
  readonly asPath?: readonly number[];
};

export interface NeighborOptions {
  readonly address: string;
  readonly as: number;
  /** BIRD protocol name (default derived from the address); FRR ignores it. */
  readonly name?: string;
  /** Source address of the session (BIRD `local`, FRR `update-source`). */
  readonly localAddress?: string;
  /** We reflect routes to this iBGP neighbour (RFC 4456); the cluster id is `DaemonOptions.clusterId`. */
  readonly rrClient?: boolean;
  /** TCP MD5 key (RFC 2385). */
  readonly password?: string;
  /** >0: GTSM (RFC 5082) accepting peers at most that many hops away. */
  readonly ttlSecurity?: number;
  /** Proposed hold time, seconds (keepalive is a third of it). */
  readonly holdTime?: number;
  /**
   * eBGP multihop with this TTL (BIRD `multihop`, FRR `ebgp-multihop`). The route to the
   * neighbour's address must be in the namespace's kernel table before the daemon starts: BIRD
   * then learns kernel routes to resolve the neighbour's next hops (FRR does so through zebra).
   */
  readonly multihop?: number;
  /** Never connect; wait for the neighbour. */
  readonly passive?: boolean;
  /** Seconds between connection attempts (and the first delay). Default 2 for quick tests. */
  readonly connectRetry?: number;
  /** Families activated on the session. Default both. */
  readonly families?: readonly Family[];
  /**
   * BIRD: `graceful restart on` (RFC 4724, both roles: it keeps the neighbour's routes as stale
   * while the neighbour restarts); false (BIRD only): `graceful restart off`, no capability and no
   * End-of-RIB.
   * Default: BIRD's own (`aware`). FRR: `bgp graceful-restart` for
   * the whole instance when any neighbour asks (restarting mode; FRR's default is helper only).
   */
  readonly gracefulRestart?: boolean;
  /**
   * BFD on the session (RFC 5880/5881, single hop). BIRD: `bfd on` and one `protocol bfd` whose
   * interface timers come from the first neighbour with bfd; FRR: `neighbor X bfd` with a bfdd
   * peer of these timers (bfdd and zebra run alongside bgpd).
   */
  readonly bfd?: { readonly minRxMs: number; readonly minTxMs: number; readonly multiplier: number };
  /**
   * BIRD only: false is `enable as4 off`, a 2-octet (OLD, RFC 6793) speaker that does not
   * advertise the 4-octet AS capability. Default: BIRD's own (on).
   */
  readonly as4?: boolean;
  /**
   * BIRD only: `extended next hop on` in the ipv4 channel (RFC 8950: IPv4 routes with IPv6 next
   * hops, offered in the OPEN). FRR negotiates it on its own for unnumbered neighbours.
   */
  readonly extendedNextHop?: boolean;
  /**
   * FRR only: `address` is an interface name, the neighbour unnumbered on it (`neighbor IF
   * interface remote-as ...`, `as` 0 for `external`, with zebra sending RAs there). BIRD names a link-local neighbour
   * `fe80::1%dev` in `address` instead.
   */
  readonly interface?: boolean;
  /** BIRD only: false is `enable route refresh off` (no RFC 2918 capability). Default: on. */
  readonly routeRefresh?: boolean;
}

export interface DaemonOptions {
  readonly routerId: string;
  readonly localAs: number;
  readonly neighbors: readonly NeighborOptions[];
  /** RFC 4456 cluster id used for `rrClient` neighbours; default: the router id. */
  readonly clusterId?: string;
  readonly routes?: { readonly ipv4?: readonly StaticRoute[]; readonly ipv6?: readonly StaticRoute[] };
  /**
   * false: never send End-of-RIB (FRR `bgp graceful-restart disable-eor`, and
   * `bgp graceful-restart-disable`: no capability, which would promise one), as many ToRs do; the
   * initial table then ends without a marker. BIRD cannot do this (the harness refuses).
   */
  readonly endOfRib?: boolean;
  /**
   * FRR: `bgp graceful-restart preserve-fw-state`, the F bit in its graceful-restart capability
   * (RFC 4724 section 3). BIRD sets the F bit when started with `-R` instead (`Bird.relaunch`).
   */
  readonly preserveForwarding?: boolean;
  /** Install the best BGP routes into the namespace's kernel tables (default false). */
  readonly installRoutes?: boolean;
  /**
   * BIRD only: BFD sessions of `protocol bfd` itself, with no BGP session behind them
   * (`neighbor ADDR [dev "IF"] [local ADDR] [multihop on]`), at these timers.
   */
  readonly bfdNeighbors?: {
    readonly timers: { readonly minRxMs: number; readonly minTxMs: number; readonly multiplier: number };
    readonly neighbors: readonly { readonly address: string; readonly dev?: string; readonly local?: string; readonly multihop?: boolean }[];
  };
}

/** A neighbour as the daemon sees it. `state` is the RFC 4271 FSM state name as the daemon spells it. */
export interface NeighborState {
  readonly address: string;
  /** Idle, Connect, Active, OpenSent, OpenConfirm, Established; `Down` (disabled) or `Absent` (not configured). */
  readonly state: string;
  readonly established: boolean;
  /** The daemon's last error in its own words (e.g. BIRD `Received: Bad peer AS`), '' if none. */
  readonly lastError: string;
  /** Negotiated hold time in seconds while Established. */
  readonly holdTime?: number;
  readonly peerAs?: number;
  /** Routes accepted from the neighbour per family. */
  readonly accepted: Partial<Record<Family, number>>;
  /** The daemon's full answer, for diagnostics. */
  readonly raw: unknown;
}

/** A route in the daemon's RIB, normalised across BIRD and FRR. */
export interface DaemonRoute {
  readonly prefix: string;
  /** Neighbour address the route came from; '' for the daemon's own routes. */
  readonly from: string;
  readonly best: boolean;
  /** Global next hop first, then link-local if any; [] for own routes. */
  readonly nextHops: readonly string[];
  readonly asPath: readonly number[];
  readonly origin?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly communities: readonly string[];
  /** RFC 8092 large communities, `global:local1:local2` (BIRD only, so far). */
  readonly largeCommunities?: readonly string[];
  readonly originatorId?: string;
  readonly clusterList: readonly string[];
}

/** Stable codes so a test can tell why the harness gave up. */
export type DaemonErrorCode = 'DAEMON_CONFIG' | 'DAEMON_START' | 'DAEMON_EXITED' | 'DAEMON_QUERY' | 'DAEMON_STATE';

export class DaemonError extends Error {
  constructor(readonly code: DaemonErrorCode, message: string) {
    super(message);
    this.name = 'DaemonError';
  }
}

/** The operations the interop matrix needs from a ToR daemon, implemented by Bird and Frr. */
export interface BgpDaemon {
  readonly kind: 'bird' | 'frr';
  readonly ns: string;
  /** Temp directory with config, sockets, pid and log files. */
  readonly dir: string;
  readonly options: DaemonOptions;
  neighbor(address: string): Promise<NeighborState>;
  /** Every route in the daemon's RIB for the family (own routes included, `from` ''). */
  routes(family: Family): Promise<DaemonRoute[]>;
  /** SIGTERM, waits for the exit. */
  stop(): Promise<void>;
  /** Starts again with the current options (after stop(), or stops first). */
  restart(): Promise<void>;
  /** SIGSTOP: the process freezes, its sockets stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Applies new options to the running daemon without restarting it. */
  reconfigure(options: DaemonOptions): Promise<void>;
  /** Its log file(s) and output, for failure messages. */
  logs(): string;
  /** stop() and removes the temp directory (kept when KEEP_DAEMON_DIRS=1). */
  dispose(): Promise<void>;
}

export const defaultFamilies: readonly Family[] = ['ipv4', 'ipv6'];

export function routePrefix(route: StaticRoute): string {
  return typeof route === 'string' ? route : route.prefix;
}

export function familyOf(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6' : 'ipv4';
}

/** Waits until the daemon reports the neighbour Established; the error names its last state and error. */
export async function waitEstablished(daemon: BgpDaemon, address: string, timeoutMs = 30_000): Promise<NeighborState> {
  let last: NeighborState | undefined;
  try {
    return await waitFor(async () => {
      last = await daemon.neighbor(address);
      return last.established ? last : undefined;
    }, { timeoutMs, intervalMs: 100, what: `${daemon.kind} neighbour ${address} Established` });
  } catch (err) {
    throw new DaemonError('DAEMON_STATE', `${(err as Error).message}; last state ${last?.state ?? '?'}` +
      ` (${last?.lastError ?? ''})\n${daemon.logs()}`);
  }
}

/** The routes the daemon received from `from`, waiting until `accept(routes)` holds. */
export async function waitRoutes(
  daemon: BgpDaemon, family: Family, from: string, accept: (routes: DaemonRoute[]) => boolean, timeoutMs = 20_000,
): Promise<DaemonRoute[]> {
  let last: DaemonRoute[] = [];
  try {
    return await waitFor(async () => {
      last = (await daemon.routes(family)).filter((r) => r.from === from);
      return accept(last) ? last : undefined;
    }, { timeoutMs, intervalMs: 100, what: `${daemon.kind} routes from ${from} (${family})` });
  } catch (err) {
    throw new DaemonError('DAEMON_STATE', `${(err as Error).message}; last seen ${JSON.stringify(last)}`);
  }
}

// --- process plumbing shared by both harnesses ---------------------------------------------------

const liveTempDirs = new Map<string, () => void>();

/** A temp dir, removed at exit or on SIGTERM/SIGINT (last-resort.ts) unless removeTempDir did first. */
export function makeTempDir(kind: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rack-${kind}-`));
  if (process.env.KEEP_DAEMON_DIRS !== '1') liveTempDirs.set(dir, atLastResort(() => rmSync(dir, { recursive: true, force: true })));
  return dir;
}

export function removeTempDir(dir: string): void {
  if (process.env.KEEP_DAEMON_DIRS === '1') return;
  liveTempDirs.get(dir)?.();
  liveTempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

export interface ExecOutput {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs a client program (birdc, vtysh) outside the namespace: it only talks to a Unix socket. */
export function execTool(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<ExecOutput> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code === 'string') {
          reject(new DaemonError('DAEMON_QUERY', `${cmd}: ${err.message}`));
          return;
        }
        resolve({ stdout, stderr, code: err === null ? 0 : typeof err.code === 'number' ? err.code : null });
      });
  });
}

/** A child's output kept for failure messages (last 64 KiB). */
export function keepOutput(child: ChildProcess): () => string {
  let text = '';
  const add = (chunk: Buffer | string): void => {
    text = (text + chunk.toString()).slice(-65536);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Polls `ready` until it holds; throws DAEMON_EXITED at once if the process dies meanwhile. */
export async function waitReady(
  child: ChildProcess, what: string, ready: () => Promise<boolean>, output: () => string, timeoutMs = 15_000,
): Promise<void> {
  await waitFor(async () => {
    if (hasExited(child)) {
      throw new DaemonError('DAEMON_EXITED', `${what} exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    }
    return ready();
  }, { timeoutMs, intervalMs: 50, what });
}

/** SIGTERM (resuming a stopped process first), then SIGKILL if it has not exited in time. */
export async function stopProcess(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

export function signal(child: ChildProcess | undefined, sig: 'SIGSTOP' | 'SIGCONT', what: string): void {
  if (child === undefined || hasExited(child)) throw new DaemonError('DAEMON_STATE', `${what} is not running`);
  child.kill(sig);
}

/** Parses `'65000:1'` into its two halves, refusing anything else. */
export function parseCommunity(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (m === null || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) {
    throw new DaemonError('DAEMON_CONFIG', `community must be 'asn:value' (16 bits each), got '${text}'`);
  }
  return [Number(m[1]), Number(m[2])];
}
