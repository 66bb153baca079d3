/**
 * A small fabric for end-to-end tests and the demo: one layer-2 segment (a bridge in its own
 * namespace), a BIRD 2 ToR route reflector (AS 64512, 10.0.1.1, fd00:1::1) and N agents
 * (10.0.1.11.., fd00:1::11..), each agent owning one IPv4 /26 and one IPv6 /122.
 */
import { Agent, type ConfigDoc } from '../helpers/agent.js';
import { Bird } from '../helpers/bird.js';
import type { Lab } from '../helpers/netns.js';

export const TOR = { ipv4: '10.0.1.1', ipv6: 'fd00:1::1', as: 64512 };

export function agentAddress(i: number): { ipv4: string; ipv6: string } {
  return { ipv4: `10.0.1.${11 + i}`, ipv6: `fd00:1::${(0x11 + i).toString(16)}` };
}

export function agentBlocks(i: number): { ipv4: string; ipv6: string } {
  return { ipv4: `192.168.0.${64 * i}/26`, ipv6: i === 0 ? 'fd00:10::/122' : `fd00:10::${(64 * i).toString(16)}/122` };
}

export function agentDoc(i: number, extra: { peers?: ConfigDoc[] } = {}): ConfigDoc {
  const a = agentAddress(i);
  const b = agentBlocks(i);
  return {
    node: { name: `n${i}`, ipv4Address: `${a.ipv4}/24`, ipv6Address: `${a.ipv6}/64` },
    bgp: {
      asNumber: TOR.as,
      holdTime: 9,
      gracefulRestart: { enabled: true, restartTime: 30 },
      peers: extra.peers ?? [{ peerIP: TOR.ipv4, asNumber: TOR.as }],
    },
    pools: [
      { cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' },
      { cidr: 'fd00:10::/48', blockSize: 122, ipipMode: 'Never' },
    ],
    blocks: [b.ipv4, b.ipv6],
  };
}

export interface Fabric {
  readonly tor: Bird;
  readonly torNs: string;
  readonly agents: Agent[];
  readonly agentNs: string[];
}

/**
 * Builds the fabric; the caller destroys the lab (and disposes agents and BIRD) in finally. When a
 * step fails, what was started is disposed here (the caller never gets it).
 */
export async function buildFabric(lab: Lab, count: number, docs?: (i: number) => ConfigDoc): Promise<Fabric> {
  const sw = await lab.namespace('sw');
  const torNs = await lab.namespace('tor');
  const agentNs: string[] = [];
  for (let i = 0; i < count; i++) agentNs.push(await lab.namespace(`n${i}`));
  await lab.lan(sw, [
    { ns: torNs, addr: { ipv4: `${TOR.ipv4}/24`, ipv6: `${TOR.ipv6}/64` } },
    ...agentNs.map((ns, i) => ({ ns, addr: { ipv4: `${agentAddress(i).ipv4}/24`, ipv6: `${agentAddress(i).ipv6}/64` } })),
  ]);
  let tor: Bird | undefined;
  const agents: Agent[] = [];
  try {
    tor = await Bird.start(lab, torNs, {
      routerId: TOR.ipv4,
      localAs: TOR.as,
      neighbors: agentNs.flatMap((_, i) => [
        { address: agentAddress(i).ipv4, as: TOR.as, rrClient: true, localAddress: TOR.ipv4, connectRetry: 1, families: ['ipv4', 'ipv6'] as const },
      ]),
    });
    for (let i = 0; i < count; i++) agents.push(await Agent.start(lab, agentNs[i], docs ? docs(i) : agentDoc(i)));
    return { tor, torNs, agents, agentNs };
  } catch (err) {
    await disposeFabric({ tor, agents });
    throw err;
  }
}

export async function disposeFabric(f: Partial<Fabric> | undefined): Promise<void> {
  for (const a of f?.agents ?? []) await a.dispose().catch(() => undefined);
  await f?.tor?.dispose().catch(() => undefined);
}
