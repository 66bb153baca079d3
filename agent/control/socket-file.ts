/**
 * The control socket's file: refusing to start when another agent answers on it, replacing a
 * stale one, resolving the config's group, and giving the socket mode 0660 and that group.
 * The socket is bound under umask 0117, so it is never connectable by others, even briefly.
 * Not here: reading or answering requests (server.ts).
 */

import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';

import { type Clock, systemClock } from '../contracts/clock.js';
import { ControlError } from './errors.js';

export const SOCKET_MODE = 0o660;
/** Applied around bind(2) so the socket file is born 0660. */
export const BIND_UMASK = 0o117;

function errnoCode(err: unknown): string {
  return typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException).code as string : '';
}

/** Whether something accepts connections on `path` (a hung process that holds it counts). */
function answers(path: string, timeoutMs: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    // Unref'd (systemClock): the connecting socket holds the process until one of the three.
    const timer = clock.setTimeout(() => {
      socket.destroy();
      resolve(true);
    }, timeoutMs);
    socket.once('connect', () => {
      clock.clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err) => {
      clock.clearTimeout(timer);
      // EAGAIN: a listener whose backlog is full, so somebody is there.
      resolve(errnoCode(err) === 'EAGAIN');
    });
  });
}

/**
 * Makes `path` free for our socket: creates its folder (0755, so group members can reach the
 * socket), removes a stale socket, and refuses when a live process answers or the path is not
 * a socket. `clock` times the probe of a live process (`probeTimeoutMs`).
 */
export async function claimSocketPath(path: string, probeTimeoutMs = 1000, clock: Clock = systemClock): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 }).catch((err: unknown) => {
    throw new ControlError('SOCKET_SETUP', `cannot create the folder of ${path}: ${errnoCode(err) || String(err)}`, { cause: err });
  });
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new ControlError('SOCKET_SETUP', `cannot examine ${path}: ${errnoCode(err) || String(err)}`, { cause: err });
  }
  if (!isSocket) {
    throw new ControlError('NOT_A_SOCKET', `${path} exists and is not a socket; not replacing it`);
  }
  if (await answers(path, probeTimeoutMs, clock)) {
    throw new ControlError('ALREADY_RUNNING', `another process answers on ${path}: is rack-agent already running?`);
  }
  await unlink(path).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') {
      throw new ControlError('SOCKET_SETUP', `cannot remove the stale socket ${path}: ${errnoCode(err)}`, { cause: err });
    }
  });
}

/** The gid of a group name (through NSS, as `getent group` sees it) or of a numeric id. */
export async function resolveGroup(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}\$?$/.test(group)) {
    throw new ControlError('GROUP_NOT_FOUND', `control.group '${group}' is not a valid group name`);
  }
  // node:child_process (and the cluster, dgram and socket-list modules it brings) only when a
  // group is named: about 1 MB of the agent's start-up RSS otherwise (issue 12).
  const { execFile } = process.getBuiltinModule('node:child_process');
  const line = await new Promise<string>((resolve) => {
    execFile('getent', ['group', group], { encoding: 'utf8', timeout: 5000 }, (err, stdout) => {
      resolve(err === null ? stdout.trim() : '');
    });
  });
  const gid = Number(line.split(':')[2]);
  if (line === '' || !Number.isInteger(gid)) {
    throw new ControlError('GROUP_NOT_FOUND', `control.group '${group}' does not exist on this host`);
  }
  return gid;
}

/** Mode 0660, owned by us and `gid`. */
export async function secureSocket(path: string, gid: number): Promise<void> {
  try {
    await chown(path, process.getuid?.() ?? 0, gid);
    await chmod(path, SOCKET_MODE);
  } catch (err) {
    throw new ControlError('SOCKET_SETUP', `cannot give ${path} group ${gid} and mode 0660: ${errnoCode(err) || String(err)}`, { cause: err });
  }
}
