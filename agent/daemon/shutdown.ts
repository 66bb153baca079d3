/**
 * The daemon's stop sequence, the one way out after start-up began: output to the kernel stops
 * first, then the sessions end gracefully (no Hard Reset, see Session.stop), so graceful-restart
 * peers keep our blocks and every kernel route stays in place. It closes whatever start-up has
 * built so far, so a stop signal during start-up (agent/daemon/signals.ts) is as clean as a later one.
 * Not here: when to stop (agent/daemon/daemon.ts, agent/daemon/signals.ts) or building what it closes.
 */
import type { Fib } from '../../netlink/fib/index.js';
import { sdNotify } from './sd-notify.js';
import type { BfdClient } from '../bfd/client.js';
import type { Checker } from '../check/index.js';
import type { ControlServer } from '../control/server.js';
import type { Clock } from '../contracts/clock.js';
import type { Log } from '../contracts/log.js';
import type { MetricsServer } from './metrics.js';
import type { Rib } from '../rib/rib.js';
import type { SessionManager } from '../session/manager.js';

/** What is running when the stop begins (null or undefined: not built yet). */
export interface Running {
  readonly log: Log;
  /** The daemon's clock: the last timer (process.exit after the sessions' last bytes) runs on it. */
  readonly clock: Clock;
  /** Stops the daemon's periodic timers (agent/contracts/clock.ts every()). */
  readonly timers: readonly ((() => void) | undefined)[];
  readonly checker: Checker;
  readonly control: ControlServer | null;
  readonly metricsServer: MetricsServer | null;
  readonly rib: Rib;
  readonly fib: Fib;
  readonly bfd: BfdClient;
  readonly manager: SessionManager;
}

export async function shutdown(signal: string, r: Running): Promise<void> {
  sdNotify('STOPPING=1');
  r.log.info(`${signal}: stopping; kernel routes stay, graceful-restart peers keep ours`, {});
  for (const stop of r.timers) stop?.();
  r.checker.close();
  await r.control?.close();
  await r.metricsServer?.close();
  // Nothing more reaches the kernel: the sessions going down must not withdraw a single route.
  r.rib.close();
  await r.fib.close();
  // AdminDown first: the peers must not take it as a failure (RFC 5882 section 3.2). Sent for the
  // peer's Detection Time (RFC 5880 section 6.8.16), at most 3 s (agent/bfd/protocol.ts).
  await r.bfd.close();
  await r.manager.close('rack-agent stopping', { graceful: true });
  // Sessions flush their last bytes; nothing else keeps the loop alive after this.
  // Unref'd (systemClock): when the loop empties first, the process ends by itself.
  r.clock.setTimeout(() => process.exit(0), 200);
}
