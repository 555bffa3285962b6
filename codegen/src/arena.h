/* A bump allocator for the plugin's model: everything built from one
 * CodeGeneratorRequest lives as long as the request and is freed at once. */
#ifndef CODEGEN_ARENA_H
#define CODEGEN_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct {
  arena_block *head;
} arena_t;

/* Zeroed memory, aligned for any type. Exits the process when out of
 * memory: a code generator has no useful way to continue. */
void *arena_alloc(arena_t *arena, size_t size);
char *arena_strdup(arena_t *arena, const char *s);
/* Frees every block; the arena can be reused afterwards. */
void arena_free(arena_t *arena);

/* malloc/realloc that exit with a message when out of memory. */
void *xrealloc(void *ptr, size_t size);

#endif
