/**
 * rtnetlink numbers (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h), as
 * `as const` objects. Only what rack-agent reads or writes; a new number is one row here.
 */

export const AF = { INET: 2, INET6: 10 } as const;

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const NLMSG_HDRLEN = 16;

export const NLM_F = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // ACK flags
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** Route types (rtm_type). */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;

export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;
export const RTPROT = { UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4, BIRD: 12 } as const;

/** Route attributes (struct rtattr types inside RTM_*ROUTE). */
export const RTA = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  FLOW: 11,
  CACHEINFO: 12,
  TABLE: 15,
  MARK: 16,
  VIA: 18,
  PREF: 20,
  EXPIRES: 23,
  NH_ID: 30,
} as const;

/** rtm_flags and rtnh_flags. */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16 } as const;
export const RTM_F = { NOTIFY: 0x100, CLONED: 0x200 } as const;

export const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, OPERSTATE: 16, LINKINFO: 18 } as const;
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
export const IFF = { UP: 0x1, RUNNING: 0x40, LOWER_UP: 0x10000 } as const;

export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, FLAGS: 8 } as const;

/** Multicast groups (enum rtnetlink_groups). */
export const RTNLGRP = {
  LINK: 1,
  IPV4_IFADDR: 5,
  IPV4_ROUTE: 7,
  IPV6_IFADDR: 9,
  IPV6_ROUTE: 11,
} as const;
