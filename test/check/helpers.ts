/**
 * Shared by the data-plane check tests: `agentctl check -o json` parsed with its exit status,
 * the nexthop rows by target, and nftables rules in one namespace (Debian's /usr/sbin/nft by
 * full path: `nft` in node_modules/.bin is another program).
 */
import type { CheckAnswer, CheckRow } from '../../agent/control/api.js';
import type { Agent } from '../helpers/agent.js';
import type { Lab } from '../helpers/netns.js';

export const NFT = '/usr/sbin/nft';

export async function check(agent: Agent, args: readonly string[] = []): Promise<{ status: number; answer: CheckAnswer; stderr: string }> {
  const r = await agent.ctl(['check', '-o', 'json', ...args]);
  let answer: CheckAnswer;
  try {
    answer = JSON.parse(r.stdout) as CheckAnswer;
  } catch {
    throw new Error(`agentctl check exited ${r.status} without JSON: ${r.stdout}${r.stderr}`);
  }
  return { status: r.status, answer, stderr: r.stderr };
}

export function nexthops(answer: CheckAnswer): Map<string, CheckRow> {
  return new Map(answer.checks.filter((c) => c.name === 'nexthop').map((c) => [c.target, c]));
}

/** One row per line, for assertion messages. */
export const rowsText = (answer: CheckAnswer): string => answer.checks.map((c) => `${c.name} ${c.target} ${c.status}: ${c.detail}`).join('\n');

/** Replaces the namespace's `rack_check` table with one input chain holding `rules` (none: no table). */
export async function nftInput(lab: Lab, ns: string, rules: readonly string[]): Promise<void> {
  await lab.exec(ns, NFT, ['delete', 'table', 'inet', 'rack_check']);
  if (rules.length === 0) return;
  const script = `table inet rack_check {\n  chain input {\n    type filter hook input priority 0; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n}\n`;
  const r = await lab.exec(ns, 'sh', ['-c', `printf '%s' '${script}' | ${NFT} -f -`]);
  if (r.code !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
}
