/**
 * The agent's logger (STYLE.md "Logs"): winston writing one line per entry to stdout, JSON or
 * text, each line opened by the `<N>` syslog priority that journald reads from a service's
 * stdout (sd-daemon(3): `<3>` error, `<4>` warn, `<6>` info, `<7>` debug). Child loggers carry
 * `{component, peer}`; setLevel applies a reloaded `log.level` to every child at once. A
 * redaction net replaces the value of any field named like a secret (password, secret, key),
 * at any depth, before a line is formatted. Not here: files, rotation, remote transports.
 */

import { Writable } from 'node:stream';

import winston from 'winston';

import type { LogConfig, LogLevel } from '../../config/types.js';
import type { Log } from '../contracts/log.js';
import { isoTime } from '../contracts/clock.js';



export interface RootLog {
  readonly log: Log;
  setLevel(level: LogLevel): void;
  level(): LogLevel;
}

export interface LogOptions {
  /** Where lines go; process.stdout by default. */
  readonly stream?: NodeJS.WritableStream;
  /** Open each line with `<N>`; by default when the stream is not a terminal (journald, files). */
  readonly priorityPrefix?: boolean;
}

/** syslog(3) priorities of winston's npm levels. */
export const PRIORITY: Readonly<Record<LogLevel, number>> = {
  error: 3, warn: 4, info: 6, http: 6, verbose: 7, debug: 7, silly: 7,
};

export const REDACTED = '[redacted]';
const SECRET_NAME = /(password|passwd|secret|key)$/i;
const MAX_DEPTH = 6;

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

/** Whether a field of this name holds a secret: `password`, `md5Key`, `clientSecret`. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A copy of `value` with secret-named fields replaced and Errors made plain (no cycles followed). */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `<${value.byteLength} bytes>`;
  if (seen.has(value) || depth >= MAX_DEPTH) return '[...]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: value.message,
      ...(code === undefined ? {} : { code: redact(code, depth + 1, seen) }),
      ...(value.stack === undefined ? {} : { stack: value.stack }),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = isSecretName(name) && field !== undefined && field !== '' ? REDACTED : redact(field, depth + 1, seen);
  }
  return out;
}

/** The redaction net as a winston format: every own field of the entry but level and message. */
const redactFormat = winston.format((info) => {
  for (const name of Object.keys(info)) {
    if (name === 'level' || name === 'message') continue;
    const field = info[name];
    info[name] = isSecretName(name) && field !== undefined && field !== '' ? REDACTED : redact(field);
  }
  if (typeof info.message !== 'string') info.message = JSON.stringify(redact(info.message)) ?? String(info.message);
  return info;
});

const prefixFormat = winston.format((info) => {
  const level = info[LEVEL] as LogLevel;
  info[MESSAGE] = `<${PRIORITY[level] ?? 6}>${String(info[MESSAGE])}`;
  return info;
});

/** `2026-11-21T17:38:47.123Z info [session 10.0.1.1] message key=value ...` */
const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp, component, peer, ...rest } = info;
  const where = [component, peer].filter((part) => typeof part === 'string' && part !== '').join(' ');
  const fields = Object.entries(rest).map(([name, field]) => `${name}=${typeof field === 'string' ? JSON.stringify(field) : JSON.stringify(field) ?? String(field)}`);
  return [timestamp, level, where === '' ? '' : `[${where}]`, message, ...fields].filter((part) => part !== '').join(' ');
});

export function createLog(config: LogConfig, options: LogOptions = {}): RootLog {
  const stream = options.stream ?? process.stdout;
  const prefix = options.priorityPrefix ?? !(stream as { isTTY?: boolean }).isTTY;
  const formats = [
    redactFormat(),
    // Not winston's default (toISOString): the same text without ICU's time-zone data (isoTime).
    winston.format.timestamp({ format: () => isoTime(Date.now()) }),
    config.format === 'json' ? winston.format.json() : textFormat,
    ...(prefix ? [prefixFormat()] : []),
  ];
  const logger = winston.createLogger({
    levels: winston.config.npm.levels,
    level: config.level,
    format: winston.format.combine(...formats),
    transports: [new winston.transports.Stream({ stream })],
    exitOnError: false,
  });
  return {
    log: logger as unknown as Log,
    setLevel(level) {
      logger.level = level;
    },
    level: () => logger.level as LogLevel,
  };
}

/** A Log that drops everything: for tools and tests that do not care. */
export function silentLog(): Log {
  const stream = new Writable({ write: (_chunk, _encoding, done) => done() });
  return createLog({ level: 'error', format: 'json' }, { stream, priorityPrefix: false }).log;
}
