/**
 * BfdError: why a received BFD packet was discarded (RFC 5880 section 6.8.6) or why the BFD
 * transport failed, with a stable `code` that the drop counters are keyed by. Never thrown out of
 * the receive path: the engine counts it and goes on.
 */

import { CodedError } from '../contracts/coded-error.js';

export type BfdErrorCode =
  | 'SHORT'
  | 'BAD_VERSION'
  | 'BAD_LENGTH'
  | 'ZERO_DETECT_MULT'
  | 'MULTIPOINT'
  | 'ZERO_MY_DISCRIMINATOR'
  | 'AUTH_NOT_CONFIGURED'
  /** RFC 5881 section 5: TTL / Hop Limit not 255 (GTSM); multihop: below the configured minimum (RFC 5883 section 5). */
  | 'TTL'
  /** Your Discriminator zero and no session for the source address. */
  | 'UNKNOWN_PEER'
  /** Your Discriminator names no session of ours. */
  | 'UNKNOWN_DISCRIMINATOR'
  /** Your Discriminator zero while the session is not Down or AdminDown (section 6.8.6). */
  | 'ZERO_YOUR_DISCRIMINATOR'
  /** The session named by Your Discriminator belongs to another address (or, multihop, another local address). */
  | 'ADDRESS_MISMATCH'
  /** A single-hop session's packet on the multihop port (4784) or a multihop one's on 3784. */
  | 'HOP_MISMATCH'
  /** The session is bound to another interface than the one the packet arrived on (RFC 5881 section 3). */
  | 'INTERFACE_MISMATCH'
  | 'SOCKET';

export class BfdError extends CodedError<BfdErrorCode> {}
