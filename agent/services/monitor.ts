/**
 * The services' monitor (SPEC.md "Anycast services"): one check loop per configured service on
 * the injected clock (the first check at once, then every `interval`; a check ends within its
 * `timeout`, below the interval, so one never overlaps the next), each result through the state
 * machine (fsm.ts), and `onChange` when what is announced changes. A reload (`configure`) keeps
 * the health of a service whose prefix and check stayed the same (its interval, timeout, rise,
 * fall and communities apply from its next check, the communities at once); a service whose
 * prefix or check changed starts again, down. Results of a check that was running when its
 * service was removed or replaced are dropped.
 * Not here: the checks themselves (checks.ts), the routes (agent/rib/services.ts), the wiring
 * (agent/daemon/services.ts).
 */

import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/log.js';
import { parseCommunity } from '../../config/formats.js';
import type { ServiceConfig } from '../../config/types.js';
import { checkers, type RunCheck } from './checks.js';
import { ServiceError } from './errors.js';
import { announced, initialHealth, step, type CheckResult, type Health, type ServiceState } from './fsm.js';

/** What the RIB announces for a healthy service. */
export interface ServiceRoute {
  readonly name: string;
  readonly prefix: string;
  /** RFC 1997 communities as numbers, in the config's order. */
  readonly communities: readonly number[];
}

/** One service for `agentctl services` and the metrics (times: clock ms). */
export interface ServiceStatus {
  readonly name: string;
  readonly prefix: string;
  readonly state: ServiceState;
  readonly since: number;
  /** null until the first check ended. */
  readonly lastCheck: CheckResult | null;
}

export interface MonitorOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** What is announced changed: read announced(). */
  readonly onChange: () => void;
  /** The checkers; tests inject their own. Default: checks.ts over `clock`. */
  readonly run?: RunCheck;
}

interface Entry {
  config: ServiceConfig;
  health: Health;
  timer: unknown;
  running: boolean;
}

/** The part of a service whose change makes it a new service (its health starts again). */
const identity = (s: ServiceConfig): string => JSON.stringify([s.prefix, s.check]);

export function communityNumbers(texts: readonly string[]): number[] {
  return texts.map((c) => {
    const n = parseCommunity(c);
    if (n === undefined) throw new ServiceError('SERVICE_BAD_COMMUNITY', `bad community ${JSON.stringify(c)}`);
    return n;
  });
}

export class ServiceMonitor {
  private readonly entries = new Map<string, Entry>();
  private readonly run: RunCheck;
  private closed = false;

  constructor(private readonly opts: MonitorOptions) {
    this.run = opts.run ?? checkers(opts.clock);
  }

  /** The services of the (new) config; returns the names added, removed and started again. */
  configure(services: readonly ServiceConfig[]): { added: string[]; removed: string[]; changed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const want = new Map(services.map((s) => [s.name, s]));
    for (const [name, e] of this.entries) {
      const next = want.get(name);
      if (next !== undefined && identity(next) === identity(e.config)) {
        e.config = next; // the same service, new timing or communities
        continue;
      }
      this.opts.clock.clearTimeout(e.timer);
      this.entries.delete(name);
      if (next === undefined) removed.push(name);
      else changed.push(name);
    }
    for (const s of services) {
      if (this.entries.has(s.name)) continue;
      if (!changed.includes(s.name)) added.push(s.name);
      const e: Entry = { config: s, health: initialHealth(this.opts.clock.now()), timer: undefined, running: false };
      this.entries.set(s.name, e);
      e.timer = this.opts.clock.setTimeout(() => this.check(e), 0);
    }
    this.opts.onChange();
    return { added, removed, changed };
  }

  /** The routes of every service announced now (up or drained). */
  announced(): ServiceRoute[] {
    const out: ServiceRoute[] = [];
    for (const e of this.entries.values()) {
      if (announced(e.health.state)) out.push({ name: e.config.name, prefix: e.config.prefix, communities: communityNumbers(e.config.communities) });
    }
    return out;
  }

  status(): ServiceStatus[] {
    // A drained node shows its announced services as 'drained' (agent/daemon/answers.ts: the RIB knows the drain).
    return [...this.entries.values()].map((e) => ({ name: e.config.name, prefix: e.config.prefix, state: e.health.state, since: e.health.since, lastCheck: e.health.last }));
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) this.opts.clock.clearTimeout(e.timer);
    this.entries.clear();
  }

  private check(e: Entry): void {
    if (this.closed || this.entries.get(e.config.name) !== e) return;
    const { clock, log } = this.opts;
    e.timer = clock.setTimeout(() => this.check(e), e.config.interval * 1000);
    if (e.running) return; // cannot happen while timeout < interval; never two at once
    e.running = true;
    const { check, timeout } = e.config;
    void this.run(check, timeout * 1000).then((o) => {
      e.running = false;
      if (this.closed || this.entries.get(e.config.name) !== e) return; // removed or replaced meanwhile
      const { next, changed } = step(e.health, { ok: o.ok, detail: o.detail, at: clock.now() }, e.config);
      e.health = next;
      log.debug('service check', { service: e.config.name, ok: o.ok, detail: o.detail });
      if (!changed) return;
      const count = next.state === 'down' ? `${e.config.fall} checks failed` : `${e.config.rise} checks passed`;
      log.info(`service ${e.config.name} ${next.state}: ${count} (${o.detail}); ${next.state === 'down' ? 'withdrawing' : 'announcing'} ${e.config.prefix}`,
        { service: e.config.name, prefix: e.config.prefix });
      this.opts.onChange();
    });
  }
}
