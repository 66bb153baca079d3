/**
 * loadConfig: the only code that reads the config file. YAML (.yaml, .yml) or JSON (.json) by
 * extension; then the schema (validate.ts), the cross-field checks (cross-checks.ts) and the
 * derived defaults (derive.ts). Either a frozen Config comes back or a ConfigError listing EVERY
 * problem found, each with its key path. Password files are never read here.
 */

import { readFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { parseDocument } from 'yaml';
import { crossCheck } from './cross-checks.js';
import { deriveConfig } from './derive.js';
import { ConfigError, type Problem } from './errors.js';
import type { RawConfig } from './raw.js';
import type { Config } from './types.js';
import { validateDocument } from './validate.js';

type Parser = (text: string) => { value: unknown; problems: Problem[] };

const PARSERS: Readonly<Record<string, Parser>> = {
  '.yaml': parseYaml,
  '.yml': parseYaml,
  '.json': parseJson,
};

export function loadConfig(path: string): Config {
  const ext = extname(path).toLowerCase();
  const parse = Object.hasOwn(PARSERS, ext) ? PARSERS[ext] : undefined;
  if (!parse) {
    const what = ext === '' ? 'no file extension' : `unsupported file extension ${JSON.stringify(ext)}`;
    throw new ConfigError('CONFIG_PARSE', path, [{ path: '', message: `${what}: use .yaml, .yml or .json` }]);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code;
    throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: '', message: `${path}: ${why}` }]);
  }
  const parsed = parse(text);
  if (parsed.problems.length > 0) throw new ConfigError('CONFIG_PARSE', path, parsed.problems);
  // An empty YAML file is an empty mapping: every default, and a problem for each required key.
  const { value, problems } = validateDocument(parsed.value ?? {});
  if (!problems.some((p) => p.path === '')) {
    crossCheck(value as unknown as RawConfig, problems, dirname(path));
  }
  if (problems.length > 0) throw new ConfigError('CONFIG_INVALID', path, problems);
  return deriveConfig(value as unknown as RawConfig, dirname(path));
}

function parseYaml(text: string): { value: unknown; problems: Problem[] } {
  // uniqueKeys: a key given twice is an error, not a silent override.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const problems = doc.errors.map((e) => ({ path: '', message: `${where(text, e.pos[0])}: ${firstLine(e.message)}` }));
  return { value: problems.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 }), problems };
}

function parseJson(text: string): { value: unknown; problems: Problem[] } {
  try {
    return { value: JSON.parse(text) as unknown, problems: [] };
  } catch (err) {
    // V8 quotes the start of the text ('"abc" is not valid JSON'): leave it out of the message.
    const message = firstLine((err as Error).message.replace(/, "[\s\S]*"(\.\.\.)? is not valid JSON$/, ''));
    const at = /at position (\d+)/.exec(message);
    const prefix = at ? `${where(text, Number(at[1]))}: ` : '';
    return { value: undefined, problems: [{ path: '', message: `${prefix}invalid JSON: ${message}` }] };
  }
}

/** `line L, column C` (1-based) of a character offset. */
function where(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl < 0 ? s : s.slice(0, nl);
}
