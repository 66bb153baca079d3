/**
 * The calicoctl-style box table (SPEC.md "agentctl status"): `+---+` rules, headers centred
 * (an odd spare space goes right), cells left-aligned, one space of padding, every column as
 * wide as its widest header or cell. Cells are made safe for a terminal first: control
 * characters (a peer's shutdown communication may carry escapes) become '?'. Colour is applied
 * after padding, so widths count only what is visible. Not here: what goes in the cells.
 */

/** Wraps a cell's visible text, e.g. in ANSI colour codes; must not change what is visible. */
export type Paint = (text: string, row: number, column: number) => string;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function safeCell(text: string): string {
  return text.replace(CONTROL, '?');
}

/** Visible width: code points (addresses and states are ASCII; messages may be UTF-8). */
export function width(text: string): number {
  return [...text].length;
}

function centre(text: string, w: number): string {
  const spare = w - width(text);
  const left = Math.floor(spare / 2);
  return ' '.repeat(left) + text + ' '.repeat(spare - left);
}

export function boxTable(headers: readonly string[], rows: readonly (readonly string[])[], paint?: Paint): string {
  const cells = rows.map((row) => headers.map((_, column) => safeCell(row[column] ?? '')));
  const widths = headers.map((header, column) => Math.max(width(header), ...cells.map((row) => width(row[column]))));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const head = `|${headers.map((header, column) => ` ${centre(header, widths[column])} `).join('|')}|`;
  const body = cells.map((row, r) => `|${row.map((cell, column) => {
    const pad = ' '.repeat(widths[column] - width(cell));
    return ` ${paint === undefined ? cell : paint(cell, r, column)}${pad} `;
  }).join('|')}|`);
  return [rule, head, rule, ...body, rule].join('\n');
}
