/**
 * OPEN message (RFC 4271 section 4.2) with capabilities in optional parameters (RFC 5492) and the
 * extended optional parameters length of RFC 9072. Also the pure OPEN checks of RFC 4271 section
 * 6.2 (version, peer AS, BGP identifier, hold time). Not here: capability negotiation.
 */

import { AS_TRANS, ErrorCode, HEADER_LENGTH, MessageType, OpenSubcode } from './constants.js';
import { decodeCapability, encodeCapability, CapabilityFault, type Capability } from './capabilities.js';
import { BgpError } from './errors.js';
import { readIpv4, writeIpv4 } from './ip.js';
import { writeHeader } from './header.js';

export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet My Autonomous System field as sent (AS_TRANS when the AS needs 4 octets). */
  readonly myAs: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
}

const PARAM_CAPABILITIES = 2;
const PARAM_EXTENDED = 255;

function openError(reason: string, message: string, subcode: number, data?: Uint8Array): BgpError {
  return new BgpError(reason, message, ErrorCode.OPEN_MESSAGE, subcode, 'reset', data);
}

/** Decodes a whole OPEN message, header included. */
export function decodeOpen(msg: Uint8Array): OpenMessage {
  const body = HEADER_LENGTH;
  if (msg.length < body + 10) {
    throw new BgpError('open.length', `OPEN of ${msg.length} bytes is shorter than 29`, ErrorCode.MESSAGE_HEADER, 2, 'reset', Uint8Array.of(msg.length >> 8, msg.length & 255));
  }
  const version = msg[body];
  if (version !== 4) {
    // RFC 4271 section 6.2: the data is the largest locally supported version number.
    throw openError('open.version', `unsupported BGP version ${version}`, OpenSubcode.UNSUPPORTED_VERSION, Uint8Array.of(0, 4));
  }
  const myAs = (msg[body + 1] << 8) | msg[body + 2];
  const holdTime = (msg[body + 3] << 8) | msg[body + 4];
  const bgpId = readIpv4(msg, body + 5);
  let optLen = msg[body + 9];
  let at = body + 10;
  let extended = false;
  // RFC 9072: a length of 255 followed by a parameter type of 255 means 2-octet lengths follow.
  if (optLen === 255 && msg.length > at && msg[at] === PARAM_EXTENDED) {
    if (msg.length < at + 3) throw openError('open.params', 'truncated extended optional parameters length', OpenSubcode.UNSPECIFIC);
    optLen = (msg[at + 1] << 8) | msg[at + 2];
    at += 3;
    extended = true;
  }
  if (at + optLen !== msg.length) {
    throw openError('open.params', `optional parameters length ${optLen} does not match the message (${msg.length - at} bytes remain)`, OpenSubcode.UNSPECIFIC);
  }
  const capabilities: Capability[] = [];
  const end = msg.length;
  const hdr = extended ? 3 : 2;
  while (at < end) {
    if (at + hdr > end) throw openError('open.params', 'truncated optional parameter header', OpenSubcode.UNSPECIFIC);
    const type = msg[at];
    const len = extended ? (msg[at + 1] << 8) | msg[at + 2] : msg[at + 1];
    const vStart = at + hdr;
    const vEnd = vStart + len;
    if (vEnd > end) throw openError('open.params', `optional parameter of ${len} bytes overruns the message`, OpenSubcode.UNSPECIFIC);
    if (type !== PARAM_CAPABILITIES) {
      throw openError('open.param-type', `unsupported optional parameter type ${type}`, OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, msg.subarray(at, vEnd));
    }
    let c = vStart;
    while (c < vEnd) {
      if (c + 2 > vEnd) throw openError('open.capability', 'truncated capability header', OpenSubcode.UNSPECIFIC);
      const code = msg[c];
      const clen = msg[c + 1];
      if (c + 2 + clen > vEnd) {
        throw openError('open.capability', `capability ${code} of ${clen} bytes overruns its parameter`, OpenSubcode.UNSPECIFIC);
      }
      const cap = decodeCapability(code, msg.subarray(c + 2, c + 2 + clen));
      if (cap instanceof CapabilityFault) {
        // RFC 4271 section 6.2: a recognized but malformed optional parameter: subcode 0.
        throw openError('open.capability', cap.message, OpenSubcode.UNSPECIFIC, msg.subarray(c, c + 2 + clen));
      }
      capabilities.push(cap);
      c += 2 + clen;
    }
    at = vEnd;
  }
  return { type: 'open', version, myAs, holdTime, bgpId, capabilities };
}

/**
 * Encodes an OPEN. Capabilities go into as few optional parameters as fit 255 bytes each; when the
 * parameters exceed 255 bytes in total, the RFC 9072 extended length is used.
 */
export function encodeOpen(open: Omit<OpenMessage, 'type' | 'version'> & { version?: number }): Uint8Array {
  const caps = open.capabilities.map((c) => {
    const [code, value] = encodeCapability(c);
    if (value.length > 255) throw new RangeError(`capability ${code} value exceeds 255 bytes`);
    return { code, value };
  });
  const params: { code: number; value: Uint8Array }[][] = [];
  let current: { code: number; value: Uint8Array }[] = [];
  let size = 0;
  for (const cap of caps) {
    const need = 2 + cap.value.length;
    if (size + need > 255 && current.length > 0) {
      params.push(current);
      current = [];
      size = 0;
    }
    current.push(cap);
    size += need;
  }
  if (current.length > 0) params.push(current);
  const paramBodies = params.map((p) => p.reduce((n, c) => n + 2 + c.value.length, 0));
  let optLen = paramBodies.reduce((n, b) => n + 2 + b, 0);
  const extended = optLen > 255;
  if (extended) optLen = paramBodies.reduce((n, b) => n + 3 + b, 0);
  const total = HEADER_LENGTH + 10 + (extended ? 3 : 0) + optLen;
  const msg = new Uint8Array(total);
  writeHeader(msg, total, MessageType.OPEN);
  let at = HEADER_LENGTH;
  msg[at++] = open.version ?? 4;
  msg[at++] = open.myAs >> 8;
  msg[at++] = open.myAs & 255;
  msg[at++] = open.holdTime >> 8;
  msg[at++] = open.holdTime & 255;
  writeIpv4(open.bgpId, msg, at);
  at += 4;
  if (extended) {
    msg[at++] = 255;
    msg[at++] = PARAM_EXTENDED;
    msg[at++] = optLen >> 8;
    msg[at++] = optLen & 255;
  } else {
    msg[at++] = optLen;
  }
  params.forEach((p, i) => {
    msg[at++] = PARAM_CAPABILITIES;
    if (extended) msg[at++] = paramBodies[i] >> 8;
    msg[at++] = paramBodies[i] & 255;
    for (const c of p) {
      msg[at++] = c.code;
      msg[at++] = c.value.length;
      msg.set(c.value, at);
      at += c.value.length;
    }
  });
  return msg;
}

/** The AS to place in My Autonomous System: AS_TRANS when it needs 4 octets (RFC 6793 section 4.1). */
export function myAsField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/** The peer's real AS: the 4-octet AS capability when present, else My Autonomous System. */
export function peerAsOf(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}

export interface OpenExpectations {
  /** The AS configured for the peer. */
  readonly peerAs?: number;
  /** Any AS but this one (our own): an unnumbered peer configured as `external`. */
  readonly notAs?: number;
  /** Our BGP identifier; an iBGP peer may not use the same one. */
  readonly localId?: string;
  readonly internal?: boolean;
}

/** RFC 4271 section 6.2 checks that need no negotiation state. Returns the error, or undefined. */
export function checkOpen(open: OpenMessage, expect: OpenExpectations = {}): BgpError | undefined {
  const peerAs = peerAsOf(open);
  // RFC 7607: AS 0 in OPEN is a Bad Peer AS.
  if (peerAs === 0 || open.myAs === 0) return openError('open.peer-as', 'peer AS 0 is not allowed', OpenSubcode.BAD_PEER_AS);
  if (expect.peerAs !== undefined && peerAs !== expect.peerAs) {
    return openError('open.peer-as', `peer AS ${peerAs} differs from the configured ${expect.peerAs}`, OpenSubcode.BAD_PEER_AS);
  }
  if (expect.notAs !== undefined && peerAs === expect.notAs) {
    return openError('open.peer-as', `peer AS ${peerAs} is our own, and the peer is configured as external`, OpenSubcode.BAD_PEER_AS);
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return openError('open.hold-time', `hold time ${open.holdTime} s is neither 0 nor at least 3`, OpenSubcode.UNACCEPTABLE_HOLD_TIME);
  }
  if (open.bgpId === '0.0.0.0') return openError('open.bgp-id', 'BGP identifier 0.0.0.0', OpenSubcode.BAD_BGP_IDENTIFIER);
  if (expect.internal && expect.localId !== undefined && open.bgpId === expect.localId) {
    return openError('open.bgp-id', `iBGP peer uses our own BGP identifier ${open.bgpId}`, OpenSubcode.BAD_BGP_IDENTIFIER);
  }
  return undefined;
}
