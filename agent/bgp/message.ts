/**
 * One whole message, header included, to and from its typed form (RFC 4271 section 4). The framer
 * cuts the stream; this dispatches on the type code to each message's codec.
 */

import { HEADER_LENGTH, MessageType } from './constants.js';
import { type CodecContext, DEFAULT_CONTEXT } from './context.js';
import { BgpError } from './errors.js';
import { checkHeader, writeHeader } from './header.js';
import { decodeNotification, encodeNotification, type NotificationMessage } from './notification.js';
import { decodeOpen, encodeOpen, type OpenMessage } from './open.js';
import { decodeRouteRefresh, encodeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';
import { decodeUpdate, encodeUpdate, type UpdateMessage } from './update.js';

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export type Message = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export const KEEPALIVE: Uint8Array = (() => {
  const m = new Uint8Array(HEADER_LENGTH);
  writeHeader(m, HEADER_LENGTH, MessageType.KEEPALIVE);
  return m;
})();

/**
 * Decodes exactly one message. `msg` must hold the whole message and nothing else; the header is
 * checked again so a caller that did not use the framer gets the same errors.
 */
export function decodeMessage(msg: Uint8Array, ctx: CodecContext = DEFAULT_CONTEXT): Message {
  if (msg.length < HEADER_LENGTH) {
    throw new BgpError('header.truncated', `${msg.length} bytes are not a message header`, 1, 2, 'reset', Uint8Array.of(0, msg.length));
  }
  const length = checkHeader(msg, 0, ctx.maxLength);
  if (length !== msg.length) {
    throw new BgpError('header.length', `header says ${length} bytes, buffer has ${msg.length}`, 1, 2, 'reset', Uint8Array.of(msg[16], msg[17]));
  }
  switch (msg[18]) {
    case MessageType.OPEN:
      return decodeOpen(msg);
    case MessageType.UPDATE:
      return decodeUpdate(msg, ctx);
    case MessageType.NOTIFICATION:
      return decodeNotification(msg);
    case MessageType.KEEPALIVE:
      return { type: 'keepalive' };
    default:
      return decodeRouteRefresh(msg);
  }
}

export function encodeMessage(m: Message, ctx: CodecContext = DEFAULT_CONTEXT): Uint8Array {
  switch (m.type) {
    case 'open':
      return encodeOpen(m);
    case 'update':
      return encodeUpdate(m, ctx);
    case 'notification':
      return encodeNotification(m);
    case 'keepalive':
      return KEEPALIVE.slice();
    case 'route-refresh':
      return encodeRouteRefresh(m);
  }
}
