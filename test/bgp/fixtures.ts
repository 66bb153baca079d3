/**
 * Reads the golden fixtures of test/fixtures/bgp: one BGP message per .hex file, hex bytes with
 * `#` comments, and manifest.json describing each (sender, context, what tshark decoded).
 */

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { contextWith, type CodecContext } from '../../agent/bgp/index.js';

/** test/fixtures/bgp in the source tree (tests run from dist/test/bgp). */
export const FIXTURE_DIR = fileURLToPath(new URL('../../../test/fixtures/bgp/', import.meta.url));

export interface ManifestEntry {
  readonly file: string;
  readonly sender: string;
  readonly receiver?: string;
  readonly scenario: string;
  readonly type: 'OPEN' | 'UPDATE' | 'NOTIFICATION' | 'KEEPALIVE' | 'ROUTE-REFRESH';
  readonly length: number;
  readonly context?: {
    readonly fourOctetAs?: boolean;
    readonly addPathReceive?: { readonly ipv4?: boolean; readonly ipv6?: boolean };
    readonly extendedMessage?: boolean;
  };
  readonly expected: Record<string, unknown>;
}

export function parseHex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error('fixture is not whole hex bytes');
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

export function loadManifest(): ManifestEntry[] {
  const path = `${FIXTURE_DIR}manifest.json`;
  if (!existsSync(path)) return [];
  return JSON.parse(readFileSync(path, 'utf8')) as ManifestEntry[];
}

export function fixtureBytes(entry: ManifestEntry): Uint8Array {
  return parseHex(readFileSync(`${FIXTURE_DIR}${entry.file}`, 'utf8'));
}

export function fixtureContext(entry: ManifestEntry): CodecContext {
  const c = entry.context ?? {};
  return contextWith({
    fourOctetAs: c.fourOctetAs ?? true,
    addPathIpv4: c.addPathReceive?.ipv4 ?? false,
    addPathIpv6: c.addPathReceive?.ipv6 ?? false,
    external: false,
    maxLength: c.extendedMessage ? 65535 : 4096,
  });
}
