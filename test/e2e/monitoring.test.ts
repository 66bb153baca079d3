/**
 * deploy/monitoring against a real Prometheus (Debian's, issue 16): a BIRD 2 ToR, one agent with
 * metrics on its LAN address, and Prometheus in its own namespace on the same segment scraping it
 * every second with the shipped rules (a copy with every `for:` cut to 2 s). The target is up
 * (then the ToR announces one more route, so the UPDATE-processing panels have a rate to show);
 * every rule evaluates without error; every dashboard query and variable returns data, for All
 * and for one rack and node; no alert is pending or firing while all is well; stopping the ToR
 * takes RackAgentBgpSessionDown from inactive to firing with the node's labels; killing the agent
 * fires RackAgentDown. Every wait is a poll with a deadline.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fill, labelValuesPath, loadDashboard, targets, variableQuery } from '../deploy/dashboard.js';
import { loadRules, withFor } from '../deploy/promtool.js';
import { which } from '../deploy/paths.js';
import { holdsFor, isRoot, Lab, waitFor } from '../helpers/netns.js';
import { Prometheus, type RuleState } from '../helpers/prometheus.js';
import { agentAddress, agentDoc, buildFabric, disposeFabric, TOR, type Fabric } from './fabric.js';

const METRICS = `${agentAddress(0).ipv4}:9179`;
const PROM_ADDRESS = '10.0.1.100';

function alertState(rules: readonly RuleState[], name: string): string | undefined {
  return rules.find((r) => r.type === 'alerting' && r.name === name)?.state;
}

test.serial('Prometheus scrapes the agent: target up, rules healthy, dashboard queries answer, session-down and agent-down alerts fire', async (t) => {
  if (!isRoot) return t.fail('needs root');
  if (which('prometheus') === undefined) return t.fail('prometheus is missing: apt-get install --no-install-recommends prometheus (.ci/setup does)');
  const lab = await Lab.create('mon');
  const dir = mkdtempSync(join(tmpdir(), 'rack-agent-monitoring-'));
  let f: Fabric | undefined;
  let prom: Prometheus | undefined;
  try {
    f = await buildFabric(lab, 1, (i) => {
      const doc = agentDoc(i, { peers: [{ peerIP: TOR.ipv4, asNumber: TOR.as, maxPrefixes: 100 }] });
      return { ...doc, node: { ...doc.node, labels: { rack: 'r1' } }, metrics: { listen: METRICS } };
    });
    const [n0] = f.agents;
    const wait = await n0.ctl(['wait', '--timeout', '30']);
    t.is(wait.status, 0, `${wait.stdout}${wait.stderr}`);

    const promNs = await lab.namespace('prom');
    const sw = `${lab.prefix}sw`;
    await lab.lan(sw, [{ ns: promNs, addr: { ipv4: `${PROM_ADDRESS}/24` } }]);
    const rulesPath = join(dir, 'rack-agent.rules.yml');
    writeFileSync(rulesPath, stringify(withFor(loadRules(), '2s')));
    prom = await Prometheus.start(lab, promNs, { listen: `${PROM_ADDRESS}:9090`, targets: [METRICS], ruleFiles: [rulesPath] });
    const p = prom;

    const target = await waitFor(async () => (await p.targets()).find((x) => x.health === 'up'), { timeoutMs: 20_000, intervalMs: 250, what: 'the rack-agent target to be up' });
    t.like(target.labels, { job: 'rack-agent', instance: METRICS });
    // An UPDATE while Prometheus watches (the start-up's came before its first scrape), so the
    // UPDATE-processing panels have a rate to show: the ToR announces one more route.
    const before = (await n0.status()).peers[0].prefixes.received;
    await f.tor.reconfigure({ ...f.tor.options, routes: { ipv4: ['10.99.0.0/24'] } });
    await waitFor(async () => (await n0.status()).peers[0].prefixes.received === before + 1, { timeoutMs: 20_000, what: 'the ToR\'s new route at the agent' });

    // Every rule evaluated at least once, none with an error, and every alert quiet.
    const rules = await waitFor(async () => {
      const r = await p.rules();
      return r.length > 0 && r.every((x) => x.health === 'ok') ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'every rule to be evaluated healthy' });
    t.is(rules.length, 14);
    await waitFor(async () => (await p.query('rack:rack_agent_nodes:count')).length === 1, { timeoutMs: 20_000, intervalMs: 250, what: 'recording rules to have data' });

    // The dashboard: each query, for All and for rack r1 / node n0, answers with data (rates
    // need two samples, so each query gets its own deadline).
    const dashboard = loadDashboard();
    const selections = [{ rack: '.*', node: '.*', rateInterval: '5m' }, { rack: 'r1', node: 'n0', rateInterval: '5m' }];
    for (const sel of selections) {
      for (const { panel, expr } of targets(dashboard)) {
        const q = fill(expr, sel);
        const result = await waitFor(async () => {
          const r = await p.query(q);
          return r.length > 0 && r.every((s) => !Number.isNaN(Number(s.value[1]))) ? r : undefined;
        }, { timeoutMs: 15_000, intervalMs: 250, what: `data for "${panel}" (${q})` });
        t.true(result.length > 0, `${panel}: ${q}`);
      }
    }
    const vars = dashboard.templating.list.filter((v) => v.type === 'query');
    for (const v of vars) {
      const values = await p.api<string[]>(labelValuesPath(fill(variableQuery(v), { rack: '.*', node: '.*', rateInterval: '5m' })));
      t.deepEqual(values, [v.name === 'rack' ? 'r1' : 'n0'], `variable ${v.name}`);
    }
    // A wrong selection empties the panels: the variables really filter.
    t.deepEqual(await p.query(fill(targets(dashboard)[0].expr, { rack: 'r9', node: '.*', rateInterval: '5m' })), []);

    // All is well: no alert pending or firing across several evaluations.
    await holdsFor(async () => (await p.rules()).every((r) => r.type !== 'alerting' || r.state === 'inactive'),
      { forMs: 4000, intervalMs: 250, what: 'every alert inactive' });

    // The ToR stops: the session-down alert goes inactive -> (pending) -> firing.
    const seen: string[] = [alertState(await p.rules(), 'RackAgentBgpSessionDown') ?? 'missing'];
    await f.tor.stop();
    await waitFor(async () => {
      const state = alertState(await p.rules(), 'RackAgentBgpSessionDown') ?? 'missing';
      if (seen.at(-1) !== state) seen.push(state);
      return state === 'firing';
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'RackAgentBgpSessionDown to fire' });
    t.is(seen[0], 'inactive');
    t.is(seen.at(-1), 'firing');
    t.log(`RackAgentBgpSessionDown: ${seen.join(' -> ')}`);
    const alerts = await p.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
    const down = alerts.alerts.filter((a) => a.labels.alertname === 'RackAgentBgpSessionDown');
    t.is(down.length, 1);
    t.like(down[0], { state: 'firing', labels: { peer: TOR.ipv4, family: 'ipv4', node: 'n0', rack: 'r1', instance: METRICS, job: 'rack-agent', severity: 'warning' } });

    // The agent killed: the target goes down and RackAgentDown fires.
    await n0.kill('SIGKILL');
    await waitFor(async () => alertState(await p.rules(), 'RackAgentDown') === 'firing', { timeoutMs: 60_000, intervalMs: 250, what: 'RackAgentDown to fire' });
  } catch (err) {
    if (prom) t.log(prom.logs().split('\n').slice(-20).join('\n'));
    if (f) for (const a of f.agents) t.log(a.logs().split('\n').slice(-20).join('\n'));
    throw err;
  } finally {
    await prom?.dispose();
    await disposeFabric(f);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
