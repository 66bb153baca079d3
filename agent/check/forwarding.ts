/**
 * The forwarding sysctls of the agent's network namespace, read from /proc/sys (procfs shows the
 * reader's namespace): net.ipv4.ip_forward, and net.ipv6.conf.all.forwarding when the node has
 * IPv6 blocks. Asynchronous reads: a slow procfs never holds the event loop.
 */
import { readFile } from 'node:fs/promises';

import type { SysctlValue } from './checks.js';

export const IPV4_FORWARD = 'net.ipv4.ip_forward';
export const IPV6_FORWARD = 'net.ipv6.conf.all.forwarding';

export async function readSysctl(name: string, root = '/proc/sys'): Promise<SysctlValue> {
  try {
    return { value: (await readFile(`${root}/${name.replaceAll('.', '/')}`, 'utf8')).trim() };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

export async function readForwarding(ipv6: boolean, root?: string): Promise<{ sysctl: string; value: SysctlValue }[]> {
  const names = ipv6 ? [IPV4_FORWARD, IPV6_FORWARD] : [IPV4_FORWARD];
  return Promise.all(names.map(async (sysctl) => ({ sysctl, value: await readSysctl(sysctl, root) })));
}
