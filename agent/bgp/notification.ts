/**
 * NOTIFICATION message (RFC 4271 section 4.5) with human-readable code and subcode names (IANA
 * "BGP Error (Notification) Codes" and subcodes: RFC 4271, 4486, 5492, 6608, 7313, 8538, 9234) and
 * the shutdown communication of RFC 9003 on Cease subcodes 2 and 4. A NOTIFICATION is never
 * answered (RFC 4271 section 6.4), so decoding never fails once the header is sound.
 */

import { CeaseSubcode, ErrorCode, HEADER_LENGTH, MessageType } from './constants.js';
import { BgpError } from './errors.js';
import { writeHeader } from './header.js';

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
  8: 'Send Hold Timer Expired',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

export function errorCodeName(code: number): string {
  return CODE_NAMES[code] ?? `Unknown error code ${code}`;
}

export function errorSubcodeName(code: number, subcode: number): string {
  if (subcode === 0) return 'Unspecific';
  return SUBCODE_NAMES[code]?.[subcode] ?? `Unknown subcode ${subcode}`;
}

export function decodeNotification(msg: Uint8Array): NotificationMessage {
  if (msg.length < HEADER_LENGTH + 2) {
    throw new BgpError('notification.length', `NOTIFICATION of ${msg.length} bytes is shorter than 21`, ErrorCode.MESSAGE_HEADER, 2, 'reset', Uint8Array.of(msg.length >> 8, msg.length & 255));
  }
  return {
    type: 'notification',
    code: msg[HEADER_LENGTH],
    subcode: msg[HEADER_LENGTH + 1],
    data: msg.subarray(HEADER_LENGTH + 2),
  };
}

export function encodeNotification(n: Omit<NotificationMessage, 'type'>): Uint8Array {
  const total = HEADER_LENGTH + 2 + n.data.length;
  const msg = new Uint8Array(total);
  writeHeader(msg, total, MessageType.NOTIFICATION);
  msg[HEADER_LENGTH] = n.code;
  msg[HEADER_LENGTH + 1] = n.subcode;
  msg.set(n.data, HEADER_LENGTH + 2);
  return msg;
}

/** The NOTIFICATION that reports a BgpError to the peer (RFC 4271 section 6). */
export function notificationFor(err: BgpError): Omit<NotificationMessage, 'type'> {
  return { code: err.code, subcode: err.subcode, data: err.data };
}

const hasShutdownCommunication = (code: number, subcode: number): boolean =>
  code === ErrorCode.CEASE && (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET);

/** RFC 9003: a length octet and up to 255 octets of UTF-8. Longer text is cut at a character. */
export function shutdownData(text: string): Uint8Array {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > 255) {
    let cut = 255;
    while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/**
 * The shutdown communication, or undefined when the NOTIFICATION has none. Malformed ones (length
 * beyond the data, invalid UTF-8) are undefined too: RFC 9003 section 4 says to ignore them.
 */
export function shutdownCommunication(n: Omit<NotificationMessage, 'type'>): string | undefined {
  if (!hasShutdownCommunication(n.code, n.subcode) || n.data.length === 0) return undefined;
  const len = n.data[0];
  if (len === 0 || 1 + len > n.data.length) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(n.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/** 'Cease / Administrative Shutdown: "maintenance"', the words operators see as the last error. */
export function describeNotification(n: Omit<NotificationMessage, 'type'>): string {
  const base = `${errorCodeName(n.code)} / ${errorSubcodeName(n.code, n.subcode)}`;
  const text = shutdownCommunication(n);
  return text === undefined ? base : `${base}: ${JSON.stringify(text)}`;
}
