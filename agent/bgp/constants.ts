/**
 * Numbers of the BGP-4 wire format (RFC 4271 section 4, IANA registries), named once.
 * Names only: no behaviour lives here.
 */

export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
/** RFC 4271 section 4.1. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654: once both sides sent the extended message capability. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};

/** Smallest legal length of each message type, header included (RFC 4271 section 6.1). */
export const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI = { UNICAST: 1 } as const;

/** AS_TRANS, RFC 6793 section 9. */
export const AS_TRANS = 23456;

export const AttrCode = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** Attribute flag bits, RFC 4271 section 4.3. */
export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

export const CapCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
} as const;

/** NOTIFICATION error codes, RFC 4271 section 4.5 and later RFCs. */
export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
  /** RFC 9687 section 5 (IANA): we could not send for SendHoldTime. */
  SEND_HOLD_TIMER_EXPIRED: 8,
} as const;

export const HeaderSubcode = { NOT_SYNCHRONIZED: 1, BAD_LENGTH: 2, BAD_TYPE: 3 } as const;

export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN: 2,
  MISSING_WELL_KNOWN: 3,
  ATTRIBUTE_FLAGS: 4,
  ATTRIBUTE_LENGTH: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
} as const;
