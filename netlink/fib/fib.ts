/**
 * Fib: keeps the kernel's routing table in step with the RIB (SPEC.md "What lands in the kernel").
 * It owns a RouteSocket, tracks our routes and everyone else's in our table (from dumps, the
 * answers to our requests, and everyone else's route notifications), computes per prefix what must
 * change (diff.ts) and applies only that, through a bounded window of batched requests.
 *
 * - Ownership: our routes carry kernel.routeProtocol in kernel.table; no other route is ever
 *   changed or deleted (see diff.ts for how a shared prefix is handled).
 * - Restart ('restart' mode): routes of ours found at start stay untouched until markConverged();
 *   desired routes are added or replaced meanwhile, never deleted, so none disappears and
 *   reappears. Then only the stale ones are deleted.
 * - Repair: a notification that one of our routes was deleted or changed by someone else marks its
 *   prefix for re-installation at once; a full dump-and-compare runs periodically as a safety net,
 *   after every ENOBUFS overflow, and after link and address changes (IPv4 drops routes of a
 *   downed link without notifications).
 * - Tunnel device: when an IPIP pool exists and kernel.tunnelDevice is missing, one attempt to
 *   create it (ipip); failing that, one clear error, and everything that needs no tunnel goes in.
 * Not here: the encoding (netlink/rtnetlink), what a route should be (desired.ts), the diff (diff.ts).
 */
import { parsePrefix } from '../../agent/bgp/prefix.js';
import type { RibChange } from '../../agent/rib/types.js';
import type { Config } from '../../config/types.js';
import { RTM, NLM_F } from '../rtnetlink/constants.js';
import { NetlinkError } from '../rtnetlink/errors.js';
import { encodeNewLink } from '../rtnetlink/link.js';
import { encodeRoute } from '../rtnetlink/route.js';
import { RouteSocket, type RouteSocketOptions } from '../rtnetlink/route-socket.js';
import { desiredRoute } from './desired.js';
import { diffKey, type DesiredEntry, type FibOp, emptyTable, type KernelTable } from './diff.js';
import { FibEvents } from './events.js';
import { deviceFor, emptyInterfaces, type Interfaces, linkByName } from './interfaces.js';
import { deleteMessage, fibSignature, routeToMessage } from './kernel-route.js';
import type { FibContext, FibPool, FibProblem, FibSnapshot, Logger, Ownership } from './types.js';

export interface FibOptions {
  readonly protocol: number;
  readonly table: number;
  readonly tunnelDevice: string;
  /** node.ipv4Address with its subnet ('10.0.1.13/24'), or ''. */
  readonly nodeIpv4Address: string;
  readonly pools: readonly { readonly cidr: string; readonly ipipMode: 'Always' | 'CrossSubnet' | 'Never'; readonly disabled: boolean }[];
  readonly logger: Logger;
  /** 'restart': keep our existing routes until markConverged(). Default 'fresh'. */
  readonly mode?: 'fresh' | 'restart';
  /** Full dump-and-compare period; 0 turns it off. Default 60 s. */
  readonly reconcileIntervalMs?: number;
  readonly socket?: Omit<RouteSocketOptions, 'onEvent' | 'onOverflow' | 'groups'>;
}

export function fibOptions(config: Config, logger: Logger, mode: 'fresh' | 'restart'): FibOptions {
  return {
    protocol: config.kernel.routeProtocol,
    table: config.kernel.table,
    tunnelDevice: config.kernel.tunnelDevice,
    nodeIpv4Address: config.node.ipv4Address,
    pools: config.pools,
    logger,
    mode,
  };
}

/** One route as agentctl shows it. */
export interface FibRouteView {
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly kind: 'blackhole' | 'unicast';
  readonly nextHops: readonly { readonly via: string; readonly dev?: string; readonly onlink?: boolean; readonly peer: string }[];
  readonly installed: boolean;
}

/** Kernel errors that mean "try again after a resync", not "this route is wrong". */
const TRANSIENT = new Set(['ENOBUFS', 'EBADF', 'EINTR', 'EBUSY', 'EAGAIN']);
const MAX_WARNINGS_PER_CYCLE = 20;
/** Routes the kernel refused (e.g. ENETUNREACH before the connected route is back) are retried. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export class Fib {
  readonly own: Ownership;
  readonly log: Logger;
  private socket: RouteSocket | null = null;
  /** Kernel state: our routes and aliens in our table (maintained by FibEvents). */
  table: KernelTable = emptyTable();
  readonly ifs: Interfaces = emptyInterfaces();
  private readonly pools: readonly FibPool[];
  private readonly events: FibEvents;
  private ctx: FibContext;
  private readonly changes = new Map<string, RibChange>();
  private readonly desired = new Map<string, DesiredEntry>();
  private readonly routeProblems = new Map<string, FibProblem>();
  private readonly kernelProblems = new Map<string, FibProblem>();
  private readonly dirty = new Set<string>();
  private readonly inflight = new Set<string>();
  private readonly withdrawn = new Set<string>();
  /** Keys someone else changed while a request of ours was on them: order unknown, so verify. */
  private readonly raced = new Set<string>();
  private converged: boolean;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private retryDelay = RETRY_MIN_MS;
  private idleWaiters: Array<() => void> = [];
  private warnings = 0;
  private tunnelErrorLogged = false;
  private closed = false;
  reconciles = 0;
  overflows = 0;
  readonly ops = { add: 0, replace: 0, delete: 0 };

  constructor(private readonly options: FibOptions) {
    this.own = { table: options.table, protocol: options.protocol };
    this.log = options.logger;
    this.converged = (options.mode ?? 'fresh') === 'fresh';
    this.pools = options.pools.filter((p) => !p.disabled).map((p) => ({ prefix: parsePrefix(p.cidr), ipipMode: p.ipipMode }));
    this.ctx = this.buildContext();
    this.events = new FibEvents(this);
  }

  /** Opens the sockets, dumps links, addresses and routes, and applies what is pending. */
  async start(): Promise<void> {
    this.socket = RouteSocket.open({
      ...this.options.socket,
      onEvent: (msg) => this.events.onEvent(msg),
      onOverflow: (which, err) => this.onOverflow(which, err),
    });
    await this.events.resync('start');
    const every = this.options.reconcileIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.events.resync('periodic'), every);
      this.timer.unref();
    }
  }

  apply(changes: readonly RibChange[]): void {
    for (const change of changes) {
      const result = desiredRoute(change, this.ctx);
      const key = result.prefix;
      if (change.best.length === 0) {
        this.changes.delete(key);
        if (!this.converged) this.withdrawn.add(key);
      } else {
        this.changes.set(key, change);
        this.withdrawn.delete(key);
      }
      this.setDesired(key, result.route === null ? undefined : { route: result.route, signature: fibSignature(result.route) });
      if (result.problem === null) this.routeProblems.delete(key);
      else this.routeProblems.set(key, result.problem);
      this.dirty.add(key);
    }
    this.scheduleFlush();
  }

  /** The RIB has converged (End-of-RIB from every restarting peer, or the restart time passed). */
  markConverged(): void {
    if (this.converged) return;
    this.converged = true;
    this.withdrawn.clear();
    let stale = 0;
    for (const key of this.table.ours.keys()) {
      if (!this.desired.has(key)) {
        this.dirty.add(key);
        stale++;
      }
    }
    this.log.info('RIB converged: deleting stale routes of ours', { stale });
    this.scheduleFlush();
  }

  /** Runs a full dump-and-compare now (also what the periodic timer does). */
  reconcile(): Promise<void> {
    return this.events.resync('requested');
  }

  snapshot(): FibSnapshot {
    const errors = [...this.routeProblems.values(), ...this.kernelProblems.values()];
    return {
      routes: this.table.ours.size,
      desired: this.desired.size,
      inSync: this.isIdle() && this.converged && errors.length === 0,
      converged: this.converged,
      pending: this.dirty.size + this.inflight.size,
      errors: errors.slice(0, 1000),
      reconciles: this.reconciles,
      overflows: this.overflows,
      ops: { ...this.ops },
    };
  }

  routes(family?: 'ipv4' | 'ipv6'): FibRouteView[] {
    const out: FibRouteView[] = [];
    for (const [key, { route, signature }] of this.desired) {
      const fam = route.family === 4 ? 'ipv4' : 'ipv6';
      if (family !== undefined && family !== fam) continue;
      out.push({
        prefix: route.prefix,
        family: fam,
        kind: route.kind,
        nextHops: route.nextHops.map((nh) => ({
          via: nh.gateway, ...(nh.dev === '' ? {} : { dev: nh.dev }), ...(nh.onlink ? { onlink: true } : {}), peer: nh.peer,
        })),
        installed: this.table.ours.get(key) === signature,
      });
    }
    return out;
  }

  /** Resolves when nothing is dirty, in flight or being resynchronised. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.socket = null;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- used by FibEvents ---------------------------------------------------------------------

  get routeSocket(): RouteSocket | null {
    return this.socket;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A key whose kernel state changed: re-examine it unless a request of ours is still on it. */
  touch(key: string): void {
    if (this.inflight.has(key)) {
      this.raced.add(key);
      return;
    }
    if (!this.desired.has(key) && !this.table.ours.has(key)) return;
    this.dirty.add(key);
    this.scheduleFlush();
  }

  /**
   * Retries routes the kernel refused, after `ms` (or the current backoff). Also called when a
   * route of someone else appears (a connected route coming back may make a next hop reachable).
   */
  retrySoon(ms = this.retryDelay): void {
    if (this.kernelProblems.size === 0 || this.closed) return;
    const at = Date.now() + ms;
    if (this.retryTimer !== undefined && this.retryAt <= at) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      let retried = 0;
      for (const [key, problem] of this.kernelProblems) {
        if (problem.code !== 'CONFLICT' && !this.inflight.has(key)) {
          this.dirty.add(key);
          retried++;
        }
      }
      if (retried === 0) return;
      this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
      this.scheduleFlush();
    }, ms);
    this.retryTimer.unref();
  }

  /** After a full dump: every key whose kernel state differs from the desired one is re-examined. */
  touchAll(): void {
    const { ours, aliens } = this.table;
    for (const [key, entry] of this.desired) {
      if (ours.get(key) !== entry.signature || aliens.has(key)) this.dirty.add(key);
    }
    for (const key of ours.keys()) if (!this.desired.has(key)) this.dirty.add(key);
    for (const key of this.kernelProblems.keys()) this.dirty.add(key);
    this.warnings = 0;
    this.scheduleFlush();
  }

  /** Links or addresses changed: rebuild the context and recompute routes that depend on devices. */
  interfacesChanged(): void {
    this.ctx = this.buildContext();
    const tunnel = linkByName(this.ifs, this.options.tunnelDevice);
    if (tunnel !== undefined) this.tunnelErrorLogged = false;
    for (const [key, change] of this.changes) {
      const entry = this.desired.get(key);
      if (!this.routeProblems.has(key) && !(entry?.route.nextHops.some((nh) => nh.ifindex !== 0) ?? false)) continue;
      const result = desiredRoute(change, this.ctx);
      this.setDesired(key, result.route === null ? undefined : { route: result.route, signature: fibSignature(result.route) });
      if (result.problem === null) this.routeProblems.delete(key);
      else this.routeProblems.set(key, result.problem);
      this.dirty.add(key);
    }
    for (const key of this.kernelProblems.keys()) this.dirty.add(key); // e.g. ENETUNREACH: retry
    this.scheduleFlush();
  }

  /** When an IPIP pool exists and the tunnel device is missing: try once to create it. */
  async ensureTunnel(): Promise<void> {
    const needed = this.pools.some((p) => p.prefix.afi === 1 && p.ipipMode !== 'Never');
    const name = this.options.tunnelDevice;
    if (!needed || linkByName(this.ifs, name) !== undefined || this.tunnelErrorLogged || this.socket === null) return;
    try {
      await this.socket.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, 'newlink', encodeNewLink(name, 'ipip'));
      this.log.info('created the IPIP tunnel device', { device: name });
    } catch (err) {
      const e = err as NetlinkError;
      if (e.code === 'EEXIST') return;
      this.tunnelErrorLogged = true;
      const why = e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUP' ? 'this kernel has no IPIP support (ipip module)' : `${e.code}${e.extack ? `: ${e.extack}` : ''}`;
      this.log.error(`tunnel device ${name} is missing and cannot be created (${why}); routes that need IPIP ` +
        'are not installed until it exists, every other route is', { device: name, code: e.code });
    }
  }

  onIdleCheck(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- applying ------------------------------------------------------------------------------

  private setDesired(key: string, entry: DesiredEntry | undefined): void {
    if (entry === undefined) this.desired.delete(key);
    else this.desired.set(key, entry);
  }

  private isIdle(): boolean {
    return this.closed || (this.dirty.size === 0 && this.inflight.size === 0 && !this.events.busy &&
      (this.socket?.pending ?? 0) === 0);
  }

  private mayDelete(key: string): boolean {
    return this.converged || this.withdrawn.has(key);
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === null || this.events.busy) {
      this.onIdleCheck();
      return;
    }
    for (const key of this.dirty) {
      if (this.inflight.has(key)) continue;
      this.dirty.delete(key);
      const { op, conflict } = diffKey(this.table, key, this.desired.get(key), this.mayDelete(key));
      if (conflict !== null) this.kernelProblems.set(key, conflict);
      else if (this.kernelProblems.get(key)?.code === 'CONFLICT') this.kernelProblems.delete(key);
      if (op !== null) this.submit(socket, op);
    }
    this.onIdleCheck();
  }

  private submit(socket: RouteSocket, op: FibOp): void {
    this.inflight.add(op.key);
    const own = this.own;
    if (op.op === 'delete') {
      socket.submit({
        type: RTM.DELROUTE, flags: 0, op: 'delroute',
        payload: () => encodeRoute(deleteMessage(op.family, op.prefix, op.metric, own)),
        done: (err) => this.settled(op, err),
      });
      return;
    }
    socket.submit({
      type: RTM.NEWROUTE,
      flags: NLM_F.CREATE | (op.op === 'add' ? NLM_F.EXCL : NLM_F.REPLACE),
      op: 'newroute',
      payload: () => encodeRoute(routeToMessage(op.route, own)),
      done: (err) => this.settled(op, err),
    });
  }

  private settled(op: FibOp, err: NetlinkError | null): void {
    const key = op.key;
    this.inflight.delete(key);
    if (err === null) {
      // Our own notifications are filtered out in the kernel: the answer is how we learn the result.
      if (op.op === 'delete') this.table.ours.delete(key);
      else this.table.ours.set(key, op.signature);
      this.ops[op.op]++;
      if (this.kernelProblems.size > 0 && this.kernelProblems.delete(key) && this.kernelProblems.size === 0) {
        this.retryDelay = RETRY_MIN_MS;
      }
    } else if (TRANSIENT.has(err.code)) {
      this.dirty.add(key); // the overflow handler resynchronises; then this key is looked at again
    } else if (op.op === 'add' && err.code === 'EEXIST') {
      // Someone holds the slot. The table (notifications are read before acks) says who.
      if (!this.table.ours.has(key) && !this.table.aliens.has(key)) void this.events.resync('EEXIST on an empty slot');
      this.dirty.add(key);
    } else if (op.op === 'delete' && err.code === 'ESRCH') {
      this.table.ours.delete(key); // already gone
    } else {
      const prefix = op.op === 'delete' ? op.prefix : op.route.prefix;
      const problem: FibProblem = { prefix, code: err.code, message: err.message };
      this.kernelProblems.set(key, problem);
      this.retrySoon();
      if (this.warnings++ < MAX_WARNINGS_PER_CYCLE) {
        this.log.warn(`kernel refused to ${op.op} a route`, { prefix, code: err.code, extack: err.extack });
      } else {
        this.log.debug(`kernel refused to ${op.op} a route`, { prefix, code: err.code, extack: err.extack });
      }
    }
    if (this.raced.size > 0 && this.raced.delete(key)) void this.events.resync('concurrent change of one of our routes');
    if (this.dirty.has(key)) this.scheduleFlush();
    else this.onIdleCheck();
  }

  private onOverflow(which: 'request' | 'monitor', err: NetlinkError): void {
    this.overflows++;
    // One warning per episode: overflows during the resynchronisation they caused are a burst going on.
    const log = this.events.busy ? this.log.debug : this.log.warn;
    log.call(this.log, `netlink ${which} socket overflowed (${err.code}): notifications or answers were lost; ` +
      'resynchronising by a full dump', { socket: which, code: err.code, overflows: this.overflows });
    void this.events.resync(`${which} overflow`);
  }

  private buildContext(): FibContext {
    const tunnel = linkByName(this.ifs, this.options.tunnelDevice);
    const v4 = this.options.nodeIpv4Address;
    return {
      tunnelDevice: this.options.tunnelDevice,
      tunnelIfindex: tunnel?.index ?? 0,
      pools: this.pools,
      nodeSubnet4: v4 === '' ? null : parsePrefix(v4.includes('/') ? v4 : `${v4}/32`),
      deviceFor: (peer) => deviceFor(this.ifs, peer),
    };
  }
}
