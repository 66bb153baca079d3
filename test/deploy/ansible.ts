/**
 * Running deploy/ansible's playbooks from tests: against the example inventory (or a copy of it)
 * with a local connection and every path of every host moved under a scratch directory
 * (`overlay`), so nothing outside it is touched. Output as the json callback's document when
 * asked, for assertions on plays, tasks and hosts. Every ansible program runs with a UTF-8 locale
 * (`ansibleEnv`): Ansible refuses to start under a non-UTF-8 one such as LC_ALL=C.
 */

import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ANSIBLE_DIR, run, type RunResult } from './paths.js';

export const EXAMPLE_INVENTORY = join(ANSIBLE_DIR, 'inventory', 'example');
export const EXAMPLE_HOSTS = ['r1-n1', 'r1-n2', 'r2-n1', 'r2-n2'] as const;
export const RACKS: Readonly<Record<string, readonly string[]>> = { rack_r1: ['r1-n1', 'r1-n2'], rack_r2: ['r2-n1', 'r2-n2'] };

/**
 * The environment for ansible, ansible-playbook and ansible-lint: the test's own with
 * LC_ALL=C.UTF-8 (glibc's built-in UTF-8 locale, present without locales installed). Ansible
 * exits with "Ansible requires the locale encoding to be UTF-8" otherwise, so a newcomer's
 * `LC_ALL=C npm test` would fail every Ansible test.
 */
export function ansibleEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', ...extra };
}

/** Where the overlay puts one host's files. */
export function hostDir(root: string, host: string): string {
  return join(root, 'hosts', host);
}

/**
 * Extra vars that make every host local and keep every path under `root`:
 * ROOT/hosts/HOST/{etc,libexec,packages,iproute2,run}, the socket in ROOT/hosts/HOST/run/rack-agent/ (the
 * unit's RuntimeDirectory), programs in ROOT/bin (shared) unless `perHostBin`.
 */
export function overlay(root: string, extra: Record<string, unknown> = {}, options: { perHostBin?: boolean } = {}): Record<string, unknown> {
  const h = `${join(root, 'hosts')}/{{ inventory_hostname }}`;
  return {
    ansible_connection: 'local',
    ansible_python_interpreter: '{{ ansible_playbook_python }}',
    rack_agent_libexec_dir: `${h}/libexec`,
    rack_agent_package_dir: `${h}/packages`,
    rack_agent_bin_dir: options.perHostBin ? `${h}/bin` : join(root, 'bin'),
    rack_agent_config_dir: `${h}/etc`,
    rack_agent_iproute2_dir: `${h}/iproute2`,
    rack_agent_socket: `${h}/run/rack-agent/agent.sock`,
    rack_agent_run_dir: `${h}/run`,
    rack_agent_manage_user: false,
    rack_agent_user: 'root',
    rack_agent_group: 'root',
    rack_agent_control_group: '',
    rack_agent_manage_service: false,
    ...extra,
  };
}

export interface PlaybookRun extends RunResult {
  /** The json callback's document (when `json` was asked for). */
  json?: AnsibleJson;
}

export interface AnsibleJson {
  plays: Array<{
    play: { name: string };
    tasks: Array<{ task: { name: string }; hosts: Record<string, TaskResult> }>;
  }>;
  stats: Record<string, { ok: number; changed: number; failures: number; unreachable: number; skipped: number; rescued: number }>;
}

export interface TaskResult {
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  rc?: number;
  msg?: string;
  stdout?: string;
  [key: string]: unknown;
}

/** Runs ansible-playbook in deploy/ansible with the given inventory and extra vars. */
export async function playbook(
  scratch: string,
  args: readonly string[],
  { vars, inventory = EXAMPLE_INVENTORY, json = false }: { vars: Record<string, unknown>; inventory?: string; json?: boolean },
): Promise<PlaybookRun> {
  mkdirSync(scratch, { recursive: true });
  const varsFile = join(scratch, `vars-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(varsFile, JSON.stringify(vars));
  const env = ansibleEnv({
    ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_LOCAL_TEMP: join(scratch, 'ansible-local'),
    ANSIBLE_REMOTE_TEMP: join(scratch, 'ansible-remote'),
    ...(json ? { ANSIBLE_STDOUT_CALLBACK: 'json' } : {}),
  });
  const result = await run('ansible-playbook', ['-i', inventory, '-e', `@${varsFile}`, ...args], { cwd: ANSIBLE_DIR, env });
  if (!json) return result;
  const start = result.stdout.indexOf('{');
  try {
    return { ...result, json: JSON.parse(result.stdout.slice(start)) as AnsibleJson };
  } catch {
    throw new Error(`ansible-playbook did not print JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Every result (skipped ones left out) of the tasks whose name starts with `prefix`, as [play index, host, result]. */
export function results(doc: AnsibleJson, prefix: string): Array<[number, string, TaskResult]> {
  const out: Array<[number, string, TaskResult]> = [];
  doc.plays.forEach((play, i) => {
    for (const task of play.tasks) {
      if (!task.task.name.startsWith(prefix)) continue;
      for (const [host, r] of Object.entries(task.hosts)) if (r.skipped !== true) out.push([i, host, r]);
    }
  });
  return out;
}

/** The hosts each play (each serial batch) ran on, in order. */
export function batches(doc: AnsibleJson): string[][] {
  return doc.plays.map((play) => [...new Set(play.tasks.flatMap((task) => Object.keys(task.hosts)))].sort());
}

/** A copy of the example inventory that a test may edit (a broken change, a fabric change). */
export function copyInventory(dest: string): string {
  cpSync(EXAMPLE_INVENTORY, dest, { recursive: true });
  return dest;
}

/** An executable shell script. */
export function writeScript(path: string, body: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, 0o755);
}
