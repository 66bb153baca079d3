/**
 * The lab of the policy and drain tests (issue 23), shared by the BIRD and FRR versions: one node
 * between an iBGP ToR (10.0.1.1, route reflector) and an eBGP ToR (10.0.1.2, AS 65001) on one LAN,
 * and the agent's config with the export rule both tests assert from the ToRs' side.
 */
import type { Lab } from '../helpers/netns.js';
import { agentDoc, TOR } from './fabric.js';

export const NODE = '10.0.1.11';
export const EBGP = { ipv4: '10.0.1.2', as: 65001 };
export const BLOCK = '192.168.0.0/26';

/** The namespaces: the iBGP ToR, the eBGP ToR and the node, on one switch. */
export async function policyLan(lab: Lab): Promise<{ torNs: string; ebgpNs: string; ns: string }> {
  const sw = await lab.namespace('sw');
  const torNs = await lab.namespace('tor');
  const ebgpNs = await lab.namespace('tor2');
  const ns = await lab.namespace('n0');
  await lab.lan(sw, [
    { ns: torNs, addr: { ipv4: `${TOR.ipv4}/24` } },
    { ns: ebgpNs, addr: { ipv4: `${EBGP.ipv4}/24` } },
    { ns, addr: { ipv4: `${NODE}/24` } },
  ]);
  return { torNs, ebgpNs, ns };
}

/** The node's config: both ToRs, IPv4 only, one block, the export rule under test. */
export function policyDoc(): ReturnType<typeof agentDoc> {
  const doc = agentDoc(0, { peers: [{ peerIP: TOR.ipv4, asNumber: TOR.as }, { peerIP: EBGP.ipv4, asNumber: EBGP.as }] });
  doc.node.ipv6Address = '';
  doc.blocks = [BLOCK];
  doc.pools = [doc.pools[0]];
  doc.policy = { export: [{ match: { pool: '192.168.0.0/16' }, set: { communities: ['64512:10'], largeCommunities: ['64512:1:2'], med: 10, prepend: 1 } }] };
  return doc;
}
