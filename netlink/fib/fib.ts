/**
 * Fib: keeps the kernel's routing table in step with the RIB (SPEC.md "What lands in the kernel").
 * It owns a RouteSocket, tracks per prefix what is desired and what the kernel holds (from dumps,
 * the answers to our requests, and everyone else's route notifications: ours are filtered out in
 * the kernel), computes what must change (diff.ts) and applies only that, through a bounded window
 * of batched requests.
 *
 * - Ownership: our routes carry kernel.routeProtocol in kernel.table; no other route is ever
 *   changed or deleted (see diff.ts for a prefix that another protocol holds too).
 * - Restart ('restart' mode): routes of ours found at start stay untouched until markConverged();
 *   desired routes are added or replaced meanwhile, never deleted, so none disappears and
 *   reappears. Then only the stale ones are deleted.
 * - Repair: a notification that one of our routes was deleted or changed by someone else queues
 *   its prefix at once; a full dump-and-compare runs periodically as a safety net, after every
 *   ENOBUFS overflow, and after a link or address goes away (IPv4 then drops routes silently).
 *   Routes the kernel refused (ENETUNREACH, ...) are retried with a backoff and on route changes.
 * - Tunnel device: see ensureTunnel.
 * Not here: the encoding (netlink/rtnetlink), what a route should be (desired.ts), the diff
 * (diff.ts), notifications and dumps (events.ts).
 */
import { parsePrefix } from '../../agent/bgp/prefix.js';
import type { RibChange } from '../../agent/rib/types.js';
import type { NetlinkError } from '../rtnetlink/errors.js';
import { RouteSocket } from '../rtnetlink/route-socket.js';
import { diffState, type FibOp, type KernelTable, parseKey } from './diff.js';
import { FibEvents } from './events.js';
import { prefixText } from './keys.js';
import { deviceFor, emptyInterfaces, type Interfaces, linkByName } from './interfaces.js';
import { failure, opRequest } from './ops.js';
import type { FibOptions } from './options.js';
import { Shapes, withPrefix } from './shapes.js';
import {
  dequeue, emptyState, enqueue, type Entry, entryFor, type FibState, forgetIfEmpty, queued, setKernel, setProblem, setWant,
  tableView,
} from './state.js';
import { createTunnel } from './tunnel.js';
import type { FibContext, FibPool, FibSnapshot, Logger, Ownership } from './types.js';
import { problems, routeViews, type FibRouteView } from './views.js';

const MAX_WARNINGS_PER_CYCLE = 20;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/**
 * Requests handed to the RouteSocket and not yet answered, at most (twice its window): the rest
 * wait in the Fib's queue as entries, not as request objects (a million of those is 150 MB).
 */
const MAX_SUBMITTED = 8192;

export class Fib {
  readonly own: Ownership;
  readonly log: Logger;
  readonly state: FibState = emptyState();
  readonly ifs: Interfaces = emptyInterfaces();
  /** The state as a KernelTable for the pure table functions (notifications and dumps). */
  readonly table: KernelTable;
  generation = 0;
  reconciles = 0;
  overflows = 0;
  /** Route requests the kernel refused since start (metrics: rack_agent_kernel_errors_total). */
  failures = 0;
  readonly ops = { add: 0, replace: 0, delete: 0 };
  private socket: RouteSocket | null = null;
  private readonly pools: readonly FibPool[];
  private readonly events: FibEvents;
  private ctx: FibContext;
  private readonly shapes: Shapes;
  private converged: boolean;
  private inflight = 0;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private retryDelay = RETRY_MIN_MS;
  private idleWaiters: Array<() => void> = [];
  private warnings = 0;
  private tunnelErrorLogged = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly settle = (entry: Entry, op: FibOp, err: NetlinkError | null): void => this.settled(entry, op, err);

  constructor(private readonly options: FibOptions) {
    this.own = { table: options.table, protocol: options.protocol };
    this.log = options.logger;
    this.converged = (options.mode ?? 'fresh') === 'fresh';
    this.pools = options.pools.filter((p) => !p.disabled).map((p) => ({ prefix: parsePrefix(p.cidr), ipipMode: p.ipipMode }));
    this.table = tableView(this.state, () => this.generation);
    this.ctx = this.buildContext();
    this.shapes = new Shapes(this.ctx);
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
    const state = this.state;
    for (const change of changes) {
      const prefix = change.prefix;
      const entry = entryFor(state, prefixText(prefix));
      const withdrawn = change.best.length === 0;
      entry.best = withdrawn ? null : change.best;
      entry.withdrawn = withdrawn && !this.converged;
      const result = this.shapes.desired(prefix, change.best);
      setWant(state, entry, result.want);
      if (entry.problem !== result.problem) setProblem(state, entry, 'problem', result.problem);
      enqueue(state, entry);
    }
    this.scheduleFlush();
  }

  /** The RIB has converged (End-of-RIB from every restarting peer, or the restart time passed). */
  markConverged(): void {
    if (this.converged) return;
    this.converged = true;
    let stale = 0;
    for (const entry of this.state.entries.values()) {
      entry.withdrawn = false;
      if (entry.want === undefined && entry.kernel !== undefined) {
        enqueue(this.state, entry);
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
    const errors = problems(this.state);
    return {
      routes: this.state.ours,
      desired: this.state.desired,
      inSync: this.isIdle() && this.converged && errors.length === 0,
      converged: this.converged,
      pending: queued(this.state) + this.inflight,
      errors,
      reconciles: this.reconciles,
      failures: this.failures,
      overflows: this.overflows,
      ops: { ...this.ops },
    };
  }

  routes(family?: 'ipv4' | 'ipv6'): FibRouteView[] {
    return routeViews(this.state, family);
  }

  /** Resolves when nothing is queued, in flight or being resynchronised. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops all output to the kernel at once (nothing queued is sent, nothing more is submitted) and
   * resolves when the datagram in flight has come back and the sockets are closed: after that no
   * callback of the addon runs for this Fib. Idempotent; never rejects.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    this.closing = socket?.close() ?? Promise.resolve();
    this.onIdleCheck();
    return this.closing;
  }

  // ---- used by FibEvents ---------------------------------------------------------------------

  get routeSocket(): RouteSocket | null {
    return this.socket;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A key whose kernel state changed: look at it again, unless a request of ours is on it. */
  touch(key: string): void {
    const entry = this.state.entries.get(key);
    if (entry === undefined) return;
    if (entry.inflight) {
      entry.raced = true;
      return;
    }
    if (entry.want === undefined && entry.kernel === undefined) return;
    enqueue(this.state, entry);
    this.scheduleFlush();
  }

  /** After a complete dump: our routes it did not show are gone; queue every difference. */
  afterDump(generation: number): void {
    this.warnings = 0;
    for (const entry of this.state.entries.values()) {
      if (entry.kernel !== undefined && entry.seen !== generation) setKernel(this.state, entry, undefined);
      const differs = entry.want === undefined
        ? entry.kernel !== undefined
        : entry.kernel !== entry.want.signature || this.state.aliens.has(entry.key);
      if (differs || entry.refused !== null) enqueue(this.state, entry);
      else forgetIfEmpty(this.state, entry);
    }
    this.scheduleFlush();
  }

  /** Links or addresses changed: rebuild the context, recompute routes that depend on devices. */
  interfacesChanged(): void {
    this.ctx = this.buildContext();
    this.shapes.reset(this.ctx);
    if (linkByName(this.ifs, this.options.tunnelDevice) !== undefined) this.tunnelErrorLogged = false;
    const state = this.state;
    for (const entry of state.entries.values()) {
      if (entry.refused !== null) enqueue(state, entry); // e.g. ENETUNREACH: retry now
      const pinned = entry.want?.route.nextHops.some((nh) => nh.ifindex !== 0) ?? false;
      if (entry.best === null || (entry.problem === null && !pinned)) continue;
      const result = this.shapes.desired(parsePrefix(parseKey(entry.key).prefix), entry.best);
      setWant(state, entry, result.want);
      setProblem(state, entry, 'problem', result.problem);
      enqueue(state, entry);
    }
    this.scheduleFlush();
  }

  /** See tunnel.ts: creates the tunnel device when an IPIP pool needs it, or says once why not. */
  async ensureTunnel(): Promise<void> {
    const needed = this.pools.some((p) => p.prefix.afi === 1 && p.ipipMode !== 'Never');
    if (!needed || this.socket === null || this.tunnelErrorLogged) return;
    if (linkByName(this.ifs, this.options.tunnelDevice) !== undefined) return;
    this.tunnelErrorLogged = !(await createTunnel(this.socket, this.options.tunnelDevice, this.log));
  }

  /** Retries refused routes after `ms` (or the current backoff); a new route elsewhere calls it too. */
  retrySoon(ms = this.retryDelay): void {
    if (this.state.troubled.size === 0 || this.closed) return;
    const at = Date.now() + ms;
    if (this.retryTimer !== undefined && this.retryAt <= at) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      let retried = 0;
      for (const entry of this.state.troubled) {
        if (entry.refused !== null && entry.refused.code !== 'CONFLICT' && !entry.inflight) {
          enqueue(this.state, entry);
          retried++;
        }
      }
      if (retried === 0) {
        this.retryDelay = RETRY_MIN_MS;
        return;
      }
      this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
      this.scheduleFlush();
    }, ms);
    this.retryTimer.unref();
  }

  onIdleCheck(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  // ---- applying ------------------------------------------------------------------------------

  private isIdle(): boolean {
    return this.closed || (queued(this.state) === 0 && this.inflight === 0 && !this.events.busy &&
      (this.socket?.pending ?? 0) === 0);
  }

  private flush(): void {
    const socket = this.socket;
    const state = this.state;
    if (socket !== null && !this.events.busy) {
      // Entries queued from here on (requeued while in flight) wait for the next flush.
      for (let n = queued(state); n > 0 && this.inflight < MAX_SUBMITTED; n--) {
        const entry = dequeue(state);
        if (entry === undefined) break;
        if (entry.inflight) {
          enqueue(state, entry); // looked at again when its request settles
          continue;
        }
        const want = entry.want;
        const aliens = state.aliens.get(entry.key);
        if (want !== undefined && aliens === undefined && entry.kernel === want.signature) {
          // In the kernel as desired: the common case of a dump-and-compare, no diff needed.
          if (entry.refused?.code === 'CONFLICT') setProblem(state, entry, 'refused', null);
          continue;
        }
        const { op, conflict } = diffState(entry.key, entry.kernel, aliens,
          want === undefined ? undefined : withPrefix(want, parseKey(entry.key).prefix), this.converged || entry.withdrawn);
        if (conflict !== null) setProblem(state, entry, 'refused', conflict);
        else if (entry.refused?.code === 'CONFLICT') setProblem(state, entry, 'refused', null);
        if (op !== null) this.submit(socket, entry, op);
        else forgetIfEmpty(state, entry);
      }
      // More to send once answers make room (settled() flushes again below the bound).
    }
    this.onIdleCheck();
  }

  private submit(socket: RouteSocket, entry: Entry, op: FibOp): void {
    entry.inflight = true;
    this.inflight++;
    socket.submit(opRequest(op, entry, this.own, this.settle));
  }

  private settled(entry: Entry, op: FibOp, err: NetlinkError | null): void {
    const state = this.state;
    entry.inflight = false;
    this.inflight--;
    if (err === null) {
      // Our own notifications are filtered out in the kernel: the answer is how we learn the result.
      setKernel(state, entry, op.op === 'delete' ? undefined : op.signature);
      this.ops[op.op]++;
      if (entry.refused !== null) setProblem(state, entry, 'refused', null);
    } else {
      switch (failure(op, err)) {
        case 'again': // the overflow handler resynchronises; then this key is looked at again
          enqueue(state, entry);
          break;
        case 'taken': // someone holds the key; notifications are read before answers, so we know who
          if (entry.kernel === undefined && !state.aliens.has(entry.key)) void this.events.resync('EEXIST on an empty key');
          enqueue(state, entry);
          break;
        case 'gone':
          setKernel(state, entry, undefined);
          break;
        case 'refused': {
          const prefix = op.op === 'delete' ? op.prefix : op.route.prefix;
          this.failures++;
          setProblem(state, entry, 'refused', { prefix, code: err.code, message: err.message });
          const log = this.warnings++ < MAX_WARNINGS_PER_CYCLE ? this.log.warn : this.log.debug;
          log.call(this.log, `kernel refused to ${op.op} a route`, { prefix, code: err.code, extack: err.extack });
          this.retrySoon();
        }
      }
    }
    if (entry.raced) {
      entry.raced = false;
      void this.events.resync('a route of ours changed by someone else while we changed it');
    }
    if (entry.queued || (queued(state) > 0 && this.inflight < MAX_SUBMITTED / 2)) this.scheduleFlush();
    if (!entry.queued) {
      forgetIfEmpty(state, entry);
      this.onIdleCheck();
    }
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
