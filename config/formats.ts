/**
 * The value formats of the config file, one row per format: a check that returns undefined for a
 * good value or the problem in words. schema.ts registers every row with convict under its name;
 * the cross-field checks reuse them. Numbers are never coerced from strings (strict: `"90"` is not
 * a hold time). RFC references: AS numbers RFC 6793 and RFC 7607, hold time RFC 4271 section 4.2,
 * graceful restart time RFC 4724 section 3, GTSM RFC 5082, BFD intervals RFC 5880 section 4.1.
 */

import { parseCidr, parseEndpoint, parseIpv4 } from './addresses.js';

export type Check = (value: unknown) => string | undefined;

/** services[].interval at most (seconds); services[].timeout is below it. */
export const MAX_SERVICE_INTERVAL = 3600;

/**
 * The rtm_protocol this agent marks its kernel routes with unless kernel.routeProtocol says
 * otherwise: 201, unassigned in Linux's rtnetlink.h and iproute2's rt_protos, and clear of BIRD
 * (12), Calico Felix (80), 17, keepalived (18), babel (42), openr (99) and FRR's 186..198.
 */
export const DEFAULT_ROUTE_PROTOCOL = 201;

/** rtm_protocol numbers that belong to the kernel, to iproute2's table or to other daemons. */
export const RESERVED_ROUTE_PROTOCOLS: ReadonlySet<number> = new Set([
  0, 1, 2, 3, 4, // unspec, redirect, kernel, boot, static: the kernel's own
  8, 9, 10, 11, 12, 13, 14, 15, 16, // gated, ra, mrt, zebra, bird, dnrouted, xorp, ntk, dhcp
  17, 18, 42, 80, 99, 168, // 17, keepalived, babel, Calico Felix, openr, 168
  ...Array.from({ length: 13 }, (_, i) => 186 + i), // FRR: bgp 186 .. srte 198
]);

/** RFC 6793 section 9: AS_TRANS stands in for a 4-octet AS on 2-octet sessions. */
export const AS_TRANS = 23456;
/** check.timeout and `agentctl check --timeout` at most (seconds). */
export const MAX_CHECK_TIMEOUT = 60;

/** Linux TCP_MD5SIG_MAXKEYLEN. */
export const MAX_MD5_KEY_LENGTH = 80;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const required = (v: unknown): string | undefined => (v === null || v === undefined ? 'is required' : undefined);

function intIn(min: number, max: number, what: string): Check {
  return (v) => required(v) ?? (isInt(v) && v >= min && v <= max ? undefined : `must be ${what}`);
}

function text(check: (s: string) => string | undefined, allowEmpty: boolean): Check {
  return (v) => {
    if (typeof v !== 'string') return required(v) ?? 'must be a string';
    if (v === '') return allowEmpty ? undefined : 'must not be empty';
    return check(v);
  };
}

const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export function checkLabels(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be a mapping of label names to strings';
  for (const [key, value] of Object.entries(v)) {
    if (!LABEL_KEY.test(key)) return `label name ${JSON.stringify(key)} is not a valid label name`;
    if (typeof value !== 'string') return `label ${key} must be a string (quote it in YAML)`;
    if (!LABEL_VALUE.test(value)) return `label ${key} has an invalid value`;
  }
  return undefined;
}

export function checkCidr(s: string): string | undefined {
  const cidr = parseCidr(s);
  if (!cidr) return 'must be a prefix like 192.168.0.0/16 or fd00:10::/48';
  if (cidr.hostBitsSet) return `has host bits set: the prefix is ${cidr.network.key}/${cidr.len}`;
  return undefined;
}

function interfaceAddress(family: 'ipv4' | 'ipv6'): (s: string) => string | undefined {
  const example = family === 'ipv4' ? '10.0.1.13/24' : 'fd00:1::13/64';
  return (s) => {
    const c = parseCidr(s);
    if (!c || c.family !== family || c.len === 0) return `must be an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address with its subnet, like ${example}`;
    return undefined;
  };
}

function endpoint(portRequired: boolean): (s: string) => string | undefined {
  return (s) => {
    const e = parseEndpoint(s);
    if (e && (e.port !== undefined || !portRequired)) return undefined;
    return portRequired
      ? 'must be ip:port, like 127.0.0.1:9179 or [::1]:9179'
      : 'must be an IP address or ip:port, like 10.0.1.1, 10.0.1.1:179, fd00::1 or "[fd00::1]:179"';
  };
}

function oneOf(values: readonly string[]): Check {
  return (v) => required(v) ?? (typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.join(', ')}`);
}

/** A service check's `tcp`: `host:port` with an IP address (no name lookup in the agent). */
function hostPort(s: string): string | undefined {
  const e = parseEndpoint(s);
  return e && e.port !== undefined ? undefined : 'must be ip:port, like 127.0.0.1:53 or "[::1]:53"';
}

/** A service check's `http`: an http:// URL (node:http; no TLS). */
function httpUrl(s: string): string | undefined {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return 'must be a URL like http://127.0.0.1:8080/healthz';
  }
  return url.protocol === 'http:' ? undefined : `must be an http:// URL (not ${url.protocol}//: the check speaks plain HTTP)`;
}

/** A service check's `exec`: the argv, run without a shell. */
function argv(v: unknown): string | undefined {
  if (!Array.isArray(v)) return required(v) ?? 'must be a list: the program and its arguments, run without a shell';
  if (v.length === 0) return undefined; // empty: not this kind of check (cross-checks.ts wants one kind)
  if (!v.every((a) => typeof a === 'string' && !a.includes('\0'))) return 'must hold strings only (quote numbers in YAML)';
  return (v[0] as string).startsWith('/') ? undefined : `must start with an absolute program path, not ${JSON.stringify(v[0])}`;
}

/** RFC 1997 communities as `AS:VALUE`, each part 0..65535. */
export function parseCommunity(s: string): number | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  if (m === null) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  return hi <= 0xffff && lo <= 0xffff ? ((hi << 16) | lo) >>> 0 : undefined;
}

function communities(v: unknown): string | undefined {
  if (!Array.isArray(v)) return required(v) ?? 'must be a list of communities like ["64512:53"]';
  const bad = v.find((c) => typeof c !== 'string' || parseCommunity(c) === undefined);
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a community AS:VALUE with both parts 0..65535 (RFC 1997)`;
}

const seconds = (min: number, max: number): Check => (v) =>
  (typeof v === 'number' && Number.isFinite(v) && v > min && v <= max ? undefined : required(v) ?? `must be a number of seconds above ${min} and at most ${max}`);

export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/** RFC 4271 / RFC 6793 AS numbers, with the two a peer may never use. */
const asNumber: Check = (v) =>
    required(v) ??
    (isInt(v) && v === AS_TRANS
      ? 'must not be 23456 (AS_TRANS, RFC 6793)'
      : isInt(v) && v === 0
        ? 'must not be 0 (RFC 7607)'
        : isInt(v) && v >= 1 && v <= 0xffffffff
          ? undefined
          : 'must be an AS number 1..4294967295');

/** Every format by name; schema.ts refers to these names. */
export const FORMATS = {
  'ra-bool': (v) => required(v) ?? (typeof v === 'boolean' ? undefined : 'must be true or false'),
  'ra-string': text(() => undefined, true),
  'ra-list': (v) => required(v) ?? (Array.isArray(v) ? undefined : 'must be a list'),
  'ra-labels': checkLabels,
  'ra-as-number': asNumber,
  'ra-hold-time': (v) => required(v) ?? (isInt(v) && (v === 0 || (v >= 3 && v <= 65535)) ? undefined : 'must be 0 or 3..65535 seconds (RFC 4271 section 4.2)'),
  'ra-send-hold-time': intIn(0, 65535, 'a whole number of seconds 0..65535 (0: off, RFC 9687)'),
  'ra-keepalive-time': intIn(0, 21845, 'a whole number of seconds 0..21845'),
  'ra-restart-time': intIn(0, 4095, 'a whole number of seconds 0..4095 (RFC 4724)'),
  'ra-quiet-time': intIn(1, 600, 'a whole number of seconds 1..600'),
  'ra-check-interval': intIn(0, 86400, 'a whole number of seconds 0..86400 (0: off)'),
  'ra-check-timeout': (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_CHECK_TIMEOUT
    ? undefined : `must be a number of seconds above 0 and at most ${MAX_CHECK_TIMEOUT}`),
  'ra-port': intIn(1, 65535, 'a port 1..65535'),
  'ra-multipath': intIn(1, 256, 'a number of paths 1..256'),
  'ra-ttl-security': intIn(0, 255, 'a hop count 0..255 (0: off)'),
  // RFC 5880 section 4.1 carries microseconds in 32 bits; 10 ms .. 60 s is what makes sense here.
  'ra-bfd-interval': intIn(10, 60000, 'a whole number of milliseconds 10..60000'),
  'ra-bfd-multiplier': intIn(1, 255, 'a Detect Mult 1..255 (RFC 5880 section 4.1)'),
  'ra-bfd-multihop': oneOf(['auto', 'on', 'off']),
  'ra-bfd-min-ttl': intIn(0, 255, 'a TTL 0..255 (0: no check)'),
  'ra-uint32': intIn(0, 0xffffffff, 'a whole number 0..4294967295'),
  'ra-block-size': intIn(0, 128, 'a prefix length (26 for IPv4 pools, 122 for IPv6)'),
  'ra-route-protocol': (v) => {
    if (required(v) || !isInt(v) || v < 1 || v > 255) return required(v) ?? 'must be an rtm_protocol number 1..255';
    return RESERVED_ROUTE_PROTOCOLS.has(v) ? `${v} is reserved for another routing daemon or the kernel; the default is ${DEFAULT_ROUTE_PROTOCOL}` : undefined;
  },
  'ra-route-table': (v) =>
    required(v) ??
    (isInt(v) && v >= 1 && v <= 0xffffffff && v !== 255 ? undefined : 'must be a routing table id 1..4294967295, not 255 (local)'),
  'ra-ipv4': text((s) => (parseIpv4(s) && s !== '0.0.0.0' ? undefined : 'must be a non-zero IPv4 address like 10.0.1.13'), false),
  'ra-cluster-id': text((s) => (parseIpv4(s) && s !== '0.0.0.0' ? undefined : 'must be empty or a non-zero IPv4-style id like 224.0.0.1'), true),
  'ra-ipv4-interface': text(interfaceAddress('ipv4'), false),
  'ra-ipv6-interface': text(interfaceAddress('ipv6'), true),
  'ra-cidr': text(checkCidr, false),
  'ra-cidr-optional': text(checkCidr, true),
  'ra-prefix-length': intIn(0, 128, 'a prefix length 0..128'),
  'ra-prepend': intIn(0, 16, 'a number of prepends 0..16'),
  'ra-policy-action': oneOf(['accept', 'reject']),
  'ra-peer-type': (v) => required(v) ?? (v === '' || v === 'ibgp' || v === 'ebgp' ? undefined : 'must be ibgp or ebgp (or left out)'),
  'ra-endpoint': text(endpoint(false), true),
  'ra-listen': text(endpoint(true), true),
  'ra-node-name': text((s) => (/^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/.test(s) ? undefined : 'must be a host name'), false),
  'ra-path': text((s) => (s.includes('\0') ? 'must not contain NUL' : undefined), true),
  'ra-socket-path': text(
    (s) => (!s.startsWith('/') ? 'must be an absolute path' : Buffer.byteLength(s) > 107 ? 'must be at most 107 bytes (sun_path)' : undefined),
    false,
  ),
  'ra-group': text((s) => (/^([A-Za-z_][A-Za-z0-9_.-]{0,31}|\d+)$/.test(s) ? undefined : 'must be empty, a group name or a gid'), true),
  'ra-ifname': text(
    (s) => (/^[^\s/:]{1,15}$/.test(s) && s !== '.' && s !== '..' ? undefined : 'must be an interface name of 1..15 characters'),
    false,
  ),
  'ra-ifname-or-empty': text(
    (s) => (/^[^\s/:%]{1,15}$/.test(s) && s !== '.' && s !== '..' ? undefined : 'must be an interface name of 1..15 characters'),
    true,
  ),
  'ra-peer-as-number': (v) =>
    v === 'external' || v === 'internal' ? undefined : typeof v === 'string' ? 'must be an AS number 1..4294967295, external or internal' : asNumber(v),
  'ra-ipip-mode': oneOf(['Always', 'CrossSubnet', 'Never']),
  'ra-scope': oneOf(['node', 'global']),
  'ra-source-address': oneOf(['UseNodeIP', 'None']),
  'ra-next-hop-mode': oneOf(['Auto', 'Self', 'Keep']),
  'ra-log-level': oneOf(LOG_LEVELS),
  'ra-log-format': oneOf(['json', 'text']),
  'ra-service-name': text((s) => (/^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/.test(s) ? undefined : 'must be a name of 1..64 letters, digits, ".", "_" or "-"'), false),
  'ra-host-port': text(hostPort, true),
  'ra-http-url': text(httpUrl, true),
  'ra-http-status': intIn(100, 599, 'an HTTP status 100..599'),
  'ra-argv': argv,
  'ra-communities': communities,
  'ra-service-interval': seconds(0, MAX_SERVICE_INTERVAL),
  'ra-service-timeout': seconds(0, MAX_CHECK_TIMEOUT),
  'ra-service-count': intIn(1, 100, 'a whole number of checks 1..100'),
} satisfies Record<string, Check>;

export type FormatName = keyof typeof FORMATS;
