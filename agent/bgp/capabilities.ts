/**
 * OPEN capabilities (RFC 5492), one table row per capability code: multiprotocol (RFC 4760),
 * route refresh (RFC 2918), extended message (RFC 8654), graceful restart with R, N and F bits
 * (RFC 4724, RFC 8538), 4-octet AS (RFC 6793), add-path (RFC 7911), enhanced route refresh
 * (RFC 7313), extended next hop (RFC 8950 section 3: <NLRI AFI, NLRI SAFI, next-hop AFI> tuples,
 * 2 + 2 + 2 octets each, the SAFI carried in 16 bits). Any other code is kept as opaque bytes. Not here: negotiation (the session's job).
 */

import { CapCode } from './constants.js';

export interface FamilyRef {
  readonly afi: number;
  readonly safi: number;
}

export type AddPathMode = 'receive' | 'send' | 'both';

export type Capability =
  | { readonly kind: 'multiprotocol'; readonly afi: number; readonly safi: number }
  | { readonly kind: 'route-refresh' }
  | { readonly kind: 'enhanced-route-refresh' }
  | { readonly kind: 'extended-message' }
  | { readonly kind: 'four-octet-as'; readonly asn: number }
  | {
      readonly kind: 'graceful-restart';
      /** R bit: the sender is restarting. */
      readonly restarting: boolean;
      /** N bit (RFC 8538): the sender supports graceful restart for NOTIFICATIONs. */
      readonly notification: boolean;
      /** Seconds, 12 bits. */
      readonly restartTime: number;
      readonly families: readonly (FamilyRef & { readonly forwarding: boolean })[];
    }
  | { readonly kind: 'add-path'; readonly families: readonly (FamilyRef & { readonly mode: AddPathMode })[] }
  | { readonly kind: 'extended-next-hop'; readonly tuples: readonly (FamilyRef & { readonly nextHopAfi: number })[] }
  | { readonly kind: 'unknown'; readonly code: number; readonly value: Uint8Array };

/** What went wrong with a known capability's value; becomes an OPEN error, subcode 0. */
export class CapabilityFault {
  constructor(readonly message: string) {}
}

interface CapRow {
  readonly code: number;
  readonly kind: Capability['kind'];
  decode(v: Uint8Array): Capability | CapabilityFault;
  encode(c: Capability): Uint8Array;
}

const u16 = (v: Uint8Array, at: number): number => (v[at] << 8) | v[at + 1];
const u32 = (v: Uint8Array, at: number): number =>
  ((v[at] << 24) | (v[at + 1] << 16) | (v[at + 2] << 8) | v[at + 3]) >>> 0;

function empty(kind: 'route-refresh' | 'enhanced-route-refresh' | 'extended-message', code: number): CapRow {
  return {
    code,
    kind,
    decode: (v) => (v.length === 0 ? { kind } : new CapabilityFault(`${kind} capability must be empty, has ${v.length} bytes`)),
    encode: () => new Uint8Array(0),
  };
}

const MODES: readonly (AddPathMode | undefined)[] = [undefined, 'receive', 'send', 'both'];

const ROWS: readonly CapRow[] = [
  {
    code: CapCode.MULTIPROTOCOL,
    kind: 'multiprotocol',
    decode: (v) =>
      v.length === 4
        ? { kind: 'multiprotocol', afi: u16(v, 0), safi: v[3] }
        : new CapabilityFault(`multiprotocol capability must be 4 bytes, has ${v.length}`),
    encode: (c) => {
      const m = c as Extract<Capability, { kind: 'multiprotocol' }>;
      return Uint8Array.of(m.afi >> 8, m.afi & 255, 0, m.safi);
    },
  },
  empty('route-refresh', CapCode.ROUTE_REFRESH),
  empty('extended-message', CapCode.EXTENDED_MESSAGE),
  empty('enhanced-route-refresh', CapCode.ENHANCED_ROUTE_REFRESH),
  {
    code: CapCode.FOUR_OCTET_AS,
    kind: 'four-octet-as',
    decode: (v) =>
      v.length === 4
        ? { kind: 'four-octet-as', asn: u32(v, 0) }
        : new CapabilityFault(`4-octet AS capability must be 4 bytes, has ${v.length}`),
    encode: (c) => {
      const a = (c as Extract<Capability, { kind: 'four-octet-as' }>).asn;
      return Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    },
  },
  {
    code: CapCode.GRACEFUL_RESTART,
    kind: 'graceful-restart',
    decode: (v) => {
      if (v.length < 2 || (v.length - 2) % 4 !== 0) {
        return new CapabilityFault(`graceful restart capability must be 2 + 4n bytes, has ${v.length}`);
      }
      const families = [];
      for (let at = 2; at < v.length; at += 4) {
        families.push({ afi: u16(v, at), safi: v[at + 2], forwarding: (v[at + 3] & 0x80) !== 0 });
      }
      return {
        kind: 'graceful-restart',
        restarting: (v[0] & 0x80) !== 0,
        notification: (v[0] & 0x40) !== 0,
        restartTime: u16(v, 0) & 0x0fff,
        families,
      };
    },
    encode: (c) => {
      const g = c as Extract<Capability, { kind: 'graceful-restart' }>;
      const out = new Uint8Array(2 + 4 * g.families.length);
      const t = g.restartTime & 0x0fff;
      out[0] = (g.restarting ? 0x80 : 0) | (g.notification ? 0x40 : 0) | (t >> 8);
      out[1] = t & 255;
      g.families.forEach((f, i) => {
        const at = 2 + 4 * i;
        out[at] = f.afi >> 8;
        out[at + 1] = f.afi & 255;
        out[at + 2] = f.safi;
        out[at + 3] = f.forwarding ? 0x80 : 0;
      });
      return out;
    },
  },
  {
    code: CapCode.ADD_PATH,
    kind: 'add-path',
    decode: (v) => {
      if (v.length === 0 || v.length % 4 !== 0) {
        return new CapabilityFault(`add-path capability must be 4n bytes, has ${v.length}`);
      }
      const families = [];
      for (let at = 0; at < v.length; at += 4) {
        const mode = MODES[v[at + 3]];
        // RFC 7911 section 4: any other Send/Receive value makes the capability not understood.
        if (mode === undefined) return { kind: 'unknown', code: CapCode.ADD_PATH, value: v };
        families.push({ afi: u16(v, at), safi: v[at + 2], mode });
      }
      return { kind: 'add-path', families };
    },
    encode: (c) => {
      const a = c as Extract<Capability, { kind: 'add-path' }>;
      const out = new Uint8Array(4 * a.families.length);
      a.families.forEach((f, i) => {
        out[4 * i] = f.afi >> 8;
        out[4 * i + 1] = f.afi & 255;
        out[4 * i + 2] = f.safi;
        out[4 * i + 3] = MODES.indexOf(f.mode);
      });
      return out;
    },
  },
  {
    code: CapCode.EXTENDED_NEXT_HOP,
    kind: 'extended-next-hop',
    decode: (v) => {
      if (v.length === 0 || v.length % 6 !== 0) {
        return new CapabilityFault(`extended next hop capability must be 6n bytes, has ${v.length}`);
      }
      const tuples = [];
      for (let at = 0; at < v.length; at += 6) tuples.push({ afi: u16(v, at), safi: u16(v, at + 2), nextHopAfi: u16(v, at + 4) });
      return { kind: 'extended-next-hop', tuples };
    },
    encode: (c) => {
      const e = c as Extract<Capability, { kind: 'extended-next-hop' }>;
      const out = new Uint8Array(6 * e.tuples.length);
      e.tuples.forEach((t, i) => {
        [t.afi, t.safi, t.nextHopAfi].forEach((n, k) => {
          out[6 * i + 2 * k] = n >> 8;
          out[6 * i + 2 * k + 1] = n & 255;
        });
      });
      return out;
    },
  },
];

const BY_CODE = new Map<number, CapRow>(ROWS.map((r) => [r.code, r]));
const BY_KIND = new Map<Capability['kind'], CapRow>(ROWS.map((r) => [r.kind, r]));

export function decodeCapability(code: number, value: Uint8Array): Capability | CapabilityFault {
  const row = BY_CODE.get(code);
  return row ? row.decode(value) : { kind: 'unknown', code, value };
}

/** Returns [code, value bytes]. */
export function encodeCapability(c: Capability): [number, Uint8Array] {
  if (c.kind === 'unknown') return [c.code, c.value];
  const row = BY_KIND.get(c.kind);
  if (!row) throw new TypeError(`no encoder for capability ${c.kind}`);
  return [row.code, row.encode(c)];
}

export function capabilityName(code: number): string {
  return BY_CODE.get(code)?.kind ?? `capability-${code}`;
}
