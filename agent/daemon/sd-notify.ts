/**
 * sd_notify(3) for systemd Type=notify and its watchdog (READY=1, STOPPING=1, WATCHDOG=1), through
 * the agent's addon (netlink/native/src/notify.c). Not here: when to notify (daemon.ts, shutdown.ts).
 */

import { addonCall } from '../session/socket-options.js';

/** False when $NOTIFY_SOCKET is unset, true once the datagram is sent; SocketOptionError otherwise. */
export function sdNotify(state: string): boolean {
  return addonCall('sdNotify', (addon) => addon.sdNotify(state));
}
