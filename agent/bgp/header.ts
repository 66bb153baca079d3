/**
 * The 19-byte message header (RFC 4271 section 4.1) and its checks (section 6.1): marker of all
 * ones, length within 19..max (4096, or 65535 once extended messages are negotiated, RFC 8654),
 * a known type, and the per-type length limits.
 */

import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MARKER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  MIN_LENGTH,
} from './constants.js';
import { BgpError } from './errors.js';

export function writeHeader(buf: Uint8Array, length: number, type: number): void {
  buf.fill(0xff, 0, MARKER_LENGTH);
  buf[16] = length >> 8;
  buf[17] = length & 255;
  buf[18] = type;
}

/**
 * Checks the header at buf[at..at+19) and returns the message length. `maxLength` is the
 * negotiated maximum for UPDATE (and NOTIFICATION, ROUTE-REFRESH); OPEN and KEEPALIVE never exceed
 * 4096 (RFC 8654 section 3).
 */
export function checkHeader(buf: Uint8Array, at: number, maxLength: number): number {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[at + i] !== 0xff) {
      throw new BgpError('header.marker', 'message header marker is not all ones', ErrorCode.MESSAGE_HEADER, HeaderSubcode.NOT_SYNCHRONIZED, 'reset');
    }
  }
  const length = (buf[at + 16] << 8) | buf[at + 17];
  const type = buf[at + 18];
  const lengthData = (): Uint8Array => Uint8Array.of(buf[at + 16], buf[at + 17]);
  if (length < HEADER_LENGTH) {
    throw new BgpError('header.length', `message length ${length} is below 19`, ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_LENGTH, 'reset', lengthData());
  }
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    throw new BgpError('header.type', `unknown message type ${type}`, ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_TYPE, 'reset', Uint8Array.of(type));
  }
  const max = type === MessageType.OPEN || type === MessageType.KEEPALIVE ? MAX_MESSAGE_LENGTH : maxLength;
  if (length < min || length > max || (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH)) {
    throw new BgpError('header.length', `message length ${length} is invalid for type ${type} (allowed ${min}..${max})`, ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_LENGTH, 'reset', lengthData());
  }
  return length;
}
