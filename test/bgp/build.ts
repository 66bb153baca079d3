/**
 * Raw byte builders for tests: messages assembled by hand, so malformed ones can be made that the
 * encoder would refuse to produce.
 */

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p instanceof Uint8Array ? p : Uint8Array.from(p)))));
}

/** A message with a correct header around `body`. */
export function message(type: number, body: Uint8Array | number[], length?: number): Uint8Array {
  const b = body instanceof Uint8Array ? body : Uint8Array.from(body);
  const total = length ?? 19 + b.length;
  return cat(new Array<number>(16).fill(0xff), [total >> 8, total & 255, type], b);
}

/** One path attribute with the given flags; the extended-length bit picks the length size. */
export function attr(flags: number, code: number, value: Uint8Array | number[]): Uint8Array {
  const v = value instanceof Uint8Array ? value : Uint8Array.from(value);
  return flags & 0x10 ? cat([flags, code, v.length >> 8, v.length & 255], v) : cat([flags, code, v.length], v);
}

export function update(opts: { withdrawn?: Uint8Array | number[]; attrs?: Uint8Array | number[]; nlri?: Uint8Array | number[] }): Uint8Array {
  const w = Uint8Array.from(opts.withdrawn ?? []);
  const a = Uint8Array.from(opts.attrs ?? []);
  const n = Uint8Array.from(opts.nlri ?? []);
  return message(2, cat([w.length >> 8, w.length & 255], w, [a.length >> 8, a.length & 255], a, n));
}

export const ORIGIN_IGP = attr(0x40, 1, [0]);
export const AS_PATH_EMPTY = attr(0x40, 2, []);
export const AS_PATH_65100 = attr(0x40, 2, [2, 1, 0, 0, 0xfe, 0x4c]);
export const NEXT_HOP = attr(0x40, 3, [10, 0, 1, 1]);
/** 192.168.0.0/26 */
export const NLRI_ONE = [26, 192, 168, 0, 0];
export const MANDATORY = cat(ORIGIN_IGP, AS_PATH_65100, NEXT_HOP);
