/* The server's calls in flight by call id: open addressing with linear
 * probing and backward-shift deletion (no tombstones), kept at most half
 * full. Ids come from the client, so the hash mixes them (a client that
 * picks ids to collide only slows itself down). */
#include <stdlib.h>

#include "rpc_internal.h"

#define INITIAL_SLOTS 64u

static uint32_t slot_of(const shmrpc__call_table_t *table, uint32_t id) {
  uint32_t h = id * 0x9E3779B1u;
  return (h ^ h >> 16) & table->mask;
}

int shmrpc__call_table_init(shmrpc__call_table_t *table) {
  table->slots = calloc(INITIAL_SLOTS, sizeof *table->slots);
  if (table->slots == NULL)
    return SHMRPC_ENOMEM;
  table->mask = INITIAL_SLOTS - 1;
  table->count = 0;
  return 0;
}

void shmrpc__call_table_free(shmrpc__call_table_t *table) {
  free(table->slots);
  table->slots = NULL;
  table->count = 0;
}

shmrpc_call_t *shmrpc__call_table_find(const shmrpc__call_table_t *table,
                                       uint32_t id) {
  for (uint32_t i = slot_of(table, id);; i = (i + 1) & table->mask) {
    shmrpc_call_t *call = table->slots[i];
    if (call == NULL || call->id == id)
      return call;
  }
}

static void place(shmrpc__call_table_t *table, shmrpc_call_t *call) {
  uint32_t i = slot_of(table, call->id);
  while (table->slots[i] != NULL)
    i = (i + 1) & table->mask;
  table->slots[i] = call;
}

static int grow(shmrpc__call_table_t *table) {
  uint32_t old_slots = table->mask + 1;
  if (old_slots > UINT32_MAX / 2)
    return SHMRPC_ENOMEM;
  shmrpc_call_t **old = table->slots;
  table->slots = calloc((size_t)old_slots * 2, sizeof *table->slots);
  if (table->slots == NULL) {
    table->slots = old;
    return SHMRPC_ENOMEM;
  }
  table->mask = old_slots * 2 - 1;
  for (uint32_t i = 0; i < old_slots; i++)
    if (old[i] != NULL)
      place(table, old[i]);
  free(old);
  return 0;
}

int shmrpc__call_table_insert(shmrpc__call_table_t *table,
                              shmrpc_call_t *call) {
  if ((table->count + 1) * 2 > table->mask + 1) {
    int rc = grow(table);
    if (rc != 0)
      return rc;
  }
  place(table, call);
  table->count++;
  return 0;
}

void shmrpc__call_table_remove(shmrpc__call_table_t *table,
                               const shmrpc_call_t *call) {
  uint32_t i = slot_of(table, call->id);
  while (table->slots[i] != call) {
    if (table->slots[i] == NULL)
      return;
    i = (i + 1) & table->mask;
  }
  /* Backward shift: move later members of the probe run into the hole
   * unless their home slot lies cyclically in (hole, j]. */
  uint32_t hole = i;
  for (uint32_t j = (i + 1) & table->mask; table->slots[j] != NULL;
       j = (j + 1) & table->mask) {
    uint32_t home = slot_of(table, table->slots[j]->id);
    bool stays =
        hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      table->slots[hole] = table->slots[j];
      hole = j;
    }
  }
  table->slots[hole] = NULL;
  table->count--;
}
