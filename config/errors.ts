/**
 * The config layer's one error type. A ConfigError carries a stable `code` and the file it is
 * about, and for an invalid file EVERY problem found, each naming its key path
 * (`bgp.peers[1].peerIP`), so `rack-agent --check-config` can list them one per line.
 * Never put a password file's content in a message: problems name the file, not what is in it.
 */

import { CodedError } from '../agent/contracts/coded-error.js';

export type ConfigErrorCode =
  /** The file parsed, but the schema or a cross-field check refused it. */
  | 'CONFIG_INVALID'
  /** The file (or a password file, for readPassword) could not be read. */
  | 'CONFIG_UNREADABLE'
  /** Not valid YAML or JSON, or an extension that is neither. */
  | 'CONFIG_PARSE';

export interface Problem {
  /** The key path, e.g. `bgp.peers[1].peerIP`; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

const TITLES: Record<ConfigErrorCode, string> = {
  CONFIG_INVALID: 'invalid configuration',
  CONFIG_UNREADABLE: 'cannot read configuration',
  CONFIG_PARSE: 'cannot parse configuration',
};

export class ConfigError extends CodedError<ConfigErrorCode> {
  /** The config file (or password file) this error is about. */
  readonly path: string;
  readonly problems: readonly Problem[];

  constructor(code: ConfigErrorCode, path: string, problems: readonly Problem[]) {
    super(code, `${TITLES[code]} ${path}:\n${formatProblems(problems)}`);
    this.path = path;
    this.problems = problems;
  }
}

/** One problem per line, `key.path: message`; the format `--check-config` prints. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('\n');
}

/** Adds a problem unless the very same one is already listed (order of discovery is kept). */
export function addProblem(list: Problem[], path: string, message: string): void {
  if (!list.some((p) => p.path === path && p.message === message)) list.push({ path, message });
}

/** True when some problem is at `path` or below it, so later checks do not pile on. */
export function hasProblemAt(list: readonly Problem[], path: string): boolean {
  return list.some((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
}
