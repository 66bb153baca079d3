/**
 * The IPIP tunnel device (kernel.tunnelDevice): created when an IPIP pool needs it and it is
 * missing (RTM_NEWLINK, kind ipip, administratively up, like `ip link add tunl0 type ipip`). A
 * kernel without IPIP (no ipip module; this lab's kernel) answers EOPNOTSUPP: that becomes one
 * clear error line, and the caller installs every route that needs no tunnel.
 * Not here: the tunnel's addresses or parameters (the node's provisioning sets those).
 */
import { NLM_F, RTM } from '../rtnetlink/constants.js';
import type { NetlinkError } from '../rtnetlink/errors.js';
import { encodeNewLink } from '../rtnetlink/link.js';
import type { RouteSocket } from '../rtnetlink/route-socket.js';
import type { Logger } from './types.js';

/** True when the device exists afterwards (created, or created meanwhile by someone else). */
export async function createTunnel(socket: RouteSocket, name: string, log: Logger): Promise<boolean> {
  try {
    await socket.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, 'newlink', encodeNewLink(name, 'ipip'));
    log.info('created the IPIP tunnel device', { device: name });
    return true;
  } catch (err) {
    const e = err as NetlinkError;
    if (e.code === 'EEXIST') return true;
    const why = e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUP'
      ? 'this kernel has no IPIP support (ipip module)' : `${e.code}${e.extack ? `: ${e.extack}` : ''}`;
    log.error(`tunnel device ${name} is missing and cannot be created (${why}); routes that need IPIP ` +
      'are not installed until it exists, every other route is', { device: name, code: e.code });
    return false;
  }
}
