/**
 * Traffic through the fabric: a probe-agent (probe-agent.ts) on one node per rack (topology.ts
 * probeNodes) sends a UDP probe every 50 ms from its IPv4 and its IPv6 block address to the probe
 * node of every other rack, which answers. A probe is lost when no answer came within ANSWER_MS.
 * `window(from, to)` counts the probes sent in an interval and those lost; `healthy(from)` waits
 * until every pair has been probed a few times after `from` and every such probe is decided.
 * R racks run R processes and R(R-1) x 2 probe streams (3 racks: 12 streams, 240 probes/s).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/netns.js';
import type { Fabric } from './fabric.js';
import { probeAddress, probeNodes } from './topology.js';

export const PROBE_AGENT = fileURLToPath(new URL('./probe-agent.js', import.meta.url));
export const ANSWER_MS = 1000;

export interface PacketCount {
  readonly sent: number;
  readonly lost: number;
}

export interface Probe {
  readonly sentAt: number;
  answeredAt?: number;
}

export interface WindowCount extends PacketCount {
  /** Not answered yet and sent less than ANSWER_MS before `now`: lost or not, it is too early to say. */
  readonly undecided: number;
  /** The fewest probes any one stream sent in the window. */
  readonly perStream: number;
}

/**
 * Counts the probes of every stream (each sorted by sentAt) sent in [from, to): answered within
 * ANSWER_MS, lost (no answer and older than that at `now`), or undecided. Pure.
 */
export function countWindow(streams: Iterable<readonly Probe[]>, from: number, to: number, now: number): WindowCount {
  let sent = 0;
  let lost = 0;
  let undecided = 0;
  let perStream = Number.MAX_SAFE_INTEGER;
  for (const stream of streams) {
    let n = 0;
    for (let i = firstFrom(stream, from); i < stream.length && stream[i].sentAt < to; i++) {
      const p = stream[i];
      n += 1;
      if (p.answeredAt !== undefined && p.answeredAt - p.sentAt <= ANSWER_MS) continue;
      if (now - p.sentAt <= ANSWER_MS) undecided += 1;
      else lost += 1;
    }
    sent += n;
    perStream = Math.min(perStream, n);
  }
  return { sent, lost, undecided, perStream: perStream === Number.MAX_SAFE_INTEGER ? 0 : perStream };
}

/** The index of the first probe sent at or after `from` (binary search). */
function firstFrom(stream: readonly Probe[], from: number): number {
  let lo = 0;
  let hi = stream.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stream[mid].sentAt < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Probes {
  /** `<source ns> <target>` -> probes by seq - 1 (sent in order, so sorted by sentAt). */
  private readonly streams = new Map<string, Probe[]>();
  private readonly children: ChildProcess[] = [];
  private readonly stderr: string[] = [];

  private constructor(readonly intervalMs: number) {}

  /** Starts the probers; `ready()` waits for them. */
  static start(f: Fabric, intervalMs = 50): Probes {
    const p = new Probes(intervalMs);
    const probers = probeNodes(f.plan);
    const byName = new Map(f.nodes.map((n) => [n.plan.name, n]));
    for (const src of probers) {
      const ns = byName.get(src.name)?.ns;
      if (ns === undefined) throw new Error(`probe node ${src.name} is not in the fabric`);
      const targets = probers.filter((t) => t.rack !== src.rack).flatMap((t) => [probeAddress(t.block), probeAddress(t.block6)]);
      for (const t of targets) p.streams.set(`${ns} ${t}`, []);
      const bind = [probeAddress(src.block), probeAddress(src.block6)].join(',');
      const child = f.lab.spawn(ns, process.execPath, [PROBE_AGENT, '--bind', bind, '--targets', targets.join(','), '--interval', String(intervalMs)]);
      p.children.push(child);
      p.follow(ns, child);
    }
    return p;
  }

  /** Waits until every stream has had an answer: the probers run and the fabric carries traffic. */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => [...this.streams.values()].every((s) => s.some((x) => x.answeredAt !== undefined)),
      { timeoutMs, intervalMs: 50, what: `an answer on every probe stream (${this.streams.size})` }).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.stderr.join('')}`);
    });
  }

  get streamCount(): number {
    return this.streams.size;
  }

  private follow(ns: string, child: ChildProcess): void {
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, target, seq, at] = line.split(' ');
        const stream = this.streams.get(`${ns} ${target}`);
        if (stream === undefined) continue;
        if (kind === 'S') stream[Number(seq) - 1] = { sentAt: Number(at) };
        else if (kind === 'A') {
          const probe = stream[Number(seq) - 1];
          if (probe !== undefined && probe.answeredAt === undefined) probe.answeredAt = Number(at);
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.stderr.push(chunk));
  }

  /** Probes sent in [from, to), and of them those not answered within ANSWER_MS (so far). */
  window(from: number, to: number): WindowCount {
    return countWindow(this.streams.values(), from, to, Date.now());
  }

  /** The window [from, to) once every probe in it is decided (at most ANSWER_MS after `to`). */
  async count(from: number, to: number): Promise<PacketCount> {
    const w = await waitFor(() => {
      const x = this.window(from, to);
      return x.undecided === 0 ? x : undefined;
    }, { timeoutMs: ANSWER_MS + 5000, intervalMs: 20, what: 'every probe answered or timed out' });
    return { sent: w.sent, lost: w.lost };
  }

  /** A healthy-fabric window from `from`: `rounds` probes on every stream, every one decided. */
  async healthy(from: number, rounds = 3): Promise<PacketCount> {
    const to = await waitFor(() => (this.window(from, Date.now()).perStream >= rounds ? Date.now() : undefined),
      { timeoutMs: 10_000 + rounds * this.intervalMs * 4, intervalMs: 20, what: `${rounds} probes on every stream` });
    return this.count(from, to);
  }

  stop(): void {
    for (const c of this.children) c.kill('SIGTERM');
  }
}
