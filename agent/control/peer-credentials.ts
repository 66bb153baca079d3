/**
 * Who is at the other end of a connected Unix socket (SO_PEERCRED, unix(7)), through the
 * native addon: the control socket lets its group read and keeps changes for root. Node's net
 * module has no API for it. Not here: credentials passed as messages (SCM_CREDENTIALS).
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

interface Addon {
  getPeerCredentials?: (fd: number) => PeerCredentials;
}

function loadAddon(): Addon | null {
  try {
    return createRequire(import.meta.url)('rack-agent-native') as Addon;
  } catch {
    return null;
  }
}

const addon = loadAddon();

/** The kernel's record of the connecting process, or null when it cannot be known. */
export function peerCredentials(socket: Socket): PeerCredentials | null {
  // Linux: a connected net.Socket's handle exposes its fd (the same way socket-options.ts does).
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (addon?.getPeerCredentials === undefined || typeof fd !== 'number' || fd < 0) return null;
  try {
    return addon.getPeerCredentials(fd);
  } catch {
    return null;
  }
}
