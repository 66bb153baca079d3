/**
 * A reader for systemd unit files (systemd.syntax(7)), enough for asserting settings: sections,
 * `Key=value` lines in order (a key may repeat), comments and blank lines skipped, backslash line
 * continuations joined. Not a validator: systemd-analyze verify is.
 */

export type UnitFile = ReadonlyMap<string, ReadonlyArray<readonly [string, string]>>;

export function parseUnit(text: string): UnitFile {
  const sections = new Map<string, Array<readonly [string, string]>>();
  let current: Array<readonly [string, string]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]) ?? [];
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq <= 0) throw new Error(`unit file line ${i + 1}: cannot read ${JSON.stringify(line)}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** Every value of `key` in `section`, in order. */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The effective single value (systemd: the last assignment wins), or undefined. */
export function value(unit: UnitFile, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** A list-valued setting (capabilities, address families) as a set of words. */
export function words(unit: UnitFile, section: string, key: string): Set<string> {
  return new Set(values(unit, section, key).flatMap((v) => v.split(/\s+/).filter(Boolean)));
}
