/**
 * What one item on the session's connection means to the FSM (RFC 4271 section 8.1's message
 * events): a message is decoded with the negotiated context and becomes an event, an UPDATE passes
 * the intake (receive.ts: RFC 7606, RFC 9774, the RFC 6793 AS4 merge) and is delivered while
 * Established, a ROUTE-REFRESH request becomes a `route-refresh` delivery (RFC 2918) and a peer's
 * BoRR/EoRR a `refresh-marker` (RFC 7313 section 4), a NOTIFICATION or the end of the stream ends
 * the connection, a malformed message is an error event carrying its NOTIFICATION. Returns a step
 * for the session; pure but for the log lines and the intake. Not here: the OPEN checks
 * (open-check.ts), the second connection (second-connection.ts), carrying out the step (session.ts).
 */

import { ErrorCode } from '../bgp/constants.js';
import { DEFAULT_CONTEXT } from '../bgp/context.js';
import { BgpError } from '../bgp/errors.js';
import { decodeMessage, type Message } from '../bgp/message.js';
import { notificationFor, type NotificationMessage } from '../bgp/notification.js';
import type { OpenMessage } from '../bgp/open.js';
import { RefreshSubtype, type RouteRefreshMessage } from '../bgp/route-refresh.js';
import type { UpdateMessage } from '../bgp/update.js';
import type { Inbound } from './connection.js';
import type { Negotiated, PeerSpec, SessionEvent, State } from '../contracts/engines.js';
import type { FsmEvent, Notify } from './fsm.js';
import { familyName, type FamilyName } from '../bgp/families.js';
import { describeNotify } from './inbound.js';
import type { UpdateIntake } from './receive.js';
import type { Logger } from '../contracts/log.js';

/** What an event hands on when the FSM says `deliver`. */
export type Delivery =
  | { readonly kind: 'update'; readonly update: UpdateMessage }
  | { readonly kind: 'refresh'; readonly family: FamilyName }
  | { readonly kind: 'marker'; readonly family: FamilyName; readonly marker: 'begin' | 'end' };

export type Step =
  /** The peer's OPEN: the session checks it (open-check.ts). */
  | { readonly kind: 'open'; readonly open: OpenMessage }
  /** Feed `event`, `lastError` noted first when given. */
  | { readonly kind: 'feed'; readonly event: FsmEvent; readonly delivery?: Delivery; readonly lastError?: string }
  /**
   * The connection ended (its close, or the peer's NOTIFICATION `received`): a second connection
   * may carry on instead; otherwise feed `event` with `lastError`. A NOTIFICATION is noted either way.
   */
  | { readonly kind: 'ended'; readonly event: FsmEvent; readonly lastError: string; readonly received?: Notify };

export interface DecodeContext {
  readonly spec: PeerSpec;
  readonly state: State;
  readonly negotiated: Negotiated | undefined;
  readonly intake: UpdateIntake;
  readonly log: Logger;
}

const MARKERS: Record<number, 'begin' | 'end'> = { [RefreshSubtype.BEGIN]: 'begin', [RefreshSubtype.END]: 'end' };
const ERROR_EVENT: Record<number, 'BgpHeaderErr' | 'BgpOpenMsgErr' | 'UpdateMsgErr'> = { 1: 'BgpHeaderErr', 2: 'BgpOpenMsgErr', 3: 'UpdateMsgErr' };

export function decodeEvent(item: Inbound, ctx: DecodeContext): Step {
  if (!(item instanceof Uint8Array)) {
    if (item.kind === 'closed') return { kind: 'ended', event: { type: 'TcpConnectionFails' }, lastError: item.reason };
    return decodeFailed(item.error, ctx);
  }
  let msg: Message;
  try {
    msg = decodeMessage(item, ctx.negotiated?.decode ?? DEFAULT_CONTEXT);
  } catch (err) {
    return decodeFailed(err, ctx);
  }
  switch (msg.type) {
    case 'open':
      return { kind: 'open', open: msg };
    case 'keepalive':
      return { kind: 'feed', event: { type: 'KeepAliveMsg' } };
    case 'update':
      return update(msg, ctx);
    case 'route-refresh':
      return { kind: 'feed', event: { type: 'RouteRefreshMsg' }, ...refresh(msg, ctx) };
    case 'notification':
      return notification(msg, ctx);
  }
}

/** The SessionEvent a delivery becomes. */
export function delivered(d: Delivery, peer: PeerSpec): SessionEvent {
  if (d.kind === 'update') return { type: 'update', peer, update: d.update };
  // The answer (BoRR, the routes, EoRR: RFC 7313 section 4) comes back through send(), later.
  if (d.kind === 'refresh') return { type: 'route-refresh', peer, family: d.family };
  return { type: 'refresh-marker', peer, family: d.family, marker: d.marker };
}

function decodeFailed(err: unknown, { spec, log }: DecodeContext): Step {
  if (!(err instanceof BgpError)) {
    log.error(`internal error decoding a message: ${String(err)}`, { peer: spec.key });
    return { kind: 'feed', event: { type: 'TcpConnectionFails' }, lastError: 'Internal error' };
  }
  log.warn(`malformed message from peer: ${err.message}`, { peer: spec.key, reason: err.reason, code: err.code, subcode: err.subcode });
  return { kind: 'feed', event: { type: ERROR_EVENT[err.code] ?? 'UpdateMsgErr', notify: notificationFor(err) } };
}

function update(u: UpdateMessage, { state, negotiated: n, intake }: DecodeContext): Step {
  if (state !== 'Established' || !n) return { kind: 'feed', event: { type: 'UpdateMsg' } };
  return { kind: 'feed', event: { type: 'UpdateMsg' }, delivery: { kind: 'update', update: intake.take(u, n.fourOctetAs) } };
}

function refresh(r: RouteRefreshMessage, { spec, negotiated: n, log }: DecodeContext): { delivery?: Delivery } {
  const family = familyName(r.afi, r.safi);
  const ours = family !== undefined && n?.families.includes(family) === true;
  const marker = MARKERS[r.subtype];
  if (ours && r.subtype === RefreshSubtype.REQUEST) return { delivery: { kind: 'refresh', family } };
  if (ours && marker !== undefined && n?.enhancedRouteRefresh === true) {
    // RFC 7313 section 4: the RIB marks the family's routes stale at BoRR and purges at EoRR.
    log.info(`received ${marker === 'begin' ? 'BoRR' : 'EoRR'} for ${family}`, { peer: spec.key });
    return { delivery: { kind: 'marker', family, marker } };
  }
  log.debug(`ROUTE-REFRESH afi ${r.afi} safi ${r.safi} subtype ${r.subtype} ignored`);
  return {};
}

function notification(msg: NotificationMessage, { spec, log }: DecodeContext): Step {
  const words = describeNotify(msg);
  log.warn(`received NOTIFICATION: ${words}`, { peer: spec.key });
  const event: FsmEvent = msg.code === ErrorCode.OPEN_MESSAGE && msg.subcode === 1 ? { type: 'NotifMsgVerErr' } : { type: 'NotifMsg', code: msg.code, subcode: msg.subcode };
  return { kind: 'ended', event, lastError: `Received: ${words}`, received: { code: msg.code, subcode: msg.subcode } };
}
