/**
 * errno names and numbers, one table for every engine whose typed errors carry both (the netlink
 * layer's NetlinkError, the session's SocketOptionError): Node's os.constants.errno. Not here:
 * the errors themselves (each engine's errors.ts, on CodedError).
 */
import { constants as osConstants } from 'node:os';

const numbers = osConstants.errno as Readonly<Record<string, number | undefined>>;
const names = new Map<number, string>();
for (const [name, value] of Object.entries(numbers)) {
  if (value !== undefined && !names.has(value)) names.set(value, name);
}

/** 'EEXIST' for 17; 'E<n>' for a number Node does not name. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

/** 17 for 'EEXIST'; 0 for a code that is no errno name. */
export function errnoNumber(code: string): number {
  return numbers[code] ?? 0;
}
