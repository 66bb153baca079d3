/**
 * Address messages (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR; struct ifaddrmsg and IFA_*): which
 * interface holds which address and subnet, so the FIB can find the device a peer is reached on.
 * Not here: address lifetimes, flags beyond what is decoded, adding addresses.
 */
import { AF, IFA } from './constants.js';
import { NetlinkError } from './errors.js';
import { addressToText, familyOf, type Family, textToAddress } from './address.js';
import { cstring, encodeAttr, forEachAttr, readCString } from './message.js';

export interface AddressMessage {
  readonly family: Family;
  readonly prefixLen: number;
  readonly scope: number;
  readonly index: number;
  /** IFA_LOCAL when present (point-to-point), else IFA_ADDRESS. */
  readonly address: string;
  readonly label: string;
}

const IFADDRMSG_LEN = 8;

export function decodeAddress(payload: Buffer): AddressMessage {
  if (payload.length < IFADDRMSG_LEN) {
    throw new NetlinkError('decode', 'EPROTO', `ifaddrmsg of ${payload.length} bytes, 8 expected`);
  }
  const family = familyOf(payload[0]);
  if (family === 0) throw new NetlinkError('decode', 'EAFNOSUPPORT', `address of family ${payload[0]}`);
  let address = '';
  let local = '';
  let label = '';
  forEachAttr(payload.subarray(IFADDRMSG_LEN), (type, value) => {
    if (type === IFA.ADDRESS) address = addressToText(value);
    else if (type === IFA.LOCAL) local = addressToText(value);
    else if (type === IFA.LABEL) label = readCString(value);
  });
  return {
    family,
    prefixLen: payload[1],
    scope: payload[3],
    index: payload.readUInt32LE(4),
    address: local !== '' ? local : address,
    label,
  };
}

/** ifaddrmsg for requests (a dump of one family, or AF_UNSPEC for all). */
export function ifaddrmsg(af: number = 0, index = 0): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b[0] = af;
  b.writeUInt32LE(index, 4);
  return b;
}

/** Round-trip helper for tests: an address message as the kernel would send it. */
export function encodeAddress(a: AddressMessage): Buffer {
  const head = ifaddrmsg(a.family === 4 ? AF.INET : AF.INET6, a.index);
  head[1] = a.prefixLen;
  head[3] = a.scope;
  const parts = [head, encodeAttr(IFA.ADDRESS, textToAddress(a.address))];
  if (a.label !== '') parts.push(encodeAttr(IFA.LABEL, cstring(a.label)));
  return Buffer.concat(parts);
}
