/**
 * The document as it leaves the schema (validate.ts): the shape of Config, but with the keys
 * whose defaults depend on other keys still null, and peer addresses not yet split. Values at a
 * key path that has a problem may be anything, so readers check hasProblemAt first.
 */

import type { Config, NodeEntry, PeerConfig, PoolConfig, ServiceConfig } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export type RawPeer = Mutable<Omit<PeerConfig, 'address' | 'port' | 'holdTime' | 'keepaliveTime' | 'bfd'>> & {
  holdTime: number | null;
  keepaliveTime: number | null;
  /** Each key null unless the peer overrides bgp.bfd. */
  bfd: { [K in keyof PeerConfig['bfd']]: PeerConfig['bfd'][K] | null };
};

export type RawNodeEntry = Mutable<Omit<NodeEntry, 'asNumber'>> & { asNumber: number | null };

export type RawPool = Mutable<Omit<PoolConfig, 'blockSize' | 'ipipMode'>> & {
  blockSize: number | null;
  ipipMode: PoolConfig['ipipMode'] | null;
};

export type RawService = Mutable<Omit<ServiceConfig, 'check' | 'communities'>> & {
  check: { tcp: string; http: string; status: number | null; exec: string[] };
  communities: string[];
};

export interface RawConfig {
  node: Mutable<Omit<Config['node'], 'routerId' | 'asNumber'>> & { routerId: string | null; asNumber: number | null };
  bgp: Mutable<Omit<Config['bgp'], 'keepaliveTime' | 'peers' | 'nodes'>> & {
    keepaliveTime: number | null;
    peers: RawPeer[];
    nodes: RawNodeEntry[];
  };
  pools: RawPool[];
  blocks: string[];
  services: RawService[];
  policy: Config['policy'];
  kernel: Config['kernel'];
  control: Config['control'];
  metrics: Config['metrics'];
  check: Config['check'];
  log: Config['log'];
}
