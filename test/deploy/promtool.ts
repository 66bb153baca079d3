/**
 * Debian's promtool against deploy/monitoring's rules: the rules file read as data, the case
 * table (monitoring-cases.ts) turned into promtool's unit-test file, and mutants of one alert
 * (never firing, always firing) to prove that its firing and its quiet rows can fail.
 * Expected annotations are the rule's own templates with the row's labels filled in; only
 * `{{ $labels.NAME }}` is allowed in them, so this renderer and Prometheus' agree.
 * Not here: Prometheus the server (prometheus.ts).
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { AlertCase, Labels, RecordCase } from './monitoring-cases.js';
import { DEPLOY, run, type RunResult } from './paths.js';

export const MONITORING = join(DEPLOY, 'monitoring');
export const RULES = join(MONITORING, 'rack-agent.rules.yml');
export const DASHBOARD = join(MONITORING, 'rack-agent.dashboard.json');
export const PROMTOOL = '/usr/bin/promtool';

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Labels;
  readonly annotations?: Labels;
}

export interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly interval?: string; readonly rules: readonly Rule[] }[];
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code = 'UNSUPPORTED_TEMPLATE';
}

export function loadRules(path = RULES): RuleFile {
  return parse(readFileSync(path, 'utf8')) as RuleFile;
}

export function rulesOf(file: RuleFile): Rule[] {
  return file.groups.flatMap((g) => g.rules);
}

export function alertRule(file: RuleFile, alert: string): Rule {
  const rule = rulesOf(file).find((r) => r.alert === alert);
  if (rule === undefined) throw new Error(`no alert ${alert} in the rules`);
  return rule;
}

/** `{{ $labels.x }}` -> the label (Prometheus prints `<no value>` for a missing one). */
export function render(template: string, labels: Labels): string {
  const out = template.replace(/\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => labels[name] ?? '<no value>');
  if (out.includes('{{')) throw new TemplateError(`only {{ $labels.NAME }} is supported here: ${template}`);
  return out;
}

function alertTest(file: RuleFile, c: AlertCase): object {
  const rule = alertRule(file, c.alert);
  return {
    interval: '1m',
    input_series: c.series.map(([series, values]) => ({ series, values })),
    alert_rule_test: [{
      eval_time: c.evalTime,
      alertname: c.alert,
      exp_alerts: c.fires.map((labels) => ({
        exp_labels: { ...labels, ...rule.labels },
        exp_annotations: Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, render(v, labels)])),
      })),
    }],
  };
}

function recordTest(c: RecordCase): object {
  const sel = (labels: Labels): string => `${c.record}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  return {
    interval: '1m',
    input_series: c.series.map(([series, values]) => ({ series, values })),
    promql_expr_test: [{ expr: c.record, eval_time: c.evalTime, exp_samples: c.samples.map((s) => ({ labels: sel(s.labels), value: s.value })) }],
  };
}

/** promtool's unit-test document for `rulesPath`: one test group per row. */
export function testDocument(rulesPath: string, file: RuleFile, alerts: readonly AlertCase[], records: readonly RecordCase[] = []): object {
  return {
    rule_files: [rulesPath],
    evaluation_interval: '1m',
    tests: [...alerts.map((c) => alertTest(file, c)), ...records.map(recordTest)],
  };
}

/** Writes the rules and the test document into `dir` and runs `promtool test rules`. */
export async function promtoolTest(dir: string, name: string, file: RuleFile, alerts: readonly AlertCase[], records: readonly RecordCase[] = []): Promise<RunResult> {
  const rulesPath = join(dir, `${name}.rules.yml`);
  const testPath = join(dir, `${name}.test.yml`);
  writeFileSync(rulesPath, stringify(file));
  writeFileSync(testPath, stringify(testDocument(rulesPath, file, alerts, records)));
  return run(PROMTOOL, ['test', 'rules', testPath]);
}

export type Mutant = 'never' | 'always';

/** The rules with one alert broken: `never` fires, or fires at once for everything. */
export function mutate(file: RuleFile, alert: string, kind: Mutant): RuleFile {
  alertRule(file, alert);
  return {
    groups: file.groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) => (r.alert !== alert ? r : kind === 'never' ? { ...r, expr: 'vector(1) == 0' } : { ...r, expr: 'vector(1)', for: '0s' })),
    })),
  };
}

/** The same file with every alert's `for:` replaced (the live test's short copy). */
export function withFor(file: RuleFile, duration: string): RuleFile {
  return { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map((r) => (r.alert === undefined ? r : { ...r, for: duration })) })) };
}
