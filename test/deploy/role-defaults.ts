/**
 * The rack_agent role's defaults (deploy/ansible/roles/rack_agent/defaults/main.yml) with simple
 * `{{ rack_agent_x }}` references resolved, so tests can hold the role, the unit and the config
 * schema to the same paths. Values with Jinja filters are left as written.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ANSIBLE_DIR } from './paths.js';

export function roleDefaults(): Record<string, unknown> {
  const raw = parse(readFileSync(join(ANSIBLE_DIR, 'roles/rack_agent/defaults/main.yml'), 'utf8')) as Record<string, unknown>;
  const resolve = (v: unknown, depth = 0): unknown => {
    if (typeof v !== 'string' || depth > 5) return v;
    const out = v.replace(/\{\{\s*(rack_agent_\w+)\s*\}\}/g, (whole, name: string) => {
      const r = resolve(raw[name], depth + 1);
      return typeof r === 'string' || typeof r === 'number' ? String(r) : whole;
    });
    return out;
  };
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, resolve(v)]));
}
