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
 * - Tunnel device: see reconciled() and tunnel.ts.
 * Not here: the encoding (netlink/rtnetlink), what a route should be (desired.ts, shapes.ts), the
 * diff (diff.ts), sending requests and reading their answers (window.ts), links, addresses and
 * the tunnel (devices.ts), notifications and dumps (events.ts).
 */
import { every, systemClock, type Clock } from '../../agent/contracts/clock.js';
import type { NetlinkError } from '../rtnetlink/errors.js';
import { RouteSocket } from '../rtnetlink/route-socket.js';
import type { KernelTable } from './diff.js';
import { FibEvents, type EventsHost } from './events.js';
import { FibDevices } from './devices.js';
import type { Interfaces } from './interfaces.js';
import type { FibOptions } from './options.js';
import { prefixText } from './keys.js';
import { Shapes } from './shapes.js';
import { emptyState, enqueue, entryFor4, entryFor, type FibState, problemOf, queued, setProblem, setWant, tableView, WITHDRAWN } from './state.js';
import { queueDumpDifferences, queueStale, queueTouched } from './sweeps.js';
import type { FibSnapshot, Logger, Ownership } from './types.js';
import { problems, routeViews, type FibRouteView } from './views.js';
import { RequestWindow, type WindowHost } from './window.js';
import type { RibChange } from '../../agent/contracts/engines.js';

export class Fib implements WindowHost, EventsHost {
  readonly own: Ownership;
  readonly log: Logger;
  readonly clock: Clock;
  readonly state: FibState = emptyState();
  readonly ifs: Interfaces;
  /** The state as a KernelTable for the pure table functions (notifications and dumps). */
  readonly table: KernelTable;
  private generation = 0;
  private reconciles = 0;
  private overflows = 0;
  private socket: RouteSocket | null = null;
  /** The socket's kernelTime when it closed (the snapshot's after stop()). */
  private closedKernelTime = { datagrams: 0, seconds: 0 };
  private readonly devices: FibDevices;
  private readonly events: FibEvents;
  private readonly shapes: Shapes;
  private readonly window: RequestWindow = new RequestWindow(this);
  private converged: boolean;
  private flushScheduled = false;
  private stopPeriodic: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(readonly options: FibOptions) {
    this.own = { table: options.table, protocol: options.protocol };
    this.log = options.logger;
    this.clock = options.clock ?? systemClock;
    this.converged = (options.mode ?? 'fresh') === 'fresh';
    this.devices = new FibDevices(options);
    this.ifs = this.devices.ifs;
    this.table = tableView(this.state, () => this.generation);
    this.shapes = new Shapes(this.devices.context(), this.state.shapes);
    this.events = new FibEvents(this);
  }

  /** Opens the sockets, dumps links, addresses and routes, and applies what is pending. */
  async start(): Promise<void> {
    this.socket = RouteSocket.open({
      ...this.options.socket,
      onEvent: (msg) => this.events.onEvent(msg),
      onOverflow: (which, err) => this.onOverflow(which, err),
      bulk: this.window,
    });
    await this.events.resync('start');
    const period = this.options.reconcileIntervalMs ?? 60_000;
    if (period > 0) this.stopPeriodic = every(this.clock, period, () => void this.events.resync('periodic'));
  }

  apply(changes: readonly RibChange[]): void {
    this.options.onWork?.(changes.length);
    const state = this.state;
    for (const change of changes) {
      const prefix = change.prefix;
      const i = prefix.afi === 1 ? entryFor4(state, prefix.addr, prefix.len) : entryFor(state, prefixText(prefix));
      const withdrawn = change.best.length === 0;
      state.best[i] = withdrawn ? null : change.best;
      if (withdrawn && !this.converged) state.flags[i] |= WITHDRAWN;
      else state.flags[i] &= ~WITHDRAWN;
      setWant(state, i, this.shapes.desired(prefix, change.best));
      const problem = this.shapes.problem;
      if (problemOf(state, i) !== problem) setProblem(state, i, 'problem', problem);
      enqueue(state, i);
    }
    this.scheduleFlush();
  }

  /** The RIB has converged (End-of-RIB from every restarting peer, or the restart time passed). */
  markConverged(): void {
    if (this.converged) return;
    this.converged = true;
    const stale = queueStale(this.state);
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
      pending: queued(this.state) + this.window.inflight,
      errors,
      reconciles: this.reconciles,
      failures: this.window.failures,
      overflows: this.overflows,
      ops: { ...this.window.ops },
      kernelTime: this.socket?.kernelTime() ?? this.closedKernelTime,
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
    this.stopPeriodic?.();
    this.events.close();
    this.window.close();
    const socket = this.socket;
    if (socket !== null) this.closedKernelTime = socket.kernelTime();
    this.socket = null;
    this.closing = socket?.close() ?? Promise.resolve();
    this.onIdleCheck();
    return this.closing;
  }

  // ---- used by FibEvents (EventsHost) and RequestWindow (WindowHost) ---------------------------

  get routeSocket(): RouteSocket | null {
    return this.socket;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isConverged(): boolean {
    return this.converged;
  }

  get resyncing(): boolean {
    return this.events.busy;
  }

  resync(reason: string): void {
    void this.events.resync(reason);
  }

  /** A key whose kernel state changed: look at it again, unless a request of ours is on it. */
  touch(key: string): void {
    if (queueTouched(this.state, key)) this.scheduleFlush();
  }

  work(routes: number): void {
    this.options.onWork?.(routes);
  }

  nextGeneration(): number {
    return ++this.generation;
  }

  /** After a complete dump: our routes it did not show are gone; queue every difference. */
  dumped(generation: number, aliens: Map<string, string[]>, ifs: Interfaces): void {
    this.state.aliens = aliens;
    this.window.newCycle();
    queueDumpDifferences(this.state, generation);
    this.scheduleFlush();
    this.ifs.links.clear();
    this.ifs.addresses.clear();
    for (const [k, v] of ifs.links) this.ifs.links.set(k, v);
    for (const [k, v] of ifs.addresses) this.ifs.addresses.set(k, v);
  }

  /** See tunnel.ts: the tunnel device is created when an IPIP pool needs it, or it says once why not. */
  async reconciled(reason: string): Promise<void> {
    this.reconciles++;
    this.interfacesChanged();
    await this.devices.ensureTunnel(this.socket, this.log);
    this.log.debug('kernel table dumped', { reason, ours: this.state.ours, prefixesWithOtherRoutes: this.state.aliens.size });
  }

  resumed(): void {
    this.scheduleFlush();
    this.onIdleCheck();
  }

  /** Links or addresses changed: recompute the routes that depend on devices (devices.ts). */
  interfacesChanged(): void {
    this.devices.recompute(this.state, this.shapes);
    this.scheduleFlush();
    this.options.onLinks?.();
  }

  /** A carrier change alone moves no route of ours (the kernel marks next hops linkdown); BGP unnumbered is told. */
  carrierChanged(): void {
    this.options.onLinks?.();
  }

  /** Retries refused routes soon (window.ts); a new route of another protocol calls it too. */
  retrySoon(ms?: number): void {
    this.window.retrySoon(ms);
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

  private isIdle(): boolean {
    return this.closed || (queued(this.state) === 0 && this.window.inflight === 0 && !this.events.busy &&
      (this.socket?.pending ?? 0) === 0);
  }

  private flush(): void {
    if (this.socket !== null && !this.events.busy) this.window.flush(this.socket);
    this.onIdleCheck();
  }

  private onOverflow(which: 'request' | 'monitor', err: NetlinkError): void {
    this.overflows++;
    // One warning per episode: overflows during the resynchronisation they caused are a burst going on.
    const log = this.events.busy ? this.log.debug : this.log.warn;
    log.call(this.log, `netlink ${which} socket overflowed (${err.code}): notifications or answers were lost; ` +
      'resynchronising by a full dump', { socket: which, code: err.code, overflows: this.overflows });
    void this.events.resync(`${which} overflow`);
  }
}
