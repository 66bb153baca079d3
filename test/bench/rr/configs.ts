/**
 * bench:rr's reflector configs for N clients, both passive for every client (the clients connect):
 * the agent's config document (node.routeReflectorClusterID makes it reflect, RFC 4456; one
 * `passive: true` iBGP peer per client; pools that hold the clients' blocks; no blocks of its own)
 * and BIRD 2's bird.conf (one `protocol bgp` per client from a template with `direct` (on-link),
 * `passive on`, `rr client`, `rr cluster id`, IPv4 and IPv6 channels importing and exporting all).
 * The generator's ip -batch file for the clients' addresses is here too.
 * Not here: the address arithmetic (plan.ts), starting the reflectors (run.ts).
 */
import {
  AS, CLUSTER_ID, clientAddress, LINK_V4_LENGTH, LINK_V6_LENGTH, numberToIpv4, POOL_V4, POOL_V6, REFLECTOR_V4, REFLECTOR_V6,
} from './plan.js';

export const HOLD_TIME = 90;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AgentDoc = Record<string, any>;

/** The agent's config; `clusterId: ''` makes it a plain iBGP speaker that reflects nothing. */
export function agentConfig(n: number, control: string, o: { clusterId?: string; logLevel?: string } = {}): AgentDoc {
  const peers = [];
  for (let i = 0; i < n; i++) peers.push({ peerIP: numberToIpv4(clientAddress(i)), asNumber: AS, passive: true });
  return {
    node: {
      name: 'rr',
      ipv4Address: `${REFLECTOR_V4}/${LINK_V4_LENGTH}`,
      ipv6Address: `${REFLECTOR_V6}/${LINK_V6_LENGTH}`,
      routeReflectorClusterID: o.clusterId ?? CLUSTER_ID,
    },
    bgp: { asNumber: AS, holdTime: HOLD_TIME, peers },
    pools: [
      { cidr: POOL_V4, blockSize: 26, ipipMode: 'Never' },
      { cidr: POOL_V6, blockSize: 122, ipipMode: 'Never' },
    ],
    blocks: [],
    control: { socket: control },
    log: { level: o.logLevel ?? 'info', format: 'json' },
  };
}

/** bird.conf for N clients. */
export function birdConfig(n: number, o: { clusterId?: string } = {}): string {
  const lines = [
    `router id ${REFLECTOR_V4};`,
    'protocol device {}',
    'template bgp rrc {',
    `  local ${REFLECTOR_V4} as ${AS};`,
    '  direct;',
    '  passive on;',
    o.clusterId === '' ? '' : `  rr client;\n  rr cluster id ${o.clusterId ?? CLUSTER_ID};`,
    `  hold time ${HOLD_TIME};`,
    '  ipv4 { import all; export all; };',
    '  ipv6 { import all; export all; };',
    '}',
  ];
  for (let i = 0; i < n; i++) lines.push(`protocol bgp c${i} from rrc { neighbor ${numberToIpv4(clientAddress(i))} as ${AS}; }`);
  return `${lines.join('\n')}\n`;
}

/** `ip -batch` lines that give the generator's interface `dev` the clients' addresses 1..N-1 (0 is the veth's own). */
export function addressBatch(n: number, dev: string): string {
  const lines: string[] = [];
  for (let i = 1; i < n; i++) lines.push(`addr add ${numberToIpv4(clientAddress(i))}/${LINK_V4_LENGTH} dev ${dev}`);
  return `${lines.join('\n')}\n`;
}
