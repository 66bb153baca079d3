/**
 * Runs the schema over a parsed document and collects EVERY problem with its key path. Three
 * passes: a shape pass (sections must be mappings, scalars must not be, so convict never sees a
 * shape it would crash on or coerce), convict itself with `allowed: 'strict'` (formats, defaults,
 * unknown keys), then each array item against its own item schema, because convict's strict mode
 * stops at arrays. Not here: checks that relate keys to each other (cross-checks.ts).
 */

import convict from 'convict';
import { addProblem, type Problem } from './errors.js';
import { FORMATS } from './formats.js';
import { ARRAY_ITEMS, SCHEMA, isLeaf, registerFormats, type Section } from './schema.js';

export type Doc = Record<string, unknown>;

/** Formats whose values are lists or mappings: checked here, since convict would coerce them. */
const LIST_FORMATS: ReadonlySet<string> = new Set(['ra-labels', 'ra-list', 'ra-argv', 'ra-communities']);

export function isMapping(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const join = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

/** Validates a whole document; `value` has every default filled in, array items included. */
export function validateDocument(input: unknown): { value: Doc; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!isMapping(input)) {
    addProblem(problems, '', 'the file must hold a mapping of sections (node, bgp, pools, ...)');
    return { value: {}, problems };
  }
  const value = runSchema(SCHEMA, input, '', problems);
  for (const { key, items } of ARRAY_ITEMS) {
    const list = getPath(value, key);
    if (!Array.isArray(list)) continue; // already reported
    const checked = list.map((item: unknown, i) => {
      const path = `${key}[${i}]`;
      if (typeof items === 'string') {
        const problem = FORMATS[items](item);
        if (problem !== undefined) addProblem(problems, path, `${problem}: value was ${JSON.stringify(item)}`);
        return item;
      }
      if (!isMapping(item)) {
        addProblem(problems, path, 'must be a mapping of keys to values');
        return {};
      }
      return runSchema(items, item, path, problems);
    });
    setPath(value, key, checked);
  }
  return { value, problems };
}

/** The shape pass and convict over one section tree; problems get `prefix` in front. */
function runSchema(section: Section, input: Doc, prefix: string, problems: Problem[]): Doc {
  registerFormats();
  const shaped = shape(section, input, prefix, problems);
  // No env or argv: the file is the only source (convict reads process.env and argv otherwise).
  const config = convict(section as convict.Schema<Doc>, { env: {}, args: [] });
  config.load(shaped);
  try {
    config.validate({ allowed: 'strict' });
  } catch (err) {
    for (const line of (err as Error).message.split('\n')) {
      const p = fromConvictLine(section, line);
      addProblem(problems, p.path === '' ? prefix : join(prefix, p.path), p.message);
    }
  }
  return config.getProperties();
}

function shape(section: Section, input: Doc, prefix: string, problems: Problem[]): Doc {
  const out: Doc = {};
  for (const [key, v] of Object.entries(input)) {
    const node = Object.hasOwn(section, key) ? section[key] : undefined;
    const path = join(prefix, key);
    if (node === undefined) {
      out[key] = v; // convict's strict mode reports it
    } else if (!isLeaf(node)) {
      // `metrics:` with every child commented out is null in YAML: an empty section.
      if (isMapping(v) || v === null) out[key] = shape(node, v ?? {}, path, problems);
      else addProblem(problems, path, 'must be a mapping of keys to values');
    } else if (v === null || v === undefined) {
      if (node.nullable) out[key] = null;
      else addProblem(problems, path, node.default === null ? 'is required' : 'has no value (leave the key out for its default)');
    } else if (LIST_FORMATS.has(node.format)) {
      const problem = FORMATS[node.format](v);
      if (problem === undefined) out[key] = v;
      else addProblem(problems, path, problem);
    } else if (typeof v === 'object') {
      const hint = Array.isArray(v) && key === 'peerIP' ? ' (YAML reads [v6]:port as a list: quote it)' : '';
      addProblem(problems, path, `must be a single value, not a ${Array.isArray(v) ? 'list' : 'mapping'}${hint}`);
    } else {
      out[key] = v;
    }
  }
  return out;
}

const UNDECLARED = /^configuration param '(.*)' not declared in the schema$/;
const MISSING = /^configuration param '(.*)' missing from config/;

/** One line of convict's validate() error text back into a problem with its key path. */
function fromConvictLine(section: Section, line: string): Problem {
  const undeclared = UNDECLARED.exec(line);
  if (undeclared) return { path: unknownKey(section, undeclared[1]), message: 'unknown key (not in the schema)' };
  const missing = MISSING.exec(line);
  if (missing) return { path: missing[1], message: 'is missing' };
  const colon = line.indexOf(': ');
  if (colon < 0) return { path: '', message: line };
  return { path: line.slice(0, colon), message: line.slice(colon + 2) };
}

/** Convict reports `bgp.foo.bar` for an unknown `bgp.foo` holding a mapping: name `bgp.foo`. */
function unknownKey(section: Section, dotted: string): string {
  const parts = dotted.split('.');
  let node: Section = section;
  for (let i = 0; i < parts.length; i++) {
    const next = Object.hasOwn(node, parts[i]) ? node[parts[i]] : undefined;
    if (next === undefined || isLeaf(next)) return parts.slice(0, i + 1).join('.');
    node = next;
  }
  return dotted;
}

export function getPath(doc: Doc, dotted: string): unknown {
  let v: unknown = doc;
  for (const k of dotted.split('.')) v = isMapping(v) ? v[k] : undefined;
  return v;
}

function setPath(doc: Doc, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let v: Doc = doc;
  for (const k of parts.slice(0, -1)) v = v[k] as Doc;
  v[parts[parts.length - 1]] = value;
}
