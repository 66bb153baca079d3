#!/usr/bin/env node
/**
 * rack-agent's entry point and the only file that knows every part (STYLE.md "The house").
 * Here: the command line and --check-config. The daemon wiring arrives with issue 6.
 */

import { readFileSync } from 'node:fs';
import { checkConfig } from './check-config.js';
import { EXIT, parseMainArgs, USAGE } from './main-args.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function main(): void {
  const args = parseMainArgs(process.argv.slice(2), process.env);
  switch (args.mode) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return;
    case 'version':
      process.stdout.write(`rack-agent ${version()}\n`);
      return;
    case 'usage-error':
      process.stderr.write(`rack-agent: ${args.message}\n${USAGE}\n`);
      process.exitCode = EXIT.USAGE;
      return;
    case 'check': {
      const r = checkConfig(args.config);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.status;
      return;
    }
    case 'run':
      process.stderr.write('rack-agent: the daemon is not wired yet (issue 6); only --check-config works\n');
      process.exitCode = EXIT.FAILURE;
      return;
  }
}

main();
