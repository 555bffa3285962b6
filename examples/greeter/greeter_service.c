/* The greeter's C handlers. This file is all the C a service needs: the
 * handler table is typed by the generated greeter.shmrpc.h, and
 * SHMRPC_SERVICE_LIBRARY makes the library hostable by the Node addon (or
 * any other host) without a line of Node-API. */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>

#include "greeter.shmrpc.h"

static const char *name_or_world(const char *name) {
  return name != NULL && name[0] != '\0' ? name : "world";
}

static int say_hello(shmrpc_call_t *call, const greeter_HelloRequest *request,
                     greeter_HelloReply *reply) {
  (void)call;
  /* The runtime frees what the reply points to once it is sent. */
  if (asprintf(&reply->message, "Hello, %s!", name_or_world(request->name)) < 0)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  return SHMRPC_STATUS_OK;
}

static int stream_greetings(shmrpc_call_t *call,
                            const greeter_StreamRequest *request) {
  char message[160];
  for (uint32_t i = 1; i <= request->count; i++) {
    snprintf(message, sizeof message, "Hello #%u, %s!", i,
             name_or_world(request->name));
    greeter_HelloReply reply = {.message = message, .sequence = i};
    /* Waits while the client's window is full; fails once the client
     * cancelled, the deadline passed or the channel closed. */
    int status = greeter_Greeter_StreamGreetings_write(call, &reply);
    if (status != SHMRPC_STATUS_OK)
      return status;
  }
  return SHMRPC_STATUS_OK;
}

static const greeter_Greeter_handlers_t handlers = {
    .SayHello = say_hello,
    .StreamGreetings = stream_greetings,
};

SHMRPC_SERVICE_LIBRARY(&greeter_Greeter_service, &handlers, NULL)
