/**
 * Communities as operators write them: RFC 1997 "AS:value" (each 0..65535) and RFC 8092 large
 * communities "global:local1:local2" (each 0..4294967295), to and from the attribute values of
 * attributes.ts; and RFC 8326's GRACEFUL_SHUTDOWN well-known community (65535:0). Pure.
 * Not here: the attribute codecs (attribute-values.ts).
 */

import type { LargeCommunity } from './attributes.js';

/** RFC 8326 section 5: GRACEFUL_SHUTDOWN, 65535:0. */
export const GRACEFUL_SHUTDOWN = 0xffff0000;

/** "AS:value" as a 32-bit community, or undefined. */
export function parseCommunity(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  return hi > 0xffff || lo > 0xffff ? undefined : ((hi << 16) | lo) >>> 0;
}

/** "global:local1:local2", or undefined. */
export function parseLargeCommunity(text: unknown): LargeCommunity | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text);
  if (m === null) return undefined;
  const [g, a, b] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return g > 0xffffffff || a > 0xffffffff || b > 0xffffffff ? undefined : { global: g, local1: a, local2: b };
}

export function formatCommunity(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.global}:${c.local1}:${c.local2}`;
}
