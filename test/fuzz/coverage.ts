/**
 * Coverage feedback for the in-process fuzzer: V8's precise block coverage through node:inspector
 * (Profiler.startPreciseCoverage with callCount and detailed block counts). take() returns the
 * features one input reached since the last take (V8 resets the counters on each take): one per
 * executed block of the watched modules, with its hit count bucketed as AFL does, so a loop that
 * runs 1, 2, 3, 4-7, ... times counts as different behaviour. The inspector session is in-thread,
 * so post() answers synchronously. Not here: choosing or mutating inputs (engine.ts).
 */

import { Session } from 'node:inspector';

/** AFL's hit count buckets. */
function bucket(n: number): number {
  if (n <= 3) return n;
  if (n <= 7) return 4;
  if (n <= 15) return 5;
  if (n <= 31) return 6;
  if (n <= 127) return 7;
  return 8;
}

interface Range {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface ScriptCoverage {
  readonly url: string;
  readonly functions: readonly { readonly ranges: readonly Range[] }[];
}

export class CoverageProbe {
  private readonly session = new Session();

  /** `watch`: substrings of the module URLs whose blocks count (e.g. '/agent/bgp/'). */
  constructor(private readonly watch: readonly string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.take(); // drop what loading the modules counted
  }

  /** Features reached since the previous call, as strings 'script:start:end:bucket'. */
  take(): string[] {
    const res = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const out: string[] = [];
    for (const script of res.result) {
      if (!this.watch.some((w) => script.url.includes(w))) continue;
      const name = script.url.slice(script.url.lastIndexOf('/', script.url.lastIndexOf('/') - 1) + 1);
      for (const fn of script.functions) {
        for (const r of fn.ranges) if (r.count > 0) out.push(`${name}:${r.startOffset}:${r.endOffset}:${bucket(r.count)}`);
      }
    }
    return out;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
  }

  private post(method: string, params?: object): unknown {
    let result: unknown;
    let error: Error | null = null;
    let answered = false;
    this.session.post(method, params, (err, r) => {
      error = err;
      result = r;
      answered = true;
    });
    // An in-thread session answers before post() returns (node:inspector).
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (error) throw error;
    return result;
  }
}
