/**
 * Anycast services end to end (SPEC.md "Anycast services") against a BIRD 2 ToR route reflector:
 * a TCP check on a tiny listener inside the node's namespace. The ToR sees the service prefix
 * with our next hop and its community (`birdc show route all`); the listener killed, the ToR
 * loses the prefix within interval x fall + 1 s; started again, the prefix comes back; the agent
 * installs nothing in its kernel for it; `agentctl services -o json` and `rack_agent_service_up`
 * say so; a reload adding a
 * service announces it without touching the session (its SINCE, and BIRD's, stay).
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import type { ServicesAnswer } from '../../agent/control/api.js';
import { birdProtocolName } from '../helpers/bird.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor, type Lab } from '../helpers/netns.js';
import { agentAddress, agentDoc, buildFabric, TOR } from './fabric.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('services e2e', (t) => t.log(`skipped: ${rootSkipReason}`));

const PORT = 5353;
const INTERVAL = 1;
const FALL = 2;
const DNS = '10.255.0.53/32';
const NTP = '10.255.0.123/32';
const METRICS_PORT = 9642;

/** The agent's rack_agent_service_up line for `name`, scraped inside its namespace. */
async function serviceUp(lab: Lab, ns: string, name: string): Promise<string | undefined> {
  const code = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const out = (await lab.exec(ns, process.execPath, ['-e', code])).stdout;
  return out.split('\n').find((l) => l.startsWith(`rack_agent_service_up{service="${name}"}`));
}

/** A TCP listener on the node's loopback: what the service's check connects to. */
function listener(lab: Lab, ns: string): ChildProcess {
  const code = `require('net').createServer((s) => s.destroy()).listen(${PORT}, '127.0.0.1', () => console.log('listening'))`;
  return lab.spawn(ns, process.execPath, ['-e', code]);
}

nsTest('services: the ToR sees the prefix with its community, loses it within interval x fall + 1 s of a break, gets it back; a reload adds one without a session reset', async (t) => {
  const lab = await useLab(t, 'svc');
  const doc = agentDoc(0);
  doc.services = [{ name: 'dns', prefix: DNS, check: { tcp: `127.0.0.1:${PORT}` }, interval: INTERVAL, timeout: 0.5, rise: 2, fall: FALL, communities: ['64512:53'] }];
  doc.metrics = { listen: `127.0.0.1:${METRICS_PORT}` };
  const f = await buildFabric(lab, 1, () => doc);
  const [n0] = f.agents;
  const ns = f.agentNs[0];
  await n0.waitEstablished();
  // birdc answers "Network not found" (as an error of the helper) for a prefix it does not have.
  const tor = async (prefix: string): Promise<string> => f.tor.birdc('show', 'route', 'all', prefix).catch((err: Error) => {
    if (err.message.includes('Network not found')) return '';
    throw err;
  });
  const onTor = async (prefix: string): Promise<boolean> => (await tor(prefix)).includes(prefix.split('/')[0]);

  // Down until its check passes `rise` times: nothing announced with nobody listening.
  t.false(await onTor(DNS), 'not announced while the check fails');
  let server = listener(lab, ns);
  const shown = await waitFor(async () => ((await onTor(DNS)) ? tor(DNS) : undefined), { timeoutMs: 15_000, what: 'the ToR to learn the service prefix' });
  t.regex(shown, /BGP\.community: \(64512,53\)/, shown);
  t.regex(shown, new RegExp(`BGP\\.next_hop: ${agentAddress(0).ipv4.replace(/\./g, '\\.')}`), shown);
  t.regex(shown, /BGP\.origin: IGP/, shown);
  const kernel = (await lab.ip(ns, 'route', 'show', 'table', 'all', '10.255.0.53')).stdout;
  t.is(kernel.trim(), '', 'nothing installed in the node\'s kernel for the service');
  const wait = await n0.ctl(['wait', '--timeout', '10']);
  t.is(wait.status, 0, `converged with the service announced (the kernel in sync): ${wait.stdout}`);
  const json = JSON.parse((await n0.ctl(['services', '-o', 'json'])).stdout) as ServicesAnswer;
  t.like(json.services[0], { name: 'dns', prefix: DNS, state: 'up', lastCheck: { ok: true, detail: 'connected' } });
  t.regex(json.services[0].since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(await serviceUp(lab, ns, 'dns'), 'rack_agent_service_up{service="dns"} 1');

  // Drained (RFC 8326): the service is announced with GRACEFUL_SHUTDOWN and shown `drained`.
  t.is((await n0.ctl(['drain'])).status, 0);
  const drained = await waitFor(async () => { const s = await tor(DNS); return /\(65535,0\)/.test(s) ? s : undefined; }, { timeoutMs: 15_000, what: 'the ToR to see the service with 65535:0' });
  t.regex(drained, /BGP\.community: .*\(64512,53\)/, drained);
  t.is((JSON.parse((await n0.ctl(['services', '-o', 'json'])).stdout) as ServicesAnswer).services[0].state, 'drained');
  t.is((await n0.ctl(['undrain'])).status, 0);
  await waitFor(async () => !/\(65535,0\)/.test(await tor(DNS)), { timeoutMs: 15_000, what: 'the ToR to see the service without 65535:0' });
  t.is((JSON.parse((await n0.ctl(['services', '-o', 'json'])).stdout) as ServicesAnswer).services[0].state, 'up');

  const sessionSince = (await n0.status()).peers[0].since;
  const torProtocol = async (): Promise<string> => {
    const line = (await f.tor.birdc('show', 'protocols', birdProtocolName({ address: agentAddress(0).ipv4, as: TOR.as }))).split('\n').find((l) => l.includes('Established'));
    return line?.replace(/\s+/g, ' ') ?? '';
  };
  const torSince = await torProtocol();
  t.not(torSince, '', 'BIRD shows the session Established');

  // Break it: the listener gone, the ToR loses the prefix within interval x fall + 1 s.
  server.kill('SIGKILL');
  const broke = Date.now();
  await waitFor(async () => !(await onTor(DNS)), { timeoutMs: 15_000, intervalMs: 20, what: 'the ToR to lose the service prefix' });
  const took = Date.now() - broke;
  t.true(took <= (INTERVAL * FALL + 1) * 1000, `withdrawn on the ToR after ${took} ms (bound ${(INTERVAL * FALL + 1) * 1000} ms)`);
  t.log(`withdrawn on the ToR ${took} ms after the break`);
  const down = JSON.parse((await n0.ctl(['services', '-o', 'json'])).stdout) as ServicesAnswer;
  t.like(down.services[0], { state: 'down', lastCheck: { ok: false, detail: 'ECONNREFUSED' } });
  t.is(await serviceUp(lab, ns, 'dns'), 'rack_agent_service_up{service="dns"} 0');

  // Heal it: back after `rise` passes.
  server = listener(lab, ns);
  await waitFor(() => onTor(DNS), { timeoutMs: 15_000, what: 'the ToR to learn the service prefix again' });

  // A reload adding a service: announced, and the session untouched on both sides.
  doc.services = [...doc.services, { name: 'ntp', prefix: NTP, check: { exec: ['/bin/true'] }, interval: INTERVAL, timeout: 0.5, rise: 1, fall: 1 }];
  n0.writeConfig(doc);
  const reload = await n0.ctl(['reload', '-o', 'json']);
  t.is(reload.status, 0, reload.stdout + reload.stderr);
  t.deepEqual(JSON.parse(reload.stdout).servicesAdded, ['ntp']);
  await waitFor(() => onTor(NTP), { timeoutMs: 15_000, what: 'the ToR to learn the added service' });
  t.true(await onTor(DNS), 'the first service stays announced');
  t.is((await n0.status()).peers[0].since, sessionSince, 'our session was not reset');
  t.is(await torProtocol(), torSince, "BIRD's session was not reset");
  server.kill('SIGKILL');
});
