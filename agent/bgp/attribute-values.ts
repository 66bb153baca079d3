/**
 * The value codecs of the path attribute table (attributes.ts): one builder per value shape (a
 * 32-bit number, an IPv4 address, a list of fixed-size items, an AS path, an aggregator), each
 * returning {decode, encode}; a malformed value decodes to an AttrFault, which the table turns into
 * an RFC 7606 finding. Not here: flags, categories, the table itself, the attribute framing.
 */

import { AS_TRANS, UpdateSubcode } from './constants.js';
import type { CodecContext } from './context.js';
import type { ErrorAction } from './errors.js';
import { readIpv4, writeIpv4 } from './ip.js';
import { decodeAsPath, encodeAsPath, PathFault, type Aggregator, type AsPathSegment } from './as-path.js';

/** One attribute's value: decode the bytes (an AttrFault when malformed), encode the value. */
export interface ValueCodec {
  decode(v: Uint8Array, ctx: CodecContext): unknown;
  encode(value: never, ctx: CodecContext): Uint8Array;
}

/**
 * A malformed value; `action` overrides the row's default when the RFC says so, `reason` the
 * default reason code (`attr.<key>`) where a rule has its own.
 */
export class AttrFault {
  constructor(
    readonly message: string,
    readonly subcode: number = UpdateSubcode.ATTRIBUTE_LENGTH,
    readonly action?: ErrorAction,
    readonly reason?: string,
  ) {}
}

/** The reason code of an UPDATE withdrawn for an AS_SET or AS_CONFED_SET (RFC 9774). */
export const AS_SET_REASON = 'attr.as-set';


export const u32 = (v: Uint8Array, at: number): number =>
  ((v[at] << 24) | (v[at + 1] << 16) | (v[at + 2] << 8) | v[at + 3]) >>> 0;

export function put32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 255;
  out[at + 2] = (n >>> 8) & 255;
  out[at + 3] = n & 255;
}

export function u32Value(name: string): ValueCodec {
  return {
    decode: (v) => (v.length === 4 ? u32(v, 0) : new AttrFault(`${name} must be 4 bytes, has ${v.length}`)),
    encode: (n: number) => {
      const out = new Uint8Array(4);
      put32(out, 0, n);
      return out;
    },
  };
}

export function ipv4Value(name: string): ValueCodec {
  return {
    decode: (v) => (v.length === 4 ? readIpv4(v, 0) : new AttrFault(`${name} must be 4 bytes, has ${v.length}`)),
    encode: (s: string) => {
      const out = new Uint8Array(4);
      writeIpv4(s, out, 0);
      return out;
    },
  };
}

/** A list of fixed-size items: RFC 7606 requires a non-zero multiple of the item size. */
export function listValue<T>(name: string, size: number, read: (v: Uint8Array, at: number) => T, write: (x: T, out: Uint8Array, at: number) => void): ValueCodec {
  return {
    decode: (v) => {
      if (v.length === 0 || v.length % size !== 0) {
        return new AttrFault(`${name} length ${v.length} is not a non-zero multiple of ${size}`);
      }
      const out = new Array<T>(v.length / size);
      for (let i = 0; i < out.length; i++) out[i] = read(v, i * size);
      return out;
    },
    encode: (list: readonly T[]) => {
      const out = new Uint8Array(list.length * size);
      list.forEach((x, i) => write(x, out, i * size));
      return out;
    },
  };
}

export function pathValue(name: string, asnSize: (ctx: CodecContext) => 2 | 4, decode = decodeAsPath): ValueCodec {
  return {
    decode: (v, ctx) => {
      const path = decode(v, asnSize(ctx));
      if (path instanceof PathFault) return new AttrFault(`${name}: ${path.message}`, UpdateSubcode.MALFORMED_AS_PATH);
      // RFC 9774 section 3: a path with AS_SET or AS_CONFED_SET is treat-as-withdraw (RFC 7606),
      // in AS_PATH and in AS4_PATH alike (whose own malformations are only discarded).
      const set = path.find((seg) => seg.type === 'set' || seg.type === 'confed-set');
      if (set !== undefined) return new AttrFault(`${name} has an ${set.type === 'set' ? 'AS_SET' : 'AS_CONFED_SET'} (deprecated, RFC 9774)`, UpdateSubcode.MALFORMED_AS_PATH, 'withdraw', AS_SET_REASON);
      return path;
    },
    encode: (path: readonly AsPathSegment[], ctx) => encodeAsPath(path, asnSize(ctx)),
  };
}

export function aggregatorValue(name: string, asnSize: (ctx: CodecContext) => 2 | 4): ValueCodec {
  return {
    decode: (v, ctx) => {
      const n = asnSize(ctx);
      if (v.length !== n + 4) return new AttrFault(`${name} must be ${n + 4} bytes, has ${v.length}`);
      const asn = n === 4 ? u32(v, 0) : (v[0] << 8) | v[1];
      // RFC 7607: AS 0 in an aggregator is malformed.
      if (asn === 0) return new AttrFault(`${name} with AS 0`, UpdateSubcode.OPTIONAL_ATTRIBUTE);
      return { asn, address: readIpv4(v, n) };
    },
    encode: (a: Aggregator, ctx) => {
      const n = asnSize(ctx);
      const out = new Uint8Array(n + 4);
      if (n === 4) put32(out, 0, a.asn);
      else {
        // RFC 6793 section 4.2.2: AS_TRANS for an AS that does not fit, never its low 16 bits.
        const asn = a.asn > 0xffff ? AS_TRANS : a.asn;
        out[0] = asn >> 8;
        out[1] = asn & 255;
      }
      writeIpv4(a.address, out, n);
      return out;
    },
  };
}

export const sessionAsn = (ctx: CodecContext): 2 | 4 => (ctx.fourOctetAs ? 4 : 2);
export const always4 = (): 4 => 4;

export function invalidNextHop(v: Uint8Array): boolean {
  // RFC 4271 section 6.3: the next hop must be a valid host address.
  return v[0] === 0 || v[0] === 127 || v[0] >= 224;
}

/** RFC 6793 section 4.1: AS4_* from a 4-octet speaker must be discarded. */
export function as4Only<T>(name: string, inner: ValueCodec): ValueCodec {
  return {
    decode: (v, ctx) => (ctx.fourOctetAs ? new AttrFault(`${name} from a 4-octet AS speaker`, UpdateSubcode.OPTIONAL_ATTRIBUTE, 'discard') : inner.decode(v, ctx)),
    encode: inner.encode,
  };
}

