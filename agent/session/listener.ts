/**
 * The passive side of BGP transport (RFC 4271 section 8.2.1.1): one TCP listener on bgp.listenPort,
 * dual-stack `::` or the given addresses. Per configured peer the listening socket carries its TCP
 * MD5 key (RFC 2385; the kernel checks the SYN already) and, when every configured peer uses GTSM,
 * the IP_MINTTL floor (RFC 5082); a connection from an address that is no configured peer is
 * destroyed at once and logged at warn. SYN-ACKs leave with TTL 255. Not here: which Session takes a connection (the manager's
 * `route` callback), per-connection TTL (the session sets it).
 */

import * as net from 'node:net';
import { setListenerMd5Key, setListenerMinTtl, setListenerTtl } from './socket-options.js';
import type { Logger } from '../contracts/log.js';

export interface ListenPeer {
  readonly address: string;
  /** TCP MD5 key, or '' for none. */
  readonly md5Key: string;
  /** GTSM hops, 0 for none. */
  readonly ttlSecurity: number;
}

export interface ListenerOptions {
  readonly port: number;
  /** Empty: one dual-stack listener on `::`. */
  readonly addresses?: readonly string[];
  readonly log: Logger;
  /** Hands a connection from a configured peer (address without `::ffff:`) on. */
  route(socket: net.Socket, address: string): void;
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`; other addresses unchanged. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** The IP_MINTTL floor for a listener: only when every peer it serves uses GTSM (RFC 5082 section 3). */
export function listenerMinTtl(peers: readonly ListenPeer[]): number {
  if (peers.length === 0 || peers.some((p) => p.ttlSecurity === 0)) return 0;
  return 256 - Math.max(...peers.map((p) => p.ttlSecurity));
}

export class Listener {
  private readonly servers: net.Server[] = [];
  private peers = new Map<string, ListenPeer>();

  constructor(private readonly options: ListenerOptions) {}

  /** Starts listening; resolves once every address is bound. */
  async listen(): Promise<void> {
    // No address configured: no host at all. Node then binds the unspecified address, `::`
    // dual-stack where IPv6 is up and 0.0.0.0 where it is off (an explicit '::' fails there), and
    // skips its check of a '::' host, whose IPv6 regular expression costs 1.4 MB of V8 compiler
    // memory at start (a peak the 1,000-prefix memory budget of issue 21 felt).
    const addresses: readonly (string | undefined)[] = this.options.addresses && this.options.addresses.length > 0 ? this.options.addresses : [undefined];
    for (const host of addresses) {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => this.connection(socket));
      server.on('error', (err) => this.options.log.error(`listener on ${host ?? 'any address'}: ${err.message}`));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ ...(host === undefined ? {} : { host }), port: this.options.port, ipv6Only: false }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // The kernel answers a SYN with the listening socket's TTL: 255, so that a GTSM peer
      // (RFC 5082) accepts our SYN-ACK. Each accepted socket then gets its peer's TTL.
      this.guard('TTL 255', () => setListenerTtl(server, 255));
      this.servers.push(server);
    }
    this.applyKeys(new Map(), this.peers);
  }

  /** The bound port (useful with port 0 in tests). */
  get port(): number {
    const address = this.servers[0]?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Replaces the set of accepted peers, updating MD5 keys and the TTL floor on the sockets. */
  /** Set by setPeers: some peer is an interface peer (BGP unnumbered). */
  private linkLocal = false;

  setPeers(peers: readonly ListenPeer[], linkLocal = false): void {
    this.linkLocal = linkLocal;
    const next = new Map(peers.map((p) => [plainAddress(p.address), p]));
    const old = this.peers;
    this.peers = next;
    if (this.servers.length > 0) this.applyKeys(old, next);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }

  private applyKeys(old: ReadonlyMap<string, ListenPeer>, next: ReadonlyMap<string, ListenPeer>): void {
    for (const server of this.servers) {
      const family = net.isIPv4((server.address() as net.AddressInfo).address) ? 4 : 6;
      const fits = (address: string): boolean => family === 6 || net.isIPv4(address);
      this.guard(`TTL floor`, () => setListenerMinTtl(server, listenerMinTtl([...next.values()].filter((p) => fits(p.address)))));
      for (const [address, p] of old) {
        if (p.md5Key && fits(address) && next.get(address)?.md5Key !== p.md5Key) {
          this.guard(`removing the MD5 key of ${address}`, () => setListenerMd5Key(server, address, null));
        }
      }
      for (const [address, p] of next) {
        if (p.md5Key && fits(address) && old.get(address)?.md5Key !== p.md5Key) {
          this.guard(`setting the MD5 key of ${address}`, () => setListenerMd5Key(server, address, p.md5Key));
        }
      }
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.log.error(`listener: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private connection(socket: net.Socket): void {
    const address = plainAddress(socket.remoteAddress ?? '');
    socket.on('error', () => undefined);
    // A link-local address with its zone may be an interface peer's neighbour not heard yet: the
    // manager decides (SessionManager.route, linkLocalConnection).
    if (!this.peers.has(address) && !(address.includes('%') && this.linkLocal)) {
      this.options.log.warn(`refused a BGP connection from ${address || 'an unknown address'}: not a configured peer`);
      socket.destroy();
      return;
    }
    this.options.route(socket, address);
  }
}
