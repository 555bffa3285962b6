/* Calls with a deadline, earliest first: a binary min-heap whose members
 * know their index, so a call that ends early leaves in O(log n). */
#include <stdlib.h>

#include "rpc_internal.h"

static bool earlier(const shmrpc_call_t *a, const shmrpc_call_t *b) {
  return a->deadline_ns < b->deadline_ns;
}

static void set(shmrpc__deadline_heap_t *heap, size_t i, shmrpc_call_t *call) {
  heap->items[i] = call;
  call->heap_index = i;
}

static void sift_up(shmrpc__deadline_heap_t *heap, size_t i) {
  shmrpc_call_t *call = heap->items[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(call, heap->items[parent]))
      break;
    set(heap, i, heap->items[parent]);
    i = parent;
  }
  set(heap, i, call);
}

static void sift_down(shmrpc__deadline_heap_t *heap, size_t i) {
  shmrpc_call_t *call = heap->items[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= heap->count)
      break;
    if (child + 1 < heap->count &&
        earlier(heap->items[child + 1], heap->items[child]))
      child++;
    if (!earlier(heap->items[child], call))
      break;
    set(heap, i, heap->items[child]);
    i = child;
  }
  set(heap, i, call);
}

void shmrpc__deadline_heap_free(shmrpc__deadline_heap_t *heap) {
  free(heap->items);
  heap->items = NULL;
  __atomic_store_n(&heap->count, 0, __ATOMIC_RELAXED);
  heap->cap = 0;
}

int shmrpc__deadline_heap_push(shmrpc__deadline_heap_t *heap,
                               shmrpc_call_t *call) {
  if (heap->count == heap->cap) {
    size_t cap = heap->cap == 0 ? 64 : heap->cap * 2;
    shmrpc_call_t **items = realloc(heap->items, cap * sizeof *items);
    if (items == NULL)
      return SHMRPC_ENOMEM;
    heap->items = items;
    heap->cap = cap;
  }
  size_t i = heap->count;
  heap->items[i] = call;
  __atomic_store_n(&heap->count, i + 1, __ATOMIC_RELAXED);
  sift_up(heap, i);
  return 0;
}

void shmrpc__deadline_heap_remove(shmrpc__deadline_heap_t *heap,
                                  shmrpc_call_t *call) {
  size_t i = call->heap_index;
  if (i >= heap->count || heap->items[i] != call)
    return;
  call->heap_index = SIZE_MAX;
  size_t count = heap->count - 1;
  __atomic_store_n(&heap->count, count, __ATOMIC_RELAXED);
  shmrpc_call_t *last = heap->items[count];
  if (i == count)
    return;
  heap->items[i] = last;
  last->heap_index = i;
  if (i > 0 && earlier(last, heap->items[(i - 1) / 2]))
    sift_up(heap, i);
  else
    sift_down(heap, i);
}
