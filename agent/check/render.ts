/**
 * `agentctl check` as text (SPEC.md): the box table CHECK | TARGET | STATUS | DETAIL, then one
 * summary line naming what failed. Pure. `-o json` prints the daemon's CheckAnswer unchanged.
 */
import type { CheckAnswer, CheckStatus } from '../control/api.js';
import { boxTable, type Paint } from '../control/table.js';

const COLOURS: Readonly<Record<CheckStatus, string>> = { ok: '\u001b[32m', warn: '\u001b[33m', fail: '\u001b[31m' };
const RESET = '\u001b[0m';

const paintStatus = (colour: boolean): Paint | undefined => (colour
  ? (text, _row, column) => (column === 2 && text in COLOURS ? `${COLOURS[text as CheckStatus]}${text}${RESET}` : text)
  : undefined);

export function summaryLine(answer: CheckAnswer): string {
  const count = (s: CheckStatus): number => answer.checks.filter((c) => c.status === s).length;
  const failed = answer.checks.filter((c) => c.status === 'fail').map((c) => `${c.name} ${c.target}`);
  const head = `${answer.ok ? 'OK' : 'FAIL'}: ${answer.checks.length} checks, ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail`;
  if (failed.length === 0) return head;
  return `${head}: ${failed.slice(0, 5).join(', ')}${failed.length > 5 ? `, and ${failed.length - 5} more` : ''}`;
}

export function renderCheck(answer: CheckAnswer, options: { readonly colour: boolean } = { colour: false }): string {
  const rows = answer.checks.map((c) => [c.name, c.target, c.status, c.detail]);
  return `${boxTable(['CHECK', 'TARGET', 'STATUS', 'DETAIL'], rows, paintStatus(options.colour))}\n${summaryLine(answer)}\n`;
}
