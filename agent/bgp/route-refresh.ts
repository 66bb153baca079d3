/**
 * ROUTE-REFRESH message (RFC 2918) with the enhanced route refresh subtypes of RFC 7313: 0 a
 * normal request, 1 Beginning of Route Refresh, 2 End of Route Refresh. Other subtypes decode and
 * are for the session to ignore (RFC 7313 section 5). A length other than 23 is a ROUTE-REFRESH
 * Message Error, Invalid Message Length, with the whole message as data.
 */

import { ErrorCode, HEADER_LENGTH, MessageType } from './constants.js';
import { BgpError } from './errors.js';
import { writeHeader } from './header.js';

export const RefreshSubtype = { REQUEST: 0, BEGIN: 1, END: 2 } as const;

export interface RouteRefreshMessage {
  readonly type: 'route-refresh';
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

export function decodeRouteRefresh(msg: Uint8Array): RouteRefreshMessage {
  if (msg.length !== HEADER_LENGTH + 4) {
    throw new BgpError('route-refresh.length', `ROUTE-REFRESH of ${msg.length} bytes, expected 23`, ErrorCode.ROUTE_REFRESH, 1, 'reset', msg);
  }
  const p = HEADER_LENGTH;
  return { type: 'route-refresh', afi: (msg[p] << 8) | msg[p + 1], subtype: msg[p + 2], safi: msg[p + 3] };
}

export function encodeRouteRefresh(r: Omit<RouteRefreshMessage, 'type'>): Uint8Array {
  const msg = new Uint8Array(HEADER_LENGTH + 4);
  writeHeader(msg, msg.length, MessageType.ROUTE_REFRESH);
  msg[HEADER_LENGTH] = r.afi >> 8;
  msg[HEADER_LENGTH + 1] = r.afi & 255;
  msg[HEADER_LENGTH + 2] = r.subtype;
  msg[HEADER_LENGTH + 3] = r.safi;
  return msg;
}
