/**
 * What the Rib takes from the config (config/types.ts): our identity and addresses for export,
 * the enabled pools for import, the ECMP bound, the own blocks, and the compiled policy rules. Pure; the daemon passes the
 * result to `new Rib(...)` and `setLocalBlocks`, and again (setPools, setLocalBlocks) on reload.
 */

import type { Config } from '../../config/types.js';
import type { ExportNode } from './export.js';
import { compilePolicy, type CompiledPolicy } from './policy-rules.js';

export interface RibSettings {
  readonly node: ExportNode;
  readonly pools: readonly string[];
  readonly multipath: number;
  readonly blocks: readonly string[];
  /** policy.import and policy.export, compiled once per (re)load. */
  readonly importRules: CompiledPolicy;
  readonly exportRules: CompiledPolicy;
}

const address = (cidr: string): string => (cidr === '' ? '' : cidr.slice(0, cidr.indexOf('/')));

export function ribSettings(config: Config): RibSettings {
  const n = config.node;
  return {
    node: {
      asNumber: n.asNumber,
      routerId: n.routerId,
      clusterId: n.routeReflectorClusterID,
      ipv4: address(n.ipv4Address),
      ipv6: address(n.ipv6Address),
    },
    pools: config.pools.filter((p) => !p.disabled).map((p) => p.cidr),
    multipath: config.bgp.multipath,
    blocks: config.blocks,
    importRules: compilePolicy(config.policy.import),
    exportRules: compilePolicy(config.policy.export),
  };
}
