/**
 * Unnumbered links for the integration tests (BGP unnumbered, issue 22): a veth between two
 * namespaces carrying only the kernel's link-local IPv6 addresses, and each end's address once the
 * kernel has assigned it (no DAD in a lab: netns.ts turns it off). Not here: namespaces (netns.ts).
 */
import { type Lab, waitFor } from './netns.js';

/** The link-local address of `dev` in `ns`, once assigned and not tentative. */
export async function linkLocal(lab: Lab, ns: string, dev: string): Promise<string> {
  return waitFor(async () => {
    const out = (await lab.ip(ns, '-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'link')).stdout;
    return /inet6 (fe80::[0-9a-f:]+)\/64 scope link(?![^\n]*tentative)/.exec(out)?.[1];
  }, { timeoutMs: 10_000, what: `${dev}'s link-local address` });
}

export interface UnnumberedLink {
  readonly torDev: string;
  readonly nodeDev: string;
  readonly torLl: string;
  readonly nodeLl: string;
}

/** A veth between a ToR and a node namespace with link-local addresses only. */
export async function unnumberedLink(lab: Lab, torNs: string, nodeNs: string): Promise<UnnumberedLink> {
  const { a: torDev, b: nodeDev } = await lab.veth(torNs, {}, nodeNs, {});
  return { torDev, nodeDev, torLl: await linkLocal(lab, torNs, torDev), nodeLl: await linkLocal(lab, nodeNs, nodeDev) };
}
