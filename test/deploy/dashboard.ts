/**
 * deploy/monitoring/rack-agent.dashboard.json read as data: its panels (rows' nested panels
 * too), every target's PromQL, the template variables, Grafana's variables filled in for a
 * query against Prometheus, and the metric and recording-rule names an expression uses.
 */
import { readFileSync } from 'node:fs';
import { DASHBOARD } from './promtool.js';

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
  readonly gridPos?: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
}

export interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { readonly query: string };
  readonly includeAll?: boolean;
  readonly multi?: boolean;
  readonly allValue?: string;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly id: number | null;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

export function loadDashboard(path = DASHBOARD): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function targets(d: Dashboard): { panel: string; expr: string }[] {
  return allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

export function variableQuery(v: Variable): string {
  return typeof v.query === 'string' ? v.query : v.query.query;
}

/** Grafana's variables replaced: `$rack`, `$node` by a value (or `.*` for All), `$__rate_interval`. */
export function fill(expr: string, values: { rack: string; node: string; rateInterval: string }): string {
  return expr.replaceAll('$__rate_interval', values.rateInterval).replaceAll('$rack', values.rack).replaceAll('$node', values.node);
}

/** `label_values(SELECTOR, LABEL)` as Prometheus' label-values API path. */
export function labelValuesPath(query: string): string {
  const m = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query);
  if (m === null) throw new Error(`not a label_values() query: ${query}`);
  return `label/${m[2]}/values?match[]=${encodeURIComponent(m[1])}`;
}

/**
 * Names an expression uses: `metrics` (rack_agent_* and up, histogram suffixes kept) and
 * `records` (recording rules: names with a colon). Label values and strings are skipped.
 */
export function namesIn(expr: string): { metrics: Set<string>; records: Set<string> } {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]');
  const metrics = new Set<string>();
  const records = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    if (name.includes(':')) records.add(name);
    else if (name.startsWith('rack_agent_')) metrics.add(name);
  }
  return { metrics, records };
}

/** A histogram's series name to its metric name. */
export function metricFamily(name: string): string {
  return name.replace(/_(bucket|count|sum)$/, '');
}
