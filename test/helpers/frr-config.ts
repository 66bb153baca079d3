/**
 * FRR 8.4 bgpd configuration from typed options (bgp-daemon.ts), as vtysh commands: the file
 * frr.ts starts bgpd with, and the commands that move a running bgpd from one set of options to
 * another. Pure. Announced routes are `network` statements (`no bgp network import-check`, since
 * they exist nowhere else) with a route-map per route that carries attributes.
 * Not here: running bgpd, queries (frr.ts).
 */
import { join } from 'node:path';
import {
  type DaemonOptions, defaultFamilies, type Family, type NeighborOptions, parseCommunity, routePrefix, type StaticRoute,
} from './bgp-daemon.js';

function routeMapName(family: Family, index: number): string {
  return `RA-${family}-${index}`;
}

function hasAttributes(route: StaticRoute): route is Exclude<StaticRoute, string> {
  return typeof route !== 'string' && (route.med !== undefined || route.localPref !== undefined ||
    (route.communities?.length ?? 0) > 0);
}

/** `route-map` blocks giving announced routes their attributes. */
function routeMaps(options: DaemonOptions): string[] {
  const lines: string[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    (options.routes?.[family] ?? []).forEach((route, i) => {
      if (!hasAttributes(route)) return;
      lines.push(`route-map ${routeMapName(family, i)} permit 10`);
      if (route.med !== undefined) lines.push(` set metric ${route.med}`);
      if (route.localPref !== undefined) lines.push(` set local-preference ${route.localPref}`);
      if ((route.communities?.length ?? 0) > 0) {
        lines.push(` set community ${(route.communities ?? []).map((c) => parseCommunity(c).join(':')).join(' ')}`);
      }
      lines.push('exit');
    });
  }
  return lines;
}

function neighborLines(n: NeighborOptions): string[] {
  const a = n.address;
  const lines = [n.interface === true ? `neighbor ${a} interface remote-as ${n.as === 0 ? 'external' : n.as}` : `neighbor ${a} remote-as ${n.as}`, `neighbor ${a} advertisement-interval 0`,
    `neighbor ${a} timers connect ${n.connectRetry ?? 2}`];
  if (n.localAddress !== undefined) lines.push(`neighbor ${a} update-source ${n.localAddress}`);
  if (n.password !== undefined) lines.push(`neighbor ${a} password ${n.password}`);
  if ((n.ttlSecurity ?? 0) > 0) lines.push(`neighbor ${a} ttl-security hops ${n.ttlSecurity}`);
  if (n.multihop !== undefined) lines.push(`neighbor ${a} ebgp-multihop ${n.multihop}`);
  if (n.holdTime !== undefined) lines.push(`neighbor ${a} timers ${Math.max(1, Math.floor(n.holdTime / 3))} ${n.holdTime}`);
  if (n.passive === true) lines.push(`neighbor ${a} passive`);
  // BFD through bfdd (reached via zebra): detect multiplier, receive and transmit intervals in ms.
  if (n.bfd !== undefined) lines.push(`neighbor ${a} bfd ${n.bfd.multiplier} ${n.bfd.minRxMs} ${n.bfd.minTxMs}`);
  return lines;
}

/** The `router bgp` block and its route-maps, as vtysh commands (also the body of bgpd.conf). */
export function frrCommands(options: DaemonOptions): string[] {
  const lines = [...routeMaps(options), `router bgp ${options.localAs}`, ` bgp router-id ${options.routerId}`];
  if (options.neighbors.some((n) => n.rrClient === true)) {
    lines.push(` bgp cluster-id ${options.clusterId ?? options.routerId}`);
  }
  lines.push(' no bgp default ipv4-unicast', ' no bgp network import-check', ' no bgp ebgp-requires-policy');
  // No End-of-RIB and no graceful-restart capability either: a GR-capable peer owes End-of-RIB
  // (RFC 4724 section 4, SPEC.md "Readiness") and FRR's default helper mode advertises the capability.
  if (options.endOfRib === false) lines.push(' bgp graceful-restart disable-eor', ' bgp graceful-restart-disable');
  // Restarting mode (FRR's default is helper only): the capability lists our families, and bgpd sets
  // the R bit itself for a while after every start; `preserve-fw-state` sets their F bits.
  if (options.neighbors.some((n) => n.gracefulRestart === true)) lines.push(' bgp graceful-restart');
  if (options.preserveForwarding === true) lines.push(' bgp graceful-restart preserve-fw-state');
  for (const n of options.neighbors) lines.push(...neighborLines(n).map((l) => ` ${l}`));
  for (const family of ['ipv4', 'ipv6'] as const) {
    lines.push(` address-family ${family} unicast`);
    (options.routes?.[family] ?? []).forEach((route, i) => {
      lines.push(`  network ${routePrefix(route)}${hasAttributes(route) ? ` route-map ${routeMapName(family, i)}` : ''}`);
    });
    for (const n of options.neighbors) {
      if (!(n.families ?? defaultFamilies).includes(family)) continue;
      lines.push(`  neighbor ${n.address} activate`);
      if (n.rrClient === true) lines.push(`  neighbor ${n.address} route-reflector-client`);
    }
    lines.push(' exit-address-family');
  }
  lines.push('exit');
  return lines;
}

/**
 * zebra.conf: router advertisements on every unnumbered neighbour's interface (FRR learns such a
 * neighbour from its RAs and needs its own sent for the other side, LAB-NOTES "Unnumbered").
 */
export function zebraConfig(options: DaemonOptions): string {
  return options.neighbors.filter((n) => n.interface === true)
    .map((n) => `interface ${n.address}\n ipv6 nd ra-interval 3\n no ipv6 nd suppress-ra\nexit\n`).join('');
}

/** bgpd.conf for the options; pure. */
export function frrConfig(options: DaemonOptions, dir: string): string {
  return ['! Generated by test/helpers/frr.ts', 'frr defaults traditional', 'hostname tor',
    `log file ${join(dir, 'bgpd.log')} informational`, '!', ...frrCommands(options), ''].join('\n');
}

/**
 * vtysh commands that turn a running bgpd configured with `from` into one configured with `to`:
 * neighbours that changed or went away are removed first (so no stale setting survives), as are
 * withdrawn networks and old route-maps; then the new configuration is applied over the top,
 * which leaves unchanged neighbours' sessions alone.
 */
export function frrReconfigureCommands(from: DaemonOptions, to: DaemonOptions): string[] {
  if (from.localAs !== to.localAs) return [`no router bgp ${from.localAs}`, ...frrCommands(to)];
  const removals: string[] = [];
  for (const old of from.neighbors) {
    const now = to.neighbors.find((n) => n.address === old.address);
    if (now === undefined || JSON.stringify(now) !== JSON.stringify(old)) removals.push(` no neighbor ${old.address}`);
  }
  for (const family of ['ipv4', 'ipv6'] as const) {
    const keep = new Set((to.routes?.[family] ?? []).map(routePrefix));
    const gone = (from.routes?.[family] ?? []).map(routePrefix).filter((p) => !keep.has(p));
    if (gone.length > 0) {
      removals.push(` address-family ${family} unicast`, ...gone.map((p) => `  no network ${p}`), ' exit-address-family');
    }
  }
  if (from.preserveForwarding === true && to.preserveForwarding !== true) removals.push(' no bgp graceful-restart preserve-fw-state');
  const grBefore = from.neighbors.some((n) => n.gracefulRestart === true);
  if (grBefore && !to.neighbors.some((n) => n.gracefulRestart === true)) removals.push(' no bgp graceful-restart');
  const oldMaps = routeMaps(from).filter((l) => l.startsWith('route-map ')).map((l) => `no ${l.replace(/ permit 10$/, '')}`);
  // Given again, FRR refuses it ("Graceful restart configuration changed, reset all peers").
  const again = (l: string): boolean => from.endOfRib === false && to.endOfRib === false && l === ' bgp graceful-restart-disable';
  return [`router bgp ${from.localAs}`, ...removals, 'exit', ...oldMaps, ...frrCommands(to).filter((l) => !again(l))];
}
