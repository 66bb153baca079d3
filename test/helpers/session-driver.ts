/**
 * A standalone BGP speaker for integration tests: a SessionManager with the peers of SPEC.json,
 * run inside a lab namespace as `node dist/test/helpers/session-driver.js SPEC.json`.
 *
 * SPEC.json: {"listenPort": number, "peers": PeerSpec[], "announce": {"ipv4": [...], "ipv6": [...]},
 *   "nextHop": {"ipv4": string, "ipv6": string}, "connectRetrySeconds"?: number,
 *   "idleHoldSeconds"?: number (optional extra: the idle-hold minimum and maximum)}
 * On `established` it announces its prefixes of every negotiated family (ORIGIN IGP, AS_PATH empty
 * for iBGP or [localAs] for eBGP, LOCAL_PREF 100 for iBGP, IPv6 in MP_REACH_NLRI) and then the
 * End-of-RIB of each family; on `route-refresh` it sends them again, between BoRR and EoRR when
 * enhanced route refresh was negotiated (RFC 7313 section 4).
 *
 * stdout, one JSON object per line:
 *   {"ev":"ready","port"}  once listening (port: the bound port, useful with listenPort 0)
 *   {"ev":"state","key","from","to","reason"}
 *   {"ev":"established","key","families"}
 *   {"ev":"update","key","announced":[...],"withdrawn":[...]} with prefix strings, or, once the peer
 *     has sent more than 1000 prefixes or the UPDATE carries more than 1000,
 *     {"ev":"update","key","announcedCount","withdrawnCount"} summed over the UPDATEs of one event
 *     loop turn; End-of-RIB adds "endOfRib": family
 *   {"ev":"down","key","reason"}
 *   {"ev":"status","sessions":[SessionStatus + "received": prefixes in the table],
 *     "loopDelayMaxMs": the worst event loop delay seen so far}
 * stdin, one JSON object per line: {"cmd":"status"}, {"cmd":"stop","key","communication"},
 *   {"cmd":"start","key"}, {"cmd":"exit"}; and {"cmd":"apply","peers":PeerSpec[]} (the reload path:
 *   answered by {"ev":"applied","added","removed","changed","unchanged"}, each a list of keys).
 * Logs go to stderr as JSON lines (debug level when DRIVER_DEBUG=1).
 */

import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { AFI } from '../../agent/bgp/constants.js';
import { formatPrefix, parsePrefix, type Prefix } from '../../agent/bgp/prefix.js';
import type { PathAttributes } from '../../agent/bgp/attributes.js';
import { endOfRibFamily, type UpdateMessage } from '../../agent/bgp/update.js';
import type { PeerSpec, SessionEvent } from '../../agent/contracts/engines.js';
import { SessionManager } from '../../agent/session/manager.js';
import { readPassword } from '../../config/password.js';
import type { FamilyName } from '../../agent/bgp/families.js';
import type { Logger } from '../../agent/contracts/log.js';

export interface DriverSpec {
  readonly listenPort: number;
  readonly peers: readonly PeerSpec[];
  readonly announce: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
  readonly nextHop: { readonly ipv4: string; readonly ipv6: string };
  readonly connectRetrySeconds?: number;
  readonly idleHoldSeconds?: number;
}

const LIST_LIMIT = 1000;

// Node writes to a stdout pipe synchronously: a busy reader would stall the driver's event loop
// and with it the sessions under test. Queue in libuv instead.
for (const stream of [process.stdout, process.stderr]) {
  (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })._handle?.setBlocking?.(false);
}

function out(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const debug = process.env.DRIVER_DEBUG === '1';
const logAt = (level: string) => (message: string, meta?: Record<string, unknown>): void => {
  if (level === 'debug' && !debug) return;
  process.stderr.write(`${JSON.stringify({ level, message, ...meta })}\n`);
};
const log: Logger = { error: logAt('error'), warn: logAt('warn'), info: logAt('info'), debug: logAt('debug') };

/**
 * Received prefixes per peer. IPv4 by length, each as its network bits (`addr >>> (32 - len)`):
 * small integers, which V8 hashes without allocating, so a million prefixes stay cheap. IPv6 as text.
 */
class Table {
  private readonly v4 = new Map<number, Set<number>>();
  private readonly v6 = new Set<string>();
  private count4 = 0;
  get size(): number {
    return this.count4 + this.v6.size;
  }
  add(p: Prefix): void {
    if (p.afi !== AFI.IPV4) {
      this.v6.add(formatPrefix(p));
      return;
    }
    let set = this.v4.get(p.len);
    if (!set) this.v4.set(p.len, (set = new Set()));
    const before = set.size;
    set.add(p.len === 0 ? 0 : p.addr >>> (32 - p.len));
    this.count4 += set.size - before;
  }
  delete(p: Prefix): void {
    if (p.afi !== AFI.IPV4) {
      this.v6.delete(formatPrefix(p));
      return;
    }
    if (this.v4.get(p.len)?.delete(p.len === 0 ? 0 : p.addr >>> (32 - p.len))) this.count4--;
  }
}

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as DriverSpec;
const peers = new Map(spec.peers.map((p) => [p.key, p]));
const tables = new Map<string, Table>();
const families = new Map<string, readonly FamilyName[]>();
const enhanced = new Set<string>();

function attributesFor(peer: PeerSpec, family: FamilyName): PathAttributes {
  const base: PathAttributes = {
    origin: 0,
    asPath: peer.internal ? [] : [{ type: 'sequence', asns: [peer.localAs] }],
    ...(peer.internal ? { localPref: 100 } : {}),
  };
  const fallback = (f: FamilyName): string => (peer.localAddress && peer.family === f ? peer.localAddress : '');
  if (family === 'ipv4') return { ...base, nextHop: spec.nextHop?.ipv4 || fallback('ipv4') };
  return { ...base, mpReach: { afi: AFI.IPV6, safi: 1, nextHops: [spec.nextHop?.ipv6 || fallback('ipv6')], nlri: [] } };
}

function routesOf(peer: PeerSpec, key: string, family: FamilyName): void {
  const prefixes = (spec.announce?.[family] ?? []).map((p) => parsePrefix(p));
  if (prefixes.length > 0) manager.send(key, { kind: 'update', update: { announce: [{ attributes: attributesFor(peer, family), prefixes }] } });
}

function announce(key: string): void {
  const peer = peers.get(key);
  if (!peer) return;
  for (const family of families.get(key) ?? []) {
    routesOf(peer, key, family);
    manager.send(key, { kind: 'end-of-rib', family });
  }
}

function refresh(key: string, family: FamilyName): void {
  const peer = peers.get(key);
  if (!peer) return;
  if (enhanced.has(key)) manager.send(key, { kind: 'begin-refresh', family });
  routesOf(peer, key, family);
  if (enhanced.has(key)) manager.send(key, { kind: 'end-refresh', family });
}

function received(key: string, u: UpdateMessage): void {
  const table = tables.get(key) ?? new Table();
  tables.set(key, table);
  const announced = [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])];
  const withdrawn = [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])];
  for (const p of withdrawn) table.delete(p);
  for (const p of announced) table.add(p);
  const eor = endOfRibFamily(u);
  const eorName = eor ? (eor.afi === AFI.IPV4 ? 'ipv4' : eor.afi === AFI.IPV6 ? 'ipv6' : `afi${eor.afi}`) : undefined;
  const extra = eorName ? { endOfRib: eorName } : {};
  if (table.size > LIST_LIMIT || announced.length + withdrawn.length > LIST_LIMIT) {
    counted(key, announced.length, withdrawn.length);
    if (eorName) flushCounts();
    if (eorName) out({ ev: 'update', key, announcedCount: 0, withdrawnCount: 0, ...extra });
  } else {
    flushCounts();
    // The AS path as the session hands it over (after the RFC 6793 merge), for short lists only.
    const path = announced.length > 0 ? { asPath: (u.attributes.asPath ?? []).flatMap((seg) => seg.asns) } : {};
    out({ ev: 'update', key, announced: announced.map(formatPrefix), withdrawn: withdrawn.map(formatPrefix), ...path, ...extra });
  }
}

/**
 * Count-only updates are summed per peer and written once per event loop turn: a full table is
 * thousands of UPDATEs, and stdout to a pipe is synchronous in Node, so a line per UPDATE would
 * let a slow reader (the test) stall the driver.
 */
const pendingCounts = new Map<string, { announced: number; withdrawn: number }>();
let countsScheduled = false;

function counted(key: string, announced: number, withdrawn: number): void {
  const c = pendingCounts.get(key) ?? { announced: 0, withdrawn: 0 };
  c.announced += announced;
  c.withdrawn += withdrawn;
  pendingCounts.set(key, c);
  if (!countsScheduled) {
    countsScheduled = true;
    setImmediate(flushCounts);
  }
}

function flushCounts(): void {
  countsScheduled = false;
  for (const [key, c] of pendingCounts) out({ ev: 'update', key, announcedCount: c.announced, withdrawnCount: c.withdrawn });
  pendingCounts.clear();
}

function onEvent(e: SessionEvent): void {
  const key = e.peer.key;
  switch (e.type) {
    case 'established':
      families.set(key, e.negotiated.families);
      if (e.negotiated.enhancedRouteRefresh) enhanced.add(key);
      else enhanced.delete(key);
      tables.set(key, tables.get(key) ?? new Table());
      out({ ev: 'established', key, families: e.negotiated.families });
      announce(key);
      return;
    case 'update':
      return received(key, e.update);
    case 'route-refresh':
      return refresh(key, e.family);
    case 'down':
      flushCounts();
      if (e.gracefulRestart === null) tables.delete(key);
      out({ ev: 'down', key, reason: e.reason, gracefulRestart: e.gracefulRestart });
  }
}

const manager = new SessionManager({
  listenPort: spec.listenPort,
  log,
  onEvent,
  readPassword,
  onStateChange: (c) => out({ ev: 'state', ...c }),
  ...(spec.connectRetrySeconds !== undefined ? { connectRetrySeconds: spec.connectRetrySeconds } : {}),
  ...(spec.idleHoldSeconds !== undefined ? { idleHoldSeconds: { min: spec.idleHoldSeconds, max: spec.idleHoldSeconds } } : {}),
});

function command(line: string): void {
  let cmd: { cmd?: string; key?: string; communication?: string; peers?: PeerSpec[] };
  try {
    cmd = JSON.parse(line) as typeof cmd;
  } catch {
    log.error(`not JSON on stdin: ${line}`);
    return;
  }
  switch (cmd.cmd) {
    case 'status':
      out({
        ev: 'status',
        sessions: manager.status().map((s) => ({ ...s, received: tables.get(s.key)?.size ?? 0 })),
        loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
      });
      return;
    case 'stop':
      manager.stopPeer(cmd.key ?? '', cmd.communication ?? '');
      return;
    case 'start':
      manager.startPeer(cmd.key ?? '');
      return;
    case 'exit':
      void exit();
      return;
    case 'apply': {
      const d = manager.apply(cmd.peers ?? []);
      for (const p of cmd.peers ?? []) peers.set(p.key, p);
      const k = (list: readonly PeerSpec[]): string[] => list.map((p) => p.key);
      out({ ev: 'applied', added: k(d.added), removed: k(d.removed), changed: k(d.changed), unchanged: k(d.unchanged) });
      return;
    }
    default:
      log.error(`unknown command: ${line}`);
  }
}

async function exit(): Promise<void> {
  input.close();
  await manager.close('driver exit');
  // Sockets flush their Cease and close; this is only the backstop.
  setTimeout(() => process.exit(0), 3000).unref();
}

process.on('uncaughtException', (err) => {
  log.error(`uncaught: ${err.stack ?? String(err)}`);
  process.exit(70);
});

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const input = createInterface({ input: process.stdin });
input.on('line', command);
await manager.listen();
manager.apply(spec.peers);
out({ ev: 'ready', port: manager.port });
