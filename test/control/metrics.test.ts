import test from 'ava';

import { createMetrics, MetricsError, MetricsServer, type MetricsSnapshot, parseListen } from '../../agent/daemon/metrics.js';
import { CHECK_FAIL, memoryLog } from './fakes.js';

function snapshotSource() {
  const state: { snapshot: MetricsSnapshot; calls: number; fail: boolean } = {
    calls: 0,
    fail: false,
    snapshot: {
      node: { name: 'r1-n03', rack: 'r1', routerId: '10.0.1.13', asNumber: 65101, version: '0.1.0' },
      peers: [
        { address: '10.0.1.1', family: 'ipv4', state: 'Established', prefixes: { received: 12, accepted: 11, advertised: 1 }, maxPrefixes: 100, sendHoldExpired: 2, asSetWithdrawn: 3, nextHopFamilyWithdrawn: 4 },
        { address: 'fd00:1::1', family: 'ipv6', state: 'Active', prefixes: { received: 0, accepted: 0, advertised: 0 }, maxPrefixes: 0, sendHoldExpired: 0 },
      ],
      kernel: { routes: 13, inSync: false, problems: 1, errors: 2, reconciles: 5, writeSeconds: 0.5 },
      services: [{ name: 'dns', up: true }, { name: 'web', up: false }],
    },
  };
  const take = (): MetricsSnapshot => {
    state.calls += 1;
    if (state.fail) throw new Error('snapshot broke');
    return state.snapshot;
  };
  return { state, take };
}

test('served over HTTP on loopback: sessions, prefixes, kernel, update histogram', async (t) => {
  const source = snapshotSource();
  const metrics = createMetrics(source.take);
  const server = new MetricsServer(metrics, memoryLog());
  const address = await server.start('127.0.0.1:0');
  try {
    metrics.observeUpdate(0.0002);
    metrics.observeUpdate(0.03);
    const res = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    t.is(source.state.calls, 1, 'one snapshot per scrape');
    for (const line of [
      'rack_agent_bgp_session_state{peer="10.0.1.1",family="ipv4"} 6',
      'rack_agent_bgp_session_state{peer="fd00:1::1",family="ipv6"} 3',
      'rack_agent_bgp_session_established{peer="10.0.1.1",family="ipv4"} 1',
      'rack_agent_bgp_session_established{peer="fd00:1::1",family="ipv6"} 0',
      'rack_agent_bgp_prefixes_received{peer="10.0.1.1",family="ipv4"} 12',
      'rack_agent_bgp_prefixes_accepted{peer="10.0.1.1",family="ipv4"} 11',
      'rack_agent_bgp_prefixes_advertised{peer="10.0.1.1",family="ipv4"} 1',
      'rack_agent_bgp_max_prefixes{peer="10.0.1.1",family="ipv4"} 100',
      'rack_agent_bgp_max_prefixes{peer="fd00:1::1",family="ipv6"} 0',
      'rack_agent_bgp_send_hold_expired_total{peer="10.0.1.1",family="ipv4"} 2',
      'rack_agent_bgp_send_hold_expired_total{peer="fd00:1::1",family="ipv6"} 0',
      '# TYPE rack_agent_bgp_send_hold_expired_total counter',
      'rack_agent_as_set_withdrawn_total{peer="10.0.1.1",family="ipv4"} 3',
      'rack_agent_as_set_withdrawn_total{peer="fd00:1::1",family="ipv6"} 0',
      '# TYPE rack_agent_as_set_withdrawn_total counter',
      'rack_agent_next_hop_family_withdrawn_total{peer="10.0.1.1",family="ipv4"} 4',
      'rack_agent_next_hop_family_withdrawn_total{peer="fd00:1::1",family="ipv6"} 0',
      '# TYPE rack_agent_next_hop_family_withdrawn_total counter',
      'rack_agent_node_info{node="r1-n03",rack="r1",router_id="10.0.1.13",asn="65101",version="0.1.0"} 1',
      'rack_agent_kernel_routes 13',
      'rack_agent_service_up{service="dns"} 1',
      'rack_agent_service_up{service="web"} 0',
      'rack_agent_kernel_in_sync 0',
      'rack_agent_kernel_route_problems 1',
      'rack_agent_kernel_errors_total 2',
      'rack_agent_kernel_reconciles_total 5',
      'rack_agent_kernel_write_seconds_total 0.5',
      'rack_agent_update_processing_seconds_count 2',
      'rack_agent_update_processing_seconds_bucket{le="0.0005"} 1',
      'rack_agent_update_processing_seconds_bucket{le="0.05"} 2',
      '# TYPE rack_agent_kernel_errors_total counter',
    ]) t.true(body.includes(`${line}\n`), line);
    t.regex(body, /^rack_agent_process_resident_memory_bytes \d+$/m);

    // The next scrape follows the snapshot: a removed peer disappears, totals move on.
    source.state.snapshot = {
      ...source.state.snapshot, peers: [source.state.snapshot.peers[0]], kernel: { routes: 14, inSync: true, problems: 0, errors: 2, reconciles: 6, writeSeconds: 0.5 },
    };
    const again = await (await fetch(`http://127.0.0.1:${address.port}/metrics`)).text();
    t.false(again.includes('fd00:1::1'));
    t.true(again.includes('rack_agent_kernel_in_sync 1\n'));
    t.true(again.includes('rack_agent_kernel_route_problems 0\n'));
    t.is(again.match(/^rack_agent_node_info\{/gm)?.length, 1, 'one info series');
    t.true(again.includes('rack_agent_kernel_reconciles_total 6\n'));
    t.true(again.includes('rack_agent_kernel_routes 14\n'));

    t.is((await fetch(`http://127.0.0.1:${address.port}/other`)).status, 404);
    t.is((await fetch(`http://127.0.0.1:${address.port}/metrics`, { method: 'POST' })).status, 405);
    source.state.fail = true;
    const failed = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    t.is(failed.status, 500);
    t.false((await failed.text()).includes('snapshot broke'));
    source.state.fail = false;
    t.is((await fetch(`http://127.0.0.1:${address.port}/metrics`)).status, 200, 'and it recovers');
  } finally {
    await server.close();
  }
});

test('listen addresses', async (t) => {
  t.deepEqual(parseListen('127.0.0.1:9179'), { host: '127.0.0.1', port: 9179 });
  t.deepEqual(parseListen('[::1]:9179'), { host: '::1', port: 9179 });
  for (const bad of ['', '9179', 'localhost:9179', '127.0.0.1:99999', '::1:9179']) {
    t.throws(() => parseListen(bad), { instanceOf: MetricsError }, bad);
  }
  const first = new MetricsServer(createMetrics(snapshotSource().take, { defaultMetrics: false }), memoryLog());
  const address = await first.start('127.0.0.1:0');
  try {
    const second = new MetricsServer(createMetrics(snapshotSource().take, { defaultMetrics: false }), memoryLog());
    const err = await t.throwsAsync(second.start(`127.0.0.1:${address.port}`), { instanceOf: MetricsError });
    t.is(err?.code, 'LISTEN_FAILED');
  } finally {
    await first.close();
  }
});

test('observeCheck: rack_agent_nexthop_up per next hop (fail 0, not probed absent), replaced by each run; the RTT histogram', async (t) => {
  const metrics = createMetrics(snapshotSource().take, { defaultMetrics: false });
  metrics.observeCheck(CHECK_FAIL);
  metrics.observeCheck({ ...CHECK_FAIL, checks: [...CHECK_FAIL.checks, { name: 'nexthop', target: '10.0.1.15', status: 'ok', detail: 'answered', rttMs: 0.25 }] });
  const body = await metrics.scrape();
  t.true(body.includes('rack_agent_nexthop_up{nexthop="10.0.1.14"} 0'), body);
  t.true(body.includes('rack_agent_nexthop_up{nexthop="10.0.1.15"} 1'));
  t.false(body.includes('nexthop="10.0.1.13"'), 'a next hop not probed has no sample');
  t.true(body.includes('rack_agent_nexthop_rtt_seconds_bucket{le="0.00025"} 1'));
  t.true(body.includes('rack_agent_nexthop_rtt_seconds_count 1'));
  metrics.observeCheck({ ...CHECK_FAIL, checks: [] });
  t.false((await metrics.scrape()).includes('rack_agent_nexthop_up{'), 'next hops gone from the last run are gone from the gauge');
});
