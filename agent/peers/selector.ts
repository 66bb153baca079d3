/**
 * Calico's label selector syntax (docs "Selectors"; libcalico-go lib/selector), parsed into plain
 * data and evaluated against a node's labels:
 *   all()  has(k)  k == 'v'  k != 'v'  k in {'a','b'}  k not in {'a'}  k contains 's'
 *   k starts with 's'  k ends with 's'  !  &&  ||  ( )
 * Precedence: ! binds tightest, then &&, then ||. Strings take single or double quotes. As in
 * Calico, `k != 'v'` and `k not in {...}` also match when k is absent, and an empty selector is
 * all(). Errors are RibError SELECTOR_SYNTAX with the offset where parsing stopped.
 */

import { RibError } from '../rib/errors.js';

export type Selector =
  | { readonly op: 'all' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: 'eq' | 'ne' | 'contains' | 'starts' | 'ends'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'not'; readonly arg: Selector }
  | { readonly op: 'and' | 'or'; readonly args: readonly Selector[] };

type Token =
  | { readonly kind: 'punct'; readonly text: '(' | ')' | '{' | '}' | ',' | '&&' | '||' | '!' | '==' | '!='; readonly at: number }
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly text: ''; readonly at: number };

const PUNCT = ['&&', '||', '==', '!=', '(', ')', '{', '}', ',', '!'] as const;
/** Label keys as Calico accepts them: letters, digits and _ . / - (prefix/name). */
const WORD = /[A-Za-z0-9_./-]+/y;

function fail(message: string, at: number): never {
  throw new RibError('SELECTOR_SYNTAX', `${message} at offset ${at}`, at);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const punct = PUNCT.find((p) => text.startsWith(p, i));
    if (punct !== undefined) {
      out.push({ kind: 'punct', text: punct, at: i });
      i += punct.length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string', i);
      out.push({ kind: 'string', text: text.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    WORD.lastIndex = i;
    const m = WORD.exec(text);
    if (m === null) fail(`unexpected character ${JSON.stringify(c)}`, i);
    out.push({ kind: 'word', text: m[0], at: i });
    i += m[0].length;
  }
  out.push({ kind: 'end', text: '', at: text.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private expect(kind: Token['kind'], text?: string): Token {
    const t = this.next();
    if (t.kind !== kind || (text !== undefined && t.text !== text)) {
      fail(`expected ${text !== undefined ? `'${text}'` : `a ${kind}`}, found ${describe(t)}`, t.at);
    }
    return t;
  }

  parse(): Selector {
    const s = this.or();
    const t = this.peek();
    if (t.kind !== 'end') fail(`unexpected ${describe(t)}`, t.at);
    return s;
  }

  private or(): Selector {
    const args = [this.and()];
    while (this.peek().text === '||' && this.peek().kind === 'punct') {
      this.next();
      args.push(this.and());
    }
    return args.length === 1 ? args[0] : { op: 'or', args };
  }

  private and(): Selector {
    const args = [this.unary()];
    while (this.peek().text === '&&' && this.peek().kind === 'punct') {
      this.next();
      args.push(this.unary());
    }
    return args.length === 1 ? args[0] : { op: 'and', args };
  }

  private unary(): Selector {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '!') {
      this.next();
      return { op: 'not', arg: this.unary() };
    }
    return this.primary();
  }

  private primary(): Selector {
    const t = this.next();
    if (t.kind === 'punct' && t.text === '(') {
      const s = this.or();
      this.expect('punct', ')');
      return s;
    }
    if (t.kind !== 'word') fail(`expected a label, all() or has(), found ${describe(t)}`, t.at);
    const call = this.peek().kind === 'punct' && this.peek().text === '(';
    if (call && t.text === 'all') {
      this.next();
      this.expect('punct', ')');
      return { op: 'all' };
    }
    if (call && t.text === 'has') {
      this.next();
      const key = this.expect('word').text;
      this.expect('punct', ')');
      return { op: 'has', key };
    }
    if (call) fail(`unknown function ${t.text}()`, t.at);
    return this.comparison(t.text);
  }

  private comparison(key: string): Selector {
    const t = this.next();
    if (t.kind === 'punct' && (t.text === '==' || t.text === '!=')) {
      return { op: t.text === '==' ? 'eq' : 'ne', key, value: this.expect('string').text };
    }
    if (t.kind === 'word') {
      if (t.text === 'in') return { op: 'in', key, values: this.set() };
      if (t.text === 'not') {
        this.expect('word', 'in');
        return { op: 'notin', key, values: this.set() };
      }
      if (t.text === 'contains') return { op: 'contains', key, value: this.expect('string').text };
      if (t.text === 'starts' || t.text === 'ends') {
        this.expect('word', 'with');
        return { op: t.text, key, value: this.expect('string').text };
      }
    }
    return fail(`expected an operator after label ${JSON.stringify(key)}, found ${describe(t)}`, t.at);
  }

  private set(): string[] {
    this.expect('punct', '{');
    const values: string[] = [];
    if (this.peek().kind === 'punct' && this.peek().text === '}') {
      this.next();
      return values;
    }
    for (;;) {
      values.push(this.expect('string').text);
      const t = this.next();
      if (t.kind === 'punct' && t.text === '}') return values;
      if (!(t.kind === 'punct' && t.text === ',')) fail(`expected ',' or '}', found ${describe(t)}`, t.at);
    }
  }
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'the end';
  return t.kind === 'string' ? `string '${t.text}'` : `'${t.text}'`;
}

/** Parses a selector; throws RibError SELECTOR_SYNTAX with the offset. */
export function parseSelector(text: string): Selector {
  if (text.trim() === '') return { op: 'all' };
  return new Parser(tokenize(text)).parse();
}

export function matches(s: Selector, labels: Readonly<Record<string, string>>): boolean {
  const get = (k: string): string | undefined => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  switch (s.op) {
    case 'all':
      return true;
    case 'has':
      return get(s.key) !== undefined;
    case 'eq':
      return get(s.key) === s.value;
    case 'ne':
      return get(s.key) !== s.value;
    case 'contains':
      return get(s.key)?.includes(s.value) ?? false;
    case 'starts':
      return get(s.key)?.startsWith(s.value) ?? false;
    case 'ends':
      return get(s.key)?.endsWith(s.value) ?? false;
    case 'in': {
      const v = get(s.key);
      return v !== undefined && s.values.includes(v);
    }
    case 'notin': {
      const v = get(s.key);
      return v === undefined || !s.values.includes(v);
    }
    case 'not':
      return !matches(s.arg, labels);
    case 'and':
      return s.args.every((a) => matches(a, labels));
    case 'or':
      return s.args.some((a) => matches(a, labels));
  }
}
