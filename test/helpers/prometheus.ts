/**
 * Debian's Prometheus as a test peer: `Prometheus.start(lab, ns, options)` writes prometheus.yml
 * (one job `rack-agent` with static targets, the given rule files, short scrape and evaluation
 * intervals) into a temp dir, runs `/usr/bin/prometheus` inside the namespace with its TSDB in
 * that dir and its web listener on an address of the namespace, and waits for /-/ready. The HTTP
 * API is read from inside the namespace (`node -e fetch(...)` under `ip netns exec`): the test
 * process stays outside every namespace, and nothing on the host is listened on or written
 * outside the temp dir. Not here: the rules or the dashboard (test/deploy/promtool.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { captureOutput, type Lab, type Output, waitFor } from './netns.js';

export const PROMETHEUS = '/usr/bin/prometheus';

export interface PrometheusOptions {
  /** `ip:port` inside the namespace for the web UI and API. */
  readonly listen: string;
  /** `ip:port` of each agent's metrics endpoint (job `rack-agent`). */
  readonly targets: readonly string[];
  readonly ruleFiles?: readonly string[];
  /** Both scrape and rule evaluation; default 1s. */
  readonly interval?: string;
}

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  readonly code: 'API_FAILED' | 'QUERY_FAILED';
  constructor(code: PrometheusError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** One sample of an instant vector. */
export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

export interface RuleState {
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly health: string;
  readonly lastError?: string;
  /** Alerting rules only. */
  readonly state?: 'inactive' | 'pending' | 'firing';
  readonly alerts?: readonly { readonly labels: Readonly<Record<string, string>>; readonly state: string }[];
}

// Runs inside the namespace: GET argv[1], print {status, body}.
const FETCH = 'fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => { process.stderr.write(String(e.cause ?? e)); process.exit(1); })';

export class Prometheus {
  private readonly child: ChildProcess;
  private readonly output: Output;

  private constructor(readonly lab: Lab, readonly ns: string, readonly dir: string, readonly listen: string) {
    this.child = lab.spawn(ns, PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${listen}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=info',
    ]);
    this.output = captureOutput(this.child);
  }

  static async start(lab: Lab, ns: string, options: PrometheusOptions): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'rack-agent-prometheus-'));
    const interval = options.interval ?? '1s';
    writeFileSync(join(dir, 'prometheus.yml'), stringify({
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: [{ job_name: 'rack-agent', static_configs: [{ targets: options.targets }] }],
    }));
    const p = new Prometheus(lab, ns, dir, options.listen);
    try {
      await waitFor(async () => {
        if (p.child.exitCode !== null) throw new Error(`prometheus exited ${p.child.exitCode}:\n${p.logs()}`);
        return (await p.get('/-/ready').catch(() => null))?.status === 200;
      }, { timeoutMs: 30_000, intervalMs: 200, what: `prometheus in ${ns} to be ready` });
    } catch (err) {
      await p.dispose();
      throw err;
    }
    return p;
  }

  /** GET `path` from inside the namespace. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const r = await this.lab.exec(this.ns, process.execPath, ['-e', FETCH, `http://${this.listen}${path}`]);
    if (r.code !== 0) throw new PrometheusError('API_FAILED', `GET ${path}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as { status: number; body: string };
  }

  /** `/api/v1/...`'s `data`, or a PrometheusError with Prometheus' own error text. */
  async api<T>(path: string): Promise<T> {
    const r = await this.get(`/api/v1/${path}`);
    const doc = JSON.parse(r.body) as { status: string; data?: T; errorType?: string; error?: string };
    if (doc.status !== 'success') throw new PrometheusError('QUERY_FAILED', `${path}: ${doc.errorType ?? r.status}: ${doc.error ?? r.body}`);
    return doc.data as T;
  }

  /** An instant query; PromQL errors throw. */
  async query(expr: string): Promise<VectorSample[]> {
    const data = await this.api<{ resultType: string; result: VectorSample[] | [number, string] }>(`query?query=${encodeURIComponent(expr)}`);
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as VectorSample[];
  }

  async rules(): Promise<RuleState[]> {
    const data = await this.api<{ groups: { rules: RuleState[] }[] }>('rules');
    return data.groups.flatMap((g) => g.rules);
  }

  async targets(): Promise<{ health: string; labels: Record<string, string>; lastError: string }[]> {
    return (await this.api<{ activeTargets: { health: string; labels: Record<string, string>; lastError: string }[] }>('targets')).activeTargets;
  }

  logs(): string {
    return [...this.output.lines, this.output.stderr()].join('\n');
  }

  async dispose(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
