/**
 * `npm run demo` (as root): a small fabric in network namespaces on this machine - a BIRD 2 ToR
 * route reflector and three rack-agents, each with an IPv4 /26 and an IPv6 /122 - waits for
 * convergence, prints `agentctl status` and the kernel routes of one node, and tears everything
 * down. `npm run demo -- --keep` keeps the fabric up until Ctrl-C and prints commands to explore it.
 * Node n0 also runs an anycast service (SPEC.md "Anycast services"): `dns`, 10.255.0.53/32, a TCP
 * check on a tiny listener in its namespace (service-listener.ts) that `kill -USR2 PID` closes
 * and opens again, so the operator can break the service by hand and watch the ToR.
 * Nothing outside the namespaces it creates is touched.
 */
import { fileURLToPath } from 'node:url';
import { Agent, AGENTCTL } from '../helpers/agent.js';
import { isRoot, Lab, waitFor } from '../helpers/netns.js';
import { agentDoc, buildFabric, disposeFabric, TOR, type Fabric } from '../e2e/fabric.js';

const AGENTS = 3;
/** n0's anycast service: a TCP check on the listener below, announced while it answers. */
const SERVICE = { name: 'dns', prefix: '10.255.0.53/32', port: 5353 };
const LISTENER = fileURLToPath(new URL('./service-listener.js', import.meta.url));
const keep = process.argv.includes('--keep');

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<number> {
  if (!isRoot) {
    say('npm run demo builds network namespaces and needs root: run it as root (sudo npm run demo).');
    return 1;
  }
  say(`Building the demo fabric: a BIRD 2 ToR route reflector (AS ${TOR.as}, ${TOR.ipv4}) and ${AGENTS} agents...`);
  const lab = await Lab.create('demo');
  let f: Fabric | undefined;
  try {
    f = await buildFabric(lab, AGENTS, (i) => {
      const doc = agentDoc(i);
      if (i === 0) {
        doc.services = [{ name: SERVICE.name, prefix: SERVICE.prefix, check: { tcp: `127.0.0.1:${SERVICE.port}` }, interval: 1, timeout: 0.5, rise: 2, fall: 2, communities: ['64512:53'] }];
      }
      return doc;
    });
    const listener = lab.spawn(f.agentNs[0], process.execPath, [LISTENER, String(SERVICE.port)]);
    // Nodes route for their workloads: forwarding on, as on a real Calico node (`agentctl check` looks).
    for (const a of f.agents) {
      await lab.sysctl(a.ns, 'net.ipv4.ip_forward', 1);
      await lab.sysctl(a.ns, 'net.ipv6.conf.all.forwarding', 1);
    }
    for (const a of f.agents) {
      const w = await a.ctl(['wait', '--timeout', '60']);
      if (w.status !== 0) throw new Error(`${a.ns} did not converge:\n${w.stdout}${w.stderr}\n${a.logs()}`);
    }
    const n0: Agent = f.agents[0];
    say(`\nAll ${AGENTS} agents converged. On node n0 (namespace ${n0.ns}):\n`);
    say(`$ agentctl status`);
    say((await n0.ctl(['status'])).stdout.trimEnd());
    say(`\n$ agentctl routes`);
    say((await n0.ctl(['routes'])).stdout.trimEnd());
    say(`\n$ agentctl check      (the data plane: every next hop probed, small and full size)`);
    say((await n0.ctl(['check'])).stdout.trimEnd());
    say(`\n$ ip route show proto rack-agent      (protocol 201)`);
    say((await lab.ip(n0.ns, 'route', 'show', 'proto', '201')).stdout.trimEnd());
    say(`\n$ ip -6 route show proto rack-agent`);
    say((await lab.ip(n0.ns, '-6', 'route', 'show', 'proto', '201')).stdout.trimEnd());
    const tor = f.tor;
    const onTor = async (): Promise<string | undefined> => {
      const shown = await tor.birdc('show', 'route', 'all', SERVICE.prefix).catch(() => '');
      return shown.includes('BGP.community') ? shown : undefined;
    };
    const route = await waitFor(onTor, { timeoutMs: 15_000, what: `the ToR to learn n0's service ${SERVICE.prefix}` });
    say(`\n$ agentctl services      (n0's anycast service: a TCP check on 127.0.0.1:${SERVICE.port}, pid ${listener.pid})`);
    say((await n0.ctl(['services'])).stdout.trimEnd());
    say(`\n$ birdc show route all ${SERVICE.prefix}      (on the ToR)`);
    say(route.trimEnd());
    if (keep) {
      say('\nThe fabric stays up until Ctrl-C. Try, in another terminal:');
      f.agents.forEach((a, i) => say(`  node ${AGENTCTL} --socket ${a.socket} status      # n${i}`));
      say(`  ip netns exec ${n0.ns} ip route`);
      say(`  birdc -s ${f.tor.socket} show route`);
      say(`  kill -USR2 ${listener.pid}      # break n0's dns service: the ToR loses ${SERVICE.prefix} within 3 s`);
      say(`  birdc -s ${f.tor.socket} show route all ${SERVICE.prefix}`);
      say(`  node ${AGENTCTL} --socket ${n0.socket} services`);
      say(`  kill -USR2 ${listener.pid}      # heal it: announced again after 2 passing checks`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return 0;
  } finally {
    say('\nTearing the demo fabric down.');
    await disposeFabric(f);
    await lab.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
