/**
 * Turns a document that passed every check into the Config the agent uses: fills the defaults
 * that depend on other keys, splits peer addresses and ports, makes password file paths absolute
 * (relative ones are taken from the config file's directory), applies bgp.bfd under each peer's
 * bfd overrides, and freezes the result.
 * Only ever called on a document without problems.
 */

import { resolve } from 'node:path';
import { parseCidr, parseEndpoint } from './addresses.js';
import { DEFAULT_BLOCK_SIZE } from './cross-checks.js';
import type { RawConfig, RawService } from './raw.js';
import type { Config, PeerConfig, PoolConfig, ServiceCheck, ServiceConfig } from './types.js';

/** services[].check.status when http is set without it. */
export const DEFAULT_HTTP_STATUS = 200;

/** The one check kind a valid item sets (cross-checks.ts made sure there is exactly one). */
function serviceCheck(c: RawService['check']): ServiceCheck {
  if (c.tcp !== '') {
    const e = parseEndpoint(c.tcp);
    return { kind: 'tcp', address: e?.address.key ?? '', port: e?.port ?? 0 };
  }
  if (c.http !== '') return { kind: 'http', url: c.http, status: c.status ?? DEFAULT_HTTP_STATUS };
  return { kind: 'exec', argv: c.exec };
}

/** The BGP port (RFC 4271 section 8.2.1), for a peerIP written without one. */
export const BGP_PORT = 179;

/** RFC 4271 section 10 suggests a keepalive of one third of the hold time. */
export function defaultKeepalive(holdTime: number): number {
  return Math.floor(holdTime / 3);
}

export function deriveConfig(raw: RawConfig, configDir: string): Config {
  const { node, bgp } = raw;
  const peers = bgp.peers.map((peer): PeerConfig => {
    const endpoint = peer.peerIP === '' ? undefined : parseEndpoint(peer.peerIP);
    const holdTime = peer.holdTime ?? bgp.holdTime;
    return {
      ...peer,
      address: endpoint?.address.key ?? '',
      port: endpoint?.port ?? BGP_PORT,
      passwordFile: peer.passwordFile === '' ? '' : resolve(configDir, peer.passwordFile),
      holdTime,
      keepaliveTime: peer.keepaliveTime ?? defaultKeepalive(holdTime),
      sendHoldTime: peer.sendHoldTime ?? bgp.sendHoldTime,
      bfd: {
        enabled: peer.bfd.enabled ?? bgp.bfd.enabled,
        minRxMs: peer.bfd.minRxMs ?? bgp.bfd.minRxMs,
        minTxMs: peer.bfd.minTxMs ?? bgp.bfd.minTxMs,
        multiplier: peer.bfd.multiplier ?? bgp.bfd.multiplier,
        strict: peer.bfd.strict ?? bgp.bfd.strict,
        multihop: peer.bfd.multihop ?? bgp.bfd.multihop,
        minTtl: peer.bfd.minTtl ?? bgp.bfd.minTtl,
      },
    };
  });
  const pools = raw.pools.map((pool): PoolConfig => {
    const family = parseCidr(pool.cidr)?.family ?? 'ipv4';
    return {
      ...pool,
      blockSize: pool.blockSize ?? DEFAULT_BLOCK_SIZE[family],
      ipipMode: pool.ipipMode ?? (family === 'ipv4' ? 'Always' : 'Never'),
    };
  });
  const config: Config = {
    node: {
      ...node,
      routerId: node.routerId ?? node.ipv4Address.slice(0, node.ipv4Address.indexOf('/')),
      asNumber: node.asNumber ?? bgp.asNumber,
    },
    bgp: {
      ...bgp,
      keepaliveTime: bgp.keepaliveTime ?? defaultKeepalive(bgp.holdTime),
      peers,
      nodes: bgp.nodes.map((entry) => ({ ...entry, asNumber: entry.asNumber ?? bgp.asNumber })),
    },
    pools,
    blocks: raw.blocks,
    services: raw.services.map((s): ServiceConfig => ({ ...s, check: serviceCheck(s.check) })),
    policy: raw.policy,
    kernel: raw.kernel,
    control: raw.control,
    metrics: raw.metrics,
    check: raw.check,
    log: raw.log,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
