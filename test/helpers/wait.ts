/**
 * Polling and output capture for the integration tests: wait until something holds (`waitFor`),
 * check that something keeps holding (`holdsFor`), collect a child's output as lines. Re-exported
 * by netns.ts, where the tests import them from.
 *
 * Not here: namespaces and processes (netns.ts).
 */
import type { ChildProcess } from 'node:child_process';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the timeout error: "timed out after 3000 ms waiting for <what>". */
  what: string;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws). */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs, intervalMs = 25, what }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Polls `fn` for the whole of `forMs` and throws naming `what` the first time it is false: the
 * deadline-based way to assert that something does NOT happen (a connection never comes up).
 */
export async function holdsFor(
  fn: () => boolean | Promise<boolean>,
  { forMs, intervalMs = 25, what }: { forMs: number; intervalMs?: number; what: string },
): Promise<void> {
  const deadline = Date.now() + forMs;
  for (;;) {
    if (!(await fn())) throw new Error(`${what} stopped holding before ${forMs} ms`);
    if (Date.now() >= deadline) return;
    await pause(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Collects a child's stdout as lines (and stderr as text) as they arrive. */
export interface Output {
  lines: string[];
  stderr: () => string;
}

export function captureOutput(child: ChildProcess): Output {
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return { lines, stderr: () => stderr };
}
