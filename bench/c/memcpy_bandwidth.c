/* Single-core memcpy bandwidth for 1 MiB blocks, the ceiling for moving a
 * 1 MiB message through a ring. Prints
 *   {"name":"c_memcpy_1mib","gbytes_per_s":..}
 * Usage: bench_memcpy [milliseconds] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define BLOCK (1u << 20)

int main(int argc, char **argv) {
  long budget_ms = argc > 1 ? atol(argv[1]) : 500;
  unsigned char *src = malloc(BLOCK), *dst = malloc(BLOCK);
  memset(src, 1, BLOCK);
  memset(dst, 2, BLOCK);
  uint64_t start = bench_now_ns(), now;
  unsigned long copies = 0;
  do {
    for (int i = 0; i < 64; i++) {
      memcpy(dst, src, BLOCK);
      /* Keep the copy observable so it is not optimized away. */
      __asm__ volatile("" : : "r"(dst) : "memory");
      copies++;
    }
    now = bench_now_ns();
  } while (now - start < (uint64_t)budget_ms * 1000000u);
  printf("{\"name\":\"c_memcpy_1mib\",\"gbytes_per_s\":%.2f}\n",
         (double)copies * BLOCK / (double)(now - start));
  free(src);
  free(dst);
  return 0;
}
