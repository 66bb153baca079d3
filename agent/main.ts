#!/usr/bin/env node
/**
 * rack-agent's entry point: the command line (agent/daemon/main-args.ts), then the daemon
 * (agent/daemon/daemon.ts, which wires every part) or a one-shot mode (--check-config, --version, --help).
 * Only the signal handlers and V8's flags are static imports: ES modules are all loaded and
 * compiled before the first one runs, so whatever else this file imported statically would be
 * loaded before the flags are set (issue 12: V8's young generation had grown to 4 MB while the
 * agent's modules compiled); the daemon and the config checker come in by dynamic import.
 */

// First: the signal handlers exist before anything else loads (agent/daemon/signals.ts).
import { release } from './daemon/signals.js';
// Second: V8's flags, before anything sizeable is allocated (agent/daemon/v8-flags.ts).
import './daemon/v8-flags.js';
import { defaultNodeEnv, EXIT, parseMainArgs, USAGE } from './daemon/main-args.js';
import { version } from './daemon/version.js';

async function main(): Promise<void> {
  // Before the daemon's modules load: libraries read NODE_ENV when they load (main-args.ts).
  defaultNodeEnv(process.env);
  const args = parseMainArgs(process.argv.slice(2), process.env);
  switch (args.mode) {
    case 'help':
      release();
      process.stdout.write(`${USAGE}\n`);
      return;
    case 'version':
      release();
      process.stdout.write(`rack-agent ${version()}\n`);
      return;
    case 'usage-error':
      release();
      process.stderr.write(`rack-agent: ${args.message}\n${USAGE}\n`);
      process.exitCode = EXIT.USAGE;
      return;
    case 'check': {
      release();
      const { checkConfig } = await import('./daemon/check-config.js');
      const r = checkConfig(args.config);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.status;
      return;
    }
    case 'run': {
      const { run } = await import('./daemon/daemon.js');
      await run(args.config);
      return;
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rack-agent: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(EXIT.FAILURE);
});
