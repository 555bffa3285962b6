/**
 * The calls on the wire, by call id: an open slot array indexed by the id's
 * low bits, which also hands out the ids. An id is only given out when its
 * slot is free, so a lookup is one array read and one compare, and adding or
 * removing a call allocates nothing (a Map costs a hash insert and delete per
 * call, and grows and shrinks its storage).
 *
 * Ids count up from 1, wrap after 2^32 - 1 and never repeat an id still in
 * the table. The array doubles when half full; it never holds more than
 * twice the most calls ever in flight at once.
 */
export class CallTable<C extends { id: number }> {
  private slots: (C | undefined)[] = new Array(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;
  /** The id the next call gets unless its slot is taken. */
  private nextId: number;

  /** Ids start at `firstId` (1 to 2^32 - 1). */
  constructor(firstId = 1) {
    this.nextId = firstId;
  }

  /** The id the next call gets unless it is still in use. */
  get nextCallId(): number {
    return this.nextId;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): C | undefined {
    const call = this.slots[id & this.mask];
    return call !== undefined && call.id === id ? call : undefined;
  }

  /** Gives `call` a free id (stored in call.id) and adds it. */
  add(call: C): void {
    if (2 * (this.count + 1) > this.slots.length) this.grow();
    let id = this.nextId;
    while (this.slots[id & this.mask] !== undefined) id = following(id);
    this.nextId = following(id);
    call.id = id;
    this.slots[id & this.mask] = call;
    this.count++;
  }

  delete(call: C): void {
    const slot = call.id & this.mask;
    if (this.slots[slot] !== call) return;
    this.slots[slot] = undefined;
    this.count--;
  }

  /** Every call, oldest first. */
  values(): C[] {
    const calls = this.slots.filter((call): call is C => call !== undefined);
    // Older ids lie further behind nextId, counting around the wrap.
    const age = (call: C) => (this.nextId - call.id) >>> 0;
    return calls.sort((a, b) => age(b) - age(a));
  }

  /**
   * Doubles the array. Two calls in distinct slots stay distinct: their
   * ids differ in the old mask's bits, which the new mask keeps.
   */
  private grow(): void {
    const slots: (C | undefined)[] = new Array(2 * this.slots.length).fill(undefined);
    const mask = slots.length - 1;
    for (const call of this.slots) if (call !== undefined) slots[call.id & mask] = call;
    this.slots = slots;
    this.mask = mask;
  }
}

const INITIAL_SLOTS = 64;

/** The id after `id`: 0xffffffff is followed by 1 (0 is never a call id). */
function following(id: number): number {
  return id === 0xffffffff ? 1 : id + 1;
}
