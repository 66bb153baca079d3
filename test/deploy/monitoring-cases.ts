/**
 * promtool unit-test cases for deploy/monitoring/rack-agent.rules.yml, one row per scenario:
 * the input series (promtool's expanding notation, one sample a minute), when to evaluate, and
 * which alerts must be firing then (their labels; [] = the alert must be quiet). Every alert has
 * at least one firing and one quiet row (checked by monitoring-rules.test.ts), and the recording
 * rules have expression rows. promtool.ts turns the table into promtool's test file.
 */

export type Labels = Readonly<Record<string, string>>;

export interface AlertCase {
  readonly alert: string;
  /** What the row shows, in words. */
  readonly name: string;
  /** Series selector (`metric{...}`) -> values, e.g. `1 1 0x8`. */
  readonly series: readonly (readonly [string, string])[];
  readonly evalTime: string;
  /** Labels of each alert expected to be firing, without alertname and the rule's own labels. */
  readonly fires: readonly Labels[];
}

export interface RecordCase {
  readonly record: string;
  readonly series: readonly (readonly [string, string])[];
  readonly evalTime: string;
  /** Expected samples: labels (without __name__) and value. */
  readonly samples: readonly { readonly labels: Labels; readonly value: number }[];
}

export const JOB = 'rack-agent';

interface Node {
  readonly instance: string;
  readonly node: string;
  readonly rack: string;
}

const N1: Node = { instance: '10.0.1.11:9179', node: 'r1-n1', rack: 'r1' };
const N2: Node = { instance: '10.0.1.12:9179', node: 'r1-n2', rack: 'r1' };
const N3: Node = { instance: '10.0.2.11:9179', node: 'r2-n1', rack: 'r2' };

/** `metric{k="v",...}` for promtool's input_series. */
export function selector(metric: string, labels: Labels): string {
  return `${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

const target = (n: Node): Labels => ({ job: JOB, instance: n.instance });
/** The labels an alert joined with rack_agent_node_info carries. */
const named = (n: Node, extra: Labels = {}): Labels => ({ ...target(n), ...extra, node: n.node, rack: n.rack });
const info = (n: Node, values = '1x30'): readonly [string, string] =>
  [selector('rack_agent_node_info', { ...target(n), node: n.node, rack: n.rack, router_id: '10.0.1.11', asn: '64512', version: '0.1.0' }), values];
const series = (metric: string, n: Node, extra: Labels, values: string): readonly [string, string] =>
  [selector(metric, { ...target(n), ...extra }), values];

const TOR1 = { peer: '10.0.1.1', family: 'ipv4' };
const TOR2 = { peer: '10.0.1.2', family: 'ipv4' };

export const ALERT_CASES: readonly AlertCase[] = [
  {
    alert: 'RackAgentDown', name: 'scrapes failing for 2 minutes',
    series: [series('up', N1, {}, '1 1 0x6'), series('up', N2, {}, '1x8')], evalTime: '4m', fires: [target(N1)],
  },
  { alert: 'RackAgentDown', name: 'failing for 1 minute only', series: [series('up', N1, {}, '1 1 0x6')], evalTime: '3m', fires: [] },
  { alert: 'RackAgentDown', name: 'one failed scrape', series: [series('up', N1, {}, '1 0 1x6')], evalTime: '4m', fires: [] },

  {
    alert: 'RackAgentTargetMissing', name: 'no rack-agent target at all (only other jobs)',
    series: [[selector('up', { job: 'node', instance: '10.0.1.11:9100' }), '1x15']], evalTime: '10m', fires: [{ job: JOB }],
  },
  { alert: 'RackAgentTargetMissing', name: 'a target scraped', series: [series('up', N1, {}, '1x15')], evalTime: '10m', fires: [] },

  {
    alert: 'RackAgentBgpSessionDown', name: 'one of two sessions down for 5 minutes',
    series: [info(N1), series('rack_agent_bgp_session_established', N1, TOR1, '1 1 0x8'), series('rack_agent_bgp_session_established', N1, TOR2, '1x10')],
    evalTime: '7m', fires: [named(N1, TOR1)],
  },
  {
    alert: 'RackAgentBgpSessionDown', name: 'down for 4 minutes only',
    series: [info(N1), series('rack_agent_bgp_session_established', N1, TOR1, '1 1 0x8')], evalTime: '6m', fires: [],
  },
  {
    alert: 'RackAgentBgpSessionDown', name: 'a 3-minute flap, Established again',
    series: [info(N1), series('rack_agent_bgp_session_established', N1, TOR1, '1 1 0 0 0 1x5')], evalTime: '7m', fires: [],
  },

  {
    alert: 'RackAgentKernelOutOfSync', name: 'out of sync for 10 minutes',
    series: [info(N1), series('rack_agent_kernel_in_sync', N1, {}, '1 1 0x12')], evalTime: '12m', fires: [named(N1)],
  },
  {
    alert: 'RackAgentKernelOutOfSync', name: 'a 5-minute start-up, then in sync',
    series: [info(N1), series('rack_agent_kernel_in_sync', N1, {}, '0x5 1x10')], evalTime: '12m', fires: [],
  },

  {
    alert: 'RackAgentKernelErrors', name: 'errors rising every minute',
    series: [info(N1), series('rack_agent_kernel_errors_total', N1, {}, '0 0 1+1x15')], evalTime: '13m', fires: [named(N1)],
  },
  {
    alert: 'RackAgentKernelErrors', name: 'one burst, then none',
    series: [info(N1), series('rack_agent_kernel_errors_total', N1, {}, '0 0 5x15')], evalTime: '13m', fires: [],
  },
  {
    alert: 'RackAgentKernelErrors', name: 'a restart resets the counter, no new errors',
    series: [info(N1), series('rack_agent_kernel_errors_total', N1, {}, '7x4 0x12')], evalTime: '14m', fires: [],
  },

  {
    alert: 'RackAgentBgpPrefixesDropped', name: 'Established, 12 prefixes, then none for 5 minutes',
    series: [info(N1), series('rack_agent_bgp_prefixes_received', N1, TOR1, '12x5 0x10'), series('rack_agent_bgp_session_established', N1, TOR1, '1x15')],
    evalTime: '11m', fires: [named(N1, TOR1)],
  },
  {
    alert: 'RackAgentBgpPrefixesDropped', name: 'a peer that never sent any',
    series: [info(N1), series('rack_agent_bgp_prefixes_received', N1, TOR1, '0x15'), series('rack_agent_bgp_session_established', N1, TOR1, '1x15')],
    evalTime: '11m', fires: [],
  },
  {
    alert: 'RackAgentBgpPrefixesDropped', name: 'the session went down (RackAgentBgpSessionDown covers it)',
    series: [info(N1), series('rack_agent_bgp_prefixes_received', N1, TOR1, '12x5 0x10'), series('rack_agent_bgp_session_established', N1, TOR1, '1x5 0x10')],
    evalTime: '11m', fires: [],
  },

  {
    alert: 'RackAgentBgpMaxPrefixesNear', name: '85 of 100 accepted',
    series: [info(N1), series('rack_agent_bgp_prefixes_accepted', N1, TOR1, '85x10'), series('rack_agent_bgp_max_prefixes', N1, TOR1, '100x10')],
    evalTime: '6m', fires: [named(N1, TOR1)],
  },
  {
    alert: 'RackAgentBgpMaxPrefixesNear', name: '50 of 100, and 500 without a limit',
    series: [
      info(N1),
      series('rack_agent_bgp_prefixes_accepted', N1, TOR1, '50x10'), series('rack_agent_bgp_max_prefixes', N1, TOR1, '100x10'),
      series('rack_agent_bgp_prefixes_accepted', N1, TOR2, '500x10'), series('rack_agent_bgp_max_prefixes', N1, TOR2, '0x10'),
    ],
    evalTime: '6m', fires: [],
  },

  {
    alert: 'RackAgentBfdDown', name: 'BFD down for a minute',
    series: [info(N1), series('rack_agent_bfd_session_up', N1, TOR1, '1 1 0x5')], evalTime: '3m', fires: [named(N1, TOR1)],
  },
  {
    alert: 'RackAgentBfdDown', name: 'one sample down, then up',
    series: [info(N1), series('rack_agent_bfd_session_up', N1, TOR1, '1 0 1x5')], evalTime: '3m', fires: [],
  },

  {
    alert: 'RackAgentNextHopFailing', name: 'a next hop failing its probes for 5 minutes',
    series: [info(N1), series('rack_agent_nexthop_up', N1, { nexthop: '10.0.1.14' }, '1 1 0x8')], evalTime: '7m',
    fires: [named(N1, { nexthop: '10.0.1.14' })],
  },
  {
    alert: 'RackAgentNextHopFailing', name: 'failing for 2 minutes, then answering',
    series: [info(N1), series('rack_agent_nexthop_up', N1, { nexthop: '10.0.1.14' }, '1 0 0 1x8')], evalTime: '7m', fires: [],
  },
];

/** Three nodes, two racks: N1 two sessions up, N2 one of two up and out of sync, N3 one up. */
const FLEET: readonly (readonly [string, string])[] = [
  info(N1), info(N2), info(N3),
  series('rack_agent_bgp_session_established', N1, TOR1, '1x3'), series('rack_agent_bgp_session_established', N1, TOR2, '1x3'),
  series('rack_agent_bgp_session_established', N2, TOR1, '1x3'), series('rack_agent_bgp_session_established', N2, TOR2, '0x3'),
  series('rack_agent_bgp_session_established', N3, { peer: '10.0.2.1', family: 'ipv4' }, '1x3'),
  series('rack_agent_kernel_in_sync', N1, {}, '1x3'), series('rack_agent_kernel_in_sync', N2, {}, '0x3'), series('rack_agent_kernel_in_sync', N3, {}, '1x3'),
  series('rack_agent_kernel_routes', N1, {}, '13x3'), series('rack_agent_kernel_routes', N2, {}, '11x3'), series('rack_agent_kernel_routes', N3, {}, '7x3'),
];

export const RECORD_CASES: readonly RecordCase[] = [
  { record: 'rack:rack_agent_bgp_sessions_established:sum', series: FLEET, evalTime: '2m', samples: [{ labels: { rack: 'r1' }, value: 3 }, { labels: { rack: 'r2' }, value: 1 }] },
  { record: 'rack:rack_agent_bgp_sessions:count', series: FLEET, evalTime: '2m', samples: [{ labels: { rack: 'r1' }, value: 4 }, { labels: { rack: 'r2' }, value: 1 }] },
  { record: 'rack:rack_agent_nodes:count', series: FLEET, evalTime: '2m', samples: [{ labels: { rack: 'r1' }, value: 2 }, { labels: { rack: 'r2' }, value: 1 }] },
  { record: 'rack:rack_agent_nodes_in_sync:sum', series: FLEET, evalTime: '2m', samples: [{ labels: { rack: 'r1' }, value: 1 }, { labels: { rack: 'r2' }, value: 1 }] },
  {
    record: 'node:rack_agent_kernel_routes:sum', series: FLEET, evalTime: '2m',
    samples: [{ labels: { rack: 'r1', node: 'r1-n1' }, value: 13 }, { labels: { rack: 'r1', node: 'r1-n2' }, value: 11 }, { labels: { rack: 'r2', node: 'r2-n1' }, value: 7 }],
  },
];
