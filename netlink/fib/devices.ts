/**
 * What the Fib's desired routes depend on besides the RIB: the node's links and addresses (kept
 * from dumps and notifications, interfaces.ts), the tunnel device and the pools. `context()` is
 * the FibContext desiredRoute reads (desired.ts); `recompute` redoes the routes that depend on
 * devices after links or addresses changed; `ensureTunnel` creates the tunnel device an IPIP pool
 * needs, or says once why it cannot.
 * Not here: per-prefix state (state.ts), the kernel's notifications (events.ts).
 */
import { parsePrefix } from '../../agent/bgp/prefix.js';
import type { RouteSocket } from '../rtnetlink/route-socket.js';
import { parseKey } from './diff.js';
import { deviceFor, emptyInterfaces, type Interfaces, linkByName } from './interfaces.js';
import type { FibOptions } from './options.js';
import type { Shapes } from './shapes.js';
import { enqueue, type FibState, forEachEntry, keyOf, setProblem, setWant, wantOf } from './state.js';
import { createTunnel } from './tunnel.js';
import type { FibContext, FibPool, Logger } from './types.js';

export class FibDevices {
  readonly ifs: Interfaces = emptyInterfaces();
  readonly pools: readonly FibPool[];
  private tunnelErrorLogged = false;

  constructor(private readonly options: FibOptions) {
    this.pools = options.pools.filter((p) => !p.disabled).map((p) => ({ prefix: parsePrefix(p.cidr), ipipMode: p.ipipMode }));
  }

  context(): FibContext {
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

  /**
   * Links or addresses changed: a new context for `shapes`, and the routes that depend on devices
   * (a problem, or a next hop pinned to an interface) computed again and queued, as is every
   * refused one (ENETUNREACH may be cured now).
   */
  recompute(state: FibState, shapes: Shapes): void {
    shapes.reset(this.context());
    if (linkByName(this.ifs, this.options.tunnelDevice) !== undefined) this.tunnelErrorLogged = false;
    const keys = state.keys;
    forEachEntry(state, (i) => {
      if (state.refusals.has(i)) enqueue(state, i); // e.g. ENETUNREACH: retry now
      const best = state.best[i];
      const pinned = wantOf(state, i)?.route.nextHops.some((nh) => nh.ifindex !== 0) ?? false;
      if (best === null || (!state.problems.has(i) && !pinned)) return;
      const len = keys.len[i];
      const prefix = len >= 0 ? { afi: 1 as const, len, addr: keys.addr[i] >>> 0 } : parsePrefix(parseKey(keyOf(state, i)).prefix);
      setWant(state, i, shapes.desired(prefix, best));
      setProblem(state, i, 'problem', shapes.problem);
      enqueue(state, i);
    });
  }

  /** See tunnel.ts: creates the tunnel device when an IPIP pool needs it, or says once why not. */
  async ensureTunnel(socket: RouteSocket | null, log: Logger): Promise<void> {
    const needed = this.pools.some((p) => p.prefix.afi === 1 && p.ipipMode !== 'Never');
    if (!needed || socket === null || this.tunnelErrorLogged) return;
    if (linkByName(this.ifs, this.options.tunnelDevice) !== undefined) return;
    this.tunnelErrorLogged = !(await createTunnel(socket, this.options.tunnelDevice, log));
  }
}
