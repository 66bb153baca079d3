/**
 * The daemon: the only file that knows every part (STYLE.md "The house"). It wires
 * config -> logger -> sessions <-> RIB -> FIB, the anycast services' checks -> RIB, the control
 * server, metrics and signals.
 *
 *   TCP -> SessionManager --SessionEvent--> Rib --RibChange--> Fib -> kernel
 *                        <--OutboundUpdate--
 *   UDP 3784 -> BFD worker --BfdChange--> SessionManager (bfdDown / bfdUp, RFC 5882)
 *
 * Lifecycle (the decisions are agent/daemon/readiness.ts): the FIB starts in restart mode (our routes
 * already in the kernel stay untouched until the RIB has converged: every peer up and its initial
 * table complete, by End-of-RIB or the rules of readiness.ts, or the graceful-restart time passed); while
 * it found routes of ours at start, OPENs carry the restarting (R) and forwarding-preserved (F)
 * bits (RFC 4724 section 3), so the ToR keeps our blocks until we are back; SIGTERM first stops
 * all output to the kernel, then ends the sessions gracefully (no Hard Reset, see Session.stop),
 * so graceful-restart peers keep our blocks and every kernel route stays in place; a stop signal
 * during start-up is a clean stop too (agent/daemon/signals.ts); SIGHUP (and `agentctl reload`) applies
 * only what changed in the file, or refuses a bad file and keeps running as before.
 * agent/main.ts (the entry) loads this module only to run the daemon, after the signal handlers
 * and V8's flags are in place. Not here: the reload (agent/daemon/reload.ts), the stop sequence
 * (agent/daemon/shutdown.ts), the control answers and the metrics snapshot (agent/daemon/answers.ts).
 */

import { stopRequested, takeOver } from './signals.js';
import { ConfigError, readPassword, type Config } from '../../config/index.js';
import { Fib, fibOptions } from '../../netlink/fib/index.js';
import { deviceFor } from '../../netlink/fib/interfaces.js';
import { sdNotify } from './sd-notify.js';
import { shutdown } from './shutdown.js';
import { BfdClient } from '../bfd/client.js';
import { bfdPeers, bgpReaction } from '../bfd/coupling.js';
import { CeaseSubcode } from '../bgp/constants.js';
import { Checker, checkSources } from '../check/index.js';
import { loadFullConfig } from './check-config.js';
import { ControlServer } from '../control/server.js';
import type { Log } from '../contracts/log.js';
import { createLog, type RootLog } from './log.js';
import { EXIT } from './main-args.js';
// prom-client costs about 4 MB of RSS: loaded only when metrics.listen is set (issue 12).
import type { Metrics, MetricsServer } from './metrics.js';
import { peerSet } from '../peers/peer-set.js';
import { Unnumbered } from './unnumbered.js';
import { Rib } from '../rib/rib.js';
import type { RefreshReport } from '../rib/refresh-stale.js';
import { ribSettings } from '../rib/settings.js';
import type { SessionEvent } from '../contracts/engines.js';
import { SessionManager } from '../session/manager.js';
import { ServiceMonitor } from '../services/index.js';
import { CAP_QUIET_FACTOR, CHURN_PER_SECOND, EOR_WAIT_MS, InitialTables, startupVerdict, TICK_MS, type CompletedBy } from './readiness.js';
import { controlHandlers, type Engines, metricsSnapshot } from './answers.js';
import { reload } from './reload.js';
import { version } from './version.js';
import { prefixesOf, prefixesOut, routeWork } from './v8-flags.js';
import { every, systemClock, type Clock } from '../contracts/clock.js';

export { restartOnlyChanges } from './reload.js';

/** The info log line of each way an initial table completes without End-of-RIB. */
const COMPLETED_BY: Record<CompletedBy, string> = {
  'end-of-rib': 'End-of-RIB',
  quiet: 'no End-of-RIB, and no UPDATE for the quiet time',
  churn: `no End-of-RIB, and fewer than ${CHURN_PER_SECOND} UPDATEs a second over the quiet time`,
  cap: `no End-of-RIB, and UPDATEs still coming ${CAP_QUIET_FACTOR} quiet times after the session came up`,
  'end-of-rib-timeout': `no End-of-RIB from a graceful-restart peer within ${EOR_WAIT_MS / 1000} s`,
};

/** `clock`: the time every readiness decision reads (agent/daemon/readiness.ts); tests may inject one. */
export async function run(path: string, clock: Clock = systemClock): Promise<void> {
  let config: Config;
  try {
    config = loadFullConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = EXIT.CONFIG;
    return;
  }
  const root: RootLog = createLog(config.log);
  const log: Log = root.log.child({ component: 'main' });
  log.info('rack-agent starting', { version: version(), node: config.node.name, config: path });

  const startedAt = clock.now();
  let fibConverged = false;
  let metrics: Metrics | null = null;
  /** RFC 4724: R and F in our OPENs while the routes of a previous run are being re-learned. */
  let restarting = false;
  const tables = new InitialTables(config.bgp.endOfRibQuietTime * 1000);
  /** Every established peer's initial tables complete and the RIB settled (SPEC.md "Readiness"). */
  const settled = (): boolean => tables.complete() && rib.converged();

  // Large tables (a restart's dump of the kernel, UPDATEs, changes) turn TurboFan on (v8-flags.ts).
  // BGP unnumbered reads its links at once when the FIB hears of a link change (Unnumbered below).
  let linksChanged = (): void => undefined;
  const fib = new Fib({ ...fibOptions(config, root.log.child({ component: 'fib' }), 'restart'), onWork: routeWork, onLinks: () => linksChanged() });
  // Set before the sessions exist; the manager's sessions read them through the sink below.
  let manager: SessionManager | null = null;
  const settings = ribSettings(config);
  const rib = new Rib({
    clock,
    // One bound for an owed End-of-RIB: the stale time of a restarting peer's routes (RFC 4724 s4.2).
    staleTime: EOR_WAIT_MS / 1000,
    initialTableComplete: (peer, family) => tables.tableComplete(peer, family),
    node: settings.node,
    pools: settings.pools,
    multipath: settings.multipath,
    sink: {
      changes: (batch) => {
        fib.apply(batch);
        convergenceAfterFlush();
      },
      outbound: (key, item) => {
        routeWork(prefixesOut(item));
        manager?.send(key, item);
      },
      limitExceeded: (key, limit, count) => {
        log.warn('peer sent more prefixes than maxPrefixes allows; stopping the session', { peer: key, limit, count });
        // RFC 4486: Cease / Maximum Number of Prefixes Reached (a Hard Reset with the N bit).
        manager?.ceasePeer(key, CeaseSubcode.MAX_PREFIXES, `maximum number of prefixes reached (${limit})`);
      },
    },
    onRefresh: (key, r) => logRefresh(log, key, r),
  });
  rib.setImportRules(settings.importRules);
  rib.setExport({ policy: settings.exportRules, drained: config.bgp.drained });
  if (config.bgp.drained) log.info('starting drained (bgp.drained): what we announce carries GRACEFUL_SHUTDOWN and is least preferred', {});

  // Anycast services (SPEC.md): what passes its health check is announced through the RIB.
  const services = new ServiceMonitor({ clock, log: root.log.child({ component: 'services' }), onChange: () => void rib.setServiceRoutes(services.announced()) });

  /**
   * Once a tick: peers whose initial table is complete without End-of-RIB are logged; then, until
   * it has happened once, whether the FIB may delete the routes a previous run left
   * (agent/daemon/readiness.ts, the one owner of initial-table completeness).
   */
  function tick(): void {
    const now = clock.now();
    for (const c of tables.due(now)) log.info(`${COMPLETED_BY[c.by]}: the initial table is complete`, { peer: c.peer, family: c.family, quietTime: config.bgp.endOfRibQuietTime });
    checkStartupConvergence(now);
  }

  /**
   * The RIB hands one flush to the FIB in batches of 10,000 within one turn, and its pending count
   * is already 0 while the later batches are still coming: checked after the first batch, the RIB
   * looks settled and the FIB would count (and queue for deletion) every route of the previous run
   * whose batch had not come yet. So the check runs once the whole flush is done.
   */
  let convergenceQueued = false;
  function convergenceAfterFlush(): void {
    if (convergenceQueued || fibConverged) return;
    convergenceQueued = true;
    queueMicrotask(() => {
      convergenceQueued = false;
      checkStartupConvergence();
    });
  }

  function checkStartupConvergence(now = clock.now()): void {
    if (fibConverged || manager === null) return;
    const sessions = manager.views();
    const verdict = startupVerdict({ now, startedAt, restartTimeMs: config.bgp.gracefulRestart.restartTime * 1000, sessions, rib: settled() });
    if (verdict === 'waiting') return;
    fibConverged = true;
    restarting = false;
    log.info(verdict === 'restart-time-passed' ? 'restart time passed: removing routes no peer re-announced' : 'RIB converged: removing stale routes of the previous run', {});
    fib.markConverged();
  }

  manager = new SessionManager({
    log: root.log.child({ component: 'sessions' }),
    listenPort: config.bgp.listenPort,
    readPassword,
    localRestartState: () => ({ restarting, forwarding: restarting }),
    linkLocalConnection: (address) => unnumbered.heardConnection(address),
    onEvent: (e: SessionEvent) => {
      const eor = tables.observe(e, clock.now());
      if (eor !== undefined) log.info('End-of-RIB: the initial table is complete', { peer: eor.peer, family: eor.family });
      if (e.type === 'update') routeWork(prefixesOf(e.update));
      if (e.type !== 'update' || metrics === null) return rib.handle(e);
      const t0 = performance.now();
      rib.handle(e);
      metrics.observeUpdate((performance.now() - t0) / 1000);
    },
  });

  // `agentctl check` and its periodic runs: the daemon probes, agentctl only reads.
  const checker = new Checker(checkSources({ config: () => config, fib, sessions: () => manager?.status() ?? [] }), {
    log: root.log.child({ component: 'check' }),
    observe: (answer) => metrics?.observeCheck(answer),
    clock,
  });
  // BFD (RFC 5880/5881) runs in its own worker thread; its state changes drive BGP (RFC 5882).
  const bfd = new BfdClient({
    log: root.log.child({ component: 'bfd' }),
    clock,
    onChange: (c) => {
      const r = bgpReaction(c);
      if (r.action === 'down') manager?.bfdDown(c.key, r.reason, r.controlPlaneIndependent);
      else if (r.action === 'up') manager?.bfdUp(c.key);
    },
  });
  // BGP unnumbered: each interface peer's neighbour, found on its link; a change re-derives the peers.
  let peersOf: Config | null = null;
  let applying = false;
  const unnumbered = new Unnumbered({
    log: root.log.child({ component: 'unnumbered' }),
    clock,
    established: (ifname) => manager?.session(ifname)?.state === 'Established',
    // During applyPeers the table is read after configure(): no nested apply.
    changed: () => { if (peersOf !== null && !applying) applyPeers(peersOf); },
  });
  linksChanged = () => unnumbered.poll();
  const applyPeers = (next: Config) => {
    peersOf = next;
    applying = true;
    try {
      unnumbered.configure(next.bgp.peers.filter((p) => p.interface !== '').map((p) => p.interface));
    } finally {
      applying = false;
    }
    const specs = peerSet(next, unnumbered.table.snapshot());
    const diff = manager!.apply(specs);
    // Multihop BFD for a peer on no connected subnet (coupling.ts): the kernel's addresses, as the FIB keeps them.
    bfd.configure(bfdPeers(specs.filter((p) => p.address !== ''), { connected: (address) => deviceFor(fib.ifs, address) !== null }));
    return diff;
  };

  let control: ControlServer | null = null;
  let metricsServer: MetricsServer | null = null;
  let stopTicks: (() => void) | undefined;
  let stopWatchdog: (() => void) | undefined;
  let stopping = false;
  /** See agent/daemon/shutdown.ts; once only. */
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await shutdown(signal, { log, clock, timers: [stopTicks, stopWatchdog, () => unnumbered.close(), () => services.close()], checker, control, metricsServer, rib, fib, bfd, manager: manager! });
  };
  /** After each start-up step: a stop signal that came meanwhile ends the start-up cleanly. */
  const stoppedDuringStartup = (): boolean => {
    const signal = stopRequested();
    if (signal === null) return false;
    void stop(`${signal} during start-up`);
    return true;
  };
  if (stoppedDuringStartup()) return;

  try {
    await fib.start();
  } catch (err) {
    log.error(`cannot open the kernel routing table: ${(err as Error).message}`, {});
    fib.close();
    process.exitCode = EXIT.FAILURE;
    return;
  }
  if (stoppedDuringStartup()) return;
  restarting = fib.snapshot().routes > 0;
  if (restarting) log.info('routes of a previous run are in the kernel: they stay until the RIB has converged; OPENs announce a graceful restart (R and F bits)', { routes: fib.snapshot().routes });
  rib.setLocalBlocks(config.blocks);
  services.configure(config.services);
  try {
    await manager.listen();
  } catch (err) {
    log.error(`cannot listen for BGP on port ${config.bgp.listenPort}: ${(err as Error).message}`, {});
    fib.close();
    services.close();
    process.exitCode = EXIT.FAILURE;
    return;
  }
  if (stoppedDuringStartup()) return;
  applyPeers(config);
  stopTicks = every(clock, TICK_MS, tick);

  const engines: Engines = {
    config: () => config, sessions: () => manager?.status() ?? [], rib, settled, fib, bfd, checker, services, log,
    reload: () => reload({ path, log, root, tables, rib, services, applyPeers, current: () => config, commit: (next) => { config = next; },
      refreshPeers: () => (manager?.status() ?? []).filter((st) => manager?.refreshFrom(st.key) !== 'none').map((st) => st.key) }),
  };
  const handlers = controlHandlers(engines);

  control = new ControlServer(handlers, { path: config.control.socket, group: config.control.group, log: root.log.child({ component: 'control' }), clock });
  try {
    await control.start();
  } catch (err) {
    log.error(`control socket ${config.control.socket}: ${(err as Error).message}`, {});
    await bfd.close();
    await manager.close('agent could not start');
    fib.close();
    stopTicks?.();
    services.close();
    process.exitCode = EXIT.FAILURE;
    return;
  }
  if (stoppedDuringStartup()) return;

  if (config.metrics.listen !== '') {
    const { createMetrics, MetricsServer } = await import('./metrics.js');
    metrics = createMetrics(metricsSnapshot(engines));
    metricsServer = new MetricsServer(metrics, root.log);
    try {
      await metricsServer.start(config.metrics.listen);
    } catch (err) {
      // Metrics are for watching, not for routing: the agent runs on without them.
      log.error(`${(err as Error).message}; running without metrics`, {});
      metricsServer = null;
    }
    if (stoppedDuringStartup()) return;
  }

  checker.start();
  sdNotify('READY=1');
  const watchdogUsec = Number(process.env.WATCHDOG_USEC ?? 0);
  if (watchdogUsec > 0) stopWatchdog = every(clock, Math.max(1000, watchdogUsec / 2000), () => sdNotify('WATCHDOG=1'));
  log.info('rack-agent running', { peers: manager.status().length, blocks: config.blocks.length, socket: config.control.socket });
  takeOver((signal) => {
    if (signal !== 'SIGHUP') return void stop(signal);
    if (stopping) return;
    log.info('SIGHUP: reloading the configuration', { file: path });
    try {
      engines.reload();
    } catch (err) {
      log.error(`reload failed: ${(err as Error).message}`, {});
    }
  });
}


/** RFC 7313 section 4: a peer's enhanced route refresh at info; an ignored marker at warn (SHOULD log). */
function logRefresh(log: Log, peer: string, r: RefreshReport): void {
  if (r.what === 'ignored') return void log.warn(`enhanced route refresh: ${r.reason} ignored`, { peer, family: r.family });
  if (r.what === 'begin') return void log.info(`enhanced route refresh ${r.restarted ? 'restarted' : 'began'}: routes marked stale until EoRR`, { peer, family: r.family, attributeSets: r.paths });
  const why = r.what === 'end' ? 'at EoRR' : 'no EoRR in time';
  log.info(`enhanced route refresh ended (${why}): routes not re-advertised purged`, { peer, family: r.family, purged: r.purged });
}
