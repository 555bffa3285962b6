#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64 * 1024)

struct arena_block {
  arena_block *next;
  size_t used;
  size_t size;
  max_align_t data[];
};

void *xrealloc(void *ptr, size_t size) {
  void *p = realloc(ptr, size == 0 ? 1 : size);
  if (p == NULL) {
    fputs("protoc-gen-shmrpc: out of memory\n", stderr);
    exit(1);
  }
  return p;
}

void *arena_alloc(arena_t *arena, size_t size) {
  size_t aligned = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
  arena_block *block = arena->head;
  if (block == NULL || block->size - block->used < aligned) {
    size_t capacity = aligned > BLOCK_SIZE ? aligned : BLOCK_SIZE;
    block = xrealloc(NULL, sizeof(arena_block) + capacity);
    block->next = arena->head;
    block->used = 0;
    block->size = capacity;
    arena->head = block;
  }
  void *p = (char *)block->data + block->used;
  block->used += aligned;
  memset(p, 0, size);
  return p;
}

char *arena_strdup(arena_t *arena, const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = arena_alloc(arena, n);
  memcpy(copy, s, n);
  return copy;
}

void arena_free(arena_t *arena) {
  arena_block *block = arena->head;
  while (block != NULL) {
    arena_block *next = block->next;
    free(block);
    block = next;
  }
  arena->head = NULL;
}
