/**
 * SessionManager: owns the Listener and one Session per configured peer (keyed by PeerSpec.key).
 * `apply(peers)` is the reload path: `diffPeers` (pure) splits the new peer list into added,
 * removed, changed (deep inequality), relabelled and unchanged; new sessions start, removed ones
 * stop with a Cease carrying "peer removed from configuration" (RFC 9003), changed ones restart,
 * the rest are left alone - a reload never bounces a session whose PeerSpec did not change, nor
 * one where only how it is shown, who opens the connection or its BFD changed (`type`, `passive`,
 * `bfd`: a mesh
 * peer that becomes a selected route-reflector peer keeps its session and its routes).
 * Not here: how PeerSpecs are derived from the config, the RIB.
 */

import type * as net from 'node:net';
import type { OutboundItem, PeerSpec, SessionStatus } from '../contracts/engines.js';
import { Listener, plainAddress } from './listener.js';
import { Session, type SessionDeps, type StopOptions } from './session.js';
import { writeSpacing } from './transmit.js';
import { CeaseSubcode } from '../bgp/constants.js';
import { withMeta, type Logger } from '../contracts/log.js';

export interface PeerDiff {
  readonly added: readonly PeerSpec[];
  readonly removed: readonly PeerSpec[];
  /** The new specs of peers whose spec changed. */
  readonly changed: readonly PeerSpec[];
  /** The new specs of peers that differ only in RELABEL_ONLY fields: applied without a restart. */
  readonly relabelled: readonly PeerSpec[];
  readonly unchanged: readonly PeerSpec[];
}

/**
 * PeerSpec fields a running session takes over in place: `type` is only shown; `passive` only
 * decides who opens the next connection (RFC 4271 section 8.1.1), never what the session carries;
 * `bfd` is the BFD engine's business (it retunes by a Poll Sequence, RFC 5880 section 6.8.3);
 * `bfd.strict` only changes what the next BFD Down does (Session.relabel).
 * `sendHoldTime` is local only (RFC 9687, never negotiated): it applies from the next Established.
 */
export const RELABEL_ONLY: readonly (keyof PeerSpec)[] = ['type', 'passive', 'bfd', 'sendHoldTime'];

function withoutRelabel(p: PeerSpec): Partial<PeerSpec> {
  const rest: Partial<PeerSpec> = { ...p };
  for (const k of RELABEL_ONLY) delete rest[k];
  return rest;
}

/** Structural equality of plain data (objects, arrays, primitives), as PeerSpecs are. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && deepEqual((a as Record<string, unknown>)[k], rb[k]));
}

export function diffPeers(current: readonly PeerSpec[], next: readonly PeerSpec[]): PeerDiff {
  const before = new Map(current.map((p) => [p.key, p]));
  const after = new Map(next.map((p) => [p.key, p]));
  const added: PeerSpec[] = [];
  const changed: PeerSpec[] = [];
  const relabelled: PeerSpec[] = [];
  const unchanged: PeerSpec[] = [];
  for (const p of after.values()) {
    const old = before.get(p.key);
    if (!old) added.push(p);
    else if (deepEqual(old, p)) unchanged.push(p);
    else if (deepEqual(withoutRelabel(old), withoutRelabel(p))) relabelled.push(p);
    else changed.push(p);
  }
  const removed = [...before.values()].filter((p) => !after.has(p.key));
  return { added, removed, changed, relabelled, unchanged };
}

export interface ManagerOptions extends Omit<SessionDeps, 'log'> {
  readonly log: Logger;
  /** Empty or absent: dual-stack `::`. */
  readonly listenAddresses?: readonly string[];
  /**
   * A connection from a link-local address (`fe80::1%eth0`) that no session has: true when the
   * owner made it an interface peer's neighbour (and applied the new PeerSpecs) before returning.
   */
  readonly linkLocalConnection?: (address: string) => boolean;
}

type ChildCapable = Logger & { child?: (meta: Record<string, unknown>) => Logger };

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  /** Sessions by the peer's plain address, for routing an incoming connection without a scan. */
  private byAddress = new Map<string, Session[]>();
  private readonly listener: Listener;

  constructor(private readonly options: ManagerOptions) {
    this.listener = new Listener({
      port: options.listenPort,
      ...(options.listenAddresses ? { addresses: options.listenAddresses } : {}),
      log: this.childLog({ component: 'listener' }),
      route: (socket, address) => this.route(socket, address),
    });
  }

  async listen(): Promise<void> {
    await this.listener.listen();
  }

  get port(): number {
    return this.listener.port;
  }

  apply(peers: readonly PeerSpec[]): PeerDiff {
    const diff = diffPeers([...this.sessions.values()].map((s) => s.spec), peers);
    for (const p of diff.removed) {
      this.sessions.get(p.key)?.stop('peer removed from configuration');
      this.sessions.delete(p.key);
    }
    for (const p of diff.changed) {
      this.sessions.get(p.key)?.stop('peer configuration changed');
      this.sessions.delete(p.key);
    }
    for (const p of diff.relabelled) this.sessions.get(p.key)?.relabel(p);
    this.listener.setPeers(peers.filter((p) => p.address !== '').map((p) => ({ address: p.address, md5Key: this.password(p), ttlSecurity: p.ttlSecurity })),
      peers.some((p) => p.interface));
    for (const p of [...diff.added, ...diff.changed]) {
      const session = new Session(p, { writeSpacingMs: () => writeSpacing(this.sessions.size), ...this.options, log: this.childLog({ component: 'session', peer: p.key }) });
      this.sessions.set(p.key, session);
      session.start();
    }
    this.byAddress = new Map();
    for (const session of this.sessions.values()) {
      if (session.spec.address === '') continue; // an interface peer with no neighbour yet
      const address = plainAddress(session.spec.address);
      const list = this.byAddress.get(address);
      if (list === undefined) this.byAddress.set(address, [session]);
      else list.push(session);
    }
    return diff;
  }

  session(key: string): Session | undefined {
    return this.sessions.get(key);
  }

  /** Forwards one item of the RIB's stream to the peer's session (Session.send). */
  send(key: string, item: OutboundItem): boolean {
    return this.sessions.get(key)?.send(item) ?? false;
  }

  /**
   * Asks an Established peer to send its routes again (the import rules changed): a ROUTE-REFRESH
   * per family when it negotiated route refresh (RFC 2918); otherwise the session is restarted
   * with a Cease, Other Configuration Change (RFC 4486), as BIRD does. Returns what was done.
   */
  refreshFrom(key: string): 'refresh' | 'restart' | 'none' {
    const s = this.sessions.get(key);
    if (s === undefined || s.state !== 'Established') return 'none';
    const negotiated = s.negotiated;
    if (negotiated?.routeRefresh === true) {
      for (const family of negotiated.families) s.send({ kind: 'request-refresh', family });
      return 'refresh';
    }
    s.cease(CeaseSubcode.OTHER_CONFIGURATION_CHANGE, 'import policy changed');
    s.start();
    return 'restart';
  }

  /** Each session's state and whether it is enabled (readiness's input: Session.view). */
  views(): Pick<SessionStatus, 'state' | 'enabled'>[] {
    return [...this.sessions.values()].map((s) => s.view());
  }

  status(): SessionStatus[] {
    return [...this.sessions.values()].map((s) => s.status());
  }

  stopPeer(key: string, communication = ''): boolean {
    const s = this.sessions.get(key);
    s?.stop(communication);
    return s !== undefined;
  }

  startPeer(key: string): boolean {
    const s = this.sessions.get(key);
    s?.start();
    return s !== undefined;
  }

  /** The peer's BFD went down or came up (RFC 5882 section 4.3); see Session.bfdDown. */
  bfdDown(key: string, reason: string, controlPlaneIndependent: boolean): boolean {
    const s = this.sessions.get(key);
    s?.bfdDown(reason, controlPlaneIndependent);
    return s !== undefined;
  }

  bfdUp(key: string): boolean {
    const s = this.sessions.get(key);
    s?.bfdUp();
    return s !== undefined;
  }

  /** Ends the peer's session with a Cease of `subcode` (RFC 4486); see Session.cease. */
  ceasePeer(key: string, subcode: number, communication = ''): boolean {
    const s = this.sessions.get(key);
    s?.cease(subcode, communication);
    return s !== undefined;
  }

  stopAll(communication = '', options: StopOptions = {}): void {
    for (const s of this.sessions.values()) s.stop(communication, options);
  }

  /**
   * Stops every session and the listener. `graceful` (the agent stopping to restart): peers that
   * negotiated graceful restart keep our routes (Session.stop).
   */
  async close(communication = '', options: StopOptions = {}): Promise<void> {
    this.stopAll(communication, options);
    await this.listener.close();
  }

  private route(socket: net.Socket, address: string): void {
    if (!this.byAddress.has(address) && address.includes('%')) this.options.linkLocalConnection?.(address);
    const candidates = this.byAddress.get(address) ?? [];
    const session = candidates.find((s) => s.state !== 'Idle') ?? candidates[0];
    if (session) session.accept(socket);
    else socket.destroy();
  }

  private password(p: PeerSpec): string {
    if (!p.passwordFile) return '';
    try {
      return this.options.readPassword(p.passwordFile);
    } catch (err) {
      this.options.log.error(`cannot read the password file of ${p.key}: ${err instanceof Error ? err.message : String(err)}`);
      return '';
    }
  }

  private childLog(meta: Record<string, unknown>): Logger {
    const log = this.options.log as ChildCapable;
    return typeof log.child === 'function' ? log.child(meta) : withMeta(log, meta);
  }
}

