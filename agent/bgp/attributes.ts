/**
 * UPDATE path attributes (RFC 4271 section 4.3 and 5), one table row per type code, each with its
 * expected flags, its RFC 7606 error action and subcode, a decoder and an encoder:
 * ORIGIN, AS_PATH, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR,
 * COMMUNITIES (RFC 1997), ORIGINATOR_ID, CLUSTER_LIST (RFC 4456), MP_REACH_NLRI, MP_UNREACH_NLRI
 * (RFC 4760), EXTENDED_COMMUNITIES (RFC 4360), AS4_PATH, AS4_AGGREGATOR (RFC 6793),
 * LARGE_COMMUNITY (RFC 8092). Unknown optional transitive attributes are kept with the Partial bit
 * set (RFC 4271 section 5); unknown optional non-transitive ones are dropped; an unknown well-known
 * one resets the session. RFC 9774: a path with AS_SET or AS_CONFED_SET is treat-as-withdraw.
 * Values are encoded as given: AS numbers at the session's size, so a path for a 2-octet peer must
 * have been split first (RFC 6793 section 4.2.2: as4Outbound in as-path.ts, which pack.ts applies).
 * Not here: policy, and the AS4 merge of received paths (as-path.ts does it on request).
 */

import { AttrCode, AttrFlag, ErrorCode, UpdateSubcode } from './constants.js';
import { type CodecContext } from './context.js';
import { BgpEncodeError, BgpError, type ErrorAction } from './errors.js';
import { readIpv4, writeIpv4 } from './ip.js';
import { decodeAs4Path, type Aggregator, type AsPathSegment } from './as-path.js';
import {
  aggregatorValue, always4, as4Only, AttrFault, invalidNextHop, ipv4Value, listValue, pathValue, put32, sessionAsn,
  u32, u32Value, type ValueCodec,
} from './attribute-values.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach, MpFault, type MpReach, type MpUnreach } from './mp.js';

export { AS_SET_REASON, AttrFault } from './attribute-values.js';

export type Origin = 0 | 1 | 2;

export interface LargeCommunity {
  readonly global: number;
  readonly local1: number;
  readonly local2: number;
}

export interface RawAttribute {
  readonly code: number;
  readonly flags: number;
  readonly value: Uint8Array;
}

export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: true;
  readonly aggregator?: Aggregator;
  /** RFC 1997 communities as 32-bit numbers (AS << 16 | value). */
  readonly communities?: readonly number[];
  readonly originatorId?: string;
  readonly clusterList?: readonly string[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  /** RFC 4360 extended communities, each 8 bytes as a 64-bit number. */
  readonly extendedCommunities?: readonly bigint[];
  readonly as4Path?: readonly AsPathSegment[];
  readonly as4Aggregator?: Aggregator;
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Codes of known optional transitive attributes that arrived with the Partial bit set. */
  readonly partial?: readonly number[];
  /** Unknown optional transitive attributes, passed on (Partial bit set). */
  readonly unknown?: readonly RawAttribute[];
}

type Key = Exclude<keyof PathAttributes, 'partial' | 'unknown'>;
type Category = 'well-known' | 'optional' | 'optional-transitive';

interface Row extends ValueCodec {
  readonly code: number;
  readonly name: string;
  readonly key: Key;
  readonly category: Category;
  /** RFC 7606 section 7: what a malformed instance costs. */
  readonly malformed: ErrorAction;
}

const CATEGORY_FLAGS: Record<Category, number> = {
  'well-known': AttrFlag.TRANSITIVE,
  optional: AttrFlag.OPTIONAL,
  'optional-transitive': AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
};

const ROWS: readonly Row[] = [
  {
    code: AttrCode.ORIGIN, name: 'ORIGIN', key: 'origin', category: 'well-known', malformed: 'withdraw',
    decode: (v) => {
      if (v.length !== 1) return new AttrFault(`ORIGIN must be 1 byte, has ${v.length}`);
      return v[0] <= 2 ? v[0] : new AttrFault(`undefined ORIGIN value ${v[0]}`, UpdateSubcode.INVALID_ORIGIN);
    },
    encode: (o: Origin) => Uint8Array.of(o),
  },
  { code: AttrCode.AS_PATH, name: 'AS_PATH', key: 'asPath', category: 'well-known', malformed: 'withdraw', ...pathValue('AS_PATH', sessionAsn) },
  {
    code: AttrCode.NEXT_HOP, name: 'NEXT_HOP', key: 'nextHop', category: 'well-known', malformed: 'withdraw',
    decode: (v) => {
      if (v.length !== 4) return new AttrFault(`NEXT_HOP must be 4 bytes, has ${v.length}`);
      if (invalidNextHop(v)) return new AttrFault(`NEXT_HOP ${readIpv4(v, 0)} is not a host address`, UpdateSubcode.INVALID_NEXT_HOP);
      return readIpv4(v, 0);
    },
    encode: ipv4Value('NEXT_HOP').encode,
  },
  { code: AttrCode.MULTI_EXIT_DISC, name: 'MULTI_EXIT_DISC', key: 'med', category: 'optional', malformed: 'withdraw', ...u32Value('MULTI_EXIT_DISC') },
  {
    code: AttrCode.LOCAL_PREF, name: 'LOCAL_PREF', key: 'localPref', category: 'well-known', malformed: 'withdraw',
    decode: (v, ctx) => {
      // RFC 7606 section 7.5: LOCAL_PREF from an external peer is discarded.
      if (ctx.external) return new AttrFault('LOCAL_PREF from an external peer', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'discard');
      return u32Value('LOCAL_PREF').decode(v, ctx);
    },
    encode: u32Value('LOCAL_PREF').encode,
  },
  {
    code: AttrCode.ATOMIC_AGGREGATE, name: 'ATOMIC_AGGREGATE', key: 'atomicAggregate', category: 'well-known', malformed: 'discard',
    decode: (v) => (v.length === 0 ? true : new AttrFault(`ATOMIC_AGGREGATE must be empty, has ${v.length} bytes`)),
    encode: () => new Uint8Array(0),
  },
  { code: AttrCode.AGGREGATOR, name: 'AGGREGATOR', key: 'aggregator', category: 'optional-transitive', malformed: 'discard', ...aggregatorValue('AGGREGATOR', sessionAsn) },
  {
    code: AttrCode.COMMUNITIES, name: 'COMMUNITIES', key: 'communities', category: 'optional-transitive', malformed: 'withdraw',
    ...listValue<number>('COMMUNITIES', 4, u32, (c, out, at) => put32(out, at, c)),
  },
  { code: AttrCode.ORIGINATOR_ID, name: 'ORIGINATOR_ID', key: 'originatorId', category: 'optional', malformed: 'withdraw', ...ipv4Value('ORIGINATOR_ID') },
  {
    code: AttrCode.CLUSTER_LIST, name: 'CLUSTER_LIST', key: 'clusterList', category: 'optional', malformed: 'withdraw',
    ...listValue<string>('CLUSTER_LIST', 4, readIpv4, (c, out, at) => writeIpv4(c, out, at)),
  },
  {
    code: AttrCode.MP_REACH_NLRI, name: 'MP_REACH_NLRI', key: 'mpReach', category: 'optional', malformed: 'reset',
    decode: (v, ctx) => {
      const m = decodeMpReach(v, ctx);
      return m instanceof MpFault ? new AttrFault(m.message, UpdateSubcode.OPTIONAL_ATTRIBUTE) : m;
    },
    encode: (m: MpReach, ctx) => encodeMpReach(m, ctx),
  },
  {
    code: AttrCode.MP_UNREACH_NLRI, name: 'MP_UNREACH_NLRI', key: 'mpUnreach', category: 'optional', malformed: 'reset',
    decode: (v, ctx) => {
      const m = decodeMpUnreach(v, ctx);
      return m instanceof MpFault ? new AttrFault(m.message, UpdateSubcode.OPTIONAL_ATTRIBUTE) : m;
    },
    encode: (m: MpUnreach, ctx) => encodeMpUnreach(m, ctx),
  },
  {
    code: AttrCode.EXTENDED_COMMUNITIES, name: 'EXTENDED_COMMUNITIES', key: 'extendedCommunities', category: 'optional-transitive', malformed: 'withdraw',
    ...listValue<bigint>(
      'EXTENDED_COMMUNITIES', 8,
      (v, at) => (BigInt(u32(v, at)) << 32n) | BigInt(u32(v, at + 4)),
      (c, out, at) => {
        put32(out, at, Number(c >> 32n));
        put32(out, at + 4, Number(c & 0xffffffffn));
      },
    ),
  },
  { code: AttrCode.AS4_PATH, name: 'AS4_PATH', key: 'as4Path', category: 'optional-transitive', malformed: 'discard', ...as4Only('AS4_PATH', pathValue('AS4_PATH', always4, decodeAs4Path)) },
  { code: AttrCode.AS4_AGGREGATOR, name: 'AS4_AGGREGATOR', key: 'as4Aggregator', category: 'optional-transitive', malformed: 'discard', ...as4Only('AS4_AGGREGATOR', aggregatorValue('AS4_AGGREGATOR', always4)) },
  {
    code: AttrCode.LARGE_COMMUNITY, name: 'LARGE_COMMUNITY', key: 'largeCommunities', category: 'optional-transitive', malformed: 'withdraw',
    ...listValue<LargeCommunity>(
      'LARGE_COMMUNITY', 12,
      (v, at) => ({ global: u32(v, at), local1: u32(v, at + 4), local2: u32(v, at + 8) }),
      (c, out, at) => {
        put32(out, at, c.global);
        put32(out, at + 4, c.local1);
        put32(out, at + 8, c.local2);
      },
    ),
  },
];

const BY_CODE: (Row | undefined)[] = new Array<Row | undefined>(256);
for (const row of ROWS) BY_CODE[row.code] = row;
/** Encoding order: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 section 5.1), then by code. */
const ENCODE_ORDER: readonly Row[] = [
  ...ROWS.filter((r) => r.code === AttrCode.MP_REACH_NLRI || r.code === AttrCode.MP_UNREACH_NLRI),
  ...ROWS.filter((r) => r.code !== AttrCode.MP_REACH_NLRI && r.code !== AttrCode.MP_UNREACH_NLRI),
];

export function attributeName(code: number): string {
  return BY_CODE[code]?.name ?? `attribute-${code}`;
}

/** Collects RFC 7606 findings while one UPDATE is decoded. */
export class Findings {
  readonly errors: BgpError[] = [];
  add(reason: string, message: string, subcode: number, action: ErrorAction, data?: Uint8Array): void {
    const err = new BgpError(reason, message, ErrorCode.UPDATE_MESSAGE, subcode, action, data);
    if (action === 'reset') throw err;
    this.errors.push(err);
  }
}

/**
 * Decodes the path attributes in buf[start, end). Framing problems inside the list are
 * treat-as-withdraw (RFC 7606 section 4); the rest follows each row's rule.
 */
export function decodeAttributes(buf: Uint8Array, start: number, end: number, ctx: CodecContext, findings: Findings): PathAttributes {
  const attrs: Record<string, unknown> = {};
  let unknown: RawAttribute[] | undefined;
  let partial: number[] | undefined;
  const seen = new Uint8Array(256);
  let p = start;
  while (p < end) {
    if (end - p < 3) {
      findings.add('attr.list', `${end - p} stray bytes at the end of the path attributes`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'withdraw');
      break;
    }
    const flags = buf[p];
    const code = buf[p + 1];
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    const hdr = ext ? 4 : 3;
    if (end - p < hdr) {
      findings.add('attr.list', 'truncated attribute header', UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'withdraw');
      break;
    }
    const len = ext ? (buf[p + 2] << 8) | buf[p + 3] : buf[p + 2];
    const vStart = p + hdr;
    const vEnd = vStart + len;
    if (vEnd > end) {
      findings.add('attr.length', `attribute ${code} of ${len} bytes overruns the path attributes`, UpdateSubcode.ATTRIBUTE_LENGTH, 'withdraw', buf.subarray(p, end));
      break;
    }
    const whole = buf.subarray(p, vEnd);
    const value = buf.subarray(vStart, vEnd);
    p = vEnd;
    const row = BY_CODE[code];
    if (seen[code]) {
      // RFC 7606 section 3 (g): a repeated MP attribute resets; any other repeat is discarded.
      const action = row?.malformed === 'reset' ? 'reset' : 'discard';
      findings.add('attr.duplicate', `attribute ${attributeName(code)} appears more than once`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, action, whole);
      continue;
    }
    seen[code] = 1;
    if (row === undefined) {
      if ((flags & AttrFlag.OPTIONAL) === 0) {
        findings.add('attr.unrecognized', `unrecognized well-known attribute ${code}`, UpdateSubcode.UNRECOGNIZED_WELL_KNOWN, 'reset', whole);
      }
      if (flags & AttrFlag.TRANSITIVE) {
        (unknown ??= []).push({ code, flags: (flags | AttrFlag.PARTIAL) & ~AttrFlag.EXTENDED_LENGTH, value });
      }
      continue;
    }
    const expected = CATEGORY_FLAGS[row.category];
    if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== expected) {
      // RFC 7606 section 3 (c): a flags conflict is a malformed attribute of that type.
      findings.add(`attr.flags`, `${row.name} has flags 0x${flags.toString(16)}, expected 0x${expected.toString(16)}`, UpdateSubcode.ATTRIBUTE_FLAGS, row.malformed, whole);
      continue;
    }
    const decoded = row.decode(value, ctx);
    if (decoded instanceof AttrFault) {
      findings.add(decoded.reason ?? `attr.${row.key}`, decoded.message, decoded.subcode, decoded.action ?? row.malformed, whole);
      continue;
    }
    attrs[row.key] = decoded;
    if (flags & AttrFlag.PARTIAL && row.category === 'optional-transitive') (partial ??= []).push(code);
  }
  if (partial) attrs.partial = partial;
  // Sorted by code, the order they are encoded in, so a decoded value has one form.
  if (unknown) attrs.unknown = unknown.sort((a, b) => a.code - b.code);
  return attrs as PathAttributes;
}

function attrHeaderSize(valueLength: number, forceExtended: boolean): number {
  return forceExtended || valueLength > 255 ? 4 : 3;
}

function writeAttr(out: Uint8Array, at: number, flags: number, code: number, value: Uint8Array, forceExtended: boolean): number {
  const ext = forceExtended || value.length > 255;
  if (value.length > 0xffff) throw new BgpEncodeError('attr.too-long', `attribute ${code} value of ${value.length} bytes`);
  out[at] = ext ? flags | AttrFlag.EXTENDED_LENGTH : flags & ~AttrFlag.EXTENDED_LENGTH;
  out[at + 1] = code;
  if (ext) {
    out[at + 2] = value.length >> 8;
    out[at + 3] = value.length & 255;
  } else {
    out[at + 2] = value.length;
  }
  out.set(value, at + (ext ? 4 : 3));
  return at + (ext ? 4 : 3) + value.length;
}

/**
 * MP attributes use the extended length (as BIRD and FRR do, and the packer sizes them so), except
 * an empty MP_UNREACH_NLRI: the IPv6 End-of-RIB is 29 bytes from both daemons.
 */
const forceExtended = (code: number, valueLength: number): boolean =>
  code === AttrCode.MP_REACH_NLRI || (code === AttrCode.MP_UNREACH_NLRI && valueLength > 3);

/** Encodes every present attribute: MP attributes first, then by type code, unknown ones in place. */
export function encodeAttributes(attrs: PathAttributes, ctx: CodecContext): Uint8Array {
  const parts: { code: number; flags: number; value: Uint8Array }[] = [];
  const unknown = [...(attrs.unknown ?? [])].sort((a, b) => a.code - b.code);
  let u = 0;
  for (const row of ENCODE_ORDER) {
    while (u < unknown.length && unknown[u].code < row.code && row.code !== AttrCode.MP_REACH_NLRI && row.code !== AttrCode.MP_UNREACH_NLRI) {
      parts.push({ code: unknown[u].code, flags: unknown[u].flags | AttrFlag.PARTIAL, value: unknown[u].value });
      u++;
    }
    const value = attrs[row.key];
    if (value === undefined) continue;
    let flags = CATEGORY_FLAGS[row.category];
    if (attrs.partial?.includes(row.code)) flags |= AttrFlag.PARTIAL;
    parts.push({ code: row.code, flags, value: row.encode(value as never, ctx) });
  }
  for (; u < unknown.length; u++) parts.push({ code: unknown[u].code, flags: unknown[u].flags | AttrFlag.PARTIAL, value: unknown[u].value });
  const size = parts.reduce((n, a) => n + attrHeaderSize(a.value.length, forceExtended(a.code, a.value.length)) + a.value.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const a of parts) at = writeAttr(out, at, a.flags, a.code, a.value, forceExtended(a.code, a.value.length));
  return out;
}

