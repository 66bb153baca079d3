/**
 * AS_PATH and AS4_PATH values (RFC 4271 section 4.3, RFC 5065 confederation segments, RFC 6793)
 * and the RFC 6793 section 4.2.3 reconstruction of the real path from a 2-octet session, plus the
 * reverse (AS_TRANS substitution) for sending to a 2-octet peer.
 */

import { AS_TRANS } from './constants.js';

export type SegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  readonly type: SegmentType;
  readonly asns: readonly number[];
}

export interface Aggregator {
  readonly asn: number;
  readonly address: string;
}

/** Wire code of each segment type (RFC 4271 section 4.3, RFC 5065 section 3). */
export const SEGMENT_CODE: Record<SegmentType, number> = {
  set: 1,
  sequence: 2,
  'confed-sequence': 3,
  'confed-set': 4,
};
const SEGMENT_TYPE: readonly (SegmentType | undefined)[] = [undefined, 'set', 'sequence', 'confed-sequence', 'confed-set'];

/** Why a path value is malformed (RFC 7606 section 7.2). */
export class PathFault {
  constructor(readonly message: string) {}
}

export function decodeAsPath(v: Uint8Array, asnSize: 2 | 4): AsPathSegment[] | PathFault {
  const segments: AsPathSegment[] = [];
  let p = 0;
  while (p < v.length) {
    if (p + 2 > v.length) return new PathFault('truncated segment header');
    const type = SEGMENT_TYPE[v[p]];
    const count = v[p + 1];
    if (type === undefined) return new PathFault(`unknown segment type ${v[p]}`);
    if (count === 0) return new PathFault('segment with zero ASes');
    p += 2;
    if (p + count * asnSize > v.length) return new PathFault(`segment of ${count} ASes overruns the attribute`);
    const asns = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const asn =
        asnSize === 4
          ? ((v[p] << 24) | (v[p + 1] << 16) | (v[p + 2] << 8) | v[p + 3]) >>> 0
          : (v[p] << 8) | v[p + 1];
      // RFC 7607: AS 0 makes the path malformed.
      if (asn === 0) return new PathFault('AS 0 in path');
      asns[i] = asn;
      p += asnSize;
    }
    segments.push({ type, asns });
  }
  return segments;
}

/**
 * AS4_PATH (RFC 6793 section 6): under 6 bytes it carries no AS and is malformed; its
 * AS_CONFED_SEQUENCE and AS_CONFED_SET segments "MUST" be discarded and the rest kept.
 */
export function decodeAs4Path(v: Uint8Array): AsPathSegment[] | PathFault {
  if (v.length < 6) return new PathFault(`${v.length} bytes carry no AS`);
  const path = decodeAsPath(v, 4);
  return path instanceof PathFault ? path : path.filter((s) => s.type === 'sequence' || s.type === 'set');
}

export function encodeAsPath(path: readonly AsPathSegment[], asnSize: 2 | 4): Uint8Array {
  // Segments longer than 255 ASes are split (RFC 4271 section 9.2.2.1); empty ones are left out.
  const pieces: { code: number; asns: readonly number[] }[] = [];
  for (const seg of path) {
    for (let i = 0; i < seg.asns.length; i += 255) {
      pieces.push({ code: SEGMENT_CODE[seg.type], asns: seg.asns.slice(i, i + 255) });
    }
  }
  const size = pieces.reduce((n, s) => n + 2 + s.asns.length * asnSize, 0);
  const out = new Uint8Array(size);
  let p = 0;
  for (const s of pieces) {
    out[p++] = s.code;
    out[p++] = s.asns.length;
    for (const a of s.asns) {
      // RFC 6793 section 4.2.2: an AS that does not fit 2 octets is AS_TRANS there, never cut.
      const asn = asnSize === 2 && a > 0xffff ? AS_TRANS : a;
      if (asnSize === 4) {
        out[p++] = asn >>> 24;
        out[p++] = (asn >>> 16) & 255;
      }
      out[p++] = (asn >>> 8) & 255;
      out[p++] = asn & 255;
    }
  }
  return out;
}

/** Path length for the decision process: an AS_SET counts 1, confederation segments 0. */
export function asPathLength(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const seg of path) {
    if (seg.type === 'sequence') n += seg.asns.length;
    else if (seg.type === 'set') n += 1;
  }
  return n;
}

interface As4Attrs {
  readonly asPath?: readonly AsPathSegment[];
  readonly aggregator?: Aggregator;
  readonly as4Path?: readonly AsPathSegment[];
  readonly as4Aggregator?: Aggregator;
}

/**
 * RFC 6793 section 4.2.3: on a session without 4-octet AS, rebuild the real AS path and
 * aggregator from AS4_PATH and AS4_AGGREGATOR; the result carries neither. On a 4-octet session
 * they must not appear and are dropped (section 4.1).
 */
export function mergeAs4<T extends As4Attrs>(attrs: T, fourOctetAs: boolean): T {
  if (attrs.as4Path === undefined && attrs.as4Aggregator === undefined) return attrs;
  const { as4Path, as4Aggregator, ...rest } = attrs;
  const out: As4Attrs = rest;
  if (fourOctetAs) return out as T;
  // An AGGREGATOR with a real 2-octet AS means the AS4_* attributes are stale: ignore both.
  if (attrs.aggregator !== undefined && attrs.aggregator.asn !== AS_TRANS) return out as T;
  const merged: { -readonly [K in keyof As4Attrs]: As4Attrs[K] } = { ...out };
  if (as4Aggregator !== undefined && attrs.aggregator !== undefined) merged.aggregator = as4Aggregator;
  if (as4Path !== undefined && attrs.asPath !== undefined) {
    const n2 = asPathLength(as4Path);
    const n1 = asPathLength(attrs.asPath);
    if (n1 >= n2) merged.asPath = [...leading(attrs.asPath, n1 - n2), ...as4Path];
  }
  return merged as T;
}

/** The first `count` path-length units of a path, confederation segments kept where they stand. */
function leading(path: readonly AsPathSegment[], count: number): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  let left = count;
  for (const seg of path) {
    if (seg.type === 'confed-sequence' || seg.type === 'confed-set') {
      out.push(seg);
      continue;
    }
    if (left === 0) break;
    if (seg.type === 'set') {
      out.push(seg);
      left -= 1;
    } else {
      const take = Math.min(left, seg.asns.length);
      out.push(take === seg.asns.length ? seg : { type: seg.type, asns: seg.asns.slice(0, take) });
      left -= take;
    }
  }
  return out;
}

const wide = (asn: number): boolean => asn > 0xffff;

/**
 * RFC 6793 section 4.2.2: what to send to a 2-octet peer. ASes above 65535 become AS_TRANS in
 * AS_PATH and AGGREGATOR, and the real values travel in AS4_PATH and AS4_AGGREGATOR; AS4_PATH
 * leaves out confederation segments, and is not sent when every AS fits 2 octets (SHOULD NOT).
 */
export function splitAs4<T extends As4Attrs>(attrs: T): T {
  const out: { -readonly [K in keyof As4Attrs]: As4Attrs[K] } = { ...attrs };
  delete out.as4Path;
  delete out.as4Aggregator;
  if (attrs.asPath?.some((s) => s.asns.some(wide))) {
    out.asPath = attrs.asPath.map((s) => ({ type: s.type, asns: s.asns.map((a) => (wide(a) ? AS_TRANS : a)) }));
    out.as4Path = attrs.asPath.filter((s) => s.type === 'sequence' || s.type === 'set');
  }
  if (attrs.aggregator !== undefined && wide(attrs.aggregator.asn)) {
    out.aggregator = { asn: AS_TRANS, address: attrs.aggregator.address };
    out.as4Aggregator = attrs.aggregator;
  }
  return out as T;
}

/**
 * The AS attributes as they go on the wire to one peer (RFC 6793): to a 4-octet peer without
 * AS4_PATH and AS4_AGGREGATOR (section 4.1: never between NEW speakers), to a 2-octet peer split
 * (section 4.2.2). Returns `attrs` itself when nothing changes, so interned sets stay shared.
 */
export function as4Outbound<T extends As4Attrs>(attrs: T, fourOctetAs: boolean): T {
  const stale = attrs.as4Path !== undefined || attrs.as4Aggregator !== undefined;
  if (fourOctetAs) {
    if (!stale) return attrs;
    const { as4Path: _p, as4Aggregator: _a, ...rest } = attrs;
    return rest as T;
  }
  const needs = stale || attrs.asPath?.some((s) => s.asns.some(wide)) === true || (attrs.aggregator !== undefined && wide(attrs.aggregator.asn));
  return needs ? splitAs4(attrs) : attrs;
}
