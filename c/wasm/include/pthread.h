/* pthread.h for the WebAssembly build (wasm32-wasi, one thread per Worker).
 *
 * wasi-libc has no threads and no <pthread.h>. The shared C sources take a
 * mutex around state that, in a WebAssembly Worker, only one thread ever
 * touches: the RPC server's dispatch loop runs the handlers on its own
 * thread, and the channel has one sender. This header gives them the few
 * calls they use, as the single-threaded no-ops they are, so that the same
 * sources build for WebAssembly without a fork. A condition variable can
 * never be signalled by another thread here: waiting on one would wait
 * forever, so it traps instead (the shared sources wait on one only off the
 * dispatch thread, which does not exist in this build).
 *
 * Only the WebAssembly build puts this directory on the include path
 * (c/CMakeLists.txt); native builds use the system's pthreads. */
#ifndef SHMRPC_WASM_PTHREAD_H
#define SHMRPC_WASM_PTHREAD_H

#include <time.h>

#if !defined(__wasm__)
#error "c/wasm/include/pthread.h is for the single-threaded WebAssembly build only"
#endif

typedef unsigned long pthread_t;
typedef struct {
  int unused;
} pthread_attr_t;
typedef struct {
  int locked; /* for trylock: a second lock on one thread would deadlock */
} pthread_mutex_t;
typedef struct {
  int unused;
} pthread_mutexattr_t;
typedef struct {
  int unused;
} pthread_cond_t;
typedef struct {
  int unused;
} pthread_condattr_t;

static inline int pthread_mutex_init(pthread_mutex_t *m,
                                     const pthread_mutexattr_t *attr) {
  (void)attr;
  m->locked = 0;
  return 0;
}
static inline int pthread_mutex_destroy(pthread_mutex_t *m) {
  (void)m;
  return 0;
}
static inline int pthread_mutex_lock(pthread_mutex_t *m) {
  m->locked = 1;
  return 0;
}
static inline int pthread_mutex_trylock(pthread_mutex_t *m) {
  if (m->locked)
    return 16; /* EBUSY */
  m->locked = 1;
  return 0;
}
static inline int pthread_mutex_unlock(pthread_mutex_t *m) {
  m->locked = 0;
  return 0;
}

static inline int pthread_condattr_init(pthread_condattr_t *a) {
  (void)a;
  return 0;
}
static inline int pthread_condattr_destroy(pthread_condattr_t *a) {
  (void)a;
  return 0;
}
static inline int pthread_condattr_setclock(pthread_condattr_t *a,
                                            clockid_t clock) {
  (void)a;
  (void)clock;
  return 0;
}
static inline int pthread_cond_init(pthread_cond_t *c,
                                    const pthread_condattr_t *a) {
  (void)c;
  (void)a;
  return 0;
}
static inline int pthread_cond_destroy(pthread_cond_t *c) {
  (void)c;
  return 0;
}
static inline int pthread_cond_broadcast(pthread_cond_t *c) {
  (void)c;
  return 0;
}
static inline int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  (void)c;
  (void)m;
  __builtin_trap(); /* no other thread could ever signal it */
}
static inline int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                         const struct timespec *at) {
  (void)at;
  return pthread_cond_wait(c, m);
}

/* No threads in this build: creating one fails (EAGAIN). */
static inline int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                                 void *(*fn)(void *), void *arg) {
  (void)t;
  (void)attr;
  (void)fn;
  (void)arg;
  return 6; /* EAGAIN */
}
static inline int pthread_join(pthread_t t, void **result) {
  (void)t;
  (void)result;
  return 28; /* EINVAL: there is no such thread */
}

#endif /* SHMRPC_WASM_PTHREAD_H */
