/**
 * The logging surface sessions need: four levels taking a message and optional structured meta.
 * Structural on purpose: winston loggers (and their children carrying {component, peer}) satisfy
 * it, tests pass `silentLogger` or a recording one. Not here: formats, transports, levels.
 */

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

const nothing = (): void => undefined;

export const silentLogger: Logger = { error: nothing, warn: nothing, info: nothing, debug: nothing };

/** A logger that adds fixed meta (e.g. {peer}) to every line, for loggers without child(). */
export function withMeta(log: Logger, meta: Record<string, unknown>): Logger {
  const wrap = (level: keyof Logger) => (message: string, extra?: Record<string, unknown>): unknown =>
    log[level](message, { ...meta, ...extra });
  return { error: wrap('error'), warn: wrap('warn'), info: wrap('info'), debug: wrap('debug') };
}
