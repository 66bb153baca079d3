/**
 * The session-flap scenario of the fabric lab: node r0n0 takes its ToR session administratively
 * down and up K times (rack-agent: a reload without and with the peer, no idle-hold backoff as for
 * an operator's stop; BIRD: `birdc disable` / `enable`), each time waiting for the ToR to see the
 * session go and come back. The blocks the other nodes lose on each flap are by design (an
 * administrative Cease ends graceful restart).
 * The flapping agent's VmRSS is sampled after every 10th flap. "Flat" (the verdict in the note):
 * the mean of the last 10 samples is at most FLAT_MB above the mean of the 10 samples before the
 * half-way flap, i.e. the second half of the run grows by less than 3 MB (a leak of 6 KB a flap
 * over 1,000 flaps fails). The first few hundred flaps are V8 warming up (JIT code, the heap
 * reaching its working size), which is why the comparison starts half-way (NOTES-i15b.md).
 * Also in the note: the medians of the down and up phases (BIRD's up phase is the ToR's connect
 * delay, at least 0.75 s in BIRD 2) and the flapping agent's CPU per flap.
 * The ToR's BIRD may still hold an error wait from an earlier fault: a hold timer expiry (the
 * 12 s freeze) makes it delay every later restart of that session by its `error wait time`, and a
 * Cease never clears that (only a manual restart does, or the next error 300 s later). Every flap
 * then cost both agents about 1.8 s, and BIRD's ToR refused rack-agent's connection meanwhile.
 * So at the first flap, while the session is down anyway, the scenario restarts the ToR's
 * protocol for the node (`birdc restart`). Every run then starts from the same ToR state,
 * whatever ran before.
 */
import { waitFor } from '../helpers/netns.js';
import { torNodeProtocol } from './bird-configs.js';
import { procStat } from './daemons.js';
import type { Fabric } from './fabric.js';
import type { Scenario } from './measure.js';

export const FLAT_MB = 3;

const mb = (kb: number): string => (kb / 1024).toFixed(1);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Second-half growth of the RSS samples (KB): mean of the last 10 minus mean of the 10 before the middle. */
export function secondHalfGrowthKb(rss: readonly number[]): number {
  const mid = Math.floor(rss.length / 2);
  return mean(rss.slice(-10)) - mean(rss.slice(Math.max(0, mid - 10), mid));
}

/**
 * `sample(i, f)` runs after every 10th flap, after the RSS reading (the probe's heap readings);
 * `resetTor: false` leaves the ToR's error wait as it is (the probe, to measure that slow path).
 */
export function sessionFlaps(count: number, sample?: (flap: number, f: Fabric) => Promise<void>, resetTor = true): Scenario & { rss: number[] } {
  const rss: number[] = [];
  /** Per flap: ms from the command to the ToR seeing the session down, and from the next command to it up. */
  const downMs: number[] = [];
  const upMs: number[] = [];
  let cpuMs = 0;
  const note = (): string => {
    const times = `down ${median(downMs)} ms, up ${median(upMs)} ms (medians), flapping agent CPU ${(cpuMs / Math.max(1, downMs.length)).toFixed(2)} ms a flap`;
    if (rss.length < 20) return `${count} flaps, ${times}`;
    const at = (k: number): string => (rss[k / 10 - 1] === undefined ? '' : ` ${k}: ${mb(rss[k / 10 - 1])},`);
    const marks = [...new Set([10, 100, 500, 1000, count - (count % 10)])].filter((k) => k >= 10 && k <= count).sort((a, b) => a - b);
    const growth = secondHalfGrowthKb(rss);
    const verdict = growth <= FLAT_MB * 1024 ? 'flat' : 'NOT flat';
    return `${count} flaps, ${times}; VmRSS after flap${marks.map(at).join('')} max ${mb(Math.max(...rss))} MB; second half ${growth >= 0 ? '+' : ''}${mb(growth)} MB: ${verdict} (<= ${FLAT_MB} MB)`;
  };
  return {
    name: 'session flaps (r0n0)',
    rss,
    note,
    // rack-agent's reload without its IPv4 peer leaves an IPv6 session as the only way out for the
    // node's IPv4 blocks, so that session now carries IPv4 too (RFC 8950, README Decisions) and is
    // renegotiated: its reset is expected (BIRD's `disable` touches the IPv4 session only).
    expectedFlaps: (f: Fabric) => new Set([`t0:${torNodeProtocol(f.nodes[0].plan)}`, ...(f.kind === 'rack-agent' ? [`t0:${torNodeProtocol(f.nodes[0].plan, 'ipv6')}`] : [])]),
    run: async (f: Fabric) => {
      const n = f.nodes[0];
      const tor = f.tors[0].bird;
      if (tor === undefined) throw new Error('session flaps need a BIRD ToR');
      const proto = torNodeProtocol(n.plan);
      const state = async (): Promise<boolean | undefined> => (await tor.sessions()).get(proto)?.established;
      const cpu0 = procStat(n.agent.pid()).cpuMs;
      for (let i = 1; i <= count; i++) {
        const t0 = Date.now();
        await n.agent.sessionAdmin(false, n.blocks);
        await waitFor(async () => (await state()) === false, { timeoutMs: 15_000, intervalMs: 20, what: `flap ${i}: session down at the ToR` });
        if (i === 1 && resetTor) await tor.birdc('restart', proto);
        const t1 = Date.now();
        await n.agent.sessionAdmin(true, n.blocks);
        await waitFor(async () => (await state()) === true, { timeoutMs: 30_000, intervalMs: 20, what: `flap ${i}: session up at the ToR` });
        downMs.push(t1 - t0);
        upMs.push(Date.now() - t1);
        cpuMs = procStat(n.agent.pid()).cpuMs - cpu0;
        if (i % 10 !== 0) continue;
        rss.push(procStat(n.agent.pid()).rssKb);
        await sample?.(i, f);
      }
      return Date.now();
    },
  };
}
