/**
 * A ToR that is nothing but a scripted BGP speaker (test/session/raw-peer.ts, run in the ToR's
 * namespace): it listens on port 179 and answers each connection of the node with a plain OPEN
 * (IPv4 unicast, 4-octet AS, route refresh; no graceful-restart capability) with hold time 0 (RFC
 * 4271 section 4.2: no KEEPALIVEs and no hold timer, so nothing runs between the test's steps),
 * then sends its routes in UPDATEs of up to 500 prefixes and nothing else: never an End-of-RIB.
 * The OPEN offers enhanced route refresh (RFC 7313): refresh() re-advertises between BoRR and EoRR.
 * The smallest ToR without End-of-RIB, to show the agent's quiet-time readiness does not depend on
 * how FRR behaves. Not here: real daemons (bird.ts, frr.ts), the raw peer's protocol (raw-peer.ts).
 */
import { parsePrefix } from '../../agent/bgp/prefix.js';
import { RawPeer } from '../session/raw-client.js';
import type { Lab } from './netns.js';

const PER_UPDATE = 500;

export class RawTor {
  readonly kind = 'raw' as const;
  /** Index of the first event not yet looked at for a new connection. */
  private seen = 0;
  private conn: number | undefined;

  private constructor(private readonly peer: RawPeer, private readonly o: { asn: number; routerId: string }, private routes: readonly string[]) {}

  /** The raw peer in `ns`, listening on port 179. The lab kills it when destroyed. */
  static async start(lab: Lab, ns: string, o: { asn: number; routerId: string; routes: readonly string[] }): Promise<RawTor> {
    const peer = await RawPeer.start(lab, ns);
    const from = peer.mark();
    peer.command({ cmd: 'listen', port: 179 });
    await peer.waitFor((e) => e.ev === 'listening', 'listening on port 179', from);
    return new RawTor(peer, { asn: o.asn, routerId: o.routerId }, o.routes);
  }

  /** The routes sent on the next connection (the current one is not touched). */
  announce(routes: readonly string[]): void {
    this.routes = routes;
  }

  /**
   * The ToR's side of the node's next connection: waits for it, completes the OPEN exchange, sends
   * every route in UPDATEs and no End-of-RIB.
   */
  async serve(timeoutMs = 30_000): Promise<void> {
    const accepted = await this.peer.waitFor((e) => e.ev === 'accepted', 'the node to connect', this.seen, timeoutMs);
    const at = this.peer.events.indexOf(accepted);
    this.seen = at + 1;
    const conn = accepted.conn as number;
    await this.peer.establish(conn, { ...this.o, holdTime: 0 }, at);
    this.conn = conn;
    this.sendRoutes(conn, this.routes);
  }

  /**
   * An enhanced route refresh of IPv4 unicast on the current connection (RFC 7313 section 4):
   * BoRR, `routes` in UPDATEs, EoRR (unless `end` is false). What the node had from us and is not
   * in `routes` is neither re-sent nor withdrawn: the node must drop it at EoRR.
   */
  refresh(routes: readonly string[], o: { end?: boolean } = {}): void {
    const conn = this.conn;
    if (conn === undefined) throw new Error('raw ToR: no connection to refresh');
    this.peer.sendMessage(conn, { type: 'route-refresh', afi: 1, safi: 1, subtype: 1 });
    this.sendRoutes(conn, routes);
    if (o.end !== false) this.peer.sendMessage(conn, { type: 'route-refresh', afi: 1, safi: 1, subtype: 2 });
  }

  private sendRoutes(conn: number, routes: readonly string[]): void {
    const nlri = routes.map((r) => parsePrefix(r));
    for (let i = 0; i < nlri.length; i += PER_UPDATE) {
      this.peer.sendMessage(conn, {
        type: 'update', withdrawn: [], nlri: nlri.slice(i, i + PER_UPDATE),
        attributes: { origin: 0, asPath: [], nextHop: this.o.routerId, localPref: 100 },
      });
    }
  }

  /** The node's connection is open (it was served and has not closed). */
  established(): boolean {
    this.peer.mark();
    const conn = this.conn;
    return conn !== undefined && !this.peer.events.some((e) => e.ev === 'closed' && e.conn === conn);
  }

  logs(): string {
    this.peer.mark();
    return `--- raw ToR ---\n${this.peer.events.slice(-20).map((e) => JSON.stringify({ ...e, hex: undefined })).join('\n')}`;
  }
}
