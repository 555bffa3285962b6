/* Registering services: a sorted table of routes from method id to the
 * method, its service's handlers and user data, searched per request. */
#include <stdlib.h>

#include "rpc_internal.h"

static int compare_routes(const void *a, const void *b) {
  uint32_t x = ((const shmrpc__route_t *)a)->id;
  uint32_t y = ((const shmrpc__route_t *)b)->id;
  return x < y ? -1 : x > y;
}

const shmrpc__route_t *shmrpc__server_find_route(const shmrpc_server_t *server,
                                                 uint32_t id) {
  shmrpc__route_t key = {.id = id};
  if (server->route_count == 0)
    return NULL;
  return bsearch(&key, server->routes, server->route_count,
                 sizeof *server->routes, compare_routes);
}

static bool method_valid(const shmrpc_method_t *m) {
  return m->invoke != NULL && m->request_fields != NULL &&
         m->response_fields != NULL &&
         (m->kind == SHMRPC_METHOD_UNARY ||
          m->kind == SHMRPC_METHOD_SERVER_STREAMING ||
          m->kind == SHMRPC_METHOD_CLIENT_STREAMING ||
          m->kind == SHMRPC_METHOD_BIDI_STREAMING);
}

int shmrpc_server_register(shmrpc_server_t *server,
                           const shmrpc_service_t *service,
                           const void *handlers, void *user_data) {
  if (server == NULL || service == NULL || handlers == NULL ||
      (service->method_count > 0 && service->methods == NULL))
    return SHMRPC_EINVAL;
  for (size_t i = 0; i < service->method_count; i++) {
    const shmrpc_method_t *m = &service->methods[i];
    if (!method_valid(m) || shmrpc__server_find_route(server, m->id) != NULL)
      return SHMRPC_EINVAL;
    for (size_t j = 0; j < i; j++)
      if (service->methods[j].id == m->id)
        return SHMRPC_EINVAL;
  }
  /* Each registration is its own allocation: routes point at it. */
  shmrpc__registration_t *reg = malloc(sizeof *reg);
  if (reg == NULL)
    return SHMRPC_ENOMEM;
  *reg = (shmrpc__registration_t){service, handlers, user_data};
  shmrpc__registration_t **regs = realloc(
      server->registrations, (server->registration_count + 1) * sizeof *regs);
  if (regs == NULL)
    goto err_reg;
  server->registrations = regs;
  shmrpc__route_t *routes =
      realloc(server->routes,
              (server->route_count + service->method_count) * sizeof *routes);
  if (routes == NULL && server->route_count + service->method_count > 0)
    goto err_reg;
  server->routes = routes;
  regs[server->registration_count++] = reg;
  for (size_t i = 0; i < service->method_count; i++)
    routes[server->route_count++] =
        (shmrpc__route_t){service->methods[i].id, &service->methods[i], reg};
  qsort(server->routes, server->route_count, sizeof *server->routes,
        compare_routes);
  return 0;

err_reg:
  free(reg);
  return SHMRPC_ENOMEM;
}
