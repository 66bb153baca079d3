/**
 * The words `agentctl status` shows for a socket error, as BIRD words them (`Socket: Connection
 * refused`): a connect that failed (transport.ts) or a connection that ended (connection.ts).
 * Pure, no imports. Not here: what the session does about the error (the FSM's TcpConnectionFails).
 */

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EPIPE: 'Broken pipe',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EINVAL: 'Invalid argument',
  ENOENT: 'No such file or directory',
};

/** `Socket: Connection refused`, as BIRD words it; unknown errors keep their message. */
export function socketErrorWords(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ERRNO_WORDS[code]) return `Socket: ${ERRNO_WORDS[code]}`;
  return `Socket: ${err instanceof Error ? err.message : String(err)}`;
}
