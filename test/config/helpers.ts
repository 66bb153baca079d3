/** Temp directories and config files for the config tests; every file goes under one temp dir. */

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export function makeTempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-config-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `doc` as YAML or JSON by the name's extension, or `text` verbatim; returns the path. */
export function writeConfig(dir: string, name: string, doc: unknown): string {
  const path = join(dir, name);
  const text = typeof doc === 'string' ? doc : name.endsWith('.json') ? JSON.stringify(doc, null, 2) : stringify(doc);
  writeFileSync(path, text);
  return path;
}

export function writeKeyFile(dir: string, name: string, content: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode); // explicit: the umask must not decide
  return path;
}

/** A small valid config: one ToR peer, one pool, one block. Tests clone and break it. */
export function baseDoc(): Record<string, any> {
  return {
    node: { name: 'r1-n03', ipv4Address: '10.0.1.13/24' },
    bgp: { asNumber: 64512, peers: [{ peerIP: '10.0.1.1', asNumber: 64512 }] },
    pools: [{ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' }],
    blocks: ['192.168.0.0/26'],
  };
}
