/**
 * The logging surface every engine is given: four levels taking a message and optional structured
 * meta (Logger), and with child() the daemon's loggers that carry {component, peer} (Log).
 * Structural on purpose: winston loggers satisfy it (agent/daemon/log.ts builds them), tests pass
 * `silentLogger` or a recording one. Not here: formats, transports, levels, redaction.
 */

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

/** A Logger that makes children: what the daemon hands its services. */
export interface Log extends Logger {
  child(meta: { component: string; peer?: string }): Log;
}

const nothing = (): void => undefined;

export const silentLogger: Logger = { error: nothing, warn: nothing, info: nothing, debug: nothing };

/** A logger that adds fixed meta (e.g. {peer}) to every line, for loggers without child(). */
export function withMeta(log: Logger, meta: Record<string, unknown>): Logger {
  const wrap = (level: keyof Logger) => (message: string, extra?: Record<string, unknown>): unknown =>
    log[level](message, { ...meta, ...extra });
  return { error: wrap('error'), warn: wrap('warn'), info: wrap('info'), debug: wrap('debug') };
}
