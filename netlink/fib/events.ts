/**
 * The Fib's view of the kernel: route, link and address notifications applied to its tables, and
 * the full resynchronisation (dump links, addresses, IPv4 and IPv6 routes of our table, then
 * compare everything). Notifications that arrive during a dump are held and applied after it, in
 * order, so the result is as new as the newest event. A failed or interrupted dump is repeated
 * with a short backoff; an overflow during one makes it run again.
 * Not here: deciding what to send (fib.ts, diff.ts).
 */
import { ifaddrmsg, decodeAddress } from '../rtnetlink/addr.js';
import { IFF, NLM_F, RTM, RTM_F } from '../rtnetlink/constants.js';
import { NetlinkError } from '../rtnetlink/errors.js';
import { decodeLink, ifinfomsg, isUp } from '../rtnetlink/link.js';
import type { NlMessage } from '../rtnetlink/message.js';
import { decodeRoute, encodeRoute, routeMessage } from '../rtnetlink/route.js';
import { delay, type Clock } from '../../agent/contracts/clock.js';
import type { RouteSocket } from '../rtnetlink/route-socket.js';
import { addToTable, applyRouteEvent, type KernelTable } from './diff.js';
import { applyAddress, applyLink, emptyInterfaces, type Interfaces } from './interfaces.js';
import { kernelRoute } from './kernel-route.js';
import type { Logger, Ownership } from './types.js';

const LINK_SETTLE_MS = 100;
const REPEAT_DELAY_MS = 200;
const MAX_INTERRUPTED = 3;
/** Errors a repeated dump cannot cure. */
const FATAL = new Set(['EPERM', 'EACCES', 'EOPNOTSUPP', 'ENOTSUP', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

/**
 * What FibEvents reads and tells of the Fib that owns it (fib.ts implements it): the tables the
 * notifications change, and what to do after them. FibEvents never writes the Fib's fields.
 */
export interface EventsHost {
  readonly own: Ownership;
  readonly log: Logger;
  readonly clock: Clock;
  /** The Fib's state as a KernelTable: the pure table functions (diff.ts) change it. */
  readonly table: KernelTable;
  /** The links and addresses notifications keep current. */
  readonly ifs: Interfaces;
  readonly routeSocket: RouteSocket | null;
  readonly isClosed: boolean;
  /** Told every 4,096 routes a dump reads (FibOptions.onWork). */
  work(routes: number): void;
  /** A key whose kernel state changed. */
  touch(key: string): void;
  /** Retries refused routes soon: another protocol's route appeared. */
  retrySoon(ms?: number): void;
  /** Links or addresses changed: recompute the routes that depend on devices. */
  interfacesChanged(): void;
  /** A link's carrier came or went (IFF_LOWER_UP; the device stays administratively up). */
  carrierChanged(): void;
  /** A dump starts: the generation its routes are stamped with. */
  nextGeneration(): number;
  /** A complete dump: its aliens and interfaces replace the Fib's, then every difference is queued. */
  dumped(generation: number, aliens: Map<string, string[]>, ifs: Interfaces): void;
  /** After a dump and the notifications held during it: count it, recompute, check the tunnel. */
  reconciled(reason: string): Promise<void>;
  /** A resynchronisation ended: send what waited, wake whoever waits for idle. */
  resumed(): void;
}

export class FibEvents {
  /** A resynchronisation is running: the Fib holds its requests until it ends. */
  busy = false;
  private held: NlMessage[] | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private linkTimer: unknown;
  private lost = false;

  constructor(private readonly host: EventsHost) {}

  onEvent(msg: NlMessage): void {
    if (this.held !== null) this.held.push(msg);
    else this.handle(msg);
  }

  private handle(msg: NlMessage): void {
    const host = this.host;
    try {
      switch (msg.type) {
        case RTM.NEWROUTE:
        case RTM.DELROUTE: {
          const route = decodeRoute(msg.payload);
          if ((route.flags & RTM_F.CLONED) !== 0) return;
          const isNew = msg.type === RTM.NEWROUTE;
          const result = applyRouteEvent(host.table, kernelRoute(route), isNew, (msg.flags & NLM_F.REPLACE) !== 0, host.own);
          if (result === null) return;
          if (result.ambiguous) void this.resync('replace notification at a shared prefix');
          host.touch(result.key);
          if (isNew && route.protocol !== host.own.protocol) host.retrySoon(200);
          return;
        }
        case RTM.NEWLINK:
        case RTM.DELLINK: {
          const link = decodeLink(msg.payload);
          const before = host.ifs.links.get(link.index);
          const isNew = msg.type === RTM.NEWLINK;
          applyLink(host.ifs, link, isNew);
          // The kernel drops routes of a link that goes down or away without telling anyone.
          const lost = before !== undefined && (!isNew || (isUp(before) && !isUp(link)));
          if (lost || before?.name !== link.name || (!isUp(before) && isUp(link))) this.linksChanged(lost);
          else if (before !== undefined && isNew && (before.flags & IFF.LOWER_UP) !== (link.flags & IFF.LOWER_UP)) host.carrierChanged();
          return;
        }
        case RTM.NEWADDR:
        case RTM.DELADDR:
          applyAddress(host.ifs, decodeAddress(msg.payload), msg.type === RTM.NEWADDR);
          this.linksChanged(msg.type === RTM.DELADDR);
          return;
        default:
          return;
      }
    } catch (err) {
      // A notification we cannot read: the table may now be wrong, so compare it with a dump.
      host.log.warn('unreadable netlink notification; resynchronising', { type: msg.type, error: String(err) });
      void this.resync('unreadable notification');
    }
  }

  /**
   * Links come and go in bursts: settle, then recompute the routes that depend on devices, and
   * when something went down or away (routes may have vanished silently) compare with a dump.
   */
  private linksChanged(lost: boolean): void {
    this.lost ||= lost;
    const clock = this.host.clock;
    clock.clearTimeout(this.linkTimer);
    this.linkTimer = clock.setTimeout(() => {
      if (this.host.isClosed) return;
      const resync = this.lost;
      this.lost = false;
      this.host.interfacesChanged();
      if (resync) void this.resync('a link went down or an address went away');
    }, LINK_SETTLE_MS);
  }

  /** The Fib closes: no settle timer may fire after it. */
  close(): void {
    this.host.clock.clearTimeout(this.linkTimer);
  }

  /** Full dump-and-compare; concurrent calls share one run (and ask for one more after it). */
  resync(reason: string): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    // Callers that do not wait (void resync(...)) must not leave a rejection unhandled.
    const running = this.start(reason);
    running.catch(() => undefined);
    return running;
  }

  private start(reason: string): Promise<void> {
    this.busy = true;
    this.running = this.loop(reason).finally(() => {
      this.running = null;
      this.busy = false;
      this.host.resumed();
    });
    return this.running;
  }

  private async loop(first: string): Promise<void> {
    let reason = first;
    for (let attempt = 0; !this.host.isClosed; ) {
      this.again = false;
      try {
        await this.once(reason, attempt);
        attempt = 0;
      } catch (err) {
        if (this.host.isClosed) return;
        attempt++;
        const code = err instanceof NetlinkError ? err.code : 'EIO';
        if (FATAL.has(code)) {
          // Not allowed or not possible here: repeating will not help; whoever asked hears it.
          this.host.log.error('cannot read the kernel routing table', { reason, code, error: String(err) });
          throw err;
        }
        const log = code === 'EINTR' ? this.host.log.debug : this.host.log.warn;
        log.call(this.host.log, 'resynchronisation failed; repeating it', { reason, code, error: String(err), attempt });
        await delay(this.host.clock, Math.min(1000, 25 * 2 ** attempt));
        this.again = true;
      }
      if (!this.again) return;
      reason = 'repeat';
      // Asked again while dumping (an overflow, a burst of changes): let the burst pass first.
      await delay(this.host.clock, REPEAT_DELAY_MS);
    }
  }

  private async once(reason: string, attempt: number): Promise<void> {
    const host = this.host;
    const socket = host.routeSocket;
    if (socket === null) throw new NetlinkError('dump', 'EBADF', 'route socket is not open');
    socket.drainMonitor();
    this.held = [];
    try {
      const ifs = emptyInterfaces();
      await socket.dump(RTM.GETLINK, ifinfomsg(0), (m) => applyLink(ifs, decodeLink(m.payload), true));
      await socket.dump(RTM.GETADDR, ifaddrmsg(0), (m) => applyAddress(ifs, decodeAddress(m.payload), true));
      // Our routes go straight into the Fib's state, stamped with this dump's generation;
      // afterDump then knows which of ours the kernel no longer has.
      const generation = host.nextGeneration();
      const table = { ours: host.table.ours, aliens: new Map<string, string[]>() };
      let interrupted = false;
      for (const family of [4, 6] as const) {
        const request = encodeRoute(routeMessage({ family, table: host.own.table }));
        try {
          let read = 0;
          const result = await socket.dump(RTM.GETROUTE, request, (m) => {
            if ((++read & 4095) === 0) host.work(4096);
            const route = decodeRoute(m.payload);
            if ((route.flags & RTM_F.CLONED) === 0) addToTable(table, kernelRoute(route), host.own);
          });
          interrupted ||= result.interrupted;
        } catch (err) {
          // A table that holds no route at all does not exist yet (IPv4 answers ENOENT).
          if (!(err instanceof NetlinkError && err.code === 'ENOENT')) throw err;
        }
      }
      // The table changed under the dump. Held notifications cover what others changed, so after a
      // few tries (a busy table may never hold still) the dump is taken as it is.
      if (interrupted && attempt < MAX_INTERRUPTED) {
        throw new NetlinkError('dump', 'EINTR', 'route dump interrupted by concurrent changes');
      }
      host.dumped(generation, table.aliens, ifs);
    } finally {
      const held = this.held ?? [];
      this.held = null;
      for (const msg of held) this.handle(msg);
    }
    await host.reconciled(reason);
  }
}
