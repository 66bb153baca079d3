/**
 * `npm run demo` (as root): a small fabric in network namespaces on this machine - a BIRD 2 ToR
 * route reflector and three rack-agents, each with an IPv4 /26 and an IPv6 /122 - waits for
 * convergence, prints `agentctl status` and the kernel routes of one node, and tears everything
 * down. `npm run demo -- --keep` keeps the fabric up until Ctrl-C and prints commands to explore it.
 * Nothing outside the namespaces it creates is touched.
 */
import { Agent, AGENTCTL } from '../helpers/agent.js';
import { isRoot, Lab } from '../helpers/netns.js';
import { buildFabric, disposeFabric, TOR, type Fabric } from '../e2e/fabric.js';

const AGENTS = 3;
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
    f = await buildFabric(lab, AGENTS);
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
    if (keep) {
      say('\nThe fabric stays up until Ctrl-C. Try, in another terminal:');
      f.agents.forEach((a, i) => say(`  node ${AGENTCTL} --socket ${a.socket} status      # n${i}`));
      say(`  ip netns exec ${n0.ns} ip route`);
      say(`  birdc -s ${f.tor.socket} show route`);
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
