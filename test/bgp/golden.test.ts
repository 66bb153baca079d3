/**
 * Golden vectors: messages captured from real BIRD 2 and FRR sessions (test/fixtures/bgp, made by
 * test/fixtures/capture/capture.sh) decoded and compared with what tshark decoded from the same
 * capture, an oracle independent of this codec. Then re-encoded: the same value always, and the
 * same bytes where the sender made the same layout choices as this encoder.
 */

import test from 'ava';
import {
  AS_SET_REASON,
  decodeAsPath,
  decodeMessage,
  encodeMessage,
  formatPrefix,
  PathFault,
  shutdownCommunication,
  type Capability,
  type Message,
  type Prefix,
  type UpdateMessage,
} from '../../agent/bgp/index.js';
import { fixtureBytes, fixtureContext, loadManifest, type ManifestEntry } from './fixtures.js';

const manifest = loadManifest();

test('the golden fixtures cover BIRD 2 and FRR, every message type, IPv4 and IPv6', (t) => {
  const senders = new Set(manifest.map((e) => e.sender.split(' ')[0].toUpperCase()));
  t.true(senders.has('BIRD') && senders.has('FRR'), [...senders].join(','));
  for (const type of ['OPEN', 'UPDATE', 'NOTIFICATION', 'KEEPALIVE', 'ROUTE-REFRESH']) {
    t.true(manifest.some((e) => e.type === type), `a ${type} fixture`);
  }
  t.true(manifest.some((e) => e.expected.mpReach !== undefined), 'an MP_REACH_NLRI fixture');
  t.true(manifest.some((e) => e.context?.addPathReceive?.ipv4 || e.context?.addPathReceive?.ipv6), 'an add-path fixture');
});

const TYPE: Record<ManifestEntry['type'], Message['type']> = {
  OPEN: 'open',
  UPDATE: 'update',
  NOTIFICATION: 'notification',
  KEEPALIVE: 'keepalive',
  'ROUTE-REFRESH': 'route-refresh',
};

const community = (c: number): string => `${c >>> 16}:${c & 0xffff}`;
const prefixText = (p: Prefix): string => formatPrefix({ ...p, pathId: undefined } as Prefix);
/** Path ids of a list, or undefined when the list carries none (no add-path). */
const ids = (list: readonly Prefix[]): (number | undefined)[] | undefined => (list.some((x) => x.pathId !== undefined) ? list.map((x) => x.pathId) : undefined);
/** Drops keys whose value is undefined, as the manifest leaves them out. */
const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
const segments = (path?: readonly { type: string; asns: readonly number[] }[]) =>
  path?.map((s) => ({ type: { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 }[s.type], asns: [...s.asns] }));

/** Attribute flags and values as on the wire, read back from the bytes (the decoded form keeps no flags). */
function rawAttributes(bytes: Uint8Array): { flags: Record<string, number>; values: Map<number, Uint8Array> } {
  const flags: Record<string, number> = {};
  const values = new Map<number, Uint8Array>();
  const wr = (bytes[19] << 8) | bytes[20];
  let p = 21 + wr + 2;
  const end = p + ((bytes[19 + 2 + wr] << 8) | bytes[19 + 3 + wr]);
  while (p < end) {
    flags[String(bytes[p + 1])] = bytes[p];
    const ext = bytes[p] & 0x10;
    const hdr = ext ? 4 : 3;
    const len = ext ? (bytes[p + 2] << 8) | bytes[p + 3] : bytes[p + 2];
    values.set(bytes[p + 1], bytes.subarray(p + hdr, p + hdr + len));
    p += hdr + len;
  }
  return { flags, values };
}

/** A captured path with AS_SET or AS_CONFED_SET (types 1 and 4): RFC 9774 treat-as-withdraw. */
const hasSet = (path: unknown): boolean => Array.isArray(path) && path.some((s: { type: number }) => s.type === 1 || s.type === 4);

/**
 * Our decoded UPDATE in the manifest's terms. For an RFC 9774 UPDATE (an AS_SET aggregate) the
 * decoder leaves the paths out; they are checked against tshark by decoding the raw attribute.
 */
function updateView(u: UpdateMessage, bytes: Uint8Array, asnSize: 2 | 4): Record<string, unknown> {
  const a = u.attributes;
  const { flags, values } = rawAttributes(bytes);
  const raw = (code: number, size: 2 | 4) => {
    const v = values.get(code);
    const path = v === undefined ? undefined : decodeAsPath(v, size);
    return path instanceof PathFault ? undefined : path;
  };
  const v: Record<string, unknown> = {
    withdrawn: u.withdrawn.map(prefixText),
    nlri: u.nlri.map(prefixText),
    pathIds: ids(u.nlri),
    withdrawnPathIds: ids(u.withdrawn),
    origin: a.origin,
    asPath: segments(a.asPath ?? raw(2, asnSize)),
    nextHop: a.nextHop,
    med: a.med,
    localPref: a.localPref,
    communities: a.communities?.map(community),
    largeCommunities: a.largeCommunities?.map((c) => `${c.global}:${c.local1}:${c.local2}`),
    extendedCommunities: a.extendedCommunities?.map((c) => c.toString(16).padStart(16, '0')),
    originatorId: a.originatorId,
    clusterList: a.clusterList,
    as4Path: segments(a.as4Path ?? (asnSize === 2 ? raw(17, 4) : undefined)),
    aggregator: a.aggregator,
    as4Aggregator: a.as4Aggregator,
    atomicAggregate: a.atomicAggregate,
    attributeFlags: flags,
    nlriCount: u.nlri.length + (a.mpReach?.nlri.length ?? 0),
  };
  if (a.mpReach) {
    v.mpReach = defined({ afi: a.mpReach.afi, safi: a.mpReach.safi, nextHops: a.mpReach.nextHops, nlri: a.mpReach.nlri.map(prefixText), pathIds: ids(a.mpReach.nlri) });
  }
  if (a.mpUnreach) v.mpUnreach = defined({ afi: a.mpUnreach.afi, safi: a.mpUnreach.safi, withdrawn: a.mpUnreach.withdrawn.map(prefixText), pathIds: ids(a.mpUnreach.withdrawn) });
  const all = [...u.nlri, ...(a.mpReach?.nlri ?? [])];
  if (all.length > 0) {
    v.nlriFirst = prefixText(all[0]);
    v.nlriLast = prefixText(all[all.length - 1]);
  }
  return v;
}

function capabilityView(c: Capability): Record<string, unknown> {
  switch (c.kind) {
    case 'multiprotocol':
      return { code: 1, afi: c.afi, safi: c.safi };
    case 'route-refresh':
      return { code: 2 };
    case 'extended-message':
      return { code: 6 };
    case 'extended-next-hop':
      return { code: 5, tuples: c.tuples.map((x) => ({ afi: x.afi, safi: x.safi, nextHopAfi: x.nextHopAfi })) };
    case 'graceful-restart':
      return {
        code: 64,
        restartTime: c.restartTime,
        restarting: c.restarting,
        notification: c.notification,
        families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, flags: f.forwarding ? 128 : 0 })),
      };
    case 'four-octet-as':
      return { code: 65, asn: c.asn };
    case 'add-path':
      return { code: 69, families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, sendReceive: { receive: 1, send: 2, both: 3 }[f.mode] })) };
    case 'enhanced-route-refresh':
      return { code: 70 };
    case 'unknown':
      return { code: c.code, length: c.value.length };
  }
}

/** Compares the keys tshark gave with ours; `restartFlags` is tshark's 4-bit field. */
function compare(t: import('ava').ExecutionContext, ours: Record<string, unknown>, expected: Record<string, unknown>, where: string): void {
  for (const [key, want] of Object.entries(expected)) {
    if (key === 'restartFlags') {
      const flags = (ours.restarting ? 8 : 0) | (ours.notification ? 4 : 0);
      t.true(want === flags || want === flags << 4, `${where}.restartFlags: ${String(want)} vs R=${String(ours.restarting)} N=${String(ours.notification)}`);
      continue;
    }
    if (key === 'length' && ours.code !== undefined && ours.length === undefined) continue;
    if (key === 'pathIds' && Array.isArray(want) && want.length === 0) continue;
    // The decoded OPEN keeps capabilities, not how the sender grouped them into parameters.
    if (key === 'optionalParameterCount') continue;
    t.deepEqual(ours[key], want, `${where}.${key}`);
  }
}

for (const entry of manifest) {
  test(`golden: ${entry.file} (${entry.sender}, ${entry.type})`, (t) => {
    const bytes = fixtureBytes(entry);
    const ctx = fixtureContext(entry);
    t.is(bytes.length, entry.length, 'fixture length');
    const msg = decodeMessage(bytes, ctx);
    t.is(msg.type, TYPE[entry.type]);
    const e = entry.expected;
    // RFC 9774: an AS_SET aggregate (FRR's, and BIRD passing it on) is treat-as-withdraw.
    const asSet = hasSet(e.asPath) || hasSet(e.as4Path);
    if (msg.type === 'update' && asSet) {
      t.true((msg.errors?.length ?? 0) > 0, 'RFC 9774 findings');
      for (const x of msg.errors ?? []) t.deepEqual([x.reason, x.action], [AS_SET_REASON, 'withdraw'], x.message);
    } else if (msg.type === 'update') t.is(msg.errors, undefined, msg.errors?.map((x) => x.message).join('; '));
    switch (msg.type) {
      case 'open': {
        compare(t, { version: msg.version, myAs: msg.myAs, holdTime: msg.holdTime, bgpId: msg.bgpId }, { version: e.version, myAs: e.myAs, holdTime: e.holdTime, bgpId: e.bgpId }, 'open');
        const caps = (e.capabilities as Record<string, unknown>[]) ?? [];
        t.is(msg.capabilities.length, caps.length, 'capability count');
        caps.forEach((want, i) => compare(t, capabilityView(msg.capabilities[i]), want, `capability[${i}]`));
        break;
      }
      case 'update':
        compare(t, updateView(msg, bytes, ctx.fourOctetAs ? 4 : 2), e, 'update');
        break;
      case 'notification':
        t.is(msg.code, e.code as number);
        t.is(msg.subcode, e.subcode as number);
        if (typeof e.data === 'string') t.is(Buffer.from(msg.data).toString('hex'), e.data);
        // RFC 9003 text as the daemons send it (FRR's has a multi-byte character).
        if (e.shutdownCommunication !== undefined) t.is(shutdownCommunication(msg), e.shutdownCommunication as string);
        if (e.shutdownCommunicationLength !== undefined) t.is(msg.data[0], e.shutdownCommunicationLength as number);
        break;
      case 'route-refresh':
        t.deepEqual({ afi: msg.afi, safi: msg.safi, subtype: msg.subtype }, { afi: e.afi, safi: e.safi, subtype: e.subtype ?? 0 });
        break;
      case 'keepalive':
        break;
    }
    // Re-encoding: the same value always (an RFC 9774 UPDATE has lost its paths: no same bytes).
    if (asSet) return;
    const again = encodeMessage(msg, ctx);
    const redecoded = decodeMessage(again, ctx);
    t.deepEqual(redecoded, msg, 'decode(encode(decode(bytes))) equals decode(bytes)');
    const same = Buffer.compare(Buffer.from(again), Buffer.from(bytes)) === 0;
    if (!same) t.log(`re-encoded bytes differ from ${entry.sender}'s layout (${layoutNote(bytes, again)})`);
    // BIRD lays messages out as this encoder does (one capability parameter, attributes by code).
    if (entry.sender.startsWith('BIRD') || (msg.type !== 'update' && msg.type !== 'open')) {
      t.true(same, `re-encodes byte for byte (${layoutNote(bytes, again)})`);
    }
  });
}

function layoutNote(orig: Uint8Array, ours: Uint8Array): string {
  let i = 0;
  while (i < orig.length && orig[i] === ours[i]) i++;
  return `first difference at byte ${i} of ${orig.length}/${ours.length}`;
}

