/**
 * Checks that relate keys to each other, after every key passed its own format: peers (one of
 * peerIP, peerSelector and interface, distinct addresses and interfaces, `external`/`internal` only
 * for interface peers, no MD5 on interface peers, IPv6 only with node.ipv6Address, password files),
 * keepalive against hold time (RFC 4271 section 4.4), send hold time above it (RFC 9687), the node inventory, pools and this node's
 * blocks (inside an enabled pool, exactly its blockSize), services (unique names and prefixes, no
 * own block, exactly one check kind, status only with http, timeout below interval), and the policy
 * rules (policy-checks.ts). A key that already has a problem is
 * skipped, so one mistake is reported once. Password files are stat'ed, never read.
 */

import { resolve } from 'node:path';
import { cidrContains, cidrsOverlap, parseCidr, parseEndpoint, type Cidr } from './addresses.js';
import { addProblem, hasProblemAt, type Problem } from './errors.js';
import { checkPasswordFile } from './password.js';
import { checkPolicy } from './policy-checks.js';
import type { RawConfig } from './raw.js';

export const DEFAULT_BLOCK_SIZE = { ipv4: 26, ipv6: 122 } as const;

export function crossCheck(raw: RawConfig, problems: Problem[], configDir: string): void {
  const ok = (path: string): boolean => !hasProblemAt(problems, path);
  /** No problem at exactly this path: a list is a list, an item a mapping (below may be wrong). */
  const isShaped = (path: string): boolean => !problems.some((p) => p.path === path);
  const add = (path: string, message: string): void => addProblem(problems, path, message);
  const { node, bgp } = raw;
  const v4 = ok('node.ipv4Address') ? parseCidr(node.ipv4Address) : undefined;
  const v6 = node.ipv6Address !== '' && ok('node.ipv6Address') ? parseCidr(node.ipv6Address) : undefined;
  const hasV6 = node.ipv6Address !== '';
  const noV6 = 'needs node.ipv6Address, which is not set';

  if (ok('bgp.holdTime') && ok('bgp.keepaliveTime')) checkKeepalive('bgp.keepaliveTime', bgp.holdTime, bgp.keepaliveTime, add);
  if (ok('bgp.holdTime') && ok('bgp.sendHoldTime')) checkSendHold('bgp.sendHoldTime', bgp.holdTime, bgp.sendHoldTime, add);

  const seen = new Map<string, string>();
  if (isShaped('bgp.peers')) {
    bgp.peers.forEach((peer, i) => {
      const base = `bgp.peers[${i}]`;
      if (!isShaped(base)) return; // not a mapping
      const ifname = peer.interface;
      if (peer.peerIP === '' && peer.peerSelector === '' && ifname === '' && ok(`${base}.peerIP`) && ok(`${base}.interface`)) add(`${base}.peerIP`, 'set peerIP, peerSelector or interface');
      if (peer.peerIP !== '' && peer.peerSelector !== '') add(`${base}.peerSelector`, 'must not be set together with peerIP');
      if (ifname !== '' && (peer.peerIP !== '' || peer.peerSelector !== '')) add(`${base}.interface`, 'must not be set together with peerIP or peerSelector');
      if ((peer.peerIP !== '' || ifname !== '') && peer.asNumber === null && ok(`${base}.asNumber`)) add(`${base}.asNumber`, `is required with ${ifname !== '' ? 'interface' : 'peerIP'}`);
      if (typeof peer.asNumber === 'string' && ifname === '') add(`${base}.asNumber`, `${peer.asNumber} is only for interface peers: give the peer's AS number`);
      if (peer.peerSelector !== '' && peer.asNumber !== null) {
        add(`${base}.asNumber`, "must not be set with peerSelector: each selected node's own asNumber is used");
      }
      if (ifname !== '' && ok(`${base}.interface`)) {
        const first = seen.get(`interface ${ifname}`);
        if (first !== undefined) add(`${base}.interface`, `${ifname} is already the peer ${first}`);
        else seen.set(`interface ${ifname}`, base);
        // TCP MD5 keys are set per peer address; an interface peer's address is found at run time.
        if (peer.passwordFile !== '') add(`${base}.passwordFile`, 'is not supported with interface (the link-local address is found at run time)');
      }
      if (peer.peerSelector !== '' && bgp.nodes.length === 0 && isShaped('bgp.nodes')) add(`${base}.peerSelector`, 'selects from bgp.nodes, which is empty');
      const endpoint = peer.peerIP !== '' && ok(`${base}.peerIP`) ? parseEndpoint(peer.peerIP) : undefined;
      if (endpoint) {
        const key = endpoint.address.key;
        const first = seen.get(key);
        if (first !== undefined) add(`${base}.peerIP`, `${key} is already the peer ${first}`);
        else seen.set(key, base);
        if (key === v4?.address.key || key === v6?.address.key) add(`${base}.peerIP`, `${key} is this node's own address`);
        if (endpoint.address.family === 'ipv6' && !hasV6) add(`${base}.peerIP`, `is an IPv6 peer and ${noV6}`);
      }
      if (peer.passwordFile !== '' && ok(`${base}.passwordFile`) && ifname === '') {
        const problem = checkPasswordFile(resolve(configDir, peer.passwordFile));
        if (problem !== undefined) add(`${base}.passwordFile`, problem);
      }
      const hold = peer.holdTime ?? bgp.holdTime;
      if (ok(`${base}.holdTime`) && ok(`${base}.keepaliveTime`) && ok('bgp.holdTime')) checkKeepalive(`${base}.keepaliveTime`, hold, peer.keepaliveTime, add);
      const sendHold = peer.sendHoldTime ?? bgp.sendHoldTime;
      const sendHoldPath = peer.sendHoldTime === null ? 'bgp.sendHoldTime' : `${base}.sendHoldTime`;
      if (ok(`${base}.holdTime`) && ok('bgp.holdTime') && ok(sendHoldPath) && (peer.sendHoldTime !== null || peer.holdTime !== null)) checkSendHold(sendHoldPath, hold, sendHold, add, base);
    });
  }

  if (isShaped('bgp.nodes')) {
    if (bgp.nodeToNodeMesh && bgp.nodes.length === 0 && ok('bgp.nodeToNodeMesh')) add('bgp.nodes', 'is empty, but bgp.nodeToNodeMesh is true: list the nodes to mesh with');
    const names = new Map<string, string>();
    const addresses = new Map<string, string>();
    bgp.nodes.forEach((entry, i) => {
      const base = `bgp.nodes[${i}]`;
      if (!isShaped(base)) return;
      if (ok(`${base}.name`)) {
        const first = names.get(entry.name);
        if (first !== undefined) add(`${base}.name`, `${entry.name} is already the name of ${first}`);
        else names.set(entry.name, base);
      }
      for (const key of ['ipv4Address', 'ipv6Address'] as const) {
        const cidr = entry[key] !== '' && ok(`${base}.${key}`) ? parseCidr(entry[key]) : undefined;
        if (!cidr) continue;
        const first = addresses.get(cidr.address.key);
        if (first !== undefined) add(`${base}.${key}`, `${cidr.address.key} is already the address of ${first}`);
        else addresses.set(cidr.address.key, base);
      }
    });
  }

  const pools: { cidr: Cidr; blockSize: number | undefined; disabled: boolean; path: string }[] = [];
  let everyPoolKnown = isShaped('pools');
  if (isShaped('pools')) {
    raw.pools.forEach((pool, i) => {
      const base = `pools[${i}]`;
      const cidr = isShaped(base) && ok(`${base}.cidr`) ? parseCidr(pool.cidr) : undefined;
      if (!cidr) {
        everyPoolKnown = false; // a block outside the known pools may lie in this one
        return;
      }
      const max = cidr.family === 'ipv4' ? 32 : 128;
      const blockSize = pool.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family];
      if (cidr.family === 'ipv6' && !hasV6) add(`${base}.cidr`, `is an IPv6 pool and ${noV6}`);
      const blockSizeOk = ok(`${base}.blockSize`) && blockSize >= cidr.len && blockSize <= max;
      if (ok(`${base}.blockSize`) && !blockSizeOk) add(`${base}.blockSize`, `must be between the pool's prefix length ${cidr.len} and ${max}`);
      if (cidr.family === 'ipv6' && pool.ipipMode !== null && pool.ipipMode !== 'Never' && ok(`${base}.ipipMode`)) {
        add(`${base}.ipipMode`, 'must be Never for an IPv6 pool: IPIP carries IPv4 only');
      }
      const overlap = pools.find((p) => cidrsOverlap(p.cidr, cidr));
      if (overlap) add(`${base}.cidr`, `overlaps ${overlap.path}.cidr (${overlap.cidr.network.key}/${overlap.cidr.len})`);
      pools.push({ cidr, blockSize: blockSizeOk ? blockSize : undefined, disabled: pool.disabled === true, path: base });
    });
  }

  const blocks = new Map<string, string>();
  if (isShaped('blocks')) {
    raw.blocks.forEach((text, i) => {
      const path = `blocks[${i}]`;
      const block = ok(path) ? parseCidr(text) : undefined;
      if (!block) return;
      const key = `${block.network.key}/${block.len}`;
      const first = blocks.get(key);
      if (first !== undefined) return add(path, `${key} is already listed as ${first}`);
      blocks.set(key, path);
      if (block.family === 'ipv6' && !hasV6) add(path, `is an IPv6 block and ${noV6}`);
      const containing = pools.filter((p) => cidrContains(p.cidr, block));
      const pool = containing.find((p) => !p.disabled);
      if (!pool) {
        if (containing.length > 0) add(path, `${key} lies in ${containing[0].path} (${containing[0].cidr.network.key}/${containing[0].cidr.len}), which is disabled`);
        else if (everyPoolKnown) add(path, `${key} lies in no pool`);
      } else if (pool.blockSize !== undefined && pool.blockSize !== block.len) {
        add(path, `${key} is a /${block.len}, but ${pool.path} has blockSize ${pool.blockSize}`);
      }
    });
  }
  if (isShaped('services')) checkServices(raw, { ok, isShaped, add, hasV6, noV6, blocks });
  checkPolicy(raw, problems);
}

/** SPEC.md "Anycast services": what the item schema cannot see alone. */
function checkServices(raw: RawConfig, c: {
  ok: (path: string) => boolean; isShaped: (path: string) => boolean; add: (path: string, message: string) => void;
  hasV6: boolean; noV6: string; blocks: ReadonlyMap<string, string>;
}): void {
  const names = new Map<string, string>();
  const prefixes = new Map<string, string>();
  raw.services.forEach((svc, i) => {
    const base = `services[${i}]`;
    if (!c.isShaped(base)) return;
    if (c.ok(`${base}.name`)) {
      const first = names.get(svc.name);
      if (first !== undefined) c.add(`${base}.name`, `${svc.name} is already the name of ${first}`);
      else names.set(svc.name, base);
    }
    const prefix = c.ok(`${base}.prefix`) ? parseCidr(svc.prefix) : undefined;
    if (prefix) {
      const key = `${prefix.network.key}/${prefix.len}`;
      const first = prefixes.get(key);
      if (first !== undefined) c.add(`${base}.prefix`, `${key} is already the prefix of ${first}`);
      else prefixes.set(key, base);
      const block = c.blocks.get(key);
      if (block !== undefined) c.add(`${base}.prefix`, `${key} is also ${block}, an own block (announced always)`);
      if (prefix.family === 'ipv6' && !c.hasV6) c.add(`${base}.prefix`, `is an IPv6 prefix and ${c.noV6} (an IPv6 next hop)`);
    }
    const check = svc.check;
    if (c.ok(`${base}.check`)) {
      const kinds = (['tcp', 'http', 'exec'] as const).filter((k) => check[k].length > 0);
      if (kinds.length !== 1) {
        c.add(`${base}.check`, kinds.length === 0 ? 'needs one of tcp, http or exec' : `sets ${kinds.join(' and ')}: exactly one of tcp, http or exec`);
      } else if (check.status !== null && kinds[0] !== 'http') {
        c.add(`${base}.check.status`, 'is for an http check only');
      }
    }
    if (c.ok(`${base}.timeout`) && c.ok(`${base}.interval`) && svc.timeout >= svc.interval) {
      c.add(`${base}.timeout`, `must be below interval (${svc.interval} s): a check ends before the next one starts`);
    }
  });
}

/** RFC 4271 section 4.4: keepalives well inside the hold time; none when the hold time is 0. */
function checkKeepalive(path: string, hold: number, keepalive: number | null, add: (path: string, message: string) => void): void {
  if (keepalive === null) return;
  if (hold === 0 && keepalive !== 0) add(path, 'must be 0 (or left out) when the hold time is 0');
  if (hold > 0 && (keepalive < 1 || keepalive >= hold)) add(path, `must be 1..${hold - 1}, below the hold time ${hold}`);
}

/**
 * RFC 9687 (as drafted, section 4): SendHoldTime is greater than the hold time, so the peer's own
 * hold timer gets its chance first. 0 (off) and null (the default, always larger) pass.
 */
function checkSendHold(path: string, hold: number, sendHold: number | null, add: (path: string, message: string) => void, peer?: string): void {
  if (sendHold === null || sendHold === 0 || sendHold > hold) return;
  add(path, `must be 0 (off) or above the hold time ${hold}${peer === undefined ? '' : ` of ${peer}`} (RFC 9687)`);
}
