/**
 * Shared by the deploy tests: where deploy/ lives, running a program to completion (never
 * rejecting on its exit status), and whether a program is installed.
 */

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (the worktree), from dist/test/deploy/. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
export const ANSIBLE_DIR = join(DEPLOY, 'ansible');
export const UNIT = join(DEPLOY, 'systemd', 'rack-agent.service');
/** The built agent (compiled with the tests). */
export const AGENT_MAIN = join(ROOT, 'dist', 'agent', 'main.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code === 'string') {
        reject(new Error(`${cmd} could not be started: ${err.code}`));
        return;
      }
      resolve({ stdout, stderr, code: err === null ? 0 : typeof err.code === 'number' ? err.code : null });
    });
  });
}

/** The full path of a program on PATH, or undefined. */
export function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
