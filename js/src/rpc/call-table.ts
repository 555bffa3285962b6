/**
 * The calls on the wire, by call id: a Map, with the newest call held
 * outside it. A lone call (unarySync, or a loop that awaits each call) so
 * costs no Map insert, lookup or delete, and the Map does not grow and
 * shrink its storage on every call.
 */
export class CallTable<C extends { readonly id: number }> {
  private newest: C | undefined;
  private readonly older = new Map<number, C>();

  get size(): number {
    return this.older.size + (this.newest === undefined ? 0 : 1);
  }

  has(id: number): boolean {
    return this.newest?.id === id || this.older.has(id);
  }

  get(id: number): C | undefined {
    const newest = this.newest;
    return newest !== undefined && newest.id === id ? newest : this.older.get(id);
  }

  /** Adds a call whose id is not in the table. */
  add(call: C): void {
    if (this.newest !== undefined) this.older.set(this.newest.id, this.newest);
    this.newest = call;
  }

  delete(call: C): void {
    if (this.newest === call) this.newest = undefined;
    else this.older.delete(call.id);
  }

  /** Every call, oldest first. */
  values(): C[] {
    const calls = [...this.older.values()];
    if (this.newest !== undefined) calls.push(this.newest);
    return calls;
  }
}
