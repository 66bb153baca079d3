/**
 * What a session negotiated that changes how bytes are read and written. One context per
 * direction: add-path flags say whether path identifiers are present in the messages this context
 * decodes (or encodes), per RFC 7911 section 4.
 */

import { MAX_MESSAGE_LENGTH } from './constants.js';

export interface CodecContext {
  /** RFC 6793: both sides sent the 4-octet AS capability. */
  readonly fourOctetAs: boolean;
  /** RFC 7911: path identifiers on IPv4 unicast NLRI in this direction. */
  readonly addPathIpv4: boolean;
  /** RFC 7911: path identifiers on IPv6 unicast NLRI in this direction. */
  readonly addPathIpv6: boolean;
  /** The peer is in another AS (eBGP); some attributes are then discarded (RFC 7606 section 7.5). */
  readonly external: boolean;
  /** 4096, or 65535 with extended messages (RFC 8654). */
  readonly maxLength: number;
  /**
   * RFC 8950: both sides sent the extended next hop capability for IPv4 unicast with next-hop AFI
   * IPv6, so IPv4 NLRI may carry an IPv6 next hop. Read only when decoding (update.ts); what is
   * encoded follows the attributes, so it is not part of contextKey.
   */
  readonly extendedNextHopIpv4: boolean;
}

/** What two modern speakers negotiate: 4-octet AS, no add-path, iBGP, 4096-byte messages. */
export const DEFAULT_CONTEXT: CodecContext = {
  fourOctetAs: true,
  addPathIpv4: false,
  addPathIpv6: false,
  external: false,
  maxLength: MAX_MESSAGE_LENGTH,
  extendedNextHopIpv4: false,
};

export function contextWith(overrides: Partial<CodecContext>): CodecContext {
  return { ...DEFAULT_CONTEXT, ...overrides };
}

/** A text that is equal for two contexts exactly when they encode alike (a cache key). */
export function contextKey(c: CodecContext): string {
  return `${+c.fourOctetAs}${+c.addPathIpv4}${+c.addPathIpv6}${+c.external}${c.maxLength}`;
}
