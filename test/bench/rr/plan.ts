/**
 * bench:rr's address plan: where the reflector and the N clients sit, which blocks each client
 * announces, and the arithmetic that maps a received prefix back to (client, slot) without a
 * string per prefix. Pure numbers; no sockets, no namespaces.
 *
 * Reflector 10.128.255.254/16 and fd00::fffe/64 on one veth; client i at 10.128.0.1 + i (IPv4
 * next hop) with IPv6 next hop fd00::(i+1), on-link for the reflector. Client i owns the /24
 * 100.64.0.0 + 256 i (pool 100.64.0.0/10, /26 blocks) and fd10:0:0:i::/122 (pool fd10::/48):
 * slot 0 and 1 are its two IPv4 /26 at start, slot 2 its IPv6 /122, slot 3 the IPv4 /26 it
 * announces instead of slot 0 at churn.
 */

export const AS = 65000;
export const PORT = 179;
export const REFLECTOR_V4 = '10.128.255.254';
export const REFLECTOR_V6 = 'fd00::fffe';
export const CLUSTER_ID = REFLECTOR_V4;
export const LINK_V4_LENGTH = 16;
export const LINK_V6_LENGTH = 64;
export const POOL_V4 = '100.64.0.0/10';
export const POOL_V6 = 'fd10::/48';

const CLIENT_BASE = 0x0a800001; // 10.128.0.1
const BLOCK_BASE = 0x64400000; // 100.64.0.0
export const MAX_CLIENTS = 16_000; // 100.64.0.0/10 holds 16,384 client /24s; 10.128/16 a few more hosts

export const SLOTS = 4;
export const Slot = { A: 0, B: 1, V6: 2, CHURN: 3 } as const;
/** The blocks every other client must hold of a client at start (A, B, V6). */
export const BLOCKS_AT_START = 3;

export function clientAddress(i: number): number {
  return (CLIENT_BASE + i) >>> 0;
}

export function numberToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The /26 of client i in slot 0, 1 or 3, as a number. */
export function blockV4(i: number, slot: number): number {
  return (BLOCK_BASE + i * 256 + slot * 64) >>> 0;
}

/** The IPv6 next hop of client i: fd00::(i+1). */
export function nextHopV6(i: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0xfd;
  const v = i + 1;
  b[12] = (v >>> 24) & 255;
  b[13] = (v >>> 16) & 255;
  b[14] = (v >>> 8) & 255;
  b[15] = v & 255;
  return b;
}

/** fd10:0:0:i::/122's 16 bytes. */
export function blockV6(i: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0xfd;
  b[1] = 0x10;
  b[6] = (i >>> 8) & 255;
  b[7] = i & 255;
  return b;
}

/** (client << 2 | slot) of an IPv4 prefix, or -1 when it is none of the plan's blocks. */
export function keyOfV4(addr: number, length: number): number {
  if (length !== 26) return -1;
  const off = (addr - BLOCK_BASE) >>> 0;
  if (off >= MAX_CLIENTS * 256 || (off & 63) !== 0) return -1;
  const slot = (off >>> 6) & 3;
  return slot === Slot.V6 ? -1 : ((off >>> 8) << 2) | slot;
}

/** (client << 2 | 2) of an IPv6 prefix whose 16 bytes start at `at`, or -1. */
export function keyOfV6(buf: Uint8Array, at: number, length: number): number {
  if (length !== 122 || buf[at] !== 0xfd || buf[at + 1] !== 0x10) return -1;
  if ((buf[at + 2] | buf[at + 3] | buf[at + 4] | buf[at + 5]) !== 0) return -1;
  for (let k = 8; k < 16; k++) if (buf[at + k] !== 0) return -1;
  return (((buf[at + 6] << 8) | buf[at + 7]) << 2) | Slot.V6;
}

/** The clients that churn: 1% of N (at least one), spread evenly, never the frozen one. */
export function churnClients(n: number, frozen: number): number[] {
  const count = Math.max(1, Math.ceil(n / 100));
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    let i = Math.floor((k * n) / count) + 1;
    if (i >= n) i = 0;
    if (i === frozen) i = (i + 1) % n;
    if (!out.includes(i)) out.push(i);
  }
  return out;
}

/** The frozen client's index (-1: none). */
export function frozenClient(n: number, frozen: boolean): number {
  return frozen ? Math.floor(n / 2) : -1;
}
