/** What a Fib is configured with, and how the agent's Config maps onto it. */
import type { Clock } from '../../agent/contracts/clock.js';
import type { Config } from '../../config/types.js';
import type { RouteSocketOptions } from '../rtnetlink/route-socket.js';
import type { Logger } from './types.js';

export interface FibOptions {
  readonly protocol: number;
  readonly table: number;
  readonly tunnelDevice: string;
  /** node.ipv4Address with its subnet ('10.0.1.13/24'), or ''. */
  readonly nodeIpv4Address: string;
  readonly pools: readonly { readonly cidr: string; readonly ipipMode: 'Always' | 'CrossSubnet' | 'Never'; readonly disabled: boolean }[];
  readonly logger: Logger;
  /** 'restart': keep our existing routes until markConverged(). Default 'fresh'. */
  readonly mode?: 'fresh' | 'restart';
  /** Timers (retries, link settling, the periodic dump); default the system clock. */
  readonly clock?: Clock;
  /** Full dump-and-compare period; 0 turns it off. Default 60 s. */
  readonly reconcileIntervalMs?: number;
  /**
   * Told how many routes the Fib has just taken on (changes applied, every 4,096 routes read from
   * a dump): the agent turns V8's optimizing compiler on for large tables (agent/daemon/v8-flags.ts).
   */
  readonly onWork?: (routes: number) => void;
  /** Links or addresses changed (settled 100 ms), or a link's carrier came or went (at once): BGP unnumbered follows its links. */
  readonly onLinks?: () => void;
  /** Window, batch and buffer sizes of the RouteSocket (defaults suit a million routes). */
  readonly socket?: Omit<RouteSocketOptions, 'onEvent' | 'onOverflow' | 'groups'>;
}

export function fibOptions(config: Config, logger: Logger, mode: 'fresh' | 'restart'): FibOptions {
  return {
    protocol: config.kernel.routeProtocol,
    table: config.kernel.table,
    tunnelDevice: config.kernel.tunnelDevice,
    nodeIpv4Address: config.node.ipv4Address,
    pools: config.pools,
    logger,
    mode,
  };
}
