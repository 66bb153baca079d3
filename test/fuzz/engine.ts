/**
 * The coverage-guided loop: a corpus of inputs, each kept because it reached a coverage feature
 * no earlier input did (coverage.ts); each step takes one, mutates it (mutators.ts), runs the
 * target (targets.ts) and keeps the mutant when it reaches something new. Anything the target
 * throws is a crash, deduplicated by error kind and top stack frame; an input slower than
 * `slowMs` is one too. Not here: threads, watchdog and files (main.ts, worker.ts, corpus.ts).
 */

import { CoverageProbe } from './coverage.js';
import { mutate, rng, type Rng } from './mutators.js';
import type { Target } from './targets.js';

export interface Crash {
  readonly key: string;
  readonly input: Uint8Array;
  readonly error: string;
}

export interface EngineOptions {
  readonly seed: number;
  /** Longest mutant kept (bytes). */
  readonly maxLength?: number;
  /** An input taking longer than this is a crash ('slow'). */
  readonly slowMs?: number;
  /** Told of each input before it runs (the watchdog's view of the current input). */
  readonly onInput?: (input: Uint8Array) => void;
}

function describe(err: unknown): { key: string; text: string } {
  if (err instanceof Error) {
    const frame = (err.stack ?? '').split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
    return { key: `${err.name}@${frame.trim()}`, text: err.stack ?? String(err) };
  }
  return { key: `thrown ${typeof err}`, text: String(err) };
}

export class Engine {
  readonly corpus: Uint8Array[] = [];
  readonly features = new Set<string>();
  readonly crashes = new Map<string, Crash>();
  executions = 0;
  private readonly probe: CoverageProbe;
  private readonly r: Rng;
  private readonly maxLength: number;
  private readonly slowMs: number;

  constructor(private readonly target: Target, private readonly opts: EngineOptions) {
    this.probe = new CoverageProbe(target.watch);
    this.r = rng(opts.seed);
    this.maxLength = opts.maxLength ?? 8192;
    this.slowMs = opts.slowMs ?? 1000;
  }

  /** Runs one input; returns its features (empty when it crashed). */
  execute(input: Uint8Array): string[] {
    this.opts.onInput?.(input);
    this.executions++;
    const t0 = performance.now();
    try {
      this.target.run(input);
    } catch (err) {
      this.probe.take();
      this.recordCrash(input, err);
      return [];
    }
    const ms = performance.now() - t0;
    const feats = this.probe.take();
    if (ms > this.slowMs) this.recordCrash(input, new Error(`slow input: ${ms.toFixed(0)} ms > ${this.slowMs} ms`));
    return feats;
  }

  /** Runs an input and keeps it when it reaches a new feature; true when kept. */
  consider(input: Uint8Array): boolean {
    const feats = this.execute(input);
    let fresh = false;
    for (const f of feats) {
      if (!this.features.has(f)) {
        this.features.add(f);
        fresh = true;
      }
    }
    if (fresh) this.corpus.push(input);
    return fresh;
  }

  /** One mutation step; returns the mutant when it was kept. */
  step(): Uint8Array | undefined {
    if (this.corpus.length === 0) this.corpus.push(new Uint8Array(0));
    // Newer entries are favoured a little: they are where the frontier is.
    const n = this.corpus.length;
    const pick = this.r() < 0.3 ? n - 1 - Math.floor(this.r() * Math.min(n, 16)) : Math.floor(this.r() * n);
    const donor = this.corpus[Math.floor(this.r() * n)];
    const m = mutate(this.corpus[pick], donor, this.r, this.target.prefix, this.target.bgpAt);
    if (m.length > this.maxLength) return undefined;
    return this.consider(m) ? m : undefined;
  }

  /** Steps until `deadline` (performance.now() ms) or `maxSteps`, whichever comes first. */
  run(deadline: number, maxSteps = Infinity): Uint8Array[] {
    const added: Uint8Array[] = [];
    for (let i = 0; i < maxSteps && performance.now() < deadline; i++) {
      const m = this.step();
      if (m) added.push(m);
    }
    return added;
  }

  /**
   * afl-cmin's rule: for each feature the smallest input that reaches it; the union of those,
   * ranked by how many features each is smallest for, cut to `max` inputs.
   */
  minimise(inputs: readonly Uint8Array[], max: number): Uint8Array[] {
    const best = new Map<string, number>();
    const sorted = [...inputs].sort((a, b) => a.length - b.length || Buffer.compare(a, b));
    sorted.forEach((input, i) => {
      for (const f of this.execute(input)) if (!best.has(f)) best.set(f, i);
    });
    const wins = new Map<number, number>();
    for (const i of best.values()) wins.set(i, (wins.get(i) ?? 0) + 1);
    return [...wins.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, max)
      .map(([i]) => sorted[i]);
  }

  stop(): void {
    this.probe.stop();
  }

  private recordCrash(input: Uint8Array, err: unknown): void {
    const { key, text } = describe(err);
    if (!this.crashes.has(key)) this.crashes.set(key, { key, input: Uint8Array.from(input), error: text });
  }
}
