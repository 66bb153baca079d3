/**
 * The config layer's public face: loadConfig, the Config type, ConfigError and formatProblems,
 * readPassword for the TCP MD5 key files, and the routeProtocol default. Everything else in
 * config/ is internal.
 */

export { loadConfig } from './load.js';
export { ConfigError, formatProblems, type ConfigErrorCode, type Problem } from './errors.js';
export { readPassword } from './password.js';
export { DEFAULT_ROUTE_PROTOCOL, RESERVED_ROUTE_PROTOCOLS } from './formats.js';
export type * from './types.js';
