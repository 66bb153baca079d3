/**
 * The last resort of the test helpers: synchronous cleanups (kill a lab's processes, delete its
 * namespaces, remove an agent's temp dir) run when the process exits, or when SIGTERM or SIGINT
 * would kill it: ava ends a timed-out worker with SIGTERM, and a signal nobody handles kills the
 * process without 'exit'. On such a signal every cleanup runs, then the signal is raised again so
 * the process ends as it would have. A program with a handler of its own (the demo, `npm run lab`)
 * shuts down itself: its own disposes and 'exit' run the cleanups.
 *
 * Not here: what each cleanup does (netns.ts, agent.ts); the orderly teardown (Lab.destroy).
 */

const cleanups = new Set<() => void>();

function runAll(): void {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch (err) {
      process.stderr.write(`test cleanup at exit failed: ${String(err)}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // someone else handles it
  runAll();
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}

let installed = false;

/** Runs `cleanup` (synchronous, best effort) at exit or on SIGTERM/SIGINT; returns its removal. */
export function atLastResort(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
