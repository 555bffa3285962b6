/* The inventory service: stock levels kept per service instance. */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <string.h>

#include "inventory.shmrpc.h"

static uint32_t stock = 10;

static int reserve(shmrpc_call_t *call, const inventory_ReserveRequest *request,
                   inventory_ReserveReply *reply) {
  (void)call;
  if (request->quantity > stock)
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  stock -= request->quantity;
  reply->remaining = stock;
  if (asprintf(&reply->reservation, "%s x%u", request->sku, request->quantity) < 0)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  if (request->note != NULL && asprintf(&reply->note, "noted: %s", request->note) < 0)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  return SHMRPC_STATUS_OK;
}

static int watch(shmrpc_call_t *call, const inventory_WatchRequest *request) {
  for (uint32_t i = 0; i < request->events; i++) {
    inventory_StockEvent event = {.sku = request->sku, .level = stock + i};
    int status = inventory_Inventory_Watch_write(call, &event);
    if (status != SHMRPC_STATUS_OK)
      return status;
  }
  return SHMRPC_STATUS_OK;
}

static const inventory_Inventory_handlers_t handlers = {.Reserve = reserve, .Watch = watch};

SHMRPC_SERVICE_LIBRARY(&inventory_Inventory_service, &handlers, NULL)
