/** CallTable: the RPC client's calls by id, in a slot array that hands out the ids. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { CallTable } from "../../js/src/rpc/call-table.js";

interface TestCall {
  id: number;
}

const newCall = (): TestCall => ({ id: 0 });

/** Sets the id the table tries next (private state, to reach the wrap quickly). */
function startIdsAt(table: CallTable<TestCall>, id: number): void {
  (table as unknown as { nextId: number }).nextId = id;
}

test("a call gets id 1, is found, counted and removed", () => {
  const table = new CallTable<TestCall>();
  const a = newCall();
  table.add(a);
  assert.equal(a.id, 1);
  assert.equal(table.size, 1);
  assert.equal(table.get(1), a);
  assert.equal(table.get(2), undefined);
  table.delete(a);
  assert.equal(table.size, 0);
  assert.equal(table.get(1), undefined);
});

test("thousands of calls end in any order; the rest stay reachable and are listed oldest first", () => {
  const table = new CallTable<TestCall>();
  const calls = Array.from({ length: 3000 }, newCall);
  for (const c of calls) table.add(c);
  assert.deepEqual(
    calls.map((c) => c.id),
    calls.map((_, i) => i + 1),
  );
  assert.equal(table.size, 3000);
  for (let i = 0; i < 3000; i += 3) table.delete(calls[i]!);
  assert.equal(table.size, 2000);
  for (let i = 0; i < 3000; i++) assert.equal(table.get(i + 1), i % 3 === 0 ? undefined : calls[i], `id ${i + 1}`);
  assert.deepEqual(
    table.values(),
    calls.filter((_, i) => i % 3 !== 0),
  );
});

test("an id whose slot holds another call is not found", () => {
  const table = new CallTable<TestCall>();
  const a = newCall();
  table.add(a);
  assert.equal(table.get(a.id + 64), undefined); // same slot in a 64-slot table
  assert.equal(table.get(a.id + 2 ** 31), undefined);
});

test("ids wrap after 2^32 - 1 to 1, never 0, and skip ids still in use; listing stays oldest first", () => {
  const table = new CallTable<TestCall>();
  startIdsAt(table, 0xfffffffe);
  const [a, b, c] = [newCall(), newCall(), newCall()];
  table.add(a);
  table.add(b);
  table.add(c);
  assert.deepEqual([a.id, b.id, c.id], [0xfffffffe, 0xffffffff, 1]);
  startIdsAt(table, 0xffffffff); // b and c are still in flight
  const d = newCall();
  table.add(d);
  assert.equal(d.id, 2);
  assert.deepEqual(table.values(), [a, b, c, d]);
  for (const call of [a, b, c, d]) assert.equal(table.get(call.id), call);
});

test("deleting a call not in the table changes nothing", () => {
  const table = new CallTable<TestCall>();
  const a = newCall();
  table.add(a);
  table.delete({ id: a.id }); // same id, another call
  table.delete(newCall()); // never added (id 0)
  assert.equal(table.size, 1);
  assert.equal(table.get(a.id), a);
});
