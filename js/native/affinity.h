// Pinning a thread to one CPU: spinning benchmarks on a 2-core VM collapse
// when both spinners share a core (../shared/FACTS.md).
#ifndef SHMRPC_NATIVE_AFFINITY_H
#define SHMRPC_NATIVE_AFFINITY_H

#include <pthread.h>
#include <sched.h>

namespace shmrpc {

// Pins the calling thread to `cpu`, or lets it run on every CPU again when
// `cpu` is -1 (threads it starts inherit its set).
inline bool PinCurrentThread(int cpu) {
  if (cpu < -1 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu == -1) {
    for (int i = 0; i < CPU_SETSIZE; i++) CPU_SET(i, &set);
  } else {
    CPU_SET(cpu, &set);
  }
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_AFFINITY_H
