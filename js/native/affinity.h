// Pinning a thread to one CPU: spinning benchmarks on a 2-core VM collapse
// when both spinners share a core (../shared/FACTS.md).
#ifndef SHMRPC_NATIVE_AFFINITY_H
#define SHMRPC_NATIVE_AFFINITY_H

#include <pthread.h>
#include <sched.h>

namespace shmrpc {

inline bool PinCurrentThread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_AFFINITY_H
