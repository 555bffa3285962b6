/* Threads of the cross-process transport (the server's monitor and
 * connections, the client's watcher): started with every signal blocked,
 * so that signals go to the application's threads. */
#include <signal.h>

#include "xproc_internal.h"

int shmrpc__xproc_thread_start(pthread_t *thread, void *(*fn)(void *),
                               void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(thread, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}
