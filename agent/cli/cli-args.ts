/**
 * agentctl's command line as a pure function (SPEC.md "Programs"):
 * `agentctl [--socket PATH] COMMAND [-o table|json]`, options before or after the command,
 * `--opt VALUE` or `--opt=VALUE`. The socket comes from --socket, then RACK_AGENT_SOCKET, then
 * the default. Every mistake is a usage error (exit 2) naming what was wrong.
 * Not here: talking to the daemon (client.ts) or printing (render.ts).
 */

import type { ArgsOf, Command } from '../control/api.js';
import { COMMAND_NAMES, COMMANDS, commandRow, isCommand } from '../control/commands.js';

export { DEFAULT_WAIT_SECONDS } from '../control/commands.js';
export const DEFAULT_SOCKET = '/run/rack-agent/agent.sock';

export type Output = 'table' | 'json';

/** A command with its arguments, as the command line gave them. */
export type CliCommand = { readonly [C in Command]: { readonly cmd: C } & ArgsOf<C> }[Command];

export type Invocation =
  | { readonly kind: 'run'; readonly socket: string; readonly output: Output; readonly command: CliCommand }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage'; readonly message: string };

function usageLines(): string {
  return COMMAND_NAMES.map((cmd) => {
    const [synopsis, first, ...more] = COMMANDS[cmd].usage;
    return [`  ${synopsis.padEnd(27)} ${first}`, ...more.map((line) => `${' '.repeat(30)}${line}`)].join('\n');
  }).join('\n');
}

export const USAGE = `Usage: agentctl [--socket PATH] COMMAND [-o table|json]

Commands:
${usageLines()}

Options:
  --socket PATH   the control socket (default: $RACK_AGENT_SOCKET, else ${DEFAULT_SOCKET})
  -o, --output    table (default) or json: the agent's answer unchanged
  -h, --help      this text

Exit status: 0 success, 1 error answer (or wait timed out, or a check failed), 2 usage,
3 agent not reachable.
`;

/** Options that take a value, and the commands that accept them (undefined: every command). */
const VALUE_OPTIONS: Readonly<Record<string, { readonly name: string; readonly only?: readonly Command[]; readonly flagOnly?: boolean }>> = (() => {
  const options: Record<string, { name: string; only?: Command[]; flagOnly?: boolean }> = {
    '--socket': { name: 'socket' },
    '-o': { name: 'output' },
    '--output': { name: 'output' },
  };
  for (const cmd of COMMAND_NAMES) {
    for (const o of COMMANDS[cmd].options ?? []) {
      const option = (options[o.flag] ??= { name: o.name, only: [], ...('flagOnly' in o ? { flagOnly: true } : {}) });
      option.only?.push(cmd);
    }
  }
  return options;
})();

const usage = (message: string): Invocation => ({ kind: 'usage', message });

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Invocation {
  const values = new Map<string, { flag: string; value: string }>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const option = VALUE_OPTIONS[flag];
    if (option === undefined) return usage(`unknown option '${flag}'`);
    let value: string | undefined;
    if (option.flagOnly === true) {
      if (eq !== -1) return usage(`${flag} takes no value`);
      value = 'true';
    } else if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === '') return usage(`${flag} needs a value`);
    if (values.has(option.name)) return usage(`${flag} given twice`);
    values.set(option.name, { flag, value });
  }

  if (positional.length === 0) return usage('no command given');
  const cmd = positional[0];
  if (!isCommand(cmd)) return usage(`unknown command '${cmd}'`);
  for (const [flag, option] of Object.entries(VALUE_OPTIONS)) {
    if (option.only !== undefined && !option.only.includes(cmd) && values.get(option.name)?.flag === flag) {
      return usage(`${flag} is only for ${option.only.map((c) => `'${c}'`).join(' and ')}`);
    }
  }
  const row = commandRow(cmd);
  const extra = positional.slice(row.positional === true ? 2 : 1);
  if (extra.length > 0) return usage(`unexpected argument '${extra[0]}' for '${cmd}'`);

  const output = values.get('output')?.value ?? 'table';
  if (output !== 'table' && output !== 'json') return usage(`-o must be 'table' or 'json', not '${output}'`);
  const socket = values.get('socket')?.value ?? (env.RACK_AGENT_SOCKET !== undefined && env.RACK_AGENT_SOCKET !== '' ? env.RACK_AGENT_SOCKET : DEFAULT_SOCKET);

  const args = row.fromCli({ positional: positional[1], values: new Map([...values].map(([name, v]) => [name, v.value])) });
  if (typeof args === 'string') return usage(args);
  return { kind: 'run', socket, output, command: { cmd, ...args } as CliCommand };
}
