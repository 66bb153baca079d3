/**
 * What `agentctl check` reads, as plain functions over the engines' snapshots: the sessions'
 * status, the FIB's snapshot and routes, its view of links and addresses (netlink/fib/interfaces:
 * pure lookups over the link and address dumps it keeps), and the running config (a reload
 * changes check.interval and check.timeout). agent/main.ts builds it; tests build their own.
 */
import type { Config } from '../../config/index.js';
import type { Fib } from '../../netlink/fib/index.js';
import { deviceFor, linkByName } from '../../netlink/fib/interfaces.js';
import { isUp } from '../../netlink/rtnetlink/link.js';
import type { SessionStatus } from '../contracts/engines.js';
import type { FibInput, SessionInput } from './checks.js';
import type { RouteInput } from './targets.js';

export interface CheckSettings {
  readonly interval: number;
  readonly timeout: number;
  readonly tunnelDevice: string;
  /** An enabled IPv4 pool with ipipMode Always or CrossSubnet. */
  readonly ipipWanted: boolean;
  /** The node has IPv6 blocks: IPv6 forwarding is checked too. */
  readonly ipv6: boolean;
}

export interface CheckSources {
  settings(): CheckSettings;
  sessions(): readonly SessionInput[];
  fib(): FibInput;
  routes(): readonly RouteInput[];
  link(name: string): { readonly up: boolean; readonly mtu: number; readonly kind: string } | null;
  deviceFor(address: string): string | null;
}

export function checkSettings(config: Config): CheckSettings {
  return {
    interval: config.check.interval,
    timeout: config.check.timeout,
    tunnelDevice: config.kernel.tunnelDevice,
    ipipWanted: config.pools.some((p) => !p.disabled && !p.cidr.includes(':') && p.ipipMode !== 'Never'),
    ipv6: config.blocks.some((b) => b.includes(':')),
  };
}

export function checkSources(parts: {
  readonly config: () => Config;
  readonly fib: Pick<Fib, 'snapshot' | 'routes' | 'ifs'>;
  readonly sessions: () => readonly SessionStatus[];
}): CheckSources {
  const { fib } = parts;
  return {
    settings: () => checkSettings(parts.config()),
    sessions: parts.sessions,
    fib: () => fib.snapshot(),
    routes: () => fib.routes(),
    link: (name) => {
      const link = linkByName(fib.ifs, name);
      return link === undefined ? null : { up: isUp(link), mtu: link.mtu, kind: link.kind };
    },
    deviceFor: (address) => deviceFor(fib.ifs, address)?.name ?? null,
  };
}
