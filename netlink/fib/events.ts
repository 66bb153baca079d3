/**
 * The Fib's view of the kernel: route, link and address notifications applied to its tables, and
 * the full resynchronisation (dump links, addresses, IPv4 and IPv6 routes of our table, then
 * compare everything). Notifications that arrive during a dump are held and applied after it, in
 * order, so the result is as new as the newest event. A failed or interrupted dump is repeated
 * with a short backoff; an overflow during one makes it run again.
 * Not here: deciding what to send (fib.ts, diff.ts).
 */
import { ifaddrmsg, decodeAddress } from '../rtnetlink/addr.js';
import { NLM_F, RTM, RTM_F } from '../rtnetlink/constants.js';
import { NetlinkError } from '../rtnetlink/errors.js';
import { decodeLink, ifinfomsg, isUp } from '../rtnetlink/link.js';
import type { NlMessage } from '../rtnetlink/message.js';
import { decodeRoute, encodeRoute, routeMessage } from '../rtnetlink/route.js';
import { addToTable, applyRouteEvent } from './diff.js';
import type { Fib } from './fib.js';
import { applyAddress, applyLink, emptyInterfaces } from './interfaces.js';
import { kernelRoute } from './kernel-route.js';

const LINK_SETTLE_MS = 100;
const REPEAT_DELAY_MS = 200;
const MAX_INTERRUPTED = 3;
/** Errors a repeated dump cannot cure. */
const FATAL = new Set(['EPERM', 'EACCES', 'EOPNOTSUPP', 'ENOTSUP', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

export class FibEvents {
  /** A resynchronisation is running: the Fib holds its requests until it ends. */
  busy = false;
  private held: NlMessage[] | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private linkTimer: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(private readonly fib: Fib) {}

  onEvent(msg: NlMessage): void {
    if (this.held !== null) this.held.push(msg);
    else this.handle(msg);
  }

  private handle(msg: NlMessage): void {
    const fib = this.fib;
    try {
      switch (msg.type) {
        case RTM.NEWROUTE:
        case RTM.DELROUTE: {
          const route = decodeRoute(msg.payload);
          if ((route.flags & RTM_F.CLONED) !== 0) return;
          const isNew = msg.type === RTM.NEWROUTE;
          const result = applyRouteEvent(fib.table, kernelRoute(route), isNew, (msg.flags & NLM_F.REPLACE) !== 0, fib.own);
          if (result === null) return;
          if (result.ambiguous) void this.resync('replace notification at a shared prefix');
          fib.touch(result.key);
          if (isNew && route.protocol !== fib.own.protocol) fib.retrySoon(200);
          return;
        }
        case RTM.NEWLINK:
        case RTM.DELLINK: {
          const link = decodeLink(msg.payload);
          const before = fib.ifs.links.get(link.index);
          const isNew = msg.type === RTM.NEWLINK;
          applyLink(fib.ifs, link, isNew);
          // The kernel drops routes of a link that goes down or away without telling anyone.
          const lost = before !== undefined && (!isNew || (isUp(before) && !isUp(link)));
          if (lost || before?.name !== link.name || (!isUp(before) && isUp(link))) this.linksChanged(lost);
          return;
        }
        case RTM.NEWADDR:
        case RTM.DELADDR:
          applyAddress(fib.ifs, decodeAddress(msg.payload), msg.type === RTM.NEWADDR);
          this.linksChanged(msg.type === RTM.DELADDR);
          return;
        default:
          return;
      }
    } catch (err) {
      // A notification we cannot read: the table may now be wrong, so compare it with a dump.
      fib.log.warn('unreadable netlink notification; resynchronising', { type: msg.type, error: String(err) });
      void this.resync('unreadable notification');
    }
  }

  /**
   * Links come and go in bursts: settle, then recompute the routes that depend on devices, and
   * when something went down or away (routes may have vanished silently) compare with a dump.
   */
  private linksChanged(lost: boolean): void {
    this.lost ||= lost;
    clearTimeout(this.linkTimer);
    this.linkTimer = setTimeout(() => {
      if (this.fib.isClosed) return;
      const resync = this.lost;
      this.lost = false;
      this.fib.interfacesChanged();
      if (resync) void this.resync('a link went down or an address went away');
    }, LINK_SETTLE_MS);
    this.linkTimer.unref();
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
      this.fib.scheduleFlush();
      this.fib.onIdleCheck();
    });
    return this.running;
  }

  private async loop(first: string): Promise<void> {
    let reason = first;
    for (let attempt = 0; !this.fib.isClosed; ) {
      this.again = false;
      try {
        await this.once(reason, attempt);
        attempt = 0;
      } catch (err) {
        if (this.fib.isClosed) return;
        attempt++;
        const code = err instanceof NetlinkError ? err.code : 'EIO';
        if (FATAL.has(code)) {
          // Not allowed or not possible here: repeating will not help; whoever asked hears it.
          this.fib.log.error('cannot read the kernel routing table', { reason, code, error: String(err) });
          throw err;
        }
        const log = code === 'EINTR' ? this.fib.log.debug : this.fib.log.warn;
        log.call(this.fib.log, 'resynchronisation failed; repeating it', { reason, code, error: String(err), attempt });
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)).unref());
        this.again = true;
      }
      if (!this.again) return;
      reason = 'repeat';
      // Asked again while dumping (an overflow, a burst of changes): let the burst pass first.
      await new Promise((resolve) => setTimeout(resolve, REPEAT_DELAY_MS).unref());
    }
  }

  private async once(reason: string, attempt: number): Promise<void> {
    const fib = this.fib;
    const socket = fib.routeSocket;
    if (socket === null) throw new NetlinkError('dump', 'EBADF', 'route socket is not open');
    socket.drainMonitor();
    this.held = [];
    try {
      const ifs = emptyInterfaces();
      await socket.dump(RTM.GETLINK, ifinfomsg(0), (m) => applyLink(ifs, decodeLink(m.payload), true));
      await socket.dump(RTM.GETADDR, ifaddrmsg(0), (m) => applyAddress(ifs, decodeAddress(m.payload), true));
      // Our routes go straight into the Fib's state, stamped with this dump's generation;
      // afterDump then knows which of ours the kernel no longer has.
      const generation = ++fib.generation;
      const table = { ours: fib.table.ours, aliens: new Map<string, string[]>() };
      let interrupted = false;
      for (const family of [4, 6] as const) {
        const request = encodeRoute(routeMessage({ family, table: fib.own.table }));
        try {
          let read = 0;
          const result = await socket.dump(RTM.GETROUTE, request, (m) => {
            if ((++read & 4095) === 0) fib.options.onWork?.(4096);
            const route = decodeRoute(m.payload);
            if ((route.flags & RTM_F.CLONED) === 0) addToTable(table, kernelRoute(route), fib.own);
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
      fib.state.aliens = table.aliens;
      fib.afterDump(generation);
      fib.ifs.links.clear();
      fib.ifs.addresses.clear();
      for (const [k, v] of ifs.links) fib.ifs.links.set(k, v);
      for (const [k, v] of ifs.addresses) fib.ifs.addresses.set(k, v);
    } finally {
      const held = this.held ?? [];
      this.held = null;
      for (const msg of held) this.handle(msg);
    }
    fib.reconciles++;
    fib.interfacesChanged();
    await fib.ensureTunnel();
    fib.log.debug('kernel table dumped', {
      reason, ours: fib.state.ours, prefixesWithOtherRoutes: fib.state.aliens.size,
    });
  }
}
