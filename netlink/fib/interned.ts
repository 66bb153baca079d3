/**
 * Values interned by a text key, each named by a small id and counted by the prefixes that use it
 * (issue 12): the Fib's desired routes (one per distinct set of next hops) and the kernel
 * signatures it has seen. A value whose count drops to zero is forgotten and its id reused.
 * Id 0 names nothing. Not here: what the values mean.
 */
export class Interned<T> {
  private readonly ids = new Map<string, number>();
  private readonly values: (T | undefined)[] = [undefined];
  private readonly keys: string[] = [''];
  private refs = new Int32Array(64);
  private readonly released: number[] = [];

  /** The id of key's value, made by make() when new; the caller refs it. */
  id(key: string, make: () => T): number {
    const known = this.ids.get(key);
    return known !== undefined ? known : this.add(key, make());
  }

  /** The same for a value at hand (no closure per call: this runs once per prefix). */
  idOf(key: string, value: T): number {
    const known = this.ids.get(key);
    return known !== undefined ? known : this.add(key, value);
  }

  private add(key: string, value: T): number {
    const id = this.released.pop() ?? this.values.length;
    if (id === this.values.length) {
      this.values.push(undefined);
      this.keys.push('');
    }
    if (id >= this.refs.length) {
      const grown = new Int32Array(this.refs.length * 2);
      grown.set(this.refs);
      this.refs = grown;
    }
    this.values[id] = value;
    this.keys[id] = key;
    this.refs[id] = 0;
    this.ids.set(key, id);
    return id;
  }

  get(id: number): T | undefined {
    return this.values[id];
  }

  ref(id: number): void {
    if (id !== 0) this.refs[id]++;
  }

  unref(id: number): void {
    if (id === 0 || --this.refs[id] > 0) return;
    this.ids.delete(this.keys[id]);
    this.values[id] = undefined;
    this.keys[id] = '';
    this.released.push(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
