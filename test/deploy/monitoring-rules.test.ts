/**
 * deploy/monitoring/rack-agent.rules.yml with Debian's promtool: `check rules` passes (and fails
 * a broken copy); every alert has a firing and a quiet row in monitoring-cases.ts, a summary and a
 * description naming what to run; `test rules` passes the whole table; and for every alert a
 * never-firing mutant fails its firing rows and an always-firing mutant fails its quiet rows, so
 * no row is a test that cannot fail. Recording rules likewise (a constant mutant fails).
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERT_CASES, RECORD_CASES } from './monitoring-cases.js';
import { which, run } from './paths.js';
import { loadRules, mutate, PROMTOOL, promtoolTest, RULES, rulesOf, type Mutant, type RuleFile } from './promtool.js';

const have = which('promtool') !== undefined;
const missing = 'promtool is missing: apt-get install --no-install-recommends prometheus (.ci/setup does)';
const rules = loadRules();
const alerts = rulesOf(rules).flatMap((r) => (r.alert === undefined ? [] : [r.alert]));
const records = rulesOf(rules).flatMap((r) => (r.record === undefined ? [] : [r.record]));

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-promtool-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('promtool check rules: the shipped file passes, a broken copy fails', async (t) => {
  if (!have) return t.fail(missing);
  const ok = await run(PROMTOOL, ['check', 'rules', RULES]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, new RegExp(`SUCCESS: ${alerts.length + records.length} rules found`));
  const s = scratch();
  try {
    const broken = join(s.dir, 'broken.yml');
    writeFileSync(broken, JSON.stringify({ groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'rate(rack_agent_kernel_errors_total)' }] }] }));
    const bad = await run(PROMTOOL, ['check', 'rules', broken]);
    t.not(bad.code, 0);
    t.regex(bad.stdout + bad.stderr, /ranges only allowed for vector selectors|expected type range vector/);
  } finally {
    s.done();
  }
});

test('every alert has firing and quiet rows, a summary and a description that says what to run', (t) => {
  t.true(alerts.length >= 9);
  for (const alert of alerts) {
    const rows = ALERT_CASES.filter((c) => c.alert === alert);
    t.true(rows.some((c) => c.fires.length > 0), `${alert}: a row where it fires`);
    t.true(rows.some((c) => c.fires.length === 0), `${alert}: a row where it stays quiet`);
    const rule = rulesOf(rules).find((r) => r.alert === alert);
    t.truthy(rule?.annotations?.summary, `${alert}: summary`);
    t.regex(rule?.annotations?.description ?? '', /`(agentctl|journalctl|systemctl) [^`]+`/, `${alert}: a command to run`);
    t.truthy(rule?.labels?.severity, `${alert}: severity`);
  }
  for (const c of ALERT_CASES) t.true(alerts.includes(c.alert), `row for an unknown alert ${c.alert}`);
  t.deepEqual([...new Set(RECORD_CASES.map((c) => c.record))].sort(), [...records].sort(), 'one expression row per recording rule');
});

test('promtool test rules: the whole table passes', async (t) => {
  if (!have) return t.fail(missing);
  const s = scratch();
  try {
    const r = await promtoolTest(s.dir, 'all', rules, ALERT_CASES, RECORD_CASES);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /SUCCESS/);
  } finally {
    s.done();
  }
});

// One row per (alert, mutant): the mutant must fail the rows that matter for it.
const MUTANTS: readonly { alert: string; kind: Mutant }[] = alerts.flatMap((alert) => (['never', 'always'] as const).map((kind) => ({ alert, kind })));

test('each alert\'s rows can fail: a never-firing mutant fails its firing rows, an always-firing one its quiet rows', async (t) => {
  if (!have) return t.fail(missing);
  const s = scratch();
  try {
    for (const { alert, kind } of MUTANTS) {
      const rows = ALERT_CASES.filter((c) => c.alert === alert && (kind === 'never' ? c.fires.length > 0 : c.fires.length === 0));
      const mutant: RuleFile = mutate(rules, alert, kind);
      const r = await promtoolTest(s.dir, `${alert}-${kind}`, mutant, rows);
      t.not(r.code, 0, `${alert} ${kind}: promtool passed a broken rule`);
      t.true((r.stdout + r.stderr).includes(`alertname: ${alert}`), `${alert} ${kind}: promtool names the alert`);
      // The same rows pass with the real rule: the failure is the mutant's.
      const real = await promtoolTest(s.dir, `${alert}-real`, rules, rows);
      t.is(real.code, 0, `${alert}: ${real.stdout}${real.stderr}`);
    }
  } finally {
    s.done();
  }
});

test('each recording rule\'s rows can fail: a constant expression fails them', async (t) => {
  if (!have) return t.fail(missing);
  const s = scratch();
  try {
    for (const record of records) {
      const broken: RuleFile = { groups: rules.groups.map((g) => ({ ...g, rules: g.rules.map((r) => (r.record === record ? { ...r, expr: 'vector(0)' } : r)) })) };
      const r = await promtoolTest(s.dir, `rec-${record.replace(/:/g, '_')}`, broken, [], RECORD_CASES.filter((c) => c.record === record));
      t.not(r.code, 0, `${record}: promtool passed a broken recording rule`);
    }
  } finally {
    s.done();
  }
});
