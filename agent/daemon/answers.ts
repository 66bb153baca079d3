/**
 * What the running daemon answers: the control socket's handlers (agentctl status, peers, routes,
 * wait, reload, check, drain, undrain, version, services) and the snapshot the metrics read, each over the live engines the
 * daemon hands in. The answers themselves are pure functions (agent/daemon/status.ts); the reload is
 * agent/daemon/reload.ts. Not here: building or starting any engine (agent/daemon/daemon.ts). Engines are
 * imported as types only.
 */
import type { Config } from '../../config/index.js';
import type { Fib } from '../../netlink/fib/index.js';
import type { BfdClient } from '../bfd/client.js';
import type { Checker } from '../check/index.js';
import type { ControlHandlers, ReloadAnswer } from '../control/api.js';
import { isReady } from './readiness.js';
import type { MetricsSnapshot } from './metrics.js';
import type { Rib } from '../rib/rib.js';
import type { ServiceMonitor } from '../services/index.js';
import { isoSeconds } from '../contracts/clock.js';
import type { SessionStatus } from '../contracts/engines.js';
import type { Log } from '../contracts/log.js';
import { routeAnswers, statusAnswer } from './status.js';
import { version } from './version.js';

export interface Engines {
  /** The running configuration (a reload replaces it). */
  readonly config: () => Config;
  /** Every session's status; [] before the sessions exist. */
  readonly sessions: () => SessionStatus[];
  readonly rib: Rib;
  /** Every established peer's initial tables complete and the RIB settled (agent/daemon/readiness.ts). */
  readonly settled: () => boolean;
  readonly fib: Fib;
  readonly bfd: BfdClient;
  readonly checker: Checker;
  /** The anycast services' monitor (SPEC.md "Anycast services"). */
  readonly services: Pick<ServiceMonitor, 'status'>;
  readonly reload: () => ReloadAnswer;
  /** Where drain and undrain are logged. */
  readonly log?: Log;
}

export function controlHandlers(e: Engines): ControlHandlers {
  const { rib, fib, bfd } = e;
  const handlers: ControlHandlers = {
    status: () =>
      statusAnswer({
        routerId: e.config().node.routerId,
        asNumber: e.config().node.asNumber,
        sessions: e.sessions(),
        counts: (key) => rib.peerCounts(key),
        fib: fib.snapshot(),
        drained: rib.exportSettings().drained,
        bfd: bfd.status(),
      }),
    peers: (address) => {
      const all = handlers.status().peers;
      return address === undefined ? all : all.filter((p) => p.address === address);
    },
    routes: (family) => routeAnswers(rib.routes(family), fib.routes(family)),
    converged: () => isReady(e.sessions(), e.settled(), fib.snapshot().inSync),
    reload: () => Promise.resolve(e.reload()),
    check: (timeoutSeconds) => e.checker.run(timeoutSeconds),
    version: () => ({ version: version(), node: e.config().node.name }),
    services: () => ({
      services: e.services.status().map((s) => ({
        // SPEC.md "Anycast services": an announced service of a drained node is `drained`.
        name: s.name, prefix: s.prefix, state: s.state === 'up' && rib.exportSettings().drained ? 'drained' : s.state, since: isoSeconds(s.since),
        lastCheck: s.lastCheck === null ? null : { ok: s.lastCheck.ok, detail: s.lastCheck.detail, at: isoSeconds(s.lastCheck.at) },
      })),
    }),
    drain: (on) => {
      const changed = rib.setDrained(on);
      if (changed) e.log?.info(on ? 'drained (RFC 8326): our routes go out with GRACEFUL_SHUTDOWN, least preferred' : 'undrained: our routes go out as before', {});
      return { drained: on, changed };
    },
  };
  return handlers;
}

/** The metrics' snapshot; the node's labels are those of the configuration now. */
export function metricsSnapshot(e: Engines): () => MetricsSnapshot {
  const config = e.config();
  const node = { name: config.node.name, rack: config.node.labels.rack ?? '', routerId: config.node.routerId, asNumber: config.node.asNumber, version: version() };
  const { rib, fib, bfd } = e;
  return () => {
    const fs = fib.snapshot();
    const bs = bfd.status();
    return {
      node,
      peers: e.sessions().map((st) => ({
        address: st.address, family: st.family, state: st.state, prefixes: rib.peerCounts(st.key), maxPrefixes: st.maxPrefixes,
        sendHoldExpired: st.sendHoldExpired, asSetWithdrawn: st.asSetWithdrawn, nextHopFamilyWithdrawn: st.nextHopFamilyWithdrawn, bfd: bs.sessions.find((b) => b.key === st.key),
      })),
      kernel: { routes: fs.routes, inSync: fs.inSync, problems: fs.errors.length, errors: fs.failures, reconciles: fs.reconciles, writeSeconds: fs.kernelTime.seconds },
      bfdDrops: bs.drops,
      // Health, not announcement: a drained service is healthy (1).
      services: e.services.status().map((s) => ({ name: s.name, up: s.state !== 'down' })),
      drained: rib.exportSettings().drained,
    };
  };
}
