/**
 * Reloading the configuration (SIGHUP, `agentctl reload`): the file is read again and only what
 * changed is applied (peers, own blocks, anycast services, the log level, the End-of-RIB quiet time, the import and
 * export rules, and bgp.drained when the file changed it). New import rules ask every Established
 * peer for its routes again (route refresh, else a session restart: SessionManager.refreshFrom);
 * new export rules re-export to every peer at once (agent/rib/reexport.ts). A file that
 * does not load, or one that changes a key only a restart can change (RESTART_ONLY), is refused
 * and the running configuration stays. Not here: the signal and the control command that call it,
 * or the running engines it is handed (agent/daemon/daemon.ts); the peer diff (SessionManager.apply).
 */
import { ConfigError, formatProblems, type Config } from '../../config/index.js';
import { loadFullConfig } from './check-config.js';
import type { ReloadAnswer } from '../control/api.js';
import type { InitialTables } from './readiness.js';
import type { Log } from '../contracts/log.js';
import type { RootLog } from './log.js';
import type { Rib } from '../rib/rib.js';
import { ribSettings } from '../rib/settings.js';
import type { PeerDiff } from '../session/manager.js';
import type { ServiceMonitor } from '../services/index.js';

/** Keys a reload cannot change in a running agent: they name its identity or its resources. */
const RESTART_ONLY: Readonly<Record<string, (c: Config) => unknown>> = {
  'node.name': (c) => c.node.name,
  'node.ipv4Address': (c) => c.node.ipv4Address,
  'node.ipv6Address': (c) => c.node.ipv6Address,
  'node.routerId': (c) => c.node.routerId,
  'node.asNumber': (c) => c.node.asNumber,
  'node.routeReflectorClusterID': (c) => c.node.routeReflectorClusterID,
  'bgp.listenPort': (c) => c.bgp.listenPort,
  'bgp.multipath': (c) => c.bgp.multipath,
  pools: (c) => c.pools,
  kernel: (c) => c.kernel,
  control: (c) => c.control,
  metrics: (c) => c.metrics,
};
export function restartOnlyChanges(a: Config, b: Config): string[] {
  return Object.entries(RESTART_ONLY)
    .filter(([, get]) => JSON.stringify(get(a)) !== JSON.stringify(get(b)))
    .map(([key]) => `${key}: changing it needs a restart of the agent (systemctl restart rack-agent)`);
}

/** What a reload reads and changes in the running daemon. */
export interface ReloadContext {
  /** The configuration file. */
  readonly path: string;
  readonly log: Log;
  readonly root: RootLog;
  readonly tables: Pick<InitialTables, 'setQuietTime'>;
  readonly rib: Pick<Rib, 'setLocalBlocks' | 'setImportRules' | 'setExportRules' | 'setDrained'>;
  /** The anycast services: their health kept where prefix and check stayed; no session is touched. */
  readonly services: Pick<ServiceMonitor, 'configure'>;
  /** Asks every Established peer to send its routes again; returns the peers asked. */
  readonly refreshPeers: () => string[];
  /** Gives the sessions and BFD the peers of next. */
  readonly applyPeers: (next: Config) => PeerDiff;
  /** The running configuration. */
  readonly current: () => Config;
  /** Makes next the running configuration (after everything else is applied). */
  readonly commit: (next: Config) => void;
}

export function reload(ctx: ReloadContext): ReloadAnswer {
  const { path, log } = ctx;
  const none = { peersAdded: [], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: [] };
  let next: Config;
  try {
    next = loadFullConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = formatProblems(err.problems).split('\n');
    log.error('reload refused: the running configuration stays', { file: path, problems });
    return { applied: false, ...none, problems };
  }
  const fixed = restartOnlyChanges(ctx.current(), next);
  if (fixed.length > 0) {
    log.error('reload refused: the running configuration stays', { file: path, problems: fixed });
    return { applied: false, ...none, problems: fixed };
  }
  ctx.root.setLevel(next.log.level);
  ctx.tables.setQuietTime(next.bgp.endOfRibQuietTime * 1000);
  const diff = ctx.applyPeers(next);
  const blocks = ctx.rib.setLocalBlocks(next.blocks);
  const services = ctx.services.configure(next.services);
  const rules = ribSettings(next);
  const importChanged = ctx.rib.setImportRules(rules.importRules).refreshNeeded;
  const exportChanged = ctx.rib.setExportRules(rules.exportRules);
  // The file's bgp.drained acts only when the file changed it: `agentctl drain` stays otherwise.
  if (next.bgp.drained !== ctx.current().bgp.drained) ctx.rib.setDrained(next.bgp.drained);
  const refreshed = importChanged ? ctx.refreshPeers() : [];
  ctx.commit(next);
  const answer: ReloadAnswer = {
    applied: true,
    peersAdded: diff.added.map((p) => p.key),
    peersRemoved: diff.removed.map((p) => p.key),
    peersRestarted: diff.changed.map((p) => p.key),
    peersRelabelled: diff.relabelled.map((p) => p.key),
    blocksAdded: blocks.added,
    blocksRemoved: blocks.removed,
    servicesAdded: services.added,
    servicesRemoved: services.removed,
    servicesRestarted: services.changed,
    ...(importChanged ? { importRulesChanged: true, peersRefreshed: refreshed } : {}),
    ...(exportChanged ? { exportRulesChanged: true } : {}),
  };
  log.info('configuration reloaded', { ...answer });
  return answer;
}
