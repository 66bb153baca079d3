/**
 * The BFD Control packet of RFC 5880 section 4.1 (no authentication section: section 4.2 is not
 * implemented) and the reception checks of section 6.8.6 that need nothing but the bytes:
 * `decodeControl(buf)` returns the packet or throws a BfdError with a stable code,
 * `encodeControl(p)` the 24 bytes. Pure: no sockets, no session lookup (the discriminator and
 * source address checks need the session table: engine.ts). Intervals are in microseconds, as
 * on the wire. Demand mode (D) and multipoint (M) are decoded but never set by us.
 */

import { BfdError } from './errors.js';

/** RFC 5880 section 4.1 "Sta". */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdState = (typeof BFD_STATES)[number];

/** RFC 5880 section 4.1 "Diag", one row per code. */
export const DIAG_NAMES: readonly string[] = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
];
export const Diag = {
  NONE: 0,
  DETECTION_TIME_EXPIRED: 1,
  NEIGHBOR_DOWN: 3,
  ADMIN_DOWN: 7,
} as const;

export function diagName(code: number): string {
  return DIAG_NAMES[code] ?? `Reserved (${code})`;
}

export interface ControlPacket {
  readonly version: number;
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  /** Control Plane Independent (RFC 5880 section 4.1; RFC 5882 section 4.3 reads it). */
  readonly cpi: boolean;
  readonly auth: boolean;
  readonly demand: boolean;
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly myDiscr: number;
  readonly yourDiscr: number;
  /** Microseconds. */
  readonly desiredMinTx: number;
  readonly requiredMinRx: number;
  readonly requiredMinEchoRx: number;
}

export const BFD_VERSION = 1;
/** Without an authentication section (RFC 5880 section 4.1 "Length"). */
export const CONTROL_LENGTH = 24;

/** The flag bits of the second byte, one row per bit (RFC 5880 section 4.1). */
const FLAGS = [
  { key: 'poll', bit: 0x20 },
  { key: 'final', bit: 0x10 },
  { key: 'cpi', bit: 0x08 },
  { key: 'auth', bit: 0x04 },
  { key: 'demand', bit: 0x02 },
  { key: 'multipoint', bit: 0x01 },
] as const;

/**
 * RFC 5880 section 6.8.6, the checks on the packet alone, in the order the RFC lists them. A
 * packet with the A bit is discarded too: no authentication is configured (section 6.8.6: "If the
 * A bit is set and no authentication is in use ... the packet MUST be discarded").
 */
export function decodeControl(buf: Uint8Array): ControlPacket {
  if (buf.length < CONTROL_LENGTH) throw new BfdError('SHORT', `${buf.length} bytes, a Control packet has at least ${CONTROL_LENGTH}`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = buf[0] >> 5;
  if (version !== BFD_VERSION) throw new BfdError('BAD_VERSION', `version ${version}, not ${BFD_VERSION}`);
  const flags = buf[1];
  const length = buf[3];
  const auth = (flags & 0x04) !== 0;
  if (length < (auth ? 26 : CONTROL_LENGTH)) throw new BfdError('BAD_LENGTH', `Length field ${length} is too small`);
  if (length > buf.length) throw new BfdError('BAD_LENGTH', `Length field ${length}, but the datagram holds ${buf.length} bytes`);
  const detectMult = buf[2];
  if (detectMult === 0) throw new BfdError('ZERO_DETECT_MULT', 'Detect Mult is zero');
  if ((flags & 0x01) !== 0) throw new BfdError('MULTIPOINT', 'the M bit is set');
  const myDiscr = v.getUint32(4);
  if (myDiscr === 0) throw new BfdError('ZERO_MY_DISCRIMINATOR', 'My Discriminator is zero');
  if (auth) throw new BfdError('AUTH_NOT_CONFIGURED', 'the A bit is set but no authentication is configured');
  const bits = Object.fromEntries(FLAGS.map((f) => [f.key, (flags & f.bit) !== 0])) as Record<(typeof FLAGS)[number]['key'], boolean>;
  return {
    version,
    diag: buf[0] & 0x1f,
    state: BFD_STATES[flags >> 6],
    ...bits,
    detectMult,
    myDiscr,
    yourDiscr: v.getUint32(8),
    desiredMinTx: v.getUint32(12),
    requiredMinRx: v.getUint32(16),
    requiredMinEchoRx: v.getUint32(20),
  };
}

export function encodeControl(p: ControlPacket): Buffer {
  const out = Buffer.alloc(CONTROL_LENGTH);
  out[0] = ((p.version & 0x07) << 5) | (p.diag & 0x1f);
  let flags = BFD_STATES.indexOf(p.state) << 6;
  for (const f of FLAGS) if (p[f.key]) flags |= f.bit;
  out[1] = flags;
  out[2] = p.detectMult;
  out[3] = CONTROL_LENGTH;
  out.writeUInt32BE(p.myDiscr >>> 0, 4);
  out.writeUInt32BE(p.yourDiscr >>> 0, 8);
  out.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  out.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  out.writeUInt32BE(p.requiredMinEchoRx >>> 0, 20);
  return out;
}
