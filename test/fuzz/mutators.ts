/**
 * Mutations for the coverage-guided fuzzer: the byte-level ones of any fuzzer (bit and byte flips,
 * interesting 8/16-bit values, inserts, deletes, truncation, crossover with another corpus input)
 * and BGP-aware ones that keep the framing plausible so mutations reach deep code: the header
 * marker and length fixed up (RFC 4271 s4.1), path attribute TLVs spliced, dropped, repeated or
 * resized in an UPDATE (s4.3), capabilities spliced into an OPEN (RFC 5492, RFC 9072 extended
 * parameters), NLRI appended. Pure functions of their inputs and the random source.
 */

export type Rng = () => number;

/** mulberry32: small, fast and reproducible. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, n: number): number => Math.floor(r() * n);
const bytes = (r: Rng, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(r, 256)));
const INTERESTING8 = [0, 1, 2, 3, 4, 5, 16, 24, 32, 33, 64, 127, 128, 129, 255];
const INTERESTING16 = [0, 1, 2, 3, 4, 16, 19, 23, 29, 255, 256, 4095, 4096, 4097, 0x7fff, 0xfffe, 0xffff];

function byteMutation(b: Buffer, r: Rng, from: number, donor: Uint8Array): Buffer {
  const span = Math.max(1, b.length - from);
  const at = from + int(r, span);
  switch (int(r, 9)) {
    case 0:
      if (at < b.length) b[at] ^= 1 << int(r, 8);
      return b;
    case 1:
      if (at < b.length) b[at] = int(r, 256);
      return b;
    case 2:
      if (at < b.length) b[at] = INTERESTING8[int(r, INTERESTING8.length)];
      return b;
    case 3:
      if (at + 1 < b.length) b.writeUInt16BE(r() < 0.3 ? Math.min(0xffff, b.length - at - 2) : INTERESTING16[int(r, INTERESTING16.length)], at);
      return b;
    case 4:
      return Buffer.concat([b.subarray(0, at), bytes(r, 1 + int(r, 8)), b.subarray(at)]);
    case 5:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(r, 8))]);
    case 6:
      return b.subarray(0, Math.max(from, at));
    case 7: {
      const s = int(r, Math.max(1, donor.length));
      return Buffer.concat([b.subarray(0, at), Buffer.from(donor.subarray(s, s + 1 + int(r, 32))), b.subarray(at)]);
    }
    default: {
      const s = int(r, Math.max(1, donor.length));
      return Buffer.concat([b.subarray(0, at), Buffer.from(donor.subarray(s))]);
    }
  }
}

/** Marker all ones and the length field equal to what follows (when it fits 16 bits). */
export function fixHeader(b: Buffer, at: number): void {
  if (b.length - at < 19) return;
  b.fill(0xff, at, at + 16);
  b.writeUInt16BE(Math.min(0xffff, b.length - at), at + 16);
}

interface Tlv {
  readonly head: number;
  readonly code: number;
  readonly value: Buffer;
}

/** The UPDATE's parts, or undefined when the lengths do not frame it. */
function splitUpdate(b: Buffer, at: number): { withdrawn: Buffer; attrs: Tlv[]; nlri: Buffer } | undefined {
  if (b.length - at < 23 || b[at + 18] !== 2) return undefined;
  const wr = b.readUInt16BE(at + 19);
  if (at + 23 + wr > b.length) return undefined;
  const ta = b.readUInt16BE(at + 21 + wr);
  const aStart = at + 23 + wr;
  if (aStart + ta > b.length) return undefined;
  const attrs: Tlv[] = [];
  let p = aStart;
  while (p + 3 <= aStart + ta) {
    const ext = (b[p] & 0x10) !== 0;
    const len = ext ? (p + 4 <= b.length ? b.readUInt16BE(p + 2) : 0) : b[p + 2];
    const v = p + (ext ? 4 : 3);
    if (v + len > aStart + ta) return undefined;
    attrs.push({ head: b[p], code: b[p + 1], value: Buffer.from(b.subarray(v, v + len)) });
    p = v + len;
  }
  return { withdrawn: Buffer.from(b.subarray(at + 21, at + 21 + wr)), attrs, nlri: Buffer.from(b.subarray(aStart + ta)) };
}

function encodeTlv(t: Tlv): Buffer {
  const ext = (t.head & 0x10) !== 0 || t.value.length > 255;
  const head = ext ? Buffer.from([t.head | 0x10, t.code, t.value.length >> 8, t.value.length & 255]) : Buffer.from([t.head, t.code, t.value.length]);
  return Buffer.concat([head, t.value]);
}

const ATTR_FLAGS = [0x40, 0x80, 0xc0, 0xe0, 0x50, 0x90, 0xd0, 0x00, 0x20];

function attributeMutation(b: Buffer, at: number, r: Rng, donor: Buffer): Buffer | undefined {
  const u = splitUpdate(b, at);
  if (!u) return undefined;
  const attrs = [...u.attrs];
  const d = splitUpdate(donor, donor[18] === 2 ? 0 : -1) ?? splitUpdate(donor, 1) ?? splitUpdate(donor, 2);
  const i = int(r, Math.max(1, attrs.length));
  switch (int(r, 6)) {
    case 0: // splice an attribute of another UPDATE
      if (d && d.attrs.length > 0) attrs.splice(int(r, attrs.length + 1), 0, d.attrs[int(r, d.attrs.length)]);
      break;
    case 1: // a fresh attribute: any known or unknown code, any flags, a short value
      attrs.splice(int(r, attrs.length + 1), 0, { head: ATTR_FLAGS[int(r, ATTR_FLAGS.length)], code: r() < 0.7 ? 1 + int(r, 35) : int(r, 256), value: bytes(r, int(r, 14)) });
      break;
    case 2:
      attrs.splice(i, 1);
      break;
    case 3:
      if (attrs[i]) attrs.splice(int(r, attrs.length + 1), 0, attrs[i]);
      break;
    case 4: // change a value and keep the TLV length right
      if (attrs[i]) attrs[i] = { ...attrs[i], value: byteMutation(Buffer.from(attrs[i].value), r, 0, donor) };
      break;
    default: // flags
      if (attrs[i]) attrs[i] = { ...attrs[i], head: r() < 0.5 ? ATTR_FLAGS[int(r, ATTR_FLAGS.length)] : attrs[i].head ^ (1 << (4 + int(r, 4))) };
      break;
  }
  const body = Buffer.concat(attrs.map(encodeTlv));
  const nlri = r() < 0.2 ? Buffer.concat([u.nlri, Buffer.from([int(r, 34)]), bytes(r, int(r, 5))]) : u.nlri;
  const out = Buffer.concat([b.subarray(0, at + 19), Buffer.from([u.withdrawn.length >> 8, u.withdrawn.length & 255]), u.withdrawn, Buffer.from([body.length >> 8, body.length & 255]), body, nlri]);
  fixHeader(out, at);
  return out;
}

const CAP_CODES = [1, 2, 5, 6, 64, 65, 69, 70, 71, 73, 128, 0, 255];

/** The capabilities of an OPEN's optional parameters, flattened (type 2 only). */
function openCapabilities(b: Buffer, at: number): Tlv[] | undefined {
  if (b.length - at < 29 || b[at + 18] !== 1) return undefined;
  const caps: Tlv[] = [];
  let p = at + 29;
  const ext = b[at + 28] === 255 && b[p] === 255;
  if (ext) p += 3;
  while (p + (ext ? 3 : 2) <= b.length) {
    const len = ext ? b.readUInt16BE(p + 1) : b[p + 1];
    const v = p + (ext ? 3 : 2);
    if (v + len > b.length) return undefined;
    for (let c = v; c + 2 <= v + len && c + 2 + b[c + 1] <= v + len; c += 2 + b[c + 1]) caps.push({ head: 0, code: b[c], value: Buffer.from(b.subarray(c + 2, c + 2 + b[c + 1])) });
    p = v + len;
  }
  return caps;
}

function capabilityMutation(b: Buffer, at: number, r: Rng, donor: Buffer): Buffer | undefined {
  const caps = openCapabilities(b, at);
  if (!caps) return undefined;
  const d = openCapabilities(donor, 0) ?? openCapabilities(donor, 1) ?? [];
  const i = int(r, Math.max(1, caps.length));
  switch (int(r, 4)) {
    case 0:
      if (d.length > 0) caps.splice(int(r, caps.length + 1), 0, d[int(r, d.length)]);
      break;
    case 1:
      caps.splice(int(r, caps.length + 1), 0, { head: 0, code: CAP_CODES[int(r, CAP_CODES.length)], value: bytes(r, [0, 2, 4, 6, 8, int(r, 12)][int(r, 6)]) });
      break;
    case 2:
      caps.splice(i, 1);
      break;
    default:
      if (caps[i]) caps[i] = { ...caps[i], value: byteMutation(Buffer.from(caps[i].value), r, 0, donor).subarray(0, 255) };
      break;
  }
  const capBytes = Buffer.concat(caps.map((c) => Buffer.concat([Buffer.from([c.code, c.value.length]), c.value])));
  // RFC 9072: an extended parameters length when asked to or when one octet cannot hold it.
  const extended = capBytes.length > 253 || r() < 0.1;
  const params = extended
    ? Buffer.concat([Buffer.from([255, 255, (capBytes.length + 3) >> 8, (capBytes.length + 3) & 255, 2, capBytes.length >> 8, capBytes.length & 255]), capBytes])
    : Buffer.concat([Buffer.from([capBytes.length + 2, 2, capBytes.length]), capBytes]);
  const out = Buffer.concat([b.subarray(0, at + 28), params]);
  fixHeader(out, at);
  return out;
}

/**
 * One mutant of `input`. `prefix` leading bytes are context (flipped rarely); `bgpAt` is where a
 * BGP message starts in the input (-1: not BGP, no BGP-aware mutators).
 */
export function mutate(input: Uint8Array, donor: Uint8Array, r: Rng, prefix: number, bgpAt: number): Uint8Array {
  let b: Buffer = Buffer.from(input);
  const d = Buffer.from(donor);
  if (prefix > 0 && r() < 0.1) {
    const at = int(r, Math.min(prefix, b.length));
    if (b.length > at) b[at] = r() < 0.5 ? b[at] ^ (1 << int(r, 8)) : int(r, 256);
    return b;
  }
  if (bgpAt >= 0 && r() < 0.4) {
    const m = r() < 0.5 ? attributeMutation(b, bgpAt, r, d) : capabilityMutation(b, bgpAt, r, d);
    if (m) return m;
  }
  const n = 1 + int(r, 4);
  for (let i = 0; i < n; i++) b = byteMutation(b, r, prefix, d);
  if (bgpAt >= 0 && r() < 0.8) {
    b = Buffer.from(b);
    fixHeader(b, bgpAt);
  }
  return b;
}
