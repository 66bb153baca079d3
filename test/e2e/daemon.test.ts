/**
 * The daemon end to end (issue 6): a BIRD 2 ToR route reflector and two agents from config files
 * in network namespaces. `agentctl status` against SPEC.md's layout, `-o json` fields, `wait`
 * exit 0 after convergence and 1 with a peer down, exit 3 once the daemon is gone.
 */
import test from 'ava';
import { agentctl } from '../helpers/agent.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { agentBlocks, agentDoc, buildFabric, TOR } from './fabric.js';

test.serial('status, wait and exit statuses against a BIRD ToR and two agents', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await useLab(t, 'e2e');
  const f = await buildFabric(lab, 2, (i) => ({ ...agentDoc(i), ...(i === 0 ? { metrics: { listen: '127.0.0.1:9179' } } : {}) }));
  const [n0] = f.agents;
  const wait = await n0.ctl(['wait', '--timeout', '30']);
  t.is(wait.status, 0, `${wait.stdout}${wait.stderr}`);

  // The kernel holds our blackholes and the other node's blocks via its address.
  const v4 = (await lab.ip(f.agentNs[0], 'route', 'show', 'proto', '201')).stdout;
  const v6 = (await lab.ip(f.agentNs[0], '-6', 'route', 'show', 'proto', '201')).stdout;
  t.regex(v4, new RegExp(`blackhole ${agentBlocks(0).ipv4}`));
  t.regex(v4, new RegExp(`${agentBlocks(1).ipv4} via 10\\.0\\.1\\.12 dev `));
  t.regex(v6, new RegExp(`blackhole ${agentBlocks(0).ipv6}`));
  t.regex(v6, new RegExp(`${agentBlocks(1).ipv6} via fd00:1::12 dev `));

  // SPEC.md's table, line by line (SINCE is the only moving part).
  const text = await n0.ctl(['status']);
  t.is(text.status, 0);
  const lines = text.stdout.split('\n');
  t.deepEqual(lines.slice(0, 5), [
    'rack-agent process is running.',
    '',
    'IPv4 BGP status',
    '+--------------+---------------+-------+----------+-------------+',
    '| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |    INFO     |',
  ]);
  t.is(lines[5], '+--------------+---------------+-------+----------+-------------+');
  t.regex(lines[6], /^\| 10\.0\.1\.1     \| node specific \| up    \| \d\d:\d\d:\d\d \| Established \|$/);
  t.is(lines[7], lines[5]);
  t.deepEqual(lines.slice(8, 11), ['', 'IPv6 BGP status', 'No IPv6 peers found.']);
  t.false(text.stdout.includes('\u001b['), 'no colour codes when stdout is not a terminal');

  // -o json: SPEC.md's fields.
  const s = await n0.status();
  t.is(s.running, true);
  t.is(s.routerId, '10.0.1.11');
  t.is(s.asNumber, TOR.as);
  t.is(s.peers.length, 1);
  const p = s.peers[0];
  t.like(p, { address: TOR.ipv4, family: 'ipv4', type: 'node specific', asNumber: TOR.as, state: 'Established', info: 'Established' });
  t.regex(p.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.deepEqual(p.prefixes, { received: 2, accepted: 2, advertised: 2 });
  t.deepEqual(s.fib, { routes: 4, inSync: true });

  // Prometheus text from inside the node's namespace.
  const scrape = await lab.exec(f.agentNs[0], process.execPath, ['-e', "fetch('http://127.0.0.1:9179/metrics').then(r => r.text()).then(t => process.stdout.write(t))"], { check: true });
  t.regex(scrape.stdout, /rack_agent_bgp_session_state\{[^}]*10\.0\.1\.1[^}]*\} 6/);
  t.regex(scrape.stdout, /rack_agent_kernel_routes 4/);
  t.regex(scrape.stdout, /rack_agent_update_processing_seconds_count [1-9]/);

  // A peer down: wait times out with 1, the row says start and why.
  await f.tor.stop();
  await waitFor(async () => (await n0.status()).peers[0].state !== 'Established', { timeoutMs: 30_000, what: 'the agent to see the ToR gone' });
  const down = await n0.ctl(['wait', '--timeout', '2']);
  t.is(down.status, 1, down.stdout);
  const row = (await n0.ctl(['status'])).stdout.split('\n')[6];
  t.regex(row, /^\| 10\.0\.1\.1 +\| node specific \| start \| \d\d:\d\d:\d\d \| (Active|Connect|Idle)( .+)? +\|$/);
  const later = await waitFor(async () => {
    const peer = (await n0.status()).peers[0];
    return peer.lastError !== '' ? peer : undefined;
  }, { timeoutMs: 20_000, what: 'a last error for the ToR' });
  t.log(`with the ToR stopped: ${later.info}`);
  t.true(later.info.startsWith(later.state), later.info);
  // Our own blocks stay blackholed while the ToR is away.
  t.regex((await lab.ip(f.agentNs[0], 'route', 'show', 'proto', '201')).stdout, /blackhole 192\.168\.0\.0\/26/);

  // The daemon gone: exit 3 and SPEC.md's sentence.
  const socket = n0.socket;
  await n0.kill('SIGTERM');
  const gone = await agentctl(socket, ['status']);
  t.is(gone.status, 3);
  t.is(gone.stdout.trim(), 'rack-agent process is not running.');
  t.is((await agentctl(socket, ['wait', '--timeout', '1'])).status, 3);
  // SIGTERM keeps kernel routes.
  t.regex((await lab.ip(f.agentNs[0], 'route', 'show', 'proto', '201')).stdout, /blackhole 192\.168\.0\.0\/26/);
});
