/** CallTable: the RPC client's calls by id, the newest held outside its Map. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { CallTable } from "../../js/src/rpc/call-table.js";

const call = (id: number) => ({ id });

test("a lone call is found, counted and removed", () => {
  const table = new CallTable<{ id: number }>();
  const a = call(1);
  table.add(a);
  assert.equal(table.size, 1);
  assert.equal(table.get(1), a);
  assert.ok(table.has(1));
  assert.equal(table.get(2), undefined);
  table.delete(a);
  assert.equal(table.size, 0);
  assert.equal(table.get(1), undefined);
  assert.ok(!table.has(1));
});

test("many calls end in any order and are listed oldest first", () => {
  const table = new CallTable<{ id: number }>();
  const calls = Array.from({ length: 100 }, (_, i) => call(i + 1));
  for (const c of calls) table.add(c);
  assert.equal(table.size, 100);
  assert.deepEqual(
    table.values().map((c) => c.id),
    calls.map((c) => c.id),
  );
  // Delete the newest, then every other one: the rest stay reachable.
  table.delete(calls[99]!);
  for (let i = 0; i < 99; i += 2) table.delete(calls[i]!);
  assert.equal(table.size, 49);
  for (let i = 1; i < 99; i += 2) assert.equal(table.get(i + 1), calls[i]);
  for (let i = 0; i < 99; i += 2) assert.equal(table.get(i + 1), undefined);
  assert.equal(table.get(100), undefined);
});

test("deleting a call not in the table changes nothing", () => {
  const table = new CallTable<{ id: number }>();
  const a = call(7);
  table.add(a);
  table.delete(call(7)); // same id, another call
  table.delete(call(8));
  assert.equal(table.size, 1);
  assert.equal(table.get(7), a);
});
