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
import { deviceFor, emptyInterfaces, type Interfaces, linkByName } from './interfaces.js';
import { failure, opRequest } from './ops.js';
import type { FibOptions } from './options.js';
import { prefixText } from './keys.js';
import { Shapes, withPrefix } from './shapes.js';
import {
  dequeue, emptyState, enqueue, entryFor4, entryFor, type FibState, forEachEntry, forgetIfEmpty, INFLIGHT, installed, kernelOf,
  keyOf, problemOf, QUEUED, queued, RACED, refusedOf, setKernel, setProblem, setWant, tableView, wantOf, WITHDRAWN,
} from './state.js';
import { createTunnel } from './tunnel.js';
import type { FibContext, FibPool, FibSnapshot, Logger, Ownership } from './types.js';
import { problems, routeViews, type FibRouteView } from './views.js';

const MAX_WARNINGS_PER_CYCLE = 20;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/**
 * Requests handed to the RouteSocket and not yet answered, at most (its window and a datagram): the rest
 * wait in the Fib's queue as entries, not as request objects (a million of those is 150 MB).
 */
const MAX_SUBMITTED = 4096 + 512;

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
  private readonly settle = (i: number, op: FibOp, err: NetlinkError | null): void => this.settled(i, op, err);

  constructor(private readonly options: FibOptions) {
    this.own = { table: options.table, protocol: options.protocol };
    this.log = options.logger;
    this.converged = (options.mode ?? 'fresh') === 'fresh';
    this.pools = options.pools.filter((p) => !p.disabled).map((p) => ({ prefix: parsePrefix(p.cidr), ipipMode: p.ipipMode }));
    this.table = tableView(this.state, () => this.generation);
    this.ctx = this.buildContext();
    this.shapes = new Shapes(this.ctx, this.state.shapes);
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
      const i = prefix.afi === 1 ? entryFor4(state, prefix.addr, prefix.len) : entryFor(state, prefixText(prefix));
      const withdrawn = change.best.length === 0;
      state.best[i] = withdrawn ? null : change.best;
      if (withdrawn && !this.converged) state.flags[i] |= WITHDRAWN;
      else state.flags[i] &= ~WITHDRAWN;
      const result = this.shapes.desired(prefix, change.best);
      setWant(state, i, result.id);
      if (problemOf(state, i) !== result.problem) setProblem(state, i, 'problem', result.problem);
      enqueue(state, i);
    }
    this.scheduleFlush();
  }

  /** The RIB has converged (End-of-RIB from every restarting peer, or the restart time passed). */
  markConverged(): void {
    if (this.converged) return;
    this.converged = true;
    let stale = 0;
    const state = this.state;
    forEachEntry(state, (i) => {
      state.flags[i] &= ~WITHDRAWN;
      if (state.want[i] === 0 && state.kernel[i] !== 0) {
        enqueue(state, i);
        stale++;
      }
    });
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
    const state = this.state;
    const i = state.keys.find(key);
    if (i < 0) return;
    if ((state.flags[i] & INFLIGHT) !== 0) {
      state.flags[i] |= RACED;
      return;
    }
    if (state.want[i] === 0 && state.kernel[i] === 0) return;
    enqueue(state, i);
    this.scheduleFlush();
  }

  /** After a complete dump: our routes it did not show are gone; queue every difference. */
  afterDump(generation: number): void {
    this.warnings = 0;
    const state = this.state;
    const aliens = state.aliens.size > 0;
    forEachEntry(state, (i) => {
      if (state.kernel[i] !== 0 && state.seen[i] !== generation) setKernel(state, i, undefined);
      const differs = state.want[i] === 0
        ? state.kernel[i] !== 0
        : !installed(state, i) || (aliens && state.aliens.has(keyOf(state, i)));
      if (differs || state.refusals.has(i)) enqueue(state, i);
      else forgetIfEmpty(state, i);
    });
    this.scheduleFlush();
  }

  /** Links or addresses changed: rebuild the context, recompute routes that depend on devices. */
  interfacesChanged(): void {
    this.ctx = this.buildContext();
    this.shapes.reset(this.ctx);
    if (linkByName(this.ifs, this.options.tunnelDevice) !== undefined) this.tunnelErrorLogged = false;
    const state = this.state;
    const keys = state.keys;
    forEachEntry(state, (i) => {
      if (state.refusals.has(i)) enqueue(state, i); // e.g. ENETUNREACH: retry now
      const best = state.best[i];
      const pinned = wantOf(state, i)?.route.nextHops.some((nh) => nh.ifindex !== 0) ?? false;
      if (best === null || (!state.problems.has(i) && !pinned)) return;
      const len = keys.len[i];
      const prefix = len >= 0 ? { afi: 1 as const, len, addr: keys.addr[i] >>> 0 } : parsePrefix(parseKey(keyOf(state, i)).prefix);
      const result = this.shapes.desired(prefix, best);
      setWant(state, i, result.id);
      setProblem(state, i, 'problem', result.problem);
      enqueue(state, i);
    });
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
      const state = this.state;
      for (const i of state.troubled) {
        const refused = refusedOf(state, i);
        if (refused !== null && refused.code !== 'CONFLICT' && (state.flags[i] & INFLIGHT) === 0) {
          enqueue(state, i);
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
      const anyAliens = state.aliens.size > 0;
      for (let n = queued(state); n > 0 && this.inflight < MAX_SUBMITTED; n--) {
        const i = dequeue(state);
        if (i < 0) break;
        if ((state.flags[i] & INFLIGHT) !== 0) {
          enqueue(state, i); // looked at again when its request settles
          continue;
        }
        const inKernel = installed(state, i);
        // In the kernel as desired with no other protocol's route at the key: no diff, no key text.
        const key = inKernel && !anyAliens ? '' : keyOf(state, i);
        const aliens = anyAliens ? state.aliens.get(key) : undefined;
        if (inKernel && aliens === undefined) {
          if (refusedOf(state, i)?.code === 'CONFLICT') setProblem(state, i, 'refused', null);
          continue;
        }
        const want = wantOf(state, i);
        // The shared route goes into the request as it is (ops.ts puts the prefix in when it encodes):
        // a request waits for the kernel's answer, long enough for V8 to promote what it holds.
        const wanted = want === undefined || aliens === undefined ? want : withPrefix(want, parseKey(key).prefix);
        const { op, conflict } = diffState(key, kernelOf(state, i), aliens, wanted, this.converged || (state.flags[i] & WITHDRAWN) !== 0);
        if (conflict !== null) setProblem(state, i, 'refused', conflict);
        else if (refusedOf(state, i)?.code === 'CONFLICT') setProblem(state, i, 'refused', null);
        if (op !== null) this.submit(socket, i, op);
        else forgetIfEmpty(state, i);
      }
      // More to send once answers make room (settled() flushes again below the bound).
    }
    this.onIdleCheck();
  }

  private submit(socket: RouteSocket, i: number, op: FibOp): void {
    this.state.flags[i] |= INFLIGHT;
    this.inflight++;
    socket.submit(opRequest(op, i, this.own, this.settle));
  }

  private settled(i: number, op: FibOp, err: NetlinkError | null): void {
    const state = this.state;
    state.flags[i] &= ~INFLIGHT;
    this.inflight--;
    if (err === null) {
      // Our own notifications are filtered out in the kernel: the answer is how we learn the result.
      setKernel(state, i, op.op === 'delete' ? undefined : op.signature);
      this.ops[op.op]++;
      if (state.refusals.has(i)) setProblem(state, i, 'refused', null);
    } else {
      switch (failure(op, err)) {
        case 'again': // the overflow handler resynchronises; then this key is looked at again
          enqueue(state, i);
          break;
        case 'taken': // someone holds the key; notifications are read before answers, so we know who
          if (state.kernel[i] === 0 && !state.aliens.has(op.key)) void this.events.resync('EEXIST on an empty key');
          enqueue(state, i);
          break;
        case 'gone':
          setKernel(state, i, undefined);
          break;
        case 'refused': {
          const prefix = op.op === 'delete' ? op.prefix : parseKey(op.key).prefix;
          this.failures++;
          setProblem(state, i, 'refused', { prefix, code: err.code, message: err.message });
          const log = this.warnings++ < MAX_WARNINGS_PER_CYCLE ? this.log.warn : this.log.debug;
          log.call(this.log, `kernel refused to ${op.op} a route`, { prefix, code: err.code, extack: err.extack });
          this.retrySoon();
        }
      }
    }
    if ((state.flags[i] & RACED) !== 0) {
      state.flags[i] &= ~RACED;
      void this.events.resync('a route of ours changed by someone else while we changed it');
    }
    const isQueued = (state.flags[i] & QUEUED) !== 0;
    if (isQueued || (queued(state) > 0 && this.inflight < MAX_SUBMITTED / 2)) this.scheduleFlush();
    if (!isQueued) {
      forgetIfEmpty(state, i);
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
