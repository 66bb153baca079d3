/**
 * `rack-agent --check-config`: load the file as the daemon would and report. Valid: one line on
 * stdout, status 0. Invalid: every problem on stderr, one per line, each naming its key, status 78.
 * Passwords are never read here beyond what loadConfig checks (readability and mode).
 */

import { ConfigError, loadConfig, type Config } from '../../config/index.js';
import { EXIT } from './main-args.js';
import { selectorProblems } from '../peers/peer-set.js';

/** loadConfig plus the checks that need the RIB's parsers (peer selectors). */
export function loadFullConfig(path: string): Config {
  const config = loadConfig(path);
  const problems = selectorProblems(config);
  if (problems.length > 0) throw new ConfigError('CONFIG_INVALID', path, problems);
  return config;
}

export interface CheckResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function checkConfig(path: string): CheckResult {
  try {
    const c = loadFullConfig(path);
    const peers = c.bgp.peers.length;
    return { status: EXIT.OK, stdout: `${path}: valid (node ${c.node.name}, ${peers} peer${peers === 1 ? '' : 's'}, ${c.blocks.length} block${c.blocks.length === 1 ? '' : 's'})\n`, stderr: '' };
  } catch (err) {
    if (err instanceof ConfigError) return { status: EXIT.CONFIG, stdout: '', stderr: `${err.message}\n` };
    throw err;
  }
}
