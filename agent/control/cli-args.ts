/**
 * agentctl's command line as a pure function (SPEC.md "Programs"):
 * `agentctl [--socket PATH] COMMAND [-o table|json]`, options before or after the command,
 * `--opt VALUE` or `--opt=VALUE`. The socket comes from --socket, then RACK_AGENT_SOCKET, then
 * the default. Every mistake is a usage error (exit 2) naming what was wrong.
 * Not here: talking to the daemon (client.ts) or printing (render.ts).
 */

import { MAX_CHECK_TIMEOUT } from '../../config/formats.js';
import { looksLikePeerAddress, MAX_WAIT_SECONDS, validCheckTimeout } from './protocol.js';

export const DEFAULT_SOCKET = '/run/rack-agent/agent.sock';
/** `agentctl wait` without --timeout. */
export const DEFAULT_WAIT_SECONDS = 60;

export type Output = 'table' | 'json';

export type CliCommand =
  | { readonly cmd: 'status' | 'reload' | 'version' }
  | { readonly cmd: 'check'; readonly timeoutSeconds?: number }
  | { readonly cmd: 'peers'; readonly address?: string }
  | { readonly cmd: 'routes'; readonly family?: 'ipv4' | 'ipv6' }
  | { readonly cmd: 'wait'; readonly timeoutSeconds: number };

export type Invocation =
  | { readonly kind: 'run'; readonly socket: string; readonly output: Output; readonly command: CliCommand }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage'; readonly message: string };

export const USAGE = `Usage: agentctl [--socket PATH] COMMAND [-o table|json]

Commands:
  status                      BGP peers of the running agent, by family
  peers [ADDRESS]             peers with prefix counts; one peer in detail
  routes [--family ipv4|ipv6] the routes the agent puts in the kernel
  wait [--timeout SECONDS]    until every peer is Established and the kernel matches
                              (default ${DEFAULT_WAIT_SECONDS} s; exit 0 converged, 1 timed out)
  reload                      re-read the config file (root only)
  check [--timeout SECONDS]   the data plane: sessions, kernel routes, forwarding, the
                              tunnel, and every next hop probed by ICMP echo (64 bytes and
                              the full path size with DF set); default timeout: check.timeout
                              (exit 0 no check failed, 1 one did; warnings alone exit 0)
  version                     agentctl's and the agent's versions

Options:
  --socket PATH   the control socket (default: $RACK_AGENT_SOCKET, else ${DEFAULT_SOCKET})
  -o, --output    table (default) or json: the agent's answer unchanged
  -h, --help      this text

Exit status: 0 success, 1 error answer (or wait timed out, or a check failed), 2 usage,
3 agent not reachable.
`;

const COMMAND_NAMES = ['status', 'peers', 'routes', 'wait', 'reload', 'check', 'version'] as const;
type CommandName = typeof COMMAND_NAMES[number];

/** Options that take a value, and the commands that accept them (undefined: every command). */
const VALUE_OPTIONS: Readonly<Record<string, { readonly name: string; readonly only?: readonly CommandName[] }>> = {
  '--socket': { name: 'socket' },
  '-o': { name: 'output' },
  '--output': { name: 'output' },
  '--family': { name: 'family', only: ['routes'] },
  '--timeout': { name: 'timeout', only: ['wait', 'check'] },
};

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
    if (eq !== -1) {
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
  const name = positional[0];
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) return usage(`unknown command '${name}'`);
  const cmd = name as CommandName;
  for (const [flag, option] of Object.entries(VALUE_OPTIONS)) {
    if (option.only !== undefined && !option.only.includes(cmd) && values.get(option.name)?.flag === flag) {
      return usage(`${flag} is only for ${option.only.map((c) => `'${c}'`).join(' and ')}`);
    }
  }
  const extra = positional.slice(cmd === 'peers' ? 2 : 1);
  if (extra.length > 0) return usage(`unexpected argument '${extra[0]}' for '${cmd}'`);

  const output = values.get('output')?.value ?? 'table';
  if (output !== 'table' && output !== 'json') return usage(`-o must be 'table' or 'json', not '${output}'`);
  const socket = values.get('socket')?.value ?? (env.RACK_AGENT_SOCKET !== undefined && env.RACK_AGENT_SOCKET !== '' ? env.RACK_AGENT_SOCKET : DEFAULT_SOCKET);

  let command: CliCommand;
  switch (cmd) {
    case 'peers': {
      const address = positional[1];
      if (address !== undefined && !looksLikePeerAddress(address)) return usage(`'${address}' is not a peer address (IP or IP:PORT)`);
      command = address === undefined ? { cmd } : { cmd, address };
      break;
    }
    case 'routes': {
      const family = values.get('family')?.value;
      if (family !== undefined && family !== 'ipv4' && family !== 'ipv6') return usage(`--family must be 'ipv4' or 'ipv6', not '${family}'`);
      command = family === undefined ? { cmd } : { cmd, family };
      break;
    }
    case 'wait': {
      const text = values.get('timeout')?.value;
      const seconds = text === undefined ? DEFAULT_WAIT_SECONDS : Number(text);
      if (text !== undefined && (!/^\d+(\.\d+)?$/.test(text) || seconds > MAX_WAIT_SECONDS)) {
        return usage(`--timeout must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}, not '${text}'`);
      }
      command = { cmd, timeoutSeconds: seconds };
      break;
    }
    case 'check': {
      const text = values.get('timeout')?.value;
      if (text === undefined) {
        command = { cmd };
        break;
      }
      const seconds = Number(text);
      if (!/^\d+(\.\d+)?$/.test(text) || !validCheckTimeout(seconds)) {
        return usage(`--timeout must be a number of seconds above 0 and at most ${MAX_CHECK_TIMEOUT}, not '${text}'`);
      }
      command = { cmd, timeoutSeconds: seconds };
      break;
    }
    default:
      command = { cmd };
  }
  return { kind: 'run', socket, output, command };
}
