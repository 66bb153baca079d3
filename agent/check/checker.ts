/**
 * Checker: runs `agentctl check` in the daemon (it holds CAP_NET_RAW; agentctl may not) and, with
 * check.interval > 0, on that period, each result going to `observe` (the metrics). A run reads
 * the snapshots, probes every target twice (64 bytes, then the full path size, DF set) and builds
 * the rows (checks.ts). At most MAX_RUNS at once; more are answered BUSY. Runs never overlap with
 * themselves on the timer: the next starts `interval` after the previous ended.
 * Not here: the probes' sockets (prober.ts) or their meaning (checks.ts).
 */
import { ControlError } from '../control/errors.js';
import type { CheckAnswer } from '../control/api.js';
import type { Log } from '../contracts/log.js';
import { type Clock, isoSeconds, systemClock } from '../contracts/clock.js';
import { checkAnswer } from './checks.js';
import { readForwarding } from './forwarding.js';
import { probe, type ProbeRequest, type SocketOpener } from './prober.js';
import type { CheckSources } from './sources.js';
import { probeTargets, SMALL_PACKET } from './targets.js';

export const MAX_RUNS = 4;

export interface CheckerOptions {
  readonly log: Log;
  /** Every finished run's answer (the metrics). */
  readonly observe?: (answer: CheckAnswer) => void;
  /** Tests substitute sockets. */
  readonly open?: SocketOpener;
  /** /proc/sys by default. */
  readonly procSys?: string;
  /** The periodic runs' timer and each run's timestamp; systemClock by default. Not the probes':
   * they measure round trips on prober.ts's own steadyClock. */
  readonly clock?: Clock;
}

export class Checker {
  private runs = 0;
  private timer: unknown;
  private closed = false;
  private readonly clock: Clock;

  constructor(private readonly sources: CheckSources, private readonly options: CheckerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** One run; `timeoutSeconds` undefined: check.timeout. Throws ControlError BUSY past MAX_RUNS. */
  async run(timeoutSeconds?: number): Promise<CheckAnswer> {
    if (this.runs >= MAX_RUNS) throw new ControlError('BUSY', `${MAX_RUNS} checks are running already; try again`);
    this.runs += 1;
    try {
      return await this.once(timeoutSeconds ?? this.sources.settings().timeout);
    } finally {
      this.runs -= 1;
    }
  }

  /** Starts the periodic runs when check.interval > 0 (read again after each run: reloads apply). */
  start(): void {
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed) return;
    const interval = this.sources.settings().interval;
    // Nothing to do now; look again in a minute in case a reload turned the period on.
    const wait = interval > 0 ? interval * 1000 : 60_000;
    // Unref'd (systemClock): a pending periodic run never holds the process.
    this.timer = this.clock.setTimeout(() => {
      if (this.sources.settings().interval <= 0) return this.schedule();
      this.run().then(
        (answer) => {
          if (!answer.ok) this.options.log.warn('data-plane check failed', { failed: answer.checks.filter((c) => c.status === 'fail').map((c) => `${c.name} ${c.target}: ${c.detail}`) });
        },
        (err: unknown) => this.options.log.warn(`periodic check not run: ${(err as Error).message}`, {}),
      ).finally(() => this.schedule());
    }, wait);
  }

  private async once(timeoutS: number): Promise<CheckAnswer> {
    const started = this.clock.now();
    const s = this.sources;
    const settings = s.settings();
    const sessions = s.sessions();
    const targets = probeTargets({
      routes: s.routes(),
      // An interface peer is probed at its link-local address on its interface, once known.
      peers: sessions.filter((p) => p.enabled && p.linkLocal !== '').map((p) => (p.linkLocal === undefined ? p.address : `${p.linkLocal}%${p.address}`)),
      tunnelDevice: settings.tunnelDevice,
      mtuOf: (name) => s.link(name)?.mtu ?? null,
      deviceFor: (address) => s.deviceFor(address),
    });
    const requests: ProbeRequest[] = targets.flatMap((t) => [
      { family: t.family, address: t.address, packetBytes: SMALL_PACKET },
      { family: t.family, address: t.address, packetBytes: t.packetBytes },
    ]);
    const [forwarding, probes] = await Promise.all([
      readForwarding(settings.ipv6, this.options.procSys),
      probe(requests, { timeoutMs: timeoutS * 1000, log: this.options.log, ...(this.options.open === undefined ? {} : { open: this.options.open }) }),
    ]);
    // The snapshots after the probes: a session that fell meanwhile shows as down.
    const answer = checkAnswer({
      sessions: s.sessions(),
      fib: s.fib(),
      forwarding,
      tunnel: { wanted: settings.ipipWanted, device: settings.tunnelDevice, link: s.link(settings.tunnelDevice) },
      targets,
      probes,
      timeoutS,
      at: isoSeconds(started),
    });
    this.options.log.debug('check run', { ms: this.clock.now() - started, targets: targets.length, ok: answer.ok });
    this.options.observe?.(answer);
    return answer;
  }
}
