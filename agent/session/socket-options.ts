/**
 * TCP socket options for BGP transport sockets, on top of rack-agent's N-API addon (netlink/native):
 * RFC 2385 TCP MD5 signatures (TCP_MD5SIG), TTL / hop limit, RFC 5082 GTSM (IP_MINTTL,
 * IPV6_MINHOPCOUNT). The addon's other OS wrappers sit beside their users and call it through
 * `addonCall` (agent/daemon/sd-notify.ts); netlink/ is only AF_NETLINK.
 *
 * Outgoing connections: RFC 2385 section 2 signs every segment, the SYN included, so the key must be
 * on the socket before connect(2), and Node's net module gives no moment between socket() and
 * connect(). connectWithOptions therefore makes the socket itself (createTcpSocket: non-blocking,
 * close-on-exec), sets MD5 / TTL / min TTL, binds if asked, and hands the fd to
 * `new net.Socket({ fd })`. Node wraps it in a TCP handle (uv_tcp_open), and `.connect(port, host)`
 * on that socket reuses the handle: libuv's uv_tcp_connect only creates a socket when the handle has
 * none, so connect(2) runs on our fd with our options. Verified on Node 20.20: strace shows
 * setsockopt(fd, TCP_MD5SIG), setsockopt(fd, IP_TTL), then connect(fd, ...) on the same fd, and
 * test/session/socket-options.test.ts shows a wrong key never connects while the listener's kernel
 * counts TcpExtTCPMD5Failure. `manualStart: true` (a net.Socket option Node uses internally) stops
 * Node from starting to read on the not-yet-connected fd; reading starts at 'connect' as usual.
 * The host must be an IP literal: a name would bring DNS and happy-eyeballs, which opens sockets of
 * its own without our options.
 *
 * Listening: options go on a listening net.Server's fd (`server._handle.fd`, Linux); the kernel
 * copies MD5 keys, min TTL and TTL to each accepted socket. A dual-stack (::) listener sees IPv4
 * peers as ::ffff:a.b.c.d; the addon converts IPv4 text by the socket's family (getsockname).
 *
 * Not here: TCP-AO (RFC 5925), prefix or per-interface MD5 keys (TCP_MD5SIG_EXT), connect retries.
 */
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { type Clock, systemClock } from '../contracts/clock.js';
import { CodedError } from '../contracts/coded-error.js';
import { errnoNumber } from '../contracts/errno.js';

/** The operations a SocketOptionError can come from. */
export type SocketOp =
  | 'setMd5Key'
  | 'setTtl'
  | 'getTtl'
  | 'setMinTtl'
  | 'createTcpSocket'
  | 'bindSocket'
  | 'connect'
  | 'getFd'
  | 'sdNotify'
  | 'test';

/** A failed socket operation; `code` is the errno name ('EINVAL', 'ENOENT', 'EBADF', ...). */
export class SocketOptionError extends CodedError {
  readonly op: SocketOp;
  /** Positive errno as in errno(3) and os.constants.errno; 0 when unknown. */
  readonly errno: number;
  readonly syscall: string | undefined;

  constructor(op: SocketOp, code: string, message: string, options: { syscall?: string; cause?: unknown } = {}) {
    super(code, `${op}: ${message}`, options);
    this.op = op;
    this.errno = errnoNumber(code);
    this.syscall = options.syscall;
  }
}

export type Md5Key = Buffer | string;

export interface NativeAddon {
  setMd5Key(fd: number, peerAddress: string, key: Md5Key | null): void;
  setTtl(fd: number, ttl: number): void;
  getTtl(fd: number): number;
  setMinTtl(fd: number, ttl: number): void;
  createTcpSocket(family: 4 | 6): number;
  bindSocket(fd: number, address: string, port: number): void;
  sdNotify(state: string): boolean;
  testBindUnixDgram(address: string): number;
  testRecvUnixDgram(fd: number): Buffer | null;
}

const native = loadAddon();

function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  try {
    return require('rack-agent-native') as NativeAddon;
  } catch (err) {
    throw new Error(
      'rack-agent-native addon is not built: run `npm ci` (its install script runs node-gyp; ' +
        'set npm_config_nodedir=/usr where Node headers are not downloadable)',
      { cause: err },
    );
  }
}

/** System errors from the addon or from Node carry a string code and a syscall. */
function isSystemError(err: unknown): err is Error & { code: string; syscall?: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { syscall?: unknown }).syscall === 'string';
}

function toSocketOptionError(op: SocketOp, err: unknown): unknown {
  if (err instanceof SocketOptionError || !isSystemError(err)) return err;
  return new SocketOptionError(op, err.code, err.message, { syscall: err.syscall, cause: err });
}

/** Runs one addon call; system errors become SocketOptionError, argument TypeErrors pass through. */
function call<T>(op: SocketOp, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toSocketOptionError(op, err);
  }
}

// ---- fd-level operations -------------------------------------------------------------------

/** RFC 2385: key (at most 80 bytes) for segments to and from peerAddress; null or empty removes it. */
export function setMd5Key(fd: number, peerAddress: string, key: Md5Key | null): void {
  call('setMd5Key', () => native.setMd5Key(fd, peerAddress, key));
}

/** IP_TTL, or IPV6_UNICAST_HOPS (and IP_TTL for IPv4 peers) on an AF_INET6 socket; 1 to 255. */
export function setTtl(fd: number, ttl: number): void {
  call('setTtl', () => native.setTtl(fd, ttl));
}

export function getTtl(fd: number): number {
  return call('getTtl', () => native.getTtl(fd));
}

/** RFC 5082 section 3: drop segments arriving with a TTL below `ttl` (255 for one hop; 0 disables). */
export function setMinTtl(fd: number, ttl: number): void {
  call('setMinTtl', () => native.setMinTtl(fd, ttl));
}

/** A non-blocking, close-on-exec TCP socket, neither bound nor connected. The caller owns the fd. */
export function createTcpSocket(family: 4 | 6): number {
  return call('createTcpSocket', () => native.createTcpSocket(family));
}

export function bindSocket(fd: number, address: string, port: number): void {
  call('bindSocket', () => native.bindSocket(fd, address, port));
}

/** One call of the addon for a wrapper outside this file; system errors become SocketOptionError. */
export function addonCall<T>(op: SocketOp, fn: (addon: NativeAddon) => T): T {
  return call(op, () => fn(native));
}

// ---- Node net integration ------------------------------------------------------------------

/** The fd behind a net.Server or net.Socket; Node exposes it as `_handle.fd` on Linux. */
function handleFd(owner: net.Server | net.Socket, what: string): number {
  const handle = (owner as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new SocketOptionError('getFd', 'EBADF',
      `${what} has no file descriptor (not listening or connected yet, or closed)`);
  }
  return fd;
}

export function setListenerMd5Key(server: net.Server, peerAddress: string, key: Md5Key | null): void {
  setMd5Key(handleFd(server, 'server'), peerAddress, key);
}

export function setListenerMinTtl(server: net.Server, ttl: number): void {
  setMinTtl(handleFd(server, 'server'), ttl);
}

export function setListenerTtl(server: net.Server, ttl: number): void {
  setTtl(handleFd(server, 'server'), ttl);
}

export function setSocketTtl(socket: net.Socket, ttl: number): void {
  setTtl(handleFd(socket, 'socket'), ttl);
}

/** RFC 5082 on a connected (e.g. accepted) socket: drop segments arriving below `ttl` from now on. */
export function setSocketMinTtl(socket: net.Socket, ttl: number): void {
  setMinTtl(handleFd(socket, 'socket'), ttl);
}

export function getSocketTtl(socket: net.Socket): number {
  return getTtl(handleFd(socket, 'socket'));
}

export interface ConnectOptions {
  /** The peer's IP address (no names: see the module header). */
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
  md5Key?: Md5Key;
  ttl?: number;
  minTtl?: number;
  /** Reject with ETIMEDOUT if not connected in time; no limit when absent. */
  timeoutMs?: number;
  /** What times `timeoutMs`; systemClock by default. */
  clock?: Clock;
}

/**
 * Opens a TCP connection whose SYN already carries the MD5 signature and TTL. Resolves once
 * connected; every failure rejects with a SocketOptionError (op 'connect' for the connect itself).
 */
export function connectWithOptions(options: ConnectOptions): Promise<net.Socket> {
  const family = net.isIP(options.host);
  if (family !== 4 && family !== 6) {
    return Promise.reject(new SocketOptionError('connect', 'EINVAL',
      `host must be an IPv4 or IPv6 address, got '${options.host}'`));
  }
  let socket: net.Socket;
  try {
    socket = socketWithOptions(family, options);
  } catch (err) {
    return Promise.reject(err);
  }

  return new Promise((resolve, reject) => {
    const clock = options.clock ?? systemClock;
    let timer: unknown;
    const settle = (err?: unknown): void => {
      clock.clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (err === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(err);
      }
    };
    const onConnect = (): void => settle();
    const onError = (err: Error): void => settle(toSocketOptionError('connect', err));
    socket.once('connect', onConnect);
    socket.once('error', onError);
    if (options.timeoutMs !== undefined) {
      // Unref'd (systemClock): the connecting socket holds the process until it settles.
      timer = clock.setTimeout(() => settle(new SocketOptionError('connect', 'ETIMEDOUT',
        `no connection to ${options.host} port ${options.port} within ${options.timeoutMs} ms`,
        { syscall: 'connect' })), options.timeoutMs);
    }
    socket.connect({ port: options.port, host: options.host });
  });
}

/** Creates, configures and wraps the fd; closes it if anything fails before Node owns it. */
function socketWithOptions(family: 4 | 6, options: ConnectOptions): net.Socket {
  const fd = createTcpSocket(family);
  try {
    if (options.md5Key !== undefined && options.md5Key.length > 0) {
      setMd5Key(fd, options.host, options.md5Key);
    }
    if (options.ttl !== undefined) setTtl(fd, options.ttl);
    if (options.minTtl !== undefined) setMinTtl(fd, options.minTtl);
    if (options.localAddress !== undefined || options.localPort !== undefined) {
      bindSocket(fd, options.localAddress ?? (family === 4 ? '0.0.0.0' : '::'), options.localPort ?? 0);
    }
    const socketOptions: net.SocketConstructorOpts & { manualStart: boolean } = { fd, manualStart: true };
    return new net.Socket(socketOptions);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

// ---- test-only -----------------------------------------------------------------------------

/** A unix datagram receiver for tests (Node's dgram has no AF_UNIX); the agent never uses it. */
export const testOnly = {
  /** Binds "/path" or "@abstract"; returns a non-blocking fd the caller closes with fs.closeSync. */
  bindUnixDgram(address: string): number {
    return call('test', () => native.testBindUnixDgram(address));
  },
  /** One waiting datagram, or null when none is queued. */
  recvUnixDgram(fd: number): Buffer | null {
    return call('test', () => native.testRecvUnixDgram(fd));
  },
};
